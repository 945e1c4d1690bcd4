"""``RMSprop``, plain or centered, with optional momentum."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._registry import register
from ..schedules import LearningRateSchedule
from .base import Array, Optimizer, _float_arg


@register
class RMSprop(Optimizer):
    """RMSprop (plain or centered, optional momentum), ``keras.optimizers.RMSprop``."""

    _default_name = "rmsprop"

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[int], float] = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name)
        # validation as in current Keras (rho and momentum in [0, 1], epsilon > 0)
        self.rho = _float_arg(rho, "rho", 0.0, 1.0)
        self.momentum = _float_arg(momentum, "momentum", 0.0, 1.0)
        self.epsilon = _float_arg(epsilon, "epsilon")
        if not self.epsilon > 0:
            raise ValueError(f"`epsilon` must be positive, got {epsilon!r}")
        self.centered = bool(centered)

    def _slot_specs(self) -> dict[str, float]:
        specs = {"velocity": 0.0}
        if self.momentum > 0:
            specs["momentum"] = 0.0
        if self.centered:
            specs["average_gradient"] = 0.0
        return specs

    def _update_step(self, name: str, param: Array, grad: Array, lr: float) -> None:
        rho = self.rho
        v = self._slot("velocity", name, param)
        v[...] = rho * v + (1 - rho) * np.square(grad)
        if self.centered:
            a = self._slot("average_gradient", name, param)
            a[...] = rho * a + (1 - rho) * grad
            denominator = v - np.square(a) + self.epsilon
        else:
            denominator = v + self.epsilon
        increment = (lr * grad) / np.sqrt(denominator)
        if self.momentum > 0:
            mom = self._slot("momentum", name, param)
            mom[...] = self.momentum * mom + increment
            param -= mom
        else:
            param -= increment

    def get_config(self) -> dict[str, Any]:
        cfg = super().get_config()
        cfg.update(
            rho=self.rho, momentum=self.momentum, epsilon=self.epsilon, centered=self.centered
        )
        return cfg
