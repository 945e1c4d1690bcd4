"""``Embedding`` (token ids -> vectors) and ``Masking`` (mask steps equal to a value).

``Embedding(input_dim=V, output_dim=E)``: integer ids ``(N, T)`` (any shape ``S``) ->
``(N, T, E)`` (``S + (E,)``), a row lookup in ``weight (V, E)`` (PyTorch's name; Keras's
``embeddings`` has the same layout). Ids are validated at the boundary: integer values (integral
floats are accepted) in ``[0, V)``. ``mask_zero=True`` makes the output mask ``ids != 0``
(id 0 is then the padding id). The backward pass scatters into the weight gradient and returns
``None`` for the integer input. ``input_length`` (Keras 2) fixes the sequence length for shape
inference and is checked against the inputs. ``weights=[matrix]`` (Keras) sets the initial
``(V, E)`` matrix (pretrained vectors; combine with ``trainable=False`` to freeze them); it is
not part of the config.

``Masking(mask_value=0.0)``: ``x (N, T, D) -> x ⊙ m`` with ``m = any(x != mask_value, axis=-1)``
(shape ``(N, T)``), which is also the output mask; the backward pass is ``g ⊙ m`` (the mask is
a constant of the data, as in Keras).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend, initializers
from .._registry import register
from .base import Layer

Array = np.ndarray


@register
class Embedding(Layer):
    """Turns integer ids into dense vectors: ``ids (N, ...) -> (N, ..., output_dim)``.

    Parameter ``weight (input_dim, output_dim)``; ``get_weights()`` is ``[embeddings]`` (same
    layout). Ids must be integers in ``[0, input_dim)``; the output mask is ``ids != 0`` with
    ``mask_zero``.
    """

    takes_integer_ids = True

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: Any = "uniform",
                 mask_zero: bool = False, input_length: Any = None, weights: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # initial weights (Keras: ``weights=[matrix]``) are data, not configuration
        self.__dict__.get("_init_args", {}).pop("weights", None)
        for what, v in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"{what} must be a positive integer, got {v!r}")
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.mask_zero = bool(mask_zero)
        if input_length is None:
            self.input_length: tuple[int | None, ...] | None = None
        elif isinstance(input_length, (list, tuple)):
            self.input_length = tuple(None if s is None else int(s) for s in input_length)
        else:
            self.input_length = (int(input_length),)
        if self.input_shape_arg is None and self.input_length is not None:
            self.input_shape_arg = self.input_length
        self.supports_masking = self.mask_zero
        self._initial_weights = None
        if weights is not None:
            w = weights[0] if isinstance(weights, (list, tuple)) and len(weights) == 1 else weights
            w = np.asarray(w)
            if w.shape != (self.input_dim, self.output_dim):
                raise ValueError(
                    f"{self.name}: initial weights must have shape ({self.input_dim}, "
                    f"{self.output_dim}) (input_dim, output_dim), got {w.shape}")
            self._initial_weights = backend.as_float_array(w, self.dtype, f"{self.name} weights")

    def build(self, input_shape: Any) -> None:
        if self._initial_weights is not None:
            self.add_param("weight", self._initial_weights.copy())
            self._initial_weights = None
        else:
            rng = self.layer_rng(0)
            self.add_param("weight", self.embeddings_initializer(
                (self.input_dim, self.output_dim), rng, self.dtype))
        self.built = True

    # -- validation ------------------------------------------------------------------------------
    def _ids(self, inputs: Any) -> Array:
        x = np.asarray(inputs)
        if x.dtype.kind not in "biuf":
            raise TypeError(
                f"{self.name} expects integer token ids, got an array of dtype {x.dtype}")
        if x.ndim < 1:
            raise ValueError(
                f"{self.name} expects ids of shape (batch, ...), got a scalar (shape {x.shape})")
        if x.dtype.kind == "f":
            bad = ~np.isfinite(x) | (x != np.round(np.nan_to_num(x)))
            if bad.any():
                pos = tuple(int(i) for i in np.argwhere(bad)[0])
                raise ValueError(
                    f"{self.name} expects integer token ids in [0, {self.input_dim}), got the "
                    f"non-integer value {x[pos].item()!r} at position {pos}")
        ids = x.astype(np.int64, copy=False)
        if ids.size:
            bad = (ids < 0) | (ids >= self.input_dim)
            if bad.any():
                pos = tuple(int(i) for i in np.argwhere(bad)[0])
                raise ValueError(
                    f"{self.name}: token id {int(ids[pos])} at position {pos} is out of range; "
                    f"expected ids in [0, {self.input_dim}) (input_dim={self.input_dim})")
        if self.input_length is not None:
            got = ids.shape[1:]
            want = self.input_length
            if len(got) != len(want) or any(
                    w is not None and w != g for w, g in zip(want, got, strict=True)):
                raise ValueError(
                    f"{self.name}: input_length is {want if len(want) > 1 else want[0]}, expected "
                    f"ids of shape (batch, {', '.join(str(w) for w in want)}), got shape "
                    f"{ids.shape}")
        return ids

    def validate_inputs(self, inputs: Any) -> Any:
        return self._ids(inputs)

    # -- engine ----------------------------------------------------------------------------------
    def forward(self, inputs: Any, training: bool = False, mask: Any = None) -> tuple[Any, Any]:
        ids = self._ids(inputs)
        self.maybe_build(ids.shape)
        return self.params["weight"][ids], ids

    def backward(self, d_outputs: Any, cache: Any) -> Any:
        ids = cache
        g = np.asarray(d_outputs, dtype=self.dtype).reshape(-1, self.output_dim)
        np.add.at(self.grads["weight"], ids.reshape(-1), g)
        return None

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = tuple(input_shape)
        if self.input_length is not None and len(shape) == 1 + len(self.input_length):
            shape = (shape[0],) + tuple(
                w if s is None else s for s, w in zip(shape[1:], self.input_length, strict=True))
        return shape + (self.output_dim,)

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        if not self.mask_zero:
            return None
        if inputs is None:  # symbolic call: "there is a mask"
            return True
        return np.asarray(inputs) != 0


@register
class Masking(Layer):
    """Masks time steps whose features all equal ``mask_value``: ``x (N, T, D) -> x ⊙ m`` with
    the mask ``m = any(x != mask_value, axis=-1)`` of shape ``(N, T)`` (also the output mask)."""

    supports_masking = True

    def __init__(self, mask_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mask_value = float(mask_value)

    def _mask(self, x: Array) -> Array:
        return np.any(x != self.mask_value, axis=-1)

    def forward(self, inputs: Any, training: bool = False, mask: Any = None) -> tuple[Any, Any]:
        x = np.asarray(inputs, dtype=self.dtype)
        if x.ndim < 2:
            raise ValueError(
                f"{self.name} expected an array of rank >= 2 (batch, timesteps, ..., features), "
                f"got shape {x.shape} ({x.ndim}-D)")
        keep = self._mask(x)[..., None].astype(self.dtype)
        return x * keep, keep

    def backward(self, d_outputs: Any, cache: Any) -> Any:
        return np.asarray(d_outputs, dtype=self.dtype) * cache

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        if inputs is None:
            return True
        return self._mask(np.asarray(inputs))
