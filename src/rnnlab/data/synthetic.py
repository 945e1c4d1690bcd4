"""Synthetic data sets that need no files: sine windows, counting, 3-digit addition.

All generators are deterministic given ``seed`` (a ``numpy.random.default_rng`` seed, or a
``Generator``).

- :func:`sine_series` / :func:`sine_windows`: next-value regression on (noisy) sine waves.
- :func:`counting_sequences`: Elman-style counting: binary sequences whose target is the number
  of ones (many-to-one regression); 20 sequences of length 10 by default.
- :func:`addition_strings` / :func:`addition_dataset`: the Keras ``addition_rnn`` example:
  ``"123+45 "`` -> ``"168 "``, queries padded with spaces to ``2 * digits + 1`` characters and
  answers to ``digits + 1``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnlab.data.text import one_hot_encode

__all__ = [
    "ADDITION_CHARS",
    "addition_dataset",
    "addition_strings",
    "counting_sequences",
    "decode_addition",
    "sine_series",
    "sine_windows",
]

ADDITION_CHARS = "0123456789+ "


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def sine_series(
    length: int = 1000,
    period: float = 50.0,
    amplitude: float = 1.0,
    phase: float = 0.0,
    noise: float = 0.0,
    seed: int | np.random.Generator | None = None,
    dtype: Any = "float32",
) -> np.ndarray:
    """``amplitude * sin(2 pi t / period + phase) + noise * N(0, 1)`` for ``t = 0..length-1``."""
    if length < 1 or period <= 0:
        raise ValueError(f"need length >= 1 and period > 0, got length={length}, period={period}")
    t = np.arange(length, dtype=np.float64)
    y = amplitude * np.sin(2 * np.pi * t / period + phase)
    if noise:
        y = y + noise * _rng(seed).standard_normal(length)
    return y.astype(dtype)


def sine_windows(
    n_samples: int = 1000,
    lookback: int = 50,
    horizon: int = 1,
    period: float = 50.0,
    amplitude: float = 1.0,
    noise: float = 0.0,
    seed: int | np.random.Generator | None = None,
    dtype: Any = "float32",
) -> tuple[np.ndarray, np.ndarray]:
    """Windows of sine waves with random phases and the value ``horizon`` steps later.

    Returns ``x`` of shape ``(n_samples, lookback, 1)`` and ``y`` of shape ``(n_samples, 1)``.
    ``noise`` is added to the inputs only (targets are the clean wave).
    """
    if n_samples < 1 or lookback < 1 or horizon < 1:
        raise ValueError("n_samples, lookback and horizon must be positive")
    rng = _rng(seed)
    phases = rng.uniform(0.0, 2 * np.pi, size=(n_samples, 1))
    t = np.arange(lookback + horizon, dtype=np.float64)[None, :]
    waves = amplitude * np.sin(2 * np.pi * t / period + phases)
    x = waves[:, :lookback]
    if noise:
        x = x + noise * rng.standard_normal(x.shape)
    y = waves[:, lookback + horizon - 1 : lookback + horizon]
    return x[..., None].astype(dtype), y.astype(dtype)


def counting_sequences(
    n_sequences: int = 20,
    length: int = 10,
    p: float = 0.5,
    cumulative: bool = False,
    seed: int | np.random.Generator | None = None,
    dtype: Any = "float32",
) -> tuple[np.ndarray, np.ndarray]:
    """Binary sequences and the number of ones in them (Elman's counting task).

    Returns ``x`` of shape ``(n_sequences, length, 1)`` with values 0/1 (each 1 with
    probability ``p``) and ``y``: the count of ones, shape ``(n_sequences, 1)``; with
    ``cumulative=True`` the running count after every step, shape ``(n_sequences, length, 1)``
    (a many-to-many target).
    """
    if n_sequences < 1 or length < 1 or not 0.0 <= p <= 1.0:
        raise ValueError("need n_sequences >= 1, length >= 1 and 0 <= p <= 1")
    bits = (_rng(seed).random((n_sequences, length)) < p).astype(np.int64)
    x = bits[..., None].astype(dtype)
    if cumulative:
        return x, np.cumsum(bits, axis=1)[..., None].astype(dtype)
    return x, bits.sum(axis=1, keepdims=True).astype(dtype)


def addition_strings(
    n_samples: int = 50000,
    digits: int = 3,
    reverse: bool = False,
    seed: int | np.random.Generator | None = None,
) -> tuple[list[str], list[str]]:
    """Unique ``"a+b"`` queries and their sums, padded with spaces (Keras ``addition_rnn``).

    ``a`` and ``b`` have 1 to ``digits`` digits (a random number of digits, then random
    digits); a pair and its swap count as one question. Queries are padded to
    ``2 * digits + 1`` characters and answers to ``digits + 1``. With ``reverse=True`` the
    queries are reversed (the trick of Sutskever et al.), answers are not.
    """
    if digits < 1:
        raise ValueError(f"digits must be >= 1, got {digits}")
    n_numbers = 10**digits
    max_unique = n_numbers * (n_numbers + 1) // 2
    if not 1 <= n_samples <= max_unique:
        raise ValueError(
            f"n_samples must be between 1 and {max_unique} (the distinct unordered pairs of "
            f"numbers with up to {digits} digits), got {n_samples}"
        )
    rng = _rng(seed)
    maxlen = 2 * digits + 1
    seen: set[tuple[int, int]] = set()
    questions: list[str] = []
    answers: list[str] = []

    def number() -> int:
        k = int(rng.integers(1, digits + 1))
        return int("".join(str(d) for d in rng.integers(0, 10, size=k)))

    while len(questions) < n_samples:
        a, b = number(), number()
        key = (a, b) if a <= b else (b, a)
        if key in seen:
            continue
        seen.add(key)
        q = f"{a}+{b}"
        q = q + " " * (maxlen - len(q))
        questions.append(q[::-1] if reverse else q)
        ans = str(a + b)
        answers.append(ans + " " * (digits + 1 - len(ans)))
    return questions, answers


def addition_dataset(
    n_samples: int = 50000,
    digits: int = 3,
    reverse: bool = False,
    seed: int | np.random.Generator | None = None,
    dtype: Any = "float32",
) -> tuple[np.ndarray, np.ndarray, str]:
    """One-hot encoded :func:`addition_strings` over the alphabet ``"0123456789+ "``.

    Returns ``x`` of shape ``(n, 2 * digits + 1, 12)``, ``y`` of shape ``(n, digits + 1, 12)``
    and the alphabet (character ``i`` is class ``i``; decode with :func:`decode_addition`).
    """
    questions, answers = addition_strings(n_samples, digits, reverse, seed)
    table = {c: i for i, c in enumerate(ADDITION_CHARS)}
    xq = np.array([[table[c] for c in q] for q in questions], dtype=np.int64)
    ya = np.array([[table[c] for c in a] for a in answers], dtype=np.int64)
    k = len(ADDITION_CHARS)
    return one_hot_encode(xq, k, dtype), one_hot_encode(ya, k, dtype), ADDITION_CHARS


def decode_addition(onehot_or_ids: Any) -> list[str]:
    """Strings from one-hot / probability arrays ``(n, len, 12)`` or ids ``(n, len)``."""
    arr = np.asarray(onehot_or_ids)
    ids = arr.argmax(axis=-1) if arr.ndim == 3 else arr.astype(np.int64)
    if ids.ndim != 2:
        raise ValueError(f"expected (n, len, 12) scores or (n, len) ids, got shape {arr.shape}")
    return ["".join(ADDITION_CHARS[i] for i in row) for row in ids.tolist()]
