"""``counting``: an Elman network with two weights learns to count the ones in a binary sequence.

The classic minimal RNN (Roelants, "How to implement a recurrent neural network"): a linear
recurrence with no bias, ``s_k = w_rec · s_{k-1} + w_x · x_k``, output ``s_n``, squared error
against the number of ones. The exact solution is ``w_x = w_rec = 1``. The loss surface has
exploding gradients for ``w_rec > 1``, which is why RMSProp (lr 1e-3) moves steadily where plain
gradient descent needs a tiny learning rate (1e-5) to stay stable. Both runs start from the same
point and train on the full batch (20 sequences of length 10). ``surface.png`` draws the loss
over a (w_x, w_rec) grid (log colour scale) with the paths both optimizers take on it.

``--preset seed`` is the recipe of the source as published (seed 002, a Theano port of Peter's
note): the 20 sequences of its ``np.random.seed(1)`` draw (``draw="seed"``), the start it
prints, ``w = (0.0900, 0.0113)`` (its next two ``uniform(-0.1, 0.1)`` draws), the sum of squared
errors as the loss (``loss="sse"``, not the mean), and 2,001 full-batch updates each of
gradient descent (lr 1e-5) and RMSProp (lr 1e-3). The source prints, for gradient descent, a
cost stuck at 530-360 for ~500 epochs, 0.27 at epoch 600 and 0.0663 at epoch 2,000 with
``w = (1.0597, 0.9863)``; for RMSProp 0.0181 at epoch 300 and 0.0068 at 2,000,
``w = (0.9995, 0.9993)``. ``metrics.json`` holds the loss at the same epochs
(``gd_loss_at_600`` ...; epoch ``e`` is the loss before the ``e``-th update, as printed there).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Experiment, register_experiment
from .context import RunContext


def _model(w_x: float, w_rec: float, optimizer: Any, loss: str = "mse") -> Any:
    from ..layers import SimpleRNN
    from ..losses import MeanSquaredError
    from ..models import Sequential

    model = Sequential([SimpleRNN(1, activation="linear", use_bias=False, dtype="float64",
                                  input_shape=(None, 1))])
    model.set_weights([np.array([[w_x]]), np.array([[w_rec]])])
    model.compile(optimizer=optimizer, loss=MeanSquaredError(
        reduction="sum" if loss == "sse" else "sum_over_batch_size"))
    return model


def run(ctx: RunContext) -> dict[str, float]:
    from .. import optimizers
    from ..data import counting_sequences
    from . import plots

    c = ctx.config
    if c["draw"] == "seed":  # the source's draw: np.random.seed(1), one row of rand() at a time
        x = np.around(np.random.RandomState(1).rand(c["sequences"], c["length"]))
        y = x.sum(axis=1)
    else:
        x, y = counting_sequences(c["sequences"], c["length"], seed=ctx.seed, dtype="float64")
    x = x.reshape(c["sequences"], c["length"], 1).astype(np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(-1, 1)
    metrics: dict[str, float] = {}
    curves: dict[str, list[float]] = {}
    paths: dict[str, np.ndarray] = {}
    runs = {"gd": (optimizers.SGD(learning_rate=c["gd_lr"]), c["gd_iterations"]),
            "rmsprop": (optimizers.RMSprop(learning_rate=c["rmsprop_lr"]),
                        c["rmsprop_iterations"])}
    for label, (opt, iterations) in runs.items():
        model = _model(c["w_x0"], c["w_rec0"], opt, c["loss"])
        every = max(1, iterations // 2000)
        losses: list[float] = []
        path: list[tuple[float, ...]] = [(c["w_x0"], c["w_rec0"])]
        for i in range(iterations):
            losses.append(float(model.train_on_batch(x, y)))
            if (i + 1) % every == 0 or i + 1 == iterations:
                path.append(tuple(float(w.ravel()[0]) for w in model.get_weights()))
        paths[f"{label} (lr {opt.learning_rate:g})"] = np.asarray(path)
        for epoch in (300, 500, 600, 2000):
            if epoch <= iterations:
                metrics[f"{label}_loss_at_{epoch}"] = losses[epoch - 1]
        kernel, recurrent = model.get_weights()
        metrics[f"{label}_w_x"] = float(kernel.ravel()[0])
        metrics[f"{label}_w_rec"] = float(recurrent.ravel()[0])
        metrics[f"{label}_loss"] = float(model.evaluate(x, y, verbose=0))
        metrics[f"{label}_iterations"] = iterations
        curves[f"{label} (lr {opt.learning_rate:g})"] = losses
        ctx.write_history({"loss": losses}, f"history-{label}.csv")
        ctx.save_model(model, f"model-{label}.rnnlab")
    fig = plots.series("counting: training loss", curves, xlabel="iteration",
                       ylabel="SSE" if c["loss"] == "sse" else "MSE")
    fig.axes[0].set_yscale("log")
    fig.axes[0].set_xscale("log")
    ctx.save_plot(fig, "loss.png")
    ctx.save_plot(loss_surface_figure(x[..., 0], y[:, 0], paths), "surface.png")
    return metrics


def loss_surface(x: np.ndarray, y: np.ndarray, w_x: np.ndarray, w_rec: np.ndarray
                 ) -> np.ndarray:
    """MSE of ``s_n = Σ_k w_rec^(n-k) w_x x_k`` against ``y`` on a grid: ``x (S, n)``,
    ``y (S,)``, ``w_x``/``w_rec`` arrays of the same shape; returns that shape."""
    n = x.shape[1]
    powers = w_rec[..., None] ** np.arange(n - 1, -1, -1)          # (..., n)
    s = w_x[..., None] * np.einsum("...k,sk->...s", powers, x)       # (..., S)
    return ((s - y) ** 2).mean(axis=-1)


def loss_surface_figure(x: np.ndarray, y: np.ndarray, paths: dict[str, np.ndarray]) -> Any:
    from matplotlib.colors import LogNorm

    from . import plots

    plt = plots._plt()
    gx, gr = np.meshgrid(np.linspace(-0.5, 2.5, 301), np.linspace(-0.5, 1.6, 301))
    loss = loss_surface(x, y, gx, gr)
    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    norm = LogNorm(vmin=max(float(loss.min()), 1e-6), vmax=float(loss.max()))
    image = ax.pcolormesh(gx, gr, loss, norm=norm, cmap="viridis", shading="auto")
    ax.contour(gx, gr, loss, levels=np.logspace(-2, 4, 7), colors="k", linewidths=0.4,
               alpha=0.5)
    fig.colorbar(image, ax=ax, label="MSE (log scale)")
    for (label, path), color in zip(paths.items(), ("#ff7f0e", "white")):
        ax.plot(path[:, 0], path[:, 1], color=color, lw=1.8, marker=".", ms=3, label=label)
    ax.plot([1.0], [1.0], marker="*", ms=14, color="red", ls="", label="exact solution (1, 1)")
    ax.set_xlabel("w_x (input weight)")
    ax.set_ylabel("w_rec (recurrent weight)")
    ax.set_title("counting: loss surface of the two-weight Elman network")
    ax.legend(loc="lower left", fontsize=8)
    return fig


register_experiment(Experiment(
    name="counting",
    summary="Elman net with two weights learns to count ones (gradient descent vs RMSProp)",
    defaults={"sequences": 20, "length": 10, "w_x0": 1.2, "w_rec0": 1.2, "gd_lr": 1e-5,
              "rmsprop_lr": 1e-3, "gd_iterations": 120000, "rmsprop_iterations": 5000,
              "draw": "random", "loss": "mse", "seed": 0},
    smoke={"gd_iterations": 30, "rmsprop_iterations": 30},
    run=run,
    target="both optimizers end with w_x and w_rec within 0.05 of 1.0",
    choices={"draw": ("random", "seed"), "loss": ("mse", "sse")},
    presets={"seed": {"draw": "seed", "loss": "sse", "w_x0": 0.09003522, "w_rec0": 0.01133064,
                      "gd_lr": 1e-5, "rmsprop_lr": 1e-3, "gd_iterations": 2001,
                      "rmsprop_iterations": 2001}},
))
