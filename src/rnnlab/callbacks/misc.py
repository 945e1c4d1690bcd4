"""``TerminateOnNaN`` and ``LambdaCallback``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._registry import register
from .base import (
    _HOOKS,
    Callback,
    Logs,
    _Configurable,
    _is_finite,
    _print,
)


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
