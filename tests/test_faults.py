"""Faults as real processes: a process killed (SIGKILL) at several points of ``model.save`` leaves
the previous file intact; ``rnnlab run`` killed (SIGKILL) or interrupted (SIGINT) in the middle
of an epoch and then run again with ``--resume`` ends exactly where an uninterrupted run ends; a
full disk (a small tmpfs in a private mount namespace) gives a clear error and the old checkpoint
survives. The signals are sent by the child process to itself at a chosen batch (a callback), so
the point of interruption is the same on every machine."""

from __future__ import annotations

import csv
import hashlib
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from rnnlab.saving import load_model

TIMEOUT = 180


def child(code: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args],
                          capture_output=True, text=True, timeout=TIMEOUT, cwd=cwd)


# -- SIGKILL inside model.save ---------------------------------------------------------------------
SAVE_AND_DIE = """
import hashlib, os, signal, sys, zipfile
import numpy as np
import rnnlab
from rnnlab import layers, saving
path, point = sys.argv[1], sys.argv[2]
model = rnnlab.Sequential([layers.LSTM(4, input_shape=(3, 2)), layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
x = np.random.default_rng(0).standard_normal((4, 3, 2))
model.fit(x, np.zeros((4, 1)), verbose=0)
model.save(path)
print(hashlib.sha256(open(path, "rb").read()).hexdigest(), flush=True)
model.fit(x, np.ones((4, 1)), verbose=0)  # different weights for the second save
die = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
if point == "member":  # after the JSON and the first array are written
    original, count = zipfile.ZipFile.writestr, [0]
    def writestr(self, *a, **k):
        count[0] += 1
        if count[0] == 3:
            die()
        return original(self, *a, **k)
    zipfile.ZipFile.writestr = writestr
elif point == "fsync":  # everything written, not yet on disk
    os.fsync = die
elif point == "replace":  # the temporary file complete, not yet renamed over the old one
    os.replace = die
model.save(path)
print("not killed", flush=True)
"""


@pytest.mark.parametrize("point", ["member", "fsync", "replace"])
def test_sigkill_during_save_leaves_the_previous_file_intact(tmp_path, point):
    path = tmp_path / "model.rnnlab"
    proc = child(SAVE_AND_DIE, str(path), point)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert "not killed" not in proc.stdout
    digest = proc.stdout.split()[0]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest  # byte for byte the old file
    load_model(path)  # and it loads
    leftovers = [p.name for p in tmp_path.iterdir() if p != path]
    assert all(n.startswith(".model.rnnlab.") and n.endswith(".tmp") for n in leftovers)


# -- SIGKILL / SIGINT mid-epoch, then --resume -----------------------------------------------------
INTERRUPT_AT = """
import os, signal, sys
from rnnlab.callbacks import LambdaCallback
from rnnlab.cli import main
from rnnlab.experiments.context import RunContext
sig, at_epoch, at_batch = getattr(signal, sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
original, where = RunContext.fit, {"epoch": -1}
def fit(self, model, *args, **kwargs):
    def begin(epoch, logs):
        where["epoch"] = epoch
    def batch_end(batch, logs):
        if where["epoch"] == at_epoch and batch == at_batch:
            os.kill(os.getpid(), sig)
    hook = LambdaCallback(on_epoch_begin=begin, on_train_batch_end=batch_end)
    kwargs["callbacks"] = [hook, *kwargs.get("callbacks", [])]
    return original(self, model, *args, **kwargs)
RunContext.fit = fit
sys.exit(main(sys.argv[4:]))
"""

RUNS = {"sentiment-tiny": "tiny_sentiment", "charlm": "tinyshakespeare"}
TIMING = ("seconds", "per_second")  # history columns that measure time, not results


def run_args(name: str, data: Path, out: Path) -> list[str]:
    return ["run", name, "--smoke", "--epochs", "3", "--quiet", "--data", str(data / RUNS[name]),
            "--out", str(out)]


def history(out: Path) -> list[dict[str, str]]:
    with open(out / "history.csv") as fh:
        return [{k: v for k, v in row.items() if not any(t in k for t in TIMING)}
                for row in csv.DictReader(fh)]


RUN_CLI = "import sys; from rnnlab.cli import main; sys.exit(main(sys.argv[1:]))"


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, Path], Path]:
    """The output folder of an uninterrupted run of experiment ``name`` (made once)."""
    done: dict[str, Path] = {}

    def get(name: str, data: Path) -> Path:
        if name not in done:
            out = tmp_path_factory.mktemp(f"reference-{name}")
            proc = child(RUN_CLI, *run_args(name, data, out))
            assert proc.returncode == 0, proc.stderr
            done[name] = out
        return done[name]

    return get


@pytest.mark.parametrize("sig", ["SIGKILL", "SIGINT"])
@pytest.mark.parametrize("name", list(RUNS))
def test_interrupted_mid_epoch_then_resumed_equals_an_uninterrupted_run(
        name, sig, shared_data, tmp_path, uninterrupted):
    ref = uninterrupted(name, shared_data)
    out = tmp_path / "run"
    proc = child(INTERRUPT_AT, sig, "1", "1", *run_args(name, shared_data, out))
    if sig == "SIGKILL":
        assert proc.returncode == -signal.SIGKILL, proc.stderr
    else:
        assert proc.returncode == 130, proc.stderr
        assert "--resume" in proc.stderr  # says how to continue
    assert not (out / "model.rnnlab").exists()  # it did stop mid-run
    assert len(history(out)) == 1  # one finished epoch before the interruption
    proc = child(RUN_CLI, *run_args(name, shared_data, out), "--resume")
    assert proc.returncode == 0, proc.stderr
    assert history(out) == history(ref)
    for a, b in zip(load_model(out / "model.rnnlab").get_weights(),
                    load_model(ref / "model.rnnlab").get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


# -- a full disk -----------------------------------------------------------------------------------
FILL_DISK = """
import sys
import numpy as np
import rnnlab
from rnnlab import layers
path = sys.argv[1]
small = rnnlab.Sequential([layers.Dense(2, input_shape=(3,))])
small.save(path)
big = rnnlab.Sequential([layers.Dense(300, input_shape=(400,))])  # 480 kB of weights
try:
    big.save(path)
except OSError as exc:
    print("ERROR", exc)
"""


def test_a_full_disk_is_a_clear_error_and_the_old_checkpoint_survives(tmp_path):
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        pytest.skip("unshare or mount not available")
    disk = tmp_path / "disk"
    disk.mkdir()
    probe = subprocess.run(["unshare", "-m", "sh", "-c",
                            f"mount -t tmpfs -o size=256k tmpfs {disk} && echo mounted"],
                           capture_output=True, text=True, timeout=30)
    if "mounted" not in probe.stdout:
        pytest.skip(f"a private tmpfs cannot be mounted here (needs root and unshare -m): "
                    f"{probe.stderr.strip()}")
    script = tmp_path / "fill.py"
    script.write_text(FILL_DISK)
    path = disk / "model.rnnlab"
    # the tmpfs lives in the namespace only: check the survivor from inside, then copy it out
    cmd = (f"mount -t tmpfs -o size=256k tmpfs {disk} && {sys.executable} {script} {path} && "
           f"ls -a {disk} && cp {path} {tmp_path / 'survivor.rnnlab'}")
    proc = subprocess.run(["unshare", "-m", "sh", "-c", cmd], capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    assert "ERROR [Errno 28] cannot write the model file" in proc.stdout
    assert "No space left on device (the previous file is unchanged)" in proc.stdout
    listing = proc.stdout.split("\n", 1)[1].split()
    assert sorted(listing) == [".", "..", "model.rnnlab"]  # the temporary file was removed
    survivor = load_model(tmp_path / "survivor.rnnlab")
    assert survivor.layers[0].get_weights()[0].shape == (3, 2)
