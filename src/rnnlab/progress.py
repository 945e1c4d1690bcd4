"""Progress bars for ``fit``/``evaluate``/``predict`` in Keras's layout.

``Progbar`` follows ``keras.utils.Progbar`` (``update(current, values, finalize)``, ``add(n)``,
``target=None`` for an unknown number of steps, verbose 1 = live bar, 2 = one line when done) and
writes plain text to ``sys.stdout`` (looked up when the bar is made, so redirections and pytest's
``capsys`` see it). ``TqdmProgbar`` has the same interface and draws the live bar with tqdm.
``make_progbar`` picks tqdm for verbose=1 when it is installed; tqdm is imported lazily, so the
core needs NumPy only.

Lines look like Keras's::

    Epoch 3/10
     12/100 [==>.................] - ETA: 3s - loss: 0.4821 - accuracy: 0.8125
    100/100 [====================] - 3s 31ms/step - loss: 0.4120 - val_loss: 0.4533   (end)
    100/100 - 3s - 31ms/step - loss: 0.4120 - val_loss: 0.4533                      (verbose=2)
         37/Unknown - 1s 30ms/step - loss: 0.5000                           (unknown steps)
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Iterable
from typing import Any, TextIO

import numpy as np

__all__ = [
    "Progbar",
    "TqdmProgbar",
    "format_eta",
    "format_metrics",
    "format_time_per_unit",
    "format_value",
    "make_progbar",
    "tqdm_available",
]


# -- formatting helpers (shared by both bars and by ProgbarLogger) ------------------------------
def format_value(value: Any) -> str:
    """Keras's number format: 4 decimals, scientific at or below 1e-3 in magnitude (arrays are
    averaged; NaN and inf print as ``nan``/``inf``)."""
    if isinstance(value, str):
        return value
    try:
        number = float(np.mean(value))
    except (TypeError, ValueError):
        return str(value)
    return f"{number:.4f}" if abs(number) > 1e-3 else f"{number:.4e}"


def format_metrics(values: Iterable[tuple[str, Any]]) -> str:
    """``" - loss: 0.1234 - accuracy: 0.5000"`` for ``[(name, value), ...]``."""
    return "".join(f" - {name}: {format_value(value)}" for name, value in values)


def format_time_per_unit(seconds: float, unit_name: str = "step") -> str:
    """``" 31ms/step"``: seconds, milliseconds or microseconds per unit, as Keras prints it."""
    if seconds >= 1 or seconds == 0:
        return f" {seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f" {seconds * 1e3:.0f}ms/{unit_name}"
    return f" {seconds * 1e6:.0f}us/{unit_name}"


def format_eta(seconds: float) -> str:
    """``"3s"``, ``"1:02"`` or ``"1:00:03"``."""
    s = int(seconds)
    if seconds > 3600:
        return f"{s // 3600}:{(s % 3600) // 60:02d}:{s % 60:02d}"
    if seconds > 60:
        return f"{s // 60}:{s % 60:02d}"
    return f"{s}s"


def tqdm_available() -> bool:
    """Whether ``tqdm`` can be imported (checked on every call: tests may hide it)."""
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True


# -- shared state: metric averaging and step timing ---------------------------------------------
class _BaseProgbar:
    """Metric bookkeeping and step timing shared by the plain and the tqdm bar."""

    def __init__(
        self,
        target: int | None,
        width: int = 20,
        verbose: int = 1,
        interval: float = 0.05,
        stateful_metrics: Iterable[str] | None = None,
        stateless_metrics: Iterable[str] | None = None,
        unit_name: str = "step",
        file: TextIO | None = None,
    ) -> None:
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError(
                "Give at most one of `stateful_metrics` (shown as given; the others are "
                "averaged) and `stateless_metrics` (averaged; the others are shown as given)")
        if target is not None and (not isinstance(target, (int, np.integer)) or target < 0):
            raise ValueError(f"target must be a non-negative integer or None, got {target!r}")
        self.target = None if target is None else int(target)
        self.width = int(width)
        self.verbose = verbose
        self.interval = float(interval)
        self.unit_name = unit_name
        self.file = file if file is not None else sys.stdout
        if stateless_metrics is not None:
            self.stateful_metrics: set[str] | None = None
            self.stateless_metrics: set[str] | None = set(stateless_metrics)
        else:
            self.stateful_metrics = set(stateful_metrics or ())
            self.stateless_metrics = None
        self._values: dict[str, list[Any]] = {}
        self._values_order: list[str] = []
        self._seen_so_far = 0
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step: float | None = None
        self.finalized = False

    # values -------------------------------------------------------------------------------------
    def _is_stateless(self, name: str) -> bool:
        if self.stateful_metrics is not None:
            return name not in self.stateful_metrics
        assert self.stateless_metrics is not None
        return name in self.stateless_metrics

    def _record(self, current: int, values: Iterable[tuple[str, Any]] | None,
                finalize: bool) -> None:
        for name, value in values or ():
            if name not in self._values_order:
                self._values_order.append(name)
            if self._is_stateless(name) and not finalize and _is_number(value):
                base = max(current - self._seen_so_far, 1)
                if name in self._values:
                    self._values[name][0] += value * base
                    self._values[name][1] += base
                else:
                    self._values[name] = [value * base, base]
            else:
                self._values[name] = [value, 1]
        self._seen_so_far = current

    def _metric_items(self) -> list[tuple[str, Any]]:
        items = []
        for name in self._values_order:
            total, count = self._values[name]
            items.append((name, total / max(1, count) if _is_number(total) else total))
        return items

    def _metrics_text(self) -> str:
        return format_metrics(self._metric_items())

    # timing -------------------------------------------------------------------------------------
    def _time_per_unit(self, current: int, now: float) -> float:
        """Seconds per step, ignoring the (often slow) first step once there are more."""
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_unit

    def _count_text(self, current: int) -> str:
        if self.target:
            digits = int(math.log10(self.target)) + 1
            return f"{current:{digits}d}/{self.target}"
        return f"{current:7d}/Unknown"

    def _summary_line(self, current: int, now: float, per_unit: float) -> str:
        """The verbose=2 line: ``"100/100 - 3s - 31ms/step - loss: 0.4120"``."""
        count = f"{current}/{self.target}" if self.target else f"{current}"
        return (f"{count} - {now - self._start:.0f}s -"
                f"{format_time_per_unit(per_unit, self.unit_name)}{self._metrics_text()}")

    def _write(self, text: str) -> None:
        self.file.write(text)
        self.file.flush()

    # public -------------------------------------------------------------------------------------
    def update(self, current: int, values: Iterable[tuple[str, Any]] | None = None,
               finalize: bool | None = None) -> None:
        raise NotImplementedError

    def add(self, n: int, values: Iterable[tuple[str, Any]] | None = None) -> None:
        """Advance by ``n`` steps."""
        self.update(self._seen_so_far + n, values)

    def close(self) -> None:
        """Release the display (no-op for the plain bar)."""


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.number, np.ndarray)) and not isinstance(value, bool)


# -- plain text bar -------------------------------------------------------------------------------
class Progbar(_BaseProgbar):
    """Keras-style progress bar written as plain text (no dependencies).

    Args:
        target: total number of steps, or None when unknown (a step counter is shown).
        width: width of the ``[====....]`` bar in characters.
        verbose: 0 silent, 1 live bar, 2 one line when finalised.
        interval: minimum seconds between redraws of the live bar.
        stateful_metrics: names shown as given; others are averaged over steps (Keras default).
        stateless_metrics: names averaged over steps; others shown as given.
        unit_name: unit shown in the time per unit (``"step"``, ``"sample"``).
        file: stream to write to (default: ``sys.stdout`` when the bar is made).
        dynamic_display: redraw in place with ``\\r`` (default: when the stream is a terminal or
            a notebook). Otherwise a new line is written at most every ``non_dynamic_interval``
            seconds and when finalised, so redirected logs stay readable.
    """

    non_dynamic_interval = 10.0

    def __init__(self, target: int | None, width: int = 20, verbose: int = 1,
                 interval: float = 0.05, stateful_metrics: Iterable[str] | None = None,
                 stateless_metrics: Iterable[str] | None = None, unit_name: str = "step",
                 file: TextIO | None = None, dynamic_display: bool | None = None) -> None:
        super().__init__(target, width, verbose, interval, stateful_metrics, stateless_metrics,
                         unit_name, file)
        if dynamic_display is None:
            isatty = getattr(self.file, "isatty", None)
            dynamic_display = bool(
                (callable(isatty) and isatty()) or "ipykernel" in sys.modules
                or "PYCHARM_HOSTED" in os.environ)
        self._dynamic_display = dynamic_display
        self._prev_total_width = 0

    def _bar_text(self, current: int) -> str:
        if not self.target:
            return self._count_text(current)
        done = int(self.width * min(current, self.target) / self.target)
        bar = "=" * done
        if done < self.width:
            bar += (">" if current > 0 else ".") + "." * (self.width - done - 1)
        return f"{self._count_text(current)} [{bar}]"

    def update(self, current: int, values: Iterable[tuple[str, Any]] | None = None,
               finalize: bool | None = None) -> None:
        """Show step ``current`` with ``values`` (``[(name, value), ...]``).

        ``finalize`` (default: ``current >= target``) ends the bar: the total time and time per
        step replace the ETA and the line is ended.
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        self._record(current, values, finalize)
        now = time.time()
        per_unit = self._time_per_unit(current, now)

        if self.verbose == 1:
            since = now - self._last_update
            limit = self.interval if self._dynamic_display else self.non_dynamic_interval
            if since < limit and not finalize:
                return
            line = self._bar_text(current)
            if self.target and not finalize:
                line += f" - ETA: {format_eta(per_unit * (self.target - current))}"
            else:
                per_step = format_time_per_unit(per_unit, self.unit_name)
                line += f" - {now - self._start:.0f}s{per_step}"
            line += self._metrics_text()
            if self._dynamic_display:
                padding = max(self._prev_total_width - len(line), 0)
                self._prev_total_width = len(line)
                self._write("\r" + line + " " * padding + ("\n" if finalize else ""))
            else:
                self._write(line + "\n")
        elif self.verbose == 2 and finalize:
            self._write(self._summary_line(current, now, per_unit) + "\n")
        self._last_update = now
        if finalize:
            self.finalized = True


# -- tqdm bar -------------------------------------------------------------------------------------
_TQDM_CLASS: Any = None


def _keras_tqdm() -> Any:
    """A tqdm subclass whose ``bar_format`` can use ``{count}`` and ``{metrics}`` (made lazily)."""
    global _TQDM_CLASS
    from tqdm import tqdm  # lazy: tqdm is optional

    if _TQDM_CLASS is None or not issubclass(_TQDM_CLASS, tqdm):

        class KerasTqdm(tqdm):
            def __init__(self, *args: Any, count_text: str = "", **kwargs: Any) -> None:
                self.count_text = count_text  # before tqdm's first display
                self.metrics_text = ""
                super().__init__(*args, **kwargs)

            @property
            def format_dict(self) -> dict[str, Any]:
                d = super().format_dict
                d["count"] = self.count_text
                d["metrics"] = self.metrics_text
                return d

        _TQDM_CLASS = KerasTqdm
    return _TQDM_CLASS


class TqdmProgbar(_BaseProgbar):
    """The verbose=1 live bar drawn by tqdm, same interface and text as ``Progbar``.

    tqdm handles redrawing, throttling (``interval``), the terminal width and the ETA/elapsed
    times; the step counter and the metrics are formatted as Keras does. ``verbose=2`` writes the
    same single line per epoch as ``Progbar``. Raises ImportError when tqdm is not installed.
    """

    _FORMAT_RUNNING = "{count} [{bar:WIDTH}] - ETA: {remaining}{metrics}"
    _FORMAT_DONE = "{count} [{bar:WIDTH}] - {elapsed}{metrics}"
    _FORMAT_UNKNOWN = "{count} - {elapsed}{metrics}"

    def __init__(self, target: int | None, width: int = 20, verbose: int = 1,
                 interval: float = 0.05, stateful_metrics: Iterable[str] | None = None,
                 stateless_metrics: Iterable[str] | None = None, unit_name: str = "step",
                 file: TextIO | None = None) -> None:
        cls = _keras_tqdm()
        super().__init__(target, width, verbose, interval, stateful_metrics, stateless_metrics,
                         unit_name, file)
        self._bar: Any = None
        if self.verbose == 1:
            self._bar = cls(total=self.target or None, file=self.file, unit=unit_name,
                            mininterval=self.interval, ascii=".=", leave=True,
                            dynamic_ncols=False, bar_format=self._format(False),
                            count_text=self._count_text(0))

    def _format(self, finalize: bool) -> str:
        if not self.target:
            return self._FORMAT_UNKNOWN
        fmt = self._FORMAT_DONE if finalize else self._FORMAT_RUNNING
        return fmt.replace("WIDTH", str(self.width))

    def update(self, current: int, values: Iterable[tuple[str, Any]] | None = None,
               finalize: bool | None = None) -> None:
        """Same as ``Progbar.update``."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        self._record(current, values, finalize)
        now = time.time()
        per_unit = self._time_per_unit(current, now)
        if self.verbose == 1 and self._bar is not None:
            bar = self._bar
            if (self.target or None) != bar.total:  # the target became known (end of epoch 1)
                bar.total = self.target or None
            bar.count_text = self._count_text(current)
            text = self._metrics_text()
            if finalize or not self.target:
                text = format_time_per_unit(per_unit, self.unit_name) + text
            bar.metrics_text = text
            if finalize:
                bar.bar_format = self._format(True)
                bar.n = current
                bar.close()  # draws the final state once and ends the line
                self._bar = None
            else:
                bar.bar_format = self._format(False)
                bar.update(current - bar.n)  # tqdm throttles the redraw itself
        elif self.verbose == 2 and finalize:
            self._write(self._summary_line(current, now, per_unit) + "\n")
        self._last_update = now
        if finalize:
            self.finalized = True

    def close(self) -> None:
        """Close an unfinished bar (e.g. after an exception) so later bars start cleanly."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _on_terminal() -> bool:
    isatty = getattr(sys.stdout, "isatty", None)
    return bool(isatty and isatty())


def make_progbar(target: int | None, verbose: int = 1, *, backend: str = "auto",
                 **kwargs: Any) -> _BaseProgbar:
    """A progress bar: tqdm for ``verbose=1`` when installed (``backend="auto"``), else plain.

    ``backend`` is ``"auto"``, ``"tqdm"`` (ImportError without tqdm) or ``"plain"``; ``kwargs``
    go to the bar (``width``, ``interval``, ``stateful_metrics``, ``unit_name``, ``file``...).
    """
    if backend not in ("auto", "tqdm", "plain"):
        raise ValueError(f"backend must be 'auto', 'tqdm' or 'plain', got {backend!r}")
    # tqdm redraws with carriage returns: use it only on a terminal, never into a log file
    use_tqdm = backend == "tqdm" or (backend == "auto" and verbose == 1 and _on_terminal()
                                     and tqdm_available())
    if use_tqdm:
        kwargs.pop("dynamic_display", None)
        return TqdmProgbar(target, verbose=verbose, **kwargs)
    return Progbar(target, verbose=verbose, **kwargs)
