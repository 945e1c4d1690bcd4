"""``Sequential``: a plain stack of layers, each feeding the next.

    model = Sequential()
    model.add(Embedding(10000, 32, input_length=20))
    model.add(LSTM(32))
    model.add(Dense(1, activation="sigmoid"))

Masks flow from layer to layer (``Embedding(mask_zero=True)``, ``Masking``). The model is built
as soon as the input shape is known: from the first layer's ``input_shape``/``input_length``, an
``Input`` added first, ``build(input_shape)``, or the first batch of data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._registry import deserialize, register, serialize
from ..layers.base import Layer
from ..symbolic import KerasTensor, Node
from .data_adapter import takes_ids
from .graph import run_backward, run_forward
from .model import BaseModel


@register
class Sequential(BaseModel):
    def __init__(self, layers: list[Layer] | None = None, name: str | None = None) -> None:
        super().__init__(name)
        self._layers: list[Layer] = []
        self._input_shape: tuple[int | None, ...] | None = None
        self._input_dtype: str | None = None
        for layer in layers or []:
            self.add(layer)

    # -- construction ------------------------------------------------------------------------------
    def add(self, layer: Any) -> None:
        if isinstance(layer, KerasTensor):
            if self._layers:
                raise ValueError("An Input can only be added as the first element of a Sequential")
            self._input_shape, self._input_dtype = tuple(layer.shape), layer.dtype
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add expects a Layer, got {type(layer).__name__}")
        if any(existing.name == layer.name for existing in self._layers):
            raise ValueError(f"A layer named {layer.name!r} is already in {self.name!r}; layer "
                             "names must be unique")
        if not self._layers and self._input_shape is None:
            shape = _declared_input_shape(layer)
            if shape is not None:
                self._input_shape = shape
        self._layers.append(layer)
        if self._input_shape is not None:
            self.build(self._input_shape)

    def pop(self) -> Layer:
        if not self._layers:
            raise ValueError("There are no layers in the model to pop")
        return self._layers.pop()

    @property
    def layers(self) -> list[Layer]:
        return list(self._layers)

    @property
    def n_inputs(self) -> int:
        return 1

    @property
    def n_outputs(self) -> int:
        return 1

    @property
    def output_names(self) -> list[str]:
        return [self._layers[-1].name] if self._layers else ["output"]

    def input_spec(self) -> list[tuple[tuple[int | None, ...], str]]:
        if self._input_dtype is not None and self._input_shape is not None:
            return [(self._input_shape, self._input_dtype)]
        first = self._layers[0] if self._layers else None
        is_ids = first is not None and takes_ids(first)
        dtype = "int64" if is_ids else (first.dtype if first is not None else "float32")
        return [(self._input_shape or (None,), dtype)]

    def build(self, input_shape: Any = None) -> None:
        """Build every layer for inputs of ``input_shape`` (batch dimension included)."""
        if input_shape is None:
            input_shape = self._input_shape
        if input_shape is None:
            raise ValueError("Sequential.build needs an input shape, e.g. build((None, 20, 8))")
        self._input_shape = tuple(input_shape)
        self._shapes = []
        shape: Any = self._input_shape
        for layer in self._layers:
            layer.maybe_build(shape)
            shape = layer.compute_output_shape(shape)
            self._shapes.append(shape)

    def output_shapes(self) -> list[Any]:
        self._require_built("output_shapes")
        if self._input_shape is None or len(getattr(self, "_shapes", [])) != len(self._layers):
            return [None]
        return [self._shapes[-1]]

    def layer_output_shapes(self) -> list[Any]:
        if self._input_shape is None:
            return [None] * len(self._layers)
        self.build(self._input_shape)
        return list(self._shapes)

    # -- running -----------------------------------------------------------------------------------
    def _chain(self) -> tuple[KerasTensor, list[Node]]:
        """The stack as a graph (one node per layer, each fed by the previous one), so a
        Sequential model runs on the same forward/backward path as a functional one."""
        key = tuple(id(layer) for layer in self._layers)
        if getattr(self, "_chain_key", None) != key:
            head = KerasTensor((None,), "float32", None, 0, name="sequential_input")
            nodes, prev = [], head
            for layer in self._layers:
                node = Node(layer, [prev], "single")
                node.outputs = [KerasTensor((None,), layer.dtype, node, 0, name=layer.name)]
                nodes.append(node)
                prev = node.outputs[0]
            self._chain_key, self._chain_graph = key, (head, nodes)
        return self._chain_graph

    def _symbolic(self) -> tuple[KerasTensor, Any]:
        """The stack called on a symbolic ``Input`` (once per layer list), as Keras builds a
        Sequential model: gives ``model.input``/``output`` and every ``layer.input``/``output``
        for ``Model(model.input, model.layers[k].output)``."""
        key = tuple(id(layer) for layer in self._layers)
        cached = getattr(self, "_symbolic_graph", None)
        if cached is not None and cached[0] == key:
            return cached[1], cached[2]
        if self._input_shape is None or not self._layers:
            raise AttributeError(f"the Sequential model {self.name!r} has no defined input yet: "
                                 "give it an Input (or an input_shape) and layers first")
        from .input_layer import Input

        (shape, dtype), = self.input_spec()
        head = Input(batch_shape=shape, dtype=dtype)
        x: Any = head
        for layer in self._layers:
            x = layer(x)
        self._symbolic_graph = (key, head, x)
        return head, x

    @property
    def input(self) -> KerasTensor:
        return self._symbolic()[0]

    @property
    def output(self) -> Any:
        return self._symbolic()[1]

    @property
    def inputs(self) -> list[KerasTensor]:
        return [self.input]

    @property
    def outputs(self) -> list[Any]:
        out = self.output
        return list(out) if isinstance(out, list) else [out]

    def forward(self, xs: list[Any], training: bool = False,
                keep_caches: bool = True) -> tuple[list[Any], list[Any], Any]:
        if not self._layers:
            raise ValueError("The Sequential model has no layers")
        if not self.built:
            self.build((None, *np.shape(xs[0])[1:]))
        head, nodes = self._chain()
        penalties: list[float] = []
        values, masks, caches = run_forward(nodes, {id(head): xs[0]}, training, penalties,
                                              keep_caches)
        self._activity_penalties = penalties
        last = nodes[-1].outputs[0]
        return [values[id(last)]], [masks.get(id(last))], (values, caches)

    def backward(self, d_outputs: list[Any], cache: Any,
                 input_grads: bool = True, release: bool = False) -> list[Any]:
        head, nodes = self._chain()
        values, caches = cache
        data = set() if input_grads else {id(head)}
        seeds = {id(nodes[-1].outputs[0]): d_outputs[0]}
        if release:
            d_outputs.clear()
        grads = run_backward(nodes, values, caches, seeds, data)
        return [grads.get(id(head))]

    # -- configuration -----------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "layers": [serialize(layer) for layer in self._layers],
            "input_shape": list(self._input_shape) if self._input_shape is not None else None,
            "input_dtype": self._input_dtype,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Sequential:
        model = cls(name=config.get("name"))
        if config.get("input_shape") is not None:
            model._input_shape = tuple(config["input_shape"])
            model._input_dtype = config.get("input_dtype")
        for spec in config["layers"]:
            model.add(deserialize(spec))
        return model


def _declared_input_shape(layer: Layer) -> tuple[int | None, ...] | None:
    """The batch input shape a first layer declares (input_shape/input_dim, Embedding length)."""
    if layer.input_shape_arg is not None:
        return (layer.batch_size, *layer.input_shape_arg)
    length = getattr(layer, "input_length", None)
    if getattr(layer, "takes_integer_ids", False):
        return (layer.batch_size, length)
    return None
