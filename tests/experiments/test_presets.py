"""``--preset``: named recipes laid over an experiment's defaults; every seed preset runs with
``--smoke``; the counting seed recipe reproduces the source's printed trajectory exactly."""

import json

import pytest

from rnnlab.cli import main
from rnnlab.experiments import get_experiment, run_experiment
from rnnlab.experiments.runner import resolve_config

DATA = {"sentiment-tiny": "tiny_sentiment", "ptb": "ptb", "mnist-rows": "mnist"}
SEEDED = ("sine", "counting", "sentiment-tiny", "ptb", "mnist-rows")


def test_preset_is_laid_over_the_defaults_then_smoke_then_options():
    exp = get_experiment("sine")
    config = resolve_config("sine", {"lr": 0.25}, smoke=True, preset="seed")
    assert config["activation"] == "sigmoid" and config["optimizer"] == "sgd"
    assert config["hidden"] == exp.smoke["hidden"]      # smoke over the preset
    assert config["lr"] == 0.25                        # options over both
    assert resolve_config("sine", {})["activation"] == "tanh"   # the tuned recipe stays default


def test_unknown_preset_is_a_clear_error(capsys):
    with pytest.raises(KeyError, match="no preset 'nope'.*seed"):
        resolve_config("sine", {}, preset="nope")
    assert main(["run", "sine", "--preset", "nope", "--smoke"]) == 2
    assert "no preset 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize("name", SEEDED)
def test_every_seed_preset_runs_with_smoke(name, tmp_path, shared_data):
    data = shared_data / DATA[name] if name in DATA else None
    result = run_experiment(name, smoke=True, preset="seed", out=tmp_path, verbose=0, data=data)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["preset"] == "seed"
    for key, value in get_experiment(name).presets["seed"].items():
        if key not in get_experiment(name).smoke:
            assert config[key] == value, key
    assert result.metrics


def test_mnist_seed_preset_checks_the_two_engines(tmp_path, shared_data):
    result = run_experiment("mnist-rows", {"limit": 120}, smoke=True, preset="seed",
                            out=tmp_path, verbose=0, data=shared_data / "mnist")
    assert result.metrics["engines_same_predictions"] == 1
    assert result.metrics["engines_max_abs_diff"] < 1e-5          # float32 outputs
    from rnnlab.models import load_model

    names = [type(layer).__name__ for layer in load_model(tmp_path / "model.rnnlab").layers]
    assert names == ["LSTM", "BatchNormalization", "Dense"]


def test_counting_seed_recipe_follows_the_source_to_epoch_600(tmp_path):
    """The source's gradient-descent run (seed 002): cost 475.3019 at epoch 300, 362.6525 at
    500 (the plateau) and 0.2677 at 600."""
    result = run_experiment("counting", {"gd_iterations": 600, "rmsprop_iterations": 1},
                            preset="seed", out=tmp_path, verbose=0)
    m = result.metrics
    assert m["gd_loss_at_300"] == pytest.approx(475.3019, abs=1e-3)
    assert m["gd_loss_at_500"] == pytest.approx(362.6525, abs=1e-3)
    assert m["gd_loss_at_600"] == pytest.approx(0.2677, abs=1e-3)
