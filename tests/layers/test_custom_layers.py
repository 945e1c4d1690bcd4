"""Keras-style custom layers and Lambda, with gradients from the rnnlab.ops tape."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab import ops
from rnnlab.gradcheck import check_layer
from rnnlab.layers import Dense, Input, Lambda, Layer
from rnnlab.models import Sequential


class Linear(Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer="random_normal", name="kernel")
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal", name="bias")

    def call(self, inputs, training=None):
        return ops.tanh(ops.matmul(inputs, self.w) + self.b)


class ActivityPenalty(Layer):
    def call(self, inputs):
        self.add_loss(0.01 * ops.sum(ops.square(inputs)))
        return inputs * 1.0


def test_custom_layer_equals_dense_and_passes_gradcheck():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 4))
    layer = Linear(3, dtype="float64")
    dense = Dense(3, activation="tanh", dtype="float64")
    y = layer(x)
    dense(x)
    dense.set_weights(layer.get_weights())
    np.testing.assert_allclose(y, dense(x), rtol=1e-13, atol=1e-14)
    assert [w.shape for w in layer.get_weights()] == [(4, 3), (3,)]
    report = check_layer(layer, x)
    assert report.max_error < 1e-7, report
    g = rng.standard_normal((5, 3))
    _, c1 = layer.forward(x)
    _, c2 = dense.forward(x)
    layer.zero_grad()
    dense.zero_grad()
    np.testing.assert_allclose(layer.backward(g, c1), dense.backward(g, c2), atol=1e-13)
    for (_, a), (_, b) in zip(layer.named_grads(), dense.named_grads()):
        np.testing.assert_allclose(a, b if b.shape == a.shape else b.T, atol=1e-13)


def test_custom_layer_trains_in_sequential_and_infers_shapes():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 4))
    y = np.tanh(x @ rng.standard_normal((4, 1)))
    lam = Lambda(lambda t: ops.stack([t, -t], axis=1))
    model = Sequential([Input((4,)), Linear(8), lam, Dense(1)])
    assert lam.compute_output_shape((None, 8)) == (None, 2, 8)
    assert model.predict(x, verbose=0).shape == (64, 2, 1)
    y = np.stack([y, -y], axis=1)
    model.compile(optimizer="adam", loss="mse")
    hist = model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]


def test_add_loss_gradient_flows_through_the_tape():
    x = np.random.default_rng(2).standard_normal((3, 2))
    layer = ActivityPenalty(dtype="float64")
    out, cache = layer.forward(x)
    assert layer.__dict__["_added_loss"] == 0.01 * np.sum(x * x)
    d_in = layer.backward(np.zeros_like(out), cache)
    np.testing.assert_allclose(d_in, 0.02 * x, rtol=1e-14)


def test_lambda_output_shape_inferred_and_gradcheck():
    lam = Lambda(lambda t: ops.concatenate([t[:, :1], ops.exp(t)], axis=-1), dtype="float64")
    assert lam.compute_output_shape((None, 3)) == (None, 4)
    x = np.random.default_rng(3).standard_normal((2, 3))
    report = check_layer(lam, x)
    assert report.max_error < 1e-7, report


def test_get_config_round_trip():
    layer = Linear(units=7, name="lin")
    config = layer.get_config()
    assert config["units"] == 7 and config["name"] == "lin"
    clone = Linear.from_config(config)
    assert clone.units == 7


def test_lambda_code_is_never_serialized():
    with pytest.raises(TypeError, match="never writes"):
        Lambda(lambda t: t * 2.0).get_config()


def test_model_with_registered_custom_layer_saves_and_loads(tmp_path):
    from rnnlab.saving import load_model, register_keras_serializable, save_model

    @register_keras_serializable()
    class Scale(Layer):
        def __init__(self, units=2, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")

        def call(self, inputs):
            return ops.matmul(inputs, self.w)

    model = Sequential([Input((3,)), Scale(2), Dense(1)])
    x = np.random.default_rng(4).standard_normal((4, 3))
    path = tmp_path / "m.keras"
    save_model(model, path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
