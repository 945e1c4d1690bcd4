"""The row-block pool's spinning wait (``_pool.SPIN``): the compiled spin loop itself, and jobs
run with spinning on giving the same blocks, results and errors as with it off."""

from __future__ import annotations

import threading
from typing import Any

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


def test_no_helper_keeps_a_finished_job_alive() -> None:
    """A helper waiting for the next job holds nothing of the last one: a sweep's buffers
    (here, what the job's function closes over) go as soon as the caller drops them, even
    when a later job runs on fewer threads and that helper has no new job to replace it."""
    import time
    import weakref

    class Buffers:
        pass

    held = Buffers()
    ref = weakref.ref(held)
    def job(buffers: Buffers) -> Any:
        return lambda i: time.sleep(0.01) or id(buffers)   # as a sweep's closure holds its Seq

    _pool.POOL.run(job(held), 8, 4)
    del held
    deadline = time.monotonic() + 2.0       # the helpers let go right after their last block
    while ref() is not None and time.monotonic() < deadline:
        time.sleep(0.001)
    assert ref() is None                     # no gc.collect(): reference counts alone
