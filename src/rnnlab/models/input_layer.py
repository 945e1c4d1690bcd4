"""``Input``: the symbolic entry point of a functional model, and ``InputLayer``, the layer
Keras lists for it in ``Model.layers``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend
from .._registry import register
from ..layers.base import Layer, unique_name
from ..symbolic import KerasTensor


def Input(shape: tuple[int | None, ...] | None = None, batch_size: int | None = None,
          dtype: Any = None, name: str | None = None,
          batch_shape: tuple[int | None, ...] | None = None) -> KerasTensor:
    """A symbolic input of per-sample ``shape`` (the batch dimension is added, None unless
    ``batch_size`` is given). ``dtype`` may be an integer type for token ids."""
    if batch_shape is not None:
        full = tuple(batch_shape)
    elif shape is not None:
        full = (batch_size, *tuple(shape))
    else:
        raise ValueError("Input needs a shape, e.g. Input(shape=(None, 8)) for sequences of 8 "
                         "features")
    dt = backend.floatx() if dtype is None else np.dtype(dtype).name
    return KerasTensor(full, dt, None, 0, name=name or unique_name("input_layer"))


@register
class InputLayer(Layer):
    """The layer Keras lists for each input of a functional model (``model.layers[0]`` of
    ``Model(Input(...), ...)``): no weights; its output is the model input."""

    def __init__(self, batch_shape: Any = None, dtype: Any = None, name: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(name=name or unique_name("input_layer"), **kwargs)
        self.batch_shape = tuple(batch_shape) if batch_shape is not None else (None,)
        self.input_dtype = np.dtype(dtype).name if dtype is not None else backend.floatx()
        self.built = True

    def forward(self, inputs: Any, training: bool = False, mask: Any = None) -> tuple[Any, Any]:
        return inputs, None

    def backward(self, d_outputs: Any, cache: Any) -> Any:
        return d_outputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return self.batch_shape
