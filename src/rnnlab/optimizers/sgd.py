"""``SGD`` with optional (Nesterov) momentum."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._registry import register
from ..schedules import LearningRateSchedule
from .base import Array, Optimizer, _float_arg, subtract_scaled


@register
class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum, ``keras.optimizers.SGD``."""

    _default_name = "SGD"

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[int], float] = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name)
        self.momentum = _float_arg(momentum, "momentum", 0.0, 1.0)
        self.nesterov = bool(nesterov)

    def _slot_specs(self) -> dict[str, float]:
        return {"momentum": 0.0} if self.momentum != 0 else {}

    def _update_step(self, name: str, param: Array, grad: Array, lr: float) -> None:
        if self.momentum != 0:
            m = self._slot("momentum", name, param)
            m *= self.momentum
            m -= grad * lr
            if self.nesterov:
                param += m * self.momentum - grad * lr
            else:
                param += m
        else:
            subtract_scaled(param, grad, lr)

    def get_config(self) -> dict[str, Any]:
        cfg = super().get_config()
        cfg.update(momentum=self.momentum, nesterov=self.nesterov)
        return cfg
