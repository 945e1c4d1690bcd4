"""Weight and activity regularizers, as ``keras.regularizers``: ``L1``, ``L2``, ``L1L2``.

A regularizer maps an array ``w`` (in Keras's layout) to a penalty added to the training loss:
``L1(l1)``: ``l1 · Σ|w|``; ``L2(l2)``: ``l2 · Σw²``; ``L1L2(l1, l2)``: their sum. Defaults are
Keras's (0.01 for ``L1``/``L2``, 0 for both of ``L1L2``). ``gradient(w)`` is the exact
derivative (``sign(w)`` for the L1 part, 0 at 0 as in autodiff frameworks). Names accepted by
``get``: ``"l1"``, ``"l2"``, ``"l1_l2"`` and the class names.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._registry import AttributeConfig, get_from_family, register


class Regularizer(AttributeConfig):
    """Base: ``__call__(w) -> float`` and ``gradient(w) -> array like w``."""

    def __call__(self, w: np.ndarray) -> float:
        raise NotImplementedError

    def gradient(self, w: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def _factor(value: Any, what: str) -> float:
    f = float(value)
    if not np.isfinite(f) or f < 0:
        raise ValueError(f"{what} must be a finite number >= 0, got {value!r}")
    return f


@register
class L1L2(Regularizer):
    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1 = _factor(l1, "l1")
        self.l2 = _factor(l2, "l2")

    def __call__(self, w: np.ndarray) -> float:
        w = np.asarray(w, dtype=np.float64)
        return float(self.l1 * np.abs(w).sum() + self.l2 * np.square(w).sum())

    def gradient(self, w: np.ndarray) -> np.ndarray:
        w = np.asarray(w)
        return (self.l1 * np.sign(w) + (2.0 * self.l2) * w).astype(w.dtype, copy=False)


@register
class L1(L1L2):
    def __init__(self, l1: float = 0.01) -> None:
        super().__init__(l1=l1)

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1}


@register
class L2(L1L2):
    def __init__(self, l2: float = 0.01) -> None:
        super().__init__(l2=l2)

    def get_config(self) -> dict[str, Any]:
        return {"l2": self.l2}


_ALIASES = {"l1": L1, "l2": L2, "l1_l2": L1L2, "l1l2": L1L2}


def get(identifier: Any) -> Regularizer | None:
    """None, a Regularizer, a name (``"l2"``) or a ``{"class_name", "config"}`` dict."""
    return get_from_family(identifier, Regularizer, _ALIASES, "regularizer", "regularizers")


l1, l2, l1_l2 = L1, L2, L1L2

__all__ = ["L1", "L1L2", "L2", "Regularizer", "get", "l1", "l1_l2", "l2"]
