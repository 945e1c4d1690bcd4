"""The ``rnnlab`` command: listing, running, using models, and one-line user errors."""

import json
import subprocess
import sys

import numpy as np
import pytest

from rnnlab.cli import main
from rnnlab.experiments import experiments, run_experiment
from rnnlab.saving import load_model


@pytest.fixture(scope="module")
def forecast_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("timeseries")
    run_experiment("timeseries", {"variant": "none", "columns": "temperature"}, smoke=True,
                   out=out, verbose=0)
    return out / "model.rnnlab", out / "climate.csv"


@pytest.fixture(scope="module")
def sine_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("sine")
    run_experiment("sine", smoke=True, out=out, verbose=0)
    return out / "model.rnnlab"


def user_error(capsys, argv):
    """Run the CLI expecting a user error: exit status 2, one line on stderr, no traceback."""
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2, (code, captured)
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("rnnlab: error: ")
    assert "Traceback" not in captured.err + captured.out
    return lines[0]


def parse_error(capsys, argv):
    """argparse errors exit through SystemExit(2) with the same one-line format."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    captured = capsys.readouterr()
    assert info.value.code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rnnlab: error: "), captured.err
    return lines[0]


# -- normal use -------------------------------------------------------------------------------
def test_list_shows_every_experiment(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in experiments():
        assert name in out
    for name in ("sine", "sentiment-tiny", "stocks", "timeseries", "addition"):
        assert name in out


def test_list_verbose_shows_settings(capsys):
    assert main(["list", "--verbose"]) == 0
    assert "bptt_truncate=5" in capsys.readouterr().out


def test_run_sine_smoke(tmp_path, capsys):
    out = tmp_path / "sine"
    assert main(["run", "sine", "--smoke", "--quiet", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "val_rmse" in printed and "predictions.png" in printed
    for name in ("config.json", "metrics.json", "history.csv", "model.rnnlab", "predictions.png",
                 "loss.png"):
        assert (out / name).exists(), name
    config = json.loads((out / "config.json").read_text())
    assert config["experiment"] == "sine" and config["smoke"] is True
    from rnnlab import kernels

    assert config["engine"] == kernels.run_engine()
    assert config["engine"]["engine"] == ("compiled" if kernels.numba_status()[0] else "reference")
    assert f"rnnlab: engine {config['engine']['engine']} (" in printed


def test_run_says_why_it_falls_back(tmp_path, capsys, monkeypatch):
    from rnnlab import kernels

    monkeypatch.setattr(kernels, "_numba_state", {"ok": False, "detail": "ImportError: numba"})
    out = tmp_path / "sine"
    assert main(["run", "sine", "--smoke", "--quiet", "--out", str(out), "--epochs", "1"]) == 0
    assert "rnnlab: engine reference (numba unavailable: ImportError: numba)" in (
        capsys.readouterr().out)
    config = json.loads((out / "config.json").read_text())
    assert config["engine"] == {"engine": "reference",
                                "why": "numba unavailable: ImportError: numba"}


def test_run_option_overrides(tmp_path, capsys):
    out = tmp_path / "sine"
    assert main(["run", "sine", "--smoke", "--quiet", "--out", str(out), "--epochs", "2",
                 "--hidden", "8", "--lr=0.01"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert (config["epochs"], config["hidden"], config["lr"]) == (2, 8, 0.01)


def test_info_on_a_saved_model(forecast_model, capsys):
    model, _ = forecast_model
    assert main(["info", str(model)]) == 0
    out = capsys.readouterr().out
    assert "GRU" in out and '"kind": "forecast"' in out and "rnnlab forecast" in out


def test_forecast_on_a_small_csv(forecast_model, tmp_path, capsys):
    model, climate = forecast_model
    lines = climate.read_text().splitlines()
    small = tmp_path / "small.csv"
    small.write_text("\n".join(lines[:41]) + "\n")  # header + 40 rows
    assert main(["forecast", str(model), "--csv", str(small), "--column", "temperature"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0] == "index,prediction"
    lookback, horizon = 24, 6  # the smoke settings
    assert len(out) - 1 == 40 - lookback + 1
    first = out[1].split(",")
    assert int(first[0]) == lookback - 1 + horizon and np.isfinite(float(first[1]))
    dest = tmp_path / "pred.csv"
    assert main(["forecast", str(model), "--csv", str(small), "--out", str(dest)]) == 0
    assert dest.read_text().splitlines() == out


def test_predict_on_a_npy_file(forecast_model, sine_model, tmp_path, capsys):
    model, _ = forecast_model
    windows = tmp_path / "windows.npy"
    np.save(windows, np.linspace(0, 5, 3 * 24).reshape(3, 24))
    dest = tmp_path / "out.npy"
    assert main(["predict", str(model), "--input", str(windows), "--out", str(dest)]) == 0
    assert np.load(dest).shape == (3,)
    waves = tmp_path / "waves.npy"
    np.save(waves, np.sin(np.arange(50.0))[None, :, None].repeat(2, axis=0))
    capsys.readouterr()
    assert main(["predict", str(sine_model), "--input", str(waves)]) == 0
    printed = capsys.readouterr().out
    expected = load_model(sine_model).predict(np.load(waves), verbose=0).reshape(-1)
    shown = np.array([float(v) for v in printed.replace("[", " ").replace("]", " ").split()])
    assert shown.size == expected.size and expected.size > 0
    np.testing.assert_allclose(shown, expected, rtol=0, atol=1e-5)  # printed to 5 decimals


def test_python_dash_m_rnnlab_list():
    proc = subprocess.run([sys.executable, "-m", "rnnlab", "list"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "sine" in proc.stdout and "timeseries" in proc.stdout


def test_python_dash_m_rnnlab_user_error():
    proc = subprocess.run([sys.executable, "-m", "rnnlab", "run", "no-such-experiment"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert proc.stderr.startswith("rnnlab: error: unknown experiment")


# -- user errors: one line, exit status 2 -----------------------------------------------------
def test_unknown_experiment(capsys):
    line = user_error(capsys, ["run", "no-such-experiment"])
    assert "unknown experiment" in line and "sine" in line


def test_unknown_option(capsys, tmp_path):
    line = user_error(capsys, ["run", "sine", "--smoke", "--out", str(tmp_path),
                               "--no-such-option", "3"])
    assert "no_such_option" in line and "bptt_truncate" in line
    assert not (tmp_path / "config.json").exists()


def test_option_without_value(capsys):
    assert "needs a value" in user_error(capsys, ["run", "sine", "--hidden"])


@pytest.mark.parametrize("argv, expected", [
    (["run", "sine", "--lr", "fast"], "--lr expects a number, got 'fast'"),
    (["run", "sine", "--hidden", "2.5"], "--hidden expects a whole number"),
    (["run", "addition", "--reverse", "maybe"], "--reverse expects true or false"),
    (["run", "sine", "--epochs", "0"], "--epochs must be at least 1"),
    (["run", "timeseries", "--variant", "lstm"], "--variant must be one of"),
])
def test_bad_option_value(capsys, argv, expected):
    assert expected in user_error(capsys, argv)


def test_bad_option_type_from_argparse(capsys):
    assert "invalid int value: 'abc'" in parse_error(capsys, ["run", "sine", "--epochs", "abc"])


def test_unrecognized_arguments_and_missing_command(capsys):
    assert "unrecognized arguments" in parse_error(capsys, ["list", "--bogus"])
    parse_error(capsys, [])
    assert "--csv" in parse_error(capsys, ["forecast", "model.rnnlab"])


def test_missing_data_folder(capsys, tmp_path):
    line = user_error(capsys, ["run", "stocks", "--smoke", "--quiet", "--out",
                               str(tmp_path / "o"), "--data", str(tmp_path / "nowhere")])
    assert "does not exist" in line


def test_data_folder_without_the_files(capsys, tmp_path):
    line = user_error(capsys, ["run", "sentiment-tiny", "--smoke", "--quiet", "--out",
                               str(tmp_path / "o"), "--data", str(tmp_path)])
    assert "train.csv" in line and "--data" in line


def test_malformed_csv(capsys, forecast_model, tmp_path):
    model, _ = forecast_model
    bad = tmp_path / "bad.csv"
    bad.write_text("temperature,x\n1,2\n3\n4,5\n")
    assert "malformed row" in user_error(capsys, ["forecast", str(model), "--csv", str(bad)])
    text = tmp_path / "text.csv"
    text.write_text("temperature\n1\nwarm\n")
    assert "not numbers" in user_error(capsys, ["forecast", str(model), "--csv", str(text)])


def test_malformed_csv_for_the_timeseries_experiment(capsys, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3\n")
    line = user_error(capsys, ["run", "timeseries", "--smoke", "--quiet", "--out",
                               str(tmp_path / "o"), "--data", str(bad), "--column", "a"])
    assert "malformed row" in line


def test_unknown_column(capsys, forecast_model):
    model, climate = forecast_model
    line = user_error(capsys, ["forecast", str(model), "--csv", str(climate), "--column",
                               "dewpoint"])
    assert "dewpoint" in line and "'temperature'" in line and "'pressure'" in line


def test_too_few_rows_for_the_lookback(capsys, forecast_model, tmp_path):
    model, climate = forecast_model
    short = tmp_path / "short.csv"
    short.write_text("\n".join(climate.read_text().splitlines()[:6]) + "\n")
    line = user_error(capsys, ["forecast", str(model), "--csv", str(short)])
    assert "5 row(s)" in line and "at least 24" in line


def test_missing_csv(capsys, forecast_model, tmp_path):
    model, _ = forecast_model
    line = user_error(capsys, ["forecast", str(model), "--csv", str(tmp_path / "none.csv")])
    assert "not found" in line


def test_empty_text_file_where_text_is_expected(capsys, tmp_path, shared_data):
    out = tmp_path / "st"
    run_experiment("sentiment-tiny", smoke=True, out=out, verbose=0,
                   data=shared_data / "tiny_sentiment")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n")
    line = user_error(capsys, ["predict", str(out / "model.rnnlab"), "--input", str(empty)])
    assert "empty" in line


def test_text_file_for_a_numeric_model(capsys, sine_model, tmp_path):
    text = tmp_path / "x.txt"
    text.write_text("hello\n")
    assert ".npy" in user_error(capsys, ["predict", str(sine_model), "--input", str(text)])


def test_npy_of_the_wrong_shape(capsys, sine_model, forecast_model, tmp_path):
    arr = tmp_path / "a.npy"
    np.save(arr, np.zeros((2, 7)))
    assert "(2, 7)" in user_error(capsys, ["predict", str(sine_model), "--input", str(arr)])
    model, _ = forecast_model
    assert "(2, 7)" in user_error(capsys, ["predict", str(model), "--input", str(arr)])


def test_model_of_the_wrong_kind_for_forecast(capsys, sine_model, forecast_model):
    _, climate = forecast_model
    line = user_error(capsys, ["forecast", str(sine_model), "--csv", str(climate)])
    assert "'regression'" in line and "sine" in line and "rnnlab run timeseries" in line


def test_corrupt_model_file(capsys, tmp_path, forecast_model):
    corrupt = tmp_path / "corrupt.rnnlab"
    corrupt.write_bytes(b"this is not a model")
    for argv in (["info", str(corrupt)],
                 ["forecast", str(corrupt), "--csv", str(forecast_model[1])],
                 ["predict", str(corrupt), "--input", str(corrupt)]):
        assert "corrupt.rnnlab" in user_error(capsys, argv)
    truncated = tmp_path / "truncated.rnnlab"
    truncated.write_bytes(forecast_model[0].read_bytes()[:200])
    assert "truncated.rnnlab" in user_error(capsys, ["info", str(truncated)])


def test_missing_model_file(capsys, tmp_path):
    assert "no-model.rnnlab" in user_error(capsys, ["info", str(tmp_path / "no-model.rnnlab")])


def test_run_without_matplotlib_says_how_to_install_it_before_training(tmp_path, capsys,
                                                                      monkeypatch):
    """A plain ``pip install rnnlab`` has no matplotlib: ``rnnlab run`` stops at once with the
    install command (exit 2), not with an internal error after training."""
    import importlib.util

    from rnnlab.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else real(name, *a))
    out = tmp_path / "run"
    assert main(["run", "sine", "--smoke", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "matplotlib" in err and "pip install 'rnnlab[lab]'" in err and "internal" not in err
    assert not out.exists()
