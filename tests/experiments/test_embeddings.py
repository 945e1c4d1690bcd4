import json

import numpy as np

from rnnlab.experiments import run_experiment
from rnnlab.experiments.embeddings import nearest, pca_2d, unit_rows


def test_embeddings_smoke_writes_neighbours_and_plot(shared_data, tmp_path):
    run_experiment("embeddings", smoke=True, out=tmp_path, verbose=0, data=shared_data / "ptb")
    for name in ("config.json", "metrics.json", "history.csv", "model.rnnlab",
                 "neighbours.txt", "embeddings.png", "loss.png"):
        assert (tmp_path / name).exists(), name
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["queries_listed"] >= 10
    assert metrics["neighbours_written"] == 1 and metrics["plot_written"] == 1
    assert metrics["analogies_asked"] >= 6
    text = (tmp_path / "neighbours.txt").read_text()
    assert "money: " in text and " - buy + sell = " in text
    history = np.genfromtxt(tmp_path / "history.csv", delimiter=",", names=True)
    assert history["loss"][-1] < history["loss"][0]


def test_nearest_uses_cosine_and_excludes():
    emb = np.array([[1.0, 0.0], [10.0, 1.0], [0.0, 1.0], [-1.0, 0.0]])
    unit = unit_rows(emb)
    near = nearest(unit, emb[0], 2, {0})
    assert [i for i, _ in near] == [1, 2]     # scale does not matter, only the angle
    assert near[0][1] > 0.99


def test_pca_2d_finds_the_main_axes(rng):
    pts = rng.normal(size=(200, 2)) * [5.0, 1.0]
    data = np.column_stack([pts, np.zeros((200, 3))]) @ np.linalg.qr(rng.normal(size=(5, 5)))[0]
    proj = pca_2d(data)
    assert proj.shape == (200, 2)
    var = proj.var(axis=0)
    assert var[0] > var[1] > 0.5
    np.testing.assert_allclose(var.sum(), data.var(axis=0).sum(), rtol=1e-6)


def test_skipgram_gradients_match_finite_differences(rng):
    from rnnlab.experiments.skipgram import dense_grads, sgns_loss_grad

    w_in, w_out = rng.normal(size=(7, 4)), rng.normal(size=(7, 4))
    centres, contexts = np.array([0, 3, 3]), np.array([1, 2, 0])
    negatives = np.array([[4, 5], [1, 1], [6, 3]])  # repeated rows and a centre as a negative

    def loss(a, b):
        return sgns_loss_grad(a, b, centres, contexts, negatives)[0]

    _, g_c, rows, g_o = sgns_loss_grad(w_in, w_out, centres, contexts, negatives)
    d_in, d_out = dense_grads(w_in, w_out, centres, g_c, rows, g_o)
    eps = 1e-6
    for w, d, which in ((w_in, d_in, 0), (w_out, d_out, 1)):
        num = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            plus, minus = w.copy(), w.copy()
            plus[idx] += eps
            minus[idx] -= eps
            args_p = (plus, w_out) if which == 0 else (w_in, plus)
            args_m = (minus, w_out) if which == 0 else (w_in, minus)
            num[idx] = (loss(*args_p) - loss(*args_m)) / (2 * eps)
        np.testing.assert_allclose(d, num, rtol=1e-6, atol=1e-8)


def test_skipgram_pairs_respect_the_window(rng):
    from rnnlab.experiments.skipgram import skipgram_pairs

    ids = np.arange(10)
    c, o = skipgram_pairs(ids, 2, rng)
    assert len(c) == len(o) and np.all(np.abs(c - o) <= 2) and np.all(c != o)
    every = skipgram_pairs(ids, 1, rng)
    assert len(every[0]) == 18  # each neighbour pair both ways


def test_skipgram_learns_the_structure_of_a_toy_language():
    """Two word groups that only occur among themselves: after training, each word's nearest
    neighbour is from its own group."""
    from rnnlab.experiments.skipgram import train_skipgram

    rng = np.random.default_rng(0)
    groups = [np.arange(0, 5), np.arange(5, 10)]
    stream = np.concatenate([rng.choice(groups[k % 2], 20) for k in range(200)])
    emb, history = train_skipgram(stream, 10, 8, window=2, negatives=3, lr=0.05, epochs=3,
                                  batch_size=64, seed=0)
    assert history[-1] < history[0]
    unit = unit_rows(emb)
    for i in range(10):
        j = nearest(unit, emb[i], 1, {i})[0][0]
        assert (i < 5) == (j < 5), (i, j)


def test_embeddings_skipgram_and_pretrained_smoke(shared_data, tmp_path):
    result = run_experiment("embeddings", {"method": "skipgram", "max_batches": 200,
                                           "batch_size": 256},
                            smoke=True, out=tmp_path / "sg", verbose=0, data=shared_data / "ptb")
    m = result.metrics
    assert m["train_loss"] < m["first_epoch_loss"] and m["tsne_written"] == 1
    assert (tmp_path / "sg" / "tsne.png").exists() and (tmp_path / "sg" / "vectors.npy").exists()
    # the same vectors written as word2vec text, read back with --pretrained
    from rnnlab.data import load_ptb

    words = list(load_ptb(shared_data / "ptb").vocab.itos)[:500]
    vectors = np.load(tmp_path / "sg" / "vectors.npy")[:500]
    lines = [f"{len(words)} {vectors.shape[1]}"] + [
        w + " " + " ".join(f"{v:.6f}" for v in row) for w, row in zip(words, vectors)]
    (tmp_path / "vectors.txt").write_text("\n".join(lines) + "\n")
    pre = run_experiment("embeddings", {"pretrained": str(tmp_path / "vectors.txt"),
                                        "tsne": False}, smoke=True, out=tmp_path / "pre",
                         verbose=0)
    assert pre.metrics["words"] == 500 and pre.metrics["queries_listed"] >= 5
    assert (tmp_path / "pre" / "neighbours.txt").exists()
