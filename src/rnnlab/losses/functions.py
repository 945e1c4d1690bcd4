"""Functional forms, unreduced, like ``keras.losses.mean_squared_error``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Array
from .crossentropy import BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy
from .regression import MeanAbsoluteError, MeanSquaredError


def mean_squared_error(y_true: Any, y_pred: Any) -> Array:
    """Per-position MSE, shape ``y_pred.shape[:-1]``."""
    return MeanSquaredError().call(y_true, y_pred)


def mean_absolute_error(y_true: Any, y_pred: Any) -> Array:
    """Per-position MAE, shape ``y_pred.shape[:-1]``."""
    return MeanAbsoluteError().call(y_true, y_pred)


def binary_crossentropy(
    y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0
) -> Array:
    """Per-position binary cross-entropy (mean over the last axis)."""
    return BinaryCrossentropy(from_logits, label_smoothing).call(y_true, y_pred)


def categorical_crossentropy(
    y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0
) -> Array:
    """Per-position categorical cross-entropy, shape ``y_pred.shape[:-1]``."""
    return CategoricalCrossentropy(from_logits, label_smoothing).call(y_true, y_pred)


def sparse_categorical_crossentropy(
    y_true: Any, y_pred: Any, from_logits: bool = False, ignore_class: int | None = None
) -> Array:
    """Per-position sparse categorical cross-entropy (ignored positions give 0)."""
    loss = SparseCategoricalCrossentropy(from_logits, ignore_class)
    values = loss.call(y_true, y_pred)
    if ignore_class is not None:
        labels = np.asarray(y_true).reshape(values.shape)
        values = np.where(labels == ignore_class, 0, values).astype(values.dtype, copy=False)
    return values


mse = mean_squared_error
mae = mean_absolute_error
