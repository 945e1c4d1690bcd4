"""The SimpleRNN cell's compiled sweeps (numba): the equations of ``cell.py``, over all steps.

Imported only when numba is usable (``SimpleRNNCell.compiled_sweep``); buffers as in
``rnnlab.kernels.driver``. Activations: 0 tanh, 1 relu, 2 linear.
"""

from __future__ import annotations

from typing import Any

from numba import njit

from ...kernels import _numba_kernels as nk
from ...kernels._pool import MIN_ROWS
from ...kernels.driver import CompiledSweep, Seq, scratch

ACT_CODES = {"tanh": 0, "relu": 1, "linear": 2}

# Loops run along one batch row at a time over its H contiguous values, so that they vectorise;
# b_ih is added to each step's slice of ``P`` before the recurrent product
# (``adds_input_bias``, in ``forward_position``), b_hh after it, as in the reference.


@njit(cache=True, error_model="numpy", nogil=True, inline="always")
def simple_cells(P, S, bhh, t, io, act, r0, r1, u0, u1):
    """One step's equations on rows ``r0:r1`` and units ``u0:u1`` (views counting from 0, so
    that the loops vectorise): ``P[t]`` (recurrent product in) gets ``b_hh`` and stays the
    pre-activation, ``S[io]`` the new state."""
    zero = P.dtype.type(0.0)
    bv = bhh[u0:u1]
    for n in range(r0, r1):
        an = P[t, n, u0:u1]
        hn = S[io, n, u0:u1]
        for j in range(u1 - u0):
            an[j] = an[j] + bv[j]
        if act == 0:
            for j in range(u1 - u0):
                hn[j] = nk.vtanh(an[j])
        elif act == 1:
            for j in range(u1 - u0):
                v = an[j]
                hn[j] = v if (v > zero or v != v) else zero
        else:
            for j in range(u1 - u0):
                hn[j] = an[j]


@njit(cache=True, error_model="numpy", nogil=True)
def simple_forward(P, X, WIF, WIB, S, Y, WF, WB, bih, bhh, RM, HM, M, reverse, has_rm, has_mask,
                   zero_out, act, r0, r1, sync, K, Z):
    """``h_t = act(p_t + h_{t-1} W_hh^T + b_hh)`` for every step (act: 0 tanh, 1 relu,
    2 linear); ``P[t]`` keeps the pre-activation, ``S`` the states; with ``X``, each step's
    input product first (``nk.step_input``). ``K == 0``: rows
    ``r0:r1``; else every row in ``K`` unit blocks per step claimed through ``sync`` (as the
    LSTM's ``lstm_forward``)."""
    T, N, H = P.shape
    t_prev = -1
    for i in range(T):
        if K == 0:
            t, ip, io = nk.forward_position(i, T, reverse, P, X, WIF, WIB, S, WF, WB, RM, HM,
                                            has_rm, bih, r0, r1)
            simple_cells(P, S, bhh, t, io, act, r0, r1, 0, H)
            nk.finish_masked(S, Y, M, t, ip, io, t_prev, has_mask, zero_out, r0, r1)
            t_prev = t
            continue
        t, ip, io = nk.positions(i, T, reverse)
        b = nk.claim_unit_block(sync, i)
        while b < K:
            u0, u1 = nk.unit_range(b, K, H)
            nk.forward_units(P, S, WF[WB[b]:WB[b + 1]], Z, bih, t, ip, 1, u0, u1)
            simple_cells(P, S, bhh, t, io, act, 0, N, u0, u1)
            nk.finish_unit_block(sync, i)
            b = nk.claim_unit_block(sync, i)
        nk.wait_unit_blocks(sync, i, K)


@njit(cache=True, error_model="numpy", nogil=True)
def simple_backward(S, WF, WB, RM, M, dYt, dZ, dh, DZS, DH, carry, dHt, lo, hi, dlo, dhi,
                    reverse, has_rm, has_mask, zero_out, acc, act, r0, r1):
    """BPTT over processing positions ``hi-1 … lo`` (activation codes: 0 tanh, 1 relu,
    2 linear). ``dZ[t]`` receives (or, with ``acc``, accumulates) the pre-activation gradient;
    ``dh`` holds the state gradient, updated in place; ``dHt`` (or None) collects every step's
    total gradient of ``h_t``."""
    T = S.shape[0] - 1
    N, H = dh.shape
    one = dh.dtype.type(1.0)
    zero = dh.dtype.type(0.0)
    for i in range(hi - 1, lo - 1, -1):
        t, _, io, has_dy, dz = nk.bptt_position(i, T, reverse, dlo, dhi, acc, DZS, dZ)
        for n in range(r0, r1):
            if has_mask and not M[t, n]:  # (an inlined helper here cost 2x: kept inline)
                nk.skip_masked_row(dz, carry, dYt, t, n, has_dy, zero_out)
                continue
            nk.add_hidden_grad(dHt, dYt, carry, dh, t, n, has_dy, has_mask, zero_out)
            for j in range(H):
                dy = dYt[t, n, j] if has_dy else zero
                if has_mask and not zero_out:  # (nk.output_grad, written out: 1.5x faster)
                    dy = dy + carry[n, j]
                    carry[n, j] = zero
                x = dy + dh[n, j]
                h = S[io, n, j]
                if act == 0:
                    dz[n, j] = x * (one - h * h)
                elif act == 1:
                    dz[n, j] = x * (one if h > zero else zero)
                else:
                    dz[n, j] = x * one
        nk.close_bptt_step(dz, WF, WB, DH, dh, RM, M, dZ, DZS, t, has_rm, has_mask, acc, r0, r1)


class SimpleRNNSweep(CompiledSweep):
    gates = 1
    state_grads = 1
    adds_input_bias = True
    step_input = True
    unit_blocks = True

    def __init__(self, act: int) -> None:
        self.act = act

    def run_forward(self, q: Seq) -> None:
        Y = q.Y if q.Y is not None else q.S[:1]  # Y is only written with a mask
        WF, WB = q.WR

        def sweep(r0: int, r1: int, sync: Any) -> None:
            simple_forward(q.P, q.X, *q.WI, q.S, Y, WF, WB, q.bih, q.bhh, q.RM, q.HM, q.M,
                           q.reverse, q.has_rm, q.has_mask, q.zero_out, self.act, r0, r1, sync,
                           q.K, q.Z)

        if q.K:
            nk.parallel_units(q.T, lambda sync: sweep(0, q.N, sync))
        else:
            nk.parallel_rows(q.N, MIN_ROWS, lambda r0, r1: sweep(r0, r1, nk.NO_SYNC))

    def run_backward(self, q: Seq, W: Any, dY: Any, dZ: Any, ds: list[Any], lo: int, hi: int,
                     dlo: int, dhi: int, acc: bool, dS: Any = None) -> None:
        DZS, DH, carry = scratch(q, acc)
        WF, WB = W
        dHt = None if dS is None else dS[0]
        nk.parallel_rows(q.N, MIN_ROWS, lambda r0, r1: simple_backward(
            q.S, WF, WB, q.RM, q.M, dY, dZ, ds[0], DZS, DH, carry, dHt, lo, hi, dlo, dhi,
            q.reverse, q.has_rm, q.has_mask, q.zero_out, acc, self.act, r0, r1))
