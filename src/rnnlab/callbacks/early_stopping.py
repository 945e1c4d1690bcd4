"""``EarlyStopping``: stop when a monitored value stops improving."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .._registry import register
from .base import (
    Callback,
    Logs,
    _check_mode,
    _Configurable,
    _print,
    resolve_mode,
)


@register
class EarlyStopping(_Configurable, Callback):
    """Stop training when a monitored quantity has stopped improving (Keras 3's rules).

    Each epoch with a value for ``monitor`` (from ``start_from_epoch`` on) counts one wait; an
    improvement (by more than ``min_delta``) records the best value and resets the wait unless it
    fails to beat ``baseline``. Training stops when the wait reaches ``patience`` (never in the
    first epoch). With ``restore_best_weights`` the best epoch's weights are put back at the end
    of training, whether or not it stopped early. A missing monitor warns and lists the
    available keys.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0) -> None:
        super().__init__()
        self._config = {
            "monitor": monitor, "min_delta": min_delta, "patience": patience,
            "verbose": verbose, "mode": mode, "baseline": baseline,
            "restore_best_weights": restore_best_weights, "start_from_epoch": start_from_epoch}
        self.monitor = monitor
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.min_delta = abs(min_delta)
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.mode = _check_mode(mode, "EarlyStopping")
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights: list[np.ndarray] | None = None
        self.best_epoch = 0
        self.best: float | None = None
        self.monitor_op: Callable[[Any, Any], bool] | None = None
        self._delta = 0.0

    def _set_monitor_op(self) -> None:
        if resolve_mode(self.monitor, self.mode, self.model) == "min":
            self.monitor_op, self._delta = np.less, -self.min_delta
            self.best = np.inf
        else:
            self.monitor_op, self._delta = np.greater, self.min_delta
            self.best = -np.inf

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0
        self._set_monitor_op()

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self.monitor_op is None:
            self._set_monitor_op()
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = _copy_weights(self.model.get_weights())
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = _copy_weights(self.model.get_weights())
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def get_state(self) -> dict[str, Any]:
        return {"wait": self.wait, "stopped_epoch": self.stopped_epoch,
                "best": None if self.best is None else float(self.best),
                "best_epoch": self.best_epoch, "best_weights": self.best_weights}

    def set_state(self, state: dict[str, Any]) -> None:
        if self.monitor_op is None:
            self._set_monitor_op()
        self.wait, self.stopped_epoch = int(state["wait"]), int(state["stopped_epoch"])
        self.best_epoch = int(state["best_epoch"])
        if state["best"] is not None:
            self.best = float(state["best"])
        weights = state.get("best_weights")
        self.best_weights = None if weights is None else _copy_weights(weights)

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            _print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                _print("Restoring model weights from the end of the best epoch: "
                       f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs: Logs | None) -> Any:
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(list(logs.keys()))}", stacklevel=2)
        return value

    def _is_improvement(self, value: Any, reference: Any) -> bool:
        assert self.monitor_op is not None
        return bool(self.monitor_op(value - self._delta, reference))


def _copy_weights(weights: Iterable[Any]) -> list[np.ndarray]:
    return [np.array(w, copy=True) for w in weights]
