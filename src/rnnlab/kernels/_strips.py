"""A matrix product over a weight packed once per sweep: ``c = a @ B + beta * c`` with
``B (k, n)`` stored as column *strips* (numba; imported by ``_numba_kernels``).

Why: a sweep multiplies the same recurrent weight at every step, by few rows (a batch of 20, or
a thread's 10). OpenBLAS copies ("packs") both operands into its own layout at every call, and
with few rows the copy of the whole weight costs about as much as the product: on one core
(AMD EPYC, OpenBLAS's Haswell kernels, float32) ``(20, 650) @ (650, 1296)`` took 458-490 us
in ``sgemm`` and 339-358 us here, ``(10, 650) @ (650, 1296)`` 373-392 against 169-171
(``benchmarks/RESULTS.md``, "The recurrent product over strips").

Layout (``pack_strips``): strip ``s`` holds columns ``STRIP·s … STRIP·s + STRIP - 1`` of ``B``
as a contiguous ``(k, STRIP)`` row-major block at ``W[s·k·STRIP : (s+1)·k·STRIP]``; the last
strip is padded with zeros. ``STRIP`` is two vectors of ``VECTOR_BYTES``: 16 float32 or 8
float64 (AVX2), 32 float32 or 16 float64 where numba compiles for AVX-512 (``AVX512``).

Kernel (``_tile``): ``R`` rows (1 … ``ROWS``) of ``a`` times one strip, written in LLVM vector
instructions: ``2·R`` vector accumulators, and per ``p`` of ``k`` two vector loads of the
strip's row ``p``, ``R`` broadcasts of ``a[r, p]`` and ``2·R`` fused multiply-adds
(``llvm.fma``, one rounding each; LLVM splits the vectors where the CPU's are narrower). Every
element of ``c`` is one dot product over ``p = 0 … k-1`` in order, then ``beta · c`` added
(``beta`` 0: the old ``c`` is not read, so NaN there does not survive). numba's own loops over
scalar accumulators reached 4 GFLOP/s (LLVM did not vectorise them, and 64 accumulators spill),
against 95-100 here (AVX2); with AVX-512's 64-byte vectors and tiles of up to 11 rows the
kernel reached 230-250 GFLOP/s on an AMD EPYC Zen 5 core, against 150-230 in its sgemm.

Where several files are compiled into one: numba's cache (``cache=True``) keys each function on
its own file, so a sweep that calls ``mm_strips`` keeps the kernel it was compiled with until
its own file changes. After editing this file, delete the ``*.nbi``/``*.nbc`` files under
``src/rnnlab`` (CONTRIBUTING.md).
"""

from __future__ import annotations

from typing import Any

import llvmlite.binding as llvm
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils, config
from numba.extending import intrinsic


def _host_has_avx512() -> bool:
    """Whether numba compiles for a CPU with AVX-512 (its 32 vector registers of 64 bytes)."""
    if getattr(config, "CPU_NAME", None) or getattr(config, "CPU_FEATURES", None):
        return False  # a portable build (NUMBA_CPU_NAME, NUMBA_CPU_FEATURES): assume none
    return bool(llvm.get_host_cpu_features().get("avx512f", False))


AVX512 = _host_has_avx512()
# Two vectors per strip. The most rows of one tile: 2 accumulators per row, 2 strip vectors and
# a broadcast in the CPU's vector registers (16 of 32 bytes for AVX2: 6 rows; 32 of 64 bytes
# for AVX-512: 11 rows. A 12-row tile spilled there: (12, 650) @ (650, 1300) took 152 us,
# against 80 for 11 rows and 97 for 13 rows in two tiles; benchmarks/RESULTS.md).
VECTOR_BYTES = 64 if AVX512 else 32
ROWS = 11 if AVX512 else 6


def strip_width(dtype: Any) -> int:
    """Columns per strip: two vectors of ``dtype``."""
    return 2 * VECTOR_BYTES // np.dtype(dtype).itemsize


def _make_tile(rows: int) -> Any:
    """The ``_tile`` kernel for ``rows`` rows (an intrinsic: the rows are a compile-time
    constant, and so is the unrolled body)."""

    @intrinsic
    def tile(typingctx, a, a0, lda, w, w0, c, c0, ldc, k, beta):
        """``c[c0 + r·ldc + j] = sum_p a[a0 + r·lda + p] · w[w0 + p·STRIP + j] + beta · c[...]``
        for ``r < rows``, ``j < STRIP``, on the flat data of the arrays ``a``, ``w``, ``c``."""
        if not (isinstance(a, types.Array) and a.dtype in (types.float32, types.float64)
                and isinstance(w, types.Array) and w.dtype == a.dtype
                and isinstance(c, types.Array) and c.dtype == a.dtype):
            return None
        dt = a.dtype
        sig = types.void(a, a0, lda, w, w0, c, c0, ldc, k, beta)

        def codegen(context, builder, sig, args):
            fty = context.get_value_type(dt)
            lanes = VECTOR_BYTES * 8 // dt.bitwidth
            vty = ir.VectorType(fty, lanes)
            align = dt.bitwidth // 8
            i64, i32 = ir.IntType(64), ir.IntType(32)
            fma = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(vty, [vty, vty, vty]),
                f"llvm.fma.v{lanes}{'f32' if dt == types.float32 else 'f64'}")

            def data(i):
                return context.make_array(sig.args[i])(context, builder, args[i]).data

            def index(i):
                return context.cast(builder, args[i], sig.args[i], types.int64)

            pa, pw, pc = data(0), data(3), data(5)
            a0_, lda_, w0_, c0_, ldc_, k_ = (index(i) for i in (1, 2, 4, 6, 7, 8))
            zeros = ir.Constant(ir.VectorType(i32, lanes), [0] * lanes)
            undef = ir.Constant(vty, ir.Undefined)

            def splat(x):
                return builder.shuffle_vector(
                    builder.insert_element(undef, x, ir.Constant(i32, 0)), undef, zeros)

            def vector_at(base, offset):
                p = builder.gep(base, [offset])
                return builder.bitcast(p, vty.as_pointer())

            accs = [[cgutils.alloca_once_value(builder, ir.Constant(vty, [0.0] * lanes))
                     for _ in range(2)] for _ in range(rows)]
            with cgutils.for_range(builder, k_) as loop:
                p = loop.index
                row = builder.add(w0_, builder.mul(p, ir.Constant(i64, 2 * lanes)))
                wv = [builder.load(vector_at(pw, builder.add(row, ir.Constant(i64, v * lanes))),
                                   align=align) for v in range(2)]
                for r in range(rows):
                    ar = builder.add(a0_, builder.mul(ir.Constant(i64, r), lda_))
                    s = splat(builder.load(builder.gep(pa, [builder.add(ar, p)])))
                    for v in range(2):
                        builder.store(builder.call(fma, [s, wv[v], builder.load(accs[r][v])]),
                                      accs[r][v])
            b = context.cast(builder, args[9], sig.args[9], dt)
            keep = builder.fcmp_ordered("!=", b, ir.Constant(fty, 0.0))
            bv = splat(b)
            for r in range(rows):
                cr = builder.add(c0_, builder.mul(ir.Constant(i64, r), ldc_))
                for v in range(2):
                    out = vector_at(pc, builder.add(cr, ir.Constant(i64, v * lanes)))
                    with builder.if_then(keep):
                        old = builder.load(out, align=align)
                        builder.store(builder.call(fma, [bv, old, builder.load(accs[r][v])]),
                                      accs[r][v])
                    builder.store(builder.load(accs[r][v]), out, align=align)
            return context.get_dummy_value()

        return sig, codegen

    return tile


(_tile1, _tile2, _tile3, _tile4, _tile5, _tile6, _tile7, _tile8, _tile9, _tile10, _tile11,
 _tile12) = (_make_tile(r) for r in range(1, 13))


@njit(cache=True, nogil=True, inline="always")
def _tile(rows, a, a0, lda, w, w0, c, c0, ldc, k, beta):
    """``_tile`` for ``rows`` (1 … ``ROWS``) rows."""
    if rows > 6:
        if rows == 12:
            _tile12(a, a0, lda, w, w0, c, c0, ldc, k, beta)
        elif rows == 11:
            _tile11(a, a0, lda, w, w0, c, c0, ldc, k, beta)
        elif rows == 10:
            _tile10(a, a0, lda, w, w0, c, c0, ldc, k, beta)
        elif rows == 9:
            _tile9(a, a0, lda, w, w0, c, c0, ldc, k, beta)
        elif rows == 8:
            _tile8(a, a0, lda, w, w0, c, c0, ldc, k, beta)
        else:
            _tile7(a, a0, lda, w, w0, c, c0, ldc, k, beta)
    elif rows == 6:
        _tile6(a, a0, lda, w, w0, c, c0, ldc, k, beta)
    elif rows == 5:
        _tile5(a, a0, lda, w, w0, c, c0, ldc, k, beta)
    elif rows == 4:
        _tile4(a, a0, lda, w, w0, c, c0, ldc, k, beta)
    elif rows == 3:
        _tile3(a, a0, lda, w, w0, c, c0, ldc, k, beta)
    elif rows == 2:
        _tile2(a, a0, lda, w, w0, c, c0, ldc, k, beta)
    else:
        _tile1(a, a0, lda, w, w0, c, c0, ldc, k, beta)


@njit(cache=True, error_model="numpy", nogil=True)
def mm_strips(a, W, n, c, beta):
    """``c = a @ B + beta * c`` for ``a (m, k)`` and ``c (m, n)`` with contiguous rows (any row
    strides: ``c`` may be a column range of a wider array) and ``B (k, n)`` packed as strips
    in ``W`` (``pack_strips``). Rows go in ``ceil(m / ROWS)`` tiles of near-equal size (20
    rows: four of 5), each strip through every tile while it is in cache; the last, partial
    strip through a scratch tile."""
    m, k = a.shape
    if m == 0 or n == 0:
        return
    if (k > 1 and a.strides[1] != a.itemsize) or (n > 1 and c.strides[1] != c.itemsize):
        raise ValueError("mm_strips: the rows of a and c must be contiguous")
    sw = 2 * (VECTOR_BYTES // a.itemsize)
    lda = a.strides[0] // a.itemsize
    ldc = c.strides[0] // c.itemsize
    tiles = (m + ROWS - 1) // ROWS
    full = n // sw
    if k == 0:  # no product: c = beta * c
        for r in range(m):
            for j in range(n):
                c[r, j] = c[r, j] * beta if beta != 0.0 else c.dtype.type(0.0)
        return
    for s in range(full):
        for i in range(tiles):
            r0, r1 = m * i // tiles, m * (i + 1) // tiles
            _tile(r1 - r0, a, r0 * lda, lda, W, s * k * sw, c, r0 * ldc + s * sw, ldc, k, beta)
    rest = n - full * sw
    if rest:
        tmp = np.empty((ROWS, sw), dtype=c.dtype)
        j0 = full * sw
        for i in range(tiles):
            r0, r1 = m * i // tiles, m * (i + 1) // tiles
            _tile(r1 - r0, a, r0 * lda, lda, W, full * k * sw, tmp, 0, sw, k, 0.0)
            for r in range(r1 - r0):
                cr, tr = c[r0 + r, j0:n], tmp[r]
                if beta == 0.0:
                    for j in range(rest):
                        cr[j] = tr[j]
                else:
                    for j in range(rest):
                        cr[j] = beta * cr[j] + tr[j]


@njit(cache=True, error_model="numpy", nogil=True)
def _pack(b, W, sw, s0, s1):
    """Strips ``s0:s1`` of a C-contiguous ``b (k, n)`` into ``W`` (``pack_strips``)."""
    k, n = b.shape
    zero = W.dtype.type(0.0)
    for s in range(s0, s1):
        j0 = s * sw
        width = min(sw, n - j0)
        ws = W[s * k * sw:(s + 1) * k * sw].reshape((k, sw))
        for p in range(k):
            wp, bp = ws[p], b[p, j0:j0 + width]
            for j in range(width):
                wp[j] = bp[j]
            for j in range(width, sw):
                wp[j] = zero


@njit(cache=True, error_model="numpy", nogil=True)
def _pack_transposed(bt, rows, W, sw, s0, s1):
    """Strips ``s0:s1`` of ``b = bt[rows].T`` for a C-contiguous ``bt (·, k)`` into ``W``:
    each row of ``bt`` read along its length into its column of the strip. (Through a
    ``(sw, sw)`` buffer per block the same took 3.8 us for a ``(128, 32)`` weight and 101 for
    ``(800, 200)``, against 1.7 and 56 this way; AMD EPYC Zen 4, float32.)"""
    k = bt.shape[1]
    n = rows.shape[0]
    zero = W.dtype.type(0.0)
    for s in range(s0, s1):
        j0 = s * sw
        width = min(sw, n - j0)
        ws = W[s * k * sw:(s + 1) * k * sw].reshape((k, sw))
        for j in range(width):
            src = bt[rows[j0 + j]]
            for p in range(k):
                ws[p, j] = src[p]
        for j in range(width, sw):
            for p in range(k):
                ws[p, j] = zero


# A weight of at least this many bytes is packed from its rows by ``?omatcopy`` (one call per
# run of consecutive rows in a strip), where the caller passes one: ``(2600, 650)`` float32, a
# 650-unit LSTM's ``W_hh``, took 0.52-0.57 ms that way against 1.14-1.24 in ``_pack_transposed``
# (AMD EPYC Zen 4, one thread, OpenBLAS 0.3.31); ``(800, 200)`` 104 us against 56.
OMATCOPY_BYTES = 1 << 20
_ROW_MAJOR, _TRANS = 101, 112  # CBLAS_ORDER, CBLAS_TRANSPOSE


def _row_runs(rows: Any, sw: int) -> tuple[Any, Any]:
    """``(starts, ends)``: the runs of consecutive indices in ``rows``, cut at strip bounds."""
    n = len(rows)
    cuts = np.union1d(np.flatnonzero(np.diff(rows) != 1) + 1, np.arange(0, n, sw))
    return cuts, np.append(cuts[1:], n)


def _pack_runs(bt: Any, rows: Any, W: Any, sw: int, omatcopy: Any, starts: Any, ends: Any,
               s0: int, s1: int) -> None:
    """``_pack_transposed`` for strips ``s0:s1`` by ``omatcopy``, a run of rows at a time
    (``alpha = 1``: each element copied as it is, NaN, inf and -0 included)."""
    k = bt.shape[1]
    size = bt.itemsize
    src, dst = bt.ctypes.data, W.ctypes.data
    lo, hi = np.searchsorted(starts, (s0 * sw, s1 * sw))
    for a, b in zip(starts[lo:hi].tolist(), ends[lo:hi].tolist()):
        s = a // sw
        omatcopy(_ROW_MAJOR, _TRANS, b - a, k, 1.0, src + int(rows[a]) * k * size, k,
                 dst + (s * k * sw + a - s * sw) * size, sw)
    n = len(rows)
    if s1 * sw > n:  # the last strip's padding
        s = s1 - 1
        W[s * k * sw:(s + 1) * k * sw].reshape((k, sw))[:, n - s * sw:] = 0


def strips_size(k: int, n: int, dtype: Any) -> int:
    """Elements of ``pack_strips``' array for a ``(k, n)`` weight."""
    sw = strip_width(dtype)
    return -(-n // sw) * k * sw


def _run(count: int, fn: Any, split: Any) -> None:
    if split is None:
        fn(0, count)
    else:
        split(count, fn)


def pack_strips(b: Any, out: Any = None, split: Any = None, omatcopy: Any = None) -> Any:
    """``b (k, n)`` (any strides) as strips for ``mm_strips``: a flat array of
    ``strips_size(k, n)`` elements (``out``, when given, is filled instead). ``split(count,
    fn)``, when given, runs ``fn(s0, s1)`` over ranges of the ``count`` strips (on several
    threads). ``omatcopy``: as for ``pack_rows`` (a transposed ``b``)."""
    k, n = b.shape
    if b.T.flags.c_contiguous and not b.flags.c_contiguous:  # a transposed weight
        return pack_rows(b.T, np.arange(n), out, split, omatcopy)
    if b.strides[1] != b.itemsize:
        b = np.ascontiguousarray(b)
    sw = strip_width(b.dtype)
    W = np.empty(strips_size(k, n, b.dtype), dtype=b.dtype) if out is None else out
    _run(-(-n // sw), lambda s0, s1: _pack(b, W, sw, s0, s1), split)
    return W


def pack_rows(bt: Any, rows: Any, out: Any = None, split: Any = None,
              omatcopy: Any = None) -> Any:
    """``b = bt[rows].T`` as strips (``pack_strips``) without copying the rows first:
    ``bt (·, k)`` C-contiguous (a weight ``W_hh (G, H)`` for ``h @ W_hh^T``), ``rows`` the
    indices of ``b``'s columns. ``omatcopy``: a CBLAS ``?omatcopy`` for ``bt``'s dtype
    (ctypes), used for a ``b`` of at least ``OMATCOPY_BYTES``; None: the compiled copy."""
    k = bt.shape[1]
    n = len(rows)
    sw = strip_width(bt.dtype)
    W = np.empty(strips_size(k, n, bt.dtype), dtype=bt.dtype) if out is None else out
    bt = np.ascontiguousarray(bt)
    idx = np.asarray(rows, dtype=np.int64)
    if omatcopy is not None and k * n * bt.itemsize >= OMATCOPY_BYTES:
        starts, ends = _row_runs(idx, sw)  # in this thread: (2600, 650) split over 2 threads
        _pack_runs(bt, idx, W, sw, omatcopy, starts, ends, 0, -(-n // sw))  # took 0.64 ms
        return W
    _run(-(-n // sw), lambda s0, s1: _pack_transposed(bt, idx, W, sw, s0, s1), split)
    return W


def unpack_strips(W: Any, k: int, n: int) -> Any:
    """``B (k, n)`` back from its strips (a copy; for checks and introspection)."""
    sw = strip_width(W.dtype)
    S = -(-n // sw)
    return W[:S * k * sw].reshape(S, k, sw).transpose(1, 0, 2).reshape(k, S * sw)[:, :n].copy()
