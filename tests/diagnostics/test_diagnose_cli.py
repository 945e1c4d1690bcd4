import json

import numpy as np
import pytest

from rnnlab.cli import main
from rnnlab.experiments import run_experiment
from rnnlab.layers import GRU, Dense
from rnnlab.models import Sequential


def test_diagnose_a_vanishing_run_with_its_own_data(tmp_path, capsys) -> None:
    run_experiment("vanishing", {"lengths": "12", "cells": "lstm"}, smoke=True,
                   out=tmp_path / "run", verbose=0)
    out = tmp_path / "diag"
    assert main(["diagnose", str(tmp_path / "run" / "model-lstm_T12.rnnlab"), "--out",
                 str(out), "--samples", "8"]) == 0
    for name in ("gradient_flow.png", "gates.png", "gradient_flow.json", "gradient_flow.csv",
                 "gates.csv", "gates.json"):
        assert (out / name).stat().st_size > 0, name
    numbers = json.loads((out / "gradient_flow.json").read_text())
    (key,) = numbers["state_grad_norm"]
    assert len(numbers["state_grad_norm"][key]) == 12
    assert len(numbers["cell_grad_norm"][key]) == 12
    assert "diagnosis of" in capsys.readouterr().out


def test_diagnose_with_an_npz_and_clear_errors(tmp_path, capsys) -> None:
    model = Sequential([GRU(3, input_shape=(6, 2)), Dense(1)])
    model.compile("adam", "mse")
    model.save(tmp_path / "m.rnnlab")
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", x=rng.standard_normal((4, 6, 2)), y=rng.standard_normal((4, 1)))
    assert main(["diagnose", str(tmp_path / "m.rnnlab"), "--data", str(tmp_path / "d.npz"),
                 "--out", str(tmp_path / "o")]) == 0
    gates = json.loads((tmp_path / "o" / "gates.json").read_text())
    assert set(next(iter(gates["saturation"].values()))) == {"r", "z", "n"}
    capsys.readouterr()
    assert main(["diagnose", str(tmp_path / "m.rnnlab")]) == 2
    assert "pass --data" in capsys.readouterr().err
    np.savez(tmp_path / "bad.npz", inputs=np.zeros(3))
    assert main(["diagnose", str(tmp_path / "m.rnnlab"), "--data", str(tmp_path / "bad.npz")]) == 2
    assert "expected x and y" in capsys.readouterr().err


@pytest.mark.slow
def test_diagnose_a_character_model_draws_the_heat_map(tmp_path, shared_data) -> None:
    run_experiment("charlm", smoke=True, out=tmp_path / "run",
                   data=shared_data / "tinyshakespeare", verbose=0)
    assert main(["diagnose", str(tmp_path / "run" / "model.rnnlab"), "--out",
                 str(tmp_path / "d"), "--samples", "2"]) == 0
    assert (tmp_path / "d" / "heatmap.png").stat().st_size > 0
