"""Sweeps split by units instead of batch rows (``_numba_kernels.unit_blocks``): each step's
product and equations in unit blocks claimed by whichever thread comes, the threads meeting at
every step. Against the reference loop in float64 (1e-12), with blocks of unequal size, on 3
threads, with the helpers absent (one thread does every block), and the rule that chooses it.
LSTM: forward and BPTT; SimpleRNN: forward (its BPTT keeps row blocks)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rnnlab import kernels

from .test_fastpath import _case, compare

pytestmark = pytest.mark.skipif(not kernels.numba_status()[0], reason="numba engine unavailable")

OPTIONS = [
    {"return_sequences": True},
    {"return_sequences": True, "go_backwards": True, "return_state": True},
    {"return_sequences": True, "initial_state": True, "return_state": True},
    {"return_sequences": True, "recurrent_bias": True},
    {"use_bias": False},
    {"truncate_gradient": 2, "return_sequences": True},
    {"stacked": True, "return_sequences": True, "return_state": True, "initial_state": True},
]


@pytest.fixture
def unit_blocks_always(three_threads: None, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Unit blocks for any layer of at least 3 units on 3 threads; returns the list that
    counts the sweeps that ran in unit blocks."""
    from rnnlab.kernels import _numba_kernels as nk

    monkeypatch.setattr(nk, "UNIT_MIN_WEIGHT", 1)
    monkeypatch.setattr(nk, "UNIT_MAX_ROWS", 1000)
    calls: list[int] = []
    run = nk.parallel_units

    def counted(steps: int, fn: Any) -> None:
        calls.append(steps)
        run(steps, fn)

    monkeypatch.setattr(nk, "parallel_units", counted)
    return calls


@pytest.mark.parametrize("cell", ["lstm", "simple", "simple_relu"])
@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in
                                                                  o.items()))
def test_unit_blocks_equal_reference(cell: str, opts: dict[str, Any],
                                     unit_blocks_always: list[int],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    build, x, kw = _case(cell, opts, batch=4, units=7)   # blocks of 2, 2 and 3 units
    compare("compiled", monkeypatch, build, x, **kw)
    steps = x.shape[1]  # a forward sweep syncs once per step, the LSTM's BPTT twice
    want = {steps, 2 * steps} if cell == "lstm" else {steps}
    assert want <= set(unit_blocks_always), unit_blocks_always


def test_unit_blocks_without_helpers(unit_blocks_always: list[int],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A helper that never comes leaves its blocks to the calling thread: same numbers, no
    wait for a block that no thread claimed."""
    from rnnlab.kernels import _pool

    def alone(fn: Any, n: int, threads: int) -> None:
        for i in range(n):
            fn(i)

    monkeypatch.setattr(_pool.POOL, "run", alone)
    build, x, kw = _case("lstm", {"return_sequences": True, "go_backwards": True}, batch=4,
                         units=7)
    compare("compiled", monkeypatch, build, x, **kw)
    assert unit_blocks_always


@pytest.mark.parametrize("opts", [{"return_sequences": True, "mask": "ragged"},
                                  {"dropout": 0.2, "recurrent_dropout": 0.3}])
def test_masks_and_recurrent_dropout_keep_row_blocks(opts: dict[str, Any],
                                                     unit_blocks_always: list[int],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    build, x, kw = _case("lstm", opts, batch=4, units=7)
    compare("compiled", monkeypatch, build, x, **kw)
    assert not unit_blocks_always


def test_unit_block_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    from rnnlab.kernels import _numba_kernels as nk

    monkeypatch.setattr(nk, "threads", lambda: 2)
    assert nk.unit_blocks(12, 650, 4) == 2       # few rows per thread, a large weight
    assert nk.unit_blocks(12, 200, 4) == 2
    assert nk.unit_blocks(12, 650, 1) == 2       # SimpleRNN: one gate
    assert nk.unit_blocks(12, 200, 1) == 0       # ... whose 200-unit weight is small
    assert nk.unit_blocks(20, 650, 4) == 0       # enough rows per thread
    assert nk.unit_blocks(64, 650, 4) == 0
    assert nk.unit_blocks(12, 64, 4) == 0        # a small weight
    monkeypatch.setattr(nk, "threads", lambda: 1)
    assert nk.unit_blocks(12, 650, 4) == 0


def test_pack_units_layout() -> None:
    """Each unit block's columns of ``W_hh^T`` (forward) and of ``W_hh`` (BPTT) as strips,
    from any layout of the weight, with zeros padding each block's last strip."""
    from rnnlab.kernels import _numba_kernels as nk
    from rnnlab.kernels._strips import strip_width, unpack_strips

    H, gates, K = 7, 4, 3
    w_t = np.arange(H * gates * H, dtype=np.float64).reshape(H, gates * H) + 1
    for src in (w_t, np.ascontiguousarray(w_t.T).T, np.ascontiguousarray(w_t.T, np.float32).T):
        flat, offsets = nk.pack_units(src, K, gates)
        assert flat.dtype == src.dtype and len(offsets) == K + 1 and offsets[-1] == flat.size
        back, boffsets = nk.pack_units_backward(np.ascontiguousarray(src.T), K)
        for b in range(K):
            u0, u1 = H * b // K, H * (b + 1) // K
            U = u1 - u0
            block = flat[offsets[b]:offsets[b + 1]]
            want = np.concatenate([w_t[:, g * H + u0:g * H + u1] for g in range(gates)], axis=1)
            np.testing.assert_array_equal(unpack_strips(block, H, gates * U), want)
            sw = strip_width(src.dtype)
            assert block.size == -(-gates * U // sw) * sw * H
            assert np.count_nonzero(block) == want.size             # the rest is padding
            bblock = back[boffsets[b]:boffsets[b + 1]]
            np.testing.assert_array_equal(unpack_strips(bblock, gates * H, U), w_t.T[:, u0:u1])
