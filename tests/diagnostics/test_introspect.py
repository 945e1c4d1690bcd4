"""introspect: gates equal an independent recomputation, states carried through masks, and
diagnostics leave the model bit-identical (predictions, weights, random counters, seeds)."""

from __future__ import annotations

import gc

import numpy as np
import pytest

from rnnlab import random as rnd
from rnnlab.diagnostics import gradient_flow, introspect
from rnnlab.layers import GRU, LSTM, Bidirectional, Dense, Dropout, Masking, SimpleRNN
from rnnlab.models import Sequential


def _sig(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def test_lstm_gates_and_states_equal_the_equations() -> None:
    rng = np.random.default_rng(0)
    model = Sequential([LSTM(3, input_shape=(6, 2), dtype="float64"), Dense(1)])
    x = rng.standard_normal((4, 6, 2))
    seen = introspect(model, x)
    key = model.layers[0].name
    cell = model.layers[0].cell
    W, U, b = cell.params["weight_ih"], cell.params["weight_hh"], cell.params["bias_ih"]
    h, c = np.zeros((4, 3)), np.zeros((4, 3))
    for t in range(6):
        z = x[:, t] @ W.T + h @ U.T + b
        i, f, g, o = _sig(z[:, :3]), _sig(z[:, 3:6]), np.tanh(z[:, 6:9]), _sig(z[:, 9:])
        c = f * c + i * g
        h = o * np.tanh(c)
        for name, v in zip("ifgo", (i, f, g, o)):
            np.testing.assert_allclose(seen.gates[key][name][:, t], v, rtol=1e-12)
        np.testing.assert_allclose(seen.hidden[key][:, t], h, rtol=1e-12)
        np.testing.assert_allclose(seen.cell[key][:, t], c, rtol=1e-12)
    f_all = seen.gates[key]["f"]
    assert seen.saturation[key]["f"] == pytest.approx(
        float(((f_all < 0.05) | (f_all > 0.95)).mean()))


def test_gru_gate_names_masked_states_and_saturation() -> None:
    rng = np.random.default_rng(1)
    model = Sequential([Masking(0.0, input_shape=(5, 2)), Bidirectional(GRU(3)), Dense(1)])
    x = rng.standard_normal((3, 5, 2))
    x[0, 3:] = 0.0
    seen = introspect(model, x)
    fwd = f"{model.layers[1].name}/forward_layer"
    bwd = f"{model.layers[1].name}/backward_layer"
    assert set(seen.gates[fwd]) == {"r", "z", "n"}
    assert seen.gates[fwd]["z"].shape == (3, 5, 3)
    # a masked step carries the previous state
    np.testing.assert_array_equal(seen.hidden[fwd][0, 3], seen.hidden[fwd][0, 2])
    np.testing.assert_array_equal(seen.hidden[fwd][0, 4], seen.hidden[fwd][0, 2])
    # the backward direction starts at the last valid step: the padded steps keep zeros
    np.testing.assert_array_equal(seen.hidden[bwd][0, 3:], 0.0)
    for share in seen.saturation[fwd].values():
        assert 0.0 <= share <= 1.0


def _state(model: Sequential) -> tuple:
    return ([w.copy() for w in model.get_weights()], [layer.rng_calls for layer in model.layers],
            model.optimizer.state_dict() if model.optimizer is not None else None)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_diagnostics_leave_the_model_bit_identical(dtype: str) -> None:
    rng = np.random.default_rng(2)
    rnd.set_random_seed(3)
    model = Sequential([LSTM(4, input_shape=(6, 2), return_sequences=True, dropout=0.2,
                             recurrent_dropout=0.2, dtype=dtype, truncate_gradient=2),
                        Dropout(0.3), SimpleRNN(3, dtype=dtype), Dense(1, dtype=dtype)])
    model.compile("adam", "mse")
    x, y = rng.standard_normal((5, 6, 2)), rng.standard_normal((5, 1))
    model.train_on_batch(x, y)               # optimizer slots and random counters in use
    before_pred = model.predict(x, verbose=0)
    weights, calls, slots = _state(model)
    rnd.set_random_seed(11)
    gradient_flow(model, x, y)
    gradient_flow(model, x, y, truncated=True)
    introspect(model, x)
    seed_after = rnd.next_seed()
    rnd.set_random_seed(11)
    assert seed_after == rnd.next_seed()     # the global seed stream did not move
    np.testing.assert_array_equal(model.predict(x, verbose=0), before_pred)
    w2, calls2, slots2 = _state(model)
    assert calls2 == calls
    assert model.layers[0].truncate_gradient == 2
    for a, b in zip(weights, w2):
        assert a.dtype == b.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(a, b)
    assert slots.keys() == slots2.keys()
    for k in slots:
        np.testing.assert_array_equal(slots[k], slots2[k])


def test_diagnostics_leave_no_model_copies_behind() -> None:
    """The float64 copies are freed once dropped (the Keras-style symbolic graph of a model is
    cyclic by nature, so freeing may take a collection; nothing may stay alive)."""
    model = Sequential([LSTM(3, input_shape=(5, 2), return_sequences=True),
                        Bidirectional(GRU(2)), Dense(1)])
    model.compile("sgd", "mse")
    x, y = np.ones((4, 5, 2)), np.ones((4, 1))

    def live_models() -> int:
        gc.collect()
        return sum(isinstance(o, Sequential) for o in gc.get_objects())

    gradient_flow(model, x, y)
    introspect(model, x)
    before = live_models()
    for _ in range(3):
        gradient_flow(model, x, y)
        introspect(model, x)
    assert live_models() == before


def test_clear_errors() -> None:
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="no recurrent layer"):
        gradient_flow(model, np.zeros((2, 3)), np.zeros((2, 1)))
    uncompiled = Sequential([LSTM(2, input_shape=(3, 1))])
    with pytest.raises(ValueError, match="compiled"):
        gradient_flow(uncompiled, np.zeros((2, 3, 1)), np.zeros((2, 2)))


def test_plots_and_heatmap_render(tmp_path) -> None:
    rng = np.random.default_rng(4)
    model = Sequential([LSTM(4, input_shape=(12, 3), return_sequences=True), GRU(3), Dense(1)])
    model.compile("sgd", "mse")
    x, y = rng.standard_normal((3, 12, 3)), rng.standard_normal((3, 1))
    flow = gradient_flow(model, x, y)
    seen = introspect(model, x)
    for name, fig in (("flow", flow.plot()), ("gates", seen.plot()),
                      ("heat", seen.heatmap(model.layers[0].name, "hello, world", [0, 2]))):
        fig.savefig(tmp_path / f"{name}.png")
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="out of range"):
        seen.heatmap(model.layers[0].name, "abc", [9])
    # h of both layers, c of the LSTM, the Jacobians of both: 5 series of 12 steps
    assert len(flow.rows()) == 5 * 12
