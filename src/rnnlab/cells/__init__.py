"""Recurrent cells: one time step each, forward and backward side by side."""

from .base import Cell, GatedCell
from .gru import GRUCell
from .lstm import LSTMCell
from .simple_rnn import SimpleRNNCell
from .stacked import StackedRNNCells

__all__ = ["Cell", "GatedCell", "GRUCell", "LSTMCell", "SimpleRNNCell", "StackedRNNCells"]
