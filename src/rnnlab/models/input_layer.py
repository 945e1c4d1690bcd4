"""``Input``: the symbolic entry point of a functional model."""

from __future__ import annotations

from typing import Any

from .. import backend
from ..layers.base import unique_name
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
    if dtype is None:
        dt = backend.floatx()
    else:
        import numpy as np

        dt = np.dtype(dtype).name
    return KerasTensor(full, dt, None, 0, name=name or unique_name("input_layer"))
