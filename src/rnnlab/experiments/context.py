"""The run context handed to an experiment: its settings, output folder and helpers.

Every run writes into ``out``: ``config.json`` (resolved settings), ``metrics.json``,
``history.csv`` (one row per epoch), ``model.rnnlab`` (the trained model), ``checkpoint.rnnlab``
(the last finished epoch, for ``--resume``), and PNG plots.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..callbacks import Callback


def write_json_atomic(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2, sort_keys=True, default=_jsonable)
        fh.write("\n")
    os.replace(tmp, path)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON-able: {value!r}")


@dataclass
class RunContext:
    config: dict[str, Any]
    out: Path
    data_dir: Path | None = None
    resume: bool = False
    verbose: int = 1
    plots: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    history_rows: list[dict[str, Any]] = field(default_factory=list)
    # callbacks added to every ``fit`` that only watch (a sweep reports each epoch's logs);
    # they keep no training state, so checkpoints and ``--resume`` ignore them
    observers: list[Callback] = field(default_factory=list)

    @property
    def seed(self) -> int:
        return int(self.config.get("seed", 0))

    def data_path(self, *parts: str) -> Path:
        """A file under the data folder; a clear error when the folder or file is missing."""
        if self.data_dir is None:
            raise FileNotFoundError(
                "this experiment needs a data folder: pass --data PATH (the folder holding "
                f"{'/'.join(parts)})")
        path = self.data_dir.joinpath(*parts)
        if not path.exists():
            raise FileNotFoundError(f"expected {path}, which does not exist; pass --data with the "
                                    f"folder that holds {'/'.join(parts)}")
        return path

    def data_dir_or_default(self, folder: str, needs: str, files: tuple[str, ...] = ()
                            ) -> Path:
        """Where an experiment's data lies: ``--data``, else ``../shared/data/<folder>``
        (relative to the current directory) when it exists; otherwise an error saying ``needs``
        (what to pass). With ``files``, ``--data`` may also name a folder holding ``folder``
        (such as the shared data folder), and the folder found must hold every one of them
        (a clear error naming them when it does not); without, ``--data`` is returned as given
        (a file or a folder, checked by the loader)."""
        wanted = ", ".join(files)
        if self.data_dir is not None:
            given = Path(self.data_dir)
            if not files:
                return given
            for cand in (given, given / folder):
                if cand.is_dir() and all((cand / f).is_file() for f in files):
                    return cand
            if given.is_file():
                raise FileNotFoundError(f"--data {given} is a file; pass the folder holding "
                                        f"{wanted}")
            raise FileNotFoundError(f"{given} does not hold {wanted} (nor does "
                                    f"{given / folder}); pass --data with the folder that does")
        default = Path("..") / "shared" / "data" / folder
        if default.is_dir() and all((default / f).is_file() for f in files):
            return default
        state = "does not exist" if not default.is_dir() else f"does not hold {wanted}"
        raise FileNotFoundError(f"{needs}; the default {default} {state} (relative to "
                                f"{Path.cwd()})")

    # -- training with checkpoints -----------------------------------------------------------------
    def fit(self, model: Any, x: Any = None, y: Any = None, *, label: str = "", **kwargs: Any
            ) -> Any:
        """``model.fit`` with a per-epoch atomic checkpoint, CSV history and exact resume.

        The checkpoint (``checkpoint[-label].rnnlab``) holds the model, its optimizer and
        random-draw state, the number of epochs done and the state of every callback passed
        in (``Callback.get_state``: EarlyStopping's best value, wait and best weights,
        ReduceLROnPlateau's counters), all in one file written after the epoch's history row.
        With ``resume`` the run continues from it as if never interrupted: the history CSV is
        cut back to the checkpoint's epochs and the callbacks get their states back."""
        from ..callbacks import CSVLogger
        from ..saving import load_model, load_resume_state
        from .nan_guard import StopOnNonFiniteLoss

        suffix = f"-{label}" if label else ""
        ckpt = self.out / f"checkpoint{suffix}.rnnlab"
        history_csv = self.out / f"history{suffix}.csv"
        callbacks = list(kwargs.pop("callbacks", []))
        initial_epoch = 0
        states = None
        if self.resume and ckpt.exists():
            restored = load_model(ckpt)
            model.set_weights(restored.get_weights())
            model.optimizer.load_state_dict(restored.optimizer.state_dict())
            model.shuffle_seed = restored.shuffle_seed
            for mine, theirs in zip(model.layers, restored.layers):
                mine.rng_calls = theirs.rng_calls
                mine._seed_value = theirs.seed_value()
            saved = load_resume_state(ckpt, restored) or {}
            initial_epoch = _saved_epochs(saved, history_csv)
            _cut_history(history_csv, initial_epoch)
            states = saved.get("callbacks")
        callbacks += [CSVLogger(str(history_csv), append=initial_epoch > 0),
                      RunCheckpoint(ckpt, callbacks[:], states), StopOnNonFiniteLoss(ckpt),
                      *self.observers]
        kwargs.setdefault("verbose", self.verbose)
        history = model.fit(x, y, callbacks=callbacks, initial_epoch=initial_epoch, **kwargs)
        return history

    def epochs_done(self, label: str = "") -> int:
        """Epochs a resumed ``fit(label=...)`` starts after: the checkpoint's count (0 when not
        resuming or when there is no checkpoint). For data pipelines that must start at the
        same epoch (``RandomCrops``)."""
        from ..saving import load_resume_state

        suffix = f"-{label}" if label else ""
        ckpt = self.out / f"checkpoint{suffix}.rnnlab"
        if not (self.resume and ckpt.exists()):
            return 0
        return _saved_epochs(load_resume_state(ckpt) or {}, self.out / f"history{suffix}.csv")

    def save_model(self, model: Any, name: str = "model.rnnlab") -> Path:
        path = self.out / name
        model.save(path)
        return path

    def save_plot(self, fig: Any, name: str) -> Path:
        path = self.out / name
        fig.savefig(path, dpi=100, bbox_inches="tight")
        self.plots.append(path)
        import matplotlib.pyplot as plt

        plt.close(fig)
        return path

    def write_history(self, history: dict[str, list[float]], name: str = "history.csv") -> Path:
        path = self.out / name
        keys = sorted(history)
        n = max((len(v) for v in history.values()), default=0)
        with open(path, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["epoch", *keys])
            for i in range(n):
                w.writerow([i, *[history[k][i] if i < len(history[k]) else "" for k in keys]])
        return path


def read_history(path: Path) -> dict[str, list[float]]:
    """The per-epoch history CSV written by ``RunContext.fit`` as ``{column: [values]}`` (every
    epoch, also after ``--resume``; columns without values left out; ``{}`` when the file does
    not exist)."""
    out: dict[str, list[float]] = {}
    if not Path(path).exists():
        return out
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            for key, value in row.items():
                if key != "epoch" and value not in ("", None):
                    out.setdefault(key, []).append(float(value))
    return out


def _cut_history(history_csv: Path, epochs: int) -> None:
    """Keep the header and the first ``epochs`` rows (rows written after the checkpoint by an
    interrupted run are dropped: the resumed run writes them again)."""
    if not history_csv.exists():
        return
    lines = history_csv.read_text().splitlines(keepends=True)
    if len(lines) <= epochs + 1:
        return
    fd, tmp = tempfile.mkstemp(dir=history_csv.parent, prefix=f".{history_csv.name}.",
                               suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.writelines(lines[:epochs + 1])
    os.replace(tmp, history_csv)


def _saved_epochs(saved: dict[str, Any], history_csv: Path) -> int:
    """Epochs done by a checkpoint: its own count, else (files from before the count was
    saved) the rows of the history CSV."""
    return int(saved.get("epochs_done", _epochs_done(history_csv)))


def _epochs_done(history_csv: Path) -> int:
    if not history_csv.exists():
        return 0
    with open(history_csv) as fh:
        return max(0, sum(1 for _ in fh) - 1)


class RunCheckpoint(Callback):
    """The experiment checkpoint: after every epoch (and after the history row), the model and
    ``{"epochs_done", "callbacks": [{"class", "state"}, ...]}`` for ``callbacks`` in one atomic
    file. Nothing is written while the epoch's loss is NaN/inf (the last good file stays).
    ``states`` (from a checkpoint) are given back to the callbacks of the same class at the
    same position when training begins, after their own ``on_train_begin`` reset."""

    def __init__(self, path: Path, callbacks: list[Any], states: list[Any] | None) -> None:
        super().__init__()
        self.path, self.callbacks, self.pending = path, callbacks, states

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        for cb, saved in zip(self.callbacks, self.pending or []):
            if saved and saved.get("class") == type(cb).__name__ and saved.get("state"):
                cb.set_state(saved["state"])
        self.pending = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            return
        states = [{"class": type(cb).__name__, "state": cb.get_state()} for cb in self.callbacks]
        self.model.save(self.path, resume={"epochs_done": epoch + 1, "callbacks": states})
