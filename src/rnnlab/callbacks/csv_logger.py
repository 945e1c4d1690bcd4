"""``CSVLogger``: one CSV row per epoch."""

from __future__ import annotations

import collections.abc
import csv
import os
from typing import Any

import numpy as np

from .._registry import register
from .base import (
    Callback,
    Logs,
    _Configurable,
)


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
