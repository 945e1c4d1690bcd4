"""Using trained models on new data: ``rnnlab forecast`` and ``rnnlab predict``.

Forecasting models (experiments ``timeseries`` and ``stocks``) carry in ``model.metadata``::

    {"kind": "forecast", "experiment": ..., "column": "temperature",
     "columns": ["temperature", "pressure", ...], "lookback": 120, "horizon": 24,
     "normalize": "window", "target": 0, "scaler": {... StandardScaler.to_dict() ...}}

The model reads ``lookback`` rows of its input ``columns`` (``target`` is the position of
``column`` among them), normalised as :mod:`rnnlab.experiments.normalization` describes, and
predicts ``column`` ``horizon`` rows after the last one. Models written before inputs could be
several columns have no ``columns``, ``normalize`` or ``target``: they read their one column,
scaled by their ``scaler`` (``"global"``), and still work. :func:`forecast_csv` applies a model
to every window of a CSV file: the window ending at data row ``t`` (0-based, header excluded)
gives the prediction for row ``t + horizon``; the last ``horizon`` predictions are beyond the
end of the file (the forecast proper).

:func:`predict_file` applies any model to inputs in a file:

- ``.npy``: an array of inputs. For a forecasting model the array holds raw (unscaled) values
  of its columns: a series ``(T, F)`` (every window of it, as :func:`forecast_csv`) or windows
  ``(N, lookback, F)``; a one-column model also takes ``(T,)`` and ``(N, lookback)``;
  predictions come back unscaled, shape ``(N,)``. For other models the
  array goes to ``model.predict`` as it is.
- a text file (one example per line) for text models whose metadata holds a ``vocab`` and an
  ``encoding``: ``"onehot-words"`` (one-hot word vectors, as ``sentiment-tiny``) or
  ``"word-ids"`` (ids = positions in ``vocab``, optional ``maxlen``, ``padding`` "pre"/"post",
  ``truncating`` (default: ``padding``), ``oov_index``, ``lowercase``). A ``"windows"`` entry
  (``{"length", "stride", "average"}``, as ``sentiment`` writes) scores each whole line in
  windows and averages them, as the model was evaluated (``sentiment.predict_windowed``).

Every problem with the user's files or with the kind of model is a ``ValueError`` /
``FileNotFoundError`` / ``KeyError`` whose message says what was expected and what was found.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

PathLike = str | os.PathLike[str]

TRAIN_HINT = {
    "forecast": "train one with `rnnlab run timeseries` (any CSV column: --data FILE.csv "
                "--column NAME) or `rnnlab run stocks`",
}


# -- forecasting models ----------------------------------------------------------------------------
def forecast_metadata(experiment: str, column: str, lookback: int, horizon: int,
                      normalizer: Any, columns: list[str] | None = None, **extra: Any
                      ) -> dict[str, Any]:
    """The metadata a forecasting model needs for :func:`forecast_csv`: its target column,
    its input columns (default: the target alone), lookback, horizon and normalisation."""
    return {"kind": "forecast", "experiment": experiment, "column": column,
            "columns": list(columns) if columns is not None else [column],
            "lookback": int(lookback), "horizon": int(horizon), **normalizer.to_metadata(),
            **extra}


def _describe(model: Any) -> str:
    meta = getattr(model, "metadata", None) or {}
    kind = meta.get("kind")
    exp = meta.get("experiment")
    if kind is None:
        return "a model without a recorded kind (no metadata)"
    return f"a {kind!r} model" + (f" (from experiment {exp!r})" if exp else "")


def check_forecast_model(model: Any) -> dict[str, Any]:
    """The metadata of a forecasting model; ValueError naming the kind it is otherwise.

    Models written before inputs could be several columns lack ``columns`` and
    ``normalize``: they read their one ``column``, scaled globally."""
    meta = getattr(model, "metadata", None) or {}
    if meta.get("kind") != "forecast":
        raise ValueError(f"this is {_describe(model)}, not a forecasting model; "
                         f"{TRAIN_HINT['forecast']}")
    missing = [k for k in ("lookback", "horizon", "column", "scaler") if k not in meta]
    if missing:
        raise ValueError(f"the forecasting model's metadata lacks {', '.join(missing)}; "
                         "retrain it with this version of rnnlab")
    return meta


def model_columns(meta: dict[str, Any], column: str | None = None) -> list[str]:
    """The CSV columns the model reads. ``column`` renames the input of a one-column model;
    a model of several columns reads its own."""
    columns = list(meta.get("columns") or [meta["column"]])
    if column is None:
        return columns
    if len(columns) == 1:
        return [column]
    if column.casefold() != str(meta["column"]).casefold():
        raise ValueError(f"this model reads the columns {', '.join(columns)} and forecasts "
                         f"{meta['column']!r}; --column cannot replace one of several inputs "
                         "(leave it out, or name the columns so in the CSV)")
    return columns


def load_scaler(data: dict[str, Any]) -> Any:
    from .normalization import _scaler_from_dict

    return _scaler_from_dict(data)


def _windows(values: np.ndarray, lookback: int) -> np.ndarray:
    """Every window of ``values`` ``(T, F)`` as ``(T - lookback + 1, lookback, F)``."""
    return np.moveaxis(np.lib.stride_tricks.sliding_window_view(values, lookback, axis=0),
                       -1, 1)


def _predict_raw(model: Any, meta: dict[str, Any], windows: np.ndarray) -> np.ndarray:
    from .normalization import WindowNormalizer

    norm = WindowNormalizer.from_metadata(meta)
    x, last = norm.inputs(windows)
    pred = np.asarray(model.predict(x, verbose=0), dtype=np.float64).reshape(-1)
    return norm.inverse(pred, last)


def forecast_csv(model: Any, csv_path: PathLike, column: str | None = None
                 ) -> list[tuple[int, float]]:
    """``(row, prediction)`` for every window of the model's columns (``column`` renames the
    input of a one-column model).

    ``row`` is the 0-based data row predicted: the window ending at row ``t`` predicts row
    ``t + horizon``.
    """
    from ..data import read_csv_columns

    meta = check_forecast_model(model)
    lookback, horizon = int(meta["lookback"]), int(meta["horizon"])
    names = model_columns(meta, column)
    values = np.asarray(read_csv_columns(csv_path, names), dtype=np.float64)
    if len(values) < lookback:
        raise ValueError(f"{csv_path} has {len(values)} row(s) in column(s) "
                         f"{', '.join(map(repr, names))}; the model needs at least {lookback} "
                         "(its lookback window) to forecast")
    pred = _predict_raw(model, meta, _windows(values, lookback))
    first = lookback - 1 + horizon
    return [(first + i, float(v)) for i, v in enumerate(pred)]


# -- predict ---------------------------------------------------------------------------------------
def _read_lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not a UTF-8 text file (for numeric inputs pass a .npy "
                         "file)") from exc
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise ValueError(f"{path} is empty; expected text, one example per line")
    return lines


def _encode_text(meta: dict[str, Any], lines: list[str]) -> np.ndarray:
    vocab = list(meta["vocab"])
    encoding = meta.get("encoding")
    if encoding == "onehot-words":
        from .sentiment_tiny import encode

        return encode(lines, vocab, None)
    if encoding == "word-ids":
        from ..utils import pad_sequences

        padding = meta.get("padding", "pre")
        return pad_sequences(_word_ids(meta, lines), maxlen=meta.get("maxlen"), padding=padding,
                             truncating=meta.get("truncating", padding))
    raise ValueError(f"this text model's inputs are encoded as {encoding!r}, which `predict` "
                     "does not know; pass a .npy file of encoded inputs")


def _word_ids(meta: dict[str, Any], lines: list[str]) -> list[list[int]]:
    """Each line as ids (positions in ``meta["vocab"]``); unknown words become
    ``oov_index`` (dropped without one)."""
    index = {w: i for i, w in enumerate(meta["vocab"])}
    oov = meta.get("oov_index")
    seqs = []
    for line in lines:
        words = (line.lower() if meta.get("lowercase", True) else line).split()
        ids = []
        for w in words:
            if w in index:
                ids.append(index[w])
            elif oov is not None:
                ids.append(int(oov))
        seqs.append(ids)
    return seqs


def predict_file(model: Any, path: PathLike) -> np.ndarray:
    """Apply ``model`` to the inputs in ``path`` (``.npy`` array, or text lines for text models)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"input file not found: {p}")
    meta = getattr(model, "metadata", None) or {}
    if p.suffix.lower() == ".npy":
        try:
            arr = np.load(p, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise ValueError(f"{p} is not a readable .npy array: {exc}") from exc
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"{p} holds {arr.dtype} data; expected numbers")
        if meta.get("kind") == "forecast":
            return _predict_forecast_array(model, meta, arr, p)
        return _predict_array(model, arr, p)
    if "vocab" not in meta:
        raise ValueError(f"{p} is not a .npy file, and this is {_describe(model)}, which takes "
                         "numeric arrays: save the inputs with numpy.save as a .npy file")
    lines = _read_lines(p)
    windows = meta.get("windows")
    if windows and meta.get("encoding") == "word-ids":
        from .sentiment import predict_windowed

        probs = predict_windowed(model, _word_ids(meta, lines), int(windows["length"]),
                                 int(windows["stride"]), str(windows["average"]),
                                 meta.get("padding", "pre"))
        return probs.reshape(-1, 1)
    return _predict_array(model, _encode_text(meta, lines), p)


def _predict_array(model: Any, arr: np.ndarray, path: Path) -> np.ndarray:
    try:
        return np.asarray(model.predict(arr, verbose=0))
    except ValueError as exc:
        shapes = getattr(model, "input_spec", None)
        want = ""
        if callable(shapes):
            want = " (the model takes " + ", ".join(
                str(tuple(s)) for s, _ in shapes()) + ")"
        raise ValueError(f"{path}: inputs of shape {arr.shape} do not fit the model{want}: "
                         f"{exc}") from exc


def _predict_forecast_array(model: Any, meta: dict[str, Any], arr: np.ndarray, path: Path
                            ) -> np.ndarray:
    lookback = int(meta["lookback"])
    columns = model_columns(meta)
    f = len(columns)
    given = arr.shape
    if f == 1 and arr.ndim in (1, 2) and not (arr.ndim == 2 and arr.shape[1] == 1
                                             and lookback != 1):
        arr = arr[..., None]     # (T,) series or (N, lookback) windows of the one column
    if arr.ndim == 2 and arr.shape[1] == f:
        if len(arr) < lookback:
            raise ValueError(f"{path} holds a series of {len(arr)} rows; the model needs at "
                             f"least {lookback} (its lookback window)")
        windows = _windows(arr.astype(np.float64), lookback)
    elif arr.ndim == 3 and arr.shape[1:] == (lookback, f):
        windows = arr.astype(np.float64)
    else:
        raise ValueError(f"{path} holds an array of shape {given}; this forecasting model "
                         f"takes a series (T,{' ' + str(f) if f > 1 else ''}) with T >= "
                         f"{lookback}, or windows (N, {lookback}, {f}) of raw values of "
                         f"{', '.join(map(repr, columns))}")
    if not np.isfinite(windows).all():
        raise ValueError(f"{path} holds NaN or infinite values")
    return _predict_raw(model, meta, windows)
