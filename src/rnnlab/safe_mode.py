"""Functions in model files (a ``Lambda``'s function), and Keras's ``safe_mode`` over them.

Written as Keras 3 writes them (``keras.layers.Lambda.get_config``):

- a Python ``lambda``: its bytecode, ``{"class_name": "__lambda__", "config": {"code": base64 of
  marshal.dumps(fn.__code__), "defaults": ..., "closure": [cell values]}}`` (defaults and closure
  values must be JSON data);
- a named function: ``{"module": fn.__module__, "class_name": "function", "config": name,
  "registered_name": name}``, ``name`` being the one given by
  ``rnnlab.saving.register_keras_serializable`` (``"Custom>fn"``); an ``rnnlab.ops`` function is
  written as Keras's ``keras.ops`` function of the same name.

Read back: a named function only if it is registered (under its registered or plain name) or is
an ``rnnlab.ops`` / ``keras.ops`` function rnnlab has (nothing is imported); a ``lambda`` only
outside safe mode. Safe mode is on unless ``load_model(..., safe_mode=False)`` or
``rnnlab.config.enable_unsafe_deserialization()`` turned it off; as in Keras, a setting made
with the latter (or an enclosing ``SafeModeScope``) wins over ``load_model``'s argument, and
code outside any loader (``Lambda.from_config``, ``model_from_json``) is in safe mode. A loaded
``lambda`` runs with the globals ``ops`` (``rnnlab.ops``) and ``np`` (NumPy) and Python's builtins.
"""

from __future__ import annotations

import base64
import builtins
import marshal
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeGuard

import numpy as np

from ._registry import registered, registered_name

_SAFE_MODE: ContextVar[bool | None] = ContextVar("rnnlab_safe_mode", default=None)
FUNCTION_KINDS = ("__lambda__", "function")


def enable_unsafe_deserialization() -> None:
    """Keras's ``keras.config.enable_unsafe_deserialization()``: allow loading ``lambda``
    bytecode from model files from now on (in this context)."""
    _SAFE_MODE.set(False)


def in_safe_mode(default: bool | None = None) -> bool:
    """Whether ``lambda`` code is refused: the ambient setting, else ``default``, else True."""
    ambient = _SAFE_MODE.get()
    if ambient is not None:
        return ambient
    return True if default is None else bool(default)


@contextmanager
def SafeModeScope(safe_mode: bool | None = True) -> Iterator[None]:  # noqa: N802 - Keras's name
    """Set safe mode inside the block (None: leave it unset), restoring it afterwards."""
    token = _SAFE_MODE.set(safe_mode)
    try:
        yield
    finally:
        _SAFE_MODE.reset(token)


def is_function_spec(value: Any) -> TypeGuard[dict[str, Any]]:
    return isinstance(value, dict) and value.get("class_name") in FUNCTION_KINDS


def serialize_function(fn: Callable[..., Any], what: str) -> dict[str, Any]:
    """``fn`` as Keras writes it (see the module docstring); ``what`` names it in errors."""
    if isinstance(fn, types.FunctionType) and fn.__name__ == "<lambda>":
        closure = None if fn.__closure__ is None else [c.cell_contents for c in fn.__closure__]
        for kind, values in (("defaults", fn.__defaults__), ("closure", closure)):
            for v in values or ():
                if not isinstance(v, (bool, int, float, str, type(None))):
                    raise TypeError(f"{what}: a lambda whose {kind} hold a "
                                    f"{type(v).__name__} cannot be saved (JSON values only); "
                                    "write it as a named, registered function")
        code = base64.b64encode(marshal.dumps(fn.__code__)).decode("ascii")
        return {"class_name": "__lambda__", "config": {
            "code": code, "defaults": None if fn.__defaults__ is None else list(fn.__defaults__),
            "closure": closure}}
    if not callable(fn) or not hasattr(fn, "__name__"):
        raise TypeError(f"{what}: cannot save {fn!r}, neither a lambda nor a named function")
    from . import ops

    if getattr(ops, fn.__name__, None) is fn:
        return {"module": "keras.ops", "class_name": "function", "config": fn.__name__,
                "registered_name": None}
    name = registered_name(fn)
    return {"module": getattr(fn, "__module__", None), "class_name": "function",
            "config": name, "registered_name": name}


def deserialize_function(spec: dict[str, Any], where: str) -> Callable[..., Any]:
    """The function ``spec`` describes; a ``lambda`` only outside safe mode (ValueError)."""
    kind = spec.get("class_name")
    cfg = spec.get("config")
    if kind == "__lambda__":
        if in_safe_mode():
            raise ValueError(
                f"{where}: the file holds a Python lambda (bytecode), and loading it would run "
                "code from the file; this is refused in safe mode. If you trust the file, pass "
                "safe_mode=False to load_model, or call "
                "rnnlab.config.enable_unsafe_deserialization()")
        if not isinstance(cfg, dict) or not isinstance(cfg.get("code"), str):
            raise ValueError(f"{where}: a lambda without its code")
        return _load_lambda(cfg, where)
    if kind == "function" and isinstance(cfg, str):
        from . import ops

        module = spec.get("module") or ""
        for name in (cfg, spec.get("registered_name")):
            if isinstance(name, str):
                try:
                    fn = registered(name)
                except ValueError:
                    continue
                return fn
        plain = cfg.rpartition(">")[2]
        if module.startswith(("keras", "rnnlab.ops")) and callable(getattr(ops, plain, None)):
            return getattr(ops, plain)
        raise ValueError(f"{where}: function {cfg!r} (module {module!r}) is unknown; register "
                         "it with @rnnlab.saving.register_keras_serializable() before loading")
    raise ValueError(f"{where}: not a function: {str(spec)[:80]}")


def _load_lambda(cfg: dict[str, Any], where: str) -> Callable[..., Any]:
    from . import ops

    try:
        code = marshal.loads(base64.b64decode(cfg["code"].encode("ascii")))
    except (ValueError, EOFError, TypeError) as exc:
        raise ValueError(f"{where}: the lambda's bytecode is unreadable (written by another "
                         f"Python version?): {exc}") from exc
    if not isinstance(code, types.CodeType):
        raise ValueError(f"{where}: the lambda's code is not a code object")
    closure = cfg.get("closure")
    cells = None if closure is None else tuple(types.CellType(v) for v in closure)
    defaults = cfg.get("defaults")
    scope = {"__builtins__": builtins, "ops": ops, "np": np}
    try:
        return types.FunctionType(code, scope, code.co_name,
                                  None if defaults is None else tuple(defaults), cells)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: the lambda cannot be rebuilt: {exc}") from exc
