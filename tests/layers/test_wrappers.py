"""TimeDistributed: folding time into the batch, parameter names, masks, configs, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnnlab._registry import deserialize, serialize
from rnnlab.gradcheck import check_layer
from rnnlab.layers.core import Dense, Dropout
from rnnlab.layers.embedding import Embedding
from rnnlab.layers.normalization import LayerNormalization
from rnnlab.layers.wrappers import TimeDistributed
from rnnlab.symbolic import KerasTensor


@pytest.mark.parametrize("activation", [None, "tanh", "softmax"])
def test_time_distributed_dense_gradcheck(rng, activation):
    layer = TimeDistributed(Dense(3, activation=activation, dtype="float64"))
    report = check_layer(layer, rng.standard_normal((2, 4, 5)), seed=3)
    assert report.max_error < 1e-7, report
    assert set(report.errors) == {"layer.weight", "layer.bias", "input0"}


def test_time_distributed_layernorm_4d_gradcheck(rng):
    layer = TimeDistributed(LayerNormalization(dtype="float64"))
    report = check_layer(layer, rng.standard_normal((2, 3, 2, 4)), seed=3)
    assert report.max_error < 1e-7, report


def test_time_distributed_dropout_fixed_mask(rng):
    layer = TimeDistributed(Dropout(0.5, seed=2, dtype="float64"))
    x = rng.standard_normal((2, 4, 5))
    report = check_layer(layer, x, training=True, seed=3)  # resets the inner layer's counter
    assert report.max_error < 1e-7, report
    layer.rng_calls = 0
    first = layer(x, training=True)
    assert layer.layer.rng_calls == 1
    layer.rng_calls = 0
    np.testing.assert_array_equal(layer(x, training=True), first)
    np.testing.assert_array_equal(layer(x), x)


def test_time_distributed_equals_per_step_dense(rng):
    inner = Dense(3, dtype="float64")
    layer = TimeDistributed(inner)
    x = rng.standard_normal((2, 4, 5))
    y = layer(x)
    assert y.shape == (2, 4, 3)
    for t in range(4):
        np.testing.assert_allclose(y[:, t], inner(x[:, t]), atol=1e-12)
    assert [name for name, _ in layer.named_params()] == ["layer.weight", "layer.bias"]
    assert sorted(layer.state_dict()) == ["layer.bias", "layer.weight"]
    kernel, bias = layer.get_weights()
    assert kernel.shape == (5, 3)  # Keras layout of the inner Dense
    layer.set_weights([kernel * 2, bias])
    np.testing.assert_allclose(inner.params["weight"], 2 * kernel.T)
    assert layer.count_params() == 18


def test_time_distributed_embedding_ids(rng):
    layer = TimeDistributed(Embedding(10, 3, dtype="float64"))
    ids = rng.integers(0, 10, size=(2, 4, 5))
    y = layer(ids)
    assert y.shape == (2, 4, 5, 3)
    report = check_layer(layer, ids)
    assert report.max_error < 1e-7 and set(report.errors) == {"layer.weight"}
    with pytest.raises(ValueError, match="out of range"):
        layer(np.full((2, 4, 5), 10))


def test_time_distributed_masks_and_shapes(rng):
    layer = TimeDistributed(Dense(3))
    x = rng.standard_normal((2, 4, 5))
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 0]], dtype=bool)
    np.testing.assert_array_equal(layer.compute_mask(x, mask), mask)
    assert layer.compute_mask(x, None) is None
    np.testing.assert_array_equal(layer(x, mask=mask), layer(x))
    assert layer.compute_output_shape((None, 4, 5)) == (None, 4, 3)
    out = layer(KerasTensor((None, 4, 5), "float32", has_mask=True))
    assert out.shape == (None, 4, 3) and out.has_mask
    emb = TimeDistributed(Embedding(10, 2, mask_zero=True))
    ids = np.array([[[1, 0], [0, 0]]])
    np.testing.assert_array_equal(emb.compute_mask(ids, None), ids != 0)
    assert emb(KerasTensor((None, 2, 2), "int32")).has_mask


def test_time_distributed_errors(rng):
    with pytest.raises(ValueError, match=r"rank >= 3 \(batch, timesteps, \.\.\.\), got shape "
                                         r"\(2, 5\) \(2-D\)"):
        TimeDistributed(Dense(3))(rng.standard_normal((2, 5)))
    with pytest.raises(TypeError, match="expects a Layer"):
        TimeDistributed("dense")
    with pytest.raises(ValueError, match="inner layer's dtype 'float32'"):
        TimeDistributed(Dense(3), dtype="float64")
    layer = TimeDistributed(Dense(3))
    layer(rng.standard_normal((2, 4, 5)))
    with pytest.raises(ValueError, match=r"input shape \(2, 4, 6\), folded to \(8, 6\).*"
                                         r"expects 5 input features"):
        layer(rng.standard_normal((2, 4, 6)))


def test_time_distributed_config_roundtrip_and_float32(rng):
    layer = TimeDistributed(Dense(3, activation="relu", kernel_initializer="he_normal"))
    cfg = layer.get_config()
    assert cfg["layer"]["class_name"] == "Dense"
    clone = TimeDistributed.from_config(json.loads(json.dumps(cfg)))
    assert clone.get_config() == cfg
    assert deserialize(serialize(layer)).get_config() == cfg
    x = layer.validate_inputs(rng.standard_normal((2, 4, 5)))
    layer.maybe_build(x.shape)
    y, cache = layer.forward(x)
    assert x.dtype == y.dtype == np.float32
    assert layer.backward(np.ones(y.shape), cache).dtype == np.float32
    assert all(g.dtype == np.float32 for _, g in layer.named_grads())
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(x), layer(x))
