"""The callback interface: ``Callback`` (every hook a no-op), the config mix-in, and how
``mode="auto"`` is resolved for monitored callbacks."""

from __future__ import annotations

import sys
import warnings
from typing import Any

import numpy as np

from .._registry import deserialize, serialize

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
