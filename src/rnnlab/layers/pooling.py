"""Global pooling over time: ``GlobalAveragePooling1D`` and ``GlobalMaxPooling1D``.

``x (N, T, D) -> (N, D)`` (``keepdims=True``: ``(N, 1, D)``); with
``data_format="channels_first"`` the input is ``(N, D, T)`` (``keepdims``: ``(N, D, 1)``).
A mask ``(N, T)`` (True = real step) restricts pooling to unmasked steps, as Keras:
the average is ``Σ_t m_t x_t / Σ_t m_t`` and the maximum ignores masked steps. A sample with
every step masked gives zeros (Keras would give NaN for the average). The output has no mask.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend
from .._registry import register
from .base import Layer, unique_name

Array = np.ndarray


class _GlobalPooling1D(Layer):
    supports_masking = True
    default_name = "global_pooling1d"

    def __init__(self, data_format: str | None = None, keepdims: bool = False,
                 **kwargs: Any) -> None:
        if not kwargs.get("name"):
            kwargs["name"] = unique_name(self.default_name)
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError(
                f"data_format must be 'channels_last' or 'channels_first', got {data_format!r}")
        self.data_format = data_format or "channels_last"
        self.keepdims = bool(keepdims)

    def _prepare(self, inputs: Any, mask: Any) -> tuple[Array, Array | None]:
        """The input as ``(N, T, D)`` and the mask as a float ``(N, T, 1)`` (or None)."""
        x = np.asarray(inputs, dtype=self.dtype)
        layout = ("(batch, features, timesteps)" if self.data_format == "channels_first"
                  else "(batch, timesteps, features)")
        backend.check_rank(x, 3, self.name, layout)
        if self.data_format == "channels_first":
            x = np.swapaxes(x, 1, 2)
        if mask is None:
            return x, None
        m = np.asarray(mask)
        if m.shape != x.shape[:2]:
            raise ValueError(
                f"{self.name}: mask must have shape (batch, timesteps) = {x.shape[:2]}, got "
                f"{m.shape}")
        return x, m.astype(bool)[:, :, None]

    def _finish(self, y: Array) -> Array:
        """``(N, D)`` -> the output layout."""
        if not self.keepdims:
            return y
        return y[:, :, None] if self.data_format == "channels_first" else y[:, None, :]

    def _restore(self, d_outputs: Any) -> Array:
        """Output gradient -> ``(N, D)``."""
        g = np.asarray(d_outputs, dtype=self.dtype)
        return g.reshape(g.shape[0], -1)

    def _layout(self, dx: Array) -> Array:
        return np.swapaxes(dx, 1, 2) if self.data_format == "channels_first" else dx

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = tuple(input_shape)
        if len(shape) != 3:
            raise ValueError(f"{self.name} expected a 3-D input, got shape {shape}")
        n, d = (shape[0], shape[1]) if self.data_format == "channels_first" else (
            shape[0], shape[2])
        if not self.keepdims:
            return (n, d)
        return (n, d, 1) if self.data_format == "channels_first" else (n, 1, d)

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        return None


@register
class GlobalAveragePooling1D(_GlobalPooling1D):
    """Mean over time, ``(N, T, D) -> (N, D)``; with a mask, over the unmasked steps only."""

    default_name = "global_average_pooling1d"

    def forward(self, inputs: Any, training: bool = False, mask: Any = None) -> tuple[Any, Any]:
        x, m = self._prepare(inputs, mask)
        if m is None:
            weights = np.full((x.shape[0], x.shape[1], 1), 1.0 / x.shape[1], dtype=self.dtype)
        else:
            count = np.maximum(m.sum(axis=1, keepdims=True), 1).astype(self.dtype)
            weights = m.astype(self.dtype) / count
        y = (x * weights).sum(axis=1)
        return self._finish(y), weights

    def backward(self, d_outputs: Any, cache: Any) -> Any:
        weights = cache
        g = self._restore(d_outputs)
        return self._layout(g[:, None, :] * weights)


@register
class GlobalMaxPooling1D(_GlobalPooling1D):
    """Maximum over time, ``(N, T, D) -> (N, D)``; with a mask, masked steps are ignored."""

    default_name = "global_max_pooling1d"

    def forward(self, inputs: Any, training: bool = False, mask: Any = None) -> tuple[Any, Any]:
        x, m = self._prepare(inputs, mask)
        N, T, D = x.shape
        if m is None:
            idx = x.argmax(axis=1)                                        # (N, D)
            valid = None
        else:
            idx = np.where(m, x, -np.inf).argmax(axis=1)
            valid = m.any(axis=1)                                         # (N, 1)
        y = np.take_along_axis(x, idx[:, None, :], axis=1)[:, 0, :]
        if valid is not None:
            y = np.where(valid, y, 0).astype(self.dtype, copy=False)
        return self._finish(y), (idx, valid, (N, T, D))

    def backward(self, d_outputs: Any, cache: Any) -> Any:
        idx, valid, (N, T, D) = cache
        g = self._restore(d_outputs)
        if valid is not None:
            g = np.where(valid, g, 0).astype(self.dtype, copy=False)
        dx = np.zeros((N, T, D), dtype=self.dtype)
        np.put_along_axis(dx, idx[:, None, :], g[:, None, :], axis=1)
        return self._layout(dx)
