import json

from rnnlab.experiments import run_experiment


def test_resume_continues_exactly_in_the_same_process(tmp_path):
    """2 epochs, then --resume to 4 epochs, equals 4 epochs in one go (optimizer slots, shuffling
    and dropout counters restored even though the rebuilt layers get new names)."""
    run_experiment("sine", {"epochs": 2}, smoke=True, out=tmp_path / "a", verbose=0)
    resumed = run_experiment("sine", {"epochs": 4}, smoke=True, out=tmp_path / "a", verbose=0,
                             resume=True)
    straight = run_experiment("sine", {"epochs": 4}, smoke=True, out=tmp_path / "b", verbose=0)
    assert resumed.metrics == straight.metrics
    history = (tmp_path / "a" / "history.csv").read_text().splitlines()
    assert len(history) == 1 + 4
    assert json.loads((tmp_path / "a" / "metrics.json").read_text()) == straight.metrics


class _Interrupt(Exception):
    pass


def _fit_run(out, epochs, stop_at=None, resume=False):
    """A small noisy fit through RunContext.fit with EarlyStopping (best weights restored) and
    ReduceLROnPlateau; ``stop_at`` raises in the middle of that epoch's end (after the two
    callbacks updated their state, before the checkpoint), as Ctrl-C would."""
    import numpy as np

    from rnnlab.callbacks import Callback, EarlyStopping, ReduceLROnPlateau
    from rnnlab.experiments.context import RunContext
    from rnnlab.layers import Dense, Dropout, Input
    from rnnlab.models import Sequential
    from rnnlab.optimizers import SGD
    from rnnlab.random import set_random_seed

    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = (x @ rng.standard_normal((4, 1)) + rng.standard_normal((64, 1))).astype(np.float32)
    set_random_seed(0)
    model = Sequential([Input((4,)), Dense(16, activation="tanh"), Dropout(0.3), Dense(1)])
    model.compile(optimizer=SGD(0.05, momentum=0.5), loss="mse")

    class Stop(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == stop_at:
                raise _Interrupt

    stopper = EarlyStopping(patience=3, restore_best_weights=True)
    reducer = ReduceLROnPlateau(patience=1, factor=0.5)
    ctx = RunContext(config={}, out=out, resume=resume, verbose=0)
    callbacks = [stopper, reducer] + ([Stop()] if stop_at is not None else [])
    ctx.fit(model, x[:48], y[:48], batch_size=8, epochs=epochs, validation_data=(x[48:], y[48:]),
            callbacks=callbacks)
    return model, stopper, reducer


def test_resume_restores_early_stopping_and_lr_reduction(tmp_path):
    import numpy as np
    import pytest

    straight, s_stop, s_red = _fit_run(tmp_path / "a", 40)
    assert 3 < s_stop.stopped_epoch < 39, "the run must stop early for this test to mean much"
    with pytest.raises(_Interrupt):
        _fit_run(tmp_path / "b", 40, stop_at=s_stop.stopped_epoch - 1)
    resumed, r_stop, r_red = _fit_run(tmp_path / "b", 40, resume=True)
    assert (r_stop.stopped_epoch, r_stop.best_epoch) == (s_stop.stopped_epoch, s_stop.best_epoch)
    assert r_red.model.optimizer.learning_rate == s_red.model.optimizer.learning_rate
    for a, b in zip(resumed.get_weights(), straight.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert (tmp_path / "b" / "history.csv").read_text() == (
        tmp_path / "a" / "history.csv").read_text()
