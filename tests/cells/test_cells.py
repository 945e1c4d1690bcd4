"""Cells: gradient checks of every built-in cell, a user-defined cell written only against the
contract in ``rnnlab.cells.base``, and property tests of the RNN loop around ``cell.step``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab.cells import Cell, GRUCell, LSTMCell, SimpleRNNCell
from rnnlab.gradcheck import check_cell, check_layer
from rnnlab.initializers import RandomUniform
from rnnlab.layers.recurrent import RNN

TOL = 1e-7
BIAS = RandomUniform(-0.5, 0.5)                      # non-zero biases, so their gradients count

BUILT_IN = {
    "simple_tanh": lambda: SimpleRNNCell(3, bias_initializer=BIAS),
    "simple_relu": lambda: SimpleRNNCell(3, activation="relu", bias_initializer=BIAS,
                                         recurrent_bias=True),
    "simple_sigmoid_nobias": lambda: SimpleRNNCell(2, activation="sigmoid", use_bias=False),
    "lstm": lambda: LSTMCell(3, bias_initializer=BIAS),
    "lstm_two_biases": lambda: LSTMCell(2, bias_initializer=BIAS, recurrent_bias=True),
    "lstm_hard_sigmoid": lambda: LSTMCell(3, recurrent_activation="hard_sigmoid",
                                          bias_initializer=BIAS),
    "lstm_nobias": lambda: LSTMCell(3, use_bias=False),
    "gru": lambda: GRUCell(3, bias_initializer=BIAS),
    "gru_one_bias": lambda: GRUCell(3, bias_initializer=BIAS, recurrent_bias=False),
    "gru_reset_before": lambda: GRUCell(3, reset_after=False, bias_initializer=BIAS),
    "gru_nobias": lambda: GRUCell(2, use_bias=False),
}


@pytest.mark.parametrize("name", list(BUILT_IN))
def test_check_cell_built_in(name: str) -> None:
    report = check_cell(BUILT_IN[name]())
    assert report.max_error < TOL, report
    assert {"input0", "initial_state0", "cell.weight_ih", "cell.weight_hh"} <= set(report.errors)


# -- a user-defined cell, written only against the contract in cells/base.py ----------------------
class MinimalRNNCell(Cell):
    """MinimalRNN (Chen, 2017), with two input projections:

        p = x W^T            W (2H, D): p = [p_z | p_n]
        z = σ(p_z + h U^T + b)
        h' = z ⊙ h + (1 - z) ⊙ tanh(p_n)
    """

    def __init__(self, units: int) -> None:
        super().__init__()
        self.units = units
        self.state_size = (units,)
        self.output_size = units

    def build(self, input_dim: int, dtype: str, rng: np.random.Generator) -> None:
        super().build(input_dim, dtype, rng)
        h = self.units
        self.add_param("weight", rng.uniform(-0.7, 0.7, (2 * h, input_dim)).astype(dtype))
        self.add_param("recurrent", rng.uniform(-0.7, 0.7, (h, h)).astype(dtype))
        self.add_param("bias", rng.uniform(-0.5, 0.5, h).astype(dtype))

    def project_inputs(self, x: np.ndarray) -> np.ndarray:
        return x @ self.params["weight"].T

    def step(self, p_t: np.ndarray, state: tuple, rec_mask: Any) -> tuple[Any, tuple, Any]:
        h = state[0]
        hm = h if rec_mask is None else h * rec_mask
        a = p_t[:, :self.units] + hm @ self.params["recurrent"].T + self.params["bias"]
        z = 0.5 * (1.0 + np.tanh(0.5 * a))              # σ(a), without overflow
        n = np.tanh(p_t[:, self.units:])
        new = z * h + (1.0 - z) * n
        return new, (new,), (hm, h, z, n, rec_mask)

    def step_backward(self, dy: np.ndarray, dstate: tuple, cache: Any) -> tuple[Any, tuple]:
        _, h, z, n, rec_mask = cache
        dh = dy + dstate[0]
        da = dh * (h - n) * z * (1.0 - z)                # pre-activation of z
        dn = dh * (1.0 - z) * (1.0 - n * n)              # pre-activation of n
        drec = da @ self.params["recurrent"]
        if rec_mask is not None:
            drec = drec * rec_mask
        return np.concatenate([da, dn], axis=1), (dh * z + drec,)

    def params_backward(self, x: np.ndarray, dP: np.ndarray, caches: list[Any]) -> np.ndarray:
        hm = np.stack([c[0] for c in caches], axis=1)    # (N, T, H)
        da = dP[..., :self.units]
        self.grads["recurrent"] += np.einsum("nti,ntj->ij", da, hm)
        self.grads["bias"] += da.sum(axis=(0, 1))
        self.grads["weight"] += np.einsum("ntp,ntd->pd", dP, x)
        return dP @ self.params["weight"]


class BrokenMinimalRNNCell(MinimalRNNCell):
    """The same cell with the state-carry term z ⊙ h forgotten in the backward step."""

    def step_backward(self, dy: np.ndarray, dstate: tuple, cache: Any) -> tuple[Any, tuple]:
        dp, (dh_prev,) = super().step_backward(dy, dstate, cache)
        return dp, (dh_prev - (dy + dstate[0]) * cache[2],)


def test_user_defined_cell_passes_check_cell() -> None:
    report = check_cell(MinimalRNNCell(3), input_dim=2, batch=3, steps=5)
    assert set(report.errors) == {"cell.weight", "cell.recurrent", "cell.bias", "input0",
                                  "initial_state0"}
    assert report.max_error < TOL, report


def test_check_cell_catches_a_wrong_backward_step() -> None:
    assert check_cell(BrokenMinimalRNNCell(3)).max_error > 1e-3


def test_user_defined_cell_runs_in_rnn_with_every_feature() -> None:
    """Masks, go_backwards and stacking with a built-in cell work for a new cell."""
    rng = np.random.default_rng(0)
    layer = RNN([MinimalRNNCell(3), LSTMCell(2, bias_initializer=BIAS)], return_sequences=True,
                return_state=True, go_backwards=True, dtype="float64", seed=1)
    x = rng.standard_normal((2, 4, 3))
    mask = np.array([[1, 1, 0, 1], [0, 1, 1, 1]], dtype=bool)
    out = layer(x, mask=mask)
    assert [o.shape for o in out] == [(2, 4, 2), (2, 3), (2, 2), (2, 2)]
    states = [rng.standard_normal((2, s)) for s in layer.state_sizes]
    report = check_layer(layer, x, mask=mask, initial_state=states)
    assert report.max_error < TOL, report


# -- properties -----------------------------------------------------------------------------------
KINDS = ["simple", "lstm", "gru", "gru_v1", "minimal"]


def make(kind: str, h: int) -> Cell:
    if kind == "simple":
        return SimpleRNNCell(h, bias_initializer=BIAS, recurrent_bias=True)
    if kind == "lstm":
        return LSTMCell(h, bias_initializer=BIAS)
    if kind == "minimal":
        return MinimalRNNCell(h)
    return GRUCell(h, reset_after=kind == "gru", bias_initializer=BIAS)


def hand_loop(cell: Cell, x: np.ndarray, state: tuple, mask: np.ndarray | None,
              go_backwards: bool) -> tuple[np.ndarray, tuple]:
    """Keras's semantics from ``cell.step`` alone: outputs in processing order; a masked step keeps
    the state and repeats the previous output (zeros before the first unmasked step)."""
    times = range(x.shape[1] - 1, -1, -1) if go_backwards else range(x.shape[1])
    y_prev = np.zeros((x.shape[0], cell.output_size))
    ys = []
    for t in times:
        y, new, _ = cell.step(cell.project_inputs(x[:, t:t + 1])[:, 0], state, None)
        if mask is not None:
            m = mask[:, t, None]
            new = tuple(np.where(m, a, b) for a, b in zip(new, state, strict=True))
            y = np.where(m, y, y_prev)
        state, y_prev = new, y
        ys.append(y)
    return np.stack(ys, axis=1), state


def setup(kind: str, n: int, t: int, d: int, h: int, seed: int,
          masked: bool = False, go_backwards: bool = False) -> tuple[Any, ...]:
    rng = np.random.default_rng(seed)
    layer = RNN(make(kind, h), return_sequences=True, return_state=True,
                go_backwards=go_backwards, dtype="float64", seed=seed)
    x = rng.standard_normal((n, t, d))
    layer.build((None, t, d))
    states = [rng.standard_normal((n, s)) for s in layer.state_sizes]
    mask = rng.random((n, t)) < 0.7 if masked else None
    return layer, x, states, mask, rng


SIZES = dict(kind=st.sampled_from(KINDS), n=st.integers(1, 3), t=st.integers(1, 5),
             d=st.integers(1, 3), h=st.integers(1, 3), seed=st.integers(0, 2**16))


@settings(max_examples=15, deadline=None)
@given(masked=st.booleans(), go_backwards=st.booleans(), **SIZES)
def test_rnn_equals_a_hand_loop_of_step(kind: str, n: int, t: int, d: int, h: int, seed: int,
                                        masked: bool, go_backwards: bool) -> None:
    layer, x, states, mask, _ = setup(kind, n, t, d, h, seed, masked, go_backwards)
    out = layer(x, initial_state=states, mask=mask)
    ys, final = hand_loop(layer.cell, x, tuple(states), mask, go_backwards)
    np.testing.assert_allclose(out[0], ys, rtol=1e-12, atol=1e-14)
    for a, b in zip(out[1:], final, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@settings(max_examples=10, deadline=None)
@given(**SIZES)
def test_samples_are_independent(kind: str, n: int, t: int, d: int, h: int, seed: int) -> None:
    layer, x, states, mask, rng = setup(kind, n + 1, t, d, h, seed, masked=True)
    out = layer(x, initial_state=states, mask=mask)
    changed = x.copy()
    changed[1:] = rng.standard_normal(changed[1:].shape)      # every other sample changes
    out_changed = layer(changed, initial_state=states, mask=mask)
    alone = layer(x[:1], initial_state=[s[:1] for s in states], mask=mask[:1])
    for a, b, c in zip(out, out_changed, alone, strict=True):
        np.testing.assert_allclose(a[:1], b[:1], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(a[:1], c, rtol=1e-12, atol=1e-14)


@settings(max_examples=10, deadline=None)
@given(a=st.floats(-3, 3), b=st.floats(-3, 3), **SIZES)
def test_gradients_are_linear_in_the_upstream_gradient(kind: str, n: int, t: int, d: int, h: int,
                                                       seed: int, a: float, b: float) -> None:
    layer, x, states, mask, rng = setup(kind, n, t, d, h, seed, masked=True)
    out, cache = layer.forward(x, initial_state=states, mask=mask)
    g1 = [rng.standard_normal(o.shape) for o in out]
    g2 = [rng.standard_normal(o.shape) for o in out]

    def grads(g: list[np.ndarray]) -> list[np.ndarray]:
        layer.zero_grad()
        d_in = layer.backward(g, cache)
        return list(d_in) + [v.copy() for _, v in layer.named_grads()]

    combined = grads([a * u + b * v for u, v in zip(g1, g2, strict=True)])
    for c, u, v in zip(combined, grads(g1), grads(g2), strict=True):
        np.testing.assert_allclose(c, a * u + b * v, rtol=1e-9, atol=1e-11)
