"""One trial, as a Ray Tune function trainable: the experiment run in-process in its worker.

The trial calls ``run_experiment`` (the entry point of ``rnnlab run``) with its settings and
``DIR/trials/<id>/`` as the run folder, so it computes exactly what the serial run with the same
settings, seed and thread count computes. An observer reports every epoch's logs to Tune (for
ASHA); the final report carries the metrics of ``metrics.json``.

The worker's BLAS and numba threads are limited to the trial's CPUs while it runs (rnnlab's
sweeps use as many threads as BLAS is allowed), so trials running side by side do not
oversubscribe the machine. A trial that is retried after its worker died finds the checkpoint
of its last finished epoch in its run folder and continues from it (``--resume``, exact).

``trial.json`` in the run folder records the trial's state: ``running`` (with the worker's pid
and the attempt number) while it runs, then ``complete``; the driver writes ``stopped`` (ASHA)
or ``error``.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..callbacks import Callback
from ..experiments.context import write_json_atomic


def read_state(folder: Path) -> dict[str, Any]:
    """The trial's ``trial.json`` (``{}`` when missing or unreadable)."""
    try:
        return dict(json.loads((folder / "trial.json").read_text()))
    except (OSError, ValueError):
        return {}


def write_state(folder: Path, **state: Any) -> None:
    write_json_atomic(folder / "trial.json", {**read_state(folder), **state})


@contextlib.contextmanager
def thread_limits(cpus: int) -> Iterator[None]:
    """BLAS (every loaded library, through threadpoolctl) and numba limited to ``cpus``
    threads while the trial runs; restored afterwards (Ray reuses worker processes)."""
    limiter: Any = contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with the sweep extra
        pass
    else:
        limiter = threadpool_limits(limits=cpus)
    numba: Any = None
    previous = None
    try:
        import numba
    except ImportError:
        pass
    else:
        previous = numba.get_num_threads()
        numba.set_num_threads(min(cpus, numba.config.NUMBA_NUM_THREADS))
    try:
        with limiter:
            yield
    finally:
        if numba is not None and previous is not None:
            numba.set_num_threads(previous)


class TuneReporter(Callback):
    """Reports each epoch's numeric logs to Ray Tune (``epoch`` counts from 1)."""

    def __init__(self) -> None:
        super().__init__()
        self.last: dict[str, float] = {}

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        from ray import tune

        self.last = {k: float(v) for k, v in (logs or {}).items()
                     if isinstance(v, (int, float)) and not isinstance(v, bool)}
        tune.report({**self.last, "epoch": epoch + 1})


def run_trial(param: dict[str, Any]) -> None:
    """The Tune trainable: ``param["trial"]`` is the trial's spec written by the driver."""
    from ray import tune

    from ..experiments import run_experiment

    spec = param["trial"]
    out = Path(spec["out"])
    out.mkdir(parents=True, exist_ok=True)
    previous = read_state(out)
    attempt = int(previous.get("attempt", 0)) + 1
    # a folder with a checkpoint is a retried (or interrupted) trial: continue it exactly
    resume = attempt > 1 or any(out.glob("checkpoint*.rnnlab"))
    write_state(out, id=spec["id"], status="running", pid=os.getpid(), attempt=attempt,
                swept=spec["swept"], overrides=spec["overrides"])
    reporter = TuneReporter()
    with thread_limits(int(spec["cpus"])):
        result = run_experiment(spec["experiment"], spec["overrides"], out=out,
                                data=spec["data"], smoke=spec["smoke"], resume=resume,
                                verbose=0, observers=[reporter])
    metrics = {k: float(v) for k, v in result.metrics.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool)}
    write_state(out, status="complete", seconds=result.seconds)
    tune.report({**reporter.last, **metrics, "rnnlab_complete": 1.0})
