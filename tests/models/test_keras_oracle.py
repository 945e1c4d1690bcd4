"""Keras-compatibility behaviour checked against real Keras 3 (torch backend): weighted metrics,
class_weight, regularizers and constraints, top-k metrics, ``Model.layers`` and shuffling of
Sequence data. Keras is a dev dependency: these tests import it and fail where it is missing."""

import os

os.environ["KERAS_BACKEND"] = "torch"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import rnnlab  # noqa: E402
from rnnlab import constraints, layers, regularizers  # noqa: E402


def _both(build):
    """The same architecture in rnnlab and Keras, Keras holding rnnlab's initial weights."""
    ours = build(rnnlab, rnnlab.layers)
    theirs = build(keras, keras.layers)
    theirs.set_weights(ours.get_weights())
    return ours, theirs


def test_weighted_metric_names_as_keras():
    def build(lib, L):
        return lib.Sequential([L.Input((2,)), L.Dense(6, activation="softmax")])

    x, y = np.ones((4, 2), "f4"), np.array([0, 1, 2, 1])
    keys = []
    for model in _both(build):
        model.compile("sgd", "sparse_categorical_crossentropy",
                      metrics=["accuracy", "accuracy", "sparse_top_k_categorical_accuracy"],
                      weighted_metrics=["accuracy", "sparse_categorical_accuracy"])
        keys.append(sorted(model.evaluate(x, y, return_dict=True, verbose=0)))
    assert keys[0] == keys[1]


def test_weighted_metrics_follow_keras():
    def build(lib, L):
        return lib.Sequential([L.Input((1,)), L.Dense(1, activation="sigmoid")])

    x = np.array([[.9], [.2], [.8], [.3]], "f4")
    y = np.array([1, 1, 0, 0])
    sw = np.array([1., 0, 0, 0])
    results = []
    for model in _both(build):
        model.set_weights([np.ones((1, 1), "f4"), np.array([-0.55], "f4")])
        model.compile("sgd", "binary_crossentropy", metrics=["accuracy"],
                      weighted_metrics=["accuracy"])
        results.append(model.evaluate(x, y, sample_weight=sw, return_dict=True, verbose=0))
    ours, theirs = results
    assert set(ours) == set(theirs) == {"loss", "accuracy", "weighted_accuracy"}
    for k in theirs:
        assert ours[k] == pytest.approx(theirs[k], abs=1e-6), k
    assert ours["accuracy"] == 0.5 and ours["weighted_accuracy"] == 1.0


def test_class_weight_trains_as_keras():
    def build(lib, L):
        return lib.Sequential([L.Input((5, 3)), L.GRU(4), L.Dense(3, activation="softmax")])

    rng = np.random.default_rng(1)
    x = rng.normal(size=(24, 5, 3)).astype("f4")
    y = rng.integers(0, 3, 24)
    class_weight = {0: 0.2, 1: 3.0, 2: 1.0}
    history = []
    ours, theirs = _both(build)
    for model in (ours, theirs):
        opt = keras.optimizers.SGD(0.1) if model is theirs else rnnlab.optimizers.SGD(0.1)
        model.compile(opt, "sparse_categorical_crossentropy", metrics=["accuracy"],
                      weighted_metrics=["accuracy"])
        h = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0,
                      class_weight=class_weight)
        history.append(h.history)
    assert set(history[0]) == set(history[1]) == {"loss", "accuracy", "weighted_accuracy"}
    for k in ("loss", "accuracy", "weighted_accuracy"):
        np.testing.assert_allclose(history[0][k], history[1][k], rtol=1e-5, atol=1e-6)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="class_weight and sample_weight"):
        ours.fit(x, y, class_weight=class_weight, sample_weight=np.ones(24), verbose=0)


def _regularized(lib, L):
    R = keras.regularizers if lib is keras else regularizers
    C = keras.constraints if lib is keras else constraints
    return lib.Sequential([
        L.Input((6, 3)),
        L.LSTM(5, return_sequences=True, kernel_regularizer=R.L1L2(l1=0.01, l2=0.02),
               recurrent_regularizer=R.L2(0.05), bias_regularizer=R.L1(0.03),
               activity_regularizer=R.L2(0.01), kernel_constraint=C.MaxNorm(0.8),
               recurrent_constraint=C.UnitNorm(axis=1), bias_constraint=C.NonNeg()),
        L.GRU(4, kernel_regularizer=R.L2(0.1), kernel_constraint=C.MinMaxNorm(0.1, 0.5, 0.7)),
        L.Dense(2, kernel_regularizer=R.L1(0.02), bias_regularizer=R.L2(0.1),
                activity_regularizer=R.L1(0.05)),
    ])


def test_regularizers_and_constraints_train_as_keras():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(16, 6, 3)).astype("f4")
    y = rng.normal(size=(16, 2)).astype("f4")
    ours, theirs = _both(_regularized)
    # the penalties at the initial weights (activity ones after one forward pass)
    ours.evaluate(x, y, batch_size=16, verbose=0) if ours.compiled else None
    histories = []
    for model in (ours, theirs):
        opt = keras.optimizers.SGD(0.05) if model is theirs else rnnlab.optimizers.SGD(0.05)
        model.compile(opt, "mse")
        histories.append(model.fit(x, y, batch_size=8, epochs=3, shuffle=False,
                                   verbose=0).history["loss"])
    np.testing.assert_allclose(histories[0], histories[1], rtol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    # model.losses: the same penalties (weights + the last forward's activity terms)
    ours.predict(x[:8], verbose=0)
    theirs(x[:8])
    ours_total = sum(ours.losses)
    theirs_total = float(sum(float(v.detach()) for v in theirs.losses))
    assert ours_total == pytest.approx(theirs_total, rel=1e-5)
    assert len(ours.losses) == len(theirs.losses)


def test_regularizer_config_round_trip():
    model = _regularized(rnnlab, rnnlab.layers)
    copy = rnnlab.Sequential.from_config(model.get_config())
    lstm = copy.layers[0]
    assert isinstance(lstm.regularizers["kernel"], regularizers.L1L2)
    assert lstm.regularizers["kernel"].l2 == 0.02
    assert isinstance(lstm.constraints["recurrent_kernel"], constraints.UnitNorm)
    assert lstm.constraints["recurrent_kernel"].axis == 1


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_top_k_metrics_equal_keras(k):
    rng = np.random.default_rng(k)
    pred = rng.random((12, 6)).astype("f4")
    pred[0, :] = 0.5                                   # ties count as in the top k
    labels = rng.integers(0, 6, 12)
    one_hot = np.eye(6, dtype="f4")[labels]
    ours = rnnlab.metrics.get("sparse_top_k_categorical_accuracy")
    ours = rnnlab.metrics.SparseTopKCategoricalAccuracy(k=k)
    ours.update_state(labels, pred)
    theirs = keras.metrics.SparseTopKCategoricalAccuracy(k=k)
    theirs.update_state(labels, pred)
    assert ours.result() == pytest.approx(float(theirs.result()), abs=1e-7)
    ours2 = rnnlab.metrics.TopKCategoricalAccuracy(k=k)
    ours2.update_state(one_hot, pred)
    theirs2 = keras.metrics.TopKCategoricalAccuracy(k=k)
    theirs2.update_state(one_hot, pred)
    assert ours2.result() == pytest.approx(float(theirs2.result()), abs=1e-7)
    seq = rnnlab.metrics.sparse_top_k_categorical_accuracy(labels.reshape(3, 4),
                                                           pred.reshape(3, 4, 6), k=k)
    ref = keras.metrics.sparse_top_k_categorical_accuracy(labels.reshape(3, 4),
                                                         pred.reshape(3, 4, 6), k=k)
    np.testing.assert_array_equal(seq, np.asarray(ref.cpu()))


def test_top_k_metric_by_name_in_compile():
    model = rnnlab.Sequential([rnnlab.Input((4,)), layers.Dense(6, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy",
                  metrics=["sparse_top_k_categorical_accuracy"])
    logs = model.evaluate(np.ones((3, 4), "f4"), np.array([0, 1, 2]), return_dict=True,
                          verbose=0)
    assert "sparse_top_k_categorical_accuracy" in logs


def _seq2seq(lib, L):
    ei = L.Input(shape=(None, 7))
    _, h, c = L.LSTM(8, return_state=True)(ei)
    di = L.Input(shape=(None, 5))
    do, _, _ = L.LSTM(8, return_sequences=True, return_state=True)(di, initial_state=[h, c])
    return lib.Model([ei, di], L.Dense(5, activation="softmax")(do))


def test_model_layers_as_keras():
    ours, theirs = _seq2seq(rnnlab, rnnlab.layers), _seq2seq(keras, keras.layers)
    assert [type(x).__name__ for x in ours.layers] == [type(x).__name__ for x in theirs.layers]
    seq = [lib.Sequential([L.Input((3,)), L.Dense(2)]) for lib, L in
           ((rnnlab, rnnlab.layers), (keras, keras.layers))]
    assert [type(x).__name__ for x in seq[0].layers] == [type(x).__name__ for x in seq[1].layers]


def test_seq2seq_inference_models_from_input_and_output():
    """keras-io lstm_seq2seq builds its inference models from model.input/layer.output."""
    model = _seq2seq(rnnlab, rnnlab.layers)
    rng = np.random.default_rng(0)
    xe, xd = rng.normal(size=(2, 4, 7)).astype("f4"), rng.normal(size=(2, 3, 5)).astype("f4")
    full = model.predict([xe, xd], verbose=0)
    encoder_inputs = model.input[0]
    encoder = model.layers[2]
    encoder_model = rnnlab.Model(encoder_inputs, encoder.output[1:])
    decoder_inputs = model.input[1]
    state_inputs = [rnnlab.Input(shape=(8,)), rnnlab.Input(shape=(8,))]
    decoder_lstm = model.layers[3]
    out, h, c = decoder_lstm(decoder_inputs, initial_state=state_inputs)
    decoder_model = rnnlab.Model([decoder_inputs] + state_inputs,
                                 [model.layers[4](out), h, c])
    states = encoder_model.predict(xe, verbose=0)
    step, _, _ = decoder_model.predict([xd] + states, verbose=0)
    np.testing.assert_allclose(step, full, rtol=1e-6)
    assert model.output is model.outputs[0]


def test_weights_properties_as_keras():
    def build(lib, L):
        return lib.Sequential([L.Input((4, 3)), L.LSTM(2), L.BatchNormalization(),
                               L.Dense(1)])

    ours, theirs = _both(build)
    for a, b in zip(ours.layers, theirs.layers):
        assert len(a.weights) == len(b.weights)
        assert len(a.trainable_weights) == len(b.trainable_weights)
        assert len(a.non_trainable_weights) == len(b.non_trainable_weights)
        for w, v in zip(a.weights, b.weights):
            np.testing.assert_array_equal(w, v.numpy())


class _Batches:
    """A Sequence recording the batch indices asked for, one list per epoch."""

    def __init__(self, n):
        self.n, self.epochs = n, [[]]

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        self.epochs[-1].append(int(i))
        return np.zeros((4, 3, 2), "f4"), np.zeros((4, 1), "f4")

    def on_epoch_end(self):
        self.epochs.append([])


class _KerasBatches(_Batches, keras.utils.PyDataset):
    def __init__(self, n):
        keras.utils.PyDataset.__init__(self)
        _Batches.__init__(self, n)


@pytest.mark.parametrize("shuffle", [True, False])
def test_sequence_batch_order_shuffled_as_keras(shuffle):
    def build(lib, L):
        return lib.Sequential([L.Input((3, 2)), L.SimpleRNN(2), L.Dense(1)])

    in_order = []
    for model, data in zip(_both(build), (_Batches(8), _KerasBatches(8))):
        model.compile("sgd", "mse")
        model.fit(data, epochs=3, verbose=0, shuffle=shuffle)
        epochs = [e for e in data.epochs if len(e) >= 8]  # Keras peeks at one batch first
        assert len(epochs) == 3
        assert all(sorted(e) == list(range(8)) for e in epochs), data.epochs
        in_order.append([e == list(range(8)) for e in epochs])
    assert in_order[0] == in_order[1] == [not shuffle] * 3
