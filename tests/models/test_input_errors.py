"""Wrong inputs give clear errors that say what was expected and what was given."""

from __future__ import annotations

import numpy as np
import pytest

import rnnlab
from rnnlab import layers


@pytest.fixture
def classifier():
    rnnlab.set_random_seed(0)
    model = rnnlab.Sequential([layers.LSTM(4, input_shape=(5, 3)),
                               layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture
def two_inputs():
    rnnlab.set_random_seed(0)
    a = layers.Input(shape=(5, 3), name="left")
    b = layers.Input(shape=(5, 3), name="right")
    merged = layers.Concatenate()([layers.LSTM(4)(a), layers.LSTM(4)(b)])
    model = rnnlab.Model([a, b], [layers.Dense(2, name="out1")(merged),
                                  layers.Dense(1, name="out2")(merged)])
    model.compile("adam", "mse")
    return model


X = np.random.default_rng(0).standard_normal((10, 5, 3))
Y = np.random.default_rng(1).integers(0, 3, 10)


def test_x_and_y_length_mismatch(classifier):
    with pytest.raises(ValueError, match=r"x has 10 samples but y has 8"):
        classifier.fit(X, Y[:8], verbose=0)
    with pytest.raises(ValueError, match=r"x has 10 samples but y has 8"):
        classifier.evaluate(X, Y[:8], verbose=0)
    with pytest.raises(ValueError, match=r"sample_weight has 4 samples but x has 10"):
        classifier.fit(X, Y, sample_weight=np.ones(4), verbose=0)


def test_inputs_of_different_lengths(two_inputs):
    with pytest.raises(ValueError, match=r"same number of samples, got \[7, 10\]"):
        two_inputs.predict([X, X[:7]], verbose=0)


def test_wrong_number_of_model_inputs(two_inputs):
    y = [np.zeros((10, 2)), np.zeros((10, 1))]
    with pytest.raises(ValueError, match=r"expects 2 input arrays .*\['left', 'right'\].*got 1"):
        two_inputs.fit(X, y, verbose=0)
    with pytest.raises(ValueError, match=r"expects 2 input arrays.*got 3"):
        two_inputs.predict([X, X, X], verbose=0)
    with pytest.raises(ValueError, match=r"missing input\(s\) \['right'\]"):
        two_inputs.predict({"left": X}, verbose=0)
    with pytest.raises(ValueError, match=r"2 outputs; expected 2 target arrays, got 1"):
        two_inputs.fit([X, X], y[0], verbose=0)
    with pytest.raises(ValueError, match=r"missing target\(s\) for output\(s\) \['out2'\]"):
        two_inputs.fit([X, X], {"out1": y[0]}, verbose=0)


def test_list_of_arrays_for_a_single_input_model(classifier):
    with pytest.raises(ValueError, match="1 input but got a list of 2 arrays"):
        classifier.predict([X, X], verbose=0)


def test_wrong_input_shape(classifier):
    with pytest.raises(ValueError, match=r"expected a 3-D array of shape \(None, 5, 3\), got "
                                         r"shape \(10, 5\)"):
        classifier.predict(X[:, :, 0], verbose=0)
    with pytest.raises(ValueError, match=r"expects 3 input features .*got shape \(10, 5, 4\)"):
        classifier.predict(np.zeros((10, 5, 4)), verbose=0)
    with pytest.raises(ValueError, match="NaN or infinite"):
        classifier.predict(np.full((2, 5, 3), np.nan), verbose=0)
    with pytest.raises(ValueError, match="empty input"):
        classifier.predict(np.zeros((0, 5, 3)), verbose=0)


def test_loss_that_does_not_fit_the_output(classifier):
    classifier.compile("adam", "mse")
    with pytest.raises(ValueError, match=r"loss for output 'dense\w*' \(shape \(10, 3\)\).*"
                                         r"y_true has shape \(10, 7\)"):
        classifier.fit(X, np.zeros((10, 7)), verbose=0)
    classifier.compile("adam", "categorical_crossentropy")
    with pytest.raises(ValueError, match="look like integer class ids: use "
                                         "SparseCategoricalCrossentropy"):
        classifier.fit(X, Y, verbose=0)


def test_labels_out_of_range_for_sparse_losses(classifier):
    with pytest.raises(ValueError, match=r"label 5 at index \(\d+,\) is out of range for 3 "
                                         r"classes"):
        classifier.fit(X, np.where(Y == 0, 5, Y), verbose=0)
    with pytest.raises(ValueError, match="out of range"):
        classifier.evaluate(X, -np.ones(10, dtype=int), verbose=0)
    with pytest.raises(ValueError, match="non-integer value"):
        classifier.fit(X, Y + 0.5, verbose=0)


def test_token_ids_out_of_range():
    model = rnnlab.Sequential([layers.Embedding(5, 2, input_length=3), layers.Flatten(),
                               layers.Dense(1)])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"token id 7 .* expected ids in \[0, 5\)"):
        model.fit(np.array([[1, 2, 7]]), np.zeros((1, 1)), verbose=0)
    with pytest.raises(ValueError, match=r"input_length is 3"):
        model.predict(np.array([[1, 2]]), verbose=0)


def test_unknown_names_list_the_valid_ones(classifier):
    with pytest.raises(ValueError, match=r"Unknown optimizer 'adamz'.*\['adagrad', 'adam'"):
        classifier.compile("adamz", "mse")
    with pytest.raises(ValueError, match=r"Unknown loss 'msez'. Valid names: \[.*'mse'"):
        classifier.compile("adam", "msez")
    with pytest.raises(ValueError, match=r"Unknown metric 'accz'. Valid names: \[.*'accuracy'"):
        classifier.compile("adam", "mse", metrics=["accz"])
    with pytest.raises(ValueError, match="compile needs a loss"):
        classifier.compile("adam")
    with pytest.raises(ValueError, match=r"loss has keys \['nope'\] that are not output names"):
        classifier.compile("adam", {"nope": "mse"})


def test_data_arguments(classifier):
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        classifier.fit(X, Y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        classifier.predict(X, batch_size=-2, verbose=0)
    with pytest.raises(ValueError, match=r"validation_split must be in \[0, 1\)"):
        classifier.fit(X, Y, validation_split=1.0, verbose=0)
    with pytest.raises(ValueError, match="validation_data must be"):
        classifier.fit(X, Y, validation_data=(X,), verbose=0)
    with pytest.raises(ValueError, match="targets y are required"):
        classifier.fit(X, verbose=0)
    gen = iter([(X, Y)])
    with pytest.raises(ValueError, match="y must not be given when x is a generator.*"
                                         "steps_per_epoch=steps"):
        classifier.fit(gen, 5, verbose=0)  # Keras 2's fit_generator(gen, steps) order
    with pytest.raises(ValueError, match=r"must yield \(x, y\)"):
        classifier.fit(iter([X]), steps_per_epoch=1, verbose=0)
    with pytest.raises(ValueError, match="validation_split is only supported for array"):
        classifier.fit(iter([(X, Y)]), validation_split=0.5, verbose=0)


def test_uncompiled_and_unbuilt_models():
    model = rnnlab.Sequential([layers.Dense(2)])
    with pytest.raises(RuntimeError, match="must compile the model before training"):
        model.fit(np.zeros((2, 3)), np.zeros((2, 2)), verbose=0)
    with pytest.raises(RuntimeError, match="must compile the model before evaluating"):
        model.evaluate(np.zeros((2, 3)), np.zeros((2, 2)), verbose=0)
    with pytest.raises(ValueError, match="not built yet"):
        model.save("never-written.keras")


def test_graph_errors():
    a = layers.Input(shape=(3,), name="a")
    b = layers.Input(shape=(3,), name="b")
    with pytest.raises(ValueError, match=r"Graph disconnected.*\['b'\]"):
        rnnlab.Model(a, layers.Add()([layers.Dense(3)(a), layers.Dense(3)(b)]))
    with pytest.raises(TypeError, match="must be symbolic tensors"):
        rnnlab.Model(a, np.zeros(3))
    with pytest.raises(ValueError, match="must come from Input"):
        rnnlab.Model(layers.Dense(2)(a), layers.Dense(2)(b))
    d1 = layers.Dense(2, name="same")
    d2 = layers.Dense(2, name="same")
    with pytest.raises(ValueError, match=r"unique within a model; repeated: \['same'\]"):
        rnnlab.Model(a, [d1(a), d2(a)])
    seq = rnnlab.Sequential([layers.Dense(2, name="twice")])
    with pytest.raises(ValueError, match="already in"):
        seq.add(layers.Dense(2, name="twice"))
    with pytest.raises(TypeError, match="expects a Layer"):
        seq.add("dense")


def test_running_out_of_data_stops_training():
    model = rnnlab.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile("sgd", "mse")
    data = ((np.ones((2, 3)), np.ones((2, 1))) for _ in range(3))
    with pytest.warns(UserWarning, match="ran out of data"):
        history = model.fit(data, epochs=5, verbose=0)
    assert history.epoch == [0]  # the generator is spent after the first epoch
    assert model.optimizer.iterations == 3


def test_spent_validation_generator_warns_instead_of_reporting_zero():
    model = rnnlab.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile("sgd", "mse")
    x, y = np.ones((4, 3)), np.ones((4, 1))
    val = ((x, y) for _ in range(2))  # one pass only
    with pytest.warns(UserWarning, match="validation data gave no batch in epoch 2"):
        history = model.fit(x, y, epochs=2, verbose=0, validation_data=val)
    assert len(history.history["val_loss"]) == 1 and history.history["val_loss"][0] > 0
    with pytest.raises(ValueError, match="evaluate got no data"):
        model.evaluate(iter([]), verbose=0)
    with pytest.raises(ValueError, match="evaluate got no data"):
        model.evaluate(np.zeros((0, 3)), np.zeros((0, 1)), verbose=0)
