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

    def data_dir_or_default(self, folder: str, needs: str) -> Path:
        """``--data``, else ``../shared/data/<folder>`` when it exists, else an error saying
        ``needs`` (what the folder must hold)."""
        if self.data_dir is not None:
            return self.data_dir
        default = Path("..") / "shared" / "data" / folder
        if default.is_dir():
            return default
        raise FileNotFoundError(f"{needs}; {default} does not exist")

    # -- training with checkpoints -----------------------------------------------------------------
    def fit(self, model: Any, x: Any = None, y: Any = None, *, label: str = "", **kwargs: Any
            ) -> Any:
        """``model.fit`` with a per-epoch atomic checkpoint, CSV history and resume support."""
        from ..callbacks import CSVLogger, ModelCheckpoint
        from ..saving import load_model

        suffix = f"-{label}" if label else ""
        ckpt = self.out / f"checkpoint{suffix}.rnnlab"
        history_csv = self.out / f"history{suffix}.csv"
        initial_epoch = 0
        if self.resume and ckpt.exists():
            restored = load_model(ckpt)
            model.set_weights(restored.get_weights())
            model.optimizer.load_state_dict(
                _rename_slots(restored.optimizer.state_dict(), restored, model))
            model.shuffle_seed = restored.shuffle_seed
            for mine, theirs in zip(model.layers, restored.layers):
                mine.rng_calls = theirs.rng_calls
                mine._seed_value = theirs.seed_value()
            initial_epoch = _epochs_done(history_csv)
        callbacks = list(kwargs.pop("callbacks", []))
        callbacks += [ModelCheckpoint(str(ckpt)),
                      CSVLogger(str(history_csv), append=initial_epoch > 0)]
        kwargs.setdefault("verbose", self.verbose)
        history = model.fit(x, y, callbacks=callbacks, initial_epoch=initial_epoch, **kwargs)
        return history

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


def _rename_slots(state: dict[str, Any], source: Any, target: Any) -> dict[str, Any]:
    """Optimizer slots are keyed by parameter name; layer names differ when the same model is
    built twice in one process, so map the names by position."""
    names = dict(zip((n for n, _ in source.named_params()), (n for n, _ in target.named_params())))
    out = {}
    for key, value in state.items():
        slot, _, param = key.partition("/")
        out[f"{slot}/{names.get(param, param)}" if param else key] = value
    return out


def _epochs_done(history_csv: Path) -> int:
    if not history_csv.exists():
        return 0
    with open(history_csv) as fh:
        return max(0, sum(1 for _ in fh) - 1)
