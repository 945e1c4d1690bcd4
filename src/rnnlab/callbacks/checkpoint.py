"""``ModelCheckpoint``: save the model or its weights during training."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .._registry import register
from .base import (
    Callback,
    Logs,
    _check_mode,
    _Configurable,
    _is_finite,
    _print,
    resolve_mode,
)


@register
class ModelCheckpoint(_Configurable, Callback):
    """Save the model (or its weights) every epoch or every ``save_freq`` batches.

    ``filepath`` may contain ``str.format`` fields: ``{epoch}`` (1-based), ``{batch}`` (1-based,
    batch-level saving) and any log key, e.g. ``"ckpt/model-{epoch:02d}-{val_loss:.2f}.keras"``;
    a missing key raises KeyError listing the available ones. With ``save_best_only`` a file is
    written only when ``monitor`` improves on the best so far (``initial_value_threshold`` sets
    the starting best). No checkpoint is ever written while the loss or the monitored value is
    NaN/inf: a warning says so and earlier checkpoints are kept.

    Args:
        filepath: file to write, ``.keras``/``.h5``/``.rnnlab`` as ``model.save`` accepts.
        monitor: log key compared with ``save_best_only``.
        verbose: 1 prints a line when saving (or not improving).
        save_best_only: write only on improvement.
        save_weights_only: use ``model.save_weights`` instead of ``model.save``.
        mode: ``"auto"``, ``"min"`` or ``"max"`` (see ``resolve_mode``).
        save_freq: ``"epoch"`` or a positive number of batches.
        initial_value_threshold: the initial best value for ``save_best_only``.
    """

    def __init__(self, filepath: str | os.PathLike[str], monitor: str = "val_loss",
                 verbose: int = 0, save_best_only: bool = False, save_weights_only: bool = False,
                 mode: str = "auto", save_freq: str | int = "epoch",
                 initial_value_threshold: float | None = None) -> None:
        super().__init__()
        filepath = os.fspath(filepath)
        if save_freq != "epoch" and (isinstance(save_freq, bool)
                                     or not isinstance(save_freq, (int, np.integer))
                                     or save_freq < 1):
            raise ValueError(
                f"Unrecognized save_freq: {save_freq!r}. Expected save_freq are 'epoch' or "
                "positive integer values")
        self._config = {
            "filepath": filepath, "monitor": monitor, "verbose": verbose,
            "save_best_only": save_best_only, "save_weights_only": save_weights_only,
            "mode": mode, "save_freq": save_freq if save_freq == "epoch" else int(save_freq),
            "initial_value_threshold": initial_value_threshold}
        self.filepath = filepath
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.mode = _check_mode(mode, "ModelCheckpoint")
        self.save_freq = save_freq if save_freq == "epoch" else int(save_freq)
        self.best: Any = initial_value_threshold
        self.monitor_op: Callable[[Any, Any], bool] | None = None
        self._current_epoch = 0
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0

    def _set_monitor_op(self) -> None:
        if resolve_mode(self.monitor, self.mode, self.model) == "min":
            self.monitor_op = np.less
            if self.best is None:
                self.best = np.inf
        else:
            self.monitor_op = np.greater
            if self.best is None:
                self.best = -np.inf

    def on_train_begin(self, logs: Logs | None = None) -> None:
        if self.monitor_op is None:
            self._set_monitor_op()

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._current_epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self._should_save_on_batch(batch):
            self._save_model(epoch=self._current_epoch, batch=batch, logs=logs)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self.save_freq == "epoch":
            self._save_model(epoch=epoch, batch=None, logs=logs)

    def _should_save_on_batch(self, batch: int) -> bool:
        if not isinstance(self.save_freq, int):  # "epoch"
            return False
        if batch <= self._last_batch_seen:  # a new epoch started
            add_batches = batch + 1
        else:
            add_batches = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += add_batches
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _get_file_path(self, epoch: int, batch: int | None, logs: Logs) -> str:
        fields = dict(logs)
        fields["epoch"] = epoch + 1
        if batch is not None and "batch" not in logs:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as exc:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}". Reason: no key '
                f"`{exc.args[0]}` in the logs. Available keys: {', '.join(sorted(fields))}"
            ) from None
        except (IndexError, ValueError) as exc:
            raise ValueError(
                f'Failed to format this callback filepath: "{self.filepath}". Reason: {exc}. '
                f"Available keys: {', '.join(sorted(fields))}") from None

    def _should_save_model(self, epoch: int, logs: Logs, filepath: str) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                _print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.",
                          stacklevel=2)
            return True
        if np.ndim(current) > 0:
            warnings.warn(
                "Can save best model only when `monitor` is a scalar value. Received: "
                f"{current}. Falling back to `save_best_only=False`.", stacklevel=2)
            return True
        if self.monitor_op is None:
            self._set_monitor_op()
        assert self.monitor_op is not None
        best_str = "None" if self.best is None else f"{self.best:.5f}"
        if self.monitor_op(current, self.best):
            if self.verbose > 0:
                _print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_str} to "
                       f"{current:.5f}, saving model to {filepath}")
            self.best = current
            return True
        if self.verbose > 0:
            _print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_str}")
        return False

    def _save_model(self, epoch: int, batch: int | None, logs: Logs | None) -> None:
        logs = logs or {}
        filepath = self._get_file_path(epoch, batch, logs)
        bad = {key: logs[key] for key in dict.fromkeys(("loss", self.monitor))
               if key in logs and not _is_finite(logs[key])}
        if bad:
            where = f"Epoch {epoch + 1}" + ("" if batch is None else f", batch {batch + 1}")
            values = ", ".join(f"{key}={value}" for key, value in bad.items())
            warnings.warn(
                f"{where}: not saving a checkpoint to {filepath} because {values} is not "
                "finite; earlier checkpoints are kept.", stacklevel=2)
            return
        if not self._should_save_model(epoch, logs, filepath):
            return
        dirname = os.path.dirname(filepath)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        if os.path.isdir(filepath):
            raise OSError(
                "Please specify a non-directory filepath for ModelCheckpoint. Filepath used is "
                f"an existing directory: {filepath}")
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)
        if self.verbose > 0:
            _print(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")
