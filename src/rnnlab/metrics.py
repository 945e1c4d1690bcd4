"""Keras-style stateful metrics: ``update_state`` / ``result`` / ``reset_state``.

Mean-based metrics (accuracies, MAE, MSE, RMSE, and ``Mean`` itself) follow Keras 3's
``MeanMetricWrapper`` / ``Mean`` (``keras/src/metrics/reduction_metrics.py``) exactly:

* the metric function gives one value per position, shape ``y_pred.shape[:-1]`` (``(N,)`` or
  ``(N, T)``);
* a ``mask`` is merged into ``sample_weight`` (multiplied, no rescaling: Keras ``apply_mask``
  with ``reduction="sum"``); ``(N,)`` weights apply to every timestep;
* values are reduced to one number per sample (mean over the non-batch axes, weights likewise)
  and ``total += sum(value * weight)``, ``count += sum(weight)`` (``count += N`` without weights);
* ``result() = total / count`` (0.0 before any update).

So within a batch of fixed length the masked accuracy is the fraction of unmasked positions that
are right. ``Perplexity`` is ``exp(sum(ce * w) / sum(w))`` over all tokens seen (a token mean, not
a mean of per-batch means as keras_hub's Perplexity keeps). Results are Python floats; state is
accumulated in float64.

``get("accuracy", loss=..., output_shape=...)`` picks the accuracy the loss implies:
binary_crossentropy or one output unit -> BinaryAccuracy, categorical_crossentropy ->
CategoricalAccuracy, sparse_categorical_crossentropy -> SparseCategoricalAccuracy; when neither
decides, Keras 3's rule on the first batch's shapes is used (``y_pred.shape[-1] == 1`` -> binary;
``y_true`` of lower rank or with a trailing 1 -> sparse; else categorical). The metric's ``name``
is the string the user passed (Keras logs ``metrics=["accuracy"]`` under ``"accuracy"``).
``get("perplexity", loss=...)`` takes ``from_logits`` and sparse/one-hot labels from a
cross-entropy loss.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from . import losses as _losses
from ._registry import register, spec_parts

__all__ = [
    "Metric",
    "Mean",
    "MeanMetricWrapper",
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "RootMeanSquaredError",
    "Perplexity",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "get",
    "names",
]

Array = np.ndarray


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _numeric(x: Any, what: str) -> Array:
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{what} must be numeric, got an array of dtype {arr.dtype}")
    return arr


def _expand_to(w: Array, ndim: int) -> Array:
    """Add trailing axes so ``(N,)`` lines up with ``(N, T)``; drop one extra trailing 1."""
    if w.ndim == ndim + 1 and w.shape[-1] == 1:
        return w[..., 0]
    if w.ndim < ndim:
        return w.reshape(w.shape + (1,) * (ndim - w.ndim))
    return w


def _merge_mask(sample_weight: Any, mask: Any) -> Array | None:
    """Keras ``apply_mask(sample_weight, mask, reduction="sum")``: their product."""
    if mask is None:
        return None if sample_weight is None else _numeric(sample_weight, "sample_weight")
    m = _numeric(mask, "mask").astype(np.float64)
    if sample_weight is None:
        return m
    w = _numeric(sample_weight, "sample_weight").astype(np.float64)
    nd = max(m.ndim, w.ndim)
    m, w = _expand_to(m, nd), _expand_to(w, nd)
    try:
        return m * w
    except ValueError:
        raise ValueError(
            f"mask of shape {np.shape(mask)} and sample_weight of shape "
            f"{np.shape(sample_weight)} do not broadcast together"
        ) from None


def _align_labels(y_true: Array, y_pred: Array, label: str) -> tuple[Array, Array]:
    """Same shapes, allowing a trailing size-1 axis missing from either (kept on y_pred)."""
    if y_true.shape == y_pred.shape:
        return y_true, y_pred
    if (
        y_true.ndim == y_pred.ndim - 1
        and y_pred.shape[-1] == 1
        and y_true.shape == y_pred.shape[:-1]
    ):
        return y_true[..., None], y_pred
    if (
        y_true.ndim == y_pred.ndim + 1
        and y_true.shape[-1] == 1
        and y_true.shape[:-1] == y_pred.shape
    ):
        return y_true[..., 0], y_pred
    raise ValueError(
        f"{label}: y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}; "
        "expected the same shape (a trailing size-1 axis may be left out of either)"
    )


def _per_position(values: Array, y_pred: Array) -> Array:
    """Mean over the last axis, except for a 1-D y_pred (already one value per sample)."""
    return values if y_pred.ndim <= 1 else np.mean(values, axis=-1)


# ---------------------------------------------------------------------------------------------
# metric functions (per-position values, like keras.metrics.binary_accuracy etc.)
# ---------------------------------------------------------------------------------------------
def accuracy(y_true: Any, y_pred: Any) -> Array:
    """How often ``y_pred == y_true`` exactly, per position (mean over the last axis)."""
    yt = _numeric(y_true, "y_true")
    yp = _numeric(y_pred, "y_pred")
    yt, yp = _align_labels(yt, yp, "accuracy")
    return _per_position((yt == yp).astype(np.float64), yp)


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> Array:
    """How often ``(y_pred > threshold) == y_true``, per position (mean over the last axis)."""
    yt = _numeric(y_true, "y_true")
    yp = _numeric(y_pred, "y_pred")
    yt, yp = _align_labels(yt, yp, "binary_accuracy")
    return _per_position((yt == (yp > threshold)).astype(np.float64), yp)


def categorical_accuracy(y_true: Any, y_pred: Any) -> Array:
    """``argmax(y_true) == argmax(y_pred)`` per position; y_true one-hot (same shape)."""
    yt = _numeric(y_true, "y_true")
    yp = _numeric(y_pred, "y_pred")
    if yt.shape != yp.shape or yp.ndim == 0:
        hint = ""
        if yt.shape == yp.shape[:-1] or yt.shape == yp.shape[:-1] + (1,):
            hint = " (these look like integer class ids: use sparse_categorical_accuracy)"
        raise ValueError(
            f"categorical_accuracy: y_true has shape {yt.shape} but y_pred has shape {yp.shape}; "
            f"expected one-hot y_true with the same shape as y_pred (..., num_classes){hint}"
        )
    return (np.argmax(yt, axis=-1) == np.argmax(yp, axis=-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> Array:
    """``y_true == argmax(y_pred)`` per position; y_true integer ids of shape
    ``y_pred.shape[:-1]`` (or with a trailing 1)."""
    yt = _numeric(y_true, "y_true")
    yp = _numeric(y_pred, "y_pred")
    if yp.ndim == 0:
        raise ValueError("sparse_categorical_accuracy: y_pred must have a class axis")
    expected = yp.shape[:-1]
    if yt.shape == expected + (1,):
        yt = yt[..., 0]
    if yt.shape != expected:
        hint = ""
        if yt.shape == yp.shape and yp.shape[-1] > 1:
            hint = " (these look one-hot: use categorical_accuracy)"
        raise ValueError(
            f"sparse_categorical_accuracy: y_true has shape {np.shape(y_true)} but y_pred has "
            f"shape {yp.shape}; expected integer class ids of shape {expected} "
            f"(or {expected + (1,)}){hint}"
        )
    return (yt == np.argmax(yp, axis=-1)).astype(np.float64)


def _in_top_k(labels: Array, scores: Array, k: int) -> Array:
    """Whether each label's score is among the ``k`` largest of its row (ties count, as
    Keras's ``ops.in_top_k``): ``scores[label] >= k-th largest score``."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    c = scores.shape[-1]
    if labels.size and (labels.min() < 0 or labels.max() >= c):
        raise ValueError(f"top-k accuracy: labels must be in [0, {c}), got values in "
                         f"[{labels.min()}, {labels.max()}]")
    kth = np.sort(scores, axis=-1)[:, max(c - k, 0)]
    return np.take_along_axis(scores, labels[:, None], axis=-1)[:, 0] >= kth


def sparse_top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> Array:
    """Whether the integer label is among the ``k`` highest predictions, per position
    (``keras.metrics.sparse_top_k_categorical_accuracy``)."""
    yt = _numeric(y_true, "y_true")
    yp = _numeric(y_pred, "y_pred")
    if yp.ndim < 2:
        raise ValueError(f"sparse_top_k_categorical_accuracy: y_pred must have a class axis, "
                         f"got shape {yp.shape}")
    hits = _in_top_k(np.rint(yt).astype(np.int64).reshape(-1), yp.reshape(-1, yp.shape[-1]), k)
    return hits.astype(np.float64).reshape(yt.shape if yt.ndim > 1 else (-1,))


def top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> Array:
    """Whether the one-hot target's class is among the ``k`` highest predictions
    (``keras.metrics.top_k_categorical_accuracy``)."""
    yt = _numeric(y_true, "y_true")
    yp = _numeric(y_pred, "y_pred")
    if yt.shape != yp.shape or yp.ndim < 2:
        raise ValueError(f"top_k_categorical_accuracy: y_true has shape {yt.shape} but y_pred "
                         f"has shape {yp.shape}; expected one-hot y_true of the same shape")
    labels = np.argmax(yt, axis=-1)
    hits = _in_top_k(labels.reshape(-1), yp.reshape(-1, yp.shape[-1]), k)
    return hits.astype(np.float64).reshape(labels.shape)

# ---------------------------------------------------------------------------------------------
# base classes
# ---------------------------------------------------------------------------------------------
class Metric:
    """Base class: ``update_state(y_true, y_pred, sample_weight=None, mask=None)``,
    ``result() -> float``, ``reset_state()``, ``name``; ``m(y_true, y_pred)`` updates and
    returns the result."""

    default_name = "metric"
    #: "up" if larger is better (accuracies), "down" otherwise
    direction = "down"

    def __init__(self, name: str | None = None) -> None:
        self.name = name if name is not None else self.default_name
        self.reset_state()

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    def result(self) -> float:
        raise NotImplementedError

    def reset_state(self) -> None:
        raise NotImplementedError

    def __call__(self, *args: Any, **kwargs: Any) -> float:
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Metric:
        return cls(**dict(config))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


@register
class Mean(Metric):
    """Weighted running mean of ``values``: ``update_state(values, sample_weight=None,
    mask=None)``; Keras ``metrics.Mean`` (used to track the loss: pass the batch size as
    ``sample_weight`` to average per sample over batches of different sizes)."""

    default_name = "mean"

    def reset_state(self) -> None:
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values: Any, sample_weight: Any = None, mask: Any = None) -> None:
        v = _numeric(values, "values").astype(np.float64)
        w = _merge_mask(sample_weight, mask)
        if w is not None:
            w = np.asarray(w, dtype=np.float64)
            # Keras squeeze_or_expand_to_same_rank + reduce to the weight's rank
            if w.ndim == v.ndim + 1 and w.shape[-1] == 1:
                if v.ndim == 1:
                    v = v[:, None]
                else:
                    w = w[..., 0]
            elif v.ndim == w.ndim + 1 and v.shape[-1] == 1:
                if w.ndim == 1:
                    w = w[:, None]
                else:
                    v = v[..., 0]
            if w.ndim > v.ndim:
                raise ValueError(
                    f"{self.name}: sample_weight/mask of shape {w.shape} has more axes than the "
                    f"values of shape {v.shape}"
                )
            if v.ndim > w.ndim:
                v = np.mean(v, axis=tuple(range(w.ndim, v.ndim)))
            try:
                w = np.broadcast_to(w, v.shape)
            except ValueError:
                raise ValueError(
                    f"{self.name}: sample_weight/mask of shape {w.shape} does not fit values of "
                    f"shape {v.shape}"
                ) from None
            v = v * w
            if w.ndim > 1:
                w = np.mean(w, axis=tuple(range(1, w.ndim)))
        if v.ndim > 1:
            v = np.mean(v, axis=tuple(range(1, v.ndim)))
        self.total += float(np.sum(v))
        if w is not None:
            self.count += float(np.sum(w))
        else:
            self.count += float(v.shape[0]) if v.ndim >= 1 else 1.0

    def result(self) -> float:
        return self.total / self.count if self.count != 0 else 0.0


class MeanMetricWrapper(Mean):
    """``Mean`` of a per-position function ``fn(y_true, y_pred, **kwargs)``."""

    def __init__(self, fn: Callable[..., Array], name: str | None = None, **kwargs: Any):
        self._fn = fn
        self._fn_kwargs = kwargs
        super().__init__(name=name if name is not None else getattr(fn, "__name__", None))

    def update_state(  # type: ignore[override]
        self, y_true: Any, y_pred: Any, sample_weight: Any = None, mask: Any = None
    ) -> None:
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        super().update_state(values, sample_weight=sample_weight, mask=mask)


# ---------------------------------------------------------------------------------------------
# the metrics
# ---------------------------------------------------------------------------------------------
@register
class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly (``keras.metrics.Accuracy``)."""

    default_name = "accuracy"
    direction = "up"

    def __init__(self, name: str | None = None) -> None:
        super().__init__(accuracy, name=name if name is not None else self.default_name)


@register
class BinaryAccuracy(MeanMetricWrapper):
    """How often ``(y_pred > threshold) == y_true`` (``keras.metrics.BinaryAccuracy``; use
    ``threshold=0`` for logits)."""

    default_name = "binary_accuracy"
    direction = "up"

    def __init__(self, name: str | None = None, threshold: float = 0.5) -> None:
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.number)):
            raise ValueError(f"threshold must be a number, got {threshold!r}")
        self.threshold = float(threshold)
        super().__init__(
            binary_accuracy,
            name=name if name is not None else self.default_name,
            threshold=self.threshold,
        )

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "threshold": self.threshold}


@register
class CategoricalAccuracy(MeanMetricWrapper):
    """``argmax(y_true) == argmax(y_pred)`` (``keras.metrics.CategoricalAccuracy``)."""

    default_name = "categorical_accuracy"
    direction = "up"

    def __init__(self, name: str | None = None) -> None:
        super().__init__(categorical_accuracy, name=name if name is not None else self.default_name)


@register
class SparseCategoricalAccuracy(MeanMetricWrapper):
    """``y_true == argmax(y_pred)`` (``keras.metrics.SparseCategoricalAccuracy``)."""

    default_name = "sparse_categorical_accuracy"
    direction = "up"

    def __init__(self, name: str | None = None) -> None:
        super().__init__(
            sparse_categorical_accuracy, name=name if name is not None else self.default_name
        )


@register
class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """``keras.metrics.SparseTopKCategoricalAccuracy(k=5)``."""

    default_name = "sparse_top_k_categorical_accuracy"
    direction = "up"

    def __init__(self, k: int = 5, name: str | None = None) -> None:
        self.k = int(k)
        super().__init__(sparse_top_k_categorical_accuracy,
                         name=name if name is not None else self.default_name, k=self.k)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "k": self.k}


@register
class TopKCategoricalAccuracy(MeanMetricWrapper):
    """``keras.metrics.TopKCategoricalAccuracy(k=5)``."""

    default_name = "top_k_categorical_accuracy"
    direction = "up"

    def __init__(self, k: int = 5, name: str | None = None) -> None:
        self.k = int(k)
        super().__init__(top_k_categorical_accuracy,
                         name=name if name is not None else self.default_name, k=self.k)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "k": self.k}


# NOTE: the two classes below share their names with the losses of the same name, so they are
# deliberately NOT put in the global registry (which is keyed by class name); ``get`` resolves
# {"class_name": "MeanSquaredError", ...} dicts to these metric classes by itself.
class MeanAbsoluteError(MeanMetricWrapper):
    """Mean of ``mean(|y_pred - y_true|, -1)`` (``keras.metrics.MeanAbsoluteError``)."""

    default_name = "mean_absolute_error"

    def __init__(self, name: str | None = None) -> None:
        super().__init__(
            _losses.mean_absolute_error, name=name if name is not None else self.default_name
        )


class MeanSquaredError(MeanMetricWrapper):
    """Mean of ``mean((y_pred - y_true)², -1)`` (``keras.metrics.MeanSquaredError``)."""

    default_name = "mean_squared_error"

    def __init__(self, name: str | None = None) -> None:
        super().__init__(
            _losses.mean_squared_error, name=name if name is not None else self.default_name
        )


@register
class RootMeanSquaredError(Mean):
    """``sqrt`` of the running mean of the element-wise squared error
    (``keras.metrics.RootMeanSquaredError``)."""

    default_name = "root_mean_squared_error"

    def update_state(  # type: ignore[override]
        self, y_true: Any, y_pred: Any, sample_weight: Any = None, mask: Any = None
    ) -> None:
        yt = _numeric(y_true, "y_true").astype(np.float64)
        yp = _numeric(y_pred, "y_pred").astype(np.float64)
        yt, yp = _align_labels(yt, yp, self.name)
        super().update_state(np.square(yp - yt), sample_weight=sample_weight, mask=mask)

    def result(self) -> float:
        return math.sqrt(super().result())


@register
class Perplexity(Metric):
    """``exp`` of the mean token cross-entropy over every (unmasked, weighted) token seen.

    ``sparse=True``: ``y_true`` integer ids ``(N, T)`` for ``y_pred`` ``(N, T, V)``;
    ``sparse=False``: one-hot ``y_true``. ``from_logits`` as for the losses (probabilities are
    normalised and clipped to [1e-7, 1 - 1e-7] like Keras). Tokens equal to ``mask_token_id``
    (sparse only) are left out. 0.0 before any update (keras_hub).
    """

    default_name = "perplexity"

    def __init__(
        self,
        from_logits: bool = False,
        sparse: bool = True,
        mask_token_id: int | None = None,
        name: str | None = None,
    ) -> None:
        self.from_logits = bool(from_logits)
        self.sparse = bool(sparse)
        if mask_token_id is not None and not sparse:
            raise ValueError("mask_token_id needs sparse=True (integer token ids)")
        self.mask_token_id = None if mask_token_id is None else int(mask_token_id)
        if self.sparse:
            self._loss: _losses.Loss = _losses.SparseCategoricalCrossentropy(
                from_logits=self.from_logits, ignore_class=self.mask_token_id, reduction="none"
            )
        else:
            self._loss = _losses.CategoricalCrossentropy(
                from_logits=self.from_logits, reduction="none"
            )
        super().__init__(name=name)

    def reset_state(self) -> None:
        self.total = 0.0
        self.count = 0.0

    def update_state(
        self, y_true: Any, y_pred: Any, sample_weight: Any = None, mask: Any = None
    ) -> None:
        yp = np.asarray(y_pred)
        if yp.dtype.kind != "f":
            yp = yp.astype(np.float64)
        w = _merge_mask(sample_weight, mask)
        # labels are validated only where the weight is non-zero
        ce = self._loss.call(y_true, yp, mask=w).astype(np.float64)
        w = np.ones(ce.shape) if w is None else _expand_to(np.asarray(w, dtype=np.float64), ce.ndim)
        try:
            w = np.broadcast_to(w, ce.shape)
        except ValueError:
            raise ValueError(
                f"{self.name}: sample_weight/mask of shape {w.shape} does not fit the token "
                f"losses of shape {ce.shape}"
            ) from None
        if self.mask_token_id is not None:
            labels = np.asarray(y_true).reshape(ce.shape)
            w = w * (labels != self.mask_token_id)
        self.total += float(np.sum(ce * w))
        self.count += float(np.sum(w))

    def result(self) -> float:
        if self.count == 0:
            return 0.0
        return math.exp(self.total / self.count)

    def get_config(self) -> dict[str, Any]:
        return {
            "from_logits": self.from_logits,
            "sparse": self.sparse,
            "mask_token_id": self.mask_token_id,
            "name": self.name,
        }


@register
class _AutoAccuracy(MeanMetricWrapper):
    """ "accuracy" whose kind is fixed on the first batch by Keras 3's shape rule
    (``compile_utils.is_binary_or_sparse_categorical``)."""

    direction = "up"

    def __init__(self, name: str = "accuracy") -> None:
        self.kind: str | None = None
        super().__init__(self._dispatch, name=name)

    def _dispatch(self, y_true: Any, y_pred: Any) -> Array:
        if self.kind is None:
            yt_shape, yp_shape = np.shape(y_true), np.shape(y_pred)
            yt_last = yt_shape[-1] if yt_shape else 1
            yp_last = yp_shape[-1] if yp_shape else 1
            if yp_last == 1:
                self.kind = "binary"
            elif len(yt_shape) < len(yp_shape) or (yt_last == 1 and yp_last > 1):
                self.kind = "sparse"
            else:
                self.kind = "categorical"
        fn = {
            "binary": binary_accuracy,
            "sparse": sparse_categorical_accuracy,
            "categorical": categorical_accuracy,
        }[self.kind]
        return fn(y_true, y_pred)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}


# ---------------------------------------------------------------------------------------------
# lookup
# ---------------------------------------------------------------------------------------------
_CLASSES: dict[str, type[Metric]] = {
    cls.__name__: cls
    for cls in (
        Mean,
        Accuracy,
        BinaryAccuracy,
        CategoricalAccuracy,
        SparseCategoricalAccuracy,
        SparseTopKCategoricalAccuracy,
        TopKCategoricalAccuracy,
        MeanAbsoluteError,
        MeanSquaredError,
        RootMeanSquaredError,
        Perplexity,
        _AutoAccuracy,
    )
}

_ALIASES: dict[str, type[Metric]] = {
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "root_mean_squared_error": RootMeanSquaredError,
    "rmse": RootMeanSquaredError,
    "perplexity": Perplexity,
    "mean": Mean,
}

_ACCURACY_NAMES = ("accuracy", "acc")


def _key(name: str) -> str:
    return name.lower().replace("_", "")


_LOOKUP: dict[str, type[Metric]] = {_key(n): c for n, c in _ALIASES.items()}
_LOOKUP.update({_key(n): c for n, c in _CLASSES.items() if n not in ("Accuracy", "_AutoAccuracy")})


def names() -> list[str]:
    """Metric names ``get`` accepts (case-insensitive; class names work too)."""
    return sorted([*_ALIASES, *_ACCURACY_NAMES])


def _loss_object(loss: Any) -> Any:
    if loss is None:
        return None
    try:
        return _losses.get(loss)
    except (ValueError, TypeError):
        return None


def _accuracy_for(name: str, loss: Any, output_shape: Any) -> Metric:
    loss_obj = _loss_object(loss)
    if isinstance(loss_obj, _losses.BinaryCrossentropy):
        threshold = 0.0 if loss_obj.from_logits else 0.5
        return BinaryAccuracy(name=name, threshold=threshold)
    if isinstance(loss_obj, _losses.SparseCategoricalCrossentropy):
        return SparseCategoricalAccuracy(name=name)
    if isinstance(loss_obj, _losses.CategoricalCrossentropy):
        return CategoricalAccuracy(name=name)
    if output_shape is not None and len(tuple(output_shape)) and tuple(output_shape)[-1] == 1:
        return BinaryAccuracy(name=name)
    return _AutoAccuracy(name=name)


def get(identifier: Any, loss: Any = None, output_shape: Any = None) -> Metric:
    """A metric from a name (``"accuracy"``/``"acc"`` resolved from ``loss`` / ``output_shape``,
    ``"mae"``, ``"mse"``, ``"categorical_accuracy"``, ``"perplexity"``, class names...;
    case-insensitive), an instance (returned as is), a Loss instance (its mean, as Keras) or a
    ``{"class_name", "config"}`` dict. A metric made from a string is named by that string."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, _losses.Loss):
        # a loss used as a metric (Keras wraps it in MeanMetricWrapper)
        if type(identifier) is _losses.MeanSquaredError:
            return MeanSquaredError(name=identifier.name)
        if type(identifier) is _losses.MeanAbsoluteError:
            return MeanAbsoluteError(name=identifier.name)
        return MeanMetricWrapper(identifier.call, name=identifier.name)
    if isinstance(identifier, str):
        if identifier.lower() in _ACCURACY_NAMES:
            return _accuracy_for(identifier, loss, output_shape)
        cls = _LOOKUP.get(_key(identifier))
        if cls is None:
            raise ValueError(f"Unknown metric {identifier!r}. Valid names: {names()}")
        if cls is Perplexity:
            # logits or probabilities, sparse or one-hot: as the cross-entropy loss says
            loss_obj = _loss_object(loss)
            if isinstance(loss_obj, _losses.SparseCategoricalCrossentropy):
                return Perplexity(from_logits=loss_obj.from_logits, sparse=True, name=identifier)
            if isinstance(loss_obj, _losses.CategoricalCrossentropy):
                return Perplexity(from_logits=loss_obj.from_logits, sparse=False, name=identifier)
        return cls(name=identifier)
    if isinstance(identifier, Mapping):
        cls_name, config = spec_parts(identifier, "a metric")
        cls = _CLASSES.get(cls_name) or _LOOKUP.get(_key(cls_name))
        if cls is None:
            raise ValueError(
                f"Unknown metric class {cls_name!r}. Valid classes: {sorted(_CLASSES)}"
            )
        return cls.from_config(config)
    raise TypeError(
        f"Could not interpret metric identifier {identifier!r}: expected a name in {names()}, "
        "a Metric instance or a {'class_name', 'config'} dict"
    )
