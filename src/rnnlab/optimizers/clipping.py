"""Gradient clipping: per-array norm or value, and the global norm over all arrays."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

Array = np.ndarray
Grads = Mapping[str, Any] | Iterable[Any]


def _sq_norm(g: Array) -> float:
    g = np.asarray(g)
    return float(np.sum(np.square(g, dtype=np.float64)))


def global_norm(grads: Grads) -> float:
    """``sqrt(sum of squares)`` over all gradients (a dict's values or a list; ``None`` entries
    skipped), accumulated in float64."""
    values: Iterable[Any] = grads.values() if isinstance(grads, Mapping) else grads
    return math.sqrt(sum(_sq_norm(g) for g in values if g is not None))


def _check_clip_args(
    clipnorm: float | None, clipvalue: float | None, global_clipnorm: float | None
) -> None:
    given = [a is not None for a in (clipnorm, clipvalue, global_clipnorm)]
    if sum(given) > 1:
        raise ValueError(
            "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
            f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
            f"global_clipnorm={global_clipnorm}"
        )
    for what, value in (
        ("clipnorm", clipnorm),
        ("clipvalue", clipvalue),
        ("global_clipnorm", global_clipnorm),
    ):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
            raise ValueError(f"`{what}` must be a number or None, got {value!r}")
        if not value >= 0:
            raise ValueError(f"`{what}` must be >= 0 (0 disables clipping), got {value!r}")


def _clip_by_norm(g: Array, clipnorm: float) -> Array:
    # Keras BaseOptimizer._clip_by_norm: g * clipnorm / max(||g||, clipnorm)
    norm = math.sqrt(_sq_norm(g))
    if norm <= clipnorm:
        return g
    return g * (clipnorm / norm)


def clip_gradients(
    grads: Grads,
    clipnorm: float | None = None,
    clipvalue: float | None = None,
    global_clipnorm: float | None = None,
) -> Any:
    """Keras gradient clipping (``BaseOptimizer._clip_gradients``); at most one mode.

    * ``clipnorm``: each gradient separately, ``g * clipnorm / max(||g||, clipnorm)``;
    * ``global_clipnorm``: all together, ``g * clipnorm / max(global_norm, clipnorm)``; a
      non-finite global norm makes every gradient NaN (as Keras / ``tf.clip_by_global_norm``);
    * ``clipvalue``: element-wise ``clip(g, -clipvalue, clipvalue)``.

    ``None`` or 0 disables a mode. Returns the same container type (dict or list) with new
    arrays for clipped entries; the inputs are never modified. ``None`` entries are kept.
    """
    _check_clip_args(clipnorm, clipvalue, global_clipnorm)
    is_map = isinstance(grads, Mapping)
    keys: list[str] | None = None
    if isinstance(grads, Mapping):
        keys, values = list(grads.keys()), list(grads.values())
    else:
        values = list(grads)
    values = [None if g is None else np.asarray(g) for g in values]

    if clipnorm:
        c = float(clipnorm)
        values = [None if g is None else _clip_by_norm(g, c) for g in values]
    elif global_clipnorm:
        c = float(global_clipnorm)
        norm = global_norm(values)
        if not math.isfinite(norm):
            scale = math.nan
        elif norm <= c:
            scale = 1.0
        else:
            scale = c / norm
        if scale != 1.0:
            values = [None if g is None else g * scale for g in values]
    elif clipvalue:
        v = float(clipvalue)
        values = [None if g is None else np.clip(g, -v, v) for g in values]

    if is_map:
        return dict(zip(keys, values, strict=True))  # type: ignore[arg-type]
    return values
