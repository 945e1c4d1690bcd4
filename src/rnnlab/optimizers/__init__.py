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

from collections.abc import Mapping
from typing import Any

from .. import schedules
from .._registry import spec_parts
from ..schedules import (
    ExponentialDecay,
    LearningRateSchedule,
    PiecewiseConstantDecay,
    StepDecay,
)
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .base import Optimizer
from .clipping import clip_gradients, global_norm
from .rmsprop import RMSprop
from .sgd import SGD

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
        return _lookup(identifier).from_config({})  # the class's defaults
    if isinstance(identifier, Mapping):
        class_name, config = spec_parts(identifier, "an optimizer")
        return _lookup(class_name).from_config(config)
    raise TypeError(
        f"Could not interpret optimizer identifier {identifier!r}: expected a name in {names()}, "
        "an Optimizer instance or a {'class_name', 'config'} dict"
    )
