"""Keras 3 optimizers on NumPy arrays: SGD, RMSprop, Adagrad, Adam, AdamW.

Defaults and update rules follow ``keras/src/optimizers/*.py`` (Keras 3) line by line::

    opt = Adam(learning_rate=1e-3)
    opt.apply(params, grads)      # dicts name -> array; params are updated IN PLACE

One ``apply`` call is one Keras ``optimizer.apply``: gradients are cast to each parameter's
dtype, clipped (``clipnorm`` / ``clipvalue`` / ``global_clipnorm``), decoupled weight decay is
applied (``p -= p * weight_decay * lr``, before the update, as Keras does), then each parameter
is updated with ``lr = learning_rate(iterations)`` and finally ``iterations += 1``. Slot
variables (momenta, ...) are created lazily, keyed by parameter name, in the parameter's dtype
(float32 stays float32).

Update rules (``t = iterations + 1``; ``g`` the clipped gradient)::

    SGD       momentum == 0:  p -= lr * g
              else:           m = momentum * m - lr * g
                              p += m                              (nesterov=False)
                              p += momentum * m - lr * g          (nesterov=True)
    RMSprop   v = rho * v + (1 - rho) * g²
              centered:       a = rho * a + (1 - rho) * g;  d = v - a² + eps   else d = v + eps
              inc = lr * g / sqrt(d)
              momentum > 0:   mom = momentum * mom + inc;  p -= mom      else p -= inc
    Adagrad   acc (starts at initial_accumulator_value) += g²
              p -= lr * g / sqrt(acc + eps)
    Adam      m += (g - m) * (1 - beta_1);  v += (g² - v) * (1 - beta_2)
              amsgrad:        v_hat = max(v_hat, v), used in place of v
              p -= m * lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) / (sqrt(v) + eps)
    AdamW     Adam with weight_decay=0.004 (decoupled decay as above)

Differences from ``torch.optim`` (see tests/test_optimizers.py for the exact mappings):

* Adam/AdamW: Keras adds ``eps`` to ``sqrt(v)`` *before* the bias correction of ``v``; PyTorch
  adds it after (``sqrt(v)/sqrt(1-beta_2^t) + eps``). Equal when PyTorch's eps at step t is
  ``eps_keras / sqrt(1 - beta_2^t)``.
* RMSprop: Keras ``lr*g/sqrt(v + eps)``; PyTorch ``lr*g/(sqrt(v) + eps)``; PyTorch's default
  ``alpha`` is 0.99 (Keras ``rho`` 0.9). Keras's momentum buffer holds ``lr`` inside.
* Adagrad: Keras ``sqrt(acc + eps)`` with ``acc`` starting at 0.1; PyTorch ``sqrt(acc) + eps``
  with ``acc`` starting at 0.
* SGD: Keras keeps ``lr`` inside the momentum buffer (``m = momentum*m - lr*g``); PyTorch keeps
  ``buf = momentum*buf + g`` and multiplies by ``lr`` afterwards: identical for a constant rate,
  different when the rate changes between steps. Keras ``weight_decay`` is decoupled
  (``p -= p*wd*lr``), PyTorch SGD/Adam/RMSprop/Adagrad ``weight_decay`` is an L2 term added to g.
* Bias correction uses the optimizer's global ``iterations`` (Keras), not a per-parameter step
  count (PyTorch); the two only differ for a parameter first seen after step 0.

``state_dict()`` gives ``{"iterations": int64 0-d array, "learning_rate": float64 0-d array (only
for a constant rate), "<slot>/<param name>": slot array}`` with slots ``momentum`` (SGD),
``velocity``/``momentum``/``average_gradient`` (RMSprop), ``accumulator`` (Adagrad),
``m``/``v``/``v_hat`` (Adam, AdamW); ``load_state_dict`` restores it for an exact resume.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from . import schedules
from ._registry import deserialize, register, serialize
from .schedules import (
    ExponentialDecay,
    LearningRateSchedule,
    PiecewiseConstantDecay,
    StepDecay,
)

__all__ = [
    "Optimizer",
    "SGD",
    "RMSprop",
    "Adagrad",
    "Adam",
    "AdamW",
    "get",
    "names",
    "clip_gradients",
    "global_norm",
    "schedules",
    "LearningRateSchedule",
    "ExponentialDecay",
    "PiecewiseConstantDecay",
    "StepDecay",
]

Array = np.ndarray
Grads = Mapping[str, Any] | Iterable[Any]


# ---------------------------------------------------------------------------------------------
# gradient clipping
# ---------------------------------------------------------------------------------------------
def _sq_norm(g: Array) -> float:
    g = np.asarray(g)
    return float(np.sum(np.square(g, dtype=np.float64)))


def global_norm(grads: Grads) -> float:
    """``sqrt(sum of squares)`` over all gradients (a dict's values or a list; ``None`` entries
    skipped), accumulated in float64."""
    values = grads.values() if isinstance(grads, Mapping) else grads
    return math.sqrt(sum(_sq_norm(g) for g in values if g is not None))


def _check_clip_args(
    clipnorm: float | None, clipvalue: float | None, global_clipnorm: float | None
) -> None:
    given = [a is not None for a in (clipnorm, clipvalue, global_clipnorm)]
    if sum(given) > 1:
        raise ValueError(
            "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
            f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
            f"global_clipnorm={global_clipnorm}"
        )
    for what, value in (
        ("clipnorm", clipnorm),
        ("clipvalue", clipvalue),
        ("global_clipnorm", global_clipnorm),
    ):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
            raise ValueError(f"`{what}` must be a number or None, got {value!r}")
        if not value >= 0:
            raise ValueError(f"`{what}` must be >= 0 (0 disables clipping), got {value!r}")


def _clip_by_norm(g: Array, clipnorm: float) -> Array:
    # Keras BaseOptimizer._clip_by_norm: g * clipnorm / max(||g||, clipnorm)
    norm = math.sqrt(_sq_norm(g))
    if norm <= clipnorm:
        return g
    return g * (clipnorm / norm)


def clip_gradients(
    grads: Grads,
    clipnorm: float | None = None,
    clipvalue: float | None = None,
    global_clipnorm: float | None = None,
) -> Any:
    """Keras gradient clipping (``BaseOptimizer._clip_gradients``); at most one mode.

    * ``clipnorm``: each gradient separately, ``g * clipnorm / max(||g||, clipnorm)``;
    * ``global_clipnorm``: all together, ``g * clipnorm / max(global_norm, clipnorm)``; a
      non-finite global norm makes every gradient NaN (as Keras / ``tf.clip_by_global_norm``);
    * ``clipvalue``: element-wise ``clip(g, -clipvalue, clipvalue)``.

    ``None`` or 0 disables a mode. Returns the same container type (dict or list) with new
    arrays for clipped entries; the inputs are never modified. ``None`` entries are kept.
    """
    _check_clip_args(clipnorm, clipvalue, global_clipnorm)
    is_map = isinstance(grads, Mapping)
    keys = list(grads.keys()) if is_map else None
    values = list(grads.values()) if is_map else list(grads)
    values = [None if g is None else np.asarray(g) for g in values]

    if clipnorm:
        c = float(clipnorm)
        values = [None if g is None else _clip_by_norm(g, c) for g in values]
    elif global_clipnorm:
        c = float(global_clipnorm)
        norm = global_norm(values)
        if not math.isfinite(norm):
            scale = math.nan
        elif norm <= c:
            scale = 1.0
        else:
            scale = c / norm
        if scale != 1.0:
            values = [None if g is None else g * scale for g in values]
    elif clipvalue:
        v = float(clipvalue)
        values = [None if g is None else np.clip(g, -v, v) for g in values]

    if is_map:
        return dict(zip(keys, values, strict=True))  # type: ignore[arg-type]
    return values


# ---------------------------------------------------------------------------------------------
# base optimizer
# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# the optimizers
# ---------------------------------------------------------------------------------------------
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
            param -= grad * lr

    def get_config(self) -> dict[str, Any]:
        cfg = super().get_config()
        cfg.update(momentum=self.momentum, nesterov=self.nesterov)
        return cfg


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


# ---------------------------------------------------------------------------------------------
# lookup
# ---------------------------------------------------------------------------------------------
_BY_NAME: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "rmsprop": RMSprop,
    "adagrad": Adagrad,
    "adam": Adam,
    "adamw": AdamW,
}


def names() -> list[str]:
    """The optimizer names ``get`` accepts (case-insensitive)."""
    return sorted(_BY_NAME)


def _lookup(name: str) -> type[Optimizer]:
    cls = _BY_NAME.get(name.lower())
    if cls is None:
        raise ValueError(f"Unknown optimizer {name!r}. Valid names (case-insensitive): {names()}")
    return cls


def get(identifier: Any) -> Optimizer:
    """An optimizer from a name (``"adam"``, case-insensitive; Keras defaults), an instance
    (returned as is) or a ``{"class_name": ..., "config": ...}`` dict."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return _lookup(identifier)()
    if isinstance(identifier, Mapping):
        if set(identifier) != {"class_name", "config"} or not isinstance(
            identifier["class_name"], str
        ):
            raise ValueError(
                "an optimizer dict must have exactly the keys 'class_name' and 'config', got "
                f"keys {sorted(identifier)}"
            )
        cls = _lookup(identifier["class_name"])
        return cls.from_config(identifier["config"] or {})
    raise TypeError(
        f"Could not interpret optimizer identifier {identifier!r}: expected a name in {names()}, "
        "an Optimizer instance or a {'class_name', 'config'} dict"
    )
