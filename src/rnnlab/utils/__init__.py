"""Keras-style utilities: ``to_categorical``, ``pad_sequences`` and ``set_random_seed``."""

from rnnlab.random import set_random_seed
from rnnlab.utils.sequence import pad_sequences, to_categorical

__all__ = ["pad_sequences", "set_random_seed", "to_categorical"]
