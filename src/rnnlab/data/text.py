"""Text tokenisation and char-level training windows.

- :func:`word_tokenize` splits on whitespace; with ``eos="<eos>"`` it appends one end-of-sentence
  token per line, as the PTB reader of Zaremba et al. does (``read().replace("\\n", "<eos>")``).
  Lines are separated by ``"\\n"`` only (``"\\r\\n"`` works: ``"\\r"`` is whitespace). Every
  ``"\\n"``-terminated line gets one ``eos``, blank lines included (as in Zaremba's reader);
  non-blank text after the last newline also gets one (Zaremba's reader gives it none);
  whitespace after the last newline is ignored (PTB's char files end in ``"\\n "``).
- :func:`char_tokenize` returns the characters (``list(text)``).
- :func:`char_windows` cuts a character (id) stream into training windows for char-RNNs, as in the
  Keras ``lstm_text_generation`` example (``target="next"``) or Karpathy's char-rnn
  (``target="shifted"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rnnlab.data.vocab import Vocabulary, build_vocab
from rnnlab.utils.sequence import to_categorical

__all__ = [
    "build_char_vocab",
    "char_tokenize",
    "char_windows",
    "count_char_windows",
    "one_hot_encode",
    "word_tokenize",
]


def word_tokenize(text: str, lower: bool = False, eos: str | None = None) -> list[str]:
    """Whitespace-split words; ``eos`` (e.g. ``"<eos>"``) is appended at the end of every line."""
    if not isinstance(text, str):
        raise TypeError(f"word_tokenize expects a str, got {type(text).__name__}")
    if lower:
        text = text.lower()
    if eos is None:
        return text.split()
    lines = text.split("\n")
    if lines and not lines[-1].strip():
        lines.pop()  # nothing but whitespace after the last newline: no extra line
    out: list[str] = []
    for line in lines:
        out.extend(line.split())
        out.append(eos)
    return out


def char_tokenize(text: str, lower: bool = False) -> list[str]:
    """The characters of ``text`` as a list."""
    if not isinstance(text, str):
        raise TypeError(f"char_tokenize expects a str, got {type(text).__name__}")
    return list(text.lower() if lower else text)


def build_char_vocab(text: str, unk_token: str | None = None) -> Vocabulary:
    """Vocabulary of the distinct characters of ``text`` in sorted (code point) order.

    This is the char-RNN convention (``sorted(set(text))``). ``unk_token`` (e.g. ``"\\x00"``)
    is optional; without it, encoding an unseen character raises ``UnknownTokenError``.
    """
    return build_vocab(list(set(text)), unk_token=unk_token, sort_by="token")


def one_hot_encode(ids: Any, num_classes: int, dtype: Any = "float32") -> np.ndarray:
    """One-hot ``ids`` into a new last axis (unlike ``to_categorical``, never drops an axis)."""
    arr = np.asarray(ids)
    out = to_categorical(arr.reshape(-1), num_classes, dtype=dtype)
    return out.reshape(arr.shape + (num_classes,))


def count_char_windows(n: int, seq_length: int, step: int = 1) -> int:
    """Number of windows :func:`char_windows` makes from a stream of ``n`` symbols."""
    if n <= seq_length:
        return 0
    return (n - seq_length - 1) // step + 1


def char_windows(
    data: str | Sequence[int] | np.ndarray,
    seq_length: int,
    step: int = 1,
    target: str = "next",
    vocab: Vocabulary | None = None,
    one_hot: bool = False,
    num_classes: int | None = None,
    dtype: Any = np.int64,
) -> tuple[np.ndarray, np.ndarray]:
    """Windows of ``seq_length`` symbols every ``step`` symbols, with their targets.

    Windows start at ``i = 0, step, 2*step, ...`` while ``i + seq_length < len(data)`` (so each has
    a following symbol), as in Keras' ``lstm_text_generation``:
    ``range(0, len(text) - seq_length, step)``.

    Args:
        data: a string (encoded with ``vocab``, or with the sorted characters of the string when
            ``vocab`` is None) or a 1-D sequence of integer ids.
        seq_length: window length.
        step: distance between window starts (``step=seq_length`` gives non-overlapping windows).
        target: ``"next"``: ``y[n]`` is the symbol after window ``n`` (shape ``(N,)``);
            ``"shifted"``: ``y[n]`` is the window shifted by one (shape ``(N, seq_length)``).
        vocab: vocabulary for string data.
        one_hot: return one-hot ``x`` and ``y`` (float32, extra last axis of ``num_classes``).
        num_classes: classes for ``one_hot`` (default ``len(vocab)`` or ``max(id) + 1``).
        dtype: integer dtype of ``x`` / ``y`` when not one-hot.

    Returns:
        ``(x, y)``: ``x`` of shape ``(N, seq_length)`` (``(N, seq_length, C)`` one-hot).
    """
    if seq_length < 1:
        raise ValueError(f"seq_length must be >= 1, got {seq_length}")
    if step < 1:
        raise ValueError(f"step must be >= 1, got {step}")
    if target not in ("next", "shifted"):
        raise ValueError(f"target must be 'next' or 'shifted', got {target!r}")
    if isinstance(data, str):
        if vocab is None:
            vocab = build_char_vocab(data)
        ids = vocab.encode_text(data)
    else:
        ids = np.asarray(data)
        if ids.ndim != 1 or (ids.size and ids.dtype.kind not in "iu"):
            raise ValueError(
                f"char_windows expects a string or a 1-D integer id array, got shape "
                f"{ids.shape} dtype {ids.dtype}"
            )
    n = count_char_windows(len(ids), seq_length, step)
    if n == 0:
        raise ValueError(
            f"data of length {len(ids)} is too short for windows of seq_length={seq_length} "
            "(need at least seq_length + 1 symbols)"
        )
    starts = np.arange(n) * step
    x = ids[starts[:, None] + np.arange(seq_length)[None, :]].astype(dtype)
    if target == "next":
        y = ids[starts + seq_length].astype(dtype)
    else:
        y = ids[starts[:, None] + 1 + np.arange(seq_length)[None, :]].astype(dtype)
    if one_hot:
        if num_classes is None:
            num_classes = len(vocab) if vocab is not None else int(ids.max()) + 1
        return one_hot_encode(x, num_classes), one_hot_encode(y, num_classes)
    return x, y
