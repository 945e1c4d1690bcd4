"""Callbacks in real ``fit`` runs: EarlyStopping restores the best weights, ModelCheckpoint writes
the named files (every epoch or only the best), TerminateOnNaN stops and the last good checkpoint
survives, a LambdaCallback setting ``stop_training`` stops fit."""

from __future__ import annotations

import os

import numpy as np
import pytest

import rnnlab
from rnnlab import layers
from rnnlab.callbacks import (
    Callback,
    EarlyStopping,
    LambdaCallback,
    ModelCheckpoint,
    TerminateOnNaN,
)


def _model(lr=0.05, seed=0):
    rnnlab.set_random_seed(seed)
    model = rnnlab.Sequential([layers.SimpleRNN(4, input_shape=(5, 2)), layers.Dense(1)])
    model.compile(rnnlab.optimizers.SGD(lr), "mse")
    return model


class WeightLog(Callback):
    """Copies of the weights at the end of every epoch."""

    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append([w.copy() for w in self.model.get_weights()])


def _equal(a, b):
    return all(np.array_equal(u, v) for u, v in zip(a, b))


def _xy(n=16, target=1.0, seed=0):
    x = np.random.default_rng(seed).standard_normal((n, 5, 2))
    return x, np.full((n, 1), target)


def test_early_stopping_restores_the_best_weights():
    model = _model()
    x, y = _xy(target=1.0)
    x_val, y_val = _xy(8, target=-1.0, seed=1)  # training makes validation worse and worse
    log = WeightLog()
    stop = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=20, batch_size=4, verbose=0, callbacks=[log, stop],
                        validation_data=(x_val, y_val))
    val = history.history["val_loss"]
    best = int(np.argmin(val))
    assert len(val) < 20 and stop.stopped_epoch == len(val) - 1  # it stopped early
    assert best < len(val) - 1
    assert _equal(model.get_weights(), log.weights[best])
    assert not _equal(model.get_weights(), log.weights[-1])
    np.testing.assert_allclose(model.evaluate(x_val, y_val, verbose=0), val[best], rtol=1e-5)


def test_model_checkpoint_writes_named_files_and_only_the_best(tmp_path):
    model = _model(lr=0.02)
    x, y = _xy(target=1.0)
    x_val, y_val = _xy(8, target=0.4, seed=1)  # improves first, then overshoots
    every = ModelCheckpoint(str(tmp_path / "all" / "model-{epoch:02d}.hdf5"))
    best = ModelCheckpoint(str(tmp_path / "best" / "model-{epoch:02d}-{val_loss:.4f}.keras"),
                           monitor="val_loss", save_best_only=True)
    log = WeightLog()
    history = model.fit(x, y, epochs=8, batch_size=4, verbose=0, callbacks=[every, best, log],
                        validation_data=(x_val, y_val))
    assert sorted(os.listdir(tmp_path / "all")) == [f"model-{e:02d}.hdf5" for e in range(1, 9)]
    val = history.history["val_loss"]
    improved = [e for e in range(8) if val[e] < min(val[:e], default=np.inf)]
    assert 1 < len(improved) < 8  # the data makes save_best_only matter
    expected = sorted(f"model-{e + 1:02d}-{val[e]:.4f}.keras" for e in improved)
    assert sorted(os.listdir(tmp_path / "best")) == expected
    for e in (0, 4, 7):
        loaded = rnnlab.load_model(tmp_path / "all" / f"model-{e + 1:02d}.hdf5")
        assert _equal(loaded.get_weights(), log.weights[e])
    last_best = rnnlab.load_model(tmp_path / "best" / expected[-1])
    assert _equal(last_best.get_weights(), log.weights[improved[-1]])


class NanAfter:
    """A generator-like dataset after whose batch ``bad`` (counted over epochs) the model's
    weights turn NaN, as diverging weights do (NaN targets are refused before any step)."""

    def __init__(self, bad, model):
        self.bad, self.model = bad, model
        self.count = 0
        self.x, self.y = _xy(4)

    def __iter__(self):
        return self

    def __next__(self):
        self.count += 1
        if self.count == self.bad + 1:
            weights = self.model.get_weights()
            weights[0] = np.full_like(weights[0], np.nan)
            self.model.set_weights(weights)
        return self.x, self.y


def test_terminate_on_nan_keeps_the_last_good_checkpoint(tmp_path, capsys):
    model = _model()
    log = WeightLog()
    checkpoint = ModelCheckpoint(str(tmp_path / "model-{epoch:02d}.hdf5"), monitor="loss")
    batches = []
    counter = LambdaCallback(on_train_batch_end=lambda b, logs: batches.append(logs["loss"]))
    with pytest.warns(UserWarning, match="not saving a checkpoint"):
        history = model.fit(NanAfter(10, model), steps_per_epoch=4, epochs=6, verbose=0,
                            callbacks=[log, counter, TerminateOnNaN(), checkpoint])
    assert "Invalid loss, terminating training" in capsys.readouterr().out
    assert len(batches) == 11 and np.isnan(batches[-1])  # stopped at the first NaN batch
    assert history.epoch == [0, 1, 2]
    assert sorted(os.listdir(tmp_path)) == ["model-01.hdf5", "model-02.hdf5"]
    survivor = rnnlab.load_model(tmp_path / "model-02.hdf5")
    assert all(np.isfinite(w).all() for w in survivor.get_weights())
    assert _equal(survivor.get_weights(), log.weights[1])
    assert not all(np.isfinite(w).all() for w in model.get_weights())


def test_terminate_on_nan_can_raise():
    model = _model()
    with pytest.raises(RuntimeError, match="NaN or Inf loss"):
        model.fit(NanAfter(2, model), steps_per_epoch=4, epochs=2, verbose=0,
                  callbacks=[TerminateOnNaN(raise_error=True)])


def test_lambda_callback_stop_training_stops_fit():
    model = _model()
    x, y = _xy()
    seen = []

    def on_batch(batch, logs):
        seen.append(batch)
        if batch == 1:
            model.stop_training = True

    history = model.fit(x, y, batch_size=2, epochs=5, verbose=0,
                        callbacks=[LambdaCallback(on_train_batch_end=on_batch)])
    assert seen == [0, 1]
    assert history.epoch == [0]
    assert model.optimizer.iterations == 2
    # a later fit starts afresh (stop_training is reset)
    seen.clear()
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert model.optimizer.iterations == 2 + 2 * 2


def test_callbacks_see_the_epoch_logs_and_params():
    model = _model()
    model.compile("sgd", "mse", metrics=["mae"])
    x, y = _xy()
    events = []

    class Recorder(Callback):
        def on_train_begin(self, logs=None):
            events.append(("params", self.params["epochs"], self.params["steps"]))

        def on_epoch_end(self, epoch, logs=None):
            events.append((epoch, sorted(logs)))

        def on_test_end(self, logs=None):
            events.append(("test", sorted(logs)))

    model.fit(x, y, batch_size=4, epochs=2, verbose=0, validation_split=0.25,
              callbacks=[Recorder()], initial_epoch=1)
    assert events[0] == ("params", 2, 3)
    assert events[1] == ("test", ["loss", "mae"])
    assert events[2] == (1, ["loss", "mae", "val_loss", "val_mae"])
