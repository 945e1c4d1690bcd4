"""Callbacks and progress bars, driven by a fake model and a fake training loop.

The loop below calls the hooks the way ``Model.fit`` does (Keras 3's order), with logs chosen by
each test, so these tests do not depend on the real training loop.
"""

from __future__ import annotations

import math
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rnnlab._registry import deserialize, serialize
from rnnlab.callbacks import (
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    History,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgbarLogger,
    ReduceLROnPlateau,
    TerminateOnNaN,
    resolve_mode,
)
from rnnlab.progress import (
    Progbar,
    format_eta,
    format_time_per_unit,
    format_value,
    make_progbar,
)

NAN = float("nan")
INF = float("inf")


# -- fakes ----------------------------------------------------------------------------------------
class FakeOptimizer:
    def __init__(self, learning_rate: float = 1.0) -> None:
        self.learning_rate = learning_rate


class FakeModel:
    """What callbacks use of a model. Training writes the epoch number into the weights in place,
    so a callback that kept references instead of copies would see them change."""

    def __init__(self, learning_rate: float = 1.0) -> None:
        self.stop_training = False
        self.history: Any = None
        self.optimizer = FakeOptimizer(learning_rate)
        self.weights = [np.zeros(3), np.zeros((2, 2))]
        self.saved: list[tuple[str, str, float]] = []  # (kind, path, weight value)

    def get_weights(self) -> list[np.ndarray]:
        return self.weights  # references, on purpose

    def set_weights(self, weights: list[np.ndarray]) -> None:
        for w, new in zip(self.weights, weights, strict=True):
            w[...] = new

    def train_step(self, epoch: int) -> None:
        for w in self.weights:
            w[...] = epoch

    def _write(self, kind: str, filepath: str) -> None:
        value = float(self.weights[0][0])
        Path(filepath).write_text(f"{kind} weights={value}")
        self.saved.append((kind, filepath, value))

    def save(self, filepath: str, overwrite: bool = True) -> None:
        self._write("model", filepath)

    def save_weights(self, filepath: str, overwrite: bool = True) -> None:
        self._write("weights", filepath)


def fit(model: FakeModel, callbacks: Any, epoch_logs: list[dict[str, Any]], steps: int | None = 2,
        verbose: int = 0, batch_losses: dict[tuple[int, int], float] | None = None,
        validation: bool = False) -> History:
    """Keras 3's hook order. Epoch ``e`` writes ``e`` into the weights and ends with
    ``epoch_logs[e]``; batch logs hold ``loss`` (from ``batch_losses`` or the epoch's loss)."""
    cbl = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=model,
                       verbose=verbose, epochs=len(epoch_logs), steps=steps)
    model.stop_training = False
    cbl.on_train_begin()
    logs: dict[str, Any] | None = None
    n_batches = steps if steps is not None else 3
    for epoch, chosen in enumerate(epoch_logs):
        cbl.on_epoch_begin(epoch)
        for batch in range(n_batches):
            cbl.on_train_batch_begin(batch)
            model.train_step(epoch)
            loss = (batch_losses or {}).get((epoch, batch), chosen.get("loss", 1.0))
            cbl.on_train_batch_end(batch, {"loss": np.float64(loss)})
            if model.stop_training:
                break
        if validation:
            cbl.on_test_begin()
            for batch in range(2):
                cbl.on_test_batch_begin(batch)
                cbl.on_test_batch_end(batch, {"loss": 9.0})
            cbl.on_test_end({"loss": 9.0})
        logs = dict(chosen)
        cbl.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    cbl.on_train_end(logs)
    return model.history


def val_losses(*values: float) -> list[dict[str, float]]:
    return [{"loss": 1.0, "val_loss": v} for v in values]


# -- History and CallbackList ---------------------------------------------------------------------
def test_history_records_every_epoch_and_is_set_on_the_model():
    model = FakeModel()
    history = fit(model, None, [{"loss": 0.5, "val_loss": 0.7}, {"loss": 0.4, "val_loss": 0.6}])
    assert isinstance(history, History)
    assert model.history is history
    assert history.epoch == [0, 1]
    assert history.history == {"loss": [0.5, 0.4], "val_loss": [0.7, 0.6]}
    assert history.params == {"verbose": 0, "epochs": 2, "steps": 2}


def test_callback_list_order_defaults_and_params():
    model = FakeModel()
    user = Callback()
    cbl = CallbackList([user], add_history=True, add_progbar=True, model=model, verbose=1,
                       epochs=3, steps=5)
    assert cbl.callbacks[0] is user
    assert isinstance(cbl.callbacks[1], History) and isinstance(cbl.callbacks[2], ProgbarLogger)
    assert model.history is cbl.history
    assert user.model is model and user.params == {"verbose": 1, "epochs": 3, "steps": 5}
    # a History or ProgbarLogger given by the user is reused, not duplicated
    mine = History()
    cbl = CallbackList([[mine]], add_history=True, model=model)
    assert cbl.callbacks == [mine] and model.history is mine
    cbl.append(user)
    assert len(cbl) == 2 and user.model is model
    with pytest.raises(TypeError, match="Callback"):
        CallbackList([lambda logs: None])


def test_callback_list_batch_logs_are_python_floats_and_epoch_logs_are_shared():
    seen: dict[str, Any] = {}
    model = FakeModel(learning_rate=0.25)
    spy = LambdaCallback(on_train_batch_end=lambda batch, logs: seen.update(logs))
    history = fit(model, [LearningRateScheduler(lambda epoch, lr: lr), spy], [{"loss": 0.5}])
    assert type(seen["loss"]) is float
    # learning_rate added to the epoch logs by one callback reaches History
    assert history.history["learning_rate"] == [0.25]


def test_base_callback_train_batch_hooks_call_legacy_aliases():
    calls = []

    class Legacy(Callback):
        def on_batch_begin(self, batch, logs=None):
            calls.append(("begin", batch))

        def on_batch_end(self, batch, logs=None):
            calls.append(("end", batch, logs["loss"]))

    fit(FakeModel(), [Legacy()], [{"loss": 0.5}], steps=1)
    assert calls == [("begin", 0), ("end", 0, 0.5)]


# -- EarlyStopping --------------------------------------------------------------------------------
def test_early_stopping_stops_after_patience_and_restores_best_weights(capsys):
    model = FakeModel()
    es = EarlyStopping(patience=2, restore_best_weights=True, verbose=1)
    history = fit(model, [es], val_losses(1.0, 0.8, 0.9, 0.85, 0.7, 0.6))
    assert history.epoch == [0, 1, 2, 3]  # epochs 2 and 3 do not improve on 0.8
    assert es.stopped_epoch == 3 and es.best_epoch == 1 and es.best == 0.8
    assert all(np.all(w == 1.0) for w in model.weights)  # epoch 1's weights, not epoch 3's
    out = capsys.readouterr().out
    assert "Epoch 4: early stopping" in out
    assert "Restoring model weights from the end of the best epoch: 2." in out


def test_early_stopping_restores_best_weights_even_without_stopping():
    model = FakeModel()
    es = EarlyStopping(patience=5, restore_best_weights=True)
    history = fit(model, [es], val_losses(1.0, 0.5, 0.7))
    assert len(history.epoch) == 3 and es.stopped_epoch == 0
    assert np.all(model.weights[0] == 1.0)


def test_early_stopping_without_restore_keeps_last_weights():
    model = FakeModel()
    fit(model, [EarlyStopping(patience=1)], val_losses(1.0, 2.0, 3.0))
    assert np.all(model.weights[0] == 1.0)  # stopped in epoch 1, its weights are kept


def test_early_stopping_min_delta_mode_and_auto_max():
    # improvements smaller than min_delta do not count
    history = fit(FakeModel(), [EarlyStopping(min_delta=0.1, patience=1)],
                  val_losses(1.0, 0.95, 0.92, 0.5))
    assert history.epoch == [0, 1]
    # accuracy is maximised in auto mode
    logs = [{"loss": 1.0, "val_accuracy": a} for a in (0.5, 0.6, 0.7, 0.65, 0.6)]
    es = EarlyStopping(monitor="val_accuracy", patience=2)
    history = fit(FakeModel(), [es], logs)
    assert history.epoch == [0, 1, 2, 3, 4] and es.stopped_epoch == 4 and es.best == 0.7
    # explicit mode="max" on a loss stops as soon as it goes down
    history = fit(FakeModel(), [EarlyStopping(monitor="loss", mode="max")],
                  [{"loss": v} for v in (1.0, 0.9, 0.8)])
    assert history.epoch == [0, 1]


def test_early_stopping_patience_zero_stops_at_first_non_improvement():
    history = fit(FakeModel(), [EarlyStopping()], val_losses(1.0, 0.9, 0.95, 0.5))
    assert history.epoch == [0, 1, 2]


def test_early_stopping_baseline_and_start_from_epoch():
    # nothing beats the baseline: stop after `patience` monitored epochs
    es = EarlyStopping(baseline=0.5, patience=2)
    history = fit(FakeModel(), [es], val_losses(0.9, 0.95, 0.97, 0.1))
    assert history.epoch == [0, 1] and es.stopped_epoch == 1
    # warm-up epochs are ignored entirely
    es = EarlyStopping(start_from_epoch=2, restore_best_weights=True)
    model = FakeModel()
    history = fit(model, [es], val_losses(0.1, 0.2, 1.0, 2.0, 0.0))
    assert history.epoch == [0, 1, 2, 3] and es.best_epoch == 2
    assert np.all(model.weights[0] == 2.0)


def test_early_stopping_is_reusable_and_warns_on_missing_monitor():
    es = EarlyStopping(patience=1)
    fit(FakeModel(), [es], val_losses(0.1, 0.2, 0.3))
    history = fit(FakeModel(), [es], val_losses(1.0, 0.9, 0.8))  # best was reset
    assert history.epoch == [0, 1, 2] and es.stopped_epoch == 0
    with pytest.warns(UserWarning, match=r"`val_loss` which is not available\. "
                                         r"Available metrics are: loss,accuracy"):
        history = fit(FakeModel(), [EarlyStopping()], [{"loss": 1.0, "accuracy": 0.5}] * 2)
    assert history.epoch == [0, 1]
    with pytest.warns(UserWarning, match="unknown"):
        assert EarlyStopping(mode="largest").mode == "auto"


def test_early_stopping_ignores_nan():
    es = EarlyStopping(monitor="loss", patience=1, restore_best_weights=True)
    model = FakeModel()
    history = fit(model, [es], [{"loss": 0.5}, {"loss": NAN}, {"loss": 0.1}])
    assert history.epoch == [0, 1] and es.best == 0.5 and np.all(model.weights[0] == 0.0)


# -- ModelCheckpoint ------------------------------------------------------------------------------
def test_model_checkpoint_writes_the_files_named_by_the_template(tmp_path):
    model = FakeModel()
    fit(model, [ModelCheckpoint(str(tmp_path / "model-{epoch:02d}.hdf5"))], val_losses(0.5, 0.4))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model-01.hdf5", "model-02.hdf5"]
    assert (tmp_path / "model-02.hdf5").read_text() == "model weights=1.0"
    model = FakeModel()
    fit(model, [ModelCheckpoint(tmp_path / "sub" / "{epoch:02d}-{val_loss:.2f}.keras")],
        val_losses(0.5, 0.4321))
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["01-0.50.keras",
                                                                   "02-0.43.keras"]


def test_model_checkpoint_missing_key_lists_available_keys(tmp_path):
    cb = ModelCheckpoint(str(tmp_path / "m-{val_acc:.2f}.keras"))
    with pytest.raises(KeyError, match=r"Failed to format.*no key `val_acc` in the logs\. "
                                       r"Available keys: epoch, loss, val_loss"):
        fit(FakeModel(), [cb], val_losses(0.5))


def test_model_checkpoint_save_best_only(tmp_path, capsys):
    model = FakeModel()
    path = str(tmp_path / "best.keras")
    cb = ModelCheckpoint(path, save_best_only=True, verbose=1)
    fit(model, [cb], val_losses(1.0, 0.5, 0.7, 0.4, 0.4))
    assert [value for _, _, value in model.saved] == [0.0, 1.0, 3.0]
    assert Path(path).read_text() == "model weights=3.0"
    out = capsys.readouterr().out
    assert "Epoch 2: val_loss improved from 1.00000 to 0.50000, saving model to" in out
    assert "Epoch 3: val_loss did not improve from 0.50000" in out


def test_model_checkpoint_mode_resolution_and_threshold(tmp_path):
    model = FakeModel()
    cb = ModelCheckpoint(str(tmp_path / "{epoch}.keras"), monitor="val_accuracy",
                         save_best_only=True)
    fit(model, [cb], [{"loss": 1.0, "val_accuracy": a} for a in (0.5, 0.4, 0.6, 0.6)])
    assert [v for _, _, v in model.saved] == [0.0, 2.0]  # maximised
    model = FakeModel()
    cb = ModelCheckpoint(str(tmp_path / "t{epoch}.keras"), save_best_only=True,
                         initial_value_threshold=0.45)
    fit(model, [cb], val_losses(0.5, 0.4, 0.42))
    assert [v for _, _, v in model.saved] == [1.0]
    model = FakeModel()
    cb = ModelCheckpoint(str(tmp_path / "m{epoch}.keras"), monitor="val_accuracy",
                         save_best_only=True, mode="min")
    fit(model, [cb], [{"loss": 1.0, "val_accuracy": a} for a in (0.5, 0.4, 0.6)])
    assert [v for _, _, v in model.saved] == [0.0, 1.0]


def test_resolve_mode():
    for name in ("accuracy", "val_accuracy", "acc", "val_acc", "auc", "val_auc",
                 "sparse_categorical_accuracy", "val_precision", "recall"):
        assert resolve_mode(name) == "max", name
    for name in ("loss", "val_loss", "mae", "val_mse", "perplexity", "output_1_loss"):
        assert resolve_mode(name) == "min", name
    assert resolve_mode("val_accuracy", "min") == "min"
    assert resolve_mode("loss", "max") == "max"

    class Metric:
        name = "score"
        direction = "up"

    model = FakeModel()
    model.metrics = [Metric()]  # type: ignore[attr-defined]
    assert resolve_mode("val_score", model=model) == "max"
    assert resolve_mode("val_score") == "min"


def test_model_checkpoint_never_saves_nan_or_inf(tmp_path):
    model = FakeModel()
    cb = ModelCheckpoint(str(tmp_path / "m-{epoch:02d}.keras"))
    with pytest.warns(UserWarning, match="not saving a checkpoint") as record:
        fit(model, [cb], [{"loss": 0.5, "val_loss": 0.5}, {"loss": NAN, "val_loss": 0.5},
                          {"loss": 0.4, "val_loss": INF}, {"loss": 0.3, "val_loss": 0.2}])
    messages = [str(w.message) for w in record]
    assert len(messages) == 2
    assert messages[0].startswith("Epoch 2: not saving a checkpoint to ")
    assert messages[0].endswith("m-02.keras because loss=nan is not finite; earlier checkpoints "
                                "are kept.")
    assert messages[1].startswith("Epoch 3:") and "val_loss=inf" in messages[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-01.keras", "m-04.keras"]


def test_terminate_on_nan_keeps_the_last_good_checkpoint(tmp_path, capsys):
    model = FakeModel()
    path = tmp_path / "last.keras"
    callbacks = [TerminateOnNaN(), ModelCheckpoint(str(path), monitor="loss")]
    with pytest.warns(UserWarning, match="not saving a checkpoint"):
        history = fit(model, callbacks, [{"loss": 0.5}, {"loss": NAN}, {"loss": 0.1}],
                      batch_losses={(1, 0): NAN})
    assert history.epoch == [0, 1] and model.stop_training
    assert path.read_text() == "model weights=0.0"
    assert "Batch 0: Invalid loss, terminating training" in capsys.readouterr().out


def test_model_checkpoint_weights_only_and_batch_frequency(tmp_path):
    model = FakeModel()
    cb = ModelCheckpoint(str(tmp_path / "w-{epoch}-{batch}.weights.h5"), save_weights_only=True,
                         save_freq=2)
    fit(model, [cb], val_losses(0.5, 0.4), steps=3)
    assert [(kind, Path(p).name) for kind, p, _ in model.saved] == [
        ("weights", "w-1-2.weights.h5"), ("weights", "w-2-1.weights.h5"),
        ("weights", "w-2-3.weights.h5")]
    for bad in ("batch", 0, -3, 1.5, True):
        with pytest.raises(ValueError, match="save_freq"):
            ModelCheckpoint("m.keras", save_freq=bad)


def test_model_checkpoint_refuses_a_directory(tmp_path):
    (tmp_path / "dir.keras").mkdir()
    with pytest.raises(OSError, match="non-directory"):
        fit(FakeModel(), [ModelCheckpoint(str(tmp_path / "dir.keras"))], val_losses(0.5))


# -- ReduceLROnPlateau ----------------------------------------------------------------------------
def test_reduce_lr_on_plateau_patience_cooldown_and_min_lr(capsys):
    model = FakeModel(learning_rate=1.0)
    lrs = []
    cb = ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1, min_lr=0.2, verbose=1)
    spy = LambdaCallback(on_epoch_end=lambda e, logs: lrs.append(model.optimizer.learning_rate))
    history = fit(model, [cb, spy], val_losses(*[1.0] * 9))
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2, 0.2]
    # the rate in the logs is the one used during the epoch
    assert history.history["learning_rate"] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2]
    assert "Epoch 3: ReduceLROnPlateau reducing learning rate to 0.5." in capsys.readouterr().out


def test_reduce_lr_on_plateau_improvement_resets_wait():
    model = FakeModel(learning_rate=1.0)
    fit(model, [ReduceLROnPlateau(factor=0.1, patience=2)], val_losses(1.0, 1.0, 0.5, 0.5, 0.4))
    assert model.optimizer.learning_rate == 1.0
    # changes smaller than min_delta are no improvement
    fit(model, [ReduceLROnPlateau(factor=0.1, patience=2, min_delta=0.1)],
        val_losses(1.0, 0.95, 0.91))
    assert model.optimizer.learning_rate == pytest.approx(0.1)
    # accuracy: maximised
    model = FakeModel(learning_rate=1.0)
    fit(model, [ReduceLROnPlateau(monitor="accuracy", factor=0.5, patience=1)],
        [{"loss": 1.0, "accuracy": a} for a in (0.5, 0.6, 0.7)])
    assert model.optimizer.learning_rate == 1.0


def test_reduce_lr_on_plateau_errors_and_warnings():
    with pytest.raises(ValueError, match="factor >= 1.0"):
        ReduceLROnPlateau(factor=1.0)
    with pytest.warns(UserWarning, match="`val_loss` which is not available. Available metrics "
                                         "are: loss,learning_rate"):
        fit(FakeModel(), [ReduceLROnPlateau()], [{"loss": 1.0}])


# -- LearningRateScheduler ------------------------------------------------------------------------
def test_learning_rate_scheduler_two_and_one_argument_schedules(capsys):
    model = FakeModel(learning_rate=0.1)
    used = []
    spy = LambdaCallback(on_epoch_begin=lambda e, logs: used.append(model.optimizer.learning_rate))
    sched = LearningRateScheduler(lambda epoch, lr: lr if epoch < 2 else lr * 0.5, verbose=1)
    history = fit(model, [sched, spy], [{"loss": 1.0}] * 4)
    assert used == [0.1, 0.1, 0.05, 0.025]
    assert history.history["learning_rate"] == used
    assert "Epoch 3: LearningRateScheduler setting learning rate to 0.05." in (
        capsys.readouterr().out)

    def by_epoch(epoch):
        return 1.0 / (epoch + 1)

    model = FakeModel()
    fit(model, [LearningRateScheduler(by_epoch)], [{"loss": 1.0}] * 3)
    assert model.optimizer.learning_rate == pytest.approx(1 / 3)


def test_learning_rate_scheduler_rejects_bad_rates():
    for bad in ("0.1", None, NAN, -1.0):
        with pytest.raises(ValueError, match="should be a finite, non-negative float"):
            fit(FakeModel(), [LearningRateScheduler(lambda epoch, lr, b=bad: b)], [{"loss": 1}])
    with pytest.raises(TypeError, match="callable"):
        LearningRateScheduler(0.1)  # type: ignore[arg-type]
    # a TypeError raised inside the schedule is not mistaken for the old one-argument API
    with pytest.raises(TypeError, match="inside"):
        fit(FakeModel(), [LearningRateScheduler(lambda e, lr: (_ for _ in ()).throw(
            TypeError("inside")))], [{"loss": 1}])


# -- CSVLogger ------------------------------------------------------------------------------------
def test_csv_logger_writes_header_and_one_row_per_epoch(tmp_path):
    path = tmp_path / "log.csv"
    contents_after_first_epoch = []
    reader = LambdaCallback(on_epoch_end=lambda e, logs: contents_after_first_epoch.append(
        path.read_text()))
    logs = [{"val_loss": 0.7, "loss": 0.5, "accuracy": 0.25},
            {"val_loss": 0.6, "loss": 0.4, "accuracy": 0.5}]
    fit(FakeModel(), [CSVLogger(path), reader], logs)
    expected = "epoch,accuracy,loss,val_loss\n0,0.25,0.5,0.7\n1,0.5,0.4,0.6\n"
    assert path.read_text() == expected
    assert contents_after_first_epoch[0] == "epoch,accuracy,loss,val_loss\n0,0.25,0.5,0.7\n"


def test_csv_logger_append_separator_and_missing_values(tmp_path):
    path = tmp_path / "runs" / "log.tsv"
    fit(FakeModel(), [CSVLogger(str(path), separator="\t")], [{"loss": 0.5, "val_loss": 0.7}])
    fit(FakeModel(), [CSVLogger(str(path), separator="\t", append=True)],
        [{"loss": 0.4, "val_loss": 0.6}, {"loss": 0.3}])
    assert path.read_text().splitlines() == [
        "epoch\tloss\tval_loss", "0\t0.5\t0.7", "0\t0.4\t0.6", "1\t0.3\tNA"]
    fit(FakeModel(), [CSVLogger(str(path))], [{"loss": np.float32(0.5)}])  # overwrite
    assert path.read_text() == "epoch,loss\n0,0.5\n"


# -- TerminateOnNaN -------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [NAN, INF, -INF])
def test_terminate_on_nan_stops_training(bad, capsys):
    model = FakeModel()
    history = fit(model, [TerminateOnNaN()], [{"loss": 1.0}] * 3, steps=4,
                  batch_losses={(1, 2): bad})
    assert model.stop_training and history.epoch == [0, 1]
    assert capsys.readouterr().out == "Batch 2: Invalid loss, terminating training\n"


def test_terminate_on_nan_ignores_finite_losses_and_can_raise():
    model = FakeModel()
    history = fit(model, [TerminateOnNaN()], [{"loss": 1.0}] * 2)
    assert not model.stop_training and history.epoch == [0, 1]
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 0"):
        fit(FakeModel(), [TerminateOnNaN(raise_error=True)], [{"loss": NAN}])


# -- LambdaCallback -------------------------------------------------------------------------------
def test_lambda_callback_calls_the_given_functions():
    calls: list[tuple[Any, ...]] = []
    cb = LambdaCallback(
        on_train_begin=lambda logs: calls.append(("train_begin",)),
        on_epoch_begin=lambda epoch, logs: calls.append(("epoch_begin", epoch)),
        on_train_batch_begin=lambda batch, logs: calls.append(("batch_begin", batch)),
        on_train_batch_end=lambda b, l: calls.append(("batch_end", b, l["loss"])),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch_end", epoch, logs["loss"])),
        on_train_end=lambda logs: calls.append(("train_end", logs["loss"])),
        on_test_end=lambda logs: calls.append(("test_end", logs["loss"])),
    )
    fit(FakeModel(), [cb], [{"loss": 0.5}], steps=1, validation=True)
    assert calls == [("train_begin",), ("epoch_begin", 0), ("batch_begin", 0),
                     ("batch_end", 0, 0.5), ("test_end", 9.0), ("epoch_end", 0, 0.5),
                     ("train_end", 0.5)]
    with pytest.raises(TypeError, match="unknown hook"):
        LambdaCallback(on_epoch_ending=print)


# -- configuration --------------------------------------------------------------------------------
@pytest.mark.parametrize("cb", [
    EarlyStopping(monitor="val_accuracy", patience=3, min_delta=-0.01, baseline=0.5,
                  restore_best_weights=True, start_from_epoch=2),
    ModelCheckpoint("ckpt/m-{epoch:02d}.keras", save_best_only=True, save_freq=10),
    ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1, min_lr=1e-5),
    CSVLogger("log.csv", separator=";", append=True),
    TerminateOnNaN(),
    ProgbarLogger(backend="plain"),
])
def test_configurable_callbacks_round_trip(cb):
    data = serialize(cb)
    assert data["class_name"] == type(cb).__name__
    again = deserialize(data)
    assert type(again) is type(cb) and again.get_config() == cb.get_config()


# -- progress bars --------------------------------------------------------------------------------
def run_with_progbar(verbose: int, steps: int | None, epochs: int = 2) -> None:
    logs = [{"loss": 0.5 - 0.1 * e, "accuracy": 0.75, "val_loss": 0.625} for e in range(epochs)]
    fit(FakeModel(), None, logs, steps=steps, verbose=verbose, validation=True)


@pytest.fixture(params=["tqdm", "fallback"])
def progress_backend(request, monkeypatch):
    if request.param == "tqdm":
        pytest.importorskip("tqdm")
    else:
        monkeypatch.setitem(sys.modules, "tqdm", None)  # `import tqdm` now fails
    return request.param


def test_progbar_logger_verbose_1(progress_backend, capsys):
    run_with_progbar(verbose=1, steps=3)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert out.index("Epoch 1/2") < out.index("3/3") < out.index("Epoch 2/2")
    assert "3/3 [====================]" in out
    assert "ms/step" in out or "us/step" in out
    assert "loss: 0.5000" in out and "loss: 0.4000" in out and "accuracy: 0.7500" in out
    assert "val_loss: 0.6250" in out
    assert "ETA" in out
    assert "9.0000" not in out  # validation inside fit is silent
    assert out.endswith("\n")
    if progress_backend == "fallback":
        assert "[" in out and "\r" not in out  # captured stdout is not a terminal


def test_progbar_logger_verbose_2(progress_backend, capsys):
    run_with_progbar(verbose=2, steps=3)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    for line, loss in ((lines[1], "0.5000"), (lines[3], "0.4000")):
        assert line.startswith("3/3 - ") and "/step - loss: " + loss in line
        assert line.endswith(" - accuracy: 0.7500 - val_loss: 0.6250")


def test_progbar_logger_unknown_steps_and_single_epoch(progress_backend, capsys):
    run_with_progbar(verbose=1, steps=None, epochs=1)
    out = capsys.readouterr().out
    assert "Epoch" not in out  # no header for a single epoch (as Keras)
    assert "3/3" in out and "loss: 0.5000" in out  # the count becomes the target
    if progress_backend == "tqdm":
        assert "/Unknown" in out


def test_progbar_logger_evaluate_and_predict_outside_fit(progress_backend, capsys):
    cbl = CallbackList(None, add_progbar=True, model=FakeModel(), verbose=1, epochs=1, steps=2)
    cbl.on_test_begin()
    for batch in range(2):
        cbl.on_test_batch_end(batch, {"loss": 0.25})
    cbl.on_test_end({"loss": 0.25})
    cbl.on_predict_begin()
    cbl.on_predict_batch_end(0, {"outputs": np.ones(3)})
    cbl.on_predict_end()
    out = capsys.readouterr().out
    assert out.count("2/2") >= 1 and "loss: 0.2500" in out and "outputs" not in out


def test_plain_progbar_counter_for_unknown_target_and_dynamic_display(capsys):
    bar = Progbar(None, dynamic_display=True, interval=0)
    for step in range(1, 4):
        bar.update(step, [("loss", float(step))])
    bar.update(3, [("loss", 2.0)], finalize=True)
    out = capsys.readouterr().out
    assert "\r      3/Unknown" in out and out.endswith("\n")
    # Keras's default: values are averaged over steps unless stateful
    bar = Progbar(4, verbose=2, stateful_metrics=["acc"])
    bar.update(2, [("loss", 1.0), ("acc", 0.5)])
    bar.update(4, [("loss", 3.0), ("acc", 0.25)])
    line = capsys.readouterr().out
    assert line.startswith("4/4 - ") and line.endswith(" - loss: 3.0000 - acc: 0.2500\n")
    bar = Progbar(4, dynamic_display=True, interval=0)
    bar.update(2, [("loss", 1.0)])
    bar.update(3, [("loss", 3.0)])  # (1*2 + 3*1) / 3
    assert "loss: 1.6667" in capsys.readouterr().out


def test_make_progbar_backends(monkeypatch):
    assert type(make_progbar(3, verbose=1, backend="plain")) is Progbar
    assert type(make_progbar(3, verbose=2)) is Progbar
    monkeypatch.setitem(sys.modules, "tqdm", None)
    assert type(make_progbar(3, verbose=1)) is Progbar
    with pytest.raises(ImportError):
        make_progbar(3, verbose=1, backend="tqdm")
    with pytest.raises(ValueError, match="backend"):
        make_progbar(3, backend="rich")


def test_progress_formatting_helpers():
    assert format_value(0.123456) == "0.1235"
    assert format_value(1e-4) == "1.0000e-04"
    assert format_value(np.array([1.0, 2.0])) == "1.5000"
    assert format_value(NAN) == "nan"
    assert format_time_per_unit(0.0312) == " 31ms/step"
    assert format_time_per_unit(2.2, "epoch") == " 2s/epoch"
    assert format_time_per_unit(5e-5) == " 50us/step"
    assert format_eta(3.7) == "3s" and format_eta(62) == "1:02" and format_eta(3603) == "1:00:03"


def test_callbacks_do_not_emit_runtime_warnings_on_nan(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        fit(FakeModel(), [EarlyStopping(), ReduceLROnPlateau(), TerminateOnNaN(),
                          ModelCheckpoint(str(tmp_path / "m.keras"), save_best_only=True)],
            val_losses(NAN, NAN))
    assert math.isnan(NAN)
