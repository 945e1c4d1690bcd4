"""Seeds: one global seed (``set_random_seed``) or a per-layer ``seed`` fixes every random draw.

Layers made without a seed take the next seed from a global ``SeedStream``; after
``set_random_seed(s)`` that stream restarts, so building the same model twice gives bit-identical
weights. Random draws during training (dropout masks, shuffling) come from generators keyed by
(seed, counter), so a resumed run draws the same numbers as an uninterrupted one.
"""

from __future__ import annotations

import numpy as np


class SeedStream:
    """Deterministic stream of 31-bit seeds derived from one root seed (or OS entropy)."""

    def __init__(self, seed: int | None = None) -> None:
        self.reset(seed)

    def reset(self, seed: int | None) -> None:
        self._seq = np.random.SeedSequence(seed)
        self._count = 0

    def next_seed(self) -> int:
        child = np.random.SeedSequence(self._seq.entropy, spawn_key=(self._count,))
        self._count += 1
        return int(child.generate_state(1)[0] & 0x7FFFFFFF)


_GLOBAL = SeedStream(None)


def set_random_seed(seed: int) -> None:
    """Fix the global seed: layers, dropout and shuffling are reproducible from here on."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    _GLOBAL.reset(int(seed))


def next_seed() -> int:
    """The next seed from the global stream (used by objects made without a seed)."""
    return _GLOBAL.next_seed()


def generator(*key: int) -> np.random.Generator:
    """A generator determined by the integers in ``key`` (e.g. layer seed, call counter)."""
    return np.random.default_rng(list(key))
