"""The trials of a sweep: a grid, random samples and seeds turned into named settings (no Ray).

A sweep is the product ``samples × grid × seeds``: every combination of the ``--grid`` values
(``NAME=V1,V2,...``), for each of ``samples`` random draws from the ``--space`` ranges
(``NAME=LO:HI`` uniform, ``NAME=LO:HI:log`` log-uniform; whole numbers when the setting's default
is one), for each seed. The fixed settings (``--name VALUE``) apply to every trial.

A trial's id is made from the values it sweeps and a hash of all its settings, so the same
command names the same trials again: a rerun finds the finished ones in ``DIR/trials/<id>/`` and
skips them. The random draws come from ``search_seed`` (default 0) and are equally repeatable.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Trial:
    """One run of the experiment: its id, the settings it sweeps and all the overrides."""

    id: str
    swept: dict[str, Any]          # the grid/space values and the seed of this trial
    overrides: dict[str, Any]      # every setting given to run_experiment (fixed + swept)


@dataclass(frozen=True)
class Space:
    """A range to sample: uniform in [lo, hi], or log-uniform; ``integer`` rounds the draw."""

    lo: float
    hi: float
    log: bool = False
    integer: bool = False

    def sample(self, rng: np.random.Generator) -> float | int:
        if self.log:
            value = float(np.exp(rng.uniform(math.log(self.lo), math.log(self.hi))))
        else:
            value = float(rng.uniform(self.lo, self.hi))
        return int(round(value)) if self.integer else value


@dataclass
class Plan:
    experiment: str
    grid: dict[str, list[Any]] = field(default_factory=dict)
    seeds: list[int] | None = None
    space: dict[str, Space] = field(default_factory=dict)
    samples: int = 1
    search_seed: int = 0
    fixed: dict[str, Any] = field(default_factory=dict)
    smoke: bool = False

    def swept_names(self) -> list[str]:
        """The settings that vary between trials, in the order they were given (seed last)."""
        names = list(self.space) + list(self.grid)
        return names + (["seed"] if self.seeds is not None else [])

    def trials(self) -> list[Trial]:
        """Every trial of the sweep (samples × grid × seeds), in a fixed order."""
        clash = sorted(set(self.grid) & set(self.space)) + sorted(
            set(self.grid) & set(self.fixed)) + sorted(set(self.space) & set(self.fixed))
        if self.seeds is not None and ("seed" in self.grid or "seed" in self.fixed):
            clash.append("seed")
        if clash:
            raise ValueError(f"setting(s) {sorted(set(clash))} given more than once (as --grid, "
                             "--space, --seeds or a fixed --name VALUE); give each once")
        rng = np.random.default_rng(self.search_seed)
        draws = [{name: space.sample(rng) for name, space in self.space.items()}
                 for _ in range(self.samples if self.space else 1)]
        combos = list(itertools.product(*self.grid.values())) if self.grid else [()]
        seeds: list[int | None] = list(self.seeds) if self.seeds is not None else [None]
        out = []
        for draw in draws:
            for combo in combos:
                for seed in seeds:
                    swept = {**draw, **dict(zip(self.grid, combo))}
                    if seed is not None:
                        swept["seed"] = seed
                    overrides = {**self.fixed, **swept}
                    out.append(Trial(trial_id(swept, overrides, self.smoke), swept, overrides))
        ids = [t.id for t in out]
        if len(set(ids)) != len(ids):
            raise ValueError("the sweep names the same trial twice (a value repeated in --grid "
                             "or --seeds?)")
        return out


def trial_id(swept: dict[str, Any], overrides: dict[str, Any], smoke: bool) -> str:
    """``name-value_...-<hash>``: readable, safe as a folder name, equal across runs."""
    blob = json.dumps({"overrides": overrides, "smoke": smoke}, sort_keys=True, default=str)
    digest = hashlib.sha1(blob.encode()).hexdigest()[:8]
    parts = [f"{name}-{_short(value)}" for name, value in swept.items()]
    stem = re.sub(r"[^A-Za-z0-9_.=-]+", "", "_".join(parts))[:80]
    return f"{stem}-{digest}" if stem else digest


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def parse_values(text: str) -> list[Any]:
    """``1e-3,1e-2`` -> [0.001, 0.01]; each value read as JSON where it can be (else a string)."""
    if text == "":
        raise ValueError("a grid needs at least one value: NAME=V1,V2,...")
    return [_value(v) for v in text.split(",")]


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_assignment(text: str, what: str) -> tuple[str, str]:
    if "=" not in text:
        raise ValueError(f"{what} expects NAME=VALUES, got {text!r}")
    name, _, values = text.partition("=")
    name = name.strip().lstrip("-").replace("-", "_")
    if not name:
        raise ValueError(f"{what} expects NAME=VALUES, got {text!r}")
    return name, values


def parse_grid(items: list[str]) -> dict[str, list[Any]]:
    """``["lr=1e-3,1e-2", "hidden=8,16"]`` -> ``{"lr": [...], "hidden": [...]}``."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        name, values = parse_assignment(item, "--grid")
        if name in grid:
            raise ValueError(f"--grid {name} given twice")
        grid[name] = parse_values(values)
    return grid


def parse_space(items: list[str], defaults: dict[str, Any]) -> dict[str, Space]:
    """``["lr=1e-4:1e-2:log"]`` -> ``{"lr": Space(1e-4, 1e-2, log=True)}`` (integer when the
    setting's default is a whole number)."""
    space: dict[str, Space] = {}
    for item in items:
        name, spec = parse_assignment(item, "--space")
        parts = spec.split(":")
        if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] != "log"):
            raise ValueError(f"--space expects NAME=LO:HI or NAME=LO:HI:log, got {item!r}")
        try:
            lo, hi = float(parts[0]), float(parts[1])
        except ValueError:
            raise ValueError(f"--space {name}: LO and HI must be numbers, got {spec!r}") from None
        log = len(parts) == 3
        if not lo < hi or (log and lo <= 0):
            raise ValueError(f"--space {name}: need LO < HI{' and LO > 0 for log' if log else ''}"
                             f", got {spec!r}")
        default = defaults.get(name)
        integer = isinstance(default, int) and not isinstance(default, bool)
        space[name] = Space(lo, hi, log, integer)
    return space


def parse_seeds(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(s) for s in text.split(",")]
    except ValueError:
        raise ValueError(f"--seeds expects whole numbers like 0,1,2, got {text!r}") from None
