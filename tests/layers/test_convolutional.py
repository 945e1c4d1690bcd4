"""Conv1D: gradients, equality with Keras 3 (outputs and autograd gradients from copied weights)
and with torch.nn.Conv1d (state_dict), shapes, masks, configs, errors and dtypes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnnlab._registry import deserialize, serialize
from rnnlab.gradcheck import check_layer
from rnnlab.layers import Conv1D, Input
from rnnlab.layers.convolutional import same_padding
from rnnlab.symbolic import KerasTensor

CASES = [
    # filters, kernel, strides, padding, dilation, groups, activation, use_bias
    (3, 3, 1, "valid", 1, 1, None, True),
    (2, 3, 2, "valid", 1, 1, "tanh", True),
    (4, 2, 1, "same", 1, 1, "relu", False),
    (3, 4, 3, "same", 1, 1, "sigmoid", True),
    (2, 3, 1, "same", 2, 1, None, True),
    (3, 2, 1, "causal", 3, 1, "tanh", True),
    (2, 3, 2, "causal", 1, 1, None, True),
    (4, 3, 1, "valid", 1, 2, "tanh", True),
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv1d_gradcheck(rng, case, data_format):
    filters, k, s, padding, d, groups, act, bias = case
    layer = Conv1D(filters, k, strides=s, padding=padding, dilation_rate=d, groups=groups,
                   activation=act, use_bias=bias, data_format=data_format, dtype="float64")
    x = rng.standard_normal((2, 7, 4))
    if data_format == "channels_first":
        x = np.swapaxes(x, 1, 2).copy()
    report = check_layer(layer, x, seed=1)
    assert report.max_error < 1e-7, report
    assert set(report.errors) == {"weight", "input0"} | ({"bias"} if bias else set())


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("steps", [7, 8])
def test_conv1d_matches_keras(rng, keras_oracle, case, steps):
    filters, k, s, padding, d, groups, act, bias = case
    kw = dict(strides=s, padding=padding, dilation_rate=d, groups=groups, activation=act,
              use_bias=bias)
    theirs = keras_oracle.keras.layers.Conv1D(filters, k, dtype="float64", **kw)
    ours = Conv1D(filters, k, dtype="float64", **kw)
    x = rng.standard_normal((3, steps, 4))
    theirs.build(x.shape)
    ours(x)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    weights = [rng.standard_normal(w.shape) for w in ours.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    y, cache = ours.forward(x)
    g = rng.standard_normal(y.shape)
    (ky,), (kdx,), kdw = keras_oracle.run(theirs, x, g)
    np.testing.assert_allclose(y, ky, rtol=1e-12, atol=1e-12)
    assert ours.compute_output_shape((None, steps, 4)) == theirs.compute_output_shape(
        (None, steps, 4))
    ours.zero_grad()
    dx = ours.backward(g, cache)
    np.testing.assert_allclose(dx, kdx, rtol=1e-10, atol=1e-12)
    kernel_grad = ours.grads["weight"].transpose(2, 1, 0)
    np.testing.assert_allclose(kernel_grad, kdw[0], rtol=1e-10, atol=1e-12)
    if bias:
        np.testing.assert_allclose(ours.grads["bias"], kdw[1], rtol=1e-10, atol=1e-12)


def test_conv1d_channels_first_matches_keras(rng, keras_oracle):
    theirs = keras_oracle.keras.layers.Conv1D(3, 3, padding="same", data_format="channels_first",
                                              dtype="float64")
    ours = Conv1D(3, 3, padding="same", data_format="channels_first", dtype="float64")
    x = rng.standard_normal((2, 4, 6))
    theirs.build(x.shape)
    ours(x)
    ours.set_weights(theirs.get_weights())
    (ky,), _, _ = keras_oracle.run(theirs, x)
    np.testing.assert_allclose(ours(x), ky, rtol=1e-12, atol=1e-12)
    assert ours.compute_output_shape((None, 4, 6)) == (None, 3, 6)


@pytest.mark.oracle
def test_conv1d_state_dict_is_torch_conv1d(rng):
    torch = pytest.importorskip("torch")
    conv = torch.nn.Conv1d(4, 6, 3, stride=2, dilation=1, groups=2, padding=0).double()
    layer = Conv1D(6, 3, strides=2, groups=2, dtype="float64")
    x = rng.standard_normal((2, 9, 4))
    layer(x)
    layer.load_state_dict({k: v.detach().numpy() for k, v in conv.state_dict().items()})
    expected = conv(torch.tensor(np.swapaxes(x, 1, 2))).detach().numpy()
    np.testing.assert_allclose(layer(x), np.swapaxes(expected, 1, 2), atol=1e-12)


def test_conv1d_causal_does_not_see_the_future(rng):
    layer = Conv1D(2, 3, padding="causal", dilation_rate=2, dtype="float64")
    x = rng.standard_normal((1, 9, 3))
    y = layer(x)
    x2 = x.copy()
    x2[:, 5:] += 1.0
    y2 = layer(x2)
    np.testing.assert_array_equal(y[:, :5], y2[:, :5])
    assert not np.allclose(y[:, 5:], y2[:, 5:])


def test_same_padding_rule():
    assert same_padding(7, 3, 1) == (1, 1)
    assert same_padding(7, 4, 1) == (1, 2)    # odd element on the right
    assert same_padding(8, 4, 3) == (1, 1)
    assert same_padding(7, 2, 2) == (0, 1)
    assert same_padding(6, 3, 1, 2) == (2, 2)


def test_conv1d_config_roundtrip_and_symbolic(rng):
    layer = Conv1D(5, 3, strides=2, padding="same", activation="relu", use_bias=False,
                   kernel_initializer="he_uniform", dtype="float64")
    cfg = layer.get_config()
    clone = type(layer).from_config(json.loads(json.dumps(cfg)))
    assert clone.get_config() == cfg
    rebuilt = deserialize(json.loads(json.dumps(serialize(layer))))
    assert isinstance(rebuilt, Conv1D) and rebuilt.get_config() == cfg
    t = layer(Input((9, 4)))
    assert t.shape == (None, 5, 5) and not t.has_mask
    assert Conv1D(2, 3)(KerasTensor((None, None, 4), "float32")).shape == (None, None, 2)
    assert layer.compute_mask(None, np.ones((2, 9), bool)) is None


def test_conv1d_dtypes(rng):
    x = rng.standard_normal((2, 6, 3))
    assert Conv1D(2, 3)(x).dtype == np.float32
    layer = Conv1D(2, 3, dtype="float64")
    y, cache = layer.forward(x)
    assert y.dtype == np.float64
    assert layer.backward(np.ones_like(y), cache).dtype == np.float64
    l32 = Conv1D(2, 3, padding="same")
    y32, c32 = l32.forward(x.astype("float32"))
    assert l32.backward(np.ones_like(y32), c32).dtype == np.float32
    assert l32.grads["weight"].dtype == np.float32


def test_conv1d_errors(rng):
    with pytest.raises(ValueError, match="padding must be 'valid', 'same' or 'causal'"):
        Conv1D(2, 3, padding="full")
    with pytest.raises(ValueError, match="strides > 1 is not compatible with dilation_rate"):
        Conv1D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="kernel_size must be a positive integer"):
        Conv1D(2, 0)
    with pytest.raises(ValueError, match=r"filters \(3\) must be divisible by groups \(2\)"):
        Conv1D(3, 2, groups=2)
    with pytest.raises(ValueError, match=r"3-D (array|input) \(batch, steps, channels\)"):
        Conv1D(2, 3)(rng.standard_normal((2, 5)))
    layer = Conv1D(2, 3)
    layer(rng.standard_normal((2, 5, 3)))
    with pytest.raises(ValueError, match=r"expects 3 channels .* got shape \(2, 5, 4\)"):
        layer(rng.standard_normal((2, 5, 4)))
    with pytest.raises(ValueError, match="fewer than the kernel's span 3"):
        layer(rng.standard_normal((2, 2, 3)))
    with pytest.raises(ValueError, match=r"weight 0 expected shape \(3, 3, 2\)"):
        layer.set_weights([np.zeros((2, 3, 3)), np.zeros(2)])
    with pytest.raises(ValueError, match=r"channels must be divisible by groups \(2\)"):
        Conv1D(2, 3, groups=2)(rng.standard_normal((2, 5, 3)))


def test_conv1d_regularizer_penalty_matches_keras(rng, keras_oracle):
    import rnnlab

    keras = keras_oracle.keras
    x = rng.standard_normal((2, 6, 3))
    theirs = keras.layers.Conv1D(2, 3, kernel_regularizer=keras.regularizers.L1L2(0.1, 0.2),
                                 bias_regularizer=keras.regularizers.L2(0.3), dtype="float64")
    theirs.build(x.shape)
    theirs.set_weights([rng.standard_normal((3, 3, 2)), rng.standard_normal(2)])
    ours = Conv1D(2, 3, kernel_regularizer=rnnlab.regularizers.L1L2(0.1, 0.2),
                  bias_regularizer=rnnlab.regularizers.L2(0.3), dtype="float64")
    model = rnnlab.Sequential([Input((6, 3)), ours])
    ours.set_weights(theirs.get_weights())
    keras_oracle.run(theirs, x)
    expected = sum(float(loss.detach()) for loss in theirs.losses)
    assert np.isclose(sum(model.losses), expected, rtol=1e-12)
    assert "kernel_regularizer" in ours.get_config()
