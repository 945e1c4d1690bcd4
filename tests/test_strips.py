"""The recurrent product over strips (``rnnlab.kernels._strips``): the same numbers as a
float64 product for every tile height, partial strip, ``beta``, layout and dtype, and the
sweeps through it where this machine's OpenBLAS would not choose it."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest

from rnnlab.kernels import numba_status

NUMBA_OK = numba_status()[0]
pytestmark = pytest.mark.skipif(not NUMBA_OK, reason="numba engine unavailable")

TOL = {np.float32: 2e-6, np.float64: 1e-14}


def _strips():
    from rnnlab.kernels import _strips

    return _strips


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_product_matches_float64(dtype: type) -> None:
    """Rows 1 to ``ROWS + 1`` and ``2 ROWS + 1`` (every tile height of this machine's
    kernels, and tiles of unequal height), columns with and without a partial last strip,
    ``k`` 1 to 70; ``beta`` 0 ignores ``c`` (NaN there included), 1 adds to it; a column range
    of a wider ``c`` is written and nothing beside it."""
    st = _strips()
    rng = np.random.default_rng(0)
    sw = st.strip_width(dtype)
    heights = [*range(1, st.ROWS + 2), 2 * st.ROWS + 1]
    for m, n, k in itertools.product(heights, (1, sw - 1, sw, 2 * sw + 3), (1, 5, 70)):
        a = rng.standard_normal((m, k)).astype(dtype)
        b = rng.standard_normal((k, n)).astype(dtype)
        W = st.pack_strips(b)
        assert W.size == st.strips_size(k, n, dtype) == -(-n // sw) * sw * k
        np.testing.assert_array_equal(st.unpack_strips(W, k, n), b)
        want = a.astype(np.float64) @ b.astype(np.float64)
        scale = np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64)
        wide = np.full((m, n + 5), np.nan, dtype=dtype)
        st.mm_strips(a, W, n, wide[:, 2:2 + n], 0.0)
        assert np.isnan(wide[:, :2]).all() and np.isnan(wide[:, 2 + n:]).all()
        assert (np.abs(wide[:, 2:2 + n] - want) <= TOL[dtype] * scale).all()
        c0 = rng.standard_normal((m, n)).astype(dtype)
        c = c0.copy()
        st.mm_strips(a, W, n, c, 1.0)
        assert (np.abs(c - (want + c0)) <= TOL[dtype] * (scale + np.abs(c0))).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_each_element_is_one_ordered_dot_product(dtype: type) -> None:
    """Exactness, not closeness: every element equals the same dot product summed in order
    with fused multiply-adds, computed here one element at a time (and so does not depend on
    which tile or strip it lies in)."""
    st = _strips()
    rng = np.random.default_rng(1)
    m, k, n = 9, 23, 2 * st.strip_width(dtype) + 1
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    c = np.empty((m, n), dtype=dtype)
    st.mm_strips(a, st.pack_strips(b), n, c, 0.0)
    for r in range(m):
        for j in range(n):
            acc = dtype(0.0)
            for p in range(k):  # the exact a·b + acc, rounded (float32: via float64)
                exact = Fraction(float(a[r, p])) * Fraction(float(b[p, j])) + Fraction(float(acc))
                acc = dtype(float(exact))
            assert c[r, j] == acc, (r, j)


def test_non_finite_values_propagate() -> None:
    st = _strips()
    a = np.ones((5, 3), dtype=np.float32)
    b = np.ones((3, 20), dtype=np.float32)
    a[1, 2] = np.nan
    b[0, 17] = np.inf
    c = np.zeros((5, 20), dtype=np.float32)
    st.mm_strips(a, st.pack_strips(b), 20, c, 0.0)
    assert np.isnan(c[1]).all()                      # NaN times anything, inf included
    assert np.isinf(c[[0, 2, 3, 4], 17]).all()
    assert np.isfinite(np.delete(c[[0, 2, 3, 4]], 17, axis=1)).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_packing_from_any_layout(dtype: type) -> None:
    """A C-contiguous weight, a transposed one (``W_hh.T``, read along ``W_hh``'s rows), a
    column range, a strided one and the rows of ``pack_rows``: the same strips; ``out`` is
    filled in place, and a split over strip ranges packs the same."""
    st = _strips()
    rng = np.random.default_rng(2)
    k, n = 37, 45
    b = rng.standard_normal((k, n)).astype(dtype)
    W = st.pack_strips(b)
    wide = np.concatenate([b, b], axis=1)
    for src in (np.ascontiguousarray(b.T).T, wide[:, :n], np.repeat(b, 2, axis=0)[::2],
                np.repeat(b, 2, axis=1)[:, ::2]):
        np.testing.assert_array_equal(st.pack_strips(src), W)
    out = np.full(W.size, np.nan, dtype=dtype)
    calls: list[tuple[int, int]] = []

    def split(count: int, fn) -> None:
        for s0, s1 in ((0, 1), (1, count)):
            calls.append((s0, s1))
            fn(s0, s1)

    assert st.pack_strips(b, out, split) is out
    np.testing.assert_array_equal(out, W)
    assert calls == [(0, 1), (1, -(-n // st.strip_width(dtype)))]
    bt = rng.standard_normal((60, k)).astype(dtype)
    rows = np.array([5, 0, 59, 7, 8, 9, 30, 31, 2, 3, 4, 40, 41, 42, 43, 44, 1, 6])
    np.testing.assert_array_equal(st.unpack_strips(st.pack_rows(bt, rows), k, len(rows)),
                                  bt[rows].T)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_packing_by_omatcopy_is_the_compiled_copy(dtype: type) -> None:
    """A weight of at least ``OMATCOPY_BYTES`` packed from its rows by OpenBLAS's
    ``?omatcopy`` (runs of consecutive rows, cut at strip bounds and at gaps; a partial last
    strip; NaN, inf and -0 among the values): bit for bit the strips of the compiled copy,
    whole or split over strip ranges."""
    st = _strips()
    from rnnlab.kernels import _numba_kernels as nk

    omatcopy = nk._OMATCOPY[np.dtype(dtype)]
    assert omatcopy is not None, "NumPy's OpenBLAS has no ?omatcopy"
    rng = np.random.default_rng(5)
    sw = st.strip_width(dtype)
    k = 301
    n_rows = st.OMATCOPY_BYTES // (k * np.dtype(dtype).itemsize) + 3 * sw
    bt = rng.standard_normal((n_rows + 40, k)).astype(dtype)
    bt[3, 7], bt[50, 0], bt[60, k - 1] = np.nan, -0.0, np.inf
    gap = np.arange(sw + 5, sw + 30)
    for rows in (np.arange(n_rows), np.concatenate([np.arange(sw + 5), gap + 20,
                                                    np.arange(sw + 60, n_rows + 3)]),
                 np.concatenate([np.arange(n_rows // 2, n_rows), np.arange(n_rows // 2)])):
        assert len(rows) * k * bt.itemsize >= st.OMATCOPY_BYTES and len(rows) % sw
        want = st.pack_rows(bt, rows)
        got = st.pack_rows(bt, rows, omatcopy=omatcopy)
        np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))
        np.testing.assert_array_equal(st.unpack_strips(got, k, len(rows)), bt[rows].T)
        out = np.full(want.size, np.nan, dtype=dtype)
        count = -(-len(rows) // sw)

        def split(count: int, fn) -> None:
            for s0, s1 in ((0, 1), (1, count // 2), (count // 2, count)):
                fn(s0, s1)

        assert st.pack_rows(bt, rows, out, split, omatcopy) is out
        np.testing.assert_array_equal(out.view(np.uint8), want.view(np.uint8))
        assert count > 2


def test_rows_must_be_contiguous() -> None:
    st = _strips()
    b = np.ones((4, 16), dtype=np.float32)
    W = st.pack_strips(b)
    with pytest.raises(ValueError, match="contiguous"):
        st.mm_strips(np.ones((3, 8), dtype=np.float32)[:, ::2], W, 16,
                     np.zeros((3, 16), dtype=np.float32), 0.0)


def test_empty_products() -> None:
    st = _strips()
    for k in (0, 3):
        b = np.ones((k, 5), dtype=np.float64)
        W = st.pack_strips(b)
        c = np.full((2, 5), 7.0)
        st.mm_strips(np.ones((2, k)), W, 5, c, 1.0)
        np.testing.assert_array_equal(c, 7.0 + k)
        c = np.full((2, 5), np.nan)
        st.mm_strips(np.ones((2, k)), W, 5, c, 0.0)
        np.testing.assert_array_equal(c, float(k))
    st.mm_strips(np.ones((0, 3)), st.pack_strips(np.ones((3, 5))), 5, np.ones((0, 5)), 0.0)


def test_portable_build_takes_the_avx2_tiles() -> None:
    """Under ``NUMBA_CPU_NAME=generic`` (a build for any x86-64) the strips are two 32-byte
    vectors and tiles of at most 6 rows, whatever this machine has, and the product is still
    right for every tile height (run in a fresh process: the width is fixed at import)."""
    import os
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from rnnlab.kernels import _strips as st\n"
        "assert (st.AVX512, st.VECTOR_BYTES, st.ROWS) == (False, 32, 6), st.ROWS\n"
        "rng = np.random.default_rng(0)\n"
        "for m in range(1, 14):\n"
        "    a = rng.standard_normal((m, 37)).astype(np.float32)\n"
        "    b = rng.standard_normal((37, 41)).astype(np.float32)\n"
        "    c = np.empty((m, 41), np.float32)\n"
        "    st.mm_strips(a, st.pack_strips(b), 41, c, 0.0)\n"
        "    want = a.astype(np.float64) @ b\n"
        "    scale = np.abs(a).astype(np.float64) @ np.abs(b)\n"
        "    assert (np.abs(c - want) <= 2e-6 * scale).all(), m\n"
        "print('ok')\n")
    env = {**os.environ, "NUMBA_CPU_NAME": "generic"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
