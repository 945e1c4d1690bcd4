"""Learning-rate callbacks: ``ReduceLROnPlateau`` and ``LearningRateScheduler``."""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .._registry import register
from .base import (
    Callback,
    Logs,
    _Configurable,
    _print,
    resolve_mode,
)


@register
class ReduceLROnPlateau(_Configurable, Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving (Keras's rules).

    An epoch improves when the value beats the best by more than ``min_delta``. After
    ``patience`` epochs without improvement the rate becomes ``max(lr * factor, min_lr)`` (only
    while it is above ``min_lr``), then ``cooldown`` epochs pass without counting. The current
    rate is added to the epoch logs as ``learning_rate`` (before any reduction, as Keras does).
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 verbose: int = 0, mode: str = "auto", min_delta: float = 1e-4,
                 cooldown: int = 0, min_lr: float = 0.0) -> None:
        super().__init__()
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}")
        self._config = {
            "monitor": monitor, "factor": factor, "patience": patience, "verbose": verbose,
            "mode": mode, "min_delta": min_delta, "cooldown": cooldown, "min_lr": min_lr}
        self.monitor = monitor
        self.factor = factor
        self.min_lr = min_lr
        self.min_delta = min_delta
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.mode = mode
        self.cooldown_counter = 0
        self.wait = 0
        self.best: float = 0.0
        self.monitor_op: Callable[[Any, Any], bool] | None = None
        self._reset()

    def _reset(self) -> None:
        if self.mode not in ("auto", "min", "max"):
            warnings.warn(f"Learning rate reduction mode {self.mode} is unknown, fallback to "
                          "auto mode.", stacklevel=3)
            self.mode = "auto"
        if resolve_mode(self.monitor, self.mode, self.model) == "min":
            self.monitor_op = lambda a, b: np.less(a, b - self.min_delta)
            self.best = np.inf
        else:
            self.monitor_op = lambda a, b: np.greater(a, b + self.min_delta)
            self.best = -np.inf
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._reset()

    def get_state(self) -> dict[str, Any]:
        return {"wait": self.wait, "cooldown_counter": self.cooldown_counter,
                "best": float(self.best)}

    def set_state(self, state: dict[str, Any]) -> None:
        self.wait, self.cooldown_counter = int(state["wait"]), int(state["cooldown_counter"])
        self.best = float(state["best"])

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs if logs is not None else {}
        logs["learning_rate"] = float(self.model.optimizer.learning_rate)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which is "
                f"not available. Available metrics are: {','.join(list(logs.keys()))}.",
                stacklevel=2)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        assert self.monitor_op is not None
        if self.monitor_op(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(self.model.optimizer.learning_rate)
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        _print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                               f"to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of every epoch to ``schedule(epoch, lr)``.

    ``epoch`` is 0-based and ``lr`` the current rate; a one-argument ``schedule(epoch)`` is
    accepted too. The result must be a finite, non-negative real number. The rate is added to the
    epoch logs as ``learning_rate``.
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"schedule must be callable, got {type(schedule).__name__}")
        self.schedule = schedule
        self.verbose = verbose
        self._two_args = _accepts_two_args(schedule)

    def _call_schedule(self, epoch: int, lr: float) -> Any:
        if self._two_args is None:  # signature unknown: try the new API, then the old one
            try:
                return self.schedule(epoch, lr)
            except TypeError:
                return self.schedule(epoch)
        return self.schedule(epoch, lr) if self._two_args else self.schedule(epoch)

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        optimizer: Any = getattr(self.model, "optimizer", None)
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        lr = self._call_schedule(epoch, float(optimizer.learning_rate))
        if (isinstance(lr, bool) or not isinstance(lr, (int, float, np.integer, np.floating))
                or not math.isfinite(lr) or lr < 0):
            raise ValueError(
                "The output of the `schedule` function should be a finite, non-negative float. "
                f"Got: {lr!r}")
        optimizer.learning_rate = float(lr)
        if self.verbose > 0:
            _print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                   f"{float(lr)}.")

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


def _accepts_two_args(fn: Callable[..., Any]) -> bool | None:
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    try:
        signature.bind(0, 0.0)
    except TypeError:
        return False
    return True
