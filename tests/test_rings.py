"""Inference over rings (``driver.forward(last_only=True)``, the ``rings`` option of a compiled
sweep): a call that keeps no backward cache and wants only the final states and the last step's
outputs (``RNN.infer``: ``predict``, ``evaluate``, calling a layer on arrays) sweeps its last
LSTM cell over per-step buffers of 1 and 2 slots. Its outputs and states are the full sweep's
bit for bit (float32 and float64; one thread, row blocks, unit blocks, each step's input
projected in the sweep or beforehand), the reference's to 1e-12 in float64, and where rings
cannot or need not run (a mask, ``return_sequences``, a cell without them) it does not use
them. Nothing runs backward over rings."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rnnlab import kernels
from rnnlab.layers import Bidirectional, Dense
from rnnlab.layers.recurrent import LSTM
from rnnlab.models import Sequential

from .test_fastpath import OPTIONS, _case, rel

pytestmark = pytest.mark.skipif(not kernels.numba_status()[0], reason="numba engine unavailable")


@pytest.fixture
def sweeps(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every compiled forward sweep's ``Seq``, in call order."""
    from rnnlab.kernels import driver

    seen: list[Any] = []
    run = driver.forward

    def recorded(*args: Any, **kw: Any) -> Any:
        seen.append(run(*args, **kw))
        return seen[-1]

    monkeypatch.setattr(driver, "forward", recorded)
    return seen


@pytest.fixture(params=["one thread", "step input", "row blocks", "unit blocks"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The sweep's path: as this machine chooses on one thread; each step's input projected
    in the sweep (strips for every product); row blocks on 3 threads; unit blocks on 3."""
    from rnnlab.kernels import _numba_kernels as nk

    if request.param == "one thread":
        monkeypatch.setattr(nk, "threads", lambda: 1)
    if request.param == "step input":
        monkeypatch.setattr(nk, "STRIPS", True)
        monkeypatch.setattr(nk, "STRIPS_MIN_ROWS", 1)
    if request.param in ("row blocks", "unit blocks"):
        request.getfixturevalue("three_threads")
    if request.param == "unit blocks":
        monkeypatch.setattr(nk, "UNIT_MIN_WEIGHT", 1)
        monkeypatch.setattr(nk, "UNIT_MAX_ROWS", 1000)
    return str(request.param)


def _calls(build: Any, x: np.ndarray, kw: dict[str, Any], engine: str
           ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``(forward's outputs, infer's outputs)`` of one layer with deterministic weights, each
    from the same dropout draw."""
    with kernels.use_engine(engine):
        layer = build()
        layer.build((None,) + x.shape[1:])
        rng = np.random.default_rng(7)
        for _, p in sorted(layer.named_params()):
            p[...] = rng.standard_normal(p.shape) * 0.6
        inputs: Any = x if kw["initial_state"] is None else [x, *kw["initial_state"]]
        extra = {"mask": kw["mask"]} if kw["mask"] is not None else {}
        layer.rng_calls = 0
        full, _ = layer.forward(inputs, training=kw["training"], **extra)
        layer.rng_calls = 0
        inferred = layer.infer(inputs, training=kw["training"], **extra)
    return _arrays(full), _arrays(inferred)


def _arrays(out: Any) -> list[np.ndarray]:
    return [np.array(v) for v in out] if isinstance(out, list) else [np.array(out)]


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in
                                                                  o.items()) or "default")
def test_inference_equals_the_full_sweep(cell: str, opts: dict[str, Any], path: str,
                                         sweeps: list[Any]) -> None:
    """Every option of the grid (a stack of GRU then LSTM for ``gru``, stacked): ``infer``
    gives ``forward``'s outputs and states bit for bit and the reference's to 1e-12, over
    rings exactly where the last cell is an LSTM returning its last step without a mask."""
    build, x, kw = _case(cell, opts, batch=7, steps=9, dim=6)
    full, inferred = _calls(build, x, kw, "compiled")
    assert len(full) == len(inferred)
    for a, b in zip(full, inferred):
        np.testing.assert_array_equal(b, a)
    ref, _ = _calls(build, x, kw, "reference")
    for a, b in zip(ref, inferred):
        assert rel(b, a) < 1e-12
    last_is_lstm = cell == "lstm" or opts.get("stacked", False)
    want = last_is_lstm and not opts.get("return_sequences") and "mask" not in opts
    rings = [q.ring for q in sweeps]
    cells = len(rings) // 2                                 # forward's sweeps, then infer's
    assert rings[:cells] == [False] * cells
    assert rings[cells:] == [False] * (cells - 1) + [want]
    q = sweeps[-1]
    if want:
        assert q.S.shape[0] == q.extra["C"].shape[0] == 2 and q.extra["TC"].shape[0] == 1
        assert q.P.shape[0] == (1 if q.X is not None else q.T)
        assert q.x is None
    if path == "step input" and want:
        assert q.P.shape[0] == 1
    if path == "unit blocks" and want and not opts.get("dropout"):
        assert q.K > 0


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("shape", [(32, 100, 32, 32), (64, 28, 28, 64), (20, 35, 200, 200)],
                         ids=["clf", "mnist", "small"])
def test_benchmark_shapes_in_float32(shape: tuple[int, int, int, int], go_backwards: bool,
                                     sweeps: list[Any]) -> None:
    """The benchmark's LSTM shapes in float32 on this machine's own path: ``predict_on_batch``
    through rings, the numbers of ``forward(training=False)`` bit for bit."""
    N, T, D, H = shape
    model = Sequential([LSTM(H, go_backwards=go_backwards, input_shape=(T, D), seed=1),
                        Dense(3)])
    x = np.random.default_rng(0).standard_normal((N, T, D)).astype(np.float32)
    full, _, _ = model.forward([x], training=False)
    got = model.predict_on_batch(x)
    np.testing.assert_array_equal(got, full[0])
    assert [q.ring for q in sweeps] == [False, True]


def test_stateful_layer_keeps_the_same_states(sweeps: list[Any]) -> None:
    """A stateful LSTM called for inference carries the final states of its rings."""
    x = np.random.default_rng(3).standard_normal((4, 6, 3))
    a, b = (LSTM(5, stateful=True, dtype="float64", seed=4) for _ in range(2))
    for _ in range(3):
        ya, _ = a.forward(x)
        yb = b.infer(x)
        np.testing.assert_array_equal(yb, ya)
    for sa, sb in zip(a.states, b.states):
        np.testing.assert_array_equal(sb, sa)
    assert [q.ring for q in sweeps] == [False, True] * 3


@pytest.mark.parametrize("merge_mode", ["concat", "sum", None])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_inference(merge_mode: str | None, return_sequences: bool,
                                 sweeps: list[Any]) -> None:
    """``Bidirectional(LSTM)`` called for inference: each direction through its layer's
    ``infer`` (rings for both where they return only their last step), ``forward``'s outputs
    and states bit for bit."""
    layer = Bidirectional(LSTM(5, return_sequences=return_sequences, return_state=True,
                               dtype="float64", seed=2), merge_mode=merge_mode)
    x = np.random.default_rng(5).standard_normal((4, 7, 3))
    full, _ = layer.forward(x)
    got = layer.infer(x)
    assert len(got) == len(full)
    for a, b in zip(full, got):
        np.testing.assert_array_equal(b, a)
    assert [q.ring for q in sweeps] == [False, False] + [not return_sequences] * 2


def test_a_subclass_forward_is_what_infer_runs() -> None:
    """A recurrent layer whose subclass has a ``forward`` of its own: ``infer`` (and so
    ``predict``, eager calls) runs that, not the base class's sweep."""

    class Doubled(LSTM):
        def forward(self, inputs: Any, training: bool = False, mask: Any = None,
                    initial_state: Any = None) -> tuple[Any, Any]:
            out, cache = super().forward(inputs, training, mask, initial_state)
            return 2 * out, cache

    class Halved(Bidirectional):
        def forward(self, inputs: Any, training: bool = False, mask: Any = None,
                    initial_state: Any = None) -> tuple[Any, Any]:
            out, cache = super().forward(inputs, training, mask, initial_state)
            return out / 2, cache

    x = np.random.default_rng(6).standard_normal((2, 4, 3))
    for layer in (Doubled(3, dtype="float64"), Halved(LSTM(3, dtype="float64"))):
        full, _ = layer.forward(x)
        np.testing.assert_array_equal(layer.infer(x), full)
        np.testing.assert_array_equal(layer(x), full)


def test_rings_run_no_backward_pass() -> None:
    from rnnlab.kernels import driver

    layer = LSTM(4, dtype="float64")
    x = np.random.default_rng(0).standard_normal((3, 5, 2))
    layer.maybe_build(x.shape)
    cell = layer.cell
    sweep = cell.compiled_sweep()
    state = (np.zeros((3, 4)), np.zeros((3, 4)))
    q = driver.forward(sweep, cell, x.swapaxes(0, 1), state, None, None, False, False,
                       last_only=True)
    assert q.ring
    assert driver.outputs(q).shape == (1, 3, 4)
    with pytest.raises(RuntimeError, match="no backward pass"):
        driver.backward(q, cell, None, state, [])
    with pytest.raises(RuntimeError, match="rings"):
        sweep.step_states(q)
