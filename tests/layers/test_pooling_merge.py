"""Global pooling (with masks) and merge layers: gradients, Keras mask rules, shapes, configs,
errors and dtypes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnnlab._registry import deserialize, serialize
from rnnlab.gradcheck import check_layer
from rnnlab.layers.merge import (
    Add,
    Average,
    Concatenate,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
)
from rnnlab.layers.pooling import GlobalAveragePooling1D, GlobalMaxPooling1D
from rnnlab.symbolic import KerasTensor

MASK = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 0], [1, 1, 1, 1, 1]], dtype=bool)


# -- pooling ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [GlobalAveragePooling1D, GlobalMaxPooling1D])
@pytest.mark.parametrize("mask", [None, MASK])
@pytest.mark.parametrize("data_format,keepdims", [("channels_last", False),
                                                  ("channels_first", True)])
def test_pooling_gradcheck(rng, cls, mask, data_format, keepdims):
    layer = cls(data_format=data_format, keepdims=keepdims, dtype="float64")
    x = rng.standard_normal((3, 5, 4))
    if data_format == "channels_first":
        x = np.swapaxes(x, 1, 2).copy()
    report = check_layer(layer, x, mask=mask, seed=3)
    assert report.max_error < 1e-7, report


def test_average_pooling_values(rng):
    layer = GlobalAveragePooling1D(dtype="float64")
    x = rng.standard_normal((3, 5, 4))
    np.testing.assert_allclose(layer(x), x.mean(axis=1))
    y = layer(x, mask=MASK)
    for i in range(3):
        np.testing.assert_allclose(y[i], x[i, MASK[i]].mean(axis=0))
    np.testing.assert_array_equal(layer(x, mask=np.zeros((3, 5), dtype=bool)), 0.0)
    assert layer.compute_output_shape((None, 5, 4)) == (None, 4)
    assert GlobalAveragePooling1D(keepdims=True).compute_output_shape((None, 5, 4)) == (None, 1, 4)
    assert GlobalAveragePooling1D(data_format="channels_first").compute_output_shape(
        (None, 4, 5)) == (None, 4)
    assert layer.compute_mask(x, MASK) is None
    assert not layer(KerasTensor((None, 5, 4), "float32")).has_mask
    assert layer.name.startswith("global_average_pooling1d")


def test_max_pooling_ignores_masked_steps(rng):
    layer = GlobalMaxPooling1D(dtype="float64")
    x = rng.standard_normal((3, 5, 4))
    x[~MASK] = 100.0  # huge values on masked steps must not win
    np.testing.assert_allclose(layer(x), x.max(axis=1))
    y, cache = layer.forward(x, mask=MASK)
    for i in range(3):
        np.testing.assert_allclose(y[i], x[i, MASK[i]].max(axis=0))
    dx = layer.backward(np.ones_like(y), cache)
    assert np.all(dx[~MASK] == 0) and dx.sum() == y.size
    np.testing.assert_array_equal(layer(x, mask=np.zeros((3, 5), dtype=bool)), 0.0)


def test_pooling_errors(rng):
    with pytest.raises(ValueError, match=r"expected a 3-D array \(batch, timesteps, features\), "
                                         r"got shape \(3, 4\)"):
        GlobalAveragePooling1D()(rng.standard_normal((3, 4)))
    with pytest.raises(ValueError, match=r"mask must have shape \(batch, timesteps\) = \(3, 5\), "
                                         r"got \(3, 4\)"):
        GlobalMaxPooling1D()(rng.standard_normal((3, 5, 4)), mask=np.ones((3, 4), dtype=bool))
    with pytest.raises(ValueError, match="data_format must be"):
        GlobalMaxPooling1D(data_format="nchw")


# -- merges ----------------------------------------------------------------------------------------
ELEMENTWISE = [Add, Subtract, Multiply, Average, Maximum, Minimum]


@pytest.mark.parametrize("cls", ELEMENTWISE)
@pytest.mark.parametrize("second", [(2, 3, 4), (2, 1, 4), (2, 4)])
def test_elementwise_gradcheck(rng, cls, second):
    layer = cls(dtype="float64")
    xs = [rng.standard_normal((2, 3, 4)), rng.standard_normal(second)]
    report = check_layer(layer, xs, seed=3)
    assert report.max_error < 1e-7, report
    y = layer(xs)
    assert y.shape == (2, 3, 4)
    assert layer.compute_output_shape([(None, 3, 4), (None,) + second[1:]]) == (None, 3, 4)


@pytest.mark.parametrize("cls", [Add, Multiply, Average, Maximum, Minimum])
def test_elementwise_three_inputs(rng, cls):
    xs = [rng.standard_normal((2, 3)) for _ in range(3)]
    ops = {Add: lambda a: a.sum(0), Multiply: lambda a: a.prod(0), Average: lambda a: a.mean(0),
           Maximum: lambda a: a.max(0), Minimum: lambda a: a.min(0)}
    layer = cls(dtype="float64")
    np.testing.assert_allclose(layer(xs), ops[cls](np.stack(xs)), atol=1e-12)
    assert check_layer(layer, xs, seed=3).max_error < 1e-7
    d = layer.backward(np.ones((2, 3)), layer.forward(xs)[1])
    assert isinstance(d, list) and len(d) == 3


def test_subtract_values(rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    np.testing.assert_allclose(Subtract(dtype="float64")([a, b]), a - b)
    with pytest.raises(ValueError, match="expects exactly 2 inputs, got 3"):
        Subtract()([a, b, a])


@pytest.mark.parametrize("axis,shapes,out", [
    (-1, [(2, 3, 4), (2, 3, 2)], (2, 3, 6)),
    (1, [(2, 3, 4), (2, 1, 4), (2, 2, 4)], (2, 6, 4)),
])
def test_concatenate_gradcheck(rng, axis, shapes, out):
    layer = Concatenate(axis=axis, dtype="float64")
    xs = [rng.standard_normal(s) for s in shapes]
    assert layer(xs).shape == out
    np.testing.assert_array_equal(layer(xs), np.concatenate(xs, axis=axis))
    report = check_layer(layer, xs, seed=3)
    assert report.max_error < 1e-7, report
    assert layer.compute_output_shape([(None,) + s[1:] for s in shapes]) == (None,) + out[1:]


def test_merge_errors(rng):
    with pytest.raises(ValueError, match=r"expects a list of input arrays, got a single array "
                                         r"of shape \(2, 3\)"):
        Add()(rng.standard_normal((2, 3)))
    with pytest.raises(ValueError, match=r"same \(or broadcastable\) shape, got shapes "
                                         r"\[\(2, 3\), \(2, 4\)\]"):
        Add()([rng.standard_normal((2, 3)), rng.standard_normal((2, 4))])
    with pytest.raises(ValueError, match=r"match except on the concatenation axis -1; got shapes "
                                         r"\[\(2, 3, 4\), \(2, 5, 4\)\]"):
        Concatenate()([rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4))])
    with pytest.raises(ValueError, match="same rank"):
        Concatenate()([rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4))])
    with pytest.raises(ValueError, match="not a non-batch axis"):
        Concatenate(axis=0)([rng.standard_normal((2, 3)), rng.standard_normal((2, 3))])
    with pytest.raises(ValueError, match="incompatible|broadcastable"):
        Multiply()([KerasTensor((None, 3), "float32"), KerasTensor((None, 4), "float32")])


def test_merge_masks_follow_keras(rng):
    m1 = np.array([[1, 1, 0], [1, 0, 0]], dtype=bool)
    m2 = np.array([[1, 0, 1], [1, 1, 0]], dtype=bool)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 2))
    # element-wise merges: AND of the masks that are given
    np.testing.assert_array_equal(Add().compute_mask([a, a], [m1, m2]), m1 & m2)
    np.testing.assert_array_equal(Multiply().compute_mask([a, a], [m1, None]), m1)
    assert Add().compute_mask([a, a], [None, None]) is None
    assert Add().compute_mask([a, a], None) is None
    # feature concatenation: OR, and a missing mask counts as all True
    cat = Concatenate()
    np.testing.assert_array_equal(cat.compute_mask([a, b], [m1, m2]), m1 | m2)
    np.testing.assert_array_equal(cat.compute_mask([a, b], [m1, None]), np.ones((2, 3), bool))
    assert cat.compute_mask([a, b], [None, None]) is None
    # time concatenation: masks joined in time
    c = rng.standard_normal((2, 2, 4))
    got = Concatenate(axis=1).compute_mask([a, c], [m1, None])
    np.testing.assert_array_equal(got, np.concatenate([m1, np.ones((2, 2), bool)], axis=1))
    # symbolic calls
    t1 = KerasTensor((None, 3, 4), "float32", has_mask=True)
    t2 = KerasTensor((None, 3, 4), "float32")
    assert Add()([t1, t2]).has_mask
    assert not Add()([t2, t2]).has_mask
    assert Concatenate()([t1, t2]).shape == (None, 3, 8)


# -- configs and dtypes ----------------------------------------------------------------------------
LAYERS = [
    (lambda: GlobalAveragePooling1D(keepdims=True), 1),
    (lambda: GlobalMaxPooling1D(data_format="channels_first"), 1),
    (lambda: Add(), 2), (lambda: Subtract(), 2), (lambda: Multiply(), 3),
    (lambda: Average(), 2), (lambda: Maximum(), 2), (lambda: Minimum(), 2),
    (lambda: Concatenate(axis=1), 2),
]


@pytest.mark.parametrize("make,n", LAYERS)
def test_config_roundtrip(make, n, rng):
    layer = make()
    cfg = layer.get_config()
    clone = type(layer).from_config(json.loads(json.dumps(cfg)))
    assert clone.get_config() == cfg
    assert deserialize(serialize(layer)).get_config() == cfg
    xs = [rng.standard_normal((2, 3, 4)).astype("float32") for _ in range(n)]
    x = xs[0] if n == 1 else xs
    np.testing.assert_array_equal(clone(x), layer(x))


@pytest.mark.parametrize("make,n", LAYERS)
def test_float32_stays_float32(make, n, rng):
    layer = make()
    xs = [rng.standard_normal((2, 3, 4)) for _ in range(n)]
    x = layer.validate_inputs(xs[0] if n == 1 else xs)
    mask = None
    if n == 1:
        steps = 4 if layer.data_format == "channels_first" else 3
        mask = np.arange(steps) < np.array([[2], [1]])
    layer.maybe_build(np.shape(x) if n == 1 else [v.shape for v in x])
    y, cache = layer.forward(x, mask=mask)
    assert y.dtype == np.float32
    d = layer.backward(np.ones(y.shape), cache)
    assert all(v.dtype == np.float32 for v in (d if isinstance(d, list) else [d]))
