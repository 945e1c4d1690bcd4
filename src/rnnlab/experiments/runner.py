"""``run_experiment``: resolve settings, run an experiment, write its files. No printing."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base import get_experiment
from .context import RunContext, write_json_atomic


@dataclass
class Result:
    name: str
    out: Path
    config: dict[str, Any]
    metrics: dict[str, float]
    plots: list[Path]
    notes: list[str]
    seconds: float


class UnknownPreset(KeyError, ValueError):
    """A preset the experiment does not have (a KeyError, and a ValueError for old callers)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def resolve_config(name: str, overrides: dict[str, Any], smoke: bool = False,
                   preset: str | None = None) -> dict[str, Any]:
    """Full settings, the ``preset``'s laid over them, then the smoke settings, then the given
    overrides; unknown keys and presets are errors. The preset may also come as
    ``overrides["preset"]`` (the ``--preset`` option, or a sweep's setting); ``"default"`` is
    the defaults alone, and experiments with presets record the one used as ``preset``."""
    exp = get_experiment(name)
    config = dict(exp.defaults)
    chosen = preset if preset is not None else overrides.get("preset")
    if chosen not in (None, "default"):
        if chosen not in exp.presets:
            raise UnknownPreset(
                f"experiment {name!r} has no preset {chosen!r}; --preset must be one of "
                f"{['default', *sorted(exp.presets)]}")
        stray = sorted(set(exp.presets[chosen]) - set(config))
        if stray:
            raise KeyError(f"preset {chosen!r} of {name!r} sets unknown option(s) {stray}")
        config.update(exp.presets[chosen])
    if exp.presets:
        config["preset"] = chosen or "default"
    overrides = {k: v for k, v in overrides.items() if k != "preset"} if exp.presets else overrides
    if smoke:
        config.update(exp.smoke)
    unknown = sorted(set(overrides) - set(config))
    if unknown:
        raise KeyError(f"experiment {name!r} has no option(s) {unknown}; its options are "
                       f"{sorted(config)}")
    for key, value in overrides.items():
        if key in exp.choices and value not in exp.choices[key]:
            raise ValueError(f"--{key.replace('_', '-')} must be one of {list(exp.choices[key])}, "
                             f"got {value!r}")
        default = config[key]
        config[key] = type(default)(value) if default is not None and not isinstance(
            default, bool) else value
    return config


def run_experiment(name: str, overrides: dict[str, Any] | None = None,
                   out: str | Path | None = None, data: str | Path | None = None,
                   smoke: bool = False, resume: bool = False, verbose: int = 1,
                   observers: list[Any] | None = None, preset: str | None = None) -> Result:
    """Run ``name`` with ``overrides`` (and ``preset``) into ``out``; ``observers`` are
    callbacks added to every ``fit`` of the run that only watch it (``rnnlab sweep`` reports
    each epoch through one)."""
    exp = get_experiment(name)
    config = resolve_config(name, overrides or {}, smoke, preset)
    out_dir = Path(out) if out is not None else Path("runs") / name
    out_dir.mkdir(parents=True, exist_ok=True)
    data_dir = Path(data) if data is not None else None
    if data_dir is not None and not data_dir.exists():
        raise FileNotFoundError(f"data folder {data_dir} does not exist")
    config_path = out_dir / "config.json"
    from ..kernels import run_engine

    write_json_atomic(config_path, {"experiment": name, "smoke": smoke, **config,
                                    "data": str(data_dir) if data_dir else None,
                                    "engine": run_engine()})
    ctx = RunContext(config=config, out=out_dir, data_dir=data_dir, resume=resume,
                     verbose=verbose, observers=list(observers or []))
    start = time.perf_counter()
    metrics = exp.run(ctx)
    seconds = time.perf_counter() - start
    metrics = {k: (v if isinstance(v, (int, str)) and not isinstance(v, bool) else float(v))
               for k, v in metrics.items()}
    write_json_atomic(out_dir / "metrics.json", metrics)
    return Result(name, out_dir, config, metrics, ctx.plots, ctx.notes, seconds)
