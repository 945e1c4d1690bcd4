"""Cross-entropies: binary, categorical and sparse categorical (probabilities or logits)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import kernels
from .._registry import register
from .base import (
    Array,
    Loss,
    _as_true,
    _clip_bounds,
    _ElementwiseLoss,
    _log_softmax_parts,
    _Prepared,
    _sigmoid,
)


def _label_smoothing(value: Any) -> float:
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {value!r}")
    return float(value)


@register
class BinaryCrossentropy(_ElementwiseLoss):
    """Binary cross-entropy averaged over the last axis, ``keras.losses.BinaryCrossentropy``.

    ``from_logits=True`` uses the stable softplus form (gradient ``sigmoid(z) - t``);
    ``label_smoothing`` moves targets towards 0.5: ``t * (1 - s) + 0.5 * s``.
    """

    default_name = "binary_crossentropy"

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
    ):
        super().__init__(reduction=reduction, name=name)
        self.from_logits = bool(from_logits)
        self.label_smoothing = _label_smoothing(label_smoothing)

    def _compute(self, y_true: Array, y_pred: Array, need_grad: bool) -> tuple[Array, Array | None]:
        t = y_true
        if self.label_smoothing:
            s = self.label_smoothing
            t = t * (1.0 - s) + 0.5 * s
        n = y_pred.shape[-1]
        if self.from_logits:
            z = y_pred
            elem = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
            local = (_sigmoid(z) - t) * (1.0 / n) if need_grad else None
        else:
            lo, hi = _clip_bounds(y_pred.dtype)
            p = np.clip(y_pred, lo, hi)
            elem = -(t * np.log(p) + (1.0 - t) * np.log(1.0 - p))
            local = None
            if need_grad:
                inside = (y_pred >= lo) & (y_pred <= hi)
                local = np.where(inside, (p - t) / (p * (1.0 - p)), 0) * (1.0 / n)
        return np.mean(elem, axis=-1), local

    def get_config(self) -> dict[str, Any]:
        return {
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            **super().get_config(),
        }


def _check_classes(y_pred: Array, label: str) -> None:
    if y_pred.ndim == 0:
        raise ValueError(f"{label}: y_pred must have a class axis, got a scalar")


@register
class CategoricalCrossentropy(Loss):
    """Cross-entropy with one-hot (or soft) targets over the last axis,
    ``keras.losses.CategoricalCrossentropy``; ``label_smoothing`` uses
    ``t * (1 - s) + s / num_classes``."""

    default_name = "categorical_crossentropy"

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
    ):
        super().__init__(reduction=reduction, name=name)
        self.from_logits = bool(from_logits)
        self.label_smoothing = _label_smoothing(label_smoothing)

    def _prepare(self, y_true: Any, y_pred: Array, valid: Array | None = None) -> _Prepared:
        _check_classes(y_pred, self._label())
        yt = _as_true(y_true, y_pred.dtype)
        if yt.shape != y_pred.shape:
            hint = ""
            if yt.shape == y_pred.shape[:-1] or yt.shape == y_pred.shape[:-1] + (1,):
                hint = (
                    " (these look like integer class ids: use SparseCategoricalCrossentropy / "
                    "'sparse_categorical_crossentropy')"
                )
            raise self._mismatch(
                y_true,
                y_pred,
                f"{self._label()} expects one-hot y_true with the same shape as y_pred "
                f"(..., num_classes){hint}",
            )
        return yt, y_pred, y_pred.shape, None

    def _compute(self, y_true: Array, y_pred: Array, need_grad: bool) -> tuple[Array, Array | None]:
        t = y_true
        if self.label_smoothing:
            s = self.label_smoothing
            t = t * (1.0 - s) + s / t.shape[-1]
        return _categorical(t, y_pred, self.from_logits, need_grad)

    def get_config(self) -> dict[str, Any]:
        return {
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            **super().get_config(),
        }


def _categorical(
    t: Array, y_pred: Array, from_logits: bool, need_grad: bool
) -> tuple[Array, Array | None]:
    if from_logits:
        lse, softmax = _log_softmax_parts(y_pred, need_grad)
        values = -np.sum(t * (y_pred - lse), axis=-1)
        local = None
        if softmax is not None:
            local = softmax * np.sum(t, axis=-1, keepdims=True) - t
        return values, local
    lo, hi = _clip_bounds(y_pred.dtype)
    s = np.sum(y_pred, axis=-1, keepdims=True)
    q = y_pred / s
    c = np.clip(q, lo, hi)
    values = -np.sum(t * np.log(c), axis=-1)
    local = None
    if need_grad:
        inside = (q >= lo) & (q <= hi)
        gq = np.where(inside, -t / c, 0).astype(y_pred.dtype, copy=False)
        local = (gq - np.sum(gq * q, axis=-1, keepdims=True)) / s
    return values, local


@register
class SparseCategoricalCrossentropy(Loss):
    """Cross-entropy with integer class ids, ``keras.losses.SparseCategoricalCrossentropy``.

    Labels have shape ``y_pred.shape[:-1]`` (or with a trailing 1) and must be integers in
    ``[0, num_classes)`` at every position that counts (positions masked out or equal to
    ``ignore_class`` are not checked). ``ignore_class`` positions are excluded from the mean.
    """

    default_name = "sparse_categorical_crossentropy"

    def __init__(
        self,
        from_logits: bool = False,
        ignore_class: int | None = None,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
    ):
        super().__init__(reduction=reduction, name=name)
        self.from_logits = bool(from_logits)
        if ignore_class is not None and (
            isinstance(ignore_class, bool) or not isinstance(ignore_class, (int, np.integer))
        ):
            raise ValueError(f"ignore_class must be an integer or None, got {ignore_class!r}")
        self.ignore_class = None if ignore_class is None else int(ignore_class)

    def _prepare(self, y_true: Any, y_pred: Array, valid: Array | None = None) -> _Prepared:
        _check_classes(y_pred, self._label())
        labels = np.asarray(y_true)
        if labels.dtype.kind not in "biuf":
            raise TypeError(
                f"{self._label()}: y_true must hold integer class ids, got dtype {labels.dtype}"
            )
        expected = y_pred.shape[:-1]
        if labels.shape == expected + (1,):
            labels = labels[..., 0]
        if labels.shape != expected:
            hint = ""
            if labels.shape == y_pred.shape and y_pred.shape[-1] > 1:
                hint = (
                    " (these look one-hot: use CategoricalCrossentropy / "
                    "'categorical_crossentropy')"
                )
            raise self._mismatch(
                y_true,
                y_pred,
                f"{self._label()} expects integer class ids of shape y_pred.shape[:-1] = "
                f"{expected} (or {expected + (1,)}){hint}",
            )
        num_classes = y_pred.shape[-1]
        check = np.ones(labels.shape, dtype=bool)
        if valid is not None:
            check &= valid != 0
        if self.ignore_class is not None:
            check &= labels != self.ignore_class
        if labels.dtype.kind == "f":
            bad = check & ~(np.isfinite(labels) & (labels == np.round(labels)))
            if bad.any():
                idx = tuple(int(i) for i in np.argwhere(bad)[0])
                raise ValueError(
                    f"{self._label()}: y_true must hold integer class ids in [0, {num_classes}) "
                    f"for {num_classes} classes; got non-integer value {labels[idx].item()!r} at "
                    f"index {idx}"
                )
        bad = check & ((labels < 0) | (labels >= num_classes))
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            value = labels[idx]
            value = int(value) if labels.dtype.kind == "f" else value.item()
            raise ValueError(
                f"{self._label()}: label {value} at index {idx} is out of range for "
                f"{num_classes} classes (y_pred.shape[-1] = {num_classes}); labels must be in "
                f"[0, {num_classes})"
            )
        safe = np.where(check, labels, 0).astype(np.intp)
        keep = None
        if self.ignore_class is not None:
            keep = (labels != self.ignore_class).astype(y_pred.dtype)
        return safe, y_pred, y_pred.shape, keep

    def _compute(self, y_true: Array, y_pred: Array, need_grad: bool) -> tuple[Array, Array | None]:
        idx = y_true[..., None]
        eng = kernels.threads_module() if self.from_logits and y_pred.ndim >= 2 else None
        if eng is not None and y_pred.dtype in (np.float32, np.float64) and y_pred.size:
            from .compiled import sparse_crossentropy_from_logits  # the same, compiled

            return sparse_crossentropy_from_logits(y_pred, y_true, need_grad, eng)
        if self.from_logits:
            lse, softmax = _log_softmax_parts(y_pred, need_grad)
            picked = np.take_along_axis(y_pred, idx, axis=-1)
            values = (lse - picked)[..., 0]
            local = None
            if softmax is not None:
                local = softmax
                np.put_along_axis(local, idx, np.take_along_axis(local, idx, axis=-1) - 1, axis=-1)
            return values, local
        lo, hi = _clip_bounds(y_pred.dtype)
        s = np.sum(y_pred, axis=-1, keepdims=True)
        q = y_pred / s
        qk = np.take_along_axis(q, idx, axis=-1)
        ck = np.clip(qk, lo, hi)
        values = -np.log(ck)[..., 0]
        local = None
        if need_grad:
            inside = (qk >= lo) & (qk <= hi)
            gk = np.where(inside, -1.0 / ck, 0).astype(y_pred.dtype, copy=False)  # dL/dq_k
            # dL/dp_j = g_k (delta_jk - q_k) / s
            local = np.repeat(-gk * qk, q.shape[-1], axis=-1)
            np.put_along_axis(local, idx, np.take_along_axis(local, idx, axis=-1) + gk, axis=-1)
            local /= s
        return values, local

    def get_config(self) -> dict[str, Any]:
        return {
            "from_logits": self.from_logits,
            "ignore_class": self.ignore_class,
            **super().get_config(),
        }
