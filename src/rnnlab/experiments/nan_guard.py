"""Stopping an experiment run whose loss is no longer a number.

``StopOnNonFiniteLoss`` (added by ``RunContext.fit`` to every run) raises
:class:`NonFiniteLossError` at the first batch whose loss is NaN or infinite, before the epoch
ends: the run's checkpoint then still holds the last epoch whose loss was finite (the checkpoint
callback never writes a non-finite epoch either), and the command line reports where it stopped.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..callbacks import Callback


class NonFiniteLossError(RuntimeError):
    """The training loss became NaN or infinite; ``checkpoint`` is the last good file (or None)."""

    def __init__(self, epoch: int, batch: int, loss: float, checkpoint: Path | None) -> None:
        self.epoch, self.batch, self.loss, self.checkpoint = epoch, batch, loss, checkpoint
        kept = (f"the last good checkpoint is kept: {checkpoint}" if checkpoint is not None
                else "no epoch finished before it, so there is no checkpoint")
        super().__init__(
            f"the training loss became {loss} at epoch {epoch + 1}, batch {batch + 1}; the run "
            f"stopped ({kept}). Try a lower learning rate or gradient clipping.")


class StopOnNonFiniteLoss(Callback):
    """Raise :class:`NonFiniteLossError` at the first batch with a NaN or infinite loss."""

    def __init__(self, checkpoint: Path) -> None:
        super().__init__()
        self.checkpoint, self.epoch = checkpoint, 0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            kept = self.checkpoint if self.checkpoint.exists() else None
            raise NonFiniteLossError(self.epoch, batch, float(loss), kept)
