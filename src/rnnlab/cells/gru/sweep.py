"""The GRU cell's compiled sweeps (numba, ``reset_after=True``): the equations of ``cell.py``,
over all steps.

Imported only when numba is usable (``GRUCell.compiled_sweep``); buffers as in
``rnnlab.kernels.driver``, plus ``HN (T, N, H)`` = ``h W_hn^T + b_hn`` (the reset gate's
gradient needs it) and ``HP (N, G)`` one step's recurrent product.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from ...kernels import _numba_kernels as nk
from ...kernels._pool import MIN_ROWS
from ...kernels.driver import CompiledSweep, Seq, scratch
from ...kernels.products import column_sums, matmul_add

# Loops run along one batch row at a time over a gate block's contiguous columns (r and z
# together), so that they vectorise; sigmoid is ``vsigmoid`` (``1 / (1 + exp(-z))``, no
# cancellation: the reference's ``(tanh(z / 2) + 1) / 2`` loses relative accuracy for z << 0,
# where both are within ~1e-16 absolute in float64 and ~6e-8 in float32); b_ih is added to the
# input part here (``adds_input_bias``: ``P`` comes as ``x W_ih^T`` alone), b_hh after the
# recurrent product, as in the reference.


@njit(cache=True, error_model="numpy", nogil=True)
def gru_forward(P, X, WIF, WIB, S, HN, Y, WF, WB, bih, bhh, HP, RM, HM, M, reverse, has_rm,
                has_mask, zero_out, r0, r1):
    """GRU (reset_after) over all steps: ``P[t]`` becomes (r, z, n), ``HN[t]`` keeps
    ``h W_hn^T + b_hn``, ``S`` the states; with ``X``, each step's input product first
    (``nk.step_input``)."""
    T, N, G = P.shape
    H = G // 3
    t_prev = -1
    for i in range(T):
        t, ip, io = nk.positions(i, T, reverse)
        nk.mm_panels(nk.recurrent_operand(S, ip, RM, HM, has_rm, r0, r1), WF, WB, HP[r0:r1], 0.0)
        # (after the recurrent product: before it, the step took 1 us more; RESULTS.md)
        nk.step_input(X, WIF, WIB, P, t, t, r0, r1)
        for n in range(r0, r1):
            an = P[t, n]
            hp = HP[n]
            for k in range(G):
                hp[k] = hp[k] + bhh[k]
            for k in range(2 * H):
                an[k] = nk.vsigmoid((an[k] + bih[k]) + hp[k])
            hnn = HN[t, n]
            hprev = S[ip, n]
            hout = S[io, n]
            for j in range(H):
                hn = hp[2 * H + j]
                nn = nk.vtanh((an[2 * H + j] + bih[2 * H + j]) + an[j] * hn)
                an[2 * H + j] = nn
                hnn[j] = hn
                hout[j] = nn + an[H + j] * (hprev[j] - nn)
        nk.finish_masked(S, Y, M, t, ip, io, t_prev, has_mask, zero_out, r0, r1)
        t_prev = t


@njit(cache=True, error_model="numpy", nogil=True)
def gru_backward(P, S, HN, WF, WB, RM, M, dYt, dZ, dh, DZS, DR, DH, DHZ, carry, dHt, lo, hi,
                 dlo, dhi, reverse, has_rm, has_mask, zero_out, acc, r0, r1):
    """GRU (reset_after) BPTT over processing positions ``hi-1 … lo``; ``dh`` in place;
    ``dHt`` (or None) collects every step's total gradient of ``h_t``."""
    T, N, G = P.shape
    H = G // 3
    one = dh.dtype.type(1.0)
    zero = dh.dtype.type(0.0)
    DY = np.zeros(H, dh.dtype)
    ZERO = np.zeros(H, dh.dtype)
    for i in range(hi - 1, lo - 1, -1):
        t, ip, _, has_dy, dz = nk.bptt_position(i, T, reverse, dlo, dhi, acc, DZS, dZ)
        for n in range(r0, r1):
            drn = DR[n]
            if has_mask and not M[t, n]:  # (an inlined helper here cost 2x: kept inline)
                nk.skip_masked_row(dz, carry, dYt, t, n, has_dy, zero_out)
                for k in range(G):
                    drn[k] = zero
                continue
            nk.add_hidden_grad(dHt, dYt, carry, dh, t, n, has_dy, has_mask, zero_out)
            a = P[t, n]
            dyn = nk.output_grads(dYt, carry, DY, ZERO, t, n, has_dy, has_mask, zero_out)
            dhn, dzn, dhzn, hpn, hnn = dh[n], dz[n], DHZ[n], S[ip, n], HN[t, n]
            for j in range(H):
                dhh = dyn[j] + dhn[j]
                r, z, nn = a[j], a[H + j], a[2 * H + j]
                dn = dhh * (one - z) * (one - nn * nn)
                dpz = dhh * (hpn[j] - nn) * (z * (one - z))
                dpr = dn * hnn[j] * (r * (one - r))
                dzn[j] = dpr
                dzn[H + j] = dpz
                dzn[2 * H + j] = dn
                drn[j] = dpr
                drn[H + j] = dpz
                drn[2 * H + j] = dn * r
                dhzn[j] = dhh * z
        nk.mm_panels(DR[r0:r1], WF, WB, DH[r0:r1], 0.0)
        for n in range(r0, r1):
            if has_mask and not M[t, n]:
                continue
            dhn, dhzn, src = dh[n], DHZ[n], DH[n]
            if has_rm:
                rm = RM[n]
                for j in range(H):
                    dhn[j] = dhzn[j] + src[j] * rm[j]
            else:
                for j in range(H):
                    dhn[j] = dhzn[j] + src[j]
        if acc:
            nk.add_rows(dZ[t], DZS, r0, r1)


class GRUSweep(CompiledSweep):
    gates = 3
    state_grads = 1
    adds_input_bias = True
    step_input = True

    def allocate(self, q: Seq, state: tuple[Any, ...], start: int) -> None:
        q.extra["HN"] = q.empty((q.T, q.N, q.H), q.P.dtype)
        q.extra["HP"] = q.empty((q.N, q.G), q.P.dtype)

    def run_forward(self, q: Seq) -> None:
        Y = q.Y if q.Y is not None else q.S[:1]  # Y is only written with a mask
        WF, WB = q.WR
        HN, HP = q.extra["HN"], q.extra["HP"]
        nk.parallel_rows(q.N, MIN_ROWS, lambda r0, r1: gru_forward(
            q.P, q.X, *q.WI, q.S, HN, Y, WF, WB, q.bih, q.bhh, HP, q.RM, q.HM, q.M, q.reverse,
            q.has_rm, q.has_mask, q.zero_out, r0, r1))

    def run_backward(self, q: Seq, W: Any, dY: Any, dZ: Any, ds: list[Any], lo: int, hi: int,
                     dlo: int, dhi: int, acc: bool, dS: Any = None) -> None:
        DZS, DH, carry = scratch(q, acc)
        DR = np.empty((q.N, q.G), dtype=q.P.dtype)
        DHZ = np.empty((q.N, q.H), dtype=q.P.dtype)
        WF, WB = W
        HN = q.extra["HN"]
        dHt = None if dS is None else dS[0]
        nk.parallel_rows(q.N, MIN_ROWS, lambda r0, r1: gru_backward(
            q.P, q.S, HN, WF, WB, q.RM, q.M, dY, dZ, ds[0], DZS, DR, DH, DHZ, carry, dHt, lo,
            hi, dlo, dhi, q.reverse, q.has_rm, q.has_mask, q.zero_out, acc, r0, r1))

    def recurrent_grads(self, q: Seq, cell: Any, dZ2: Any, prev2: Any,
                        bsum: Any) -> None:
        """reset_after: ``W_hn`` and ``b_hn`` see ``r ⊙ dn``."""
        H, R = q.H, q.T * q.N
        dn_r = dZ2[:, 2 * H:] * q.P.reshape(R, q.G)[:, :H]
        matmul_add(dZ2[:, :2 * H].T, prev2, cell.grads["weight_hh"][:2 * H], engine_module=nk)
        matmul_add(dn_r.T, prev2, cell.grads["weight_hh"][2 * H:], engine_module=nk)
        if bsum is not None and cell.recurrent_bias:
            cell.grads["bias_hh"][:2 * H] += bsum[:2 * H]
            cell.grads["bias_hh"][2 * H:] += column_sums(dn_r, nk)

    def step_states(self, q: Seq) -> dict[str, Any]:
        return {**super().step_states(q), "gates": q.P, "hn": q.extra["HN"]}
