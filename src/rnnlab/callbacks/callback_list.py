"""``CallbackList`` (dispatch to every callback) and ``History`` (what ``fit`` returns)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .base import Callback, Logs
from .progbar import ProgbarLogger


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
