"""Elman / SimpleRNN cell.

    h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh),      act in {tanh, relu, sigmoid, linear}

Shapes: ``weight_ih (H, D)``, ``weight_hh (H, H)``, ``bias_ih (H,)``, ``bias_hh (H,)`` (present only
with ``recurrent_bias=True``, as in PyTorch's ``nn.RNN``; Keras has one bias). State: ``(h,)``;
the output is ``h_t``. With recurrent dropout the product uses ``h_{t-1} * rec_mask``.
"""

from __future__ import annotations

from typing import Any

from ..._registry import register
from ..base import Array, GatedCell, State, stack_cached


@register
class SimpleRNNCell(GatedCell):
    gates = 1
    keras_blocks = (0,)

    def step(self, p_t: Array, state: State, rec_mask: Array | None) -> tuple[Array, State, Any]:
        h_prev = state[0]
        hm = h_prev if rec_mask is None else h_prev * rec_mask          # (N, H)
        a = hm @ self.params["weight_hh"].T                              # (N, H)
        a += p_t
        if self.recurrent_bias:
            a += self.params["bias_hh"]
        h = self.act(a)                                                  # (N, H)
        return h, (h,), (hm, h, rec_mask)

    def step_backward(self, dy: Array, dstate: State, cache: Any) -> tuple[Array, State]:
        _, h, rec_mask = cache
        da = (dy + dstate[0]) * self.dact(h)                             # (N, H)
        dh_prev = da @ self.params["weight_hh"]                          # (N, H)
        if rec_mask is not None:
            dh_prev *= rec_mask
        return da, (dh_prev,)

    def compiled_sweep(self) -> Any | None:
        if not self.compiled_available():
            return None
        from . import sweep

        code = sweep.ACT_CODES.get(self.activation_name)
        return None if code is None else sweep.SimpleRNNSweep(code)

    def params_backward(self, x: Array, dP: Array, caches: list[Any]) -> Array:
        self._recurrent_params_backward(dP, stack_cached(caches, 0))
        return self._input_params_backward(x, dP)
