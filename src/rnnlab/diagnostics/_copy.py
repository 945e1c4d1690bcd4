"""A float64 working copy of a model, and a record of every recurrent layer call in it.

Diagnostics never run the user's model itself: ``float64_copy`` deep-copies it (without its
optimizer and history) and casts every parameter, gradient, buffer and kept state to float64,
so nothing the model owns changes, no seed or random-draw counter moves and the numbers are
float64 whatever the model's dtype. ``record_calls`` wraps the ``forward``/``backward`` of each
recurrent layer of the copy (``rnnlab.layers.RNN``, also inside ``Bidirectional`` and other
wrappers) to keep what a call received (its input, mask and initial states) and, from its
backward pass (``RNN.backward_with_state_grads``), the per-step state gradients its own sweeps
computed.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import kernels
from ..layers.recurrent import RNN
from ..module import Module

F64 = "float64"


def float64_copy(model: Any, full_bptt: bool = False) -> Any:
    """A deep copy of ``model`` computing in float64 (``full_bptt``: every recurrent layer's
    ``truncate_gradient`` set to -1)."""
    memo: dict[int, Any] = {id(model.optimizer): None, id(getattr(model, "history", None)): None}
    clone = copy.deepcopy(model, memo)
    for _, module in modules(clone):
        for table in (module.params, module.grads, module.buffers):
            for key, value in table.items():
                if np.asarray(value).dtype.kind == "f":
                    table[key] = np.asarray(value, dtype=np.float64)
        if isinstance(getattr(module, "dtype", None), str):
            module.dtype = F64  # type: ignore[attr-defined]
        if isinstance(module, RNN):
            if module.states is not None:
                module.states = [np.asarray(s, dtype=np.float64) for s in module.states]
            if full_bptt:
                module.truncate_gradient = -1
    if getattr(clone, "_input_dtype", None) in ("float32", "float16"):
        clone._input_dtype = F64
    for t in getattr(clone, "_inputs", []):
        if np.dtype(t.dtype).kind == "f":
            t.dtype = F64
    return clone


def modules(model: Any) -> Iterator[tuple[str, Module]]:
    """Every module of the model's layers, depth first, as ``(path, module)``: a layer's path
    is its name, a child's ``<parent path>/<child name>`` (``bidirectional/forward_layer``)."""
    for layer in model.layers:
        yield from _walk(layer.name, layer)


def _walk(path: str, module: Module) -> Iterator[tuple[str, Module]]:
    yield path, module
    for name, child in module.children().items():
        yield from _walk(f"{path}/{name}", child)


def recurrent_layers(model: Any) -> list[tuple[str, RNN]]:
    """The recurrent layers of the model (wrapped ones included) as ``(path, layer)``."""
    return [(p, m) for p, m in modules(model) if isinstance(m, RNN)]


def state_grads_engine(model: Any) -> contextlib.AbstractContextManager[Any]:
    """Where to run the copy so that every recurrent layer's backward hands back its state
    gradients: the engine in use, or the reference when a layer would run on a compiled sweep
    that cannot (``CompiledSweep.state_grads = 0``, e.g. a user's sweep)."""
    for _, layer in recurrent_layers(model):
        engine, sweeps, _ = kernels.choose(layer.cells)
        if engine == "compiled" and any(s.state_grads < 1 for s in sweeps):
            return kernels.use_engine("reference")
    return contextlib.nullcontext()


@dataclass
class Call:
    """One call of a recurrent layer: its input ``x (N, T, D)`` (float64), mask ``(N, T)`` or
    None, flat initial states (zeros when none were given), its forward cache and, once its
    backward ran, its per-step state gradients (``RNN.backward_with_state_grads``)."""

    x: np.ndarray
    mask: np.ndarray | None
    initial: list[np.ndarray]
    cache: Any = None
    state_grads: list[tuple[np.ndarray, ...]] | None = None


@dataclass
class Recorder:
    calls: dict[str, list[Call]] = field(default_factory=dict)
    _by_cache: dict[int, Call] = field(default_factory=dict)


def record_calls(model: Any) -> Recorder:
    """Wrap every recurrent layer of ``model`` (a copy: the wrappers stay on its instances)."""
    rec = Recorder()
    for path, layer in recurrent_layers(model):
        rec.calls[path] = []
        _wrap(layer, rec, rec.calls[path])
    return rec


def release(model: Any, rec: Recorder) -> None:
    """Undo ``record_calls``: the wrappers (closures over their layer) and the recorded caches
    go, so the copy holds no reference cycle of ours and is freed as soon as it is dropped."""
    for _, layer in recurrent_layers(model):
        for name in ("forward", "backward", "backward_params"):
            layer.__dict__.pop(name, None)
    rec._by_cache.clear()
    for calls in rec.calls.values():
        for call in calls:
            call.cache = None


def _wrap(layer: RNN, rec: Recorder, calls: list[Call]) -> None:
    forward = layer.forward

    def recording_forward(inputs: Any, training: bool = False, mask: Any = None,
                          initial_state: Any = None) -> tuple[Any, Any]:
        kept = None if layer.states is None else [s.copy() for s in layer.states]
        out, cache = forward(inputs, training=training, mask=mask, initial_state=initial_state)
        if isinstance(inputs, (list, tuple)):
            inputs, initial_state = inputs[0], list(inputs[1:])
        x = layer.validate_x(inputs)
        N = x.shape[0]
        if initial_state is not None:
            states = initial_state if isinstance(initial_state, (list, tuple)) else [
                initial_state]
            initial = [np.asarray(s, dtype=np.float64) for s in states]
        elif layer.stateful and kept is not None:
            initial = kept
        else:
            initial = [np.zeros((N, s)) for s in layer.state_sizes]
        call = Call(x, None if mask is None else np.asarray(mask, dtype=bool), initial, cache)
        calls.append(call)
        rec._by_cache[id(cache)] = call
        return out, cache

    def recording_backward(d_outputs: Any, cache: Any) -> Any:
        d_inputs, rec._by_cache[id(cache)].state_grads = layer.backward_with_state_grads(
            d_outputs, cache)
        return d_inputs

    def recording_backward_params(d_outputs: Any, cache: Any) -> None:
        _, rec._by_cache[id(cache)].state_grads = layer.backward_with_state_grads(
            d_outputs, cache, need_dx=False)

    layer.forward = recording_forward  # type: ignore[method-assign]
    layer.backward = recording_backward  # type: ignore[method-assign]
    layer.backward_params = recording_backward_params  # type: ignore[method-assign]
