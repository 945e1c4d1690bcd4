"""``BatchNormalization`` and ``LayerNormalization`` with Keras's arguments and semantics.

``BatchNormalization(axis=-1)``: any shape ``(N, ..., C)`` (C on ``axis``), shape unchanged.
Training (``training=True`` and ``trainable``): statistics over every axis but ``axis``,
``x̂ = (x − μ) / √(σ² + ε)``, ``y = γ x̂ + β``, and the moving statistics are updated as Keras does,
``moving = moving · momentum + batch · (1 − momentum)`` (σ² biased, as Keras). PyTorch's
``momentum`` is ``1 − momentum`` here, and PyTorch updates ``running_var`` with the unbiased
variance. Inference: the moving statistics are used. A mask ``(N, T)`` for ``(N, T, C)`` inputs
restricts the training statistics to unmasked steps (Keras 3).
Parameters (PyTorch names): ``weight`` (γ), ``bias`` (β); buffers ``running_mean``,
``running_var``. ``get_weights()`` is Keras's ``[gamma, beta, moving_mean, moving_variance]``
(4·C numbers, 2·C of them non-trainable).

``LayerNormalization(axis=-1)``: statistics over ``axis`` (an int or a list of axes) per sample,
``y = γ x̂ + β`` with ``γ, β`` shaped like those axes (``weight``, ``bias``; Keras
``[gamma, beta]``). Shape unchanged; the mask passes through.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .. import initializers
from .._registry import register
from .base import Layer

Array = np.ndarray


def _resolve_axes(axes: tuple[int, ...], ndim: int, name: str, shape: Any) -> tuple[int, ...]:
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(
                f"{name}: axis {a} is out of range for inputs of rank {ndim} (shape {shape})")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: duplicate axes {list(axes)} for inputs of rank {ndim}")
    return tuple(sorted(out))


class _Layout(NamedTuple):
    axes: tuple[int, ...]        # normalised axes (non-negative, sorted)
    broadcast: tuple[int, ...]   # parameter shape broadcast against the input
    reduce: tuple[int, ...]      # the other axes


class _Norm(Layer):
    """Shared checks: resolved axes, the input rank (fixed for BatchNormalization, as Keras's
    input spec) and the normalised sizes."""

    supports_masking = True
    axes_arg: tuple[int, ...] = (-1,)
    fixed_rank = True
    center: bool  # add the offset β (set by each subclass's constructor)
    scale: bool   # multiply by γ

    def _layout(self, shape: tuple[Any, ...]) -> _Layout:
        axes = _resolve_axes(self.axes_arg, len(shape), self.name, shape)
        return _Layout(axes,
                       tuple(shape[a] if a in axes else 1 for a in range(len(shape))),
                       tuple(a for a in range(len(shape)) if a not in axes))

    def _build_axes(self, input_shape: Any) -> None:
        shape = tuple(input_shape)
        layout = self._layout(shape)
        if any(shape[a] is None for a in layout.axes):
            raise ValueError(
                f"{self.name}: the normalised axes {list(self.axes_arg)} need known sizes, got "
                f"input shape {shape}")
        self.input_rank = len(shape)
        self.param_shape = tuple(int(shape[a]) for a in layout.axes)

    def _check(self, inputs: Any) -> tuple[Array, _Layout]:
        x = np.asarray(inputs)
        self.maybe_build(x.shape)
        if self.fixed_rank and x.ndim != self.input_rank:
            raise ValueError(
                f"{self.name} expected a {self.input_rank}-D input, got shape {x.shape} "
                f"({x.ndim}-D)")
        layout = self._layout(x.shape)
        got = tuple(x.shape[a] for a in layout.axes)
        if got != self.param_shape:
            raise ValueError(
                f"{self.name} expects size(s) {self.param_shape} on axis {list(self.axes_arg)}, "
                f"got shape {x.shape}")
        return x.astype(self.dtype, copy=False), layout

    def _affine(self, xhat: Array, lay: _Layout) -> Array:
        """``y = γ·x̂ + β`` (each part only when ``scale`` / ``center``)."""
        y = xhat * self.params["weight"].reshape(lay.broadcast) if self.scale else xhat.copy()
        if self.center:
            y += self.params["bias"].reshape(lay.broadcast)
        return y

    def _affine_backward(self, dy: Array, xhat: Array, lay: _Layout) -> Array:
        """Add dγ, dβ; return the gradient with respect to ``x̂``."""
        if self.center:
            self.grads["bias"] += self._param_grad(dy, lay)
        if not self.scale:
            return dy
        self.grads["weight"] += self._param_grad(dy * xhat, lay)
        return dy * self.params["weight"].reshape(lay.broadcast)

    def _param_grad(self, a: Array, layout: _Layout) -> Array:
        return a.sum(axis=layout.reduce).reshape(self.param_shape)


@register
class BatchNormalization(_Norm):
    """Normalises over the batch (and every axis but ``axis``) in training, with moving
    statistics at inference; shape unchanged. See the module docstring for the formulas."""

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", moving_mean_initializer: Any = "zeros",
                 moving_variance_initializer: Any = "ones", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"axis must be an integer, got {axis!r}")
        if not 0.0 <= float(momentum) <= 1.0:
            raise ValueError(f"momentum must be in [0, 1], got {momentum!r}")
        if not float(epsilon) > 0:
            raise ValueError(f"epsilon must be positive, got {epsilon!r}")
        self.axis = int(axis)
        self.axes_arg = (self.axis,)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)

    def build(self, input_shape: Any) -> None:
        self._build_axes(input_shape)
        rng = self.layer_rng(0)
        shape = self.param_shape
        if self.scale:
            self.add_param("weight", self.gamma_initializer(shape, rng, self.dtype))
        if self.center:
            self.add_param("bias", self.beta_initializer(shape, rng, self.dtype))
        self.buffers["running_mean"] = self.moving_mean_initializer(shape, rng, self.dtype)
        self.buffers["running_var"] = self.moving_variance_initializer(shape, rng, self.dtype)
        self.built = True

    def _weights(self, x: Array, mask: Any) -> Array | None:
        if mask is None:
            return None
        m = np.asarray(mask)
        if m.shape == x.shape[:-1] and x.ndim >= 2:
            m = m[..., None]
        elif m.shape != x.shape:
            raise ValueError(
                f"{self.name}: mask must have shape {x.shape[:-1]} (or {x.shape}), got {m.shape}")
        return np.broadcast_to(m.astype(self.dtype), x.shape)

    def forward(self, inputs: Any, training: bool = False, mask: Any = None) -> tuple[Any, Any]:
        x, lay = self._check(inputs)
        training = bool(training) and self.trainable
        eps = self.epsilon
        if not training:
            inv = (1.0 / np.sqrt(self.buffers["running_var"] + eps)).reshape(lay.broadcast)
            xhat = (x - self.buffers["running_mean"].reshape(lay.broadcast)) * inv
            return self._affine(xhat, lay), (lay, False, xhat, inv, None, None)
        w = self._weights(x, mask)
        red = lay.reduce
        if w is None:
            mean = x.mean(axis=red, keepdims=True)
            xc = x - mean
            var = (xc * xc).mean(axis=red, keepdims=True)
            count = None
        else:
            count = np.maximum(w.sum(axis=red, keepdims=True), 1).astype(self.dtype)
            mean = (w * x).sum(axis=red, keepdims=True) / count
            xc = x - mean
            var = (w * xc * xc).sum(axis=red, keepdims=True) / count
        inv = 1.0 / np.sqrt(var + eps)
        xhat = xc * inv
        y = self._affine(xhat, lay)
        m = self.momentum
        rm, rv = self.buffers["running_mean"], self.buffers["running_var"]
        rm[...] = rm * m + mean.reshape(self.param_shape) * (1.0 - m)
        rv[...] = rv * m + var.reshape(self.param_shape) * (1.0 - m)
        return y, (lay, True, xhat, inv, w, count)

    def backward(self, d_outputs: Any, cache: Any) -> Any:
        lay, training, xhat, inv, w, count = cache
        g = self._affine_backward(np.asarray(d_outputs, dtype=self.dtype), xhat, lay)
        if not training:
            return g * inv
        red = lay.reduce
        if w is None:
            return inv * (g - g.mean(axis=red, keepdims=True)
                          - xhat * (g * xhat).mean(axis=red, keepdims=True))
        s1 = g.sum(axis=red, keepdims=True) / count
        s2 = (g * xhat).sum(axis=red, keepdims=True) / count
        return inv * (g - w * s1 - w * xhat * s2)


@register
class LayerNormalization(_Norm):
    """Normalises each sample over ``axis`` (int or list): ``y = γ (x − μ)/√(σ² + ε) + β`` with
    ``γ, β`` shaped like the normalised axes. Shape unchanged; the mask passes through. Inputs of
    any rank whose normalised axes have the built sizes are accepted."""

    fixed_rank = False

    def __init__(self, axis: Any = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        axes = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
        if not axes or any(isinstance(a, bool) or not isinstance(a, (int, np.integer))
                           for a in axes):
            raise TypeError(f"axis must be an integer or a list of integers, got {axis!r}")
        if not float(epsilon) > 0:
            raise ValueError(f"epsilon must be positive, got {epsilon!r}")
        self.axis = [int(a) for a in axes] if isinstance(axis, (list, tuple)) else int(axis)
        self.axes_arg = tuple(int(a) for a in axes)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)

    def build(self, input_shape: Any) -> None:
        self._build_axes(input_shape)
        rng = self.layer_rng(0)
        if self.scale:
            self.add_param("weight", self.gamma_initializer(self.param_shape, rng, self.dtype))
        if self.center:
            self.add_param("bias", self.beta_initializer(self.param_shape, rng, self.dtype))
        self.built = True

    def forward(self, inputs: Any, training: bool = False, mask: Any = None) -> tuple[Any, Any]:
        x, lay = self._check(inputs)
        mean = x.mean(axis=lay.axes, keepdims=True)
        xc = x - mean
        var = (xc * xc).mean(axis=lay.axes, keepdims=True)
        inv = 1.0 / np.sqrt(var + self.epsilon)
        xhat = xc * inv
        return self._affine(xhat, lay), (lay, xhat, inv)

    def backward(self, d_outputs: Any, cache: Any) -> Any:
        lay, xhat, inv = cache
        g = self._affine_backward(np.asarray(d_outputs, dtype=self.dtype), xhat, lay)
        return inv * (g - g.mean(axis=lay.axes, keepdims=True)
                      - xhat * (g * xhat).mean(axis=lay.axes, keepdims=True))
