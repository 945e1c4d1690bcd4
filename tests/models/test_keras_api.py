"""The Keras API pieces that need no Keras to check: regularization gradients (float64 central
differences), constraints in Keras's layout, initializer seeds and callables, reset_state,
implementation/use_cudnn in the config, and ``rnnlab.preprocessing`` loaded by ``import rnnlab``."""

import numpy as np
import pytest

import rnnlab
from rnnlab import constraints, initializers, layers, regularizers
from rnnlab.gradcheck import numerical_gradient, relative_error


def _model():
    R = regularizers
    return rnnlab.Sequential([
        rnnlab.Input((4, 3), dtype="float64"),
        layers.LSTM(3, return_sequences=True, dtype="float64",
                    kernel_regularizer=R.L1L2(0.01, 0.02), recurrent_regularizer=R.L2(0.05),
                    bias_regularizer=R.L1(0.03), activity_regularizer=R.L2(0.1),
                    bias_initializer="glorot_uniform"),
        layers.Bidirectional(layers.GRU(2, dtype="float64", kernel_regularizer=R.L2(0.3),
                                        recurrent_regularizer=R.L1(0.1)), dtype="float64"),
        layers.Dense(2, dtype="float64", kernel_regularizer=R.L1(0.02),
                     bias_regularizer=R.L2(0.1), activity_regularizer=R.L1L2(0.05, 0.05),
                     bias_initializer="ones"),
    ])


def test_regularized_loss_gradient_matches_central_differences():
    model = _model()
    model.compile("sgd", "mse")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 4, 3)), rng.normal(size=(5, 2))

    def loss():
        outs, masks, _ = model.forward([x], training=False)
        total, _, _ = model._losses_and_grads([y], outs, masks, None)
        return total + model._penalty()

    outs, masks, cache = model.forward([x], training=False)
    _, _, grads = model._losses_and_grads([y], outs, masks, None)
    model.zero_grad()
    model.backward(grads, cache, input_grads=False)
    for layer in rnnlab.regularization.with_sublayers(model.layers):
        rnnlab.regularization.add_penalty_grads(layer)
    analytic = {k: v.copy() for k, v in model.named_grads()}
    assert model._penalty() > 0.05  # the penalties are a real part of this loss
    for name, param in model.named_params():
        numeric = numerical_gradient(loss, param, eps=1e-6)
        assert relative_error(analytic[name], numeric) < 1e-6, name


def test_penalties_in_losses_and_in_the_reported_loss():
    model = _model()
    model.compile("sgd", "mse")
    x, y = np.ones((2, 4, 3)), np.zeros((2, 2))
    plain = rnnlab.Sequential.from_config(model.get_config())
    for layer in rnnlab.regularization.with_sublayers(plain.layers):
        rnnlab.regularization.setup(layer, {})
    plain.set_weights(model.get_weights())
    plain.compile("sgd", "mse")
    with_penalty = model.evaluate(x, y, verbose=0)
    without = plain.evaluate(x, y, verbose=0)
    assert with_penalty == pytest.approx(without + sum(model.losses), rel=1e-9)
    assert len(model.losses) == 3 + 2 + 2 + 2 + 2  # weight terms, then activity terms
    assert plain.losses == []


def test_constraints_act_in_keras_layout():
    layer = layers.LSTM(4, kernel_constraint=constraints.MaxNorm(0.5),
                        recurrent_constraint=constraints.UnitNorm(axis=1),
                        bias_constraint=constraints.NonNeg(), bias_initializer="glorot_uniform")
    model = rnnlab.Sequential([rnnlab.Input((3, 2)), layer])
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 3, 2), "f4"), np.ones((4, 4), "f4"), verbose=0)
    kernel, recurrent, bias = layer.get_weights()
    assert np.all(np.linalg.norm(kernel, axis=0) <= 0.5 + 1e-6)
    np.testing.assert_allclose(np.linalg.norm(recurrent, axis=1), 1.0, rtol=1e-5)
    assert np.all(bias >= 0)


def test_regularizer_arguments_are_validated():
    with pytest.raises(ValueError, match="Unknown regularizer"):
        layers.Dense(2, kernel_regularizer="l3")
    with pytest.raises(ValueError, match="l2 must be"):
        regularizers.L2(-1)
    with pytest.raises(TypeError, match="recurrent_regularizer"):
        layers.Dense(2, recurrent_regularizer="l2")
    assert isinstance(layers.Dense(2, kernel_regularizer="l2").regularizers["kernel"],
                      regularizers.L2)


def test_initializer_seed_and_callables():
    a = initializers.GlorotUniform(seed=3)((4, 5), np.random.default_rng(0), "float32")
    b = initializers.GlorotUniform(seed=3)((4, 5), np.random.default_rng(1), "float32")
    c = initializers.GlorotUniform()((4, 5), np.random.default_rng(1), "float32")
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert initializers.RandomNormal(seed=2).get_config()["seed"] == 2
    dense = layers.Dense(3, kernel_initializer=lambda shape, dtype=None: np.full(shape, 0.25))
    dense.build((None, 2))
    np.testing.assert_array_equal(dense.get_weights()[0], np.full((2, 3), 0.25))
    with pytest.raises(ValueError, match="returned shape"):
        layers.Dense(3, kernel_initializer=lambda shape, dtype=None: np.ones(2)).build((None, 2))


def test_reset_state_and_keras_only_arguments():
    layer = layers.LSTM(2, stateful=True, implementation=2, use_cudnn=False)
    assert layer.get_config()["implementation"] == 2
    assert layer.get_config()["use_cudnn"] is False
    copy = layers.LSTM.from_config(layer.get_config())
    assert copy.get_config()["implementation"] == 2
    layer(np.ones((1, 3, 2), "f4"))
    assert layer.states is not None
    layer.reset_state()
    assert layer.states is None
    with pytest.raises(TypeError, match="implementation"):
        layers.Dense(2, implementation=2)


def test_import_rnnlab_loads_preprocessing():
    padded = rnnlab.preprocessing.sequence.pad_sequences([[1, 2], [3]], maxlen=3)
    np.testing.assert_array_equal(padded, [[0, 1, 2], [0, 0, 3]])
