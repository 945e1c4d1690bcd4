import json

import numpy as np
import pytest

from rnnlab.experiments import resolve_config, run_experiment
from rnnlab.experiments.ptb import PTBSequence, build_model, lr_at
from rnnlab.models import load_model


def test_ptb_smoke_writes_files_and_learns(shared_data, tmp_path):
    result = run_experiment("ptb", smoke=True, out=tmp_path, verbose=0, data=shared_data / "ptb")
    for name in ("config.json", "metrics.json", "history.csv", "model.rnnlab",
                 "perplexity.png"):
        assert (tmp_path / name).exists(), name
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert {"val_perplexity", "train_perplexity", "train_tokens_per_second"} <= set(metrics)
    assert "test_perplexity" not in metrics and metrics["test_held_out"] == 1
    assert any("held out" in note for note in result.notes)
    history = np.genfromtxt(tmp_path / "history.csv", delimiter=",", names=True)
    assert history["loss"][-1] < history["loss"][0]
    assert np.allclose(history["perplexity"], np.exp(history["loss"]))
    model = load_model(tmp_path / "model.rnnlab")
    assert model.metadata["kind"] == "wordlm"
    assert model.metadata["vocab"][:3] == ["the", "<unk>", "<eos>"]


def test_ptb_missing_data_folder_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="pass --data"):
        run_experiment("ptb", smoke=True, out=tmp_path / "out", verbose=0)


def test_reference_learning_rate_schedule():
    c = resolve_config("ptb", {})
    assert [lr_at(c, e) for e in range(7)] == [1.0, 1.0, 1.0, 1.0, 0.5, 0.25, 0.125]
    assert lr_at(c, 12) == 1.0 / 2 ** 9


def test_batches_continue_row_by_row():
    ids = np.arange(1000)
    seq = PTBSequence(ids, batch_size=4, num_steps=5)
    x0, y0 = seq[0]
    x1, _ = seq[1]
    assert x0.shape == (4, 5)
    np.testing.assert_array_equal(y0[:, :-1], x0[:, 1:])
    np.testing.assert_array_equal(x1[:, 0], x0[:, -1] + 1)   # row b of batch 1 continues row b
    np.testing.assert_array_equal(x0[:, 0], np.arange(4) * 250)
    assert len(PTBSequence(ids, 4, 5, max_batches=3)) == 3


def test_fast_and_keras_formulations_compute_the_same_loss(rng):
    base = {"hidden": 8, "layers": 2, "num_steps": 6, "batch_size": 3, "lr": 1.0,
            "max_grad_norm": 5.0, "init_scale": 0.1, "dropout": 0.0}
    fast = build_model({**base, "formulation": "fast"}, 30)
    keras = build_model({**base, "formulation": "keras"}, 30)
    keras.set_weights(fast.get_weights())
    x = rng.integers(0, 30, size=(3, 6))
    y = rng.integers(0, 30, size=(3, 6))
    for _ in range(2):   # the second batch starts from the carried state
        a = fast.test_on_batch(x, y)
        b = keras.test_on_batch(x, y)
        assert a == pytest.approx(b, rel=1e-5)
    assert fast.layers[1].states is not None
    fast.reset_states()
    assert fast.layers[1].states is None


@pytest.mark.parametrize("scale", [1e-4, 1.0, 1e3])  # unclipped, clipped, far past the clip
def test_the_experiments_optimizer_makes_the_reference_sgd_step(scale):
    """The reference clips the gradient of sum_t(mean_b loss), T times the gradient of rnnlab's
    mean loss, at global norm max_grad_norm and steps with lr: the optimizer the experiment
    builds must make that step (read from the model build_model compiles, not restated)."""
    c = resolve_config("ptb", {"hidden": 8, "layers": 2, "num_steps": 7, "batch_size": 3,
                               "lr": 0.7, "max_grad_norm": 2.5})
    model = build_model(c, 30)
    params = {k: v.astype(np.float64) for k, v in model.named_params(trainable_only=True)}
    rng = np.random.default_rng(1)
    grads = {k: scale * rng.standard_normal(v.shape) for k, v in params.items()}
    T = c["num_steps"]
    total = T * np.sqrt(sum(float(np.sum(g * g)) for g in grads.values()))
    factor = min(1.0, c["max_grad_norm"] / total)  # the reference's tf.clip_by_global_norm
    expected = {k: params[k] - c["lr"] * factor * T * grads[k] for k in params}
    model.optimizer.apply(params, grads)
    for k in params:
        np.testing.assert_allclose(params[k], expected[k], rtol=1e-12, atol=1e-15)
    assert (factor < 1.0) == (scale >= 1.0)


def test_ptb_measures_test_perplexity_when_the_test_file_is_there(shared_data, tmp_path):
    # a stand-in test file (a copy of valid): only checks that the metric appears
    folder = tmp_path / "ptb"
    folder.mkdir()
    for split in ("train", "valid"):
        (folder / f"ptb.{split}.txt").symlink_to(shared_data / "ptb" / f"ptb.{split}.txt")
    (folder / "ptb.test.txt").write_text((shared_data / "ptb" / "ptb.valid.txt").read_text())
    result = run_experiment("ptb", {"epochs": 1}, smoke=True, out=tmp_path / "out", verbose=0,
                            data=folder)
    assert result.metrics["test_perplexity"] > 1.0
    assert "test_held_out" not in result.metrics
