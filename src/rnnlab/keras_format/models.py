"""Keras 3 model configs (``Sequential``, functional ``Functional``/``Model``) <-> rnnlab models.

``model_from_keras(config)`` builds an rnnlab model from the ``config.json`` of a ``.keras``
archive (or a legacy HDF5 file's ``model_config``) and returns it with ``keras_layer_names``:
the Keras class-name paths (``layers/lstm``, ``layers/lstm_1``, ...) of its layers, in the
order the Keras weights file uses. ``model_to_keras(model)`` gives the Keras config and the same
list for writing.
"""

from __future__ import annotations

from typing import Any

from .._registry import deserialize, registered, serialize
from ..safe_mode import is_function_spec
from ..saving import ModelFileError
from .config import UnsupportedByKeras, is_object, keras_object, snake, to_keras_object

_TENSOR = "__keras_tensor__"


def _layer_paths(class_names: list[str]) -> list[str]:
    """Keras's weight-group names for a model's layer list: snake class name, then _1, _2..."""
    used: dict[str, int] = {}
    out = []
    for name in class_names:
        base = snake(name)
        if base in used:
            used[base] += 1
            out.append(f"{base}_{used[base]}")
        else:
            used[base] = 0
            out.append(base)
    return out


def model_from_keras(spec: Any, where: str) -> tuple[Any, list[tuple[Any, str]]]:
    """(rnnlab model, [(layer, weight-group path)] in Keras's layer order)."""
    if not is_object(spec) or not isinstance(spec.get("config"), dict):
        raise ModelFileError(f"{where}: the model config is not a Keras object")
    kind = spec["class_name"]
    cfg = spec["config"]
    layers = cfg.get("layers")
    if not isinstance(layers, list) or not all(isinstance(s, dict) for s in layers):
        raise ModelFileError(f"{where}: the model config has no list of layers")
    try:
        if kind == "Sequential":
            model = _sequential(cfg, layers, where)
        elif kind in ("Functional", "Model"):
            model = _functional(cfg, layers, where)
        else:
            raise ModelFileError(f"{where}: model class {kind!r} is not supported (Sequential "
                                 "and functional models are; a subclassed model is code)")
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise ModelFileError(f"{where}: the architecture cannot be rebuilt: "
                             f"{type(exc).__name__}: {exc}") from exc
    by_name = {layer.name: layer for layer in model.layers}
    paths = _layer_paths([s.get("class_name", "") for s in layers])
    pairs = [(by_name[s["config"]["name"]], path) for s, path in zip(layers, paths)
             if s.get("class_name") != "InputLayer"]
    return model, pairs


def _input(spec: dict[str, Any], where: str) -> tuple[tuple[Any, ...], str, str]:
    cfg = spec.get("config") or {}
    shape = cfg.get("batch_shape") or cfg.get("batch_input_shape")
    if not isinstance(shape, list):
        raise ModelFileError(f"{where}: InputLayer without a batch_shape")
    for key in ("sparse", "ragged", "optional"):
        if cfg.get(key):
            raise ModelFileError(f"{where}: InputLayer({key}=True) is not supported by rnnlab")
    dtype: Any = cfg.get("dtype")
    if is_object(dtype):
        dtype = (dtype["config"] or {}).get("name")
    return tuple(shape), str(dtype or "float32"), str(cfg.get("name", "input_layer"))


def _sequential(cfg: dict[str, Any], layers: list[dict[str, Any]], where: str) -> Any:
    from ..models import Sequential

    shape, dtype = None, None
    built = []
    for k, spec in enumerate(layers):
        if spec.get("class_name") == "InputLayer":
            if k != 0:
                raise ModelFileError(f"{where}: an InputLayer after the first layer")
            shape, dtype, _ = _input(spec, where)
            continue
        built.append(deserialize(keras_object(spec, f"{where} layer {k}")))
    if shape is None and isinstance(cfg.get("build_input_shape"), list):
        shape = tuple(cfg["build_input_shape"])
    model = Sequential(name=cfg.get("name"))
    if shape is not None:
        model._input_shape = shape
        model._input_dtype = dtype
    for layer in built:
        model.add(layer)
    if shape is not None and not model.built:
        model.build(shape)
    return model


def _history(value: Any, where: str) -> tuple[str, int, int]:
    if not (is_object(value) and value["class_name"] == _TENSOR):
        raise ModelFileError(f"{where}: expected a tensor argument, got {str(value)[:80]}")
    hist = (value.get("config") or {}).get("keras_history")
    if not (isinstance(hist, list) and len(hist) == 3 and isinstance(hist[0], str)):
        raise ModelFileError(f"{where}: a tensor without a keras_history")
    return hist[0], int(hist[1]), int(hist[2])


def _refs(value: Any) -> list[Any]:
    return [value] if not isinstance(value, list) or (value and isinstance(value[0], str)) \
        else value


def _functional(cfg: dict[str, Any], layers: list[dict[str, Any]], where: str) -> Any:
    from ..models import Input, Model

    tensors: dict[tuple[str, int], Any] = {}
    pending: list[tuple[Any, str, int, dict[str, Any]]] = []
    for spec in layers:
        name = spec.get("name") or (spec.get("config") or {}).get("name")
        if spec.get("class_name") == "InputLayer":
            shape, dtype, iname = _input(spec, where)
            tensors[(str(name), 0)] = [Input(batch_shape=shape, dtype=dtype, name=iname)]
            continue
        layer = deserialize(keras_object(spec, f"{where} layer {name!r}"))
        nodes = spec.get("inbound_nodes") or []
        if not isinstance(nodes, list):
            raise ModelFileError(f"{where}: inbound_nodes of {name!r} is not a list")
        for k, node in enumerate(nodes):
            pending.append((layer, str(name), k, node))

    def get(value: Any, what: str) -> Any:
        lname, n, t = _history(value, what)
        outs = tensors.get((lname, n))
        if outs is None:
            return None
        return outs[t]

    progress = True
    while pending and progress:
        progress = False
        for item in list(pending):
            layer, name, k, node = item
            what = f"{where} layer {name!r} call {k}"
            args, kwargs = node.get("args") or [], dict(node.get("kwargs") or {})
            if len(args) != 1:
                raise ModelFileError(f"{what}: {len(args)} positional arguments (rnnlab layers "
                                     "take one input or one list of inputs)")
            kwargs.pop("training", None)
            if kwargs.pop("mask", None) is not None:
                raise ModelFileError(f"{what}: an explicit mask argument is not supported")
            states = kwargs.pop("initial_state", None)
            if kwargs:
                raise ModelFileError(f"{what}: call arguments {sorted(kwargs)} are not "
                                     "supported")
            first = args[0]
            inputs = [get(v, what) for v in first] if isinstance(first, list) else \
                [get(first, what)]
            state_in = [get(v, what) for v in (states if isinstance(states, list) else
                                                [states])] if states is not None else []
            if any(t is None for t in inputs + state_in):
                continue
            if isinstance(first, list):
                out = layer(inputs)
            elif state_in:
                out = layer(inputs[0], initial_state=state_in)
            else:
                out = layer(inputs[0])
            tensors[(name, k)] = out if isinstance(out, list) else [out]
            pending.remove(item)
            progress = True
    if pending:
        raise ModelFileError(f"{where}: the graph is disconnected or cyclic at layer(s) "
                             f"{sorted({p[1] for p in pending})}")

    def ends(key: str) -> tuple[list[Any], bool]:
        refs = cfg.get(key)
        if not isinstance(refs, list) or not refs:
            raise ModelFileError(f"{where}: {key} missing")
        single = isinstance(refs[0], str)
        out = []
        for ref in _refs(refs):
            t = tensors.get((str(ref[0]), int(ref[1])))
            if t is None:
                raise ModelFileError(f"{where}: {key} names an unknown tensor {ref!r}")
            out.append(t[int(ref[2])])
        return out, single

    ins, single_in = ends("input_layers")
    outs, single_out = ends("output_layers")
    return Model(ins[0] if single_in else ins, outs[0] if single_out else outs,
                 name=cfg.get("name"))


# -- writing ---------------------------------------------------------------------------------------

_RNNLAB_ONLY_DEFAULTS = {"truncate_gradient": -1}
_DROP = ("input_shape", "input_dim", "batch_size", "input_length", "recurrent_bias")


def keras_only_problems(model: Any) -> list[str]:
    """The rnnlab-only options a model uses, as ``layer.option=value`` strings."""
    problems: list[str] = []

    def visit(layer: Any, label: str) -> None:
        for sub in ("forward_layer", "backward_layer", "layer"):
            inner = layer.__dict__.get(sub)
            if inner is not None and hasattr(inner, "get_config"):
                visit(inner, f"{label}.{sub}")
        tg = getattr(layer, "truncate_gradient", -1)
        if tg != -1:
            problems.append(f"{label}.truncate_gradient={tg}")
        for cell in getattr(layer, "cells", None) or []:
            if cell.use_bias and hasattr(cell, "default_recurrent_bias") and \
                    cell.recurrent_bias != cell.default_recurrent_bias():
                problems.append(f"{label}.recurrent_bias={cell.recurrent_bias}")
            try:
                registered(type(cell).__name__)
            except ValueError:
                problems.append(f"{label}: cell class {type(cell).__name__}")
        text = str(serialize(layer))
        if "TorchUniform" in text:
            problems.append(f"{label}: the TorchUniform initializer")

    for layer in model.layers:
        visit(layer, layer.name)
    return problems


def _module(key: str) -> str:
    """The Keras module of an object held under option ``key``."""
    for suffix in ("initializer", "regularizer", "constraint"):
        if key.endswith(suffix):
            return f"keras.{suffix}s"
    return "keras.layers"


def _layer_to_keras(spec: dict[str, Any]) -> dict[str, Any]:
    cfg = dict(spec["config"])
    for key in _DROP:
        if not (key == "input_dim" and spec["class_name"] == "Embedding"):
            cfg.pop(key, None)
    for key, default in _RNNLAB_ONLY_DEFAULTS.items():
        if cfg.get(key, default) == default:
            cfg.pop(key, None)
    if spec["class_name"] == "RNN":
        cfg.pop("seed", None)  # Keras's generic RNN has no seed (its cells have)
    if "cell" in cfg:
        cell = cfg["cell"]
        if isinstance(cell, list):
            cells = [_layer_to_keras(c) for c in cell]
            cfg["cell"] = {"module": "keras.layers", "class_name": "StackedRNNCells",
                           "config": {"cells": cells}, "registered_name": None}
        else:
            cfg["cell"] = _layer_to_keras(cell)
    for key in ("layer", "backward_layer"):
        if isinstance(cfg.get(key), dict) and "class_name" in cfg[key]:
            cfg[key] = _layer_to_keras(cfg[key])
    out = {k: v if isinstance(v, dict) and ("module" in v or is_function_spec(v))
           else to_keras_object(v, _module(k)) for k, v in cfg.items()}
    return {"module": "keras.layers", "class_name": spec["class_name"], "config": out,
            "registered_name": None}


def model_to_keras(model: Any) -> tuple[dict[str, Any], list[tuple[Any, str]]]:
    """(Keras model config, [(layer, weight-group path)]); raises UnsupportedByKeras."""
    problems = keras_only_problems(model)
    if problems:
        raise UnsupportedByKeras(
            "this model uses options the Keras format cannot hold: " + "; ".join(problems) +
            ". Save it in rnnlab's own format instead: model.save('model.rnnlab')")
    layers = [_layer_to_keras(serialize(layer)) for layer in model.layers]
    for spec, layer in zip(layers, model.layers):
        spec["config"]["name"] = layer.name
        spec["config"].setdefault("trainable", bool(layer.trainable))
    from ..models import Sequential

    if isinstance(model, Sequential):
        shape, dtype = model.input_spec()[0]
        head = [{"module": "keras.layers", "class_name": "InputLayer",
                 "config": {"batch_shape": list(shape), "dtype": dtype, "sparse": False,
                            "name": "input_layer"}, "registered_name": None}]
        config = {"module": "keras", "class_name": "Sequential",
                  "config": {"name": model.name, "trainable": True, "layers": head + layers,
                             "build_input_shape": list(shape)},
                  "registered_name": None, "build_config": {"input_shape": list(shape)}}
    else:
        config = _functional_to_keras(model, layers)
    paths = _layer_paths([type(layer).__name__ for layer in model.layers])
    return config, list(zip(model.layers, paths))


def _functional_to_keras(model: Any, layers: list[dict[str, Any]]) -> dict[str, Any]:
    calls: dict[int, int] = {}
    node_key: dict[int, tuple[str, int]] = {}
    inbound: dict[str, list[Any]] = {layer.name: [] for layer in model.layers}
    for t in model.inputs:
        node_key[id(t)] = (t.name, 0)

    def tensor(t: Any) -> dict[str, Any]:
        if t.node is None:
            name, k, i = t.name, 0, 0
        else:
            name, k = node_key[id(t.node)]
            i = t.index
        return {"class_name": _TENSOR, "config": {"shape": list(t.shape), "dtype": t.dtype,
                                                   "keras_history": [name, k, i]}}

    for node in model._nodes:
        layer = node.layer
        k = calls.get(id(layer), 0)
        calls[id(layer)] = k + 1
        node_key[id(node)] = (layer.name, k)
        entry: dict[str, Any]
        if node.structure == "list":
            entry = {"args": [[tensor(t) for t in node.inputs]], "kwargs": {}}
        elif node.structure == "rnn":
            entry = {"args": [tensor(node.inputs[0])],
                     "kwargs": {"initial_state": [tensor(t) for t in node.inputs[1:]]}}
        else:
            entry = {"args": [tensor(node.inputs[0])], "kwargs": {}}
        inbound[layer.name].append(entry)
    heads = [{"module": "keras.layers", "class_name": "InputLayer", "name": t.name,
              "config": {"batch_shape": list(t.shape), "dtype": t.dtype, "sparse": False,
                         "name": t.name}, "registered_name": None, "inbound_nodes": []}
             for t in model.inputs]
    for spec, layer in zip(layers, model.layers):
        spec["name"] = layer.name
        spec["inbound_nodes"] = inbound[layer.name]

    def ref(t: Any) -> list[Any]:
        if t.node is None:
            return [t.name, 0, 0]
        name, k = node_key[id(t.node)]
        return [name, k, t.index]

    ins = [ref(t) for t in model.inputs]
    outs = [ref(t) for t in model.outputs]
    single_out = bool(getattr(model, "_single_output", False))
    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "config": {"name": model.name, "trainable": True, "layers": heads + layers,
                       "input_layers": ins if len(ins) > 1 else ins[0],
                       "output_layers": outs[0] if single_out else outs},
            "registered_name": "Functional"}


__all__ = ["UnsupportedByKeras", "keras_only_problems", "model_from_keras", "model_to_keras"]
