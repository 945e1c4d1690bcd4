"""Recurrent layers (RNN, SimpleRNN, LSTM, GRU): gradient checks, truncated BPTT, masks, states,
dtypes, Keras layout and parameter counts, the PyTorch oracle and input validation."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from rnnlab.cells import GRUCell, LSTMCell, SimpleRNNCell
from rnnlab.gradcheck import GradcheckReport, check_layer, numerical_gradient, relative_error
from rnnlab.initializers import RandomUniform
from rnnlab.layers.recurrent import GRU, LSTM, RNN, SimpleRNN

N, T, D, H = 3, 5, 2, 3
TOL = 1e-7


# -- a pairwise (all-pairs) covering design -------------------------------------------------------
def pairwise(factors: dict[str, list[Any]], valid: Any = lambda row: True) -> list[dict[str, Any]]:
    """Rows such that every valid pair of values of any two factors occurs in some row (greedy,
    deterministic). ``valid(partial_row)`` rejects impossible combinations."""
    names = list(factors)
    idx = {n: i for i, n in enumerate(names)}

    def key(a: str, va: Any, b: str, vb: Any) -> tuple[Any, ...]:
        return (a, va, b, vb) if idx[a] < idx[b] else (b, vb, a, va)

    uncovered = {key(a, va, b, vb) for a, b in itertools.combinations(names, 2)
                 for va in factors[a] for vb in factors[b] if valid({a: va, b: vb})}
    rows: list[dict[str, Any]] = []
    while uncovered:
        a, va, b, vb = min(uncovered, key=repr)
        row = {a: va, b: vb}
        for name in names:
            if name in row:
                continue
            options = [v for v in factors[name] if valid({**row, name: v})]
            row[name] = max(options, key=lambda v, name=name: (sum(
                key(name, v, other, ov) in uncovered for other, ov in row.items()),
                -sum(r[name] == v for r in rows)))           # ties: the least used value
        uncovered -= {key(a, row[a], b, row[b]) for a, b in itertools.combinations(names, 2)}
        rows.append({n: row[n] for n in names})
    return rows


FACTORS: dict[str, list[Any]] = {
    "cell": ["simple_tanh", "simple_relu", "lstm", "gru", "gru_v1"],
    "mask": ["none", "start", "end", "ragged"],
    "bias": ["none", "single", "double"],          # use_bias / recurrent_bias
    "return_sequences": [False, True],
    "return_state": [False, True],
    "go_backwards": [False, True],
    "initial_state": [False, True],
    "truncate": [-1, 2],
    "dropout": [False, True],
    "stacked": [False, True],
    "zero_output": [False, True],
}


def _valid(row: dict[str, Any]) -> bool:
    return not (row.get("cell") == "gru_v1" and row.get("bias") == "double")


DESIGN = pairwise(FACTORS, _valid)


def test_design_covers_every_pair() -> None:
    for a, b in itertools.combinations(FACTORS, 2):
        for va, vb in itertools.product(FACTORS[a], FACTORS[b]):
            if _valid({a: va, b: vb}):
                assert any(r[a] == va and r[b] == vb for r in DESIGN), (a, va, b, vb)
    assert len(DESIGN) < 40


# -- builders -------------------------------------------------------------------------------------
def make_cell(kind: str, bias: str = "double", dropout: float = 0.0, units: int = H) -> Any:
    kw: dict[str, Any] = dict(use_bias=bias != "none", recurrent_bias=bias == "double",
                              bias_initializer=RandomUniform(-0.5, 0.5), dropout=dropout,
                              recurrent_dropout=dropout)
    if kind.startswith("simple"):
        return SimpleRNNCell(units, activation=kind.split("_")[1], **kw)
    if kind == "lstm":
        return LSTMCell(units, **kw)
    return GRUCell(units, reset_after=kind == "gru", **kw)


def make_mask(kind: str, n: int = N, t: int = T, seed: int = 1) -> np.ndarray | None:
    if kind == "none":
        return None
    lengths = [t, t - 2, 1][:n] + [t] * max(0, n - 3)
    mask = np.zeros((n, t), dtype=bool)
    for i, length in enumerate(lengths):
        if kind == "start":
            mask[i, t - length:] = True
        elif kind == "end":
            mask[i, :length] = True
    if kind == "ragged":
        mask = np.random.default_rng(seed).random((n, t)) < 0.6
        mask[:, 0] |= ~mask.any(axis=1)
    return mask


def make_layer(row: dict[str, Any], seed: int = 0) -> RNN:
    rate = 0.3 if row["dropout"] else 0.0
    cells = [make_cell(row["cell"], row["bias"], rate) for _ in range(1 + row["stacked"])]
    return RNN(cells if row["stacked"] else cells[0], return_sequences=row["return_sequences"],
               return_state=row["return_state"], go_backwards=row["go_backwards"],
               zero_output_for_mask=row["zero_output"], truncate_gradient=row["truncate"],
               dtype="float64", seed=seed)


def initial_states(layer: RNN, rng: np.random.Generator, n: int = N) -> list[np.ndarray]:
    return [rng.standard_normal((n, s)) for s in layer.state_sizes]


def analytic(layer: RNN, x: np.ndarray, d_out: Any, **kw: Any) -> tuple[Any, Any, dict]:
    """Forward, backward with ``d_out``: (outputs, d_inputs, {param name: grad copy})."""
    layer.zero_grad()
    out, cache = layer.forward(x, **kw)
    d_in = layer.backward(d_out, cache)
    return out, d_in, {k: g.copy() for k, g in layer.named_grads()}


def upstream(out: Any, rng: np.random.Generator) -> Any:
    if isinstance(out, list):
        return [rng.standard_normal(o.shape) for o in out]
    return rng.standard_normal(out.shape)


# -- a brute-force reference written against the cell contract ------------------------------------
def hand_sweep(cell: Any, u: np.ndarray, state: tuple, mask: np.ndarray | None, rec: Any,
               zero_output: bool, lo: int = 0, hi: int | None = None, y_prev: Any = None,
               in_mask: Any = None) -> tuple[np.ndarray, list[tuple]]:
    """``cell.step`` over processing positions lo..hi-1 of ``u`` (processing order), with Keras's
    mask semantics; returns the outputs (N, hi-lo, H) and the state after each position."""
    xin = u if in_mask is None else u * in_mask[:, None, :]
    P = cell.project_inputs(xin)
    hi = P.shape[1] if hi is None else hi
    y_prev = np.zeros((u.shape[0], cell.output_size)) if y_prev is None else y_prev
    ys, states = [], []
    for i in range(lo, hi):
        y, new, _ = cell.step(P[:, i], state, rec)
        if mask is not None:
            m = mask[:, i, None]
            new = tuple(np.where(m, a, b) for a, b in zip(new, state, strict=True))
            y = np.where(m, y, 0.0 if zero_output else y_prev)
        state, y_prev = new, y
        ys.append(y)
        states.append(state)
    return np.stack(ys, axis=1), states


def truncated_reference(layer: RNN, x: np.ndarray, mask: Any, states0: list[np.ndarray] | None,
                        d_out: Any, drop: list[tuple[Any, Any]]) -> dict[str, np.ndarray]:
    """Central differences of the truncated-BPTT objective, cell by cell from the top: for each
    output position i (processing order) the loss G_i·y_i is recomputed from the *frozen* state
    before position i-k+1, so only the last k steps depend on the variables; the final state's
    loss likewise through the last k steps. k <= 0 or k >= T is the full objective. The input
    gradient of one cell is the upstream gradient of the cell below (as the layer does it).
    Returns the reference gradients by name (parameters, 'input0', 'initial_stateK')."""
    k, gb, zo = layer.truncate_gradient, layer.go_backwards, layer.zero_output_for_mask
    flip = (lambda a: a[:, ::-1]) if gb else (lambda a: a)
    u = [np.array(flip(x))]
    m = None if mask is None else flip(mask)
    n, t = x.shape[:2]
    s0 = [np.array(s) for s in states0] if states0 is not None else [
        np.zeros((n, s)) for s in layer.state_sizes]
    per_cell, j = [], 0
    for c, (in_mask, rec) in zip(layer.cells, drop, strict=True):
        init = tuple(s0[j:j + len(c.state_size)])
        j += len(c.state_size)
        Y, S = hand_sweep(c, u[-1], init, m, rec, zo, in_mask=in_mask)
        per_cell.append((init, Y, S, in_mask, rec))
        u.append(Y)
    outs = d_out if layer.return_state else [d_out]
    gy = np.asarray(outs[0])
    if not layer.return_sequences:
        gy = np.zeros((n, t, layer.units))
        gy[:, -1] = outs[0]
    d_states = list(outs[1:]) if layer.return_state else [np.zeros_like(s) for s in s0]
    ref: dict[str, np.ndarray] = {}
    j = len(s0)
    prefix = "cell." if len(layer.cells) == 1 else "cells.{}."
    for ci in range(len(layer.cells) - 1, -1, -1):
        c = layer.cells[ci]
        init, Y, S, in_mask, rec = per_cell[ci]
        j -= len(c.state_size)
        gs = d_states[j:j + len(c.state_size)]
        full = k <= 0 or k >= t
        ui = u[ci]

        def loss(c=c, ui=ui, init=init, Y=Y, S=S, in_mask=in_mask, rec=rec, gs=gs, gy=gy,
                 full=full) -> float:
            total = 0.0
            for i in range(t + 1):                       # i == t: the final state's window
                hi = min(i + 1, t)
                lo = 0 if full else max(0, hi - k)
                start = init if lo == 0 else S[lo - 1]
                y_prev = None if lo == 0 else Y[:, lo - 1]
                ys, st = hand_sweep(c, ui, start, m, rec, zo, lo, hi, y_prev, in_mask)
                if i < t:
                    total += float(np.sum(gy[:, i] * ys[:, -1]))
                else:
                    total += float(sum(np.sum(g * s) for g, s in zip(gs, st[-1], strict=True)))
            return total

        for name, p in c.params.items():
            ref[prefix.format(ci) + name] = numerical_gradient(loss, p)
        for q, s in enumerate(init if states0 is not None else ()):
            ref[f"initial_state{j + q}"] = numerical_gradient(loss, s)
        gy = numerical_gradient(loss, ui)
    ref["input0"] = flip(gy)
    return ref


def compare(layer: RNN, x: np.ndarray, mask: Any, states: Any, training: bool,
            seed: int = 0) -> GradcheckReport:
    """Analytic gradients (with the layer's truncation) against ``truncated_reference``."""
    rng = np.random.default_rng(seed)
    kw: dict[str, Any] = {"training": training, "mask": mask}
    if states is not None:
        kw["initial_state"] = [np.array(s) for s in states]
    layer(x, **kw)
    calls = layer.rng_calls
    out, _ = layer.forward(x, **kw)
    d_out = upstream(out, rng)
    layer.rng_calls = calls
    out, d_in, grads = analytic(layer, x, d_out, **kw)
    layer.rng_calls = calls
    drop = layer._dropout_masks(x.shape[0], training)  # the masks this call drew
    ref = truncated_reference(layer, x, mask, states, d_out, drop)
    d_flat = d_in if isinstance(d_in, list) else [d_in]
    got = dict(grads, input0=d_flat[0], **{f"initial_state{q}": g
                                            for q, g in enumerate(d_flat[1:])})
    assert set(got) == set(ref), (sorted(got), sorted(ref))
    report = GradcheckReport()
    for name, g in got.items():
        report.errors[name] = relative_error(g, ref[name])
    return report


# -- the gradient-check matrix --------------------------------------------------------------------
@pytest.mark.parametrize("row", DESIGN, ids=lambda r: "-".join(f"{v}" for v in r.values()))
def test_gradient_matrix(row: dict[str, Any]) -> None:
    rng = np.random.default_rng(7)
    layer = make_layer(row)
    x = rng.standard_normal((N, T, D))
    mask = make_mask(row["mask"])
    states = initial_states(layer, rng) if row["initial_state"] else None
    if row["truncate"] == -1:
        report = check_layer(layer, x, mask=mask, initial_state=states, training=row["dropout"])
    else:
        report = compare(layer, x, mask, states, row["dropout"])
    expected = {n for n, _ in layer.named_params()} | {"input0"} | {
        f"initial_state{q}" for q in range(len(states or []))}
    assert set(report.errors) == expected
    assert report.max_error < TOL, f"{row}\n{report}"


# -- truncated BPTT -------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["simple_tanh", "lstm", "gru", "gru_v1"])
@pytest.mark.parametrize("k", [1, 3])
def test_truncation_matches_brute_force(kind: str, k: int) -> None:
    rng = np.random.default_rng(k)
    layer = RNN(make_cell(kind, "single" if kind == "gru_v1" else "double"),
                return_sequences=True, return_state=True, truncate_gradient=k,
                go_backwards=k == 3, dtype="float64", seed=1)
    x = rng.standard_normal((2, 6, D))
    mask = make_mask("ragged", 2, 6) if k == 3 else None
    report = compare(layer, x, mask, initial_states(layer, rng, 2), False)
    assert report.max_error < TOL, report


def test_truncation_is_not_full_bptt() -> None:
    """Sanity of the reference: with k < T the truncated gradient differs from the full one."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, D))
    grads = []
    for k in (-1, 2):
        layer = LSTM(H, return_sequences=True, truncate_gradient=k, dtype="float64", seed=4)
        grads.append(analytic(layer, x, np.ones((2, 6, H)))[2]["cell.weight_hh"])
    assert relative_error(grads[0], grads[1]) > 1e-3


@pytest.mark.parametrize("stacked", [False, True])
def test_truncation_at_least_T_is_full_bptt(stacked: bool) -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, T, D))
    mask = make_mask("end", 2)
    results = []
    for k in (-1, T, T + 3):
        cells = [make_cell("gru") for _ in range(2)] if stacked else make_cell("gru")
        layer = RNN(cells, return_sequences=True, return_state=True, truncate_gradient=k,
                    dtype="float64", seed=3)
        states = initial_states(layer, np.random.default_rng(0), 2)
        g = np.random.default_rng(1)
        layer(x, initial_state=states)
        d_out = [g.standard_normal((2, T, H))] + [g.standard_normal((2, H)) for _ in states]
        results.append(analytic(layer, x, d_out, mask=mask, initial_state=states))
    for _, d_in, grads in results[1:]:
        for a, b in zip(d_in, results[0][1], strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
        for name, g in grads.items():
            np.testing.assert_allclose(g, results[0][2][name], rtol=1e-12, atol=1e-15)


# -- masks ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["simple_tanh", "lstm", "gru"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_masked_steps_carry_state_and_get_no_gradient(kind: str, go_backwards: bool) -> None:
    rng = np.random.default_rng(2)
    layer = RNN(make_cell(kind), return_sequences=True, return_state=True,
                go_backwards=go_backwards, dtype="float64", seed=2)
    x = rng.standard_normal((N, T, D))
    mask = make_mask("ragged")
    states = initial_states(layer, rng)
    out, cache = layer.forward(x, mask=mask, initial_state=states)
    seq, finals = out[0], out[1:]
    order = np.arange(T)[::-1] if go_backwards else np.arange(T)
    for i in range(N):
        steps = [t for t in order if mask[i, t]]
        # the final state is that of the unmasked steps alone
        alone = RNN(layer.cell, return_state=True, dtype="float64")
        alone.built, alone.input_dim = True, D
        res = alone.forward(x[i:i + 1, steps], initial_state=[s[i:i + 1] for s in states])[0]
        for a, b in zip(res[1:], finals, strict=True):
            np.testing.assert_allclose(a[0], b[i], rtol=1e-12)
        # a masked step repeats the previous output (zeros before the first unmasked step)
        prev = np.zeros(H)
        for pos, t in enumerate(order):
            if not mask[i, t]:
                np.testing.assert_array_equal(seq[i, pos], prev)
            prev = seq[i, pos]
    d_out = upstream(out, rng)
    dx = layer.backward(d_out, cache)[0]
    assert np.all(dx[~mask] == 0.0)
    assert np.all(np.abs(dx[mask]) > 0)


@pytest.mark.parametrize("kind", ["simple_relu", "lstm", "gru_v1"])
def test_fully_masked_sample_keeps_its_initial_state(kind: str) -> None:
    rng = np.random.default_rng(4)
    layer = RNN(make_cell(kind, "single"), return_sequences=True, return_state=True,
                dtype="float64", seed=5)
    x = rng.standard_normal((N, T, D))
    mask = np.ones((N, T), dtype=bool)
    mask[1] = False
    states = initial_states(layer, rng)
    out, cache = layer.forward(x, mask=mask, initial_state=states)
    for s, s0 in zip(out[1:], states, strict=True):
        np.testing.assert_array_equal(s[1], s0[1])
    np.testing.assert_array_equal(out[0][1], 0.0)
    d_out = upstream(out, rng)
    d_in = layer.backward(d_out, cache)
    np.testing.assert_array_equal(d_in[0][1], 0.0)
    for d0, ds in zip(d_in[1:], d_out[1:], strict=True):  # passes through
        np.testing.assert_array_equal(d0[1], ds[1])


# -- direction, statefulness, shapes, dtypes ------------------------------------------------------
@pytest.mark.parametrize("stacked", [False, True])
def test_go_backwards_equals_forward_on_reversed_input(stacked: bool) -> None:
    rng = np.random.default_rng(6)
    x = rng.standard_normal((N, T, D))
    mask = make_mask("start")
    layers = []
    for gb in (True, False):
        cells = [make_cell("lstm") for _ in range(2)] if stacked else make_cell("lstm")
        layers.append(RNN(cells, return_sequences=True, return_state=True, go_backwards=gb,
                          dtype="float64", seed=9))
    back, fwd = layers
    back(x)
    fwd(x)
    fwd.set_weights(back.get_weights())
    d = upstream(back(x), rng)
    out_b, dx_b, g_b = analytic(back, x, d, mask=mask)
    out_f, dx_f, g_f = analytic(fwd, x[:, ::-1].copy(), d, mask=mask[:, ::-1].copy())
    for a, b in zip(out_b, out_f, strict=True):  # processing order
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dx_b, dx_f[:, ::-1], rtol=1e-12, atol=1e-15)
    for name in g_b:
        np.testing.assert_allclose(g_b[name], g_f[name], rtol=1e-12, atol=1e-15)


def test_stateful_carries_states_and_resets() -> None:
    rng = np.random.default_rng(8)
    x1, x2 = rng.standard_normal((2, 2, 4, D))
    layer = LSTM(H, stateful=True, return_state=True, dtype="float64", seed=1)
    plain = LSTM(H, return_state=True, dtype="float64", seed=1)
    whole = LSTM(H, return_state=True, dtype="float64", seed=1)
    first = layer(x1)
    second = layer(x2)
    ref = plain(x2, initial_state=plain(x1)[1:])
    for a, b, c in zip(second, ref, whole(np.concatenate([x1, x2], axis=1)), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
        np.testing.assert_allclose(a, c, rtol=1e-12)
    with pytest.raises(ValueError, match=r"stateful with batch size 2; got a batch of 3"):
        layer(rng.standard_normal((3, 4, D)))
    layer.reset_states()
    for a, b in zip(layer(x1), first, strict=True):
        np.testing.assert_array_equal(a, b)
    layer.reset_states([np.zeros((2, H)), np.zeros((2, H))])
    for a, b in zip(layer(x1), first, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("make, sizes", [
    (lambda: SimpleRNN(H, return_state=True), [H]),
    (lambda: GRU(H, return_state=True, return_sequences=True), [H]),
    (lambda: LSTM(H, return_state=True), [H, H]),
    (lambda: RNN([LSTMCell(4), GRUCell(H)], return_state=True), [4, 4, H]),
])
def test_return_state_shapes(make: Any, sizes: list[int]) -> None:
    layer = make()
    out = layer(np.ones((N, T, D)))
    expected = [(N, T, H) if layer.return_sequences else (N, H)] + [(N, s) for s in sizes]
    assert [o.shape for o in out] == expected
    assert layer.compute_output_shape((N, T, D)) == expected


@pytest.mark.parametrize("kind", ["simple_tanh", "lstm", "gru"])
def test_float32_layer_keeps_float32(kind: str) -> None:
    rng = np.random.default_rng(0)
    layer = RNN(make_cell(kind, dropout=0.2), return_sequences=True, return_state=True,
                dtype="float32", seed=0)
    x = rng.standard_normal((N, T, D))                # float64 input, cast at the boundary
    states = [rng.standard_normal((N, s)) for s in layer.state_sizes]
    out = layer(x, initial_state=states, training=True, mask=make_mask("end"))
    assert all(o.dtype == np.float32 for o in out)
    out, cache = layer.forward(x.astype(np.float32), training=True, mask=make_mask("end"),
                               initial_state=[s.astype(np.float32) for s in states])
    d_in = layer.backward([rng.standard_normal(o.shape) for o in out], cache)
    assert all(d.dtype == np.float32 for d in d_in)
    assert all(g.dtype == np.float32 for _, g in layer.named_grads())
    assert all(p.dtype == np.float32 for _, p in layer.named_params())


# -- Keras parameter counts and layout ------------------------------------------------------------
@pytest.mark.parametrize("layer, count", [
    (SimpleRNN(32), 2080), (LSTM(32), 8320), (GRU(32), 6336),
    (GRU(32, reset_after=False), 6240), (LSTM(32, recurrent_bias=True), 8448),
])
def test_keras_parameter_counts(layer: RNN, count: int) -> None:
    layer.build((None, 10, 32))
    assert layer.count_params() == count


def _swap(a: np.ndarray, order: tuple[int, ...], h: int) -> np.ndarray:
    return np.concatenate([a[..., k * h:(k + 1) * h] for k in order], axis=-1)


@pytest.mark.parametrize("make, gates, order, two_biases", [
    (lambda: SimpleRNN(H), 1, (0,), False),
    (lambda: LSTM(H), 4, (0, 1, 2, 3), False),                # i f c o is PyTorch's i f g o
    (lambda: GRU(H), 3, (1, 0, 2), True),                     # Keras z r h -> PyTorch r z n
    (lambda: GRU(H, reset_after=False), 3, (1, 0, 2), False),
])
def test_keras_layout_to_pytorch_layout(make: Any, gates: int, order: tuple[int, ...],
                                        two_biases: bool) -> None:
    rng = np.random.default_rng(1)
    layer = make()
    layer.build((None, T, D))
    kernel = rng.standard_normal((D, gates * H)).astype(np.float32)
    recurrent = rng.standard_normal((H, gates * H)).astype(np.float32)
    bias = rng.standard_normal((2, gates * H) if two_biases else (gates * H,)).astype(np.float32)
    layer.set_weights([kernel, recurrent, bias])
    sd = layer.state_dict()
    np.testing.assert_array_equal(sd["cell.weight_ih"], _swap(kernel, order, H).T)
    np.testing.assert_array_equal(sd["cell.weight_hh"], _swap(recurrent, order, H).T)
    if two_biases:
        np.testing.assert_array_equal(sd["cell.bias_ih"], _swap(bias[0], order, H))
        np.testing.assert_array_equal(sd["cell.bias_hh"], _swap(bias[1], order, H))
    else:
        np.testing.assert_array_equal(sd["cell.bias_ih"], _swap(bias, order, H))
        assert "cell.bias_hh" not in sd
    for a, b in zip(layer.get_weights(), [kernel, recurrent, bias], strict=True):
        np.testing.assert_array_equal(a, b)


# -- the PyTorch oracle ---------------------------------------------------------------------------
TORCH_KINDS = {"rnn_tanh": ("RNN", "tanh"), "rnn_relu": ("RNN", "relu"), "lstm": ("LSTM", None),
               "gru": ("GRU", None)}


def _torch_pair(kind: str, layers: int, seed: int = 0) -> tuple[Any, RNN]:
    torch = pytest.importorskip("torch")
    cls, act = TORCH_KINDS[kind]
    torch.manual_seed(seed)
    kw = {"nonlinearity": act} if act else {}
    tm = getattr(torch.nn, cls)(D, H, num_layers=layers, batch_first=True,
                                dtype=torch.float64, **kw)
    with torch.no_grad():
        for p in tm.parameters():
            p.uniform_(-0.6, 0.6)                    # random, non-zero bias_ih and bias_hh
    cell_kind = {"rnn_tanh": "simple_tanh", "rnn_relu": "simple_relu"}.get(kind, kind)
    cells = [make_cell(cell_kind) for _ in range(layers)]
    ours = RNN(cells if layers > 1 else cells[0], return_sequences=True, return_state=True,
               dtype="float64", seed=seed)
    ours.build((None, T, D))
    return tm, ours


def _torch_name(name: str) -> str:
    head, param = name.rsplit(".", 1)
    return f"{param}_l{head.split('.')[1] if head.startswith('cells') else 0}"


def _run_torch(tm: Any, x: np.ndarray, states: list[np.ndarray], grads: list[np.ndarray],
               lstm: bool) -> tuple[list[np.ndarray], list[np.ndarray], dict[str, np.ndarray]]:
    import torch

    xt = torch.tensor(x, requires_grad=True)
    per = 2 if lstm else 1
    s0 = [torch.tensor(np.stack(states[k::per]), requires_grad=True) for k in range(per)]
    out, fin = tm(xt, (s0[0], s0[1]) if lstm else s0[0])
    fin = list(fin) if lstm else [fin]
    loss = (out * torch.tensor(grads[0])).sum()
    for k in range(per):
        loss = loss + (fin[k] * torch.tensor(np.stack(grads[1 + k::per]))).sum()
    loss.backward()
    outs = [out.detach().numpy()] + [fin[k][j].detach().numpy()
                                     for j in range(tm.num_layers) for k in range(per)]
    d_in = [xt.grad.numpy()] + [s0[k].grad[j].numpy() for j in range(tm.num_layers)
                                for k in range(per)]
    return outs, d_in, {n: p.grad.numpy() for n, p in tm.named_parameters()}


@pytest.mark.oracle
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("kind", list(TORCH_KINDS))
def test_pytorch_oracle(kind: str, layers: int) -> None:
    tm, ours = _torch_pair(kind, layers)
    ours.load_state_dict({n: tm.state_dict()[_torch_name(n)].numpy()
                          for n, _ in ours.named_params()})
    rng = np.random.default_rng(11)
    x = rng.standard_normal((N, T, D))
    states = initial_states(ours, rng)
    out, _ = ours.forward(x, initial_state=states)
    d_out = upstream(out, rng)
    out, d_in, grads = analytic(ours, x, d_out, initial_state=states)
    t_out, t_in, t_grads = _run_torch(tm, x, states, d_out, kind == "lstm")
    for a, b in zip(out + d_in, t_out + t_in, strict=True):  # outs, finals, dX, dh0
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-13)
    assert len(grads) == len(t_grads)
    for name, g in grads.items():
        np.testing.assert_allclose(g, t_grads[_torch_name(name)], rtol=1e-9, atol=1e-13,
                                   err_msg=name)


@pytest.mark.oracle
@pytest.mark.parametrize("kind, order", [("lstm", (1, 0, 2, 3)), ("gru", (1, 0, 2))])
def test_pytorch_oracle_sees_permuted_gates(kind: str, order: tuple[int, ...]) -> None:
    tm, ours = _torch_pair(kind, 1)
    sd = {n: tm.state_dict()[_torch_name(n)].numpy() for n, _ in ours.named_params()}
    ours.load_state_dict({n: _swap(v.T, order, H).T for n, v in sd.items()})
    x = np.random.default_rng(0).standard_normal((N, T, D))
    states = [np.zeros((N, H))] * len(ours.state_sizes)
    t_out = _run_torch(tm, x, states, [np.zeros((N, T, H))] + states, kind == "lstm")[0]
    assert not np.allclose(ours(x, initial_state=states)[0], t_out[0], rtol=1e-3)
    ours.load_state_dict(sd)
    np.testing.assert_allclose(ours(x, initial_state=states)[0], t_out[0], rtol=1e-9)


# -- input validation -----------------------------------------------------------------------------
def test_bad_inputs_say_what_was_expected_and_found() -> None:
    x = np.ones((2, 5, 3))
    with pytest.raises(ValueError, match=r"\(batch, timesteps, features\).*got \(2, 5\)"):
        LSTM(4)(np.ones((2, 5)))                               # wrong rank, unbuilt
    layer = LSTM(4)
    layer(x)
    with pytest.raises(ValueError, match=r"expected a 3-D array .*got shape \(5, 3\) \(2-D\)"):
        layer(np.ones((5, 3)))
    with pytest.raises(ValueError, match=r"expects 3 input features .*got shape \(2, 5, 2\)"):
        layer(np.ones((2, 5, 2)))
    with pytest.raises(ValueError, match=r"expects 2 initial state tensor\(s\) of sizes \[4, 4\]"
                                         r", got 1"):
        layer(x, initial_state=[np.zeros((2, 4))])
    with pytest.raises(ValueError, match=r"initial state 1: expected shape \(2, 4\), got \(2, 5\)"):
        layer(x, initial_state=[np.zeros((2, 4)), np.zeros((2, 5))])
    with pytest.raises(ValueError, match=r"initial state 0: expected shape \(2, 4\), got \(3, 4\)"):
        layer(x, initial_state=[np.zeros((3, 4)), np.zeros((2, 4))])
    bad = x.copy()
    bad[0, 1, 2] = np.nan
    with pytest.raises(ValueError, match=r"contains 1 NaN or infinite value\(s\); expected finite"):
        layer(bad)
    bad[0, 1, 2] = np.inf
    with pytest.raises(ValueError, match=r"contains 1 NaN or infinite"):
        layer(bad)
    with pytest.raises(ValueError, match=r"initial state 0 contains 1 NaN or infinite"):
        layer(x, initial_state=[np.array([[np.nan, 0, 0, 0], [0, 0, 0, 0]]), np.zeros((2, 4))])
    with pytest.raises(ValueError, match=r"mask must have shape \(2, 5\), got \(2, 4\)"):
        layer(x, mask=np.ones((2, 4), dtype=bool))
    with pytest.raises(ValueError, match=r"at least one time step, got shape \(2, 0, 3\)"):
        layer(np.ones((2, 0, 3)))


def test_bad_constructor_arguments_say_what_was_expected_and_found() -> None:
    with pytest.raises(ValueError, match=r"Unknown activation 'tanhh'; expected one of \[.*'tanh'"):
        SimpleRNN(3, activation="tanhh")
    with pytest.raises(ValueError, match=r"Unknown activation 'sigmod'; expected one of"):
        GRU(3, recurrent_activation="sigmod")
    with pytest.raises(ValueError, match=r"Unknown initializer 'glorot'; expected one of \[.*"
                                         r"'glorot_uniform'"):
        LSTM(3, kernel_initializer="glorot")
    with pytest.raises(ValueError, match=r"truncate_gradient must be -1 \(full BPTT\) or a "
                                         r"positive number of steps, got 0"):
        LSTM(3, truncate_gradient=0)
    with pytest.raises(ValueError, match=r"units must be a positive integer, got 0"):
        LSTM(0)
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\), got 1.0"):
        GRU(3, recurrent_dropout=1.0)
    with pytest.raises(ValueError, match=r"reset_after=False\) has no recurrent bias"):
        GRU(3, reset_after=False, recurrent_bias=True)
