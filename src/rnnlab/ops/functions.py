"""The operations of ``rnnlab.ops`` with Keras's names and signatures.

Each takes arrays or ``Tensor``s. When no argument is a ``Tensor`` the result is a plain NumPy
array (the op is just NumPy); otherwise the result is a ``Tensor`` carrying the op's
vector-Jacobian product, derived by hand below and checked against central differences and
PyTorch autograd in the tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import backend
from .tensor import Array, Tensor, unbroadcast


def _val(x: Any) -> Any:
    return x.value if isinstance(x, Tensor) else x


def _arr(x: Any) -> Array:
    return x.value if isinstance(x, Tensor) else np.asarray(x)


def _make(value: Array, parents: Sequence[Any], vjp: Callable[[Array], Sequence[Any]]) -> Any:
    """Wrap ``value`` in a Tensor linked to the Tensor parents (vjp returns one gradient per
    entry of ``parents``; non-Tensor entries are constants and their gradient is dropped)."""
    if not any(isinstance(p, Tensor) for p in parents):
        return np.asarray(value)
    tensors = tuple(p if isinstance(p, Tensor) else Tensor(np.asarray(p)) for p in parents)
    if not any(t.requires_grad for t in tensors):
        return Tensor(value)
    return Tensor(value, tensors, vjp)


def convert_to_tensor(x: Any, dtype: Any = None) -> Any:
    """Keras's ``convert_to_tensor``: a Tensor is returned as is, anything else as an array."""
    if isinstance(x, Tensor):
        return x if dtype is None else cast(x, dtype)
    return np.asarray(x, dtype=dtype)


def convert_to_numpy(x: Any) -> Array:
    return np.asarray(_val(x))


def cast(x: Any, dtype: Any) -> Any:
    xv = _arr(x)
    return _make(xv.astype(dtype), [x], lambda g: [g.astype(xv.dtype)])


# -- elementwise arithmetic --------------------------------------------------------------------
def add(x1: Any, x2: Any) -> Any:
    a, b = _arr(x1), _arr(x2)
    return _make(a + b, [x1, x2], lambda g: [unbroadcast(g, a.shape), unbroadcast(g, b.shape)])


def subtract(x1: Any, x2: Any) -> Any:
    a, b = _arr(x1), _arr(x2)
    return _make(a - b, [x1, x2], lambda g: [unbroadcast(g, a.shape), unbroadcast(-g, b.shape)])


def multiply(x1: Any, x2: Any) -> Any:
    a, b = _arr(x1), _arr(x2)
    return _make(a * b, [x1, x2],
                 lambda g: [unbroadcast(g * b, a.shape), unbroadcast(g * a, b.shape)])


def divide(x1: Any, x2: Any) -> Any:
    a, b = _arr(x1), _arr(x2)
    out = a / b
    return _make(out, [x1, x2],
                 lambda g: [unbroadcast(g / b, a.shape), unbroadcast(-g * out / b, b.shape)])


true_divide = divide


def negative(x: Any) -> Any:
    return _make(-_arr(x), [x], lambda g: [-g])


def power(x1: Any, x2: Any) -> Any:
    a, b = _arr(x1), _arr(x2)
    out = np.power(a, b)

    def vjp(g: Array) -> list[Any]:
        ga = unbroadcast(g * b * np.power(a, b - 1), a.shape)
        gb = None
        if isinstance(x2, Tensor):
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = unbroadcast(g * out * np.where(a > 0, np.log(np.where(a > 0, a, 1)), 0),
                                 b.shape)
        return [ga, gb]
    return _make(out, [x1, x2], vjp)


def square(x: Any) -> Any:
    a = _arr(x)
    return _make(a * a, [x], lambda g: [2 * g * a])


def sqrt(x: Any) -> Any:
    out = np.sqrt(_arr(x))
    return _make(out, [x], lambda g: [g / (2 * out)])


def exp(x: Any) -> Any:
    out = np.exp(_arr(x))
    return _make(out, [x], lambda g: [g * out])


def log(x: Any) -> Any:
    a = _arr(x)
    return _make(np.log(a), [x], lambda g: [g / a])


def abs(x: Any) -> Any:  # noqa: A001 - Keras's name
    a = _arr(x)
    return _make(np.abs(a), [x], lambda g: [g * np.sign(a)])


absolute = abs


def maximum(x1: Any, x2: Any) -> Any:
    """Elementwise maximum; at ties the gradient is split evenly (as PyTorch)."""
    a, b = _arr(x1), _arr(x2)
    wa = (a > b) + 0.5 * (a == b)
    return _make(np.maximum(a, b), [x1, x2],
                 lambda g: [unbroadcast(g * wa, a.shape), unbroadcast(g * (1 - wa), b.shape)])


def minimum(x1: Any, x2: Any) -> Any:
    a, b = _arr(x1), _arr(x2)
    wa = (a < b) + 0.5 * (a == b)
    return _make(np.minimum(a, b), [x1, x2],
                 lambda g: [unbroadcast(g * wa, a.shape), unbroadcast(g * (1 - wa), b.shape)])


def clip(x: Any, x_min: Any, x_max: Any) -> Any:
    """Clip to ``[x_min, x_max]``; the gradient passes where ``x_min <= x <= x_max``."""
    a = _arr(x)
    inside = (a >= x_min) & (a <= x_max)
    return _make(np.clip(a, x_min, x_max), [x], lambda g: [g * inside])


def where(condition: Any, x1: Any = None, x2: Any = None) -> Any:
    c = np.asarray(_val(condition)).astype(bool)
    if x1 is None and x2 is None:
        return np.where(c)
    a, b = _arr(x1), _arr(x2)
    return _make(np.where(c, a, b), [x1, x2],
                 lambda g: [unbroadcast(np.where(c, g, 0), a.shape),
                            unbroadcast(np.where(c, 0, g), b.shape)])


# -- activations -------------------------------------------------------------------------------
def tanh(x: Any) -> Any:
    out = np.tanh(_arr(x))
    return _make(out, [x], lambda g: [g * (1 - out * out)])


def sigmoid(x: Any) -> Any:
    a = _arr(x)
    out = np.exp(-np.logaddexp(0, -a))  # 1 / (1 + e^-a) without overflow
    return _make(out, [x], lambda g: [g * out * (1 - out)])


def relu(x: Any) -> Any:
    a = _arr(x)
    return _make(np.maximum(a, 0), [x], lambda g: [g * (a > 0)])


def softmax(x: Any, axis: int = -1) -> Any:
    a = _arr(x)
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    out = e / e.sum(axis=axis, keepdims=True)
    return _make(out, [x], lambda g: [out * (g - (g * out).sum(axis=axis, keepdims=True))])


# -- linear algebra ----------------------------------------------------------------------------
def matmul(x1: Any, x2: Any) -> Any:
    """``np.matmul`` semantics (1-D operands, broadcast batch dimensions)."""
    a, b = _arr(x1), _arr(x2)

    def vjp(g: Array) -> list[Any]:
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        ga = np.matmul(g2, np.swapaxes(b2, -1, -2))
        gb = np.matmul(np.swapaxes(a2, -1, -2), g2)
        if a.ndim == 1:
            ga = ga[..., 0, :]
        if b.ndim == 1:
            gb = gb[..., :, 0]
        return [unbroadcast(ga, a.shape), unbroadcast(gb, b.shape)]
    return _make(np.matmul(a, b), [x1, x2], vjp)


def dot(x1: Any, x2: Any) -> Any:
    return matmul(x1, x2)


def einsum(subscripts: str, *operands: Any) -> Any:
    """``np.einsum`` with explicit or implicit output (no ellipsis, no repeated index within
    one operand). The gradient of operand ``i`` is itself an einsum of the output gradient with
    the other operands; indices only operand ``i`` had are broadcast back."""
    spec = subscripts.replace(" ", "")
    if "." in spec:
        raise ValueError(f"rnnlab.ops.einsum does not support ellipsis, got {subscripts!r}")
    lhs, _, rhs = spec.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(operands):
        raise ValueError(f"einsum {subscripts!r} names {len(ins)} operands, got {len(operands)}")
    if "->" not in spec:
        counts = {c: lhs.count(c) for c in set(lhs.replace(",", ""))}
        rhs = "".join(sorted(c for c, n in counts.items() if n == 1))
    for s in ins:
        if len(set(s)) != len(s):
            raise ValueError(f"rnnlab.ops.einsum: repeated index in {s!r} is not supported")
    vals = [_arr(o) for o in operands]
    out = np.einsum(f"{','.join(ins)}->{rhs}", *vals)

    def vjp(g: Array) -> list[Any]:
        grads: list[Any] = []
        for i, (s, v) in enumerate(zip(ins, vals)):
            if not isinstance(operands[i], Tensor):
                grads.append(None)
                continue
            others = [(ins[j], vals[j]) for j in range(len(vals)) if j != i]
            avail = set(rhs).union(*[set(o[0]) for o in others])
            kept = "".join(c for c in s if c in avail)
            terms = ",".join([rhs] + [o[0] for o in others])
            gi = np.einsum(f"{terms}->{kept}", g, *[o[1] for o in others])
            if kept != s:  # indices summed away inside operand i: broadcast back
                shape = [v.shape[k] if c in kept else 1 for k, c in enumerate(s)]
                gi = np.broadcast_to(gi.reshape(shape), v.shape)
            grads.append(gi)
        return grads
    return _make(out, list(operands), vjp)


# -- shapes ------------------------------------------------------------------------------------
def reshape(x: Any, newshape: Any) -> Any:
    a = _arr(x)
    return _make(np.reshape(a, newshape), [x], lambda g: [g.reshape(a.shape)])


def transpose(x: Any, axes: Any = None) -> Any:
    a = _arr(x)
    inv = None if axes is None else tuple(np.argsort(axes))
    return _make(np.transpose(a, axes), [x], lambda g: [np.transpose(g, inv)])


def expand_dims(x: Any, axis: Any) -> Any:
    a = _arr(x)
    return _make(np.expand_dims(a, axis), [x], lambda g: [g.reshape(a.shape)])


def squeeze(x: Any, axis: Any = None) -> Any:
    a = _arr(x)
    return _make(np.squeeze(a, axis), [x], lambda g: [g.reshape(a.shape)])


def concatenate(xs: Sequence[Any], axis: int = 0) -> Any:
    vals = [_arr(v) for v in xs]
    bounds = np.cumsum([v.shape[axis] for v in vals])[:-1]
    return _make(np.concatenate(vals, axis=axis), list(xs),
                 lambda g: np.split(g, bounds, axis=axis))


def stack(x: Sequence[Any], axis: int = 0) -> Any:
    vals = [_arr(v) for v in x]
    out = np.stack(vals, axis=axis)
    ax = axis % out.ndim
    return _make(out, list(x), lambda g: [np.take(g, i, axis=ax) for i in range(len(vals))])


def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Any]:
    a = _arr(x)
    n = a.shape[axis]
    if isinstance(indices_or_sections, int):
        if n % indices_or_sections:
            raise ValueError(f"split: axis {axis} of size {n} does not divide into "
                             f"{indices_or_sections} equal sections")
        step = n // indices_or_sections
        cuts = list(range(step, n, step))
    else:
        cuts = [int(i) for i in indices_or_sections]
    edges = [0, *cuts, n]
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        index = [slice(None)] * a.ndim
        index[axis] = slice(lo, hi)
        out.append(getitem(x, tuple(index)))
    return out


def getitem(x: Any, index: Any) -> Any:
    """``x[index]`` for basic and fancy indexing; repeated indices accumulate gradients."""
    a = _arr(x)
    index = _val(index) if not isinstance(index, tuple) else tuple(_val(i) for i in index)

    def vjp(g: Array) -> list[Any]:
        z = np.zeros(a.shape, dtype=g.dtype)
        np.add.at(z, index, g)
        return [z]
    return _make(a[index], [x], vjp)


def take(x: Any, indices: Any, axis: int | None = None) -> Any:
    idx = np.asarray(_val(indices))
    if axis is None:
        return getitem(reshape(x, (-1,)), idx)
    a = _arr(x)
    index = (slice(None),) * (axis % a.ndim) + (idx,)
    return getitem(x, index)


# -- reductions --------------------------------------------------------------------------------
def _expand_reduced(g: Array, shape: tuple[int, ...], axis: Any, keepdims: bool) -> Array:
    if axis is None:
        axes = tuple(range(len(shape)))
    else:
        axes = tuple(a % len(shape) for a in (axis if isinstance(axis, (tuple, list)) else (axis,)))
    if not keepdims:
        g = np.expand_dims(g, axes) if axes else g
    return g


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    a = _arr(x)
    ax = tuple(axis) if isinstance(axis, list) else axis
    return _make(np.sum(a, axis=ax, keepdims=keepdims), [x],
                 lambda g: [np.broadcast_to(_expand_reduced(g, a.shape, ax, keepdims), a.shape)])


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    a = _arr(x)
    ax = tuple(axis) if isinstance(axis, list) else axis
    out = np.mean(a, axis=ax, keepdims=keepdims)
    count = a.size / np.size(out) if np.size(out) else 1.0
    return _make(out, [x], lambda g: [
        np.broadcast_to(_expand_reduced(g, a.shape, ax, keepdims), a.shape) / count])


def _extreme(fn: Callable[..., Array], x: Any, axis: Any, keepdims: bool) -> Any:
    a = _arr(x)
    ax = tuple(axis) if isinstance(axis, list) else axis
    out = fn(a, axis=ax, keepdims=keepdims)

    def vjp(g: Array) -> list[Any]:
        full = _expand_reduced(out, a.shape, ax, keepdims)
        hit = (a == full)
        share = hit / hit.sum(axis=ax, keepdims=True)  # ties share the gradient (PyTorch amax)
        return [share * _expand_reduced(g, a.shape, ax, keepdims)]
    return _make(out, [x], vjp)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    return _extreme(np.max, x, axis, keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    return _extreme(np.min, x, axis, keepdims)


# -- constants and gradient control ------------------------------------------------------------
def stop_gradient(variable: Any) -> Any:
    """The same values, treated as a constant by the tape."""
    return Tensor(_arr(variable)) if isinstance(variable, Tensor) else np.asarray(variable)


def one_hot(x: Any, num_classes: int, axis: int = -1, dtype: Any = None) -> Array:
    ids = np.asarray(_val(x)).astype(np.int64)
    out = (ids[..., None] == np.arange(num_classes)).astype(backend.standardize_dtype(dtype))
    return out if axis == -1 else np.moveaxis(out, -1, axis)


def zeros(shape: Any, dtype: Any = None) -> Array:
    return np.zeros(shape, dtype=backend.standardize_dtype(dtype))


def ones(shape: Any, dtype: Any = None) -> Array:
    return np.ones(shape, dtype=backend.standardize_dtype(dtype))


def zeros_like(x: Any, dtype: Any = None) -> Array:
    return np.zeros(np.shape(_val(x)), dtype=dtype or _arr(x).dtype)


def ones_like(x: Any, dtype: Any = None) -> Array:
    return np.ones(np.shape(_val(x)), dtype=dtype or _arr(x).dtype)


def shape(x: Any) -> tuple[int, ...]:
    return tuple(np.shape(_val(x)))

