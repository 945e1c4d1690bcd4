"""``rnnlab diagnose MODEL``: gradient-flow and gate figures and numbers for a saved model.

``diagnose(model_path, data=None, out=None)`` loads the model, takes a batch of its data and
writes into ``out`` (default: ``diagnose-<model file stem>`` beside the model):

- ``gradient_flow.png`` / ``.json`` / ``.csv``: ``gradient_flow`` (‖∂L/∂h_t‖, ‖∂L/∂c_t‖, the
  state Jacobians over t and the parameter gradient norms);
- ``gates.png`` / ``.json`` / ``.csv``: ``introspect`` (each gate's mean activation over t and
  the saturation shares);
- ``heatmap.png`` for character models: the hidden units with the largest variance over the
  first sample's text.

Data: ``data`` is an ``.npz`` file holding arrays ``x`` and ``y``; without it, the run's own
data: the model's metadata names its experiment and the run folder's ``config.json`` its
settings (``vanishing``: the run's test sequences; ``counting``: its training sequences;
``charlm``: windows of its text). Other models need ``--data``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from .flow import gradient_flow
from .introspect import introspect


def _config(model_path: Path) -> dict[str, Any]:
    path = model_path.parent / "config.json"
    return json.loads(path.read_text()) if path.exists() else {}


def default_data(model: Any, model_path: Path, samples: int
                 ) -> tuple[Any, Any, str | None]:
    """``(x, y, text)`` from the run that trained the model (``text``: character models)."""
    meta = getattr(model, "metadata", None) or {}
    exp = meta.get("experiment")
    config = _config(model_path)
    if exp == "vanishing":
        from ..experiments.vanishing import adding_problem

        T, seed = int(meta["length"]), int(meta.get("seed", 0))
        n = min(samples, int(meta.get("test_samples", samples)))
        x, y = adding_problem(int(meta.get("test_samples", n)), T,
                              np.random.default_rng([seed, T, 1]))
        return x[:n], y[:n], None
    if exp == "counting":
        from ..data import counting_sequences

        n, length = int(config.get("sequences", 20)), int(config.get("length", 10))
        x, y = counting_sequences(n, length, seed=int(config.get("seed", 0)), dtype="float64")
        return (np.asarray(x, dtype=np.float64).reshape(n, length, 1),
                np.asarray(y, dtype=np.float64).reshape(-1, 1), None)
    if meta.get("kind") == "charlm":
        return _char_windows(model, meta, config, samples)
    raise ValueError(f"no default data for this model (experiment {exp!r}); pass --data "
                     f"FILE.npz holding arrays x and y")


def _char_windows(model: Any, meta: dict[str, Any], config: dict[str, Any], samples: int
                  ) -> tuple[Any, Any, str]:
    data = config.get("data")
    candidates = [Path(data)] if data else []
    candidates += [Path("..") / "shared" / "data" / "tinyshakespeare"]
    for cand in candidates:
        path = cand / "input.txt" if cand.is_dir() else cand
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            break
    else:
        raise FileNotFoundError("the character model's text was not found (config.json's data "
                                "or ../shared/data/tinyshakespeare); pass --data FILE.npz")
    chars = list(meta["chars"])
    index = {ch: i for i, ch in enumerate(chars)}
    ids = np.array([index[ch] for ch in text[:samples * 201] if ch in index])
    L = 200
    n = max(1, min(samples, (len(ids) - 1) // L))
    windows = ids[:n * L + 1]
    x_ids = np.stack([windows[k * L:(k + 1) * L] for k in range(n)])
    y = np.stack([windows[k * L + 1:(k + 1) * L + 1] for k in range(n)])
    x = np.eye(len(chars))[x_ids] if meta.get("input") == "onehot" else x_ids
    return x, y, "".join(chars[i] for i in x_ids[0])


def _load_npz(path: Path) -> tuple[Any, Any]:
    if path.suffix != ".npz":
        raise ValueError(f"--data must be an .npz file holding arrays x and y, got {path}")
    with np.load(path, allow_pickle=False) as f:
        missing = [k for k in ("x", "y") if k not in f.files]
        if missing:
            raise ValueError(f"{path} has arrays {f.files}; expected x and y")
        return f["x"], f["y"]


def diagnose(model_path: str | Path, data: str | Path | None = None,
             out: str | Path | None = None, samples: int = 64, truncated: bool = False,
             units: list[int] | None = None) -> list[Path]:
    """Write the figures and numbers (see the module docstring); returns the files."""
    from ..experiments.plots import _plt
    from ..saving import load_model

    model_path = Path(model_path)
    if not model_path.exists():
        raise FileNotFoundError(f"model file {model_path} does not exist")
    if samples < 1:
        raise ValueError(f"--samples must be at least 1, got {samples}")
    model = load_model(model_path)
    model.reset_states()
    text = None
    if data is not None:
        x, y = _load_npz(Path(data))
        x, y = x[:samples], y[:samples]
    else:
        x, y, text = default_data(model, model_path, samples)
    folder = Path(out) if out is not None else model_path.parent / f"diagnose-{model_path.stem}"
    folder.mkdir(parents=True, exist_ok=True)
    flow = gradient_flow(model, x, y, truncated=truncated)
    seen = introspect(model, x)
    plt = _plt()
    files = []

    def save_fig(fig: Any, name: str) -> None:
        fig.savefig(folder / name, dpi=100, bbox_inches="tight")
        plt.close(fig)
        files.append(folder / name)

    save_fig(flow.plot(f"gradient flow: {model_path.name}"), "gradient_flow.png")
    save_fig(seen.plot(f"gates and states: {model_path.name}"), "gates.png")
    if text is not None:
        key = next(iter(seen.hidden))
        save_fig(seen.heatmap(key, text, units), "heatmap.png")
    (folder / "gradient_flow.json").write_text(json.dumps(flow.to_dict(), indent=1) + "\n")
    files.append(folder / "gradient_flow.json")
    _write_csv(folder / "gradient_flow.csv", flow.rows(), ["quantity", "layer", "t", "value"])
    files.append(folder / "gradient_flow.csv")
    rows = [{"layer": key, "gate": g, "t": t, "mean": float(v[:, t].mean())}
            for key, gates in seen.gates.items() for g, v in gates.items()
            for t in range(v.shape[1])]
    _write_csv(folder / "gates.csv", rows, ["layer", "gate", "t", "mean"])
    files.append(folder / "gates.csv")
    (folder / "gates.json").write_text(json.dumps({"saturation": seen.saturation,
                                                   "cells": seen.cells}, indent=1) + "\n")
    files.append(folder / "gates.json")
    return files


def _write_csv(path: Path, rows: list[dict[str, Any]], columns: list[str]) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)
