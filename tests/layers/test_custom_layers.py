"""Keras-style custom layers and Lambda, with gradients from the rnnlab.ops tape."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab import constraints, ops, regularizers
from rnnlab.gradcheck import check_layer
from rnnlab.layers import RNN, Dense, Input, Lambda, Layer
from rnnlab.models import Sequential
from rnnlab.optimizers import SGD


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


def test_lambda_code_is_stored_as_keras_does_and_refused_in_safe_mode():
    config = Lambda(lambda t: t * 2.0).get_config()
    assert config["function"]["class_name"] == "__lambda__"
    assert set(config["function"]["config"]) == {"code", "defaults", "closure"}
    with pytest.raises(ValueError, match="safe_mode=False"):
        Lambda.from_config(config)


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


def _penalised(base, kops, regs, cons):
    """A layer whose weights carry a regularizer and a constraint, for rnnlab or Keras."""
    class Penalised(base):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 3), name="kernel",
                                     regularizer=regs.L2(0.1), constraint=cons.MaxNorm(0.5))
            self.b = self.add_weight(shape=(3,), name="bias", initializer="zeros",
                                     regularizer=regs.L1(0.05), constraint=cons.NonNeg())

        def call(self, inputs):
            return kops.tanh(kops.matmul(inputs, self.w) + self.b)
    return Penalised


def test_add_weight_regularizer_and_constraint_train_as_keras(keras_oracle):
    keras = keras_oracle.keras
    rng = np.random.default_rng(5)
    ours = Sequential([Input((4,)), _penalised(Layer, ops, regularizers, constraints)(),
                       Dense(1)])
    theirs = keras.Sequential([
        keras.Input((4,)), _penalised(keras.layers.Layer, keras.ops, keras.regularizers,
                                      keras.constraints)(), keras.layers.Dense(1)])
    weights = [rng.standard_normal(w.shape).astype("float32") * 0.5
               for w in ours.get_weights()]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    penalty = 0.1 * np.sum(weights[0] ** 2) + 0.05 * np.sum(np.abs(weights[1]))
    assert sum(ours.losses) == pytest.approx(penalty, rel=1e-6)
    assert sum(float(keras.ops.convert_to_numpy(v)) for v in theirs.losses) == pytest.approx(
        penalty, rel=1e-6)
    x = rng.standard_normal((8, 4)).astype("float32")
    y = rng.standard_normal((8, 1)).astype("float32")
    ours.compile(optimizer=SGD(learning_rate=0.5), loss="mse")
    theirs.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5), loss="mse")
    for _ in range(2):
        a = ours.train_on_batch(x, y, return_dict=True)["loss"]
        b = theirs.train_on_batch(x, y, return_dict=True)["loss"]
        assert a == pytest.approx(float(b), rel=1e-5)
    after = ours.get_weights()
    for mine, keras_w in zip(after, theirs.get_weights(), strict=True):
        np.testing.assert_allclose(mine, keras_w, rtol=0, atol=1e-6)
    assert np.all(after[1] >= 0) and np.all(np.linalg.norm(after[0], axis=0) <= 0.5 + 1e-6)


def test_add_weight_rules_of_a_custom_cell_count_in_the_rnn():
    class PenalisedCell(Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.state_size = 2

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], 2), name="kernel",
                                          regularizer=regularizers.L2(0.5),
                                          constraint=constraints.NonNeg())

        def call(self, inputs, states):
            h = ops.tanh(ops.matmul(inputs, self.kernel) + states[0])
            return h, [h]

    model = Sequential([Input((4, 3)), RNN(PenalisedCell()), Dense(1)])
    kernel = model.layers[0].cell.params["kernel"]
    assert model.losses == pytest.approx([0.5 * np.sum(kernel ** 2)])
    model.compile(optimizer=SGD(learning_rate=0.5), loss="mse")
    rng = np.random.default_rng(6)
    model.train_on_batch(rng.standard_normal((8, 4, 3)), rng.standard_normal((8, 1)))
    assert np.all(kernel >= 0) and np.any(kernel == 0)
