import json

import numpy as np

from rnnlab.experiments import run_experiment
from rnnlab.models import load_model


def test_counting_smoke_writes_files_and_learns(tmp_path):
    result = run_experiment("counting", smoke=True, out=tmp_path, verbose=0)
    for name in ("config.json", "metrics.json", "history-gd.csv", "history-rmsprop.csv",
                 "model-gd.rnnlab", "model-rmsprop.rnnlab", "loss.png"):
        assert (tmp_path / name).exists(), name
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert set(metrics) >= {"gd_w_x", "gd_w_rec", "rmsprop_w_x", "rmsprop_w_rec"}
    start = result.config["w_x0"], result.config["w_rec0"]
    for label in ("gd", "rmsprop"):
        losses = np.loadtxt(tmp_path / f"history-{label}.csv", delimiter=",", skiprows=1)[:, 1]
        assert losses[-1] < losses[0], label
        # the weights move toward the solution w_x = w_rec = 1
        after = metrics[f"{label}_w_x"], metrics[f"{label}_w_rec"]
        assert np.hypot(after[0] - 1, after[1] - 1) < np.hypot(start[0] - 1, start[1] - 1) - 0.01
    model = load_model(tmp_path / "model-rmsprop.rnnlab")
    kernel, recurrent = model.get_weights()
    assert kernel.item() == result.metrics["rmsprop_w_x"]
    assert recurrent.item() == result.metrics["rmsprop_w_rec"]
