"""``stocks``: a stack of four LSTMs with dropout predicts the next day's price from 40 days.

Nick McCullum's recurrent-network tutorial (freeCodeCamp, "The Ultimate Guide to Recurrent
Neural Networks in Python"; notebook in ``rishabh-wagh/Predicting-Stock-Prices-Facebook-Using-
An-LSTM-Model``), on the same files: Facebook's daily prices 2015-2019 train, January 2020
(21 trading days) tests. The ``Open`` column is min-max scaled with a scaler fitted on the
training file only; inputs are the previous 40 days, the target the next day. The model is
``LSTM(45, return_sequences) + Dropout(0.2)`` x 3, ``LSTM(45) + Dropout(0.2)``, ``Dense(1)``,
Adam, mean squared error, 100 epochs, batch size 32 (the more common Google-stock version of
this tutorial uses 60 days and LSTM(50)).

The test file has only 21 rows, fewer than one window, so (as in the tutorial) each test day is
predicted from the 40 actual prices before it: the last 40 training days supply the context of
the first test days. Predictions are unscaled and compared with the truth in price units
(``test_rmse``) next to the naive forecast "tomorrow's price = today's price"
(``baseline_rmse``).

The default settings forecast the day-to-day change instead (``normalize "window"``, the same
machinery as ``timeseries``: every window is taken relative to its last price and the target is
the next day's change, so prices above anything training saw are still read in range), with
one ``LSTM(32)`` + ``Dropout(0.2)``, 30 epochs, inputs ``--columns`` (default ``Open``). The
tutorial's recipe above (min-max scaled prices, 4 x LSTM(45), 100 epochs) is ``--preset seed``.
Beside the naive forecast, Chollet's densely connected baseline (``Flatten`` + ``Dense(32)`` +
``Dense(1)`` on the same windows) gives ``dense_test_rmse`` / ``dense_test_mae``.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from .base import Experiment, register_experiment
from .context import RunContext, read_history
from .forecast_setup import build_dense, input_columns, target_index
from .forecasting import forecast_metadata
from .normalization import MODES, WindowNormalizer

DATA = "stocks"


def _dates(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = [r for r in csv.reader(fh) if r]
    return [r[0] for r in rows[1:]]


def build_model(c: dict[str, Any], features: int = 1) -> Any:
    from .. import optimizers
    from ..layers import LSTM, Dense, Dropout
    from ..models import Sequential

    layers: list[Any] = []
    for k in range(c["layers"]):
        last = k == c["layers"] - 1
        kwargs: dict[str, Any] = {"input_shape": (c["lookback"], features)} if k == 0 else {}
        layers += [LSTM(c["units"], return_sequences=not last, **kwargs), Dropout(c["dropout"])]
    model = Sequential([*layers, Dense(1)])
    model.compile(optimizer=optimizers.Adam(learning_rate=c["lr"]), loss="mse")
    return model


def run(ctx: RunContext) -> dict[str, Any]:
    from ..data import read_csv_columns
    from ..random import set_random_seed
    from . import plots

    c = ctx.config
    files = (c["train_file"], c["test_file"])
    folder = ctx.data_dir_or_default(
        DATA, "stocks needs price CSVs: pass --data PATH, the folder holding "
        f"{', '.join(files)}", files)
    columns = input_columns(folder / c["train_file"], c["column"], c["columns"])
    target = target_index(columns, c["column"])
    train = np.asarray(read_csv_columns(folder / c["train_file"], columns), dtype=np.float64)
    test = np.asarray(read_csv_columns(folder / c["test_file"], columns), dtype=np.float64)
    if c["train_limit"]:
        train = train[-c["train_limit"]:]
    lookback = c["lookback"]
    if len(train) <= lookback:
        raise ValueError(f"the training file has {len(train)} rows; need more than the "
                         f"lookback of {lookback}")
    norm = WindowNormalizer.fit(train, c["normalize"], target, 1, c["scaler"])
    x_train, y_train, last_train, train_truth = norm.windows(train, lookback, 1)
    # each test day's input: the 40 actual prices before it (the last training days first)
    context = np.concatenate([train[-lookback:], test])
    x_test, _, naive, truth = norm.windows(context, lookback, 1)
    assert np.allclose(truth, test[:, target])

    def rmse(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.sqrt(np.mean((np.asarray(a) - b) ** 2)))

    def mae(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.mean(np.abs(np.asarray(a) - b)))

    set_random_seed(ctx.seed)
    model = build_model(c, len(columns))
    ctx.fit(model, x_train, y_train, batch_size=c["batch_size"], epochs=c["epochs"],
            shuffle=True)
    hist = read_history(ctx.out / "history.csv")
    pred = norm.inverse(model.predict(x_test, verbose=0), naive)
    train_pred = norm.inverse(model.predict(x_train, verbose=0), last_train)
    set_random_seed(ctx.seed)
    dense = build_dense(lookback, len(columns), c["dense_units"], c["lr"], "mse")
    ctx.fit(dense, x_train, y_train, label="dense", batch_size=c["batch_size"],
            epochs=c["dense_epochs"], shuffle=True)
    dense_pred = norm.inverse(dense.predict(x_test, verbose=0), naive)
    metrics: dict[str, Any] = {
        "test_rmse": rmse(pred, truth),
        "baseline_rmse": rmse(naive, truth),
        "dense_test_rmse": rmse(dense_pred, truth),
        "test_mae": mae(pred, truth),
        "baseline_mae": mae(naive, truth),
        "dense_test_mae": mae(dense_pred, truth),
        "train_rmse": rmse(train_pred, train_truth),
        "train_baseline_rmse": rmse(last_train, train_truth),
        "test_days": len(truth),
        "epochs": len(hist["loss"]),
        "final_loss": float(hist["loss"][-1]),
        "input_features": len(columns),
        "normalize": c["normalize"],
    }
    metrics["rmse_vs_baseline"] = metrics["test_rmse"] / metrics["baseline_rmse"]
    model.metadata = forecast_metadata("stocks", c["column"], lookback, 1, norm,
                                       columns=columns, train_file=c["train_file"])
    ctx.save_model(model)
    dense.metadata = forecast_metadata("stocks", c["column"], lookback, 1, norm,
                                       columns=columns, train_file=c["train_file"],
                                       variant="dense")
    ctx.save_model(dense, "model-dense.rnnlab")

    dates = _dates(folder / c["test_file"])
    fig = plots.series(f"stocks: {c['column']} price, test days (RMSE {metrics['test_rmse']:.2f}"
                       f" vs {metrics['baseline_rmse']:.2f} for 'same as yesterday')",
                       {"actual": truth, "LSTM prediction": pred,
                        "baseline (previous day)": naive, "dense prediction": dense_pred},
                       xlabel="test trading day", ylabel=f"{c['column']} (USD)")
    ax = fig.axes[0]
    ax.lines[0].set(color="black", lw=2)
    ax.lines[1].set(color="tab:blue", marker="o", ms=3)
    ax.lines[2].set(color="tab:gray", ls="--")
    ax.lines[3].set(color="tab:orange", alpha=0.6)
    ax.legend()
    if len(dates) == len(truth):
        ticks = list(range(0, len(dates), max(1, len(dates) // 7)))
        ax.set_xticks(ticks)
        ax.set_xticklabels([dates[i] for i in ticks], rotation=30, ha="right")
    ctx.save_plot(fig, "predictions.png")
    tail = min(len(train_truth), 250)
    fig = plots.series(f"stocks: fit on the last {tail} training days",
                       {"actual": train_truth[-tail:], "LSTM prediction": train_pred[-tail:]},
                       xlabel="training day", ylabel=f"{c['column']} (USD)")
    ctx.save_plot(fig, "train_fit.png")
    fig = plots.curves(hist, f"stocks: training loss (MSE, {c['normalize']} normalisation)")
    ctx.save_plot(fig, "loss.png")
    ctx.notes.append(f"stocks: the {len(truth)} test days are predicted from the {lookback} "
                     f"actual prices before each; the first windows start in the last "
                     f"{lookback} training days (as in the tutorial).")
    return metrics


# McCullum's tutorial exactly (the seed): min-max scaled prices, 4 x LSTM(45), 100 epochs
SEED_PRESET = {"normalize": "global", "scaler": "minmax", "layers": 4, "units": 45,
               "epochs": 100}

register_experiment(Experiment(
    name="stocks",
    summary="LSTM predicts FB's next-day Open price (its change) from the last 40 days vs "
            "'same as yesterday' and a dense baseline (--preset seed: the tutorial's 4 x LSTM(45))",
    defaults={"train_file": "FB_training_data.csv", "test_file": "FB_test_data.csv",
              "column": "Open", "columns": "Open", "normalize": "window", "scaler": "minmax",
              "lookback": 40, "layers": 1, "units": 32, "dropout": 0.2, "lr": 1e-3,
              "batch_size": 32, "epochs": 30, "dense_units": 32, "dense_epochs": 30,
              "train_limit": 0, "preset": "default", "seed": 0},
    smoke={"layers": 1, "units": 8, "epochs": 2, "dense_epochs": 2, "train_limit": 200},
    run=run,
    data=DATA,
    kind="forecast",
    target="test RMSE (USD) no more than 5% above the naive last-value baseline's",
    choices={"normalize": MODES, "scaler": ("minmax", "standard")},
    presets={"seed": SEED_PRESET},
))
