"""One recurrent layer run step by step through the public cell contract, keeping every step.

``run_layer`` replays a recorded call (``_copy.Call``) of an ``RNN`` layer with ``cell.step``
(the reference per-step path, the same semantics as ``rnnlab.layers.sweep``: masks carry the
state, ``go_backwards``, ``zero_output_for_mask``) and keeps, for each cell of the stack, its
caches and the new state every step computed. ``state_gradients`` runs BPTT backwards over such
a run with ``cell.step_backward`` and returns, at every step, the total gradient of the new
hidden state ``ĥ_t`` (and of the LSTM cell state), full or truncated as ``truncate_gradient``
trains. ``state_jacobian_norms`` gives ``‖∂h_last/∂ĥ_k‖_F`` per sample and step.

Everything is indexed in *time order* (``t`` = position in the input), also for
``go_backwards`` layers, whose "last" step is then the first position. At a masked step the cell's
new state is discarded, so its gradient is 0. The hidden state of the built-in cells is their
output (``y_t = h_t``); for other cells the "hidden state gradient" is ``dy_t`` plus the gradient
carried into the first state tensor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..cells.base import Array, Cell


@dataclass
class CellRun:
    cell: Cell
    x: Array                    # (N, T, D) the cell's input, time order
    times: list[int]            # processing position -> time
    mask: Array | None          # (N, T) bool
    zero_output: bool
    caches: list[Any]           # time order
    states: list[tuple[Array, ...]]  # time order: the new state step t computed (before masking)
    outputs: Array              # (N, T, H) the cell's outputs, time order
    initial: tuple[Array, ...]  # the state before the first processed step

    @property
    def steps(self) -> int:
        return self.x.shape[1]


def _times(T: int, reverse: bool) -> list[int]:
    return list(range(T - 1, -1, -1)) if reverse else list(range(T))


def run_cell(cell: Cell, x: Array, state: tuple[Array, ...], mask: Array | None, reverse: bool,
             zero_output: bool) -> CellRun:
    N, T, _ = x.shape
    times = _times(T, reverse)
    initial = state
    P = cell.project_inputs(x)
    caches: list[Any] = [None] * T
    states: list[Any] = [None] * T
    Y = np.empty((N, T, cell.output_size), dtype=x.dtype)
    y_prev = np.zeros((N, cell.output_size), dtype=x.dtype)
    for t in times:
        y, new_state, caches[t] = cell.step(P[:, t], state, None)
        states[t] = new_state
        if mask is None:
            state = new_state
        else:
            m = mask[:, t, None]
            state = tuple(np.where(m, a, b) for a, b in zip(new_state, state))
            y = np.where(m, y, 0 if zero_output else y_prev)
        Y[:, t] = y_prev = y
    return CellRun(cell, x, times, mask, zero_output, caches, states, Y, initial)


def run_layer(layer: Any, x: Array, mask: Array | None, initial: list[Array]) -> list[CellRun]:
    """Every cell of ``layer`` over ``x`` in inference mode (no dropout), float64."""
    runs = []
    seq, k = x, 0
    for cell in layer.cells:
        n = len(cell.state_size)
        run = run_cell(cell, seq, tuple(initial[k:k + n]), mask, layer.go_backwards,
                       layer.zero_output_for_mask)
        k += n
        runs.append(run)
        seq = run.outputs
    return runs


def _backward(run: CellRun, dY: Array | None, dstate: tuple[Array, ...], lo: int, hi: int,
              dP: Array, dh: Array, dc: Array | None) -> tuple[Array, ...]:
    """Processing positions ``hi-1 … lo``; ``dY`` (N, T, H) in time order. Adds into ``dP``
    (time order), the hidden-state gradients ``dh`` and the cell-state gradients ``dc``."""
    cell, mask = run.cell, run.mask
    carry = None                                           # gradient of the carried output
    for i in range(hi - 1, lo - 1, -1):
        t = run.times[i]
        dy = np.zeros_like(dh[:, t]) if dY is None else dY[:, t]
        if carry is not None:
            dy = dy + carry
        if mask is None:
            d_out, d_in = dy, dstate
        else:
            m = mask[:, t, None].astype(dP.dtype)
            d_out, d_in = dy * m, tuple(d * m for d in dstate)
        total_h = d_out + d_in[0]
        dh[:, t] += total_h
        if dc is not None:
            dc[:, t] += cell.cell_state_gradient(total_h, d_in[1],  # type: ignore[attr-defined]
                                                 run.caches[t])
        dp, dprev = cell.step_backward(d_out, d_in, run.caches[t])
        if mask is None:
            dstate = dprev
        else:
            keep = 1.0 - m
            dstate = tuple(a + d * keep for a, d in zip(dprev, dstate))
            carry = None if run.zero_output else dy * keep
        dP[:, t] += dp
    return dstate


def _has_cell_state(cell: Cell) -> bool:
    return hasattr(cell, "cell_state_gradient") and len(cell.state_size) > 1


def state_gradients(run: CellRun, dY: Array | None, dfinal: tuple[Array, ...], truncate: int
                    ) -> tuple[Array, Array | None, Array]:
    """``(dh (N, T, H), dc (N, T, H) or None, dX (N, T, D))`` of one cell run, for the output
    gradients ``dY`` (time order, None = zeros) and the final-state gradients ``dfinal``.
    ``truncate`` > 0: the truncated BPTT ``rnnlab.layers.sweep`` trains with (each output's
    gradient, and the final state's, flows back at most that many steps)."""
    N, T, _ = run.x.shape
    H = run.cell.state_size[0]
    dh = np.zeros((N, T, H))
    dc = np.zeros((N, T, H)) if _has_cell_state(run.cell) else None
    width = run.cell.project_inputs(run.x[:1, :1]).shape[-1]
    dP = np.zeros((N, T, width))
    if truncate <= 0 or truncate >= T:
        _backward(run, dY, dfinal, 0, T, dP, dh, dc)
    else:
        zero = tuple(np.zeros_like(d) for d in dfinal)
        _backward(run, None, dfinal, T - truncate, T, dP, dh, dc)
        if dY is not None:
            single = np.zeros_like(dY)
            for i in range(T):
                t = run.times[i]
                single[:, t] = dY[:, t]
                _backward(run, single, zero, max(0, i - truncate + 1), i + 1, dP, dh, dc)
                single[:, t] = 0
    dX = run.cell.params_backward(run.x, dP, run.caches)
    return dh, dc, dX


def last_positions(run: CellRun) -> Array:
    """Per sample, the processing position of its last valid step (-1: none)."""
    N, T = run.x.shape[:2]
    if run.mask is None:
        return np.full(N, T - 1)
    valid = run.mask[:, run.times]                         # (N, T) processing order
    any_valid = valid.any(axis=1)
    last = T - 1 - np.argmax(valid[:, ::-1], axis=1)
    return np.where(any_valid, last, -1)


def state_jacobian_norms(run: CellRun) -> Array:
    """``(N, T)``: the Frobenius norm of ``∂h_L/∂ĥ_t``, ``h_L`` the hidden state after each
    sample's last valid step (H backward sweeps, one per unit of ``h_L``)."""
    N, T, _ = run.x.shape
    H = run.cell.state_size[0]
    last = last_positions(run)
    rows = np.flatnonzero(last >= 0)
    sq = np.zeros((N, T))
    width = run.cell.project_inputs(run.x[:1, :1]).shape[-1]
    zero = tuple(np.zeros((N, s)) for s in run.cell.state_size)
    for j in range(H):
        seed = np.zeros((N, T, H))
        seed[rows, [run.times[p] for p in last[rows]], j] = 1.0
        dh = np.zeros((N, T, H))
        _backward(run, seed, zero, 0, T, np.zeros((N, T, width)), dh, None)
        sq += (dh ** 2).sum(axis=-1)
    return np.sqrt(sq)
