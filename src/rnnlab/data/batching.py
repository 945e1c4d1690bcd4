"""Batching for language models and Keras-style infinite generators.

- :func:`lm_batches` is the PTB recipe of Zaremba et al. (TensorFlow ``ptb_iterator`` /
  ``ptb_producer``): the token stream is cut into ``batch_size`` contiguous rows
  (``[batch_size, len // batch_size]``, the tail dropped) and walked left to right in windows of
  ``num_steps``. Row ``b`` of batch ``i + 1`` continues row ``b`` of batch ``i``, so a stateful
  model can carry its hidden state from one batch to the next. ``y`` is ``x`` shifted by one.
  There are ``(len // batch_size - 1) // num_steps`` batches per epoch.
- :class:`KerasBatchGenerator` is the generator of the "Keras LSTM tutorial" on PTB
  (adventuresinmachinelearning.com): ``batch_size`` windows taken every ``skip_step`` tokens,
  wrapping round at the end of the data, with one-hot (or integer) targets; its
  ``steps_per_epoch`` is ``len(data) // (batch_size * num_steps)`` as in the tutorial.
- :func:`batch_generator` is an infinite ``(x, y)`` generator over arrays (reshuffled each epoch)
  for ``Model.fit(generator, steps_per_epoch=...)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from rnnlab.data.text import one_hot_encode

__all__ = [
    "KerasBatchGenerator",
    "LMBatches",
    "batch_generator",
    "lm_batches",
    "lm_num_batches",
]


def _as_ids(data: Any, what: str = "ids") -> np.ndarray:
    arr = np.asarray(data)
    if arr.ndim != 1:
        raise ValueError(f"{what} must be a 1-D token id stream, got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        raise ValueError(f"{what} must hold integer token ids, got dtype {arr.dtype}")
    return arr if arr.size else arr.astype(np.int64)


def _check_positive(**kwargs: int) -> None:
    for name, v in kwargs.items():
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")


def lm_num_batches(n_tokens: int, batch_size: int, num_steps: int) -> int:
    """Batches per epoch of :func:`lm_batches`: ``(n_tokens // batch_size - 1) // num_steps``."""
    _check_positive(batch_size=batch_size, num_steps=num_steps)
    batch_len = int(n_tokens) // batch_size
    return max((batch_len - 1) // num_steps, 0)


class LMBatches:
    """Re-iterable PTB-style batches; ``len()`` is the number of batches per epoch.

    Attributes:
        data: the ``[batch_size, batch_len]`` array the windows are taken from.
        batch_size, num_steps, epoch_size (== ``len(self)``).
    """

    def __init__(self, ids: Any, batch_size: int, num_steps: int) -> None:
        _check_positive(batch_size=batch_size, num_steps=num_steps)
        raw = _as_ids(ids)
        batch_len = len(raw) // batch_size
        self.batch_size = int(batch_size)
        self.num_steps = int(num_steps)
        self.data = raw[: batch_size * batch_len].reshape(batch_size, batch_len)
        self.epoch_size = (batch_len - 1) // num_steps if batch_len else 0
        if self.epoch_size <= 0:
            raise ValueError(
                f"epoch size is 0: {len(raw)} tokens make rows of {batch_len} tokens for "
                f"batch_size={batch_size}, which need more than num_steps={num_steps}; "
                "decrease batch_size or num_steps"
            )

    def __len__(self) -> int:
        return self.epoch_size

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n = self.num_steps
        for i in range(self.epoch_size):
            x = self.data[:, i * n : (i + 1) * n]
            y = self.data[:, i * n + 1 : (i + 1) * n + 1]
            yield x.copy(), y.copy()

    def __repr__(self) -> str:
        return (
            f"LMBatches(batch_size={self.batch_size}, num_steps={self.num_steps}, "
            f"batches={self.epoch_size})"
        )


def lm_batches(ids: Any, batch_size: int, num_steps: int) -> LMBatches:
    """PTB-recipe language-model batches ``(x, y)`` of shape ``(batch_size, num_steps)``.

    Iterate the result for one epoch (it can be iterated again for the next); ``len()`` of it is
    the number of batches per epoch. See the module docstring for the layout.
    """
    return LMBatches(ids, batch_size, num_steps)


class KerasBatchGenerator:
    """Infinite ``(x, y)`` generator over a token stream (the PTB Keras tutorial's generator).

    Each batch holds ``batch_size`` windows; window ``k`` starts ``skip_step`` tokens after
    window ``k - 1`` (across batches too), and the position returns to 0 when a window would
    run past the end of the data. ``y`` is the window shifted by one token, one-hot encoded
    (``(batch_size, num_steps, vocabulary)`` float32) unless ``one_hot=False``
    (``(batch_size, num_steps)`` integer ids, for sparse losses).

    Args:
        data: 1-D token ids.
        num_steps: window length.
        batch_size: windows per batch.
        vocabulary: number of classes for one-hot ``y`` (default ``max(data) + 1``).
        skip_step: distance between window starts (default ``num_steps``; the tutorial uses 5
            with ``num_steps=30``).
        one_hot: one-hot encode ``y``.
    """

    def __init__(
        self,
        data: Any,
        num_steps: int,
        batch_size: int,
        vocabulary: int | None = None,
        skip_step: int | None = None,
        one_hot: bool = True,
    ) -> None:
        _check_positive(num_steps=num_steps, batch_size=batch_size)
        self.data = _as_ids(data, "data")
        if len(self.data) < num_steps + 1:
            raise ValueError(
                f"data has {len(self.data)} tokens; need at least num_steps + 1 = {num_steps + 1}"
            )
        self.num_steps = int(num_steps)
        self.batch_size = int(batch_size)
        self.vocabulary = int(vocabulary) if vocabulary is not None else int(self.data.max()) + 1
        self.skip_step = int(skip_step) if skip_step is not None else self.num_steps
        _check_positive(skip_step=self.skip_step, vocabulary=self.vocabulary)
        self.one_hot = one_hot
        self.current_idx = 0

    @property
    def steps_per_epoch(self) -> int:
        """``len(data) // (batch_size * num_steps)``, as in the tutorial."""
        return max(len(self.data) // (self.batch_size * self.num_steps), 1)

    def reset(self) -> None:
        self.current_idx = 0

    def next_batch(self) -> tuple[np.ndarray, np.ndarray]:
        n = self.num_steps
        x = np.zeros((self.batch_size, n), dtype=self.data.dtype)
        y = np.zeros((self.batch_size, n), dtype=self.data.dtype)
        for i in range(self.batch_size):
            if self.current_idx + n >= len(self.data):
                self.current_idx = 0
            x[i] = self.data[self.current_idx : self.current_idx + n]
            y[i] = self.data[self.current_idx + 1 : self.current_idx + n + 1]
            self.current_idx += self.skip_step
        if self.one_hot:
            return x, one_hot_encode(y, self.vocabulary)
        return x, y

    def generate(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Infinite generator of batches (fresh arrays each time)."""
        while True:
            yield self.next_batch()

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        return self.generate()

    def __next__(self) -> tuple[np.ndarray, np.ndarray]:
        return self.next_batch()


def batch_generator(
    x: Any,
    y: Any,
    batch_size: int = 32,
    shuffle: bool = True,
    seed: int | None = None,
    num_classes: int | None = None,
    drop_remainder: bool = False,
) -> Iterator[tuple[Any, np.ndarray]]:
    """Infinite Keras-style generator of ``(x_batch, y_batch)`` over arrays.

    Each pass visits every sample once (in a new order per epoch when ``shuffle``; the order
    comes from ``seed``). ``num_classes`` one-hot encodes ``y`` (float32, new last axis).
    ``x`` may be a list of arrays (multi-input models). The last, smaller batch of an epoch is
    yielded unless ``drop_remainder``.
    """
    _check_positive(batch_size=batch_size)
    xs: Sequence[Any] = x if isinstance(x, (list, tuple)) else [x]
    xs = [np.asarray(a) for a in xs]
    y = np.asarray(y)
    n = len(y)
    for i, a in enumerate(xs):
        if len(a) != n:
            raise ValueError(f"x[{i}] has {len(a)} samples but y has {n}")
    if n == 0:
        raise ValueError("batch_generator got no samples")
    if drop_remainder and n < batch_size:
        raise ValueError(f"{n} samples is fewer than batch_size={batch_size} with drop_remainder")
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(n) if shuffle else np.arange(n)
        stop = n - n % batch_size if drop_remainder else n
        for start in range(0, stop, batch_size):
            idx = order[start : start + batch_size]
            xb = [a[idx] for a in xs]
            yb = y[idx]
            if num_classes is not None:
                yb = one_hot_encode(yb, num_classes)
            yield (xb if isinstance(x, (list, tuple)) else xb[0]), yb
