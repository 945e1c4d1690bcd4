import json

import numpy as np
import pytest

from rnnlab.experiments import resolve_config, run_experiment
from rnnlab.experiments.charlm import build_model, char_rnn_split, contiguous_split, resolve
from rnnlab.layers import LSTM, SimpleRNN
from rnnlab.models import load_model
from rnnlab.optimizers import Adagrad, RMSprop


def test_charlm_smoke_writes_files_learns_and_samples(shared_data, tmp_path):
    run_experiment("charlm", smoke=True, out=tmp_path, verbose=0,
                   data=shared_data / "tinyshakespeare")
    for name in ("config.json", "metrics.json", "history.csv", "model.rnnlab", "samples.txt",
                 "samples.png", "loss.png"):
        assert (tmp_path / name).exists(), name
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert {"val_loss_nats_per_char", "train_loss", "seconds_per_epoch"} <= set(metrics)
    assert metrics["vocab_size"] == 65
    history = np.genfromtxt(tmp_path / "history.csv", delimiter=",", names=True)
    assert history["loss"][-1] < history["loss"][0]
    samples = (tmp_path / "samples.txt").read_text()
    assert samples.count("ROMEO:") == 4 and "temperature 0.8" in samples and "top-k 5" in samples
    model = load_model(tmp_path / "model.rnnlab")
    assert model.metadata["kind"] == "charlm" and len(model.metadata["chars"]) == 65
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["recipe"] == "char-rnn" and config["lr_decay_after"] == 10


def test_min_char_rnn_recipe_smoke(shared_data, tmp_path):
    result = run_experiment("charlm", {"cell": "rnn", "optimizer": "adagrad", "max_batches": 40,
                                       "hidden": 0, "seq_length": 0, "lr": 0.0, "layers": 0},
                            smoke=True, out=tmp_path, verbose=0,
                            data=shared_data / "tinyshakespeare")
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["recipe"] == "min-char-rnn"
    assert (config["hidden"], config["seq_length"], config["lr"]) == (100, 25, 0.1)
    assert result.metrics["train_chars"] == 40 * 8 * 25   # smoke batch 8 kept


def test_recipes_and_reference_clipping():
    c = resolve(resolve_config("charlm", {}))
    assert (c["hidden"], c["layers"], c["seq_length"], c["batch_size"], c["lr"]) == (
        128, 2, 50, 50, 2e-3)
    model = build_model(c, 65)
    assert isinstance(model.layers[0], LSTM) and model.layers[0].stateful
    opt = model.optimizer
    assert isinstance(opt, RMSprop) and opt.rho == 0.95
    assert opt.clipvalue == pytest.approx(5.0 / 50)       # element-wise, per-time-step units
    assert opt.clipnorm is None and opt.global_clipnorm is None

    m = resolve(resolve_config("charlm", {"cell": "rnn", "optimizer": "adagrad"}))
    assert (m["hidden"], m["layers"], m["seq_length"], m["batch_size"], m["lr"]) == (
        100, 1, 25, 1, 0.1)
    model = build_model(m, 65)
    assert isinstance(model.layers[0], SimpleRNN)
    opt = model.optimizer
    assert isinstance(opt, Adagrad) and opt.initial_accumulator_value == 0.0
    assert opt.clipvalue == pytest.approx(5.0 / 25)
    # an explicit value overrides the recipe's
    assert resolve(resolve_config("charlm", {"hidden": 64}))["hidden"] == 64


def test_unknown_cell_or_optimizer_is_a_clear_error():
    with pytest.raises(ValueError, match=r"--cell must be one of \['lstm', 'gru', 'rnn'\]"):
        resolve_config("charlm", {"cell": "transformer"})
    with pytest.raises(ValueError, match="--optimizer must be one of"):
        resolve_config("charlm", {"optimizer": "lbfgs"})


def test_char_rnn_split_validates_on_the_tail_of_every_row():
    ids = np.arange(205)                              # cut to 200 = 10 batches of 2 x 10
    train, val = char_rnn_split(ids, 2, 10, 0.95, 205)
    assert (len(train), len(val)) == (9, 1)           # floor(10 * 0.95) train windows
    x, y = train[0]
    assert x.shape == (2, 10, 205) and x.dtype == np.float32
    np.testing.assert_array_equal(x.argmax(-1), [np.arange(10), np.arange(100, 110)])
    np.testing.assert_array_equal(train[1][0].argmax(-1)[:, 0], [10, 110])  # rows continue
    xv, yv = val[0]
    np.testing.assert_array_equal(xv.argmax(-1), [np.arange(90, 100), np.arange(190, 200)])
    np.testing.assert_array_equal(yv, [np.arange(91, 101), [*range(191, 200), 0]])  # wraps
    assert train.tokens == 9 * 2 * 10


def test_contiguous_split_validates_on_the_end_of_the_text():
    ids = np.arange(400) % 50
    train, val = contiguous_split(ids, 2, 10, 0.75, 50)
    x, y = val[0]
    np.testing.assert_array_equal(x.argmax(-1)[:, 1:], y[:, :-1])
    np.testing.assert_array_equal(x.argmax(-1)[0], np.arange(300, 310) % 50)
    assert len(train) == (300 // 2 - 1) // 10
