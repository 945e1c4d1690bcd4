"""The numba engine: fused element-wise step kernels and whole-sequence backward sweeps.

Importing this module imports numba and binds NumPy's CBLAS (``_blas``); any failure makes the
engine unavailable (``rnnlab.kernels.numba_status``). Kernels are compiled with ``cache=True``
(once per machine, then loaded from ``__pycache__``) for float32 and float64 arrays.

Buffers (see ``rnnlab.kernels.driver``): ``P (T, N, G)`` projected inputs, turned in place into
pre-activations and then activated gates; ``S (T+1, N, H)`` hidden states and ``C (T+1, N, H)``
LSTM cells indexed so that step ``t`` reads index ``t`` and writes ``t+1`` (``t+1`` and ``t``
when running backwards); ``TC (T, N, H)`` tanh of the cell; ``HN (T, N, H)`` the GRU's
``h W_hn^T + b_hn``; ``Y (T, N, H)`` outputs (only with a sequence mask); ``M (T, N)`` the mask;
``RM (N, H)`` the recurrent-dropout mask. Sigmoid gates arrive as ``tanh(z/2)`` (their weight
rows are pre-scaled by 1/2) and are finished as ``(t + 1) * 0.5``, the reference's own formula.

Every expression below follows the reference cells' order of operations (``rnnlab.cells``), so
results agree with the reference to rounding (bit for bit in most places).
"""

from __future__ import annotations

import llvmlite.binding as _llvm
import numba
import numpy as np
from numba import njit, types
from numba.extending import overload

from . import _blas

_LIB = _blas.find_gemm_library()
_llvm.load_library_permanently(_LIB)

DESCRIPTION = f"numba {numba.__version__}, BLAS {_blas.SGEMM} from {_LIB}"

_I32, _I64 = types.int32, types.int64
_sgemm = types.ExternalFunction(_blas.SGEMM, types.void(
    _I32, _I32, _I32, _I64, _I64, _I64, types.float32, types.voidptr, _I64, types.voidptr, _I64,
    types.float32, types.voidptr, _I64))
_dgemm = types.ExternalFunction(_blas.DGEMM, types.void(
    _I32, _I32, _I32, _I64, _I64, _I64, types.float64, types.voidptr, _I64, types.voidptr, _I64,
    types.float64, types.voidptr, _I64))

_ROW_MAJOR, _NO_TRANS = 101, 111


def _mm(a, b, c, beta):  # pragma: no cover - replaced by the overload inside kernels
    """``c = a @ b + beta * c`` for C-contiguous 2-D arrays (a (m, k), b (k, n), c (m, n))."""
    raise NotImplementedError


@overload(_mm)
def _mm_overload(a, b, c, beta):
    if a.dtype == types.float32:
        def impl_s(a, b, c, beta):
            m, k = a.shape
            n = b.shape[1]
            if m == 0 or n == 0:
                return
            _sgemm(_ROW_MAJOR, _NO_TRANS, _NO_TRANS, m, n, k, np.float32(1.0), a.ctypes.data,
                   max(k, 1), b.ctypes.data, max(n, 1), np.float32(beta), c.ctypes.data,
                   max(n, 1))
        return impl_s
    if a.dtype == types.float64:
        def impl_d(a, b, c, beta):
            m, k = a.shape
            n = b.shape[1]
            if m == 0 or n == 0:
                return
            _dgemm(_ROW_MAJOR, _NO_TRANS, _NO_TRANS, m, n, k, 1.0, a.ctypes.data, max(k, 1),
                   b.ctypes.data, max(n, 1), np.float64(beta), c.ctypes.data, max(n, 1))
        return impl_d
    return None


# -- shared pieces -------------------------------------------------------------------------------
@njit(cache=True)
def project(P, scale, bias):
    """``P = P * scale + bias`` (scale 1/2 on sigmoid-gate columns, 1 elsewhere)."""
    T, N, G = P.shape
    for t in range(T):
        for n in range(N):
            row = P[t, n]
            for g in range(G):
                row[g] = row[g] * scale[g] + bias[g]


@njit(cache=True)
def _recurrent_operand(S, ip, RM, HM, has_rm):
    """``S[ip] * RM`` (into HM) with recurrent dropout, else ``S[ip]``."""
    if not has_rm:
        return S[ip]
    N, H = HM.shape
    for n in range(N):
        for j in range(H):
            HM[n, j] = S[ip, n, j] * RM[n, j]
    return HM


@njit(cache=True)
def _finish_masked(S, Y, M, t, ip, io, t_prev, has_mask, zero_out):
    """With a sequence mask: masked rows carry the state and repeat (or zero) the output;
    the other rows output the new state."""
    if not has_mask:
        return
    N, H = S.shape[1], S.shape[2]
    zero = S.dtype.type(0.0)
    for n in range(N):
        if M[t, n]:
            for j in range(H):
                Y[t, n, j] = S[io, n, j]
        else:
            for j in range(H):
                S[io, n, j] = S[ip, n, j]
                if zero_out or t_prev < 0:
                    Y[t, n, j] = zero
                else:
                    Y[t, n, j] = Y[t_prev, n, j]


# -- SimpleRNN -----------------------------------------------------------------------------------
@njit(cache=True)
def simple_pre(P, S, Y, W2T, RM, HM, M, tf, ipf, iof, tpf, t, ip, has_rm, has_mask, zero_out):
    """Finish step ``tf`` (masks), then ``P[t] += h W_hh^T`` for step ``t`` (if ``t >= 0``)."""
    if tf >= 0:
        _finish_masked(S, Y, M, tf, ipf, iof, tpf, has_mask, zero_out)
    if t >= 0:
        _mm(_recurrent_operand(S, ip, RM, HM, has_rm), W2T, P[t], 1.0)


# -- LSTM ----------------------------------------------------------------------------------------
@njit(cache=True)
def lstm_pre(P, S, C, TC, Y, W2T, RM, HM, M, tf, ipf, iof, tpf, t, ip, has_rm, has_mask,
             zero_out):
    """Finish step ``tf`` (``h = o * tanh(c)``, masks), then ``P[t] += h W_hh^T`` (scaled)."""
    if tf >= 0:
        N, G = P.shape[1], P.shape[2]
        H = G // 4
        for n in range(N):
            if has_mask and not M[tf, n]:
                for j in range(H):
                    C[iof, n, j] = C[ipf, n, j]
                continue
            for j in range(H):
                S[iof, n, j] = P[tf, n, 3 * H + j] * TC[tf, n, j]
        _finish_masked(S, Y, M, tf, ipf, iof, tpf, has_mask, zero_out)
    if t >= 0:
        _mm(_recurrent_operand(S, ip, RM, HM, has_rm), W2T, P[t], 1.0)


@njit(cache=True)
def lstm_mid(P, C, t, ip, io):
    """Gates from ``tanh`` of the (half-scaled) pre-activations; ``c = f*c_prev + i*g``."""
    N, G = P.shape[1], P.shape[2]
    H = G // 4
    one = P.dtype.type(1.0)
    half = P.dtype.type(0.5)
    for n in range(N):
        a = P[t, n]
        for j in range(H):
            i = (a[j] + one) * half
            f = (a[H + j] + one) * half
            o = (a[3 * H + j] + one) * half
            a[j] = i
            a[H + j] = f
            a[3 * H + j] = o
            C[io, n, j] = f * C[ip, n, j] + i * a[2 * H + j]


# -- GRU (reset_after) ---------------------------------------------------------------------------
@njit(cache=True)
def gru_pre(P, S, HN, Y, W2T, bhn, HP, RM, HM, M, tf, ipf, iof, tpf, t, ip, has_rm, has_mask,
            zero_out, has_bhn):
    """Finish step ``tf`` (``h = n + z (h_prev - n)``, masks), then for step ``t``:
    ``hp = h W_hh^T``, ``P[t, :, :2H] += hp[:, :2H]`` (scaled), ``HN[t] = hp[:, 2H:] + b_hn``."""
    N, G = P.shape[1], P.shape[2]
    H = G // 3
    if tf >= 0:
        for n in range(N):
            if has_mask and not M[tf, n]:
                continue
            for j in range(H):
                nn = P[tf, n, 2 * H + j]
                S[iof, n, j] = nn + P[tf, n, H + j] * (S[ipf, n, j] - nn)
        _finish_masked(S, Y, M, tf, ipf, iof, tpf, has_mask, zero_out)
    if t >= 0:
        _mm(_recurrent_operand(S, ip, RM, HM, has_rm), W2T, HP, 0.0)
        for n in range(N):
            a = P[t, n]
            hp = HP[n]
            for k in range(2 * H):
                a[k] = a[k] + hp[k]
            if has_bhn:
                for j in range(H):
                    HN[t, n, j] = hp[2 * H + j] + bhn[j]
            else:
                for j in range(H):
                    HN[t, n, j] = hp[2 * H + j]


@njit(cache=True)
def gru_mid(P, HN, t):
    """``r, z`` from ``tanh`` of the half-scaled pre-activations; ``P[t, :, 2H:] = p_n + r*hn``
    (the candidate's pre-activation)."""
    N, G = P.shape[1], P.shape[2]
    H = G // 3
    one = P.dtype.type(1.0)
    half = P.dtype.type(0.5)
    for n in range(N):
        a = P[t, n]
        for j in range(H):
            r = (a[j] + one) * half
            a[j] = r
            a[H + j] = (a[H + j] + one) * half
            a[2 * H + j] = a[2 * H + j] + r * HN[t, n, j]


# -- backward sweeps -----------------------------------------------------------------------------
@njit(cache=True)
def simple_backward(S, W, RM, M, dYt, dZ, dh, DZS, DH, carry, lo, hi, dlo, dhi, reverse,
                    has_rm, has_mask, zero_out, acc, act):
    """BPTT over processing positions ``hi-1 … lo`` (activation codes: 0 tanh, 1 relu,
    2 linear). ``dZ[t]`` receives (or, with ``acc``, accumulates) the pre-activation gradient;
    ``dh`` holds the state gradient, updated in place."""
    T = S.shape[0] - 1
    N, H = dh.shape
    one = dh.dtype.type(1.0)
    zero = dh.dtype.type(0.0)
    for i in range(hi - 1, lo - 1, -1):
        t = T - 1 - i if reverse else i
        io = t if reverse else t + 1
        has_dy = dlo <= i < dhi
        dz = DZS if acc else dZ[t]
        for n in range(N):
            if has_mask and not M[t, n]:
                for j in range(H):
                    dz[n, j] = zero
                    if not zero_out:
                        dy = carry[n, j]
                        if has_dy:
                            dy = dYt[t, n, j] + carry[n, j]
                        carry[n, j] = dy
                continue
            for j in range(H):
                dy = dYt[t, n, j] if has_dy else zero
                if has_mask and not zero_out:
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
        _mm(dz, W, DH, 0.0)
        for n in range(N):
            if has_mask and not M[t, n]:
                continue
            for j in range(H):
                dh[n, j] = DH[n, j] * RM[n, j] if has_rm else DH[n, j]
        if acc:
            d = dZ[t]
            for n in range(N):
                for j in range(H):
                    d[n, j] += DZS[n, j]


@njit(cache=True)
def lstm_backward(P, C, TC, W, RM, M, dYt, dZ, dh, dc, DZS, DH, carry, lo, hi, dlo, dhi,
                  reverse, has_rm, has_mask, zero_out, acc):
    """LSTM BPTT over processing positions ``hi-1 … lo``; ``dh``, ``dc`` updated in place."""
    T, N, G = P.shape
    H = G // 4
    one = dh.dtype.type(1.0)
    zero = dh.dtype.type(0.0)
    for i in range(hi - 1, lo - 1, -1):
        t = T - 1 - i if reverse else i
        ip = t + 1 if reverse else t
        has_dy = dlo <= i < dhi
        dz = DZS if acc else dZ[t]
        for n in range(N):
            if has_mask and not M[t, n]:
                for k in range(G):
                    dz[n, k] = zero
                if not zero_out:
                    for j in range(H):
                        dy = carry[n, j]
                        if has_dy:
                            dy = dYt[t, n, j] + carry[n, j]
                        carry[n, j] = dy
                continue
            a = P[t, n]
            for j in range(H):
                dy = dYt[t, n, j] if has_dy else zero
                if has_mask and not zero_out:
                    dy = dy + carry[n, j]
                    carry[n, j] = zero
                ig = a[j]
                fg = a[H + j]
                gg = a[2 * H + j]
                og = a[3 * H + j]
                tc = TC[t, n, j]
                dhh = dy + dh[n, j]
                dcc = dc[n, j] + dhh * og * (one - tc * tc)
                dz[n, j] = dcc * gg * (ig * (one - ig))
                dz[n, H + j] = dcc * C[ip, n, j] * (fg * (one - fg))
                dz[n, 2 * H + j] = dcc * ig * (one - gg * gg)
                dz[n, 3 * H + j] = dhh * tc * (og * (one - og))
                dc[n, j] = dcc * fg
        _mm(dz, W, DH, 0.0)
        for n in range(N):
            if has_mask and not M[t, n]:
                continue
            for j in range(H):
                dh[n, j] = DH[n, j] * RM[n, j] if has_rm else DH[n, j]
        if acc:
            d = dZ[t]
            for n in range(N):
                for k in range(G):
                    d[n, k] += DZS[n, k]


@njit(cache=True)
def gru_backward(P, S, HN, W, RM, M, dYt, dZ, dh, DZS, DR, DH, DHZ, carry, lo, hi, dlo, dhi,
                 reverse, has_rm, has_mask, zero_out, acc):
    """GRU (reset_after) BPTT over processing positions ``hi-1 … lo``; ``dh`` in place."""
    T, N, G = P.shape
    H = G // 3
    one = dh.dtype.type(1.0)
    zero = dh.dtype.type(0.0)
    for i in range(hi - 1, lo - 1, -1):
        t = T - 1 - i if reverse else i
        ip = t + 1 if reverse else t
        has_dy = dlo <= i < dhi
        dz = DZS if acc else dZ[t]
        for n in range(N):
            if has_mask and not M[t, n]:
                for k in range(G):
                    dz[n, k] = zero
                    DR[n, k] = zero
                if not zero_out:
                    for j in range(H):
                        dy = carry[n, j]
                        if has_dy:
                            dy = dYt[t, n, j] + carry[n, j]
                        carry[n, j] = dy
                continue
            a = P[t, n]
            for j in range(H):
                dy = dYt[t, n, j] if has_dy else zero
                if has_mask and not zero_out:
                    dy = dy + carry[n, j]
                    carry[n, j] = zero
                r = a[j]
                z = a[H + j]
                nn = a[2 * H + j]
                dhh = dy + dh[n, j]
                dn = dhh * (one - z) * (one - nn * nn)
                dpz = dhh * (S[ip, n, j] - nn) * (z * (one - z))
                dpr = dn * HN[t, n, j] * (r * (one - r))
                dz[n, j] = dpr
                dz[n, H + j] = dpz
                dz[n, 2 * H + j] = dn
                DR[n, j] = dpr
                DR[n, H + j] = dpz
                DR[n, 2 * H + j] = dn * r
                DHZ[n, j] = dhh * z
        _mm(DR, W, DH, 0.0)
        for n in range(N):
            if has_mask and not M[t, n]:
                continue
            for j in range(H):
                dhm = DH[n, j] * RM[n, j] if has_rm else DH[n, j]
                dh[n, j] = DHZ[n, j] + dhm
        if acc:
            d = dZ[t]
            for n in range(N):
                for k in range(G):
                    d[n, k] += DZS[n, k]
