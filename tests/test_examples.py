"""The examples/ scripts (keras-io examples and the Keras RNN guide, ported with only the imports
changed) run end to end on their offline stand-in data in their fast ``--smoke`` setting."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name: str, capsys: pytest.CaptureFixture[str]) -> Any:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    np.random.seed(0)  # noqa: NPY002  (the scripts draw from NumPy's global generator)
    result = module.main(["--smoke"])
    capsys.readouterr()  # the scripts print as the originals do
    return result


def _finite_history(history: dict[str, list[float]], keys: set[str]) -> None:
    assert keys <= set(history), history
    assert all(np.isfinite(v).all() for v in history.values())


def test_rnn_guide_sections(capsys):
    r = run_example("rnn_guide", capsys)
    assert r["return_sequences"] == (2, 10)
    assert r["encoder_decoder"] == (2, 10)
    assert r["stateful"] == ((20, 64), (20, 64))
    assert r["bidirectional"] == (2, 10)
    assert r["mnist_logits"] == (1, 10) and np.isfinite(r["mnist_loss"])
    # nested inputs: two input sequences, two outputs, a (unit_2, unit_3) state
    assert r["nested_outputs"] == [(2, 3), (2, 4, 5)]
    assert r["nested_loss"][-1] < r["nested_loss"][0], r["nested_loss"]


def test_addition_rnn(capsys):
    _finite_history(run_example("addition_rnn", capsys),
                    {"loss", "accuracy", "val_loss", "val_accuracy"})


def test_bidirectional_lstm_imdb(capsys):
    _finite_history(run_example("bidirectional_lstm_imdb", capsys),
                    {"loss", "accuracy", "val_loss", "val_accuracy"})


def test_lstm_character_level_text_generation(capsys):
    r = run_example("lstm_character_level_text_generation", capsys)
    assert np.isfinite(r["loss"]).all()
    assert len(r["generated"]) == 20 and set(r["generated"]) <= set(r["chars"])


def test_lstm_seq2seq_inference_models_reproduce_the_trained_model(capsys):
    r = run_example("lstm_seq2seq", capsys)
    _finite_history(r["history"], {"loss", "accuracy", "val_loss", "val_accuracy"})
    assert len(r["decoded"]) == 3
    # the encoder/decoder rebuilt from model.input and model.layers[i].output, run one step at a
    # time with teacher forcing, give the loaded model's own predictions
    enc_in, dec_in = (d[:4] for d in r["data"])
    full = r["model"].predict([enc_in, dec_in], verbose=0)
    states = r["encoder_model"].predict(enc_in, verbose=0)
    steps = []
    for t in range(dec_in.shape[1]):
        out, h, c = r["decoder_model"].predict([dec_in[:, t:t + 1]] + list(states), verbose=0)
        steps.append(out[:, 0])
        states = [h, c]
    np.testing.assert_allclose(np.stack(steps, axis=1), full, atol=1e-5)


def test_timeseries_weather_forecasting(capsys):
    r = run_example("timeseries_weather_forecasting", capsys)
    _finite_history(r["history"], {"loss", "val_loss"})
    assert r["shapes"] == ((None, 12, 7), (64, 1))  # 72 past steps sampled every 6
    assert len(r["predictions"]) == 5
    # the weights-only checkpoint of the best epoch loads back into the model
    best = int(np.argmin(r["history"]["val_loss"]))
    model = r["model"]
    final = model.get_weights()
    model.load_weights(r["checkpoint"])
    if best == len(r["history"]["val_loss"]) - 1:
        for a, b in zip(model.get_weights(), final, strict=True):
            np.testing.assert_array_equal(a, b)
    x, _ = r["dataset_val"][0]
    assert np.isfinite(model.predict(x, verbose=0)).all()
