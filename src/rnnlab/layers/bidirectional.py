"""``Bidirectional(layer)``: run a recurrent layer forwards and backwards in time and merge.

Keras 3's wrapper on rnnlab's engine. ``Bidirectional(layer, merge_mode="concat", weights=None,
backward_layer=None, **kwargs)``:

- ``forward_layer`` is a fresh clone of ``layer`` (``type(layer).from_config(layer.get_config())``,
  named ``forward_<name>``; ``layer``'s own weights and states are never used). ``backward_layer``
  is a clone with ``go_backwards`` flipped (``backward_<name>``; an explicit ``seed`` is replaced by
  one derived from it, so the directions start from different weights), or the given layer, which
  must have the opposite ``go_backwards``, the same ``return_sequences``/``return_state`` and dtype
  (ValueError otherwise). They are the children ``forward_layer`` and ``backward_layer``, so
  parameters are named ``forward_layer.cell.weight_ih``, ``backward_layer.cell.bias_hh``, ...
- ``merge_mode``: ``"concat"`` (last axis, forward first), ``"sum"``, ``"mul"``, ``"ave"``, or
  ``None`` (the list ``[forward, backward]``). With ``return_sequences`` the backward layer's output
  sequence is flipped along time before merging (Keras), so both are in time order.
- ``return_state``: ``[merged, *forward_states, *backward_states]`` (``None``: both outputs first).
- Nested inputs (a list of sequences for a Keras-style cell, ``rnnlab.layers.nested``) go to
  both directions; ``backward`` then returns the list of their gradients. A cell with several
  outputs cannot be merged (ValueError); shaped states are returned as ``(N, *shape)``.
- ``initial_state``: a list; the first ``len(forward_layer.state_sizes)`` go to the forward layer,
  the rest to the backward layer; a wrong count is a ValueError.
- Masks: the same ``(N, T)`` mask goes to both layers, whose ``zero_output_for_mask`` is set to
  ``return_sequences`` (Keras): padded steps output zeros in the sequences, and the last output of
  each direction is that of its last unmasked step, wherever the padding is.
- ``backward(d_outputs, cache)`` returns ``dx``, or ``[dx, *d_initial_states]`` when initial states
  were given (as ``RNN`` does).
- ``get_weights()`` is the forward layer's weights then the backward layer's (Keras order);
  ``weights`` (not part of the config) are set that way when the layer is built.
- The dtype and ``stateful`` are the wrapped layer's; ``reset_states()`` resets both directions.
- Dropout: each training call sets both sublayers' ``rng_calls`` from the wrapper's counter, so
  ``gradcheck.check_layer`` (which resets ``layer.rng_calls``) fixes the masks of both directions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import backend
from .. import random as rnd
from .._registry import register
from . import nested
from .base import Layer

if TYPE_CHECKING:
    from .recurrent import RNN

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


@register
class Bidirectional(Layer):
    supports_masking = True

    def __init__(self, layer: RNN, merge_mode: str | None = "concat",
                 weights: list[np.ndarray] | None = None, backward_layer: RNN | None = None,
                 **kwargs: Any) -> None:
        for what, obj in (("layer", layer), ("backward_layer", backward_layer)):
            if obj is not None and not (isinstance(obj, Layer) and hasattr(obj, "go_backwards")):
                raise TypeError(f"Bidirectional expects a recurrent layer (with go_backwards, "
                                f"return_sequences, return_state) as {what}, got {obj!r}")
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"Invalid merge_mode {merge_mode!r}; expected one of "
                             f"{list(MERGE_MODES)}")
        dtype = kwargs.pop("dtype", None)
        if dtype is not None and backend.standardize_dtype(dtype) != layer.dtype:
            raise ValueError(f"Bidirectional's dtype follows the wrapped layer's "
                             f"({layer.dtype!r}), got dtype={dtype!r}")
        super().__init__(dtype=layer.dtype, **kwargs)
        self.__dict__["_init_args"].pop("weights", None)  # arrays are not config (Keras)
        config = layer.get_config()
        config["name"] = "forward_" + layer.name
        forward = type(layer).from_config(config)
        if backward_layer is None:
            config = layer.get_config()
            config["name"] = "backward_" + layer.name
            config["go_backwards"] = not layer.go_backwards
            if config.get("seed") is not None:
                config["seed"] = int(rnd.generator(int(config["seed"]), 2).integers(2**31 - 1))
            backward_layer = type(layer).from_config(config)
        else:
            _check_pair(layer, backward_layer)
        if merge_mode in ("sum", "mul", "ave") and getattr(forward, "units", None) != getattr(
                backward_layer, "units", None):
            raise ValueError(f"merge_mode={merge_mode!r} needs equal output sizes, got "
                             f"{forward.units} (forward) and {backward_layer.units} (backward)")
        self.forward_layer = self.add_child("forward_layer", forward)
        self.backward_layer = self.add_child("backward_layer", backward_layer)
        for sub in (forward, backward_layer):
            if hasattr(sub, "zero_output_for_mask"):
                sub.zero_output_for_mask = bool(layer.return_sequences)
        self.merge_mode = merge_mode
        self.return_sequences = bool(layer.return_sequences)
        self.return_state = bool(layer.return_state)
        self.stateful = bool(getattr(layer, "stateful", False))
        self._initial_weights = None if weights is None else list(weights)

    # -- building and shapes ----------------------------------------------------------------------
    def build(self, input_shape: Any) -> None:
        if nested.is_shape_list(input_shape):
            if self._nested(input_shape):
                input_shape = [tuple(s) for s in input_shape]
            else:
                input_shape = tuple(input_shape[0])
        else:
            input_shape = tuple(input_shape)
        self.forward_layer.maybe_build(input_shape)
        self.backward_layer.maybe_build(input_shape)
        for sub in (self.forward_layer, self.backward_layer):
            if len(getattr(sub, "output_shapes", [()])) > 1:
                raise ValueError(f"{self.name}: the cell of {sub.name} returns "
                                 f"{len(sub.output_shapes)} outputs; Bidirectional merges one "
                                 "output per direction")
        self.built = True
        if self._initial_weights is not None:
            weights, self._initial_weights = self._initial_weights, None
            self.set_weights(weights)

    def compute_output_shape(self, input_shape: Any) -> Any:
        f = self.forward_layer.compute_output_shape(input_shape)
        b = self.backward_layer.compute_output_shape(input_shape)
        f_states, b_states = (list(f[1:]), list(b[1:])) if self.return_state else ([], [])
        f, b = (f[0], b[0]) if self.return_state else (f, b)
        if self.merge_mode is None:
            head = [tuple(f), tuple(b)]
        elif self.merge_mode == "concat":
            head = [tuple(f[:-1]) + (f[-1] + b[-1],)]
        else:
            head = [tuple(f)]
        if self.return_state or self.merge_mode is None:
            return head + [tuple(s) for s in f_states + b_states]
        return head[0]

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        if isinstance(mask, list):
            mask = mask[0]
        out = mask if self.return_sequences else None
        head = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            n = len(self.forward_layer.state_sizes) + len(self.backward_layer.state_sizes)
            return head + [None] * n
        return head if self.merge_mode is None else out

    # -- engine -----------------------------------------------------------------------------------
    def _split_states(self, states: Any) -> tuple[list[Any], list[Any]]:
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        nf = len(self.forward_layer.state_sizes)
        nb = len(self.backward_layer.state_sizes)
        if len(states) != nf + nb:
            raise ValueError(
                f"{self.name} expects {nf + nb} initial state tensor(s): {nf} for the forward "
                f"layer then {nb} for the backward layer, got {len(states)}")
        return states[:nf], states[nf:]

    def _nested(self, inputs: Any) -> bool:
        """Whether ``inputs`` (arrays or shapes) are nested sequences for the wrapped layer."""
        return nested.nested_cell(getattr(self.forward_layer, "cells", []), inputs) is not None

    def forward(self, inputs: Any, training: bool = False, mask: Any = None,
                initial_state: Any = None) -> tuple[Any, Any]:
        return self._run(inputs, training, mask, initial_state, keep_cache=True)

    def infer(self, inputs: Any, training: bool = False, mask: Any = None,
              initial_state: Any = None, **kwargs: Any) -> Any:
        """``forward``'s outputs, each direction through its layer's ``infer`` (no backward
        cache; rings where its sweep can, ``RNN.infer``). A subclass with a ``forward`` of its
        own is run through it."""
        if type(self).forward is not Bidirectional.forward:
            return super().infer(inputs, training=training, mask=mask,
                                 initial_state=initial_state, **kwargs)
        if kwargs:
            raise TypeError(f"{self.name}: unexpected call argument(s) {sorted(kwargs)}")
        return self._run(inputs, training, mask, initial_state, keep_cache=False)[0]

    def _run(self, inputs: Any, training: bool, mask: Any, initial_state: Any,
             keep_cache: bool) -> tuple[Any, Any]:
        n_inputs = len(inputs) if self._nested(inputs) else None
        listed = n_inputs is None and isinstance(inputs, (list, tuple))
        if listed:
            inputs, initial_state = inputs[0], (list(inputs[1:]) or initial_state)
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if n_inputs is None:
            x: Any = np.asarray(inputs)
            backend.check_rank(x, 3, self.name, "(batch, timesteps, features)")
            self.maybe_build(x.shape)
        else:
            x = [np.asarray(v) for v in inputs]
            self.maybe_build([v.shape for v in x])
        s_f, s_b = (None, None) if initial_state is None else self._split_states(initial_state)
        fwd, bwd = self.forward_layer, self.backward_layer
        fwd.rng_calls = bwd.rng_calls = self.rng_calls
        def run(layer: Any, state: Any) -> tuple[Any, Any]:
            if keep_cache:
                return layer.forward(x, training=training, mask=mask, initial_state=state)
            return layer.infer(x, training=training, mask=mask, initial_state=state), None

        out_f, cache_f = run(fwd, s_f)
        out_b, cache_b = run(bwd, s_b)
        self.rng_calls = max(fwd.rng_calls, bwd.rng_calls)
        states: list[Any] = []
        if self.return_state:
            states = list(out_f[1:]) + list(out_b[1:])
            out_f, out_b = out_f[0], out_b[0]
        if self.return_sequences:
            out_b = out_b[:, ::-1]
        m = self.merge_mode
        head = ([out_f, out_b] if m is None else [np.concatenate([out_f, out_b], axis=-1)]
                if m == "concat" else [out_f + out_b] if m == "sum"
                else [(out_f + out_b) / 2] if m == "ave" else [out_f * out_b])
        outputs = head + states if (self.return_state or m is None) else head[0]
        return outputs, (cache_f, cache_b, out_f, out_b, s_f is not None or listed, n_inputs)

    def backward(self, d_outputs: Any, cache: Any) -> Any:
        cache_f, cache_b, _, _, want_states, n_inputs = cache
        d_f, d_b = self._split_grads(d_outputs, cache)
        g_f = self.forward_layer.backward(d_f, cache_f)
        g_b = self.backward_layer.backward(d_b, cache_b)
        if n_inputs is not None:  # nested inputs: [dx_1, ..., dx_k, *d_states]
            dxs = [a + b for a, b in zip(g_f[:n_inputs], g_b[:n_inputs])]
            return dxs + list(g_f[n_inputs:]) + list(g_b[n_inputs:])
        if isinstance(g_f, list):
            dx = g_f[0] + g_b[0]
            return [dx, *g_f[1:], *g_b[1:]]
        return [g_f + g_b] if want_states else g_f + g_b

    def backward_params(self, d_outputs: Any, cache: Any) -> None:
        d_f, d_b = self._split_grads(d_outputs, cache)
        self.forward_layer.backward_params(d_f, cache[0])
        self.backward_layer.backward_params(d_b, cache[1])

    def _split_grads(self, d_outputs: Any, cache: Any) -> tuple[Any, Any]:
        """The output gradients of the forward and the backward layer (in their own time
        order, with their state gradients when ``return_state``)."""
        _, _, out_f, out_b, _, _ = cache
        n_head = 1 if self.merge_mode is not None else 2
        d = list(d_outputs) if (self.return_state or n_head == 2) else [d_outputs]
        head, d_states = d[:n_head], d[n_head:]
        nf = len(self.forward_layer.state_sizes)
        if n_head == 2:
            d_f, d_b = head
        elif head[0] is None:
            d_f = d_b = None
        else:
            g = np.asarray(head[0], dtype=self.dtype)
            h = out_f.shape[-1]
            m = self.merge_mode
            d_f, d_b = ((g[..., :h], g[..., h:]) if m == "concat" else (g, g) if m == "sum"
                        else (g / 2, g / 2) if m == "ave" else (g * out_b, g * out_f))
        if self.return_sequences and d_b is not None:
            d_b = np.asarray(d_b)[:, ::-1]
        if self.return_state:
            d_f, d_b = [d_f, *d_states[:nf]], [d_b, *d_states[nf:]]
        return d_f, d_b

    # -- states and weights -----------------------------------------------------------------------
    def reset_states(self, states: Any = None) -> None:
        s_f, s_b = (None, None) if states is None else self._split_states(states)
        self.forward_layer.reset_states(s_f)
        self.backward_layer.reset_states(s_b)

    def get_weights(self) -> list[np.ndarray]:
        if not self.built:
            return []
        return self.forward_layer.get_weights() + self.backward_layer.get_weights()

    def set_weights(self, weights: list[np.ndarray]) -> None:
        if not self.built:
            raise ValueError(f"{self.name} is not built yet: call it on data (or build(input_"
                             f"shape)) before set_weights")
        weights = list(weights)
        nf = len(self.forward_layer.get_weights())
        nb = len(self.backward_layer.get_weights())
        if len(weights) != nf + nb:
            raise ValueError(f"{self.name}: expected {nf + nb} weight arrays ({nf} forward then "
                             f"{nb} backward), got {len(weights)}")
        self.forward_layer.set_weights(weights[:nf])
        self.backward_layer.set_weights(weights[nf:])


def _check_pair(layer: Any, backward_layer: Any) -> None:
    if backward_layer.go_backwards == layer.go_backwards:
        raise ValueError(
            f"backward_layer must have go_backwards={not layer.go_backwards} (the opposite of "
            f"layer's), got go_backwards={backward_layer.go_backwards} for both")
    for attr in ("return_sequences", "return_state", "dtype"):
        if getattr(backward_layer, attr) != getattr(layer, attr):
            raise ValueError(
                f"backward_layer.{attr} must equal layer.{attr} ({getattr(layer, attr)!r}), "
                f"got {getattr(backward_layer, attr)!r}")
