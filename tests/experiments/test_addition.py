import csv
import json

import numpy as np

from rnnlab.experiments import run_experiment
from rnnlab.experiments.addition import exact_match


def _majority_char_accuracy(config):
    """Per-character accuracy on the validation answers of always answering each position's
    most frequent training character: the bar a learning model has to clear."""
    from rnnlab.data import addition_dataset

    n = config["questions"]
    _, y, _ = addition_dataset(n + config["test_questions"], config["digits"],
                               bool(config["reverse"]), seed=config["seed"])
    order = np.random.default_rng(config["seed"]).permutation(n)
    n_val = int(round(n * config["val_fraction"]))
    y_val, y_train = y[order[:n_val]].argmax(-1), y[order[n_val:]].argmax(-1)
    majority = [np.bincount(y_train[:, j]).argmax() for j in range(y_train.shape[1])]
    return float(np.mean(y_val == np.array(majority)))


def test_addition_smoke_writes_files_and_learns(tmp_path):
    # 2-digit questions: small enough to learn something in seconds
    result = run_experiment("addition", {"digits": 2, "questions": 3000, "epochs": 3,
                                         "lr": 0.01}, smoke=True, out=tmp_path, verbose=0)
    for name in ("config.json", "metrics.json", "history.csv", "model.rnnlab", "curves.png",
                 "samples.png"):
        assert (tmp_path / name).exists(), name
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert {"val_exact_match", "test_exact_match", "val_char_accuracy"} <= set(metrics)
    # measured 0.489 against the majority answer's 0.387 (900 characters)
    assert metrics["val_char_accuracy"] > _majority_char_accuracy(result.config) + 0.05
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
