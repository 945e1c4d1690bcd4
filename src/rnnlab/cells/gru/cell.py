"""Gated recurrent unit (Cho et al. 2014), both formulations.

Gate order r, z, n (PyTorch). With ``reset_after=True`` (PyTorch, cuDNN and Keras default):

    r = σ(x W_ir^T + b_ir + h W_hr^T + b_hr)
    z = σ(x W_iz^T + b_iz + h W_hz^T + b_hz)
    n = act(x W_in^T + b_in + r ⊙ (h W_hn^T + b_hn))
    h' = (1 - z) ⊙ n + z ⊙ h

With ``reset_after=False`` (the original form; Keras's ``reset_after=False``) the reset gate acts
before the product and there is no recurrent bias:

    n = act(x W_in^T + b_in + (r ⊙ h) W_hn^T)

Shapes: ``weight_ih (3H, D)`` = (W_ir|W_iz|W_in), ``weight_hh (3H, H)``, ``bias_ih (3H,)``,
``bias_hh (3H,)`` (reset_after only). Keras orders the blocks z, r, h and stores the two biases as
one ``(2, 3H)`` array. With recurrent dropout, ``h`` in the products is ``h ⊙ rec_mask``; the
carried ``z ⊙ h`` uses the undropped state.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._registry import register
from ..base import Array, GatedCell, State, stack_cached


@register
class GRUCell(GatedCell):
    gates = 3
    keras_blocks = (1, 0, 2)
    gate_names = ("r", "z", "n")

    # constructor arguments besides GatedCell's (rnnlab.cells.arguments)
    recurrent_activation: str | None = "sigmoid"
    reset_after: bool = True

    def configure(self) -> None:
        self.reset_after = bool(self.reset_after)
        if self.recurrent_bias and not self.reset_after:
            raise ValueError("GRUCell(reset_after=False) has no recurrent bias; "
                             "got recurrent_bias=True")
        super().configure()

    def default_recurrent_bias(self) -> bool:
        return self.reset_after

    def step(self, p_t: Array, state: State, rec_mask: Array | None) -> tuple[Array, State, Any]:
        h_prev = state[0]
        H = self.units
        w_hh = self.params["weight_hh"]
        hm = h_prev if rec_mask is None else h_prev * rec_mask          # (N, H)
        if self.reset_after:
            hp = hm @ w_hh.T                                             # (N, 3H)
            if self.recurrent_bias:
                hp += self.params["bias_hh"]
            rz = self.ract(p_t[:, :2 * H] + hp[:, :2 * H])               # (N, 2H) r | z
            hn = hp[:, 2 * H:]                                           # (N, H)
            n = self.act(p_t[:, 2 * H:] + rz[:, :H] * hn)
            operand = hm
        else:
            rz = self.ract(p_t[:, :2 * H] + hm @ w_hh[:2 * H].T)
            rh = rz[:, :H] * hm                                          # (N, H)
            hn = rh
            n = self.act(p_t[:, 2 * H:] + rh @ w_hh[2 * H:].T)
            operand = hm
        z = rz[:, H:]
        h = n + z * (h_prev - n)                                         # (1-z) n + z h
        return h, (h,), (operand, h_prev, rz, n, hn, rec_mask)

    def step_backward(self, dy: Array, dstate: State, cache: Any) -> tuple[Array, State]:
        hm, h_prev, rz, n, hn, rec_mask = cache
        H = self.units
        w_hh = self.params["weight_hh"]
        r, z = rz[:, :H], rz[:, H:]
        dh = dy + dstate[0]                                              # (N, H)
        dn = dh * (1.0 - z) * self.dact(n)                               # (N, H) pre-activation
        dp = np.empty((dh.shape[0], 3 * H), dtype=dh.dtype)              # (N, 3H) r | z | n
        dp[:, H:2 * H] = dh * (h_prev - n) * self.dract(z)
        dp[:, 2 * H:] = dn
        dh_prev = dh * z
        if self.reset_after:
            dp[:, :H] = dn * hn * self.dract(r)
            drec = dp.copy()
            drec[:, 2 * H:] *= r
            dhm = drec @ w_hh
        else:
            drh = dn @ w_hh[2 * H:]                                      # (N, H) grad of r ⊙ h
            dp[:, :H] = drh * hm * self.dract(r)
            dhm = dp[:, :2 * H] @ w_hh[:2 * H] + drh * r
        if rec_mask is not None:
            dhm *= rec_mask
        dh_prev += dhm
        return dp, (dh_prev,)

    def compiled_sweep(self) -> Any | None:
        if not (self.compiled_available() and self.reset_after and self.activation_name == "tanh"
                and self.recurrent_activation_name == "sigmoid"):
            return None
        from . import sweep

        return sweep.GRUSweep()

    def params_backward(self, x: Array, dP: Array, caches: list[Any]) -> Array:
        H = self.units
        operand = stack_cached(caches, 0)                                # (N, T, H)
        rz = stack_cached(caches, 2)
        if self.reset_after:
            dR = dP.copy()
            dR[..., 2 * H:] *= rz[..., :H]
            self._recurrent_params_backward(dR, operand)
        else:
            hn = stack_cached(caches, 4)                                 # r ⊙ h
            dp2 = dP.reshape(-1, 3 * H)
            self.grads["weight_hh"][:2 * H] += dp2[:, :2 * H].T @ operand.reshape(-1, H)
            self.grads["weight_hh"][2 * H:] += dp2[:, 2 * H:].T @ hn.reshape(-1, H)
        return self._input_params_backward(x, dP)

    def gate_values(self, cache: Any) -> dict[str, Array]:
        """``{"r", "z", "n"}``: the step's reset and update gates and its candidate state."""
        rz, H = cache[2], self.units
        return {"r": rz[:, :H], "z": rz[:, H:], "n": cache[3]}
