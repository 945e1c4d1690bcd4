"""``TimeDistributed(layer)``: apply one layer to every time step.

``x (N, T, ...) -> (N, T, ...')``: the time axis is folded into the batch, ``(N·T, ...)``, the
inner layer runs once on that batch (one set of weights for every step), and the result is
unfolded. The inner layer is the child ``"layer"``, so its parameters are ``layer.weight``,
``layer.bias``...; ``get_weights()`` is the inner layer's (Keras). The layer's dtype is the inner
layer's. Masks: a ``(N, T)`` mask passes through; a mask with more axes ``(N, T, ...)`` is folded
and given to the inner layer, whose output mask (if any) is unfolded.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._registry import register
from .base import Layer

Array = np.ndarray


def _fold(n: Any, t: Any) -> Any:
    return None if n is None or t is None else int(n) * int(t)


@register
class TimeDistributed(Layer):
    """Applies ``layer`` to every time step: ``(N, T, ...) -> (N, T, ...')``."""

    supports_masking = True

    def __init__(self, layer: Layer, **kwargs: Any) -> None:
        if not isinstance(layer, Layer):
            raise TypeError(f"TimeDistributed expects a Layer, got {layer!r}")
        dtype = kwargs.get("dtype")
        if dtype is not None and np.dtype(dtype).name != layer.dtype:
            raise ValueError(
                f"TimeDistributed runs in its inner layer's dtype {layer.dtype!r}; got "
                f"dtype={dtype!r} (set the dtype on the inner layer)")
        super().__init__(**kwargs)
        self.layer = layer
        self.dtype = layer.dtype
        self.add_child("layer", layer)

    @property
    def rng_calls(self) -> int:
        """The inner layer's call counter, so resetting it (gradient checks, resumes) fixes the
        inner layer's random draws."""
        if "layer" in self.__dict__:
            return self.layer.rng_calls
        return self.__dict__.get("_rng_calls", 0)

    @rng_calls.setter
    def rng_calls(self, value: int) -> None:
        if "layer" in self.__dict__:
            self.layer.rng_calls = value
        else:
            self.__dict__["_rng_calls"] = value

    def _check_shape(self, shape: tuple[Any, ...]) -> None:
        if len(shape) < 3:
            raise ValueError(
                f"{self.name} expected an input of rank >= 3 (batch, timesteps, ...), got shape "
                f"{shape} ({len(shape)}-D)")

    def build(self, input_shape: Any) -> None:
        shape = tuple(input_shape)
        self._check_shape(shape)
        self.layer.maybe_build((_fold(shape[0], shape[1]),) + shape[2:])
        self.built = True

    def validate_inputs(self, inputs: Any) -> Any:
        x = self.layer.validate_inputs(inputs)
        self._check_shape(np.shape(x))
        return x

    def forward(self, inputs: Any, training: bool = False, mask: Any = None) -> tuple[Any, Any]:
        x = np.asarray(inputs)
        self._check_shape(x.shape)
        self.maybe_build(x.shape)
        N, T = x.shape[:2]
        inner_mask = None
        if mask is not None:
            m = np.asarray(mask)
            if m.shape[:2] != (N, T):
                raise ValueError(
                    f"{self.name}: mask must have shape ({N}, {T}, ...), got {m.shape}")
            if m.ndim > 2:
                inner_mask = m.reshape((N * T,) + m.shape[2:])
        folded = x.reshape((N * T,) + x.shape[2:])
        try:
            y, cache = self.layer.forward(folded, training=training, mask=inner_mask)
        except ValueError as err:
            raise ValueError(
                f"{self.name} (input shape {x.shape}, folded to {folded.shape}): {err}") from err
        y = np.asarray(y)
        return y.reshape((N, T) + y.shape[1:]), (cache, N, T)

    def backward(self, d_outputs: Any, cache: Any) -> Any:
        inner, N, T = cache
        g = np.asarray(d_outputs, dtype=self.dtype)
        dx = self.layer.backward(g.reshape((N * T,) + g.shape[2:]), inner)
        if dx is None:
            return None
        dx = np.asarray(dx)
        return dx.reshape((N, T) + dx.shape[1:])

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = tuple(input_shape)
        self._check_shape(shape)
        inner = self.layer.compute_output_shape((_fold(shape[0], shape[1]),) + shape[2:])
        return (shape[0], shape[1]) + tuple(inner)[1:]

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        if inputs is None:  # symbolic: is there an output mask?
            inner = self.layer.compute_mask(None, None)
            return True if (mask or inner is not None) else None
        x = np.asarray(inputs)
        N, T = x.shape[:2]
        m = None if mask is None else np.asarray(mask)
        inner_mask = m.reshape((N * T,) + m.shape[2:]) if m is not None and m.ndim > 2 else None
        out = self.layer.compute_mask(x.reshape((N * T,) + x.shape[2:]), inner_mask)
        if out is not None:
            out = np.asarray(out)
            return out.reshape((N, T) + out.shape[1:])
        if m is None:
            return None
        return m.reshape(N, T, -1).any(axis=-1) if m.ndim > 2 else m

    def get_weights(self) -> list[Array]:
        return self.layer.get_weights()

    def set_weights(self, weights: list[Array]) -> None:
        self.layer.set_weights(weights)
