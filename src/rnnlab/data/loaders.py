"""Loaders for the classic RNN data sets, from local files (or a download-once cache).

Every loader takes ``path``: a file, or a folder holding the expected file name(s). With
``path=None`` the cache folder (``$RNNLAB_CACHE`` or ``~/.cache/rnnlab``, one sub-folder per
data set) is used, and ``download=True`` fetches missing files there once, checking their
checksum (see :mod:`rnnlab.data.download`). Missing or malformed files raise errors that say
what was expected: :class:`DatasetNotFoundError` (a ``FileNotFoundError``) and
:class:`DataFormatError` (a ``ValueError``).

- :func:`load_ptb`: Penn Treebank, word level (Mikolov's ``ptb.{train,valid,test}.txt``), one
  ``<eos>`` per line, vocabulary built on train (10,000 words), as in Zaremba's reader.
- :func:`load_ptb_chars`: the character-level PTB files (``ptb.char.*.txt[.gz]``).
- :func:`load_text`, :func:`load_char_corpus`, :func:`load_tiny_shakespeare`: plain text, char
  level.
- :func:`load_review_polarity`: Pang & Lee polarity v2.0, read straight from the ``.tar.gz``.
- :func:`load_imdb`, :func:`get_imdb_word_index`: the Keras ``imdb.npz`` format.
- :func:`read_idx`, :func:`load_mnist`: MNIST IDX files (gzip or raw).
- :func:`read_text_label_csv`, :func:`load_tiny_sentiment`: ``text,label`` CSV files.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import os
import re
import tarfile
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab.data.download import RESOURCES, cache_dir, fetch
from rnnlab.data.errors import DataFormatError, DatasetNotFoundError, UnknownColumnError
from rnnlab.data.text import build_char_vocab, word_tokenize
from rnnlab.data.vocab import EOS, UNK, Vocabulary, build_vocab

__all__ = [
    "CharCorpus",
    "PTBData",
    "ReviewPolarity",
    "get_imdb_word_index",
    "load_char_corpus",
    "load_imdb",
    "load_mnist",
    "load_ptb",
    "load_ptb_chars",
    "load_review_polarity",
    "load_text",
    "load_tiny_sentiment",
    "load_tiny_shakespeare",
    "read_idx",
    "read_text_label_csv",
]

PathLike = str | os.PathLike[str]


# --------------------------------------------------------------------------------------------
# locating files
# --------------------------------------------------------------------------------------------
def _locate(
    path: PathLike | None,
    filenames: tuple[str, ...],
    dataset: str,
    what: str,
    download: bool = False,
) -> Path:
    """A file: ``path`` itself, ``path/<one of filenames>``, or the cache (downloading once)."""
    if path is not None:
        p = Path(path).expanduser()
        if p.is_file():
            return p
        if p.is_dir():
            for name in filenames:
                if (p / name).is_file():
                    return p / name
            raise DatasetNotFoundError(
                f"{' or '.join(filenames)} not found in {p} (expected {what})"
            )
        raise DatasetNotFoundError(f"{p} does not exist (expected {what}, or a folder holding it)")
    folder = cache_dir(dataset)
    for name in filenames:
        if (folder / name).is_file():
            return folder / name
    known = RESOURCES.get(dataset, {})
    source = next((n for n in filenames if n in known), None)
    if source is None:
        raise DatasetNotFoundError(
            f"no path given for {what} and it cannot be downloaded; pass path= to the loader "
            f"(the file {filenames[0]} or its folder)"
        )
    if download:
        return fetch(dataset, source)
    res = known[source]
    raise DatasetNotFoundError(
        f"{source} not found (no path given, not in the cache {folder}). Pass path= to a local "
        f"copy, call the loader with download=True, or download {source} from {res.urls[0]} and "
        f"put it at {folder / source}"
    )


def _read_text_file(p: Path, encoding: str = "utf-8") -> str:
    try:
        if p.suffix == ".gz":
            with gzip.open(p, "rb") as f:
                raw = f.read()
        else:
            raw = p.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise DataFormatError(
            f"cannot read {p}: {exc} (expected a plain or gzip text file)"
        ) from exc
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DataFormatError(
            f"{p} is not {encoding} text (byte {exc.start}: {exc.reason}); "
            "expected a plain text file"
        ) from exc


# --------------------------------------------------------------------------------------------
# Penn Treebank
# --------------------------------------------------------------------------------------------
@dataclass
class PTBData:
    """PTB ids per split and the vocabulary built on train.

    ``train`` / ``valid`` / ``test`` are 1-D int64 id arrays. Accessing a split whose file was
    not found raises :class:`DatasetNotFoundError` naming it; ``available`` lists the splits.
    """

    vocab: Vocabulary
    splits: dict[str, np.ndarray]
    files: dict[str, Path]
    folder: Path | None = None
    missing: dict[str, str] = field(default_factory=dict)

    def split(self, name: str) -> np.ndarray:
        if name in self.splits:
            return self.splits[name]
        if name in self.missing:
            raise DatasetNotFoundError(self.missing[name])
        raise KeyError(f"unknown split {name!r}; expected one of train, valid, test")

    @property
    def train(self) -> np.ndarray:
        return self.split("train")

    @property
    def valid(self) -> np.ndarray:
        return self.split("valid")

    @property
    def test(self) -> np.ndarray:
        return self.split("test")

    @property
    def available(self) -> tuple[str, ...]:
        return tuple(s for s in ("train", "valid", "test") if s in self.splits)

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)


def _ptb_folder(
    path: PathLike | None, dataset: str, names: Mapping[str, tuple[str, ...]], download: bool
) -> Path:
    if path is not None:
        p = Path(path).expanduser()
        if p.is_file():
            raise DataFormatError(
                f"{p} is a file; pass the folder holding {names['train'][0]} etc."
            )
        if not p.is_dir():
            raise DatasetNotFoundError(f"{p} does not exist (expected the PTB folder)")
        return p
    folder = cache_dir(dataset)
    if download:
        for split in ("train", "valid"):
            fname = names[split][0]
            if fname in RESOURCES.get(dataset, {}):
                fetch(dataset, fname)
    return folder


def load_ptb(
    path: PathLike | None = None,
    vocab_size: int | None = 10000,
    download: bool = False,
) -> PTBData:
    """Word-level Penn Treebank as in Zaremba et al.'s reader.

    Reads ``ptb.train.txt`` (required), ``ptb.valid.txt`` and ``ptb.test.txt`` from the folder
    ``path``. Each line becomes its words plus ``<eos>``; the vocabulary is built on train by
    descending count, ties in lexicographic order (so ``the`` = 0, ``<unk>`` = 1, ``<eos>`` =
    2), capped at ``vocab_size``; words of other splits not in it map to ``<unk>``.
    ``download=True`` (with ``path=None``) fetches train and valid into the cache; the test file
    is never downloaded (put it beside the others yourself).
    """
    names = {s: (f"ptb.{s}.txt",) for s in ("train", "valid", "test")}
    folder = _ptb_folder(path, "ptb", names, download)
    files: dict[str, Path] = {}
    missing: dict[str, str] = {}
    for split, (fname,) in names.items():
        f = folder / fname
        if f.is_file():
            files[split] = f
        else:
            missing[split] = f"PTB {split} split not available: {fname} not found in {folder}" + (
                " (the shared data folder holds the test split out)" if split == "test" else ""
            )
    if "train" not in files:
        url = RESOURCES["ptb"]["ptb.train.txt"].urls[0]
        hint = (
            ""
            if path is not None
            else f". Pass path= to a local copy, call load_ptb(download=True), or download "
            f"ptb.train.txt and ptb.valid.txt from {url.rsplit('/', 1)[0]}/ into {folder}"
        )
        raise DatasetNotFoundError(
            f"{names['train'][0]} not found in {folder}: expected the PTB word-level files "
            f"ptb.train.txt, ptb.valid.txt[, ptb.test.txt]{hint}"
        )
    tokens = {s: word_tokenize(_read_text_file(f), eos=EOS) for s, f in files.items()}
    if not tokens["train"]:
        raise DataFormatError(
            f"{files['train']} is empty; expected PTB text, one sentence per line"
        )
    vocab = build_vocab(tokens["train"], max_size=vocab_size, unk_token=UNK, eos_token=EOS)
    splits = {s: vocab.encode(t) for s, t in tokens.items()}
    return PTBData(vocab=vocab, splits=splits, files=files, folder=folder, missing=missing)


def load_ptb_chars(
    path: PathLike | None = None,
    eol: str = "\n",
) -> PTBData:
    """Character-level PTB (``ptb.char.{train,valid,test}.txt``, or ``.txt.gz``).

    Symbols are separated by spaces (``_`` marks word boundaries); each line ends with the
    symbol ``eol``. The vocabulary is the sorted distinct symbols of train (50 with ``"\\n"``).
    """
    names = {s: (f"ptb.char.{s}.txt", f"ptb.char.{s}.txt.gz") for s in ("train", "valid", "test")}
    folder = _ptb_folder(path, "ptb", names, download=False)
    files: dict[str, Path] = {}
    missing: dict[str, str] = {}
    for split, fnames in names.items():
        found = [folder / n for n in fnames if (folder / n).is_file()]
        if found:
            files[split] = found[0]
        else:
            missing[split] = (
                f"PTB char {split} split not available: {' or '.join(fnames)} not in {folder}"
            )
    if "train" not in files:
        raise DatasetNotFoundError(
            f"ptb.char.train.txt[.gz] not found in {folder}: expected the PTB character-level files"
        )
    symbols = {s: word_tokenize(_read_text_file(f), eos=eol) for s, f in files.items()}
    vocab = build_vocab(symbols["train"], unk_token=None, sort_by="token")
    splits = {s: vocab.encode(t) for s, t in symbols.items()}
    return PTBData(vocab=vocab, splits=splits, files=files, folder=folder, missing=missing)


# --------------------------------------------------------------------------------------------
# plain text (Tiny Shakespeare)
# --------------------------------------------------------------------------------------------
@dataclass
class CharCorpus:
    """A text, its sorted-character vocabulary and the id stream."""

    text: str
    vocab: Vocabulary
    ids: np.ndarray

    def split(self, train_fraction: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """The first ``train_fraction`` of the ids for training, the rest for validation."""
        if not 0.0 < train_fraction < 1.0:
            raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}")
        n = int(len(self.ids) * train_fraction)
        return self.ids[:n], self.ids[n:]


def load_text(path: PathLike, encoding: str = "utf-8") -> str:
    """The content of a text file (``.gz`` is decompressed)."""
    p = _locate(path, ("input.txt",), "text", "a plain text file")
    return _read_text_file(p, encoding)


def load_char_corpus(path: PathLike, encoding: str = "utf-8") -> CharCorpus:
    """A text file at character level: text, vocabulary (sorted characters) and ids."""
    text = load_text(path, encoding)
    if not text:
        raise DataFormatError(f"{path} is empty; expected text")
    vocab = build_char_vocab(text)
    return CharCorpus(text=text, vocab=vocab, ids=vocab.encode_text(text))


def load_tiny_shakespeare(path: PathLike | None = None, download: bool = False) -> CharCorpus:
    """Karpathy's Tiny Shakespeare (``input.txt``): 1,115,394 characters, 65 distinct."""
    p = _locate(path, ("input.txt",), "tinyshakespeare", "Tiny Shakespeare input.txt", download)
    return load_char_corpus(p)


# --------------------------------------------------------------------------------------------
# movie review polarity (Pang & Lee)
# --------------------------------------------------------------------------------------------
@dataclass
class ReviewPolarity:
    """Reviews in sorted member-path order: all ``neg`` (label 0) then all ``pos`` (label 1).

    ``folds`` is the cross-validation fold from the ``cv###`` file prefix (``cv000``-``cv099``
    is fold 0, ..., ``cv900``-``cv999`` fold 9; -1 without the prefix).
    """

    texts: list[str]
    labels: np.ndarray
    folds: np.ndarray
    names: list[str]


_POLARITY_WHAT = (
    "the movie review polarity archive review_polarity.tar.gz (polarity v2.0) with "
    "txt_sentoken/pos/*.txt and txt_sentoken/neg/*.txt"
)


def _decode_review(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def load_review_polarity(path: PathLike | None = None, download: bool = False) -> ReviewPolarity:
    """Pang & Lee movie review polarity v2.0: 1,000 positive and 1,000 negative reviews.

    ``path`` is ``review_polarity.tar.gz`` (read directly, not unpacked), a folder holding it,
    or an unpacked folder with ``pos/`` and ``neg/`` sub-folders (at any depth, e.g.
    ``txt_sentoken/pos``). Texts are lower-cased, tokenised, one sentence per line.
    """
    items: list[tuple[str, bytes]] = []
    p = Path(path).expanduser() if path is not None else None
    if p is not None and p.is_dir() and not (p / "review_polarity.tar.gz").is_file():
        for f in sorted(p.rglob("*.txt")):
            if f.parent.name in ("pos", "neg"):
                items.append((f.relative_to(p).as_posix(), f.read_bytes()))
        source = p
    else:
        source = _locate(
            path, ("review_polarity.tar.gz",), "movie_review_polarity", _POLARITY_WHAT, download
        )
        try:
            with tarfile.open(source, "r:*") as tar:
                for m in tar:
                    parts = m.name.split("/")
                    if (
                        m.isfile()
                        and len(parts) >= 2
                        and parts[-2] in ("pos", "neg")
                        and m.name.endswith(".txt")
                    ):
                        fh = tar.extractfile(m)
                        if fh is not None:
                            items.append((m.name, fh.read()))
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise DataFormatError(
                f"{source} is not a readable tar archive ({' '.join(str(exc).split())}); "
                f"expected {_POLARITY_WHAT}"
            ) from exc
    items.sort(key=lambda it: it[0])
    n_pos = sum(1 for n, _ in items if n.split("/")[-2] == "pos")
    n_neg = len(items) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise DataFormatError(
            f"{source} has {n_pos} positive and {n_neg} negative reviews; expected {_POLARITY_WHAT}"
        )
    names = [n for n, _ in items]
    labels = np.array([1 if n.split("/")[-2] == "pos" else 0 for n in names], dtype=np.int64)
    folds = []
    for n in names:
        fold = re.match(r"cv(\d{3})", n.split("/")[-1])
        folds.append(int(fold.group(1)) // 100 if fold else -1)
    texts = [_decode_review(raw) for _, raw in items]
    return ReviewPolarity(
        texts=texts, labels=labels, folds=np.array(folds, dtype=np.int64), names=names
    )


# --------------------------------------------------------------------------------------------
# IMDB (Keras format)
# --------------------------------------------------------------------------------------------
def _remove_long_seq(
    maxlen: int, seq: list[list[int]], label: np.ndarray
) -> tuple[list[list[int]], list[Any]]:
    new_seq, new_label = [], []
    for x, y in zip(seq, label, strict=True):
        if len(x) < maxlen:
            new_seq.append(x)
            new_label.append(y)
    return new_seq, new_label


def _object_array(seqs: list[list[int]]) -> np.ndarray:
    out = np.empty(len(seqs), dtype=object)
    for i, s in enumerate(seqs):
        out[i] = s
    return out


def load_imdb(
    path: PathLike | None = None,
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    seed: int = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
    download: bool = False,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """IMDB reviews from the Keras ``imdb.npz``, with ``keras.datasets.imdb.load_data`` semantics.

    Returns ``(x_train, y_train), (x_test, y_test)``; ``x`` are object arrays of lists of word
    indices (shuffled with ``seed``, shifted by ``index_from``, prefixed by ``start_char``,
    words outside ``[skip_top, num_words)`` replaced by ``oov_char`` or dropped when it is
    None; ``maxlen`` keeps sequences shorter than ``maxlen``, exactly as Keras).
    Note: the file holds object arrays, so it is loaded with ``allow_pickle=True``; only load
    files you trust.
    """
    p = _locate(path, ("imdb.npz",), "imdb", "the Keras IMDB file imdb.npz", download)
    if not zipfile.is_zipfile(p):  # never let np.load fall back to unpickling a bare file
        raise DataFormatError(f"{p} is not a NumPy .npz (zip) archive; expected imdb.npz")
    try:
        with np.load(p, allow_pickle=True) as f:
            keys = set(f.files)
            need = {"x_train", "y_train", "x_test", "y_test"}
            if not need <= keys:
                raise DataFormatError(
                    f"{p} has arrays {sorted(keys)}; expected x_train, y_train, x_test, y_test "
                    "(the Keras imdb.npz format)"
                )
            x_train, labels_train = f["x_train"], f["y_train"]
            x_test, labels_test = f["x_test"], f["y_test"]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        if isinstance(exc, DataFormatError):
            raise
        raise DataFormatError(
            f"cannot read {p} as a NumPy .npz archive ({exc}); expected imdb.npz"
        ) from exc
    if len(x_train) != len(labels_train) or len(x_test) != len(labels_test):
        raise DataFormatError(
            f"{p}: x and y lengths differ: {len(x_train)}/{len(labels_train)} (train), "
            f"{len(x_test)}/{len(labels_test)} (test)"
        )

    rng = np.random.RandomState(seed)
    indices = np.arange(len(x_train))
    rng.shuffle(indices)
    x_train, labels_train = x_train[indices], labels_train[indices]
    indices = np.arange(len(x_test))
    rng.shuffle(indices)
    x_test, labels_test = x_test[indices], labels_test[indices]

    def shift(xs: Any) -> list[list[int]]:
        if start_char is not None:
            return [[start_char] + [int(w) + index_from for w in x] for x in xs]
        if index_from:
            return [[int(w) + index_from for w in x] for x in xs]
        return [[int(w) for w in x] for x in xs]

    xtr, xte = shift(x_train), shift(x_test)
    ltr: Any = labels_train
    lte: Any = labels_test
    if maxlen:
        xtr, ltr = _remove_long_seq(maxlen, xtr, labels_train)
        xte, lte = _remove_long_seq(maxlen, xte, labels_test)
        if not xtr or not xte:
            raise ValueError(
                f"After filtering for sequences shorter than maxlen={maxlen}, no sequence was "
                "kept. Increase maxlen."
            )
    xs = xtr + xte
    labels = np.concatenate([np.asarray(ltr), np.asarray(lte)])
    if not num_words:
        num_words = max(max(x) for x in xs if x) if any(xs) else 0
    if oov_char is not None:
        xs = [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    else:
        xs = [[w for w in x if skip_top <= w < num_words] for x in xs]
    idx = len(xtr)
    return (_object_array(xs[:idx]), labels[:idx]), (_object_array(xs[idx:]), labels[idx:])


def get_imdb_word_index(path: PathLike | None = None, download: bool = False) -> dict[str, int]:
    """The Keras ``imdb_word_index.json``: word -> index (add ``index_from`` for ``load_imdb``)."""
    p = _locate(
        path,
        ("imdb_word_index.json",),
        "imdb",
        "the Keras IMDB word index imdb_word_index.json",
        download,
    )
    try:
        data = json.loads(_read_text_file(p))
    except json.JSONDecodeError as exc:
        raise DataFormatError(
            f"{p} is not valid JSON ({exc}); expected a {{word: index}} object"
        ) from exc
    if not isinstance(data, dict):
        raise DataFormatError(
            f"{p} holds a {type(data).__name__}; expected a {{word: index}} object"
        )
    return {str(k): int(v) for k, v in data.items()}


# --------------------------------------------------------------------------------------------
# MNIST (IDX)
# --------------------------------------------------------------------------------------------
_IDX_TYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: PathLike, expected_magic: int | None = None) -> np.ndarray:
    """Read an IDX file (LeCun's format; gzip-compressed or raw).

    The header (big-endian) is a magic number ``0x0000TTDD`` (``TT`` the element type,
    ``DD`` the number of dimensions), then one uint32 size per dimension, then the data. The
    magic number (``expected_magic``, e.g. 2051 for images, 2049 for labels) and the data size
    are checked.
    """
    p = Path(path)
    if not p.is_file():
        raise DatasetNotFoundError(f"IDX file not found: {p}")
    with open(p, "rb") as plain:
        gzipped = plain.read(2) == b"\x1f\x8b"
    # read as a stream: the header first, then exactly the data it declares (a compressed file
    # is never inflated past what its header promises)
    try:
        with (gzip.open(p, "rb") if gzipped else open(p, "rb")) as f:
            return _read_idx_stream(p, f, expected_magic)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataFormatError(f"{p}: corrupt or truncated gzip data ({exc})") from exc


def _read_idx_stream(p: Path, f: Any, expected_magic: int | None) -> np.ndarray:
    raw = f.read(4)
    if len(raw) < 4:
        raise DataFormatError(
            f"{p}: {len(raw)} bytes is too short for an IDX header (magic number)"
        )
    magic = int.from_bytes(raw[:4], "big")
    if raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise DataFormatError(
            f"{p}: bad IDX magic number {magic} (0x{magic:08x}); expected 0x0000TTDD"
        )
    if expected_magic is not None and magic != expected_magic:
        raise DataFormatError(f"{p}: IDX magic number is {magic}, expected {expected_magic}")
    ndim = raw[3]
    header = 4 + 4 * ndim
    raw += f.read(4 * ndim)
    if len(raw) < header:
        raise DataFormatError(f"{p}: truncated IDX header ({len(raw)} bytes, need {header})")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dt = np.dtype(_IDX_TYPES[raw[2]])
    expected = math.prod(dims) * dt.itemsize  # Python integers: no overflow
    data = bytearray()
    while len(data) < expected:
        chunk = f.read(min(1 << 22, expected - len(data)))
        if not chunk:
            break
        data += chunk
    got = len(data) + len(f.read(1))
    if got != expected:
        raise DataFormatError(
            f"{p}: IDX data has {'at least ' if got > expected else ''}{got} bytes but the header "
            f"{dims} needs {expected} ({'truncated' if got < expected else 'trailing bytes'})"
        )
    raw, header = data, 0
    try:
        arr = np.frombuffer(raw, dtype=dt, offset=header).reshape(dims)
    except ValueError as exc:  # an empty array whose other sizes no array can have
        raise DataFormatError(f"{p}: IDX header sizes {dims} are not an array's ({exc})") from exc
    return arr.astype(dt.newbyteorder("="))


def load_mnist(
    path: PathLike | None = None, split: str = "test", download: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST images ``(N, 28, 28)`` uint8 and labels ``(N,)`` uint8 (0-9) from IDX files.

    ``split`` is ``"test"`` (``t10k-*``) or ``"train"`` (``train-*``); ``path`` is the folder
    holding ``{prefix}-images-idx3-ubyte[.gz]`` and ``{prefix}-labels-idx1-ubyte[.gz]``.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    prefix = "t10k" if split == "test" else "train"
    out = []
    for kind, idx in (("images", "idx3"), ("labels", "idx1")):
        base = f"{prefix}-{kind}-{idx}-ubyte"
        if path is not None and Path(path).expanduser().is_file():
            raise DataFormatError(
                f"pass the folder holding {base}.gz and its companion file, not a file"
            )
        out.append(
            _locate(
                path,
                (base + ".gz", base),
                "mnist",
                f"the MNIST {split} {kind} file {base}.gz",
                download,
            )
        )
    images = read_idx(out[0], expected_magic=2051)
    labels = read_idx(out[1], expected_magic=2049)
    if images.ndim != 3:
        raise DataFormatError(
            f"{out[0]}: images have shape {images.shape}; expected (N, rows, cols)"
        )
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataFormatError(
            f"{len(images)} images in {out[0].name} but labels of shape {labels.shape} "
            f"in {out[1].name}"
        )
    if labels.size and labels.max() > 9:
        raise DataFormatError(f"{out[1]}: labels must be 0-9, found {int(labels.max())}")
    return images, labels


# --------------------------------------------------------------------------------------------
# text,label CSV (tiny sentiment)
# --------------------------------------------------------------------------------------------
_TRUE = {"1", "true", "yes", "pos", "positive"}
_FALSE = {"0", "false", "no", "neg", "negative"}


def read_text_label_csv(
    path: PathLike, text_column: str = "text", label_column: str = "label"
) -> tuple[list[str], np.ndarray]:
    """Texts and integer labels from a CSV with a header (default columns ``text,label``).

    Labels may be integers or ``true``/``false`` (-> 1/0). Missing fields raise
    :class:`DataFormatError` with line numbers.
    """
    p = Path(path)
    if not p.is_file():
        raise DatasetNotFoundError(
            f"CSV file not found: {p} (expected a {text_column},{label_column} file)"
        )
    line = 1
    try:
        with open(p, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if not header:
                raise DataFormatError(
                    f"{p} is empty; expected a header row {text_column},{label_column}"
                )
            header = [h.strip() for h in header]
            cols = []
            for c in (text_column, label_column):
                if c not in header:
                    raise UnknownColumnError(
                        f"column {c!r} not found in {p}; available columns: "
                        + ", ".join(map(repr, header))
                    )
                cols.append(header.index(c))
            texts: list[str] = []
            labels: list[int] = []
            bad: list[str] = []
            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                line = reader.line_num
                if len(row) != len(header):
                    bad.append(f"line {line}: {len(row)} fields, expected {len(header)}")
                    continue
                text, lab = row[cols[0]].strip(), row[cols[1]].strip().lower()
                if not text:
                    bad.append(f"line {line}: empty text")
                    continue
                if lab in _TRUE:
                    labels.append(1)
                elif lab in _FALSE:
                    labels.append(0)
                elif re.fullmatch(r"[+-]?\d+", lab):
                    labels.append(int(lab))
                else:
                    bad.append(f"line {line}: label {row[cols[1]]!r} is not an integer or "
                               "true/false")
                    continue
                texts.append(text)
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"{p} is not UTF-8 text (byte {exc.start}: {exc.reason}); "
                              "expected a UTF-8 CSV file") from exc
    except csv.Error as exc:
        raise DataFormatError(f"{p}: line {line}: not readable as CSV ({exc})") from exc
    if bad:
        raise DataFormatError(f"{p}: {len(bad)} malformed row(s): " + "; ".join(bad[:5]))
    if not texts:
        raise DataFormatError(f"{p} has a header but no data rows")
    return texts, np.array(labels, dtype=np.int64)


def load_tiny_sentiment(
    path: PathLike,
) -> tuple[tuple[list[str], np.ndarray], tuple[list[str], np.ndarray]]:
    """Victor Zhou's tiny sentiment phrases: ``(train_x, train_y), (test_x, test_y)``.

    ``path`` is the folder holding ``train.csv`` and ``test.csv`` (``text,label``; 58 / 20 rows).
    """
    p = Path(path).expanduser()
    if not p.is_dir():
        raise DatasetNotFoundError(
            f"{p} is not a folder; expected the folder holding train.csv and test.csv"
        )
    out = []
    for name in ("train.csv", "test.csv"):
        if not (p / name).is_file():
            raise DatasetNotFoundError(
                f"{name} not found in {p}; expected train.csv and test.csv (text,label)"
            )
        out.append(read_text_label_csv(p / name))
    return out[0], out[1]
