"""``Conv1D``: one-dimensional convolution over time, as ``keras.layers.Conv1D``.

``x (N, T, C) -> y (N, T_out, filters)`` (``data_format="channels_first"``: ``(N, C, T)`` ->
``(N, filters, T_out)``), ``y[n, t, f] = act(b[f] + Σ_j Σ_c x_p[n, t·s + j·d, c] · K[j, c, f])``
with ``x_p`` the padded input, ``s`` the stride and ``d`` the dilation rate. Padding:

``valid``   none; ``T_out = ⌊(T − d·(k−1) − 1) / s⌋ + 1``.
``same``    ``T_out = ⌈T / s⌉``; the total padding ``max((T_out−1)·s + d·(k−1) + 1 − T, 0)`` is
            split with the odd element on the right, as Keras (TensorFlow's rule).
``causal``  ``d·(k−1)`` zeros on the left, so output ``t`` sees only inputs ``≤ t·s``.

``groups`` splits the channels into that many independent convolutions (input channels and
filters both divisible by it). Weights: ``get_weights()`` gives Keras's ``[kernel (k, C/groups,
filters), bias (filters,)]``; inside, PyTorch's ``weight (filters, C/groups, k)`` and ``bias``
(``state_dict`` therefore loads a ``torch.nn.Conv1d``'s). The products run as one matrix
product per group of the unfolded windows (``rnnlab.kernels.products.matmul``). The output has
no mask (Keras's convolutions drop it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend, initializers
from .._registry import register
from ..kernels.products import column_sums, matmul
from .base import Layer
from .core import _act_backward, _act_forward, _resolve_activation

Array = np.ndarray


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{what} must be a positive integer (or a 1-tuple of one), got {value!r}")
    return int(value)


def _data_format(value: str | None) -> str:
    if value not in (None, "channels_last", "channels_first"):
        raise ValueError(
            f"data_format must be 'channels_last' or 'channels_first', got {value!r}")
    return value or "channels_last"


def same_padding(length: int, window: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """``(left, right)`` padding of Keras's ``same``: output length ``⌈length / stride⌉``."""
    span = dilation * (window - 1) + 1
    out = -(-length // stride)
    total = max((out - 1) * stride + span - length, 0)
    return total // 2, total - total // 2


def output_length(length: int | None, window: int, stride: int, padding: str,
                  dilation: int = 1) -> int | None:
    """The output length of a window of ``window`` taps sliding over ``length`` steps."""
    if length is None:
        return None
    if padding == "same":
        return -(-length // stride)
    if padding == "causal":
        length += dilation * (window - 1)
    return max((length - dilation * (window - 1) - 1) // stride + 1, 0)


@register
class Conv1D(Layer):
    """Temporal convolution with Keras's arguments (``filters``, ``kernel_size``, ``strides``,
    ``padding`` valid/same/causal, ``data_format``, ``dilation_rate``, ``groups``,
    ``activation``, ``use_bias``, initializers, and ``kernel_``/``bias_``/``activity_``
    regularizers and constraints as every layer with Keras-named weights). See the module
    docstring for the arithmetic."""

    weight_roles = ("kernel", "bias")

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, groups: int = 1,
                 activation: str | None = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filters = _positive_int(filters, "filters")
        self.kernel_size = _positive_int(kernel_size, "kernel_size")
        self.strides = _positive_int(strides, "strides")
        self.dilation_rate = _positive_int(dilation_rate, "dilation_rate")
        self.groups = _positive_int(groups, "groups")
        if not isinstance(padding, str) or padding.lower() not in ("valid", "same", "causal"):
            raise ValueError(f"padding must be 'valid', 'same' or 'causal', got {padding!r}")
        self.padding = padding.lower()
        if self.strides > 1 and self.dilation_rate > 1:
            raise ValueError(
                f"strides > 1 is not compatible with dilation_rate > 1 (as in Keras), got "
                f"strides={self.strides}, dilation_rate={self.dilation_rate}")
        if self.filters % self.groups:
            raise ValueError(
                f"filters ({self.filters}) must be divisible by groups ({self.groups})")
        self.data_format = _data_format(data_format)
        self.activation = _resolve_activation(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.channels: int | None = None

    # -- building ----------------------------------------------------------------------------------
    def _channel_axis(self) -> int:
        return 1 if self.data_format == "channels_first" else 2

    def build(self, input_shape: Any) -> None:
        shape = tuple(input_shape)
        if len(shape) != 3:
            raise ValueError(f"{self.name} expected a 3-D input {self._layout()}, got shape "
                             f"{shape}")
        channels = shape[self._channel_axis()]
        if channels is None:
            raise ValueError(f"{self.name} needs a known channel size, got input shape {shape}")
        channels = int(channels)
        if channels % self.groups:
            raise ValueError(f"{self.name}: the input's {channels} channels must be divisible "
                             f"by groups ({self.groups})")
        rng = self.layer_rng(0)
        kernel = self.kernel_initializer(
            (self.kernel_size, channels // self.groups, self.filters), rng, self.dtype)
        self.add_param("weight", np.array(kernel.transpose(2, 1, 0), order="C"))
        if self.use_bias:
            self.add_param("bias", self.bias_initializer((self.filters,), rng, self.dtype))
        self.channels = channels
        self.built = True

    def _layout(self) -> str:
        return ("(batch, channels, steps)" if self.data_format == "channels_first"
                else "(batch, steps, channels)")

    # -- forward / backward ------------------------------------------------------------------------
    def _pads(self, length: int) -> tuple[int, int]:
        if self.padding == "same":
            return same_padding(length, self.kernel_size, self.strides, self.dilation_rate)
        if self.padding == "causal":
            return self.dilation_rate * (self.kernel_size - 1), 0
        return 0, 0

    def _taps(self, out_len: int) -> list[slice]:
        """For each tap ``j``, the padded steps it reads: ``j·d + s·t`` for ``t < T_out``."""
        d, s = self.dilation_rate, self.strides
        return [slice(j * d, j * d + s * (out_len - 1) + 1, s) for j in range(self.kernel_size)]

    def _kernel_blocks(self) -> list[Array]:
        """Per group, the kernel as a ``(k·C_g, filters_g)`` matrix (rows: tap-major)."""
        w = self.params["weight"]  # (F, C_g, k)
        fg = self.filters // self.groups
        return [w[g * fg:(g + 1) * fg].transpose(2, 1, 0).reshape(-1, fg)
                for g in range(self.groups)]

    def forward(self, inputs: Any, training: bool = False, mask: Any = None) -> tuple[Any, Any]:
        x = np.asarray(inputs)
        backend.check_rank(x, 3, self.name, self._layout())
        self.maybe_build(x.shape)
        if x.shape[self._channel_axis()] != self.channels:
            raise ValueError(f"{self.name} expects {self.channels} channels {self._layout()}, "
                             f"got shape {x.shape}")
        x = x.astype(self.dtype, copy=False)
        if self.data_format == "channels_first":
            x = np.swapaxes(x, 1, 2)
        n, length, c = x.shape
        left, right = self._pads(length)
        out_len = output_length(length, self.kernel_size, self.strides, self.padding,
                                self.dilation_rate)
        assert out_len is not None
        if out_len == 0:
            raise ValueError(
                f"{self.name}: {length} steps are fewer than the kernel's span "
                f"{self.dilation_rate * (self.kernel_size - 1) + 1} with padding 'valid'")
        xp = np.pad(x, ((0, 0), (left, right), (0, 0))) if left or right else x
        cg, fg = c // self.groups, self.filters // self.groups
        cols = np.stack([xp[:, sl, :] for sl in self._taps(out_len)], axis=2)  # (N, T', k, C)
        z = np.empty((n * out_len, self.filters), dtype=self.dtype)
        groups_cols = []
        for g, kmat in enumerate(self._kernel_blocks()):
            cg_cols = cols[..., g * cg:(g + 1) * cg].reshape(n * out_len, -1)
            groups_cols.append(cg_cols)
            matmul(cg_cols, kmat, out=z[:, g * fg:(g + 1) * fg])
        if self.use_bias:
            z += self.params["bias"]
        y = _act_forward(self.activation, z).reshape(n, out_len, self.filters)
        cache = (groups_cols, y, xp.shape, (left, right), out_len)
        if self.data_format == "channels_first":
            y = np.swapaxes(y, 1, 2)
        return y, cache

    def _param_grads(self, d_outputs: Any, cache: Any) -> Array:
        groups_cols, y, _, _, _ = cache
        g = np.asarray(d_outputs, dtype=self.dtype)
        if self.data_format == "channels_first":
            g = np.swapaxes(g, 1, 2)
        dz = _act_backward(self.activation, y, g).reshape(-1, self.filters)
        fg = self.filters // self.groups
        k, cg = self.kernel_size, self.channels // self.groups  # type: ignore[operator]
        for gi, cols in enumerate(groups_cols):
            dk = matmul(cols.T, dz[:, gi * fg:(gi + 1) * fg])  # (k·C_g, F_g)
            self.grads["weight"][gi * fg:(gi + 1) * fg] += dk.reshape(k, cg, fg).transpose(
                2, 1, 0)
        if self.use_bias:
            self.grads["bias"] += column_sums(np.ascontiguousarray(dz))
        return dz

    def backward(self, d_outputs: Any, cache: Any) -> Any:
        _, _, padded_shape, (left, right), out_len = cache
        dz = self._param_grads(d_outputs, cache)
        n = padded_shape[0]
        fg = self.filters // self.groups
        k, cg = self.kernel_size, self.channels // self.groups  # type: ignore[operator]
        dxp = np.zeros(padded_shape, dtype=self.dtype)
        taps = self._taps(out_len)
        for gi, kmat in enumerate(self._kernel_blocks()):
            dcols = matmul(dz[:, gi * fg:(gi + 1) * fg], kmat.T).reshape(n, out_len, k, cg)
            for j, sl in enumerate(taps):
                dxp[:, sl, gi * cg:(gi + 1) * cg] += dcols[:, :, j, :]
        dx = dxp[:, left:padded_shape[1] - right, :]
        if self.data_format == "channels_first":
            dx = np.swapaxes(dx, 1, 2)
        return np.ascontiguousarray(dx)

    def backward_params(self, d_outputs: Any, cache: Any) -> None:
        self._param_grads(d_outputs, cache)

    # -- shapes, masks, weights --------------------------------------------------------------------
    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = tuple(input_shape)
        if len(shape) != 3:
            raise ValueError(f"{self.name} expected a 3-D input {self._layout()}, got shape "
                             f"{shape}")
        steps = shape[2] if self.data_format == "channels_first" else shape[1]
        out = output_length(steps, self.kernel_size, self.strides, self.padding,
                            self.dilation_rate)
        if self.data_format == "channels_first":
            return (shape[0], self.filters, out)
        return (shape[0], out, self.filters)

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        return None

    def get_weights(self) -> list[Array]:
        out = [np.array(self.params["weight"].transpose(2, 1, 0), order="C")]
        if self.use_bias:
            out.append(self.params["bias"].copy())
        return out

    def set_weights(self, weights: list[Array]) -> None:
        if not self.built:
            raise ValueError(f"{self.name} is not built yet; call it on an input first")
        kshape = (self.kernel_size, self.channels // self.groups,  # type: ignore[operator]
                  self.filters)
        expected = [kshape] + ([(self.filters,)] if self.use_bias else [])
        if len(weights) != len(expected):
            raise ValueError(
                f"{self.name}: expected {len(expected)} weight arrays with shapes {expected} "
                f"(kernel, bias), got {len(weights)}")
        for i, (w, shape) in enumerate(zip(weights, expected, strict=True)):
            if np.shape(w) != shape:
                raise ValueError(
                    f"{self.name}: weight {i} expected shape {shape}, got {np.shape(w)}")
        self.params["weight"][...] = np.asarray(weights[0]).transpose(2, 1, 0)
        if self.use_bias:
            self.params["bias"][...] = weights[1]
