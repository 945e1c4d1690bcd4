"""Time series: tolerant CSV column reading, scalers, sliding windows, chronological splits.

CSV reading (:func:`read_csv_column`, :func:`read_csv_columns`):

- Header names are matched after stripping spaces and quotes (``" Close "`` matches ``"Close"``);
  if there is no exact match a unique case-insensitive match is used. A column can also be given
  by its 0-based position. Unknown columns raise :class:`UnknownColumnError` listing the columns.
- Numbers may be quoted and use thousands separators (``"1,234.5"``); ``+``/``-``, exponents and
  surrounding spaces are accepted. Other text raises :class:`DataFormatError` with line numbers.
- Missing values are empty fields or ``NA``, ``N/A``, ``NaN``, ``null``, ``None``, ``-``, ``?``
  (case-insensitive). They are never dropped silently: ``missing="error"`` (default) raises
  :class:`MissingValuesError` with their count and line numbers; ``missing="drop"`` drops those
  rows and ``missing="ffill"`` repeats the previous value, both with a
  :class:`MissingValuesWarning`; ``return_report=True`` also returns a :class:`CSVReport`.
- Line numbers are 1-based lines of the file (the header is line 1). Empty lines are skipped
  (in a one-column file a line holding only spaces or ``""`` is a missing value). A row whose
  field count differs from the header's is malformed (:class:`DataFormatError`).

Scalers are fitted on training data only and invert exactly (up to float rounding).
:func:`prepare_timeseries` splits chronologically, fits the scaler on the training part only
and windows each part so that no target of one part is visible to an earlier part.
"""

from __future__ import annotations

import csv
import os
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from rnnlab.data.errors import (
    DataFormatError,
    MissingValuesError,
    MissingValuesWarning,
    UnknownColumnError,
)

__all__ = [
    "CSVReport",
    "MinMaxScaler",
    "StandardScaler",
    "TimeSeriesData",
    "chronological_split",
    "count_windows",
    "prepare_timeseries",
    "read_csv_column",
    "read_csv_columns",
    "read_csv_header",
    "sliding_windows",
]

MISSING_MARKERS = frozenset({"", "na", "n/a", "nan", "null", "none", "-", "?", "#n/a"})
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?([eE][+-]?\d+)?$")


def _clean(s: str) -> str:
    return s.strip().strip('"').strip("'").strip()


def _parse_number(raw: str) -> float | None:
    """Float value of a CSV field; None for a missing value; ValueError for other text."""
    t = _clean(raw)
    if t.lower() in MISSING_MARKERS:
        return None
    if "," in t:
        if not _THOUSANDS.match(t):
            raise ValueError(raw)
        t = t.replace(",", "")
    return float(t)  # ValueError for text


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------
@dataclass
class CSVReport:
    """What :func:`read_csv_columns` found and did.

    Attributes:
        path: the file.
        columns: the resolved column names.
        n_rows: data rows read (blank lines excluded).
        missing: ``{column: [line numbers]}`` of missing values found.
        dropped_lines: lines dropped (``missing="drop"``).
        filled_lines: lines forward-filled (``missing="ffill"``).
        lines: the line number of each returned row.
    """

    path: str
    columns: list[str]
    n_rows: int = 0
    missing: dict[str, list[int]] = field(default_factory=dict)
    dropped_lines: list[int] = field(default_factory=list)
    filled_lines: list[int] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)

    @property
    def n_missing(self) -> int:
        return sum(len(v) for v in self.missing.values())


def _fmt_lines(lines: Sequence[int], limit: int = 10) -> str:
    shown = ", ".join(str(n) for n in lines[:limit])
    return shown + (f", ... ({len(lines) - limit} more)" if len(lines) > limit else "")


def _open_csv(path: str | os.PathLike[str]):
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"CSV file not found: {p} (expected a text file with a header row)")
    return open(p, newline="", encoding="utf-8-sig")


def _read_header(reader: Any, path: Path) -> list[str]:
    for row in reader:
        if row and any(f.strip() for f in row):
            return [_clean(h) for h in row]
    raise DataFormatError(f"{path} is empty; expected a CSV file with a header row")


def read_csv_header(path: str | os.PathLike[str], delimiter: str = ",") -> list[str]:
    """The column names of a CSV file (stripped of spaces and quotes)."""
    with _open_csv(path) as f:
        return _read_header(csv.reader(f, delimiter=delimiter), Path(path))


def _resolve_column(header: list[str], column: str | int, path: Path) -> int:
    available = ", ".join(repr(h) for h in header)
    if isinstance(column, (int, np.integer)) and not isinstance(column, bool):
        i = int(column)
        if not -len(header) <= i < len(header):
            raise UnknownColumnError(
                f"column index {i} out of range for {path}: it has {len(header)} columns "
                f"({available})"
            )
        return i % len(header)
    if not isinstance(column, str):
        raise TypeError(f"column must be a name or an index, got {column!r}")
    name = _clean(column)
    exact = [i for i, h in enumerate(header) if h == name]
    if len(exact) == 1:
        return exact[0]
    if len(exact) > 1:
        raise DataFormatError(f"column name {name!r} appears {len(exact)} times in {path}")
    folded = [i for i, h in enumerate(header) if h.casefold() == name.casefold()]
    if len(folded) == 1:
        return folded[0]
    raise UnknownColumnError(
        f"column {column!r} not found in {path}; available columns: {available}"
    )


def read_csv_columns(
    path: str | os.PathLike[str],
    columns: Sequence[str | int],
    missing: str = "error",
    delimiter: str = ",",
    dtype: Any = np.float64,
    return_report: bool = False,
) -> np.ndarray | tuple[np.ndarray, CSVReport]:
    """Read numeric columns of a CSV file into an ``(N, len(columns))`` array.

    Args:
        path: the CSV file (header row first).
        columns: names (or 0-based indices) of the columns.
        missing: ``"error"`` (default), ``"drop"`` or ``"ffill"`` (see the module docstring).
        delimiter: field separator.
        dtype: float dtype of the result.
        return_report: also return a :class:`CSVReport`.
    """
    if missing not in ("error", "drop", "ffill"):
        raise ValueError(f"missing must be 'error', 'drop' or 'ffill', got {missing!r}")
    if isinstance(columns, (str, int)):
        raise TypeError("read_csv_columns expects a list of columns; use read_csv_column")
    p = Path(path)
    with _open_csv(p) as f:
        reader = csv.reader(f, delimiter=delimiter)
        header = _read_header(reader, p)
        idx = [_resolve_column(header, c, p) for c in columns]
        names = [header[i] for i in idx]
        values: list[list[float | None]] = []
        lines: list[int] = []
        bad_width: list[tuple[int, int]] = []
        bad_text: list[tuple[int, str, str]] = []
        try:
            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip() and len(header) > 1):
                    continue  # blank line (a lone empty field is a missing value)
                line = reader.line_num
                if len(row) != len(header):
                    bad_width.append((line, len(row)))
                    continue
                vals: list[float | None] = []
                for i, name in zip(idx, names, strict=True):
                    try:
                        vals.append(_parse_number(row[i]))
                    except ValueError:
                        bad_text.append((line, name, row[i]))
                        vals.append(None)
                values.append(vals)
                lines.append(line)
        except csv.Error as exc:
            raise DataFormatError(
                f"{p} is not a valid CSV file (line {reader.line_num}): {exc}"
            ) from exc
    if bad_width:
        ex = ", ".join(f"line {ln}: {n} fields" for ln, n in bad_width[:5])
        raise DataFormatError(
            f"{p}: {len(bad_width)} malformed row(s) whose field count differs from the header's "
            f"{len(header)} ({ex}); numbers with thousands separators must be quoted, "
            'e.g. "1,234.5"'
        )
    if bad_text:
        ex = ", ".join(f"line {ln} column {c!r}: {v!r}" for ln, c, v in bad_text[:5])
        raise DataFormatError(
            f"{p}: {len(bad_text)} value(s) are not numbers ({ex}); expected numbers such as "
            '12.5, -3e2 or "1,234.5", or an empty field / NA for a missing value'
        )
    if not values:
        raise DataFormatError(f"{p} has a header but no data rows")

    report = CSVReport(path=str(p), columns=names, n_rows=len(values))
    for j, name in enumerate(names):
        miss = [lines[r] for r, v in enumerate(values) if v[j] is None]
        if miss:
            report.missing[name] = miss
    if report.missing:
        all_lines = sorted({ln for v in report.missing.values() for ln in v})
        detail = "; ".join(
            f"column {c!r}: {len(v)} at line(s) {_fmt_lines(v)}" for c, v in report.missing.items()
        )
        if missing == "error":
            raise MissingValuesError(
                f"{p}: {report.n_missing} missing value(s) ({detail}). Pass missing='drop' to "
                "drop those rows or missing='ffill' to repeat the previous value",
                lines=all_lines,
                column=next(iter(report.missing)),
            )
        if missing == "drop":
            keep = [r for r, v in enumerate(values) if all(x is not None for x in v)]
            report.dropped_lines = all_lines
            values = [values[r] for r in keep]
            lines = [lines[r] for r in keep]
            if not values:
                raise MissingValuesError(
                    f"{p}: every row has a missing value ({detail})", all_lines
                )
            action = "dropped"
        else:
            for j, name in enumerate(names):
                last: float | None = None
                for r, v in enumerate(values):
                    if v[j] is None:
                        if last is None:
                            raise MissingValuesError(
                                f"{p}: cannot forward-fill column {name!r}: its first value(s) "
                                f"are missing (line {lines[r]}); use missing='drop'",
                                lines=[lines[r]],
                                column=name,
                            )
                        v[j] = last
                    else:
                        last = v[j]
            report.filled_lines = all_lines
            action = "forward-filled"
        warnings.warn(
            f"{p}: {report.n_missing} missing value(s) {action} ({detail})",
            MissingValuesWarning,
            stacklevel=3,
        )
    report.lines = lines
    out = np.array(values, dtype=dtype).reshape(len(values), len(names))
    return (out, report) if return_report else out


def read_csv_column(
    path: str | os.PathLike[str],
    column: str | int,
    missing: str = "error",
    delimiter: str = ",",
    dtype: Any = np.float64,
    return_report: bool = False,
) -> np.ndarray | tuple[np.ndarray, CSVReport]:
    """Read one numeric column of a CSV file as a 1-D array (see :func:`read_csv_columns`)."""
    if isinstance(column, (list, tuple)):
        raise TypeError("read_csv_column reads one column; use read_csv_columns for several")
    res = read_csv_columns(path, [column], missing, delimiter, dtype, return_report=True)
    values, report = res
    out = values[:, 0]
    return (out, report) if return_report else out


# --------------------------------------------------------------------------------------------
# Scalers
# --------------------------------------------------------------------------------------------
def _as_2d(x: Any, what: str) -> tuple[np.ndarray, tuple[int, ...]]:
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{what} must be numeric, got dtype {arr.dtype}")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if arr.ndim == 0:
        raise ValueError(f"{what} must have at least one axis, got a scalar")
    flat = arr.reshape(-1, 1) if arr.ndim == 1 else arr.reshape(-1, arr.shape[-1])
    return flat, arr.shape


_S = TypeVar("_S", bound="_Scaler")


class _Scaler:
    """Shared machinery: per-feature parameters along the last axis."""

    _params: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.n_features_in_: int | None = None

    def _check_fitted(self) -> None:
        if self.n_features_in_ is None:
            raise RuntimeError(
                f"this {type(self).__name__} is not fitted yet; call fit(train) first"
            )

    def fit(self: _S, x: Any) -> _S:
        flat, _ = _as_2d(x, "data")
        if flat.shape[0] == 0:
            raise ValueError("cannot fit a scaler on empty data")
        if not np.isfinite(flat).all():
            raise ValueError("cannot fit a scaler on data with NaN or infinite values")
        self._fit(flat.astype(np.float64))
        self.n_features_in_ = flat.shape[1]
        return self

    def _select(self, feature: int | Sequence[int] | None, shape: tuple[int, ...]) -> Any:
        self._check_fitted()
        assert self.n_features_in_ is not None
        if feature is None:
            n = 1 if len(shape) == 1 else shape[-1]
            if n != self.n_features_in_:
                raise ValueError(
                    f"data has {n} feature(s) but the scaler was fitted on {self.n_features_in_}"
                )
            return slice(None)
        if isinstance(feature, (int, np.integer)):
            return int(feature)
        sel = list(feature)
        if len(shape) == 1 or shape[-1] != len(sel):
            raise ValueError(f"data's last axis must have {len(sel)} values for features {sel}")
        return sel

    def _apply(self, x: Any, feature: Any, inverse: bool) -> np.ndarray:
        arr = np.asarray(x)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"data must be numeric, got dtype {arr.dtype}")
        out_dtype = arr.dtype if arr.dtype.kind == "f" else np.dtype(np.float64)
        sel = self._select(feature, arr.shape)
        params = [np.asarray(getattr(self, name))[sel] for name in self._params]
        if len(arr.shape) == 1 and feature is None:
            params = [p.reshape(()) for p in params]
        res = (
            self._inverse(arr.astype(np.float64), *params)
            if inverse
            else self._forward(arr.astype(np.float64), *params)
        )
        return res.astype(out_dtype, copy=False)

    def transform(self, x: Any, feature: int | Sequence[int] | None = None) -> np.ndarray:
        """Scale ``x`` (features on the last axis; a 1-D array is one feature).

        ``feature`` scales values of only that feature (int: every value of ``x``; list: the
        last axis of ``x`` holds those features), e.g. a single target column.
        """
        return self._apply(x, feature, inverse=False)

    def inverse_transform(self, x: Any, feature: int | Sequence[int] | None = None) -> np.ndarray:
        """Undo :meth:`transform` (``feature`` as there, e.g. for predictions of one column)."""
        return self._apply(x, feature, inverse=True)

    def fit_transform(self, x: Any) -> np.ndarray:
        return self.fit(x).transform(x)

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible state (rebuild with :meth:`from_dict`)."""
        self._check_fitted()
        state = {name: np.asarray(getattr(self, name)).tolist() for name in self._state()}
        return {"class_name": type(self).__name__, "config": self._config(), "state": state}

    @classmethod
    def from_dict(cls: type[_S], data: dict[str, Any]) -> _S:
        obj = cls(**data.get("config", {}))
        for name, value in data["state"].items():
            setattr(obj, name, np.asarray(value, dtype=np.float64))
        obj.n_features_in_ = int(np.asarray(data["state"][obj._params[0]]).shape[0])
        return obj

    def _config(self) -> dict[str, Any]:
        return {}

    def _state(self) -> tuple[str, ...]:
        return self._params

    def _fit(self, flat: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _forward(self, x: np.ndarray, *params: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _inverse(self, x: np.ndarray, *params: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError


class MinMaxScaler(_Scaler):
    """Scale each feature to ``feature_range`` using the training minimum and maximum.

    ``x' = (x - data_min_) / data_range_ * (hi - lo) + lo``; a constant feature
    (``data_range_ == 0``) uses a range of 1, so it maps to ``lo``. Attributes:
    ``data_min_``, ``data_max_``, ``data_range_`` (float64, one value per feature).
    """

    _params = ("data_min_", "data_range_")

    def __init__(self, feature_range: tuple[float, float] = (0.0, 1.0)) -> None:
        super().__init__()
        lo, hi = (float(v) for v in feature_range)
        if not lo < hi:
            raise ValueError(
                f"feature_range must be (min, max) with min < max, got {feature_range}"
            )
        self.feature_range = (lo, hi)

    def _fit(self, flat: np.ndarray) -> None:
        self.data_min_ = flat.min(axis=0)
        self.data_max_ = flat.max(axis=0)
        rng = self.data_max_ - self.data_min_
        self.data_range_ = np.where(rng == 0, 1.0, rng)

    def _forward(self, x: np.ndarray, *params: np.ndarray) -> np.ndarray:
        dmin, drange = params
        lo, hi = self.feature_range
        return (x - dmin) / drange * (hi - lo) + lo

    def _inverse(self, x: np.ndarray, *params: np.ndarray) -> np.ndarray:
        dmin, drange = params
        lo, hi = self.feature_range
        return (x - lo) / (hi - lo) * drange + dmin

    def _config(self) -> dict[str, Any]:
        return {"feature_range": list(self.feature_range)}

    def _state(self) -> tuple[str, ...]:
        return ("data_min_", "data_max_", "data_range_")


class StandardScaler(_Scaler):
    """Standardise each feature with the training mean and (population, ddof=0) std.

    A constant feature uses a scale of 1. Attributes: ``mean_``, ``scale_``.
    """

    _params = ("mean_", "scale_")

    def _fit(self, flat: np.ndarray) -> None:
        self.mean_ = flat.mean(axis=0)
        std = flat.std(axis=0)
        self.scale_ = np.where(std == 0, 1.0, std)

    def _forward(self, x: np.ndarray, *params: np.ndarray) -> np.ndarray:
        mean, scale = params
        return (x - mean) / scale

    def _inverse(self, x: np.ndarray, *params: np.ndarray) -> np.ndarray:
        mean, scale = params
        return x * scale + mean


# --------------------------------------------------------------------------------------------
# Windows and splits
# --------------------------------------------------------------------------------------------
def count_windows(length: int, lookback: int, horizon: int = 1, stride: int = 1) -> int:
    """Number of windows :func:`sliding_windows` makes from ``length`` time steps."""
    if length < lookback + horizon:
        return 0
    return (length - lookback - horizon) // stride + 1


def _check_window_args(lookback: int, horizon: int, stride: int) -> None:
    for name, v in (("lookback", lookback), ("horizon", horizon), ("stride", stride)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")


def sliding_windows(
    series: Any,
    lookback: int,
    horizon: int = 1,
    stride: int = 1,
    target: int | Sequence[int] | None = None,
    multi_step: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Cut a series into input windows and targets.

    Window ``n`` starts at ``s = n * stride`` and covers steps ``s .. s + lookback - 1``. Its
    target is the value ``horizon`` steps after the window's last step, ``s + lookback + horizon
    - 1`` (``horizon=1``: the next step), or with ``multi_step=True`` all of the next
    ``horizon`` steps.

    Args:
        series: ``(T,)`` or ``(T, F)`` array.
        lookback: window length.
        horizon: steps ahead to predict (>= 1).
        stride: distance between window starts.
        target: feature(s) to predict: ``None`` all features, an int one feature, a list some.
        multi_step: targets for every step 1..horizon.

    Returns:
        ``x`` of shape ``(N, lookback, F)`` (``F = 1`` for a 1-D series) and ``y`` of shape
        ``(N, F)`` / ``(N,)`` (int target) / ``(N, k)`` (list target); with ``multi_step`` an
        extra ``horizon`` axis after ``N``: ``(N, horizon, F)`` / ``(N, horizon)`` / ...
    """
    _check_window_args(lookback, horizon, stride)
    arr = np.asarray(series)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"series must be (T,) or (T, features), got shape {np.shape(series)}")
    n = count_windows(len(arr), lookback, horizon, stride)
    if n == 0:
        raise ValueError(
            f"series of length {len(arr)} is too short for lookback={lookback} + "
            f"horizon={horizon} (need at least {lookback + horizon} steps)"
        )
    starts = np.arange(n) * stride
    x = arr[starts[:, None] + np.arange(lookback)[None, :]]
    tgt = (
        arr
        if target is None
        else arr[:, target if isinstance(target, (int, np.integer)) else list(target)]
    )
    if multi_step:
        y = tgt[starts[:, None] + lookback + np.arange(horizon)[None, :]]
    else:
        y = tgt[starts + lookback + horizon - 1]
    return x, y


def chronological_split(
    data: Any, fractions: Sequence[float] = (0.7, 0.15, 0.15)
) -> tuple[np.ndarray, ...]:
    """Split along the first (time) axis into consecutive parts, in order, without shuffling.

    Part boundaries are ``round(cumsum(fractions) * len(data))``; the fractions must be positive
    and sum to 1, and every part must be non-empty.
    """
    arr = np.asarray(data)
    fr = np.asarray(fractions, dtype=np.float64)
    if fr.ndim != 1 or len(fr) < 1 or np.any(fr <= 0) or abs(fr.sum() - 1.0) > 1e-9:
        raise ValueError(f"fractions must be positive and sum to 1, got {tuple(fractions)}")
    bounds = _split_bounds(len(arr), fr)
    parts = tuple(arr[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True))
    for k, part in enumerate(parts):
        if len(part) == 0:
            raise ValueError(
                f"part {k} of the split is empty ({len(arr)} rows, fractions {tuple(fractions)})"
            )
    return parts


def _split_bounds(n: int, fr: np.ndarray) -> list[int]:
    return [0] + [int(round(c * n)) for c in np.cumsum(fr)[:-1]] + [n]


@dataclass
class TimeSeriesData:
    """Windows of a chronologically split series (see :func:`prepare_timeseries`)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    scaler: _Scaler | None
    bounds: list[int]
    target: int | list[int] | None = None

    def inverse_target(self, y: Any) -> np.ndarray:
        """Undo the scaling of targets or predictions (same layout as ``y_train``)."""
        if self.scaler is None:
            return np.asarray(y)
        return self.scaler.inverse_transform(y, feature=self.target)


def prepare_timeseries(
    series: Any,
    lookback: int,
    horizon: int = 1,
    stride: int = 1,
    fractions: Sequence[float] = (0.7, 0.15, 0.15),
    scaler: str | _Scaler | None = "minmax",
    target: int | Sequence[int] | None = None,
    multi_step: bool = False,
    context: bool = False,
) -> TimeSeriesData:
    """Chronological train/val/test windows with a scaler fitted on the training part only.

    Steps: split the series by ``fractions`` (2 or 3 parts: train, val[, test]); fit ``scaler``
    (``"minmax"``, ``"standard"``, ``None`` or an unfitted scaler object) on the training rows
    only; scale the whole series with it; window each part with :func:`sliding_windows`.
    Every target lies in its own part, and training windows never see validation or test
    values. With ``context=True`` the first windows of the validation and test parts may start
    in the preceding part (inputs are past values only; targets stay in the part), so no
    samples are lost at the boundaries.
    """
    arr = np.asarray(series, dtype=np.float64)
    if arr.ndim not in (1, 2):
        raise ValueError(f"series must be (T,) or (T, features), got shape {arr.shape}")
    fr = np.asarray(fractions, dtype=np.float64)
    if len(fr) not in (2, 3) or np.any(fr <= 0) or abs(fr.sum() - 1.0) > 1e-9:
        raise ValueError(
            f"fractions must be 2 or 3 positive numbers (train, val[, test]) summing to 1, "
            f"got {tuple(fractions)}"
        )
    _check_window_args(lookback, horizon, stride)
    bounds = _split_bounds(len(arr), fr)
    if isinstance(scaler, str):
        if scaler not in ("minmax", "standard"):
            raise ValueError(
                f"scaler must be 'minmax', 'standard', None or a scaler, got {scaler!r}"
            )
        scaler = MinMaxScaler() if scaler == "minmax" else StandardScaler()
    if scaler is not None:
        scaler.fit(arr[: bounds[1]])
        arr = scaler.transform(arr)
    back = lookback if multi_step else lookback + horizon - 1
    out: list[tuple[np.ndarray, np.ndarray] | tuple[None, None]] = []
    names = ("train", "validation", "test")
    for k in range(len(fr)):
        a, b = bounds[k], bounds[k + 1]
        if context and k > 0:
            a = max(a - back, 0)
        part = arr[a:b]
        if count_windows(len(part), lookback, horizon, stride) == 0:
            raise ValueError(
                f"the {names[k]} part has {len(part)} steps, too few for lookback={lookback} + "
                f"horizon={horizon}; use a longer series, other fractions or context=True"
            )
        out.append(sliding_windows(part, lookback, horizon, stride, target, multi_step))
    while len(out) < 3:
        out.append((None, None))
    tgt = (
        None
        if target is None
        else (int(target) if isinstance(target, (int, np.integer)) else list(target))
    )
    return TimeSeriesData(
        x_train=out[0][0],  # type: ignore[arg-type]
        y_train=out[0][1],  # type: ignore[arg-type]
        x_val=out[1][0],
        y_val=out[1][1],
        x_test=out[2][0],
        y_test=out[2][1],
        scaler=scaler,
        bounds=bounds,
        target=tgt,
    )
