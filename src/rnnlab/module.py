"""``Module``: the parameter container shared by layers and cells.

A module owns ``params`` (trainable arrays, PyTorch names), ``grads`` (same keys and shapes,
accumulated with ``+=`` by ``backward``), ``buffers`` (non-trainable state such as running means)
and child modules. ``named_params()`` flattens the tree with dotted names
(``"cell.weight_ih"``, ``"forward_layer.cell.bias_hh"``), the names used by optimizers and model
files.

Configuration is data: the arguments a subclass's ``__init__`` was called with are recorded
automatically, so ``get_config()`` returns them (JSON-able) and ``from_config(cfg)`` equals
``cls(**cfg)``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterator
from typing import Any, TypeVar

import numpy as np

from ._registry import deserialize, serialize

_M = TypeVar("_M", bound="Module")


class Module:
    """Tree of parameters, gradients and buffers with recorded constructor arguments."""

    params: dict[str, np.ndarray]
    grads: dict[str, np.ndarray]
    buffers: dict[str, np.ndarray]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None or getattr(init, "_records_config", False):
            return
        signature = inspect.signature(init)

        @functools.wraps(init)
        def recording_init(self: Module, *args: Any, **kw: Any) -> None:
            if "_init_args" not in self.__dict__:
                bound = signature.bind(self, *args, **kw)
                bound.apply_defaults()
                recorded = dict(bound.arguments)
                recorded.pop("self", None)
                for name, param in signature.parameters.items():
                    if param.kind is inspect.Parameter.VAR_KEYWORD:
                        recorded.update(recorded.pop(name, {}))
                    elif param.kind is inspect.Parameter.VAR_POSITIONAL:
                        recorded.pop(name, None)
                self.__dict__["_init_args"] = recorded
            init(self, *args, **kw)

        recording_init._records_config = True  # type: ignore[attr-defined]
        cls.__init__ = recording_init  # type: ignore[method-assign]

    def __init__(self) -> None:
        self.params = {}
        self.grads = {}
        self.buffers = {}
        self._children: dict[str, Module] = {}

    # -- configuration -------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, JSON-able (nested objects as class_name/config dicts)."""
        return serialize(dict(self.__dict__.get("_init_args", {})))

    @classmethod
    def from_config(cls: type[_M], config: dict[str, Any]) -> _M:
        return cls(**deserialize(config))

    # -- parameters ----------------------------------------------------------------------------
    def add_param(self, name: str, value: np.ndarray) -> np.ndarray:
        self.params[name] = value
        self.grads[name] = np.zeros_like(value)
        return value

    def add_child(self, name: str, module: _M) -> _M:
        self._children[name] = module
        return module

    def children(self) -> dict[str, Module]:
        return dict(self._children)

    def named_params(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        """Trainable parameters, depth first, as (dotted name, array)."""
        for name, value in self.params.items():
            yield prefix + name, value
        for cname, child in self._children.items():
            yield from child.named_params(f"{prefix}{cname}.")

    def named_grads(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        for name, value in self.grads.items():
            yield prefix + name, value
        for cname, child in self._children.items():
            yield from child.named_grads(f"{prefix}{cname}.")

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        for name, value in self.buffers.items():
            yield prefix + name, value
        for cname, child in self._children.items():
            yield from child.named_buffers(f"{prefix}{cname}.")

    def zero_grad(self) -> None:
        for _, g in self.named_grads():
            g.fill(0)

    def state_dict(self) -> dict[str, np.ndarray]:
        """All parameters and buffers by PyTorch-style dotted name (copies)."""
        out = {k: v.copy() for k, v in self.named_params()}
        out.update({k: v.copy() for k, v in self.named_buffers()})
        return out

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy arrays in place; names and shapes must match exactly (errors name both)."""
        own = dict(self.named_params())
        own.update(self.named_buffers())
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        if missing or unexpected:
            raise ValueError(
                f"state dict does not fit {type(self).__name__}: missing {missing}, "
                f"unexpected {unexpected}"
            )
        for name, target in own.items():
            value = np.asarray(state[name])
            if value.shape != target.shape:
                raise ValueError(
                    f"shape mismatch for {name!r}: expected {target.shape}, got {value.shape}"
                )
            target[...] = value

    def count_params(self) -> int:
        return int(sum(v.size for _, v in self.named_params())) + int(
            sum(v.size for _, v in self.named_buffers())
        )
