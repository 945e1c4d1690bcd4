"""Sweeps that project each step's input themselves (``driver.step_input``): ``P[t] = x_t W_ih^T``
written inside the sweep over ``W_ih^T`` in strips, from the batch-major input's transposed view,
instead of one product over all steps. Against the reference loop in float64 (1e-12) for every
built-in cell over the option grid, on one thread and in row blocks on 3, with the path forced
(strips for any row count and dtype) and checked to have run; and the rule that chooses it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rnnlab import kernels

from .test_fastpath import CELLS, OPTIONS, _case, compare, run_layer

pytestmark = pytest.mark.skipif(not kernels.numba_status()[0], reason="numba engine unavailable")


@pytest.fixture
def step_inputs(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Strips for every product (float64 too, from one row), so that every sweep of a small
    layer projects its steps itself; returns the driver's choices, one per forward sweep."""
    from rnnlab.kernels import _numba_kernels as nk
    from rnnlab.kernels import driver

    monkeypatch.setattr(nk, "STRIPS", True)
    monkeypatch.setattr(nk, "STRIPS_MIN_ROWS", 1)
    chosen: list[bool] = []
    rule = driver.step_input

    def recorded(*args: Any) -> bool:
        chosen.append(rule(*args))
        return chosen[-1]

    monkeypatch.setattr(driver, "step_input", recorded)
    return chosen


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in
                                                                  o.items()) or "default")
def test_step_input_equals_reference(cell: str, opts: dict[str, Any], step_inputs: list[bool],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    build, x, kw = _case(cell, opts, batch=5)
    compare("compiled", monkeypatch, build, x, **kw)
    assert step_inputs and all(step_inputs), step_inputs


@pytest.mark.parametrize("cell", ["lstm", "gru", "simple"])
def test_step_input_in_row_blocks(cell: str, three_threads: None, step_inputs: list[bool],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Three threads, row blocks of 2 and 3 rows (each reads its rows of the input's view)."""
    opts = {"return_sequences": True, "mask": "ragged", "go_backwards": True,
            "truncate_gradient": 3}
    build, x, kw = _case(cell, opts, batch=7, steps=9, dim=6)
    compare("compiled", monkeypatch, build, x, **kw)
    assert step_inputs and all(step_inputs), step_inputs


def test_step_input_from_a_strided_input(step_inputs: list[bool],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """An input that is itself a view (every other batch row and time step of a larger array)
    gives the numbers of its contiguous copy."""
    build, x, kw = _case("lstm", {"return_sequences": True}, batch=10, steps=12)
    view = x[::2, ::2]
    assert not view.flags.c_contiguous
    got = compare("compiled", monkeypatch, build, view, **kw)
    dense = run_layer("compiled", monkeypatch, build, np.ascontiguousarray(view), **kw)
    for key in ("outputs", "d_inputs"):
        for a, b in zip(got[key], dense[key]):
            np.testing.assert_array_equal(a, b)
    assert step_inputs and all(step_inputs), step_inputs


def test_step_input_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    from rnnlab.cells.gru.sweep import GRUSweep
    from rnnlab.cells.lstm.sweep import LSTMSweep
    from rnnlab.kernels import _numba_kernels as nk
    from rnnlab.kernels import driver

    monkeypatch.setattr(nk, "threads", lambda: 1)
    monkeypatch.setattr(nk, "STRIPS", True)
    monkeypatch.setattr(nk, "STRIPS_MIN_ROWS", 4)
    x = np.zeros((10, 32, 32), dtype=np.float32)
    assert driver.step_input(LSTMSweep(), x, 32, 128, 32, False)
    assert driver.step_input(GRUSweep(), x, 32, 96, 32, False)
    assert not driver.step_input(LSTMSweep(), x, 32, 128, 32, True)     # unit blocks
    assert not driver.step_input(LSTMSweep(), x, 32, 128, 3, False)     # too few rows
    big = driver.STEP_INPUT_BYTES // 4 // 128 + 1                        # W_ih too large
    assert not driver.step_input(LSTMSweep(), np.zeros((2, 32, big), np.float32), big, 128, 32,
                                 False)
    ragged = np.zeros((10, 32, 64), dtype=np.float32)[:, :, ::2]         # strided features
    assert not driver.step_input(LSTMSweep(), ragged, 32, 128, 32, False)
    base = driver.CompiledSweep()                                        # a user's sweep
    assert not driver.step_input(base, x, 32, 128, 32, False)
