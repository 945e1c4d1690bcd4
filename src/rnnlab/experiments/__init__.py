"""The lab's experiments: classic recurrent-network results reproduced end to end."""

from .base import Experiment, experiments, get_experiment, register_experiment
from .runner import Result, resolve_config, run_experiment

__all__ = ["Experiment", "Result", "experiments", "get_experiment", "register_experiment",
           "resolve_config", "run_experiment"]
