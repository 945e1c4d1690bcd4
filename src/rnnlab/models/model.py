"""``Model``: the functional API (``Model(inputs, outputs)``) and the base of ``Sequential``.

    inputs = Input(shape=(None,), dtype="int32")
    x = Embedding(1000, 64)(inputs)
    output, state_h, state_c = LSTM(64, return_state=True)(x)
    model = Model(inputs, [output, state_h])

A model runs its layer calls as a graph (``rnnlab.models.graph``): multiple inputs and outputs,
``return_state`` outputs, ``initial_state`` passing and shared layers all work, forward and
backward. Training, evaluation and prediction live in ``rnnlab.models.training``.
Parameters are named ``"<layer name>/<parameter>"`` (e.g. ``"lstm/cell.weight_ih"``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import random as rnd
from .._registry import register
from ..layers.base import Layer, unique_name
from ..symbolic import KerasTensor, is_symbolic
from .data_adapter import takes_ids
from .graph import keras_layer_order, run_backward, run_forward, topological_nodes
from .summary import format_summary
from .training import Trainer


class BaseModel(Trainer):
    """What every model shares: layer list, parameters, weights, states, summary."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name or unique_name(_snake(type(self).__name__))
        self.stop_training = False
        self.optimizer: Any = None
        self.compiled = False
        self.history: Any = None
        self.shuffle_seed = rnd.next_seed()
        self.metadata: dict[str, Any] = {}  # JSON-able facts saved with the model (vocab, scaler)

    # -- subclass interface ------------------------------------------------------------------------
    @property
    def layers(self) -> list[Layer]:
        raise NotImplementedError

    @property
    def n_inputs(self) -> int:
        raise NotImplementedError

    @property
    def built(self) -> bool:
        return all(layer.built for layer in self.layers)

    def forward(self, xs: list[Any], training: bool = False,
                keep_caches: bool = True) -> tuple[list[Any], list[Any], Any]:
        """Run the model: ``(outputs, output_masks, cache)``; without ``keep_caches`` (a call
        that runs no ``backward``: ``predict``, ``evaluate``) the layers keep no backward caches
        (``Layer.infer``)."""
        raise NotImplementedError

    def backward(self, d_outputs: list[Any], cache: Any,
                 input_grads: bool = True, release: bool = False) -> list[Any]:
        """Backpropagate ``d_outputs``; parameter gradients are added into the layers. Returns
        the gradients of the model inputs; with ``input_grads=False`` (training: inputs are
        data) layers fed only by model inputs skip their input-gradient work
        (``Layer.backward_params``) and the result is ``[None, ...]``. ``release=True``
        empties the list ``d_outputs`` (the caller's own), so that each output gradient is
        freed as soon as its layer has used it (``train_on_batch``: the logits' gradient of a
        10,000-class head is 27 MB)."""
        raise NotImplementedError

    # -- layers and parameters ---------------------------------------------------------------------
    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"index {index} is out of range for {len(self.layers)} layers")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"No such layer: {name!r}. Existing layers: {[layer.name for layer in self.layers]}")

    def named_params(self, trainable_only: bool = False) -> Iterator[tuple[str, np.ndarray]]:
        """Parameters under structural keys ``layers.<i>.<path>`` (``layers.0.cell.weight_ih``):
        the same in every process, whatever the layers are named (optimizer slots use them)."""
        for i, layer in enumerate(self.layers):
            if trainable_only and not layer.trainable:
                continue
            for pname, value in layer.named_params():
                yield f"layers.{i}.{pname}", value

    def named_grads(self, trainable_only: bool = False) -> Iterator[tuple[str, np.ndarray]]:
        for i, layer in enumerate(self.layers):
            if trainable_only and not layer.trainable:
                continue
            for pname, value in layer.named_grads():
                yield f"layers.{i}.{pname}", value

    def structural_slot_keys(self, state: dict[str, Any]) -> dict[str, Any]:
        """Optimizer state with slots keyed ``<slot>/<layer name>/<path>`` (files written before
        structural keys) rekeyed ``<slot>/layers.<i>.<path>``; other entries unchanged."""
        index = {layer.name: i for i, layer in enumerate(self.layers)}
        out: dict[str, Any] = {}
        for key, value in state.items():
            parts = key.split("/")
            if len(parts) == 3 and parts[1] in index:
                key = f"{parts[0]}/layers.{index[parts[1]]}.{parts[2]}"
            out[key] = value
        return out

    def zero_grad(self) -> None:
        for layer in self.layers:
            layer.zero_grad()

    def state_dict(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for layer in self.layers:
            for k, v in layer.state_dict().items():
                out[f"{layer.name}/{k}"] = v
        return out

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        for layer in self.layers:
            prefix = layer.name + "/"
            layer.load_state_dict({k[len(prefix):]: v for k, v in state.items()
                                   if k.startswith(prefix)})
        known = {layer.name for layer in self.layers}
        extra = sorted({k.split("/", 1)[0] for k in state} - known)
        if extra:
            raise ValueError(f"state dict has weights for unknown layers {extra}")

    def count_params(self) -> int:
        self._require_built("count_params")
        return sum(layer.count_params() for layer in self.layers)

    def get_weights(self) -> list[np.ndarray]:
        return [w for layer in self.layers for w in layer.get_weights()]

    def set_weights(self, weights: list[np.ndarray]) -> None:
        weights = list(weights)
        for layer in self.layers:
            n = len(layer.get_weights())
            layer.set_weights(weights[:n])
            weights = weights[n:]
        if weights:
            raise ValueError(f"{len(weights)} weight array(s) left over after setting all layers")

    def reset_states(self) -> None:
        for layer in self.layers:
            if hasattr(layer, "reset_states"):
                layer.reset_states()

    def summary(self, print_fn: Any = None, line_length: int = 80) -> None:
        """Print the layer table (Keras's columns and parameter counts)."""
        text = format_summary(self, line_length)
        (print_fn or print)(text)

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise ValueError(
                f"{what}: the model {self.name!r} is not built yet; give the first layer an "
                "input_shape (or use Input), call build(input_shape), or call it on data first")

    def save(self, filepath: Any, overwrite: bool = True,
             resume: dict[str, Any] | None = None) -> None:
        """Write one rnnlab model file (architecture, weights, optimizer state), atomically;
        ``resume``: extra state to continue an interrupted run (``saving.save_model``)."""
        from ..saving import save_model

        save_model(self, filepath, overwrite=overwrite, resume=resume)

    def to_json(self, **kwargs: Any) -> str:
        """The architecture as JSON (``rnnlab.models.model_from_json`` rebuilds it)."""
        from .json_config import to_json

        return to_json(self, **kwargs)

    def reset_state(self) -> None:
        """Keras 3's name for ``reset_states()``."""
        self.reset_states()

    def save_weights(self, filepath: Any, overwrite: bool = True) -> None:
        from ..saving import save_weights

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: Any) -> None:
        from ..saving import load_weights

        load_weights(self, filepath)

    def __call__(self, x: Any, training: bool = False) -> Any:
        if is_symbolic(x):
            raise NotImplementedError(
                f"calling the model {self.name!r} on symbolic inputs (using a model as a layer "
                "of another model) is not supported; build the larger model from the layers "
                "themselves (layers can be shared between models)")
        xs = x if isinstance(x, (list, tuple)) and self.n_inputs > 1 else [x]
        outs, _, _ = self.forward(self._standardize_x(list(xs)), training=training,
                                  keep_caches=False)
        return outs if len(outs) > 1 else outs[0]


@register
class Model(BaseModel):
    """A graph of layer calls from symbolic ``inputs`` to ``outputs``."""

    def __init__(self, inputs: Any, outputs: Any, name: str | None = None) -> None:
        super().__init__(name)
        self._inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        self._outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        self._single_output = not isinstance(outputs, (list, tuple))
        for t in self._inputs + self._outputs:
            if not isinstance(t, KerasTensor):
                raise TypeError(f"Model inputs and outputs must be symbolic tensors, got {t!r}")
        for t in self._inputs:
            if t.node is not None:
                raise ValueError(f"Model inputs must come from Input(...), got {t!r}")
        self._nodes = topological_nodes(self._outputs)
        missing = [t.name for t in (t for n in self._nodes for t in n.inputs)
                   if t.node is None and all(t is not i for i in self._inputs)]
        if missing:
            raise ValueError(f"Graph disconnected: the outputs need input(s) "
                             f"{sorted(set(missing))} that are not in the model's inputs")
        from .input_layer import InputLayer

        self._input_layers = {id(t): InputLayer(batch_shape=t.shape, dtype=t.dtype, name=t.name)
                              for t in self._inputs}
        self._keras_layers: list[Layer] = keras_layer_order(self._nodes, self._outputs,
                                                            self._input_layers)
        self._layers: list[Layer] = [layer for layer in self._keras_layers
                                     if not isinstance(layer, InputLayer)]
        names = [layer.name for layer in self._keras_layers]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"Layer names must be unique within a model; repeated: {dup}")

    @property
    def layers(self) -> list[Layer]:
        """Keras 3's list: the ``InputLayer`` of each input and every layer, deepest first."""
        return list(self._keras_layers)

    @property
    def inputs(self) -> list[KerasTensor]:
        return list(self._inputs)

    @property
    def outputs(self) -> list[KerasTensor]:
        return list(self._outputs)

    @property
    def input(self) -> Any:
        """The symbolic input, or the list of them (Keras's ``model.input``)."""
        return self._inputs[0] if len(self._inputs) == 1 else list(self._inputs)

    @property
    def output(self) -> Any:
        """The symbolic output, or the list of them (Keras's ``model.output``)."""
        return self._outputs[0] if self._single_output else list(self._outputs)

    @property
    def n_inputs(self) -> int:
        return len(self._inputs)

    @property
    def n_outputs(self) -> int:
        return len(self._outputs)

    @property
    def output_names(self) -> list[str]:
        return [t.node.layer.name if t.node is not None else t.name for t in self._outputs]

    def input_spec(self) -> list[tuple[tuple[int | None, ...], str]]:
        return [(t.shape, t.dtype) for t in self._inputs]

    def _input_takes_ids(self, k: int) -> bool:
        target = self._inputs[k]
        return any(takes_ids(node.layer) for node in self._nodes
                   if any(t is target for t in node.inputs))

    def output_shapes(self) -> list[tuple[int | None, ...]]:
        return [t.shape for t in self._outputs]

    def forward(self, xs: list[Any], training: bool = False,
                keep_caches: bool = True) -> tuple[list[Any], list[Any], Any]:
        feeds = {id(t): x for t, x in zip(self._inputs, xs)}
        penalties: list[float] = []
        values, masks, caches = run_forward(self._nodes, feeds, training, penalties,
                                              keep_caches)
        self._activity_penalties = penalties
        outs = [values[id(t)] for t in self._outputs]
        out_masks = [masks.get(id(t)) for t in self._outputs]
        return outs, out_masks, (values, caches)

    def backward(self, d_outputs: list[Any], cache: Any,
                 input_grads: bool = True, release: bool = False) -> list[Any]:
        values, caches = cache
        seeds: dict[int, Any] = {}
        for t, d in zip(self._outputs, d_outputs):
            if d is not None:
                seeds[id(t)] = d if id(t) not in seeds else seeds[id(t)] + d
        if release:
            d_outputs.clear()
        data = set() if input_grads else {id(t) for t in self._inputs}
        grads = run_backward(self._nodes, values, caches, seeds, data)
        return [grads.get(id(t)) for t in self._inputs]

    # -- configuration -----------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        from .._registry import serialize

        index = {id(n): i for i, n in enumerate(self._nodes)}
        inputs = {id(t): k for k, t in enumerate(self._inputs)}

        def ref(t: KerasTensor) -> list[Any]:
            if t.node is None:
                return ["input", inputs[id(t)]]
            return ["node", index[id(t.node)], t.index]

        layers = {layer.name: serialize(layer) for layer in self._layers}
        return {
            "name": self.name,
            "inputs": [{"shape": list(t.shape), "dtype": t.dtype, "name": t.name}
                       for t in self._inputs],
            "layers": [layers[layer.name] for layer in self._layers],
            "nodes": [{"layer": n.layer.name, "structure": n.structure,
                       "inputs": [ref(t) for t in n.inputs],
                       **({"call_kwargs": dict(n.call_kwargs)} if n.call_kwargs else {})}
                      for n in self._nodes],
            "outputs": [ref(t) for t in self._outputs],
            "single_output": self._single_output,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Model:
        from .._registry import deserialize
        from .input_layer import Input

        inputs = [Input(batch_shape=tuple(s["shape"]), dtype=s["dtype"], name=s["name"])
                  for s in config["inputs"]]
        layers = {}
        for spec in config["layers"]:
            layer = deserialize(spec)
            layers[layer.name] = layer
        produced: list[Any] = []

        def get(ref: list[Any]) -> KerasTensor:
            if ref[0] == "input":
                return inputs[ref[1]]
            out = produced[ref[1]]
            return out[ref[2]] if isinstance(out, list) else out

        for n in config["nodes"]:
            layer = layers[n["layer"]]
            args = [get(r) for r in n["inputs"]]
            extra = n.get("call_kwargs", {})
            if n["structure"] == "single":
                produced.append(layer(args[0], **extra))
            elif n["structure"] == "list":
                produced.append(layer(args, **extra))
            else:
                produced.append(layer(args[0], initial_state=args[1:]))
        outputs = [get(r) for r in config["outputs"]]
        return cls(inputs, outputs[0] if config.get("single_output") else outputs,
                   name=config["name"])


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
