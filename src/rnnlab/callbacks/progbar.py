"""``ProgbarLogger``: Keras's progress bar and epoch lines."""

from __future__ import annotations

from typing import Any

from .._registry import register
from ..progress import make_progbar
from .base import (
    Callback,
    Logs,
    _Configurable,
    _print,
)


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
