"""Embedding and Masking: weight gradients, id validation, masks, PyTorch oracle, configs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnnlab._registry import deserialize, serialize
from rnnlab.gradcheck import check_layer, numerical_gradient
from rnnlab.layers.embedding import Embedding, Masking
from rnnlab.symbolic import KerasTensor


# -- Embedding -------------------------------------------------------------------------------------
def test_embedding_gradcheck_weight_only(rng):
    layer = Embedding(7, 3, dtype="float64")
    ids = np.array([[1, 2, 2, 0], [6, 1, 1, 1]])  # repeated ids accumulate
    report = check_layer(layer, ids)
    assert report.max_error < 1e-7, report
    assert set(report.errors) == {"weight"}


def test_embedding_forward_backward(rng):
    layer = Embedding(5, 2, dtype="float64")
    ids = np.array([[0, 4, 4], [2, 0, 1]])
    y, cache = layer.forward(ids)
    assert y.shape == (2, 3, 2)
    np.testing.assert_array_equal(y, layer.params["weight"][ids])
    g = rng.standard_normal((2, 3, 2))
    assert layer.backward(g, cache) is None
    expected = np.zeros((5, 2))
    for (i, j), k in np.ndenumerate(ids):
        expected[k] += g[i, j]
    np.testing.assert_allclose(layer.grads["weight"], expected)
    assert layer.get_weights()[0].shape == (5, 2)
    assert layer.count_params() == 10


def test_embedding_default_initializer_is_keras_uniform():
    layer = Embedding(100, 20)
    layer(np.zeros((1, 1), dtype=int))
    w = layer.params["weight"]
    assert w.dtype == np.float32
    assert np.abs(w).max() <= 0.05 and np.abs(w).max() > 0.04


@pytest.mark.oracle
def test_embedding_matches_torch(rng):
    torch = pytest.importorskip("torch")
    emb = torch.nn.Embedding(9, 4).double()
    layer = Embedding(9, 4, dtype="float64")
    layer(np.zeros((1, 1), dtype=int))
    layer.load_state_dict({"weight": emb.weight.detach().numpy()})
    ids = rng.integers(0, 9, size=(3, 6))
    g = rng.standard_normal((3, 6, 4))
    yt = emb(torch.tensor(ids))
    yt.backward(torch.tensor(g))
    y, cache = layer.forward(ids)
    layer.backward(g, cache)
    np.testing.assert_allclose(y, yt.detach().numpy())
    np.testing.assert_allclose(layer.grads["weight"], emb.weight.grad.numpy(), atol=1e-12)


def test_embedding_id_validation():
    layer = Embedding(10, 3)
    with pytest.raises(ValueError, match=r"token id 10 at position \(0, 2\) is out of range; "
                                         r"expected ids in \[0, 10\)"):
        layer(np.array([[1, 2, 10]]))
    with pytest.raises(ValueError, match=r"token id -1 .*expected ids in \[0, 10\)"):
        layer(np.array([[-1, 2]]))
    with pytest.raises(ValueError, match=r"non-integer value 1.5 at position \(0, 1\)"):
        layer(np.array([[1.0, 1.5]]))
    with pytest.raises(ValueError, match="non-integer value nan"):
        layer(np.array([[1.0, np.nan]]))
    with pytest.raises(TypeError, match="expects integer token ids, got an array of dtype <U1"):
        layer(np.array([["a"]]))
    # integral floats are accepted (Keras casts them)
    np.testing.assert_array_equal(layer(np.array([[1.0, 2.0]])), layer(np.array([[1, 2]])))
    # forward validates too (engines may call it directly)
    with pytest.raises(ValueError, match="out of range"):
        layer.forward(np.array([[11]]))


def test_embedding_mask_zero():
    layer = Embedding(5, 2, mask_zero=True)
    ids = np.array([[3, 1, 0, 0], [2, 0, 0, 0]])
    np.testing.assert_array_equal(layer.compute_mask(ids, None), ids != 0)
    assert layer.supports_masking
    assert Embedding(5, 2).compute_mask(ids, None) is None
    out = layer(KerasTensor((None, 4), "int32"))
    assert out.has_mask and out.shape == (None, 4, 2)
    assert not Embedding(5, 2)(KerasTensor((None, 4), "int32")).has_mask


def test_embedding_input_length():
    layer = Embedding(10000, 8, input_length=20)
    assert layer.input_shape_arg == (20,)
    assert layer.compute_output_shape((None, None)) == (None, 20, 8)
    assert layer.compute_output_shape((None, 20)) == (None, 20, 8)
    with pytest.raises(ValueError, match=r"input_length is 20, expected ids of shape "
                                         r"\(batch, 20\), got shape \(2, 5\)"):
        layer(np.zeros((2, 5), dtype=int))
    assert Embedding(10, 2).compute_output_shape((None, 7)) == (None, 7, 2)


def test_embedding_initial_weights(rng):
    matrix = rng.standard_normal((6, 3))
    layer = Embedding(6, 3, weights=[matrix], trainable=False, dtype="float64")
    np.testing.assert_array_equal(layer(np.array([[5, 0]])), matrix[[[5, 0]]])
    assert "weights" not in layer.get_config() and layer.get_config()["trainable"] is False
    with pytest.raises(ValueError, match=r"initial weights must have shape \(6, 3\) "
                                         r"\(input_dim, output_dim\), got \(3, 6\)"):
        Embedding(6, 3, weights=[matrix.T])


def test_embedding_argument_errors():
    with pytest.raises(ValueError, match="input_dim must be a positive integer, got 0"):
        Embedding(0, 3)
    with pytest.raises(ValueError, match="output_dim must be a positive integer"):
        Embedding(3, -1)


def test_embedding_float32_and_config(rng):
    layer = Embedding(6, 3, mask_zero=True, input_length=4, embeddings_initializer="normal")
    y, cache = layer.forward(np.array([[1, 2, 3, 0]]))
    assert y.dtype == np.float32
    layer.backward(np.ones((1, 4, 3)), cache)
    assert layer.grads["weight"].dtype == np.float32
    cfg = layer.get_config()
    clone = Embedding.from_config(json.loads(json.dumps(cfg)))
    assert clone.get_config() == cfg
    assert deserialize(serialize(layer)).get_config() == cfg
    clone(np.array([[1, 2, 3, 0]]))
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(np.array([[1, 2, 3, 0]])), y)


# -- Masking ---------------------------------------------------------------------------------------
def masked_batch(rng, value=0.0):
    x = rng.standard_normal((2, 5, 3))
    x[0, 3:] = value
    x[1, 1] = value
    return x, np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]], dtype=bool)


def test_masking_forward_and_mask(rng):
    layer = Masking(dtype="float64")
    x, mask = masked_batch(rng)
    y = layer(x)
    np.testing.assert_array_equal(y, x * mask[..., None])
    np.testing.assert_array_equal(layer.compute_mask(x, None), mask)
    assert layer(KerasTensor((None, 5, 3), "float32")).has_mask


def test_masking_nonzero_value_zeroes_masked_steps(rng):
    layer = Masking(mask_value=-1.0, dtype="float64")
    x, mask = masked_batch(rng, value=-1.0)
    y = layer(x)
    np.testing.assert_array_equal(y[~mask], 0.0)
    np.testing.assert_array_equal(y[mask], x[mask])
    np.testing.assert_array_equal(layer.compute_mask(x, None), mask)


def test_masking_gradcheck_unmasked(rng):
    report = check_layer(Masking(mask_value=5.0, dtype="float64"), rng.standard_normal((2, 4, 3)))
    assert report.max_error < 1e-7, report


def test_masking_backward_is_grad_times_mask(rng):
    layer = Masking(dtype="float64")
    x, mask = masked_batch(rng)
    y, cache = layer.forward(x)
    g = rng.standard_normal(y.shape)
    dx = layer.backward(g, cache)
    np.testing.assert_array_equal(dx, g * mask[..., None])
    # numerically on the unmasked steps (masked steps sit on the mask's discontinuity)

    def loss():
        return float(np.sum(g * layer.forward(x)[0]))

    num = numerical_gradient(loss, x)
    np.testing.assert_allclose(dx[mask], num[mask], atol=1e-8)


def test_masking_float32_config_and_errors(rng):
    layer = Masking(mask_value=2.0)
    y, cache = layer.forward(layer.validate_inputs(rng.standard_normal((2, 3, 4))))
    assert y.dtype == np.float32
    assert layer.backward(np.ones((2, 3, 4)), cache).dtype == np.float32
    cfg = layer.get_config()
    assert Masking.from_config(json.loads(json.dumps(cfg))).get_config() == cfg
    with pytest.raises(ValueError, match=r"rank >= 2 .*got shape \(4,\) \(1-D\)"):
        layer(np.ones(4))
