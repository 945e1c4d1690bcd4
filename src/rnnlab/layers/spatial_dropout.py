"""``SpatialDropout1D``: dropout of whole feature channels, as ``keras.layers.SpatialDropout1D``.

``x (N, T, C)``: in training, each (sample, channel) pair is kept with probability ``1 − rate``
for every step at once and scaled by ``1/(1 − rate)`` (``Dropout`` with
``noise_shape=(N, 1, C)``); at inference the identity. A mask passes through unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend
from .._registry import register
from .core import Dropout


@register
class SpatialDropout1D(Dropout):
    """Drops entire channels of a ``(batch, steps, channels)`` input (see the module docstring).
    Masks come from ``self.draw_rng()`` like ``Dropout``'s."""

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(rate, seed=seed, **kwargs)

    def forward(self, inputs: Any, training: bool = False, mask: Any = None) -> tuple[Any, Any]:
        backend.check_rank(np.asarray(inputs), 3, self.name, "(batch, steps, channels)")
        return super().forward(inputs, training=training, mask=mask)

    def _mask_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return (shape[0], 1, shape[2])
