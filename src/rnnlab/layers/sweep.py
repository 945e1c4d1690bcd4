"""Run one cell over a sequence (forward) and back (BPTT): the reference loop, and the pieces
both kinds of sweep share (truncation windows).

Every cell can run here through ``cell.step`` / ``cell.step_backward``; this is the readable
definition of the recurrent layers' numbers. A cell that provides a compiled sweep
(``cell.compiled_sweep()``, ``rnnlab.kernels.driver``) runs that instead unless the reference
engine is chosen (``rnnlab.engine("reference")``); the two are tested against each other
(tests/test_fastpath.py).

Conventions, as for the compiled sweeps: everything *time-major* and in *time order*
(``x (T, N, D)``, outputs ``(T, N, H)``, mask ``(T, N)``); with ``reverse`` the steps are
processed from ``T-1`` down to 0 (processing position ``i`` is time ``T-1-i``).

Masks: at a masked step the state is carried through unchanged and the output is the previous
output (zeros before the first unmasked step) or zeros with ``zero_output``; in the backward pass
a masked step passes the state gradient straight through and produces no input or parameter
gradient.

Truncated BPTT (``truncate``=k > 0): the gradient of every output (and of the final state) flows
back through at most k steps, as in the classic tutorials' truncated BPTT; the cost is O(T·k).
``windows`` lists those backward passes once for both kinds of sweep.

State gradients (``state_grads=True``, for diagnostics): the backward sweep also returns, at
every step, the total gradient of the state the cell computed there (``cell.new_state_grads``:
``h``, and LSTM's ``c``), summed over the windows; 0 at a masked step (its new state is
discarded). The compiled sweeps hand back the same (``driver.backward``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from ..cells.base import Array, Cell, State


class Window(NamedTuple):
    """One backward pass over processing positions ``hi-1 … lo``: output gradients enter at
    positions ``dlo <= i < dhi``; it starts from the final state's gradient (``from_final``) or
    from zeros. Its state gradient reaches the initial state when ``lo == 0``."""

    lo: int
    hi: int
    dlo: int
    dhi: int
    from_final: bool


def windows(T: int, truncate: int) -> list[Window]:
    """The backward passes of full (``truncate`` <= 0 or >= T) or truncated BPTT: the final
    state's gradient through the last k steps, then each output's gradient through at most k
    steps."""
    if truncate <= 0 or truncate >= T:
        return [Window(0, T, 0, T, True)]
    out = [Window(T - truncate, T, 0, 0, True)]
    out += [Window(max(0, i - truncate + 1), i + 1, i, i + 1, False) for i in range(T)]
    return out


def _times(T: int, reverse: bool) -> list[int]:
    return list(range(T - 1, -1, -1)) if reverse else list(range(T))


@dataclass
class ReferenceRun:
    """What the reference forward sweep keeps: the cell's input (batch-major view, as
    ``project_inputs``/``params_backward`` take it), per-step caches (time order), outputs and
    final state, and the flags of the call."""

    x: Array | None
    caches: list[Any] | None
    Y: Array
    final: State
    mask: Array | None
    reverse: bool
    zero_output: bool
    states: list[State] | None = None
    gates: list[Array] | None = None


def reference_forward(cell: Cell, x_tm: Array, state: State, mask_tm: Array | None,
                      rec_mask: Array | None, reverse: bool, zero_output: bool,
                      keep_cache: bool = True, keep_states: bool = False) -> ReferenceRun:
    """Forward over all steps of ``x_tm (T, N, D)``; outputs ``(T, N, H)`` in time order.
    ``keep_cache=False`` keeps no backward cache (inference); ``keep_states`` keeps every
    step's new state and, for a cell with ``gate_names``, its gates side by side ``(N, G)``
    (time order) for introspection."""
    T, N, _ = x_tm.shape
    x = x_tm.swapaxes(0, 1)                                              # (N, T, D) view
    P = cell.project_inputs(x)                                           # (N, T, P)
    Y = np.empty((T, N, cell.output_size), dtype=x_tm.dtype)
    caches: list[Any] = [None] * T
    states: list[Any] = [None] * T
    gates: list[Any] | None = [None] * T if keep_states and cell.gate_names else None
    y_prev = np.zeros((N, cell.output_size), dtype=x_tm.dtype)
    for t in _times(T, reverse):
        y, new_state, cache = cell.step(P[:, t], state, rec_mask)
        if mask_tm is not None:
            m = mask_tm[t][:, None]                                      # (N, 1) bool
            new_state = tuple(np.where(m, a, b) for a, b in zip(new_state, state))
            y = np.where(m, y, 0 if zero_output else y_prev)
        Y[t] = y_prev = y
        state = new_state
        if keep_cache:
            caches[t] = cache
        if keep_states:
            states[t] = state
        if gates is not None:
            values = cell.gate_values(cache)
            gates[t] = np.concatenate([values[g] for g in cell.gate_names], axis=-1)
    return ReferenceRun(x if keep_cache else None, caches if keep_cache else None, Y, state,
                        mask_tm, reverse, zero_output, states if keep_states else None, gates)


def _backward_window(cell: Cell, run: ReferenceRun, dY: Array | None, dstate: State,
                     dP: Array, w: Window, dS: list[Array] | None) -> State:
    """Backward over processing positions ``w.hi-1 … w.lo``; adds into ``dP`` (batch-major,
    time order) and returns the gradient with respect to the state before position ``lo``.
    ``dS`` (a list, filled on first use): adds each step's new-state gradients into it."""
    assert run.caches is not None
    T = dP.shape[1]
    times = _times(T, run.reverse)
    mask = run.mask
    carry = None                                                         # grad of y_prev
    for i in range(w.hi - 1, w.lo - 1, -1):
        t = times[i]
        if dY is None or not w.dlo <= i < w.dhi:
            dy = np.zeros((dP.shape[0], cell.output_size), dtype=dP.dtype)
        else:
            dy = dY[t]
        if carry is not None:
            dy = dy + carry
        if mask is None:
            dy_in, ds_in = dy, dstate
        else:
            m = mask[t][:, None].astype(dP.dtype)                        # (N, 1)
            dy_in, ds_in = dy * m, tuple(d * m for d in dstate)
        if dS is not None:
            _add_state_grads(dS, t, T, cell.new_state_grads(dy_in, ds_in, run.caches[t]))
        dp, dprev = cell.step_backward(dy_in, ds_in, run.caches[t])
        if mask is None:
            dstate = dprev
        else:
            keep = 1.0 - m
            dstate = tuple(a + d * keep for a, d in zip(dprev, dstate))
            carry = None if run.zero_output else dy * keep
        dP[:, t] += dp
    return dstate


def _add_state_grads(dS: list[Array], t: int, T: int, grads: State) -> None:
    """``dS[k][t] += grads[k]`` (``dS``: time-major ``(T, N, size)`` arrays, made on first use)."""
    if not dS:
        dS.extend(np.zeros((T,) + g.shape, dtype=g.dtype) for g in grads)
    for acc, g in zip(dS, grads):
        acc[t] += g


def reference_backward(cell: Cell, run: ReferenceRun, dYt: Array | None, dstate: State,
                       wins: list[Window], state_grads: bool = False
                       ) -> tuple[Array, State, tuple[Array, ...] | None]:
    """BPTT of one reference sweep over ``wins``: returns ``(dX (T, N, D) time-major,
    d_initial_state, dS)`` and adds the cell's parameter gradients; ``dS`` is None unless
    ``state_grads``: then every step's new-state gradients, ``(T, N, size)`` each, time order."""
    if run.x is None or run.caches is None:
        raise RuntimeError("this sweep ran for inference (keep_cache=False): no backward pass")
    x = run.x
    N, T, _ = x.shape
    width = caches_width(cell, x)
    dP = np.zeros((N, T, width), dtype=x.dtype)
    zero_state = tuple(np.zeros_like(d) for d in dstate)
    d0: State = zero_state
    dS: list[Array] | None = [] if state_grads else None
    for w in wins:
        if dYt is None and not w.from_final:
            continue
        g = _backward_window(cell, run, dYt, dstate if w.from_final else zero_state, dP, w, dS)
        if w.lo == 0:
            d0 = g if len(wins) == 1 else tuple(a + b for a, b in zip(d0, g))
    dX = cell.params_backward(x, dP, run.caches)
    return np.asarray(dX).swapaxes(0, 1), d0, None if dS is None else tuple(dS)


def caches_width(cell: Cell, x: Array) -> int:
    """Width P of the projected input (known from the cell's projection of one zero step)."""
    width = getattr(cell, "gates", None)
    if width is not None and hasattr(cell, "units"):
        return int(width) * int(cell.units)
    return int(cell.project_inputs(np.zeros((1, 1, x.shape[-1]), dtype=x.dtype)).shape[-1])
