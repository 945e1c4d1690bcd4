"""``reuters.load_data`` and ``reuters.get_word_index``, as ``keras.datasets.reuters`` (the
Keras ``reuters.npz``: 11,228 newswires in 46 topics, as word-index lists)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..utils.files import get_file
from ._common import (
    KERAS_DATASETS,
    index_conventions,
    load_npz_object_arrays,
    local_path,
    object_array,
)

_NPZ_SHA256 = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
_INDEX_MD5 = "4d44cc38712099c9e383dc6e5f11a921"


def _file(path: Any, name: str, digest: str) -> Path:
    local = local_path(path)
    if local is not None:
        return local / name if local.is_dir() else local
    return Path(get_file(name, KERAS_DATASETS + name, file_hash=digest, cache_subdir="reuters"))


def load_data(path: Any = "reuters.npz", num_words: int | None = None, skip_top: int = 0,
              maxlen: int | None = None, test_split: float = 0.2, seed: int = 113,
              start_char: int | None = 1, oov_char: int | None = 2, index_from: int = 3
              ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``(x_train, y_train), (x_test, y_test)`` as Keras's: shuffled with ``seed``, the index
    conventions applied, then the last ``test_split`` of the samples kept for testing."""
    if not 0.0 <= float(test_split) <= 1.0:
        raise ValueError(f"test_split must be in [0, 1], got {test_split!r}")
    arrays = load_npz_object_arrays(_file(path, "reuters.npz", _NPZ_SHA256), ("x", "y"),
                                    "Keras's reuters.npz")
    xs, labels = arrays["x"], arrays["y"]
    order = np.arange(len(xs))
    np.random.RandomState(seed).shuffle(order)
    seqs, labels = index_conventions(list(xs[order]), labels[order], num_words, skip_top,
                                     maxlen, start_char, oov_char, index_from)
    idx = int(len(seqs) * (1 - test_split))
    return ((object_array(seqs[:idx]), labels[:idx]),
            (object_array(seqs[idx:]), labels[idx:]))


def get_word_index(path: Any = "reuters_word_index.json") -> dict[str, int]:
    with open(_file(path, "reuters_word_index.json", _INDEX_MD5), encoding="utf-8") as f:
        return {str(k): int(v) for k, v in json.load(f).items()}
