"""Checked HDF5 access (h5py): nothing is read from a file before it is validated.

``open_h5`` refuses anything without the HDF5 signature before libhdf5 parses it; ``read``
checks a dataset's declared shape and dtype against what the architecture expects (a plain
little- or big-endian float or integer type, no object, string, compound or variable-length
data) before reading its bytes, so memory is bounded by the model itself. Every failure is a
``ModelFileError`` naming the file and the dataset.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..saving import ModelFileError

SIGNATURE = b"\x89HDF\r\n\x1a\n"
MAX_ATTR_BYTES = 64 * 2**20  # a JSON attribute (model_config) larger than this is refused


def h5py_module() -> Any:
    try:
        import h5py
    except ImportError as exc:  # pragma: no cover - h5py is a dependency
        raise ImportError("reading and writing Keras files needs h5py: pip install h5py") from exc
    return h5py


def has_signature(data: bytes) -> bool:
    """HDF5 files start with the signature at offset 0 (files with a user block are refused)."""
    return data[:8] == SIGNATURE


def open_h5(source: Any, what: str) -> Any:
    """An h5py File for reading from a path or bytes, after checking the signature."""
    h5py = h5py_module()
    if isinstance(source, (bytes, bytearray)):
        head = bytes(source[:8])
        handle: Any = io.BytesIO(source)
    else:
        with open(source, "rb") as fh:
            head = fh.read(8)
        handle = str(Path(source))
    if not has_signature(head):
        raise ModelFileError(f"{what} is not an HDF5 file (no HDF5 signature)")
    try:
        return h5py.File(handle, "r")
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise ModelFileError(f"{what} is not a readable HDF5 file: {exc}") from exc


def group(parent: Any, path: str, what: str) -> Any:
    """The group at ``path``, or a clear error when it is missing or is not a group."""
    h5py = h5py_module()
    try:
        obj = parent.get(path)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise ModelFileError(f"{what}: group {path!r} is unreadable: {exc}") from exc
    if obj is None:
        raise ModelFileError(f"{what}: group {path!r} is missing")
    if not isinstance(obj, h5py.Group):
        raise ModelFileError(f"{what}: {path!r} is not a group")
    return obj


def keys(grp: Any, what: str) -> list[str]:
    try:
        return list(grp.keys())
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise ModelFileError(f"{what}: the members of {grp.name!r} are unreadable: {exc}") from exc


def read(grp: Any, name: str, shape: tuple[int, ...], what: str,
         kinds: str = "f") -> np.ndarray:
    """Dataset ``name`` of ``grp``, checked to have ``shape`` and a dtype of kind ``kinds``
    ("f" float, "i"/"u" integer) before any data is read."""
    h5py = h5py_module()
    where = f"{what}: dataset {grp.name}/{name}"
    try:
        ds = grp.get(name)
        if ds is None:
            raise ModelFileError(f"{where} is missing (expected shape {shape})")
        if not isinstance(ds, h5py.Dataset):
            raise ModelFileError(f"{where} is not a dataset")
        dtype = ds.dtype
        declared = tuple(int(s) for s in ds.shape) if ds.shape is not None else None
    except ModelFileError:
        raise
    except (OSError, ValueError, KeyError, RuntimeError, TypeError) as exc:
        raise ModelFileError(f"{where} is unreadable: {exc}") from exc
    if dtype.kind not in kinds or dtype.fields is not None or dtype.subdtype is not None \
            or dtype.itemsize > 8 or h5py.check_dtype(vlen=dtype) is not None:
        raise ModelFileError(f"{where} has dtype {dtype}; expected a plain "
                             f"{'float' if kinds == 'f' else 'integer'} type")
    if declared != tuple(shape):
        raise ModelFileError(f"{where} has shape {declared}; the architecture expects "
                             f"{tuple(shape)}")
    out = np.empty(shape, dtype=dtype.newbyteorder("=") if dtype.byteorder not in "=|" else dtype)
    try:
        if out.size:
            ds.read_direct(out)
    except (OSError, ValueError, KeyError, RuntimeError, TypeError) as exc:
        raise ModelFileError(f"{where}: its data is unreadable: {exc}") from exc
    return out


def read_text_attr(obj: Any, name: str, what: str) -> str | None:
    """A string attribute (JSON in legacy files), bounded in size; None when absent."""
    try:
        if name not in obj.attrs:
            return None
        info = obj.attrs.get_id(name)
        if info.get_storage_size() > MAX_ATTR_BYTES:
            raise ModelFileError(f"{what}: attribute {name!r} is larger than "
                                 f"{MAX_ATTR_BYTES} bytes")
        value = obj.attrs[name]
    except ModelFileError:
        raise
    except (OSError, ValueError, KeyError, RuntimeError, TypeError) as exc:
        raise ModelFileError(f"{what}: attribute {name!r} is unreadable: {exc}") from exc
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="strict")
    if isinstance(value, str):
        return value
    raise ModelFileError(f"{what}: attribute {name!r} is not a string")


# what h5py raises on a damaged file, besides our own checks
H5_ERRORS = (OSError, RuntimeError, KeyError, ValueError, TypeError, IndexError,
             UnicodeDecodeError, OverflowError)


@contextlib.contextmanager
def translated(what: str) -> Iterator[None]:
    """Turn what libhdf5/h5py raises on a damaged file into a ``ModelFileError``."""
    try:
        yield
    except ModelFileError:
        raise
    except H5_ERRORS as exc:
        raise ModelFileError(f"{what} is damaged or not a Keras file: "
                             f"{type(exc).__name__}: {exc}") from exc
