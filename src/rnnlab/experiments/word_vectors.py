"""Pretrained word vectors in the GloVe / word2vec text format.

One word per line followed by its ``D`` numbers, separated by spaces (GloVe's ``glove.6B.100d.txt``
and the like); word2vec's text format is the same with a first line ``COUNT D``, which is
recognised and skipped. Every line must hold the same number of values; a bad line is an error
naming its line number.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def read_word_vectors(path: str | Path, limit: int = 0) -> tuple[list[str], np.ndarray]:
    """(words, vectors ``(n, D)`` float32) in file order; ``limit`` > 0 reads only the first
    ``limit`` words. The first occurrence of a repeated word wins."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"word-vector file {path} does not exist (expected GloVe or "
                                "word2vec text: one word and its numbers per line)")
    words: list[str] = []
    rows: list[np.ndarray] = []
    seen: set[str] = set()
    dim = 0
    with open(path, encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, 1):
            parts = line.rstrip("\n").rstrip().split(" ")
            if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                continue  # word2vec header: COUNT D
            if not parts or parts == [""]:
                continue
            try:
                values = np.asarray(parts[1:], dtype=np.float32)
            except ValueError:
                raise ValueError(f"{path}:{number}: expected a word and {dim or 'D'} numbers, "
                                 f"found {line[:60]!r}") from None
            if dim == 0:
                dim = len(values)
                if dim == 0:
                    raise ValueError(f"{path}:{number}: a word without numbers")
            if len(values) != dim:
                raise ValueError(f"{path}:{number}: expected {dim} numbers after the word, "
                                 f"found {len(values)}")
            if parts[0] in seen:
                continue
            seen.add(parts[0])
            words.append(parts[0])
            rows.append(values)
            if limit and len(words) >= limit:
                break
    if not words:
        raise ValueError(f"{path} holds no word vectors")
    return words, np.stack(rows)


def embedding_matrix(path: str | Path, vocab: list[str], seed: int = 0,
                     lowercase: bool = True) -> tuple[np.ndarray, int]:
    """An ``Embedding`` matrix ``(len(vocab), D)`` for ``vocab``: each word's pretrained vector
    (looked up lower-cased when ``lowercase`` and the exact form is absent), and for words the
    file lacks a draw from ``U(-0.05, 0.05)`` (Keras's ``uniform`` embedding init); row 0 (the
    padding) is zero. Returns (matrix, number of vocabulary words found)."""
    words, vectors = read_word_vectors(path)
    index = {w: i for i, w in enumerate(words)}
    rng = np.random.default_rng(seed)
    matrix = rng.uniform(-0.05, 0.05, (len(vocab), vectors.shape[1])).astype(np.float32)
    found = 0
    for row, word in enumerate(vocab):
        i = index.get(word, index.get(word.lower()) if lowercase else None)
        if i is not None:
            matrix[row] = vectors[i]
            found += 1
    matrix[0] = 0.0
    return matrix, found
