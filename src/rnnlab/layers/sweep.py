"""Run one cell over a sequence (forward) and back (BPTT): the reference loop.

Every cell runs here through ``cell.step`` / ``cell.step_backward``; this is the readable
definition of the recurrent layers' numbers. The built-in cells normally take the fast paths of
``rnnlab.kernels`` (selected in ``rnnlab.layers.recurrent``), which are tested against this loop
(tests/test_fastpath.py); ``RNNLAB_ENGINE=reference`` runs everything here.

Conventions: ``x (N, T, D)``; outputs ``Y (N, T, H)`` in *processing order* (reversed when
``reverse``, as Keras's ``go_backwards`` returns them); caches and ``dP`` in *time order*.

Masks ``(N, T)``: at a masked step the state is carried through unchanged and the output is the
previous output (zeros before the first unmasked step) or zeros with ``zero_output``; in the
backward pass a masked step passes the state gradient straight through and produces no input or
parameter gradient.

Truncated BPTT (``truncate``=k > 0): the gradient of every output (and of the final state) flows
back through at most k steps, as in the classic tutorials' truncated BPTT; the cost is O(T·k).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..cells.base import Array, Cell, State


def _times(T: int, reverse: bool) -> list[int]:
    return list(range(T - 1, -1, -1)) if reverse else list(range(T))


def sweep_forward(cell: Cell, x: Array, state: State, mask: Array | None,
                  rec_mask: Array | None, reverse: bool,
                  zero_output: bool) -> tuple[Array, State, list[Any]]:
    """Forward over all steps: returns ``(Y, final_state, caches)``."""
    N, T, _ = x.shape
    P = cell.project_inputs(x)                                           # (N, T, P)
    Y = np.empty((N, T, cell.output_size), dtype=x.dtype)
    caches: list[Any] = [None] * T
    if mask is None:
        for i, t in enumerate(_times(T, reverse)):
            Y[:, i], state, caches[t] = cell.step(P[:, t], state, rec_mask)
        return Y, state, caches
    y_prev = np.zeros((N, cell.output_size), dtype=x.dtype)
    for i, t in enumerate(_times(T, reverse)):
        y, new_state, caches[t] = cell.step(P[:, t], state, rec_mask)
        m = mask[:, t, None]                                             # (N, 1) bool
        state = tuple(np.where(m, a, b) for a, b in zip(new_state, state))
        y = np.where(m, y, 0 if zero_output else y_prev)
        Y[:, i] = y_prev = y
    return Y, state, caches


def sweep_backward(cell: Cell, caches: list[Any], dY: Array | None, dstate: State,
                   dP: Array, mask: Array | None, reverse: bool, zero_output: bool,
                   lo: int, hi: int) -> State:
    """Backward over processing positions ``hi-1 … lo``; adds into ``dP`` (time order) and
    returns the gradient with respect to the state before position ``lo``."""
    T = dP.shape[1]
    times = _times(T, reverse)
    carry = None                                                         # grad of y_prev
    for i in range(hi - 1, lo - 1, -1):
        t = times[i]
        if dY is None:
            dy = np.zeros((dP.shape[0], cell.output_size), dtype=dP.dtype)
        else:
            dy = dY[:, i]
        if carry is not None:
            dy = dy + carry
        if mask is None:
            dp, dstate = cell.step_backward(dy, dstate, caches[t])
        else:
            m = mask[:, t, None].astype(dP.dtype)                        # (N, 1)
            keep = 1.0 - m
            dp, dprev = cell.step_backward(dy * m, tuple(d * m for d in dstate), caches[t])
            dstate = tuple(a + d * keep for a, d in zip(dprev, dstate))
            carry = None if zero_output else dy * keep
        dP[:, t] += dp
    return dstate


def sweep_gradients(cell: Cell, x: Array, caches: list[Any], dY: Array | None,
                    dstate: State, mask: Array | None, reverse: bool, zero_output: bool,
                    truncate: int) -> tuple[Array, State]:
    """Full (or truncated) BPTT of one sweep: returns ``(dX, d_initial_state)`` and adds the
    cell's parameter gradients."""
    N, T, _ = x.shape
    width = caches_width(cell, x)
    dP = np.zeros((N, T, width), dtype=x.dtype)
    if truncate <= 0 or truncate >= T:
        d0 = sweep_backward(cell, caches, dY, dstate, dP, mask, reverse, zero_output, 0, T)
    else:
        zero_state = tuple(np.zeros_like(d) for d in dstate)
        d0 = zero_state
        # the final-state gradient, through the last k steps
        lo = T - truncate
        g = sweep_backward(cell, caches, None, dstate, dP, mask, reverse, zero_output, lo, T)
        if lo == 0:
            d0 = tuple(a + b for a, b in zip(d0, g))
        if dY is not None:
            single = np.zeros_like(dY)
            for i in range(T):
                single[:, i] = dY[:, i]
                lo = max(0, i - truncate + 1)
                g = sweep_backward(cell, caches, single, zero_state, dP, mask, reverse,
                                   zero_output, lo, i + 1)
                if lo == 0:
                    d0 = tuple(a + b for a, b in zip(d0, g))
                single[:, i] = 0
    dX = cell.params_backward(x, dP, caches)
    return dX, d0


def caches_width(cell: Cell, x: Array) -> int:
    """Width P of the projected input (known from the cell's projection of one zero step)."""
    width = getattr(cell, "gates", None)
    if width is not None and hasattr(cell, "units"):
        return int(width) * int(cell.units)
    return int(cell.project_inputs(np.zeros((1, 1, x.shape[-1]), dtype=x.dtype)).shape[-1])
