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
