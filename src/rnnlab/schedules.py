"""Learning-rate schedules (Keras 3 ``keras.optimizers.schedules`` semantics).

A schedule is called with the optimizer's ``iterations`` *before* the update it is used for, so
the first step uses ``schedule(0)`` (exactly as Keras evaluates ``self.learning_rate`` inside
``apply`` before ``iterations`` is incremented). Any plain callable ``f(iterations) -> float`` may
be used as a learning rate as well; only ``LearningRateSchedule`` subclasses with a
``get_config`` can be serialised.

| schedule                                   | value at step ``s``                              |
|--------------------------------------------|--------------------------------------------------|
| ExponentialDecay(lr0, decay_steps, rate)   | ``lr0 * rate ** (s / decay_steps)``              |
|   ... staircase=True                       | ``lr0 * rate ** floor(s / decay_steps)``         |
| PiecewiseConstantDecay(boundaries, values) | ``values[0]`` for ``s <= b[0]``, ``values[i]``   |
|                                            | for ``b[i-1] < s <= b[i]``, ``values[-1]`` after |
| StepDecay(lr0, step_size, factor=0.5)      | ``lr0 * factor ** (s // step_size)``             |
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._registry import register

__all__ = [
    "LearningRateSchedule",
    "ExponentialDecay",
    "PiecewiseConstantDecay",
    "StepDecay",
]


def _number(value: Any, what: str) -> float:
    """``value`` as a finite Python float (ints, floats, NumPy real scalars; not bools)."""
    if isinstance(value, np.generic) and value.dtype.kind in "iuf":
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return float(value)


class LearningRateSchedule:
    """Base class: ``schedule(step) -> float``; subclasses implement ``__call__`` and
    ``get_config`` (constructor arguments), ``from_config(cfg)`` is ``cls(**cfg)``."""

    def __call__(self, step: int) -> float:
        raise NotImplementedError(
            f"Learning rate schedule {type(self).__name__!r} must override __call__(self, step)"
        )

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(
            f"Learning rate schedule {type(self).__name__!r} must override get_config() "
            "to be serialisable"
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        return cls(**config)

    def __repr__(self) -> str:
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


@register
class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (floored exponent when
    ``staircase``), as ``keras.optimizers.schedules.ExponentialDecay``."""

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str = "ExponentialDecay",
    ) -> None:
        self.initial_learning_rate = _number(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _number(decay_steps, "decay_steps")
        if self.decay_steps <= 0:
            raise ValueError(
                f"Argument `decay_steps` must be > 0. Received: decay_steps={decay_steps}"
            )
        self.decay_rate = _number(decay_rate, "decay_rate")
        self.staircase = bool(staircase)
        self.name = name
        self._decay_steps_arg = decay_steps

    def __call__(self, step: int) -> float:
        p = float(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate**p

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self._decay_steps_arg,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


@register
class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, ``values[-1]`` after the last boundary
    (``keras.optimizers.schedules.PiecewiseConstantDecay``)."""

    def __init__(
        self, boundaries: list[float], values: list[float], name: str = "PiecewiseConstant"
    ) -> None:
        boundaries = list(boundaries)
        values = list(values)
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}."
            )
        if any(b2 <= b1 for b1, b2 in zip(boundaries, boundaries[1:], strict=False)):
            raise ValueError(f"boundaries must be strictly increasing, got {boundaries}")
        self.boundaries = [b if isinstance(b, int) else _number(b, "boundary") for b in boundaries]
        self.values = [_number(v, "value") for v in values]
        self.name = name

    def __call__(self, step: int) -> float:
        for boundary, value in zip(self.boundaries, self.values, strict=False):
            if step <= boundary:
                return value
        return self.values[-1]

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": list(self.boundaries), "values": list(self.values), "name": self.name}


@register
class StepDecay(LearningRateSchedule):
    """Multiply the rate by ``factor`` every ``step_size`` steps:
    ``initial_learning_rate * factor ** (step // step_size)`` (ExponentialDecay with
    ``staircase=True``; PyTorch's ``StepLR`` counted in optimizer steps)."""

    def __init__(
        self,
        initial_learning_rate: float,
        step_size: int,
        factor: float = 0.5,
        name: str = "StepDecay",
    ) -> None:
        self.initial_learning_rate = _number(initial_learning_rate, "initial_learning_rate")
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size <= 0:
            raise ValueError(f"step_size must be a positive integer, got {step_size!r}")
        self.step_size = step_size
        self.factor = _number(factor, "factor")
        self.name = name

    def __call__(self, step: int) -> float:
        return self.initial_learning_rate * self.factor ** (int(step) // self.step_size)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "step_size": self.step_size,
            "factor": self.factor,
            "name": self.name,
        }
