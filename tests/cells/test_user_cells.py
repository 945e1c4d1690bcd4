"""A user's own cells through the cell contract: one with only ``step``/``step_backward`` runs on
the reference loop and passes ``check_cell``; one that brings its own numba sweep (the way the
built-in cells do, ``rnnlab.kernels.driver.CompiledSweep``) runs on it and matches its reference
to 1e-12 in float64, over masks, truncation, stacks, go_backwards and returned states."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rnnlab import kernels
from rnnlab.cells.base import Array, Cell, GatedCell, State, stack_cached
from rnnlab.gradcheck import check_cell, check_compiled
from rnnlab.layers.recurrent import RNN

NUMBA_OK = kernels.numba_status()[0]


class Minimal(Cell):
    """``h_t = tanh(x_t + h_{t-1} ⊙ w)``: no weights matrix, no projection, no compiled sweep."""

    def __init__(self, units: int) -> None:
        super().__init__()
        self.units = units
        self.state_size = (units,)
        self.output_size = units

    def build(self, input_dim: int, dtype: str, rng: np.random.Generator) -> None:
        super().build(input_dim, dtype, rng)
        if input_dim != self.units:
            raise ValueError(f"Minimal expects {self.units} input features, got {input_dim}")
        self.params, self.grads = {}, {}
        self.add_param("w", rng.standard_normal(self.units).astype(dtype))

    def step(self, p_t: Array, state: State, rec_mask: Array | None) -> tuple[Array, State, Any]:
        h = np.tanh(p_t + state[0] * self.params["w"])
        return h, (h,), (state[0], h)

    def step_backward(self, dy: Array, dstate: State, cache: Any) -> tuple[Array, State]:
        h_prev, h = cache
        da = (dy + dstate[0]) * (1.0 - h * h)
        return da, (da * self.params["w"],)

    def params_backward(self, x: Array, dP: Array, caches: list[Any]) -> Array:
        self.grads["w"] += np.sum(dP * stack_cached(caches, 0), axis=(0, 1))
        return dP


def test_a_cell_with_only_steps_passes_check_cell() -> None:
    cell = Minimal(3)
    report = check_cell(cell, input_dim=3)
    assert report.max_error < 1e-7, report
    layer = RNN(Minimal(3), dtype="float64")
    _, cache = layer.forward(np.ones((2, 4, 3)))
    assert cache.engine == "reference"
    assert cache.reason in ("Minimal has no compiled sweep for its configuration",
                            f"numba unavailable ({kernels.numba_status()[1]})")


# -- a cell with its own compiled sweep --------------------------------------------------------
class Leaky(GatedCell):
    """``h_t = ½ h_{t-1} + ½ tanh(x_t W_ih^T + b_ih + (h_{t-1} ⊙ rec_mask) W_hh^T)``."""

    gates = 1
    keras_blocks = (0,)

    def step(self, p_t: Array, state: State, rec_mask: Array | None) -> tuple[Array, State, Any]:
        h_prev = state[0]
        hm = h_prev if rec_mask is None else h_prev * rec_mask
        u = np.tanh(p_t + hm @ self.params["weight_hh"].T)
        h = 0.5 * h_prev + 0.5 * u
        return h, (h,), (hm, u, rec_mask)

    def step_backward(self, dy: Array, dstate: State, cache: Any) -> tuple[Array, State]:
        _, u, rec_mask = cache
        dh = dy + dstate[0]
        da = 0.5 * dh * (1.0 - u * u)
        dhm = da @ self.params["weight_hh"]
        if rec_mask is not None:
            dhm *= rec_mask
        return da, (0.5 * dh + dhm,)

    def params_backward(self, x: Array, dP: Array, caches: list[Any]) -> Array:
        self._recurrent_params_backward(dP, stack_cached(caches, 0))
        return self._input_params_backward(x, dP)

    def compiled_sweep(self) -> Any:
        if not self.compiled_available():
            return None
        return _leaky_sweep()()


def _leaky_sweep() -> Any:
    """The compiled sweep of ``Leaky`` (defined on first use: it needs numba)."""
    from numba import njit

    from rnnlab.kernels import _numba_kernels as nk
    from rnnlab.kernels._pool import MIN_ROWS
    from rnnlab.kernels.driver import CompiledSweep, scratch

    @njit(nogil=True)
    def forward(P, S, Y, WF, WB, RM, HM, M, reverse, has_rm, has_mask, zero_out, r0, r1):
        T, N, H = P.shape
        t_prev = -1
        for i in range(T):
            t, ip, io = nk.positions(i, T, reverse)
            a = P[t]
            nk.mm_panels(nk.recurrent_operand(S, ip, RM, HM, has_rm, r0, r1), WF, WB,
                         a[r0:r1], 1.0)
            for n in range(r0, r1):
                for j in range(H):
                    u = np.tanh(a[n, j])
                    a[n, j] = u
                    S[io, n, j] = 0.5 * S[ip, n, j] + 0.5 * u
            nk.finish_masked(S, Y, M, t, ip, io, t_prev, has_mask, zero_out, r0, r1)
            t_prev = t

    @njit(nogil=True)
    def backward(P, WF, WB, RM, M, dYt, dZ, dh, DZS, DH, DHZ, carry, lo, hi, dlo, dhi, reverse,
                 has_rm, has_mask, zero_out, acc, r0, r1):
        T, N, H = P.shape
        for i in range(hi - 1, lo - 1, -1):
            t, _, _, has_dy, dz = nk.bptt_position(i, T, reverse, dlo, dhi, acc, DZS, dZ)
            for n in range(r0, r1):
                if has_mask and not M[t, n]:
                    nk.skip_masked_row(dz, carry, dYt, t, n, has_dy, zero_out)
                    continue
                for j in range(H):
                    x = nk.output_grad(dYt, carry, t, n, j, has_dy, has_mask, zero_out) + dh[n, j]
                    u = P[t, n, j]
                    dz[n, j] = 0.5 * x * (1.0 - u * u)
                    DHZ[n, j] = 0.5 * x
            nk.mm_panels(dz[r0:r1], WF, WB, DH[r0:r1], 0.0)
            for n in range(r0, r1):
                if has_mask and not M[t, n]:
                    continue
                for j in range(H):
                    dh[n, j] = DHZ[n, j] + (DH[n, j] * RM[n, j] if has_rm else DH[n, j])
            if acc:
                nk.add_rows(dZ[t], DZS, r0, r1)

    class LeakySweep(CompiledSweep):
        gates = 1
        calls = 0

        def run_forward(self, q: Any) -> None:
            LeakySweep.calls += 1
            Y = q.Y if q.Y is not None else q.S[:1]
            WF, WB = q.WR
            nk.parallel_rows(q.N, MIN_ROWS, lambda r0, r1: forward(
                q.P, q.S, Y, WF, WB, q.RM, q.HM, q.M, q.reverse, q.has_rm, q.has_mask,
                q.zero_out, r0, r1))

        def run_backward(self, q: Any, W: Any, dY: Any, dZ: Any, ds: list[Any], lo: int,
                         hi: int, dlo: int, dhi: int, acc: bool) -> None:
            DZS, DH, carry = scratch(q, acc)
            DHZ = np.empty_like(DH)
            WF, WB = W
            nk.parallel_rows(q.N, MIN_ROWS, lambda r0, r1: backward(
                q.P, WF, WB, q.RM, q.M, dY, dZ, ds[0], DZS, DH, DHZ, carry, lo, hi, dlo, dhi,
                q.reverse, q.has_rm, q.has_mask, q.zero_out, acc, r0, r1))

    global _LEAKY
    if _LEAKY is None:
        _LEAKY = LeakySweep
    return _LEAKY


_LEAKY: Any = None


def test_leaky_reference_passes_check_cell() -> None:
    report = check_cell(Leaky(3, use_bias=True), input_dim=2)
    assert report.max_error < 1e-7, report


@pytest.mark.skipif(not NUMBA_OK, reason="numba engine unavailable")
@pytest.mark.parametrize("opts", [
    {},
    {"go_backwards": True, "mask": True},
    {"truncate_gradient": 2, "return_state": True, "recurrent_dropout": 0.3},
    {"stacked": True, "go_backwards": True, "dropout": 0.2, "zero_output_for_mask": True,
     "mask": True},
])
def test_a_user_cell_runs_on_its_own_compiled_sweep(opts: dict[str, Any]) -> None:
    opts = dict(opts)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 6, 2))
    mask = None
    if opts.pop("mask", False):
        mask = np.ones((5, 6), dtype=bool)
        mask[1, 4:] = False
        mask[3, :2] = False
    cell_kw = {k: opts.pop(k) for k in ("dropout", "recurrent_dropout") if k in opts}
    n = 2 if opts.pop("stacked", False) else 1
    layer = RNN([Leaky(4, **cell_kw) for _ in range(n)], return_sequences=True, dtype="float64",
                seed=3, **opts)
    layer.build(x.shape)
    before = _leaky_sweep().calls
    report = check_compiled(layer, x, mask=mask, training=bool(cell_kw))
    assert _leaky_sweep().calls > before
    assert report.max_error < 1e-12, report


@pytest.mark.skipif(not NUMBA_OK, reason="numba engine unavailable")
def test_a_user_sweep_without_state_gradients_says_so_and_diagnostics_use_the_reference(
) -> None:
    """``LeakySweep`` hands back no per-step state gradients (``state_grads = 0``): asking its
    layer for them is a clear error, and ``gradient_flow`` runs its copy on the reference."""
    from rnnlab.diagnostics import gradient_flow
    from rnnlab.layers import Dense
    from rnnlab.models import Sequential

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((4, 5, 2)), rng.standard_normal((4, 1))
    layer = RNN(Leaky(3), dtype="float64")
    outs, cache = layer.forward(x)
    assert cache.engine == "compiled"
    with pytest.raises(RuntimeError, match="no per-step state gradients"):
        layer.backward_with_state_grads(np.ones_like(outs), cache)
    model = Sequential([RNN(Leaky(3), input_shape=(5, 2)), Dense(1)])
    model.compile("sgd", "mse")
    flow = gradient_flow(model, x, y)
    with kernels.use_engine("reference"):
        expected = gradient_flow(model, x, y)
    key = model.layers[0].name
    np.testing.assert_array_equal(flow.state_grad_norm[key], expected.state_grad_norm[key])
    np.testing.assert_array_equal(flow.jacobian_norm[key], expected.jacobian_norm[key])
    assert (flow.state_grad_norm[key] > 0).all()
