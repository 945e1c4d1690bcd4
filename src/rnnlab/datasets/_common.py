"""Shared pieces of the Keras-style loaders: resolving ``path`` and Keras's word-index
conventions (``start_char``, ``oov_char``, ``index_from``, ``skip_top``, ``num_words``)."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..data.errors import DataFormatError

KERAS_DATASETS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def local_path(path: Any) -> Path | None:
    """``path`` when it names an existing file or folder; None for Keras's bare default file
    names (``"imdb.npz"``), which mean the cache."""
    if path is None:
        return None
    p = Path(path).expanduser()
    return p if p.exists() else None


def load_npz_object_arrays(path: Path, keys: tuple[str, ...], what: str) -> dict[str, Any]:
    """Arrays of a Keras .npz holding lists of word indices (object arrays, so they need
    ``allow_pickle``: only load files you trust); a bare pickle is never unpickled."""
    if not zipfile.is_zipfile(path):
        raise DataFormatError(f"{path} is not a NumPy .npz (zip) archive; expected {what}")
    with np.load(path, allow_pickle=True) as f:
        missing = [k for k in keys if k not in f.files]
        if missing:
            raise DataFormatError(f"{path} has arrays {sorted(f.files)}; expected {list(keys)} "
                                  f"({what})")
        return {k: f[k] for k in keys}


def index_conventions(xs: list[Any], labels: np.ndarray, num_words: int | None, skip_top: int,
                      maxlen: int | None, start_char: int | None, oov_char: int | None,
                      index_from: int) -> tuple[list[list[int]], np.ndarray]:
    """Keras's shift by ``index_from``, ``start_char`` prefix, ``maxlen`` filter (keeps
    sequences shorter than ``maxlen``) and the ``[skip_top, num_words)`` vocabulary window
    (other words become ``oov_char``, or are dropped when it is None)."""
    if start_char is not None:
        seqs = [[start_char] + [int(w) + index_from for w in x] for x in xs]
    else:
        seqs = [[int(w) + index_from for w in x] for x in xs]
    if maxlen:
        keep = [i for i, s in enumerate(seqs) if len(s) < maxlen]
        if not keep:
            raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no "
                             "sequence was kept. Increase maxlen.")
        seqs, labels = [seqs[i] for i in keep], np.asarray(labels)[keep]
    if not num_words:
        num_words = max((max(s) for s in seqs if s), default=0)
    if oov_char is not None:
        seqs = [[w if skip_top <= w < num_words else oov_char for w in s] for s in seqs]
    else:
        seqs = [[w for w in s if skip_top <= w < num_words] for s in seqs]
    return seqs, np.asarray(labels)


def object_array(seqs: list[list[int]]) -> np.ndarray:
    out = np.empty(len(seqs), dtype=object)
    for i, s in enumerate(seqs):
        out[i] = s
    return out
