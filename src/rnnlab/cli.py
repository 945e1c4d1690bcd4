"""The ``rnnlab`` command (``python -m rnnlab`` is the same program).

    rnnlab list
    rnnlab run EXPERIMENT [--data PATH] [--epochs N] [--seed S] [--out DIR] [--smoke]
                          [--resume] [--quiet] [--preset NAME] [--<option> VALUE ...]
    rnnlab generate MODEL --prime TEXT --length N --temperature T [--top-k K] [--seed S]
    rnnlab forecast MODEL --csv FILE [--column NAME] [--out FILE]
    rnnlab predict MODEL --input FILE [--out FILE]
    rnnlab info MODEL
    rnnlab diagnose MODEL [--data FILE.npz] [--out DIR] [--samples N] [--truncated] [--units U,...]
    rnnlab sweep EXPERIMENT --out DIR [--grid NAME=V1,V2 ...] [--seeds 0,1,2]
                 [--search random --samples N --space NAME=LO:HI[:log] ...]
                 [--address HOST:PORT] [--max-concurrent N] [--cpus-per-trial K]
                 [--scheduler asha] [--metric NAME] [--quiet] [--<option> VALUE ...]

User errors (missing files, unknown experiments or options, malformed data, a model of the wrong
kind) print one line ``rnnlab: error: ...`` and exit with status 2; ``--debug`` shows tracebacks.
Ctrl-C during ``run`` keeps the checkpoint of the last finished epoch: ``--resume`` continues.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, NoReturn

USER_ERRORS: tuple[type[Exception], ...] = (FileNotFoundError, ValueError, KeyError,
                                                TypeError, OSError)


class CLIError(Exception):
    """An error reported to the user as one line."""


_REPORTED: tuple[type[Exception], ...] = (CLIError, *USER_ERRORS)  # one line, exit status 2


class _Parser(argparse.ArgumentParser):
    """argparse with the lab's error format: one line on stderr, exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"rnnlab: error: {message} (see: {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="rnnlab", description="Recurrent-network lab: run the "
                "classic RNN/LSTM/GRU experiments and use the trained models.")
    p.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("list", help="list the experiments")
    run = sub.add_parser("run", help="run an experiment", description="Run an experiment. "
                         "Any setting shown by `rnnlab list --verbose` can be given as "
                         "--name VALUE.")
    run.add_argument("experiment")
    run.add_argument("--data", help="data folder or file (default: the experiment's own or "
                     "generated data)")
    run.add_argument("--epochs", type=int)
    run.add_argument("--seed", type=int)
    run.add_argument("--out", help="output folder (default runs/EXPERIMENT)")
    run.add_argument("--smoke", action="store_true", help="tiny settings that finish in seconds")
    run.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    run.add_argument("--preset", help="a named recipe laid over the defaults (`seed`: the "
                     "source's recipe as published; see `rnnlab list --verbose`)")
    gen = sub.add_parser("generate", help="sample text from a trained character model")
    gen.add_argument("model")
    gen.add_argument("--prime", default="\n")
    gen.add_argument("--length", type=int, default=500)
    gen.add_argument("--temperature", type=float, default=1.0)
    gen.add_argument("--top-k", type=int, default=None)
    gen.add_argument("--seed", type=int, default=0)
    fc = sub.add_parser("forecast", help="apply a trained forecasting model to a CSV file")
    fc.add_argument("model")
    fc.add_argument("--csv", required=True)
    fc.add_argument("--column", default=None, help="the column a one-column model reads "
                    "(default: the columns the model was trained on)")
    fc.add_argument("--out", default=None, help="write predictions to this CSV")
    pr = sub.add_parser("predict", help="apply a trained model to inputs in a .npy file")
    pr.add_argument("model")
    pr.add_argument("--input", required=True, help=".npy file of inputs, or a text file "
                    "(one example per line) for text models")
    pr.add_argument("--out", default=None)
    info = sub.add_parser("info", help="print a model file's summary")
    info.add_argument("model")
    dg = sub.add_parser("diagnose", help="gradient flow through time and gate plots of a "
                        "trained model")
    dg.add_argument("model")
    dg.add_argument("--data", default=None, help=".npz file with arrays x and y (default: the "
                    "run's own data)")
    dg.add_argument("--out", default=None, help="output folder (default: beside the model)")
    dg.add_argument("--samples", type=int, default=64, help="batch size of the diagnosis")
    dg.add_argument("--truncated", action="store_true", help="the truncated BPTT gradient "
                    "training uses (default: full BPTT)")
    dg.add_argument("--units", default=None, help="character models: the hidden units of the "
                    "heat map, comma-separated (default: the 4 with the largest variance)")
    _sweep_parser(sub)
    lst = sub.choices["list"]
    lst.add_argument("--verbose", action="store_true", help="show every experiment's settings")
    return p


def _sweep_parser(sub: Any) -> None:
    sw = sub.add_parser("sweep", help="run an experiment over a grid of settings and seeds on Ray",
                        description="Run an experiment over a grid of settings, random samples "
                        "and seeds on Ray Tune (on this machine, or on a Ray cluster with "
                        "--address). Fixed settings: --name VALUE. Needs rnnlab[sweep].")
    sw.add_argument("experiment")
    sw.add_argument("--out", required=True, help="sweep folder: trials/, results.csv, "
                    "summary.csv, a plot, and Ray's own files under ray/")
    sw.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2",
                    help="values of one setting (repeat for a grid)")
    sw.add_argument("--seeds", default=None, metavar="0,1,2", help="seeds (the setting 'seed')")
    sw.add_argument("--search", choices=("grid", "random"), default="grid")
    sw.add_argument("--samples", type=int, default=1, help="random draws (--search random)")
    sw.add_argument("--space", action="append", default=[], metavar="NAME=LO:HI[:log]",
                    help="a range to draw from (--search random; repeat for several)")
    sw.add_argument("--search-seed", type=int, default=0, help="seed of the random draws")
    sw.add_argument("--address", default=None, help="a running Ray cluster: HOST:PORT from one "
                    "of its nodes, ray://HOST:PORT from outside (default: Ray on this machine)")
    sw.add_argument("--max-concurrent", type=int, default=None)
    sw.add_argument("--cpus-per-trial", type=int, default=1)
    sw.add_argument("--retries", type=int, default=2, help="retries of a trial whose worker dies")
    sw.add_argument("--scheduler", choices=("asha",), default=None,
                    help="stop poor trials early (ASHA) on --epoch-metric")
    sw.add_argument("--epoch-metric", default="val_loss")
    sw.add_argument("--epoch-mode", choices=("min", "max"), default="min")
    sw.add_argument("--grace-period", type=int, default=1, help="epochs before ASHA may stop")
    sw.add_argument("--metric", default=None, help="the metrics.json key summarised and plotted "
                    "(default: the experiment's own)")
    sw.add_argument("--mode", choices=("min", "max"), default=None)
    sw.add_argument("--data", default=None, help="data folder or file (reachable from every "
                    "worker)")
    sw.add_argument("--epochs", type=int)
    sw.add_argument("--smoke", action="store_true", help="each trial with the smoke settings")
    sw.add_argument("--quiet", action="store_true", help="no progress table while it runs")


def _parse_options(extra: list[str]) -> dict[str, Any]:
    """``--name VALUE`` pairs for experiment settings (values parsed as JSON where possible)."""
    options: dict[str, Any] = {}
    i = 0
    while i < len(extra):
        token = extra[i]
        if not token.startswith("--"):
            raise CLIError(f"unexpected argument {token!r}; options look like --name VALUE")
        key = token[2:].replace("-", "_")
        if "=" in key:
            key, value = key.split("=", 1)
            i += 1
        else:
            if i + 1 >= len(extra):
                raise CLIError(f"option {token} needs a value")
            value = extra[i + 1]
            i += 2
        options[key] = _parse_value(value)
    return options


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _check_options(exp: Any, options: dict[str, Any]) -> None:
    """Each value has the type of the setting's default (a clear one-line error otherwise)."""
    for key, value in options.items():
        if key not in exp.defaults:
            continue  # unknown names are reported by resolve_config with the list of options
        flag = f"--{key.replace('_', '-')}"
        default = exp.defaults[key]
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise CLIError(f"{flag} expects true or false, got {value!r}")
        elif isinstance(default, int):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                    isinstance(value, float) and not value.is_integer()):
                raise CLIError(f"{flag} expects a whole number, got {value!r}")
            options[key] = int(value)
        elif isinstance(default, float):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise CLIError(f"{flag} expects a number, got {value!r}")
        elif isinstance(default, str) and not isinstance(value, str):
            options[key] = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
        if key in ("epochs", "batch_size") and options[key] < 1:
            raise CLIError(f"{flag} must be at least 1, got {value!r}")


def cmd_list(args: argparse.Namespace) -> int:
    from .experiments import experiments

    for name, exp in sorted(experiments().items()):
        data = f" [data: {exp.data}]" if exp.data else ""
        print(f"{name:16s} {exp.summary}{data}")
        if exp.target:
            print(f"{'':16s} target: {exp.target}")
        if args.verbose:
            settings = ", ".join(f"{k}={v!r}" for k, v in sorted(exp.defaults.items()))
            print(f"{'':16s} settings: {settings}")
            for preset, values in sorted(exp.presets.items()):
                shown = ", ".join(f"{k}={v!r}" for k, v in sorted(values.items()))
                print(f"{'':16s} --preset {preset}: {shown}")
    return 0


def _require_lab() -> None:
    """Experiments write plots: without matplotlib, say so before any training (a plain
    ``pip install rnnlab`` has the library, not the lab)."""
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        raise CLIError("rnnlab run writes plots with matplotlib, which is not installed: "
                          "pip install 'rnnlab[lab]'")


def cmd_run(args: argparse.Namespace, extra: list[str]) -> int:
    from .experiments import get_experiment, resolve_config, run_experiment
    from .experiments.nan_guard import NonFiniteLossError

    exp = get_experiment(args.experiment)
    overrides = _parse_options(extra)
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    if args.seed is not None:
        overrides["seed"] = args.seed
    _check_options(exp, overrides)
    resolve_config(exp.name, overrides, args.smoke, args.preset)  # errors before any file
    _require_lab()
    out = Path(args.out) if args.out else Path("runs") / exp.name
    from .kernels import run_engine

    engine = run_engine()
    print(f"rnnlab: running {exp.name} -> {out}")
    print(f"rnnlab: engine {engine['engine']} ({engine['why']})")
    try:
        result = run_experiment(exp.name, overrides, out=out, data=args.data, smoke=args.smoke,
                                resume=args.resume, verbose=0 if args.quiet else 1,
                                preset=args.preset)
    except KeyboardInterrupt:
        print(f"\nrnnlab: interrupted; the last finished epoch is saved in {out}. Continue with: "
              f"rnnlab run {exp.name} --out {out} --resume", file=sys.stderr)
        return 130
    except NonFiniteLossError as exc:
        print(f"\nrnnlab: {exc}", file=sys.stderr)
        return 3
    for note in result.notes:
        print(note)
    print(f"rnnlab: {exp.name} finished in {result.seconds:.1f} s; results in {result.out}")
    for key, value in sorted(result.metrics.items()):
        shown = f"{value:.6g}" if isinstance(value, float) else str(value)
        print(f"  {key} = {shown}")
    for plot in result.plots:
        print(f"  plot: {plot}")
    return 0


def cmd_sweep(args: argparse.Namespace, extra: list[str]) -> int:
    from .experiments import get_experiment
    from .sweep import run_from_strings

    exp = get_experiment(args.experiment)
    fixed = _parse_options(extra)
    if args.epochs is not None:
        fixed["epochs"] = args.epochs
    _check_options(exp, fixed)
    if args.search == "random" and not args.space:
        raise CLIError("--search random needs at least one --space NAME=LO:HI[:log]")
    if args.space and args.search != "random":
        raise CLIError("--space draws random values: add --search random (and --samples N)")
    if args.samples < 1:
        raise CLIError(f"--samples must be at least 1, got {args.samples}")
    try:
        import ray  # noqa: F401
    except ImportError:
        from .sweep.runner import ray_missing_message

        raise CLIError(ray_missing_message()) from None
    print(f"rnnlab: sweeping {exp.name} -> {args.out}")
    try:
        result = run_from_strings(
            exp.name, grid=args.grid, seeds=args.seeds, space=args.space, out=args.out,
            samples=args.samples, search_seed=args.search_seed, fixed=fixed, smoke=args.smoke,
            data=args.data, address=args.address, max_concurrent=args.max_concurrent,
            cpus_per_trial=args.cpus_per_trial, retries=args.retries, scheduler=args.scheduler,
            metric=args.metric, mode=args.mode, epoch_metric=args.epoch_metric,
            epoch_mode=args.epoch_mode, grace_period=args.grace_period,
            verbose=0 if args.quiet else 1)
    except KeyboardInterrupt:
        print(f"\nrnnlab: sweep interrupted; finished trials are kept in {args.out}/trials. "
              "Run the same command again to continue.", file=sys.stderr)
        return 130
    done = sum(r["status"] == "complete" for r in result.rows)
    print(f"rnnlab: {done} of {len(result.rows)} trials complete "
          f"({len(result.skipped)} from an earlier run) in {result.seconds:.1f} s")
    print(result.table)
    for path in result.files:
        print(f"  wrote: {path}")
    if result.interrupted:
        print("rnnlab: not every trial finished (interrupted, or failed after its retries: see "
              "status in results.csv); run the same command again to continue.", file=sys.stderr)
        return 130 if not any(r["status"] == "error" for r in result.rows) else 1
    return 0


def _load(path: str) -> Any:
    from .saving import load_model

    return load_model(path)


def cmd_generate(args: argparse.Namespace) -> int:
    from .experiments.sampling import generate_text

    model = _load(args.model)
    text = generate_text(model, args.prime, args.length, args.temperature, args.top_k, args.seed)
    print(text)
    return 0


def cmd_forecast(args: argparse.Namespace) -> int:
    from .experiments.forecasting import forecast_csv

    model = _load(args.model)
    rows = forecast_csv(model, args.csv, args.column)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write("index,prediction\n")
            fh.writelines(f"{i},{v:.6g}\n" for i, v in rows)
        print(f"rnnlab: wrote {len(rows)} predictions to {args.out}")
    else:
        print("index,prediction")
        for i, v in rows:
            print(f"{i},{v:.6g}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    import numpy as np

    from .experiments.forecasting import predict_file

    model = _load(args.model)
    out = predict_file(model, args.input)
    if args.out:
        np.save(args.out, out)
        print(f"rnnlab: wrote predictions of shape {out.shape} to {args.out}")
    else:
        np.set_printoptions(precision=5, suppress=True, threshold=200)
        print(out)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    model = _load(args.model)
    model.summary()
    meta = getattr(model, "metadata", None) or {}
    if meta:
        shown = {k: v for k, v in meta.items() if k not in ("vocab", "chars")}
        if "vocab" in meta:
            shown["vocab_size"] = len(meta["vocab"])
        print("metadata:", json.dumps(shown, sort_keys=True))
        if meta.get("kind") == "forecast":
            print(f"use: rnnlab forecast {args.model} --csv FILE.csv [--column "
                  f"{meta.get('column')}]")
    return 0


def cmd_diagnose(args: argparse.Namespace) -> int:
    from .diagnostics.report import diagnose

    try:
        units = None if args.units is None else [int(u) for u in args.units.split(",")]
    except ValueError as exc:
        raise CLIError(f"--units expects comma-separated whole numbers, got {args.units!r}"
                       ) from exc
    files = diagnose(args.model, data=args.data, out=args.out, samples=args.samples,
                     truncated=args.truncated, units=units)
    print(f"rnnlab: diagnosis of {args.model} written to {files[0].parent}")
    for path in files:
        print(f"  {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command not in ("run", "sweep"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        if args.command == "list":
            return cmd_list(args)
        if args.command == "sweep":
            return cmd_sweep(args, extra)
        if args.command == "run":
            return cmd_run(args, extra)
        if args.command == "generate":
            return cmd_generate(args)
        if args.command == "forecast":
            return cmd_forecast(args)
        if args.command == "predict":
            return cmd_predict(args)
        if args.command == "diagnose":
            return cmd_diagnose(args)
        return cmd_info(args)
    except BrokenPipeError:  # output piped into `head` and the like
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except _REPORTED as exc:
        if args.debug:
            raise
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"rnnlab: error: {_one_line(message)}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug, not a user error: still one line unless --debug
        if args.debug:
            raise
        print(f"rnnlab: error: internal error {type(exc).__name__}: {_one_line(exc)} "
              "(rerun with --debug for the traceback)", file=sys.stderr)
        return 1


def _one_line(message: Any) -> str:
    return " ".join(str(message).split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
