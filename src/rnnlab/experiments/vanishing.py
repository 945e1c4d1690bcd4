"""``vanishing``: the adding problem, SimpleRNN vs LSTM vs GRU, and the gradient through time.

The adding problem as Le, Jaitly & Hinton (2015, "A Simple Way to Initialize Recurrent Networks
of Rectified Linear Units", after Hochreiter & Schmidhuber 1997) set it: each step has two
inputs, a value drawn uniformly from [0, 1] and a marker; exactly two steps are marked (one in
the first half of the sequence, one in the second), and the target is the sum of the two marked
values, read after the last step. Always predicting 1 gives MSE = Var(U+U') = 1/6 ≈ 0.167, the
baseline a network must beat to have learned anything.

For each length in ``lengths`` (comma-separated) and each cell in ``cells`` the same network
(``<cell>(units)`` then ``Dense(1)``) trains for the same number of ``updates`` on fresh batches
(the same batches for every cell), with Adam (``lr``), gradient clipping by norm (``clipnorm``;
0 = off) and the layer's ``truncate_gradient`` (-1 = full BPTT). ``gradient_flow`` measures
‖∂L/∂h_t‖ over t on a fixed batch at the start and at the end of training (always the full-BPTT
gradient, also when training truncates). The budget, 5,000 updates of 64 sequences per cell and
length, is enough for the LSTM to solve T = 100 (it leaves the baseline after about 1,000) and
keeps the whole default run near 5 minutes of CPU on two cores.

Files: ``gradflow_T<length>.png`` (‖∂L/∂h_t‖ over t before and after training, side by side,
the three cells), ``mse.png`` (the test MSE each cell reaches next to the 0.167 baseline),
``curves.png`` (test MSE during training), ``gradflow.json``, ``history-<cell>_T<length>.csv``
and ``model-<cell>_T<length>.rnnlab``. Metrics: ``{cell}_T{length}_mse`` (test MSE after
training), ``{cell}_T{length}_grad_ratio`` (‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ after training; the same before
training as ``..._grad_ratio_start``) and ``baseline_T{length}_mse`` (predicting 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Experiment, register_experiment
from .context import RunContext, write_json_atomic

CELLS = {"simple_rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
CELL_CLASS = {"simple_rnn": "SimpleRNNCell", "lstm": "LSTMCell", "gru": "GRUCell"}
BASELINE_MSE = 1.0 / 6.0


def adding_problem(n: int, length: int, rng: np.random.Generator,
                   dtype: str = "float32") -> tuple[np.ndarray, np.ndarray]:
    """``x (n, length, 2)``: channel 0 values ~ U[0, 1], channel 1 the two markers (one in each
    half); ``y (n, 1)``: the sum of the two marked values."""
    if length < 2:
        raise ValueError(f"the adding problem needs sequences of at least 2 steps, got {length}")
    values = rng.random((n, length))
    half = length // 2
    first = rng.integers(0, half, n)
    second = rng.integers(half, length, n)
    markers = np.zeros((n, length))
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1).astype(dtype)
    y = (values[rows, first] + values[rows, second])[:, None].astype(dtype)
    return x, y


def parse_list(text: Any, what: str, allowed: tuple[str, ...] | None = None) -> list[str]:
    items = [s.strip() for s in str(text).split(",") if s.strip()]
    if not items:
        raise ValueError(f"--{what} needs a comma-separated list, got {text!r}")
    if allowed is not None:
        bad = [s for s in items if s not in allowed]
        if bad:
            raise ValueError(f"--{what}: unknown {bad}; choose from {list(allowed)}")
    return items


def _model(cell: str, units: int, length: int, c: dict[str, Any]) -> Any:
    from .. import layers, optimizers
    from ..models import Sequential

    layer = getattr(layers, CELLS[cell])(units, input_shape=(length, 2),
                                         truncate_gradient=c["truncate_gradient"])
    model = Sequential([layer, layers.Dense(1)])
    clip = float(c["clipnorm"]) or None
    model.compile(optimizer=optimizers.Adam(learning_rate=c["lr"], clipnorm=clip), loss="mse")
    return model


def run(ctx: RunContext) -> dict[str, float]:
    from ..diagnostics import gradient_flow
    from ..random import set_random_seed

    c = ctx.config
    lengths = [int(s) for s in parse_list(c["lengths"], "lengths")]
    if any(t < 2 for t in lengths):
        raise ValueError(f"--lengths must all be at least 2, got {lengths}")
    cells = parse_list(c["cells"], "cells", tuple(CELLS))
    if c["updates"] < 1 or c["batch_size"] < 1:
        raise ValueError("--updates and --batch-size must be at least 1")
    metrics: dict[str, float] = {}
    flows: dict[str, Any] = {}
    curves: dict[int, dict[str, tuple[list[int], list[float]]]] = {}
    for T in lengths:
        x_test, y_test = adding_problem(c["test_samples"], T, np.random.default_rng(
            [ctx.seed, T, 1]))
        x_flow, y_flow = x_test[:c["flow_samples"]], y_test[:c["flow_samples"]]
        metrics[f"baseline_T{T}_mse"] = float(np.mean((y_test - 1.0) ** 2))
        curves[T] = {}
        for cell in cells:
            set_random_seed(ctx.seed)
            model = _model(cell, c["units"], T, c)
            key = f"{cell}_T{T}"
            before = gradient_flow(model, x_flow, y_flow, jacobian=False)
            data = np.random.default_rng([ctx.seed, T, 2])
            losses, evals, steps = [], [], []
            for u in range(c["updates"]):
                xb, yb = adding_problem(c["batch_size"], T, data)
                losses.append(float(model.train_on_batch(xb, yb)))
                if (u + 1) % c["eval_every"] == 0 or u + 1 == c["updates"]:
                    steps.append(u + 1)
                    evals.append(float(model.evaluate(x_test, y_test, batch_size=1000,
                                                      verbose=0)))
            after = gradient_flow(model, x_flow, y_flow, jacobian=False)
            name = model.layers[0].name
            metrics[f"{key}_mse"] = evals[-1]
            metrics[f"{key}_grad_ratio"] = after.grad_ratio(name)
            metrics[f"{key}_grad_ratio_start"] = before.grad_ratio(name)
            flows[key] = {"start": before.state_grad_norm[name].tolist(),
                          "end": after.state_grad_norm[name].tolist(),
                          "cell_start": before.cell_grad_norm.get(name, np.array([])).tolist(),
                          "cell_end": after.cell_grad_norm.get(name, np.array([])).tolist()}
            curves[T][cell] = (steps, evals)
            ctx.write_history({"loss": losses}, f"history-{key}.csv")
            model.metadata = {"experiment": "vanishing", "kind": "adding", "length": T,
                              "cell": cell, "seed": ctx.seed,
                              "test_samples": c["test_samples"]}
            ctx.save_model(model, f"model-{key}.rnnlab")
        ctx.save_plot(_flow_figure(T, cells, flows, metrics), f"gradflow_T{T}.png")
    write_json_atomic(ctx.out / "gradflow.json", flows)
    ctx.save_plot(_mse_figure(lengths, cells, metrics, c["updates"]), "mse.png")
    ctx.save_plot(_curves_figure(lengths, cells, curves), "curves.png")
    return metrics


def _color(cell: str) -> str:
    from ..diagnostics.plots import CELL_COLORS

    return CELL_COLORS[CELL_CLASS[cell]]


def _flow_figure(T: int, cells: list[str], flows: dict[str, Any],
                 metrics: dict[str, float]) -> Any:
    from ..diagnostics.plots import plt

    p = plt()
    fig, axes = p.subplots(1, 2, figsize=(12, 4.2), sharey=True)
    t = np.arange(1, T + 1)
    for ax, when, label in zip(axes, ("start", "end"), ("at the start of training",
                                                         "at the end of training")):
        for cell in cells:
            values = np.asarray(flows[f"{cell}_T{T}"][when], dtype=float)
            values = np.where(values > 0, values, np.nan)
            extra = f", test MSE {metrics[f'{cell}_T{T}_mse']:.3g}" if when == "end" else ""
            ax.plot(t, values, color=_color(cell), lw=1.6,
                    label=f"{CELLS[cell]}{extra}" if when == "end" else CELLS[cell])
        ax.set_yscale("log")
        ax.set_xlabel("time step t")
        ax.set_title(label)
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("‖∂L/∂h_t‖ (batch mean)")
    handles, labels = axes[1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False)
    fig.suptitle(f"adding problem, T = {T}: loss gradient reaching each step's hidden state")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def _mse_figure(lengths: list[int], cells: list[str], metrics: dict[str, float],
                updates: int) -> Any:
    from ..diagnostics.plots import plt

    p = plt()
    fig, ax = p.subplots(figsize=(8, 4.2))
    width = 0.8 / len(cells)
    xs = np.arange(len(lengths))
    for k, cell in enumerate(cells):
        ax.bar(xs + (k - (len(cells) - 1) / 2) * width,
               [metrics[f"{cell}_T{T}_mse"] for T in lengths], width, color=_color(cell),
               label=CELLS[cell])
    ax.axhline(BASELINE_MSE, color="black", ls="--", lw=1.2, label="always predict 1 (0.167)")
    ax.set_yscale("log")
    ax.set_xticks(xs)
    ax.set_xticklabels([f"T = {T}" for T in lengths])
    ax.set_xlabel("sequence length")
    ax.set_ylabel("test MSE after training")
    ax.set_title(f"adding problem: test MSE after {updates} updates")
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(alpha=0.3, axis="y", which="both")
    fig.tight_layout()
    return fig


def _curves_figure(lengths: list[int], cells: list[str],
                   curves: dict[int, dict[str, tuple[list[int], list[float]]]]) -> Any:
    from ..diagnostics.plots import plt

    p = plt()
    fig, axes = p.subplots(1, len(lengths), figsize=(4 * len(lengths), 3.6), sharey=True,
                           squeeze=False)
    for ax, T in zip(axes[0], lengths):
        for cell in cells:
            steps, evals = curves[T][cell]
            ax.plot(steps, evals, color=_color(cell), lw=1.5, label=CELLS[cell])
        ax.axhline(BASELINE_MSE, color="black", ls="--", lw=1.0, label="always predict 1")
        ax.set_yscale("log")
        ax.set_xlabel("update")
        ax.set_title(f"T = {T}")
        ax.grid(alpha=0.3, which="both")
    axes[0, 0].set_ylabel("test MSE")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False)
    fig.suptitle("adding problem: test MSE during training")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


register_experiment(Experiment(
    name="vanishing",
    summary="adding problem (Le et al. 2015): SimpleRNN vs LSTM vs GRU and ‖∂L/∂h_t‖ over t",
    defaults={"lengths": "10,50,100,200", "cells": "simple_rnn,lstm,gru", "units": 32,
              "updates": 5000, "batch_size": 64, "lr": 0.01, "clipnorm": 1.0,
              "truncate_gradient": -1, "test_samples": 1000, "flow_samples": 256,
              "eval_every": 100, "seed": 0},
    smoke={"lengths": "10,20", "units": 8, "updates": 20, "batch_size": 16,
           "test_samples": 64, "flow_samples": 32, "eval_every": 10},
    run=run,
    target="at T = 100 the LSTM's test MSE far below the 0.167 of always predicting 1",
))
