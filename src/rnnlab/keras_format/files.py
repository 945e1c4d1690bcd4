"""Reading and writing Keras 3 files: ``.keras`` archives, ``.weights.h5`` weight files and
legacy full-model HDF5 files (``.h5``/``.hdf5``).

``.keras``: a zip with ``metadata.json``, ``config.json`` (the model config, with
``compile_config``) and ``model.weights.h5`` (``layers/...`` and ``optimizer/vars``).
Legacy HDF5: attributes ``model_config`` and ``training_config`` (JSON) on the root, weights in
``model_weights/<layer name>/`` listed by the ``weight_names`` attribute, optimizer variables in
``optimizer_weights``. Writing is atomic (temporary file, then rename), as for rnnlab's format.
"""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..saving import _READ_ERRORS, ModelFileError, _write_atomic
from . import h5
from .models import model_from_keras, model_to_keras
from .optimizer import compile_from_keras, compile_to_keras, keras_variables, load_keras_variables
from .weights import read_model, write_model

MAX_JSON_BYTES = 64 * 2**20
MAX_WEIGHTS_BYTES = 8 * 2**30
KERAS_VERSION = "3.15.1"  # the Keras version whose format this writes


def _member(zf: zipfile.ZipFile, name: str, limit: int, path: Any) -> bytes:
    try:
        info = zf.getinfo(name)
    except KeyError as exc:
        raise ModelFileError(f"{path}: the Keras archive has no {name!r}") from exc
    if info.file_size > limit:
        raise ModelFileError(f"{path}: member {name!r} declares {info.file_size} bytes; at most "
                             f"{limit} are accepted")
    try:
        with zf.open(info) as fh:
            data = fh.read(limit + 1)
    except _READ_ERRORS as exc:
        raise ModelFileError(f"{path}: member {name!r} is unreadable: {exc}") from exc
    if len(data) > limit:
        raise ModelFileError(f"{path}: member {name!r} is larger than {limit} bytes")
    return data


def _json(data: bytes | str, what: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{what} is not valid JSON: {exc}") from exc


def load_keras_archive(path: Any, compile: bool = True) -> Any:
    try:
        zf = zipfile.ZipFile(path)
    except _READ_ERRORS as exc:
        raise ModelFileError(f"{path} is not a readable .keras archive: {exc}") from exc
    with zf:
        spec = _json(_member(zf, "config.json", MAX_JSON_BYTES, path), f"{path}: config.json")
        weights = _member(zf, "model.weights.h5", MAX_WEIGHTS_BYTES, path)
    if not isinstance(spec, dict):
        raise ModelFileError(f"{path}: config.json does not hold an object")
    model, pairs = model_from_keras(spec, str(path))
    with h5.translated(str(path)), h5.open_h5(weights, f"{path}: model.weights.h5") as root:
        read_model(root, pairs, f"{path}: model.weights.h5")
        compile_cfg = spec.get("compile_config")
        if compile and isinstance(compile_cfg, dict) and compile_cfg.get("loss") is not None:
            compile_from_keras(model, compile_cfg, f"{path}: compile_config")
            if "optimizer/vars" in root:
                load_keras_variables(model, h5.group(root, "optimizer/vars", str(path)),
                                     f"{path}: optimizer state")
    return model


def _h5_bytes(fill: Any) -> bytes:
    buf = io.BytesIO()
    with h5.h5py_module().File(buf, "w") as root:
        fill(root)
    return buf.getvalue()


def _write_weights(root: Any, model: Any, pairs: list[tuple[Any, str]],
                   with_optimizer: bool) -> None:
    write_model(root, model, pairs)
    if with_optimizer and getattr(model, "compiled", False):
        grp = root.require_group("optimizer/vars")
        grp.attrs["name"] = model.optimizer.name
        for i, value in enumerate(keras_variables(model)):
            grp.create_dataset(str(i), data=value)


def save_keras_archive(model: Any, path: Any, overwrite: bool = True) -> None:
    model._require_built("save")
    config, pairs = model_to_keras(model)
    compile_cfg = compile_to_keras(model)
    if compile_cfg is not None:
        config["compile_config"] = compile_cfg
    weights = _h5_bytes(lambda root: _write_weights(root, model, pairs, compile_cfg is not None))
    meta = {"keras_version": KERAS_VERSION,
            "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    _write_atomic(Path(path), {"metadata.json": json.dumps(meta).encode(),
                               "config.json": json.dumps(config).encode(),
                               "model.weights.h5": weights}, overwrite)


def _model_pairs(model: Any) -> list[tuple[Any, str]]:
    from .models import _layer_paths

    layers = list(model.layers)
    return list(zip(layers, _layer_paths([type(layer).__name__ for layer in layers])))


def save_weights_h5(model: Any, path: Any, overwrite: bool = True) -> None:
    """``model.save_weights("x.weights.h5")``: Keras's weights file (with the optimizer)."""
    model._require_built("save_weights")
    pairs = _model_pairs(model)
    data = _h5_bytes(lambda root: _write_weights(root, model, pairs, True))
    _write_atomic_bytes(Path(path), data, overwrite)


def _write_atomic_bytes(path: Path, data: bytes, overwrite: bool) -> None:
    import os
    import tempfile

    from ..saving import _file_mode, _fsync_dir

    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _file_mode(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def load_weights_h5(model: Any, path: Any) -> None:
    """Load a Keras ``.weights.h5`` file, or the weights of a legacy full-model HDF5 file."""
    model._require_built("load_weights")
    with h5.translated(str(path)), h5.open_h5(path, str(path)) as root:
        if "model_weights" in root or "layer_names" in root.attrs:
            legacy_read_weights(root, model, str(path))
            return
        read_model(root, _model_pairs(model), str(path))
        if getattr(model, "compiled", False) and "optimizer/vars" in root:
            load_keras_variables(model, h5.group(root, "optimizer/vars", str(path)),
                                 f"{path}: optimizer state")


# -- legacy HDF5 -----------------------------------------------------------------------------------

def _names_attr(obj: Any, name: str, what: str) -> list[str]:
    try:
        if name not in obj.attrs:
            raise ModelFileError(f"{what}: attribute {name!r} is missing")
        raw = obj.attrs[name]
    except ModelFileError:
        raise
    except (OSError, ValueError, KeyError, RuntimeError, TypeError) as exc:
        raise ModelFileError(f"{what}: attribute {name!r} is unreadable: {exc}") from exc
    arr = np.asarray(raw)
    if arr.dtype.kind not in "OSU" and arr.size:
        raise ModelFileError(f"{what}: attribute {name!r} is not a list of names")
    return [v.decode() if isinstance(v, bytes) else str(v) for v in arr.reshape(-1)]


def legacy_read_weights(root: Any, model: Any, what: str) -> None:
    """Weights of a legacy file, matched to the model's layers by name (Keras's order)."""
    base = h5.group(root, "model_weights", what) if "model_weights" in root else root
    names = _names_attr(base, "layer_names", what)
    by_name = {layer.name: layer for layer in model.layers}
    with_weights = []
    for name in names:
        grp = h5.group(base, name, what)
        wnames = _names_attr(grp, "weight_names", f"{what} layer {name!r}")
        if wnames:
            with_weights.append((name, grp, wnames))
    mine = [layer for layer in model.layers if layer.get_weights()]
    if sorted(n for n, _, _ in with_weights) != sorted(layer.name for layer in mine):
        if len(with_weights) != len(mine):
            raise ModelFileError(f"{what}: the file has weights for layers "
                                 f"{[n for n, _, _ in with_weights]}, the model has "
                                 f"{[layer.name for layer in mine]}")
        targets = mine  # matched by position, as Keras does for HDF5 files
    else:
        targets = [by_name[n] for n, _, _ in with_weights]
    for layer, (name, grp, wnames) in zip(targets, with_weights):
        expected = [tuple(w.shape) for w in layer.get_weights()]
        if len(wnames) != len(expected):
            raise ModelFileError(f"{what}: layer {name!r} has {len(wnames)} weights in the "
                                 f"file, the model's {layer.name!r} has {len(expected)}")
        values = []
        for wname, shape in zip(wnames, expected):
            parent, _, leaf = wname.rpartition("/")
            values.append(h5.read(h5.group(grp, parent, what) if parent else grp, leaf, shape,
                                  f"{what} layer {name!r}"))
        try:
            layer.set_weights([v.astype(w.dtype, copy=False)
                               for v, w in zip(values, layer.get_weights())])
        except ValueError as exc:
            raise ModelFileError(f"{what}: layer {name!r}: {exc}") from exc


def load_legacy_h5(path: Any, compile: bool = True) -> Any:
    what = str(path)
    with h5.translated(what), h5.open_h5(path, what) as root:
        text = h5.read_text_attr(root, "model_config", what)
        if text is None:
            raise ModelFileError(f"{what}: no model_config attribute: a weights-only HDF5 file "
                                 "(use model.load_weights)")
        spec = _json(text, f"{what}: model_config")
        if isinstance(spec, dict) and "module" not in spec:
            spec = dict(spec)
        model, _ = model_from_keras(_add_modules(spec), what)
        legacy_read_weights(root, model, what)
        training = h5.read_text_attr(root, "training_config", what)
        if compile and training:
            cfg = _json(training, f"{what}: training_config")
            if isinstance(cfg, dict):
                compile_from_keras(model, _add_modules(cfg), f"{what}: training_config")
                if "optimizer_weights" in root:
                    _legacy_optimizer(root, model, what)
    return model


def _add_modules(value: Any) -> Any:
    """Legacy configs omit ``module``; only the class names matter here."""
    if isinstance(value, dict):
        return {k: _add_modules(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_add_modules(v) for v in value]
    return value


def _legacy_optimizer(root: Any, model: Any, what: str) -> None:
    grp = h5.group(root, "optimizer_weights", what)
    names = _names_attr(grp, "weight_names", f"{what} optimizer_weights")

    class _Ordered:
        """The legacy names in order, presented as the vars/0.. group of the new format."""

        name = "optimizer_weights"

        def __init__(self) -> None:
            self.items = names

        def keys(self) -> list[str]:
            return [str(i) for i in range(len(names))]

        def get(self, key: str) -> Any:
            parent, _, leaf = names[int(key)].rpartition("/")
            return (h5.group(grp, parent, what) if parent else grp).get(leaf)

    load_keras_variables(model, _Ordered(), f"{what}: optimizer_weights")


def save_legacy_h5(model: Any, path: Any, overwrite: bool = True) -> None:
    """A legacy full-model HDF5 file as Keras 3's ``model.save("m.h5")`` writes it."""
    model._require_built("save")
    config, _ = model_to_keras(model)
    compile_cfg = compile_to_keras(model)
    h5py = h5.h5py_module()

    def fill(root: Any) -> None:
        root.attrs["keras_version"] = KERAS_VERSION
        root.attrs["backend"] = "numpy"
        root.attrs["model_config"] = json.dumps({"class_name": config["class_name"],
                                                 "config": config["config"]})
        mw = root.create_group("model_weights")
        layer_names = [layer.name for layer in model.layers]
        mw.attrs["layer_names"] = np.array(layer_names, dtype=h5py.string_dtype())
        for layer in model.layers:
            g = mw.create_group(layer.name)
            weights = layer.get_weights()
            wnames = [f"{layer.name}/{i}" for i in range(len(weights))]
            g.attrs["weight_names"] = np.array(wnames, dtype=h5py.string_dtype())
            for wname, w in zip(wnames, weights):
                g.create_dataset(wname, data=w)
        if compile_cfg is not None:
            training = dict(compile_cfg)
            training["optimizer_config"] = training.pop("optimizer")
            root.attrs["training_config"] = json.dumps(training)
            og = root.create_group("optimizer_weights")
            values = keras_variables(model)
            onames = [f"{model.optimizer.name}/{i}" for i in range(len(values))]
            og.attrs["weight_names"] = np.array(onames, dtype=h5py.string_dtype())
            for oname, v in zip(onames, values):
                og.create_dataset(oname, data=v)

    _write_atomic_bytes(Path(path), _h5_bytes(fill), overwrite)
