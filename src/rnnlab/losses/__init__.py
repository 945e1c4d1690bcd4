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

``SparseCategoricalCrossentropy(from_logits=True)`` runs compiled on the compiled engine
(``rnnlab.losses.compiled``: the same equations one row at a time, rows over the engine's
threads; 1e-12 from this NumPy reference in float64), and as written here under
``rnnlab.engine("reference")`` or without numba.

Shapes: ``y_true`` must have ``y_pred``'s shape, except that a trailing size-1 axis may be absent
from either (``(N,)`` labels for ``(N, 1)`` outputs, ``(N, T)`` for ``(N, T, 1)``); sparse labels
have shape ``y_pred.shape[:-1]`` (or with a trailing 1). A 1-D ``y_pred`` of an element-wise loss
is one value per sample. Values and gradients have ``y_pred``'s float dtype.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._registry import spec_parts
from .base import EPSILON, Loss
from .crossentropy import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
)
from .functions import (
    binary_crossentropy,
    categorical_crossentropy,
    mae,
    mean_absolute_error,
    mean_squared_error,
    mse,
    sparse_categorical_crossentropy,
)
from .regression import MeanAbsoluteError, MeanSquaredError

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
        class_name, config = spec_parts(identifier, "a loss")
        return _lookup(class_name).from_config(config)
    if hasattr(identifier, "value_and_grad"):
        return identifier  # a user loss following the same protocol
    raise TypeError(
        f"Could not interpret loss identifier {identifier!r}: expected a name in {names()}, a "
        "Loss instance, a {'class_name', 'config'} dict, or an object with value_and_grad"
    )
