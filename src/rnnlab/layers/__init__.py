"""Layers with Keras's names and arguments (``rnnlab.layers.LSTM`` ≡ ``keras.layers.LSTM``)."""

from ..cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from ..models.input_layer import Input
from .attention import AdditiveAttention, Attention
from .base import Layer
from .bidirectional import Bidirectional
from .convolutional import Conv1D
from .core import Activation, Dense, Dropout, Flatten, RepeatVector, Reshape
from .custom import Lambda
from .embedding import Embedding, Masking
from .merge import Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract
from .normalization import BatchNormalization, LayerNormalization
from .pooling import GlobalAveragePooling1D, GlobalMaxPooling1D
from .pooling1d import AveragePooling1D, MaxPooling1D
from .recurrent import GRU, LSTM, RNN, SimpleRNN
from .spatial_dropout import SpatialDropout1D
from .wrappers import TimeDistributed

__all__ = [
    "Lambda", "StackedRNNCells",
    "Activation", "Add", "AdditiveAttention", "Attention", "Average", "AveragePooling1D",
    "BatchNormalization", "Bidirectional", "Concatenate", "Conv1D", "Dense", "Dropout",
    "Embedding", "Flatten", "GRU", "GRUCell", "GlobalAveragePooling1D", "GlobalMaxPooling1D",
    "Input", "LSTM", "LSTMCell", "Layer", "LayerNormalization", "Masking", "MaxPooling1D",
    "Maximum", "Minimum", "Multiply", "RNN", "RepeatVector", "Reshape", "SimpleRNN",
    "SimpleRNNCell", "SpatialDropout1D", "Subtract", "TimeDistributed",
]
