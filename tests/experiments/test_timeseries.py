import csv
import json

import numpy as np
import pytest

from rnnlab.data import read_csv_columns, read_csv_header
from rnnlab.experiments import run_experiment
from rnnlab.experiments.forecasting import forecast_csv, predict_file
from rnnlab.experiments.timeseries import synthetic_climate
from rnnlab.models import load_model


def _losses(path):
    with open(path) as fh:
        return [float(r["loss"]) for r in csv.DictReader(fh)]


def test_timeseries_smoke_writes_files_and_beats_the_baseline(tmp_path):
    run_experiment("timeseries", smoke=True, out=tmp_path, verbose=0)
    for name in ("config.json", "metrics.json", "climate.csv", "history-gru.csv",
                 "history-stacked.csv", "history-dense.csv", "model.rnnlab",
                 "model-stacked.rnnlab", "model-dense.rnnlab", "loss.png", "predictions.png"):
        assert (tmp_path / name).exists(), name
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert set(metrics) >= {"val_mae", "gru_val_mae", "stacked_val_mae", "baseline_val_mae",
                            "baseline_test_mae", "dense_val_mae", "dense_test_mae"}
    assert metrics["input_features"] == 4 and metrics["normalize"] == "window"
    # the learning signal: the GRU forecasts better than "the same as now", on both parts
    assert metrics["gru_val_mae"] < 0.9 * metrics["baseline_val_mae"]
    assert metrics["gru_test_mae"] < 0.9 * metrics["baseline_test_mae"]
    losses = _losses(tmp_path / "history-gru.csv")
    assert losses[-1] < losses[0]
    header = read_csv_header(tmp_path / "climate.csv")
    assert header == ["time", "temperature", "pressure", "humidity", "wind"]

    model = load_model(tmp_path / "model.rnnlab")
    meta = model.metadata
    assert meta["kind"] == "forecast" and meta["column"] == "temperature"
    assert meta["columns"] == header[1:] and meta["normalize"] == "window"
    assert meta["lookback"] == 24 and meta["target"] == 0
    rows = forecast_csv(model, tmp_path / "climate.csv")
    table = read_csv_columns(tmp_path / "climate.csv", header[1:])
    assert len(rows) == len(table) - meta["lookback"] + 1
    assert rows[0][0] == meta["lookback"] - 1 + meta["horizon"]
    # the forecasts of the test part are the ones scored in metrics.json
    b2 = round(0.75 * len(table))
    pred = np.array([v for i, v in rows if b2 <= i < len(table)])
    truth = table[b2:, 0]
    assert np.isclose(np.mean(np.abs(pred - truth)), metrics["gru_test_mae"], rtol=1e-4)
    # predict on the same rows saved as .npy gives the same numbers
    np.save(tmp_path / "series.npy", table)
    np.testing.assert_allclose(predict_file(model, tmp_path / "series.npy"),
                               [v for _, v in rows], rtol=1e-6)
    with pytest.raises(ValueError, match="cannot replace one of several"):
        forecast_csv(model, tmp_path / "climate.csv", "pressure")


def test_timeseries_reads_any_csv_column(tmp_path):
    cols = synthetic_climate(500, seed=1)
    path = tmp_path / "weather.csv"
    with open(path, "w") as fh:
        fh.write("when,p (hPa)\n")
        fh.writelines(f"{i},{v}\n" for i, v in enumerate(cols["pressure"]))
    result = run_experiment("timeseries", {"column": "p (hPa)", "variant": "none"}, smoke=True,
                            out=tmp_path / "run", verbose=0, data=path)
    assert "stacked_val_mae" not in result.metrics
    assert load_model(tmp_path / "run" / "model.rnnlab").metadata["column"] == "p (hPa)"
    with pytest.raises(ValueError, match="pass --column NAME.*when, p \\(hPa\\)"):
        run_experiment("timeseries", smoke=True, out=tmp_path / "run2", verbose=0, data=path)
    with pytest.raises(KeyError, match="available columns"):
        run_experiment("timeseries", {"column": "nope"}, smoke=True, out=tmp_path / "run3",
                       verbose=0, data=path)


def test_synthetic_climate_is_deterministic_and_climate_like():
    a, b = synthetic_climate(24 * 400, seed=3), synthetic_climate(24 * 400, seed=3)
    np.testing.assert_array_equal(a["temperature"], b["temperature"])
    t = a["temperature"]
    daily = t.reshape(-1, 24)
    assert daily[190:220].mean() > daily[:30].mean() + 10  # summer is warmer than winter
    assert (daily.max(axis=1) - daily.min(axis=1)).mean() > 3  # a daily cycle
