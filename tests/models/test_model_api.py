"""The Keras model API surface: namespaces, eager and symbolic layer calls, stateful layers and
models, predict/evaluate with progress bars and callbacks, single-batch methods, layer access,
weights, generators and Sequence-like data, compile with names or objects."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import rnnlab
from rnnlab import layers
from rnnlab.callbacks import Callback


def test_namespaces():
    assert rnnlab.Sequential is rnnlab.models.Sequential
    assert rnnlab.Model is rnnlab.models.Model
    assert rnnlab.Input is rnnlab.models.Input is layers.Input
    assert rnnlab.load_model is rnnlab.models.load_model
    assert callable(rnnlab.utils.set_random_seed)


def test_layers_are_callable_on_arrays_and_on_symbolic_inputs(rng):
    dense = layers.Dense(3, activation="relu")
    x = rng.standard_normal((4, 2)).astype("float32")
    y = dense(x)  # eager: an array
    assert isinstance(y, np.ndarray) and y.shape == (4, 3) and y.dtype == np.float32
    inp = rnnlab.Input(shape=(2,))
    sym = dense(inp)  # symbolic: a node in a graph, the same weights
    assert sym.shape == (None, 3)
    model = rnnlab.Model(inp, sym)
    np.testing.assert_array_equal(model.predict(x, verbose=0), y)
    np.testing.assert_array_equal(model(x), y)  # models are callable on arrays too
    seq_out = layers.LSTM(5, return_sequences=True)(rng.standard_normal((2, 4, 3)))
    assert seq_out.shape == (2, 4, 5)
    with pytest.raises(NotImplementedError, match="using a model as a layer"):
        model(rnnlab.Input(shape=(2,)))


def test_stateful_lstm_called_eagerly_carries_state(rng):
    """The Keras RNN guide's stateful example."""
    lstm_layer = layers.LSTM(8, stateful=True)
    paragraph1 = rng.random((20, 10, 5)).astype(np.float32)
    paragraph2 = rng.random((20, 10, 5)).astype(np.float32)
    paragraph3 = rng.random((20, 10, 5)).astype(np.float32)
    lstm_layer(paragraph1)
    lstm_layer(paragraph2)
    output = lstm_layer(paragraph3)
    lstm_layer.reset_states()  # clears the cached state
    after_reset = lstm_layer(paragraph3)
    fresh = layers.LSTM(8)
    fresh(paragraph3)
    fresh.set_weights(lstm_layer.get_weights())
    np.testing.assert_allclose(after_reset, fresh(paragraph3), rtol=1e-6)
    assert not np.allclose(output, after_reset)
    # the state after the three paragraphs is the final state of their concatenation
    whole = layers.LSTM(8)
    whole(paragraph1)
    whole.set_weights(lstm_layer.get_weights())
    joined = np.concatenate([paragraph1, paragraph2, paragraph3], axis=1)
    np.testing.assert_allclose(output, whole(joined), rtol=1e-5, atol=1e-6)


def test_stateful_model_and_reset_states(rng):
    rnnlab.set_random_seed(0)
    model = rnnlab.Sequential([layers.GRU(4, stateful=True, batch_size=3, input_shape=(5, 2)),
                               layers.Dense(1)])
    model.compile("sgd", "mse")
    x = rng.standard_normal((3, 5, 2))
    first = model.predict(x, verbose=0)
    second = model.predict(x, verbose=0)
    assert not np.allclose(first, second)  # the state was carried over
    model.reset_states()
    np.testing.assert_array_equal(model.predict(x, verbose=0), first)
    model.train_on_batch(x, np.zeros((3, 1)))
    with pytest.raises(ValueError, match="stateful with batch size 3"):
        model.predict(rng.standard_normal((2, 5, 2)), verbose=0)


def _classifier():
    rnnlab.set_random_seed(1)
    model = rnnlab.Sequential([layers.LSTM(4, input_shape=(5, 3), name="rnn"),
                               layers.Dense(3, activation="softmax", name="probs")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _data(n=10):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 5, 3)), rng.integers(0, 3, n)


def test_evaluate_and_predict_verbose(capsys):
    model = _classifier()
    x, y = _data(10)
    result = model.evaluate(x, y, batch_size=4, verbose=1)
    out = capsys.readouterr().out
    assert re.search(r"3/3 .*loss: [\d.]+ - accuracy: [\d.]+", out), out
    assert result == model.evaluate(x, y, batch_size=4, verbose=0)
    assert capsys.readouterr().out == ""
    as_dict = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(as_dict) == ["loss", "accuracy"] and as_dict["loss"] == pytest.approx(result[0])

    pred = model.predict(x, batch_size=4, verbose=1)
    out = capsys.readouterr().out
    assert "3/3" in out and "loss" not in out
    assert pred.shape == (10, 3)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""


def test_predict_and_evaluate_call_the_callbacks():
    model = _classifier()
    x, y = _data(10)
    events = []

    class Recorder(Callback):
        def on_predict_begin(self, logs=None):
            events.append("predict_begin")

        def on_predict_batch_begin(self, batch, logs=None):
            events.append(("batch_begin", batch))

        def on_predict_batch_end(self, batch, logs=None):
            events.append(("batch_end", batch, logs["outputs"].shape))

        def on_predict_end(self, logs=None):
            events.append("predict_end")

        def on_test_batch_end(self, batch, logs=None):
            events.append(("test", batch, sorted(logs)))

    model.predict(x, batch_size=4, verbose=0, callbacks=[Recorder()])
    assert events == ["predict_begin", ("batch_begin", 0), ("batch_end", 0, (4, 3)),
                      ("batch_begin", 1), ("batch_end", 1, (4, 3)), ("batch_begin", 2),
                      ("batch_end", 2, (2, 3)), "predict_end"]
    events.clear()
    model.evaluate(x, y, batch_size=5, verbose=0, callbacks=Recorder())
    assert events == [("test", 0, ["accuracy", "loss"]), ("test", 1, ["accuracy", "loss"])]


def test_single_batch_methods():
    model = _classifier()
    x, y = _data(6)
    before = model.evaluate(x, y, verbose=0)
    loss, acc = model.train_on_batch(x, y)  # the metrics of the forward pass, before the update
    assert loss == pytest.approx(before[0]) and acc == pytest.approx(before[1])
    assert model.optimizer.iterations == 1
    logs = model.test_on_batch(x, y, return_dict=True)
    assert logs["loss"] < loss
    np.testing.assert_array_equal(model.predict_on_batch(x), model.predict(x, verbose=0))


def test_layers_get_layer_weights_and_count_params():
    model = _classifier()
    assert [layer.name for layer in model.layers] == ["rnn", "probs"]
    assert model.get_layer("probs") is model.layers[1]
    assert model.get_layer(index=0) is model.layers[0]
    assert model.get_layer(index=-1).name == "probs"
    with pytest.raises(ValueError, match=r"No such layer: 'nope'. Existing layers: \['rnn'"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="out of range for 2 layers"):
        model.get_layer(index=2)
    weights = model.get_weights()
    # Keras layout: LSTM kernel (3, 16), recurrent kernel (4, 16), bias (16,); Dense (4, 3), (3,)
    assert [w.shape for w in weights] == [(3, 16), (4, 16), (16,), (4, 3), (3,)]
    assert model.count_params() == sum(w.size for w in weights) == 128 + 15
    doubled = [2 * w for w in weights]
    model.set_weights(doubled)
    for a, b in zip(model.get_weights(), doubled):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="left over"):
        model.set_weights(doubled + [np.zeros(1)])


def test_compile_with_names_or_objects_gives_the_same_training():
    x, y = _data(12)
    runs = []
    for spec in (dict(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["sparse_categorical_accuracy"]),
                 dict(optimizer=rnnlab.optimizers.Adam(),
                      loss=rnnlab.losses.SparseCategoricalCrossentropy(),
                      metrics=[rnnlab.metrics.SparseCategoricalAccuracy()])):
        model = _classifier()
        model.compile(**spec)
        runs.append(model.fit(x, y, batch_size=4, epochs=2, verbose=0).history)
    assert runs[0] == runs[1]


def test_fit_from_generators_iterables_and_sequences():
    x, y = _data(12)

    def gen():
        while True:
            for i in range(0, 12, 4):
                yield x[i:i + 4], y[i:i + 4]

    class Batches:  # a Keras Sequence: __len__ and __getitem__
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return x[4 * i:4 * i + 4], y[4 * i:4 * i + 4]

    class Iterable:  # re-iterable: a new pass each epoch
        def __iter__(self):
            return ((x[i:i + 4], y[i:i + 4]) for i in range(0, 12, 4))

    histories = []
    for data, kwargs in ((gen(), dict(steps_per_epoch=3)), (Batches(), {}), (Iterable(), {})):
        model = _classifier()
        histories.append(model.fit(data, epochs=2, verbose=0, shuffle=False, **kwargs).history)
    model = _classifier()
    histories.append(model.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False).history)
    assert histories[0] == histories[1] == histories[2] == histories[3]

    model = _classifier()
    with pytest.warns(DeprecationWarning, match="fit_generator"):
        history = model.fit_generator(gen(), 3, 2, verbose=0)  # Keras 2's positional order
    assert history.history == histories[0]
    with pytest.warns(DeprecationWarning, match="predict_generator"):
        pred = model.predict_generator(Batches(), verbose=0)
    assert pred.shape == (12, 3)
    with pytest.warns(DeprecationWarning, match="evaluate_generator"):
        model.evaluate_generator(Batches(), verbose=0)


def test_validation_arguments():
    x, y = _data(10)
    model = _classifier()
    h = model.fit(x, y, batch_size=4, epochs=2, verbose=0, validation_split=0.2)
    assert set(h.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    # the last 20% are the validation samples (taken before shuffling)
    assert h.history["val_loss"][-1] == pytest.approx(model.evaluate(x[8:], y[8:], verbose=0)[0])
    model2 = _classifier()
    h2 = model2.fit(x[:8], y[:8], batch_size=4, epochs=2, verbose=0,
                    validation_data=(x[8:], y[8:]))
    assert h.history == h2.history
    h3 = _classifier().fit(x, y, batch_size=4, epochs=3, verbose=0, validation_freq=2,
                           validation_data=(x, y), validation_steps=1, validation_batch_size=3)
    assert len(h3.history["loss"]) == 3 and len(h3.history["val_loss"]) == 1


def test_shuffle_changes_the_batches_and_steps_per_epoch_limits_them():
    x, y = _data(12)
    a = _classifier().fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=True).history
    b = _classifier().fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False).history
    assert a != b
    model = _classifier()
    model.fit(x, y, batch_size=4, epochs=2, steps_per_epoch=2, verbose=0)
    assert model.optimizer.iterations == 4


def test_fit_verbose_prints_epochs(capsys):
    x, y = _data(8)
    _classifier().fit(x, y, batch_size=4, epochs=2, verbose=2)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "loss:" in out
    _classifier().fit(x, y, batch_size=4, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""


def test_multi_output_model_logs_and_loss_weights():
    rnnlab.set_random_seed(2)
    inp = rnnlab.Input(shape=(5, 3))
    h = layers.LSTM(4)(inp)
    model = rnnlab.Model(inp, [layers.Dense(3, activation="softmax", name="cls")(h),
                               layers.Dense(1, name="reg")(h)])
    model.compile("adam", loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                  loss_weights={"cls": 1.0, "reg": 0.5}, metrics={"cls": ["accuracy"]})
    x, y = _data(8)
    y_reg = np.ones((8, 1))
    logs = model.evaluate(x, {"cls": y, "reg": y_reg}, verbose=0, return_dict=True)
    assert set(logs) == {"loss", "cls_loss", "reg_loss", "cls_accuracy"}
    assert logs["loss"] == pytest.approx(logs["cls_loss"] + 0.5 * logs["reg_loss"], rel=1e-6)
    probs, reg = model.predict(x, verbose=0)
    assert probs.shape == (8, 3) and reg.shape == (8, 1)


def test_sequential_accepts_float_token_ids_like_keras_snippets():
    """The Keras tutorial feeds ids in a float array (np.zeros); they work as ids."""
    model = rnnlab.Sequential([layers.Embedding(20, 4, input_length=3), layers.Flatten(),
                               layers.Dense(1)])
    model.compile("sgd", "mse")
    ids = np.array([[1, 2, 19], [0, 5, 7]])
    np.testing.assert_array_equal(model.predict(ids.astype(float), verbose=0),
                                  model.predict(ids, verbose=0))
    with pytest.raises(ValueError, match="non-integer value"):
        model.predict(np.array([[1.5, 2, 3]]), verbose=0)


def test_functional_model_with_float_and_id_inputs():
    """Each input is treated by what it feeds: ids for Embedding, floats otherwise."""
    rnnlab.set_random_seed(3)
    feats = rnnlab.Input(shape=(4, 2))
    ids = rnnlab.Input(shape=(4,))
    h = layers.Concatenate()([feats, layers.Embedding(50, 2)(ids)])
    model = rnnlab.Model([feats, ids], layers.SimpleRNN(3)(h))
    out = model.predict([np.ones((2, 4, 2), dtype=int), np.full((2, 4), 49)], verbose=0)
    assert out.shape == (2, 3)


def test_no_runtime_warnings_in_a_plain_fit():
    x, y = _data(8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _classifier().fit(x, y, batch_size=4, epochs=1, verbose=0)
