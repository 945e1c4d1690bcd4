"""Bounded, streaming reads of zip-archive members (the reading side of rnnlab model files).

Nothing is inflated before its size is known to be acceptable: a member whose declared size is
over its limit is refused from the archive's directory, and every read stops at the limit
whatever the directory says. A ``.npy`` member's header (dtype, shape, order) is read first and
checked by the caller against what the architecture expects; only then is its data read, in
chunks, into an array of exactly the declared size. Errors are :class:`ZipMemberError`, naming the
member and what was expected; the caller turns them into its own error type.
"""

from __future__ import annotations

import math
import zipfile
from collections.abc import Callable
from typing import IO

import numpy as np

CHUNK = 1 << 20
NPY_HEADER_LIMIT = 10_000  # bytes of a .npy header (NumPy's own default limit)
# dtype kinds a model file may hold: booleans, integers, floats (no objects, strings, structs)
NUMERIC_KINDS = "biuf"

# called with (member, shape, dtype) before any data is read; raises ZipMemberError to refuse
ArrayCheck = Callable[[str, tuple[int, ...], np.dtype], None]


class ZipMemberError(ValueError):
    """A member is missing, too large, or does not hold what was expected."""


def _info(zf: zipfile.ZipFile, member: str) -> zipfile.ZipInfo:
    try:
        return zf.getinfo(member)
    except KeyError:
        raise ZipMemberError(f"member {member!r} is missing") from None


def read_member(zf: zipfile.ZipFile, member: str, limit: int) -> bytes:
    """The member's bytes, refused when they are (or are declared to be) over ``limit``."""
    info = _info(zf, member)
    if info.file_size > limit:
        raise ZipMemberError(f"member {member!r} declares {info.file_size} bytes; at most "
                             f"{limit} expected")
    parts, total = [], 0
    with zf.open(info) as fh:
        while True:
            part = fh.read(min(CHUNK, limit + 1 - total))
            if not part:
                break
            parts.append(part)
            total += len(part)
            if total > limit:
                raise ZipMemberError(f"member {member!r} inflates past {limit} bytes, the most "
                                     "expected")
    return b"".join(parts)


def read_npy(zf: zipfile.ZipFile, member: str, check: ArrayCheck) -> np.ndarray:
    """The array in ``.npy`` member ``member``: header read and passed to ``check`` first, data
    read after, in chunks, exactly the declared number of bytes (no pickles, no objects)."""
    info = _info(zf, member)
    with zf.open(info) as fh:
        shape, fortran, dtype, header_len = _npy_header(fh, member)
        if dtype.hasobject or dtype.kind not in NUMERIC_KINDS or dtype.fields is not None:
            raise ZipMemberError(f"member {member!r} is unreadable: it holds dtype {dtype} "
                                 "(pickled objects are never loaded); a plain numeric dtype "
                                 "(bool, int, uint, float) expected")
        if any(n < 0 for n in shape):
            raise ZipMemberError(f"member {member!r} declares shape {shape}; sizes must be >= 0")
        check(member, shape, dtype)
        nbytes = math.prod(shape) * dtype.itemsize
        if info.file_size != header_len + nbytes:
            raise ZipMemberError(
                f"member {member!r} declares {info.file_size} bytes in the archive, but its header "
                f"declares {dtype} {shape}: {header_len + nbytes} bytes expected")
        flat = bytearray(nbytes)
        view, filled = memoryview(flat), 0
        while filled < nbytes:
            part = fh.read(min(CHUNK, nbytes - filled))
            if not part:
                raise ZipMemberError(f"member {member!r} is truncated: {filled} of {nbytes} data "
                                     "bytes")
            view[filled:filled + len(part)] = part
            filled += len(part)
        if fh.read(1):  # also where the member's CRC is checked
            raise ZipMemberError(f"member {member!r} has data past its declared {dtype} {shape}")
    return np.frombuffer(flat, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def _npy_header(fh: IO[bytes], member: str) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(fh, max_header_size=NPY_HEADER_LIMIT)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(fh, max_header_size=NPY_HEADER_LIMIT)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except (ValueError, TypeError, SyntaxError, OverflowError, EOFError) as exc:
        raise ZipMemberError(f"member {member!r} has no readable .npy header: {exc}") from exc
    # the stream stands just past the header: its offset is the header's length
    return tuple(int(n) for n in shape), bool(fortran), np.dtype(dtype), int(fh.tell())
