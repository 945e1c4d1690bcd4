"""Models: ``Sequential``, the functional ``Model``/``Input``, ``load_model`` and
``model_from_json``."""

from ..saving import load_model
from .input_layer import Input, InputLayer
from .json_config import model_from_json
from .model import Model
from .sequential import Sequential

__all__ = ["Input", "InputLayer", "Model", "Sequential", "load_model", "model_from_json"]
