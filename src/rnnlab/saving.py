"""Model files: one zip archive that cannot run code when loaded (no pickle).

Members:
    rnnlab.json          {"format": "rnnlab-model", "version": 1, "model": {class_name, config},
                          "compile": {...} or null, "state": {shuffle seed, layer seeds and
                          random-call counters}, "weights": [names], "optimizer": [names]}
    weights/<name>.npy   every parameter and buffer (PyTorch names, "<layer>/<param>")
    optimizer/<name>.npy optimizer slots and iteration count

Arrays are read with ``allow_pickle=False``; the JSON names only registered rnnlab classes. The file
is written to a temporary file in the same folder and renamed over the target, so a crash mid-save
leaves the previous file intact. Any file name is accepted (``model.keras``, ``model.h5``,
``model.hdf5`` as in Keras code): the content is always this format.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ._registry import deserialize, serialize

FORMAT = "rnnlab-model"
WEIGHTS_FORMAT = "rnnlab-weights"
VERSION = 1


class ModelFileError(ValueError):
    """A model file is missing, truncated, corrupt or of the wrong kind."""


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.require(array, requirements="C"), allow_pickle=False)
    return buf.getvalue()


def _write_atomic(path: Path, members: dict[str, bytes], overwrite: bool) -> None:
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for name, data in members.items():
                    zf.writestr(name, data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _training_state(model: Any) -> dict[str, Any]:
    return {
        "shuffle_seed": int(model.shuffle_seed),
        "layers": {layer.name: {"seed": int(layer.seed_value()), "rng_calls": int(layer.rng_calls)}
                   for layer in model.layers},
    }


def save_model(model: Any, filepath: Any, overwrite: bool = True) -> None:
    """Save architecture, weights, optimizer state and training state to ``filepath``."""
    model._require_built("save")
    weights = model.state_dict()
    opt_state = model.optimizer.state_dict() if getattr(model, "optimizer", None) else {}
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "model": serialize(model),
        "compile": model.compile_config() if getattr(model, "compiled", False) else None,
        "state": _training_state(model),
        "weights": list(weights),
        "optimizer": list(opt_state),
    }
    members = {"rnnlab.json": json.dumps(meta, indent=1).encode()}
    members.update({f"weights/{k}.npy": _npy_bytes(v) for k, v in weights.items()})
    members.update({f"optimizer/{k}.npy": _npy_bytes(np.asarray(v)) for k, v in opt_state.items()})
    _write_atomic(Path(filepath), members, overwrite)


def _open(filepath: Any, kind: str) -> tuple[dict[str, Any], zipfile.ZipFile]:
    path = Path(filepath)
    if not path.exists():
        raise FileNotFoundError(f"no model file at {path}")
    try:
        zf = zipfile.ZipFile(path)
        bad = zf.testzip()
        if bad is not None:
            raise ModelFileError(f"{path} is corrupt: member {bad!r} fails its checksum")
        meta = json.loads(zf.read("rnnlab.json"))
    except (zipfile.BadZipFile, KeyError, EOFError, json.JSONDecodeError, OSError) as exc:
        raise ModelFileError(
            f"{path} is not a readable rnnlab {kind} file (truncated, corrupt or another "
            f"format): {exc}") from exc
    if meta.get("format") != kind:
        raise ModelFileError(f"{path} holds {meta.get('format')!r}, expected {kind!r}")
    if meta.get("version", 0) > VERSION:
        raise ModelFileError(f"{path} has format version {meta.get('version')}; this rnnlab "
                             f"reads up to {VERSION}")
    return meta, zf


def _read_arrays(zf: zipfile.ZipFile, prefix: str, names: list[str]) -> dict[str, np.ndarray]:
    out = {}
    for name in names:
        try:
            with zf.open(f"{prefix}/{name}.npy") as fh:
                out[name] = np.lib.format.read_array(io.BytesIO(fh.read()), allow_pickle=False)
        except (KeyError, ValueError) as exc:
            raise ModelFileError(f"array {prefix}/{name} is missing or unreadable: {exc}") from exc
    return out


def load_model(filepath: Any, compile: bool = True) -> Any:
    """Rebuild a model saved with ``model.save``: architecture, weights, optimizer state."""
    meta, zf = _open(filepath, FORMAT)
    with zf:
        try:
            model = deserialize(meta["model"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"{filepath}: the architecture cannot be rebuilt: {exc}") from exc
        if not model.built:
            model._require_built("load_model")
        model.load_state_dict(_read_arrays(zf, "weights", meta["weights"]))
        state = meta.get("state") or {}
        model.shuffle_seed = state.get("shuffle_seed", model.shuffle_seed)
        for layer in model.layers:
            info = state.get("layers", {}).get(layer.name)
            if info:
                layer._seed_value = int(info["seed"])
                layer.rng_calls = int(info["rng_calls"])
        if compile and meta.get("compile"):
            spec = meta["compile"]
            model.compile(optimizer=deserialize(spec["optimizer"]),
                          loss=deserialize(spec["loss"]), metrics=deserialize(spec["metrics"]),
                          loss_weights=deserialize(spec["loss_weights"]))
            model.optimizer.load_state_dict(_read_arrays(zf, "optimizer", meta["optimizer"]))
    return model


def save_weights(model: Any, filepath: Any, overwrite: bool = True) -> None:
    weights = model.state_dict()
    meta = {"format": WEIGHTS_FORMAT, "version": VERSION, "weights": list(weights)}
    members = {"rnnlab.json": json.dumps(meta).encode()}
    members.update({f"weights/{k}.npy": _npy_bytes(v) for k, v in weights.items()})
    _write_atomic(Path(filepath), members, overwrite)


def load_weights(model: Any, filepath: Any) -> None:
    meta, zf = _open(filepath, WEIGHTS_FORMAT)
    with zf:
        model.load_state_dict(_read_arrays(zf, "weights", meta["weights"]))
