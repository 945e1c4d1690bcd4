"""Running a graph of layer calls forward and backward.

A ``Model`` holds nodes (layer calls, see ``rnnlab.symbolic``) in topological order. ``forward``
evaluates them with the given input arrays and keeps each node's cache; ``backward`` walks them in
reverse, accumulating the gradient of every tensor over all its uses (shared layers and tensors
used twice both work) and adding parameter gradients into the layers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import regularization
from ..symbolic import KerasTensor, Node


def topological_nodes(outputs: list[KerasTensor]) -> list[Node]:
    """Every node the outputs depend on, each after the nodes producing its inputs."""
    order: list[Node] = []
    seen: set[int] = set()

    def visit(t: KerasTensor) -> None:
        node = t.node
        if node is None or id(node) in seen:
            return
        for parent in node.inputs:
            visit(parent)
        seen.add(id(node))
        order.append(node)

    for t in outputs:
        visit(t)
    return order


def keras_layer_order(nodes: list[Node], outputs: list[KerasTensor],
                      input_layers: dict[int, Any] | None = None) -> list[Any]:
    """The graph's layers in Keras's order: deepest first (depth = longest path to an output;
    a shared layer takes its deepest call's), ties broken by first discovery in a depth-first walk
    from the outputs. ``nodes`` is ``topological_nodes(outputs)``; ``input_layers`` maps
    id(input tensor) to its ``InputLayer``, placed like any other layer (an input no output
    needs comes last, at depth 0), as Keras 3 does."""
    index: dict[int, int] = {}
    seen: set[int] = set()
    input_layers = input_layers or {}
    layer_depth: dict[int, int] = {}

    def visit(t: KerasTensor) -> None:
        node = t.node
        if node is None and id(t) in input_layers:
            index.setdefault(id(input_layers[id(t)]), len(index))
        if node is None or id(node) in seen:
            return
        seen.add(id(node))
        index.setdefault(id(node.layer), len(index))
        for parent in node.inputs:
            visit(parent)

    for t in outputs:
        visit(t)
    node_depth: dict[int, int] = {}
    for node in reversed(nodes):
        depth = max(node_depth.get(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = node_depth[id(node)] = depth
        for parent in node.inputs:
            if parent.node is not None:
                key = id(parent.node)
                node_depth[key] = max(depth + 1, node_depth.get(key, 0))
            elif id(parent) in input_layers:
                key = id(input_layers[id(parent)])
                layer_depth[key] = max(depth + 1, layer_depth.get(key, 0))
    layers: list[Any] = []
    for layer in input_layers.values():
        if id(layer) not in index:
            index[id(layer)], layer_depth[id(layer)] = -1, 0
        layers.append(layer)
    for node in nodes:
        if all(node.layer is not seen_layer for seen_layer in layers):
            layers.append(node.layer)
    return sorted(layers, key=lambda layer: (-layer_depth[id(layer)], index[id(layer)]))


def _call_args(node: Node, values: list[Any], masks: list[Any]) -> tuple[Any, Any, Any]:
    if node.structure == "single":
        return values[0], masks[0], None
    if node.structure == "list":
        return values, (masks if any(m is not None for m in masks) else None), None
    return values[0], masks[0], values[1:]


def run_forward(nodes: list[Node], feeds: dict[int, Any], training: bool,
                penalties: list[float] | None = None, keep_caches: bool = True
                ) -> tuple[dict[int, Any], dict[int, Any], list[Any]]:
    """Evaluate ``nodes``; ``feeds`` maps id(input tensor) -> array. Returns values and masks by
    tensor id and the per-node caches (None each without ``keep_caches``: the layers' ``infer``,
    for a call that runs no backward pass). Activity-regularizer penalties of the calls are
    appended to ``penalties`` (and kept on each layer for ``model.losses``)."""
    values: dict[int, Any] = dict(feeds)
    masks: dict[int, Any] = {}
    caches: list[Any] = []
    for node in nodes:
        ins = [values[id(t)] for t in node.inputs]
        in_masks = [masks.get(id(t)) for t in node.inputs]
        inputs, mask, states = _call_args(node, ins, in_masks)
        layer = node.layer
        if not layer.built:
            layer.maybe_build(_shape(inputs))
        kwargs = {"initial_state": states} if states is not None else node.call_kwargs
        if keep_caches:
            out, cache = layer.forward(inputs, training=training, mask=mask, **kwargs)
        else:
            out, cache = layer.infer(inputs, training=training, mask=mask, **kwargs), None
        out_mask = layer.compute_mask(inputs, mask)
        penalty = regularization.activity_penalty(layer, out)
        if penalty is not None:
            layer.__dict__["_activity_penalty"] = penalty
            if penalties is not None:
                penalties.append(penalty)
        outs = list(out) if node.multi_output else [out]
        out_masks = list(out_mask) if isinstance(out_mask, list) else [out_mask] + [None] * (
            len(outs) - 1)
        for t, v, m in zip(node.outputs, outs, out_masks):
            values[id(t)] = v
            if m is not None:
                masks[id(t)] = m
        caches.append(cache)
    return values, masks, caches


def run_backward(nodes: list[Node], values: dict[int, Any], caches: list[Any],
                 seeds: dict[int, np.ndarray], data: set[int] | None = None) -> dict[int, Any]:
    """Backpropagate from ``seeds`` (id(tensor) -> gradient; the dict is consumed); returns
    the gradients of the tensors no node produced (the model inputs) by tensor id. A node's
    output gradients are dropped once it has used them, so that each is freed as early as
    autograd frees its own. A node whose inputs are all in ``data`` (tensor ids whose gradient
    nobody reads) only adds its parameter gradients (``Layer.backward_params``)."""
    grads: dict[int, Any] = seeds
    data = data or set()
    for node, cache in zip(reversed(nodes), reversed(caches)):
        d_outs = [grads.pop(id(t), None) for t in node.outputs]
        if getattr(node.layer, "activity_regularizer", None) is not None:
            outs = [values[id(t)] for t in node.outputs]
            d_outs = regularization.activity_grads(node.layer, outs, d_outs)
        if all(d is None for d in d_outs):
            continue
        d: Any
        if node.multi_output:
            d = [np.zeros_like(values[id(t)]) if g is None else g
                 for t, g in zip(node.outputs, d_outs)]
        else:
            d = d_outs[0]
        if data and all(id(t) in data for t in node.inputs):
            node.layer.backward_params(d, cache)
            continue
        d_in = node.layer.backward(d, cache)
        flat = [d_in] if node.structure == "single" else list(d_in)
        for t, g in zip(node.inputs, flat):
            if g is None:
                continue
            key = id(t)
            grads[key] = g if key not in grads else grads[key] + g
    return grads


def _shape(inputs: Any) -> Any:
    if isinstance(inputs, list):
        return [tuple(np.shape(v)) for v in inputs]
    return tuple(np.shape(inputs))
