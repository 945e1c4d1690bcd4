"""Model files: one zip archive that cannot run code when loaded (no pickle).

Members:
    rnnlab.json          {"format": "rnnlab-model", "version": 1, "model": {class_name, config},
                          "compile": {...} or null, "state": {shuffle seed, layer seeds and
                          random-call counters}, "weights": [names], "optimizer": [names]}
    weights/<name>.npy   every parameter and buffer (PyTorch names, "<layer>/<param>")
    optimizer/<name>.npy optimizer slots and iteration count

Reading is bounded: rnnlab.json is refused past ``JSON_LIMIT`` bytes, and each array's ``.npy``
header (dtype, shape) is checked against the architecture before its data is read, in chunks, so a
hostile file cannot make a load allocate more than the model it describes (see ``_zipread``).
Arrays hold plain numbers only (no pickles); the JSON names only registered rnnlab classes. The file
is written to a temporary file in the same folder and renamed over the target, so a crash mid-save
leaves the previous file intact. This format has its own extension, ``.rnnlab``; the file name
decides the format written, as in Keras: ``.keras``, ``.h5``/``.hdf5`` and ``.weights.h5``
names write Keras 3's formats (``rnnlab.keras_format``). Reading goes by content, so rnnlab
files saved under a Keras name still load.
"""

from __future__ import annotations

import io
import json
import math
import os
import struct
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ._registry import deserialize, serialize
from ._registry import register_keras_serializable as register_keras_serializable
from ._zipread import ZipMemberError, read_member, read_npy

FORMAT = "rnnlab-model"
WEIGHTS_FORMAT = "rnnlab-weights"
VERSION = 1
JSON_LIMIT = 16 << 20  # bytes of rnnlab.json (a large architecture is well under 1 MiB)
# resume arrays (callback states: best weights...) beyond the model's own weights, in bytes
RESUME_SLACK = 1 << 20
# resume arrays read without the model at hand: each at most this many bytes
RESUME_LIMIT_WITHOUT_MODEL = 256 << 20


class ModelFileError(ValueError):
    """A model file is truncated, corrupt, of the wrong kind or does not fit the model."""


# what reading a damaged zip archive can raise, besides our own checks
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, struct.error, EOFError, OSError, KeyError,
                ValueError, NotImplementedError, UnicodeDecodeError)


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.require(array, requirements="C"), allow_pickle=False)
    return buf.getvalue()


def _write_atomic(path: Path, members: dict[str, bytes], overwrite: bool) -> None:
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _file_mode(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for name, data in members.items():
                    zf.writestr(name, data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno is not None:  # a full disk, a quota...
            kept = "the previous file is unchanged" if path.exists() else "nothing was written"
            raise OSError(exc.errno, f"cannot write the model file {path}: {exc.strerror} "
                                     f"({kept})") from exc
        raise
    _fsync_dir(path.parent)


def _file_mode(path: Path) -> int:
    """The permissions the file gets: the old file's, or the usual ones for a new file (mkstemp
    would leave it readable by its owner only)."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable where the platform allows it (best effort)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _training_state(model: Any) -> dict[str, Any]:
    """Seeds and random-call counters, so a loaded model draws the numbers the saved one would
    have drawn. A seed a layer has not resolved yet (it never drew anything) is not resolved
    here: saving must not consume seeds from the global stream."""
    def seed(layer: Any) -> int | None:
        value = layer.__dict__.get("_seed_value")
        return None if value is None else int(value)

    return {
        "shuffle_seed": int(model.shuffle_seed),
        "layers": {layer.name: {"seed": seed(layer), "rng_calls": int(layer.rng_calls)}
                   for layer in model.layers},
    }


def save_model(model: Any, filepath: Any, overwrite: bool = True,
               resume: dict[str, Any] | None = None) -> None:
    """Save architecture, weights, optimizer state and training state to ``filepath``.

    ``resume``: extra state for continuing an interrupted run (epochs done, callback states),
    JSON values and NumPy arrays nested in dicts and lists; the arrays are stored as ``.npy``
    members like the weights, read back by :func:`load_resume_state`. A ``.keras``, ``.h5`` or
    ``.hdf5`` name writes Keras's format instead (``rnnlab.keras_format``), except with
    ``resume`` state, which only this format holds."""
    from . import keras_format

    if resume is None and keras_format.keras_kind(filepath) is not None:
        keras_format.save_model(model, filepath, overwrite=overwrite)
        return
    model._require_built("save")
    weights = model.state_dict()
    compile_config = _compile_config(model)
    opt_state = model.optimizer.state_dict() if compile_config is not None else {}
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "model": serialize(model),
        "compile": compile_config,
        "state": _training_state(model),
        "metadata": getattr(model, "metadata", None) or {},
        "weights": list(weights),
        "optimizer": list(opt_state),
    }
    resume_arrays: dict[str, np.ndarray] = {}
    if resume is not None:
        meta["resume"] = _encode_resume(resume, resume_arrays)
    members = {"rnnlab.json": json.dumps(meta, indent=1).encode()}
    members.update({f"weights/{k}.npy": _npy_bytes(v) for k, v in weights.items()})
    members.update({f"optimizer/{k}.npy": _npy_bytes(np.asarray(v)) for k, v in opt_state.items()})
    members.update({f"resume/{k}.npy": _npy_bytes(v) for k, v in resume_arrays.items()})
    _write_atomic(Path(filepath), members, overwrite)


def _encode_resume(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    """JSON form of ``value``: each array becomes ``{"__array__": name}`` (stored separately)."""
    if isinstance(value, np.ndarray):
        name = str(len(arrays))
        arrays[name] = value
        return {"__array__": name}
    if isinstance(value, dict):
        return {str(k): _encode_resume(v, arrays) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode_resume(v, arrays) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _decode_resume(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__array__"}:
            return arrays[value["__array__"]]
        return {k: _decode_resume(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode_resume(v, arrays) for v in value]
    return value


def _array_names(value: Any) -> list[str]:
    if isinstance(value, dict):
        if set(value) == {"__array__"}:
            return [str(value["__array__"])]
        return [n for v in value.values() for n in _array_names(v)]
    if isinstance(value, list):
        return [n for v in value for n in _array_names(v)]
    return []


def load_resume_state(filepath: Any, model: Any = None) -> dict[str, Any] | None:
    """The ``resume`` state saved with a model file, or None when it holds none.

    Each array is bounded before it is read: by the model's weights (callback states hold at
    most a copy of them) plus ``RESUME_SLACK`` when ``model`` (the loaded model) is given, else
    by ``RESUME_LIMIT_WITHOUT_MODEL``."""
    meta, zf = _open(filepath, FORMAT)
    with zf:
        encoded = meta.get("resume")
        if encoded is None:
            return None
        limit = RESUME_LIMIT_WITHOUT_MODEL if model is None else RESUME_SLACK + sum(
            v.nbytes for v in model.state_dict().values())
        arrays = _read_arrays(zf, "resume", _array_names(encoded), filepath,
                              _expect_resume(limit))
        return _decode_resume(encoded, arrays)


def _compile_config(model: Any) -> dict[str, Any] | None:
    """The compile arguments as JSON, or None (not compiled, or a loss/metric/optimizer that
    cannot be written as JSON: then the file holds no training configuration, as Keras does for
    objects it cannot serialise, and ``load_model`` returns an uncompiled model)."""
    if not getattr(model, "compiled", False):
        return None
    try:
        config = model.compile_config()
        json.dumps(config)
    except (TypeError, ValueError) as exc:
        warnings.warn(f"the model's compile arguments cannot be saved ({exc}); the file holds "
                      "the architecture and weights only: compile the loaded model again",
                      stacklevel=3)
        return None
    return config


def _open(filepath: Any, kind: str) -> tuple[dict[str, Any], zipfile.ZipFile]:
    path = Path(filepath)
    if not path.exists():
        raise FileNotFoundError(f"no model file at {path}")
    what = "model" if kind == FORMAT else "weights"
    zf = None
    try:
        zf = zipfile.ZipFile(path)
        # read in chunks up to the limit (a whitespace bomb is refused, never inflated); each
        # member's CRC is checked when it is read to its end
        meta = json.loads(read_member(zf, "rnnlab.json", JSON_LIMIT))
        if not isinstance(meta, dict):
            raise ValueError("rnnlab.json does not hold a JSON object")
    except ModelFileError:
        _close(zf)
        raise
    except (_READ_ERRORS + (RecursionError,)) as exc:
        _close(zf)
        raise ModelFileError(
            f"{path} is not a readable rnnlab {what} file (truncated, corrupt or another "
            f"format): {type(exc).__name__}: {exc}") from exc
    if meta.get("format") != kind:
        _close(zf)
        found = meta.get("format")
        hints = {FORMAT: "; it is a model file: use rnnlab.models.load_model",
                 WEIGHTS_FORMAT: "; it is a weights file: use model.load_weights"}
        hint = hints.get(found, "") if isinstance(found, str) else ""
        raise ModelFileError(f"{path} holds {meta.get('format')!r}, expected {kind!r}{hint}")
    version = meta.get("version", 0)
    if not isinstance(version, int) or version > VERSION:
        _close(zf)
        raise ModelFileError(f"{path} has format version {version!r}; this rnnlab "
                             f"reads up to {VERSION}")
    return meta, zf


def _close(zf: zipfile.ZipFile | None) -> None:
    if zf is not None:
        zf.close()


def _read_arrays(zf: zipfile.ZipFile, prefix: str, names: Any, filepath: Any,
                 expect: Callable[[int, str, tuple[int, ...], np.dtype], str | None]
                 ) -> dict[str, np.ndarray]:
    """The arrays ``<prefix>/<name>.npy``; ``expect(position, name, shape, dtype)`` sees each
    header before its data is read and returns what was expected when it does not fit."""
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ModelFileError(f"{filepath}: the {prefix} list in rnnlab.json is not a list of "
                             "names")
    if len(set(names)) != len(names):
        raise ModelFileError(f"{filepath}: the {prefix} list in rnnlab.json repeats a name")
    out = {}
    for position, name in enumerate(names):
        def check(member: str, shape: tuple[int, ...], dtype: np.dtype,
                  position: int = position, name: str = name) -> None:
            wanted = expect(position, name, shape, dtype)
            if wanted is not None:
                raise ZipMemberError(f"member {member!r} declares {dtype} {shape}; expected "
                                     f"{wanted}")
        try:
            out[name] = read_npy(zf, f"{prefix}/{name}.npy", check)
        except ZipMemberError as exc:
            raise ModelFileError(f"{filepath}: {exc}") from exc
        except _READ_ERRORS as exc:
            raise ModelFileError(f"{filepath}: array {prefix}/{name} is missing or unreadable: "
                                 f"{exc}") from exc
    return out


def _float_dtype(dtype: np.dtype) -> bool:
    return dtype.kind == "f" and dtype.itemsize in (4, 8)


def _expect_weights(model: Any, by_position: bool = False
                    ) -> Callable[[int, str, tuple[int, ...], np.dtype], str | None]:
    """Each weight as the architecture has it: the same shape, a float32/float64 dtype (cast on
    loading). ``by_position``: a name the model lacks is checked against the model's array at
    the same position (``load_weights`` matches layers by position when names differ)."""
    own = model.state_dict()
    order = list(own.values())

    def expect(position: int, name: str, shape: tuple[int, ...], dtype: np.dtype) -> str | None:
        target = own.get(name)
        if target is None and by_position and position < len(order):
            target = order[position]
        fits = target is not None and shape == target.shape and (
            _float_dtype(dtype) or dtype == target.dtype)
        if fits:
            return None
        if by_position:
            return ("an array of the model: the weights do not fit the model, by layer name or "
                    f"by position: the model has {[(k, v.shape) for k, v in own.items()]}")
        if target is None:
            return f"only the model's arrays {sorted(own)}"
        return f"{target.dtype} {target.shape} (float32 or float64) as the architecture has it"

    return expect


def _expect_optimizer(model: Any) -> Callable[[int, str, tuple[int, ...], np.dtype], str | None]:
    """Optimizer state: scalars ``iterations`` / ``learning_rate``, and ``<slot>/<param>`` slots
    shaped like the parameter (keyed structurally, ``layers.<i>.<path>``, or by layer name in
    files written before structural keys)."""
    own = {**model.state_dict(), **dict(model.named_params())}

    def expect(position: int, name: str, shape: tuple[int, ...], dtype: np.dtype) -> str | None:
        if name in ("iterations", "learning_rate"):
            return None if math.prod(shape) == 1 else "a single number"
        _, _, param = name.partition("/")
        target = own.get(param)
        if target is None:
            return f"a slot of one of the model's parameters {sorted(own)}"
        if shape != target.shape or not _float_dtype(dtype):
            return f"float32/float64 {target.shape}, the shape of parameter {param!r}"
        return None

    return expect


def _expect_resume(limit: int) -> Callable[[int, str, tuple[int, ...], np.dtype], str | None]:
    def expect(position: int, name: str, shape: tuple[int, ...], dtype: np.dtype) -> str | None:
        nbytes = math.prod(shape) * dtype.itemsize
        return None if nbytes <= limit else f"at most {limit} bytes"

    return expect


def _compile_from_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """compile() arguments from the saved JSON; metrics go through ``metrics.get`` (metric and
    loss classes may share a class name)."""
    from . import metrics as metrics_mod

    def metric(value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {"class_name", "config"}:
            return metrics_mod.get(value)
        if isinstance(value, dict):
            return {k: metric(v) for k, v in value.items()}
        if isinstance(value, list):
            return [metric(v) for v in value]
        return value

    return {"optimizer": deserialize(spec["optimizer"]), "loss": deserialize(spec["loss"]),
            "metrics": metric(spec.get("metrics")),
            "loss_weights": deserialize(spec.get("loss_weights")),
            "weighted_metrics": metric(spec.get("weighted_metrics"))}


def load_model(filepath: Any, compile: bool = True, safe_mode: bool = True) -> Any:
    """Rebuild a model saved with ``model.save``: architecture, weights, optimizer state; a
    Keras 3 ``.keras`` archive or legacy HDF5 file is recognised by its content.

    ``safe_mode`` (Keras's): a ``Lambda`` whose function is a Python lambda is stored as
    bytecode, and loading it runs code from the file, so it is refused unless
    ``safe_mode=False`` (or ``rnnlab.config.enable_unsafe_deserialization()``, which takes
    precedence, as in Keras); see ``rnnlab.safe_mode``."""
    from . import keras_format
    from .safe_mode import SafeModeScope, in_safe_mode

    with SafeModeScope(in_safe_mode(safe_mode)):
        if Path(filepath).exists() and keras_format.detect(filepath) in ("keras", "hdf5"):
            return keras_format.load_model(filepath, compile=compile)
        return _load_rnnlab_model(filepath, compile)


def _load_rnnlab_model(filepath: Any, compile: bool) -> Any:
    meta, zf = _open(filepath, FORMAT)
    with zf:
        try:
            model = deserialize(meta["model"])
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise ModelFileError(f"{filepath}: the architecture cannot be rebuilt: {exc}") from exc
        if not model.built:
            model._require_built("load_model")
        try:
            model.load_state_dict(_read_arrays(zf, "weights", meta.get("weights"), filepath,
                                               _expect_weights(model)))
        except ModelFileError:
            raise
        except ValueError as exc:
            raise ModelFileError(f"{filepath}: the weights do not fit the architecture: "
                                 f"{exc}") from exc
        try:
            model.metadata = dict(meta.get("metadata") or {})
            state = meta.get("state") or {}
            model.shuffle_seed = int(state.get("shuffle_seed", model.shuffle_seed))
            for layer in model.layers:
                info = state.get("layers", {}).get(layer.name)
                if info:
                    if info.get("seed") is not None:
                        layer._seed_value = int(info["seed"])
                    layer.rng_calls = int(info["rng_calls"])
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"{filepath}: the training state is unreadable: {exc}") from exc
        if compile and meta.get("compile"):
            try:
                model.compile(**_compile_from_spec(meta["compile"]))
                model.optimizer.load_state_dict(model.structural_slot_keys(
                    _read_arrays(zf, "optimizer", meta.get("optimizer"), filepath,
                                 _expect_optimizer(model))))
            except ModelFileError:
                raise
            except (KeyError, TypeError, ValueError) as exc:
                raise ModelFileError(f"{filepath}: the training configuration (compile "
                                     f"arguments, optimizer state) cannot be restored: "
                                     f"{exc}") from exc
    return model


def save_weights(model: Any, filepath: Any, overwrite: bool = True) -> None:
    """rnnlab's weights file; a ``.weights.h5``/``.h5`` name writes Keras's weights file."""
    from . import keras_format

    if keras_format.keras_kind(filepath) in ("weights.h5", "h5"):
        keras_format.save_weights(model, filepath, overwrite=overwrite)
        return
    weights = model.state_dict()
    meta = {"format": WEIGHTS_FORMAT, "version": VERSION, "weights": list(weights)}
    members = {"rnnlab.json": json.dumps(meta).encode()}
    members.update({f"weights/{k}.npy": _npy_bytes(v) for k, v in weights.items()})
    _write_atomic(Path(filepath), members, overwrite)


def load_weights(model: Any, filepath: Any) -> None:
    """Load weights saved with ``save_weights``. Layers are matched by name; when the names
    differ (the same architecture built again, so Keras's automatic names moved on) they are
    matched by position, as Keras's ``load_weights`` does for HDF5 files. A Keras HDF5 weights
    file (or a legacy full-model file) is recognised by its content."""
    from . import keras_format

    if Path(filepath).exists() and keras_format.detect(filepath) == "hdf5":
        keras_format.load_weights(model, filepath)
        return
    meta, zf = _open(filepath, WEIGHTS_FORMAT)
    with zf:
        arrays = _read_arrays(zf, "weights", meta.get("weights"), filepath,
                              _expect_weights(model, by_position=True))
    if set(arrays) != set(model.state_dict()):
        arrays = _match_by_position(model, arrays, filepath)
    try:
        model.load_state_dict(arrays)
    except ValueError as exc:
        raise ModelFileError(f"{filepath}: the weights do not fit the model: {exc}") from exc


def _match_by_position(model: Any, arrays: dict[str, np.ndarray],
                       filepath: Any) -> dict[str, np.ndarray]:
    """Rename the saved arrays to the model's layer names, layer by layer in order."""
    saved: dict[str, dict[str, np.ndarray]] = {}
    for key, value in arrays.items():
        layer, _, param = key.partition("/")
        saved.setdefault(layer, {})[param] = value
    mine = [(layer.name, layer.state_dict()) for layer in model.layers]
    mine = [(name, state) for name, state in mine if state]

    def describe(groups: list[tuple[str, dict[str, Any]]]) -> list[str]:
        return [f"{name}{sorted((k, tuple(v.shape)) for k, v in state.items())}"
                for name, state in groups]

    theirs = list(saved.items())
    fits = len(theirs) == len(mine) and all(
        a.keys() == b.keys() and all(a[k].shape == b[k].shape for k in a)
        for (_, a), (_, b) in zip(mine, theirs))
    if not fits:
        raise ModelFileError(
            f"{filepath}: the weights do not fit the model, by layer name or by position: the "
            f"file has {describe(theirs)}, the model has {describe(mine)}")
    return {f"{name}/{param}": value
            for (name, _), (_, state) in zip(mine, theirs) for param, value in state.items()}
