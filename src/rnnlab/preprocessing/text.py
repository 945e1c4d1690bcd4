"""A Keras-like text ``Tokenizer`` (``keras.preprocessing.text.Tokenizer``).

Behaviour follows Keras:

- Words are produced by :func:`text_to_word_sequence`: lower-case (``lower=True``), replace every
  character in ``filters`` by ``split``, split on ``split`` and drop empty strings. With
  ``char_level=True`` each character is a token and, as in Keras, ``filters`` is **not** applied
  (only lower-casing).
- ``fit_on_texts`` counts tokens; ``word_index`` numbers them from 1 (0 is reserved for padding)
  by descending count, ties broken by first appearance. The ``oov_token``, when given, always
  gets index 1. ``word_index`` holds every word seen; ``num_words`` only limits
  ``texts_to_sequences`` / ``texts_to_matrix`` to indices ``< num_words``.
- ``texts_to_sequences``: unknown words (and words with index ``>= num_words``) become the
  ``oov_token`` index, or are dropped when there is no ``oov_token``.

One deliberate difference: when the ``oov_token`` also occurs in the texts, Keras lists it twice
and its index silently moves; here it keeps index 1 and its count is still recorded.
"""

from __future__ import annotations

import json
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

__all__ = ["DEFAULT_FILTERS", "Tokenizer", "text_to_word_sequence", "tokenizer_from_json"]

DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


def text_to_word_sequence(
    text: str, filters: str = DEFAULT_FILTERS, lower: bool = True, split: str = " "
) -> list[str]:
    """Split a text into words as Keras does (lower-case, strip ``filters``, split on ``split``)."""
    if lower:
        text = text.lower()
    if filters:
        table: dict[str, str | int | None] = {c: split for c in filters}
        text = text.translate(str.maketrans(table))
    return [w for w in text.split(split) if w]


class Tokenizer:
    """Vectorise texts into integer sequences (Keras ``Tokenizer``).

    Args:
        num_words: keep only words with index ``< num_words`` when converting texts (the most
            frequent ``num_words - 1`` words; index 0 is reserved). ``None`` keeps all.
        filters: characters removed from texts (replaced by ``split``) in word mode.
        lower: lower-case texts first.
        split: word separator.
        char_level: every character is a token.
        oov_token: token for out-of-vocabulary words; gets index 1. ``None`` drops unknown words.
    """

    def __init__(
        self,
        num_words: int | None = None,
        filters: str = DEFAULT_FILTERS,
        lower: bool = True,
        split: str = " ",
        char_level: bool = False,
        oov_token: str | None = None,
        document_count: int = 0,
    ) -> None:
        if num_words is not None and (
            not isinstance(num_words, (int, np.integer)) or num_words < 0
        ):
            raise ValueError(f"num_words must be None or a non-negative integer, got {num_words!r}")
        self.num_words = None if num_words is None else int(num_words)
        self.filters = filters
        self.lower = lower
        self.split = split
        self.char_level = char_level
        self.oov_token = oov_token
        self.document_count = document_count
        self.word_counts: OrderedDict[str, int] = OrderedDict()
        self.word_docs: defaultdict[str, int] = defaultdict(int)
        self.index_docs: defaultdict[int, int] = defaultdict(int)
        self.word_index: dict[str, int] = {}
        self.index_word: dict[int, str] = {}

    # -- tokenising -----------------------------------------------------------------------
    def _tokens(self, text: str | Sequence[str]) -> list[str]:
        if isinstance(text, str) and not self.char_level:
            return text_to_word_sequence(text, self.filters, self.lower, self.split)
        if not isinstance(text, (str, list, tuple)):
            raise TypeError(f"expected a text (str) or a list of tokens, got {type(text).__name__}")
        if self.lower:
            return [t.lower() for t in text]
        return list(text)

    # -- fitting --------------------------------------------------------------------------
    def fit_on_texts(self, texts: Iterable[str | Sequence[str]]) -> None:
        """Update the word counts from ``texts`` (strings, or lists of tokens) and re-index."""
        if isinstance(texts, str):
            raise TypeError("fit_on_texts expects a list of texts, got a single string")
        for text in texts:
            self.document_count += 1
            seq = self._tokens(text)
            for w in seq:
                self.word_counts[w] = self.word_counts.get(w, 0) + 1
            for w in set(seq):
                self.word_docs[w] += 1
        self._reindex()

    def _reindex(self) -> None:
        wcounts = [(w, c) for w, c in self.word_counts.items() if w != self.oov_token]
        wcounts.sort(key=lambda wc: wc[1], reverse=True)  # stable: ties keep first appearance
        sorted_voc = [] if self.oov_token is None else [self.oov_token]
        sorted_voc.extend(w for w, _ in wcounts)
        self.word_index = {w: i for i, w in enumerate(sorted_voc, start=1)}
        self.index_word = {i: w for w, i in self.word_index.items()}
        self.index_docs = defaultdict(int)
        for w, c in self.word_docs.items():
            self.index_docs[self.word_index[w]] = c

    def fit_on_sequences(self, sequences: Iterable[Sequence[int]]) -> None:
        """Update document counts from integer sequences (needed for ``mode="tfidf"`` only)."""
        for seq in sequences:
            self.document_count += 1
            for i in set(seq):
                self.index_docs[int(i)] += 1

    # -- conversion -----------------------------------------------------------------------
    def texts_to_sequences_generator(
        self, texts: Iterable[str | Sequence[str]]
    ) -> Iterator[list[int]]:
        """Yield one list of word indices per text (see :meth:`texts_to_sequences`)."""
        if isinstance(texts, str):
            raise TypeError("texts_to_sequences expects a list of texts, got a single string")
        num_words = self.num_words
        oov_index = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        for text in texts:
            vect = []
            for w in self._tokens(text):
                i = self.word_index.get(w)
                if i is not None:
                    if num_words and i >= num_words:
                        if oov_index is not None:
                            vect.append(oov_index)
                    else:
                        vect.append(i)
                elif oov_index is not None:
                    vect.append(oov_index)
            yield vect

    def texts_to_sequences(self, texts: Iterable[str | Sequence[str]]) -> list[list[int]]:
        """Lists of word indices; unknown words become the ``oov_token`` index or are dropped."""
        return list(self.texts_to_sequences_generator(texts))

    def sequences_to_texts_generator(self, sequences: Iterable[Sequence[int]]) -> Iterator[str]:
        """Yield one text per sequence (words joined by spaces)."""
        num_words = self.num_words
        oov_index = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        for seq in sequences:
            vect = []
            for num in seq:
                num = int(num)
                word = self.index_word.get(num)
                if word is not None and not (num_words and num >= num_words):
                    vect.append(word)
                elif oov_index is not None:
                    vect.append(self.index_word[oov_index])
            yield " ".join(vect)

    def sequences_to_texts(self, sequences: Iterable[Sequence[int]]) -> list[str]:
        """Inverse of :meth:`texts_to_sequences` (up to filtering, case and unknown words)."""
        return list(self.sequences_to_texts_generator(sequences))

    def texts_to_matrix(
        self, texts: Iterable[str | Sequence[str]], mode: str = "binary"
    ) -> np.ndarray:
        """Bag-of-words matrix ``(len(texts), num_words)``; see :meth:`sequences_to_matrix`."""
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(
        self, sequences: Sequence[Sequence[int]], mode: str = "binary"
    ) -> np.ndarray:
        """Matrix with one row per sequence; ``mode`` is binary, count, freq or tfidf (as Keras)."""
        if mode not in ("binary", "count", "freq", "tfidf"):
            raise ValueError(
                f"Unknown vectorization mode {mode!r}; expected binary, count, freq or tfidf"
            )
        if not self.num_words:
            if not self.word_index:
                raise ValueError(
                    "Specify a dimension (`num_words` argument), or fit on some text data first."
                )
            num_words = len(self.word_index) + 1
        else:
            num_words = self.num_words
        if mode == "tfidf" and not self.document_count:
            raise ValueError("Fit the Tokenizer on some data before using tfidf mode.")
        x = np.zeros((len(sequences), num_words))
        for i, seq in enumerate(sequences):
            if not len(seq):
                continue
            counts: defaultdict[int, int] = defaultdict(int)
            for j in seq:
                if j >= num_words:
                    continue
                counts[int(j)] += 1
            for j, c in counts.items():
                if mode == "count":
                    x[i, j] = c
                elif mode == "freq":
                    x[i, j] = c / len(seq)
                elif mode == "binary":
                    x[i, j] = 1
                else:
                    tf = 1 + np.log(c)
                    idf = np.log(1 + self.document_count / (1 + self.index_docs.get(j, 0)))
                    x[i, j] = tf * idf
        return x

    # -- serialisation --------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """Constructor arguments plus the fitted state (JSON-compatible)."""
        return {
            "num_words": self.num_words,
            "filters": self.filters,
            "lower": self.lower,
            "split": self.split,
            "char_level": self.char_level,
            "oov_token": self.oov_token,
            "document_count": self.document_count,
            "word_counts": json.dumps(self.word_counts),
            "word_docs": json.dumps(self.word_docs),
            "index_docs": json.dumps({str(k): v for k, v in self.index_docs.items()}),
            "index_word": json.dumps({str(k): v for k, v in self.index_word.items()}),
            "word_index": json.dumps(self.word_index),
        }

    def to_json(self, **kwargs: Any) -> str:
        """JSON string of the tokenizer (load it with :func:`tokenizer_from_json`)."""
        return json.dumps(
            {"class_name": self.__class__.__name__, "config": self.get_config()}, **kwargs
        )


def tokenizer_from_json(json_string: str) -> Tokenizer:
    """Rebuild a :class:`Tokenizer` from :meth:`Tokenizer.to_json` output."""
    data = json.loads(json_string)
    config = dict(data.get("config", data))
    word_counts = json.loads(config.pop("word_counts"), object_pairs_hook=OrderedDict)
    word_docs = json.loads(config.pop("word_docs"))
    index_docs = {int(k): v for k, v in json.loads(config.pop("index_docs")).items()}
    index_word = {int(k): v for k, v in json.loads(config.pop("index_word")).items()}
    word_index = json.loads(config.pop("word_index"))
    tok = Tokenizer(**config)
    tok.word_counts = word_counts
    tok.word_docs = defaultdict(int, word_docs)
    tok.index_docs = defaultdict(int, index_docs)
    tok.index_word = index_word
    tok.word_index = word_index
    return tok
