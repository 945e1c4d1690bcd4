"""Sweeps on a real Ray: equal to serial runs, retries, ASHA, reruns, a Ray cluster.

Ray is part of the dev extra: these tests import it and fail (not skip) where it is missing.
One local Ray instance (2 CPUs) serves the module; the cluster test starts its own head.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import ray  # noqa: F401  (a missing Ray fails here, in CI too)

from rnnlab.experiments import run_experiment
from rnnlab.sweep import run

SMOKE_GRID = {"hidden": [8, 16]}
METRICS = ("val_rmse", "train_rmse", "final_loss", "epochs")


def _serial(tmp: Path, overrides: dict[str, Any]) -> dict[str, Any]:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):  # the trials' thread count (cpus_per_trial=1)
        return run_experiment("sine", overrides, out=tmp, smoke=True, verbose=0).metrics


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def local_ray() -> Any:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             _node_ip_address="127.0.0.1")
    yield
    ray.shutdown()


def test_grid_sweep_equals_serial_runs_and_rerun_skips(local_ray: Any, tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    result = run("sine", SMOKE_GRID, [0, 1], out=out, smoke=True, verbose=0)
    assert len(result.rows) == 4 and not result.interrupted and result.skipped == []
    rows = _csv(out / "results.csv")
    assert [r["status"] for r in rows] == ["complete"] * 4
    for row in rows:
        overrides = {"hidden": int(row["config/hidden"]), "seed": int(row["config/seed"])}
        serial = _serial(tmp_path / f"serial-{row['trial_id']}", overrides)
        assert {k: float(row[k]) for k in METRICS} == {k: float(serial[k]) for k in METRICS}
        assert (out / "trials" / row["trial_id"] / "model.rnnlab").is_file()
    summary = _csv(out / "summary.csv")
    assert [s["config/hidden"] for s in summary] == ["8", "16"]
    assert all(s["complete"] == "2" for s in summary)
    vals = [float(r["val_rmse"]) for r in rows[:2]]
    assert float(summary[0]["val_rmse_mean"]) == pytest.approx(sum(vals) / 2)
    assert (out / "val_rmse.png").stat().st_size > 1000
    assert (out / "ray").is_dir()  # Tune's own files live in the sweep folder

    stamps = {p: p.stat().st_mtime_ns for p in (out / "trials").glob("*/metrics.json")}
    again = run("sine", SMOKE_GRID, [0, 1], out=out, smoke=True, verbose=0)
    assert sorted(again.skipped) == sorted(r["trial_id"] for r in rows)
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # nothing ran again
    assert _csv(out / "results.csv") == rows


def test_killed_trial_is_retried_and_resumes_exactly(local_ray: Any, tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    fixed = {"epochs": 40, "hidden": 32, "train_windows": 60}
    killed: list[int] = []

    def kill_first_worker_mid_run() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            for folder in (out / "trials").glob("*"):
                state = folder / "trial.json"
                history = folder / "history.csv"
                try:
                    pid = json.loads(state.read_text())["pid"]
                    epochs = len(history.read_text().splitlines()) - 1
                except (OSError, ValueError, KeyError):
                    continue
                if epochs >= 3:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_first_worker_mid_run, daemon=True)
    killer.start()
    result = run("sine", None, [0], out=out, fixed=fixed, smoke=True, retries=2, verbose=0)
    killer.join()
    assert killed, "the trial finished before it could be killed"
    (row,) = result.rows
    assert row["status"] == "complete"
    state = json.loads((out / "trials" / row["trial_id"] / "trial.json").read_text())
    assert state["attempt"] == 2 and state["pid"] != killed[0]
    serial = _serial(tmp_path / "serial", {**fixed, "seed": 0})
    assert {k: row[k] for k in METRICS} == {k: serial[k] for k in METRICS}


def test_asha_stops_poor_trials_and_rerun_skips_them(local_ray: Any, tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    kwargs: dict[str, Any] = dict(out=out, fixed={"epochs": 8}, smoke=True, scheduler="asha",
                                  max_concurrent=1, verbose=0)
    result = run("sine", {"lr": [0.02, 1e-7]}, [0, 1, 2], **kwargs)
    statuses = [r["status"] for r in result.rows]
    assert set(statuses) <= {"complete", "stopped"} and "stopped" in statuses
    assert statuses[0] == "complete"  # the first trial has nobody to lose against
    for r in result.rows:
        folder = out / "trials" / r["trial_id"]
        assert (folder / "metrics.json").exists() == (r["status"] == "complete")
        if r["status"] == "stopped":
            assert r["epochs"] >= 1 and "val_loss" in r  # its last epoch's logs stand in
            assert 1 <= r["stopped_at_epoch"] < 8  # ASHA's decision (the trial may run ahead)
    summary = _csv(out / "summary.csv")
    assert sum(int(s["stopped"]) for s in summary) == statuses.count("stopped")
    again = run("sine", {"lr": [0.02, 1e-7]}, [0, 1, 2], **kwargs)
    assert len(again.skipped) == 6


def test_cli_sweep_table_and_errors(local_ray: Any, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from rnnlab.cli import main

    out = tmp_path / "cli"
    assert main(["sweep", "sine", "--smoke", "--grid", "hidden=8", "--seeds", "0",
                 "--epochs", "2", "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "1 of 1 trials complete" in text and "hidden=8" in text and "val_rmse" in text
    assert _csv(out / "results.csv")[0]["config/epochs"] == "2"
    assert main(["sweep", "sine", "--grid", "nosuch=1", "--out", str(out)]) == 2
    assert "no option(s) ['nosuch']" in capsys.readouterr().err
    assert main(["sweep", "sine", "--space", "lr=1e-3:1e-2", "--out", str(out)]) == 2
    assert "--search random" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    assert main(["sweep", "sine", "--out", str(out)]) == 2
    assert "pip install 'rnnlab[sweep]'" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_sweep_on_a_ray_cluster_gives_the_same_rows(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A Ray head started here on a loopback address in its own process group, stopped by
    that group (never `ray stop`). 127.0.0.2, not 127.0.0.1: Ray replaces 127.0.0.1 in an
    address by the machine's outward address."""
    local = run("sine", SMOKE_GRID, [0, 1], out=tmp_path / "local", smoke=True, verbose=0)
    port = _free_port()
    ray_bin = Path(sys.executable).with_name("ray")
    monkeypatch.setenv("RAY_AUTH_MODE", "token")  # `ray start` turns token authentication on
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    # Ray's Unix sockets live under --temp-dir, and a socket path may have at most 107
    # characters: pytest's tmp_path is too deep (the head then dies at once), so a short one.
    ray_tmp = Path(tempfile.mkdtemp(prefix="rnnlab-ray-"))
    head_log = tmp_path / "ray-head.log"
    with open(head_log, "wb") as log:
        head = subprocess.Popen(
            [str(ray_bin), "start", "--head", "--block", "--node-ip-address", "127.0.0.2",
             "--port", str(port), "--num-cpus", "2", "--include-dashboard", "false",
             "--temp-dir", str(ray_tmp)],
            start_new_session=True, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:  # the head is up when a client can connect
            assert head.poll() is None, "ray head exited: " + head_log.read_text()[-3000:]
            try:
                probe = subprocess.run(
                    [sys.executable, "-c", f"import ray; ray.init(address='127.0.0.2:{port}'); "
                     "ray.shutdown()"], env=env, capture_output=True, timeout=60)
            except subprocess.TimeoutExpired as exc:
                probe = subprocess.CompletedProcess(exc.cmd, 124, b"", exc.stderr or b"")
            if probe.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert probe.returncode == 0, (probe.stderr.decode()[-2000:] + "\nhead: "
                                       + head_log.read_text()[-2000:])
        cluster = run("sine", SMOKE_GRID, [0, 1], out=tmp_path / "cluster", smoke=True,
                      address=f"127.0.0.2:{port}", verbose=0)
        strip = ("trial_id",)
        assert [{k: v for k, v in r.items() if k not in strip} for r in cluster.rows] == \
            [{k: v for k, v in r.items() if k not in strip} for r in local.rows]
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
        shutil.rmtree(ray_tmp, ignore_errors=True)
