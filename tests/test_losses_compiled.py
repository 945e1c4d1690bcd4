"""The compiled softmax cross-entropy from logits (``rnnlab.losses.compiled``) against the
NumPy reference (``rnnlab.engine("reference")``): values and gradients in float64 to 1e-12,
float32 to 1e-6, rows split over threads, class counts that are not a multiple of 8, masks and
sample weights, -inf logits, and rows with NaN or +inf (NaN, as the reference gives)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rnnlab import kernels
from rnnlab.losses import SparseCategoricalCrossentropy

pytestmark = pytest.mark.skipif(not kernels.numba_status()[0], reason="numba engine unavailable")


def both(loss: Any, y: Any, z: Any, **kw: Any) -> tuple[Any, Any]:
    got = loss.value_and_grad(y, z, **kw)
    with kernels.use_engine("reference"):
        ref = loss.value_and_grad(y, z, **kw)
    return got, ref


def rel(a: Any, b: Any) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


@pytest.mark.parametrize("shape", [(5, 3), (13, 37), (4, 6, 1000), (2, 8)])
@pytest.mark.parametrize("dtype,tol", [("float64", 1e-12), ("float32", 1e-6)])
def test_compiled_equals_reference(shape: tuple[int, ...], dtype: str, tol: float,
                                   three_threads: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from rnnlab.losses import compiled

    monkeypatch.setattr(compiled, "MIN_BLOCK", 1)  # rows split over the 3 threads
    rng = np.random.default_rng(sum(shape))
    z = (rng.standard_normal(shape) * 4).astype(dtype)
    y = rng.integers(0, shape[-1], shape[:-1])
    loss = SparseCategoricalCrossentropy(from_logits=True)
    (v, g), (vr, gr) = both(loss, y, z)
    assert g.dtype == z.dtype and g.shape == z.shape
    assert rel(v, vr) < tol and rel(g, gr) < tol
    values = loss.call(y, z)
    with kernels.use_engine("reference"):
        values_ref = loss.call(y, z)
    assert values.shape == shape[:-1] and rel(values, values_ref) < tol


def test_masks_weights_and_ignore_class() -> None:
    rng = np.random.default_rng(3)
    z = rng.standard_normal((6, 5, 11))
    y = rng.integers(0, 11, (6, 5))
    mask = rng.random((6, 5)) > 0.3
    weights = rng.random(6)
    for loss in (SparseCategoricalCrossentropy(from_logits=True),
                 SparseCategoricalCrossentropy(from_logits=True, ignore_class=2),
                 SparseCategoricalCrossentropy(from_logits=True, reduction="sum")):
        (v, g), (vr, gr) = both(loss, y, z, sample_weight=weights, mask=mask)
        assert rel(v, vr) < 1e-12 and rel(g, gr) < 1e-12


def test_infinite_and_nan_logits() -> None:
    z = np.random.default_rng(4).standard_normal((5, 9))
    z[0, 3] = -np.inf           # a class ruled out: finite loss, zero probability
    z[1, 2] = np.nan
    z[2, 5] = np.inf
    z[3, :] = -np.inf
    y = np.array([1, 0, 5, 2, 4])
    loss = SparseCategoricalCrossentropy(from_logits=True, reduction="none")
    got = loss.call(y, z)
    with kernels.use_engine("reference"), np.errstate(invalid="ignore"):
        ref = loss.call(y, z)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    assert np.isnan(got[1:4]).all() and np.isfinite(got[[0, 4]]).all()
    assert rel(got[[0, 4]], ref[[0, 4]]) < 1e-12
    (v, g), _ = both(SparseCategoricalCrossentropy(from_logits=True), y[[0, 4]], z[[0, 4]])
    assert abs(g[0, 3]) < 1e-300 and np.isfinite(g).all()
