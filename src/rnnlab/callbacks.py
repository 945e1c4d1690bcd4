"""Training callbacks with Keras 3's interface and behaviour.

A callback gets ``set_model(model)`` and ``set_params(params)`` (``verbose``, ``epochs``,
``steps``), then the hooks ``on_train_begin/end``, ``on_epoch_begin/end``,
``on_train_batch_begin/end``, ``on_test_*`` and ``on_predict_*``. Epoch indices are 0-based in the
hooks and 1-based in messages and file names, as in Keras. ``CallbackList`` dispatches to all of
them; ``fit`` always adds a ``History`` (returned by ``fit`` and set as ``model.history``) and,
when ``verbose != 0``, a ``ProgbarLogger``.

What a callback uses of the model: ``stop_training``, ``get_weights()``/``set_weights()``,
``save(path, overwrite=True)``, ``save_weights(path, overwrite=True)`` and
``optimizer.learning_rate`` (a settable float).

Differences from Keras, all deliberate:

* ``ModelCheckpoint`` never writes a checkpoint while the loss or the monitored value is NaN or
  infinite (it warns instead), so after ``TerminateOnNaN`` the last good checkpoint survives. It
  does not insist on Keras's file extensions: the model's ``save``/``save_weights`` decide.
* ``mode="auto"`` is resolved the same way by ``EarlyStopping``, ``ModelCheckpoint`` and
  ``ReduceLROnPlateau``: a metric object on the model with a ``direction`` ("up"/"down") wins;
  otherwise names containing acc, auc, precision, recall, f1, fbeta or iou are maximised and
  everything else (losses, errors) minimised. Keras 3 raises for names it cannot place.
* ``EarlyStopping`` and ``ReduceLROnPlateau`` reset their best value at ``on_train_begin``, so a
  callback object can be reused for a second ``fit``; ``ModelCheckpoint`` keeps its best value.
* Weights kept by ``EarlyStopping(restore_best_weights=True)`` are copies.
* ``CSVLogger`` writes ``\\n`` line endings (Keras's ``csv.excel`` dialect writes ``\\r\\n``).
"""

from __future__ import annotations

import collections.abc
import csv
import inspect
import math
import os
import sys
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ._registry import deserialize, register, serialize
from .progress import make_progbar

__all__ = [
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
    "resolve_mode",
]

Logs = dict[str, Any]


def _print(message: str) -> None:
    """Write a line to the current ``sys.stdout`` (captured by redirections and tests)."""
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def _is_finite(value: Any) -> bool:
    """False for NaN/inf numbers (any element for arrays); True for anything non-numeric."""
    if value is None or isinstance(value, str):
        return True
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return True
    return bool(np.all(np.isfinite(arr)))


# -- mode="auto" ----------------------------------------------------------------------------------
_MAX_HINTS = ("acc", "auc", "precision", "recall", "f1", "fbeta", "iou")


def resolve_mode(monitor: str, mode: str = "auto", model: Any = None) -> str:
    """``"min"`` or ``"max"`` for the monitored quantity ``monitor``.

    ``"min"``/``"max"`` are returned as given. For ``"auto"``: ``loss``/``val_loss`` (and any
    name ending in ``loss``) are minimised; a metric object in ``model.metrics`` named like the
    monitor (without ``val_``) with a ``direction``/``_direction`` of ``"up"``/``"down"`` decides;
    otherwise names containing acc, auc, precision, recall, f1, fbeta or iou are maximised and
    all others minimised.
    """
    if mode in ("min", "max"):
        return mode
    name = monitor.removeprefix("val_")
    if name.endswith("loss"):
        return "min"
    try:
        metrics = list(getattr(model, "metrics", None) or []) if model is not None else []
    except Exception:  # a model property may refuse before compile; fall back to the name
        metrics = []
    for metric in metrics:
        if getattr(metric, "name", None) == name:
            direction = getattr(metric, "direction", getattr(metric, "_direction", None))
            if direction in ("up", "max"):
                return "max"
            if direction in ("down", "min"):
                return "min"
    return "max" if any(hint in name for hint in _MAX_HINTS) else "min"


def _check_mode(mode: str, owner: str) -> str:
    if mode not in ("auto", "min", "max"):
        warnings.warn(f"{owner} mode '{mode}' is unknown, fallback to auto mode.", stacklevel=3)
        return "auto"
    return mode


# -- base classes ---------------------------------------------------------------------------------
class Callback:
    """Base class: override the hooks you need (all default to doing nothing).

    Attributes:
        model: the model being trained (set by ``set_model``).
        params: dict of training parameters (``verbose``, ``epochs``, ``steps``).
    """

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self.model: Any = None

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def set_model(self, model: Any) -> None:
        self.model = model

    # Resuming: what a callback must carry across an interrupted run to continue exactly.
    def get_state(self) -> dict[str, Any] | None:
        """The callback's training state as JSON values and NumPy arrays (lists of arrays
        allowed), or None when it keeps none. Saved with the experiment checkpoints."""
        return None

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore ``get_state()`` output; called after ``on_train_begin`` when resuming."""

    # Backwards-compatible aliases, called by the default train-batch hooks (as in Keras).
    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Alias of ``on_train_batch_begin`` (kept for old callbacks)."""

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Alias of ``on_train_batch_end`` (kept for old callbacks)."""

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Start of epoch ``epoch`` (0-based)."""

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """End of an epoch; ``logs`` has the epoch's loss, metrics and ``val_*`` values."""

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Start of training batch ``batch`` (0-based within the epoch)."""
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """End of a training batch; ``logs`` has the running epoch means so far."""
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Start of an evaluation (or validation) batch."""

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """End of an evaluation (or validation) batch."""

    def on_predict_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Start of a prediction batch."""

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """End of a prediction batch."""

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Start of ``fit``."""

    def on_train_end(self, logs: Logs | None = None) -> None:
        """End of ``fit``; ``logs`` are the last epoch's logs."""

    def on_test_begin(self, logs: Logs | None = None) -> None:
        """Start of ``evaluate`` or of a validation pass."""

    def on_test_end(self, logs: Logs | None = None) -> None:
        """End of ``evaluate`` or of a validation pass."""

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        """Start of ``predict``."""

    def on_predict_end(self, logs: Logs | None = None) -> None:
        """End of ``predict``."""


_HOOKS = tuple(name for name in vars(Callback) if name.startswith("on_"))


class _Configurable:
    """``get_config()``: the constructor arguments; ``from_config(cfg)``: ``cls(**cfg)``."""

    _config: dict[str, Any]

    def get_config(self) -> dict[str, Any]:
        return serialize(dict(self._config))

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Any:
        return cls(**deserialize(config))


def _pythonify_logs(logs: Logs) -> Logs:
    """Batch logs with NumPy scalars as floats and nested dicts flattened (as Keras does)."""
    result: Logs = {}
    for key, value in logs.items():
        if isinstance(value, dict):
            result.update(_pythonify_logs(value))
            continue
        if isinstance(value, (np.generic, np.ndarray)) and np.ndim(value) == 0:
            value = value.item()
        result[key] = value
    return result


class CallbackList(Callback):
    """Calls every callback's hook in turn (user callbacks, then History, then ProgbarLogger).

    Args:
        callbacks: a callback, a list of them (nested lists are flattened) or None.
        add_history: add a ``History`` unless one is in ``callbacks``.
        add_progbar: add a ``ProgbarLogger`` unless one is in ``callbacks``.
        model: the model, given to every callback; ``model.history`` is set to the History.
        **params: given to every callback with ``set_params`` (``verbose``, ``epochs``,
            ``steps``).

    Batch-end logs are copied with NumPy scalars turned into floats. Epoch-end logs are one dict
    shared by all callbacks, so keys a callback adds (``learning_rate``) reach ``History``.
    """

    def __init__(self, callbacks: Any = None, add_history: bool = False,
                 add_progbar: bool = False, model: Any = None, **params: Any) -> None:
        super().__init__()
        self.callbacks: list[Callback] = _flatten_callbacks(callbacks)
        self._history: History | None = None
        self._progbar: ProgbarLogger | None = None
        for cb in self.callbacks:
            if isinstance(cb, ProgbarLogger):
                self._progbar = cb
            elif isinstance(cb, History):
                self._history = cb
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)
        self.set_model(model)
        self.set_params(params)

    @property
    def history(self) -> History | None:
        """The ``History`` callback in the list, if any."""
        return self._history

    def append(self, callback: Callback) -> None:
        """Add a callback (it receives the current model and params)."""
        (callback,) = _flatten_callbacks([callback])
        self.callbacks.append(callback)
        if self.model is not None:
            callback.set_model(self.model)
        if self.params:
            callback.set_params(self.params)

    def __iter__(self) -> Any:
        return iter(self.callbacks)

    def __len__(self) -> int:
        return len(self.callbacks)

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params
        if params:
            for cb in self.callbacks:
                cb.set_params(params)

    def set_model(self, model: Any) -> None:
        if model is None:
            return
        self.model = model
        if self._history is not None:
            model.history = self._history
        for cb in self.callbacks:
            cb.set_model(model)

    # epoch and run hooks: logs passed through (one shared dict)
    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_train_begin(logs)

    def on_train_end(self, logs: Logs | None = None) -> None:
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_train_end(logs)

    def on_test_begin(self, logs: Logs | None = None) -> None:
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_test_begin(logs)

    def on_test_end(self, logs: Logs | None = None) -> None:
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_test_end(logs)

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_predict_begin(logs)

    def on_predict_end(self, logs: Logs | None = None) -> None:
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_predict_end(logs)

    # batch hooks
    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        for cb in self.callbacks:
            cb.on_batch_begin(batch, logs=logs)

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        logs = _pythonify_logs(logs or {})
        for cb in self.callbacks:
            cb.on_batch_end(batch, logs=logs)

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        for cb in self.callbacks:
            cb.on_train_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        logs = _pythonify_logs(logs or {})
        for cb in self.callbacks:
            cb.on_train_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        for cb in self.callbacks:
            cb.on_test_batch_begin(batch, logs=logs)

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        logs = _pythonify_logs(logs or {})
        for cb in self.callbacks:
            cb.on_test_batch_end(batch, logs=logs)

    def on_predict_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        for cb in self.callbacks:
            cb.on_predict_batch_begin(batch, logs=logs)

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        logs = logs or {}  # prediction outputs are passed as they are
        for cb in self.callbacks:
            cb.on_predict_batch_end(batch, logs=logs)


def _flatten_callbacks(callbacks: Any) -> list[Callback]:
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    if isinstance(callbacks, CallbackList):
        return list(callbacks.callbacks)
    if not isinstance(callbacks, Iterable) or isinstance(callbacks, (str, bytes, dict)):
        raise TypeError(
            f"callbacks must be a Callback or a list of Callbacks, got {type(callbacks).__name__}")
    out: list[Callback] = []
    for cb in callbacks:
        if isinstance(cb, (list, tuple)):
            out.extend(_flatten_callbacks(cb))
        elif isinstance(cb, Callback):
            out.append(cb)
        else:
            raise TypeError(
                "callbacks must be instances of rnnlab.callbacks.Callback, got "
                f"{type(cb).__name__}: {cb!r}")
    return out


# -- History and the progress bar -----------------------------------------------------------------
class History(Callback):
    """Records every epoch's logs: ``history`` maps each key to a list, ``epoch`` lists the
    (0-based) epoch indices. ``fit`` returns it and sets it as ``model.history``."""

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[Any]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self


@register
class ProgbarLogger(_Configurable, Callback):
    """Prints progress to ``sys.stdout`` as Keras does; ``fit`` adds it when ``verbose != 0``.

    verbose=1 (from ``params``): an ``Epoch 3/10`` header (when there is more than one epoch)
    and a live bar per epoch with the step counter, ETA, running loss and metrics; when the
    epoch ends the line shows the time taken, time per step and all epoch logs, ``val_*``
    included. verbose=2: the header and one line per epoch. Without a known number of steps a
    counter is shown (``37/Unknown``); the count of the first epoch is then used as the target.
    Validation inside ``fit`` is silent; ``evaluate``/``predict`` get their own bar.

    Args:
        backend: ``"auto"`` (tqdm for the live bar when installed, else plain text),
            ``"tqdm"`` or ``"plain"``.
    """

    def __init__(self, backend: str = "auto") -> None:
        super().__init__()
        if backend not in ("auto", "tqdm", "plain"):
            raise ValueError(f"backend must be 'auto', 'tqdm' or 'plain', got {backend!r}")
        self._config = {"backend": backend}
        self.backend = backend
        self.seen = 0
        self.progbar: Any = None
        self.target: int | None = None
        self.verbose: int = 1
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params: dict[str, Any]) -> None:
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else int(verbose)
        self.epochs = int(params.get("epochs") or 1)
        steps = params.get("steps")
        self.target = None if steps is None else int(steps)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._called_in_fit = True  # validation inside fit is silent

    def on_train_end(self, logs: Logs | None = None) -> None:
        self._reset_progbar()
        self._called_in_fit = False

    def on_test_begin(self, logs: Logs | None = None) -> None:
        if not self._called_in_fit:
            self._reset_progbar()
            self._maybe_init_progbar()

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        self._reset_progbar()
        self._maybe_init_progbar()

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._reset_progbar()
        if self.verbose and self.epochs > 1:
            _print(f"Epoch {epoch + 1}/{self.epochs}")
        self._maybe_init_progbar()

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._update_progbar(batch, logs)

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if not self._called_in_fit:
            self._update_progbar(batch, logs)

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._update_progbar(batch, None)  # never show the predictions

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self._finalize_progbar(logs)

    def on_test_end(self, logs: Logs | None = None) -> None:
        if not self._called_in_fit:
            self._finalize_progbar(logs)

    def on_predict_end(self, logs: Logs | None = None) -> None:
        self._finalize_progbar(logs)

    def _reset_progbar(self) -> None:
        if self.progbar is not None and not self.progbar.finalized:
            self.progbar.close()
        self.seen = 0
        self.progbar = None

    def _maybe_init_progbar(self) -> None:
        if self.progbar is None and self.verbose:
            # the logs hold running means already: show them as given
            self.progbar = make_progbar(self.target, verbose=self.verbose, backend=self.backend,
                                        unit_name="step", stateless_metrics=())

    def _update_progbar(self, batch: int, logs: Logs | None) -> None:
        if not self.verbose:
            return
        self._maybe_init_progbar()
        self.seen = batch + 1
        if self.verbose == 1:
            self.progbar.update(self.seen, list((logs or {}).items()), finalize=False)

    def _finalize_progbar(self, logs: Logs | None) -> None:
        if not self.verbose:
            return
        self._maybe_init_progbar()
        if self.target is None:
            self.target = self.seen
            self.progbar.target = self.target
        # an epoch cut short (stop_training) ends at the step it reached
        current = self.seen if 0 < self.seen < self.target else self.target
        self.progbar.update(current, list((logs or {}).items()), finalize=True)


# -- monitored callbacks --------------------------------------------------------------------------
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
        if self.save_freq == "epoch":
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


# -- other callbacks ------------------------------------------------------------------------------
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
        optimizer = getattr(self.model, "optimizer", None)
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


@register
class CSVLogger(_Configurable, Callback):
    """Stream epoch results to a CSV file: header ``epoch,<sorted log keys>``, one row per epoch
    (0-based epoch index, as Keras writes it), flushed every epoch.

    Args:
        filename: the CSV file.
        separator: field separator.
        append: append to an existing file (no second header) instead of overwriting it.
    """

    def __init__(self, filename: str | os.PathLike[str], separator: str = ",",
                 append: bool = False) -> None:
        super().__init__()
        self.filename = os.fspath(filename)
        self._config = {"filename": self.filename, "separator": separator, "append": append}
        self.sep = separator
        self.append = append
        self.writer: Any = None
        self.keys: list[str] | None = None
        self.append_header = True
        self.csv_file: Any = None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename, encoding="utf-8") as f:
                    self.append_header = not bool(len(f.readline()))
            mode = "a"
        else:
            self.append_header = True
            mode = "w"
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        dirname = os.path.dirname(self.filename)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        self.csv_file = open(self.filename, mode, newline="", encoding="utf-8")
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        if self.csv_file is None or self.csv_file.closed:
            self.on_train_begin()

        def handle_value(value: Any) -> Any:
            if isinstance(value, str):
                return value
            if isinstance(value, np.ndarray) and value.ndim == 0:
                return value.item()
            if isinstance(value, collections.abc.Iterable):
                return f'"[{", ".join(map(str, value))}]"'
            if isinstance(value, np.generic):
                return value.item()
            return value

        if self.keys is None:
            self.keys = sorted(logs.keys())
            try:
                expected = list(getattr(self.model, "metrics_names", None) or [])
            except Exception:  # a model property may refuse before compile
                expected = []
            for name in expected:
                if isinstance(name, str) and name.startswith("val_") and name not in self.keys:
                    self.keys.append(name)
        if self.writer is None:
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch", *self.keys],
                                         delimiter=self.sep, lineterminator="\n")
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((key, handle_value(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None


@register
class TerminateOnNaN(_Configurable, Callback):
    """Stop training when a batch's loss is NaN or infinite.

    Sets ``model.stop_training`` and prints ``Batch 7: Invalid loss, terminating training``
    (``raise_error=True`` raises RuntimeError instead).
    """

    def __init__(self, raise_error: bool = False) -> None:
        super().__init__()
        self._config = {"raise_error": raise_error}
        self.raise_error = raise_error

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is None or _is_finite(loss):
            return
        if self.raise_error:
            raise RuntimeError(
                f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                "Terminating training immediately.")
        _print(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback made of functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``.

    ``on_epoch_begin/end`` and the batch hooks are called as ``fn(epoch_or_batch, logs)``;
    ``on_train_begin/end`` (and the other begin/end hooks) as ``fn(logs)``. Any other hook
    (``on_test_end=...``, ``on_predict_batch_end=...``) can be given by keyword; unknown names
    raise TypeError.
    """

    def __init__(self, on_epoch_begin: Callable[..., Any] | None = None,
                 on_epoch_end: Callable[..., Any] | None = None,
                 on_train_begin: Callable[..., Any] | None = None,
                 on_train_end: Callable[..., Any] | None = None,
                 on_train_batch_begin: Callable[..., Any] | None = None,
                 on_train_batch_end: Callable[..., Any] | None = None,
                 **kwargs: Callable[..., Any] | None) -> None:
        super().__init__()
        unknown = sorted(set(kwargs) - set(_HOOKS))
        if unknown:
            raise TypeError(f"LambdaCallback got unknown hook(s) {unknown}; known hooks: "
                            f"{sorted(_HOOKS)}")
        hooks = dict(kwargs, on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end,
                     on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end)
        for name, fn in hooks.items():
            if fn is None:
                continue
            if not callable(fn):
                raise TypeError(f"{name} must be callable, got {type(fn).__name__}")
            setattr(self, name, _lambda_hook(fn, with_index="batch" in name or "epoch" in name))


def _lambda_hook(fn: Callable[..., Any], with_index: bool) -> Callable[..., Any]:
    """Call ``fn(index, logs)`` or ``fn(logs)`` however the hook itself was called."""
    if with_index:
        def hook(index: int, logs: Logs | None = None) -> Any:
            return fn(index, logs)
    else:
        def hook(logs: Logs | None = None) -> Any:  # type: ignore[misc]
            return fn(logs)
    return hook
