"""What every compiled sweep shares: NumPy's BLAS bound for numba, the per-step product on the
recurrent weight's strips (``_strips``) or column panels, a vectorising tanh, the mask and
window bookkeeping of a step, and the row-block threads. The cells' own kernels live beside
their reference step (``rnnlab.cells.<cell>.sweep``).

Importing this module imports numba and binds NumPy's CBLAS (``_blas``); any failure makes
compiled sweeps unavailable (``rnnlab.kernels.numba_status``). Kernels are compiled with
``cache=True`` (once per machine, then loaded from ``__pycache__``) for float32 and float64
arrays, with ``error_model="numpy"`` (IEEE division, so loops vectorise) and ``nogil=True`` (row
blocks of a batch run concurrently, ``_pool``); each kernel works on the batch rows ``r0:r1``.
Buffers: see ``rnnlab.kernels.driver``. Cell kernels follow their reference step's order of
operations, so results agree with it to rounding (tests/test_fastpath.py: 1e-12 relative in
float64).
"""

from __future__ import annotations

import ctypes
import math
import os
import platform
from typing import Any

import llvmlite.binding as _llvm
import numba
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload

from . import _blas, _pool, _strips
from ._strips import mm_strips

_LIB = _blas.find_gemm_library()
_llvm.load_library_permanently(_LIB)

LIBRARY = _LIB  # the full path; the description names the file only
DESCRIPTION = f"numba {numba.__version__}, BLAS {_blas.SGEMM} from {os.path.basename(_LIB)}"

_I32, _I64 = types.int32, types.int64
_sgemm = types.ExternalFunction(_blas.SGEMM, types.void(
    _I32, _I32, _I32, _I64, _I64, _I64, types.float32, types.voidptr, _I64, types.voidptr, _I64,
    types.float32, types.voidptr, _I64))
_dgemm = types.ExternalFunction(_blas.DGEMM, types.void(
    _I32, _I32, _I32, _I64, _I64, _I64, types.float64, types.voidptr, _I64, types.voidptr, _I64,
    types.float64, types.voidptr, _I64))

_sgemv = types.ExternalFunction(_blas.SGEMV, types.void(
    _I32, _I32, _I64, _I64, types.float32, types.voidptr, _I64, types.voidptr, _I64,
    types.float32, types.voidptr, _I64))
_dgemv = types.ExternalFunction(_blas.DGEMV, types.void(
    _I32, _I32, _I64, _I64, types.float64, types.voidptr, _I64, types.voidptr, _I64,
    types.float64, types.voidptr, _I64))

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112


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


def _mv(bt, x, y):  # pragma: no cover - replaced by the overload inside kernels
    """``y += bt @ x`` for a row-major ``bt (n, k)`` whose rows are contiguous, ``x (k,)`` and
    ``y (n,)`` contiguous (BLAS ``?gemv``, which reads the matrix where it lies)."""
    raise NotImplementedError


@overload(_mv)
def _mv_overload(bt, x, y):
    if bt.dtype == types.float32:
        def impl_s(bt, x, y):
            n, k = bt.shape
            if n == 0 or k == 0:
                return
            _sgemv(_ROW_MAJOR, _NO_TRANS, n, k, np.float32(1.0), bt.ctypes.data,
                   max(bt.strides[0] // 4, k, 1), x.ctypes.data, 1, np.float32(1.0),
                   y.ctypes.data, 1)
        return impl_s
    if bt.dtype == types.float64:
        def impl_d(bt, x, y):
            n, k = bt.shape
            if n == 0 or k == 0:
                return
            _dgemv(_ROW_MAJOR, _NO_TRANS, n, k, 1.0, bt.ctypes.data,
                   max(bt.strides[0] // 8, k, 1), x.ctypes.data, 1, 1.0, y.ctypes.data, 1)
        return impl_d
    return None


def _mm_t(a, bt, c, beta):  # pragma: no cover - replaced by the overload inside kernels
    """``c = a @ bt.T + beta * c`` (as ``_mm``, ``bt (n, k)`` with contiguous rows: BLAS's
    transposed B)."""
    raise NotImplementedError


@overload(_mm_t)
def _mm_t_overload(a, bt, c, beta):
    if a.dtype == types.float32:
        def impl_s(a, bt, c, beta):
            m, k = a.shape
            n = bt.shape[0]
            if m == 0 or n == 0:
                return
            _sgemm(_ROW_MAJOR, _NO_TRANS, _TRANS, m, n, k, np.float32(1.0), a.ctypes.data,
                   max(a.strides[0] // 4, k, 1), bt.ctypes.data, max(bt.strides[0] // 4, k, 1),
                   np.float32(beta), c.ctypes.data, max(c.strides[0] // 4, n, 1))
        return impl_s
    if a.dtype == types.float64:
        def impl_d(a, bt, c, beta):
            m, k = a.shape
            n = bt.shape[0]
            if m == 0 or n == 0:
                return
            _dgemm(_ROW_MAJOR, _NO_TRANS, _TRANS, m, n, k, 1.0, a.ctypes.data,
                   max(a.strides[0] // 8, k, 1), bt.ctypes.data, max(bt.strides[0] // 8, k, 1),
                   np.float64(beta), c.ctypes.data, max(c.strides[0] // 8, n, 1))
        return impl_d
    return None


@njit(cache=True, nogil=True)
def _gemm_t(a, bt, c, beta):
    _mm_t(a, bt, c, beta)


@njit(cache=True, nogil=True)
def _gemm_n(a, b, c, beta):
    _mm(a, b, c, beta)


def rows_contiguous(x) -> bool:
    """2-D with contiguous rows (BLAS takes the row stride as its leading dimension)."""
    return x.ndim == 2 and (x.shape[1] <= 1 or x.strides[1] == x.itemsize) and (
        x.shape[0] <= 1 or x.strides[0] >= x.itemsize * x.shape[1])


def matmul_bias(a, b, out, bias) -> bool:
    """``out = a @ b + bias`` as one BLAS call on ``out`` filled with ``bias`` (``beta = 1``):
    no pass over ``out`` after the product (a ``(700, 200) @ (200, 10000)`` with its bias took
    33.5-34.1 ms against 36.0-36.7 as product then ``+=``, one thread). Each element is still
    one dot product over the whole ``k`` plus the bias, BLAS adding its partial sums over
    ``k`` blocks to ``out`` (so rounding may differ from the product then ``+=``). False (and
    nothing done) where a layout or dtype does not fit BLAS directly."""
    dt = out.dtype
    if (dt not in (np.float32, np.float64) or a.dtype != dt or b.dtype != dt
            or bias.dtype != dt or not rows_contiguous(a) or not rows_contiguous(out)):
        return False
    if rows_contiguous(b):
        out[...] = bias
        _gemm_n(a, b, out, 1.0)
        return True
    if rows_contiguous(b.T):
        out[...] = bias
        _gemm_t(a, b.T, out, 1.0)
        return True
    return False


@njit(cache=True, error_model="numpy", nogil=True)
def mm_panels(a, WF, WB, c, beta):
    """``c = a @ B + beta * c`` with ``B (k, n)`` stored as column panels (``pack_panels``):
    panel ``i`` holds columns ``WB[i]:WB[i+1]`` as a contiguous ``(k, width)`` matrix at
    ``WF[k·WB[i]:k·WB[i+1]]``. One BLAS call per panel; every element is still one dot
    product over the whole ``k``. ``WB[0] == -1`` (``pack_panels`` for a few rows): ``WF`` is
    ``B^T (n, k)`` row-major, one matrix-vector product per row of ``a`` (``c`` whole).
    ``WB[0] == -2``: ``WF`` holds ``B`` as strips (``_strips.mm_strips``)."""
    k = a.shape[1]
    if WB[0] == -2:
        mm_strips(a, WF, WB[1], c, beta)
        return
    if WB[0] == -1:
        bt = WF.reshape((WB[1], k))
        zero = c.dtype.type(0.0)
        for r in range(a.shape[0]):
            cr = c[r]
            if beta == 0.0:  # not BLAS's beta = 0: some builds scale by it, keeping NaN
                for j in range(cr.shape[0]):
                    cr[j] = zero
            _mv(bt, a[r], cr)
        return
    few = a.shape[0] <= SMALL_ROWS
    for i in range(WB.shape[0] - 1):
        j0 = WB[i]
        j1 = WB[i + 1]
        if few:
            mm_rows(a, WF[k * j0:k * j1].reshape((k, j1 - j0)), c, j0, beta)
        else:
            _mm(a, WF[k * j0:k * j1].reshape((k, j1 - j0)), c[:, j0:j1], beta)


@njit(cache=True, error_model="numpy", nogil=True)
def mm_rows(a, b, c, j0, beta):
    """``c[:, j0:j0+n] = a @ b + beta * c[:, j0:j0+n]`` (``beta`` 0 or 1) one row of ``a`` at a
    time, as ``k`` passes of ``c[r] += a[r, p] * b[p]`` over contiguous rows (``SMALL_ROWS``).
    ``c`` comes whole and each row is sliced here (``c[r, j0:j0+n]`` keeps numba's contiguous
    layout; a column slice of ``c`` or an offset index stopped the passes vectorising: 21 us
    instead of 2.2 for (1, 100) @ (100, 400))."""
    m, k = a.shape
    n = b.shape[1]
    zero = c.dtype.type(0.0)
    for r in range(m):
        cr = c[r, j0:j0 + n]
        if beta == 0.0:
            for j in range(n):
                cr[j] = zero
        for p in range(k):
            s = a[r, p]
            bp = b[p]
            for j in range(n):
                cr[j] += s * bp[j]


# -- shared pieces -------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy", nogil=True)
def add_bias(P, bias):
    """``P += bias`` on the rows of ``P (rows, G)``."""
    R, G = P.shape
    for r in range(R):
        row = P[r]
        for g in range(G):
            row[g] = row[g] + bias[g]


@njit(cache=True, error_model="numpy", nogil=True, inline="always")
def positions(i, T, reverse):
    """``(t, ip, io)`` of processing position ``i``: the time step, the state index it reads
    and the one it writes (``S``/``C`` hold T+1 states, see ``driver``)."""
    t = T - 1 - i if reverse else i
    if reverse:
        return t, t + 1, t
    return t, t, t + 1


@njit(cache=True, error_model="numpy", nogil=True, inline="always")
def bptt_position(i, T, reverse, dlo, dhi, acc, DZS, dZ):
    """``(t, ip, io, has_dy, dz)`` of BPTT position ``i``: as ``positions``, whether output
    gradients enter here (``dlo <= i < dhi``) and where its pre-activation gradient goes
    (``dZ[t]``, or the window scratch ``DZS`` when windows accumulate)."""
    t, ip, io = positions(i, T, reverse)
    dz = DZS if acc else dZ[t]
    return t, ip, io, dlo <= i < dhi, dz


@njit(cache=True, error_model="numpy", nogil=True, inline="always")
def output_grad(dYt, carry, t, n, j, has_dy, has_mask, zero_out):
    """One element of ``output_grads``: the gradient reaching output ``(t, n, j)``, for a cell
    kernel that works element by element (a loop over a whole row with ``output_grads``
    vectorises better)."""
    zero = carry.dtype.type(0.0)
    dy = dYt[t, n, j] if has_dy else zero
    if has_mask and not zero_out:
        dy = dy + carry[n, j]
        carry[n, j] = zero
    return dy


@njit(cache=True, error_model="numpy", nogil=True, inline="always")
def output_grads(dYt, carry, DY, ZERO, t, n, has_dy, has_mask, zero_out):
    """Row ``n`` of the gradient reaching the outputs at step ``t``: ``dYt[t, n]`` (when the
    window has output gradients at this step, else ``ZERO``) plus, with a mask, what masked
    later steps carried back to it (then summed into the scratch row ``DY`` and ``carry[n]``
    cleared). Called once per row, outside the cells' inner loops: ``output_grad`` inlined
    per element inside them made the LSTM's BPTT loop about 2x slower."""
    if has_mask and not zero_out:
        cn = carry[n]
        zero = carry.dtype.type(0.0)
        for j in range(cn.shape[0]):
            DY[j] = (dYt[t, n, j] if has_dy else zero) + cn[j]
            cn[j] = zero
        return DY
    if has_dy:
        return dYt[t, n]
    return ZERO


@njit(cache=True, error_model="numpy", nogil=True)
def add_hidden_grad(dHt, dYt, carry, dh, t, n, has_dy, has_mask, zero_out):
    """When the per-step state gradients were asked for (``dHt (T, N, H)``, else None: numba
    compiles this to nothing): add row ``n``'s total gradient of the new hidden state at step
    ``t`` into ``dHt[t, n]``: what reaches its output (``output_grads``' sum, read before the
    kernel's row consumes ``carry``) plus the carried state gradient ``dh``."""
    if dHt is None:
        return
    zero = dh.dtype.type(0.0)
    for j in range(dh.shape[1]):
        dy = dYt[t, n, j] if has_dy else zero
        if has_mask and not zero_out:
            dy = dy + carry[n, j]
        dHt[t, n, j] += dy + dh[n, j]


@njit(cache=True, error_model="numpy", nogil=True)
def step_input(X, WIF, WIB, P, t, pt, r0, r1):
    """``P[pt, r0:r1] = X[t, r0:r1] @ W_ih^T`` for a sweep that projects each step's input
    itself (``driver.step_input``): ``X (T, N, D)`` (any strides, contiguous rows; a
    batch-major input's transposed view), ``W_ih^T`` in ``WIF``, ``WIB`` (``pack_forward``);
    ``pt`` is step ``t``'s slot of ``P`` (``t`` itself, or ``slot(t, P)`` in a ring).
    ``X`` None: ``P`` already holds the projection (numba compiles this call to nothing)."""
    if X is None:
        return
    mm_panels(X[t, r0:r1], WIF, WIB, P[pt, r0:r1], 0.0)


@njit(cache=True, error_model="numpy", nogil=True, inline="always")
def steps(P, X):
    """The number of steps of a forward sweep: ``P``'s length, or, where the sweep projects
    each step's input itself (``X``, see ``step_input``), ``X``'s (``P`` may be a ring)."""
    if X is None:
        return P.shape[0]
    return X.shape[0]


@njit(cache=True, error_model="numpy", nogil=True, inline="always")
def slot(k, buf):
    """Where index ``k`` (a step, or a state) of a per-step buffer lies: ``k`` itself where the
    buffer holds every one (``k`` < its length), else its slot of a ring (the inference-only
    buffers of ``driver``'s ``ring``: ``buf.shape[0]`` slots, the last ones written)."""
    return k % buf.shape[0]


@njit(cache=True, error_model="numpy", nogil=True, inline="always")
def forward_position(i, T, reverse, P, X, WIF, WIB, S, WF, WB, RM, HM, has_rm, bih, r0, r1):
    """``(t, ip, io)`` of processing position ``i`` (``positions``), after the input product
    (``step_input``, with ``X``), adding ``b_ih`` (``bih``) and then the recurrent product of
    the state it reads into ``P[t]`` (rows ``r0:r1``): the step's pre-activations
    ``(x_t W_ih^T + b_ih) + h_{t-1} W_hh^T``, for a sweep with ``adds_input_bias``. ``P`` and
    ``S`` may be rings (``slot``)."""
    t, ip, io = positions(i, T, reverse)
    pt = slot(t, P)
    step_input(X, WIF, WIB, P, t, pt, r0, r1)
    add_bias(P[pt, r0:r1], bih)
    mm_panels(recurrent_operand(S, slot(ip, S), RM, HM, has_rm, r0, r1), WF, WB, P[pt, r0:r1],
              1.0)
    return t, ip, io


@njit(cache=True, error_model="numpy", nogil=True)
def recurrent_operand(S, ip, RM, HM, has_rm, r0, r1):
    """Rows ``r0:r1`` of ``S[ip] * RM`` (into HM) with recurrent dropout, else of ``S[ip]``."""
    if not has_rm:
        return S[ip, r0:r1]
    H = HM.shape[1]
    for n in range(r0, r1):
        for j in range(H):
            HM[n, j] = S[ip, n, j] * RM[n, j]
    return HM[r0:r1]


@njit(cache=True, error_model="numpy", nogil=True)
def finish_masked(S, Y, M, t, ip, io, t_prev, has_mask, zero_out, r0, r1):
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


# -- exp, sigmoid and tanh that vectorise ---------------------------------------------------------
# Library calls (expf, tanhf) stop LLVM from vectorising a loop; these are written out so that a
# cell's activation loop runs 16 float32 lanes at a time (AVX-512). Measured on one core, float32,
# in a loop over 4,096 elements: sigmoid 0.23 ns/element (0.49 as 0.5·tanh(x/2)+0.5 with the
# earlier tanh), tanh 0.34 (0.46 with its exp built from 64-bit integer shifts). Their polynomials
# are evaluated with ``_fmuladd`` (numba never fuses ``a * b + c`` itself): on an AVX2 core
# (AMD EPYC, 8 lanes) sigmoid went from 0.90 to 0.61 ns/element with it.
@intrinsic
def _fmuladd(typingctx, a, b, c):
    """``a * b + c``, fused into one FMA instruction where the CPU has one (LLVM's
    ``llvm.fmuladd``: one rounding there, a multiply and an add elsewhere); vectorises."""
    if not (a == b == c and a in (types.float32, types.float64)):
        return None

    def codegen(context, builder, sig, args):
        t = args[0].type
        fn = builder.module.declare_intrinsic("llvm.fmuladd", [t],
                                              fnty=ir.FunctionType(t, [t, t, t]))
        return builder.call(fn, args)
    return a(a, a, a), codegen


@intrinsic
def _pow2(typingctx, kf):
    """``2 ** kf`` for an integer-valued float ``kf`` (float32: -126 … 128, 128 giving inf;
    float64: -1022 … 1024): the exponent bits written directly (integer add, shift, bit cast),
    which vectorises, unlike numba's int64 shifts or ``math.ldexp``."""
    if kf == types.float32:
        bits, bias, mant, fty = ir.IntType(32), 127, 23, ir.FloatType()
    elif kf == types.float64:
        bits, bias, mant, fty = ir.IntType(64), 1023, 52, ir.DoubleType()
    else:
        return None

    def codegen(context, builder, sig, args):
        i = builder.fptosi(args[0], bits)
        i = builder.shl(builder.add(i, ir.Constant(bits, bias)), ir.Constant(bits, mant))
        return builder.bitcast(i, fty)
    return kf(kf), codegen


def _exp_poly32() -> list[np.float32]:
    """Coefficients (constant term first) of the degree-6 polynomial interpolating ``exp`` at
    the Chebyshev points of ``[-ln2/2, ln2/2]`` (near-minimax: 3e-9 relative error there)."""
    half_ln2 = math.log(2.0) / 2
    c = np.polynomial.chebyshev.Chebyshev.interpolate(np.exp, 6, domain=[-half_ln2, half_ln2])
    return [np.float32(v) for v in c.convert(kind=np.polynomial.Polynomial).coef]


def vexp(x):  # pragma: no cover - replaced by the overload inside kernels
    """``exp(x)`` without library calls (vectorises). Below the smallest normal number's log it
    returns that number (float32 1.2e-38, float64 2.2e-308) instead of a subnormal; from
    ``127.5 ln2 = 88.38`` (float32) or ``1023.5 ln2 = 709.44`` (float64) on, inf (``k`` reaches
    the exponent that means inf, a little before the true overflow). NaN in gives an
    unspecified number: callers select NaN out. Used only where those ends do not matter
    (``vsigmoid``, ``vtanh``)."""
    raise NotImplementedError


@overload(vexp)
def _vexp_overload(x):
    """Cody-Waite reduction ``x = k ln2 + r``, ``|r| <= ln2/2`` (k rounded with the 1.5·2^p
    trick), a polynomial for ``e^r`` (float32: the Chebyshev one of ``_exp_poly32``; float64:
    Taylor to r^13, 4e-18 relative), times ``2^k`` (``_pow2``). Max error 1.4 ulp in float32,
    2 ulp in float64 (tests/test_fastpath.py)."""
    if x == types.float32:
        f = np.float32
        c0, c1, c2, c3, c4, c5, c6 = _exp_poly32()
        lo, hi = f(-87.33), f(88.8)
        log2e, ln2_hi, ln2_lo, magic = (f(1.4426950408889634), f(0.693359375),
                                        f(-2.12194440e-4), f(12582912.0))

        def exp32(x):
            y = min(max(x, lo), hi)
            kf = _fmuladd(y, log2e, magic) - magic
            r = _fmuladd(kf, -ln2_lo, _fmuladd(kf, -ln2_hi, y))
            p = _fmuladd(_fmuladd(_fmuladd(_fmuladd(_fmuladd(_fmuladd(
                c6, r, c5), r, c4), r, c3), r, c2), r, c1), r, c0)
            return p * _pow2(kf)
        return exp32
    if x == types.float64:
        c = [1.0 / math.factorial(k) for k in range(14)]
        c13, c12, c11, c10, c9, c8, c7, c6, c5, c4, c3, c2 = c[13:1:-1]
        log2e, ln2_hi, ln2_lo, magic = (1.4426950408889634, 6.93147180369123816490e-01,
                                        1.90821492927058770002e-10, 6755399441055744.0)

        def exp64(x):
            y = min(max(x, -708.39), 709.9)
            kf = _fmuladd(y, log2e, magic) - magic
            r = _fmuladd(kf, -ln2_lo, _fmuladd(kf, -ln2_hi, y))
            p = _fmuladd(_fmuladd(_fmuladd(_fmuladd(_fmuladd(_fmuladd(c13, r, c12), r, c11), r,
                                                        c10), r, c9), r, c8), r, c7)
            p = _fmuladd(_fmuladd(_fmuladd(_fmuladd(_fmuladd(_fmuladd(p, r, c6), r, c5), r, c4),
                                           r, c3), r, c2), r, 1.0)
            return _fmuladd(p, r, 1.0) * _pow2(kf)
        return exp64
    return None


def vsigmoid(x):  # pragma: no cover - replaced by the overload inside kernels
    """``1 / (1 + exp(-x))`` (vectorises); NaN stays NaN."""
    raise NotImplementedError


@overload(vsigmoid)
def _vsigmoid_overload(x):
    """No cancellation anywhere (unlike ``0.5 · tanh(x/2) + 0.5`` for x << 0): max error
    2.5 ulp in float32 where the result is a normal number, 3e-16 relative in float64."""
    if x not in (types.float32, types.float64):
        return None
    one = np.float32(1.0) if x == types.float32 else 1.0

    def sigmoid(x):
        s = one / (one + vexp(-x))
        return s if x == x else x
    return sigmoid


def vtanh(x):  # pragma: no cover - replaced by the overload inside kernels
    """tanh without library calls, so that loops using it vectorise (SIMD)."""
    raise NotImplementedError


@overload(vtanh)
def _vtanh_overload(x):
    """Cephes' tanh: for |x| < 0.625 an odd polynomial (float32) or rational function (float64)
    in x; else ``(1 - e) / (1 + e)`` with ``e = exp(-2|x|) <= 0.29`` (``vexp``) and the sign of
    x. Max error against the correctly rounded tanh: 1.7 ulp in float32 (NumPy's own: 1.4
    ulp), 4e-16 relative in float64 (tests/test_fastpath.py checks both)."""
    if x == types.float32:
        f = np.float32
        s5, s4, s3, s2, s1 = (f(-5.70498872745e-3), f(2.06390887954e-2), f(-5.37397155531e-2),
                              f(1.33314422036e-1), f(-3.33332819422e-1))
        lim, cut, m2, one = f(9.5), f(0.625), f(-2.0), f(1.0)

        def tanh32(x):
            ax = abs(x)
            z = x * x
            small = _fmuladd(_fmuladd(_fmuladd(_fmuladd(_fmuladd(
                s5, z, s4), z, s3), z, s2), z, s1) * z, x, x)
            e = vexp(m2 * min(ax, lim))
            big = (one - e) / (one + e)
            big = -big if x < 0 else big
            res = small if ax < cut else big
            return x if (x != x or x == 0) else res  # NaN, and tanh(-0) = -0
        return tanh32
    if x == types.float64:
        p0, p1, p2 = (-9.64399179425052238628e-1, -9.92877231001918586564e1,
                      -1.61468768441708447952e3)
        q0, q1, q2 = (1.12811678491632931402e2, 2.23548839060100448583e3,
                      4.84406305325125486048e3)

        def tanh64(x):
            ax = abs(x)
            z = x * x
            small = _fmuladd(x, z * _fmuladd(_fmuladd(p0, z, p1), z, p2)
                             / _fmuladd(_fmuladd(z + q0, z, q1), z, q2), x)
            e = vexp(-2.0 * min(ax, 19.5))
            big = (1.0 - e) / (1.0 + e)
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


@njit(cache=True, error_model="numpy", nogil=True)
def sigmoid_array(x, out):
    """``out = vsigmoid(x)`` element-wise (for tests)."""
    xf = x.ravel()
    of = out.ravel()
    for i in range(xf.size):
        of[i] = vsigmoid(xf[i])


@njit(cache=True, error_model="numpy", nogil=True)
def exp_array(x, out):
    """``out = vexp(x)`` element-wise (for tests)."""
    xf = x.ravel()
    of = out.ravel()
    for i in range(xf.size):
        of[i] = vexp(xf[i])


# -- backward sweeps -----------------------------------------------------------------------------
@njit(cache=True, error_model="numpy", nogil=True)
def skip_masked_row(dz, carry, dYt, t, n, has_dy, zero_out):
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
def state_grad_rows(dh, DH, RM, M, t, has_rm, has_mask, r0, r1):
    """``dh = DH ⊙ RM`` (recurrent dropout) or ``DH`` on the rows unmasked at step ``t``."""
    for n in range(r0, r1):
        if has_mask and not M[t, n]:
            continue
        for j in range(dh.shape[1]):
            dh[n, j] = DH[n, j] * RM[n, j] if has_rm else DH[n, j]


@njit(cache=True, error_model="numpy", nogil=True)
def add_rows(d, DZS, r0, r1):
    """``d[r0:r1] += DZS[r0:r1]`` (truncated BPTT accumulates each window's gradient)."""
    for n in range(r0, r1):
        for k in range(d.shape[1]):
            d[n, k] += DZS[n, k]


# -- threads ------------------------------------------------------------------------------------
_openblas = ctypes.CDLL(_LIB)
_get_threads = _openblas.scipy_openblas_get_num_threads64_
_get_threads.restype = ctypes.c_int
_get_threads.argtypes = []
# the calling thread's own BLAS thread count (OpenBLAS >= 0.3.27; returns the previous value, 0
# meaning "the process-wide count"): nothing process-wide is changed while a sweep runs
_set_local: Any = getattr(_openblas, "openblas_set_num_threads_local", None)  # ctypes
if _set_local is None:
    raise ImportError("NumPy's OpenBLAS has no openblas_set_num_threads_local (needs 0.3.27+)")
_set_local.restype = ctypes.c_int
_set_local.argtypes = [ctypes.c_int]


def threads() -> int:
    """Threads for batch-parallel sweeps: NumPy's BLAS thread count."""
    return max(1, int(_get_threads()))


def single_threaded_blas() -> None:
    """Give the calling thread single-threaded BLAS for good (``_pool``'s helper threads)."""
    _set_local(1)


_pool.THREAD_START.append(single_threaded_blas)

_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")


def _int64_element(arr, i) -> bool:
    """Typing of the indexed atomics: ``arr`` an int64 array, ``i`` an integer."""
    return (isinstance(arr, types.Array) and arr.dtype == types.int64
            and isinstance(i, types.Integer))


def _element_pointer(context, builder, sig, args):
    """LLVM pointer to ``arr[i]`` for an intrinsic called as ``(arr, i)``."""
    ary = context.make_array(sig.args[0])(context, builder, args[0])
    return builder.gep(ary.data, [context.cast(builder, args[1], sig.args[1], types.intp)])


@intrinsic
def _load_acquire_at(typingctx, arr, i):
    """``arr[i]`` of an int64 array, read anew at every call (an atomic acquire load, which
    the compiler may not hoist out of a loop)."""
    if not _int64_element(arr, i):
        return None

    def codegen(context, builder, sig, args):
        return builder.load_atomic(_element_pointer(context, builder, sig, args), "acquire", 8)
    return types.int64(arr, i), codegen


@intrinsic
def _fetch_add_at(typingctx, arr, i):
    """``arr[i] += 1`` of an int64 array, atomically (acquire and release); the old value."""
    if not _int64_element(arr, i):
        return None

    def codegen(context, builder, sig, args):
        return builder.atomic_rmw("add", _element_pointer(context, builder, sig, args),
                                  ir.Constant(ir.IntType(64), 1), "acq_rel")
    return types.int64(arr, i), codegen


@intrinsic
def _pause(typingctx):
    """The x86 ``pause`` hint of a spin loop (nothing elsewhere)."""
    def codegen(context, builder, sig, args):
        if _X86:
            fn = builder.module.declare_intrinsic(
                "llvm.x86.sse2.pause", fnty=ir.FunctionType(ir.VoidType(), []))
            builder.call(fn, [])
        return context.get_dummy_value()
    return types.void(), codegen


@intrinsic
def _store_release(typingctx, flag, value):
    """``flag[0] = value`` of an int64 array, as an atomic release store."""
    if not (isinstance(flag, types.Array) and flag.dtype == types.int64
            and isinstance(value, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        v = context.cast(builder, args[1], sig.args[1], types.int64)
        builder.store_atomic(v, ary.data, "release", 8)
        return context.get_dummy_value()
    return types.void(flag, value), codegen


@njit(cache=True, nogil=True)
def spin_until_changed(flag, seen, iterations, signal):
    """Without the GIL: ``signal[0] = 1``, then spin until ``flag[0] != seen`` or
    ``iterations`` rounds have passed; True when it changed (``_pool.SPIN``)."""
    _store_release(signal, 1)
    for _ in range(iterations):
        if _load_acquire_at(flag, 0) != seen:
            return True
        _pause()
    return False


_pool.SPIN = spin_until_changed


# -- unit blocks: one step's product split by columns over the threads --------------------------
# Split by batch rows, every thread multiplies its rows by the whole recurrent weight, and
# OpenBLAS copies ("packs") that whole weight at every call: with 20 rows and 650 units a
# thread's 10-row step took 735 us, where 20 rows times half of every gate's columns took 449
# (one core, float32, OpenBLAS Haswell kernels; 200 units: 76 and 43 us). So with few rows per
# thread and a large weight, a step is split by units instead: block b of a step owns units
# ``unit_range(b)`` of every gate, for all rows, and multiplies by its own columns of W_hh^T,
# packed side by side (``pack_units``: one product per block; four strided products, one per
# gate, took 93 instead of 43 us at 200 units). Each step's blocks are claimed from a counter,
# ``sync[2 i]``, and counted done in ``sync[2 i + 1]``; a thread with no block left spins until
# every block of the step is done (the next step reads all of its states). A thread that never
# comes only leaves its blocks to the others: nothing waits for a block no thread has claimed.
NO_SYNC = np.zeros(2, dtype=np.int64)  # ``sync`` of a sweep split by rows (unused there)
# Where they pay (2 threads, forward sweep): LSTM 650 units, 20 rows 31 -> 20 ms; 200 units, 20
# rows 3.15 -> 2.58 ms; not at 128 units with 32 rows (11.6 -> 12.6 ms) or 64 rows (2.8 -> 3.1).
# SimpleRNN (one gate, a weight a quarter the size): 650 units, 20 rows, inference of two layers
# and a Dense 25.3 -> 23.3 ms, but 200 units 3.6 -> 4.2 ms. So the rule is the weight's size.
# With the products over strips (``_strips``: no per-call packing in any split) the rows per
# thread decide (LSTM, 650 units, 35 steps, 2 threads, inference / training ms, units against
# rows): 4 rows per thread 10.9 / 28.4 against 12.8 / 32.5, 6 rows 13.8 / 35.1 against
# 16.5 / 40.4 (each thread's row block re-reads the whole weight at every step), but 10 rows
# 30.9 / 79.9 against 29.5 / 76.8 and 12 rows 44.2 / 109 against 39.5 / 99.9 (no meeting
# per step). SimpleRNN, 650 units, 10 rows per thread, the medium model: the same either way.
UNIT_MIN_WEIGHT = 1 << 17  # recurrent weights of fewer elements (H x G) keep row blocks
UNIT_MAX_ROWS = 6          # the most rows per thread that unit blocks take


def unit_blocks(rows: int, units: int, gates: int) -> int:
    """Unit blocks per step for a sweep of ``rows`` batch rows over ``units`` units of
    ``gates`` gates on this engine's threads; 0: split by rows (``parallel_rows``) instead."""
    nt = threads()
    if nt < 2 or units < nt or units * units * gates < UNIT_MIN_WEIGHT:
        return 0
    return nt if rows <= UNIT_MAX_ROWS * nt else 0


def _omatcopy(name: str, ctype: Any) -> Any:
    fn = getattr(_openblas, name, None)
    if fn is not None:
        fn.restype = None
        fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctype,
                       ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64]
    return fn


_OMATCOPY = {np.dtype(np.float32): _omatcopy(_blas.SOMATCOPY, ctypes.c_float),
             np.dtype(np.float64): _omatcopy(_blas.DOMATCOPY, ctypes.c_double)}


COPY_COLUMNS = 256


def copy_transposed(a, out) -> None:
    """``out[...] = a.T`` for ``a (m, n)`` into ``out (n, m)``: OpenBLAS's ``?omatcopy`` where
    both have contiguous rows (exact: a transposed weight of 650 units, ``(2600, 650)``
    float32, took 0.48 ms against 1.8 for NumPy's strided copy), else NumPy's copy,
    ``COPY_COLUMNS`` columns of ``out`` at a time (that ``(2600, 650)``: 2.3-2.6 ms copied
    whole, 1.2-1.8 in chunks, 7.3 split over 2 threads)."""
    m, n = a.shape
    fn = _OMATCOPY.get(a.dtype)
    size = a.dtype.itemsize
    if (fn is None or out.dtype != a.dtype or out.shape != (n, m) or m == 0 or n == 0
            or a.strides[1] != size or out.strides[1] != size):
        for j0 in range(0, m, COPY_COLUMNS):
            out[:, j0:j0 + COPY_COLUMNS] = a[j0:j0 + COPY_COLUMNS].T
        return
    fn(_ROW_MAJOR, _TRANS, m, n, 1.0, a.ctypes.data, a.strides[0] // size, out.ctypes.data,
       out.strides[0] // size)


def pack_units(w_t, blocks: int, gates: int, empty: Any = np.empty):
    """``(WU, offsets)``: ``W_hh^T (H, G)`` by unit blocks, each as strips
    (``_strips.pack_rows``): block ``b`` (units ``u0:u1``, ``unit_range``) is the ``(H,
    gates·(u1-u0))`` matrix ``[gate 0 columns u0:u1 | gate 1 ... ]`` at
    ``WU[offsets[b]:offsets[b + 1]]``, in an array from ``empty``."""
    H, G = w_t.shape
    rows, offsets = [], [0]
    for b in range(blocks):
        u0, u1 = unit_range(b, blocks, H)
        rows.append(np.concatenate([np.arange(g * H + u0, g * H + u1) for g in range(gates)]))
        offsets.append(offsets[-1] + _strips.strips_size(H, len(rows[-1]), w_t.dtype))
    flat = empty((offsets[-1],), w_t.dtype)
    for b in range(blocks):
        _strips.pack_rows(w_t.T, rows[b], flat[offsets[b]:offsets[b + 1]], _split_strips,
                          _OMATCOPY.get(w_t.dtype))
    return flat, np.array(offsets, dtype=np.int64)


@njit(cache=True, nogil=True, inline="always")
def unit_range(b, K, H):
    """Units ``(u0, u1)`` of block ``b`` of ``K``."""
    return H * b // K, H * (b + 1) // K


@njit(cache=True, nogil=True, inline="always")
def claim_unit_block(sync, i):
    """The next unclaimed block of processing position ``i`` (``>= K``: none left)."""
    return _fetch_add_at(sync, 2 * i)


@njit(cache=True, nogil=True, inline="always")
def finish_unit_block(sync, i):
    """Count one block of position ``i`` done (its writes visible to whoever sees the count)."""
    _fetch_add_at(sync, 2 * i + 1)


@njit(cache=True, nogil=True, inline="always")
def wait_unit_blocks(sync, i, K):
    """Spin until all ``K`` blocks of position ``i`` are done."""
    while _load_acquire_at(sync, 2 * i + 1) < K:
        _pause()


@njit(cache=True, error_model="numpy", nogil=True)
def forward_units(P, S, WU, Z, bih, t, ip, gates, u0, u1):
    """Units ``u0:u1`` of every gate block of ``P[t]`` (all rows) become the step's
    pre-activations ``(x_t W_ih^T + b_ih) + h_{t-1} W_hh^T``, as ``forward_position`` makes
    them for a row block: the recurrent product is one product over the block's strips
    (``WU``, its part of ``pack_units``) into ``Z[:, gates·u0 : gates·u1]``, then added.
    ``P`` and ``S`` may be rings (``slot``)."""
    N = P.shape[1]
    H = S.shape[2]
    U = u1 - u0
    pt = slot(t, P)
    mm_strips(S[slot(ip, S)], WU, gates * U, Z[:, gates * u0:gates * u1], 0.0)
    for n in range(N):
        for g in range(gates):
            pv = P[pt, n, g * H + u0:g * H + u1]
            bv = bih[g * H + u0:g * H + u1]
            zv = Z[n, gates * u0 + g * U:gates * u0 + (g + 1) * U]
            for k in range(U):
                pv[k] = (pv[k] + bv[k]) + zv[k]


@njit(cache=True, error_model="numpy", nogil=True)
def backward_units(dz, WU, DH, dh, dZ, t, acc, gates, u0, u1):
    """Units ``u0:u1`` of the state gradient (all rows), as ``close_bptt_step`` does for a
    row block: ``dh = dz W_hh`` on the block's columns of ``W_hh (G, H)`` (``WU``, their
    strips from ``pack_units_backward``), and in a truncation window ``dZ[t] += dz`` on the
    block's gate columns."""
    N = dz.shape[0]
    H = DH.shape[1]
    mm_strips(dz, WU, u1 - u0, DH[:, u0:u1], 0.0)
    for n in range(N):
        dv, Dv = dh[n, u0:u1], DH[n, u0:u1]
        for j in range(u1 - u0):
            dv[j] = Dv[j]
        if acc:
            for g in range(gates):
                zv, sv = dZ[t, n, g * H + u0:g * H + u1], dz[n, g * H + u0:g * H + u1]
                for j in range(u1 - u0):
                    zv[j] += sv[j]


def pack_units_backward(w, blocks: int, empty: Any = np.empty):
    """``(WU, offsets)``: ``W_hh (G, H)`` by unit blocks for ``backward_units``: block ``b``
    is its columns ``unit_range(b)`` as strips (``_strips.pack_strips``) at
    ``WU[offsets[b]:offsets[b + 1]]``, in an array from ``empty``."""
    G, H = w.shape
    offsets = [0]
    for b in range(blocks):
        u0, u1 = unit_range(b, blocks, H)
        offsets.append(offsets[-1] + _strips.strips_size(G, u1 - u0, w.dtype))
    flat = empty((offsets[-1],), w.dtype)
    for b in range(blocks):
        u0, u1 = unit_range(b, blocks, H)
        _strips.pack_strips(w[:, u0:u1], flat[offsets[b]:offsets[b + 1]], _split_strips)
    return flat, np.array(offsets, dtype=np.int64)


def parallel_units(steps: int, fn) -> None:
    """``fn(sync)`` on every engine thread at once (the calling one included), with
    single-threaded BLAS; ``sync`` (int64, ``2 · steps``, zeros): the per-step block counters
    that ``fn``'s threads share."""
    nt = threads()
    sync = np.zeros(2 * max(steps, 1), dtype=np.int64)
    previous = _set_local(1)
    try:
        _pool.POOL.run(lambda i: fn(sync), nt, nt)
    finally:
        _set_local(previous)


def parallel_rows(rows: int, min_rows: int, fn) -> None:
    """``fn(r0, r1)`` over row blocks of at least ``min_rows`` rows, on up to ``threads()``
    threads, always with single-threaded BLAS inside (see ``_pool``): BLAS's own threads never
    run inside a recurrent layer. The limit is the calling thread's own (restored afterwards);
    the helpers have theirs from their start. ``fn`` must only write its rows."""
    nt = threads()
    if nt == 1:
        fn(0, rows)
        return
    blocks = _pool.row_blocks(rows, nt, min_rows)
    previous = _set_local(1)  # too small to split: one thread beats BLAS's per-call hand-offs
    try:
        if len(blocks) == 1:
            fn(0, rows)
        else:
            _pool.POOL.run(lambda i: fn(*blocks[i]), len(blocks), nt)
    finally:
        _set_local(previous)


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


# Without those kernels even a one-row product copies the whole weight at every call: a
# batch-1 step's (1, 100) @ (100, 400) took 8.0 us as sgemm and 2.2 us as ``mm_rows``' passes
# over the weight's rows, (1, 128) @ (128, 512) 19.6 and 5.4 us, (2, 100) @ (100, 400) 11.8
# and 6.2, while at 4 rows sgemm was ahead (8.6 against 14.0 us; float32, one thread, AMD EPYC
# with OpenBLAS's Haswell kernels, benchmarks/RESULTS.md). Products of at most ``SMALL_ROWS``
# rows take those loops there; with the small-matrix kernels, BLAS keeps them.
SMALL_ROWS = 0 if SMALL_GEMM else 3
# Without them, the recurrent weight of a sweep with more rows goes into strips once per call
# (``_strips``), and every step's product runs there instead of in sgemm. With them, on a CPU
# with AVX-512 (the strips' tiles in 64-byte vectors), float32 goes into strips too: on one
# core (AMD EPYC Zen 5, OpenBLAS's SkylakeX kernels) (10, 650) @ (650, 2600) took 134 us
# against 233 in panels, (20, 650) @ (650, 2600) 269 against 277, (10, 200) @ (200, 800) 13.0
# against 20.9; float64 stays in panels, whose OpenBLAS kernels kept up where the weight did
# not fit in cache ((10, 2600) @ (2600, 650): 386 us against 611 in strips;
# benchmarks/RESULTS.md, "The recurrent product over strips").
STRIPS = not SMALL_GEMM
STRIPS_FLOAT32 = STRIPS or _strips.AVX512
STRIPS_MIN_ROWS = SMALL_ROWS + 1 if SMALL_ROWS else 4  # fewer: a per-call pack does not pay


def use_strips(rows: int, dtype: Any) -> bool:
    """Whether a sweep's per-step products of ``rows`` rows run over strips (``_strips``)."""
    return rows >= STRIPS_MIN_ROWS and (STRIPS or (STRIPS_FLOAT32
                                                   and np.dtype(dtype) == np.float32))
STRIPS_PER_THREAD = 8  # the fewest strips one thread packs
# With small-matrix kernels a one-row step is still one matrix-vector product on ``W_hh``
# itself where the sweep is short: the transposed copy for sgemm cost more than it saves there
# (AMD EPYC Zen 5, SkylakeX kernels, one thread, float32: a (1, 100) @ (100, 400) step took 1.99
# us as ``?gemv`` against 1.77 in sgemm, and the copy 8.0 us; (1, 200) @ (200, 800) 5.7 against
# 7.0, copy 19.9; float64 (1, 100) @ (100, 400) 3.8 against 3.1, copy 12.0 us). A batch-1
# generation step (one step per call) no longer copies the weight at all.
GEMV_STEPS = 32


def few_rows(rows: int, steps: int | None) -> bool:
    """Whether ``steps`` products of ``rows`` rows each read ``W_hh`` as it lies (``?gemv``)."""
    return rows <= SMALL_ROWS or (rows == 1 and steps is not None and steps <= GEMV_STEPS)


# OpenBLAS's small-matrix kernels multiply ``a @ b`` much faster with ``b`` C-contiguous (NN) than
# with ``b`` a transposed C-contiguous weight (NT): one core, AMD EPYC Zen 5, SkylakeX kernels,
# float32 (25, 65) @ (65, 400) took 6.4 us NN against 15.4 NT, (10, 100) @ (100, 400) 4.4 against
# 19.7, (32, 32) @ (32, 128) 1.9 against 3.7; float64 (25, 65) @ (65, 400) 11.9 against 19.9. A
# row-by-row copy of a (400, 65) weight transposed took 4.0 us (OpenBLAS's omatcopy 5.7). One row
# gains little (1.6 against 2.0 us), so the copy is made from ``NN_MIN_ROWS`` rows on.
NN_MIN_ROWS = 8


@njit(cache=True, error_model="numpy", nogil=True)
def transpose_into(w, out):
    """``out (k, n) = w (n, k)^T``, one row of ``out`` at a time (fastest for small weights)."""
    n, k = w.shape
    for p in range(k):
        op = out[p]
        for j in range(n):
            op[j] = w[j, p]


def nn_operand(w, rows: int, empty: Any = np.empty):
    """``w^T`` for the product ``a (rows, k) @ w^T`` of a weight ``w (n, k)``: a C-contiguous
    copy where OpenBLAS's small-matrix kernels take that product (``SMALL_GEMM``,
    ``rows·k·n <= SMALL_GEMM_WORK``, at least ``NN_MIN_ROWS`` rows; ``w`` C-contiguous), in an
    array from ``empty``; else the transposed view. The product's numbers are BLAS's either
    way: every element one dot product over the whole ``k``."""
    n, k = w.shape
    if (SMALL_GEMM and rows >= NN_MIN_ROWS and rows * k * n <= SMALL_GEMM_WORK
            and w.flags.c_contiguous and w.dtype in (np.float32, np.float64)):
        out = empty((k, n), w.dtype)
        transpose_into(w, out)
        return out
    return w.T


def panel_width(rows: int, k: int, n: int) -> int:
    """Columns per panel of a ``(k, n)`` weight multiplied by ``rows`` rows at a time."""
    if not SMALL_GEMM or rows * k * n <= SMALL_GEMM_WORK:
        return n
    width = SMALL_GEMM_WORK // (rows * k) // PANEL_ALIGN * PANEL_ALIGN
    return width if width > 0 else n


_BLOCK_ROWS: dict[tuple[int, int, int], int] = {}  # by (rows, threads, MIN_ROWS)


def _block_rows(rows: int) -> int:
    """The most batch rows one thread's block of a sweep gets (``parallel_rows``)."""
    key = (rows, threads(), _pool.MIN_ROWS)
    most = _BLOCK_ROWS.get(key)
    if most is None:
        if len(_BLOCK_ROWS) > 1024:
            _BLOCK_ROWS.clear()
        most = max(r1 - r0 for r0, r1 in _pool.row_blocks(rows, key[1], key[2]))
        _BLOCK_ROWS[key] = most
    return most


def _split_strips(count: int, fn: Any) -> None:
    """``fn(s0, s1)`` over ranges of ``count`` strips, on the engine's threads."""
    parallel_rows(count, STRIPS_PER_THREAD, fn)


def pack_panels(b, rows: int, empty: Any = np.empty, steps: int | None = None):
    """``(WF, WB)``: ``b (k, n)`` (any strides) for ``mm_panels``' products of ``rows`` rows,
    ``steps`` times (None: many).
    Where ``use_strips(rows, b.dtype)``: as strips (``_strips.pack_strips``; ``WB[0] = -2``),
    in an array from ``empty``. Else in column panels: one panel is ``b`` itself when ``b`` is
    C-contiguous, and, for at most ``SMALL_ROWS`` rows (one row over at most ``GEMV_STEPS``
    steps: ``few_rows``), ``b^T`` when that is (``WB[0] = -1``: a matrix-vector product per
    row, as fast as ``mm_rows``' passes and without the transposed copy: (100, 400) took 18 us
    to copy, (128, 512) 86 us, against 2.2 and 3.8 us for one product); else it is copied here
    (``copy_transposed``); several panels are split over the threads. The views are only read,
    while the weight is fixed (one sweep)."""
    k, n = b.shape
    if use_strips(rows, b.dtype):
        W = empty((_strips.strips_size(k, n, b.dtype),), b.dtype)
        return (_strips.pack_strips(b, W, _split_strips, _OMATCOPY.get(b.dtype)),
                np.array([-2, n], dtype=np.int64))
    width = max(panel_width(rows, k, n), 1)
    if width >= n:  # one panel
        if b.flags.c_contiguous:
            return b.reshape(-1), np.array([0, n], dtype=np.int64)
        if few_rows(rows, steps) and b.T.flags.c_contiguous:
            return b.T.reshape(-1), np.array([-1, n], dtype=np.int64)
        flat = np.empty(k * n, dtype=b.dtype)
        copy_transposed(b.T, flat.reshape(k, n))
        return flat, np.array([0, n], dtype=np.int64)
    flat = np.empty(k * n, dtype=b.dtype)
    bounds = np.array(list(range(0, n, width)) + [n], dtype=np.int64)

    def copy(r0: int, r1: int) -> None:
        for j0, j1 in zip(bounds[:-1], bounds[1:]):
            flat[k * j0:k * j1].reshape(k, j1 - j0)[r0:r1] = b[r0:r1, j0:j1]

    parallel_rows(k, 64, copy)
    return flat, bounds


def pack_forward(w_t, rows: int, empty: Any = np.empty, steps: int | None = None):
    """``W_hh^T (H, G)`` in the layout of the forward kernels (``steps`` products)."""
    return pack_panels(w_t, _block_rows(rows), empty, steps)


def pack_backward(w, rows: int, empty: Any = np.empty):
    """``W_hh (G, H)`` in the layout of the BPTT kernels."""
    return pack_panels(w, _block_rows(rows), empty)


@njit(cache=True, error_model="numpy", nogil=True)
def close_bptt_step(dz, WF, WB, DH, dh, RM, M, dZ, DZS, t, has_rm, has_mask, acc, r0, r1):
    """The end of one BPTT step whose pre-activation gradient ``dz`` reaches the previous
    state only through ``W_hh``: ``dh = (dz W_hh) ⊙ RM`` on the unmasked rows, and, in a
    truncation window, ``dZ[t] += dz``."""
    mm_panels(dz[r0:r1], WF, WB, DH[r0:r1], 0.0)
    state_grad_rows(dh, DH, RM, M, t, has_rm, has_mask, r0, r1)
    if acc:
        add_rows(dZ[t], DZS, r0, r1)
