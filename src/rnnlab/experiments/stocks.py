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
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from .base import Experiment, register_experiment
from .context import RunContext, read_history
from .forecasting import forecast_metadata

DATA = "stocks"


def _dates(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = [r for r in csv.reader(fh) if r]
    return [r[0] for r in rows[1:]]


def build_model(c: dict[str, Any]) -> Any:
    from .. import optimizers
    from ..layers import LSTM, Dense, Dropout
    from ..models import Sequential

    layers: list[Any] = []
    for k in range(c["layers"]):
        last = k == c["layers"] - 1
        kwargs: dict[str, Any] = {"input_shape": (c["lookback"], 1)} if k == 0 else {}
        layers += [LSTM(c["units"], return_sequences=not last, **kwargs), Dropout(c["dropout"])]
    model = Sequential([*layers, Dense(1)])
    model.compile(optimizer=optimizers.Adam(learning_rate=c["lr"]), loss="mse")
    return model


def run(ctx: RunContext) -> dict[str, float]:
    from ..data import MinMaxScaler, read_csv_column, sliding_windows
    from ..random import set_random_seed
    from . import plots

    c = ctx.config
    files = (c["train_file"], c["test_file"])
    folder = ctx.data_dir_or_default(
        DATA, "stocks needs price CSVs: pass --data PATH, the folder holding "
        f"{', '.join(files)}", files)
    train = np.asarray(read_csv_column(folder / c["train_file"], c["column"]), dtype=np.float64)
    test = np.asarray(read_csv_column(folder / c["test_file"], c["column"]), dtype=np.float64)
    if c["train_limit"]:
        train = train[-c["train_limit"]:]
    lookback = c["lookback"]
    if len(train) <= lookback:
        raise ValueError(f"the training file has {len(train)} rows; need more than the "
                         f"lookback of {lookback}")
    scaler = MinMaxScaler().fit(train)
    x_train, y_train = sliding_windows(scaler.transform(train), lookback)
    # each test day's input: the 40 actual prices before it (the last training days first)
    context = np.concatenate([train[-lookback:], test])
    x_test, y_test_scaled = sliding_windows(scaler.transform(context), lookback)
    x_train, x_test = x_train.astype(np.float32), x_test.astype(np.float32)
    y_train = y_train.astype(np.float32)

    set_random_seed(ctx.seed)
    model = build_model(c)
    ctx.fit(model, x_train, y_train, batch_size=c["batch_size"], epochs=c["epochs"],
            shuffle=True)
    hist = read_history(ctx.out / "history.csv")
    pred = scaler.inverse_transform(np.asarray(model.predict(x_test, verbose=0)).reshape(-1))
    truth = test
    assert np.allclose(scaler.inverse_transform(y_test_scaled.reshape(-1)), truth)
    naive = context[lookback - 1:-1]  # the previous day's actual price
    train_pred = scaler.inverse_transform(np.asarray(model.predict(x_train, verbose=0))
                                          .reshape(-1))
    train_truth = train[lookback:]
    metrics = {
        "test_rmse": float(np.sqrt(np.mean((pred - truth) ** 2))),
        "baseline_rmse": float(np.sqrt(np.mean((naive - truth) ** 2))),
        "test_mae": float(np.mean(np.abs(pred - truth))),
        "baseline_mae": float(np.mean(np.abs(naive - truth))),
        "train_rmse": float(np.sqrt(np.mean((train_pred - train_truth) ** 2))),
        "train_baseline_rmse": float(np.sqrt(np.mean((train[lookback - 1:-1] - train_truth)
                                                     ** 2))),
        "test_days": len(truth),
        "epochs": len(hist["loss"]),
        "final_loss": float(hist["loss"][-1]),
    }
    model.metadata = forecast_metadata("stocks", c["column"], lookback, 1, scaler,
                                       train_file=c["train_file"])
    ctx.save_model(model)

    dates = _dates(folder / c["test_file"])
    fig = plots.series(f"stocks: {c['column']} price, test days (RMSE {metrics['test_rmse']:.2f}"
                       f" vs {metrics['baseline_rmse']:.2f} for 'same as yesterday')",
                       {"actual": truth, "LSTM prediction": pred,
                        "baseline (previous day)": naive},
                       xlabel="test trading day", ylabel=f"{c['column']} (USD)")
    ax = fig.axes[0]
    ax.lines[0].set(color="black", lw=2)
    ax.lines[1].set(color="tab:blue", marker="o", ms=3)
    ax.lines[2].set(color="tab:gray", ls="--")
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
    fig = plots.curves(hist, "stocks: training loss (MSE on scaled prices)")
    ctx.save_plot(fig, "loss.png")
    ctx.notes.append(f"stocks: the {len(truth)} test days are predicted from the {lookback} "
                     f"actual prices before each; the first windows start in the last "
                     f"{lookback} training days (as in the tutorial).")
    return metrics


register_experiment(Experiment(
    name="stocks",
    summary="4 x LSTM(45) + Dropout(0.2) predict FB's next-day Open price from the last 40 days",
    defaults={"train_file": "FB_training_data.csv", "test_file": "FB_test_data.csv",
              "column": "Open", "lookback": 40, "layers": 4, "units": 45, "dropout": 0.2,
              "lr": 1e-3, "batch_size": 32, "epochs": 100, "train_limit": 0, "seed": 0},
    smoke={"layers": 2, "units": 8, "epochs": 2, "train_limit": 200},
    run=run,
    data=DATA,
    kind="forecast",
    target="test RMSE (USD) reported next to the naive last-value baseline",
))
