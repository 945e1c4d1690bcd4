"""gradient_flow against PyTorch autograd on an unrolled loop and against central differences
(float64), for SimpleRNN, LSTM, GRU, stacked, bidirectional and masked layers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from rnnlab.cells import GRUCell, LSTMCell, SimpleRNNCell
from rnnlab.diagnostics import gradient_flow
from rnnlab.layers import GRU, LSTM, RNN, Bidirectional, Dense, Masking, SimpleRNN
from rnnlab.models import Sequential

# -- the oracle: the model's layers as an explicit unrolled loop in PyTorch (float64), every
#    step's new hidden (and cell) state kept, with an optional additive perturbation of one
#    step's new hidden state (for central differences)

F = torch.float64


def _w(cell: Any) -> dict[str, torch.Tensor]:
    return {k: torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True)
            for k, v in cell.params.items()}


def _lin(x: torch.Tensor, W: dict[str, torch.Tensor], h: torch.Tensor) -> tuple[Any, Any]:
    gi = x @ W["weight_ih"].T + W.get("bias_ih", 0)
    gh = h @ W["weight_hh"].T + W.get("bias_hh", 0)
    return gi, gh


def step(cell: Any, W: dict[str, torch.Tensor], x: torch.Tensor, state: tuple[Any, ...]
         ) -> tuple[torch.Tensor, ...]:
    H = cell.units
    if type(cell) is SimpleRNNCell:
        gi, gh = _lin(x, W, state[0])
        return (torch.tanh(gi + gh),)
    if type(cell) is LSTMCell:
        h, c = state
        gi, gh = _lin(x, W, h)
        z = gi + gh
        i, f = torch.sigmoid(z[:, :H]), torch.sigmoid(z[:, H:2 * H])
        g, o = torch.tanh(z[:, 2 * H:3 * H]), torch.sigmoid(z[:, 3 * H:])
        c_new = f * c + i * g
        return o * torch.tanh(c_new), c_new
    if type(cell) is GRUCell:
        assert cell.reset_after
        h = state[0]
        gi, gh = _lin(x, W, h)
        r = torch.sigmoid(gi[:, :H] + gh[:, :H])
        z = torch.sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
        n = torch.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
        return ((1 - z) * n + z * h,)
    raise TypeError(type(cell))


class Unrolled:
    """Run ``model`` (a Sequential of Masking, recurrent, Bidirectional and Dense layers)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.steps: dict[str, dict[int, tuple[torch.Tensor, ...]]] = {}
        self.finals: dict[str, torch.Tensor] = {}

    def __call__(self, x: np.ndarray, perturb: dict[tuple[str, int], torch.Tensor] | None = None
                 ) -> torch.Tensor:
        self.steps, self.finals = {}, {}
        v = torch.tensor(np.asarray(x, dtype=np.float64))
        mask = None
        for layer in self.model.layers:
            if isinstance(layer, Masking):
                keep = (v != layer.mask_value).any(-1)
                v, mask = v * keep[..., None], keep
            elif isinstance(layer, RNN):
                v = self.rnn(layer, layer.name, v, mask, perturb or {})
                mask = mask if layer.return_sequences else None
            elif isinstance(layer, Bidirectional):
                f = self.rnn(layer.forward_layer, f"{layer.name}/forward_layer", v, mask,
                             perturb or {})
                b = self.rnn(layer.backward_layer, f"{layer.name}/backward_layer", v, mask,
                             perturb or {})
                if layer.return_sequences:
                    b = b.flip(1)
                v = torch.cat([f, b], -1)
                mask = mask if layer.return_sequences else None
            elif isinstance(layer, Dense):
                W = {k: torch.tensor(np.asarray(a, dtype=np.float64))
                     for k, a in layer.params.items()}
                v = v @ W["weight"].T + W["bias"]
            else:
                raise TypeError(type(layer))
        return v

    def rnn(self, layer: Any, key: str, x: torch.Tensor, mask: Any,
            perturb: dict[tuple[str, int], torch.Tensor]) -> torch.Tensor:
        N, T, _ = x.shape
        seq = x
        for ci, cell in enumerate(layer.cells):
            name = key if len(layer.cells) == 1 else f"{key}/cells.{ci}"
            W = _w(cell)
            state = tuple(torch.zeros(N, s, dtype=F) for s in cell.state_size)
            y_prev = torch.zeros(N, cell.output_size, dtype=F)
            outs: list[Any] = [None] * T
            self.steps[name] = {}
            times = range(T - 1, -1, -1) if layer.go_backwards else range(T)
            for t in times:
                new = step(cell, W, seq[:, t], state)
                if (name, t) in perturb:
                    new = (new[0] + perturb[(name, t)],) + tuple(new[1:])
                for s in new:
                    if s.requires_grad:
                        s.retain_grad()
                self.steps[name][t] = new
                if mask is None:
                    state, y = new, new[0]
                else:
                    m = mask[:, t, None]
                    state = tuple(torch.where(m, a, b) for a, b in zip(new, state))
                    y = torch.where(m, new[0], torch.zeros_like(y_prev)
                                    if layer.zero_output_for_mask else y_prev)
                outs[t] = y_prev = y
            self.finals[name] = state[0]
            seq = torch.stack(outs, 1)
        if layer.return_sequences:
            return seq.flip(1) if layer.go_backwards else seq
        return y_prev


def mse(out: torch.Tensor, y: np.ndarray) -> torch.Tensor:
    return ((out - torch.tensor(np.asarray(y, dtype=np.float64))) ** 2).mean()


def batch_mean(norms: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
    if valid is None:
        return norms.mean(0)
    return np.where(valid, norms, 0).sum(0) / np.maximum(valid.sum(0), 1)


# -- the tests
N, T, D = 3, 5, 2


def _model(kind: str) -> Sequential:
    shape = {"input_shape": (T, D)}
    layers = {
        "simple_rnn": lambda: [SimpleRNN(4, **shape)],
        "lstm": lambda: [LSTM(4, **shape)],
        "gru": lambda: [GRU(4, **shape)],
        "stacked": lambda: [LSTM(3, return_sequences=True, **shape),
                            RNN([GRUCell(3), LSTMCell(2)])],
        "bidirectional": lambda: [Bidirectional(GRU(3, return_sequences=True), input_shape=(T, D)),
                                  Bidirectional(LSTM(2))],
        "masked": lambda: [Masking(0.0, input_shape=(T, D)), LSTM(3, return_sequences=True),
                           Bidirectional(SimpleRNN(2))],
    }[kind]()
    model = Sequential(layers + [Dense(1)])
    model.compile("sgd", "mse")
    return model


def _data(kind: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((N, T, D))
    if kind == "masked":
        x[0, 3:] = 0.0          # post-padded
        x[1, :2] = 0.0          # pre-padded
    return x, rng.standard_normal((N, 1))


def _valid(model: Sequential, x: np.ndarray) -> np.ndarray | None:
    return (x != 0).any(-1) if isinstance(model.layers[0], Masking) else None


def _torch_norms(model: Sequential, x: np.ndarray, y: np.ndarray
                 ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], Unrolled]:
    net = Unrolled(model)
    loss = mse(net(x), y)
    loss.backward()
    valid = _valid(model, x)
    h, c = {}, {}
    for key, steps in net.steps.items():
        def norms(k: int, steps: dict[int, Any] = steps) -> np.ndarray:
            out = np.zeros((N, T))
            for t, s in steps.items():
                if s[k].grad is not None:
                    out[:, t] = s[k].grad.norm(dim=-1).numpy()
            return out
        h[key] = batch_mean(norms(0), valid)
        if len(steps[0]) > 1:
            c[key] = batch_mean(norms(1), valid)
    return h, c, net


KINDS = ["simple_rnn", "lstm", "gru", "stacked", "bidirectional", "masked"]


@pytest.mark.parametrize("kind", KINDS)
def test_state_gradients_equal_torch_autograd(kind: str) -> None:
    model = _model(kind)
    x, y = _data(kind)
    flow = gradient_flow(model, x.astype("float32"), y, jacobian=False)
    # the oracle sees the float32 inputs too (the model's own dtype)
    h, c, _ = _torch_norms(model, x.astype("float32"), y)
    assert set(flow.state_grad_norm) == set(h)
    assert set(flow.cell_grad_norm) == set(c)
    for key in h:
        np.testing.assert_allclose(flow.state_grad_norm[key], h[key], rtol=1e-6, atol=0)
        assert (h[key] > 0).all()
    for key in c:
        np.testing.assert_allclose(flow.cell_grad_norm[key], c[key], rtol=1e-6, atol=0)


@pytest.mark.parametrize("kind", ["lstm", "stacked", "bidirectional", "masked"])
def test_state_gradients_equal_central_differences(kind: str) -> None:
    model = _model(kind)
    x, y = _data(kind)
    flow = gradient_flow(model, x, y, jacobian=False)
    net = Unrolled(model)
    valid = _valid(model, x)
    eps = 1e-6
    with torch.no_grad():
        net(x)
        widths = {k: s[0][0].shape[1] for k, s in net.steps.items()}
        for key, H in widths.items():
            grad = np.zeros((N, T, H))
            for t in range(T):
                for n in range(N):
                    for j in range(H):
                        d = torch.zeros(N, H, dtype=torch.float64)
                        d[n, j] = eps
                        up = float(mse(net(x, {(key, t): d}), y))
                        down = float(mse(net(x, {(key, t): -d}), y))
                        grad[n, t, j] = (up - down) / (2 * eps)
            numeric = batch_mean(np.linalg.norm(grad, axis=-1), valid)
            ours = flow.state_grad_norm[key]
            assert np.abs(ours - numeric).max() <= 1e-6 * ours.max(), key


def test_truncate_gradient_layers_get_full_bptt_by_default() -> None:
    x, y = _data("lstm")
    full = _model("lstm")
    cut = Sequential([LSTM(4, input_shape=(T, D), truncate_gradient=2), Dense(1)])
    cut.compile("sgd", "mse")
    cut.set_weights(full.get_weights())
    a = gradient_flow(full, x, y, jacobian=False)
    b = gradient_flow(cut, x, y, jacobian=False)
    key_a, key_b = full.layers[0].name, cut.layers[0].name
    np.testing.assert_array_equal(a.state_grad_norm[key_a], b.state_grad_norm[key_b])
    t = gradient_flow(cut, x, y, jacobian=False, truncated=True)
    # truncated after 2 steps: a single last output reaches only the last two states
    assert (t.state_grad_norm[key_b][:-2] == 0).all()
    np.testing.assert_allclose(t.state_grad_norm[key_b][-2:], a.state_grad_norm[key_a][-2:],
                               rtol=1e-12)
    # and the parameter gradients are those training uses
    cut.zero_grad()
    outs, masks, cache = cut.forward([x], training=False)
    _, g = cut.loss_objects[0].value_and_grad(y, outs[0])
    cut.backward([g], cache)
    for name, grad in cut.named_grads():
        assert t.param_grad_norm[name] == pytest.approx(float(np.linalg.norm(grad)), rel=1e-5)


@pytest.mark.parametrize("kind", ["gru", "bidirectional", "masked", "stacked"])
def test_state_jacobian_norms_equal_torch(kind: str) -> None:
    model = _model(kind)
    x, y = _data(kind)
    flow = gradient_flow(model, x, y)
    net = Unrolled(model)
    net(x)
    valid = _valid(model, x)
    for key, steps in net.steps.items():
        final = net.finals[key]
        sq = np.zeros((N, T))
        for j in range(final.shape[1]):
            ts = sorted(steps)
            grads = torch.autograd.grad(final[:, j].sum(), [steps[t][0] for t in ts],
                                        retain_graph=True, allow_unused=True)
            for t, g in zip(ts, grads):
                if g is not None:
                    sq[:, t] += (g ** 2).sum(-1).numpy()
        expected = batch_mean(np.sqrt(sq), valid)
        np.testing.assert_allclose(flow.jacobian_norm[key], expected, rtol=1e-9, atol=1e-15)


def test_parameter_gradient_norms_equal_torch() -> None:
    model = _model("gru")
    x, y = _data("gru")
    flow = gradient_flow(model, x, y, jacobian=False)
    cell = model.layers[0].cell
    params = {k: torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True)
              for k, v in cell.params.items()}
    h = (torch.zeros(N, 4, dtype=torch.float64),)
    for t in range(T):
        h = step(cell, params, torch.tensor(x[:, t]), h)
    dense = model.layers[1]
    out = h[0] @ torch.tensor(dense.params["weight"].astype(np.float64)).T + torch.tensor(
        dense.params["bias"].astype(np.float64))
    mse(out, y).backward()
    for k, p in params.items():  # structural parameter paths: layers.<i>.<path>
        assert flow.param_grad_norm[f"layers.0.cell.{k}"] == pytest.approx(
            float(p.grad.norm()), rel=1e-9)
