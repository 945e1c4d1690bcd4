"""Keras-style utilities: ``to_categorical``, ``pad_sequences``, ``set_random_seed``,
``Sequence``/``PyDataset``, ``timeseries_dataset_from_array`` and ``get_file``."""

from rnnlab.random import set_random_seed
from rnnlab.utils.files import get_file
from rnnlab.utils.py_dataset import PyDataset, Sequence
from rnnlab.utils.sequence import pad_sequences, to_categorical
from rnnlab.utils.timeseries import timeseries_dataset_from_array

__all__ = ["PyDataset", "Sequence", "get_file", "pad_sequences", "set_random_seed",
           "timeseries_dataset_from_array", "to_categorical"]
