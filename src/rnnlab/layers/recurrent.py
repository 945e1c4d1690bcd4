"""The generic recurrent layer ``RNN(cell)`` and the Keras-named ``SimpleRNN``, ``LSTM``, ``GRU``.

``RNN`` runs any cell (see ``rnnlab.cells.base``) over a batch-major sequence ``x (N, T, D)``;
a list of cells is run as a stack (each cell's output sequence feeds the next).

Outputs: ``(N, H)`` (last output) or ``(N, T, H)`` with ``return_sequences``; with
``return_state`` a list ``[output, *final_states]`` (states of every cell, in order; LSTM: h, c).
Arguments equal Keras 3's, plus ``truncate_gradient`` (k > 0: gradients flow back at most k steps)
and ``zero_output_for_mask`` (masked steps output zeros instead of the previous output).

A single Keras-style cell may take nested inputs (a list of sequences), return several outputs
and carry states of any shape (``rnnlab.layers.nested``).

Dropout (training only): one input mask ``(N, D)`` and one recurrent mask ``(N, H)`` per sequence
and cell, reused at every step (Keras). Masks are drawn from the layer's seed and a call counter.
``stateful=True`` keeps the final states as the next call's initial states (``reset_states()``).

Engines (``rnnlab.kernels``): a stack whose cells all provide a compiled sweep
(``cell.compiled_sweep()``) runs on it, any other on the readable reference loop
(``rnnlab.layers.sweep`` over ``cell.step``), as does everything under
``rnnlab.engine("reference")``. This layer is the one orchestrator of both: stacking,
``go_backwards``, masks, dropout masks, initial and returned states, truncation windows and state
gradients, on one time-major layout. ``layer.engine_choice()`` says which engine a call runs on
and why; the cache of each call records it. What the sweeps compute on the way is handed back
for introspection instead of being recomputed elsewhere: ``trace`` (every step's states and
gates) and ``backward_with_state_grads`` / ``cell_state_grads`` (every step's state gradients).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import backend, kernels
from .._registry import register
from ..cells import Cell, GRUCell, LSTMCell, SimpleRNNCell
from ..cells.base import Array
from ..cells.stacked import StackedRNNCells
from ..cells.tape_cell import as_cell
from ..kernels import driver as compiled
from ..kernels.workspace import Workspace
from . import nested
from .base import Layer
from .sweep import reference_backward, reference_forward, windows


@dataclass
class RNNCache:
    """What ``RNN.forward`` keeps for ``backward``: the engine that ran (and why, when it is the
    reference), one sweep run per cell with its input-dropout mask, ``(N, T)`` and whether the
    caller passed initial states (their gradients are returned)."""

    engine: str
    reason: str
    runs: list[tuple[Any, Array | None]]
    shape: tuple[int, int]
    want_states: bool
    state_shapes: list[tuple[int, ...]] | None = None   # of the given initial states
    nested: bool = False                                # inputs were a list of sequences


@register
class RNN(Layer):
    supports_masking = True
    weight_roles = ("kernel", "recurrent_kernel", "bias")  # of the first cell (regularization)
    keras_only_args = ("implementation", "use_cudnn")      # kept in the config, no effect here

    def __init__(
        self,
        cell: Cell | list[Cell],
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        zero_output_for_mask: bool = False,
        truncate_gradient: int = -1,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(cell, StackedRNNCells):
            cell = list(cell.cells)
        cells = list(cell) if isinstance(cell, (list, tuple)) else [cell]
        cells = [as_cell(c) for c in cells]  # Keras-style custom cells run on the ops tape
        if not cells or not all(isinstance(c, Cell) for c in cells):
            raise TypeError(f"RNN expects a Cell or a list of Cells, got {cell!r}")
        if len({id(c) for c in cells}) != len(cells):
            raise ValueError("each cell of a stack must be a distinct instance; got the same "
                             "cell object more than once")
        if (isinstance(truncate_gradient, bool)
                or not isinstance(truncate_gradient, (int, np.integer))
                or (truncate_gradient != -1 and truncate_gradient < 1)):
            raise ValueError(
                f"truncate_gradient must be -1 (full BPTT) or a positive number of steps, "
                f"got {truncate_gradient!r}")
        self.cells = cells
        for i, c in enumerate(cells):
            self.add_child("cell" if len(cells) == 1 else f"cells.{i}", c)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.truncate_gradient = int(truncate_gradient)
        self.states: list[Array] | None = None
        # the compiled sweeps' buffers, reused across calls (kernels.workspace)
        self.workspace: Workspace | None = Workspace()

    @property
    def cell(self) -> Cell:
        return self.cells[0] if len(self.cells) == 1 else self.cells  # type: ignore[return-value]

    @property
    def units(self) -> int:
        return self.cells[-1].output_size

    @property
    def state_sizes(self) -> list[int]:
        return [s for c in self.cells for s in c.state_size]

    @property
    def state_shapes(self) -> list[tuple[int, ...]]:
        """Each state's shape without the batch axis (``(size,)`` but for shaped states)."""
        return nested.state_shapes(self.cells)

    @property
    def output_shapes(self) -> list[tuple[int, ...]]:
        """The shape of each output of one step (one ``(units,)`` but for a Keras-style cell
        with several outputs)."""
        return nested.output_shapes(self.cells)

    # -- building
    def build(self, input_shape: Any) -> None:
        cell = nested.nested_cell(self.cells, input_shape) if nested.is_shape_list(
            input_shape) else None
        if cell is not None:
            cell.input_shapes = nested.step_shapes(self.name, list(input_shape))
            input_shape = (*input_shape[0][:2], sum(int(np.prod(s)) for s in cell.input_shapes))
        elif isinstance(input_shape, list):
            input_shape = input_shape[0]
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(
                f"{self.name} expects inputs of shape (batch, timesteps, features) with a known "
                f"feature size, got {tuple(input_shape)}")
        rng = self.layer_rng(0)
        dim = int(input_shape[-1])
        for c in self.cells:
            c.build(dim, self.dtype, rng)
            dim = c.output_size
        self.input_dim = int(input_shape[-1])
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> Any:
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        n, t = input_shape[0], input_shape[1]
        lead = (n, t) if self.return_sequences else (n,)
        outs = [(*lead, *s) for s in self.output_shapes]
        states = [(n, *s) for s in self.state_shapes]
        if self.return_state:
            return outs + states
        return outs if len(outs) > 1 else outs[0]

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        if isinstance(mask, list):
            mask = mask[0]
        out = mask if self.return_sequences else None
        heads = [out] * len(self.output_shapes)
        if self.return_state:
            return heads + [None] * len(self.state_sizes)
        return heads if len(heads) > 1 else out

    # -- states
    def reset_states(self, states: Any = None) -> None:
        """Stateful layers: zero the kept states, or set them to ``states`` (a list)."""
        if states is None:
            self.states = None
            return
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        self.states = [np.array(s, dtype=self.dtype) for s in self._check_states(states, None)]

    def _check_states(self, states: list[Any], batch: int | None) -> list[Array]:
        """The states as the engine's flat ``(N, size)`` arrays; a shaped state may be given
        as ``(N, *shape)`` or flat."""
        sizes = self.state_sizes
        if len(states) != len(sizes):
            raise ValueError(
                f"{self.name} expects {len(sizes)} initial state tensor(s) of sizes {sizes}, "
                f"got {len(states)}")
        out = []
        for k, (s, size, shape) in enumerate(zip(states, sizes, self.state_shapes)):
            arr = backend.as_float_array(s, self.dtype, f"{self.name} initial state {k}")
            n = batch if batch is not None else (arr.shape[0] if arr.ndim else None)
            if arr.shape not in ((n, size), (n, *shape)):
                raise ValueError(f"{self.name} initial state {k}: expected shape "
                                 f"{(n, *shape)}, got {arr.shape}")
            out.append(arr.reshape(arr.shape[0], size))
        return out

    # -- engine
    def validate_x(self, x: Any) -> Array:
        x = np.asarray(x)
        backend.check_rank(x, 3, self.name, "(batch, timesteps, features)")
        if self.built and x.shape[-1] != self.input_dim:
            raise ValueError(
                f"{self.name} expects {self.input_dim} input features (shape (batch, timesteps, "
                f"{self.input_dim})), got shape {x.shape}")
        if x.shape[1] == 0:
            raise ValueError(f"{self.name} needs at least one time step, got shape {x.shape}")
        return x.astype(self.dtype, copy=False)

    def _dropout_masks(self, n: int, training: bool) -> list[tuple[Array | None, Array | None]]:
        rates = [(getattr(c, "dropout", 0.0), getattr(c, "recurrent_dropout", 0.0))
                 for c in self.cells] if training else []
        if not any(a or b for a, b in rates):
            return [(None, None)] * len(self.cells)
        rng = self.draw_rng()
        masks = []
        dim = self.input_dim
        for c, (p, q) in zip(self.cells, rates):
            in_mask = _keep(rng, (n, dim), p, self.dtype) if p else None
            rec_mask = _keep(rng, (n, c.state_size[0]), q, self.dtype) if q else None
            masks.append((in_mask, rec_mask))
            dim = c.output_size
        return masks

    def forward(self, inputs: Any, training: bool = False, mask: Any = None,
                initial_state: Any = None) -> tuple[Any, Any]:
        return self._run(inputs, training, mask, initial_state, keep_cache=True)

    def infer(self, inputs: Any, training: bool = False, mask: Any = None,
              initial_state: Any = None, **kwargs: Any) -> Any:
        """``forward``'s outputs, keeping no backward cache (``Layer.infer``); on the compiled
        engine the last cell of a layer that returns only its last step sweeps over rings
        where its sweep can (``driver.forward(last_only=True)``: the LSTM). A subclass with a
        ``forward`` of its own is run through it."""
        if type(self).forward is not RNN.forward:
            return super().infer(inputs, training=training, mask=mask,
                                 initial_state=initial_state, **kwargs)
        if kwargs:
            raise TypeError(f"{self.name}: unexpected call argument(s) {sorted(kwargs)}")
        return self._run(inputs, training, mask, initial_state, keep_cache=False)[0]

    def _run(self, inputs: Any, training: bool, mask: Any, initial_state: Any,
             keep_cache: bool) -> tuple[Any, Any]:
        cell = nested.nested_cell(self.cells, inputs)
        listed = cell is None and isinstance(inputs, (list, tuple))
        if cell is not None:
            self.maybe_build([np.shape(v) for v in inputs])
            if cell.input_shapes is None:
                raise ValueError(f"{self.name} was built for one input sequence, got a list "
                                 f"of {len(inputs)}")
            x = nested.flatten_inputs(self.name, inputs, cell.input_shapes, self.dtype)
            if isinstance(mask, list):
                mask = mask[0]
        else:
            if listed:
                inputs, initial_state = inputs[0], list(inputs[1:])
            x = self.validate_x(inputs)
            self.maybe_build(x.shape)
        N, T, _ = x.shape
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            if mask.shape != (N, T):
                raise ValueError(f"{self.name}: mask must have shape ({N}, {T}), got {mask.shape}")
        given = initial_state is not None
        given_shapes = None
        if given:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [
                initial_state]
            flat = self._check_states(states, N)
            given_shapes = [tuple(np.shape(s))[1:] for s in states]
        elif self.stateful and self.states is not None:
            if self.states[0].shape[0] != N:
                raise ValueError(
                    f"{self.name} is stateful with batch size {self.states[0].shape[0]}; got a "
                    f"batch of {N} (call reset_states() to start over)")
            flat = self.states
        else:
            flat = [np.zeros((N, s), dtype=self.dtype) for s in self.state_sizes]
        masks = self._dropout_masks(N, training)
        engine, sweeps, reason = kernels.choose(self.cells)
        runs, finals, cur = self._sweep_cells(x, flat, mask, masks, engine, sweeps, keep_cache,
                                              last_only=not (keep_cache or self.return_sequences))
        seq = cur[::-1] if self.go_backwards else cur                    # processing order
        if self.stateful:
            self.states = [s.copy() for s in finals]
        if self.return_sequences:
            out = np.ascontiguousarray(seq.swapaxes(0, 1))
        else:
            out = seq[-1].copy()
        shapes = self.output_shapes
        outs = [out] if shapes == [(self.units,)] else nested.split_last(out, shapes)
        if self.return_state:
            outputs: Any = outs + [f.reshape(N, *s) for f, s in zip(finals, self.state_shapes)]
        else:
            outputs = outs if len(outs) > 1 else outs[0]
        return outputs, RNNCache(engine, reason, runs, (N, T), given or listed, given_shapes,
                                 cell is not None)

    def _sweep_cells(self, x: Array, flat: list[Array], mask: Array | None, masks: list[Any],
                     engine: str, sweeps: list[Any], keep_cache: bool = True,
                     keep_states: bool = False, last_only: bool = False
                     ) -> tuple[list[Any], list[Array], Array]:
        """Every cell's forward sweep, bottom up, time-major: ``(runs, final states, last
        cell's outputs (T, N, H) in time order)``; with ``last_only`` (no backward cache) the
        last cell's compiled sweep may keep only its last step's outputs (``(1, N, H)``)."""
        cur = x.swapaxes(0, 1)                      # (T, N, D): the compiled driver copies it
        if engine != "compiled":                    # where its sweep does not read it there
            cur = np.ascontiguousarray(cur)
        mask_tm = None if mask is None else np.ascontiguousarray(mask.T)  # (T, N)
        runs: list[tuple[Any, Array | None]] = []
        finals: list[Array] = []
        k = 0
        for i, (c, (in_mask, rec_mask)) in enumerate(zip(self.cells, masks)):
            n_states = len(c.state_size)
            state0 = tuple(flat[k:k + n_states])
            k += n_states
            xin = cur if in_mask is None else cur * in_mask[None, :, :]
            if engine == "compiled":
                run: Any = compiled.forward(sweeps[i], c, xin, state0, mask_tm, rec_mask,
                                            self.go_backwards, self.zero_output_for_mask,
                                            keep_cache=keep_cache, ws=self.workspace,
                                            last_only=last_only and i == len(self.cells) - 1)
                finals.extend(sweeps[i].final_state(run))
                cur = compiled.outputs(run)                              # time order
            else:
                run = reference_forward(c, xin, state0, mask_tm, rec_mask, self.go_backwards,
                                        self.zero_output_for_mask, keep_cache=keep_cache,
                                        keep_states=keep_states)
                finals.extend(run.final)
                cur = run.Y
            runs.append((run, in_mask))
        return runs, finals, cur

    def trace(self, inputs: Any, mask: Any = None, initial_state: Any = None
              ) -> list[dict[str, Array]]:
        """Look inside one inference call (no dropout, no backward cache, states untouched):
        per cell, ``{"state0", "state1", ...: (N, T, size)}`` the state after every step (time
        order; masked steps carry it), ``"output": (N, T, H)`` and, for a cell with
        ``gate_names``, ``"gates"``: the activated gates side by side in that order (LSTM i, f,
        g, o; GRU r, z, n); on the compiled engine also what else its sweep keeps
        (``CompiledSweep.step_states``: LSTM ``tanh_c``, GRU ``hn``), batch-major."""
        x = self.validate_x(inputs)
        self.maybe_build(x.shape)
        N = x.shape[0]
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [
                initial_state]
            flat = self._check_states(states, N)
        else:
            flat = [np.zeros((N, s), dtype=self.dtype) for s in self.state_sizes]
        engine, sweeps, _ = kernels.choose(self.cells)
        masks = self._dropout_masks(N, False)
        runs, _, _ = self._sweep_cells(x, flat, mask, masks, engine, sweeps, keep_cache=False,
                                       keep_states=True)
        out: list[dict[str, Array]] = []
        for i, (c, (run, _)) in enumerate(zip(self.cells, runs)):
            if engine == "compiled":
                seen = sweeps[i].step_states(run)
                y = compiled.outputs(run)
                per = {"state0": seen.pop("h")}
                if "c" in seen:
                    per["state1"] = seen.pop("c")
                per.update(seen)
            else:
                per = {f"state{k}": np.stack([s[k] for s in run.states])
                       for k in range(len(c.state_size))}
                if run.gates is not None:
                    per["gates"] = np.stack(run.gates)
                y = run.Y
            per["output"] = y
            out.append({k: np.ascontiguousarray(np.asarray(v).swapaxes(0, 1))
                        for k, v in per.items()})
        return out

    def engine_choice(self) -> tuple[str, str]:
        """``(engine, reason)`` the next call runs on (``rnnlab.kernels.choose``); no side
        effects."""
        engine, _, reason = kernels.choose(self.cells)
        return engine, reason

    def _split_output_grads(self, d_outputs: Any, lead: tuple[int, ...]
                            ) -> tuple[Any, list[Any]]:
        """``(d_output (N, [T,] H) or None, [d_state per state, None where absent])`` from
        ``backward``'s input (None: no gradient at all)."""
        if d_outputs is None:
            return None, [None] * len(self.state_sizes)
        shapes = self.output_shapes
        k = len(shapes)
        if self.return_state:
            heads, d_states = list(d_outputs[:k]), list(d_outputs[k:])
        else:
            heads = list(d_outputs) if k > 1 else [d_outputs]
            d_states = [None] * len(self.state_sizes)
        if shapes == [(self.units,)]:
            return heads[0], d_states
        return nested.join_last(heads, shapes, lead, self.dtype), d_states

    def _state_grads(self, cell: Any, d_states: list[Any], k: int, N: int
                     ) -> tuple[Array, ...]:
        """Gradients of ``cell``'s final states (``d_states[k:]``), zeros where absent."""
        return tuple(
            np.zeros((N, s), dtype=self.dtype) if d is None
            else np.asarray(d, self.dtype).reshape(N, s)
            for d, s in zip(d_states[k:k + len(cell.state_size)], cell.state_size))

    def _cell_backward(self, cache: RNNCache, i: int, dYt: Array | None,
                       dstate: tuple[Array, ...], wins: list[Any], need_dx: bool,
                       state_grads: bool) -> tuple[Array | None, tuple[Array, ...], Any]:
        """BPTT of cell ``i`` of the stack on the engine its forward ran on: ``(dX (T, N, D)
        time order or None, d_initial_state, per-step state gradients or None)``."""
        c, (run, in_mask) = self.cells[i], cache.runs[i]
        if cache.engine == "compiled":
            dX, d0, dS = compiled.backward(run, c, dYt, dstate, wins, need_dx=need_dx,
                                           state_grads=state_grads)
        else:
            dX, d0, dS = reference_backward(c, run, dYt, dstate, wins, state_grads=state_grads)
        if dX is not None and in_mask is not None:
            dX = dX * in_mask[None, :, :]
        return dX, d0, dS

    def _backward(self, d_outputs: Any, cache: RNNCache, need_dx: bool = True,
                  state_grads: list[Any] | None = None) -> Any:
        N, T = cache.shape
        d_out, d_states = self._split_output_grads(
            d_outputs, (N, T) if self.return_sequences else (N,))
        H = self.units
        dYt: Array | None
        if d_out is None:
            dYt = None
        elif self.return_sequences:
            d = np.asarray(d_out, dtype=self.dtype).swapaxes(0, 1)         # processing order
            dYt = np.ascontiguousarray(d[::-1] if self.go_backwards else d)  # time order
        else:
            dYt = np.zeros((T, N, H), dtype=self.dtype)
            dYt[0 if self.go_backwards else T - 1] = d_out
        wins = windows(T, self.truncate_gradient)
        d_init: list[Array] = []
        k = len(self.state_sizes)
        for i in reversed(range(len(self.cells))):
            k -= len(self.cells[i].state_size)
            dstate = self._state_grads(self.cells[i], d_states, k, N)
            dX, d0, dS = self._cell_backward(cache, i, dYt, dstate, wins, need_dx or i > 0,
                                             state_grads is not None)
            if state_grads is not None:
                state_grads.insert(0, tuple(np.ascontiguousarray(g.swapaxes(0, 1)) for g in dS))
            if dX is None:
                return None
            d_init = list(d0) + d_init
            dYt = dX                                  # gradient of the lower cell's outputs
        assert dYt is not None
        dx = dYt.swapaxes(0, 1)                                          # (N, T, D) time order
        if cache.state_shapes is not None:
            d_init = [d.reshape(N, *s) for d, s in zip(d_init, cache.state_shapes)]
        if cache.nested:
            cell = self.cells[0]
            dxs = nested.split_last(dx, cell.input_shapes)  # type: ignore[attr-defined]
            return dxs + d_init if cache.want_states else dxs
        if cache.want_states:
            return [dx] + d_init
        return dx

    def backward_params(self, d_outputs: Any, cache: Any) -> None:
        """Parameter gradients only: the compiled path skips the lowest cell's input-gradient
        product (the reference path computes and drops it)."""
        self._backward(d_outputs, cache, need_dx=False)

    def backward(self, d_outputs: Any, cache: Any) -> Any:
        return self._backward(d_outputs, cache)

    def backward_with_state_grads(self, d_outputs: Any, cache: Any, need_dx: bool = True
                                  ) -> tuple[Any, list[tuple[Array, ...]]]:
        """``backward`` (``backward_params`` without ``need_dx``: the first item is then None)
        that also hands back what its sweeps computed on the way: per cell of the stack (bottom
        up), the total gradient of the state the cell computed at every step, ``(N, T, size)``
        in time order (``h``; LSTM ``h, c``), through every later step, the outputs and the
        final states, truncated as ``truncate_gradient`` trains and 0 at masked steps. Needs a
        sweep that hands them back (the reference, and the built-in compiled sweeps)."""
        grads: list[tuple[Array, ...]] = []
        return self._backward(d_outputs, cache, need_dx, grads), grads

    def cell_state_grads(self, cache: Any, index: int, d_final: list[Array]
                         ) -> tuple[Array, ...]:
        """The per-step state gradients (as ``backward_with_state_grads``) of cell ``index`` of
        the stack alone, within its own recurrence (its inputs held fixed), from the gradients
        ``d_final`` of its final states only (one ``(N, size)`` array per state), in full BPTT
        whatever ``truncate_gradient``: one backward sweep of that cell (its parameter
        gradients are added as in ``backward``). Diagnostics build state Jacobians from it."""
        N, T = cache.shape
        dstate = tuple(np.asarray(d, dtype=self.dtype) for d in d_final)
        _, _, dS = self._cell_backward(cache, index, None, dstate, windows(T, -1), False, True)
        return tuple(np.ascontiguousarray(g.swapaxes(0, 1)) for g in dS)

    # -- weights
    def get_weights(self) -> list[Array]:
        if not self.built:
            return []
        return [w for c in self.cells for w in c.get_keras_weights()]  # type: ignore[attr-defined]

    def set_weights(self, weights: list[Array]) -> None:
        weights = list(weights)
        for c in self.cells:
            n = len(c.keras_weight_shapes())  # type: ignore[attr-defined]
            c.set_keras_weights(weights[:n])  # type: ignore[attr-defined]
            weights = weights[n:]
        if weights:
            raise ValueError(f"{self.name}: {len(weights)} weight array(s) left over")


def _keep(rng: np.random.Generator, shape: tuple[int, int], rate: float, dtype: str) -> Array:
    """Inverted-dropout keep mask: 0 with probability ``rate``, else 1/(1-rate)."""
    return ((rng.random(shape) >= rate) / (1.0 - rate)).astype(dtype)


_RNN_ARGS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll",
             "zero_output_for_mask", "truncate_gradient", "seed")


@register
class SimpleRNN(RNN):
    """Fully connected Elman RNN layer (``SimpleRNNCell``), Keras's arguments and defaults."""

    def __init__(self, units: int, activation: str | None = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 zero_output_for_mask: bool = False, truncate_gradient: int = -1,
                 seed: int | None = None, recurrent_bias: bool | None = None,
                 **kwargs: Any) -> None:
        cell = SimpleRNNCell(
            units, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, recurrent_bias=recurrent_bias, dropout=dropout,
            recurrent_dropout=recurrent_dropout)
        super().__init__(cell, return_sequences, return_state, go_backwards, stateful, unroll,
                         zero_output_for_mask, truncate_gradient, seed, **kwargs)


@register
class LSTM(RNN):
    """Long short-term memory layer (``LSTMCell``), Keras's arguments and defaults."""

    def __init__(self, units: int, activation: str | None = "tanh",
                 recurrent_activation: str | None = "sigmoid", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 unit_forget_bias: bool = True, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, stateful: bool = False,
                 unroll: bool = False, zero_output_for_mask: bool = False,
                 truncate_gradient: int = -1, seed: int | None = None,
                 recurrent_bias: bool | None = None, **kwargs: Any) -> None:
        cell = LSTMCell(
            units, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias, recurrent_bias=recurrent_bias, dropout=dropout,
            recurrent_dropout=recurrent_dropout)
        super().__init__(cell, return_sequences, return_state, go_backwards, stateful, unroll,
                         zero_output_for_mask, truncate_gradient, seed, **kwargs)


@register
class GRU(RNN):
    """Gated recurrent unit layer (``GRUCell``), Keras's arguments and defaults."""

    def __init__(self, units: int, activation: str | None = "tanh",
                 recurrent_activation: str | None = "sigmoid", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 reset_after: bool = True, zero_output_for_mask: bool = False,
                 truncate_gradient: int = -1, seed: int | None = None,
                 recurrent_bias: bool | None = None, **kwargs: Any) -> None:
        cell = GRUCell(
            units, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            reset_after=reset_after, recurrent_bias=recurrent_bias, dropout=dropout,
            recurrent_dropout=recurrent_dropout)
        super().__init__(cell, return_sequences, return_state, go_backwards, stateful, unroll,
                         zero_output_for_mask, truncate_gradient, seed, **kwargs)
