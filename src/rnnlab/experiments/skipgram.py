"""word2vec skip-gram with negative sampling (Mikolov et al. 2013), from scratch on NumPy.

Each word ``c`` of the text predicts the words within a window around it: for a (centre,
context) pair ``(c, o)`` and ``K`` negative words ``n_1 .. n_K`` drawn from the unigram
distribution raised to 3/4, the loss is

    L = -log σ(u_o · v_c) - Σ_k log σ(-u_{n_k} · v_c)

with ``v`` the input (centre) vectors and ``u`` the output (context) vectors. Its gradients,
written by hand (:func:`sgns_loss_grad`, checked against finite differences in the tests):

    ∂L/∂v_c = (σ(u_o·v_c) - 1) u_o + Σ_k σ(u_{n_k}·v_c) u_{n_k}
    ∂L/∂u_o = (σ(u_o·v_c) - 1) v_c,    ∂L/∂u_{n_k} = σ(u_{n_k}·v_c) v_c

As in word2vec: the window size is drawn per centre word from 1..``window``, the input vectors
start in ``U(-0.5/D, 0.5/D)`` and the output vectors at zero, plain SGD with the learning rate
falling linearly to 1e-4 of its start; here the pairs go in mini-batches (the summed loss of a
batch, rows updated with ``np.add.at``). The input vectors are the word vectors analysed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .context import RunContext


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def sgns_loss_grad(w_in: np.ndarray, w_out: np.ndarray, centres: np.ndarray,
                   contexts: np.ndarray, negatives: np.ndarray
                   ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Summed loss of a batch of pairs ``centres (B,)``, ``contexts (B,)`` with ``negatives
    (B, K)``, and the gradients as rows: ``(loss, g_centre (B, D), rows_out (B, 1+K),
    g_out (B, 1+K, D))`` (row ``rows_out[b, j]`` of ``w_out`` gets ``g_out[b, j]``; a row that
    appears several times gets the sum)."""
    v = w_in[centres]                                            # (B, D)
    rows_out = np.concatenate([contexts[:, None], negatives], axis=1)  # (B, 1+K)
    u = w_out[rows_out]                                          # (B, 1+K, D)
    scores = np.einsum("bkd,bd->bk", u, v)
    sign = np.ones_like(scores)
    sign[:, 0] = -1.0                     # the true context: -log σ(s); negatives: -log σ(-s)
    loss = float(np.sum(np.logaddexp(0.0, sign * scores)))
    coef = _sigmoid(scores)
    coef[:, 0] -= 1.0                                            # ∂L/∂score
    g_centre = np.einsum("bk,bkd->bd", coef, u)
    g_out = coef[:, :, None] * v[:, None, :]
    return loss, g_centre, rows_out, g_out


def dense_grads(w_in: np.ndarray, w_out: np.ndarray, centres: np.ndarray, g_centre: np.ndarray,
                rows_out: np.ndarray, g_out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The row gradients of :func:`sgns_loss_grad` as full ``(V, D)`` arrays."""
    d_in, d_out = np.zeros_like(w_in), np.zeros_like(w_out)
    np.add.at(d_in, centres, g_centre)
    np.add.at(d_out, rows_out.ravel(), g_out.reshape(-1, w_out.shape[1]))
    return d_in, d_out


def skipgram_pairs(ids: np.ndarray, window: int, rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray]:
    """All (centre, context) pairs of ``ids`` with a window of ``1..window`` words on each side,
    drawn per centre word (word2vec's reduced window), in text order."""
    ids = np.asarray(ids, dtype=np.int64)
    reach = rng.integers(1, window + 1, size=len(ids))
    centres, contexts = [], []
    for offset in range(1, window + 1):
        for shift in (offset, -offset):
            lo, hi = max(0, -shift), len(ids) - max(0, shift)
            pos = np.arange(lo, hi)
            keep = reach[pos] >= offset
            centres.append(ids[pos[keep]])
            contexts.append(ids[pos[keep] + shift])
    return np.concatenate(centres), np.concatenate(contexts)


def train_skipgram(ids: np.ndarray, vocab_size: int, dim: int, *, window: int, negatives: int,
                   lr: float, epochs: int, batch_size: int, seed: int, max_batches: int = 0
                   ) -> tuple[np.ndarray, list[float]]:
    """Input vectors ``(vocab_size, dim)`` learned from the id stream ``ids``, and the mean loss
    per pair of every epoch."""
    rng = np.random.default_rng(seed)
    counts = np.bincount(ids, minlength=vocab_size).astype(np.float64)
    noise = counts ** 0.75
    noise /= noise.sum()
    w_in = rng.uniform(-0.5 / dim, 0.5 / dim, (vocab_size, dim))
    w_out = np.zeros((vocab_size, dim))
    history = []
    centres, contexts = skipgram_pairs(ids, window, rng)
    n_batches = -(-len(centres) // batch_size)
    if max_batches:
        n_batches = min(n_batches, max_batches)
    total, step = epochs * n_batches, 0
    for _ in range(epochs):
        order = rng.permutation(len(centres))
        loss_sum = pairs = 0.0
        for b in range(n_batches):
            pick = order[b * batch_size:(b + 1) * batch_size]
            neg = rng.choice(vocab_size, size=(len(pick), negatives), p=noise)
            loss, g_c, rows_out, g_o = sgns_loss_grad(w_in, w_out, centres[pick],
                                                      contexts[pick], neg)
            rate = lr * max(1e-4, 1.0 - step / total)
            np.add.at(w_in, centres[pick], -rate * g_c)
            np.add.at(w_out, rows_out.ravel(), -rate * g_o.reshape(-1, dim))
            loss_sum += loss
            pairs += len(pick)
            step += 1
        history.append(loss_sum / max(pairs, 1.0))
    return w_in, history


def run_skipgram(ctx: RunContext) -> dict[str, Any]:
    """``rnnlab run embeddings --method skipgram``: vectors from PTB's training text, then the
    same neighbours, analogies and maps as the language-model vectors."""
    from ..data import load_ptb
    from . import plots
    from .embeddings import describe

    c = ctx.config
    data = load_ptb(ctx.data_dir_or_default(
        "ptb", "embeddings trains on Penn Treebank: pass --data PATH, the folder holding "
        "ptb.train.txt and ptb.valid.txt"), vocab_size=c["vocab_size"])
    words = list(data.vocab.itos)
    emb, history = train_skipgram(
        np.asarray(data.train), len(words), c["embedding_dim"], window=c["window"],
        negatives=c["negatives"], lr=c["sg_lr"], epochs=c["epochs"], batch_size=c["batch_size"],
        seed=ctx.seed, max_batches=c["max_batches"])
    np.save(ctx.out / "vectors.npy", emb.astype(np.float32))
    ctx.write_history({"loss": history})
    header = (f"{len(words)} {c['embedding_dim']}-d skip-gram vectors (negative sampling, "
              f"window {c['window']}, {c['negatives']} negatives, {len(history)} epoch(s) on "
              "PTB)")
    metrics = describe(ctx, emb, words, header)
    ctx.save_plot(plots.curves({"loss": history}, "skip-gram: loss per pair"), "loss.png")
    return {"first_epoch_loss": history[0], "train_loss": history[-1],
            "epochs": len(history), **metrics}
