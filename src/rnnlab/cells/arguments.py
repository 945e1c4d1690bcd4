"""Modules (the built-in cells) whose constructor arguments are declared once, as annotated
class attributes.

    class LSTMCell(GatedCell):          # GatedCell declares units, activation, use_bias, ...
        recurrent_activation: str | None = "sigmoid"
        unit_forget_bias: bool = True

A subclass of ``DeclaredArgs`` gets an ``__init__`` made from the annotated class attributes of
its classes, base classes first: ``arg(kw_only=False)`` ones by position or keyword, all others
by keyword only, with the class attributes as defaults (``ClassVar`` ones are not arguments).
It stores every argument unchanged as an attribute, so ``get_config()`` records all of them (the
``Module`` rule), then calls ``configure()``, where the class checks them and derives what it
computes with. Type checkers see the same signature (``dataclass_transform``). A subclass that
writes its own ``__init__`` keeps it.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from ..module import Module

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:
    try:
        from typing import dataclass_transform
    except ImportError:  # Python 3.10: only type checkers read it
        def dataclass_transform(**_: Any) -> Any:
            return lambda cls: cls

_REQUIRED = inspect.Parameter.empty


class _Arg:
    """What ``arg`` declares: a default (or none) and whether it may be given by position."""

    def __init__(self, default: Any, kw_only: bool) -> None:
        self.default = default
        self.kw_only = kw_only


def arg(*, default: Any = _REQUIRED, kw_only: bool = True) -> Any:
    """Declare an argument with no default (``units: int = arg(kw_only=False)``) or one that may
    be given by position."""
    return _Arg(default, kw_only)


def _declared(cls: type) -> dict[str, _Arg]:
    """The arguments ``cls`` and its ``DeclaredArgs`` bases declare, base classes first."""
    out: dict[str, _Arg] = {}
    for klass in reversed(cls.__mro__):
        if not issubclass(klass, DeclaredArgs):
            continue
        for name, note in klass.__dict__.get("__annotations__", {}).items():
            if str(note).startswith(("ClassVar", "typing.ClassVar")):
                continue
            value = klass.__dict__.get(name, _REQUIRED)
            out[name] = value if isinstance(value, _Arg) else _Arg(value, True)
    return out


def _make_init(cls: type) -> Any:
    kinds = {True: inspect.Parameter.KEYWORD_ONLY, False: inspect.Parameter.POSITIONAL_OR_KEYWORD}
    signature = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(name, kinds[a.kw_only], default=a.default)
           for name, a in _declared(cls).items()])

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        Module.__init__(self)
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)
        self.configure()

    __init__.__signature__ = signature  # type: ignore[attr-defined]
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__doc__ = f"{cls.__name__}{str(signature).replace('(self, ', '(', 1)}"
    return __init__


@dataclass_transform(kw_only_default=True, field_specifiers=(arg,))
class DeclaredArgs(Module):
    """Base of modules whose constructor is made from their declared arguments (module
    docstring); ``GatedCell`` is one."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if "__init__" not in cls.__dict__:
            cls.__init__ = _make_init(cls)  # type: ignore[method-assign]
        super().__init_subclass__(**kwargs)  # Module records the arguments of each call

    def configure(self) -> None:
        """Check the arguments (attributes by now) and derive from them; ``__init__`` calls
        it. Subclasses extend it with ``super().configure()``."""
