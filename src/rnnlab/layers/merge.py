"""Merge layers: ``Concatenate``, ``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum``,
``Minimum`` (Keras 3 semantics). Each takes a list of arrays and its backward pass returns a list
of gradients, one per input.

Element-wise merges: inputs ``(N, ...)`` of equal shape, or broadcastable as Keras allows (size-1
axes broadcast; a lower-rank input gets new axes after the batch axis, so ``(N, D)`` combines with
``(N, T, D)``). Output: the broadcast shape. ``Subtract`` takes exactly two inputs.
Output mask (Keras): the logical AND of the inputs' masks that are not None (None when all are).

``Concatenate(axis=-1)``: inputs of equal rank whose shapes agree except on ``axis``.
Output mask (Keras): each input's mask (all True when None, broadcast to the input's shape when it
lacks the feature axis) concatenated on ``axis`` and reduced with ANY over the last axis, so a
feature concatenation of ``(N, T)`` masks gives their OR (all True if one input has no mask) and a
time concatenation gives the masks joined in time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend
from .._registry import register
from .base import Layer

Array = np.ndarray


def _as_list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        shape = getattr(value, "shape", None)
        raise ValueError(
            f"{name} expects a list of input arrays, got a single "
            f"{'array of shape ' + str(shape) if shape is not None else repr(type(value))}")
    return list(value)


class _Merge(Layer):
    supports_masking = True
    min_inputs = 1
    max_inputs: int | None = None

    def _check_count(self, n: int) -> None:
        if n < self.min_inputs or (self.max_inputs is not None and n > self.max_inputs):
            want = (f"exactly {self.min_inputs}" if self.max_inputs == self.min_inputs
                    else f"at least {self.min_inputs}")
            raise ValueError(f"{self.name} expects {want} inputs, got {n}")

    def validate_inputs(self, inputs: Any) -> Any:
        items = _as_list(inputs, self.name)
        self._check_count(len(items))
        return [backend.as_float_array(v, self.dtype, f"{self.name} input {i}")
                for i, v in enumerate(items)]

    def build(self, input_shape: Any) -> None:
        shapes = _as_list(input_shape, self.name)
        self._check_count(len(shapes))
        self.compute_output_shape(shapes)  # raises on incompatible shapes
        self.built = True

    def _arrays(self, inputs: Any) -> list[Array]:
        items = _as_list(inputs, self.name)
        self._check_count(len(items))
        xs = [np.asarray(v, dtype=self.dtype) for v in items]
        for x in xs:
            if x.ndim < 1:
                raise ValueError(f"{self.name} expects arrays with a batch axis, got a scalar")
        return xs


class _ElementwiseMerge(_Merge):
    """Broadcasting element-wise merge; subclasses give ``_op`` and ``_grads``."""

    def _expand(self, xs: list[Array]) -> list[Array]:
        rank = max(x.ndim for x in xs)
        return [x.reshape(x.shape[:1] + (1,) * (rank - x.ndim) + x.shape[1:]) for x in xs]

    def forward(self, inputs: Any, training: bool = False, mask: Any = None) -> tuple[Any, Any]:
        xs = self._arrays(inputs)
        shapes = [x.shape for x in xs]
        ex = self._expand(xs)
        try:
            out_shape = np.broadcast_shapes(*(x.shape for x in ex))
        except ValueError:
            raise ValueError(
                f"{self.name} expects inputs of the same (or broadcastable) shape, got shapes "
                f"{shapes}") from None
        y = self._op(ex)
        return np.asarray(y, dtype=self.dtype), (ex, y, shapes, out_shape)

    def backward(self, d_outputs: Any, cache: Any) -> Any:
        ex, y, shapes, out_shape = cache
        g = np.broadcast_to(np.asarray(d_outputs, dtype=self.dtype), out_shape)
        grads = self._grads(g, ex, y)
        return [_unbroadcast(d, e.shape).reshape(s)
                for d, e, s in zip(grads, ex, shapes, strict=True)]

    def _op(self, xs: list[Array]) -> Array:
        raise NotImplementedError

    def _grads(self, g: Array, xs: list[Array], y: Array) -> list[Array]:
        raise NotImplementedError

    def compute_output_shape(self, input_shape: Any) -> Any:
        shapes = [tuple(s) for s in _as_list(input_shape, self.name)]
        out = shapes[0]
        for s in shapes[1:]:
            out = _broadcast_shape(out, s, self.name, shapes)
        return out

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        if mask is None:
            return None
        if not isinstance(mask, (list, tuple)):
            return mask if inputs is None else None  # symbolic: "some input has a mask"
        masks = [np.asarray(m, dtype=bool) for m in mask if m is not None]
        if not masks:
            return None
        return np.logical_and.reduce(np.broadcast_arrays(*masks))


def _broadcast_shape(a: tuple[Any, ...], b: tuple[Any, ...], name: str,
                     shapes: list[Any]) -> tuple[Any, ...]:
    """Keras's element-wise shape rule on the non-batch axes (right-aligned)."""
    if len(a) < len(b):
        a, b = b, a
    batch = a[0] if b[0] in (None, 1) else b[0] if a[0] in (None, 1) else a[0]
    if a[0] is not None and b[0] is not None and a[0] != b[0] and 1 not in (a[0], b[0]):
        raise ValueError(f"{name}: inputs have different batch sizes, got shapes {shapes}")
    ra, rb = a[1:], b[1:]
    out = list(ra[:len(ra) - len(rb)])
    for i, j in zip(ra[len(ra) - len(rb):], rb, strict=True):
        if i is None or j is None:
            out.append(None)
        elif i == 1:
            out.append(j)
        elif j == 1 or i == j:
            out.append(i)
        else:
            raise ValueError(
                f"{name} expects inputs of the same (or broadcastable) shape, got shapes {shapes}")
    return (batch,) + tuple(out)


def _unbroadcast(d: Array, shape: tuple[int, ...]) -> Array:
    """Sum ``d`` down to ``shape`` (same rank; size-1 axes of ``shape`` were broadcast)."""
    pairs = enumerate(zip(shape, d.shape, strict=True))
    axes = tuple(i for i, (n, m) in pairs if n == 1 and m != 1)
    if axes:
        d = d.sum(axis=axes, keepdims=True)
    return np.array(d, copy=True) if d.shape == shape else np.broadcast_to(d, shape).copy()


@register
class Add(_ElementwiseMerge):
    """Element-wise sum of a list of inputs (same or broadcastable shapes)."""

    def _op(self, xs):
        y = xs[0] + xs[1] if len(xs) > 1 else xs[0].copy()
        for x in xs[2:]:
            y = y + x
        return y

    def _grads(self, g, xs, y):
        return [g] * len(xs)


@register
class Subtract(_ElementwiseMerge):
    """``inputs[0] - inputs[1]`` (exactly two inputs)."""

    min_inputs = 2
    max_inputs = 2

    def _op(self, xs):
        return xs[0] - xs[1]

    def _grads(self, g, xs, y):
        return [g, -g]


@register
class Multiply(_ElementwiseMerge):
    """Element-wise product of a list of inputs."""

    def _op(self, xs):
        y = xs[0]
        for x in xs[1:]:
            y = y * x
        return np.array(y, copy=True)

    def _grads(self, g, xs, y):
        out = []
        for i in range(len(xs)):
            d = g
            for j, x in enumerate(xs):
                if j != i:
                    d = d * x
            out.append(d)
        return out


@register
class Average(_ElementwiseMerge):
    """Element-wise mean of a list of inputs."""

    def _op(self, xs):
        y = xs[0]
        for x in xs[1:]:
            y = y + x
        return y * (1.0 / len(xs))

    def _grads(self, g, xs, y):
        return [g * (1.0 / len(xs))] * len(xs)


class _Extremum(_ElementwiseMerge):
    """The gradient goes to the first input holding the extreme value."""

    reduce = staticmethod(np.maximum)

    def _op(self, xs):
        y = xs[0]
        for x in xs[1:]:
            y = self.reduce(y, x)
        return np.array(y, copy=True)

    def _grads(self, g, xs, y):
        taken = np.zeros(g.shape, dtype=bool)
        out = []
        for x in xs:
            hit = (np.broadcast_to(x, g.shape) == y) & ~taken
            taken |= hit
            out.append(g * hit)
        return out


@register
class Maximum(_Extremum):
    """Element-wise maximum of a list of inputs."""

    reduce = staticmethod(np.maximum)


@register
class Minimum(_Extremum):
    """Element-wise minimum of a list of inputs."""

    reduce = staticmethod(np.minimum)


@register
class Concatenate(_Merge):
    """Concatenates a list of inputs along ``axis``; the other axes must agree."""

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"axis must be an integer, got {axis!r}")
        self.axis = int(axis)

    def _resolve_axis(self, rank: int, shapes: list[Any]) -> int:
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ValueError(
                f"{self.name}: axis {self.axis} is not a non-batch axis of inputs of rank {rank} "
                f"(shapes {shapes})")
        return self.axis % rank

    def compute_output_shape(self, input_shape: Any) -> Any:
        shapes = [tuple(s) for s in _as_list(input_shape, self.name)]
        ranks = {len(s) for s in shapes}
        if len(ranks) != 1:
            raise ValueError(
                f"{self.name} expects inputs of the same rank, got shapes {shapes}")
        rank = ranks.pop()
        axis = self._resolve_axis(rank, shapes)
        out: list[Any] = []
        for k in range(rank):
            sizes = [s[k] for s in shapes]
            if k == axis:
                out.append(None if None in sizes else int(sum(sizes)))
                continue
            known = {v for v in sizes if v is not None}
            if len(known) > 1:
                raise ValueError(
                    f"{self.name} expects shapes that match except on the concatenation axis "
                    f"{self.axis}; got shapes {shapes} (axis {k} differs)")
            out.append(known.pop() if known else None)
        return tuple(out)

    def forward(self, inputs: Any, training: bool = False, mask: Any = None) -> tuple[Any, Any]:
        xs = self._arrays(inputs)
        shapes = [x.shape for x in xs]
        self.compute_output_shape(shapes)
        axis = self._resolve_axis(xs[0].ndim, shapes)
        y = np.concatenate(xs, axis=axis)
        return y, (axis, [s[axis] for s in shapes])

    def backward(self, d_outputs: Any, cache: Any) -> Any:
        axis, sizes = cache
        g = np.asarray(d_outputs, dtype=self.dtype)
        cuts = np.cumsum(sizes)[:-1]
        return [np.ascontiguousarray(p) for p in np.split(g, cuts, axis=axis)]

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        if mask is None:
            return None
        if not isinstance(mask, (list, tuple)):
            return mask if inputs is None else None  # symbolic: "some input has a mask"
        if all(m is None for m in mask):
            return None
        xs = [np.asarray(x) for x in _as_list(inputs, self.name)]
        if len(mask) != len(xs):
            raise ValueError(f"{self.name}: expected {len(xs)} masks, got {len(mask)}")
        full = []
        for x, m in zip(xs, mask, strict=True):
            if m is None:
                full.append(np.ones(x.shape, dtype=bool))
                continue
            m = np.asarray(m, dtype=bool)
            if m.ndim < x.ndim:
                m = np.broadcast_to(m[..., None], x.shape)
            full.append(m)
        axis = self._resolve_axis(xs[0].ndim, [x.shape for x in xs])
        return np.concatenate(full, axis=axis).any(axis=-1)
