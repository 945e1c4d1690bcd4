"""One slow test per RESULTS.md row: the experiment at the setting the row reports (full, or
the documented reduced run), asserting the row's target. Run with ``pytest -m slow``; each runs
minutes to hours on two cores (the times are in RESULTS.md)."""

import pytest

from rnnlab.experiments import run_experiment

pytestmark = pytest.mark.slow


def _run(name, tmp_path, data=None, overrides=None, preset=None):
    return run_experiment(name, overrides or {}, out=tmp_path, verbose=0, data=data,
                          preset=preset).metrics


# -- the tuned defaults --------------------------------------------------------------------------
def test_counting_target(tmp_path):
    m = _run("counting", tmp_path)
    for label in ("gd", "rmsprop"):
        assert abs(m[f"{label}_w_x"] - 1) < 0.05 and abs(m[f"{label}_w_rec"] - 1) < 0.05, label


def test_sine_target(tmp_path):
    assert _run("sine", tmp_path)["val_rmse"] <= 0.05


def test_sentiment_tiny_target(tmp_path, shared_data):
    assert _run("sentiment-tiny", tmp_path, shared_data / "tiny_sentiment")["test_accuracy"] == 1.0


def test_charlm_target(tmp_path, shared_data):
    m = _run("charlm", tmp_path, shared_data / "tinyshakespeare")
    assert m["val_loss_nats_per_char"] <= 1.6


def test_charlm_minimal_char_rnn_recipe(tmp_path, shared_data):
    """No published figure: the row reports 1.996 nats/char; the bound is what a working
    character model reaches (a unigram model of Shakespeare is ~3.3 nats/char)."""
    m = _run("charlm", tmp_path, shared_data / "tinyshakespeare",
             {"cell": "rnn", "optimizer": "adagrad"})
    assert m["val_loss_nats_per_char"] <= 2.1


def test_ptb_target(tmp_path, shared_data):
    m = _run("ptb", tmp_path, shared_data / "ptb")
    assert m["val_perplexity"] <= 124


def test_sentiment_target(tmp_path, shared_data):
    m = _run("sentiment", tmp_path, shared_data / "movie_review_polarity")
    assert m["test_accuracy_lstm"] > m["test_accuracy_bag"]


def test_mnist_rows_target(tmp_path, shared_data):
    assert _run("mnist-rows", tmp_path, shared_data / "mnist")["test_accuracy"] >= 0.96


def test_addition_target(tmp_path):
    assert _run("addition", tmp_path)["test_exact_match"] >= 0.99


def test_embeddings_target(tmp_path, shared_data):
    m = _run("embeddings", tmp_path, shared_data / "ptb")
    assert m["queries_listed"] >= 10 and m["plot_written"] == 1
    text = (tmp_path / "neighbours.txt").read_text()
    monday = next(line for line in text.splitlines() if line.startswith("monday: "))
    near = [w.split(" (")[0] for w in monday[len("monday: "):].split(", ")][:3]
    assert set(near) & {"tuesday", "wednesday", "thursday", "friday"}, monday


# -- the seed recipes (--preset seed) ------------------------------------------------------------
def test_counting_seed_preset(tmp_path):
    """Gradient descent follows the source's printed costs and weights (seed 002)."""
    m = _run("counting", tmp_path, preset="seed")
    assert m["gd_loss_at_300"] == pytest.approx(475.3019, abs=1e-3)
    assert m["gd_loss_at_600"] == pytest.approx(0.2677, abs=1e-3)
    assert m["gd_loss_at_2000"] == pytest.approx(0.0663, abs=1e-3)
    assert m["gd_w_x"] == pytest.approx(1.0597, abs=1e-3)
    assert m["gd_w_rec"] == pytest.approx(0.9863, abs=1e-3)
    # RMSProp: the source's optimiser code is not shown; rnnlab's (Keras's) RMSprop reaches the
    # solution later than the source's (RESULTS.md), but reaches it
    assert m["rmsprop_loss_at_2000"] < 0.01
    assert abs(m["rmsprop_w_x"] - 1) < 0.01 and abs(m["rmsprop_w_rec"] - 1) < 0.01


def test_sine_seed_preset(tmp_path):
    """Reported, not met: the seed's loop reaches a validation RMSE of 0.579; the preset's
    shared-input-weight RNN stays at 0.705, no better than predicting 0 (RMSE 0.707)."""
    m = _run("sine", tmp_path, preset="seed")
    assert m["val_rmse"] < 0.75


def test_sentiment_tiny_seed_preset(tmp_path, shared_data):
    m = _run("sentiment-tiny", tmp_path, shared_data / "tiny_sentiment", preset="seed")
    assert m["test_accuracy"] == 1.0


def test_ptb_seed_preset_reduced(tmp_path, shared_data):
    """The documented reduced run: 100 batches of the first epoch, 20 validation batches."""
    m = _run("ptb", tmp_path, shared_data / "ptb",
             {"epochs": 1, "max_batches": 100, "max_valid_batches": 20}, preset="seed")
    assert m["val_perplexity"] < 1200  # from 10,000 (uniform) at the start; measured 963


def test_mnist_rows_seed_preset(tmp_path, shared_data):
    m = _run("mnist-rows", tmp_path, shared_data / "mnist", preset="seed")
    assert m["engines_same_predictions"] == 1 and m["engines_max_abs_diff"] < 1e-5
    assert m["test_accuracy"] >= 0.7  # measured 0.7575 (5 epochs of SGD 0.01 on 7,200 images)
