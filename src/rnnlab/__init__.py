"""rnnlab: recurrent neural networks on NumPy with exact BPTT and a Keras-compatible API."""

from . import (
    activations,
    backend,
    callbacks,
    cells,
    config,
    constraints,
    datasets,
    gradcheck,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    preprocessing,
    regularizers,
    utils,
)
from .kernels import use_engine as engine
from .models import Input, Model, Sequential, load_model
from .random import set_random_seed

__version__ = "0.1.0"

__all__ = [
    "Input", "Model", "Sequential", "__version__", "activations", "backend", "callbacks",
    "cells", "config", "constraints", "datasets", "engine", "gradcheck", "initializers", "layers",
    "load_model", "losses", "metrics", "models", "optimizers", "preprocessing", "regularizers",
    "set_random_seed", "utils",
]
