"""The row-block pool's spinning wait (``_pool.SPIN``): the compiled spin loop itself, and jobs
run with spinning on giving the same blocks, results and errors as with it off."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from rnnlab.kernels import _numba_kernels as nk
from rnnlab.kernels import _pool


def test_spin_returns_when_the_flag_changes_and_writes_the_signal() -> None:
    flag = np.zeros(1, dtype=np.int64)
    signal = np.zeros(1, dtype=np.int64)
    assert nk.spin_until_changed(flag, 0, 1000, signal) is False  # never changed
    assert signal[0] == 1
    flag[0] = 3
    signal[0] = 0
    assert nk.spin_until_changed(flag, 0, 10**9, signal) is True  # returns at once
    assert signal[0] == 1


def test_spin_sees_a_store_from_another_thread() -> None:
    flag = np.zeros(1, dtype=np.int64)
    timer = threading.Timer(0.05, lambda: flag.__setitem__(0, 1))
    timer.start()
    assert nk.spin_until_changed(flag, 0, 10**12, np.zeros(1, dtype=np.int64)) is True
    timer.join()


@pytest.mark.parametrize("spin", [0.0, 0.002])
def test_pool_jobs_with_and_without_spinning(spin: float, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    monkeypatch.setattr(_pool, "SPIN_SECONDS", spin)
    out = np.zeros(64)
    seen: list[int] = []

    def block(i: int) -> None:
        seen.append(i)
        out[i * 8:(i + 1) * 8] = np.arange(8) + i

    for _ in range(50):  # back to back, so that helpers are caught spinning
        seen.clear()
        _pool.POOL.run(block, 8, 2)
        assert sorted(seen) == list(range(8))
    assert np.array_equal(out, (np.arange(64) % 8) + np.arange(64) // 8)

    def fails(i: int) -> None:
        if i == 5:
            raise ValueError("block 5")

    with pytest.raises(ValueError, match="block 5"):
        _pool.POOL.run(fails, 8, 2)
    _pool.POOL.run(block, 8, 2)  # the pool still works after an error


def test_spin_iterations_is_positive_and_measured_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_pool, "_spin_iterations", [])
    monkeypatch.setattr(_pool, "SPIN_SECONDS", 0.001)
    n = _pool.spin_iterations()
    assert n >= 1 and _pool.spin_iterations() == n
