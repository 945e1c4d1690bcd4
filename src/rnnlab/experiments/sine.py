"""``sine``: a vanilla RNN reads 50 values of a sine wave and predicts the 51st.

The "RNN from scratch" tutorial (Faizan Shaikh, Analytics Vidhya, 2019): the series is
``sin(t)`` for ``t = 0, 1, ..., 199`` (one sample per radian, so the period is 2π ≈ 6.28
steps); window ``i`` holds ``sin(i) .. sin(i + 49)`` and its target is ``sin(i + 50)``. The
first 100 windows train, the next 50 validate (the tutorial's split). The model is the
tutorial's: a vanilla RNN with 100 hidden units trained with truncated backpropagation through
time (``bptt_truncate = 5``: gradients flow back at most 5 steps), a linear read-out and squared
error. The tutorial's hand-written loop (sigmoid units, no biases, plain SGD with lr 1e-4 on one
window at a time, gradients clipped to [-10, 10], 25 epochs) is replaced by the library's Keras
layers: ``SimpleRNN(100, truncate_gradient=5)`` (tanh) + ``Dense(1)``, Adam, mini-batches of 10,
still 25 epochs.

``--preset seed`` is the tutorial's loop as published (seed 001): sigmoid hidden units, U, W and
V drawn from U(0, 1), no biases, plain SGD with lr 1e-4 on one window per update, 25 epochs,
``bptt_truncate`` 5, every gradient clipped element-wise to [-10, 10]. Its loss is half the
squared error; rnnlab's ``mse`` is the full squared error (gradient 2x), so the preset uses
``lr / 2`` and a clip of ``2 x 10``: ``(lr/2) clip(2g, 20) = lr clip(g, 10)``, the same updates.
One difference remains: the tutorial gives each of the 50 time steps its own input weights
(its ``U`` is 100 x 50); a recurrent layer shares one (100 x 1) across steps. The tutorial
reports a validation loss of 8.37 (sum over the 50 windows of half the squared error), i.e. a
validation RMSE of 0.579.

Writes ``predictions.png`` (the next value predicted for each validation window against the true
one), ``loss.png`` (training and validation loss per epoch), ``history.csv``, ``model.rnnlab``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Experiment, register_experiment
from .context import RunContext, read_history


def make_data(c: dict[str, Any], seed: int) -> tuple[np.ndarray, ...]:
    """The tutorial's windows: (x_train, y_train, x_val, y_val) of shapes (n, L, 1) / (n, 1)."""
    from ..data import sine_series, sliding_windows

    n_train, n_val, lookback = c["train_windows"], c["val_windows"], c["lookback"]
    series = sine_series(n_train + n_val + lookback, period=c["period"], noise=c["noise"],
                         seed=seed, dtype="float64")
    clean = sine_series(n_train + n_val + lookback, period=c["period"], dtype="float64")
    x, _ = sliding_windows(series, lookback)
    _, y = sliding_windows(clean, lookback)  # noise (if any) on the inputs only
    x, y = x.astype(np.float32), y.astype(np.float32)
    return x[:n_train], y[:n_train], x[n_train:n_train + n_val], y[n_train:n_train + n_val]


def build_model(c: dict[str, Any], seed: int) -> Any:
    from .. import optimizers
    from ..layers import Dense, SimpleRNN
    from ..models import Sequential
    from ..random import set_random_seed

    set_random_seed(seed)
    init: dict[str, Any] = {}
    if c["init"] == "uniform01":  # the tutorial's U, W, V ~ U(0, 1)
        from ..initializers import RandomUniform

        init = {"kernel_initializer": RandomUniform(0.0, 1.0),
                "recurrent_initializer": RandomUniform(0.0, 1.0)}
    model = Sequential([
        SimpleRNN(c["hidden"], activation=c["activation"], truncate_gradient=c["bptt_truncate"],
                  use_bias=c["use_bias"], input_shape=(c["lookback"], 1), **init),
        Dense(1, use_bias=c["use_bias"],
              **{k: v for k, v in init.items() if k == "kernel_initializer"}),
    ])
    clip = {"clipvalue": c["clipvalue"]} if c["clipvalue"] > 0 else {}
    opt: Any = (optimizers.SGD(learning_rate=c["lr"], **clip) if c["optimizer"] == "sgd"
                else optimizers.Adam(learning_rate=c["lr"], **clip))
    model.compile(optimizer=opt, loss="mse")
    return model


def run(ctx: RunContext) -> dict[str, float]:
    from . import plots

    c = ctx.config
    x_train, y_train, x_val, y_val = make_data(c, ctx.seed)
    model = build_model(c, ctx.seed)
    ctx.fit(model, x_train, y_train, batch_size=c["batch_size"], epochs=c["epochs"],
            validation_data=(x_val, y_val), shuffle=True)
    pred = np.asarray(model.predict(x_val, verbose=0)).reshape(-1)
    truth = y_val.reshape(-1)
    val_rmse = float(np.sqrt(np.mean((pred - truth) ** 2)))
    train_pred = np.asarray(model.predict(x_train, verbose=0)).reshape(-1)
    train_rmse = float(np.sqrt(np.mean((train_pred - y_train.reshape(-1)) ** 2)))
    model.metadata = {"experiment": "sine", "kind": "regression", "lookback": c["lookback"],
                      "period": c["period"]}
    ctx.save_model(model)

    fig = plots.series(f"sine: the value after each {c['lookback']}-step validation window "
                       f"(val RMSE {val_rmse:.4f})",
                       {"true value": truth, "RNN prediction": pred},
                       xlabel="time step t of the predicted value", ylabel="sin(t)")
    ax = fig.axes[0]
    steps = np.arange(len(truth)) + c["train_windows"] + c["lookback"]
    ax.lines[0].set(xdata=steps, color="black", lw=2.5, alpha=0.35)
    ax.lines[1].set(xdata=steps, color="tab:red", lw=0, marker="o", ms=4)
    ax.relim()
    ax.autoscale_view()
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
    ctx.save_plot(fig, "predictions.png")
    hist = read_history(ctx.out / "history.csv")
    fig = plots.curves(hist, "sine: mean squared error per epoch")
    fig.axes[0].set_yscale("log")
    ctx.save_plot(fig, "loss.png")
    return {"val_rmse": val_rmse, "train_rmse": train_rmse,
            "final_loss": float(hist["loss"][-1]), "epochs": len(hist["loss"])}


register_experiment(Experiment(
    name="sine",
    summary="vanilla RNN (100 units, truncated BPTT k=5) predicts the 51st value of a sine wave",
    defaults={"lookback": 50, "train_windows": 100, "val_windows": 50, "period": 2 * np.pi,
              "noise": 0.0, "hidden": 100, "bptt_truncate": 5, "lr": 1e-3, "batch_size": 10,
              "epochs": 25, "activation": "tanh", "init": "keras", "use_bias": True,
              "optimizer": "adam", "clipvalue": 0.0, "seed": 0},
    smoke={"train_windows": 20, "val_windows": 10, "hidden": 16, "epochs": 3},
    run=run,
    target="validation RMSE <= 0.05",
    metric="val_rmse",
    choices={"activation": ("tanh", "sigmoid"), "init": ("keras", "uniform01"),
             "optimizer": ("adam", "sgd")},
    presets={"seed": {"activation": "sigmoid", "init": "uniform01", "use_bias": False,
                      "optimizer": "sgd", "lr": 0.5e-4, "clipvalue": 20.0, "batch_size": 1,
                      "epochs": 25, "bptt_truncate": 5, "hidden": 100}},
))
