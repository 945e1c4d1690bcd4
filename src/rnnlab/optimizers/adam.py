"""``Adam`` (optionally AMSGrad) and ``AdamW`` (decoupled weight decay)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._registry import register
from ..schedules import LearningRateSchedule
from .base import Array, Optimizer, _float_arg


@register
class Adam(Optimizer):
    """Adam (optionally AMSGrad), ``keras.optimizers.Adam``."""

    _default_name = "adam"

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[int], float] = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name)
        self.beta_1 = _float_arg(beta_1, "beta_1", 0.0, 1.0, high_open=True)
        self.beta_2 = _float_arg(beta_2, "beta_2", 0.0, 1.0, high_open=True)
        self.epsilon = _float_arg(epsilon, "epsilon", 0.0)
        self.amsgrad = bool(amsgrad)

    def _slot_specs(self) -> dict[str, float]:
        specs = {"m": 0.0, "v": 0.0}
        if self.amsgrad:
            specs["v_hat"] = 0.0
        return specs

    def _update_step(self, name: str, param: Array, grad: Array, lr: float) -> None:
        t = self.iterations + 1
        alpha = lr * math.sqrt(1.0 - self.beta_2**t) / (1.0 - self.beta_1**t)
        m = self._slot("m", name, param)
        v = self._slot("v", name, param)
        m += (grad - m) * (1.0 - self.beta_1)
        v += (np.square(grad) - v) * (1.0 - self.beta_2)
        if self.amsgrad:
            v_hat = self._slot("v_hat", name, param)
            np.maximum(v_hat, v, out=v_hat)
            v = v_hat
        param -= (m * alpha) / (np.sqrt(v) + self.epsilon)

    def get_config(self) -> dict[str, Any]:
        cfg = super().get_config()
        cfg.update(
            beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon, amsgrad=self.amsgrad
        )
        return cfg


@register
class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.004), ``keras.optimizers.AdamW``."""

    _default_name = "adamw"

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[int], float] = 0.001,
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
    ) -> None:
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            name=name,
        )
