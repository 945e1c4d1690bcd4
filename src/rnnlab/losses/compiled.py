"""The compiled softmax cross-entropy from logits (numba), beside its reference in
``crossentropy.py``/``base._log_softmax_parts``: the same equations, one row at a time.

For each row ``z`` of logits and its label ``k``::

    m = max(z);  e = exp(z - m);  s = sum(e);  loss = (m + log(s)) - z[k]
    d loss / d z = e / s - onehot(k)

NumPy makes six passes over the whole ``(rows, classes)`` array (max, subtract, exp, sum,
divide, pick); here each row is read from memory once and stays in cache for its loops, and
the rows are split over the engine's threads (``parallel_rows``). The max and the sum keep 8
partial results (so the loops vectorise without reassociating anything), then combine them in
a fixed order. ``exp`` is the kernels' ``vexp`` (1.4 ulp in float32, 2 ulp in float64); below
the smallest normal number it gives that number instead of 0 or a subnormal, which changes a
probability by less than 1e-37 (float32). A row with a NaN or an infinite logit gives NaN, as
the reference does. Imported only when numba is usable (``kernels.threads_module()``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from ..kernels import _numba_kernels as nk

MIN_BLOCK = 1 << 16  # logits below which a row block is not worth a thread hand-off


@njit(cache=True, error_model="numpy", nogil=True)
def _row_max(z):
    """``max(z)`` of a 1-D row (8 partial maxima, so that the loop vectorises); NaN if any
    entry is."""
    n = z.shape[0]
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = z.dtype.type(-np.inf)
    bad = False
    full = n // 8 * 8
    for b in range(0, full, 8):
        zb = z[b:b + 8]
        a0, a1, a2, a3 = max(a0, zb[0]), max(a1, zb[1]), max(a2, zb[2]), max(a3, zb[3])
        a4, a5, a6, a7 = max(a4, zb[4]), max(a5, zb[5]), max(a6, zb[6]), max(a7, zb[7])
        for lane in range(8):
            bad |= zb[lane] != zb[lane]
    m = max(max(max(a0, a1), max(a2, a3)), max(max(a4, a5), max(a6, a7)))
    for j in range(full, n):
        bad |= z[j] != z[j]
        m = max(m, z[j])
    return z.dtype.type(np.nan) if bad else m


@njit(cache=True, error_model="numpy", nogil=True)
def _row_sum(e):
    """``sum(e)`` of a 1-D row: 8 partial sums (so that the loop vectorises) added in order."""
    n = e.shape[0]
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = e.dtype.type(0.0)
    full = n // 8 * 8
    for b in range(0, full, 8):
        eb = e[b:b + 8]
        a0, a1, a2, a3 = a0 + eb[0], a1 + eb[1], a2 + eb[2], a3 + eb[3]
        a4, a5, a6, a7 = a4 + eb[4], a5 + eb[5], a6 + eb[6], a7 + eb[7]
    s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
    for j in range(full, n):
        s += e[j]
    return s


@njit(cache=True, error_model="numpy", nogil=True)
def sparse_softmax_xent(z, labels, values, grad, need_grad, r0, r1):
    """Rows ``r0:r1`` of ``z (R, C)``: ``values[r]`` the cross-entropy of label ``labels[r]``
    and, when ``need_grad``, ``grad[r] = softmax(z[r]) - onehot(labels[r])`` (else ``grad``
    is one row of scratch)."""
    C = z.shape[1]
    one = z.dtype.type(1.0)
    for r in range(r0, r1):
        zr = z[r]
        gr = grad[r] if need_grad else grad[0]
        m = _row_max(zr)
        if not math.isfinite(m):
            values[r] = np.nan
            for j in range(C):
                gr[j] = z.dtype.type(np.nan)
            continue
        for j in range(C):
            gr[j] = nk.vexp(zr[j] - m)
        s = _row_sum(gr)
        k = labels[r]
        values[r] = (m + math.log(s)) - zr[k]
        if need_grad:
            for j in range(C):
                gr[j] = gr[j] / s
            gr[k] -= one


def sparse_crossentropy_from_logits(z: Any, labels: Any, need_grad: bool,
                                    engine_module: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """``(values y_pred.shape[:-1], softmax - onehot or None)`` of logits ``z (..., C)`` and
    integer ``labels (...)``, on ``engine_module``'s threads."""
    C = z.shape[-1]
    z2 = np.ascontiguousarray(z).reshape(-1, C)
    lab = np.ascontiguousarray(labels, dtype=np.intp).reshape(-1)
    R = z2.shape[0]
    values = np.empty(R, dtype=z2.dtype)
    grad = np.empty((R, C), dtype=z2.dtype) if need_grad else None

    def rows(r0: int, r1: int) -> None:
        g = grad if grad is not None else np.empty((1, C), dtype=z2.dtype)
        sparse_softmax_xent(z2, lab, values, g, need_grad, r0, r1)

    engine_module.parallel_rows(R, max(1, -(-MIN_BLOCK // max(C, 1))), rows)
    return values.reshape(z.shape[:-1]), None if grad is None else grad.reshape(z.shape)
