"""Keras-style custom layers whose gradients come from the ``rnnlab.ops`` tape.

A subclass of ``rnnlab.layers.Layer`` that defines ``call`` instead of ``forward``/``backward``
is a *tape layer*:

    class Linear(Layer):
        def __init__(self, units=32, **kwargs):
            super().__init__(**kwargs)
            self.units = units
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                     initializer="random_normal", name="kernel")
            self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")
        def call(self, inputs, training=None):
            return ops.matmul(inputs, self.w) + self.b

``forward`` wraps the inputs in ``Tensor``s, runs ``call`` (the weights are ``Variable``s, tensors
that read the layer's parameter arrays), and keeps the recorded ``Tape`` as the cache;
``backward`` replays the tape in reverse, adds the weight gradients into ``self.grads`` and returns
the input gradients. ``add_loss(value)`` inside ``call`` adds ``value`` to the training loss (its
gradient flows through the tape). ``compute_output_shape`` is inferred by running ``call`` on
zeros unless the subclass defines it. ``Lambda`` wraps a function the same way.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import initializers
from .._registry import register
from ..ops.tensor import Tape, Tensor
from .base import Layer


class Variable(Tensor):
    """A layer weight as a tape leaf: its value is always the layer's current array (updated in
    place by optimizers and ``set_weights``)."""

    def __init__(self, owner: Any, key: str, trainable: bool) -> None:  # noqa: D107
        self.owner = owner
        self.key = key
        self.parents = ()
        self.vjp = None
        self.requires_grad = trainable
        self.trainable = trainable
        self.name = key

    @property
    def value(self) -> np.ndarray:  # type: ignore[override]
        store = self.owner.params if self.trainable else self.owner.buffers
        return store[self.key]

    def assign(self, value: Any) -> None:
        self.value[...] = np.asarray(value)


def add_weight(layer: Any, shape: Any = None, initializer: Any = None, dtype: Any = None,
               trainable: bool = True, name: str | None = None, regularizer: Any = None,
               constraint: Any = None, **kwargs: Any) -> Variable:
    """Keras's ``add_weight``; a ``regularizer`` adds its penalty of the weight to
    ``model.losses`` and the training loss, a ``constraint`` projects the weight after every
    optimizer step (``rnnlab.regularization.weight_rules``)."""
    from .. import constraints, regularizers

    unsupported = sorted(k for k, v in kwargs.items()
                         if v is not None and k not in ("autocast", "aggregation"))
    if unsupported:
        raise TypeError(f"{layer.name}.add_weight: unsupported argument(s) {unsupported}")
    shape = tuple(int(s) for s in (shape or ()))
    dtype = dtype or layer.dtype
    if initializer is None:
        initializer = "glorot_uniform" if len(shape) >= 2 else "zeros"
    rng = layer.__dict__.get("_weight_rng")
    if rng is None:
        rng = layer.__dict__["_weight_rng"] = layer.layer_rng(0)
    value = np.ascontiguousarray(initializers.get(initializer)(shape, rng, dtype), dtype=dtype)
    variables: dict[str, Variable] = layer.__dict__.setdefault("_variables", {})
    key = name or f"variable_{len(variables)}"
    if key in variables:
        key = f"{key}_{len(variables)}"
    if trainable:
        layer.add_param(key, value)
    else:
        layer.buffers[key] = value
    var = Variable(layer, key, trainable)
    variables[key] = var
    reg, con = regularizers.get(regularizer), constraints.get(constraint)
    if trainable and (reg is not None or con is not None):
        layer.__dict__.setdefault("_weight_rules", {})[key] = (reg, con)
    return var


def defines_call(layer: Any) -> bool:
    return callable(getattr(type(layer), "call", None))


def _wrap(inputs: Any) -> Any:
    if isinstance(inputs, (list, tuple)):
        return [_wrap(v) for v in inputs]
    return Tensor(np.asarray(inputs), requires_grad=True)


def _flatten(x: Any) -> list[Any]:
    if isinstance(x, (list, tuple)):
        return [leaf for v in x for leaf in _flatten(v)]
    return [x]


def _rebuild(template: Any, flat: list[Any]) -> Any:
    it = iter(flat)

    def go(t: Any) -> Any:
        if isinstance(t, (list, tuple)):
            return [go(v) for v in t]
        return next(it)
    return go(template)


def _call_kwargs(fn: Callable[..., Any], training: bool, mask: Any) -> dict[str, Any]:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return {}
    kw: dict[str, Any] = {}
    if "training" in params:
        kw["training"] = training
    if "mask" in params and mask is not None:
        kw["mask"] = mask
    return kw


def traced_call(layer: Any, fn: Callable[..., Any], inputs: Any, training: bool, mask: Any,
                extra: dict[str, Any] | None = None) -> tuple[Any, Any]:
    """Run ``fn`` on tensors wrapping ``inputs``; returns (array outputs, cache)."""
    xs = _wrap(inputs)
    layer.__dict__["_call_losses"] = []
    out = fn(xs, **_call_kwargs(fn, training, mask), **(extra or {}))
    flat = [o if isinstance(o, Tensor) else Tensor(np.asarray(o)) for o in _flatten(out)]
    losses = [v if isinstance(v, Tensor) else Tensor(np.asarray(v))
              for v in layer.__dict__.pop("_call_losses")]
    layer.__dict__["_added_loss"] = (float(sum(float(np.sum(v.value)) for v in losses))
                                     if losses else None)
    tape = Tape.record(flat + losses)
    values = _rebuild(out, [np.array(o.value) for o in flat])
    return values, (tape, xs, len(flat), len(losses))


def traced_backward(layer: Any, d_outputs: Any, cache: Any) -> Any:
    tape, xs, n_out, n_losses = cache
    seeds = _flatten(d_outputs) if n_out > 1 else [d_outputs]
    seeds += [np.ones(t.shape) for t in tape.outputs[n_out:n_out + n_losses]]
    grads = tape.backward(seeds)
    for key, var in layer.__dict__.get("_variables", {}).items():
        if var.trainable and var in grads:
            layer.grads[key] += grads[var]
    return _rebuild(xs, [grads[x] for x in _flatten(xs)])


def infer_output_shape(layer: Any, fn: Callable[..., Any], input_shape: Any) -> Any:
    """The output shape of ``fn`` found by running it on zeros (batch dimension kept None)."""
    def zeros(shape: Any) -> Any:
        if isinstance(shape, list):
            return [zeros(s) for s in shape]
        return np.zeros(tuple(2 if d is None else d for d in shape), dtype=layer.dtype)
    first = input_shape[0] if isinstance(input_shape, list) else input_shape
    batch_none = bool(first) and first[0] is None
    layer.__dict__["_call_losses"] = []
    out = fn(_wrap(zeros(input_shape)), **_call_kwargs(fn, False, None))
    layer.__dict__.pop("_call_losses", None)

    def shape_of(o: Any) -> Any:
        if isinstance(o, (list, tuple)):
            return [shape_of(v) for v in o]
        s = tuple(np.shape(o))
        return (None, *s[1:]) if batch_none and s else s
    return shape_of(out)


@register
class Lambda(Layer):
    """Wrap a function of tensors as a layer: ``Lambda(lambda x: ops.tanh(x) * 2)``. Gradients come
    from the tape; the output shape is inferred by running the function on zeros unless
    ``output_shape`` (a tuple without the batch dimension, or a function of the input shape)
    is given. ``arguments`` are extra keyword arguments passed to the function.

    The config holds the function as Keras writes it (``rnnlab.safe_mode``): a named function by
    its registered name, a Python ``lambda`` as bytecode, which ``from_config`` (and so
    ``load_model``) rebuilds only outside safe mode (``safe_mode=False``)."""

    def __init__(self, function: Callable[..., Any], output_shape: Any = None, mask: Any = None,
                 arguments: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda expects a callable, got {type(function).__name__}")
        self.function = function
        self.output_shape_arg = output_shape
        self.arguments = dict(arguments or {})
        self.mask_arg = mask

    def call(self, inputs: Any, training: Any = None, mask: Any = None) -> Any:
        kw = dict(self.arguments)
        params = _call_kwargs(self.function, bool(training), mask)
        return self.function(inputs, **params, **kw)

    def get_config(self) -> dict[str, Any]:
        from .._registry import serialize
        from ..safe_mode import serialize_function

        what = f"{self.name} (Lambda)"
        config: dict[str, Any] = {"name": self.name, "dtype": self.dtype,
                                  "trainable": self.trainable,
                                  "function": serialize_function(self.function, what)}
        spec = self.output_shape_arg
        if spec is not None:
            config["output_shape"] = (serialize_function(spec, what) if callable(spec)
                                      else list(spec))
        if self.mask_arg is not None:
            if not callable(self.mask_arg):
                raise TypeError(f"{what}: only a function can be saved as mask")
            config["mask"] = serialize_function(self.mask_arg, what)
        config["arguments"] = serialize(self.arguments)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Lambda:
        """Rebuild from ``get_config``'s dict (or a Keras file's); a ``lambda`` only outside
        safe mode (``rnnlab.safe_mode``)."""
        from .._registry import deserialize
        from ..safe_mode import deserialize_function, is_function_spec

        config = dict(config)
        where = f"Lambda {config.get('name')!r}"
        for key in ("function", "output_shape", "mask"):
            value = config.get(key)
            if is_function_spec(value):
                config[key] = deserialize_function(value, f"{where} {key}")
            elif key == "output_shape" and isinstance(value, list):
                config[key] = tuple(value)
        config["arguments"] = deserialize(config.get("arguments") or {})
        return cls(**config)

    def compute_output_shape(self, input_shape: Any) -> Any:
        spec = self.output_shape_arg
        if spec is None:
            return infer_output_shape(self, self.call, input_shape)
        if callable(spec):
            return spec(input_shape)
        first = input_shape[0] if isinstance(input_shape, list) else input_shape
        return (first[0], *tuple(spec))
