"""``summary()`` parameter counts (Keras's numbers) and config round trips of every layer and of
whole models."""

from __future__ import annotations

import inspect
import json
import re

import numpy as np
import pytest

import rnnlab
from rnnlab import layers
from rnnlab.layers import LSTM, Dense, Embedding, Flatten
from rnnlab.layers.base import Layer


def _summary(model) -> str:
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


def _counts(text: str) -> tuple[int, int, int]:
    def grab(label):
        return int(re.search(label + r": ([\d,]+)", text).group(1).replace(",", ""))
    return grab("Total params"), grab("Trainable params"), grab("Non-trainable params")


def test_summary_embedding_lstm_dense_keras_counts():
    model = rnnlab.Sequential()
    model.add(Embedding(10000, 32))
    model.add(LSTM(32))
    model.add(Dense(1, activation="sigmoid"))
    model.build((None, None))
    text = _summary(model)
    assert _counts(text) == (328_353, 328_353, 0)
    assert model.count_params() == 328_353
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^(\w+) \(\w+\)\s+.*?([\d,]+)$", text,
                                                         flags=re.M)}
    assert list(rows.values()) == ["320,000", "8,320", "33"]
    assert "(None, None, 32)" in text and "(None, 32)" in text and "(None, 1)" in text


def test_summary_embedding_flatten_dense_keras_counts():
    model = rnnlab.Sequential([Embedding(10000, 8, input_length=20), Flatten(),
                               Dense(1, activation="sigmoid")])
    text = _summary(model)
    assert _counts(text) == (80_161, 80_161, 0)
    assert "(None, 20, 8)" in text and "(None, 160)" in text
    assert model.count_params() == 80_161


@pytest.mark.parametrize("layer, count", [
    (lambda: layers.GRU(3), 3 * 3 * (4 + 3) + 2 * 3 * 3),           # reset_after: two biases
    (lambda: layers.GRU(3, reset_after=False), 3 * 3 * (4 + 3 + 1)),
    (lambda: layers.SimpleRNN(3), 3 * (4 + 3 + 1)),
    (lambda: layers.LSTM(3), 4 * 3 * (4 + 3 + 1)),
    (lambda: layers.Bidirectional(layers.LSTM(4)), 2 * 4 * 4 * (4 + 4 + 1)),
    (lambda: layers.TimeDistributed(layers.Dense(2)), 4 * 2 + 2),
    (lambda: layers.LayerNormalization(), 2 * 4),
    (lambda: layers.BatchNormalization(), 4 * 4),
], ids=["gru", "gru-v1", "simple_rnn", "lstm", "bidirectional", "time_distributed",
        "layer_norm", "batch_norm"])
def test_keras_parameter_counts_per_layer(layer, count):
    model = rnnlab.Sequential([layer()])
    model.build((None, 5, 4))
    assert model.count_params() == count
    assert _counts(_summary(model))[0] == count


def test_summary_counts_non_trainable():
    """Frozen layers and BatchNormalization's moving statistics are non-trainable (Keras)."""
    model = rnnlab.Sequential([Dense(4, input_shape=(3,), trainable=False),
                               layers.BatchNormalization(), Dense(2)])
    total, trainable, frozen = _counts(_summary(model))
    assert total == 16 + 16 + 10
    assert frozen == 16 + 8  # the frozen Dense, moving mean and variance
    assert trainable == 8 + 10


def test_summary_functional_lists_every_output_shape():
    inp = layers.Input(shape=(None, 3))
    out, h, c = LSTM(4, return_state=True)(inp)
    model = rnnlab.Model(inp, [out, h, c])
    text = _summary(model)
    assert "[(None, 4), (None, 4)," in text and "(None, 4)]" in text  # wrapped, not cut
    assert _counts(text)[0] == 4 * 4 * (3 + 4 + 1)


def test_sequential_list_add_and_input_shape_agree():
    rnnlab.set_random_seed(0)
    a = rnnlab.Sequential([LSTM(5, input_shape=(7, 3)), Dense(2)])
    rnnlab.set_random_seed(0)
    b = rnnlab.Sequential()
    b.add(rnnlab.Input(shape=(7, 3)))
    b.add(LSTM(5))
    b.add(Dense(2))
    assert a.built and b.built
    assert a.count_params() == b.count_params() == 4 * 5 * (3 + 5 + 1) + 12
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    unbuilt = rnnlab.Sequential([LSTM(5), Dense(2)])
    with pytest.raises(ValueError, match="not built yet"):
        unbuilt.count_params()
    unbuilt.predict(np.zeros((2, 7, 3)), verbose=0)  # builds on the first batch
    assert unbuilt.count_params() == a.count_params()


# -- every layer's config round-trips ----------------------------------------------------------
def _x(rng, *shape):
    return rng.standard_normal(shape)


LAYER_CASES = {
    "Activation": (lambda: layers.Activation("tanh"), lambda r: _x(r, 2, 3, 4)),
    "Add": (lambda: layers.Add(), lambda r: [_x(r, 2, 3, 4), _x(r, 2, 3, 4)]),
    "AdditiveAttention": (lambda: layers.AdditiveAttention(dropout=0.2, seed=3),
                          lambda r: [_x(r, 2, 3, 4), _x(r, 2, 5, 4)]),
    "Attention": (lambda: layers.Attention(use_scale=True, score_mode="concat"),
                  lambda r: [_x(r, 2, 3, 4), _x(r, 2, 5, 4), _x(r, 2, 5, 4)]),
    "AveragePooling1D": (lambda: layers.AveragePooling1D(3, 2, "same"), lambda r: _x(r, 2, 5, 4)),
    "Average": (lambda: layers.Average(), lambda r: [_x(r, 2, 4), _x(r, 2, 4)]),
    "BatchNormalization": (lambda: layers.BatchNormalization(momentum=0.9, epsilon=1e-2),
                           lambda r: _x(r, 5, 3, 4)),
    "Bidirectional": (lambda: layers.Bidirectional(LSTM(3, return_sequences=True, seed=4),
                                                   merge_mode="sum"),
                      lambda r: _x(r, 2, 3, 4)),
    "Concatenate": (lambda: layers.Concatenate(axis=1), lambda r: [_x(r, 2, 3, 4),
                                                                   _x(r, 2, 2, 4)]),
    "Conv1D": (lambda: layers.Conv1D(3, 2, padding="causal", dilation_rate=2, activation="relu"),
               lambda r: _x(r, 2, 5, 4)),
    "Dense": (lambda: layers.Dense(3, activation="relu", use_bias=False,
                                   kernel_initializer="he_normal"), lambda r: _x(r, 2, 4)),
    "Dropout": (lambda: layers.Dropout(0.4, noise_shape=(None, 1, 4), seed=7),
                lambda r: _x(r, 2, 3, 4)),
    "Embedding": (lambda: layers.Embedding(7, 3, mask_zero=True, input_length=5),
                  lambda r: r.integers(0, 7, (2, 5))),
    "Flatten": (lambda: layers.Flatten(), lambda r: _x(r, 2, 3, 4)),
    "GRU": (lambda: layers.GRU(3, return_sequences=True, reset_after=False, dropout=0.2,
                               go_backwards=True), lambda r: _x(r, 2, 3, 4)),
    "GlobalAveragePooling1D": (lambda: layers.GlobalAveragePooling1D(keepdims=True),
                               lambda r: _x(r, 2, 3, 4)),
    "GlobalMaxPooling1D": (lambda: layers.GlobalMaxPooling1D(data_format="channels_first"),
                           lambda r: _x(r, 2, 3, 4)),
    "LSTM": (lambda: layers.LSTM(3, return_state=True, dropout=0.2, recurrent_dropout=0.1,
                                 unit_forget_bias=False, truncate_gradient=2),
             lambda r: _x(r, 2, 3, 4)),
    "LayerNormalization": (lambda: layers.LayerNormalization(axis=[1, 2], epsilon=1e-4),
                           lambda r: _x(r, 2, 3, 4)),
    "Masking": (lambda: layers.Masking(mask_value=0.5), lambda r: _x(r, 2, 3, 4)),
    "MaxPooling1D": (lambda: layers.MaxPooling1D(2, padding="same"), lambda r: _x(r, 2, 5, 4)),
    "Maximum": (lambda: layers.Maximum(), lambda r: [_x(r, 2, 4), _x(r, 2, 4)]),
    "Minimum": (lambda: layers.Minimum(), lambda r: [_x(r, 2, 4), _x(r, 2, 4)]),
    "Multiply": (lambda: layers.Multiply(), lambda r: [_x(r, 2, 4), _x(r, 2, 4)]),
    "RNN": (lambda: layers.RNN([layers.GRUCell(3), layers.SimpleRNNCell(2)],
                               return_sequences=True), lambda r: _x(r, 2, 3, 4)),
    "RepeatVector": (lambda: layers.RepeatVector(3), lambda r: _x(r, 2, 4)),
    "Lambda": (lambda: layers.Lambda(rnnlab.ops.tanh), lambda r: _x(r, 2, 3)),
    "Reshape": (lambda: layers.Reshape((4, -1)), lambda r: _x(r, 2, 3, 4)),
    "SimpleRNN": (lambda: layers.SimpleRNN(3, activation="relu", recurrent_dropout=0.3),
                  lambda r: _x(r, 2, 3, 4)),
    "SpatialDropout1D": (lambda: layers.SpatialDropout1D(0.3, seed=2), lambda r: _x(r, 2, 3, 4)),
    "Subtract": (lambda: layers.Subtract(), lambda r: [_x(r, 2, 4), _x(r, 2, 4)]),
    "TimeDistributed": (lambda: layers.TimeDistributed(layers.Dense(2, activation="tanh")),
                        lambda r: _x(r, 2, 3, 4)),
}


def _layer_classes() -> set[str]:
    return {name for name, obj in vars(layers).items()
            if inspect.isclass(obj) and issubclass(obj, Layer) and obj is not Layer}


# a Lambda of a Python lambda loads only outside safe mode (tests/models/test_lambda_safe_mode.py);
# the case above uses a named function
NO_CONFIG: set[str] = set()


def test_every_layer_class_has_a_round_trip_case():
    assert _layer_classes() - NO_CONFIG == set(LAYER_CASES), (
        "add a case for each new layer class to LAYER_CASES")


def _flat(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


@pytest.mark.parametrize("name", sorted(LAYER_CASES))
def test_layer_config_round_trip(name, rng):
    make, data = LAYER_CASES[name]
    layer = make()
    x = data(rng)
    layer(x)  # built
    config = layer.get_config()
    assert json.loads(json.dumps(config)) == config  # plain JSON
    clone = type(layer).from_config(config)
    assert type(clone) is type(layer)
    assert clone.get_config() == config
    clone(x)
    clone.set_weights(layer.get_weights())
    for a, b in zip(layer.get_weights(), clone.get_weights()):
        np.testing.assert_array_equal(a, b)
    for training in (False, True):
        layer.rng_calls = clone.rng_calls = 0  # the same random draws (dropout masks)
        out_a = _flat(layer(x, training=training))
        out_b = _flat(clone(x, training=training))
        assert len(out_a) == len(out_b)
        for a, b in zip(out_a, out_b):
            np.testing.assert_array_equal(a, b)
    # and through the registry, as model files rebuild layers
    from rnnlab._registry import deserialize, serialize

    again = deserialize(json.loads(json.dumps(serialize(layer))))
    assert again.get_config() == config


def test_model_config_round_trip_functional_and_sequential(rng):
    rnnlab.set_random_seed(3)
    a = layers.Input(shape=(None, 3), name="a")
    b = layers.Input(shape=(None,), dtype="int32", name="b")
    shared = layers.Dense(4, name="shared")
    xa = shared(a)
    xb = shared(layers.Embedding(6, 3, mask_zero=True, name="emb")(b))
    out, h, c = layers.LSTM(4, return_state=True, name="enc")(xa)
    dec = layers.LSTM(4, name="dec")(xb, initial_state=[h, c])
    y = layers.Dense(2, name="head")(layers.Concatenate(name="cat")([out, dec]))
    model = rnnlab.Model([a, b], [y, h], name="twin")
    config = model.get_config()
    clone = rnnlab.Model.from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == config
    clone.set_weights(model.get_weights())
    xs = [rng.standard_normal((3, 5, 3)), rng.integers(0, 6, (3, 4))]
    for p, q in zip(model.predict(xs, verbose=0), clone.predict(xs, verbose=0)):
        np.testing.assert_array_equal(p, q)

    seq = rnnlab.Sequential([layers.Embedding(6, 3, input_length=4), layers.GRU(2)], name="s")
    seq_config = seq.get_config()
    seq_clone = rnnlab.Sequential.from_config(json.loads(json.dumps(seq_config)))
    assert seq_clone.get_config() == seq_config
    assert seq_clone.built and seq_clone.count_params() == seq.count_params()
