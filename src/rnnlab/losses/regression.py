"""``MeanSquaredError`` and ``MeanAbsoluteError``."""

from __future__ import annotations

import numpy as np

from .._registry import register
from .base import (
    Array,
    _ElementwiseLoss,
)


@register
class MeanSquaredError(_ElementwiseLoss):
    """``mean((y_pred - y_true)², axis=-1)`` per position, ``keras.losses.MeanSquaredError``."""

    default_name = "mean_squared_error"

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str | None = None):
        super().__init__(reduction=reduction, name=name)

    def _compute(self, y_true: Array, y_pred: Array, need_grad: bool) -> tuple[Array, Array | None]:
        diff = y_pred - y_true
        values = np.mean(np.square(diff), axis=-1)
        local = diff * (2.0 / diff.shape[-1]) if need_grad else None
        return values, local


@register
class MeanAbsoluteError(_ElementwiseLoss):
    """``mean(|y_pred - y_true|, axis=-1)`` per position, ``keras.losses.MeanAbsoluteError``."""

    default_name = "mean_absolute_error"

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str | None = None):
        super().__init__(reduction=reduction, name=name)

    def _compute(self, y_true: Array, y_pred: Array, need_grad: bool) -> tuple[Array, Array | None]:
        diff = y_pred - y_true
        values = np.mean(np.abs(diff), axis=-1)
        local = np.sign(diff) * (1.0 / diff.shape[-1]) if need_grad else None
        return values, local
