"""Exact resumes (save, load in a fresh process, continue) and bit-identical reruns from seeds."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import rnnlab
from rnnlab import layers


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((36, 6, 3)).astype("float32")
    y = (x[:, :, 0].sum(axis=1) > 0).astype("int64") + (x[:, -1, 1] > 0)
    return x, y


def _build(seed=3):
    rnnlab.set_random_seed(seed)
    model = rnnlab.Sequential([
        layers.LSTM(8, dropout=0.2, recurrent_dropout=0.3, return_sequences=True,
                    input_shape=(6, 3)),
        layers.Dropout(0.3),
        layers.LSTM(5, dropout=0.1),
        layers.Dense(3, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


FIT = dict(batch_size=8, verbose=0, shuffle=True, validation_split=0.25)


def _same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(np.array_equal(u, v) for u, v in zip(wa, wb))


def test_resume_in_a_fresh_process_is_exact(tmp_path):
    x, y = _data()
    full = _build()
    h_full = full.fit(x, y, epochs=4, **FIT)

    first = _build()
    first.fit(x, y, epochs=2, **FIT)
    first.save(tmp_path / "half.rnnlab")
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    script = textwrap.dedent(f"""
        import json, sys
        import numpy as np
        import rnnlab
        folder = sys.argv[1]
        model = rnnlab.models.load_model(folder + "/half.rnnlab")
        x, y = np.load(folder + "/x.npy"), np.load(folder + "/y.npy")
        history = model.fit(x, y, epochs=4, initial_epoch=2, **{FIT!r})
        model.save(folder + "/done.rnnlab")
        with open(folder + "/history.json", "w") as fh:
            json.dump({{"epoch": history.epoch, "history": history.history}}, fh)
    """)
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, timeout=300)

    resumed = rnnlab.models.load_model(tmp_path / "done.rnnlab")
    assert _same_weights(full, resumed)
    record = json.loads((tmp_path / "history.json").read_text())
    assert record["epoch"] == [2, 3]
    assert record["history"] == {k: v[2:] for k, v in h_full.history.items()}
    # the optimizer state came along too (layer names differ: compare by layer position)
    assert resumed.optimizer.iterations == full.optimizer.iterations == 4 * 4
    state_full, state_resumed = _opt_state(full), _opt_state(resumed)
    assert state_full.keys() == state_resumed.keys() and len(state_full) > 10
    for k, v in state_full.items():
        np.testing.assert_array_equal(state_resumed[k], v)


def _opt_state(model):
    position = {layer.name: str(i) for i, layer in enumerate(model.layers)}
    out = {}
    for key, value in model.optimizer.state_dict().items():
        parts = key.split("/")
        if len(parts) == 3:
            parts[1] = position[parts[1]]
        out["/".join(parts)] = value
    return out


def test_resume_without_the_saved_random_state_would_differ(tmp_path):
    """The resume test is sharp: forgetting the dropout counters changes the result."""
    x, y = _data()
    full = _build()
    full.fit(x, y, epochs=3, **FIT)
    first = _build()
    first.fit(x, y, epochs=2, **FIT)
    first.save(tmp_path / "half.rnnlab")
    resumed = rnnlab.models.load_model(tmp_path / "half.rnnlab")
    resumed.fit(x, y, epochs=3, initial_epoch=2, **FIT)
    assert _same_weights(full, resumed)
    broken = rnnlab.models.load_model(tmp_path / "half.rnnlab")
    for layer in broken.layers:
        layer.rng_calls = 0
    broken.fit(x, y, epochs=3, initial_epoch=2, **FIT)
    assert not _same_weights(full, broken)


def test_set_random_seed_gives_bit_identical_runs():
    x, y = _data()
    runs = []
    for _ in range(2):
        model = _build(seed=42)
        history = model.fit(x, y, epochs=2, **FIT)
        runs.append((model, history.history))
    assert _same_weights(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]
    other = _build(seed=43)
    other_history = other.fit(x, y, epochs=2, **FIT)
    assert not _same_weights(runs[0][0], other)
    assert other_history.history != runs[0][1]


def test_set_random_seed_also_from_rnnlab_utils():
    assert rnnlab.utils.set_random_seed is rnnlab.set_random_seed
    rnnlab.utils.set_random_seed(5)
    a = layers.Dense(3)
    a(np.zeros((1, 4)))
    rnnlab.utils.set_random_seed(5)
    b = layers.Dense(3)
    b(np.zeros((1, 4)))
    np.testing.assert_array_equal(a.get_weights()[0], b.get_weights()[0])
    with pytest.raises(ValueError, match="non-negative integer"):
        rnnlab.set_random_seed(-1)


def _seeded_model(s):
    """Every random layer has its own seed; no global seed is set."""
    model = rnnlab.Sequential([
        layers.LSTM(6, seed=s, dropout=0.2, recurrent_dropout=0.2, return_sequences=True,
                    input_shape=(6, 3)),
        layers.Dropout(0.3, seed=s + 1),
        layers.GRU(3, seed=s + 2),
    ])
    model.compile("adam", "mse")
    return model


def test_per_layer_seeds_give_bit_identical_runs():
    x, _ = _data()
    y = np.tanh(x[:, -3:, :].sum(axis=1))
    rnnlab.set_random_seed(100)  # the global stream moves on between the runs
    a = _seeded_model(7)
    ha = a.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
    rnnlab.set_random_seed(200)
    b = _seeded_model(7)
    hb = b.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
    assert _same_weights(a, b)
    assert ha.history == hb.history
    c = _seeded_model(8)
    c.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
    assert not _same_weights(a, c)


def test_dropout_masks_differ_between_batches_but_repeat_across_runs():
    rnnlab.set_random_seed(9)
    drop = layers.Dropout(0.5)
    x = np.ones((4, 10))
    m1 = drop(x, training=True)
    m2 = drop(x, training=True)
    assert not np.array_equal(m1, m2)
    drop.rng_calls = 0
    np.testing.assert_array_equal(drop(x, training=True), m1)
    np.testing.assert_array_equal(drop(x, training=False), x)


def test_saving_does_not_move_the_global_seed_stream(tmp_path):
    """A checkpoint written in one run and not in the other must not change what follows."""
    weights = []
    for save in (False, True):
        rnnlab.set_random_seed(21)
        model = rnnlab.Sequential([layers.Flatten(input_shape=(2, 2)), layers.Activation("tanh"),
                                   layers.Dense(2)])
        model.compile("sgd", "mse")
        if save:
            model.save(tmp_path / "m.rnnlab")
        later = layers.Dense(3)
        later(np.zeros((1, 2)))
        weights.append(later.get_weights()[0])
    np.testing.assert_array_equal(weights[0], weights[1])
