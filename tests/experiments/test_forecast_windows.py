"""Window normalisation, short series, input columns and models written before them."""

import json

import numpy as np
import pytest

from rnnlab.data import StandardScaler, read_csv_column
from rnnlab.experiments import resolve_config, run_experiment
from rnnlab.experiments.forecast_setup import fit_window, input_columns
from rnnlab.experiments.forecasting import forecast_csv, predict_file
from rnnlab.experiments.normalization import WindowNormalizer
from rnnlab.models import load_model


def _walk(n, seed=0, level=100.0):
    rng = np.random.default_rng(seed)
    return level + np.cumsum(rng.standard_normal((n, 2)), axis=0)


@pytest.mark.parametrize("mode", ["window", "global"])
def test_normalizer_inverts_its_targets(mode):
    rows = _walk(300)
    norm = WindowNormalizer.fit(rows[:200], mode, target=1, horizon=3)
    x, y, last, raw = norm.windows(rows, lookback=10, horizon=3)
    assert x.shape == (288, 10, 2) and y.shape == (288,)
    np.testing.assert_allclose(last, rows[9:-3, 1])
    np.testing.assert_allclose(raw, rows[12:, 1])
    np.testing.assert_allclose(norm.inverse(y, last), raw, rtol=1e-6)
    again = WindowNormalizer.from_metadata(json.loads(json.dumps(norm.to_metadata())))
    np.testing.assert_allclose(again.windows(rows, 10, 3)[0], x)


def test_window_inputs_do_not_depend_on_the_level():
    """The point of window normalisation: a level training never saw is read in range."""
    rows = _walk(300)
    window = WindowNormalizer.fit(rows[:200], "window", target=0, horizon=1)
    shifted = rows + 500.0
    np.testing.assert_allclose(window.windows(shifted, 10, 1)[0], window.windows(rows, 10, 1)[0],
                               atol=1e-4)
    np.testing.assert_allclose(window.windows(shifted, 10, 1)[1], window.windows(rows, 10, 1)[1],
                               atol=1e-4)
    glob = WindowNormalizer.fit(rows[:200], "global", target=0, horizon=1)
    assert np.abs(glob.windows(shifted, 10, 1)[0]).min() > 10  # far outside the training range
    with pytest.raises(ValueError, match="normalize must be one of"):
        WindowNormalizer.fit(rows, "mean", target=0, horizon=1)


def test_fit_window_chooses_from_the_length():
    assert fit_window(1000, 120, 24, "x") == (120, 24, "")
    lookback, horizon, note = fit_window(72, 120, 24, "air.csv")
    assert (lookback, horizon) == (27, 9) and "do not fit" in note and "72 training rows" in note
    assert lookback + horizon <= 72 // 2


def test_timeseries_on_a_short_series_chooses_lookback_and_says_so(tmp_path):
    t = np.arange(144)
    values = 100 + 2 * t + 30 * np.sin(2 * np.pi * t / 12)
    path = tmp_path / "monthly.csv"
    path.write_text("month,passengers\n" + "".join(f"{i},{v:.3f}\n" for i, v in enumerate(values)))
    result = run_experiment("timeseries", {"column": "passengers", "lookback": 120,
                                           "horizon": 24, "variant": "none"}, smoke=True,
                            out=tmp_path / "run", data=path, verbose=0)
    assert any("do not fit" in note for note in result.notes)
    assert result.metrics["lookback"] + result.metrics["horizon"] <= 36
    assert result.metrics["input_features"] == 2  # every numeric column: the month index too
    meta = load_model(tmp_path / "run" / "model.rnnlab").metadata
    assert meta["lookback"] == result.metrics["lookback"]


def test_input_columns(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("time,t,p,note\n2009-01-01,1.5,1000,ok\n2009-01-02,2.5,1001,ok\n")
    assert input_columns(path, "t", "") == ["t", "p"]
    assert input_columns(path, "p", "t") == ["p", "t"]
    assert input_columns(path, "t", "p, t") == ["p", "t"]


def test_timeseries_columns_option_and_global_normalisation(tmp_path):
    result = run_experiment("timeseries", {"columns": "temperature", "normalize": "global",
                                           "variant": "none"}, smoke=True, out=tmp_path,
                            verbose=0)
    assert result.metrics["input_features"] == 1 and result.metrics["normalize"] == "global"
    meta = load_model(tmp_path / "model.rnnlab").metadata
    assert meta["columns"] == ["temperature"] and meta["normalize"] == "global"
    rows = forecast_csv(load_model(tmp_path / "model.rnnlab"), tmp_path / "climate.csv")
    assert len(rows) == 600 - meta["lookback"] + 1


def test_models_written_before_still_forecast(tmp_path):
    """A model in the format the earlier code wrote: one column, a global StandardScaler in
    ``scaler``, no ``columns`` / ``normalize`` / ``target``."""
    from rnnlab.layers import GRU, Dense
    from rnnlab.models import Sequential
    from rnnlab.random import set_random_seed

    series = _walk(200)[:, 0]
    path = tmp_path / "s.csv"
    path.write_text("level\n" + "".join(f"{v:.6f}\n" for v in series))
    scaler = StandardScaler().fit(series[:100])
    set_random_seed(0)
    model = Sequential([GRU(4, input_shape=(12, 1)), Dense(1)])
    model.compile(optimizer="rmsprop", loss="mae")
    model.metadata = {"kind": "forecast", "experiment": "timeseries", "column": "level",
                      "lookback": 12, "horizon": 2, "scaler": scaler.to_dict(),
                      "variant": "gru", "source": "s.csv"}
    model.save(tmp_path / "old.rnnlab")
    old = load_model(tmp_path / "old.rnnlab")
    rows = forecast_csv(old, path)
    windows = np.lib.stride_tricks.sliding_window_view(series, 12)
    x = scaler.transform(windows.reshape(-1)).reshape(windows.shape)[..., None]
    expected = scaler.inverse_transform(
        np.asarray(model.predict(x.astype(np.float32), verbose=0)).reshape(-1))
    assert [i for i, _ in rows] == list(range(13, 13 + len(windows)))
    np.testing.assert_allclose([v for _, v in rows], expected, rtol=1e-6)
    # --column renames the one input; .npy series and windows give the same numbers
    path2 = tmp_path / "s2.csv"
    path2.write_text("other\n" + "".join(f"{v:.6f}\n" for v in series))
    np.testing.assert_allclose([v for _, v in forecast_csv(old, path2, "other")], expected,
                               rtol=1e-6)
    np.save(tmp_path / "w.npy", windows)
    np.testing.assert_allclose(predict_file(old, tmp_path / "w.npy"), expected, rtol=1e-6)
    assert np.allclose(read_csv_column(path, "level"), series, atol=1e-6)


def test_stocks_seed_preset_is_the_tutorial(shared_data):
    seed = resolve_config("stocks", {"preset": "seed"})
    assert (seed["normalize"], seed["scaler"], seed["layers"], seed["units"], seed["dropout"],
            seed["lookback"], seed["epochs"]) == ("global", "minmax", 4, 45, 0.2, 40, 100)
    assert resolve_config("stocks", {})["normalize"] == "window"
    # options and smoke settings apply on top of the preset
    assert resolve_config("stocks", {"preset": "seed", "epochs": 3})["epochs"] == 3
    assert resolve_config("stocks", {"preset": "seed"}, smoke=True)["normalize"] == "global"
    with pytest.raises(ValueError, match="--preset must be one of"):
        resolve_config("stocks", {"preset": "nope"})
