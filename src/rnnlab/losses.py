"""Keras 3 losses with exact gradients: MSE, MAE, binary / categorical / sparse categorical
cross-entropy.

Every loss works on ``(N, C)`` and sequence ``(N, T, C)`` predictions (any ``(..., C)``). The
per-position loss is computed over the last (feature / class) axis, giving ``values`` of shape
``y_pred.shape[:-1]`` (``(N,)`` or ``(N, T)``), then reduced as Keras 3 does
(``keras/src/losses/loss.py``, ``reduction="sum_over_batch_size"``)::

    w      = sample_weight (broadcast to values.shape; (N,) weights apply to every timestep)
    mask   : w *= mask * (values.size / mask.sum())     (0 when nothing is valid)
    loss   = sum(values * w) / values.size

so with a mask the loss is the (weighted) mean over unmasked positions only, and without one a
``sample_weight`` scales positions without changing the divisor (Keras semantics).
``value_and_grad`` returns that scalar and its exact gradient with respect to ``y_pred``.

Per-position formulas (``C`` = size of the last axis, ``eps = 1e-7`` = ``keras.backend.epsilon``):

| loss                     | value                                                          |
|--------------------------|----------------------------------------------------------------|
| MeanSquaredError         | ``mean((y_pred - y_true)², -1)``                                |
| MeanAbsoluteError        | ``mean(|y_pred - y_true|, -1)`` (gradient ``sign``, 0 at a tie) |
| BinaryCrossentropy       | logits: ``mean(max(z,0) - z*t + log1p(exp(-|z|)), -1)``        |
|                          | probabilities: ``p = clip(p, eps, 1-eps)``,                     |
|                          | ``mean(-(t log p + (1-t) log(1-p)), -1)``                       |
| CategoricalCrossentropy  | logits: ``-sum(t * log_softmax(z), -1)`` (log-sum-exp)          |
|                          | probabilities: ``q = clip(p / sum(p, -1), eps, 1-eps)``,        |
|                          | ``-sum(t * log q, -1)``                                         |
| SparseCategorical...     | the same with ``t = one_hot(y_true)``                           |

Probability inputs are normalised and clipped exactly as Keras's NumPy/JAX/PyTorch backends do;
the gradient is that of the clipped function (zero where a probability was clipped, the clip's
end points counting as inside, as ``torch.clamp``). Keras's TensorFlow backend additionally adds
``eps`` inside the logs of the probability BCE; this module follows the other backends.

Shapes: ``y_true`` must have ``y_pred``'s shape, except that a trailing size-1 axis may be absent
from either (``(N,)`` labels for ``(N, 1)`` outputs, ``(N, T)`` for ``(N, T, 1)``); sparse labels
have shape ``y_pred.shape[:-1]`` (or with a trailing 1). A 1-D ``y_pred`` of an element-wise loss
is one value per sample. Values and gradients have ``y_pred``'s float dtype.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from . import backend
from ._registry import register

__all__ = [
    "Loss",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "mean_squared_error",
    "mean_absolute_error",
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "mse",
    "mae",
    "get",
    "names",
    "EPSILON",
]

Array = np.ndarray

#: ``keras.backend.epsilon()``: the clip applied to probabilities.
EPSILON = 1e-7

_Prepared = tuple[np.ndarray, np.ndarray, tuple[int, ...], "np.ndarray | None"]

_REDUCTIONS = ("sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none", None)


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _as_pred(y_pred: Any) -> Array:
    arr = np.asarray(y_pred)
    if arr.dtype.kind == "f":
        return arr
    if arr.dtype.kind not in "biu":
        raise TypeError(f"y_pred must be numeric, got an array of dtype {arr.dtype}")
    return arr.astype(backend.floatx())


def _as_true(y_true: Any, dtype: np.dtype) -> Array:
    arr = np.asarray(y_true)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"y_true must be numeric, got an array of dtype {arr.dtype}")
    return arr.astype(dtype, copy=False)


def _broadcast_weights(
    weights: Any, shape: tuple[int, ...], what: str, dtype: np.dtype, loss_name: str
) -> Array:
    """``weights`` as an array of ``shape``: missing trailing axes are added, so ``(N,)`` weights
    apply to every timestep of ``(N, T)`` values; a trailing size-1 axis beyond it is dropped."""
    w = np.asarray(weights)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"{what} must be numeric or boolean, got an array of dtype {w.dtype}")
    w = w.astype(dtype)
    if w.ndim == len(shape) + 1 and w.shape[-1] == 1:
        w = w[..., 0]
    if w.ndim < len(shape):
        w = w.reshape(w.shape + (1,) * (len(shape) - w.ndim))
    try:
        return np.broadcast_to(w, shape)
    except ValueError:
        raise ValueError(
            f"{loss_name}: {what} of shape {np.shape(weights)} does not fit the per-position "
            f"losses of shape {shape} (y_pred.shape[:-1]); expected {shape}, a prefix of it "
            "such as (batch,), or a scalar"
        ) from None


def _log_softmax_parts(z: Array, need_softmax: bool) -> tuple[Array, Array | None]:
    """``(logsumexp(z) over the last axis (keepdims), softmax(z) or None)``, max-shifted."""
    zmax = np.max(z, axis=-1, keepdims=True)
    e = z - zmax
    np.exp(e, out=e)
    total = np.sum(e, axis=-1, keepdims=True)
    lse = zmax + np.log(total)
    if not need_softmax:
        return lse, None
    e /= total
    return lse, e


def _sigmoid(z: Array) -> Array:
    # through tanh: no overflow for any input
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _clip_bounds(dtype: np.dtype) -> tuple[Any, Any]:
    eps = dtype.type(EPSILON)
    return eps, dtype.type(1.0) - eps


# ---------------------------------------------------------------------------------------------
# base class
# ---------------------------------------------------------------------------------------------
class Loss:
    """Base class. Subclasses implement ``_prepare`` (shape checks) and ``_compute`` (per-position
    values and their local gradient)."""

    default_name = "loss"

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str | None = None):
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f"Invalid value for argument `reduction`. Expected one of {list(_REDUCTIONS)}. "
                f"Received: reduction={reduction!r}"
            )
        self.reduction = reduction
        self.name = name if name is not None else self.default_name

    # -- to implement ---------------------------------------------------------------------------
    def _prepare(self, y_true: Any, y_pred: Array, valid: Array | None = None) -> _Prepared:
        """Validate shapes (and labels at the positions where ``valid`` is non-zero) and return
        ``(y_true, y_pred_2, out_shape, keep)``: ``y_pred_2`` has a class/feature last axis,
        ``out_shape`` is the shape of the gradient to return and ``keep`` is None or a 0/1 mask
        of positions the loss itself excludes (``ignore_class``)."""
        raise NotImplementedError

    def _compute(self, y_true: Array, y_pred: Array, need_grad: bool) -> tuple[Array, Array | None]:
        """Per-position values (shape ``y_pred.shape[:-1]``) and d values / d y_pred."""
        raise NotImplementedError

    # -- public ---------------------------------------------------------------------------------
    def call(self, y_true: Any, y_pred: Any, mask: Any = None) -> Array:
        """Unreduced, unweighted per-position losses, shape ``y_pred.shape[:-1]`` (Keras
        ``Loss.call``). With a ``mask``, sparse labels are only validated where it is non-zero
        (the values elsewhere are computed with label 0 and are meaningless)."""
        yp = _as_pred(y_pred)
        valid = None
        if mask is not None:
            shape_values = yp.shape[:-1] if yp.ndim >= 2 else yp.shape
            valid = _broadcast_weights(mask, shape_values, "mask", yp.dtype, self._label())
        yt, yp2, _, _ = self._prepare(y_true, yp, valid)
        values, _ = self._compute(yt, yp2, need_grad=False)
        return values

    def __call__(
        self, y_true: Any, y_pred: Any, sample_weight: Any = None, mask: Any = None
    ) -> Any:
        """The reduced loss (a NumPy scalar of y_pred's dtype; an array for reduction='none')."""
        return self._run(y_true, y_pred, sample_weight, mask, need_grad=False)[0]

    def value_and_grad(
        self, y_true: Any, y_pred: Any, sample_weight: Any = None, mask: Any = None
    ) -> tuple[Any, Array]:
        """``(loss, d loss / d y_pred)``; the gradient has ``y_pred``'s shape and dtype."""
        if self.reduction in ("none", None):
            raise ValueError(
                f"{self.name}: value_and_grad needs a scalar loss; reduction={self.reduction!r} "
                "returns per-position values"
            )
        value, grad = self._run(y_true, y_pred, sample_weight, mask, need_grad=True)
        assert grad is not None
        return value, grad

    # -- machinery ------------------------------------------------------------------------------
    def _run(
        self, y_true: Any, y_pred: Any, sample_weight: Any, mask: Any, need_grad: bool
    ) -> tuple[Any, Array | None]:
        yp = _as_pred(y_pred)
        dtype = yp.dtype
        mask_arr = None
        if mask is not None:
            shape_values = yp.shape[:-1] if yp.ndim >= 2 else yp.shape
            mask_arr = _broadcast_weights(mask, shape_values, "mask", dtype, self._label())
        yt, yp2, out_shape, keep = self._prepare(y_true, yp, mask_arr)
        values, local = self._compute(yt, yp2, need_grad)
        shape = values.shape
        size = values.size
        if keep is not None:
            mask_arr = keep if mask_arr is None else mask_arr * keep

        weights: Array | None = None
        if sample_weight is not None:
            weights = _broadcast_weights(
                sample_weight, shape, "sample_weight", dtype, self._label()
            )
        reduction = self.reduction
        if mask_arr is not None:
            m = mask_arr
            if reduction in ("sum_over_batch_size", "mean"):
                valid = m.sum()
                # divide_no_nan(total, valid): no valid position gives 0 loss and 0 gradient
                m = m * (dtype.type(size) / valid) if valid != 0 else np.zeros_like(m)
            weights = m if weights is None else weights * m

        weighted = values if weights is None else values * weights
        if reduction in ("none", None):
            return weighted, None
        total = np.sum(weighted, dtype=dtype)
        if reduction == "sum":
            divisor = dtype.type(1)
        elif reduction == "mean_with_sample_weight" and weights is not None:
            divisor = np.sum(weights, dtype=dtype)
        else:
            divisor = dtype.type(size)  # 0 only for an empty batch: loss 0
        value = dtype.type(total / divisor) if divisor != 0 else dtype.type(0)
        if not need_grad:
            return value, None
        assert local is not None
        if divisor == 0:
            dvalues = np.zeros(shape, dtype=dtype)
        elif weights is None:
            dvalues = np.full(shape, dtype.type(1) / divisor, dtype=dtype)
        else:
            dvalues = (weights / divisor).astype(dtype, copy=False)
        if local.dtype == dtype:  # local is a fresh array of every _compute: scale in place
            grad = np.multiply(local, dvalues[..., None], out=local)
        else:
            grad = (local * dvalues[..., None]).astype(dtype, copy=False)
        return value, grad.reshape(out_shape)

    def _label(self) -> str:
        return type(self).__name__

    def _mismatch(self, y_true: Any, y_pred: Array, expected: str) -> ValueError:
        return ValueError(
            f"{self._label()}: y_true has shape {np.shape(y_true)} but y_pred has shape "
            f"{y_pred.shape}; {expected}"
        )

    # -- config ---------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Loss:
        return cls(**dict(config))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _ElementwiseLoss(Loss):
    """Losses comparing y_true and y_pred element by element, averaged over the last axis."""

    def _prepare(self, y_true: Any, y_pred: Array, valid: Array | None = None) -> _Prepared:
        yt = _as_true(y_true, y_pred.dtype)
        if y_pred.ndim == 0:
            raise ValueError(
                f"{self._label()}: y_pred must have at least one (batch) axis, got a scalar"
            )
        if yt.shape != y_pred.shape:
            if (
                yt.ndim == y_pred.ndim - 1
                and y_pred.shape[-1] == 1
                and yt.shape == y_pred.shape[:-1]
            ):
                yt = yt[..., None]
            elif yt.ndim == y_pred.ndim + 1 and yt.shape[-1] == 1 and yt.shape[:-1] == y_pred.shape:
                yt = yt[..., 0]
            else:
                raise self._mismatch(
                    y_true,
                    y_pred,
                    f"{self._label()} expects y_true with the same shape as y_pred (a trailing "
                    "size-1 axis may be left out of either)",
                )
        if y_pred.ndim == 1:  # one value per sample
            return yt[:, None], y_pred[:, None], y_pred.shape, None
        return yt, y_pred, y_pred.shape, None


# ---------------------------------------------------------------------------------------------
# the losses
# ---------------------------------------------------------------------------------------------
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
        if not 0.0 <= float(label_smoothing) <= 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)

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
        if not 0.0 <= float(label_smoothing) <= 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)

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


# ---------------------------------------------------------------------------------------------
# functional forms (unreduced, like keras.losses.mean_squared_error etc.)
# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# lookup
# ---------------------------------------------------------------------------------------------
_CLASSES: dict[str, type[Loss]] = {
    cls.__name__: cls
    for cls in (
        MeanSquaredError,
        MeanAbsoluteError,
        BinaryCrossentropy,
        CategoricalCrossentropy,
        SparseCategoricalCrossentropy,
    )
}

_ALIASES: dict[str, type[Loss]] = {
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
    "binary_crossentropy": BinaryCrossentropy,
    "bce": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}


def _key(name: str) -> str:
    return name.lower().replace("_", "")


_LOOKUP: dict[str, type[Loss]] = {_key(n): c for n, c in _ALIASES.items()}
_LOOKUP.update({_key(n): c for n, c in _CLASSES.items()})


def names() -> list[str]:
    """Names ``get`` accepts (case-insensitive; class names work too)."""
    return sorted(_ALIASES)


def _lookup(name: str) -> type[Loss]:
    cls = _LOOKUP.get(_key(name))
    if cls is None:
        raise ValueError(
            f"Unknown loss {name!r}. Valid names: {names()} (or class names {sorted(_CLASSES)})"
        )
    return cls


def get(identifier: Any) -> Loss:
    """A Loss from a name or alias (``"mse"``, ``"sparse_categorical_crossentropy"``,
    ``"MeanSquaredError"``; case-insensitive), an instance (returned as is) or a
    ``{"class_name": ..., "config": ...}`` dict."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        return _lookup(identifier)()
    if isinstance(identifier, Mapping):
        if set(identifier) != {"class_name", "config"} or not isinstance(
            identifier["class_name"], str
        ):
            raise ValueError(
                "a loss dict must have exactly the keys 'class_name' and 'config', got keys "
                f"{sorted(identifier)}"
            )
        return _lookup(identifier["class_name"]).from_config(identifier["config"] or {})
    if hasattr(identifier, "value_and_grad"):
        return identifier  # a user loss following the same protocol
    raise TypeError(
        f"Could not interpret loss identifier {identifier!r}: expected a name in {names()}, a "
        "Loss instance, a {'class_name', 'config'} dict, or an object with value_and_grad"
    )
