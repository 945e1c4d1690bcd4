"""The LSTM cell's compiled sweeps (numba): the equations of ``cell.py``, over all steps.

Imported only when numba is usable (``LSTMCell.compiled_sweep``); buffers as in
``rnnlab.kernels.driver``, plus ``C (T+1, N, H)`` cell states (indexed as ``S``) and
``TC (T, N, H)`` their tanh; over rings (``Seq.ring``), 2 and 1 slots.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from ...kernels import _numba_kernels as nk
from ...kernels._pool import MIN_ROWS
from ...kernels.driver import CompiledSweep, Seq, last_state, scratch

# Loops run along one batch row at a time over a gate block's contiguous columns, so that they
# vectorise; sigmoid is ``vsigmoid`` (``1 / (1 + exp(-z))``, no cancellation: the reference's
# ``(tanh(z / 2) + 1) / 2`` loses relative accuracy for z << 0, where both are within ~1e-16
# absolute in float64 and ~6e-8 in float32); b_ih is added to each step's slice of ``P``
# before the recurrent product (``adds_input_bias``, in ``forward_position``), b_hh after it, as
# in the reference.


@njit(cache=True, error_model="numpy", nogil=True, inline="always")
def lstm_update(ai, af, ag, ao, cp, cn, tcn, hn, masked):
    """One row's cell update on views of the same units, each counting from 0: from the
    activated gates ``ai, af, ag, ao``, ``cn = af ⊙ cp + ai ⊙ ag``, ``tcn = tanh(cn)``,
    ``hn = ao ⊙ tcn``; a ``masked`` row then keeps ``cp`` as its cell state."""
    for j in range(cn.shape[0]):
        c = af[j] * cp[j] + ai[j] * ag[j]
        tc = nk.vtanh(c)
        cn[j] = c
        tcn[j] = tc
        hn[j] = ao[j] * tc
    if masked:
        for j in range(cn.shape[0]):
            cn[j] = cp[j]


@njit(cache=True, error_model="numpy", nogil=True, inline="always")
def lstm_cells(P, S, C, TC, M, bhh, t, ip, io, has_mask, r0, r1, u0, u1):
    """One step's LSTM equations on rows ``r0:r1`` and units ``u0:u1``: ``P[t]`` (the
    pre-activations, recurrent product in) becomes the activated gates (i, f, g, o), then the
    cell state ``c = f ⊙ c_prev + i ⊙ g``, its tanh and ``h = o ⊙ tanh(c)``; masked rows keep
    ``c_prev``. ``P``, ``TC``, ``S`` and ``C`` may be rings (``nk.slot``)."""
    H = S.shape[2]
    if u0 == 0 and u1 == H:
        lstm_rows(P, S, C, TC, M, bhh, t, ip, io, has_mask, r0, r1)
        return
    pt, ct, sp, so = nk.slot(t, P), nk.slot(t, TC), nk.slot(ip, S), nk.slot(io, S)
    # loops over views of each gate block's units, counting from 0 (an offset index, as in
    # ``an[H + k]`` over ``range(u0, u1)``, or ``range(2 * H, 3 * H)``, stopped these loops
    # vectorising: 5x slower)
    bi, bf, bg, bo = bhh[u0:u1], bhh[H + u0:H + u1], bhh[2 * H + u0:2 * H + u1], bhh[3 * H + u0:]
    for n in range(r0, r1):
        an = P[pt, n]
        ai, af, ag, ao = an[u0:u1], an[H + u0:H + u1], an[2 * H + u0:2 * H + u1], an[3 * H + u0:]
        for k in range(u1 - u0):
            ai[k] = nk.vsigmoid(ai[k] + bi[k])
        for k in range(u1 - u0):
            af[k] = nk.vsigmoid(af[k] + bf[k])
        for k in range(u1 - u0):
            ag[k] = nk.vtanh(ag[k] + bg[k])
        for k in range(u1 - u0):
            ao[k] = nk.vsigmoid(ao[k] + bo[k])
        lstm_update(ai, af, ag, ao, C[sp, n, u0:u1], C[so, n, u0:u1], TC[ct, n, u0:u1],
                    S[so, n, u0:u1], has_mask and not M[t, n])


@njit(cache=True, error_model="numpy", nogil=True, inline="always")
def lstm_rows(P, S, C, TC, M, bhh, t, ip, io, has_mask, r0, r1):
    """``lstm_cells`` on every unit of rows ``r0:r1`` (a sweep split by rows): i and f lie
    side by side there and go through one loop of 2H, and every slice starts at 0: inside the
    clf LSTM's sweep (32 rows, 32 units, float32, one core) these loops took 1.55 ns per unit
    and step against 1.75 for ``lstm_cells``' loops over ``u0:u1``; alone, on 8 rows of 128
    units, 1.23 against 1.37."""
    H = S.shape[2]
    pt, ct, sp, so = nk.slot(t, P), nk.slot(t, TC), nk.slot(ip, S), nk.slot(io, S)
    bif, bg, bo = bhh[:2 * H], bhh[2 * H:3 * H], bhh[3 * H:]
    for n in range(r0, r1):
        an = P[pt, n]
        aif, ai, af, ag, ao = an[:2 * H], an[:H], an[H:2 * H], an[2 * H:3 * H], an[3 * H:]
        for k in range(2 * H):
            aif[k] = nk.vsigmoid(aif[k] + bif[k])
        for k in range(H):
            ag[k] = nk.vtanh(ag[k] + bg[k])
        for k in range(H):
            ao[k] = nk.vsigmoid(ao[k] + bo[k])
        lstm_update(ai, af, ag, ao, C[sp, n], C[so, n], TC[ct, n], S[so, n],
                    has_mask and not M[t, n])


@njit(cache=True, error_model="numpy", nogil=True)
def lstm_forward(P, X, WIF, WIB, S, C, TC, Y, WF, WB, bih, bhh, RM, HM, M, reverse, has_rm,
                 has_mask, zero_out, r0, r1, sync, K, Z):
    """LSTM over all steps: ``P[t]`` becomes the activated gates (i, f, g, o), ``C``/``TC`` the
    cells and their tanh, ``S`` the hidden states; with ``X``, each step's input product
    first (``nk.step_input``). ``K == 0``: rows ``r0:r1``, every unit;
    else every row, each step's ``K`` unit blocks claimed through ``sync``, ``WF``, ``WB``
    from ``nk.pack_units`` and ``Z (N, G)`` scratch (no mask, no recurrent dropout: the driver's
    ``Seq.K``). ``P``, ``S``, ``C``, ``TC`` may be rings (``nk.slot``; the driver's "Rings"):
    each step waits for every block of the one before, so a slot is not rewritten while read."""
    T, N, G = nk.steps(P, X), P.shape[1], P.shape[2]
    H = G // 4
    t_prev = -1
    for i in range(T):
        if K == 0:
            t, ip, io = nk.forward_position(i, T, reverse, P, X, WIF, WIB, S, WF, WB, RM, HM,
                                            has_rm, bih, r0, r1)
            lstm_cells(P, S, C, TC, M, bhh, t, ip, io, has_mask, r0, r1, 0, H)
            nk.finish_masked(S, Y, M, t, ip, io, t_prev, has_mask, zero_out, r0, r1)
            t_prev = t
            continue
        t, ip, io = nk.positions(i, T, reverse)
        b = nk.claim_unit_block(sync, i)
        while b < K:
            u0, u1 = nk.unit_range(b, K, H)
            nk.forward_units(P, S, WF[WB[b]:WB[b + 1]], Z, bih, t, ip, 4, u0, u1)
            lstm_cells(P, S, C, TC, M, bhh, t, ip, io, False, 0, N, u0, u1)
            nk.finish_unit_block(sync, i)
            b = nk.claim_unit_block(sync, i)
        nk.wait_unit_blocks(sync, i, K)


@njit(cache=True, error_model="numpy", nogil=True, inline="always")
def lstm_grads(a, dyn, dhn, dcn, dzn, tcn, cpn, dCt, t, n, u0, u1):
    """One row's LSTM step gradients on units ``u0:u1``: from the output gradient ``dyn``,
    the carried ``dh``, ``dc`` (``dcn`` updated in place to ``dc_prev``) and the activated
    gates ``a``, the pre-activation gradient ``dzn`` (i, f, g, o); ``dCt[t, n]`` (or None)
    collects the total cell-state gradient."""
    H = a.shape[0] // 4
    one = a.dtype.type(1.0)
    ai, af, ag, ao = a[u0:u1], a[H + u0:H + u1], a[2 * H + u0:2 * H + u1], a[3 * H + u0:3 * H + u1]
    zi, zf = dzn[u0:u1], dzn[H + u0:H + u1]
    zg, zo = dzn[2 * H + u0:2 * H + u1], dzn[3 * H + u0:3 * H + u1]
    dy, dh, dc, tcv, cp = dyn[u0:u1], dhn[u0:u1], dcn[u0:u1], tcn[u0:u1], cpn[u0:u1]
    for j in range(u1 - u0):
        dhh = dy[j] + dh[j]
        ig, fg, gg, og = ai[j], af[j], ag[j], ao[j]
        tc = tcv[j]
        dcc = dc[j] + dhh * og * (one - tc * tc)
        if dCt is not None:
            dCt[t, n, u0 + j] += dcc
        zi[j] = dcc * gg * (ig * (one - ig))
        zf[j] = dcc * cp[j] * (fg * (one - fg))
        zg[j] = dcc * ig * (one - gg * gg)
        zo[j] = dhh * tc * (og * (one - og))
        dc[j] = dcc * fg


@njit(cache=True, error_model="numpy", nogil=True)
def lstm_backward(P, C, TC, WF, WB, RM, M, dYt, dZ, dh, dc, DZS, DH, carry, dHt, dCt, lo, hi,
                  dlo, dhi, reverse, has_rm, has_mask, zero_out, acc, r0, r1, sync, K):
    """LSTM BPTT over processing positions ``hi-1 … lo``; ``dh``, ``dc`` updated in place;
    ``dHt``, ``dCt`` (or None) collect every step's total gradients of ``h_t`` and ``c_t``.
    ``K == 0``: rows ``r0:r1``; else every row in ``K`` unit blocks per step, claimed through
    ``sync`` in two phases (the gradients ``dz``; then ``dz W_hh`` on the block's columns of
    ``W_hh (G, H)``, ``WF``, ``WB`` from ``nk.pack_units_backward``), with no mask,
    recurrent dropout or ``dHt``/``dCt``."""
    T, N, G = P.shape
    H = G // 4
    DY = np.zeros(H, dh.dtype)
    ZERO = np.zeros(H, dh.dtype)
    for i in range(hi - 1, lo - 1, -1):
        t, ip, _, has_dy, dz = nk.bptt_position(i, T, reverse, dlo, dhi, acc, DZS, dZ)
        if K == 0:
            for n in range(r0, r1):
                if has_mask and not M[t, n]:  # (an inlined helper here cost 2x: kept inline)
                    nk.skip_masked_row(dz, carry, dYt, t, n, has_dy, zero_out)
                    continue
                nk.add_hidden_grad(dHt, dYt, carry, dh, t, n, has_dy, has_mask, zero_out)
                dyn = nk.output_grads(dYt, carry, DY, ZERO, t, n, has_dy, has_mask, zero_out)
                lstm_grads(P[t, n], dyn, dh[n], dc[n], dz[n], TC[t, n], C[ip, n], dCt, t, n, 0,
                           H)
            nk.close_bptt_step(dz, WF, WB, DH, dh, RM, M, dZ, DZS, t, has_rm, has_mask, acc,
                               r0, r1)
            continue
        b = nk.claim_unit_block(sync, 2 * i)
        while b < K:
            u0, u1 = nk.unit_range(b, K, H)
            for n in range(N):
                dyn = dYt[t, n] if has_dy else ZERO
                lstm_grads(P[t, n], dyn, dh[n], dc[n], dz[n], TC[t, n], C[ip, n], None, t, n,
                           u0, u1)
            nk.finish_unit_block(sync, 2 * i)
            b = nk.claim_unit_block(sync, 2 * i)
        nk.wait_unit_blocks(sync, 2 * i, K)
        b = nk.claim_unit_block(sync, 2 * i + 1)
        while b < K:
            u0, u1 = nk.unit_range(b, K, H)
            nk.backward_units(dz, WF[WB[b]:WB[b + 1]], DH, dh, dZ, t, acc, 4, u0, u1)
            nk.finish_unit_block(sync, 2 * i + 1)
            b = nk.claim_unit_block(sync, 2 * i + 1)
        nk.wait_unit_blocks(sync, 2 * i + 1, K)


class LSTMSweep(CompiledSweep):
    gates = 4
    state_grads = 2
    adds_input_bias = True
    step_input = True
    unit_blocks = True
    unit_blocks_backward = True
    rings = True

    def allocate(self, q: Seq, state: tuple[Any, ...], start: int) -> None:
        C = q.empty((q.S.shape[0], q.N, q.H), q.P.dtype)      # as many slots as S (a ring: 2)
        C[start % C.shape[0]] = state[1]
        q.extra["C"] = C
        q.extra["TC"] = q.empty((1 if q.ring else q.T, q.N, q.H), q.P.dtype)

    def run_forward(self, q: Seq) -> None:
        Y = q.Y if q.Y is not None else q.S[:1]  # Y is only written with a mask
        WF, WB = q.WR
        C, TC = q.extra["C"], q.extra["TC"]

        def sweep(r0: int, r1: int, sync: Any) -> None:
            lstm_forward(q.P, q.X, *q.WI, q.S, C, TC, Y, WF, WB, q.bih, q.bhh, q.RM, q.HM, q.M,
                         q.reverse, q.has_rm, q.has_mask, q.zero_out, r0, r1, sync, q.K, q.Z)

        if q.K:
            nk.parallel_units(q.T, lambda sync: sweep(0, q.N, sync))
        else:
            nk.parallel_rows(q.N, MIN_ROWS, lambda r0, r1: sweep(r0, r1, nk.NO_SYNC))

    def run_backward(self, q: Seq, W: Any, dY: Any, dZ: Any, ds: list[Any], lo: int, hi: int,
                     dlo: int, dhi: int, acc: bool, dS: Any = None) -> None:
        DZS, DH, carry = scratch(q, acc)
        WF, WB = W
        C, TC = q.extra["C"], q.extra["TC"]
        dHt, dCt = (None, None) if dS is None else dS
        K = q.K if dS is None else 0

        def sweep(r0: int, r1: int, sync: Any) -> None:
            lstm_backward(q.P, C, TC, WF, WB, q.RM, q.M, dY, dZ, ds[0], ds[1], DZS, DH, carry,
                          dHt, dCt, lo, hi, dlo, dhi, q.reverse, q.has_rm, q.has_mask,
                          q.zero_out, acc, r0, r1, sync, K)

        if K:
            nk.parallel_units(2 * q.T, lambda sync: sweep(0, q.N, sync))
        else:
            nk.parallel_rows(q.N, MIN_ROWS, lambda r0, r1: sweep(r0, r1, nk.NO_SYNC))

    def final_state(self, q: Seq) -> tuple[Any, ...]:
        return last_state(q, q.S).copy(), last_state(q, q.extra["C"]).copy()

    def step_states(self, q: Seq) -> dict[str, Any]:
        states = super().step_states(q)
        C = q.extra["C"]
        return {**states, "c": C[:q.T] if q.reverse else C[1:],
                "gates": q.P, "tanh_c": q.extra["TC"]}
