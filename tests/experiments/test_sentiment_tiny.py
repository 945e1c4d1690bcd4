import csv
import json

import numpy as np
import pytest

from rnnlab.experiments import run_experiment
from rnnlab.experiments.forecasting import predict_file
from rnnlab.experiments.sentiment_tiny import encode
from rnnlab.models import load_model


def test_sentiment_tiny_smoke_writes_files_and_learns(tmp_path, shared_data):
    run_experiment("sentiment-tiny", {"epochs": 10}, smoke=True, out=tmp_path / "run",
                   verbose=0, data=shared_data / "tiny_sentiment")
    out = tmp_path / "run"
    for name in ("config.json", "metrics.json", "history.csv", "model.rnnlab", "curves.png",
                 "test_predictions.png"):
        assert (out / name).exists(), name
    metrics = json.loads((out / "metrics.json").read_text())
    # beats chance on the 20 balanced test phrases (14/20 or more: p = 0.058 by guessing)
    assert metrics["test_accuracy"] >= 0.7
    with open(out / "history.csv") as fh:
        losses = [float(r["loss"]) for r in csv.DictReader(fh)]
    assert losses[-1] < losses[0]
    model = load_model(out / "model.rnnlab")
    assert len(model.metadata["vocab"]) == 18
    phrases = tmp_path / "phrases.txt"
    phrases.write_text("this is good\ni am not happy\n")
    probs = predict_file(model, phrases)
    assert probs.shape == (2, 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_sentiment_tiny_accepts_the_shared_data_folder(tmp_path, shared_data):
    # --data may name the shared data folder that holds tiny_sentiment/
    result = run_experiment("sentiment-tiny", smoke=True, out=tmp_path, verbose=0,
                            data=shared_data)
    assert "test_accuracy" in result.metrics


def test_encode_is_one_hot_and_post_padded():
    x = encode(["good day", "day"], ["day", "good"], maxlen=3)
    assert x.shape == (2, 3, 2)
    np.testing.assert_array_equal(x[0], [[0, 1], [1, 0], [0, 0]])
    np.testing.assert_array_equal(x[1], [[1, 0], [0, 0], [0, 0]])
    with pytest.raises(ValueError, match="not in the model's vocabulary: night"):
        encode(["good night"], ["day", "good"])


def test_missing_data_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="train.csv"):
        run_experiment("sentiment-tiny", smoke=True, out=tmp_path / "run", verbose=0,
                       data=tmp_path)
