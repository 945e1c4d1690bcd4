"""Core Keras layers: ``Dense``, ``Activation``, ``Dropout``, ``Flatten``, ``RepeatVector``,
``Reshape``.

Shapes (N batch, T steps, D features, U units):

``Dense(units)``       ``(N, D) -> (N, U)``, and on any rank ``(N, ..., D) -> (N, ..., U)``
                       (applied to the last axis, so ``(N, T, D) -> (N, T, U)`` is
                       time-distributed for free). Stores PyTorch's ``weight (U, D)`` and
                       ``bias (U,)``; ``get_weights()`` gives Keras's
                       ``[kernel (D, U), bias (U,)]``. The mask passes through.
``Activation(name)``   element-wise (or ``softmax`` over the last axis), any shape.
``Dropout(rate)``      inverted dropout in training (kept values scaled by ``1/(1-rate)``); the
                       identity at inference. ``noise_shape`` broadcasts one mask over axes given
                       as 1 (``None`` entries take the input's size).
``Flatten()``          ``(N, d1, d2, ...) -> (N, d1·d2·...)``.
``RepeatVector(n)``    ``(N, D) -> (N, n, D)``.
``Reshape(target)``    ``(N, ...) -> (N, *target)``; one entry of ``target`` may be -1.

Activations are those of ``rnnlab.activations`` plus ``softmax`` (last axis; its backward is the
Jacobian-vector product ``y ⊙ (g − Σ g ⊙ y)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import activations, backend, initializers
from .._registry import register
from ..kernels.products import column_sums, matmul, matmul_add
from .base import Layer

Array = np.ndarray


# -- activations -----------------------------------------------------------------------------------
def activation_names() -> list[str]:
    """Activation names accepted by Dense and Activation."""
    return sorted(set(activations.names()) | {"softmax"})


def _resolve_activation(name: str | None) -> str:
    key = "linear" if name is None else name
    if not isinstance(key, str) or key not in activation_names():
        raise ValueError(f"Unknown activation {name!r}; expected one of {activation_names()}")
    return key


def _act_forward(name: str, z: Array) -> Array:
    if name == "softmax":
        return activations.softmax(z, axis=-1)
    f, _ = activations.get(name)
    return f(z)


def _act_backward(name: str, y: Array, g: Array) -> Array:
    """Gradient with respect to the pre-activation from the output ``y`` and its gradient ``g``."""
    if name == "linear":
        return g
    if name == "softmax":
        return y * (g - np.sum(g * y, axis=-1, keepdims=True))
    _, df = activations.get(name)
    return g * df(y)


def _check_rank_at_least(x: Array, rank: int, name: str, layout: str) -> None:
    if x.ndim < rank:
        raise ValueError(
            f"{name} expected an array of rank >= {rank} {layout}, got shape {x.shape} "
            f"({x.ndim}-D)")


# -- Dense -----------------------------------------------------------------------------------------
@register
class Dense(Layer):
    """Fully connected layer ``y = activation(x · Wᵀ + b)`` on the last axis.

    ``x (N, ..., D) -> y (N, ..., units)``; PyTorch layout inside (``weight (units, D)``,
    ``bias (units,)``), Keras layout from ``get_weights()`` (``[kernel (D, units), bias]``).
    """

    supports_masking = True
    weight_roles = ("kernel", "bias")

    def __init__(self, units: int, activation: str | None = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"units must be a positive integer, got {units!r}")
        self.units = int(units)
        self.activation = _resolve_activation(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.input_dim: int | None = None

    def build(self, input_shape: Any) -> None:
        shape = tuple(input_shape)
        if len(shape) < 2:
            raise ValueError(
                f"{self.name} expected an array of rank >= 2 (batch, ..., features), got shape "
                f"{shape} ({len(shape)}-D)")
        if shape[-1] is None:
            raise ValueError(
                f"{self.name} expects inputs of shape (batch, ..., features) with a known "
                f"feature size, got {shape}")
        dim = int(shape[-1])
        rng = self.layer_rng(0)
        kernel = self.kernel_initializer((dim, self.units), rng, self.dtype)  # Keras layout
        self.add_param("weight", np.array(kernel.T, order="C"))
        if self.use_bias:
            self.add_param("bias", self.bias_initializer((self.units,), rng, self.dtype))
        self.input_dim = dim
        self.built = True

    def _check(self, inputs: Any) -> Array:
        x = np.asarray(inputs)
        _check_rank_at_least(x, 2, self.name, "(batch, ..., features)")
        self.maybe_build(x.shape)
        if x.shape[-1] != self.input_dim:
            raise ValueError(
                f"{self.name} expects {self.input_dim} input features (last axis), got shape "
                f"{x.shape}")
        return x.astype(self.dtype, copy=False)

    def forward(self, inputs: Any, training: bool = False, mask: Any = None) -> tuple[Any, Any]:
        x = self._check(inputs)
        bias = self.params["bias"] if self.use_bias else None
        z = matmul(x.reshape(-1, x.shape[-1]), self.params["weight"].T, bias=bias)
        z = z.reshape(x.shape[:-1] + (-1,))
        y = _act_forward(self.activation, z)
        return y, (x, y)

    def backward(self, d_outputs: Any, cache: Any) -> Any:
        x, _ = cache
        dz2 = self._param_grads(d_outputs, cache)
        return matmul(dz2, self.params["weight"]).reshape(x.shape)

    def backward_params(self, d_outputs: Any, cache: Any) -> None:
        self._param_grads(d_outputs, cache)

    def _param_grads(self, d_outputs: Any, cache: Any) -> Array:
        """Add dW = dzᵀ·x and db = Σ dz; return dz as (rows, units)."""
        x, y = cache
        g = np.asarray(d_outputs, dtype=self.dtype)
        dz = _act_backward(self.activation, y, g)
        dz2 = dz.reshape(-1, self.units)
        matmul_add(dz2.T, x.reshape(-1, x.shape[-1]), self.grads["weight"])
        if self.use_bias:
            self.grads["bias"] += column_sums(dz2)
        return dz2

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tuple(input_shape)[:-1] + (self.units,)

    def get_weights(self) -> list[Array]:
        out = [np.array(self.params["weight"].T, order="C")]  # a copy, also when it is 1-D
        if self.use_bias:
            out.append(self.params["bias"].copy())
        return out

    def set_weights(self, weights: list[Array]) -> None:
        if not self.built:
            raise ValueError(f"{self.name} is not built yet; call it on an input first")
        expected = [(self.input_dim, self.units)] + ([(self.units,)] if self.use_bias else [])
        if len(weights) != len(expected):
            raise ValueError(
                f"{self.name}: expected {len(expected)} weight arrays with shapes {expected} "
                f"(kernel, bias), got {len(weights)}")
        for i, (w, shape) in enumerate(zip(weights, expected, strict=True)):
            if np.shape(w) != shape:
                raise ValueError(
                    f"{self.name}: weight {i} expected shape {shape}, got {np.shape(w)}")
        self.params["weight"][...] = np.asarray(weights[0]).T
        if self.use_bias:
            self.params["bias"][...] = weights[1]


# -- Activation ------------------------------------------------------------------------------------
@register
class Activation(Layer):
    """Applies an activation: element-wise, or ``softmax`` over the last axis. Any shape."""

    supports_masking = True

    def __init__(self, activation: str | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = _resolve_activation(activation)

    def forward(self, inputs: Any, training: bool = False, mask: Any = None) -> tuple[Any, Any]:
        x = np.asarray(inputs, dtype=self.dtype)
        y = _act_forward(self.activation, x)
        return y, y

    def backward(self, d_outputs: Any, cache: Any) -> Any:
        return _act_backward(self.activation, cache, np.asarray(d_outputs, dtype=self.dtype))


# -- Dropout ---------------------------------------------------------------------------------------
@register
class Dropout(Layer):
    """Inverted dropout: in training each value is zeroed with probability ``rate`` and the kept
    ones are scaled by ``1/(1-rate)``; at inference the identity. Shape unchanged.

    ``noise_shape`` (without or with the batch axis, as Keras: a tuple of the input's rank) gives
    the mask's shape; entries 1 share the mask along that axis, ``None`` takes the input's size.
    Masks come from ``self.draw_rng()`` (layer seed and call counter).
    """

    supports_masking = True

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float, np.floating)) or not (
                0.0 <= float(rate) <= 1.0):
            raise ValueError(f"rate must be a number in [0, 1], got {rate!r}")
        self.rate = float(rate)
        self.noise_shape = tuple(noise_shape) if noise_shape is not None else None

    def _mask_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        if self.noise_shape is None:
            return shape
        if len(self.noise_shape) != len(shape):
            raise ValueError(
                f"{self.name}: noise_shape {self.noise_shape} must have the input's rank "
                f"{len(shape)}, got input shape {shape}")
        out = []
        for n, s in zip(self.noise_shape, shape, strict=True):
            if n is None:
                out.append(s)
            elif n in (1, s):
                out.append(int(n))
            else:
                raise ValueError(
                    f"{self.name}: noise_shape {self.noise_shape} does not broadcast to the "
                    f"input shape {shape}")
        return tuple(out)

    def forward(self, inputs: Any, training: bool = False, mask: Any = None) -> tuple[Any, Any]:
        x = np.asarray(inputs, dtype=self.dtype)
        if not training or self.rate == 0.0:
            return x, None
        rng = self.draw_rng()
        shape = self._mask_shape(x.shape)
        if self.rate >= 1.0:
            keep = np.zeros(shape, dtype=self.dtype)
        else:
            keep = ((rng.random(shape) >= self.rate) / (1.0 - self.rate)).astype(self.dtype)
        return x * keep, keep

    def backward(self, d_outputs: Any, cache: Any) -> Any:
        g = np.asarray(d_outputs, dtype=self.dtype)
        return g if cache is None else g * cache


# -- shape layers ----------------------------------------------------------------------------------
@register
class Flatten(Layer):
    """``(N, d1, d2, ...) -> (N, d1·d2·...)``; ``(N,) -> (N, 1)``. With
    ``data_format="channels_first"`` the channel axis 1 is moved last before flattening."""

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError(
                f"data_format must be 'channels_last' or 'channels_first', got {data_format!r}")
        self.data_format = data_format or "channels_last"

    def forward(self, inputs: Any, training: bool = False, mask: Any = None) -> tuple[Any, Any]:
        x = np.asarray(inputs, dtype=self.dtype)
        _check_rank_at_least(x, 1, self.name, "(batch, ...)")
        moved = self.data_format == "channels_first" and x.ndim > 2
        if moved:
            x = np.moveaxis(x, 1, -1)
        return x.reshape(x.shape[0], -1), (x.shape, moved)

    def backward(self, d_outputs: Any, cache: Any) -> Any:
        shape, moved = cache
        d = np.asarray(d_outputs, dtype=self.dtype).reshape(shape)
        return np.moveaxis(d, -1, 1) if moved else d

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = tuple(input_shape)
        rest = shape[1:]
        size = None if any(s is None for s in rest) else int(np.prod(rest, dtype=np.int64))
        return (shape[0], size)


@register
class RepeatVector(Layer):
    """Repeats a vector ``n`` times: ``(N, D) -> (N, n, D)``."""

    def __init__(self, n: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n <= 0:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        self.n = int(n)

    def forward(self, inputs: Any, training: bool = False, mask: Any = None) -> tuple[Any, Any]:
        x = np.asarray(inputs, dtype=self.dtype)
        backend.check_rank(x, 2, self.name, "(batch, features)")
        return np.repeat(x[:, None, :], self.n, axis=1), None

    def backward(self, d_outputs: Any, cache: Any) -> Any:
        return np.asarray(d_outputs, dtype=self.dtype).sum(axis=1)

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = tuple(input_shape)
        if len(shape) != 2:
            raise ValueError(
                f"{self.name} expected a 2-D input (batch, features), got shape {shape}")
        return (shape[0], self.n, shape[1])


@register
class Reshape(Layer):
    """``(N, ...) -> (N, *target_shape)``; one entry of ``target_shape`` may be -1 (inferred).
    The number of values per sample must be unchanged."""

    def __init__(self, target_shape: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        target = tuple(int(s) for s in target_shape)
        if sum(s == -1 for s in target) > 1 or any(s == 0 or s < -1 for s in target):
            raise ValueError(
                f"target_shape must be positive sizes with at most one -1, got {target_shape!r}")
        self.target_shape = target

    def _resolve(self, input_shape: tuple[Any, ...]) -> tuple[Any, ...]:
        rest = input_shape[1:]
        if any(s is None for s in rest):
            return tuple(None if s == -1 else s for s in self.target_shape)
        size = int(np.prod(rest, dtype=np.int64))
        known = int(np.prod([s for s in self.target_shape if s != -1], dtype=np.int64))
        if -1 in self.target_shape:
            if known == 0 or size % known:
                raise ValueError(
                    f"{self.name}: cannot reshape input of shape {input_shape} to target_shape "
                    f"{self.target_shape}: {size} values per sample are not divisible by {known}")
            return tuple(size // known if s == -1 else s for s in self.target_shape)
        if known != size:
            raise ValueError(
                f"{self.name}: cannot reshape input of shape {input_shape} to target_shape "
                f"{self.target_shape}: expected {known} values per sample, got {size}")
        return self.target_shape

    def forward(self, inputs: Any, training: bool = False, mask: Any = None) -> tuple[Any, Any]:
        x = np.asarray(inputs, dtype=self.dtype)
        _check_rank_at_least(x, 1, self.name, "(batch, ...)")
        target = self._resolve(x.shape)
        return x.reshape((x.shape[0],) + target), x.shape

    def backward(self, d_outputs: Any, cache: Any) -> Any:
        return np.asarray(d_outputs, dtype=self.dtype).reshape(cache)

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = tuple(input_shape)
        return (shape[0],) + self._resolve(shape)
