"""Windowed pooling over time: ``MaxPooling1D`` and ``AveragePooling1D``, as Keras's.

``x (N, T, C) -> (N, T_out, C)`` (``data_format="channels_first"``: ``(N, C, T)`` ->
``(N, C, T_out)``): window ``i`` covers steps ``i·s .. i·s + p − 1`` of the (padded) input, with
``p = pool_size`` and ``s = strides`` (default ``pool_size``). ``padding="valid"``: no padding,
``T_out = ⌊(T − p) / s⌋ + 1``; ``"same"``: ``T_out = ⌈T / s⌉``, padded as ``Conv1D`` pads, and
padded positions never count: the maximum ignores them and the average divides by the number of
real steps in the window (TensorFlow's, JAX's and NumPy's Keras backends; Keras on torch instead
repeats the edge step when the padding is uneven, so its averages differ there).

Backward: the maximum sends the gradient to the first largest step of each window (ties
broken as ``argmax``); the average spreads it equally over the window's real steps. Like Keras,
these layers drop a mask.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend
from .._registry import register
from .base import Layer
from .convolutional import _data_format, _positive_int, output_length, same_padding

Array = np.ndarray


class _Pooling1D(Layer):
    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pool_size = _positive_int(pool_size, "pool_size")
        self.strides = self.pool_size if strides is None else _positive_int(strides, "strides")
        if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
            raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
        self.padding = padding.lower()
        self.data_format = _data_format(data_format)

    def _layout(self) -> str:
        return ("(batch, channels, steps)" if self.data_format == "channels_first"
                else "(batch, steps, channels)")

    def _windows(self, inputs: Any, fill: float) -> tuple[Array, Array, tuple[int, int], int]:
        """The padded windows ``(N, T_out, p, C)``, the real-step indicator ``(T_out, p)``, the
        padding and ``T_out``."""
        x = np.asarray(inputs, dtype=self.dtype)
        backend.check_rank(x, 3, self.name, self._layout())
        if self.data_format == "channels_first":
            x = np.swapaxes(x, 1, 2)
        length = x.shape[1]
        out_len = output_length(length, self.pool_size, self.strides, self.padding)
        assert out_len is not None
        if out_len == 0:
            raise ValueError(f"{self.name}: {length} steps are fewer than pool_size "
                             f"{self.pool_size} with padding 'valid'")
        pads = same_padding(length, self.pool_size, self.strides) if (
            self.padding == "same") else (0, 0)
        xp = np.pad(x, ((0, 0), pads, (0, 0)), constant_values=fill) if any(pads) else x
        real = np.zeros(xp.shape[1], dtype=bool)
        real[pads[0]:pads[0] + length] = True
        taps = self._taps(out_len)
        windows = np.stack([xp[:, sl, :] for sl in taps], axis=2)
        return windows, np.stack([real[sl] for sl in taps], axis=1), pads, out_len

    def _taps(self, out_len: int) -> list[slice]:
        s = self.strides
        return [slice(j, j + s * (out_len - 1) + 1, s) for j in range(self.pool_size)]

    def _scatter(self, d_windows: Array, length: int, pads: tuple[int, int],
                 out_len: int) -> Array:
        """Sum window gradients ``(N, T_out, p, C)`` back onto the input's steps."""
        n, _, _, c = d_windows.shape
        dxp = np.zeros((n, length + pads[0] + pads[1], c), dtype=self.dtype)
        for j, sl in enumerate(self._taps(out_len)):
            dxp[:, sl, :] += d_windows[:, :, j, :]
        dx = dxp[:, pads[0]:pads[0] + length, :]
        return np.ascontiguousarray(np.swapaxes(dx, 1, 2) if (
            self.data_format == "channels_first") else dx)

    def _grad(self, d_outputs: Any) -> Array:
        g = np.asarray(d_outputs, dtype=self.dtype)
        return np.swapaxes(g, 1, 2) if self.data_format == "channels_first" else g

    def _out(self, y: Array) -> Array:
        return np.swapaxes(y, 1, 2) if self.data_format == "channels_first" else y

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = tuple(input_shape)
        if len(shape) != 3:
            raise ValueError(f"{self.name} expected a 3-D input {self._layout()}, got shape "
                             f"{shape}")
        if self.data_format == "channels_first":
            return (shape[0], shape[1], output_length(shape[2], self.pool_size, self.strides,
                                                      self.padding))
        return (shape[0], output_length(shape[1], self.pool_size, self.strides, self.padding),
                shape[2])

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        return None


@register
class MaxPooling1D(_Pooling1D):
    """The maximum of each window (see the module docstring)."""

    def forward(self, inputs: Any, training: bool = False, mask: Any = None) -> tuple[Any, Any]:
        windows, _, pads, out_len = self._windows(inputs, -np.inf)
        arg = windows.argmax(axis=2)  # (N, T_out, C)
        y = np.take_along_axis(windows, arg[:, :, None, :], axis=2)[:, :, 0, :]
        length = np.shape(inputs)[2 if self.data_format == "channels_first" else 1]
        return self._out(y), (arg, pads, out_len, length)

    def backward(self, d_outputs: Any, cache: Any) -> Any:
        arg, pads, out_len, length = cache
        g = self._grad(d_outputs)
        d_windows = (np.arange(self.pool_size)[None, None, :, None] == arg[:, :, None, :]) * (
            g[:, :, None, :])
        return self._scatter(d_windows.astype(self.dtype, copy=False), length, pads, out_len)


@register
class AveragePooling1D(_Pooling1D):
    """The mean of each window's real (unpadded) steps (see the module docstring)."""

    def forward(self, inputs: Any, training: bool = False, mask: Any = None) -> tuple[Any, Any]:
        windows, real, pads, out_len = self._windows(inputs, 0.0)
        weights = (real / real.sum(axis=1, keepdims=True)).astype(self.dtype)  # (T_out, p)
        y = np.einsum("ntpc,tp->ntc", windows, weights)
        length = np.shape(inputs)[2 if self.data_format == "channels_first" else 1]
        return self._out(y), (weights, pads, out_len, length)

    def backward(self, d_outputs: Any, cache: Any) -> Any:
        weights, pads, out_len, length = cache
        g = self._grad(d_outputs)
        d_windows = g[:, :, None, :] * weights[None, :, :, None]
        return self._scatter(d_windows, length, pads, out_len)
