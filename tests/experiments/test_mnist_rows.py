import gzip
import json

import numpy as np
import pytest

from rnnlab.experiments import run_experiment
from rnnlab.models import load_model


def _history(path):
    rows = np.genfromtxt(path, delimiter=",", names=True)
    return np.atleast_1d(rows["loss"])


def test_mnist_rows_smoke_writes_files_and_learns(tmp_path, shared_data):
    result = run_experiment("mnist-rows", smoke=True, out=tmp_path, verbose=0,
                            data=shared_data / "mnist")
    for name in ("config.json", "metrics.json", "history.csv", "model.rnnlab", "curves.png",
                 "test_digits.png"):
        assert (tmp_path / name).exists(), name
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert {"test_accuracy", "test_loss", "val_accuracy", "train_size",
            "test_size"} <= set(metrics)
    # beats chance (0.1) on 150 test digits by more than four standard errors of guessing
    assert metrics["test_accuracy"] > 0.2
    losses = _history(tmp_path / "history.csv")
    assert len(losses) == result.config["epochs"]
    assert losses[-1] < losses[0]
    model = load_model(tmp_path / "model.rnnlab")
    assert model.metadata["experiment"] == "mnist-rows"
    assert model.metadata["input_shape"] == [28, 28]
    probs = model.predict(np.zeros((3, 28, 28), dtype=np.float32), verbose=0)
    assert probs.shape == (3, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_mnist_rows_split_is_fixed_and_disjoint(shared_data):
    from rnnlab.experiments.context import RunContext
    from rnnlab.experiments.mnist_rows import load_split
    from rnnlab.experiments.runner import resolve_config

    config = resolve_config("mnist-rows", {})
    ctx = RunContext(config=config, out=shared_data, data_dir=shared_data / "mnist")
    a, b = load_split(ctx), load_split(ctx)
    assert (len(a["x_train"]), len(a["x_val"]), len(a["x_test"])) == (7200, 800, 2000)
    np.testing.assert_array_equal(a["x_test"], b["x_test"])
    assert a["x_train"].dtype == np.float32 and a["x_train"].max() <= 1.0
    flat = {img.tobytes() for img in a["x_test"]}
    assert not any(img.tobytes() in flat for img in a["x_train"][:500])


def _write_idx(path, array, magic):
    header = magic.to_bytes(4, "big") + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def test_mnist_rows_uses_the_training_set_when_present(tmp_path):
    rng = np.random.default_rng(0)
    data = tmp_path / "data"
    data.mkdir()
    for prefix, n in (("train", 120), ("t10k", 40)):
        _write_idx(data / f"{prefix}-images-idx3-ubyte.gz",
                   rng.integers(0, 256, (n, 28, 28)), 2051)
        _write_idx(data / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n), 2049)
    result = run_experiment("mnist-rows", {"limit": 0, "epochs": 1}, smoke=True,
                            out=tmp_path / "out", verbose=0, data=data)
    assert result.metrics["test_size"] == 40
    assert result.metrics["train_size"] + result.metrics["val_size"] == 120
    assert any("standard" in note for note in result.notes)


def test_mnist_rows_missing_data_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="t10k-images"):
        run_experiment("mnist-rows", smoke=True, out=tmp_path / "out", verbose=0,
                       data=tmp_path)
