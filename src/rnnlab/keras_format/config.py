"""Keras 3 architecture configs <-> rnnlab configs.

Reading (``from_keras``): every ``{"module", "class_name", "config", ...}`` object of a Keras
config must name a class rnnlab has registered under the same name (Keras ``safe_mode``
semantics: a custom class or any unknown name is refused; a ``Lambda``'s function is resolved by
``Lambda.from_config``, which runs a lambda's bytecode only outside safe mode). A Keras option
rnnlab lacks is accepted only at a value that changes nothing (``kernel_regularizer=None``,
``use_cudnn="auto"``, ...); any other value is a ``ModelFileError`` that names it.

Writing (``to_keras``): the rnnlab config with Keras's wrappers; an rnnlab-only option
(``truncate_gradient``, ``recurrent_bias`` off Keras's layout, ...) is an
``UnsupportedByKeras`` error that names every such option and points to the ``.rnnlab`` format.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from .._registry import registered
from ..saving import ModelFileError


class UnsupportedByKeras(ValueError):
    """The model uses options the Keras format cannot express."""


# Keras options that change nothing in rnnlab at these values (None: any value is harmless)
_HARMLESS: dict[str, Any] = {
    "use_cudnn": None, "implementation": None, "sparse": False, "ragged": False,
    "optional": False, "synchronized": False, "rms_scaling": False, "renorm": False,
    "renorm_momentum": None, "renorm_clipping": None, "trainable": True, "dtype": None,
    "reduction": "sum_over_batch_size",
    "use_ema": False, "ema_momentum": None, "ema_overwrite_frequency": None,
    "loss_scale_factor": None, "gradient_accumulation_steps": None, "lora_rank": None,
    "lora_alpha": None, "quantization_config": None, "build_config": None,
    "shared_object_id": None, "input_axes": None, "output_axes": None, "seed": None,
    "autocast": True, "registered_name": None, "module": None, "name": None,
}
_NONE_IS_DEFAULT = ("_regularizer", "_constraint")
OBJECT_KEYS = {"class_name", "config"}


def snake(name: str) -> str:
    """Keras's ``naming.to_snake_case`` (the names of weight groups in Keras files)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def is_object(value: Any) -> bool:
    return isinstance(value, dict) and "class_name" in value and "config" in value


def accepted_args(cls: type) -> set[str] | None:
    """Keyword names ``cls(...)`` accepts (None: anything, through **kwargs of a base)."""
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        init = getattr(init, "__wrapped__", init)
        params = inspect.signature(init).parameters
        names.update(p for p in params if p != "self" and params[p].kind not in (
            inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL))
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            return names
        if klass.__name__ == "Layer":
            from ..layers.base import _BASE_KEYS

            return names | set(_BASE_KEYS)
    return names


def _harmless(key: str, value: Any) -> bool:
    if value is None:
        return True
    if key in _HARMLESS:
        default = _HARMLESS[key]
        return default is None or value == default
    return False


def keras_object(value: Any, where: str) -> dict[str, Any]:
    """A Keras object dict as rnnlab's ``{"class_name", "config"}`` (config translated)."""
    name = value.get("class_name")
    if not isinstance(name, str):
        raise ModelFileError(f"{where}: class_name is not a string: {name!r}")
    registered_as = value.get("registered_name")
    module = value.get("module")
    custom = (isinstance(registered_as, str) and ">" in registered_as) or (
        isinstance(module, str) and not module.startswith("keras"))
    if name == "Lambda" and not custom and isinstance(value.get("config"), dict):
        return _lambda_from_keras(value["config"], where)
    if name in ("Lambda", "function", "__lambda__") or custom:
        raise ModelFileError(
            f"{where}: {name!r} (module {module!r}, registered as {registered_as!r}) is code "
            "from the file or a custom class; rnnlab never runs code from a model file (Keras "
            "safe_mode): build that part in Python and load the weights with load_weights")
    cfg = value.get("config")
    if name == "DTypePolicy" and isinstance(cfg, dict):
        return {"class_name": "DTypePolicy", "config": {"name": cfg.get("name")}}
    try:
        cls = registered(name)
    except ValueError as exc:
        raise ModelFileError(f"{where}: unknown class {name!r}; rnnlab loads only classes it "
                             f"has (Keras safe_mode): {exc}") from exc
    if not isinstance(cfg, dict):
        raise ModelFileError(f"{where}: the config of {name!r} is not an object")
    if name == "StackedRNNCells":
        raise ModelFileError(f"{where}: StackedRNNCells only as the cell of an RNN")
    from ..initializers import Initializer

    if isinstance(cls, type) and issubclass(cls, Initializer):
        # an initializer's seed and axes only shape fresh values; the file holds the weights
        allowed = accepted_args(cls) or set()
        cfg = {k: v for k, v in cfg.items() if k in allowed}
    return {"class_name": name, "config": translate_config(cls, cfg, f"{where} {name}")}


def _lambda_from_keras(cfg: dict[str, Any], where: str) -> dict[str, Any]:
    """A Keras ``Lambda``: its function specs are kept for ``Lambda.from_config``, which loads a
    lambda's bytecode only outside safe mode (``rnnlab.safe_mode``)."""
    from ..safe_mode import is_function_spec

    functions = {k: cfg[k] for k in ("function", "output_shape", "mask")
                 if is_function_spec(cfg.get(k))}
    rest = {k: v for k, v in cfg.items() if k not in functions}
    out = translate_config(registered("Lambda"), rest, f"{where} Lambda")
    return {"class_name": "Lambda", "config": {**out, **functions}}


def translate_config(cls: type, cfg: dict[str, Any], where: str) -> dict[str, Any]:
    """Keep the options ``cls`` accepts (values translated), drop harmless Keras-only ones."""
    allowed = accepted_args(cls)
    out: dict[str, Any] = {}
    for key, value in cfg.items():
        if allowed is not None and key not in allowed:
            if _harmless(key, value) or key.endswith(_NONE_IS_DEFAULT) and value is None:
                continue
            raise ModelFileError(f"{where}: the Keras option {key}={value!r} is not supported "
                                 "by rnnlab")
        out[key] = value_from_keras(key, value, where)
    return out


def value_from_keras(key: str, value: Any, where: str) -> Any:
    if key == "dtype" and is_object(value):
        return (value.get("config") or {}).get("name")
    if key == "cell" and is_object(value) and value.get("class_name") == "StackedRNNCells":
        cells = (value.get("config") or {}).get("cells")
        if not isinstance(cells, list):
            raise ModelFileError(f"{where}: StackedRNNCells without a list of cells")
        return [value_from_keras("cell", c, where) for c in cells]
    if is_object(value):
        if value.get("class_name") == "__keras_tensor__":
            raise ModelFileError(f"{where}: a tensor is not allowed as option {key!r}")
        return keras_object(value, f"{where}.{key}")
    if isinstance(value, list):
        return [value_from_keras(key, v, where) for v in value]
    if isinstance(value, dict):
        return {k: value_from_keras(k, v, where) for k, v in value.items()}
    return value


def to_keras_object(spec: Any, module: str) -> Any:
    """rnnlab ``{"class_name", "config"}`` (nested) -> Keras's serialised form."""
    if isinstance(spec, dict) and set(spec) == OBJECT_KEYS:
        cfg = {k: to_keras_object(v, module) for k, v in (spec["config"] or {}).items()}
        return {"module": module, "class_name": spec["class_name"], "config": cfg,
                "registered_name": None}
    if isinstance(spec, dict):
        return {k: to_keras_object(v, module) for k, v in spec.items()}
    if isinstance(spec, list):
        return [to_keras_object(v, module) for v in spec]
    return spec
