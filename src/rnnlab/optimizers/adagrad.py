"""``Adagrad``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._registry import register
from ..schedules import LearningRateSchedule
from .base import Array, Optimizer, _float_arg


@register
class Adagrad(Optimizer):
    """Adagrad, ``keras.optimizers.Adagrad`` (accumulator starts at 0.1, eps inside the sqrt)."""

    _default_name = "adagrad"

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[int], float] = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name)
        self.initial_accumulator_value = _float_arg(
            initial_accumulator_value, "initial_accumulator_value", 0.0
        )
        self.epsilon = _float_arg(epsilon, "epsilon", 0.0)

    def _slot_specs(self) -> dict[str, float]:
        return {"accumulator": self.initial_accumulator_value}

    def _update_step(self, name: str, param: Array, grad: Array, lr: float) -> None:
        acc = self._slot("accumulator", name, param)
        acc += np.square(grad)
        param -= (lr * grad) / np.sqrt(acc + self.epsilon)

    def get_config(self) -> dict[str, Any]:
        cfg = super().get_config()
        cfg.update(initial_accumulator_value=self.initial_accumulator_value, epsilon=self.epsilon)
        return cfg
