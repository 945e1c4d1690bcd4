"""The loss interface: ``Loss`` (shape checks, sample weights, masks, Keras 3 reductions,
``value_and_grad``), element-wise losses, and the shared numerics (log-softmax, clipping)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import backend

Array = np.ndarray

#: ``keras.backend.epsilon()``: the clip applied to probabilities.
EPSILON = 1e-7

_Prepared = tuple[np.ndarray, np.ndarray, tuple[int, ...], "np.ndarray | None"]

_REDUCTIONS = ("sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none", None)


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
