"""Whole-model gradients against central differences (float64).

The functional graph has two inputs, an LSTM shared by both, ``return_state`` outputs fed as
``initial_state``, Concatenate and Add merges, Dropout and recurrent dropout (masks fixed by
resetting every layer's call counter), and two outputs with their own losses and loss weights.
The Sequential check shows that padding masked with ``Embedding(mask_zero=True)`` changes neither
the loss nor any gradient.
"""

from __future__ import annotations

import numpy as np
import pytest

import rnnlab
from rnnlab import layers
from rnnlab.gradcheck import numerical_gradient, relative_error

F64 = "float64"


def _model_loss(model, xs, ys, training):
    """The compiled loss of ``model`` on one batch: (value, gradients of every output, cache)."""
    outs, masks, cache = model.forward(xs, training=training)
    total, grads = 0.0, []
    for loss, weight, y, out, mask in zip(model.loss_objects, model.loss_weights, ys, outs, masks):
        value, grad = loss.value_and_grad(y, out, mask=mask)
        total += weight * float(value)
        grads.append(weight * grad)
    return total, grads, cache


def _check_model(model, xs, ys, training=False, tol=1e-7, eps=1e-5, only=None):
    """Analytic (model.backward) against numerical gradients (central differences with step
    ``eps``) for every parameter (or those named in ``only``) and every float input; returns the
    per-array errors."""
    calls = {layer.name: layer.rng_calls for layer in model.layers}

    def reset():
        for layer in model.layers:
            layer.rng_calls = calls[layer.name]

    def loss():
        reset()
        return _model_loss(model, xs, ys, training)[0]

    reset()
    model.zero_grad()
    _, d_outs, cache = _model_loss(model, xs, ys, training)
    d_inputs = model.backward(d_outs, cache)
    errors = {}
    params = dict(model.named_params())
    grads = dict(model.named_grads())
    assert set(params) == set(grads) and params
    for name, param in params.items():
        if only is not None and name not in only:
            continue
        errors[name] = relative_error(grads[name], numerical_gradient(loss, param, eps))
    for k, (x, d) in enumerate(zip(xs, d_inputs)):
        if np.asarray(x).dtype.kind == "f":
            errors[f"input{k}"] = relative_error(d, numerical_gradient(loss, x, eps))
    bad = {k: v for k, v in errors.items() if not v < tol}
    assert not bad, f"gradient mismatch: {bad}"
    return errors


def _graph_model():
    a = layers.Input(shape=(4, 3), dtype=F64, name="a")
    b = layers.Input(shape=(5, 3), dtype=F64, name="b")
    shared = layers.LSTM(4, return_sequences=True, dtype=F64, name="shared")
    ha = shared(a)
    hb = shared(b)                                                     # the same layer again
    enc_out, state_h, state_c = layers.LSTM(
        5, return_state=True, dropout=0.2, recurrent_dropout=0.3, dtype=F64, name="enc")(ha)
    dec = layers.LSTM(5, return_sequences=True, dtype=F64, name="dec")(
        layers.Dropout(0.25, dtype=F64, name="drop")(hb), initial_state=[state_h, state_c])
    dec_mean = layers.GlobalAveragePooling1D(dtype=F64, name="pool")(dec)
    merged = layers.Concatenate(dtype=F64, name="concat")([enc_out, dec_mean])
    probs = layers.Dense(3, activation="softmax", dtype=F64, name="probs")(merged)
    summed = layers.Add(dtype=F64, name="add")([enc_out, state_c, dec_mean])
    value = layers.Dense(2, activation="tanh", dtype=F64, name="value")(summed)
    model = rnnlab.Model([a, b], [probs, value])
    model.compile("sgd", loss=["categorical_crossentropy", "mse"], loss_weights=[1.0, 0.5])
    return model


def _graph_data(rng):
    xa = rng.standard_normal((3, 4, 3))
    xb = rng.standard_normal((3, 5, 3))
    y1 = np.eye(3)[rng.integers(0, 3, 3)]
    y2 = rng.standard_normal((3, 2))
    return [xa, xb], [y1, y2]


@pytest.mark.parametrize("training", [False, True], ids=["inference", "training-dropout"])
def test_functional_graph_gradients(rng, training):
    rnnlab.set_random_seed(10)
    model = _graph_model()
    xs, ys = _graph_data(rng)
    # every layer of the graph receives a gradient: backward reaches all of it
    errors = _check_model(model, xs, ys, training=training)
    names = [layer.name for layer in model.layers]
    layer_names = {names[int(name.split(".")[1])] for name in errors if name.startswith("layers.")}
    assert layer_names == {"shared", "enc", "dec", "probs", "value"}
    assert {"input0", "input1"} <= set(errors)


def test_graph_gradient_check_detects_a_broken_path(rng):
    """The check is sharp: dropping the gradient that flows through initial_state is caught."""
    rnnlab.set_random_seed(10)
    model = _graph_model()
    xs, ys = _graph_data(rng)
    dec = model.get_layer("dec")
    original = dec.backward

    def no_state_gradient(d_outputs, cache):
        out = original(d_outputs, cache)
        return [out[0]] + [np.zeros_like(s) for s in out[1:]]

    dec.backward = no_state_gradient
    enc = f"layers.{[layer.name for layer in model.layers].index('enc')}.cell.bias_ih"
    with pytest.raises(AssertionError, match=rf"gradient mismatch.*{enc}"):
        _check_model(model, xs, ys, only={enc})
    dec.backward = original
    _check_model(model, xs, ys, only={enc})


def test_shared_layer_gradients_add_up(rng):
    """A layer used twice gets the sum of both uses' parameter gradients: equal to the gradient
    of a copy of the graph in which the two uses are separate layers with the same weights."""
    rnnlab.set_random_seed(11)
    model = _graph_model()
    xs, ys = _graph_data(rng)
    model.zero_grad()
    _, d_outs, cache = _model_loss(model, xs, ys, False)
    model.backward(d_outs, cache)
    shared = dict(model.get_layer("shared").named_grads())

    config = model.get_config()
    spec = next(s for s in config["layers"] if s["config"]["name"] == "shared")
    twin = {"class_name": spec["class_name"], "config": dict(spec["config"], name="twin")}
    config["layers"].append(twin)
    second = [n for n in config["nodes"] if n["layer"] == "shared"][1]
    second["layer"] = "twin"
    split = rnnlab.Model.from_config(config)
    for layer in model.layers:
        split.get_layer(layer.name).set_weights(layer.get_weights())
    split.get_layer("twin").set_weights(model.get_layer("shared").get_weights())
    split.compile("sgd", loss=["categorical_crossentropy", "mse"], loss_weights=[1.0, 0.5])
    split.zero_grad()
    _, d_outs, cache = _model_loss(split, xs, ys, False)
    split.backward(d_outs, cache)
    one = dict(split.get_layer("shared").named_grads())
    two = dict(split.get_layer("twin").named_grads())
    for k in shared:
        assert np.any(one[k] != 0) and np.any(two[k] != 0)
        np.testing.assert_allclose(shared[k], one[k] + two[k], rtol=1e-12, atol=1e-15)


def _mask_model(return_sequences):
    rnnlab.set_random_seed(12)
    model = rnnlab.Sequential([
        layers.Embedding(9, 4, mask_zero=True, dtype=F64),
        layers.LSTM(5, return_sequences=return_sequences, dtype=F64),
        layers.Dense(2, dtype=F64),
    ])
    model.compile("sgd", "mse")
    return model


def _loss_and_grads(model, ids, y):
    model.zero_grad()
    value, d_outs, cache = _model_loss(model, [ids], [y], False)
    model.backward(d_outs, cache)
    return value, {k: v.copy() for k, v in model.named_grads()}


@pytest.mark.parametrize("padding", ["pre", "post"])
def test_masked_padding_equals_unpadded_last_output(rng, padding):
    model = _mask_model(return_sequences=False)
    seqs = [rng.integers(1, 9, n) for n in (2, 5, 3)]
    y = rng.standard_normal((3, 2))
    padded = rnnlab.utils.pad_sequences(seqs, maxlen=5, padding=padding)
    value, grads = _loss_and_grads(model, padded, y)
    # unpadded: one sequence at a time, averaged as the batch mean is
    ref_value, ref_grads = 0.0, {k: np.zeros_like(v) for k, v in grads.items()}
    for seq, target in zip(seqs, y):
        v, g = _loss_and_grads(model, seq[None, :], target[None, :])
        ref_value += v / len(seqs)
        for k in ref_grads:
            ref_grads[k] += g[k] / len(seqs)
    assert value == pytest.approx(ref_value, rel=1e-12, abs=1e-14)
    for k in grads:
        np.testing.assert_allclose(grads[k], ref_grads[k], rtol=1e-10, atol=1e-14, err_msg=k)
    # and the masked model's gradients are right in themselves
    _check_model(model, [padded], [y])


@pytest.mark.parametrize("padding", ["pre", "post"])
def test_masked_padding_equals_unpadded_sequence_loss(rng, padding):
    """return_sequences: padded steps carry no loss (the mean is over real steps only)."""
    model = _mask_model(return_sequences=True)
    lengths = (2, 5, 3)
    seqs = [rng.integers(1, 9, n) for n in lengths]
    targets = [rng.standard_normal((n, 2)) for n in lengths]
    padded = rnnlab.utils.pad_sequences(seqs, maxlen=5, padding=padding)
    y = np.zeros((3, 5, 2))
    for i, t in enumerate(targets):
        if padding == "pre":
            y[i, 5 - len(t):] = t
        else:
            y[i, :len(t)] = t
    y[padded == 0] = 100.0  # garbage at padded steps must not matter
    value, grads = _loss_and_grads(model, padded, y)
    total = sum(lengths)
    ref_value, ref_grads = 0.0, {k: np.zeros_like(v) for k, v in grads.items()}
    for seq, t in zip(seqs, targets):
        v, g = _loss_and_grads(model, seq[None, :], t[None, :])
        w = len(seq) / total  # the per-sequence mean, weighted by its number of real steps
        ref_value += w * v
        for k in ref_grads:
            ref_grads[k] += w * g[k]
    assert value == pytest.approx(ref_value, rel=1e-12, abs=1e-14)
    for k in grads:
        np.testing.assert_allclose(grads[k], ref_grads[k], rtol=1e-10, atol=1e-14, err_msg=k)
    _check_model(model, [padded], [y])
