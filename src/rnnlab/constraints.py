"""Weight constraints, as ``keras.constraints``: ``MaxNorm``, ``NonNeg``, ``UnitNorm``,
``MinMaxNorm``.

A constraint maps a weight array (in Keras's layout, so ``axis=0`` of a kernel ``(D, U)`` is the
input axis: one norm per unit) to its projected value; it is applied after every optimizer
step, as in Keras. Formulas and defaults are Keras 3's, including its ``epsilon`` (1e-7):

``MaxNorm(max_value=2, axis=0)``: ``w · clip(n, 0, m) / (ε + n)``, ``n = ‖w‖₂`` along ``axis``;
``NonNeg()``: ``w · (w >= 0)``; ``UnitNorm(axis=0)``: ``w / (ε + n)``;
``MinMaxNorm(min_value=0, max_value=1, rate=1, axis=0)``:
``w · (rate · clip(n, lo, hi) + (1 − rate) · n) / (ε + n)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._registry import AttributeConfig, get_from_family, register

_EPSILON = 1e-7


class Constraint(AttributeConfig):
    def __call__(self, w: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def _norms(w: np.ndarray, axis: Any) -> np.ndarray:
    ax = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    return np.sqrt(np.sum(np.square(w), axis=ax, keepdims=True))


@register
class MaxNorm(Constraint):
    def __init__(self, max_value: float = 2.0, axis: Any = 0) -> None:
        self.max_value = float(max_value)
        self.axis = axis

    def __call__(self, w: np.ndarray) -> np.ndarray:
        n = _norms(w, self.axis)
        return (w * (np.clip(n, 0, self.max_value) / (_EPSILON + n))).astype(w.dtype)


@register
class NonNeg(Constraint):
    def __call__(self, w: np.ndarray) -> np.ndarray:
        return (w * (w >= 0)).astype(w.dtype)


@register
class UnitNorm(Constraint):
    def __init__(self, axis: Any = 0) -> None:
        self.axis = axis

    def __call__(self, w: np.ndarray) -> np.ndarray:
        return (w / (_EPSILON + _norms(w, self.axis))).astype(w.dtype)


@register
class MinMaxNorm(Constraint):
    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0,
                 axis: Any = 0) -> None:
        self.min_value = float(min_value)
        self.max_value = float(max_value)
        self.rate = float(rate)
        self.axis = axis

    def __call__(self, w: np.ndarray) -> np.ndarray:
        n = _norms(w, self.axis)
        desired = self.rate * np.clip(n, self.min_value, self.max_value) + (1 - self.rate) * n
        return (w * (desired / (_EPSILON + n))).astype(w.dtype)


_ALIASES = {"max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm,
            "min_max_norm": MinMaxNorm}


def get(identifier: Any) -> Constraint | None:
    """None, a Constraint, a name (``"max_norm"``) or a ``{"class_name", "config"}`` dict."""
    return get_from_family(identifier, Constraint, _ALIASES, "constraint", "constraints")


__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "get"]
