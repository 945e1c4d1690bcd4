"""Dense, Activation, Dropout, Flatten, RepeatVector, Reshape: gradients, Keras layout and
parameter counts, PyTorch oracle, configs, errors and dtypes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnnlab._registry import deserialize, serialize
from rnnlab.gradcheck import check_layer
from rnnlab.initializers import RandomNormal
from rnnlab.layers.core import Activation, Dense, Dropout, Flatten, RepeatVector, Reshape
from rnnlab.layers.embedding import Embedding
from rnnlab.symbolic import KerasTensor

ACTIVATIONS = [None, "linear", "tanh", "sigmoid", "relu", "hard_sigmoid", "softmax"]


def roundtrip(layer):
    cfg = layer.get_config()
    cfg_json = json.loads(json.dumps(cfg))
    clone = type(layer).from_config(cfg_json)
    assert clone.get_config() == cfg
    rebuilt = deserialize(json.loads(json.dumps(serialize(layer))))
    assert type(rebuilt) is type(layer) and rebuilt.get_config() == cfg
    return clone


# -- Dense -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("shape", [(4, 5), (3, 4, 5)])
def test_dense_gradcheck(rng, activation, shape):
    layer = Dense(3, activation=activation, dtype="float64")
    report = check_layer(layer, rng.standard_normal(shape))
    assert report.max_error < 1e-7, report
    assert set(report.errors) == {"weight", "bias", "input0"}


def test_dense_gradcheck_no_bias_4d(rng):
    layer = Dense(2, use_bias=False, activation="tanh", dtype="float64")
    report = check_layer(layer, rng.standard_normal((2, 3, 2, 4)))
    assert report.max_error < 1e-7, report
    assert list(layer.params) == ["weight"]


def test_dense_layouts_and_forward(rng):
    layer = Dense(3, dtype="float64")
    x = rng.standard_normal((2, 5, 4))
    y = layer(x)
    assert y.shape == (2, 5, 3)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (4, 3) and bias.shape == (3,)
    assert layer.params["weight"].shape == (3, 4)
    np.testing.assert_allclose(kernel, layer.params["weight"].T)
    np.testing.assert_allclose(y, x @ kernel + bias, atol=1e-12)
    # time-distributed for free: each step equals the 2-D call
    np.testing.assert_allclose(y[:, 2], layer(x[:, 2]), atol=1e-12)
    new_kernel = rng.standard_normal((4, 3))
    new_bias = rng.standard_normal(3)
    layer.set_weights([new_kernel, new_bias])
    np.testing.assert_allclose(layer.params["weight"], new_kernel.T)
    np.testing.assert_allclose(layer(x), x @ new_kernel + new_bias, atol=1e-12)
    assert sorted(layer.state_dict()) == ["bias", "weight"]
    with pytest.raises(ValueError, match=r"weight 0 expected shape \(4, 3\), got \(3, 4\)"):
        layer.set_weights([new_kernel.T, new_bias])
    with pytest.raises(ValueError, match="expected 2 weight arrays"):
        layer.set_weights([new_kernel])


def test_dense_kernel_init_uses_keras_fans():
    # he_uniform limit sqrt(6 / fan_in) with fan_in = input features (Keras kernel (in, units))
    layer = Dense(200, kernel_initializer="he_uniform", dtype="float64")
    layer(np.zeros((1, 3)))
    limit = np.sqrt(6.0 / 3)
    w = layer.params["weight"]
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.9 * limit
    assert np.all(layer.params["bias"] == 0)


def test_dense_softmax_rows_sum_to_one(rng):
    y = Dense(4, activation="softmax", dtype="float64")(rng.standard_normal((3, 2, 5)))
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, atol=1e-12)


def test_dense_mask_passes_through(rng):
    layer = Dense(2)
    mask = np.array([[True, False, True]])
    assert layer.compute_mask(rng.standard_normal((1, 3, 4)), mask) is mask
    assert layer.supports_masking


def test_dense_errors(rng):
    layer = Dense(3)
    layer(rng.standard_normal((2, 4)))
    with pytest.raises(ValueError, match=r"expects 4 input features.*got shape \(2, 5\)"):
        layer(rng.standard_normal((2, 5)))
    with pytest.raises(ValueError, match=r"rank >= 2.*got shape \(4,\) \(1-D\)"):
        Dense(3)(rng.standard_normal(4))
    with pytest.raises(ValueError, match="Unknown activation 'swishy'; expected one of"):
        Dense(3, activation="swishy")
    with pytest.raises(ValueError, match="units must be a positive integer, got 0"):
        Dense(0)
    with pytest.raises(ValueError, match="known feature size"):
        Dense(3)(KerasTensor((None, None), "float32"))


@pytest.mark.oracle
def test_dense_matches_torch_linear(rng):
    torch = pytest.importorskip("torch")
    lin = torch.nn.Linear(4, 3).double()
    layer = Dense(3, dtype="float64")
    layer(np.zeros((1, 4)))
    layer.load_state_dict({k: v.detach().numpy() for k, v in lin.state_dict().items()})
    x = rng.standard_normal((2, 5, 4))
    g = rng.standard_normal((2, 5, 3))
    xt = torch.tensor(x, requires_grad=True)
    yt = lin(xt)
    yt.backward(torch.tensor(g))
    y, cache = layer.forward(x)
    dx = layer.backward(g, cache)
    np.testing.assert_allclose(y, yt.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(layer.grads["weight"], lin.weight.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(layer.grads["bias"], lin.bias.grad.numpy(), atol=1e-12)


# -- Activation ------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_activation_gradcheck(rng, activation):
    report = check_layer(Activation(activation, dtype="float64"), rng.standard_normal((2, 3, 4)))
    assert report.max_error < 1e-7, report


def test_activation_values(rng):
    x = rng.standard_normal((3, 4))
    np.testing.assert_allclose(Activation("relu", dtype="float64")(x), np.maximum(x, 0))
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(Activation("softmax", dtype="float64")(x),
                               e / e.sum(axis=-1, keepdims=True), atol=1e-12)
    with pytest.raises(ValueError, match="Unknown activation 'nope'"):
        Activation("nope")


# -- Dropout ---------------------------------------------------------------------------------------
def test_dropout_gradcheck_fixed_mask(rng):
    layer = Dropout(0.4, seed=3, dtype="float64")
    x = rng.standard_normal((3, 4, 5))
    report = check_layer(layer, x, training=True)
    assert report.max_error < 1e-7, report
    layer.rng_calls = 0
    y, cache = layer.forward(x, training=True)
    assert 0 < np.count_nonzero(y == 0) < y.size


def test_dropout_inference_is_identity(rng):
    layer = Dropout(0.5, dtype="float64")
    x = rng.standard_normal((3, 4))
    y, cache = layer.forward(x, training=False)
    np.testing.assert_array_equal(y, x)
    g = rng.standard_normal((3, 4))
    np.testing.assert_array_equal(layer.backward(g, cache), g)
    assert layer.rng_calls == 0
    report = check_layer(layer, x)
    assert report.max_error < 1e-7, report


def test_dropout_mask_statistics():
    rate = 0.3
    layer = Dropout(rate, seed=0, dtype="float64")
    x = np.ones((200, 500))
    y = layer(x, training=True)
    kept = y != 0
    assert abs(kept.mean() - (1 - rate)) < 0.01
    np.testing.assert_allclose(y[kept], 1 / (1 - rate))
    assert abs(y.mean() - 1.0) < 0.02  # inverted dropout keeps the expectation
    y2 = layer(x, training=True)
    assert not np.array_equal(y, y2)  # a new mask per call
    layer.rng_calls = 0
    np.testing.assert_array_equal(layer(x, training=True), y)  # reproducible from the seed


def test_dropout_noise_shape(rng):
    layer = Dropout(0.5, noise_shape=(None, 1, 6), seed=1, dtype="float64")
    y = layer(np.ones((4, 5, 6)), training=True)
    np.testing.assert_array_equal(y, np.broadcast_to(y[:, :1], y.shape))
    report = check_layer(layer, rng.standard_normal((4, 5, 6)), training=True)
    assert report.max_error < 1e-7, report
    with pytest.raises(ValueError, match="noise_shape .* does not broadcast"):
        Dropout(0.5, noise_shape=(None, 2, 6))(np.ones((4, 5, 6)), training=True)


def test_dropout_rate_validation_and_edges():
    with pytest.raises(ValueError, match=r"rate must be a number in \[0, 1\], got 1.5"):
        Dropout(1.5)
    x = np.ones((2, 3))
    np.testing.assert_array_equal(Dropout(0.0)(x, training=True), x)
    np.testing.assert_array_equal(Dropout(1.0)(x, training=True), 0)


# -- Flatten / RepeatVector / Reshape --------------------------------------------------------------
def test_flatten_gradcheck_and_shapes(rng):
    layer = Flatten(dtype="float64")
    x = rng.standard_normal((2, 3, 4))
    assert layer(x).shape == (2, 12)
    report = check_layer(layer, x)
    assert report.max_error < 1e-7, report
    assert layer.compute_output_shape((None, 3, 4)) == (None, 12)
    assert layer.compute_output_shape((None, None, 4)) == (None, None)
    assert Flatten()(np.ones(5)).shape == (5, 1)
    cf = Flatten(data_format="channels_first", dtype="float64")
    np.testing.assert_array_equal(cf(x), np.moveaxis(x, 1, -1).reshape(2, -1))
    assert check_layer(cf, x).max_error < 1e-7


def test_keras_param_count_embedding_flatten_dense():
    emb, flat, dense = Embedding(10000, 8), Flatten(), Dense(1)
    out = dense(flat(emb(KerasTensor((None, 20), "int32"))))
    assert out.shape == (None, 1)
    assert emb.count_params() == 80_000
    assert dense.count_params() == 161
    assert emb.count_params() + flat.count_params() + dense.count_params() == 80_161


def test_repeat_vector(rng):
    layer = RepeatVector(3, dtype="float64")
    x = rng.standard_normal((2, 4))
    y = layer(x)
    assert y.shape == (2, 3, 4)
    np.testing.assert_array_equal(y[:, 1], x)
    assert check_layer(layer, x).max_error < 1e-7
    assert layer.compute_output_shape((None, 4)) == (None, 3, 4)
    with pytest.raises(ValueError, match=r"expected a 2-D array .*got shape \(2, 3, 4\)"):
        layer(rng.standard_normal((2, 3, 4)))
    with pytest.raises(ValueError, match="n must be a positive integer"):
        RepeatVector(0)


def test_reshape(rng):
    layer = Reshape((-1, 2), dtype="float64")
    x = rng.standard_normal((2, 3, 4))
    assert layer(x).shape == (2, 6, 2)
    assert check_layer(layer, x).max_error < 1e-7
    assert layer.compute_output_shape((None, 3, 4)) == (None, 6, 2)
    assert Reshape((4, 3)).compute_output_shape((None, 12)) == (None, 4, 3)
    with pytest.raises(ValueError, match="expected 10 values per sample, got 12"):
        Reshape((5, 2))(rng.standard_normal((2, 3, 4)))
    with pytest.raises(ValueError, match="at most one -1"):
        Reshape((-1, -1))


# -- configs and dtypes ----------------------------------------------------------------------------
LAYERS = [
    lambda: Dense(3, activation="softmax", use_bias=False, kernel_initializer="orthogonal"),
    lambda: Dense(3, kernel_initializer=RandomNormal(0.0, 0.2)),
    lambda: Activation("tanh"),
    lambda: Dropout(0.25, noise_shape=(None, 1, 4), seed=5),
    lambda: Flatten(),
    lambda: RepeatVector(2),
    lambda: Reshape((4, 3)),
]


@pytest.mark.parametrize("make", LAYERS)
def test_config_roundtrip(make):
    layer = make()
    clone = roundtrip(layer)
    x = np.random.default_rng(1).standard_normal((2, 3, 4)).astype("float32")
    if isinstance(layer, RepeatVector):
        x = x[:, 0]
    layer(x)
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(x), layer(x))


@pytest.mark.parametrize("make", LAYERS)
def test_float32_stays_float32(make):
    layer = make()
    x = np.random.default_rng(2).standard_normal((2, 3, 4))  # float64 data
    if isinstance(layer, RepeatVector):
        x = x[:, 0]
    x = layer.validate_inputs(x)
    layer.maybe_build(x.shape)
    y, cache = layer.forward(x, training=True)
    assert y.dtype == np.float32
    dx = layer.backward(np.ones(y.shape, dtype=np.float64), cache)
    assert dx.dtype == np.float32
    assert all(g.dtype == np.float32 for g in layer.grads.values())
    assert all(p.dtype == np.float32 for p in layer.params.values())
