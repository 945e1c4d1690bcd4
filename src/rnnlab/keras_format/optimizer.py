"""Optimizer state and compile configuration in Keras 3's form.

Keras keeps an optimizer's variables as ``optimizer/vars/0, 1, ...``: ``iteration``, then
``learning_rate`` (a constant rate only), then the slots of every trainable variable of the
model, in ``model.trainable_variables`` order, one block per ``add_optimizer_variables`` call
(Adam: momentum and velocity interleaved per variable, then velocity_hat with amsgrad; SGD:
momentum; RMSprop: velocity, then momentum, then average_gradient; Adagrad: accumulator).
Slots are elementwise, so they convert between Keras's layout and rnnlab's parameters through
the layers' own ``get_weights``/``set_weights``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..saving import ModelFileError, _compile_from_spec
from .config import is_object, keras_object, to_keras_object

# rnnlab slot name -> Keras's, per optimizer class, in Keras's block order
_BLOCKS: dict[str, list[tuple[str, ...]]] = {
    "Adam": [("m", "v"), ("v_hat",)], "AdamW": [("m", "v"), ("v_hat",)],
    "SGD": [("momentum",)], "RMSprop": [("velocity",), ("momentum",), ("average_gradient",)],
    "Adagrad": [("accumulator",)],
}


def blocks(optimizer: Any) -> list[tuple[str, ...]]:
    name = type(optimizer).__name__
    if name not in _BLOCKS:
        raise ModelFileError(f"the optimizer {name} has no Keras state layout")
    used = set(optimizer._slot_specs())
    return [b for b in _BLOCKS[name] if all(s in used for s in b)]


def _trainable(model: Any) -> list[tuple[Any, list[str], int]]:
    """``[(layer, model-level parameter names, number of trainable Keras weights)]``."""
    names = [n for n, _ in model.named_params()]
    out, k = [], 0
    for layer in model.layers:
        n_params = len(list(layer.named_params()))
        own = names[k:k + n_params]
        k += n_params
        if n_params and layer.trainable:
            n_keras = len(layer.get_weights()) - len(list(layer.named_buffers()))
            out.append((layer, own, n_keras))
    return out


def _params_to_keras(layer: Any, values: list[np.ndarray], n_keras: int) -> list[np.ndarray]:
    params = [p for _, p in layer.named_params()]
    saved = [p.copy() for p in params]
    try:
        for p, v in zip(params, values):
            p[...] = v
        return [w.copy() for w in layer.get_weights()[:n_keras]]
    finally:
        for p, s in zip(params, saved):
            p[...] = s


def _keras_to_params(layer: Any, values: list[np.ndarray], n_keras: int) -> list[np.ndarray]:
    saved = [np.array(w, copy=True) for w in layer.get_weights()]  # may be views
    try:
        layer.set_weights(list(values) + saved[n_keras:])
        return [p.copy() for _, p in layer.named_params()]
    finally:
        layer.set_weights(saved)


def keras_variables(model: Any) -> list[np.ndarray]:
    """The optimizer's state as Keras's ordered variable list."""
    opt = model.optimizer
    state = opt.state_dict()
    specs = opt._slot_specs()
    out: list[np.ndarray] = [np.array(int(opt.iterations), dtype=np.int64)]
    if opt.schedule is None:
        out.append(np.array(opt.learning_rate, dtype=np.float32))
    per_layer = []
    for layer, names, n_keras in _trainable(model):
        params = dict(zip(names, (p for _, p in layer.named_params())))
        conv = {}
        for slot in specs:
            vals = [state.get(f"{slot}/{n}", np.full(p.shape, specs[slot], p.dtype))
                    for n, p in params.items()]
            conv[slot] = _params_to_keras(layer, vals, n_keras)
        per_layer.append((n_keras, conv))
    for block in blocks(opt):
        for n_keras, conv in per_layer:
            for i in range(n_keras):
                for slot in block:
                    out.append(conv[slot][i])
    return out


def load_keras_variables(model: Any, grp: Any, what: str) -> None:
    """Restore the optimizer from a Keras ``optimizer/vars`` group (checked, then read)."""
    from . import h5

    opt = model.optimizer
    layers = _trainable(model)
    shapes = [[tuple(w.shape) for w in layer.get_weights()[:n]] for layer, _, n in layers]
    present = h5.keys(grp, what)
    slot_blocks = blocks(opt)
    n_slots = sum(len(b) for b in slot_blocks) * sum(len(s) for s in shapes)
    head = 1 + (opt.schedule is None)
    if len(present) == head and n_slots:
        pass  # saved before the first step: no slots yet
    elif sorted(present) != sorted(str(i) for i in range(head + n_slots)):
        raise ModelFileError(f"{what}: the optimizer state holds {len(present)} variables; "
                             f"{type(opt).__name__} on this model has {head + n_slots}")
    iteration = h5.read(grp, "0", (), what, kinds="iu")
    lr = h5.read(grp, "1", (), what) if head == 2 else None
    state: dict[str, Any] = {"iterations": np.array(int(iteration))}
    if lr is not None and np.float32(lr) != np.float32(opt.learning_rate):
        # Keras keeps the rate as float32; the compile config's value (full precision, the
        # same rate in float32) is kept unless the rate was changed during training
        state["learning_rate"] = np.array(float(lr))
    if len(present) > head:
        k = head
        keras_vals: dict[str, list[list[np.ndarray]]] = {
            s: [[] for _ in layers] for b in slot_blocks for s in b}
        for block in slot_blocks:
            for j, layer_shapes in enumerate(shapes):
                for shape in layer_shapes:
                    for slot in block:
                        keras_vals[slot][j].append(h5.read(grp, str(k), shape, what))
                        k += 1
        for j, (layer, names, n_keras) in enumerate(layers):
            for slot, per_layer in keras_vals.items():
                vals = _keras_to_params(layer, [v.astype(w.dtype, copy=False) for v, w in zip(
                    per_layer[j], layer.get_weights())], n_keras)
                for name, v in zip(names, vals):
                    state[f"{slot}/{name}"] = v
    try:
        opt.load_state_dict(state)
    except ValueError as exc:
        raise ModelFileError(f"{what}: the optimizer state does not fit: {exc}") from exc


# -- compile configuration -------------------------------------------------------------------------

def _norm(value: Any, where: str) -> Any:
    if is_object(value):
        return keras_object(value, where)
    if isinstance(value, list):
        return [_norm(v, where) for v in value]
    if isinstance(value, dict):
        return {k: _norm(v, where) for k, v in value.items()}
    return value


def compile_from_keras(model: Any, cfg: dict[str, Any], where: str) -> None:
    """``model.compile(...)`` from a Keras ``compile_config`` (or legacy ``training_config``)."""
    opt = cfg.get("optimizer", cfg.get("optimizer_config"))
    if isinstance(opt, dict) and "module" not in opt and "class_name" in opt:
        opt = {"module": "keras.optimizers", **opt}
    spec = {"optimizer": _norm(opt, f"{where} optimizer") if not isinstance(opt, str) else opt,
            "loss": _norm(cfg.get("loss"), f"{where} loss"),
            "metrics": _norm(cfg.get("metrics"), f"{where} metrics"),
            "loss_weights": cfg.get("loss_weights")}
    weighted = _norm(cfg.get("weighted_metrics"), f"{where} weighted_metrics")
    try:
        args = _compile_from_spec(spec)
        if weighted:
            args["weighted_metrics"] = weighted
        model.compile(**args)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{where}: the compile configuration cannot be restored: "
                             f"{exc}") from exc


def compile_to_keras(model: Any) -> dict[str, Any] | None:
    if not getattr(model, "compiled", False):
        return None
    cfg = model.compile_config()
    opt = to_keras_object(cfg["optimizer"], "keras.optimizers")
    lr = opt["config"].get("learning_rate")
    if isinstance(lr, dict) and "module" in lr:
        lr["module"] = "keras.optimizers.schedules"
    return {"optimizer": opt, "loss": to_keras_object(cfg["loss"], "keras.losses"),
            "loss_weights": cfg.get("loss_weights"),
            "metrics": to_keras_object(cfg.get("metrics"), "keras.metrics"),
            "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1,
            "jit_compile": False}
