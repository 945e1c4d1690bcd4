"""Name -> class registry and the JSON (de)serialisation of configurable objects.

Every configurable class (layers, cells, initializers, optimizers, losses, metrics) registers
itself under its class name. ``serialize(obj)`` gives ``{"class_name": ..., "config": ...}``;
``deserialize`` rebuilds the object with ``cls.from_config(config)``. Nested objects (a cell inside
a layer, an initializer inside a cell) are serialised recursively, so a whole model architecture is
plain JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import numpy as np

_CLASSES: dict[str, Any] = {}
_NAMES: dict[Any, str] = {}  # registered object -> the name Keras writes ("Custom>fn")

T = TypeVar("T", bound=type)


def register(cls: T) -> T:
    """Class decorator: make ``cls`` known to ``deserialize`` under its class name."""
    _CLASSES[cls.__name__] = cls
    return cls


def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Any:
    """Keras's decorator: make a custom class (a layer, a cell) or function (a ``Lambda``'s)
    known to ``deserialize``, so models using it load and wrappers such as ``Bidirectional``
    can copy it. It is registered under its own name and under Keras's
    ``package>name`` (``name`` defaults to its own name); files name functions that way."""
    def decorate(obj: Any) -> Any:
        full = f"{package}>{name or obj.__name__}"
        _CLASSES[obj.__name__] = obj
        _CLASSES[full] = obj
        _NAMES[obj] = full
        return obj
    return decorate


def registered_name(obj: Any) -> str:
    """The name a registered object is written under (Keras's ``get_registered_name``: its
    ``package>name``, or its plain name when it was never registered)."""
    return _NAMES.get(obj, getattr(obj, "__name__", type(obj).__name__))


def registered(name: str) -> type:
    """The class registered as ``name``; a clear error lists the known names."""
    if name not in _CLASSES:
        raise ValueError(f"Unknown class {name!r} (register a custom class with "
                         f"rnnlab.saving.register_keras_serializable()). "
                         f"Known classes: {sorted(_CLASSES)}")
    return _CLASSES[name]


def spec_parts(spec: Any, what: str) -> tuple[str, dict[str, Any]]:
    """``(class_name, config)`` of a ``{"class_name": str, "config": dict}`` spec given to a
    ``get`` (``what``: "a loss", "an optimizer" ...); a clear error for any other dict."""
    if set(spec) != {"class_name", "config"} or not isinstance(spec["class_name"], str):
        raise ValueError(f"{what} dict must have exactly the keys 'class_name' and 'config', "
                         f"got keys {sorted(spec)}")
    return spec["class_name"], spec["config"] or {}


def get_from_family(identifier: Any, base: type, aliases: Mapping[str, type], noun: str,
                    module: str) -> Any:
    """The ``get`` of a family of configurable objects (``rnnlab.constraints``,
    ``rnnlab.regularizers``): None or a ``base`` instance as it is; a ``{"class_name",
    "config"}`` dict rebuilt through the registry (the class must derive from ``base``); an
    alias (case-insensitive) as that class's defaults; anything else a clear error."""
    if identifier is None or isinstance(identifier, base):
        return identifier
    if isinstance(identifier, dict):
        name, config = spec_parts(identifier, f"a {noun}")
        cls = registered(name)
        if not issubclass(cls, base):
            raise ValueError(f"{name!r} is not a {noun}")
        return cls.from_config(config)  # type: ignore[attr-defined]
    if isinstance(identifier, str) and identifier.lower() in aliases:
        return aliases[identifier.lower()]()
    raise ValueError(f"Unknown {noun} {identifier!r}; expected None, one of "
                     f"{sorted(aliases)}, or an rnnlab.{module} object")


class AttributeConfig:
    """Base of a configurable object whose attributes are its constructor arguments:
    ``get_config()`` returns them, ``from_config(cfg)`` is ``cls(**cfg)``."""

    def get_config(self) -> dict[str, Any]:
        return dict(vars(self))

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Any:
        return cls(**config)


def serialize(value: Any) -> Any:
    """Turn a config value into JSON-able data (objects become class_name/config dicts)."""
    if hasattr(value, "get_config") and not isinstance(value, type):
        return {"class_name": type(value).__name__, "config": serialize(value.get_config())}
    if isinstance(value, dict):
        return {str(k): serialize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [serialize(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.dtype):
        return value.name
    if isinstance(value, type) and issubclass(value, np.generic):
        return np.dtype(value).name
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"Cannot serialise a value of type {type(value).__name__}: {value!r}")


def deserialize(data: Any) -> Any:
    """Inverse of ``serialize``: rebuild registered objects from class_name/config dicts."""
    if isinstance(data, dict):
        if data.get("class_name") in ("__lambda__", "function"):
            return data  # a function: the Lambda resolves it (rnnlab.safe_mode)
        if set(data) == {"class_name", "config"} and isinstance(data["class_name"], str):
            cls = registered(data["class_name"])
            return cls.from_config(deserialize(data["config"]))  # type: ignore[attr-defined]
        return {k: deserialize(v) for k, v in data.items()}
    if isinstance(data, list):
        return [deserialize(v) for v in data]
    return data
