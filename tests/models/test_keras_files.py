"""Keras 3 model files both ways, checked against real Keras (torch backend): files Keras
writes load in rnnlab and predict identically; files rnnlab writes load in Keras and predict
identically; weights files, legacy HDF5, compile configuration and optimizer state."""

from __future__ import annotations

import os

os.environ["KERAS_BACKEND"] = "torch"

import keras  # noqa: E402  (the oracle: a missing Keras is a failure, not a skip)
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import rnnlab  # noqa: E402
from rnnlab import keras_format  # noqa: E402
from rnnlab.models import load_model  # noqa: E402
from rnnlab.saving import ModelFileError  # noqa: E402

L = keras.layers
RNG = np.random.default_rng(0)
FLOATS = RNG.standard_normal((6, 5, 3)).astype("float32")
IDS = RNG.integers(1, 12, (6, 5))
IDS[:3, :2] = 0      # left padding
IDS[3:, 3:] = 0      # right padding


def _seq(*layers, ids=False):
    head = keras.Input((5,), dtype="int32") if ids else keras.Input((5, 3))
    return keras.Sequential([head, *layers])


def _functional():
    a, b = keras.Input((5, 3), name="a"), keras.Input((5, 3), name="b")
    shared = L.Dense(4, activation="tanh")
    seq, h, c = L.LSTM(4, return_sequences=True, return_state=True)(shared(a))
    out = L.GRU(4, reset_after=False)(shared(b), initial_state=[h])
    pooled = L.GlobalAveragePooling1D()(seq)
    return keras.Model([a, b], [L.Dense(2)(L.Concatenate()([pooled, out, c])),
                                L.Add()([h, c])])


ARCHITECTURES = {
    "gru_reset_after": lambda: _seq(L.GRU(4), L.Dense(2)),
    "gru_reset_before": lambda: _seq(L.GRU(4, reset_after=False), L.Dense(1)),
    "stacked_lstm_simple_rnn": lambda: _seq(L.LSTM(4, return_sequences=True),
                                            L.SimpleRNN(3, activation="relu"), L.Dense(1)),
    "bidirectional_sum": lambda: _seq(L.Bidirectional(L.LSTM(3), merge_mode="sum"),
                                      L.Dense(1)),
    "embedding_mask_zero": lambda: _seq(
        L.Embedding(12, 4, mask_zero=True),
        L.Bidirectional(L.GRU(3, return_sequences=True)), L.LSTM(2), L.Dense(1), ids=True),
    "norms_time_distributed": lambda: _seq(
        L.GRU(4, return_sequences=True), L.BatchNormalization(), L.LayerNormalization(),
        L.Dropout(0.3), L.TimeDistributed(L.Dense(2, activation="sigmoid"))),
    "rnn_stacked_cells": lambda: _seq(L.RNN([L.LSTMCell(3), L.GRUCell(2)]), L.Dense(1)),
    "functional": _functional,
}


def _inputs(model):
    if len(model.inputs) == 2:
        return [FLOATS, FLOATS[::-1].copy()]
    return IDS if "int" in str(model.inputs[0].dtype) else FLOATS


def _randomize(model):
    """Random weights everywhere (biases and BatchNormalization statistics included)."""
    rng = np.random.default_rng(1)
    weights = [rng.uniform(0.5, 1.5, w.shape) if "variance" in w.path else
               rng.normal(0, 0.5, w.shape) for w in model.weights]
    model.set_weights([w.astype("float32") for w in weights])


def _predict(model, x):
    out = model.predict(x, verbose=0)
    return [np.asarray(o) for o in out] if isinstance(out, list) else [np.asarray(out)]


def _assert_same(a, b, tol=2e-6):
    assert len(a) == len(b)
    for p, q in zip(a, b):
        assert p.shape == q.shape
        np.testing.assert_allclose(p, q, atol=tol, rtol=1e-5)


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_keras_files_both_ways(arch, tmp_path):
    km = ARCHITECTURES[arch]()
    _randomize(km)
    x = _inputs(km)
    expected = _predict(km, x)
    km.save(tmp_path / "k.keras")
    rm = load_model(tmp_path / "k.keras")
    _assert_same(_predict(rm, x), expected)
    # rnnlab writes a .keras archive Keras opens and that predicts the same
    rm.save(tmp_path / "r.keras")
    assert keras_format.detect(tmp_path / "r.keras") == "keras"
    _assert_same(_predict(keras.models.load_model(tmp_path / "r.keras"), x), expected)
    # .weights.h5 both ways: Keras's file into a fresh rnnlab model, and back
    km.save_weights(tmp_path / "k.weights.h5")
    fresh = load_model(tmp_path / "k.keras", compile=False)
    fresh.set_weights([np.zeros_like(w) for w in fresh.get_weights()])
    fresh.load_weights(tmp_path / "k.weights.h5")
    _assert_same(_predict(fresh, x), expected)
    fresh.save_weights(tmp_path / "r.weights.h5")
    other = ARCHITECTURES[arch]()
    other.load_weights(tmp_path / "r.weights.h5")
    _assert_same(_predict(other, x), expected)


@pytest.mark.parametrize("arch", ["embedding_mask_zero", "norms_time_distributed",
                                  "functional"])
def test_legacy_h5_both_ways(arch, tmp_path):
    km = ARCHITECTURES[arch]()
    _randomize(km)
    x = _inputs(km)
    expected = _predict(km, x)
    km.save(tmp_path / "k.h5")
    rm = load_model(tmp_path / "k.h5")
    _assert_same(_predict(rm, x), expected)
    rm.save(tmp_path / "r.hdf5")
    assert keras_format.detect(tmp_path / "r.hdf5") == "hdf5"
    _assert_same(_predict(keras.models.load_model(tmp_path / "r.hdf5"), x), expected)
    # a legacy full-model file also serves load_weights, as in Keras
    fresh = load_model(tmp_path / "k.keras" if False else tmp_path / "k.h5", compile=False)
    fresh.set_weights([np.zeros_like(w) for w in fresh.get_weights()])
    fresh.load_weights(tmp_path / "k.h5")
    _assert_same(_predict(fresh, x), expected)


def _max_diff(a, b):
    return max(float(np.abs(p - q).max()) for p, q in zip(a, b))


@pytest.mark.parametrize("optimizer", [
    lambda: keras.optimizers.Adam(0.01),
    lambda: keras.optimizers.Adam(0.01, amsgrad=True),
    lambda: keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    lambda: keras.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    lambda: keras.optimizers.Adagrad(0.05),
], ids=["adam", "amsgrad", "sgd_nesterov", "rmsprop_centered", "adagrad"])
def test_optimizer_state_continues_identically(optimizer, tmp_path):
    """Train in Keras, save, load in rnnlab: one more step equals Keras's next step; and back."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((8, 5, 3)).astype("float32")
    y = rng.standard_normal((8, 1)).astype("float32")
    km = _seq(L.GRU(4, return_sequences=True), L.LSTM(3), L.Dense(1))
    km.compile(optimizer(), "mse", metrics=["mae"])
    km.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    km.save(tmp_path / "k.keras")
    rm = load_model(tmp_path / "k.keras")
    assert type(rm.optimizer).__name__ == type(km.optimizer).__name__
    assert rm.optimizer.iterations == 2
    assert rm.evaluate(x, y, verbose=0, return_dict=True).keys() == {"loss", "mae"}
    blank = load_model(tmp_path / "k.keras")            # the same without the optimizer state
    blank.optimizer.load_state_dict({"iterations": np.array(2)})
    km.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    rm.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    blank.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    assert _max_diff(rm.get_weights(), km.get_weights()) < 1e-5
    assert _max_diff(blank.get_weights(), km.get_weights()) > 1e-4  # the state matters
    rm.save(tmp_path / "r.keras")
    back = keras.models.load_model(tmp_path / "r.keras")
    assert int(back.optimizer.iterations) == 3
    km.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    back.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    assert _max_diff(back.get_weights(), km.get_weights()) < 1e-5


def test_compile_config_round_trip(tmp_path):
    km = _seq(L.LSTM(3), L.Dense(4), ids=False)
    km.compile(keras.optimizers.Adam(0.003, beta_1=0.8, clipnorm=1.0),
               keras.losses.SparseCategoricalCrossentropy(from_logits=True),
               metrics=["accuracy"])
    y = np.arange(6) % 4
    km.save(tmp_path / "k.keras")
    rm = load_model(tmp_path / "k.keras")
    opt = rm.optimizer
    assert (type(opt).__name__, opt.learning_rate, opt.beta_1, opt.clipnorm) == (
        "Adam", pytest.approx(0.003), pytest.approx(0.8), 1.0)
    mine = rm.evaluate(FLOATS, y, verbose=0, return_dict=True)
    theirs = km.evaluate(FLOATS, y, verbose=0, return_dict=True)
    assert mine["loss"] == pytest.approx(theirs["loss"], rel=1e-5)
    assert mine["accuracy"] == pytest.approx(theirs["accuracy"])
    rm.save(tmp_path / "r.keras")
    back = keras.models.load_model(tmp_path / "r.keras")
    assert back.optimizer.get_config()["beta_1"] == pytest.approx(0.8)
    assert back.evaluate(FLOATS, y, verbose=0, return_dict=True)["loss"] == pytest.approx(
        theirs["loss"], rel=1e-5)


@pytest.mark.parametrize("layer, named", [
    (lambda: rnnlab.layers.LSTM(3, truncate_gradient=2), "truncate_gradient=2"),
    (lambda: rnnlab.layers.LSTM(3, recurrent_bias=True), "recurrent_bias=True"),
    (lambda: rnnlab.layers.GRU(3, recurrent_bias=False), "recurrent_bias=False"),
    (lambda: rnnlab.layers.Bidirectional(rnnlab.layers.SimpleRNN(3, truncate_gradient=4)),
     "truncate_gradient=4"),
])
def test_rnnlab_only_options_refused_for_keras(layer, named, tmp_path):
    model = rnnlab.Sequential([rnnlab.Input((5, 3)), layer(), rnnlab.layers.Dense(1)])
    for name in ("m.keras", "m.h5"):
        with pytest.raises(keras_format.UnsupportedByKeras, match=named) as info:
            model.save(tmp_path / name)
        assert ".rnnlab" in str(info.value)
        assert not (tmp_path / name).exists()
    model.save(tmp_path / "m.rnnlab")
    np.testing.assert_array_equal(load_model(tmp_path / "m.rnnlab").predict(FLOATS, verbose=0),
                                  model.predict(FLOATS, verbose=0))


def test_file_name_decides_format_and_content_decides_reading(tmp_path):
    model = rnnlab.Sequential([rnnlab.Input((5, 3)), rnnlab.layers.GRU(3),
                               rnnlab.layers.Dense(1)])
    expected = model.predict(FLOATS, verbose=0)
    model.save(tmp_path / "m.rnnlab")
    model.save(tmp_path / "m.keras")
    model.save_weights(tmp_path / "w.weights.h5")
    kinds = [keras_format.detect(tmp_path / n) for n in ("m.rnnlab", "m.keras", "w.weights.h5")]
    assert kinds == ["rnnlab", "keras", "hdf5"]
    # files written in rnnlab's format under Keras names (older rnnlab versions) still load
    for name in ("old.keras", "old.h5"):
        (tmp_path / name).write_bytes((tmp_path / "m.rnnlab").read_bytes())
        np.testing.assert_array_equal(load_model(tmp_path / name).predict(FLOATS, verbose=0),
                                      expected)
    with pytest.raises(ModelFileError, match="model_config"):
        load_model(tmp_path / "w.weights.h5")


def test_model_checkpoint_weights_h5(tmp_path):
    x = FLOATS
    y = np.ones((6, 1), "float32")
    model = rnnlab.Sequential([rnnlab.Input((5, 3)), rnnlab.layers.LSTM(3),
                               rnnlab.layers.Dense(1)])
    model.compile("adam", "mse")
    path = tmp_path / "ckpt-{epoch:02d}.weights.h5"
    model.fit(x, y, epochs=2, verbose=0, callbacks=[
        rnnlab.callbacks.ModelCheckpoint(str(path), save_weights_only=True)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt-01.weights.h5",
                                                          "ckpt-02.weights.h5"]
    km = _seq(L.LSTM(3), L.Dense(1))
    km.load_weights(tmp_path / "ckpt-02.weights.h5")
    _assert_same(_predict(km, x), [model.predict(x, verbose=0)])
