"""``RNN.backward_with_state_grads`` / ``RNN.cell_state_grads``: the per-step state gradients the
layer's own backward sweeps compute (what ``rnnlab.diagnostics`` reads), equal on the compiled
and the reference sweep (float64, 1e-12 relative) over masks × go_backwards × truncation ×
stacks × cells, equal to PyTorch autograd on a hand-unrolled loop, and asking for them changes
nothing else."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rnnlab import kernels
from rnnlab.cells import GRUCell, LSTMCell, SimpleRNNCell
from rnnlab.layers import RNN

NUMBA_OK = kernels.numba_status()[0]
needs_numba = pytest.mark.skipif(not NUMBA_OK, reason="numba engine unavailable")
TOL = 1e-12
N, T, D = 3, 6, 2
CELLS = {"simple": SimpleRNNCell, "lstm": LSTMCell, "gru": GRUCell}


def rel(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max |b|."""
    assert a.shape == b.shape
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def _layer(kind: str, stacked: bool, **kw: Any) -> RNN:
    cells = [CELLS[kind](4)] + ([CELLS["gru" if kind == "lstm" else "lstm"](3)] if stacked
                                else [])
    layer = RNN(cells, return_sequences=True, return_state=True, dtype="float64", **kw)
    layer.build((None, T, D))
    rng = np.random.default_rng(5)
    for _, p in sorted(layer.named_params()):
        p[...] = rng.standard_normal(p.shape) * 0.6
    return layer


def _data(masked: bool) -> tuple[np.ndarray, np.ndarray | None]:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((N, T, D))
    if not masked:
        return x, None
    mask = np.ones((N, T), dtype=bool)
    mask[0, 4:] = False          # post-padded
    mask[1, :2] = False          # pre-padded
    mask[2, 3] = False           # a hole
    return x, mask


def _run(engine: str, layer: RNN, x: np.ndarray, mask: np.ndarray | None
         ) -> tuple[Any, list[tuple[np.ndarray, ...]], dict[str, np.ndarray]]:
    with kernels.use_engine(engine):
        outs, cache = layer.forward(x, mask=mask)
        assert cache.engine == engine
        rng = np.random.default_rng(9)
        d_outs = [rng.standard_normal(o.shape) for o in outs]
        layer.zero_grad()
        dx, grads = layer.backward_with_state_grads(d_outs, cache)
    return dx, grads, {k: g.copy() for k, g in layer.named_grads()}


@needs_numba
@pytest.mark.parametrize("kind", ["simple", "lstm", "gru"])
@pytest.mark.parametrize("masked", [False, True], ids=["nomask", "mask"])
@pytest.mark.parametrize("go_backwards", [False, True], ids=["fwd", "bwd"])
@pytest.mark.parametrize("truncate", [-1, 2], ids=["full", "trunc2"])
@pytest.mark.parametrize("stacked", [False, True], ids=["single", "stacked"])
def test_compiled_and_reference_state_grads_agree(kind: str, masked: bool, go_backwards: bool,
                                                  truncate: int, stacked: bool) -> None:
    layer = _layer(kind, stacked, go_backwards=go_backwards, truncate_gradient=truncate)
    x, mask = _data(masked)
    _, ref, _ = _run("reference", layer, x, mask)
    _, got, _ = _run("compiled", layer, x, mask)
    assert len(ref) == len(got) == len(layer.cells)
    for cell, r, g in zip(layer.cells, ref, got):
        n_grads = 2 if isinstance(cell, LSTMCell) else 1
        assert len(r) == len(g) == n_grads
        for a, b in zip(g, r):
            assert a.shape == b.shape == (N, T, cell.state_size[0])
            assert np.abs(b).max() > 0
            assert rel(a, b) < TOL
            if mask is not None:                    # a masked step's new state is discarded
                assert (a[~mask] == 0).all() and (b[~mask] == 0).all()


@needs_numba
@pytest.mark.parametrize("kind", ["simple", "lstm", "gru"])
def test_cell_state_grads_agree(kind: str) -> None:
    """The single-cell sweep from final-state gradients (state Jacobians), both engines."""
    layer = _layer(kind, True, go_backwards=True, truncate_gradient=2)
    x, mask = _data(True)
    got = {}
    for engine in ("reference", "compiled"):
        with kernels.use_engine(engine):
            _, cache = layer.forward(x, mask=mask)
            got[engine] = [layer.cell_state_grads(cache, i, [np.ones((N, s))
                                                             for s in c.state_size])
                           for i, c in enumerate(layer.cells)]
    for r, g in zip(got["reference"], got["compiled"]):
        for a, b in zip(g, r):
            assert np.abs(b[:, 0]).max() > 0        # full BPTT: reaches the last position
            assert rel(a, b) < TOL


@pytest.mark.parametrize("engine", ["reference", pytest.param("compiled", marks=needs_numba)])
def test_asking_for_state_grads_changes_nothing_else(engine: str) -> None:
    layer = _layer("lstm", True, go_backwards=True, truncate_gradient=3)
    x, mask = _data(True)
    dx, _, grads = _run(engine, layer, x, mask)
    with kernels.use_engine(engine):
        outs, cache = layer.forward(x, mask=mask)
        rng = np.random.default_rng(9)
        d_outs = [rng.standard_normal(o.shape) for o in outs]
        layer.zero_grad()
        plain = layer.backward(d_outs, cache)
    np.testing.assert_array_equal(dx, plain)
    for k, g in layer.named_grads():
        np.testing.assert_array_equal(grads[k], g)


# -- PyTorch autograd on a hand-unrolled loop: retain_grad on every step's new states -----------
def _torch_step(torch: Any, cell: Any, W: dict[str, Any], x: Any, state: tuple[Any, ...]
                ) -> tuple[Any, ...]:
    H = cell.units
    z_i = x @ W["weight_ih"].T + W["bias_ih"]
    z_h = state[0] @ W["weight_hh"].T + W.get("bias_hh", 0)
    if isinstance(cell, LSTMCell):
        z = z_i + z_h
        i, f = torch.sigmoid(z[:, :H]), torch.sigmoid(z[:, H:2 * H])
        g, o = torch.tanh(z[:, 2 * H:3 * H]), torch.sigmoid(z[:, 3 * H:])
        c = f * state[1] + i * g
        return o * torch.tanh(c), c
    r = torch.sigmoid(z_i[:, :H] + z_h[:, :H])                       # GRU, reset after
    u = torch.sigmoid(z_i[:, H:2 * H] + z_h[:, H:2 * H])
    n = torch.tanh(z_i[:, 2 * H:] + r * z_h[:, 2 * H:])
    return ((1 - u) * n + u * state[0],)


@pytest.mark.oracle
@pytest.mark.parametrize("engine", ["reference", pytest.param("compiled", marks=needs_numba)])
def test_state_grads_equal_torch_autograd(engine: str) -> None:
    """A masked, reversed stack (LSTM under GRU) with gradients on every output and the final
    states: every step's ∂L/∂h_t (and ∂L/∂c_t) equals autograd's."""
    torch = pytest.importorskip("torch")
    layer = _layer("lstm", True, go_backwards=True)
    x, mask = _data(True)
    with kernels.use_engine(engine):
        outs, cache = layer.forward(x, mask=mask)
        d_outs = [np.random.default_rng(9).standard_normal(o.shape) for o in outs]
        _, grads = layer.backward_with_state_grads(d_outs, cache)

    m = torch.tensor(mask)
    seq = torch.tensor(x)
    kept: list[dict[int, tuple[Any, ...]]] = []
    finals: list[Any] = []
    for cell in layer.cells:
        W = {k: torch.tensor(v, requires_grad=True) for k, v in cell.params.items()}
        state = tuple(torch.zeros(N, s, dtype=torch.float64) for s in cell.state_size)
        y_prev = torch.zeros(N, cell.output_size, dtype=torch.float64)
        steps: dict[int, tuple[Any, ...]] = {}
        ys: list[Any] = [None] * T
        for t in reversed(range(T)):                                 # go_backwards
            new = _torch_step(torch, cell, W, seq[:, t], state)
            for s in new:
                s.retain_grad()
            steps[t] = new
            keep = m[:, t, None]
            state = tuple(torch.where(keep, a, b) for a, b in zip(new, state))
            ys[t] = y_prev = torch.where(keep, new[0], y_prev)
        kept.append(steps)
        finals += list(state)
        seq = torch.stack(ys, 1)
    out = seq.flip(1)                                                # processing order
    loss = (out * torch.tensor(d_outs[0])).sum()
    for f, g in zip(finals, d_outs[1:]):
        loss = loss + (f * torch.tensor(g)).sum()
    loss.backward()
    for cell_grads, steps in zip(grads, kept):
        for k, ours in enumerate(cell_grads):
            expected = np.stack([np.zeros((N, ours.shape[-1])) if steps[t][k].grad is None
                                 else steps[t][k].grad.numpy() for t in range(T)], axis=1)
            assert np.abs(expected).max() > 0
            np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-12)
