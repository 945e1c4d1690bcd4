"""``imdb.load_data`` and ``imdb.get_word_index``, as ``keras.datasets.imdb`` (the Keras
``imdb.npz`` / ``imdb_word_index.json`` files; see ``rnnlab.datasets``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data.loaders import get_imdb_word_index, load_imdb
from ._common import local_path


def load_data(path: Any = "imdb.npz", num_words: int | None = None, skip_top: int = 0,
              maxlen: int | None = None, seed: int = 113, start_char: int | None = 1,
              oov_char: int | None = 2, index_from: int = 3, **kwargs: Any
              ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``(x_train, y_train), (x_test, y_test)``: object arrays of word-index lists and 0/1
    labels, exactly as Keras's (same shuffle with ``seed``, same index conventions)."""
    if kwargs:
        raise TypeError(f"unexpected argument(s) {sorted(kwargs)}")
    return load_imdb(local_path(path), num_words=num_words, skip_top=skip_top, maxlen=maxlen,
                     seed=seed, start_char=start_char, oov_char=oov_char,
                     index_from=index_from, download=local_path(path) is None)


def get_word_index(path: Any = "imdb_word_index.json") -> dict[str, int]:
    """Word -> index (add ``index_from`` to match ``load_data``'s sequences)."""
    return get_imdb_word_index(local_path(path), download=local_path(path) is None)
