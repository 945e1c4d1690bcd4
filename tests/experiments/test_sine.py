import csv
import json

import numpy as np

from rnnlab.experiments import run_experiment
from rnnlab.experiments.sine import make_data
from rnnlab.models import load_model


def _column(path, key):
    with open(path) as fh:
        return [float(row[key]) for row in csv.DictReader(fh)]


def test_sine_smoke_writes_files_and_learns(tmp_path):
    result = run_experiment("sine", smoke=True, out=tmp_path, verbose=0)
    for name in ("config.json", "metrics.json", "history.csv", "model.rnnlab",
                 "predictions.png", "loss.png"):
        assert (tmp_path / name).exists(), name
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert set(metrics) >= {"val_rmse", "train_rmse", "epochs"}
    assert metrics == result.metrics
    losses = _column(tmp_path / "history.csv", "loss")
    assert len(losses) == result.config["epochs"]
    assert losses[-1] < losses[0]
    model = load_model(tmp_path / "model.rnnlab")
    assert model.metadata["experiment"] == "sine"
    assert model.layers[0].truncate_gradient == 5


def test_sine_data_follows_the_tutorial():
    from rnnlab.experiments.base import get_experiment

    config = dict(get_experiment("sine").defaults)
    x_train, y_train, x_val, y_val = make_data(config, seed=0)
    assert x_train.shape == (100, 50, 1) and x_val.shape == (50, 50, 1)
    # window i holds sin(i) .. sin(i + 49); its target is sin(i + 50)
    np.testing.assert_allclose(x_train[3, :, 0], np.sin(np.arange(3, 53)), atol=1e-6)
    np.testing.assert_allclose(y_val[:, 0], np.sin(np.arange(150, 200)), atol=1e-6)
