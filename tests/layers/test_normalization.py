"""BatchNormalization and LayerNormalization: gradients, Keras statistics and parameter counts,
PyTorch oracle (with the momentum conversion), configs, errors and dtypes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnnlab._registry import deserialize, serialize
from rnnlab.gradcheck import check_layer
from rnnlab.layers.normalization import BatchNormalization, LayerNormalization
from rnnlab.symbolic import KerasTensor

# The gradient checks use seed=7: check_layer's projection G is drawn from default_rng(seed), and
# with seed 0 it would equal the first draw of the ``rng`` fixture (also seed 0), i.e. x itself,
# which lies in the span that normalisation projects out (a near-zero input gradient).


def randomize(layer, rng):
    """Non-trivial gamma/beta and moving statistics (built layer)."""
    for v in layer.params.values():
        v[...] = rng.standard_normal(v.shape)
    if "running_mean" in layer.buffers:
        layer.buffers["running_mean"][...] = rng.standard_normal(layer.param_shape)
        layer.buffers["running_var"][...] = rng.uniform(0.5, 2.0, layer.param_shape)


# -- BatchNormalization ----------------------------------------------------------------------------
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("center,scale", [(True, True), (False, True), (True, False)])
@pytest.mark.parametrize("shape", [(6, 4), (3, 5, 4)])
def test_batchnorm_gradcheck(rng, training, center, scale, shape):
    layer = BatchNormalization(center=center, scale=scale, dtype="float64")
    x = rng.standard_normal(shape) * 2 + 1
    layer(x)
    randomize(layer, rng)
    report = check_layer(layer, x, training=training, seed=7)
    assert report.max_error < 1e-7, report


def test_batchnorm_gradcheck_masked_and_axis1(rng):
    layer = BatchNormalization(dtype="float64")
    x = rng.standard_normal((3, 5, 4))
    mask = rng.random((3, 5)) > 0.3
    layer(x)
    randomize(layer, rng)
    report = check_layer(layer, x, training=True, mask=mask, seed=7)
    assert report.max_error < 1e-7, report
    layer = BatchNormalization(axis=1, dtype="float64")  # (N, C, L) like PyTorch's BatchNorm1d
    report = check_layer(layer, rng.standard_normal((3, 4, 5)), training=True, seed=7)
    assert report.max_error < 1e-7, report
    assert layer.params["weight"].shape == (4,)


def test_batchnorm_training_statistics_and_moving_update(rng):
    layer = BatchNormalization(momentum=0.9, epsilon=1e-3, dtype="float64")
    x = rng.standard_normal((8, 5, 3)) * 3 + 2
    y = layer(x, training=True)
    mean = x.mean(axis=(0, 1))
    var = x.var(axis=(0, 1))  # biased, as Keras
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), atol=1e-12)
    np.testing.assert_allclose(layer.buffers["running_mean"], 0.1 * mean, atol=1e-12)
    np.testing.assert_allclose(layer.buffers["running_var"], 0.9 + 0.1 * var, atol=1e-12)
    # inference uses the moving statistics and changes nothing
    before = layer.state_dict()
    y_inf = layer(x)
    rm, rv = before["running_mean"], before["running_var"]
    np.testing.assert_allclose(y_inf, (x - rm) / np.sqrt(rv + 1e-3), atol=1e-12)
    for k, v in layer.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_batchnorm_masked_statistics(rng):
    layer = BatchNormalization(momentum=0.0, dtype="float64")
    x = rng.standard_normal((2, 4, 3))
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 0]], dtype=bool)
    layer(x, training=True, mask=mask)
    np.testing.assert_allclose(layer.buffers["running_mean"], x[mask].mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(layer.buffers["running_var"], x[mask].var(axis=0), atol=1e-12)


def test_batchnorm_frozen_runs_in_inference_mode(rng):
    layer = BatchNormalization(trainable=False, dtype="float64")
    x = rng.standard_normal((6, 3))
    y = layer(x, training=True)
    np.testing.assert_allclose(y, x / np.sqrt(1 + 1e-3), atol=1e-12)
    np.testing.assert_array_equal(layer.buffers["running_mean"], 0)


def test_batchnorm_keras_weights_and_counts(rng):
    layer = BatchNormalization()
    layer(rng.standard_normal((2, 7)))
    assert layer.count_params() == 4 * 7
    assert sum(v.size for v in layer.params.values()) == 2 * 7  # trainable
    assert sum(v.size for v in layer.buffers.values()) == 2 * 7  # non-trainable
    assert sorted(layer.state_dict()) == ["bias", "running_mean", "running_var", "weight"]
    gamma, beta, mm, mv = layer.get_weights()
    np.testing.assert_array_equal(gamma, 1)
    np.testing.assert_array_equal(beta, 0)
    np.testing.assert_array_equal(mm, 0)
    np.testing.assert_array_equal(mv, 1)
    new = [rng.standard_normal(7) for _ in range(4)]
    layer.set_weights(new)
    np.testing.assert_allclose(layer.buffers["running_var"], new[3].astype("float32"))
    no_center = BatchNormalization(center=False)
    no_center(rng.standard_normal((2, 7)))
    assert len(no_center.get_weights()) == 3 and no_center.count_params() == 21


@pytest.mark.oracle
@pytest.mark.parametrize("shape", [(8, 3), (4, 6, 3)])
def test_batchnorm_matches_torch(rng, shape):
    torch = pytest.importorskip("torch")
    keras_momentum = 0.9
    bn = torch.nn.BatchNorm1d(3, eps=1e-3, momentum=1 - keras_momentum).double()
    layer = BatchNormalization(momentum=keras_momentum, dtype="float64")
    x = rng.standard_normal(shape) * 2 + 0.5
    layer(x)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(rng.standard_normal(3)))
        bn.bias.copy_(torch.tensor(rng.standard_normal(3)))
    layer.params["weight"][...] = bn.weight.detach().numpy()
    layer.params["bias"][...] = bn.bias.detach().numpy()
    g = rng.standard_normal(shape)

    def to_torch(a):  # PyTorch wants (N, C) or (N, C, L)
        return torch.tensor(a if a.ndim == 2 else np.swapaxes(a, 1, 2))

    def from_torch(t):
        a = t.detach().numpy()
        return a if a.ndim == 2 else np.swapaxes(a, 1, 2)

    xt = to_torch(x).requires_grad_(True)
    bn.train()
    yt = bn(xt)
    yt.backward(to_torch(g))
    layer.zero_grad()
    y, cache = layer.forward(x, training=True)
    dx = layer.backward(g, cache)
    np.testing.assert_allclose(y, from_torch(yt), atol=1e-10)
    np.testing.assert_allclose(dx, from_torch(xt.grad), atol=1e-10)
    np.testing.assert_allclose(layer.grads["weight"], bn.weight.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(layer.grads["bias"], bn.bias.grad.numpy(), atol=1e-10)
    # moving statistics: same momentum after conversion; PyTorch uses the unbiased variance
    n = x.size // 3
    np.testing.assert_allclose(layer.buffers["running_mean"], bn.running_mean.numpy(),
                               atol=1e-12)
    batch_var_unbiased = (bn.running_var.numpy() - keras_momentum) / (1 - keras_momentum)
    expected_rv = keras_momentum + (1 - keras_momentum) * batch_var_unbiased * (n - 1) / n
    np.testing.assert_allclose(layer.buffers["running_var"], expected_rv, atol=1e-12)
    # inference with the same moving statistics
    layer.buffers["running_var"][...] = bn.running_var.numpy()
    bn.eval()
    np.testing.assert_allclose(layer(x), from_torch(bn(to_torch(x))), atol=1e-10)


def test_batchnorm_errors(rng):
    layer = BatchNormalization()
    layer(rng.standard_normal((2, 3, 4)))
    with pytest.raises(ValueError, match=r"expects size\(s\) \(4,\) on axis \[-1\], got shape "
                                         r"\(2, 3, 5\)"):
        layer(rng.standard_normal((2, 3, 5)))
    with pytest.raises(ValueError, match=r"expected a 3-D input, got shape \(2, 4\) \(2-D\)"):
        layer(rng.standard_normal((2, 4)))
    with pytest.raises(ValueError, match="axis 3 is out of range for inputs of rank 2"):
        BatchNormalization(axis=3)(rng.standard_normal((2, 4)))
    with pytest.raises(ValueError, match=r"mask must have shape \(2, 3\)"):
        layer(rng.standard_normal((2, 3, 4)), training=True, mask=np.ones((2, 4), dtype=bool))
    with pytest.raises(ValueError, match="need known sizes"):
        BatchNormalization()(KerasTensor((None, None), "float32"))


# -- LayerNormalization ----------------------------------------------------------------------------
@pytest.mark.parametrize("center,scale", [(True, True), (False, False)])
@pytest.mark.parametrize("axis,shape", [(-1, (3, 5)), (-1, (2, 3, 5)), ([1, 2], (2, 3, 5))])
def test_layernorm_gradcheck(rng, center, scale, axis, shape):
    layer = LayerNormalization(axis=axis, center=center, scale=scale, dtype="float64")
    x = rng.standard_normal(shape) * 2 + 1
    layer(x)
    randomize(layer, rng)
    report = check_layer(layer, x, seed=7)
    assert report.max_error < 1e-7, report


def test_layernorm_values_and_counts(rng):
    layer = LayerNormalization(dtype="float64")
    x = rng.standard_normal((2, 3, 6)) * 4 - 1
    y = layer(x)
    expected = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-3)
    np.testing.assert_allclose(y, expected, atol=1e-12)
    assert layer.count_params() == 12
    assert [w.shape for w in layer.get_weights()] == [(6,), (6,)]
    assert layer.compute_mask(x, np.ones((2, 3), dtype=bool)) is not None
    multi = LayerNormalization(axis=[1, 2])
    multi(rng.standard_normal((2, 3, 6)))
    assert multi.params["weight"].shape == (3, 6)


@pytest.mark.oracle
def test_layernorm_matches_torch(rng):
    torch = pytest.importorskip("torch")
    ln = torch.nn.LayerNorm(5, eps=1e-3).double()
    with torch.no_grad():
        ln.weight.copy_(torch.tensor(rng.standard_normal(5)))
        ln.bias.copy_(torch.tensor(rng.standard_normal(5)))
    layer = LayerNormalization(dtype="float64")
    layer(np.zeros((1, 5)))
    layer.load_state_dict({k: v.detach().numpy() for k, v in ln.state_dict().items()})
    x = rng.standard_normal((3, 4, 5))
    g = rng.standard_normal((3, 4, 5))
    xt = torch.tensor(x, requires_grad=True)
    yt = ln(xt)
    yt.backward(torch.tensor(g))
    y, cache = layer.forward(x)
    dx = layer.backward(g, cache)
    np.testing.assert_allclose(y, yt.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(layer.grads["weight"], ln.weight.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(layer.grads["bias"], ln.bias.grad.numpy(), atol=1e-10)


def test_layernorm_errors(rng):
    layer = LayerNormalization()
    layer(rng.standard_normal((2, 4)))
    with pytest.raises(ValueError, match=r"expects size\(s\) \(4,\) on axis \[-1\], got shape "
                                         r"\(2, 3\)"):
        layer(rng.standard_normal((2, 3)))
    with pytest.raises(TypeError, match="axis must be an integer or a list of integers"):
        LayerNormalization(axis="last")


# -- configs and dtypes ----------------------------------------------------------------------------
LAYERS = [
    lambda: BatchNormalization(momentum=0.9, epsilon=1e-4, center=False,
                               gamma_initializer="random_normal"),
    lambda: BatchNormalization(axis=1),
    lambda: LayerNormalization(axis=[1, 2], epsilon=1e-5, scale=False),
    lambda: LayerNormalization(),
]


@pytest.mark.parametrize("make", LAYERS)
def test_config_roundtrip(make, rng):
    layer = make()
    cfg = layer.get_config()
    clone = type(layer).from_config(json.loads(json.dumps(cfg)))
    assert clone.get_config() == cfg
    assert deserialize(serialize(layer)).get_config() == cfg
    x = rng.standard_normal((2, 3, 4)).astype("float32")
    layer(x)
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(x), layer(x))


@pytest.mark.parametrize("make", LAYERS)
@pytest.mark.parametrize("training", [True, False])
def test_float32_stays_float32(make, training, rng):
    layer = make()
    x = layer.validate_inputs(rng.standard_normal((2, 3, 4)))
    layer.maybe_build(x.shape)
    mask = np.array([[1, 1, 0], [1, 0, 0]], dtype=bool)  # used by BatchNormalization in training
    y, cache = layer.forward(x, training=training, mask=mask)
    assert y.dtype == np.float32
    assert layer.backward(np.ones(y.shape), cache).dtype == np.float32
    arrays = list(layer.grads.values()) + list(layer.params.values()) + list(
        layer.buffers.values())
    assert all(a.dtype == np.float32 for a in arrays)
