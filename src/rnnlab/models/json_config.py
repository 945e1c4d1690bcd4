"""``model.to_json()`` and ``model_from_json(text)``: the architecture alone, as JSON
(``{"class_name": ..., "config": ...}``, rnnlab's own config, not Keras's), as Keras's pair.
Weights are not included: use ``get_weights``/``set_weights`` or the model files."""

from __future__ import annotations

import json
from typing import Any

from .._registry import deserialize, serialize


def to_json(model: Any, **kwargs: Any) -> str:
    """The architecture as a JSON string; ``kwargs`` go to ``json.dumps`` (``indent=2``)."""
    return json.dumps(serialize(model), **kwargs)


def model_from_json(json_string: str, custom_objects: Any = None) -> Any:
    """A new model (freshly initialised weights) from ``to_json``'s text."""
    if custom_objects:
        raise ValueError("custom_objects is not supported; register custom classes with "
                         "rnnlab._registry.register")
    try:
        spec = json.loads(json_string)
    except json.JSONDecodeError as exc:
        raise ValueError(f"model_from_json: not valid JSON ({exc})") from exc
    if not isinstance(spec, dict) or set(spec) != {"class_name", "config"}:
        raise ValueError("model_from_json expects the text of model.to_json(): an object with "
                         f"'class_name' and 'config', got {str(json_string)[:80]!r}")
    from .model import BaseModel

    model = deserialize(spec)
    if not isinstance(model, BaseModel):
        raise ValueError(f"model_from_json: {spec['class_name']!r} is not a model")
    return model
