"""``get_file``: a file from a URL, cached and verified, as ``keras.utils.get_file``.

The file is kept at ``<cache_dir>/<cache_subdir>/<fname>`` (``cache_dir`` defaults to rnnlab's
cache, ``$RNNLAB_CACHE`` or ``~/.cache/rnnlab``); a cached file that matches ``file_hash`` is
used without network access, and a download is written atomically and verified. Offline (or
with ``RNNLAB_OFFLINE=1``) a missing file raises an error that names the URL and the exact path
to put the file at. ``file_hash`` is a SHA-256 (64 hex digits) or MD5 digest, as in Keras
(``hash_algorithm="auto"``). ``extract=True`` unpacks a .zip or .tar(.gz) archive next to it
and returns the folder.
"""

from __future__ import annotations

import os
import tarfile
import zipfile
from pathlib import Path
from typing import Any

from ..data.download import cache_dir as default_cache_dir
from ..data.download import download


def get_file(fname: str | None = None, origin: str | None = None, untar: bool = False,
             md5_hash: str | None = None, file_hash: str | None = None,
             cache_subdir: str = "datasets", hash_algorithm: str = "auto",
             extract: bool = False, archive_format: str = "auto",
             cache_dir: str | os.PathLike[str] | None = None,
             force_download: bool = False) -> str:
    """The local path of ``origin``'s file (downloaded once); see the module doc."""
    if origin is None:
        raise ValueError("get_file needs the origin URL of the file")
    if fname is None:
        fname = os.path.basename(origin.split("?")[0])
        if not fname:
            raise ValueError(f"cannot take a file name from the URL {origin!r}; pass fname")
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    dest = root / cache_subdir / fname
    digest = file_hash or md5_hash
    sha256 = md5 = None
    if digest is not None:
        algo = hash_algorithm
        if algo == "auto":
            algo = "sha256" if len(digest) == 64 else "md5"
        if algo not in ("sha256", "md5"):
            raise ValueError(f"hash_algorithm must be 'auto', 'sha256' or 'md5', got {algo!r}")
        sha256, md5 = (digest, None) if algo == "sha256" else (None, digest)
    path = download(origin, dest, sha256=sha256, md5=md5, force=force_download)
    if extract or untar:
        return str(_extract(path, archive_format))
    return str(path)


def _extract(path: Path, archive_format: Any) -> Path:
    target = path.with_name(path.name.split(".")[0])
    if zipfile.is_zipfile(path) and archive_format in ("auto", "zip"):
        with zipfile.ZipFile(path) as z:
            _check_members(z.namelist(), target)
            z.extractall(target)
        return target
    if tarfile.is_tarfile(path) and archive_format in ("auto", "tar"):
        with tarfile.open(path) as t:
            _check_members(t.getnames(), target)
            t.extractall(target, filter="data")
        return target
    raise ValueError(f"{path} is not a zip or tar archive (archive_format={archive_format!r})")


def _check_members(names: list[str], target: Path) -> None:
    root = target.resolve()
    for name in names:
        if not (root / name).resolve().is_relative_to(root):
            raise ValueError(f"archive member {name!r} would be written outside {target}")
