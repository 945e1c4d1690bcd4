"""Batch-parallel sweeps: the rows of a batch are independent through time, so a sweep can be
split into row blocks that run concurrently (compiled kernels release the GIL), with one hand-off
per sweep instead of one per time step.

While a sweep runs on several threads, BLAS is asked for one thread per call: threads that meet at
every step's small product (OpenBLAS's own scheme) stall whenever the OS deschedules one of them,
which on a shared machine made a 2-thread training step 13x slower than a 1-thread one. The
calling thread always works too and takes whatever blocks no helper has claimed, so a helper that
starts late costs nothing but its own block. Threads: the BLAS thread count
(``OPENBLAS_NUM_THREADS``, ``threadpoolctl`` limits), so one setting controls both.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

MIN_ROWS = 8  # smallest row block worth a thread
THREAD_START: list[Callable[[], Any]] = []  # run once in every helper thread as it starts


class _Job:
    __slots__ = ("fn", "n", "counter", "lock", "done", "event", "error")

    def __init__(self, fn: Callable[[int], Any], n: int) -> None:
        self.fn, self.n = fn, n
        self.counter = itertools.count()
        self.lock = threading.Lock()
        self.done = 0
        self.event = threading.Event()
        self.error: BaseException | None = None

    def work(self) -> None:
        while True:
            i = next(self.counter)
            if i >= self.n:
                return
            try:
                self.fn(i)
            except BaseException as exc:  # re-raised in the calling thread
                self.error = exc
            with self.lock:
                self.done += 1
                if self.done == self.n:
                    self.event.set()


class _Pool:
    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._job: _Job | None = None
        self._generation = 0
        self._threads: list[threading.Thread] = []

    def _helper(self) -> None:
        for init in THREAD_START:
            init()
        seen = 0
        while True:
            with self._cv:
                while self._generation == seen:
                    self._cv.wait()
                seen = self._generation
                job = self._job
            if job is not None:
                job.work()

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
            self._generation += 1
            self._cv.notify(threads - 1)
        job.work()
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
