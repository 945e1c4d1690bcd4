"""The compiled sweeps (``cell.compiled_sweep()``, numba) against the readable reference loop,
in float64: outputs, final states, input / initial-state / parameter gradients to 1e-12
(relative to each array's largest entry), over masks, dropout, go_backwards, truncation, stacks,
states, biases and activations; engine selection; the compiled tanh, sigmoid and exp; memory
kept for BPTT."""

from __future__ import annotations

import gc
import importlib.util
import itertools
from typing import Any

import numpy as np
import pytest

from rnnlab import kernels
from rnnlab.cells import GRUCell, LSTMCell, SimpleRNNCell
from rnnlab.kernels import driver, products  # noqa: F401
from rnnlab.layers import Bidirectional, Dense
from rnnlab.layers.recurrent import GRU, LSTM, RNN, SimpleRNN
from rnnlab.models import Sequential
from rnnlab.random import set_random_seed

TOL = 1e-12
NUMBA_OK = kernels.numba_status()[0]
NUMBA_INSTALLED = importlib.util.find_spec("numba") is not None
FAST = [pytest.param("compiled", marks=pytest.mark.skipif(
    not NUMBA_OK, reason=f"numba engine unavailable: {kernels.numba_status()[1]}"))]


def cache_engine(cache: Any) -> str:
    """The engine recorded in an ``RNN`` (or ``Bidirectional``: its forward layer's) cache."""
    return cache.engine if hasattr(cache, "engine") else cache[0].engine


def rel(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max |b| (0 when both are all zero)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape
    scale = np.max(np.abs(b)) if b.size else 0.0
    diff = np.max(np.abs(a - b)) if a.size else 0.0
    return float(diff / scale) if scale > 0 else float(diff)


def make_cell(kind: str, units: int, **kw: Any) -> Any:
    if kind == "simple":
        return SimpleRNNCell(units, **kw)
    if kind == "simple_relu":
        return SimpleRNNCell(units, activation="relu", **kw)
    if kind == "simple_linear":
        return SimpleRNNCell(units, activation=None, **kw)
    if kind == "lstm":
        return LSTMCell(units, **kw)
    return GRUCell(units, **kw)


def run_layer(engine: str, monkeypatch: pytest.MonkeyPatch, build: Any, x: np.ndarray,
              **kw: Any) -> dict[str, Any]:
    """Build a float64 layer, give it deterministic weights, run ``calls`` forward/backward
    passes under ``engine`` and return outputs, input gradients and parameter gradients."""
    with kernels.use_engine(engine):
        return _run_layer(build, x, **kw)


def _run_layer(build: Any, x: np.ndarray, *, mask: np.ndarray | None = None,
               training: bool = False, initial_state: list[np.ndarray] | None = None,
               seed: int = 7, calls: int = 1) -> dict[str, Any]:
    layer = build()
    layer.build((None,) + x.shape[1:])
    rng = np.random.default_rng(seed)
    for _, p in sorted(layer.named_params()):
        p[...] = rng.standard_normal(p.shape) * 0.6
    result: dict[str, Any] = {"outputs": [], "d_inputs": [], "grads": {}}
    for call in range(calls):
        layer.rng_calls = call
        inputs: Any = x if initial_state is None else [x, *initial_state]
        kw = {"mask": mask} if mask is not None else {}
        out, cache = layer.forward(inputs, training=training, **kw)
        outs = out if isinstance(out, list) else [out]
        g = [np.random.default_rng(100 + k + 10 * call).standard_normal(o.shape)
             for k, o in enumerate(outs)]
        layer.zero_grad()
        d = layer.backward(g if isinstance(out, list) else g[0], cache)
        result["outputs"] += [np.array(o) for o in outs]
        result["d_inputs"] += [np.array(v) for v in (d if isinstance(d, list) else [d])]
        result["grads"] = {k: v.copy() for k, v in layer.named_grads()}
        result["engine"] = cache_engine(cache)
    return result


def assert_same(got: dict[str, Any], ref: dict[str, Any], tol: float = TOL) -> None:
    assert len(got["outputs"]) == len(ref["outputs"])
    for a, b in zip(got["outputs"], ref["outputs"]):
        assert rel(a, b) < tol, f"output differs: {rel(a, b):.3e}"
    assert len(got["d_inputs"]) == len(ref["d_inputs"])
    for a, b in zip(got["d_inputs"], ref["d_inputs"]):
        assert rel(a, b) < tol, f"input gradient differs: {rel(a, b):.3e}"
    assert set(got["grads"]) == set(ref["grads"])
    for k in ref["grads"]:
        assert rel(got["grads"][k], ref["grads"][k]) < tol, (
            f"gradient {k} differs: {rel(got['grads'][k], ref['grads'][k]):.3e}")


def compare(engine: str, monkeypatch: pytest.MonkeyPatch, build: Any, x: np.ndarray,
            **kw: Any) -> dict[str, Any]:
    ref = run_layer("reference", monkeypatch, build, x, **kw)
    assert ref["engine"] == "reference"
    got = run_layer(engine, monkeypatch, build, x, **kw)
    assert got["engine"] == engine
    assert_same(got, ref)
    return got


# -- the grid ------------------------------------------------------------------------------------
CELLS = ["simple", "simple_relu", "simple_linear", "lstm", "gru"]
OPTIONS: list[dict[str, Any]] = [
    {},
    {"return_sequences": True},
    {"go_backwards": True},
    {"return_sequences": True, "go_backwards": True, "return_state": True},
    {"return_sequences": True, "truncate_gradient": 2},
    {"return_sequences": True, "truncate_gradient": 3, "go_backwards": True, "mask": "ragged"},
    {"truncate_gradient": 2, "mask": "ragged", "zero_output_for_mask": True},
    {"return_sequences": True, "mask": "ragged"},
    {"return_sequences": True, "mask": "ragged", "zero_output_for_mask": True,
     "go_backwards": True},
    {"mask": "start", "return_state": True},
    {"return_sequences": True, "dropout": 0.3, "recurrent_dropout": 0.4},
    {"dropout": 0.25, "recurrent_dropout": 0.5, "mask": "ragged", "go_backwards": True},
    {"return_sequences": True, "initial_state": True, "return_state": True},
    {"return_sequences": True, "recurrent_bias": True},
    {"use_bias": False, "return_sequences": True},
    {"stacked": True, "return_sequences": True, "return_state": True, "initial_state": True},
    {"stacked": True, "go_backwards": True, "mask": "ragged", "dropout": 0.2,
     "recurrent_dropout": 0.3, "truncate_gradient": 2},
]


def _case(cell: str, opts: dict[str, Any], batch: int = 3, steps: int = 6, dim: int = 4,
          units: int = 5, dtype: str = "float64") -> tuple[Any, np.ndarray, dict[str, Any]]:
    opts = dict(opts)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((batch, steps, dim)).astype(dtype)
    mask_kind = opts.pop("mask", None)
    mask = None
    if mask_kind == "ragged":
        mask = rng.random((batch, steps)) > 0.35
        mask[0] = True
    elif mask_kind == "start":
        mask = np.ones((batch, steps), dtype=bool)
        mask[:, :2] = False
    cell_kw = {k: opts.pop(k) for k in ("dropout", "recurrent_dropout", "use_bias",
                                        "recurrent_bias") if k in opts}
    stacked = opts.pop("stacked", False)
    want_init = opts.pop("initial_state", False)
    training = "dropout" in cell_kw or "recurrent_dropout" in cell_kw

    def build() -> RNN:
        if stacked:
            kinds = [cell, "lstm" if cell != "lstm" else "gru"]
            cells = [make_cell(k, units + i, **cell_kw) for i, k in enumerate(kinds)]
        else:
            cells = make_cell(cell, units, **cell_kw)
        return RNN(cells, dtype=dtype, seed=3, **opts)

    init = None
    if want_init:
        sizes = build().state_sizes
        init = [rng.standard_normal((batch, s)) for s in sizes]
    return build, x, {"mask": mask, "training": training, "initial_state": init}


@pytest.mark.parametrize("engine", FAST)
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in
                                                                  o.items()) or "plain")
def test_engine_equals_reference(engine: str, cell: str, opts: dict[str, Any],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    build, x, kw = _case(cell, opts)
    compare(engine, monkeypatch, build, x, **kw)


@pytest.mark.parametrize("engine", FAST)
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in
                                                                  o.items()) or "plain")
def test_engine_close_to_reference_in_float32(engine: str, cell: str, opts: dict[str, Any],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The same grid in float32: 1e-5 relative to each array's largest entry."""
    build, x, kw = _case(cell, opts, dtype="float32")
    ref = run_layer("reference", monkeypatch, build, x, **kw)
    got = run_layer(engine, monkeypatch, build, x, **kw)
    assert got["engine"] == engine and ref["engine"] == "reference"
    assert all(o.dtype == np.float32 for o in got["outputs"])
    assert_same(got, ref, tol=1e-5)


def test_without_numba_the_reference_runs_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kernels, "_numba_state", {"ok": False, "detail": "ImportError: numba"})
    layer = LSTM(3, dtype="float64")
    _, cache = layer.forward(np.ones((2, 3, 2)))
    assert (cache.engine, cache.reason) == ("reference", "numba unavailable (ImportError: numba)")
    assert kernels.engine_info()["compiled"] is False
    assert kernels.threads_module() is None


@pytest.mark.parametrize("engine", FAST)
@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
def test_row_blocks_and_threads(engine: str, cell: str, three_threads: None,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch big enough to be split into row blocks run on several threads (numba engine):
    13 rows, 3 blocks."""
    monkeypatch.setattr(driver, "PRODUCT_ROWS", 5)                     # projection
    monkeypatch.setattr(products, "MIN_BLOCK_WORK", 1)                 # gradient products
    for opts in ({"return_sequences": True, "mask": "ragged", "go_backwards": True},
                 {"truncate_gradient": 2, "dropout": 0.2, "recurrent_dropout": 0.3}):
        build, x, kw = _case(cell, opts, batch=13)
        compare(engine, monkeypatch, build, x, **kw)


@pytest.mark.skipif(not NUMBA_OK, reason="numba engine unavailable")
@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
def test_recurrent_weight_in_panels(cell: str, three_threads: None,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-step products with the weight split into several column panels (the last one
    narrower), as on cores with OpenBLAS's small-matrix kernels, on 3 threads."""
    from rnnlab.kernels import _numba_kernels

    monkeypatch.setattr(_numba_kernels, "STRIPS", False)
    monkeypatch.setattr(_numba_kernels, "STRIPS_FLOAT32", False)
    monkeypatch.setattr(_numba_kernels, "panel_width", lambda rows, k, n: max(1, n // 3))
    for opts in ({"return_sequences": True, "mask": "ragged", "go_backwards": True},
                 {"truncate_gradient": 2, "dropout": 0.2, "recurrent_dropout": 0.3},
                 {"return_state": True, "stacked": True, "initial_state": True}):
        build, x, kw = _case(cell, opts, batch=13, units=7)
        compare("compiled", monkeypatch, build, x, **kw)


@pytest.mark.skipif(not NUMBA_OK, reason="numba engine unavailable")
@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
def test_recurrent_weight_in_strips(cell: str, three_threads: None,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-step products over strips (``_strips``), whatever this machine's OpenBLAS core,
    on 3 threads: the same numbers as the reference to 1e-12, for masks, windows, dropout,
    stacks and states."""
    from rnnlab.kernels import _numba_kernels

    monkeypatch.setattr(_numba_kernels, "STRIPS", True)
    packed: list[int] = []
    real_pack = _numba_kernels.pack_panels

    def pack(b: np.ndarray, rows: int, *args: Any) -> Any:
        flat, bounds = real_pack(b, rows, *args)
        packed.append(int(bounds[0]))
        return flat, bounds

    monkeypatch.setattr(_numba_kernels, "pack_panels", pack)
    for opts in ({"return_sequences": True, "mask": "ragged", "go_backwards": True},
                 {"truncate_gradient": 2, "dropout": 0.2, "recurrent_dropout": 0.3},
                 {"return_state": True, "stacked": True, "initial_state": True}):
        build, x, kw = _case(cell, opts, batch=13, units=21)
        compare("compiled", monkeypatch, build, x, **kw)
    assert packed and set(packed) == {-2}


@pytest.mark.skipif(not NUMBA_OK, reason="numba engine unavailable")
@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
def test_real_panel_widths(cell: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The panel rule itself (as on AVX-512 cores, whatever this machine's core), at a size it
    splits: 400 units, 20 rows, the machine's own threads."""
    from rnnlab.kernels import _numba_kernels as nk

    monkeypatch.setattr(nk, "SMALL_GEMM", True)
    monkeypatch.setattr(nk, "STRIPS", False)
    monkeypatch.setattr(nk, "STRIPS_FLOAT32", False)
    packed: list[int] = []
    real_pack = nk.pack_panels

    def pack(b: np.ndarray, rows: int, *args: Any) -> Any:
        flat, bounds = real_pack(b, rows, *args)
        packed.append(len(bounds) - 1)
        return flat, bounds

    monkeypatch.setattr(nk, "pack_panels", pack)
    build, x, kw = _case(cell, {"return_sequences": True, "mask": "ragged"}, batch=20, steps=3,
                         dim=3, units=400)
    compare("compiled", monkeypatch, build, x, **kw)
    assert len(packed) == 2 and min(packed) > 1              # forward and BPTT layouts


@pytest.mark.skipif(not NUMBA_OK, reason="numba engine unavailable")
def test_panel_layout_and_width_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    from rnnlab.kernels import _numba_kernels as nk

    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        b = rng.standard_normal((7, 10)).astype(dtype)
        a = rng.standard_normal((3, 7)).astype(dtype)
        monkeypatch.setattr(nk, "panel_width", lambda rows, k, n: 4)
        flat, bounds = nk.pack_panels(b.T.copy().T, rows=3)            # a strided source
        assert bounds.tolist() == [0, 4, 8, 10]
        for j0, j1 in zip(bounds[:-1], bounds[1:]):
            np.testing.assert_array_equal(flat[7 * j0:7 * j1].reshape(7, j1 - j0), b[:, j0:j1])
        wide = np.full((3, 14), 5.0, dtype=dtype)                         # c: a column range
        nk.mm_panels(a, flat, bounds, wide[:, 2:12], 1.0)
        np.testing.assert_allclose(wide[:, 2:12], a @ b + 5.0, rtol=1e-6)
        assert (wide[:, :2] == 5).all() and (wide[:, 12:] == 5).all()
    monkeypatch.undo()
    monkeypatch.setattr(nk, "SMALL_GEMM", True)
    assert nk.panel_width(10, 650, 2600) == 144        # 10·144·650 ≤ 10^6, multiple of 16
    assert nk.panel_width(10, 2600, 650) == 32
    assert nk.panel_width(16, 32, 128) == 128          # small already: one panel
    assert nk.panel_width(100, 2600, 650) == 650       # no width of 16 fits: one panel
    monkeypatch.setattr(nk, "SMALL_GEMM", False)
    assert nk.panel_width(10, 650, 2600) == 2600


def test_few_row_products_match_blas() -> None:
    """``mm_panels`` on at most ``SMALL_ROWS`` rows (``mm_rows``' passes where OpenBLAS has no
    small-matrix kernels; a matrix-vector product per row on a transposed weight) and on more
    (BLAS): the same product, ``beta`` 0 ignoring what ``c`` held (NaN included) and 1 adding
    to it. A C-contiguous weight is used where it lies, and so is a transposed one for a few
    rows; any other is copied."""
    from rnnlab.kernels import _numba_kernels as nk

    rng = np.random.default_rng(1)
    short, long = nk.GEMV_STEPS, nk.GEMV_STEPS + 1
    for dtype, rtol in ((np.float32, 1e-5), (np.float64, 1e-13)):
        for m, layout, steps in itertools.product((1, 2, 3, 4, 8), ("C", "T", "strided"),
                                                  (None, 1, short, long)):
            a = rng.standard_normal((m, 100)).astype(dtype)
            b = rng.standard_normal((100, 400)).astype(dtype)
            src = {"C": b, "T": b.T.copy().T, "strided": np.repeat(b, 2, axis=1)[:, ::2]}[layout]
            flat, bounds = nk.pack_panels(src, rows=m, steps=steps)
            strips = nk.use_strips(m, dtype)
            few = m <= nk.SMALL_ROWS or (m == 1 and steps in (1, short))  # one row, short sweep
            view = not strips and (layout == "C" or (layout == "T" and few))
            assert np.shares_memory(flat, src) == view
            want = [-2, 400] if strips else [-1, 400] if view and layout == "T" else [0, 400]
            assert bounds.tolist() == want
            c0 = rng.standard_normal((m, 400)).astype(dtype)
            c = c0.copy()
            nk.mm_panels(a, flat, bounds, c, 1.0)
            np.testing.assert_allclose(c, a.astype(np.float64) @ b + c0, rtol=rtol, atol=rtol)
            c = np.full((m, 400), np.nan, dtype=dtype)
            nk.mm_panels(a, flat, bounds, c, 0.0)
            np.testing.assert_allclose(c, a.astype(np.float64) @ b, rtol=rtol, atol=rtol)


@pytest.mark.skipif(not NUMBA_OK, reason="numba engine unavailable")
@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
@pytest.mark.parametrize("steps", [5, 40])
def test_one_row_sweep_reads_the_weight_where_it_lies(cell: str, steps: int,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Batch 1 where OpenBLAS has small-matrix kernels (``SMALL_ROWS`` 0, whatever this
    machine's core): a sweep of at most ``GEMV_STEPS`` steps takes a matrix-vector product per
    step on ``W_hh`` itself (``WB[0] = -1``, no copy), a longer one the copied panel; both give
    the reference's numbers to 1e-12 (forward, states and every gradient)."""
    from rnnlab.kernels import _numba_kernels as nk

    monkeypatch.setattr(nk, "SMALL_GEMM", True)
    monkeypatch.setattr(nk, "SMALL_ROWS", 0)
    monkeypatch.setattr(nk, "STRIPS", False)
    monkeypatch.setattr(nk, "STRIPS_FLOAT32", False)
    monkeypatch.setattr(nk, "threads", lambda: 1)               # rows, not unit blocks
    layouts: list[int] = []
    real_pack = nk.pack_panels

    def pack(b: np.ndarray, rows: int, *args: Any) -> Any:
        flat, bounds = real_pack(b, rows, *args)
        if not b.flags.c_contiguous:                              # the forward's W_hh^T
            layouts.append(int(bounds[0]))
            assert np.shares_memory(flat, b) == (bounds[0] == -1)
        return flat, bounds

    monkeypatch.setattr(nk, "pack_panels", pack)
    build, x, kw = _case(cell, {"return_sequences": True, "return_state": True}, batch=1,
                         steps=steps, units=21)
    compare("compiled", monkeypatch, build, x, **kw)
    assert layouts and set(layouts) == ({-1} if steps <= nk.GEMV_STEPS else {0})


def test_small_input_products_take_the_weight_transposed() -> None:
    """``nn_operand``: a C-contiguous copy of ``W^T`` for a product OpenBLAS's small-matrix
    kernels take (``SMALL_GEMM``, at least ``NN_MIN_ROWS`` rows, ``rows·k·n`` at most
    ``SMALL_GEMM_WORK``), else the transposed view itself."""
    from rnnlab.kernels import _numba_kernels as nk

    rng = np.random.default_rng(2)
    for dtype in (np.float32, np.float64):
        w = rng.standard_normal((400, 65)).astype(dtype)
        rows = nk.NN_MIN_ROWS
        got = nk.nn_operand(w, rows)
        if nk.SMALL_GEMM:
            assert got.flags.c_contiguous and not np.shares_memory(got, w)
        np.testing.assert_array_equal(got, w.T)
        too_big = nk.SMALL_GEMM_WORK // (65 * 400) + 1
        for view in (nk.nn_operand(w, rows - 1), nk.nn_operand(w, too_big),
                     nk.nn_operand(np.asfortranarray(w), rows)):
            assert np.shares_memory(view, w) or view.base is not None
            np.testing.assert_array_equal(view, w.T)


@pytest.mark.skipif(not NUMBA_OK, reason="numba engine unavailable")
@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
def test_small_input_projection_over_the_copied_weight(cell: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Where OpenBLAS has small-matrix kernels (forced here, whatever this machine's core), a
    whole-sequence input projection of a few rows multiplies a transposed copy of ``W_ih``
    (``nn_operand``): the reference's numbers to 1e-12 (forward, states and every gradient)."""
    from rnnlab.kernels import _numba_kernels as nk

    monkeypatch.setattr(nk, "SMALL_GEMM", True)
    monkeypatch.setattr(nk, "STRIPS", False)                    # no step-by-step projection
    monkeypatch.setattr(nk, "STRIPS_FLOAT32", False)
    monkeypatch.setattr(nk, "threads", lambda: 1)
    copies: list[bool] = []
    real = nk.nn_operand

    def operand(w: np.ndarray, rows: int, *args: Any) -> Any:
        out = real(w, rows, *args)
        copies.append(not np.shares_memory(out, w))
        return out

    monkeypatch.setattr(nk, "nn_operand", operand)
    build, x, kw = _case(cell, {"return_sequences": True, "return_state": True}, batch=2,
                         steps=7, units=21)
    compare("compiled", monkeypatch, build, x, **kw)
    assert copies and all(copies)


def test_row_block_rule() -> None:
    from rnnlab.kernels._pool import MIN_ROWS, row_blocks

    assert row_blocks(32, 1) == [(0, 32)]                              # one thread
    assert row_blocks(32, 2) == [(0, 16), (16, 32)]
    assert row_blocks(20, 2) == [(0, 10), (10, 20)]
    assert row_blocks(2 * MIN_ROWS - 1, 2) == [(0, 2 * MIN_ROWS - 1)]  # too few rows
    assert row_blocks(1, 8) == [(0, 1)]
    for rows, threads in ((13, 3), (100, 2), (64, 8), (1000, 3)):
        blocks = row_blocks(rows, threads)
        assert len(blocks) <= threads
        assert blocks[0][0] == 0 and blocks[-1][1] == rows
        assert all(b - a >= MIN_ROWS for a, b in blocks) or len(blocks) == 1
        assert all(b == c for (_, b), (c, _) in zip(blocks, blocks[1:]))


@pytest.mark.skipif(not NUMBA_OK, reason="numba engine unavailable")
def test_blas_threads_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    from rnnlab.kernels import _numba_kernels

    before = _numba_kernels.threads()
    layer = LSTM(4, return_sequences=True, dtype="float64")
    with kernels.use_engine("compiled"):
        y, cache = layer.forward(np.ones((40, 3, 2)), training=True)
        layer.backward(np.ones_like(y), cache)
    assert cache.engine == "compiled"
    assert _numba_kernels.threads() == before


@pytest.mark.parametrize("engine", FAST)
@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_stateful_and_only_state_gradients(engine: str, cls: Any,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    x = np.random.default_rng(2).standard_normal((2, 4, 3))

    def stateful() -> Any:
        return cls(4, stateful=True, return_sequences=True, dtype="float64")

    compare(engine, monkeypatch, stateful, x, calls=3)

    def states_only() -> Any:
        return cls(4, return_state=True, dtype="float64")

    ref = run_layer("reference", monkeypatch, states_only, x)
    got = run_layer(engine, monkeypatch, states_only, x)
    assert_same(got, ref)


@pytest.mark.parametrize("engine", FAST)
def test_bidirectional_and_model_training(engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    x = np.random.default_rng(3).standard_normal((4, 5, 3))
    compare(engine, monkeypatch, lambda: Bidirectional(LSTM(3, return_sequences=True,
                                                            dtype="float64"), dtype="float64"),
            x)

    def train(eng: str) -> tuple[list[float], list[np.ndarray]]:
        with kernels.use_engine(eng):
            return _train()

    def _train() -> tuple[list[float], list[np.ndarray]]:
        set_random_seed(0)
        model = Sequential([GRU(6, return_sequences=True, dtype="float64", seed=1),
                            LSTM(5, dtype="float64", seed=2), Dense(2, dtype="float64")])
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        y = np.array([0, 1, 1, 0])
        losses = [float(model.train_on_batch(x, y)) for _ in range(3)]
        return losses, [p for _, p in model.named_params()]

    ref_losses, ref_params = train("reference")
    losses, params = train(engine)
    assert rel(np.array(losses), np.array(ref_losses)) < TOL
    assert len(params) == len(ref_params)
    for a, b in zip(params, ref_params):
        assert rel(a, b) < TOL


@pytest.mark.parametrize("engine", FAST)
def test_float32_close_to_reference(engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    x = np.random.default_rng(4).standard_normal((5, 7, 3)).astype(np.float32)
    for cls in (SimpleRNN, LSTM, GRU):
        def build(cls: Any = cls) -> Any:
            return cls(6, return_sequences=True, dtype="float32")

        ref = run_layer("reference", monkeypatch, build, x)
        got = run_layer(engine, monkeypatch, build, x)
        assert got["outputs"][0].dtype == np.float32
        assert got["d_inputs"][0].dtype == np.float32
        assert all(g.dtype == np.float32 for g in got["grads"].values())
        assert_same(got, ref, tol=2e-6)


# -- selection -----------------------------------------------------------------------------------
def test_engine_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    import rnnlab

    x = np.random.default_rng(5).standard_normal((2, 3, 2))
    layer = LSTM(3, dtype="float64")
    with rnnlab.engine("reference"):
        assert layer.engine_choice() == ("reference", "reference engine requested")
        _, cache = layer.forward(x)
        assert cache.engine == "reference" and kernels.requested_engine() == "reference"
    _, cache = layer.forward(x)
    # expected from what is installed, not from the engine's own probe: numba installed but
    # unusable (its BLAS lookup failing, say) fails here instead of falling back unnoticed
    assert cache.engine == ("compiled" if NUMBA_INSTALLED else "reference"), kernels.numba_status()
    info = kernels.engine_info()
    assert info["compiled"] == NUMBA_OK and isinstance(info["numba"], str)
    with pytest.raises(ValueError, match="removed"):
        kernels.check_engine("numpy")
    with pytest.raises(ValueError, match="RNNLAB_ENGINE"):
        kernels.check_engine("fastest", kernels.ENV_VAR)
    assert kernels.check_engine("numba") == "compiled"


def test_env_var_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kernels, "_env_default", [])
    monkeypatch.setenv(kernels.ENV_VAR, "reference")
    assert kernels.requested_engine() == "reference"
    monkeypatch.setenv(kernels.ENV_VAR, "auto")               # not read again
    assert kernels.requested_engine() == "reference"
    with kernels.use_engine("auto"):
        assert kernels.requested_engine() == "auto"
    assert kernels.requested_engine() == "reference"


def test_engine_choice_is_per_thread() -> None:
    import threading

    seen: list[str] = []
    with kernels.use_engine("reference"):
        t = threading.Thread(target=lambda: seen.append(kernels.requested_engine()))
        t.start()
        t.join()
        assert kernels.requested_engine() == "reference"
    assert seen == [kernels.env_engine()]


class _SubclassedLSTMCell(LSTMCell):
    pass


@pytest.mark.parametrize("cell", [
    LSTMCell(3, recurrent_activation="hard_sigmoid"),
    LSTMCell(3, activation="relu"),
    GRUCell(3, reset_after=False),
    SimpleRNNCell(3, activation="sigmoid"),
])
def test_unsupported_cells_run_the_reference(cell: Any) -> None:
    layer = RNN(cell, dtype="float64")
    _, cache = layer.forward(np.ones((2, 3, 2)))
    assert cell.compiled_sweep() is None
    assert cache.engine == "reference"
    if NUMBA_OK:
        assert "has no compiled sweep" in cache.reason


@pytest.mark.skipif(not NUMBA_OK, reason="numba engine unavailable")
def test_a_subclass_inherits_the_compiled_sweep() -> None:
    """No dispatch on class names: a subclass of a built-in cell keeps its compiled sweep."""
    layer = RNN(_SubclassedLSTMCell(3), dtype="float64")
    _, cache = layer.forward(np.ones((2, 3, 2)))
    assert cache.engine == "compiled"


def test_a_stack_with_an_unsupported_cell_runs_the_reference() -> None:
    x = np.random.default_rng(8).standard_normal((3, 4, 2))
    stack = RNN([LSTMCell(3), GRUCell(3, reset_after=False)], return_sequences=True,
                dtype="float64")
    _, cache = stack.forward(x)
    assert cache.engine == "reference"


# -- the compiled tanh, sigmoid and exp --------------------------------------------------------
@pytest.mark.skipif(not NUMBA_OK, reason="numba engine unavailable")
def test_compiled_tanh_accuracy() -> None:
    from rnnlab.kernels._numba_kernels import tanh_array

    rng = np.random.default_rng(6)
    base = np.concatenate([rng.standard_normal(200_000) * s for s in (0.05, 0.5, 2, 8, 30)])
    special = [0.0, -0.0, 1e-300, -1e-30, 5e-324, 0.625, -0.625, np.nextafter(0.625, 0), 9.5,
               19.5, 19.6, 40.0, -1e30, np.inf, -np.inf]
    x64 = np.concatenate([base, special])
    out = np.empty_like(x64)
    tanh_array(x64, out)
    ref = np.tanh(x64)
    assert np.max(np.abs(out - ref) / np.maximum(np.abs(ref), 1e-300)) < 1e-15
    assert np.array_equal(np.signbit(out[np.isin(x64, [0.0])]), np.signbit(x64[x64 == 0]))
    nan = np.array([np.nan])
    tanh_array(nan, nan)
    assert np.isnan(nan[0])
    x32 = x64.astype(np.float32)
    out32 = np.empty_like(x32)
    tanh_array(x32, out32)
    exact = np.tanh(x32.astype(np.float64))
    ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    assert np.max(np.abs(out32 - exact) / ulp) <= 2.0


@pytest.mark.skipif(not NUMBA_OK, reason="numba engine unavailable")
def test_compiled_sigmoid_and_exp_accuracy() -> None:
    """``vsigmoid`` (the LSTM and GRU gates) and the ``vexp`` under it and ``vtanh``: float64
    within 1e-15 relative of NumPy, float32 within a few ulp of the float64 value wherever the
    result is a normal number; NaN stays NaN, the infinities give the limits."""
    from rnnlab.kernels._numba_kernels import exp_array, sigmoid_array

    rng = np.random.default_rng(7)
    base = np.concatenate([rng.standard_normal(200_000) * s for s in (0.05, 0.5, 2, 8, 30, 200)])
    for dtype, tol_sig, tol_exp in ((np.float64, 1e-15, 1e-15), (np.float32, 3.0, 2.0)):
        x = base.astype(dtype)
        xd = x.astype(np.float64)
        tiny = np.finfo(dtype).tiny
        out = np.empty_like(x)
        sigmoid_array(x, out)
        with np.errstate(over="ignore"):
            ref = 1.0 / (1.0 + np.exp(-xd))
        keep = ref >= tiny
        if dtype == np.float64:
            err = np.abs(out - ref)[keep] / ref[keep]
        else:
            err = np.abs(out - ref)[keep] / np.spacing(ref[keep].astype(dtype)).astype(float)
        assert np.max(err) <= tol_sig, (dtype, np.max(err))
        lo, hi = (-87.33, 88.37) if dtype == np.float32 else (-708.39, 709.43)
        xe = x[(xd > lo) & (xd < hi)]
        oe = np.empty_like(xe)
        exp_array(xe, oe)
        re = np.exp(xe.astype(np.float64))
        if dtype == np.float64:
            err = np.abs(oe - re) / re
        else:
            err = np.abs(oe - re) / np.spacing(re.astype(dtype)).astype(float)
        assert np.max(err) <= tol_exp, (dtype, np.max(err))
        special = np.array([np.nan, np.inf, -np.inf, 0.0, 1e4, -1e4], dtype=dtype)
        sigmoid_array(special.copy(), special)
        assert np.isnan(special[0])
        assert list(special[1:]) == [1.0, 0.0, 0.5, 1.0, 0.0]


# -- memory and garbage --------------------------------------------------------------------------
@pytest.mark.parametrize("engine", FAST)
@pytest.mark.parametrize("cls,gates,extra", [(SimpleRNN, 1, 1), (LSTM, 4, 3), (GRU, 3, 2)])
def test_cache_holds_only_what_bptt_needs(engine: str, cls: Any, gates: int, extra: int,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """x, P (gates), the state sequence, and LSTM's c, tanh(c) / GRU's h W_hn: no more."""
    N, T, D, H = 4, 9, 3, 5
    layer = cls(H, return_sequences=True, dtype="float64")
    with kernels.use_engine(engine):
        _, cache = layer.forward(np.ones((N, T, D)), training=True)
    assert cache.engine == "compiled"
    (q, _), = cache.runs
    own = [a for k, a in q.extra.items() if k != "HP"]
    kept = sum(a.nbytes for a in [q.x, q.P, q.S, *own] if a is not None)
    per_step = N * (D + gates * H + extra * H)
    assert kept <= 8 * (T * per_step + 2 * N * H)


@pytest.mark.parametrize("engine", FAST)
def test_no_reference_cycles(engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    layer = LSTM(4, return_sequences=True, dtype="float64")
    x = np.ones((16, 5, 3))
    with kernels.use_engine(engine):
        for _ in range(2):
            y, cache = layer.forward(x, training=True)
            layer.backward(np.ones_like(y), cache)
        gc.collect()
        gc.disable()
        try:
            for _ in range(3):
                y, cache = layer.forward(x, training=True)
                layer.backward(np.ones_like(y), cache)
                del y, cache
            assert gc.collect() == 0
        finally:
            gc.enable()


# -- introspection -------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_trace_states_the_same_on_both_engines(cls: Any) -> None:
    """``RNN.trace``: every step's states and outputs, equal on the compiled and the reference
    sweep; the last states are the returned final states; a masked step carries the state."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3, 5, 2))
    mask = np.ones((3, 5), dtype=bool)
    mask[0, 3:] = False
    layer = cls(4, return_sequences=True, return_state=True, go_backwards=True,
                dtype="float64", seed=2)
    traces = {}
    for eng in (["reference", "compiled"] if NUMBA_OK else ["reference"]):
        with kernels.use_engine(eng):
            traces[eng] = layer.trace(x, mask=mask)
            outs, _ = layer.forward(x, mask=mask)
        (tr,) = traces[eng]
        finals = outs[1:]
        for k, final in enumerate(finals):
            states = tr[f"state{k}"]
            assert states.shape == (3, 5, 4)
            np.testing.assert_allclose(states[:, 0], final, rtol=0, atol=1e-15)  # go_backwards
            np.testing.assert_array_equal(states[0, 3], states[0, 4])          # masked: carried
        np.testing.assert_allclose(tr["output"][:, ::-1], outs[0], rtol=0, atol=1e-15)
    if NUMBA_OK:
        ref, got = traces["reference"][0], traces["compiled"][0]
        for key in ref:
            assert rel(got[key], ref[key]) < TOL, key
        if cls is not SimpleRNN:
            assert got["gates"].shape == (3, 5, (4 if cls is LSTM else 3) * 4)


@pytest.mark.skipif(not NUMBA_OK, reason="numba engine unavailable")
def test_copy_transposed_is_an_exact_transpose() -> None:
    """``copy_transposed`` (OpenBLAS's ``?omatcopy`` where the rows are contiguous, else
    NumPy's copy): every element as it was, NaN, inf and -0 included, into a destination
    whose rows are wider than the copy, and from a source that is not row-contiguous."""
    from rnnlab.kernels import _numba_kernels as nk

    rng = np.random.default_rng(3)
    for dtype in (np.float32, np.float64):
        a = rng.standard_normal((37, 23)).astype(dtype)
        a[0, 0], a[1, 2], a[5, 7], a[9, 1] = np.nan, np.inf, -0.0, -np.inf
        wide = np.full((23, 50), 7.0, dtype=dtype)
        nk.copy_transposed(a, wide[:, 5:42])
        np.testing.assert_array_equal(wide[:, 5:42], a.T)
        assert np.signbit(wide[7, 10]) and (wide[:, :5] == 7).all() and (wide[:, 42:] == 7).all()
        out = np.empty((23, 37), dtype=dtype)
        nk.copy_transposed(a.T.copy().T, out)                          # columns contiguous
        np.testing.assert_array_equal(out, a.T)
