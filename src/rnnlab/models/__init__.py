"""Models: ``Sequential``, the functional ``Model``/``Input``, and ``load_model``."""

from ..saving import load_model
from .input_layer import Input
from .model import Model
from .sequential import Sequential

__all__ = ["Input", "Model", "Sequential", "load_model"]
