"""``backward_params``: a layer fed by model inputs skips its input-gradient work in training
but adds exactly the same parameter gradients as ``backward`` (every engine, stacks,
bidirectional, masks, dropout), and models trained with it end bit-identical."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rnnlab import kernels
from rnnlab.cells import LSTMCell
from rnnlab.layers import GRU, LSTM, RNN, Add, Bidirectional, Dense, Input, SimpleRNN
from rnnlab.models import Model, Sequential
from rnnlab.random import set_random_seed

ENGINES = ["reference", pytest.param("compiled", marks=pytest.mark.skipif(
    not kernels.numba_status()[0], reason="numba engine unavailable"))]


@pytest.fixture
def engine(request: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(kernels, "_env_default", [kernels.check_engine(request.param)])
    return request.param


def _layer_cases() -> list[tuple[str, Any]]:
    return [
        ("dense", lambda: Dense(5, activation="tanh", dtype="float64")),
        ("simple_rnn", lambda: SimpleRNN(4, return_sequences=True, dtype="float64")),
        ("lstm_stack", lambda: RNN([LSTMCell(4), LSTMCell(3)], dtype="float64")),
        ("gru_dropout", lambda: GRU(4, dropout=0.3, recurrent_dropout=0.2, seed=3,
                                    dtype="float64")),
        ("bilstm", lambda: Bidirectional(LSTM(3, return_sequences=True, dtype="float64"))),
    ]


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
@pytest.mark.parametrize("name,make", _layer_cases(), ids=[c[0] for c in _layer_cases()])
def test_backward_params_adds_the_same_gradients(engine: str, name: str, make: Any) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 6, 5))
    mask = np.ones((3, 6), dtype=bool)
    mask[1, 4:] = False
    results = []
    d = None
    for method in ("backward", "backward_params"):
        set_random_seed(1)
        layer = make()
        kw = {} if name == "dense" else {"mask": mask}
        out, cache = layer.forward(x, training=True, **kw)
        if d is None:
            d = rng.standard_normal(np.shape(out))
        layer.zero_grad()
        ret = getattr(layer, method)(d, cache)
        if method == "backward_params":
            assert ret is None
        results.append({k: g.copy() for k, g in layer.named_grads()})
    assert results[0].keys() == results[1].keys() and results[0]
    for k in results[0]:
        np.testing.assert_array_equal(results[0][k], results[1][k], err_msg=k)


def _sequential() -> Sequential:
    return Sequential([Input((7, 4)), LSTM(5, return_sequences=True), GRU(3), Dense(2)])


def _functional() -> Model:
    a, b = Input((7, 4)), Input((3,))
    h, s, c = LSTM(5, return_state=True)(a)
    z = Dense(5)(b)
    out = Dense(2)(Add()([h, z, s]))
    return Model([a, b], out)


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
@pytest.mark.parametrize("build", [_sequential, _functional], ids=["sequential", "functional"])
def test_model_backward_without_input_grads(engine: str, build: Any) -> None:
    rng = np.random.default_rng(2)
    set_random_seed(0)
    model = build()
    xs = [rng.standard_normal((6, 7, 4)).astype(np.float32)]
    if isinstance(model, Model):
        xs.append(rng.standard_normal((6, 3)).astype(np.float32))
    outs, _, cache = model.forward(xs, training=True)
    d = [rng.standard_normal(o.shape).astype(np.float32) for o in outs]
    got = []
    for flag in (True, False):
        model.zero_grad()
        d_in = model.backward(d, cache, input_grads=flag)
        assert all((g is None) != flag for g in d_in)
        got.append({k: g.copy() for k, g in model.named_grads()})
    for k in got[0]:
        np.testing.assert_array_equal(got[0][k], got[1][k], err_msg=k)


@pytest.mark.skipif(not kernels.numba_status()[0], reason="numba engine unavailable")
def test_training_skips_the_input_gradient_product(monkeypatch: pytest.MonkeyPatch) -> None:
    """train_on_batch asks for no input gradient: the first recurrent layer's dX product is
    not computed (driver.params_backward gets need_dx=False), the second's is."""
    from rnnlab.kernels import driver

    monkeypatch.setattr(kernels, "_env_default", [kernels.check_engine("compiled")])
    seen: list[bool] = []
    real = driver.params_backward

    def spy(q: Any, cell: Any, dZ: Any, need_dx: bool = True) -> Any:
        seen.append(need_dx)
        return real(q, cell, dZ, need_dx)

    monkeypatch.setattr(driver, "params_backward", spy)
    set_random_seed(0)
    model = Sequential([Input((5, 3)), LSTM(4, return_sequences=True), LSTM(2), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.train_on_batch(np.ones((2, 5, 3), np.float32), np.ones((2, 1), np.float32))
    assert seen == [True, False]
