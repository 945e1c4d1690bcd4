"""Gradient checks (float64 central differences, ``rnnlab.gradcheck``) of combinations the layer
matrices leave out: LSTM/GRU with non-default activations, ragged masks (rows of different
lengths, holes, an all-masked row), a stacked inner RNN in Bidirectional, TimeDistributed(RNN),
Bidirectional with truncate_gradient, and whole models of GRU, SimpleRNN and Bidirectional."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import rnnlab
from rnnlab import layers
from rnnlab.cells import GRUCell, LSTMCell, SimpleRNNCell
from rnnlab.gradcheck import check_layer, numerical_gradient, relative_error
from rnnlab.layers.bidirectional import Bidirectional
from rnnlab.layers.recurrent import GRU, LSTM, RNN, SimpleRNN

TOL = 1e-7
F64 = "float64"
N, T, D = 3, 5, 2
RAGGED = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], dtype=bool)
HOLES = np.array([[1, 0, 1, 1, 0], [0, 1, 1, 0, 1], [0, 0, 0, 0, 0]], dtype=bool)


def x_data(shape: tuple[int, ...] = (N, T, D), seed: int = 7) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("kind", [LSTM, GRU])
@pytest.mark.parametrize("activation,recurrent_activation", [
    ("relu", "sigmoid"), ("sigmoid", "hard_sigmoid"), ("linear", "tanh"), ("tanh", "relu")])
def test_lstm_gru_with_other_activations(kind: Any, activation: str,
                                         recurrent_activation: str) -> None:
    layer = kind(4, activation=activation, recurrent_activation=recurrent_activation,
                 return_sequences=True, dtype=F64, seed=2)
    report = check_layer(layer, 0.5 * x_data(), mask=RAGGED)
    assert report.max_error < TOL, report


@pytest.mark.parametrize("kind", [SimpleRNN, LSTM, GRU])
@pytest.mark.parametrize("mask", [RAGGED, HOLES], ids=["ragged", "holes"])
@pytest.mark.parametrize("sequences", [True, False])
def test_ragged_masks(kind: Any, mask: np.ndarray, sequences: bool) -> None:
    layer = kind(3, return_sequences=sequences, return_state=True, dtype=F64, seed=1)
    report = check_layer(layer, x_data(), mask=mask,
                         initial_state=[x_data((N, 3), 3)] * (2 if kind is LSTM else 1))
    assert report.max_error < TOL, report


@pytest.mark.parametrize("merge_mode", ["concat", "sum"])
def test_bidirectional_over_a_stacked_rnn(merge_mode: str) -> None:
    inner = RNN([SimpleRNNCell(3), GRUCell(2), LSTMCell(2)],
                return_sequences=True, dtype=F64, seed=4)
    layer = Bidirectional(inner, merge_mode=merge_mode, dtype=F64)
    report = check_layer(layer, x_data(), mask=RAGGED)
    assert report.max_error < TOL, report


@pytest.mark.parametrize("inner", [lambda: LSTM(3, dtype=F64, seed=5),
                                   lambda: GRU(2, return_sequences=True, dtype=F64, seed=5)],
                         ids=["lstm-last", "gru-sequences"])
def test_time_distributed_rnn(inner: Any) -> None:
    layer = layers.TimeDistributed(inner(), dtype=F64)
    report = check_layer(layer, x_data((2, 3, 4, D)))
    assert report.max_error < TOL, report


def test_bidirectional_truncate_gradient_without_effect_is_the_full_gradient() -> None:
    """k >= T: truncation does nothing, so central differences of the true loss apply."""
    layer = Bidirectional(LSTM(3, return_sequences=True, truncate_gradient=T, dtype=F64,
                               seed=6), dtype=F64)
    report = check_layer(layer, x_data(), mask=RAGGED)
    assert report.max_error < TOL, report


@pytest.mark.parametrize("k", [1, 2, 4])
def test_bidirectional_truncate_gradient_is_its_two_truncated_directions(k: int) -> None:
    """k < T: the wrapper's gradients are those of its two directions run as layers of their
    own with the same truncation (each checked against the truncated-BPTT reference in
    tests/layers/test_recurrent.py), and differ from the untruncated ones."""
    x = x_data()
    rng = np.random.default_rng(1)
    layer = Bidirectional(GRU(3, return_sequences=True, truncate_gradient=k, dtype=F64, seed=6),
                          merge_mode="concat", dtype=F64)
    out = layer(x)
    g = rng.standard_normal(out.shape)
    layer.zero_grad()
    _, cache = layer.forward(x)
    d_x = layer.backward(g, cache)
    grads = dict(layer.named_grads())
    total = np.zeros_like(x)
    for side, go_backwards, part in (("forward_layer", False, g[..., :3]),
                                     ("backward_layer", True, g[..., 3:])):
        alone = GRU(3, return_sequences=True, truncate_gradient=k, go_backwards=go_backwards,
                    dtype=F64)
        alone(x)
        alone.set_weights(getattr(layer, side).get_weights())
        alone.zero_grad()
        _, c = alone.forward(x)
        total += alone.backward(part[:, ::-1] if go_backwards else part, c)
        for name, grad in alone.named_grads():
            np.testing.assert_allclose(grads[f"{side}.{name}"], grad, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(d_x, total, rtol=1e-12, atol=1e-14)
    full = Bidirectional(GRU(3, return_sequences=True, dtype=F64), dtype=F64)
    full(x)
    full.set_weights(layer.get_weights())
    _, c = full.forward(x)
    assert relative_error(full.backward(g, c), d_x) > 1e-6  # truncation is in effect


# -- whole models ----------------------------------------------------------------------------------
def check_model(model: Any, x: np.ndarray, y: np.ndarray, eps: float = 1e-6) -> dict[str, float]:
    """model.backward against central differences of the compiled loss, every parameter."""
    def loss() -> float:
        outs, masks, _ = model.forward([x], training=False)
        return float(model.loss_objects[0].value_and_grad(y, outs[0], mask=masks[0])[0])

    model.zero_grad()
    outs, masks, cache = model.forward([x], training=False)
    _, d_out = model.loss_objects[0].value_and_grad(y, outs[0], mask=masks[0])
    model.backward([d_out], cache)
    grads = dict(model.named_grads())
    errors = {name: relative_error(grads[name], numerical_gradient(loss, p, eps))
              for name, p in model.named_params()}
    assert errors
    return errors


@pytest.mark.parametrize("build", [
    lambda: [layers.GRU(4, return_sequences=True, reset_after=False, dtype=F64),
             layers.GRU(3, dtype=F64)],
    lambda: [layers.SimpleRNN(4, return_sequences=True, activation="relu", dtype=F64),
             layers.SimpleRNN(3, dtype=F64)],
    lambda: [layers.Bidirectional(layers.GRU(3, return_sequences=True, dtype=F64), dtype=F64),
             layers.Bidirectional(layers.SimpleRNN(2, go_backwards=True, dtype=F64),
                                  merge_mode="ave", dtype=F64)],
], ids=["gru", "simple_rnn", "bidirectional"])
def test_model_level_gradients(build: Any) -> None:
    rnnlab.set_random_seed(11)
    ids = np.array([[3, 1, 4, 1, 5], [0, 0, 2, 6, 5], [0, 0, 0, 0, 7]])  # pre-padded, ragged
    model = rnnlab.Sequential([layers.Embedding(8, D, mask_zero=True, dtype=F64), *build(),
                               layers.Dense(2, dtype=F64)])
    model.compile(optimizer="sgd", loss="mse")
    model.build((None, T))
    y = np.random.default_rng(2).standard_normal((N, 2))
    errors = check_model(model, ids, y, eps=1e-5)  # as the other model checks: roundoff
    assert max(errors.values()) < TOL, errors
