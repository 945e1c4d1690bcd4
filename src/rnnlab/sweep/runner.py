"""``run``: a sweep of one experiment on Ray Tune, locally or on a Ray cluster.

The driver (this module) plans the trials (``plan.Plan``), skips those whose run folder says they
finished (complete, or stopped by ASHA) in an earlier call with the same settings, and hands the
rest to Ray Tune: one function trainable per trial (``trial.run_trial``), with ``cpus_per_trial``
CPUs each, at most ``max_concurrent`` at a time, a dying worker retried up to ``retries`` times,
and optionally the ASHA scheduler stopping poor trials early on a per-epoch metric. Tune's own
files go to ``DIR/ray``; the trials' run folders to ``DIR/trials/<id>``; the tables and the plot
to ``DIR`` (``results.py``).

Without ``address`` Ray starts in this process with the machine's cores; with ``address`` it
joins a running cluster (``HOST:PORT`` from a cluster node, ``ray://HOST:PORT`` from outside it).
Ray's usage statistics and dashboard are off, and a local Ray listens on 127.0.0.1 only. A cluster
with token authentication (Ray's default for ``ray start``) needs ``RAY_AUTH_MODE=token`` and its
token (``RAY_AUTH_TOKEN``, or ``~/.ray/auth_token``, where ``ray start`` writes it) here.
On a cluster, ``out`` and ``data`` must be paths that every worker reaches (a shared file
system), and rnnlab must be installed on every node.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .plan import Plan, Trial, parse_grid, parse_seeds, parse_space
from .results import Row, plot, summarise, table, trial_row, write_csv
from .trial import read_state, run_trial, write_state

FINISHED = ("complete", "stopped")


@dataclass
class SweepResult:
    """What a sweep produced: ``rows`` (results.csv), ``summary`` (summary.csv), the text table,
    the target metric, the trials skipped because an earlier call finished them, and whether
    the sweep was interrupted before every trial finished."""

    rows: list[Row]
    summary: list[Row]
    table: str
    metric: str
    out: Path
    skipped: list[str] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0
    files: list[Path] = field(default_factory=list)


def ray_missing_message() -> str:
    return ("rnnlab sweep needs Ray Tune, which is not installed: pip install 'rnnlab[sweep]' "
            "(or pip install 'ray[tune]')")


def run(experiment: str, grid: dict[str, list[Any]] | None = None,
        seeds: list[int] | None = None, *, out: str | Path,
        space: dict[str, Any] | None = None, samples: int = 1, search_seed: int = 0,
        fixed: dict[str, Any] | None = None, smoke: bool = False,
        data: str | Path | None = None, address: str | None = None,
        max_concurrent: int | None = None, cpus_per_trial: int = 1, retries: int = 2,
        scheduler: str | None = None, metric: str | None = None, mode: str | None = None,
        epoch_metric: str = "val_loss", epoch_mode: str = "min", grace_period: int = 1,
        verbose: int = 1) -> SweepResult:
    """Run the sweep ``samples × grid × seeds`` of ``experiment`` and write its tables.

    ``grid`` maps a setting to its values, ``space`` a setting to ``"LO:HI[:log]"`` (or a
    ``plan.Space``), ``fixed`` gives settings every trial shares, ``seeds`` the values of the
    experiment's ``seed``. ``metric``/``mode`` name the figure summarised and plotted (default:
    the experiment's own). ``scheduler="asha"`` stops trials early on ``epoch_metric``
    (``epoch_mode``) after at least ``grace_period`` epochs. Returns a ``SweepResult``;
    ``rows`` is the results table."""
    from ..experiments import get_experiment, resolve_config

    start = time.perf_counter()
    exp = get_experiment(experiment)
    if cpus_per_trial < 1:
        raise ValueError(f"cpus_per_trial must be at least 1, got {cpus_per_trial}")
    if max_concurrent is not None and max_concurrent < 1:
        raise ValueError(f"max_concurrent must be at least 1, got {max_concurrent}")
    if retries < 0:
        raise ValueError(f"retries must be 0 or more, got {retries}")
    if scheduler not in (None, "asha"):
        raise ValueError(f"scheduler must be 'asha' or None, got {scheduler!r}")
    parsed_space = {k: v for k, v in (space or {}).items() if not isinstance(v, str)}
    parsed_space.update(parse_space([f"{k}={v}" for k, v in (space or {}).items()
                                     if isinstance(v, str)], exp.defaults))
    plan = Plan(experiment, grid=dict(grid or {}), seeds=seeds, space=parsed_space,
                samples=samples, search_seed=search_seed, fixed=dict(fixed or {}), smoke=smoke)
    trials = plan.trials()
    configs = [resolve_config(experiment, t.overrides, smoke) for t in trials]  # errors first
    epochs = [c["epochs"] for c in configs if isinstance(c.get("epochs"), int)]
    max_t = max(epochs) if epochs else 10**6
    metric = metric or exp.metric
    mode = mode or exp.mode
    if not metric:
        raise ValueError(f"experiment {experiment!r} names no target metric: pass --metric NAME "
                         "(a key of its metrics.json)")
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    out = Path(out).resolve()
    trials_dir = out / "trials"
    data_path = _data_path(exp, data)
    pending = [t for t in trials if read_state(trials_dir / t.id).get("status") not in FINISHED]
    skipped = [t.id for t in trials if t not in pending]
    if pending:
        _tune(experiment, pending, trials_dir, data_path, smoke, out, address, max_concurrent,
              cpus_per_trial, retries, scheduler, epoch_metric, epoch_mode, grace_period,
              max_t, verbose)
    rows = [trial_row(t, trials_dir / t.id) for t in trials]
    swept = plan.swept_names()
    summary = summarise(rows, swept)
    files = [write_csv(out / "results.csv", rows), write_csv(out / "summary.csv", summary)]
    if any(r["status"] == "complete" for r in rows):
        fig = plot(rows, summary, swept, metric,
                   f"{experiment}: {metric} per setting ({len(trials)} trials)")
        path = out / f"{metric}.png"
        fig.savefig(path, dpi=100, bbox_inches="tight")
        import matplotlib.pyplot as plt

        plt.close(fig)
        files.append(path)
    interrupted = any(r["status"] not in FINISHED for r in rows)
    return SweepResult(rows, summary, table(summary, swept, metric), metric, out, skipped,
                       interrupted, time.perf_counter() - start, files)


def _data_path(exp: Any, data: str | Path | None) -> str | None:
    """``data`` as an absolute path (workers do not share the driver's working folder); without
    it, the experiment's default shared data folder when it is there (found from here)."""
    if data is not None:
        path = Path(data).resolve()
        if not path.exists():
            raise FileNotFoundError(f"data {data} does not exist")
        return str(path)
    if exp.data:
        default = (Path("..") / "shared" / "data" / exp.data).resolve()
        if default.exists():
            return str(default)
    return None


def _tune(experiment: str, trials: list[Trial], trials_dir: Path, data: str | None, smoke: bool,
          out: Path, address: str | None, max_concurrent: int | None, cpus: int, retries: int,
          scheduler: str | None, epoch_metric: str, epoch_mode: str, grace_period: int,
          max_t: int, verbose: int) -> None:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    try:
        import ray
        from ray import tune
    except ImportError:
        raise ImportError(ray_missing_message()) from None
    started = False
    if not ray.is_initialized():
        if address:
            ray.init(address=address, logging_level=logging.WARNING, log_to_driver=verbose > 1)
        else:
            # on the loopback address: a local sweep talks to nothing outside this machine
            ray.init(address="local", num_cpus=os.cpu_count() or 1, include_dashboard=False,
                     _node_ip_address="127.0.0.1", logging_level=logging.WARNING,
                     log_to_driver=verbose > 1)
        started = True
    specs = [{"id": t.id, "experiment": experiment, "overrides": t.overrides,
              "swept": t.swept, "smoke": smoke, "data": data, "cpus": cpus,
              "out": str(trials_dir / t.id)} for t in trials]
    sched = None
    tune_metric: dict[str, Any] = {}
    if scheduler == "asha":
        sched = _asha(trials_dir, grace_period, max_t)
        tune_metric = {"metric": epoch_metric, "mode": epoch_mode}
    tuner = tune.Tuner(
        tune.with_resources(run_trial, {"cpu": cpus}),
        param_space={"trial": tune.grid_search(specs)},
        tune_config=tune.TuneConfig(max_concurrent_trials=max_concurrent or 0, scheduler=sched,
                                    trial_dirname_creator=lambda t: t.config["trial"]["id"],
                                    **tune_metric),
        run_config=tune.RunConfig(name=f"tune-{time.strftime('%Y%m%d-%H%M%S')}",
                                  storage_path=str(out / "ray"), verbose=min(verbose, 1),
                                  failure_config=tune.FailureConfig(max_failures=retries)))
    try:
        grid = tuner.fit()
        for i in range(len(grid)):  # ResultGrid is indexed (no __iter__)
            result = grid[i]
            if not result.config:  # a trial that never started: it stays pending
                continue
            folder = trials_dir / result.config["trial"]["id"]
            if result.error is not None and read_state(folder).get("status") not in FINISHED:
                write_state(folder, status="error", error=_one_line(result.error))
    finally:
        if started:
            ray.shutdown()


def _asha(trials_dir: Path, grace_period: int, max_t: int) -> Any:
    """ASHA (time in epochs, rungs at grace_period·2^k below the trials' epochs) that records
    its decisions: a trial it stops is marked ``stopped`` in its run folder (so a rerun skips
    it); trials stopped by an interruption are not."""
    from ray.tune.schedulers import ASHAScheduler, TrialScheduler

    class RecordingASHA(ASHAScheduler):
        def on_trial_result(self, tune_controller: Any, trial: Any, result: dict[str, Any]
                            ) -> str:
            if result.get("rnnlab_complete") or int(result.get("epoch", 0)) >= max_t:
                return str(TrialScheduler.CONTINUE)  # the last epoch: let the run finish
            decision: str = super().on_trial_result(tune_controller, trial, result)
            if decision == TrialScheduler.STOP:
                write_state(trials_dir / trial.config["trial"]["id"], status="stopped",
                            stopped_at_epoch=int(result.get("epoch", 0)))
            return decision

    return RecordingASHA(time_attr="epoch", grace_period=grace_period, reduction_factor=2,
                         max_t=max(max_t, grace_period + 1))


def _one_line(error: Any) -> str:
    return " ".join(str(error).split())[:500]


def run_from_strings(experiment: str, *, grid: list[str], seeds: str | None,
                     space: list[str], **kwargs: Any) -> SweepResult:
    """``run`` with the command line's spellings (``NAME=V1,V2``, ``0,1,2``, ``NAME=LO:HI``)."""
    from ..experiments import get_experiment

    exp = get_experiment(experiment)
    return run(experiment, parse_grid(grid), parse_seeds(seeds), out=kwargs.pop("out"),
               space=parse_space(space, exp.defaults), **kwargs)
