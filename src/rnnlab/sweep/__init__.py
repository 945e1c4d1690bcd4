"""Sweeps: an experiment over a grid of settings, random samples and seeds, run on Ray Tune.

``rnnlab.sweep.run(experiment, grid=..., seeds=..., out=...)`` (``rnnlab sweep`` on the command
line) runs every trial through the same entry point as ``rnnlab run``, in Ray workers on this
machine or on a Ray cluster, and writes ``results.csv``, ``summary.csv`` and a plot of the
target metric. Ray comes with the ``sweep`` extra: ``pip install 'rnnlab[sweep]'``.
"""

from .plan import Plan, Space, Trial, parse_grid, parse_seeds, parse_space
from .runner import SweepResult, run, run_from_strings

__all__ = ["Plan", "Space", "SweepResult", "Trial", "parse_grid", "parse_seeds", "parse_space",
           "run", "run_from_strings"]
