"""Numeric settings shared by every layer: the default float dtype and input validation.

float32 is the default (speed); float64 is used for gradient checks and oracle tests. A layer's
dtype is fixed when it is made and never changes silently: inputs are cast to it at the layer
boundary (as Keras does) and every output and gradient has it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_FLOATX = "float32"
_ALLOWED = ("float32", "float64")


def floatx() -> str:
    """The default float dtype name for new layers ('float32' unless changed)."""
    return _FLOATX


def set_floatx(dtype: str) -> None:
    """Set the default float dtype for layers made afterwards: 'float32' or 'float64'."""
    global _FLOATX
    _FLOATX = standardize_dtype(dtype)


def standardize_dtype(dtype: Any) -> str:
    """Validate a float dtype (None -> floatx()) and return its name."""
    if dtype is None:
        return _FLOATX
    try:
        name = np.dtype(dtype).name
    except TypeError as exc:
        raise ValueError(f"dtype must be one of {_ALLOWED}, got {dtype!r}") from exc
    if name not in _ALLOWED:
        raise ValueError(f"dtype must be one of {_ALLOWED}, got {name!r}")
    return name


def as_float_array(x: Any, dtype: str, what: str = "input") -> np.ndarray:
    """Cast ``x`` to ``dtype`` and reject NaN/inf with a message naming ``what``."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{what} must be numeric, got an array of dtype {arr.dtype}")
    arr = arr.astype(dtype, copy=False)
    if arr.size and not np.isfinite(arr).all():
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{what} contains {bad} NaN or infinite value(s); expected finite numbers")
    return arr


def check_rank(x: np.ndarray, rank: int | tuple[int, ...], what: str, layout: str) -> None:
    """Raise ValueError unless ``x.ndim`` is ``rank`` (or one of them), naming the layout."""
    ranks = (rank,) if isinstance(rank, int) else rank
    if x.ndim not in ranks:
        raise ValueError(
            f"{what} expected a {' or '.join(map(str, ranks))}-D array {layout}, "
            f"got shape {x.shape} ({x.ndim}-D)"
        )
