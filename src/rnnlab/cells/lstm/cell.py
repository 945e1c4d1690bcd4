"""Long short-term memory cell (Hochreiter & Schmidhuber 1997; PyTorch's formulation).

    [i, f, g, o] = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh          gate order i, f, g, o
    i = σ(i), f = σ(f), g = act(g), o = σ(o)                       σ = recurrent_activation
    c_t = f ⊙ c_{t-1} + i ⊙ g
    h_t = o ⊙ act(c_t)                                              act = activation (tanh)

Shapes: ``weight_ih (4H, D)`` = (W_ii|W_if|W_ig|W_io), ``weight_hh (4H, H)``, ``bias_ih (4H,)``,
``bias_hh (4H,)`` (only with ``recurrent_bias=True``, as in PyTorch; Keras has one bias).
State ``(h, c)``, output ``h_t``. Keras's gate order i, f, c, o is the same, so its kernels only
transpose. ``unit_forget_bias`` (Keras) initialises the forget-gate bias to 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._registry import register
from ..base import Array, GatedCell, State, stack_cached


@register
class LSTMCell(GatedCell):
    gates = 4
    keras_blocks = (0, 1, 2, 3)
    gate_names = ("i", "f", "g", "o")

    # constructor arguments besides GatedCell's (rnnlab.cells.arguments)
    recurrent_activation: str | None = "sigmoid"
    unit_forget_bias: bool = True

    def configure(self) -> None:
        super().configure()
        self.unit_forget_bias = bool(self.unit_forget_bias)
        self.state_size = (self.units, self.units)

    def keras_bias(self, rng: np.random.Generator, dtype: str) -> Array:
        if not self.unit_forget_bias:
            return super().keras_bias(rng, dtype)
        h = self.units
        return np.concatenate([
            self._init(self.bias_initializer, (h,), rng, dtype),
            np.ones(h, dtype=dtype),
            self._init(self.bias_initializer, (2 * h,), rng, dtype),
        ])

    def step(self, p_t: Array, state: State, rec_mask: Array | None) -> tuple[Array, State, Any]:
        h_prev, c_prev = state
        H = self.units
        hm = h_prev if rec_mask is None else h_prev * rec_mask          # (N, H)
        z = hm @ self.params["weight_hh"].T                              # (N, 4H)
        z += p_t
        if self.recurrent_bias:
            z += self.params["bias_hh"]
        gates = np.empty_like(z)                                         # i, f, g, o activated
        gates[:, :2 * H] = self.ract(z[:, :2 * H])
        gates[:, 2 * H:3 * H] = self.act(z[:, 2 * H:3 * H])
        gates[:, 3 * H:] = self.ract(z[:, 3 * H:])
        i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
        c = f * c_prev
        c += i * g                                                       # (N, H)
        tc = self.act(c)
        h = o * tc                                                       # (N, H)
        return h, (h, c), (hm, c_prev, gates, tc, rec_mask)

    def step_backward(self, dy: Array, dstate: State, cache: Any) -> tuple[Array, State]:
        _, c_prev, gates, tc, rec_mask = cache
        H = self.units
        i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
        dh = dy + dstate[0]                                              # (N, H)
        dc = dstate[1] + dh * o * self.dact(tc)                          # (N, H)
        dz = np.empty_like(gates)                                        # (N, 4H) pre-activations
        dz[:, :H] = dc * g * self.dract(i)
        dz[:, H:2 * H] = dc * c_prev * self.dract(f)
        dz[:, 2 * H:3 * H] = dc * i * self.dact(g)
        dz[:, 3 * H:] = dh * tc * self.dract(o)
        dh_prev = dz @ self.params["weight_hh"]                          # (N, H)
        if rec_mask is not None:
            dh_prev *= rec_mask
        return dz, (dh_prev, dc * f)

    def compiled_sweep(self) -> Any | None:
        if not (self.compiled_available() and self.activation_name == "tanh"
                and self.recurrent_activation_name == "sigmoid"):
            return None
        from . import sweep

        return sweep.LSTMSweep()

    def params_backward(self, x: Array, dP: Array, caches: list[Any]) -> Array:
        self._recurrent_params_backward(dP, stack_cached(caches, 0))
        return self._input_params_backward(x, dP)

    def gate_values(self, cache: Any) -> dict[str, Array]:
        """``{"i", "f", "g", "o"}``: the step's input, forget, candidate and output gates."""
        g, H = cache[2], self.units
        return {"i": g[:, :H], "f": g[:, H:2 * H], "g": g[:, 2 * H:3 * H], "o": g[:, 3 * H:]}

    def new_state_grads(self, dy: Array, dstate: State, cache: Any) -> State:
        """``(dh, dc)``: the total gradients of ``h_t`` and of ``c_t`` (the carried ``dc`` plus
        the path through ``h_t = o ⊙ act(c_t)``), as ``step_backward`` computes them."""
        gates, tc, H = cache[2], cache[3], self.units
        dh = dy + dstate[0]
        return dh, dstate[1] + dh * gates[:, 3 * H:] * self.dact(tc)
