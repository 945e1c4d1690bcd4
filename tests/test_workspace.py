"""Reused sweep buffers (rnnlab.kernels.workspace): reuse happens, changes no number, and never
overwrites an array someone still holds."""

from __future__ import annotations

import numpy as np
import pytest

import rnnlab
from rnnlab import layers
from rnnlab.kernels.workspace import Workspace


def test_workspace_reuses_only_what_nothing_else_holds() -> None:
    ws = Workspace()
    a = ws.empty((3, 4), np.float32)
    ident = id(a)
    ws.give([a])  # the caller's name `a` still holds it: not taken back
    assert ws.nbytes == 0
    held = [a]
    del a
    ws.give(held)
    assert ws.nbytes == 48 and held == []
    b = ws.empty((3, 4), np.float32)
    assert id(b) == ident and ws.nbytes == 0
    view = b[1:]
    pool = [b]
    del b
    ws.give(pool)  # a view of it is alive
    assert ws.nbytes == 0 and view.shape == (2, 4)
    assert ws.empty((3, 4), np.float64).dtype == np.float64


def test_workspace_is_bounded() -> None:
    ws = Workspace(per_shape=2, max_bytes=100)
    arrays = [np.empty(8, np.float32) for _ in range(4)]  # 32 bytes each
    ws.give(arrays)
    assert ws.nbytes == 64  # two per shape
    more = [np.empty(10, np.float32) for _ in range(2)]
    ws.give(more)
    assert ws.nbytes == 64  # 40 more would pass max_bytes


def _model(cell: str, seq: bool, seed: int = 0) -> rnnlab.Sequential:
    rnnlab.set_random_seed(seed)
    m = rnnlab.Sequential([rnnlab.Input((7, 3)), getattr(layers, cell)(5, return_sequences=seq),
                           layers.Dense(2)])
    m.compile(optimizer=rnnlab.optimizers.SGD(0.1), loss="mse")
    return m


@pytest.mark.parametrize("cell", ["SimpleRNN", "LSTM", "GRU"])
def test_training_reuses_buffers_and_changes_no_number(cell: str) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 7, 3)).astype(np.float32)
    y = rng.standard_normal((6, 7, 2) if cell == "GRU" else (6, 2)).astype(np.float32)
    seq = cell == "GRU"
    with rnnlab.engine("compiled"):
        pooled, plain = _model(cell, seq), _model(cell, seq)
        plain.layers[0].workspace = None
        for _ in range(3):
            pooled.train_on_batch(x, y)
            plain.train_on_batch(x, y)
        ws = pooled.layers[0].workspace
        assert ws.nbytes > 0  # the last step's buffers wait for the next one
        held = ws.nbytes
        pooled.train_on_batch(x, y)
        plain.train_on_batch(x, y)
        assert ws.nbytes == held  # the step took them and gave the same back
    for a, b in zip(pooled.get_weights(), plain.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_outputs_kept_by_the_caller_are_never_overwritten() -> None:
    """One step, batch 1: the layer's output is a view of the sweep's state buffer."""
    rnnlab.set_random_seed(0)
    layer = layers.LSTM(4, return_sequences=True)
    rng = np.random.default_rng(1)
    with rnnlab.engine("compiled"):
        x1 = rng.standard_normal((1, 1, 3)).astype(np.float32)
        first = layer(x1)
        kept = np.array(first, copy=True)
        for _ in range(3):
            layer(rng.standard_normal((1, 1, 3)).astype(np.float32))
        np.testing.assert_array_equal(first, kept)
        again = layer.trace(x1)[0]["output"]
        states = layer.trace(x1)[0]["state1"]
        layer(rng.standard_normal((1, 1, 3)).astype(np.float32))
        np.testing.assert_array_equal(layer.trace(x1)[0]["output"], again)
        np.testing.assert_array_equal(layer.trace(x1)[0]["state1"], states)
