"""rnnlab.interop: PyTorch RNN/LSTM/GRU <-> rnnlab Sequential, against PyTorch as the oracle.

from_torch(module).predict(x) equals the module's output for every kind, depth, direction, layout,
bias and dtype; to_torch(from_torch(module)) gives the module back exactly; Keras-layout models
(single bias) survive to_torch -> from_torch bit for bit; unsupported configurations say what is
not supported (that ``import rnnlab`` never imports torch: tests/test_imports.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from rnnlab.cells import GRUCell, LSTMCell
from rnnlab.layers import (
    GRU,
    LSTM,
    RNN,
    Bidirectional,
    Dense,
    Dropout,
    SimpleRNN,
)
from rnnlab.models import Input, Model, Sequential

torch = pytest.importorskip("torch")
from rnnlab.interop import (  # noqa: E402
    from_torch,
    rnnlab_state_dict_to_torch,
    to_torch,
    torch_state_dict_to_rnnlab,
)

pytestmark = pytest.mark.oracle

N, T, D, H = 3, 6, 4, 5
TOL = {"float32": dict(rtol=1e-5, atol=1e-5), "float64": dict(rtol=1e-12, atol=1e-12)}
TORCH_DTYPE = {"float32": torch.float32, "float64": torch.float64}
KINDS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    """Tiny tensors: one thread avoids thread-pool overhead (restored afterwards)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make_module(kind: str, num_layers: int = 1, bidirectional: bool = False,
                batch_first: bool = True, dtype: str = "float64", bias: bool = True,
                seed: int = 0, **kw: Any) -> Any:
    torch.manual_seed(seed)
    args = dict(input_size=D, hidden_size=H, num_layers=num_layers, bias=bias,
                batch_first=batch_first, bidirectional=bidirectional, dtype=TORCH_DTYPE[dtype],
                **kw)
    if kind.startswith("rnn"):
        return torch.nn.RNN(nonlinearity=kind.split("_")[1], **args)
    return {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](**args)


def torch_out(module: Any, x: np.ndarray) -> np.ndarray:
    """The module's output sequence for batch-major ``x``, batch-major (eval mode, no grad)."""
    xt = torch.from_numpy(x).to(next(module.parameters()).dtype)
    was = module.training
    module.eval()
    with torch.no_grad():
        if module.batch_first:
            out = module(xt)[0]
        else:
            out = module(xt.transpose(0, 1))[0].transpose(0, 1)
    module.train(was)
    return out.numpy()


def data(dtype: str = "float64", d: int = D, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(N, T, d)).astype(dtype)


def _seq(*layers: Any, dtype: str = "float64") -> Sequential:
    return Sequential([Input((None, D), dtype=dtype), *layers])


R = {"return_sequences": True, "dtype": "float64"}


def assert_same_module(a: Any, b: Any) -> None:
    """Same class, configuration (batch_first aside) and state dict, bit for bit."""
    assert type(a) is type(b)
    for attr in ("mode", "input_size", "hidden_size", "num_layers", "bias", "bidirectional",
                 "dropout", "proj_size"):
        assert getattr(a, attr) == getattr(b, attr), attr
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        assert sa[k].dtype == sb[k].dtype, k
        assert torch.equal(sa[k], sb[k]), k


# -- torch -> rnnlab -> torch: the whole grid ------------------------------------------------------
@pytest.mark.parametrize(
    "kind,num_layers,bidirectional,batch_first,dtype",
    list(itertools.product(KINDS, [1, 2], [False, True], [True, False], ["float32", "float64"])))
def test_from_torch_matches_and_to_torch_round_trips(kind: str, num_layers: int,
                                                     bidirectional: bool, batch_first: bool,
                                                     dtype: str) -> None:
    bias = (num_layers + bidirectional + batch_first) % 2 == 0  # both values, spread over the grid
    module = make_module(kind, num_layers, bidirectional, batch_first, dtype, bias)
    x = data(dtype)
    model = from_torch(module)

    # structure: one rnnlab layer per torch layer, the module's dtype
    assert len(model.layers) == num_layers
    for layer in model.layers:
        assert isinstance(layer, Bidirectional) == bidirectional
        inner = [layer.forward_layer, layer.backward_layer] if bidirectional else [layer]
        for sub in inner:
            assert sub.return_sequences and sub.dtype == dtype
            assert sub.cells[0].use_bias == bias
            assert set(sub.cells[0].params) == (
                {"weight_ih", "weight_hh", "bias_ih", "bias_hh"} if bias
                else {"weight_ih", "weight_hh"})
        if bidirectional:
            assert layer.merge_mode == "concat"

    # function: predict == the module's output sequence
    y = model.predict(x)
    ref = torch_out(module, x)
    assert y.dtype == np.dtype(dtype)
    assert y.shape == (N, T, (2 if bidirectional else 1) * H)
    np.testing.assert_allclose(y, ref, **TOL[dtype])

    # back to torch: the same module, weights exactly, batch_first=True
    back = to_torch(model)
    assert back.batch_first
    assert_same_module(module, back)
    np.testing.assert_array_equal(torch_out(back, x), ref)


def test_weights_map_by_name_including_reverse() -> None:
    module = make_module("lstm", num_layers=2, bidirectional=True)
    model = from_torch(module)
    sd = module.state_dict()
    second = model.layers[1]
    np.testing.assert_array_equal(second.backward_layer.cell.params["weight_ih"],
                                  sd["weight_ih_l1_reverse"].numpy())
    np.testing.assert_array_equal(second.forward_layer.cell.params["bias_hh"],
                                  sd["bias_hh_l1"].numpy())
    assert second.backward_layer.go_backwards and not second.forward_layer.go_backwards
    # copies: changing the model leaves the module alone
    second.forward_layer.cell.params["weight_hh"][...] = 0.0
    assert torch.count_nonzero(module.weight_hh_l1) > 0


def test_predict_accepts_other_lengths_and_batches() -> None:
    module = make_module("gru", num_layers=2)
    model = from_torch(module)
    x = np.random.default_rng(3).normal(size=(7, 11, D))
    np.testing.assert_allclose(model.predict(x, batch_size=4), torch_out(module, x),
                               **TOL["float64"])


# -- Keras layout -> torch -> rnnlab ---------------------------------------------------------------
def randomise(model: Sequential, seed: int = 5) -> None:
    rng = np.random.default_rng(seed)
    model.set_weights([rng.uniform(-0.5, 0.5, w.shape) for w in model.get_weights()])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_keras_single_bias_lstm_round_trip(dtype: str) -> None:
    model = Sequential([Input((None, D), dtype=dtype), LSTM(8, return_sequences=True, dtype=dtype)])
    randomise(model)
    cell = model.layers[0].cell
    assert "bias_hh" not in cell.params  # Keras layout: one bias
    x = data(dtype)
    y = model.predict(x)

    module = to_torch(model)
    assert isinstance(module, torch.nn.LSTM) and module.batch_first and module.bias
    assert module.weight_ih_l0.dtype == TORCH_DTYPE[dtype]
    assert torch.count_nonzero(module.bias_hh_l0) == 0
    np.testing.assert_array_equal(module.bias_ih_l0.detach().numpy(), cell.params["bias_ih"])
    np.testing.assert_allclose(torch_out(module, x), y, **TOL[dtype])

    again = from_torch(module)
    np.testing.assert_array_equal(again.predict(x), y)  # adding a zero bias changes no bit


@pytest.mark.parametrize("build", [
    lambda dt: [GRU(4, return_sequences=True, recurrent_bias=False, dtype=dt),
                GRU(4, return_sequences=True, use_bias=False, dtype=dt)],
    lambda dt: [SimpleRNN(4, activation="relu", return_sequences=True, dtype=dt),
                SimpleRNN(4, activation="relu", return_sequences=True, dtype=dt)],
    lambda dt: [Bidirectional(LSTM(3, return_sequences=True, dtype=dt)),
                Dropout(0.25, dtype=dt),
                Bidirectional(LSTM(3, return_sequences=True, dtype=dt))],
    lambda dt: [RNN([LSTMCell(4), LSTMCell(4), LSTMCell(4)], return_sequences=True, dtype=dt)],
], ids=["gru-mixed-bias", "relu-rnn", "bi-lstm-dropout", "stacked-cells"])
def test_keras_models_round_trip(build: Callable[[str], list[Any]]) -> None:
    dt = "float64"
    model = Sequential([Input((None, D), dtype=dt), *build(dt)])
    randomise(model)
    x = data(dt)
    y = model.predict(x)
    module = to_torch(model)
    np.testing.assert_allclose(torch_out(module, x), y, **TOL[dt])
    np.testing.assert_allclose(from_torch(module).predict(x), y, **TOL[dt])
    expected = {name: v.detach().numpy() for name, v in module.state_dict().items()}
    exported = rnnlab_state_dict_to_torch(model)
    assert list(exported) == list(expected)
    for name, v in exported.items():
        np.testing.assert_array_equal(v, expected[name])


def test_dropout_layer_gives_torch_dropout() -> None:
    model = _seq(GRU(3, **R), Dropout(0.25, dtype="float64"), GRU(3, **R),
                 Dropout(0.25, dtype="float64"), GRU(3, **R))
    module = to_torch(model)
    assert module.num_layers == 3 and module.dropout == 0.25


def test_to_torch_options_trainable_and_rng() -> None:
    model = Sequential([Input((None, D), dtype="float32"),
                        LSTM(3, return_sequences=True, trainable=False, dtype="float32"),
                        LSTM(3, return_sequences=True, dtype="float32")])
    x = data("float32")
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    module = to_torch(model, batch_first=False)
    assert torch.equal(torch.rand(3), expected)  # to_torch consumed no random numbers
    assert not module.batch_first
    np.testing.assert_allclose(torch_out(module, x), model.predict(x), **TOL["float32"])
    assert not module.weight_ih_l0.requires_grad and not module.bias_ih_l0.requires_grad
    assert module.weight_ih_l1.requires_grad
    back = from_torch(module)
    assert [layer.trainable for layer in back.layers] == [False, True]


# -- dropout between torch layers ------------------------------------------------------------------
def test_torch_dropout_is_recorded_and_restored() -> None:
    module = make_module("lstm", num_layers=2, dropout=0.3)
    x = data()
    model = from_torch(module)
    assert model.torch_dropout == 0.3
    assert len(model.layers) == 2
    np.testing.assert_allclose(model.predict(x), torch_out(module, x), **TOL["float64"])
    assert_same_module(module, to_torch(model))

    with_layers = from_torch(module, dropout_layers=True)
    assert [type(layer).__name__ for layer in with_layers.layers] == ["LSTM", "Dropout", "LSTM"]
    assert with_layers.layers[1].rate == 0.3
    np.testing.assert_allclose(with_layers.predict(x), torch_out(module, x), **TOL["float64"])
    assert_same_module(module, to_torch(with_layers))


# -- helpers ---------------------------------------------------------------------------------------
def test_state_dict_helpers_check_names_and_biases() -> None:
    model = Sequential([Input((None, D), dtype="float64"),
                        LSTM(H, return_sequences=True, dtype="float64")])  # single bias
    sd = make_module("lstm").state_dict()
    with pytest.raises(ValueError, match="bias_hh_l0 is nonzero.*no recurrent bias"):
        torch_state_dict_to_rnnlab(sd, model)
    sd["bias_hh_l0"] = torch.zeros_like(sd["bias_hh_l0"])
    renamed = torch_state_dict_to_rnnlab(sd, model)
    name = model.layers[0].name
    assert sorted(renamed) == [f"{name}/cell.{p}" for p in ("bias_ih", "weight_hh", "weight_ih")]
    model.load_state_dict(renamed)
    with pytest.raises(ValueError, match=r"missing \['weight_hh_l0'\].*unexpected \['extra'\]"):
        torch_state_dict_to_rnnlab(
            {**{k: v for k, v in sd.items() if k != "weight_hh_l0"}, "extra": sd["bias_ih_l0"]},
            model)


# -- unsupported configurations --------------------------------------------------------------------
@pytest.mark.parametrize("make,match", [
    (lambda: torch.nn.LSTM(D, H, proj_size=2), "proj_size=2"),
    (lambda: torch.nn.Linear(D, H), "supports torch.nn.RNN, torch.nn.LSTM and torch.nn.GRU"),
    (lambda: torch.nn.LSTMCell(D, H), "got torch.nn.modules.rnn.LSTMCell"),
    (lambda: torch.nn.GRU(D, H, dtype=torch.float16), "float32 and float64.*float16"),
    (lambda: torch.nn.RNN(D, H, dtype=torch.bfloat16), "float32 and float64.*bfloat16"),
])
def test_from_torch_rejects(make: Callable[[], Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        from_torch(make())


REJECTED: list[tuple[Callable[[], Any], str]] = [
    (lambda: _seq(LSTM(3, dtype="float64")), "return_sequences=False"),
    (lambda: _seq(GRU(3, reset_after=False, **R)), "reset_after=False"),
    (lambda: _seq(SimpleRNN(3, activation="sigmoid", **R)), "SimpleRNN activation 'sigmoid'"),
    (lambda: _seq(LSTM(3, recurrent_activation="hard_sigmoid", **R)),
     "recurrent_activation 'hard_sigmoid'"),
    (lambda: _seq(LSTM(3, activation="relu", **R)), "LSTM activation 'relu'"),
    (lambda: _seq(LSTM(3, **R), GRU(3, **R)), r"mix of recurrent kinds \['GRU', 'LSTM'\]"),
    (lambda: _seq(SimpleRNN(3, **R), SimpleRNN(3, activation="relu", **R)),
     "mix of recurrent kinds"),
    (lambda: _seq(LSTM(3, **R), LSTM(4, **R)), r"different units per layer \[3, 4\]"),
    (lambda: _seq(Bidirectional(LSTM(3, **R), merge_mode="sum")), "merge_mode='sum'"),
    (lambda: _seq(Bidirectional(LSTM(3, **R)), LSTM(3, **R)),
     "mix of Bidirectional and unidirectional"),
    (lambda: _seq(LSTM(3, **R), Dense(2, dtype="float64")), "type Dense"),
    (lambda: _seq(LSTM(3, stateful=True, **R)), "stateful=True"),
    (lambda: _seq(LSTM(3, go_backwards=True, **R)), "go_backwards=True"),
    (lambda: _seq(LSTM(3, return_state=True, **R)), "return_state=True"),
    (lambda: _seq(LSTM(3, recurrent_dropout=0.2, **R)), "recurrent_dropout=0.2"),
    (lambda: _seq(GRU(3, dropout=0.1, **R)), "dropout=0.1"),
    (lambda: _seq(LSTM(3, truncate_gradient=2, **R)), "truncate_gradient=2"),
    (lambda: _seq(LSTM(3, **R), Dropout(0.2, dtype="float64")), "after the last recurrent layer"),
    (lambda: _seq(LSTM(3, **R), Dropout(0.2, dtype="float64"), LSTM(3, **R), LSTM(3, **R)),
     "between some recurrent layers only"),
    (lambda: _seq(LSTM(3, **R), Dropout(0.2, noise_shape=(None, 1, None), dtype="float64"),
                  LSTM(3, **R)), "noise_shape"),
    (lambda: _seq(LSTM(3, **R), Dropout(0.2, dtype="float32"), LSTM(3, **R)),
     r"mix of dtypes \['float32', 'float64'\].*Dropout included"),
    (lambda: _seq(Bidirectional(RNN([GRUCell(3), GRUCell(3)], **R))), "stack of cells"),
    (lambda: _seq(LSTM(3, **R, name="a"), LSTM(3, return_sequences=True, dtype="float32")),
     "mix of dtypes"),
    (lambda: Sequential([LSTM(3, return_sequences=True)]), "not built"),
    (lambda: Sequential(), "no layers"),
    (lambda: Model(*(lambda i: (i, LSTM(3, return_sequences=True)(i)))(Input((None, D)))),
     "expects an rnnlab Sequential"),
]


@pytest.mark.parametrize("make,match", REJECTED, ids=[m for _, m in REJECTED])
def test_to_torch_rejects(make: Callable[[], Any], match: str) -> None:
    model = make()
    with pytest.raises(ValueError, match=match):
        to_torch(model)


def test_inference_only_drops_training_settings() -> None:
    model = _seq(LSTM(3, recurrent_dropout=0.2, dropout=0.1, **R), Dropout(0.5, dtype="float64"),
                 LSTM(3, truncate_gradient=2, **R), Dropout(0.3, dtype="float64"))
    randomise(model)
    x = data()
    module = to_torch(model, inference_only=True)
    assert module.dropout == 0.0
    np.testing.assert_allclose(torch_out(module, x), model.predict(x), **TOL["float64"])

