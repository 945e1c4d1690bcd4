"""``Sequence``/``PyDataset``: the base class of indexable batch sources, as Keras's.

    class Batches(rnnlab.utils.PyDataset):
        def __len__(self): return n_batches
        def __getitem__(self, i): return x_batch, y_batch        # or (x, y, sample_weight)
        def on_epoch_end(self): ...                             # optional, after every epoch

``fit`` asks for every index once per epoch, in a new order each epoch with ``shuffle=True``
(the default, as Keras), and calls ``on_epoch_end`` after each. Keras's ``workers``,
``use_multiprocessing`` and ``max_queue_size`` are accepted and kept; batches are produced in
the calling thread here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


class PyDataset:
    """Base class: subclasses implement ``__len__`` and ``__getitem__``."""

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False,
                 max_queue_size: int = 10) -> None:
        self.workers = int(workers)
        self.use_multiprocessing = bool(use_multiprocessing)
        self.max_queue_size = int(max_queue_size)

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__ (number of batches)")

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__ (one batch)")

    @property
    def num_batches(self) -> int:
        return len(self)

    def on_epoch_end(self) -> None:
        """Called after every epoch (for example, to reshuffle the samples)."""

    def __iter__(self) -> Iterator[Any]:
        for i in range(len(self)):
            yield self[i]


Sequence = PyDataset

__all__ = ["PyDataset", "Sequence"]
