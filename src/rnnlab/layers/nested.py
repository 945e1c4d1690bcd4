"""Nested inputs, several outputs and shaped states of ``RNN``: between the user's structures and
the engine's flat arrays.

The engine (``layers.sweep``, ``kernels``) sees one input ``(N, T, D)``, one output ``(N, [T,] H)``
and states ``(N, size)``. A Keras-style cell (``cells.tape_cell``) may declare more:

- nested inputs: ``RNN`` given a list (or tuple) of sequences ``[(N, T, *s_1), (N, T, *s_2)]``
  runs a single Keras-style cell on them (the Keras RNN guide's ``NestedCell``); the engine gets
  them concatenated, ``(N, T, Σ prod(s_k))``, and the input gradients come back as the same list.
  Initial states then go through ``initial_state=`` (a list of arrays is the sequences).
- several outputs (``output_size=[[u1], [u2, u3]]``): returned as a list ``[(N, [T,] u1),
  (N, [T,] u2, u3)]``; with ``return_state`` the states follow them in the same flat list.
- shaped states (``state_size=[[u1], [u2, u3]]``): returned and accepted as ``(N, *shape)``
  (the flat ``(N, prod(shape))`` is accepted too); their gradients come back in the shape given.

Built-in cells have one flat input, one output ``(N, [T,] units)`` and flat states.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend
from ..cells.tape_cell import TapeCell

Array = np.ndarray
Shape = tuple[int, ...]


def nested_cell(cells: list[Any], inputs: Any) -> TapeCell | None:
    """The cell that takes ``inputs`` as nested sequences (a list or tuple of arrays or shapes
    given to an ``RNN`` of one Keras-style cell), or None."""
    if isinstance(inputs, (list, tuple)) and len(cells) == 1 and isinstance(cells[0], TapeCell):
        return cells[0]
    return None


def is_shape_list(value: Any) -> bool:
    """Whether ``value`` is a list of shapes (not one shape)."""
    return isinstance(value, (list, tuple)) and bool(value) and all(
        isinstance(s, (list, tuple)) for s in value)


def step_shapes(name: str, shapes: list[Any]) -> list[Shape]:
    """The per-step feature shapes ``s_k`` of nested sequences ``(N, T, *s_k)``."""
    out = []
    for k, shape in enumerate(shapes):
        if len(shape) < 3 or any(d is None for d in shape[2:]):
            raise ValueError(
                f"{name}: nested input {k} must have shape (batch, timesteps, *features) with "
                f"known features, got {tuple(shape)} (initial states go in initial_state=)")
        out.append(tuple(int(d) for d in shape[2:]))
    return out


def flatten_inputs(name: str, inputs: Any, shapes: list[Shape], dtype: str) -> Array:
    """Nested sequences -> ``(N, T, Σ prod(s_k))``, checking every shape against ``shapes``."""
    if len(inputs) != len(shapes):
        raise ValueError(f"{name} was built for {len(shapes)} nested inputs, got {len(inputs)}")
    arrays = [backend.as_float_array(v, dtype, f"{name} input {k}") for k, v in enumerate(inputs)]
    n, t = arrays[0].shape[:2] if arrays[0].ndim >= 2 else (None, None)
    for k, (a, s) in enumerate(zip(arrays, shapes)):
        if a.shape != (n, t, *s):
            raise ValueError(f"{name}: nested input {k} must have shape ({n}, {t}, "
                             f"{', '.join(map(str, s))}) like the others, got {a.shape}")
    if t == 0:
        raise ValueError(f"{name} needs at least one time step, got shape {arrays[0].shape}")
    return np.concatenate([a.reshape(n, t, -1) for a in arrays], axis=-1)


def split_last(a: Array, shapes: list[Shape]) -> list[Array]:
    """``a (..., Σ prod(s_k))`` -> ``[(..., *s_k)]`` (contiguous copies)."""
    edges = np.cumsum([int(np.prod(s)) for s in shapes])[:-1]
    lead = a.shape[:-1]
    return [np.ascontiguousarray(p).reshape(*lead, *s)
            for p, s in zip(np.split(a, edges, axis=-1), shapes)]


def join_last(parts: list[Any], shapes: list[Shape], lead: tuple[int, ...], dtype: str
              ) -> Array | None:
    """Inverse of ``split_last`` for gradients: ``[(..., *s_k) or None]`` -> ``(..., Σ)``
    (None: zeros; all None: None)."""
    if all(p is None for p in parts):
        return None
    return np.concatenate([
        np.zeros((*lead, int(np.prod(s))), dtype=dtype) if p is None
        else np.asarray(p, dtype=dtype).reshape(*lead, -1) for p, s in zip(parts, shapes)],
        axis=-1)


def output_shapes(cells: list[Any]) -> list[Shape]:
    """The shapes of one step's outputs: the last cell's ``output_shapes`` (Keras-style) or
    ``[(units,)]``."""
    last = cells[-1]
    return list(last.output_shapes) if isinstance(last, TapeCell) else [(last.output_size,)]


def state_shapes(cells: list[Any]) -> list[Shape]:
    """Every state's shape without the batch axis, cell by cell."""
    return [s for c in cells for s in (
        c.state_shapes if isinstance(c, TapeCell) else [(n,) for n in c.state_size])]
