"""Element-wise activations and their derivatives written in terms of the *output*.

Recurrent cells keep activated values for the backward pass, so each activation ``f`` comes with
``df(y)`` = f'(x) expressed through y = f(x):

| name         | f(x)                          | f'(x) via y = f(x)        |
|--------------|-------------------------------|---------------------------|
| tanh         | tanh(x)                       | 1 - y²                    |
| sigmoid      | 1 / (1 + e^-x) = (1+tanh(x/2))/2 | y (1 - y)              |
| relu         | max(x, 0)                     | 1 if y > 0 else 0         |
| linear       | x                             | 1                         |
| hard_sigmoid | clip(x/6 + 1/2, 0, 1) (Keras 3) | 1/6 if 0 < y < 1 else 0 |

The sigmoid is computed through tanh: no overflow for any input, in float32 or float64.
``softmax`` (last axis, max-shifted) is provided for the Activation layer and losses.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Array = np.ndarray


def tanh(x: Array) -> Array:
    return np.tanh(x)


def sigmoid(x: Array) -> Array:
    y = np.tanh(x * 0.5)
    y += 1.0
    y *= 0.5
    return y


def relu(x: Array) -> Array:
    return np.maximum(x, 0)


def linear(x: Array) -> Array:
    return x


def hard_sigmoid(x: Array) -> Array:
    return np.clip(x * (1.0 / 6.0) + 0.5, 0.0, 1.0).astype(x.dtype, copy=False)


def dtanh(y: Array) -> Array:
    return 1.0 - y * y


def dsigmoid(y: Array) -> Array:
    return y * (1.0 - y)


def drelu(y: Array) -> Array:
    return (y > 0).astype(y.dtype)


def dlinear(y: Array) -> Array:
    return np.ones_like(y)


def dhard_sigmoid(y: Array) -> Array:
    return ((y > 0) & (y < 1)).astype(y.dtype) * (1.0 / 6.0)


def softmax(x: Array, axis: int = -1) -> Array:
    """Numerically stable softmax along ``axis``."""
    z = x - x.max(axis=axis, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=axis, keepdims=True)
    return z


_ACTIVATIONS: dict[str, tuple[Callable[[Array], Array], Callable[[Array], Array]]] = {
    "tanh": (tanh, dtanh),
    "sigmoid": (sigmoid, dsigmoid),
    "relu": (relu, drelu),
    "linear": (linear, dlinear),
    "hard_sigmoid": (hard_sigmoid, dhard_sigmoid),
}


def names() -> list[str]:
    """Names accepted wherever an element-wise activation is asked for."""
    return sorted(_ACTIVATIONS)


def get(name: str | None) -> tuple[Callable[[Array], Array], Callable[[Array], Array]]:
    """``(f, df_from_output)`` for ``name`` (None means linear); unknown names list valid ones."""
    key = "linear" if name is None else name
    if key not in _ACTIVATIONS:
        raise ValueError(f"Unknown activation {name!r}; expected one of {names()}")
    return _ACTIVATIONS[key]
