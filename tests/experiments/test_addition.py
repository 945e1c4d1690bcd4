import csv
import json

import numpy as np

from rnnlab.experiments import run_experiment
from rnnlab.experiments.addition import exact_match


def test_addition_smoke_writes_files_and_learns(tmp_path):
    result = run_experiment("addition", smoke=True, out=tmp_path, verbose=0)
    for name in ("config.json", "metrics.json", "history.csv", "model.rnnlab", "curves.png",
                 "samples.png"):
        assert (tmp_path / name).exists(), name
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    for key in ("val_exact_match", "test_exact_match", "val_char_accuracy"):
        assert 0.0 <= metrics[key] <= 1.0
    assert metrics["train_questions"] + metrics["val_questions"] == result.config["questions"]
    with open(tmp_path / "history.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert "val_exact_match" in rows[0]
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"])


def test_exact_match_needs_every_character():
    class Echo:
        def predict(self, x, batch_size=None, verbose=0):
            return x

    y = np.eye(3)[[[0, 1], [2, 2]]]
    wrong_one = np.eye(3)[[[0, 1], [2, 1]]]
    assert exact_match(Echo(), y, y) == 1.0
    assert exact_match(Echo(), wrong_one, y) == 0.5
