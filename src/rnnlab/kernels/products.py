"""Large matrix products of the layers (``Dense``), run the way the recurrent sweeps run.

OpenBLAS's worker threads spin for about 0.1 s after every multi-threaded call before they sleep
(``OPENBLAS_THREAD_TIMEOUT``: 2^28 cycles by default). With the numba engine the recurrent layers
split their batch rows over rnnlab's own threads with single-threaded BLAS (``_pool``), so a
threaded BLAS call just before a sweep left a spinning thread competing with the sweep for the
cores: on 2 cores that cost about 15% of a medium LSTM training step (2 threads: 488 ms per
step, 412 ms with ``OPENBLAS_THREAD_TIMEOUT=4``, benchmarks/RESULTS.md). ``matmul`` therefore
runs a large product in row blocks on the same threads, with BLAS single-threaded, and BLAS's own
threads are never woken during a step.

Under the reference engine, or without numba, it is one ``np.matmul``: BLAS parallelises it
itself. Under the compiled engine each thread running a block has single-threaded BLAS (its own
limit, as in the recurrent sweeps); ``out`` overlapping an operand runs as one ``np.matmul``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _pool, threads_module

Array = np.ndarray
MIN_BLOCK_WORK = 1 << 20  # multiply-adds below which a row block is not worth a thread hand-off
ADD_CHUNK = 1 << 20       # elements of the temporary product of one chunk of ``matmul_add``


def matmul(a: Array, b: Array, out: Array | None = None, engine_module: Any = None,
           bias: Array | None = None) -> Array:
    """``a @ b`` (then ``+= bias``, a ``(n,)`` row, when given) for 2-D ``a (m, k)`` and
    ``b (k, n)`` (views, transposed ones included), into ``out (m, n)`` when given. Row blocks
    of ``a`` run on the threads of ``engine_module`` (default: ``threads_module()``; one block,
    BLAS-threaded, when there is none). Under the compiled engine the bias goes in first and
    the product is added to it (``_numba_kernels.matmul_bias``: a pass over a ``(700, 10000)``
    output after the product was 3-5 ms on one thread); else each block adds it to its rows.
    Every element is one BLAS dot product over the whole ``k``, as in ``np.matmul``: the split
    by rows does not change the result's summation."""
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"matmul expects 2-D operands, got shapes {a.shape} and {b.shape}")
    m, k = a.shape
    n = b.shape[1]
    shared = False
    if out is None:
        out = np.empty((m, n), dtype=np.result_type(a, b))
    else:
        shared = np.may_share_memory(out, a) or np.may_share_memory(out, b)
    eng = engine_module if engine_module is not None else threads_module()
    fold = getattr(eng, "matmul_bias", None) if bias is not None and not shared else None

    def block(r0: int, r1: int) -> Any:
        if fold is not None and fold(a[r0:r1], b, out[r0:r1], bias):
            return
        np.matmul(a[r0:r1], b, out=out[r0:r1])
        if bias is not None:
            out[r0:r1] += bias

    if shared or eng is None or eng.threads() == 1:  # (shared: blocks would overwrite operands
        if shared or eng is None:                    # that others still read)
            np.matmul(a, b, out=out)
            if bias is not None:
                out += bias
        else:
            block(0, m)
        return out
    min_rows = max(_pool.MIN_ROWS, -(-MIN_BLOCK_WORK // max(k * n, 1)))

    eng.parallel_rows(m, min_rows, block)
    return out


def matmul_add(a: Array, b: Array, out: Array, engine_module: Any = None) -> Array:
    """``out += a @ b`` (2-D, as ``matmul``), a chunk of rows at a time: each chunk's product
    goes into a temporary of at most ``ADD_CHUNK`` elements and is added to its rows, so that no
    temporary the size of ``out`` exists (a 10,000-class head's weight gradient is 26 MB in
    float32). The same numbers as ``out += matmul(a, b)``: every element is still one dot
    product over the whole ``k``, then added."""
    if a.ndim != 2 or b.ndim != 2 or out.shape != (a.shape[0], b.shape[1]):
        raise ValueError(f"matmul_add expects (m, k) @ (k, n) into (m, n), got shapes "
                         f"{a.shape}, {b.shape} and {out.shape}")
    m, k = a.shape
    n = b.shape[1]
    chunk = max(1, ADD_CHUNK // max(n, 1))
    dtype = np.result_type(a, b)

    def block(r0: int, r1: int) -> None:
        tmp = np.empty((min(chunk, r1 - r0), n), dtype=dtype)
        for c0 in range(r0, r1, chunk):
            c1 = min(c0 + chunk, r1)
            part = tmp[:c1 - c0]
            np.matmul(a[c0:c1], b, out=part)
            out[c0:c1] += part

    eng = engine_module if engine_module is not None else threads_module()
    if eng is None or eng.threads() == 1 or np.may_share_memory(out, a) or np.may_share_memory(
            out, b):
        block(0, m)
    else:
        eng.parallel_rows(m, max(_pool.MIN_ROWS, -(-MIN_BLOCK_WORK // max(k * n, 1))), block)
    return out


def column_sums(a: Array, engine_module: Any = None) -> Array:
    """``a.sum(axis=0)`` of a 2-D array as a matrix-vector product (2-3x faster than ``sum`` on
    tall arrays), run as ``matmul`` runs."""
    ones = np.ones((1, a.shape[0]), dtype=a.dtype)
    return matmul(ones, a, engine_module=engine_module)[0]
