"""Sampling text from a trained character language model (used by ``rnnlab generate``).

The model is one written by the ``charlm`` experiment: its ``metadata`` holds ``kind ==
"charlm"``, the character vocabulary (``chars``, id order), the input encoding (``input``:
``"onehot"`` or ``"ids"``) and whether it outputs ``logits`` or probabilities (``output``).

Generation feeds the prime through the network once and then one character at a time, carrying
the recurrent state (the model's layers are stateful; a non-stateful model is re-run on the
whole text so far, which gives the same distribution, only slower). The next character is drawn
from ``softmax(logits / temperature)``, restricted to the ``top_k`` most likely characters when
``top_k`` is given, with a generator seeded by ``seed``.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _meta(model: Any) -> dict[str, Any]:
    meta = getattr(model, "metadata", None) or {}
    kind = meta.get("kind")
    if kind != "charlm":
        what = meta.get("experiment")
        name = f"the model (from the {what!r} experiment)" if what else "the model"
        raise ValueError(
            f"{name} is a {kind or 'unlabelled (no kind recorded)'} model; generate needs a "
            "character language model (train one with: rnnlab run charlm)")
    chars = meta.get("chars")
    if not chars:
        raise ValueError("the model's metadata has no character vocabulary ('chars'); it was not "
                         "written by the charlm experiment (train one with: rnnlab run charlm)")
    return meta


def encode_prime(prime: str, chars: list[str]) -> np.ndarray:
    """Ids of ``prime``; a clear error naming the unknown characters."""
    if not isinstance(prime, str) or not prime:
        raise ValueError("--prime must be a non-empty text (the characters the sample starts "
                         "from), e.g. --prime 'ROMEO:'")
    index = {c: i for i, c in enumerate(chars)}
    unknown = [c for c in prime if c not in index]
    if unknown:
        distinct = list(dict.fromkeys(unknown))
        shown = ", ".join(repr(c) for c in distinct[:5])
        more = ", ..." if len(distinct) > 5 else ""
        raise ValueError(
            f"--prime has {len(unknown)} character(s) ({len(distinct)} distinct) that are not in "
            f"the model's vocabulary of {len(chars)} characters: {shown}{more}")
    return np.array([index[c] for c in prime], dtype=np.int64)


def _inputs(ids: np.ndarray, meta: dict[str, Any], vocab_size: int) -> np.ndarray:
    ids = ids.reshape(1, -1)
    if meta.get("input", "onehot") == "ids":
        return ids
    out = np.zeros(ids.shape + (vocab_size,), dtype=np.float32)
    np.put_along_axis(out, ids[..., None], 1.0, axis=-1)
    return out


def _stateful(model: Any) -> bool:
    recurrent = [layer for layer in model.layers if hasattr(layer, "reset_states")]
    return bool(recurrent) and all(getattr(layer, "stateful", False) for layer in recurrent)


def next_char_distribution(scores: np.ndarray, temperature: float, top_k: int | None,
                           logits: bool) -> np.ndarray:
    """Probabilities of the next character from the model's last output row."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    z = scores if logits else np.log(np.maximum(scores, 1e-30))
    z = z / temperature
    if top_k is not None and top_k < len(z):
        cut = np.partition(z, -top_k)[-top_k]
        z = np.where(z >= cut, z, -np.inf)
    z = z - np.max(z)
    p = np.exp(z)
    return p / p.sum()


def generate_text(model: Any, prime: str = "\n", length: int = 500, temperature: float = 1.0,
                  top_k: int | None = None, seed: int | None = 0) -> str:
    """``prime`` followed by ``length`` sampled characters."""
    meta = _meta(model)
    chars = list(meta["chars"])
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0:
        raise ValueError(f"--length must be a non-negative integer, got {length!r}")
    if not isinstance(temperature, (int, float)) or not np.isfinite(temperature) or \
            temperature <= 0:
        raise ValueError(f"--temperature must be a positive number, got {temperature!r}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer))
                              or top_k < 1):
        raise ValueError(f"--top-k must be a positive integer, got {top_k!r}")
    ids = list(encode_prime(prime, chars))
    V = len(chars)
    logits = meta.get("output", "logits") == "logits"
    rng = np.random.default_rng(seed)
    stateful = _stateful(model)
    out: list[str] = []
    if stateful:
        model.reset_states()
        scores = model.predict_on_batch(_inputs(np.array(ids), meta, V))[0, -1]
    for _ in range(length):
        if not stateful:
            scores = model.predict_on_batch(_inputs(np.array(ids), meta, V))[0, -1]
        p = next_char_distribution(scores, float(temperature), top_k, logits)
        nxt = int(rng.choice(V, p=p))
        out.append(chars[nxt])
        ids.append(nxt)
        if stateful:
            scores = model.predict_on_batch(_inputs(np.array([nxt]), meta, V))[0, -1]
    if stateful:
        model.reset_states()
    return prime + "".join(out)
