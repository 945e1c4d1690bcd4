"""``keras.preprocessing.sequence`` counterpart: ``pad_sequences`` (from ``rnnlab.utils``)."""

from rnnlab.utils.sequence import pad_sequences

__all__ = ["pad_sequences"]
