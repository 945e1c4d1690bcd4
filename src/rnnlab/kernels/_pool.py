"""Batch-parallel sweeps: the rows of a batch are independent through time, so a sweep can be
split into row blocks that run concurrently (compiled kernels release the GIL), with one hand-off
per sweep instead of one per time step.

While a sweep runs on several threads, BLAS is asked for one thread per call: threads that meet at
every step's small product (OpenBLAS's own scheme) stall whenever the OS deschedules one of them,
which on a shared machine made a 2-thread training step 13x slower than a 1-thread one. The
calling thread always works too and takes whatever blocks no helper has claimed, so a helper that
starts late costs nothing but its own block. Threads: the BLAS thread count
(``OPENBLAS_NUM_THREADS``, ``threadpoolctl`` limits), so one setting controls both.

Waiting spins before it sleeps, as OpenMP's threads do by default (PyTorch's): an idle helper
watches for the next job, and a caller done with its own blocks watches for the helpers', for up
to ``SPIN_SECONDS`` each, with the GIL released (``SPIN``, a compiled loop the numba kernels
register), and only then sleeps on a condition. On a 2-core KVM guest a thread woken from
sleep (a condition, or the GIL) started 35-55 us late; a caller that sleeps until the helpers
are done pays that again at the end (53 us after the last block, 13 us with the spin and the
signal written after the GIL is let go; two 1,600-row blocks of a (3200, 32) @ (32, 128)
product). The spin is bounded: a pool left idle sleeps after ``SPIN_SECONDS`` and costs
nothing (PyTorch's OpenMP workers spin for about 10 ms after each parallel region).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

MIN_ROWS = 8  # smallest row block worth a thread
THREAD_START: list[Callable[[], Any]] = []  # run once in every helper thread as it starts
SPIN_SECONDS = 0.002  # how long a waiting thread spins before it sleeps (0: off)
# ``SPIN(flag, seen, iterations, signal)``: with the GIL released, set ``signal[0] = 1``, then
# spin until ``flag[0] != seen``, at most ``iterations`` times; True when it changed. None: no
# spinning (threads sleep at once).
SPIN: Callable[[np.ndarray, int, int, np.ndarray], bool] | None = None
_spin_iterations: list[int] = []
_NO_SIGNAL = np.zeros(1, dtype=np.int64)  # where a spin with nothing to signal writes


def spin_iterations() -> int:
    """Iterations of ``SPIN`` that take about ``SPIN_SECONDS`` (measured once)."""
    if not _spin_iterations:
        assert SPIN is not None
        flag, n = np.zeros(1, dtype=np.int64), 20_000
        SPIN(flag, 0, 10, _NO_SIGNAL)
        t0 = time.perf_counter()
        SPIN(flag, 0, n, _NO_SIGNAL)
        per = max(time.perf_counter() - t0, 1e-9) / n
        _spin_iterations.append(max(1, int(SPIN_SECONDS / per)))
    return _spin_iterations[0]


def spin_until(flag: np.ndarray, seen: int, signal: np.ndarray | None = None) -> None:
    """Set ``signal[0] = 1`` (when given), then spin for up to ``SPIN_SECONDS`` until
    ``flag[0] != seen``. The signal is written after the GIL is released, so that a thread
    spinning on it can take the GIL at once instead of sleeping until this one lets it go."""
    if SPIN is not None and SPIN_SECONDS > 0:
        SPIN(flag, seen, spin_iterations(), _NO_SIGNAL if signal is None else signal)
    elif signal is not None:
        signal[0] = 1


class _Job:
    __slots__ = ("fn", "n", "counter", "lock", "done", "event", "finished", "error")

    def __init__(self, fn: Callable[[int], Any], n: int) -> None:
        self.fn, self.n = fn, n
        self.counter = itertools.count()
        self.lock = threading.Lock()
        self.done = 0
        self.event = threading.Event()
        self.finished = np.zeros(1, dtype=np.int64)  # 1 after ``event`` is set (spun on)
        self.error: BaseException | None = None

    def work(self) -> bool:
        """Run blocks until none is left; True when this thread finished the last one."""
        last = False
        while True:
            i = next(self.counter)
            if i >= self.n:
                return last
            try:
                self.fn(i)
            except BaseException as exc:  # re-raised in the calling thread
                self.error = exc
            with self.lock:
                self.done += 1
                if self.done == self.n:
                    last = True
                    self.event.set()


class _Pool:
    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._job: _Job | None = None
        self._posted = np.zeros(1, dtype=np.int64)  # the job's generation (spun on by helpers)
        self._threads: list[threading.Thread] = []

    def _helper(self) -> None:
        for init in THREAD_START:
            init()
        seen = 0
        signal = None  # the last job's ``finished``, when this thread completed it
        while True:
            spin_until(self._posted, seen, signal)
            signal = None
            with self._cv:
                while self._posted[0] == seen:
                    self._cv.wait()
                seen = int(self._posted[0])
                job = self._job
            if job is not None and job.work():
                signal = job.finished
            job = None  # nor keep a finished job's buffers alive while this thread waits

    def run(self, fn: Callable[[int], Any], n: int, threads: int) -> None:
        """``fn(i)`` for ``i in range(n)`` on up to ``threads`` threads (this one included).

        Safe to call from several threads at once: each call's blocks are claimed from its own
        counter and the calling thread keeps working until none is left, so a helper drawn to
        another call's job only makes this one finish on fewer threads."""
        if n <= 1 or threads <= 1:
            for i in range(n):
                fn(i)
            return
        with self._cv:
            while len(self._threads) < threads - 1:
                t = threading.Thread(target=self._helper, name="rnnlab-sweep", daemon=True)
                t.start()
                self._threads.append(t)
            job = _Job(fn, n)
            self._job = job
            self._posted[0] += 1
            self._cv.notify(threads - 1)
        if not job.work():
            spin_until(job.finished, 0)
        job.event.wait()
        with self._cv:
            if self._job is job:
                self._job = None  # do not keep the caller's buffers alive
        if job.error is not None:
            raise job.error


POOL = _Pool()


def row_blocks(rows: int, threads: int, min_rows: int = MIN_ROWS) -> list[tuple[int, int]]:
    """Row ranges for ``threads`` threads: one block per thread, each of at least ``min_rows``
    rows (a single block when that is not possible)."""
    n = min(threads, rows // max(min_rows, 1))
    if n < 2:
        return [(0, rows)]
    bounds = [rows * i // n for i in range(n + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(n)]
