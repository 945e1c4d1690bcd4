"""``timeseries``: forecast a CSV column ``horizon`` steps ahead with a GRU; beat common sense.

Chollet, *Deep Learning with Python* (2017) §6.3 "Advanced use of recurrent neural networks"
(the Jena climate data: 10 days of hourly observations in, the temperature 24 hours later out).
Its common-sense baseline says "the temperature 24 hours from now equals the temperature now"
(validation MAE 0.29 in standardised units, 2.57 °C); a ``GRU(32)`` reaches about 0.265
(~2.35 °C); a stacked ``GRU(32) -> GRU(64)`` with dropout 0.1 / recurrent dropout 0.5 and a
bidirectional GRU are the follow-ups. Settings here: RMSprop (lr 1e-3), MAE loss, batch 128,
20 epochs, a chronological split (50% train, 25% validation, 25% test), standardisation fitted
on the training part only.

Data: ``--data FILE.csv --column NAME`` forecasts any numeric column of a CSV file from every
numeric column (``--columns a,b``: those; the target is always one of them); ``--missing
ffill|drop`` handles empty values. Without ``--data`` the experiment generates a climate-like
series (the Jena file is not available): 4 years of hourly temperature with a yearly cycle, a
daily cycle whose amplitude follows the season, multi-day weather systems (a damped oscillation
of about 6 days plus slow spells) and sensor noise, with pressure (leading the weather by 36
hours), relative humidity and wind speed beside it, so that several weather variables predict the
temperature as in Chollet's example. It writes it to ``climate.csv`` in the output folder and
reads it back through the same CSV code path.

The windows: ``lookback`` hourly rows (120 = 5 days; Chollet used 10 days sampled hourly) and
the value ``horizon`` = 24 steps after the last one; training windows start every ``stride``
steps, validation and test windows every step (their first windows may start in the part
before; every target lies in its part). ``--normalize window`` (default) takes each window
relative to its last row and predicts the change; ``global`` standardises every value with the
training part's statistics (see :mod:`rnnlab.experiments.normalization`). When ``lookback +
horizon`` exceeds half the training rows, smaller ones are chosen from the length and a note says
so. Next to the GRU (and the ``--variant``), Chollet's densely connected baseline is trained on
the same windows. Metrics are MAE in the column's units: ``baseline_val_mae`` (the last value),
``gru_val_mae`` (also ``val_mae``), ``<variant>_val_mae`` and ``dense_val_mae``, the same on the
test part, and ``input_features``, ``lookback``, ``horizon``. The models are saved as
``model.rnnlab`` (``model-<variant>.rnnlab``, ``model-dense.rnnlab``) with their columns,
lookback and normalisation, for ``rnnlab forecast MODEL --csv FILE``.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from .base import Experiment, register_experiment
from .context import RunContext, read_history
from .forecast_setup import build_dense, fit_window, input_columns, target_index
from .forecasting import forecast_metadata
from .normalization import MODES, WindowNormalizer

SYNTHETIC_COLUMNS = ("temperature", "pressure", "humidity", "wind")


def synthetic_climate(hours: int, seed: int) -> dict[str, np.ndarray]:
    """Hourly temperature (°C), pressure (hPa), relative humidity (%) and wind speed (m/s)
    with daily / yearly cycles and weather systems."""
    rng = np.random.default_rng(seed)
    lead = 36
    n = hours + lead
    t = np.arange(n, dtype=np.float64)
    day = t / 24.0
    season = -np.cos(2 * np.pi * (day - 15.0) / 365.25)          # -1 mid-January, +1 mid-July
    hour = t % 24
    # weather: a damped ~6-day oscillation (passing systems) plus slow spells
    r, theta = 0.995, 2 * np.pi / 144.0
    a1, a2 = 2 * r * np.cos(theta), -r * r
    e = rng.standard_normal(n)
    w = np.zeros(n)
    for i in range(2, n):
        w[i] = a1 * w[i - 1] + a2 * w[i - 2] + e[i]
    w *= 3.0 / w[n // 4:].std()
    spell = np.zeros(n)
    phi = 0.998
    e2 = rng.standard_normal(n) * 1.5 * np.sqrt(1 - phi * phi)
    for i in range(1, n):
        spell[i] = phi * spell[i - 1] + e2[i]
    ahead = np.roll(w, -lead)
    clear = 1.0 + 0.35 * np.tanh(-ahead / 3.0)                   # high pressure: clear skies
    amplitude = (4.0 + 2.0 * season) * clear
    daily = np.cos(2 * np.pi * (hour - 3.0) / 24.0)               # +1 at 3 am, -1 at 3 pm
    temp = 9.0 + 10.0 * season - amplitude * daily
    temp = temp + w + spell + 0.3 * rng.standard_normal(n)
    pressure = 1013.0 - 2.5 * ahead + 1.0 * rng.standard_normal(n)
    humidity = np.clip(75.0 + 12.0 * daily * clear + 4.0 * ahead - 5.0 * season
                       + 3.0 * rng.standard_normal(n), 5.0, 100.0)
    gusts = np.abs(np.roll(np.gradient(w), -lead)) * 24.0          # fast-moving systems
    wind = np.abs(1.5 + 0.8 * gusts + 0.5 * rng.standard_normal(n))
    return {"temperature": np.round(temp[:hours], 2), "pressure": np.round(pressure[:hours], 1),
            "humidity": np.round(humidity[:hours], 1), "wind": np.round(wind[:hours], 2)}


def write_synthetic_csv(path: Path, hours: int, seed: int) -> Path:
    cols = synthetic_climate(hours, seed)
    start = np.datetime64("2009-01-01T00:00")
    times = start + np.arange(hours).astype("timedelta64[h]")
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["time", *SYNTHETIC_COLUMNS])
        for k in range(hours):
            w.writerow([str(times[k]).replace("T", " "),
                        *(f"{cols[c][k]:g}" for c in SYNTHETIC_COLUMNS)])
    return path


def build_model(c: dict[str, Any], variant: str, features: int = 1) -> Any:
    from .. import optimizers
    from ..layers import GRU, Bidirectional, Dense
    from ..models import Sequential

    if variant == "dense":
        return build_dense(c["lookback"], features, c["dense_units"], c["lr"], "mae")
    shape = (c["lookback"], features)
    # explicit layer names: optimizer state in checkpoints is keyed by them, so --resume must
    # rebuild the same names whichever model of this run is built first
    if variant == "gru":
        layers: list[Any] = [GRU(c["units"], input_shape=shape, name="gru")]
    elif variant == "stacked":
        layers = [GRU(c["units"], dropout=c["dropout"], recurrent_dropout=c["recurrent_dropout"],
                      return_sequences=True, input_shape=shape, name="stacked_gru_1"),
                  GRU(c["variant_units"], dropout=c["dropout"],
                      recurrent_dropout=c["recurrent_dropout"], name="stacked_gru_2")]
    elif variant == "bidirectional":
        layers = [Bidirectional(GRU(c["units"]), input_shape=shape, name="bidirectional_gru")]
    else:  # pragma: no cover - guarded by choices
        raise ValueError(f"unknown variant {variant!r}")
    model = Sequential([*layers, Dense(1, name=f"{variant}_dense")], name=variant)
    model.compile(optimizer=optimizers.RMSprop(learning_rate=c["lr"]), loss="mae")
    return model


def _series_source(ctx: RunContext) -> tuple[Path, str]:
    c = ctx.config
    if ctx.data_dir is None:
        path = write_synthetic_csv(ctx.out / "climate.csv", c["hours"], ctx.seed)
        return path, c["column"] or "temperature"
    path = Path(ctx.data_dir)
    if path.is_dir():
        raise ValueError(f"--data {path} is a folder; the timeseries experiment reads one CSV "
                         "file: pass --data FILE.csv --column NAME")
    if not c["column"]:
        from ..data import read_csv_header

        header = read_csv_header(path)
        raise ValueError(f"pass --column NAME to choose the column of {path} to forecast; its "
                         f"columns: {', '.join(header)}")
    return path, c["column"]


def run(ctx: RunContext) -> dict[str, Any]:
    from ..data import read_csv_columns
    from ..data.timeseries import _split_bounds
    from ..random import set_random_seed
    from . import plots

    c = dict(ctx.config)
    path, column = _series_source(ctx)
    columns = input_columns(path, column, c["columns"])
    rows = np.asarray(read_csv_columns(path, columns, missing=c["missing"]), dtype=np.float64)
    target = target_index(columns, column)
    fractions = np.array([c["train_fraction"], c["val_fraction"],
                          1.0 - c["train_fraction"] - c["val_fraction"]])
    if np.any(fractions <= 0):
        raise ValueError("--train-fraction and --val-fraction must be positive with a sum below "
                         f"1, got {c['train_fraction']} and {c['val_fraction']}")
    b1, b2 = _split_bounds(len(rows), fractions)[1:3]
    lookback, horizon, note = fit_window(b1, c["lookback"], c["horizon"], f"{path.name}")
    c["lookback"], c["horizon"] = lookback, horizon
    if note:
        ctx.notes.append(note)
    norm = WindowNormalizer.fit(rows[:b1], c["normalize"], target, horizon, "standard")
    back = lookback + horizon - 1   # validation / test windows may start in the part before
    x_train, y_train, _, _ = norm.windows(rows[:b1], lookback, horizon, c["stride"])
    parts = {"val": norm.windows(rows[b1 - back:b2], lookback, horizon),
             "test": norm.windows(rows[b2 - back:], lookback, horizon)}

    def mae(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.mean(np.abs(np.asarray(a) - np.asarray(b))))

    metrics: dict[str, Any] = {"input_features": len(columns), "lookback": lookback,
                               "horizon": horizon, "normalize": c["normalize"]}
    for part, (_, _, last, raw_y) in parts.items():
        metrics[f"baseline_{part}_mae"] = mae(last, raw_y)
    unit = norm.unit()

    # a contiguous stretch of the validation part for the plot (one window per step)
    x_plot, _, last_plot, y_plot = parts["val"]
    steps = min(c["plot_steps"], len(y_plot))
    lines = {"actual": y_plot[:steps], "baseline (last value)": last_plot[:steps]}

    curves: dict[str, list[float]] = {}
    variants = ["gru"] + ([c["variant"]] if c["variant"] != "none" else []) + ["dense"]
    for variant in variants:
        set_random_seed(ctx.seed)
        model = build_model(c, variant, len(columns))
        epochs = {"gru": c["epochs"], "dense": c["dense_epochs"]}.get(variant,
                                                                      c["variant_epochs"])
        ctx.fit(model, x_train, y_train, label=variant, batch_size=c["batch_size"],
                epochs=epochs, validation_data=parts["val"][:2])
        hist = read_history(ctx.out / f"history-{variant}.csv")
        curves[f"{variant} train"] = [v * unit for v in hist["loss"]]
        curves[f"{variant} validation"] = [v * unit for v in hist["val_loss"]]
        for part, (x, _, last, raw_y) in parts.items():
            pred = model.predict(x, batch_size=512, verbose=0)
            metrics[f"{variant}_{part}_mae"] = mae(norm.inverse(pred, last), raw_y)
        metrics[f"{variant}_epochs"] = len(hist["loss"])
        lines[f"{variant} prediction"] = norm.inverse(
            model.predict(x_plot[:steps], batch_size=512, verbose=0), last_plot[:steps])
        model.metadata = forecast_metadata("timeseries", column, lookback, horizon, norm,
                                           columns=columns, variant=variant, source=str(path))
        ctx.save_model(model, "model.rnnlab" if variant == "gru" else f"model-{variant}.rnnlab")
    metrics["val_mae"] = metrics["gru_val_mae"]
    metrics["test_mae"] = metrics["gru_test_mae"]
    metrics["gru_beats_baseline"] = bool(metrics["gru_val_mae"] < metrics["baseline_val_mae"])

    n_epochs = max(len(v) for v in curves.values())
    curves["baseline (validation)"] = [metrics["baseline_val_mae"]] * n_epochs
    fig = plots.series(f"timeseries: MAE of the {column} {horizon} steps ahead, per epoch",
                       curves, xlabel="epoch", ylabel=f"MAE ({column} units)")
    for line in fig.axes[0].lines:
        line.set_xdata(np.arange(1, len(line.get_ydata()) + 1))
        if line.get_label().startswith("baseline"):
            line.set(color="black", ls="--")
    ax = fig.axes[0]
    ax.relim()
    ax.autoscale_view()
    ax.set_ylim(top=min(ax.get_ylim()[1], 1.6 * metrics["baseline_val_mae"]))
    ax.legend()
    ctx.save_plot(fig, "loss.png")

    fig = plots.series(f"timeseries: {column} {horizon} steps ahead, start of the validation "
                       f"part (val MAE: GRU {metrics['gru_val_mae']:.3f}, baseline "
                       f"{metrics['baseline_val_mae']:.3f})", lines,
                       xlabel="step (hours for the synthetic data)", ylabel=column)
    ax = fig.axes[0]
    ax.lines[0].set(color="black", lw=2)
    ax.lines[1].set(color="tab:gray", ls="--")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=len(lines), frameon=False)
    ctx.save_plot(fig, "predictions.png")
    ctx.notes.append(f"timeseries: read {len(columns)} column(s) of {path} ({len(rows)} rows: "
                     f"{', '.join(columns)}) to forecast {column!r}; {len(x_train)} training "
                     f"windows, {c['normalize']} normalisation")
    return metrics


register_experiment(Experiment(
    name="timeseries",
    summary="GRU forecasts a CSV column 24 steps ahead from several columns vs the last-value "
            "and dense baselines (default: a generated hourly climate series)",
    defaults={"column": "", "columns": "", "missing": "error", "normalize": "window",
              "hours": 4 * 8760, "lookback": 120, "horizon": 24, "stride": 3,
              "train_fraction": 0.5, "val_fraction": 0.25, "units": 32, "variant": "stacked",
              "variant_units": 64, "dropout": 0.1, "recurrent_dropout": 0.5, "lr": 1e-3,
              "batch_size": 128, "epochs": 20, "variant_epochs": 20, "dense_units": 32,
              "dense_epochs": 20, "plot_steps": 240, "preset": "default", "seed": 0},
    smoke={"hours": 600, "lookback": 24, "horizon": 6, "stride": 1, "units": 16,
           "variant_units": 8, "batch_size": 32, "epochs": 6, "variant_epochs": 1,
           "dense_epochs": 2, "lr": 5e-3, "plot_steps": 48},
    run=run,
    kind="forecast",
    target="the GRU's validation MAE is below the last-value baseline's",
    choices={"variant": ("stacked", "bidirectional", "none"), "normalize": MODES,
             "missing": ("error", "drop", "ffill")},
))
