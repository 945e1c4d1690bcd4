"""Regularizers and constraints attached to layers (Keras's ``kernel_regularizer=`` ...).

A layer that has Keras-named weights lists them in ``weight_roles`` (``Dense``: ``("kernel",
"bias")``; ``SimpleRNN``/``LSTM``/``GRU``: ``("kernel", "recurrent_kernel", "bias")``), in the
order of ``get_weights()``. It then accepts ``<role>_regularizer`` and ``<role>_constraint``
(Keras's names: ``kernel_regularizer``, ``recurrent_regularizer``, ``bias_constraint`` ...; only
the first cell of a stacked ``RNN([cells])``); every layer accepts ``activity_regularizer`` (a
penalty on each output, divided by its batch size as Keras 3 does).

Weights are stored in PyTorch's layout; regularizers and constraints act on Keras's layout (a
constraint's ``axis`` means what it means in Keras). ``keras_index(layer)`` maps every Keras
weight element to its place in the layer's flat parameters, so penalties, their gradients and
the projections move between the two layouts exactly, for any layer whose ``get_weights`` is a
rearrangement of its parameters.

A Keras-style custom layer or cell gives them per weight instead:
``add_weight(..., regularizer=..., constraint=...)`` records them in the module's
``_weight_rules`` (``weight_rules`` finds them on the layer and on its cells); such weights are
in the user's own layout, so they act on the parameter arrays directly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import constraints as constraints_mod
from . import regularizers as regularizers_mod


def arg_name(role: str, kind: str) -> str:
    """``("recurrent_kernel", "regularizer") -> "recurrent_regularizer"`` (Keras's names)."""
    return f"{'recurrent' if role == 'recurrent_kernel' else role}_{kind}"


def accepted_args(layer_cls: type) -> tuple[str, ...]:
    roles = getattr(layer_cls, "weight_roles", ())
    return ("activity_regularizer",) + tuple(
        arg_name(r, k) for r in roles for k in ("regularizer", "constraint"))


def setup(layer: Any, kwargs: dict[str, Any]) -> None:
    """Resolve the regularizer/constraint arguments of ``kwargs`` onto ``layer``."""
    roles = getattr(layer, "weight_roles", ())
    layer.regularizers = {r: regularizers_mod.get(kwargs.get(arg_name(r, "regularizer")))
                          for r in roles}
    layer.constraints = {r: constraints_mod.get(kwargs.get(arg_name(r, "constraint")))
                         for r in roles}
    layer.activity_regularizer = regularizers_mod.get(kwargs.get("activity_regularizer"))


def _flat_params(layer: Any) -> list[tuple[Any, str]]:
    out: list[tuple[Any, str]] = []
    todo = [layer]  # depth first, in order (a stack: see weight_rules)
    while todo:
        m = todo.pop()
        out.extend((m, name) for name in m.params)
        todo.extend(reversed(list(m.children().values())))
    return out


def keras_index(layer: Any) -> list[np.ndarray]:
    """For each ``get_weights()`` array, the index of each element in the concatenation of the
    layer's flattened parameters (in ``_flat_params`` order)."""
    entries = _flat_params(layer)
    key = tuple(m.params[n].shape for m, n in entries)
    cached = layer.__dict__.get("_keras_index")
    if cached is not None and cached[0] == key:
        return cached[1]
    saved = [m.params[n] for m, n in entries]
    offset = 0
    try:
        for (m, n), arr in zip(entries, saved):
            m.params[n] = np.arange(offset, offset + arr.size, dtype=np.float64).reshape(arr.shape)
            offset += arr.size
        index = [np.rint(w).astype(np.int64) for w in layer.get_weights()]
    finally:
        for (m, n), arr in zip(entries, saved):
            m.params[n] = arr
    layer.__dict__["_keras_index"] = (key, index)
    return index


def _role_weights(layer: Any) -> list[tuple[str, np.ndarray]]:
    roles = getattr(layer, "weight_roles", ())
    if not roles or not getattr(layer, "built", False):
        return []
    return list(zip(roles, keras_index(layer)))


def _flat_values(layer: Any) -> np.ndarray:
    return np.concatenate([m.params[n].ravel() for m, n in _flat_params(layer)])


def weight_rules(layer: Any) -> list[tuple[Any, str, Any, Any]]:
    """``(module, param name, regularizer or None, constraint or None)`` of every weight made
    with ``add_weight(regularizer=..., constraint=...)`` in ``layer`` and its cells (not in
    wrapped layers: ``with_sublayers`` lists those)."""
    from .layers.base import Layer

    out: list[tuple[Any, str, Any, Any]] = []
    todo = [layer]  # a stack, not a recursive closure: that would be a reference cycle
    while todo:     # per training step, garbage for the collector
        m = todo.pop()
        for key, (reg, con) in m.__dict__.get("_weight_rules", {}).items():
            if key in m.params:
                out.append((m, key, reg, con))
        todo.extend(reversed([c for c in m.children().values() if not isinstance(c, Layer)]))
    return out


def weight_penalties(layer: Any) -> list[float]:
    own = [float(reg(m.params[k])) for m, k, reg, _ in weight_rules(layer) if reg is not None]
    regs = getattr(layer, "regularizers", {})
    if not any(regs.values()):
        return own
    flat = _flat_values(layer)
    return [regs[r](flat[idx]) for r, idx in _role_weights(layer) if regs.get(r)] + own


def layer_penalties(layer: Any) -> list[float]:
    """The layer's weight penalties, then its activity penalty of the last forward pass."""
    activity = layer.__dict__.get("_activity_penalty")
    return weight_penalties(layer) + ([activity] if activity is not None else [])


def add_penalty_grads(layer: Any) -> None:
    """Add the gradient of every weight penalty into the layer's parameter gradients."""
    for m, k, reg, _ in weight_rules(layer):
        if reg is not None:
            m.grads[k] += reg.gradient(m.params[k])
    regs = getattr(layer, "regularizers", {})
    if not any(regs.values()):
        return
    entries = _flat_params(layer)
    flat = _flat_values(layer)
    g = np.zeros_like(flat)
    for r, idx in _role_weights(layer):
        if regs.get(r):
            g[idx.ravel()] += regs[r].gradient(flat[idx]).ravel()
    offset = 0
    for m, n in entries:
        size = m.params[n].size
        m.grads[n] += g[offset:offset + size].reshape(m.params[n].shape)
        offset += size


def apply_constraints(layer: Any) -> None:
    """Project the constrained weights (after an optimizer step), in Keras's layout."""
    for m, k, _, con in weight_rules(layer):
        if con is not None:
            m.params[k][...] = con(m.params[k])
    cons = getattr(layer, "constraints", {})
    if not any(cons.values()):
        return
    entries = _flat_params(layer)
    flat = _flat_values(layer)
    for r, idx in _role_weights(layer):
        if cons.get(r):
            flat[idx.ravel()] = cons[r](flat[idx]).ravel()
    offset = 0
    for m, n in entries:
        size = m.params[n].size
        m.params[n][...] = flat[offset:offset + size].reshape(m.params[n].shape)
        offset += size


def activity_penalty(layer: Any, outputs: Any) -> float | None:
    """The activity penalty of one call, plus what ``add_loss`` added during it (tape layers)."""
    added = layer.__dict__.get("_added_loss")
    reg = getattr(layer, "activity_regularizer", None)
    if reg is None:
        return added
    outs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return float(sum(reg(o) / _batch(o) for o in outs if o is not None)) + (added or 0.0)


def _batch(output: np.ndarray) -> int:
    """Keras 3 divides each output's activity penalty by its batch size (axis 0)."""
    return int(np.shape(output)[0]) if np.ndim(output) > 0 and np.shape(output)[0] else 1


def activity_grads(layer: Any, outputs: Any, d_outputs: Any) -> Any:
    """``d_outputs`` plus the activity penalty's gradient (same structure as ``outputs``)."""
    reg = getattr(layer, "activity_regularizer", None)
    if reg is None:
        return d_outputs
    if isinstance(outputs, (list, tuple)):
        ds = d_outputs if isinstance(d_outputs, (list, tuple)) else [None] * len(outputs)
        return [activity_grads(layer, o, d) for o, d in zip(outputs, ds)]
    g = reg.gradient(outputs) / _batch(outputs)
    return g if d_outputs is None else d_outputs + g


def with_sublayers(layers: list[Any]) -> list[Any]:
    """``layers`` and the layers they wrap (Bidirectional's pair, TimeDistributed's layer),
    whose weight regularizers and constraints count too."""
    from .layers.base import Layer

    out: list[Any] = []
    todo = list(reversed(layers))  # depth first, in order (a stack: see weight_rules)
    while todo:
        layer = todo.pop()
        out.append(layer)
        todo.extend(reversed([c for c in layer.children().values() if isinstance(c, Layer)]))
    return out
