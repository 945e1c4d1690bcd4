"""``embeddings``: word embeddings learned by a recurrent language model on PTB, and what they hold.

A word-level LSTM language model (``Embedding(10000, 128)`` -> ``LSTM(128)`` -> ``Dense(10000)``
logits, softmax cross-entropy) is trained for a few epochs on the PTB training text with the PTB
batching (``[batch, -1]`` rows walked in windows, state carried, reset every epoch), Adam. The
rows of the embedding matrix are the word vectors. The experiment then lists, by cosine
similarity,

- the nearest neighbours of a handful of query words, and
- the answers to analogy queries ``a - b + c`` (the three query words excluded), each with the
  answer one would expect, counted as a hit when it is among the top 5,

in ``neighbours.txt``, and draws a 2-D PCA projection (NumPy SVD of the centred vectors) of the
~300 most frequent words with their labels (``embeddings.png``) and, beside it, a t-SNE map of
the same words (``tsne.png``; scikit-learn's ``TSNE`` with cosine distances: PCA keeps only the
two directions of largest variance, t-SNE keeps each word's near neighbours together, which is
what the neighbour lists are about). Counts and flags go into ``metrics.json``.

``--pretrained FILE`` analyses someone else's vectors (GloVe / word2vec text, the first
``vocab_size`` words of the file, which are the most frequent in GloVe's files) instead of
training; ``--method skipgram`` learns the vectors with word2vec's skip-gram with negative
sampling (:mod:`rnnlab.experiments.skipgram`) instead of the language model.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .base import Experiment, register_experiment
from .context import RunContext, read_history
from .ptb import load_streams, stateful_callbacks

QUERIES = ["money", "stock", "president", "monday", "january", "company", "year", "good",
           "billion", "japan", "buy", "he"]
ANALOGIES = [  # a - b + c, expected
    ("bought", "buy", "sell", "sold"),
    ("companies", "company", "bank", "banks"),
    ("higher", "high", "low", "lower"),
    ("shares", "share", "stock", "stocks"),
    ("monday", "tuesday", "friday", "thursday"),
    ("he", "his", "their", "they"),
    ("million", "millions", "billions", "billion"),
    ("japan", "japanese", "american", "u.s."),
]


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def nearest(unit: np.ndarray, vector: np.ndarray, k: int, exclude: set[int]) -> list[tuple[int,
                                                                                        float]]:
    """Top-``k`` rows of ``unit`` by cosine with ``vector``, skipping ``exclude``."""
    v = vector / max(float(np.linalg.norm(vector)), 1e-12)
    sims = unit @ v
    order = np.argsort(-sims)
    out = []
    for i in order:
        if int(i) in exclude:
            continue
        out.append((int(i), float(sims[i])))
        if len(out) == k:
            break
    return out


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    """First two principal components (NumPy SVD of the centred data)."""
    centred = vectors - vectors.mean(axis=0, keepdims=True)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:2].T


def build_model(c: dict[str, Any], vocab_size: int) -> Any:
    from .. import layers, losses, optimizers
    from ..models import Sequential

    model = Sequential([
        layers.Embedding(vocab_size, c["embedding_dim"]),
        layers.LSTM(c["hidden"], return_sequences=True, stateful=True),
        layers.Dense(vocab_size),
    ])
    model.compile(optimizer=optimizers.Adam(learning_rate=c["lr"], global_clipnorm=c["clip"]),
                  loss=losses.SparseCategoricalCrossentropy(from_logits=True))
    model.build((c["batch_size"], c["num_steps"]))
    return model


def run(ctx: RunContext) -> dict[str, Any]:
    c = ctx.config
    if c["pretrained"]:  # someone else's vectors (GloVe / word2vec text): only the analysis
        from .word_vectors import read_word_vectors

        words, emb = read_word_vectors(c["pretrained"], limit=c["vocab_size"])
        header = f"{len(words)} pretrained {emb.shape[1]}-d word vectors from {c['pretrained']}"
        return {**describe(ctx, emb, words, header), "words": len(words)}
    if c["method"] == "skipgram":
        from .skipgram import run_skipgram

        return run_skipgram(ctx)
    return run_lm(ctx)


def run_lm(ctx: RunContext) -> dict[str, Any]:
    from .. import random as rnd
    from . import plots

    c = ctx.config
    rnd.set_random_seed(ctx.seed)
    data, train, valid = load_streams(ctx, "embeddings trains on Penn Treebank")
    words = list(data.vocab.itos)
    V = len(words)
    model = build_model(c, V)
    model.metadata = {"kind": "wordlm", "experiment": "embeddings", "vocab": words}
    ctx.fit(model, train, epochs=c["epochs"], validation_data=valid,
            callbacks=[stateful_callbacks(model, train.tokens)])
    hist = read_history(ctx.out / "history.csv")
    ctx.save_model(model)

    emb = model.layers[0].get_weights()[0]
    header = (f"{V} learned {emb.shape[1]}-d word vectors (LSTM LM on PTB, {len(hist['loss'])} "
              f"epoch(s), valid perplexity {math.exp(hist['val_loss'][-1]):.1f})")
    metrics = describe(ctx, emb, words, header)
    fig = plots.curves({"loss": hist["loss"], "val_loss": hist["val_loss"]},
                       "embeddings LM: cross-entropy (nats/word)")
    ctx.save_plot(fig, "loss.png")
    return {
        "val_perplexity": math.exp(hist["val_loss"][-1]),
        "train_perplexity": math.exp(hist["loss"][-1]),
        "first_epoch_train_loss": hist["loss"][0],
        "train_loss": hist["loss"][-1],
        "epochs": len(hist["loss"]),
        "seconds_per_epoch": float(np.mean(hist["seconds"])),
        **metrics,
    }


def tsne_2d(vectors: np.ndarray, seed: int) -> np.ndarray:
    """A 2-D t-SNE map (scikit-learn's ``TSNE``, cosine distances, PCA start, perplexity at most
    30 and below the number of points); a clear error when scikit-learn is not installed."""
    try:
        from sklearn.manifold import TSNE
    except ImportError:
        raise ImportError("the t-SNE plot needs scikit-learn: pip install 'rnnlab[lab]' (or "
                          "pass --tsne false)") from None
    perplexity = float(min(30.0, max(2.0, (len(vectors) - 1) / 3)))
    data = np.asarray(vectors, np.float64)
    start = pca_2d(data)  # the PCA start, scaled as scikit-learn's init="pca" does
    start = start / max(float(np.std(start[:, 0])), 1e-12) * 1e-4
    return np.asarray(TSNE(n_components=2, perplexity=perplexity, metric="cosine", init=start,
                           random_state=seed).fit_transform(data))


def describe(ctx: RunContext, emb: np.ndarray, words: list[str], header: str
             ) -> dict[str, Any]:
    """Neighbours and analogies (``neighbours.txt``), the PCA map (``embeddings.png``) and,
    with ``tsne``, the t-SNE map (``tsne.png``) of the first ``plot_words`` rows of ``emb``
    (the rows follow ``words``, most frequent first)."""
    from . import plots

    c = ctx.config
    unit = unit_rows(emb)
    index = {w: i for i, w in enumerate(words)}
    k = c["neighbours"]
    lines = [f"Nearest neighbours (cosine) of {header}", ""]
    listed = 0
    for q in c["queries"]:
        if q not in index:
            lines.append(f"{q}: (not in the vocabulary)")
            continue
        i = index[q]
        near = nearest(unit, emb[i], k, {i})
        lines.append(f"{q}: " + ", ".join(f"{words[j]} ({s:.2f})" for j, s in near))
        listed += 1
    lines += ["", "Analogies a - b + c (top 5; hit = the expected word among them)"]
    asked = hits = 0
    for a, b, cc, expected in ANALOGIES:
        missing = [w for w in (a, b, cc, expected) if w not in index]
        if missing:
            lines.append(f"{a} - {b} + {cc}: (not in the vocabulary: {', '.join(missing)})")
            continue
        vec = unit[index[a]] - unit[index[b]] + unit[index[cc]]
        near = nearest(unit, vec, 5, {index[a], index[b], index[cc]})
        answers = [words[j] for j, _ in near]
        hit = expected in answers
        asked += 1
        hits += hit
        lines.append(f"{a} - {b} + {cc} = {', '.join(answers)}   (expected {expected}: "
                     f"{'hit' if hit else 'miss'})")
    (ctx.out / "neighbours.txt").write_text("\n".join(lines) + "\n")

    n_plot = min(c["plot_words"], len(words))
    ctx.save_plot(plots.scatter_labels(
        f"PCA of the {n_plot} most frequent words' embeddings", pca_2d(emb[:n_plot]),
        words[:n_plot]), "embeddings.png")
    if c["tsne"]:
        ctx.save_plot(plots.scatter_labels(
            f"t-SNE of the {n_plot} most frequent words' embeddings (cosine)",
            tsne_2d(emb[:n_plot], ctx.seed), words[:n_plot]), "tsne.png")
    return {
        "queries_listed": listed,
        "neighbours_per_query": k,
        "analogies_asked": asked,
        "analogy_hits_top5": hits,
        "neighbours_written": int((ctx.out / "neighbours.txt").exists()),
        "plot_written": int((ctx.out / "embeddings.png").exists()),
        "tsne_written": int((ctx.out / "tsne.png").exists()),
        "plot_words": n_plot,
    }


register_experiment(Experiment(
    name="embeddings",
    summary="word embeddings from an LSTM language model on PTB: cosine neighbours, analogies, "
            "PCA plot",
    defaults={"embedding_dim": 128, "hidden": 128, "num_steps": 35, "batch_size": 32,
              "lr": 2e-3, "clip": 5.0, "epochs": 3, "vocab_size": 10000, "neighbours": 8,
              "queries": QUERIES, "plot_words": 300, "max_batches": 0, "max_valid_batches": 0,
              "pretrained": "", "method": "lstm", "tsne": True, "window": 2, "negatives": 5,
              "sg_lr": 0.025, "min_count": 5, "seed": 0},
    smoke={"embedding_dim": 16, "hidden": 16, "epochs": 2, "max_batches": 6,
           "max_valid_batches": 2, "num_steps": 10, "batch_size": 8, "lr": 1e-2,
           "plot_words": 40},
    run=run,
    data="ptb",
    target="neighbours listed for the query words; embeddings.png written",
    choices={"method": ("lstm", "skipgram")},
))
