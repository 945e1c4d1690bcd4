"""What the forecasting experiments (``timeseries``, ``stocks``) share besides normalisation:
choosing the input columns of a CSV file, fitting lookback and horizon to a short series, the
dense baseline.

- :func:`input_columns`: ``--columns`` ("" = every numeric column of the file, else names
  separated by commas); the target column ``--column`` is always one of them (added first when
  missing).
- :func:`fit_window`: when ``lookback + horizon`` is more than half the training rows, a
  smaller pair chosen from the length (horizon at most an eighth of the training rows, lookback
  the rest of half of them) and a note saying so; otherwise the pair unchanged.
- :func:`build_dense`: Chollet's §6.3 densely connected baseline, ``Flatten`` +
  ``Dense(units, relu)`` + ``Dense(1)``, on the same windows as the recurrent model.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from ..data.timeseries import _parse_number


def numeric_columns(path: Path, probe_rows: int = 5) -> list[str]:
    """Columns of ``path`` whose first ``probe_rows`` data values are numbers (or missing)."""
    from ..data import read_csv_header

    header = read_csv_header(path)
    ok = [True] * len(header)
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = [r for r in csv.reader(fh) if r and any(f.strip() for f in r)][1:probe_rows + 1]
    for row in rows:
        for j, field in enumerate(row[:len(header)]):
            try:
                _parse_number(field)
            except ValueError:
                ok[j] = False
    return [h for h, good in zip(header, ok) if good]


def input_columns(path: Path, target: str, columns: str) -> list[str]:
    """The input columns (target first when it was not named)."""
    from ..data import read_csv_header

    header = read_csv_header(path)
    if columns.strip():
        names = [c.strip() for c in columns.split(",") if c.strip()]
    else:
        names = numeric_columns(path)
        if not names:
            raise ValueError(f"{path} has no numeric column; its columns: {', '.join(header)}")
    folded = {n.casefold() for n in names}
    if target.casefold() not in folded:
        names = [target, *names]
    return names


def target_index(columns: list[str], target: str) -> int:
    for i, name in enumerate(columns):
        if name == target:
            return i
    return [n.casefold() for n in columns].index(target.casefold())


def fit_window(n_train: int, lookback: int, horizon: int, what: str) -> tuple[int, int, str]:
    """``(lookback, horizon, note)``: unchanged (note "") when they fit ``n_train`` rows."""
    half = n_train // 2
    if lookback + horizon <= half:
        return lookback, horizon, ""
    if half < 2:
        raise ValueError(f"{what} has {n_train} training row(s); a forecast needs at least 4")
    new_h = min(horizon, max(1, n_train // 8))
    new_l = max(1, half - new_h)
    return new_l, new_h, (f"{what}: lookback {lookback} + horizon {horizon} do not fit its "
                          f"{n_train} training rows; using lookback {new_l} and horizon {new_h} "
                          "(pass --lookback and --horizon to choose)")


def build_dense(lookback: int, features: int, units: int, lr: float, loss: str,
                name: str = "dense") -> Any:
    from .. import optimizers
    from ..layers import Dense, Flatten
    from ..models import Sequential

    model = Sequential([Flatten(input_shape=(lookback, features), name=f"{name}_flatten"),
                        Dense(units, activation="relu", name=f"{name}_hidden"),
                        Dense(1, name=f"{name}_out")], name=name)
    model.compile(optimizer=optimizers.RMSprop(learning_rate=lr), loss=loss)
    return model

