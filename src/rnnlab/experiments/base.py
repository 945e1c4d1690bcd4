"""What an experiment is: a name, its full settings, its smoke settings, and a ``run`` function.

``run(ctx)`` trains and evaluates using ``ctx.config`` (a plain dict of settings), writes nothing
itself but through ``ctx`` (``ctx.fit`` runs ``model.fit`` with checkpointing, history and a
progress bar; ``ctx.save_plot`` writes a PNG), and returns a flat dict of final figures that
becomes ``metrics.json``. Experiments never print: the CLI does.

``presets`` are named recipes: settings laid over ``defaults`` by ``rnnlab run NAME --preset
P`` (then ``--smoke`` and explicit options on top). Each preset's keys must be settings of the
experiment; ``seed`` is the recipe of the source an experiment reproduces, exactly as published.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Experiment:
    name: str
    summary: str
    defaults: dict[str, Any]
    smoke: dict[str, Any]
    run: Callable[[Any], dict[str, float]]
    data: str | None = None                  # sub-folder of the shared data it reads, if any
    target: str = ""                         # what it must reach (shown by `rnnlab list`)
    kind: str = "train"                      # "train" | "generate" | "forecast"
    choices: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    metric: str = ""                         # the metrics.json key a sweep summarises, if any
    mode: str = "min"                        # whether that metric is better "min" or "max"
    # named sets of settings chosen with the "preset" option ("default": the defaults alone);
    # smoke settings and the user's options apply on top of a preset
    presets: dict[str, dict[str, Any]] = field(default_factory=dict)


_EXPERIMENTS: dict[str, Experiment] = {}


def register_experiment(exp: Experiment) -> Experiment:
    _EXPERIMENTS[exp.name] = exp
    return exp


def experiments() -> dict[str, Experiment]:
    from . import catalog  # noqa: F401  (registers the built-in experiments)

    return dict(_EXPERIMENTS)


def get_experiment(name: str) -> Experiment:
    known = experiments()
    if name not in known:
        raise KeyError(f"unknown experiment {name!r}; choose one of: {', '.join(sorted(known))}")
    return known[name]
