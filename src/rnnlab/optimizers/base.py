"""``Optimizer``: learning rate (constant or schedule), weight decay, clipping, slots and
state dicts; subclasses write ``_update_step``."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from .._registry import deserialize, serialize
from ..schedules import LearningRateSchedule
from .clipping import Array, _check_clip_args, clip_gradients


def _float_arg(
    value: Any,
    what: str,
    low: float | None = None,
    high: float | None = None,
    high_open: bool = False,
) -> float:
    """``value`` as a finite Python float in ``[low, high]`` (``[low, high)`` if high_open)."""
    if isinstance(value, np.generic) and value.dtype.kind in "iuf":
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"`{what}` must be a float, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"`{what}` must be finite, got {value!r}")
    too_low = low is not None and value < low
    too_high = high is not None and (value > high or (high_open and value == high))
    if too_low or too_high:
        upper = "inf)" if high is None else f"{high}{')' if high_open else ']'}"
        raise ValueError(f"`{what}` must be in [{low}, {upper}, got {value!r}")
    return value


UPDATE_CHUNK = 1 << 16  # elements per chunk of ``subtract_scaled``


def subtract_scaled(param: Array, grad: Array, scale: float) -> None:
    """``param -= grad * scale`` in place, ``UPDATE_CHUNK`` elements at a time when both are
    contiguous and of one shape: the same numbers, with a temporary of one chunk instead of
    one the size of the parameter (26 MB for a 10,000-class head's weight in float32)."""
    if (param.shape != np.shape(grad) or not param.flags.c_contiguous
            or not isinstance(grad, np.ndarray) or not grad.flags.c_contiguous):
        param -= grad * scale
        return
    p, g = param.reshape(-1), grad.reshape(-1)
    for i in range(0, p.size, UPDATE_CHUNK):
        p[i:i + UPDATE_CHUNK] -= g[i:i + UPDATE_CHUNK] * scale


class Optimizer:
    """Shared machinery: learning rate (float, schedule or callable), clipping, decoupled weight
    decay, lazily created per-parameter slots, ``iterations``, state and config."""

    _default_name = "optimizer"

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[int], float],
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
    ) -> None:
        _check_clip_args(clipnorm, clipvalue, global_clipnorm)
        self.name = name if name is not None else self._default_name
        self.weight_decay = (
            None if weight_decay is None else _float_arg(weight_decay, "weight_decay", 0.0)
        )
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.iterations = 0
        self._learning_rate: float | Callable[[int], float] = 0.0
        self._set_learning_rate(learning_rate, initial=True)
        self._slots: dict[str, dict[str, Array]] = {}
        self._exclude_pattern: re.Pattern[str] | None = None

    # -- learning rate ----------------------------------------------------------------------------
    def _set_learning_rate(self, value: Any, initial: bool = False) -> None:
        if isinstance(value, LearningRateSchedule) or (
            callable(value) and not isinstance(value, (int, float, np.generic))
        ):
            self._learning_rate = value
            return
        if not initial and callable(self._learning_rate):
            raise TypeError(
                f"{type(self).__name__} was created with a learning-rate schedule "
                f"({self._learning_rate!r}), so its learning rate cannot be set to a float "
                "(Keras behaviour); assign another schedule, or create the optimizer with a "
                "float learning_rate."
            )
        self._learning_rate = _float_arg(value, "learning_rate", 0.0)

    @property
    def learning_rate(self) -> float:
        """The rate the next ``apply`` will use (a schedule is evaluated at ``iterations``)."""
        return self._current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        self._set_learning_rate(value)

    @property
    def schedule(self) -> Callable[[int], float] | None:
        """The learning-rate schedule / callable, or None for a constant rate."""
        return self._learning_rate if callable(self._learning_rate) else None

    def _current_learning_rate(self) -> float:
        lr = self._learning_rate
        if callable(lr):
            value = lr(self.iterations)
            try:
                value = float(value)
            except (TypeError, ValueError) as exc:
                raise TypeError(
                    f"learning-rate schedule {lr!r} returned {value!r} at step "
                    f"{self.iterations}; expected a float"
                ) from exc
            return value
        return lr

    # -- weight decay -----------------------------------------------------------------------------
    def exclude_from_weight_decay(self, var_names: Iterable[str] | None = None) -> None:
        """Parameters whose name contains (regex search) any of ``var_names`` get no weight
        decay, as Keras's ``exclude_from_weight_decay(var_names=...)``."""
        var_names = list(var_names or [])
        self._exclude_pattern = re.compile("|".join(var_names)) if var_names else None

    def _use_weight_decay(self, name: str) -> bool:
        return self._exclude_pattern is None or self._exclude_pattern.search(name) is None

    # -- slots ------------------------------------------------------------------------------------
    def _slot_specs(self) -> dict[str, float]:
        """Slot name -> initial fill value for this configuration."""
        return {}

    def _slot(self, slot: str, name: str, param: Array) -> Array:
        table = self._slots.setdefault(slot, {})
        arr = table.get(name)
        if arr is None:
            arr = np.full(param.shape, self._slot_specs()[slot], dtype=param.dtype)
            table[name] = arr
            return arr
        if arr.shape != param.shape:
            raise ValueError(
                f"optimizer slot '{slot}/{name}' has shape {arr.shape} but the parameter has "
                f"shape {param.shape}"
            )
        if arr.dtype != param.dtype:
            arr = arr.astype(param.dtype)
            table[name] = arr
        return arr

    # -- the update -------------------------------------------------------------------------------
    def apply(self, params: Mapping[str, Array], grads: Mapping[str, Any]) -> None:
        """One optimisation step: update ``params`` in place from ``grads`` (same names).

        Parameters without a gradient (absent or ``None``) are left alone; a gradient for an
        unknown parameter, a shape mismatch or a non-float / read-only parameter is an error.
        An empty ``grads`` is a no-op (``iterations`` unchanged), as in Keras.
        """
        if not isinstance(params, Mapping) or not isinstance(grads, Mapping):
            raise TypeError(
                "apply(params, grads) expects two dicts mapping parameter names to arrays, "
                f"got {type(params).__name__} and {type(grads).__name__}"
            )
        unknown = sorted(set(grads) - set(params))
        if unknown:
            raise ValueError(
                f"gradients given for unknown parameters {unknown}; known parameters: "
                f"{sorted(params)}"
            )
        if not grads:
            return
        names: list[str] = []
        cast: list[Array] = []
        for name, param in params.items():
            grad = grads.get(name)
            if grad is None:
                continue
            if not isinstance(param, np.ndarray) or param.dtype.kind != "f":
                raise TypeError(
                    f"parameter {name!r} must be a float NumPy array updated in place, got "
                    f"{type(param).__name__}"
                    + (f" of dtype {param.dtype}" if isinstance(param, np.ndarray) else "")
                )
            if not param.flags.writeable:
                raise ValueError(f"parameter {name!r} is read-only; it is updated in place")
            grad = np.asarray(grad)
            if grad.shape != param.shape:
                raise ValueError(
                    f"gradient for {name!r} has shape {grad.shape} but the parameter has "
                    f"shape {param.shape}"
                )
            for slot, table in self._slots.items():
                if name in table and table[name].shape != param.shape:
                    raise ValueError(
                        f"optimizer slot '{slot}/{name}' has shape {table[name].shape} but the "
                        f"parameter has shape {param.shape} (state from another model?)"
                    )
            names.append(name)
            cast.append(grad.astype(param.dtype, copy=False))
        if not names:
            raise ValueError("No gradients provided for any variable (all were None).")

        clipped = clip_gradients(
            cast,
            clipnorm=self.clipnorm,
            clipvalue=self.clipvalue,
            global_clipnorm=self.global_clipnorm,
        )
        lr = self._current_learning_rate()
        if self.weight_decay:
            wd_lr = self.weight_decay * lr
            for name in names:
                if self._use_weight_decay(name):
                    p = params[name]
                    p -= p * wd_lr
        for name, grad in zip(names, clipped, strict=True):
            param = params[name]
            self._update_step(name, param, grad.astype(param.dtype, copy=False), lr)
        self.iterations += 1

    def _update_step(self, name: str, param: Array, grad: Array, lr: float) -> None:
        raise NotImplementedError

    # -- state ------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Array]:
        """Slots as ``"<slot>/<param name>"`` copies, ``"iterations"`` and, for a constant rate,
        ``"learning_rate"``."""
        out: dict[str, Array] = {"iterations": np.array(self.iterations, dtype=np.int64)}
        if not callable(self._learning_rate):
            out["learning_rate"] = np.array(self._learning_rate, dtype=np.float64)
        for slot in sorted(self._slots):
            for name, arr in self._slots[slot].items():
                out[f"{slot}/{name}"] = arr.copy()
        return out

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore ``state_dict()`` output (slots replaced wholesale, copies taken)."""
        if "iterations" not in state:
            raise ValueError("optimizer state dict has no 'iterations' entry")
        specs = self._slot_specs()
        slots: dict[str, dict[str, Array]] = {}
        for key, value in state.items():
            if key in ("iterations", "learning_rate"):
                continue
            slot, sep, pname = key.partition("/")
            if not sep or not pname or slot not in specs:
                raise ValueError(
                    f"unexpected optimizer state entry {key!r} for {type(self).__name__}"
                    f"({self._describe()}); expected 'iterations', 'learning_rate' or "
                    f"'<slot>/<parameter name>' with slot in {sorted(specs)}"
                )
            arr = np.array(value, copy=True)
            if arr.dtype.kind != "f":
                raise ValueError(f"optimizer state entry {key!r} must be a float array")
            slots.setdefault(slot, {})[pname] = arr
        # size-1 arrays are accepted too (a 0-d array may come back as shape (1,) from files)
        iterations = np.asarray(state["iterations"])
        if (
            iterations.size != 1
            or iterations.dtype.kind not in "iuf"
            or not float(iterations.item()).is_integer()
            or iterations.item() < 0
        ):
            raise ValueError(f"'iterations' must be a non-negative integer, got {iterations!r}")
        self.iterations = int(iterations.item())
        if "learning_rate" in state and not callable(self._learning_rate):
            lr = np.asarray(state["learning_rate"])
            if lr.size != 1:
                raise ValueError(f"'learning_rate' must be a single number, got {lr!r}")
            self._learning_rate = _float_arg(lr.item(), "learning_rate", 0.0)
        self._slots = slots

    def _describe(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")

    # -- config -----------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        lr = self._learning_rate
        if callable(lr):
            if not hasattr(lr, "get_config"):
                raise TypeError(
                    f"cannot serialise the learning-rate callable {lr!r}; use a "
                    "LearningRateSchedule subclass with get_config() (and @register it)"
                )
            lr_cfg: Any = serialize(lr)
        else:
            lr_cfg = lr
        return {
            "name": self.name,
            "learning_rate": lr_cfg,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Optimizer:
        return cls(**deserialize(dict(config)))

    def __repr__(self) -> str:
        try:
            return f"{type(self).__name__}({self._describe()})"
        except TypeError:
            return f"{type(self).__name__}(name={self.name!r})"
