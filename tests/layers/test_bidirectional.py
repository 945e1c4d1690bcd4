"""Bidirectional: gradient checks over merge modes, sequences, states, masks and cells; its
definition (forward layer, flipped backward layer, merge); masks at either end; the PyTorch
oracle; errors; weights, config, states and dtypes."""

from __future__ import annotations

import itertools
import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab._registry import deserialize, serialize
from rnnlab.gradcheck import check_layer
from rnnlab.initializers import RandomUniform
from rnnlab.layers.bidirectional import Bidirectional
from rnnlab.layers.recurrent import GRU, LSTM, RNN, SimpleRNN

N, T, D, H = 3, 5, 2, 3
TOL = 1e-7
MODES = ["concat", "sum", "mul", "ave", None]
BIAS = RandomUniform(-0.5, 0.5)


def make_rnn(kind: str, units: int = H, **kw: Any) -> RNN:
    kw = {"dtype": "float64", "bias_initializer": BIAS, **kw}
    if kind == "lstm":
        return LSTM(units, **kw)
    if kind == "gru":
        return GRU(units, **kw)
    return SimpleRNN(units, activation=kind.split("_")[1] if "_" in kind else "tanh", **kw)


def make_mask(kind: str, n: int = N, t: int = T) -> np.ndarray | None:
    """Padding at the start or the end, lengths t, t-2 and 1 (and t for more samples)."""
    if kind == "none":
        return None
    mask = np.zeros((n, t), dtype=bool)
    for i, length in enumerate(([t, t - 2, 1] + [t] * n)[:n]):
        if kind == "start":
            mask[i, t - length:] = True
        else:
            mask[i, :length] = True
    return mask


def pairwise(factors: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Greedy all-pairs covering design (every pair of values of two factors is in some row)."""
    names = list(factors)
    uncovered = {(a, va, b, vb) for a, b in itertools.combinations(names, 2)
                 for va in factors[a] for vb in factors[b]}
    rows: list[dict[str, Any]] = []
    while uncovered:
        a, va, b, vb = min(uncovered, key=repr)
        row = {a: va, b: vb}
        for name in names:
            if name not in row:
                row[name] = max(factors[name], key=lambda v, name=name: (sum(
                    (o, ov, name, v) in uncovered or (name, v, o, ov) in uncovered
                    for o, ov in row.items()), -sum(r[name] == v for r in rows)))
        uncovered -= {(a, row[a], b, row[b]) for a, b in itertools.combinations(names, 2)}
        rows.append({n: row[n] for n in names})
    return rows


DESIGN = pairwise({
    "merge_mode": MODES,
    "cell": ["lstm", "gru", "simple_tanh"],
    "mask": ["none", "start", "end"],
    "return_sequences": [False, True],
    "return_state": [False, True],
    "initial_state": [False, True],
    "go_backwards": [False, True],               # of the wrapped layer: the directions swap roles
    "dropout": [False, True],
})


@pytest.mark.parametrize("row", DESIGN, ids=lambda r: "-".join(str(v) for v in r.values()))
def test_gradient_check(row: dict[str, Any]) -> None:
    rng = np.random.default_rng(3)
    rate = 0.25 if row["dropout"] else 0.0
    inner = make_rnn(row["cell"], return_sequences=row["return_sequences"],
                     return_state=row["return_state"], go_backwards=row["go_backwards"],
                     recurrent_bias=True, dropout=rate, recurrent_dropout=rate)
    layer = Bidirectional(inner, merge_mode=row["merge_mode"])
    x = rng.standard_normal((N, T, D))
    n_states = 2 * len(inner.state_sizes)
    states = [rng.standard_normal((N, H)) for _ in range(n_states)] if row[
        "initial_state"] else None
    report = check_layer(layer, x, mask=make_mask(row["mask"]), initial_state=states,
                         training=row["dropout"])
    names = {n for n, _ in layer.named_params()}
    assert len(names) == 8 and all(n.startswith(("forward_layer.cell.", "backward_layer.cell."))
                                   for n in names)
    expected = names | {"input0"} | {f"initial_state{k}" for k in range(len(states or []))}
    assert set(report.errors) == expected
    assert report.max_error < TOL, f"{row}\n{report}"


def test_design_covers_all_pairs() -> None:
    factors = {k: sorted({r[k] for r in DESIGN}, key=repr) for k in DESIGN[0]}
    for a, b in itertools.combinations(factors, 2):
        for va, vb in itertools.product(factors[a], factors[b]):
            assert any(r[a] == va and r[b] == vb for r in DESIGN), (a, va, b, vb)
    assert len(DESIGN) <= 25 and len(factors["merge_mode"]) == 5


def test_gradient_check_with_states_as_list_inputs_and_a_given_backward_layer() -> None:
    rng = np.random.default_rng(5)
    layer = Bidirectional(make_rnn("lstm", return_sequences=True, return_state=True),
                          backward_layer=make_rnn("gru", 4, return_sequences=True,
                                                  return_state=True, go_backwards=True))
    x = rng.standard_normal((N, T, D))
    states = [rng.standard_normal((N, s)) for s in (H, H, 4)]
    report = check_layer(layer, [x] + states, mask=make_mask("start"))
    assert set(report.errors) >= {"input0", "input1", "input2", "input3"}
    assert report.max_error < TOL, report
    assert layer(x, initial_state=states)[0].shape == (N, T, H + 4)


# -- what it computes ---------------------------------------------------------------------------
def _pair(bi: Bidirectional, kind: str, **kw: Any) -> tuple[RNN, RNN]:
    """Plain forward-running layers holding the forward and backward layer's weights."""
    out = []
    for sub in (bi.forward_layer, bi.backward_layer):
        plain = make_rnn(kind, **kw)
        plain.build((None, T, D))
        plain.set_weights(sub.get_weights())
        out.append(plain)
    return out[0], out[1]


@settings(max_examples=12, deadline=None)
@given(kind=st.sampled_from(["lstm", "gru", "simple_relu"]), n=st.integers(1, 3),
       t=st.integers(1, 5), mask=st.sampled_from(["none", "start", "end"]),
       return_sequences=st.booleans())
def test_concat_is_forward_then_flipped_backward_on_flipped_input(
        kind: str, n: int, t: int, mask: str, return_sequences: bool) -> None:
    bi = Bidirectional(make_rnn(kind, return_sequences=return_sequences))
    x = np.random.default_rng(t).standard_normal((n, t, D))
    m = make_mask(mask, n, t) if t >= 3 else None
    out = bi(x, mask=m)
    fwd, bwd = _pair(bi, kind, return_sequences=return_sequences,
                     zero_output_for_mask=return_sequences)
    rev = None if m is None else m[:, ::-1]
    y_b = bwd(x[:, ::-1], mask=rev)
    expected = np.concatenate([fwd(x, mask=m), y_b[:, ::-1] if return_sequences else y_b], -1)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("return_state", [False, True])
def test_sum_ave_mul_none_agree_with_the_concat_halves(return_state: bool) -> None:
    x = np.random.default_rng(0).standard_normal((N, T, D))
    mask = make_mask("end")
    concat = Bidirectional(make_rnn("gru", return_sequences=True, return_state=return_state))
    ref = concat(x, mask=mask)
    head, states = (ref[0], ref[1:]) if return_state else (ref, [])
    f, b = head[..., :H], head[..., H:]
    expect = {"sum": f + b, "ave": (f + b) / 2, "mul": f * b, None: [f, b]}
    for mode, value in expect.items():
        layer = Bidirectional(make_rnn("gru", return_sequences=True, return_state=return_state),
                              merge_mode=mode)
        layer.build((None, T, D))
        layer.set_weights(concat.get_weights())
        out = layer(x, mask=mask)
        out = out if isinstance(out, list) else [out]
        want = (value if mode is None else [value]) + (states if return_state else [])
        assert len(out) == len(want)
        for a, w in zip(out, want, strict=True):
            np.testing.assert_allclose(a, w, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kind", ["lstm", "gru", "simple_tanh"])
@pytest.mark.parametrize("padding", ["start", "end"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_padding_at_either_end_equals_the_unpadded_sequence(
        kind: str, padding: str, return_sequences: bool) -> None:
    """Each sample, padded, gives what its valid steps alone give, in both directions; padded
    steps output zeros and get zero input gradient."""
    rng = np.random.default_rng(1)
    bi = Bidirectional(make_rnn(kind, return_sequences=return_sequences, return_state=True))
    x = rng.standard_normal((N, T, D))
    mask = make_mask(padding)
    out, cache = bi.forward(x, mask=mask)
    for i in range(N):
        valid = np.flatnonzero(mask[i])
        alone = bi(x[i:i + 1, valid])
        for k, (a, b) in enumerate(zip(out, alone, strict=True)):
            if k == 0 and return_sequences:
                np.testing.assert_allclose(a[i, valid], b[0], rtol=1e-12, atol=1e-15)
                np.testing.assert_array_equal(a[i, ~mask[i]], 0.0)
            else:
                np.testing.assert_allclose(a[i], b[0], rtol=1e-12, atol=1e-15)
    dx = bi.backward([rng.standard_normal(o.shape) for o in out], cache)
    np.testing.assert_array_equal(dx[~mask], 0.0)


# -- the PyTorch oracle ---------------------------------------------------------------------------
@pytest.mark.oracle
@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_pytorch_bidirectional_oracle(kind: str) -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tm = getattr(torch.nn, kind)(D, H, batch_first=True, bidirectional=True, dtype=torch.float64)
    with torch.no_grad():
        for p in tm.parameters():
            p.uniform_(-0.6, 0.6)                           # non-zero bias_ih and bias_hh
    inner = {"LSTM": LSTM, "GRU": GRU, "RNN": SimpleRNN}[kind]
    bi = Bidirectional(inner(H, return_sequences=True, return_state=True, recurrent_bias=True,
                             dtype="float64"))
    bi.build((None, T, D))

    def torch_name(name: str) -> str:
        return name.rsplit(".", 1)[1] + ("_l0" if name.startswith("forward") else "_l0_reverse")

    bi.load_state_dict({n: tm.state_dict()[torch_name(n)].numpy() for n, _ in bi.named_params()})
    rng = np.random.default_rng(2)
    x = rng.standard_normal((N, T, D))
    per = 2 if kind == "LSTM" else 1
    states = [rng.standard_normal((N, H)) for _ in range(2 * per)]   # [h_f, (c_f), h_b, (c_b)]
    out, cache = bi.forward(x, initial_state=states)
    d_out = [rng.standard_normal(o.shape) for o in out]
    bi.zero_grad()
    d_in = bi.backward(d_out, cache)

    xt = torch.tensor(x, requires_grad=True)
    s0 = [torch.tensor(np.stack(states[k::per]), requires_grad=True) for k in range(per)]
    t_out, fin = tm(xt, tuple(s0) if per == 2 else s0[0])
    fin = list(fin) if per == 2 else [fin]
    loss = (t_out * torch.tensor(d_out[0])).sum()
    for k in range(per):
        loss = loss + (fin[k] * torch.tensor(np.stack(d_out[1 + k::per]))).sum()
    loss.backward()
    t_outs = [t_out.detach().numpy()] + [fin[k][j].detach().numpy()
                                         for j in range(2) for k in range(per)]
    t_d_in = [xt.grad.numpy()] + [s0[k].grad[j].numpy() for j in range(2) for k in range(per)]
    for a, b in zip(out + d_in, t_outs + t_d_in, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-13)
    t_grads = {n: p.grad.numpy() for n, p in tm.named_parameters()}
    grads = dict(bi.named_grads())
    assert sorted(map(torch_name, grads)) == sorted(t_grads)
    for name, g in grads.items():
        np.testing.assert_allclose(g, t_grads[torch_name(name)], rtol=1e-9, atol=1e-13,
                                   err_msg=name)


# -- errors ---------------------------------------------------------------------------------------
def test_errors_say_what_was_expected_and_found() -> None:
    with pytest.raises(ValueError, match=r"Invalid merge_mode 'max'; expected one of "
                                         r"\['concat', 'sum', 'mul', 'ave', None\]"):
        Bidirectional(LSTM(3), merge_mode="max")
    with pytest.raises(TypeError, match=r"expects a recurrent layer .* got 'lstm'"):
        Bidirectional("lstm")  # type: ignore[arg-type]
    bi = Bidirectional(LSTM(3))
    x = np.ones((2, 4, D))
    with pytest.raises(ValueError, match=r"expects 4 initial state tensor\(s\): 2 for the "
                                         r"forward layer then 2 for the backward layer, got 2"):
        bi(x, initial_state=[np.zeros((2, 3))] * 2)
    with pytest.raises(ValueError, match=r"expects 4 initial state tensor\(s\).*got 1"):
        bi(x, initial_state=np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"expected a 3-D array .*got shape \(4, 2\)"):
        bi(np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"go_backwards=True \(the opposite of layer's\), got "
                                         r"go_backwards=False for both"):
        Bidirectional(LSTM(3), backward_layer=LSTM(3))
    with pytest.raises(ValueError, match=r"backward_layer.return_sequences must equal "
                                         r"layer.return_sequences \(True\), got False"):
        Bidirectional(LSTM(3, return_sequences=True), backward_layer=LSTM(3, go_backwards=True))
    with pytest.raises(ValueError, match=r"backward_layer.return_state must equal"):
        Bidirectional(LSTM(3), backward_layer=LSTM(3, go_backwards=True, return_state=True))
    with pytest.raises(ValueError, match=r"needs equal output sizes, got 3 \(forward\) and 4"):
        Bidirectional(GRU(3), "sum", backward_layer=GRU(4, go_backwards=True))
    with pytest.raises(ValueError, match=r"dtype follows the wrapped layer's \('float32'\)"):
        Bidirectional(LSTM(3), dtype="float64")
    bi(x)
    with pytest.raises(ValueError, match=r"expected 6 weight arrays \(3 forward then 3 "
                                         r"backward\), got 5"):
        bi.set_weights(bi.get_weights()[:5])


# -- structure, weights, config, states, dtypes ---------------------------------------------------
def test_children_names_and_clones() -> None:
    inner = LSTM(3, return_sequences=True, name="enc", zero_output_for_mask=False)
    bi = Bidirectional(inner)
    assert bi.name.startswith("bidirectional")
    assert (bi.forward_layer.name, bi.backward_layer.name) == ("forward_enc", "backward_enc")
    assert (bi.forward_layer.go_backwards, bi.backward_layer.go_backwards) == (False, True)
    assert bi.forward_layer.zero_output_for_mask and bi.backward_layer.zero_output_for_mask
    assert bi.forward_layer is not inner and not inner.built
    bi(np.ones((2, 4, D)))
    assert list(bi.state_dict()) == [f"{d}_layer.cell.{p}" for d in ("forward", "backward")
                                     for p in ("weight_ih", "weight_hh", "bias_ih")]
    w = bi.get_weights()
    assert not np.allclose(w[1], w[4])                # the directions start differently
    assert bi.count_params() == 2 * inner.cell.gates * 3 * (D + 3 + 1)
    flipped = Bidirectional(LSTM(3, go_backwards=True))
    assert (flipped.forward_layer.go_backwards, flipped.backward_layer.go_backwards) == (
        True, False)
    assert not Bidirectional(LSTM(3)).forward_layer.zero_output_for_mask


def test_weights_order_and_the_weights_argument() -> None:
    bi = Bidirectional(GRU(3, return_sequences=True))
    x = np.random.default_rng(0).standard_normal((2, 4, D))
    bi(x)
    w = bi.get_weights()
    assert len(w) == 6
    for a, b in zip(w, bi.forward_layer.get_weights() + bi.backward_layer.get_weights(),
                    strict=True):
        np.testing.assert_array_equal(a, b)
    swapped = Bidirectional(GRU(3, return_sequences=True), weights=w[3:] + w[:3])
    assert "weights" not in swapped.get_config()
    out = swapped(x)
    for a, b in zip(swapped.get_weights(), w[3:] + w[:3], strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(out, bi(x))
    bi.set_weights(w[3:] + w[:3])
    np.testing.assert_array_equal(bi(x), out)


@pytest.mark.parametrize("given_backward", [False, True])
def test_config_round_trip(given_backward: bool) -> None:
    back = GRU(3, return_sequences=True, go_backwards=True) if given_backward else None
    bi = Bidirectional(GRU(3, return_sequences=True, dropout=0.1), merge_mode="ave",
                       backward_layer=back, name="bi_cfg")
    x = np.random.default_rng(0).standard_normal((2, 4, D))
    out = bi(x)
    config = bi.get_config()
    text = json.dumps(config)
    clone = Bidirectional.from_config(json.loads(text))
    assert clone.get_config() == config
    assert clone.name == "bi_cfg" and clone.merge_mode == "ave"
    np.testing.assert_array_equal(clone(x), out)      # resolved seeds: the same weights
    again = deserialize(serialize(bi))
    assert isinstance(again, Bidirectional) and again.get_config() == config


def test_stateful_delegates_to_both_directions() -> None:
    rng = np.random.default_rng(4)
    x1, x2 = rng.standard_normal((2, 2, 4, D))
    bi = Bidirectional(LSTM(3, stateful=True, return_state=True, dtype="float64"))
    plain = Bidirectional(LSTM(3, return_state=True, dtype="float64"))
    assert bi.stateful and not plain.stateful
    first = bi(x1)
    plain.build((None, 4, D))
    plain.set_weights(bi.get_weights())
    second = bi(x2)
    for a, b in zip(second, plain(x2, initial_state=first[1:]), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    bi.reset_states()
    for a, b in zip(bi(x1), first, strict=True):
        np.testing.assert_array_equal(a, b)


def test_dtype_follows_the_wrapped_layer() -> None:
    assert Bidirectional(LSTM(3, dtype="float64")).dtype == "float64"
    bi = Bidirectional(GRU(3, return_sequences=True, return_state=True))
    assert bi.dtype == "float32"
    x = np.random.default_rng(0).standard_normal((2, 4, D))
    out, cache = bi.forward(x.astype(np.float32), mask=make_mask("end", 2, 4))
    assert all(o.dtype == np.float32 for o in out)
    dx = bi.backward([np.ones(o.shape) for o in out], cache)
    assert dx.dtype == np.float32
    assert all(g.dtype == np.float32 for _, g in bi.named_grads())


@pytest.mark.parametrize("mode, seq, state, shape", [
    ("concat", True, False, (None, T, 2 * H)),
    ("concat", False, False, (None, 2 * H)),
    ("sum", True, False, (None, T, H)),
    (None, False, False, [(None, H), (None, H)]),
    ("mul", False, True, [(None, H)] + [(None, H)] * 4),
    (None, True, True, [(None, T, H)] * 2 + [(None, H)] * 4),
])
def test_output_shape_and_mask(mode: str | None, seq: bool, state: bool, shape: Any) -> None:
    bi = Bidirectional(LSTM(H, return_sequences=seq, return_state=state), merge_mode=mode)
    assert bi.compute_output_shape((None, T, D)) == shape
    out = bi(np.ones((2, T, D)))
    shapes = [o.shape for o in out] if isinstance(out, list) else out.shape
    expect = [(2,) + s[1:] for s in shape] if isinstance(shape, list) else (2,) + shape[1:]
    assert shapes == expect
    mask = np.ones((2, T), dtype=bool)
    got = bi.compute_mask(None, mask)
    heads = [mask if seq else None] * (2 if mode is None else 1)
    want: Any = heads + [None] * 4 if state else (heads if mode is None else heads[0])
    if isinstance(want, list):
        assert len(got) == len(want) and all(a is b for a, b in zip(got, want, strict=True))
    else:
        assert got is want
