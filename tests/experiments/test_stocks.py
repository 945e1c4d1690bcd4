import csv
import json

import numpy as np

from rnnlab.data import read_csv_column
from rnnlab.experiments import run_experiment
from rnnlab.experiments.forecasting import forecast_csv
from rnnlab.models import load_model


def test_stocks_smoke_writes_files_and_learns(tmp_path, shared_data):
    folder = shared_data / "stocks"
    result = run_experiment("stocks", smoke=True, out=tmp_path, verbose=0, data=folder)
    for name in ("config.json", "metrics.json", "history.csv", "model.rnnlab",
                 "predictions.png", "train_fit.png", "loss.png"):
        assert (tmp_path / name).exists(), name
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert set(metrics) >= {"test_rmse", "baseline_rmse", "test_mae", "baseline_mae",
                            "dense_test_rmse", "dense_test_mae"}
    assert metrics["test_days"] == 21 and metrics["normalize"] == "window"
    # forecasting the change keeps even the smoke model within 5% of "same as yesterday"
    assert metrics["test_rmse"] <= 1.05 * metrics["baseline_rmse"]
    # the naive baseline is computed from the files themselves
    train = read_csv_column(folder / "FB_training_data.csv", "Open")
    test = read_csv_column(folder / "FB_test_data.csv", "Open")
    prev = np.concatenate([train[-1:], test[:-1]])
    assert np.isclose(metrics["baseline_rmse"], np.sqrt(np.mean((prev - test) ** 2)))
    with open(tmp_path / "history.csv") as fh:
        losses = [float(r["loss"]) for r in csv.DictReader(fh)]
    assert losses[-1] < losses[0]
    assert any("40" in note for note in result.notes)

    model = load_model(tmp_path / "model.rnnlab")
    assert model.metadata["kind"] == "forecast"
    assert model.metadata["lookback"] == 40 and model.metadata["column"] == "Open"
    assert model.metadata["columns"] == ["Open"] and model.metadata["normalize"] == "window"
    rows = forecast_csv(model, folder / "FB_training_data.csv")
    assert len(rows) == len(train) - 40 + 1
    assert rows[0][0] == 40 and rows[-1][0] == len(train)  # the last one is the next day


def test_stocks_seed_preset_smoke_scales_prices_globally(tmp_path, shared_data):
    """The tutorial's recipe (min-max scaled prices) runs with --smoke; its January 2020 inputs
    lie above the training range, and it loses to the naive forecast."""
    result = run_experiment("stocks", {"preset": "seed"}, smoke=True, out=tmp_path, verbose=0,
                            data=shared_data / "stocks")
    assert result.config["normalize"] == "global" and result.config["scaler"] == "minmax"
    assert result.metrics["test_rmse"] > result.metrics["baseline_rmse"]
    meta = load_model(tmp_path / "model.rnnlab").metadata
    assert meta["normalize"] == "global" and meta["scaler"]["class_name"] == "MinMaxScaler"
