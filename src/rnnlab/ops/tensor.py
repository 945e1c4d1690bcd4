"""``Tensor`` and ``Tape``: reverse-mode automatic differentiation over NumPy arrays.

A ``Tensor`` wraps one array and remembers how it was made: the tensors it came from
(``parents``) and a vector-Jacobian product ``vjp(g) -> (g_parent, ...)`` that maps the gradient
of a scalar loss with respect to this tensor to the gradients with respect to its parents. Every
operation in ``rnnlab.ops`` that receives a ``Tensor`` returns one, so running user code on tensors
records the computation; ``Tape.record(outputs)`` puts the recorded operations in topological order
and ``tape.backward(seeds)`` replays them in reverse, summing the gradient of every tensor over its
uses. Everything is vectorised: one node per array operation, never per scalar.

    x = Tensor(np.ones((2, 3)), requires_grad=True)
    y = ops.sum(ops.tanh(x) * 2.0)
    grads = Tape.record([y]).backward([np.array(1.0)])
    grads[x]                     # d y / d x, shape (2, 3)

Gradients of broadcast operands are summed back to the operand's shape (``unbroadcast``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

Array = np.ndarray
VJP = Callable[[Array], Sequence["Array | None"]]


def unbroadcast(g: Array, shape: tuple[int, ...]) -> Array:
    """Sum ``g`` over the axes NumPy broadcasting added or stretched to reach ``g.shape`` from
    ``shape``, so the result has exactly ``shape``."""
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g.reshape(shape)


class Tensor:
    """An array that records the operation that made it. Behaves like an array for the usual
    operators (``+ - * / @ **``, unary ``-``, comparisons, indexing and slicing including fancy
    indexing), exposes ``shape``/``dtype``/``ndim``/``size``/``T``, and converts with
    ``np.asarray``."""

    __array_priority__ = 1000.0
    __array_ufunc__ = None  # numpy defers to the reflected operators below

    def __init__(self, value: Any, parents: tuple[Tensor, ...] = (), vjp: VJP | None = None,
                 requires_grad: bool = False, name: str | None = None) -> None:
        self.value: Array = np.asarray(value)
        self.parents = parents
        self.vjp = vjp
        self.requires_grad: bool = requires_grad or any(p.requires_grad for p in parents)
        self.name = name

    # -- array protocol ------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.value.shape)

    @property
    def dtype(self) -> np.dtype:
        return self.value.dtype

    @property
    def ndim(self) -> int:
        return int(self.value.ndim)

    @property
    def size(self) -> int:
        return int(self.value.size)

    @property
    def T(self) -> Tensor:  # noqa: N802 - NumPy's name
        from . import functions
        return functions.transpose(self)

    def __array__(self, dtype: Any = None, copy: Any = None) -> Array:
        return self.value if dtype is None else self.value.astype(dtype)

    def __len__(self) -> int:
        return len(self.value)

    def __repr__(self) -> str:
        return f"Tensor(shape={self.shape}, dtype={self.dtype})"

    def numpy(self) -> Array:
        return self.value

    # -- operators -----------------------------------------------------------------------------
    def __add__(self, o: Any) -> Tensor: return _f().add(self, o)
    def __radd__(self, o: Any) -> Tensor: return _f().add(o, self)
    def __sub__(self, o: Any) -> Tensor: return _f().subtract(self, o)
    def __rsub__(self, o: Any) -> Tensor: return _f().subtract(o, self)
    def __mul__(self, o: Any) -> Tensor: return _f().multiply(self, o)
    def __rmul__(self, o: Any) -> Tensor: return _f().multiply(o, self)
    def __truediv__(self, o: Any) -> Tensor: return _f().divide(self, o)
    def __rtruediv__(self, o: Any) -> Tensor: return _f().divide(o, self)
    def __matmul__(self, o: Any) -> Tensor: return _f().matmul(self, o)
    def __rmatmul__(self, o: Any) -> Tensor: return _f().matmul(o, self)
    def __pow__(self, o: Any) -> Tensor: return _f().power(self, o)
    def __rpow__(self, o: Any) -> Tensor: return _f().power(o, self)
    def __neg__(self) -> Tensor: return _f().negative(self)
    def __pos__(self) -> Tensor: return self
    def __abs__(self) -> Tensor: return _f().abs(self)
    def __getitem__(self, index: Any) -> Tensor: return _f().getitem(self, index)

    # comparisons carry no gradient: plain boolean arrays
    def __lt__(self, o: Any) -> Array: return self.value < np.asarray(o)
    def __le__(self, o: Any) -> Array: return self.value <= np.asarray(o)
    def __gt__(self, o: Any) -> Array: return self.value > np.asarray(o)
    def __ge__(self, o: Any) -> Array: return self.value >= np.asarray(o)

    # method forms Keras code uses on tensors
    def reshape(self, *shape: Any) -> Tensor:
        return _f().reshape(self, shape[0] if len(shape) == 1 else shape)

    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _f().sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _f().mean(self, axis=axis, keepdims=keepdims)

    __hash__ = object.__hash__


def _f() -> Any:
    from . import functions
    return functions


class Tape:
    """The operations that produced some outputs, in topological order (inputs first)."""

    def __init__(self, nodes: list[Tensor], outputs: list[Tensor]) -> None:
        self.nodes = nodes
        self.outputs = outputs

    @classmethod
    def record(cls, outputs: Iterable[Tensor]) -> Tape:
        outs = [t for t in outputs if isinstance(t, Tensor)]
        order: list[Tensor] = []
        seen: set[int] = set()
        for root in outs:
            if id(root) in seen or not root.requires_grad:
                continue
            stack: list[tuple[Tensor, bool]] = [(root, False)]
            while stack:
                node, expanded = stack.pop()
                if expanded:
                    order.append(node)
                    continue
                if id(node) in seen:
                    continue
                seen.add(id(node))
                stack.append((node, True))
                for p in node.parents:
                    if p.requires_grad and id(p) not in seen:
                        stack.append((p, False))
        return cls(order, outs)

    def backward(self, seeds: Sequence[Any]) -> GradMap:
        """Gradients of ``Σ_k <seed_k, output_k>`` with respect to every recorded tensor. A seed
        of None stands for zeros."""
        if len(seeds) != len(self.outputs):
            raise ValueError(f"expected {len(self.outputs)} output gradients, got {len(seeds)}")
        grads: dict[int, Array] = {}
        for out, seed in zip(self.outputs, seeds):
            if seed is None or not out.requires_grad:
                continue
            g = np.broadcast_to(np.asarray(seed, dtype=out.dtype), out.shape)
            _accumulate(grads, out, g)
        for node in reversed(self.nodes):
            gnode = grads.get(id(node))
            if gnode is None or node.vjp is None:
                continue
            parent_grads = node.vjp(gnode)
            for p, pg in zip(node.parents, parent_grads):
                if pg is not None and p.requires_grad:
                    _accumulate(grads, p, np.asarray(pg))
        return GradMap(grads)


def _accumulate(grads: dict[int, Array], t: Tensor, g: Array) -> None:
    if g.shape != t.shape:
        raise RuntimeError(f"internal: gradient of shape {g.shape} for a tensor of {t.shape}")
    prev = grads.get(id(t))
    grads[id(t)] = g.copy() if prev is None else prev + g


class GradMap:
    """Gradients by tensor: ``grads[t]`` (zeros when ``t`` did not influence the outputs)."""

    def __init__(self, grads: dict[int, Array]) -> None:
        self._grads = grads

    def __getitem__(self, t: Tensor) -> Array:
        g = self._grads.get(id(t))
        return np.zeros(t.shape, dtype=t.dtype) if g is None else g

    def __contains__(self, t: Tensor) -> bool:
        return id(t) in self._grads


def grad(outputs: Tensor | Sequence[Tensor], wrt: Sequence[Tensor],
         seeds: Sequence[Any] | None = None) -> list[Array]:
    """Gradients of the outputs (with upstream gradients ``seeds``, ones by default) with respect
    to the tensors ``wrt``."""
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    if seeds is None:
        seeds = [np.ones(o.shape) for o in outs]
    gm = Tape.record(outs).backward(seeds)
    return [gm[t] for t in wrt]
