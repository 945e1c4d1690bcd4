"""The numba engine: whole-sequence forward and backward sweeps, one compiled call each.

Importing this module imports numba and binds NumPy's CBLAS (``_blas``); any failure makes the
engine unavailable (``rnnlab.kernels.numba_status``). Kernels are compiled with ``cache=True``
(once per machine, then loaded from ``__pycache__``) for float32 and float64 arrays, with
``error_model="numpy"`` (IEEE division, so loops vectorise) and ``nogil=True`` (row blocks of a
batch run concurrently, ``_pool``); each kernel works on the batch rows ``r0:r1``.

Buffers (see ``rnnlab.kernels.driver``): ``P (T, N, G)`` projected inputs ``x W_ih^T + b_ih``,
turned in place into pre-activations and then activated gates; ``S (T+1, N, H)`` hidden states
and ``C (T+1, N, H)`` LSTM cells indexed so that step ``t`` reads index ``t`` and writes ``t+1``
(``t+1`` and ``t`` when running backwards); ``TC (T, N, H)`` tanh of the cell; ``HN (T, N, H)``
the GRU's ``h W_hn^T + b_hn``; ``Y (T, N, H)`` outputs (only with a sequence mask); ``M (T, N)``
the mask; ``RM (N, H)`` the recurrent-dropout mask.

Every expression follows the reference cells' order of operations (``rnnlab.cells``): sigmoid is
``(tanh(z * 0.5) + 1) * 0.5`` as in ``rnnlab.activations``, ``b_hh`` is added after the
recurrent product, ``c = f * c_prev + i * g`` and so on, so results agree with the reference to
rounding (tests/test_fastpath.py: 1e-12 relative in float64).
"""

from __future__ import annotations

import ctypes
import math

import llvmlite.binding as _llvm
import numba
import numpy as np
from numba import njit, types
from numba.extending import overload

from . import _blas, _pool

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
    """``c = a @ b + beta * c`` for 2-D row-major arrays (a (m, k), b (k, n), c (m, n)) whose
    rows are contiguous; the row strides are passed to BLAS as leading dimensions, so ``c`` may
    be a column range of a wider array."""
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
                   max(a.strides[0] // 4, k, 1), b.ctypes.data, max(b.strides[0] // 4, n, 1),
                   np.float32(beta), c.ctypes.data, max(c.strides[0] // 4, n, 1))
        return impl_s
    if a.dtype == types.float64:
        def impl_d(a, b, c, beta):
            m, k = a.shape
            n = b.shape[1]
            if m == 0 or n == 0:
                return
            _dgemm(_ROW_MAJOR, _NO_TRANS, _NO_TRANS, m, n, k, 1.0, a.ctypes.data,
                   max(a.strides[0] // 8, k, 1), b.ctypes.data, max(b.strides[0] // 8, n, 1),
                   np.float64(beta), c.ctypes.data, max(c.strides[0] // 8, n, 1))
        return impl_d
    return None


@njit(cache=True, error_model="numpy", nogil=True)
def _mm_panels(a, WF, WB, c, beta):
    """``c = a @ B + beta * c`` with ``B (k, n)`` stored as column panels (``pack_panels``):
    panel ``i`` holds columns ``WB[i]:WB[i+1]`` as a contiguous ``(k, width)`` matrix at
    ``WF[k·WB[i]:k·WB[i+1]]``. One BLAS call per panel; every element is still one dot
    product over the whole ``k``."""
    k = a.shape[1]
    for i in range(WB.shape[0] - 1):
        j0 = WB[i]
        j1 = WB[i + 1]
        _mm(a, WF[k * j0:k * j1].reshape((k, j1 - j0)), c[:, j0:j1], beta)


# -- shared pieces -------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy", nogil=True)
def project(P, scale, bias):
    """``P = P * scale + bias`` on the rows of ``P (rows, G)``."""
    R, G = P.shape
    for r in range(R):
        row = P[r]
        for g in range(G):
            row[g] = row[g] * scale[g] + bias[g]


@njit(cache=True, error_model="numpy", nogil=True)
def _recurrent_operand(S, ip, RM, HM, has_rm, r0, r1):
    """Rows ``r0:r1`` of ``S[ip] * RM`` (into HM) with recurrent dropout, else of ``S[ip]``."""
    if not has_rm:
        return S[ip, r0:r1]
    H = HM.shape[1]
    for n in range(r0, r1):
        for j in range(H):
            HM[n, j] = S[ip, n, j] * RM[n, j]
    return HM[r0:r1]


@njit(cache=True, error_model="numpy", nogil=True)
def _finish_masked(S, Y, M, t, ip, io, t_prev, has_mask, zero_out, r0, r1):
    """With a sequence mask: masked rows carry the state and repeat (or zero) the output;
    the other rows output the new state."""
    if not has_mask:
        return
    H = S.shape[2]
    zero = S.dtype.type(0.0)
    for n in range(r0, r1):
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


# -- a tanh that vectorises -----------------------------------------------------------------------
def vtanh(x):  # pragma: no cover - replaced by the overload inside kernels
    """tanh without library calls, so that loops using it vectorise (SIMD)."""
    raise NotImplementedError


@overload(vtanh)
def _vtanh_overload(x):
    """Cephes' tanh: for |x| < 0.625 an odd polynomial (float32) or rational function (float64)
    in x; else ``1 - 2 / (exp(2|x|) + 1)`` with exp by Cody-Waite reduction, a Taylor polynomial
    and an exact power of two built from an integer shift. Max error against the correctly
    rounded tanh: 1.3 ulp in float32 (NumPy's own: 1.4 ulp), 4e-16 relative in float64
    (tests/test_fastpath.py checks both)."""
    if x == types.float32:
        f = np.float32
        s5, s4, s3, s2, s1 = (f(-5.70498872745e-3), f(2.06390887954e-2), f(-5.37397155531e-2),
                              f(1.33314422036e-1), f(-3.33332819422e-1))
        e7, e6, e5, e4, e3, e2 = (f(1.0 / math.factorial(k)) for k in range(7, 1, -1))
        lim, cut, two, one, half = f(9.5), f(0.625), f(2.0), f(1.0), f(0.5)
        log2e, ln2_hi, ln2_lo = f(1.4426950408889634), f(0.693359375), f(-2.12194440e-4)

        def tanh32(x):
            ax = abs(x)
            z = x * x
            small = ((((s5 * z + s4) * z + s3) * z + s2) * z + s1) * z * x + x
            y = two * min(ax, lim)
            k = np.int32(y * log2e + half)
            kf = f(k)
            r = (y - kf * ln2_hi) - kf * ln2_lo
            p = ((((((e7 * r + e6) * r + e5) * r + e4) * r + e3) * r + e2) * r + one) * r + one
            big = one - two / (p * f(np.int32(1) << k) + one)
            big = -big if x < 0 else big
            res = small if ax < cut else big
            return x if (x != x or x == 0) else res  # NaN, and tanh(-0) = -0
        return tanh32
    if x == types.float64:
        p0, p1, p2 = (-9.64399179425052238628e-1, -9.92877231001918586564e1,
                      -1.61468768441708447952e3)
        q0, q1, q2 = (1.12811678491632931402e2, 2.23548839060100448583e3,
                      4.84406305325125486048e3)
        c = [1.0 / math.factorial(k) for k in range(14)]
        c13, c12, c11, c10, c9, c8, c7, c6, c5, c4, c3, c2 = c[13:1:-1]
        log2e, ln2_hi, ln2_lo = (1.4426950408889634, 6.93147180369123816490e-01,
                                 1.90821492927058770002e-10)

        def tanh64(x):
            ax = abs(x)
            z = x * x
            small = x + x * (z * ((p0 * z + p1) * z + p2) / (((z + q0) * z + q1) * z + q2))
            y = 2.0 * min(ax, 19.5)
            k = np.int64(y * log2e + 0.5)
            kf = np.float64(k)
            r = (y - kf * ln2_hi) - kf * ln2_lo
            p = ((((((((((((c13 * r + c12) * r + c11) * r + c10) * r + c9) * r + c8) * r + c7)
                       * r + c6) * r + c5) * r + c4) * r + c3) * r + c2) * r + 1.0) * r + 1.0
            big = 1.0 - 2.0 / (p * np.float64(np.int64(1) << k) + 1.0)
            big = -big if x < 0 else big
            res = small if ax < 0.625 else big
            return x if (x != x or x == 0) else res  # NaN, and tanh(-0) = -0
        return tanh64
    return None


@njit(cache=True, error_model="numpy", nogil=True)
def tanh_array(x, out):
    """``out = vtanh(x)`` element-wise (for tests)."""
    xf = x.ravel()
    of = out.ravel()
    for i in range(xf.size):
        of[i] = vtanh(xf[i])


# -- forward sweeps (whole sequence, one call) ----------------------------------------------------
# Loops run along one batch row at a time over a whole gate row (G = gates·H contiguous values),
# with per-column constants instead of per-gate branches, so that they vectorise; the sigmoid gate
# columns use ``tanh(z * 0.5) * 0.5 + 0.5``, bit for bit the reference's
# ``(tanh(z * 0.5) + 1) * 0.5`` (halving is exact), and the tanh columns ``tanh(z * 1) * 1 + 0``.
@njit(cache=True, error_model="numpy", nogil=True)
def simple_forward(P, S, Y, WF, WB, bhh, RM, HM, M, reverse, has_rm, has_mask, zero_out, act,
                   r0, r1):
    """``h_t = act(p_t + h_{t-1} W_hh^T + b_hh)`` for every step (act: 0 tanh, 1 relu,
    2 linear); ``P[t]`` keeps the pre-activation, ``S`` the states."""
    T, N, H = P.shape
    zero = P.dtype.type(0.0)
    t_prev = -1
    for i in range(T):
        t = T - 1 - i if reverse else i
        ip = t + 1 if reverse else t
        io = t if reverse else t + 1
        a = P[t]
        _mm_panels(_recurrent_operand(S, ip, RM, HM, has_rm, r0, r1), WF, WB, a[r0:r1], 1.0)
        for n in range(r0, r1):
            an = a[n]
            hn = S[io, n]
            for j in range(H):
                an[j] = an[j] + bhh[j]
            if act == 0:
                for j in range(H):
                    hn[j] = vtanh(an[j])
            elif act == 1:
                for j in range(H):
                    v = an[j]
                    hn[j] = v if (v > zero or v != v) else zero
            else:
                for j in range(H):
                    hn[j] = an[j]
        _finish_masked(S, Y, M, t, ip, io, t_prev, has_mask, zero_out, r0, r1)
        t_prev = t


@njit(cache=True, error_model="numpy", nogil=True)
def lstm_forward(P, S, C, TC, Y, WF, WB, bhh, sc, sh, RM, HM, M, reverse, has_rm, has_mask,
                 zero_out, r0, r1):
    """LSTM over all steps: ``P[t]`` becomes the activated gates (i, f, g, o), ``C``/``TC`` the
    cells and their tanh, ``S`` the hidden states. ``sc``/``sh``: per-column scale and shift
    (0.5/0.5 on sigmoid columns, 1/0 on the tanh column block)."""
    T, N, G = P.shape
    H = G // 4
    t_prev = -1
    for i in range(T):
        t = T - 1 - i if reverse else i
        ip = t + 1 if reverse else t
        io = t if reverse else t + 1
        a = P[t]
        _mm_panels(_recurrent_operand(S, ip, RM, HM, has_rm, r0, r1), WF, WB, a[r0:r1], 1.0)
        for n in range(r0, r1):
            an = a[n]
            for k in range(G):
                an[k] = vtanh((an[k] + bhh[k]) * sc[k]) * sc[k] + sh[k]
            cp = C[ip, n]
            cn = C[io, n]
            tcn = TC[t, n]
            hn = S[io, n]
            for j in range(H):
                c = an[H + j] * cp[j] + an[j] * an[2 * H + j]
                tc = vtanh(c)
                cn[j] = c
                tcn[j] = tc
                hn[j] = an[3 * H + j] * tc
            if has_mask and not M[t, n]:
                for j in range(H):
                    cn[j] = cp[j]
        _finish_masked(S, Y, M, t, ip, io, t_prev, has_mask, zero_out, r0, r1)
        t_prev = t


@njit(cache=True, error_model="numpy", nogil=True)
def gru_forward(P, S, HN, Y, WF, WB, bhh, HP, RM, HM, M, reverse, has_rm, has_mask, zero_out,
                r0, r1):
    """GRU (reset_after) over all steps: ``P[t]`` becomes (r, z, n), ``HN[t]`` keeps
    ``h W_hn^T + b_hn``, ``S`` the states."""
    T, N, G = P.shape
    H = G // 3
    half = P.dtype.type(0.5)
    t_prev = -1
    for i in range(T):
        t = T - 1 - i if reverse else i
        ip = t + 1 if reverse else t
        io = t if reverse else t + 1
        _mm_panels(_recurrent_operand(S, ip, RM, HM, has_rm, r0, r1), WF, WB, HP[r0:r1], 0.0)
        for n in range(r0, r1):
            an = P[t, n]
            hp = HP[n]
            for k in range(G):
                hp[k] = hp[k] + bhh[k]
            for k in range(2 * H):
                an[k] = vtanh((an[k] + hp[k]) * half) * half + half
            hnn = HN[t, n]
            hprev = S[ip, n]
            hout = S[io, n]
            for j in range(H):
                hn = hp[2 * H + j]
                nn = vtanh(an[2 * H + j] + an[j] * hn)
                an[2 * H + j] = nn
                hnn[j] = hn
                hout[j] = nn + an[H + j] * (hprev[j] - nn)
        _finish_masked(S, Y, M, t, ip, io, t_prev, has_mask, zero_out, r0, r1)
        t_prev = t


# -- backward sweeps -----------------------------------------------------------------------------
@njit(cache=True, error_model="numpy", nogil=True)
def _skip_masked_row(dz, carry, dYt, t, n, has_dy, zero_out):
    """Row ``n`` is masked at step ``t``: no pre-activation gradient (``dz[n] = 0``); unless
    ``zero_out``, its output gradient is carried to the previous unmasked step (the output
    there was repeated here)."""
    zero = dz.dtype.type(0.0)
    for k in range(dz.shape[1]):
        dz[n, k] = zero
    if not zero_out:
        for j in range(carry.shape[1]):
            dy = carry[n, j]
            if has_dy:
                dy = dYt[t, n, j] + carry[n, j]
            carry[n, j] = dy


@njit(cache=True, error_model="numpy", nogil=True)
def _state_grad_rows(dh, DH, RM, M, t, has_rm, has_mask, r0, r1):
    """``dh = DH ⊙ RM`` (recurrent dropout) or ``DH`` on the rows unmasked at step ``t``."""
    for n in range(r0, r1):
        if has_mask and not M[t, n]:
            continue
        for j in range(dh.shape[1]):
            dh[n, j] = DH[n, j] * RM[n, j] if has_rm else DH[n, j]


@njit(cache=True, error_model="numpy", nogil=True)
def _add_rows(d, DZS, r0, r1):
    """``d[r0:r1] += DZS[r0:r1]`` (truncated BPTT accumulates each window's gradient)."""
    for n in range(r0, r1):
        for k in range(d.shape[1]):
            d[n, k] += DZS[n, k]


@njit(cache=True, error_model="numpy", nogil=True)
def simple_backward(S, WF, WB, RM, M, dYt, dZ, dh, DZS, DH, carry, lo, hi, dlo, dhi, reverse,
                    has_rm, has_mask, zero_out, acc, act, r0, r1):
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
        for n in range(r0, r1):
            if has_mask and not M[t, n]:
                _skip_masked_row(dz, carry, dYt, t, n, has_dy, zero_out)
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
        _mm_panels(dz[r0:r1], WF, WB, DH[r0:r1], 0.0)
        _state_grad_rows(dh, DH, RM, M, t, has_rm, has_mask, r0, r1)
        if acc:
            _add_rows(dZ[t], DZS, r0, r1)


@njit(cache=True, error_model="numpy", nogil=True)
def lstm_backward(P, C, TC, WF, WB, RM, M, dYt, dZ, dh, dc, DZS, DH, carry, lo, hi, dlo, dhi,
                  reverse, has_rm, has_mask, zero_out, acc, r0, r1):
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
        for n in range(r0, r1):
            if has_mask and not M[t, n]:
                _skip_masked_row(dz, carry, dYt, t, n, has_dy, zero_out)
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
        _mm_panels(dz[r0:r1], WF, WB, DH[r0:r1], 0.0)
        _state_grad_rows(dh, DH, RM, M, t, has_rm, has_mask, r0, r1)
        if acc:
            _add_rows(dZ[t], DZS, r0, r1)


@njit(cache=True, error_model="numpy", nogil=True)
def gru_backward(P, S, HN, WF, WB, RM, M, dYt, dZ, dh, DZS, DR, DH, DHZ, carry, lo, hi, dlo, dhi,
                 reverse, has_rm, has_mask, zero_out, acc, r0, r1):
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
        for n in range(r0, r1):
            if has_mask and not M[t, n]:
                for k in range(G):
                    DR[n, k] = zero
                _skip_masked_row(dz, carry, dYt, t, n, has_dy, zero_out)
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
        _mm_panels(DR[r0:r1], WF, WB, DH[r0:r1], 0.0)
        for n in range(r0, r1):
            if has_mask and not M[t, n]:
                continue
            for j in range(H):
                dhm = DH[n, j] * RM[n, j] if has_rm else DH[n, j]
                dh[n, j] = DHZ[n, j] + dhm
        if acc:
            _add_rows(dZ[t], DZS, r0, r1)


# -- engine entry points (see rnnlab.kernels.driver) ---------------------------------------------
PRESCALE = False  # sigmoid gates computed from the raw pre-activations; b_hh added per step

_openblas = ctypes.CDLL(_LIB)
_get_threads = _openblas.scipy_openblas_get_num_threads64_
_get_threads.restype = ctypes.c_int
_get_threads.argtypes = []
_set_threads = _openblas.scipy_openblas_set_num_threads64_
_set_threads.restype = None
_set_threads.argtypes = [ctypes.c_int]


def threads() -> int:
    """Threads for batch-parallel sweeps: NumPy's BLAS thread count."""
    return max(1, int(_get_threads()))


def parallel_rows(rows: int, min_rows: int, fn) -> None:
    """``fn(r0, r1)`` over row blocks of at least ``min_rows`` rows, on up to ``threads()``
    threads, always with single-threaded BLAS inside (see ``_pool``): BLAS's own threads never
    run inside a recurrent layer. ``fn`` must only write its rows."""
    nt = threads()
    if nt == 1:
        fn(0, rows)
        return
    blocks = _pool.row_blocks(rows, nt, min_rows)
    _set_threads(1)  # too small to split: one thread is faster than BLAS's per-call hand-offs
    try:
        if len(blocks) == 1:
            fn(0, rows)
        else:
            _pool.POOL.run(lambda i: fn(*blocks[i]), len(blocks), nt)
    finally:
        _set_threads(nt)


def _run(q, fn) -> None:
    parallel_rows(q.N, _pool.MIN_ROWS, fn)


# -- the recurrent weight in column panels ---------------------------------------------------------
# OpenBLAS multiplies small products (m·n·k ≤ 10^6) with kernels that read both operands where
# they lie; larger ones first copy ("pack") the operands into its own layout, at every call. A
# sweep's per-step product is (rows, H) @ (H, G): for 650 units and 10 rows per thread each step
# re-packed the whole 6.8 MB weight. Split into column panels small enough for the unpacked
# kernels, the same product took 0.42 instead of 0.75 ms (forward) and 0.42 instead of 0.93 ms
# (BPTT) on one thread (benchmarks/RESULTS.md). Only cores whose OpenBLAS build has those kernels
# get panels; elsewhere the weight is one panel, as before.
SMALL_GEMM_WORK = 1_000_000  # OpenBLAS's limit (m·n·k) for its small-matrix kernels
PANEL_ALIGN = 16             # panel widths are multiples of one AVX-512 register of float32
_corename = getattr(_openblas, "scipy_openblas_get_corename64_", None)
if _corename is not None:
    _corename.restype = ctypes.c_char_p
    _corename.argtypes = []
CORE = (_corename() or b"").decode() if _corename is not None else "unknown"
SMALL_GEMM = CORE in ("SkylakeX", "Cooperlake", "SapphireRapids")
DESCRIPTION += f", core {CORE} ({'panels for' if SMALL_GEMM else 'no'} small-matrix kernels)"


def panel_width(rows: int, k: int, n: int) -> int:
    """Columns per panel of a ``(k, n)`` weight multiplied by ``rows`` rows at a time."""
    if not SMALL_GEMM or rows * k * n <= SMALL_GEMM_WORK:
        return n
    width = SMALL_GEMM_WORK // (rows * k) // PANEL_ALIGN * PANEL_ALIGN
    return width if width > 0 else n


def _block_rows(rows: int) -> int:
    """The most batch rows one thread's block of a sweep gets (``parallel_rows``)."""
    return max(r1 - r0 for r0, r1 in _pool.row_blocks(rows, threads(), _pool.MIN_ROWS))


def pack_panels(b, rows: int):
    """``(WF, WB)``: ``b (k, n)`` (any strides) copied into column panels for ``_mm_panels``,
    sized for products of ``rows`` rows; the copy is split over the engine's threads."""
    k, n = b.shape
    width = max(panel_width(rows, k, n), 1)
    bounds = np.array(list(range(0, n, width)) + [n], dtype=np.int64)
    flat = np.empty(k * n, dtype=b.dtype)

    def copy(r0: int, r1: int) -> None:
        for j0, j1 in zip(bounds[:-1], bounds[1:]):
            flat[k * j0:k * j1].reshape(k, j1 - j0)[r0:r1] = b[r0:r1, j0:j1]

    parallel_rows(k, 64, copy)
    return flat, bounds


def pack_forward(w_t, scale, rows: int):
    """``W_hh^T (H, G)`` in the layout of the forward kernels (``scale`` must be None: this
    engine does not pre-scale, see PRESCALE)."""
    if scale is not None:
        raise ValueError("the numba engine takes W_hh unscaled (PRESCALE is False)")
    return pack_panels(w_t, _block_rows(rows))


def pack_backward(w, rows: int):
    """``W_hh (G, H)`` in the layout of the BPTT kernels."""
    return pack_panels(w, _block_rows(rows))


def forward(q) -> None:
    """The whole forward sweep of ``q`` (a ``driver.Seq``) in one compiled call per row block."""
    Y = q.Y if q.Y is not None else q.S[:1]  # Y is only written with a mask
    dtype, H, G = q.P.dtype, q.H, q.G
    bhh = q.bhh if q.bhh.shape[0] == G else np.zeros(G, dtype=dtype)
    WF, WB = q.WR
    if q.kind == "lstm":
        sc = np.full(G, 0.5, dtype=dtype)
        sc[2 * H:3 * H] = 1.0
        sh = np.full(G, 0.5, dtype=dtype)
        sh[2 * H:3 * H] = 0.0
        _run(q, lambda r0, r1: lstm_forward(
            q.P, q.S, q.C, q.TC, Y, WF, WB, bhh, sc, sh, q.RM, q.HM, q.M, q.reverse, q.has_rm,
            q.has_mask, q.zero_out, r0, r1))
    elif q.kind == "gru":
        _run(q, lambda r0, r1: gru_forward(
            q.P, q.S, q.HN, Y, WF, WB, bhh, q.HP, q.RM, q.HM, q.M, q.reverse, q.has_rm,
            q.has_mask, q.zero_out, r0, r1))
    else:
        _run(q, lambda r0, r1: simple_forward(
            q.P, q.S, Y, WF, WB, bhh, q.RM, q.HM, q.M, q.reverse, q.has_rm, q.has_mask,
            q.zero_out, q.act, r0, r1))


def backward(q, W, dY, dZ, ds, lo, hi, dlo, dhi, acc) -> None:
    """BPTT over processing positions ``hi-1 … lo``, one compiled call per row block; ``W`` is
    ``W_hh`` as ``pack_backward`` laid it out; ``ds`` (state gradients) updated in place, ``dZ``
    written (or accumulated with ``acc``)."""
    N, H, G = q.N, q.H, q.G
    dtype = q.P.dtype
    DZS = np.empty((N, G), dtype=dtype) if acc else np.empty((1, 1), dtype=dtype)
    carry = np.zeros((N, H), dtype=dtype)
    DH = np.empty((N, H), dtype=dtype)
    WF, WB = W
    if q.kind == "lstm":
        _run(q, lambda r0, r1: lstm_backward(
            q.P, q.C, q.TC, WF, WB, q.RM, q.M, dY, dZ, ds[0], ds[1], DZS, DH, carry, lo, hi, dlo,
            dhi, q.reverse, q.has_rm, q.has_mask, q.zero_out, acc, r0, r1))
    elif q.kind == "gru":
        DR = np.empty((N, G), dtype=dtype)
        DHZ = np.empty((N, H), dtype=dtype)
        _run(q, lambda r0, r1: gru_backward(
            q.P, q.S, q.HN, WF, WB, q.RM, q.M, dY, dZ, ds[0], DZS, DR, DH, DHZ, carry, lo, hi, dlo,
            dhi, q.reverse, q.has_rm, q.has_mask, q.zero_out, acc, r0, r1))
    else:
        _run(q, lambda r0, r1: simple_backward(
            q.S, WF, WB, q.RM, q.M, dY, dZ, ds[0], DZS, DH, carry, lo, hi, dlo, dhi, q.reverse,
            q.has_rm, q.has_mask, q.zero_out, acc, q.act, r0, r1))
