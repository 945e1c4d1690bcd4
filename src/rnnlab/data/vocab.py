"""Vocabularies: token <-> id maps with deterministic order, ``<unk>`` handling and JSON I/O.

Order of ids built by :func:`build_vocab` (documented contract, stable across runs and Python
versions):

1. ``specials`` first, in the order given (e.g. ``("<pad>",)`` to reserve id 0 for padding);
   then ``unk_token`` / ``eos_token`` when they do **not** occur in the data (they are added
   so that they always exist).
2. Then the tokens of the data, sorted by ``sort_by``:

   - ``"count"`` (default): descending count, ties broken by ``tie_break``:
     ``"lexicographic"`` (default; this is the order of the TensorFlow / Zaremba PTB reader,
     ``sorted(counter.items(), key=lambda x: (-x[1], x[0]))``) or ``"first"`` (first appearance
     in the data; the Keras ``Tokenizer`` order).
   - ``"token"``: lexicographic (code point) order, counts ignored (the char-RNN convention
     ``sorted(set(text))``).
   - ``"first"``: order of first appearance.

   A token occurring in the data that is also ``unk_token`` or ``eos_token`` (as ``<unk>`` and
   ``<eos>`` do in PTB) takes its place in this order like any other token.
3. ``min_count`` drops data tokens seen fewer times; ``max_size`` caps the **total** size
   (specials included), keeping the first ones in the order above. ``unk_token`` and
   ``eos_token`` are never dropped: if the cut would remove them they take the last kept slots.

Unknown tokens encode to the ``unk_token`` id; a vocabulary without one raises
:class:`~rnnlab.data.errors.UnknownTokenError` naming the token(s).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab.data.errors import UnknownTokenError

__all__ = ["EOS", "PAD", "UNK", "Vocabulary", "build_vocab"]

UNK = "<unk>"
EOS = "<eos>"
PAD = "<pad>"


class Vocabulary:
    """An ordered list of distinct tokens; a token's id is its position.

    Args:
        tokens: the tokens in id order (distinct strings).
        unk_token: token used for unknown tokens (must be in ``tokens``), or ``None`` to make
            unknown tokens an error.
        eos_token: end-of-sequence token (must be in ``tokens``), or ``None``.
        counts: optional token counts (kept for inspection and saving).
    """

    def __init__(
        self,
        tokens: Iterable[str],
        unk_token: str | None = None,
        eos_token: str | None = None,
        counts: Mapping[str, int] | None = None,
    ) -> None:
        self.itos: list[str] = list(tokens)
        self.stoi: dict[str, int] = {}
        for i, tok in enumerate(self.itos):
            if not isinstance(tok, str):
                raise TypeError(f"vocabulary tokens must be strings, got {tok!r} at id {i}")
            if tok in self.stoi:
                raise ValueError(
                    f"duplicate token {tok!r} in vocabulary (ids {self.stoi[tok]} and {i})"
                )
            self.stoi[tok] = i
        for role, special in (("unk_token", unk_token), ("eos_token", eos_token)):
            if special is not None and special not in self.stoi:
                raise ValueError(f"{role} {special!r} is not one of the {len(self.itos)} tokens")
        self.unk_token = unk_token
        self.eos_token = eos_token
        self.counts: dict[str, int] = dict(counts) if counts is not None else {}
        self._char_table: tuple[np.ndarray, np.ndarray] | None = None

    # -- basic protocol -------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        return token in self.stoi

    def __iter__(self):
        return iter(self.itos)

    def __getitem__(self, token: str) -> int:
        return self.token_to_id(token)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocabulary):
            return NotImplemented
        return (self.itos, self.unk_token, self.eos_token) == (
            other.itos,
            other.unk_token,
            other.eos_token,
        )

    def __repr__(self) -> str:
        head = ", ".join(repr(t) for t in self.itos[:5])
        more = ", ..." if len(self.itos) > 5 else ""
        return f"Vocabulary(size={len(self)}, unk_token={self.unk_token!r}, tokens=[{head}{more}])"

    @property
    def size(self) -> int:
        return len(self.itos)

    @property
    def unk_id(self) -> int | None:
        return None if self.unk_token is None else self.stoi[self.unk_token]

    @property
    def eos_id(self) -> int | None:
        return None if self.eos_token is None else self.stoi[self.eos_token]

    # -- lookups --------------------------------------------------------------------------
    def _unknown(self, tokens: Sequence[str]) -> UnknownTokenError:
        shown = ", ".join(repr(t) for t in list(dict.fromkeys(tokens))[:5])
        n = len(set(tokens))
        return UnknownTokenError(
            f"{n} token(s) not in the vocabulary (size {len(self)}), e.g. {shown}, and the "
            "vocabulary has no unknown token; build it with unk_token='<unk>' (or another "
            "token) to map unknown tokens to it"
        )

    def token_to_id(self, token: str) -> int:
        """The id of ``token`` (the ``unk_token`` id for an unknown token)."""
        i = self.stoi.get(token)
        if i is None:
            if self.unk_token is None:
                raise self._unknown([token])
            return self.stoi[self.unk_token]
        return i

    def id_to_token(self, index: int) -> str:
        """The token with id ``index``."""
        i = int(index)
        if not 0 <= i < len(self.itos):
            raise IndexError(f"token id {i} out of range for a vocabulary of size {len(self)}")
        return self.itos[i]

    def encode(self, tokens: Iterable[str], dtype: Any = np.int64) -> np.ndarray:
        """Ids of ``tokens`` as a 1-D integer array (unknown tokens -> ``unk_token`` id)."""
        if isinstance(tokens, str):
            if self._is_char_vocab():
                return self.encode_text(tokens, dtype=dtype)
            raise TypeError(
                "encode expects a list of tokens, got a string; split it first (word_tokenize)"
            )
        toks = tokens if isinstance(tokens, (list, tuple)) else list(tokens)
        get = self.stoi.get
        unk = self.unk_id
        ids = [get(t, unk) for t in toks]
        if unk is None and any(i is None for i in ids):
            raise self._unknown([t for t, i in zip(toks, ids, strict=True) if i is None])
        return np.asarray(ids, dtype=dtype)

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Tokens of ``ids`` (raises ``IndexError`` for an id outside the vocabulary)."""
        arr = np.asarray(ids, dtype=np.int64).reshape(-1)
        if arr.size and (arr.min() < 0 or arr.max() >= len(self.itos)):
            bad = arr[(arr < 0) | (arr >= len(self.itos))][0]
            raise IndexError(
                f"token id {int(bad)} out of range for a vocabulary of size {len(self)}"
            )
        itos = self.itos
        return [itos[i] for i in arr.tolist()]

    def decode_text(self, ids: Iterable[int], sep: str = "") -> str:
        """``sep.join(decode(ids))`` (``sep=""`` for characters, ``" "`` for words)."""
        return sep.join(self.decode(ids))

    # -- characters -----------------------------------------------------------------------
    def _is_char_vocab(self) -> bool:
        return all(len(t) == 1 for t in self.itos)

    def encode_text(self, text: str, dtype: Any = np.int64) -> np.ndarray:
        """Ids of the characters of ``text`` (vectorised; for single-character vocabularies)."""
        if not self._is_char_vocab():
            raise ValueError("encode_text needs a character vocabulary (all tokens one character)")
        if self._char_table is None:
            codes = np.array([ord(c) for c in self.itos], dtype=np.int64)
            order = np.argsort(codes)
            self._char_table = (codes[order], order.astype(np.int64))
        codes_sorted, ids_sorted = self._char_table
        points = np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.int64)
        pos = np.searchsorted(codes_sorted, points)
        pos_c = np.minimum(pos, max(len(codes_sorted) - 1, 0))
        found = codes_sorted[pos_c] == points if len(codes_sorted) else np.zeros(points.shape, bool)
        if not found.all():
            if self.unk_token is None:
                missing = [chr(int(p)) for p in np.unique(points[~found])]
                raise self._unknown(missing)
            out = np.full(points.shape, self.stoi[self.unk_token], dtype=np.int64)
            out[found] = ids_sorted[pos_c[found]]
            return out.astype(dtype, copy=False)
        return ids_sorted[pos_c].astype(dtype, copy=False)

    # -- saving ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "tokens": list(self.itos),
            "unk_token": self.unk_token,
            "eos_token": self.eos_token,
            "counts": dict(self.counts),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Vocabulary:
        if "tokens" not in data:
            raise ValueError("vocabulary dict must have a 'tokens' list")
        return cls(
            data["tokens"],
            unk_token=data.get("unk_token"),
            eos_token=data.get("eos_token"),
            counts=data.get("counts") or None,
        )

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the vocabulary as JSON (UTF-8)."""
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Vocabulary:
        """Read a vocabulary written by :meth:`save`."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def build_vocab(
    tokens: Iterable[str] | Mapping[str, int],
    max_size: int | None = None,
    min_count: int = 1,
    unk_token: str | None = UNK,
    eos_token: str | None = None,
    specials: Sequence[str] = (),
    sort_by: str = "count",
    tie_break: str = "lexicographic",
) -> Vocabulary:
    """Build a :class:`Vocabulary` from a token stream (or a ``{token: count}`` mapping).

    See the module docstring for the exact order. ``max_size`` counts every entry (specials,
    ``unk_token`` and ``eos_token`` included).
    """
    if sort_by not in ("count", "token", "first"):
        raise ValueError(f"sort_by must be 'count', 'token' or 'first', got {sort_by!r}")
    if tie_break not in ("lexicographic", "first"):
        raise ValueError(f"tie_break must be 'lexicographic' or 'first', got {tie_break!r}")
    if min_count < 1:
        raise ValueError(f"min_count must be >= 1, got {min_count}")
    if isinstance(tokens, str):
        raise TypeError(
            "build_vocab expects a sequence of tokens, got a single string; use "
            "char_tokenize(text) or word_tokenize(text) first"
        )
    counts: Counter[str] = Counter()
    if isinstance(tokens, Mapping):
        for tok, c in tokens.items():
            counts[tok] += int(c)
    else:
        counts.update(tokens)  # Counter keeps first-appearance order (dict order)

    reserved: list[str] = []
    for tok in specials:
        if tok in reserved:
            raise ValueError(f"duplicate special token {tok!r}")
        reserved.append(tok)
    for tok in (unk_token, eos_token):
        if tok is not None and tok not in reserved and tok not in counts:
            reserved.append(tok)
    must_keep = {t for t in (unk_token, eos_token) if t is not None and t not in reserved}
    if max_size is not None and max_size < len(reserved) + len(must_keep):
        raise ValueError(
            f"max_size={max_size} is smaller than the {len(reserved) + len(must_keep)} reserved "
            "tokens (specials, unk_token, eos_token)"
        )

    items = [(t, c) for t, c in counts.items() if t not in reserved]
    if sort_by == "token":
        items.sort(key=lambda tc: tc[0])
    elif sort_by == "count":
        if tie_break == "lexicographic":
            items.sort(key=lambda tc: (-tc[1], tc[0]))
        else:
            items.sort(key=lambda tc: -tc[1])  # stable: first appearance among equal counts
    words = [t for t, c in items if c >= min_count or t in must_keep]
    if max_size is not None:
        room = max_size - len(reserved)
        if len(words) > room:
            kept = words[:room]
            missing = [t for t in words[room:] if t in must_keep]
            if missing:
                droppable = [t for t in kept if t not in must_keep]
                drop = set(droppable[len(droppable) - len(missing) :])
                kept = [t for t in kept if t not in drop] + missing
            words = kept
    return Vocabulary(
        reserved + words, unk_token=unk_token, eos_token=eos_token, counts=dict(counts)
    )
