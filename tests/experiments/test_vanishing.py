import gc
import json

import numpy as np
import pytest

from rnnlab.experiments import run_experiment
from rnnlab.experiments.vanishing import BASELINE_MSE, adding_problem


@pytest.fixture(autouse=True)
def _free_figures():
    """The run's figures are closed and matplotlib's cyclic garbage collected before the next
    test (some of it is freed only by weakref callbacks during a collection)."""
    yield
    for _ in range(3):
        gc.collect()


def test_adding_problem_data() -> None:
    x, y = adding_problem(2000, 10, np.random.default_rng(0), dtype="float64")
    assert x.shape == (2000, 10, 2) and y.shape == (2000, 1)
    markers = x[..., 1]
    assert (markers.sum(axis=1) == 2).all()
    assert (markers[:, :5].sum(axis=1) == 1).all()          # one in each half
    np.testing.assert_allclose(y[:, 0], (x[..., 0] * markers).sum(axis=1))
    assert np.mean((y - 1.0) ** 2) == pytest.approx(BASELINE_MSE, abs=0.01)


def test_vanishing_smoke_writes_files_and_metrics(tmp_path) -> None:
    result = run_experiment("vanishing", smoke=True, out=tmp_path, verbose=0)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    for T in (10, 20):
        assert (tmp_path / f"gradflow_T{T}.png").exists()
        for cell in ("simple_rnn", "lstm", "gru"):
            assert np.isfinite(metrics[f"{cell}_T{T}_mse"])
            assert metrics[f"{cell}_T{T}_grad_ratio"] > 0
            assert (tmp_path / f"model-{cell}_T{T}.rnnlab").exists()
    for name in ("mse.png", "curves.png", "gradflow.json"):
        assert (tmp_path / name).exists()
    flows = json.loads((tmp_path / "gradflow.json").read_text())
    assert len(flows["lstm_T20"]["end"]) == 20
    assert result.metrics == metrics


def test_vanishing_rejects_bad_settings(tmp_path) -> None:
    with pytest.raises(ValueError, match="unknown"):
        run_experiment("vanishing", {"cells": "lstm,tcn"}, smoke=True, out=tmp_path, verbose=0)


@pytest.mark.slow
def test_vanishing_target_lstm_solves_length_100(tmp_path) -> None:
    m = run_experiment("vanishing", {"lengths": "100"}, out=tmp_path, verbose=0).metrics
    assert m["lstm_T100_mse"] < 0.1 * BASELINE_MSE
    # the trained SimpleRNN's gradient at the first step is orders of magnitude below the LSTM's
    assert m["simple_rnn_T100_grad_ratio"] < 1e-3 * m["lstm_T100_grad_ratio"]
