"""Keras 3 model files, both ways: ``.keras`` archives, ``.weights.h5`` and legacy ``.h5``.

The file name decides the format written, as in Keras: ``model.save("m.keras")`` writes a Keras
3 archive that ``keras.models.load_model`` opens, ``"m.h5"``/``"m.hdf5"`` a legacy HDF5 file,
``"m.rnnlab"`` (or any other name) rnnlab's own format; ``save_weights("w.weights.h5")`` writes
Keras's weights file. Reading goes by content (``detect``), so rnnlab files saved under a
``.keras`` or ``.h5`` name still load.

Loading is safe: no pickle, no code from the file (a custom or unknown class is an error, and a
``Lambda``'s Python lambda loads only with ``safe_mode=False``, as in Keras), every HDF5
dataset's dtype and shape checked against the architecture before its data is read, JSON and
archive members bounded in size; a bad file is a ``ModelFileError``. A model with rnnlab-only
options (``truncate_gradient``, ``recurrent_bias`` off Keras's layout, the ``TorchUniform``
initializer) cannot be written as a Keras file: the ``UnsupportedByKeras`` error names them and
points to ``.rnnlab``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from ..saving import _READ_ERRORS
from .config import UnsupportedByKeras
from .h5 import SIGNATURE


def keras_kind(filepath: Any) -> str | None:
    """The Keras format a file *name* asks for: "keras", "weights.h5", "h5", or None."""
    name = Path(filepath).name.lower()
    if name.endswith(".weights.h5"):
        return "weights.h5"
    if name.endswith(".keras"):
        return "keras"
    if name.endswith((".h5", ".hdf5")):
        return "h5"
    return None


def detect(filepath: Any) -> str:
    """What a file holds: "rnnlab" (a zip with rnnlab.json), "keras" (a zip with config.json),
    "hdf5" (the HDF5 signature) or "unknown"."""
    path = Path(filepath)
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError:
        return "unknown"
    if head == SIGNATURE:
        return "hdf5"
    if head[:4] != b"PK\x03\x04":
        return "unknown"
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except _READ_ERRORS:
        return "unknown"
    if "rnnlab.json" in names:
        return "rnnlab"
    if "config.json" in names:
        return "keras"
    return "unknown"


def load_model(filepath: Any, compile: bool = True, safe_mode: bool = True) -> Any:
    """A Keras archive or legacy HDF5 file (by content) as an rnnlab model; ``safe_mode`` as
    ``rnnlab.saving.load_model``'s."""
    from ..safe_mode import SafeModeScope, in_safe_mode
    from .files import load_keras_archive, load_legacy_h5

    kind = detect(filepath)
    with SafeModeScope(in_safe_mode(safe_mode)):
        if kind == "keras":
            return load_keras_archive(filepath, compile=compile)
        if kind == "hdf5":
            return load_legacy_h5(filepath, compile=compile)
    raise ValueError(f"{filepath} is not a Keras file")


def save_model(model: Any, filepath: Any, overwrite: bool = True) -> None:
    from .files import save_keras_archive, save_legacy_h5

    kind = keras_kind(filepath)
    if kind == "keras":
        save_keras_archive(model, filepath, overwrite)
    elif kind in ("h5", "weights.h5"):
        save_legacy_h5(model, filepath, overwrite)
    else:
        raise ValueError(f"{filepath}: not a Keras file name (.keras, .h5, .hdf5)")


def save_weights(model: Any, filepath: Any, overwrite: bool = True) -> None:
    from .files import save_weights_h5

    save_weights_h5(model, filepath, overwrite)


def load_weights(model: Any, filepath: Any) -> None:
    from .files import load_weights_h5

    load_weights_h5(model, filepath)


__all__ = ["UnsupportedByKeras", "detect", "keras_kind", "load_model", "load_weights",
           "save_model", "save_weights"]
