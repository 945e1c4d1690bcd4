"""``TapeCell``: runs a Keras-style custom cell under the cell contract, gradients from the tape.

A Keras-style cell is a ``Layer`` with ``state_size`` (an int, or a list of ints or of shapes),
optionally ``output_size``, ``build(input_shape)`` creating weights with ``add_weight``, and
``call(inputs, states) -> (output, new_states)`` written with ``rnnlab.ops``:

    class MinimalRNNCell(Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units
        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
            self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                    name="recurrent_kernel")
        def call(self, inputs, states):
            h = ops.matmul(inputs, self.kernel) + ops.matmul(states[0], self.recurrent_kernel)
            return h, [h]

``RNN(cell)`` wraps such a cell in a ``TapeCell``. Each ``step`` traces ``call`` on tensors and
keeps the tape as the step's cache; ``step_backward`` replays it, returning the input and state
gradients and *accumulating* the weight gradients in the cache (linear in its arguments, so
truncated BPTT, which replays a step several times, sums correctly); ``params_backward`` moves
them into the weights' gradients. States of any shape are carried flat, ``(N, prod(shape))``,
and reshaped for ``call``, so multi-dimensional states fit the contract's ``(N, size)`` arrays.

Nested inputs and outputs (the Keras RNN guide's ``NestedCell``): when ``RNN`` is given a list of
sequences ``[(N, T, *s_1), (N, T, *s_2), ...]`` it sets ``input_shapes = [s_1, s_2, ...]``,
builds the cell with ``[(None, *s_1), (None, *s_2), ...]`` and feeds the steps concatenated,
``(N, Σ prod(s_k))``; ``step`` cuts them apart and calls ``call`` with the tuple of ``(N, *s_k)``
tensors. An ``output_size`` that lists several shapes (``[[u1], [u2, u3]]``) means ``call``
returns that many outputs; they travel concatenated the same way (``output_size`` here is the
total width) and ``RNN`` returns them as a list, each ``(N, [T,] *shape)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ops.tensor import Tape, Tensor
from .base import Array, Cell, State


def _shapes(state_size: Any) -> list[tuple[int, ...]]:
    """``state_size`` as a list of per-state shapes (without the batch dimension)."""
    if isinstance(state_size, (int, np.integer)):
        return [(int(state_size),)]
    items = list(state_size)
    if items and all(isinstance(s, (int, np.integer)) for s in items) and not isinstance(
            state_size, list):
        return [tuple(int(s) for s in items)]  # one state given as a shape tuple
    return [(int(s),) if isinstance(s, (int, np.integer)) else tuple(int(d) for d in s)
            for s in items]


def is_keras_cell(obj: Any) -> bool:
    return (not isinstance(obj, Cell) and hasattr(obj, "state_size")
            and callable(getattr(type(obj), "call", None)))


def as_cell(obj: Any) -> Any:
    """A contract cell for ``obj``: itself if it is one, a ``TapeCell`` for a Keras-style cell."""
    return TapeCell(obj) if is_keras_cell(obj) else obj


def _flatten(x: Any) -> list[Any]:
    if isinstance(x, (list, tuple)):
        return [leaf for v in x for leaf in _flatten(v)]
    return [x]


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


def _cut(a: Array, shapes: list[tuple[int, ...]]) -> list[Array]:
    """``a (N, Σ prod(shape))`` cut along axis 1 into one ``(N, prod(shape))`` piece per shape."""
    edges = np.cumsum([int(np.prod(s)) for s in shapes])[:-1]
    return np.split(a, edges, axis=1)


class TapeCell(Cell):
    """The cell contract for a Keras-style cell (see the module docstring)."""

    def __init__(self, cell: Any) -> None:
        super().__init__()
        if not is_keras_cell(cell):
            raise TypeError(f"TapeCell expects a layer with state_size and call(inputs, "
                            f"states), got {type(cell).__name__}")
        self.keras_cell = cell
        self.state_shapes = _shapes(cell.state_size)
        self.state_size = tuple(int(np.prod(s)) for s in self.state_shapes)
        out = getattr(cell, "output_size", None)
        self.output_shapes = _shapes(out) if out is not None else self.state_shapes[:1]
        self.output_size = sum(int(np.prod(s)) for s in self.output_shapes)
        self.input_shapes: list[tuple[int, ...]] | None = None  # nested inputs (set by RNN)

    def build(self, input_dim: int, dtype: str, rng: np.random.Generator) -> None:
        super().build(input_dim, dtype, rng)
        cell = self.keras_cell
        if not cell.built:
            cell.dtype = dtype
        if self.input_shapes is None:
            cell.maybe_build((None, input_dim))
        else:
            cell.maybe_build([(None, *s) for s in self.input_shapes])
        self.params, self.grads, self.buffers = cell.params, cell.grads, cell.buffers
        self.__dict__["_weight_rules"] = cell.__dict__.setdefault("_weight_rules", {})

    def step(self, p_t: Array, state: State, rec_mask: Array | None) -> tuple[Array, State, Any]:
        n = p_t.shape[0]
        if self.input_shapes is None:
            xs = [Tensor(p_t, requires_grad=True)]
            inputs: Any = xs[0]
        else:                                  # nested: cut the concatenated step apart
            xs = [Tensor(piece.reshape((n, *shape)), requires_grad=True) for piece, shape in
                  zip(_cut(p_t, self.input_shapes), self.input_shapes)]
            inputs = tuple(xs)
        states = [Tensor(s.reshape((n, *shape)), requires_grad=True)
                  for s, shape in zip(state, self.state_shapes)]
        out, new = self.keras_cell.call(inputs, states)
        outs = [_tensor(o) for o in _flatten(out)]
        new_flat = [_tensor(t) for t in _flatten(new)]
        name = self.keras_cell.name
        if len(new_flat) != len(states):
            raise ValueError(f"{name}.call returned {len(new_flat)} new states; its state_size "
                             f"declares {len(states)}")
        if len(outs) != len(self.output_shapes):
            raise ValueError(f"{name}.call returned {len(outs)} outputs; its output_size "
                             f"declares {len(self.output_shapes)}")
        tape = Tape.record([*outs, *new_flat])
        y = np.concatenate([o.value.reshape(n, -1) for o in outs], axis=1)
        new_state = tuple(t.value.reshape(n, -1) for t in new_flat)
        return y, new_state, {"tape": tape, "xs": xs, "states": states, "dW": {}}

    def step_backward(self, dy: Array, dstate: State, cache: Any) -> tuple[Array, State]:
        tape: Tape = cache["tape"]
        k = len(self.output_shapes)
        seeds = [d.reshape(t.shape) for d, t in zip(_cut(dy, self.output_shapes),
                                                   tape.outputs[:k])]
        seeds += [d.reshape(t.shape) for d, t in zip(dstate, tape.outputs[k:])]
        grads = tape.backward(seeds)
        acc = cache["dW"]
        for key, var in self.keras_cell.__dict__.get("_variables", {}).items():
            if var.trainable and var in grads:
                acc[key] = acc[key] + grads[var] if key in acc else grads[var].copy()
        n = dy.shape[0]
        dx = np.concatenate([grads[x].reshape(n, -1) for x in cache["xs"]], axis=1)
        return dx, tuple(grads[s].reshape(n, -1) for s in cache["states"])

    def params_backward(self, x: Array, dP: Array, caches: list[Any]) -> Array:
        for cache in caches:
            if cache is None:
                continue
            for key, g in cache["dW"].items():
                self.grads[key] += g
            cache["dW"] = {}
        return dP

    # -- weights: a Keras-style cell's own layout, in add_weight order (trainable, then not)
    def get_keras_weights(self) -> list[Array]:
        return self.keras_cell.get_weights()

    def keras_weight_shapes(self) -> list[tuple[int, ...]]:
        return [w.shape for w in self.keras_cell.get_weights()]

    def set_keras_weights(self, weights: list[Array]) -> None:
        self.keras_cell.set_weights(weights)
