"""`rnnlab run` whose loss becomes NaN: the run stops at that batch with a clear message (exit
status 3) and the checkpoint of the last good epoch is kept, byte for byte."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnlab import cli
from rnnlab.callbacks import LambdaCallback
from rnnlab.experiments.context import RunContext
from rnnlab.saving import load_model, load_resume_state


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch,
                                                                      capsys):
    out = tmp_path / "run"
    seen: dict[str, Any] = {}
    original = RunContext.fit

    def diverging_fit(self: RunContext, model: Any, *args: Any, **kwargs: Any) -> Any:
        def poison(epoch: int, logs: Any) -> None:
            if epoch == 1:  # the weights diverge during the second epoch
                seen["good"] = (out / "checkpoint.rnnlab").read_bytes()
                weights = model.get_weights()
                weights[0] = np.full_like(weights[0], np.nan)
                model.set_weights(weights)

        kwargs["callbacks"] = [*kwargs.get("callbacks", []), LambdaCallback(on_epoch_begin=poison)]
        return original(self, model, *args, **kwargs)

    monkeypatch.setattr(RunContext, "fit", diverging_fit)
    code = cli.main(["run", "sine", "--smoke", "--epochs", "3", "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 3
    assert "the training loss became nan at epoch 2, batch 1" in err
    assert "the last good checkpoint is kept" in err and "checkpoint.rnnlab" in err
    ckpt = out / "checkpoint.rnnlab"
    assert ckpt.read_bytes() == seen["good"]
    assert load_resume_state(ckpt)["epochs_done"] == 1
    assert all(np.isfinite(w).all() for w in load_model(ckpt).get_weights())
