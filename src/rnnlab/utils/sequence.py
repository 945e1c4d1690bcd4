"""Keras-compatible sequence utilities: ``to_categorical`` and ``pad_sequences``.

Both follow ``keras.utils.to_categorical`` and ``keras.utils.pad_sequences`` (the same code as
``keras.preprocessing.sequence.pad_sequences``): same signatures, defaults, output shapes and
dtypes. The differences are limited to inputs on which Keras fails with an obscure NumPy error or
silently produces garbage; here they raise a ``ValueError`` that says what was expected:

- ``to_categorical``: negative labels (Keras silently wraps them around to the last classes),
  labels ``>= num_classes`` (Keras: ``IndexError``), non-integral float labels (Keras truncates)
  and an empty ``y`` without ``num_classes`` (Keras: error from ``max`` of an empty array).
- ``pad_sequences``: ``maxlen=0`` gives an ``(n, 0)`` array (Keras fails to broadcast), an empty
  list of sequences gives an ``(0, 0)`` array (Keras: error from ``max``), and ``padding`` /
  ``truncating`` are validated up front rather than at the first non-empty sequence.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["pad_sequences", "to_categorical"]


def to_categorical(y: Any, num_classes: int | None = None, dtype: Any = "float32") -> np.ndarray:
    """One-hot encode integer class labels, exactly as ``keras.utils.to_categorical``.

    Args:
        y: array-like of class labels in ``[0, num_classes)``, any shape.
        num_classes: number of classes; default ``max(y) + 1``.
        dtype: dtype of the result (default ``"float32"``).

    Returns:
        An array of shape ``y.shape + (num_classes,)``; as in Keras a trailing axis of size 1 is
        dropped first when ``y`` has more than one axis (``(n, 1)`` -> ``(n, num_classes)``).
    """
    arr = np.asarray(y)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise ValueError(f"to_categorical expects integer class labels, got dtype {arr.dtype}")
    if arr.dtype.kind == "f":
        if arr.size and not (np.isfinite(arr).all() and np.all(arr == np.round(arr))):
            raise ValueError("to_categorical expects integer class labels, got non-integer floats")
    labels = arr.astype(np.int64)
    input_shape = labels.shape
    if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
        input_shape = tuple(input_shape[:-1])
    flat = labels.reshape(-1)
    if not num_classes:
        if flat.size == 0:
            raise ValueError("to_categorical got an empty y; pass num_classes explicitly")
        num_classes = int(flat.max()) + 1
    num_classes = int(num_classes)
    if flat.size:
        lo, hi = int(flat.min()), int(flat.max())
        if lo < 0 or hi >= num_classes:
            raise ValueError(
                f"to_categorical: labels must lie in [0, {num_classes}) for num_classes="
                f"{num_classes}, got values in [{lo}, {hi}]"
            )
    n = flat.shape[0]
    categorical = np.zeros((n, num_classes), dtype=dtype)
    categorical[np.arange(n), flat] = 1
    return categorical.reshape(tuple(input_shape) + (num_classes,))


def pad_sequences(
    sequences: Sequence[Any],
    maxlen: int | None = None,
    dtype: Any = "int32",
    padding: str = "pre",
    truncating: str = "pre",
    value: Any = 0,
) -> np.ndarray:
    """Pad (and truncate) sequences to a common length, exactly as ``keras.utils.pad_sequences``.

    Args:
        sequences: list of sequences (lists or arrays; each element a scalar or a fixed-shape
            array, e.g. feature vectors).
        maxlen: length of the result; default the length of the longest sequence.
        dtype: dtype of the result (default ``"int32"``; use ``object`` for strings).
        padding: ``"pre"`` (default) or ``"post"``: pad before or after each sequence.
        truncating: ``"pre"`` (default) or ``"post"``: drop values from the start or the end of
            sequences longer than ``maxlen``.
        value: padding value (default 0).

    Returns:
        Array of shape ``(len(sequences), maxlen) + sample_shape``.
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    if padding not in ("pre", "post"):
        raise ValueError(f'Padding type "{padding}" not understood; expected "pre" or "post"')
    if truncating not in ("pre", "post"):
        raise ValueError(f'Truncating type "{truncating}" not understood; expected "pre" or "post"')
    num_samples = len(sequences)

    lengths = []
    sample_shape: tuple[int, ...] = ()
    flag = True
    # The sample shape comes from the first non-empty sequence; consistency is checked below.
    for x in sequences:
        try:
            lengths.append(len(x))
            if flag and len(x):
                sample_shape = np.asarray(x).shape[1:]
                flag = False
        except TypeError as exc:
            raise ValueError(
                f"`sequences` must be a list of iterables. Found non-iterable: {x!s}"
            ) from exc

    if maxlen is None:
        maxlen = int(np.max(lengths)) if lengths else 0
    maxlen = int(maxlen)
    if maxlen < 0:
        raise ValueError(f"maxlen must be a non-negative integer, got {maxlen}")

    is_dtype_str = np.issubdtype(np.dtype(dtype), np.str_)
    if isinstance(value, str) and np.dtype(dtype) != object and not is_dtype_str:
        raise ValueError(
            f"`dtype` {dtype} is not compatible with `value`'s type: {type(value)}\n"
            "You should set `dtype=object` for variable length strings."
        )

    x = np.full((num_samples, maxlen) + tuple(sample_shape), value, dtype=dtype)
    if maxlen == 0:
        return x
    for idx, s in enumerate(sequences):
        if not len(s):
            continue  # an empty list/array
        if truncating == "pre":
            trunc = s[-maxlen:]
        else:
            trunc = s[:maxlen]
        trunc = np.asarray(trunc, dtype=dtype)
        if trunc.shape[1:] != sample_shape:
            raise ValueError(
                f"Shape of sample {trunc.shape[1:]} of sequence at position {idx} is different "
                f"from expected shape {sample_shape}"
            )
        if padding == "post":
            x[idx, : len(trunc)] = trunc
        else:
            x[idx, -len(trunc) :] = trunc
    return x
