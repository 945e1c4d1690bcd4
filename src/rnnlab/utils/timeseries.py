"""``timeseries_dataset_from_array``: sliding windows over a time series, with Keras's arguments
and window semantics, as a ``PyDataset`` of NumPy ``(x, y)`` batches that ``fit`` accepts.

Window ``i`` starts at ``p_i = start_index + s_i`` with ``s_i = 0, sequence_stride, ...`` and
holds ``data[p_i], data[p_i + sampling_rate], ...`` (``sequence_length`` steps, all before
``end_index``); its target is ``targets[p_i]``. The number of windows is
``end_index - start_index - (sequence_length - 1) · sampling_rate``, capped at ``len(targets)``
when targets are given. ``shuffle=True`` permutes the start positions once with NumPy's
``RandomState(seed)``, as Keras does; Keras additionally shuffles locally inside a TensorFlow
buffer at every pass, which is not reproduced (the window order is fixed; ``fit(shuffle=True)``
still reorders the batches every epoch).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import random as rnd
from .py_dataset import PyDataset


def _positive(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"`{what}` must be a positive integer, got {value!r}")
    return int(value)


class TimeseriesDataset(PyDataset):
    """Batches of windows; item ``k`` is ``(x (B, sequence_length, ...), y (B, ...))`` (``x``
    alone without targets; single windows when ``batch_size`` is None)."""

    def __init__(self, data: Any, targets: Any, starts: np.ndarray, sequence_length: int,
                 sampling_rate: int, batch_size: int | None) -> None:
        super().__init__()
        self.data, self.targets = data, targets
        self.starts = starts
        self.offsets = np.arange(sequence_length) * sampling_rate
        self.batch_size = batch_size

    def __len__(self) -> int:
        if self.batch_size is None:
            return len(self.starts)
        return -(-len(self.starts) // self.batch_size)

    def __getitem__(self, index: int) -> Any:
        if not -len(self) <= index < len(self):
            raise IndexError(f"batch {index} out of range for {len(self)} batches")
        index %= len(self)
        if self.batch_size is None:
            starts = self.starts[index:index + 1]
        else:
            starts = self.starts[index * self.batch_size:(index + 1) * self.batch_size]
        x = self.data[starts[:, None] + self.offsets[None, :]]
        if self.batch_size is None:
            x = x[0]
        if self.targets is None:
            return x
        y = self.targets[starts]
        return x, (y[0] if self.batch_size is None else y)


def timeseries_dataset_from_array(data: Any, targets: Any, sequence_length: int,
                                  sequence_stride: int = 1, sampling_rate: int = 1,
                                  batch_size: int | None = 128, shuffle: bool = False,
                                  seed: int | None = None, start_index: int | None = None,
                                  end_index: int | None = None) -> TimeseriesDataset:
    """Keras's ``keras.utils.timeseries_dataset_from_array`` on NumPy (see the module doc)."""
    data = np.asarray(data)
    if data.ndim == 0:
        raise ValueError("`data` must be an array with a time axis first, got a scalar")
    n = len(data)
    sequence_length = _positive(sequence_length, "sequence_length")
    sampling_rate = _positive(sampling_rate, "sampling_rate")
    sequence_stride = _positive(sequence_stride, "sequence_stride")
    if sampling_rate >= n:
        raise ValueError(f"`sampling_rate` must be lower than the length of the data, got "
                         f"sampling_rate={sampling_rate} for data of length {n}")
    if sequence_stride >= n:
        raise ValueError(f"`sequence_stride` must be lower than the length of the data, got "
                         f"sequence_stride={sequence_stride} for data of length {n}")
    if batch_size is not None:
        batch_size = _positive(batch_size, "batch_size")
    start = 0 if start_index is None else int(start_index)
    end = n if end_index is None else int(end_index)
    if not 0 <= start < n:
        raise ValueError(f"`start_index` must be in [0, {n}) (the data length), got {start}")
    if not start < end <= n:
        raise ValueError(f"`end_index` must be in ({start}, {n}], got {end}")
    if targets is not None:
        targets = np.asarray(targets)
    num = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num = min(num, len(targets) - start)
    if num <= 0:
        raise ValueError(f"no window fits: {end - start} steps between start_index and "
                         f"end_index, windows need {(sequence_length - 1) * sampling_rate + 1}")
    positions = np.arange(0, num, sequence_stride, dtype=np.int64)
    if shuffle:
        rng = np.random.RandomState(rnd.next_seed() % 2**32 if seed is None else seed)
        rng.shuffle(positions)
    return TimeseriesDataset(data, targets, positions + start, sequence_length, sampling_rate,
                             batch_size)
