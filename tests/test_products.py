"""``rnnlab.kernels.products``: the layers' large products split over the engine's threads give
``np.matmul``'s result (float64, 1e-12), for transposed views and ``out=``; ``Dense`` under every
engine gives the same outputs and gradients."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab import kernels
from rnnlab.kernels import _pool, products
from rnnlab.layers import Dense

NUMBA_OK = kernels.numba_status()[0]
ENGINES = ["reference", pytest.param("compiled", marks=pytest.mark.skipif(
    not NUMBA_OK, reason=f"numba engine unavailable: {kernels.numba_status()[1]}"))]


@pytest.fixture
def split(three_threads: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every product split into blocks of at least 2 rows on 3 threads (numba engine)."""
    monkeypatch.setattr(products, "MIN_BLOCK_WORK", 1)


@pytest.mark.parametrize("engine", ENGINES)
def test_matmul_equals_numpy(engine: str, split: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kernels, "_env_default", [kernels.check_engine(engine)])
    rng = np.random.default_rng(0)
    a = rng.standard_normal((13, 7))
    b = rng.standard_normal((7, 5))
    c = rng.standard_normal((11, 13))
    for x, y in ((a, b), (a.T.copy().T, b), (c[:, :7].T, a[:11]), (a, c[:5, :7].T), (a[:1], b)):
        want = np.matmul(x, y)
        got = products.matmul(x, y)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    out = np.full((13, 5), np.nan)
    assert products.matmul(a, b, out=out) is out
    np.testing.assert_allclose(out, a @ b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(products.column_sums(c), c.sum(axis=0), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("threads", [1, 3])
def test_matmul_with_bias(engine: str, threads: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """``bias`` added to every row, whichever way the product runs: the bias first and BLAS
    adding the product to it (compiled engine; a weight as it lies or transposed, float32
    and float64), or the product then ``+=`` (a layout BLAS does not take, mixed dtypes, the
    reference engine); NaN in ``out`` beforehand never survives."""
    from threadpoolctl import threadpool_limits

    monkeypatch.setattr(kernels, "_env_default", [kernels.check_engine(engine)])
    monkeypatch.setattr(products, "MIN_BLOCK_WORK", 1)
    folded: list[bool] = []
    if engine == "compiled":
        from rnnlab.kernels import _numba_kernels as nk

        real = nk.matmul_bias
        monkeypatch.setattr(nk, "matmul_bias", lambda *args: folded.append(real(*args))
                            or folded[-1])
    rng = np.random.default_rng(5)
    with threadpool_limits(threads):
        for dtype, tol in ((np.float64, 1e-12), (np.float32, 2e-6)):
            a = rng.standard_normal((37, 9)).astype(dtype)
            w = rng.standard_normal((11, 9)).astype(dtype)
            bias = rng.standard_normal(11).astype(dtype)
            want = a.astype(np.float64) @ w.T.astype(np.float64) + bias
            wide = np.repeat(w, 2, axis=0)[::2]                       # rows strided
            for b in (w.T, np.ascontiguousarray(w.T), np.repeat(w.T, 2, axis=1)[:, ::2],
                      wide.T):
                out = np.full((37, 11), np.nan, dtype=dtype)
                assert products.matmul(a, b, out=out, bias=bias) is out
                np.testing.assert_allclose(out, want, rtol=tol, atol=tol)
            mixed = products.matmul(a, w.T.astype(np.float64), bias=bias)
            np.testing.assert_allclose(mixed, want, rtol=tol, atol=tol)
    if engine == "compiled":                 # C and transposed weights folded, the rest not
        assert True in folded and False in folded


@pytest.mark.parametrize("engine", ENGINES)
def test_out_overlapping_an_operand(engine: str, split: None,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Row blocks writing into ``b`` while others still read it would be wrong: such calls run
    as one ``np.matmul``, which handles the overlap."""
    monkeypatch.setattr(kernels, "_env_default", [kernels.check_engine(engine)])
    rng = np.random.default_rng(2)
    a = rng.standard_normal((40, 40))
    b = rng.standard_normal((40, 40))
    want = a @ b
    np.testing.assert_allclose(products.matmul(a, b, out=b), want, rtol=1e-12, atol=1e-12)
    a2 = a.copy()
    np.testing.assert_allclose(products.matmul(a2, b @ np.eye(40), out=a2), a @ b, rtol=1e-12,
                               atol=1e-12)


def test_matmul_rejects_other_ranks() -> None:
    with pytest.raises(ValueError, match=r"2-D operands, got shapes \(3,\) and \(3, 2\)"):
        products.matmul(np.ones(3), np.ones((3, 2)))


def test_block_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows per block: enough multiply-adds to be worth a thread hand-off."""
    seen: list[tuple[int, int]] = []

    class Engine:
        n = 2

        @staticmethod
        def parallel_rows(rows: int, min_rows: int, fn: object) -> None:
            seen.append((rows, min_rows))

        @classmethod
        def threads(cls) -> int:
            return cls.n

    products.matmul(np.ones((700, 650)), np.ones((650, 10)), engine_module=Engine)
    products.matmul(np.ones((700, 650)), np.ones((650, 10000)), engine_module=Engine)
    assert seen == [(700, -(-products.MIN_BLOCK_WORK // 6500)), (700, _pool.MIN_ROWS)]
    Engine.n = 1                                   # one thread: NumPy's product, no blocks
    out = products.matmul(np.ones((700, 650)), np.ones((650, 10)), engine_module=Engine)
    assert len(seen) == 2 and (out == 650).all()


@pytest.mark.parametrize("engine", ENGINES)
def test_dense_same_under_every_engine(engine: str, split: None,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 4, 3))
    g = rng.standard_normal((6, 4, 5))
    results = []
    for name in ("reference", engine):
        monkeypatch.setattr(kernels, "_env_default", [kernels.check_engine(name)])
        layer = Dense(5, activation="tanh", dtype="float64")
        layer.build(x.shape)
        layer.set_weights([np.arange(15.0).reshape(3, 5) / 10, np.linspace(-1, 1, 5)])
        y, cache = layer.forward(x, training=True)
        dx = layer.backward(g, cache)
        results.append((y, dx, layer.grads["weight"].copy(), layer.grads["bias"].copy()))
    for got, want in zip(results[1], results[0]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
