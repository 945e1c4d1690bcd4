"""The LSTM cell's compiled sweeps (numba): the equations of ``cell.py``, over all steps.

Imported only when numba is usable (``LSTMCell.compiled_sweep``); buffers as in
``rnnlab.kernels.driver``, plus ``C (T+1, N, H)`` cell states (indexed as ``S``) and
``TC (T, N, H)`` their tanh.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from ...kernels import _numba_kernels as nk
from ...kernels._pool import MIN_ROWS
from ...kernels.driver import CompiledSweep, Seq, scratch

# Loops run along one batch row at a time over a gate block's contiguous columns, so that they
# vectorise; sigmoid is ``vsigmoid`` (``1 / (1 + exp(-z))``, no cancellation: the reference's
# ``(tanh(z / 2) + 1) / 2`` loses relative accuracy for z << 0, where both are within ~1e-16
# absolute in float64 and ~6e-8 in float32); b_ih is added to each step's slice of ``P``
# before the recurrent product (``adds_input_bias``, in ``forward_position``), b_hh after it, as
# in the reference.


@njit(cache=True, error_model="numpy", nogil=True)
def lstm_forward(P, S, C, TC, Y, WF, WB, bih, bhh, RM, HM, M, reverse, has_rm, has_mask,
                 zero_out, r0, r1):
    """LSTM over all steps: ``P[t]`` becomes the activated gates (i, f, g, o), ``C``/``TC`` the
    cells and their tanh, ``S`` the hidden states."""
    T, N, G = P.shape
    H = G // 4
    t_prev = -1
    for i in range(T):
        t, ip, io = nk.forward_position(i, T, reverse, P, S, WF, WB, RM, HM, has_rm, bih, r0, r1)
        for n in range(r0, r1):
            an = P[t, n]
            # one loop per gate block, each counting from 0 (``range(2 * H, 3 * H)`` or slices
            # of the row made these loops 2-3x slower: they no longer vectorised as well)
            for k in range(2 * H):                              # i, f
                an[k] = nk.vsigmoid(an[k] + bhh[k])
            for k in range(H):                                  # g
                an[2 * H + k] = nk.vtanh(an[2 * H + k] + bhh[2 * H + k])
            for k in range(H):                                  # o
                an[3 * H + k] = nk.vsigmoid(an[3 * H + k] + bhh[3 * H + k])
            cp = C[ip, n]
            cn = C[io, n]
            tcn = TC[t, n]
            hn = S[io, n]
            for j in range(H):
                c = an[H + j] * cp[j] + an[j] * an[2 * H + j]
                tc = nk.vtanh(c)
                cn[j] = c
                tcn[j] = tc
                hn[j] = an[3 * H + j] * tc
            if has_mask and not M[t, n]:
                for j in range(H):
                    cn[j] = cp[j]
        nk.finish_masked(S, Y, M, t, ip, io, t_prev, has_mask, zero_out, r0, r1)
        t_prev = t


@njit(cache=True, error_model="numpy", nogil=True)
def lstm_backward(P, C, TC, WF, WB, RM, M, dYt, dZ, dh, dc, DZS, DH, carry, dHt, dCt, lo, hi,
                  dlo, dhi, reverse, has_rm, has_mask, zero_out, acc, r0, r1):
    """LSTM BPTT over processing positions ``hi-1 … lo``; ``dh``, ``dc`` updated in place;
    ``dHt``, ``dCt`` (or None) collect every step's total gradients of ``h_t`` and ``c_t``."""
    T, N, G = P.shape
    H = G // 4
    one = dh.dtype.type(1.0)
    DY = np.zeros(H, dh.dtype)
    ZERO = np.zeros(H, dh.dtype)
    for i in range(hi - 1, lo - 1, -1):
        t, ip, _, has_dy, dz = nk.bptt_position(i, T, reverse, dlo, dhi, acc, DZS, dZ)
        for n in range(r0, r1):
            if has_mask and not M[t, n]:  # (an inlined helper here cost 2x: kept inline)
                nk.skip_masked_row(dz, carry, dYt, t, n, has_dy, zero_out)
                continue
            nk.add_hidden_grad(dHt, dYt, carry, dh, t, n, has_dy, has_mask, zero_out)
            a = P[t, n]
            dyn = nk.output_grads(dYt, carry, DY, ZERO, t, n, has_dy, has_mask, zero_out)
            dhn, dcn, dzn, tcn, cpn = dh[n], dc[n], dz[n], TC[t, n], C[ip, n]
            for j in range(H):
                dhh = dyn[j] + dhn[j]
                ig, fg, gg, og = a[j], a[H + j], a[2 * H + j], a[3 * H + j]
                tc = tcn[j]
                dcc = dcn[j] + dhh * og * (one - tc * tc)
                if dCt is not None:
                    dCt[t, n, j] += dcc
                dzn[j] = dcc * gg * (ig * (one - ig))
                dzn[H + j] = dcc * cpn[j] * (fg * (one - fg))
                dzn[2 * H + j] = dcc * ig * (one - gg * gg)
                dzn[3 * H + j] = dhh * tc * (og * (one - og))
                dcn[j] = dcc * fg
        nk.close_bptt_step(dz, WF, WB, DH, dh, RM, M, dZ, DZS, t, has_rm, has_mask, acc, r0, r1)


class LSTMSweep(CompiledSweep):
    gates = 4
    state_grads = 2
    adds_input_bias = True

    def allocate(self, q: Seq, state: tuple[Any, ...], start: int) -> None:
        C = q.empty((q.T + 1, q.N, q.H), q.P.dtype)
        C[start] = state[1]
        q.extra["C"] = C
        q.extra["TC"] = q.empty((q.T, q.N, q.H), q.P.dtype)

    def run_forward(self, q: Seq) -> None:
        Y = q.Y if q.Y is not None else q.S[:1]  # Y is only written with a mask
        WF, WB = q.WR
        C, TC = q.extra["C"], q.extra["TC"]
        nk.parallel_rows(q.N, MIN_ROWS, lambda r0, r1: lstm_forward(
            q.P, q.S, C, TC, Y, WF, WB, q.bih, q.bhh, q.RM, q.HM, q.M, q.reverse, q.has_rm,
            q.has_mask, q.zero_out, r0, r1))

    def run_backward(self, q: Seq, W: Any, dY: Any, dZ: Any, ds: list[Any], lo: int, hi: int,
                     dlo: int, dhi: int, acc: bool, dS: Any = None) -> None:
        DZS, DH, carry = scratch(q, acc)
        WF, WB = W
        C, TC = q.extra["C"], q.extra["TC"]
        dHt, dCt = (None, None) if dS is None else dS
        nk.parallel_rows(q.N, MIN_ROWS, lambda r0, r1: lstm_backward(
            q.P, C, TC, WF, WB, q.RM, q.M, dY, dZ, ds[0], ds[1], DZS, DH, carry, dHt, dCt, lo,
            hi, dlo, dhi, q.reverse, q.has_rm, q.has_mask, q.zero_out, acc, r0, r1))

    def final_state(self, q: Seq) -> tuple[Any, ...]:
        end = 0 if q.reverse else q.T
        return q.S[end].copy(), q.extra["C"][end].copy()

    def step_states(self, q: Seq) -> dict[str, Any]:
        C = q.extra["C"]
        return {**super().step_states(q), "c": C[:q.T] if q.reverse else C[1:],
                "gates": q.P, "tanh_c": q.extra["TC"]}
