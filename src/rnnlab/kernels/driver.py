"""Fast forward/backward of a built-in cell over a whole sequence (engine-independent part).

Layout (T steps, N batch, D inputs, H units, G = gates·H), everything *time-major* and
contiguous, indexed by time (not by processing order):

``x (T, N, D)``      the cell's input (kept for the weight gradient);
``P (T, N, G)``      ``x W_ih^T + b_ih (+ b_hh)``, with sigmoid-gate columns scaled by 1/2; each
                     step turns its slice into pre-activations and then into activated gates
                     (the backward pass needs nothing else from the gates);
``S (T+1, N, H)``    hidden states: step t reads ``S[t]`` and writes ``S[t+1]`` (reversed:
                     reads ``S[t+1]``, writes ``S[t]``), so outputs are a slice of ``S``;
``C``, ``TC``        LSTM cell states (same indexing as ``S``) and ``tanh(c_t)``;
``HN (T, N, H)``     GRU: ``h W_hn^T + b_hn``, needed by the reset gate's gradient;
``Y (T, N, H)``      outputs, only with a sequence mask (masked steps repeat or zero them);
``WR``               ``W_hh^T (H, G)`` in the engine's layout (``engine.pack_forward``: one
                     contiguous matrix for numpy, column panels for numba), copied once per call.

The backward sweep writes ``dZ (T, N, G)`` (gradient of the pre-activations = of ``P``), then
every weight gradient is one large product over all steps. What is kept for the backward pass is
exactly ``x, P, S`` (+ ``C, TC`` or ``HN``): O(T·N·(D + G + 3H)).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..cells.base import Array
from .products import column_sums, matmul

_ACT_CODES = {"tanh": 0, "relu": 1, "linear": 2}
PRODUCT_ROWS = 64  # smallest row block (steps × batch) of a whole-sequence product per thread


def fast_kind(cell: Any) -> str | None:
    """``"simple"``, ``"lstm"``, ``"gru"`` when ``cell`` is a built-in cell in a configuration
    the fast paths implement, else None (the reference path runs)."""
    from ..cells import GRUCell, LSTMCell, SimpleRNNCell

    if getattr(cell, "dtype", None) not in ("float32", "float64"):
        return None
    kind = type(cell)
    if kind is SimpleRNNCell:
        return "simple" if cell.activation_name in _ACT_CODES else None
    if kind is LSTMCell:
        ok = cell.activation_name == "tanh" and cell.recurrent_activation_name == "sigmoid"
        return "lstm" if ok else None
    if kind is GRUCell:
        ok = (cell.activation_name == "tanh" and cell.recurrent_activation_name == "sigmoid"
              and cell.reset_after)
        return "gru" if ok else None
    return None


class Seq:
    """Buffers and flags of one cell's fast forward pass (the cache of its backward pass)."""

    __slots__ = ("kind", "act", "engine", "T", "N", "D", "H", "G", "reverse", "zero_out",
                 "has_mask", "has_rm", "x", "P", "S", "C", "TC", "HN", "Y", "M", "RM",
                 "WR", "bhh", "bhn", "HP", "HM")

    kind: str                # "simple", "lstm" or "gru"
    act: int                 # activation code of a SimpleRNN cell (_ACT_CODES)
    engine: Any              # the engine module (rnnlab.kernels._numpy_kernels or numba's)
    T: int
    N: int
    D: int
    H: int
    G: int
    reverse: bool
    zero_out: bool
    has_mask: bool
    has_rm: bool
    x: Array
    P: Array
    S: Array
    C: Array | None          # LSTM only
    TC: Array | None         # LSTM only
    HN: Array | None         # GRU only
    Y: Array | None          # only with a sequence mask
    M: Array
    RM: Array
    WR: Any                  # engine.pack_forward's layout
    bhh: Array
    bhn: Array
    HP: Array | None         # GRU only
    HM: Array


def _dummy(dtype: Any, ndim: int) -> Array:
    return np.zeros((1,) * ndim, dtype=dtype)


def forward(engine: Any, kind: str, cell: Any, x_tm: Array, state: tuple[Array, ...],
            mask_tm: Array | None, rec_mask: Array | None, reverse: bool,
            zero_output: bool) -> Seq:
    """Run ``cell`` over ``x_tm (T, N, D)`` (time order, contiguous) from ``state``;
    ``mask_tm (T, N)`` bool or None. Returns the filled ``Seq``."""
    T, N, D = x_tm.shape
    dtype = x_tm.dtype
    H = cell.units
    gates = {"simple": 1, "lstm": 4, "gru": 3}[kind]
    G = gates * H
    prm = cell.params
    q = Seq()
    q.kind, q.engine = kind, engine
    q.act = _ACT_CODES.get(cell.activation_name, 0) if kind == "simple" else 0
    q.T, q.N, q.D, q.H, q.G = T, N, D, H, G
    q.reverse, q.zero_out = bool(reverse), bool(zero_output)
    q.x = x_tm
    # numpy engine: sigmoid-gate columns scaled by 1/2 (exact), so one tanh call per step serves
    # every gate: sigmoid(z) = (tanh(z/2) + 1) / 2, and b_hh folded into P. The numba engine
    # takes P = x W_ih^T + b_ih as it is and adds b_hh itself (the reference's order).
    prescale = engine.PRESCALE
    scale = np.ones(G, dtype=dtype)
    if prescale and kind == "lstm":
        scale[:2 * H] = 0.5
        scale[3 * H:] = 0.5
    elif prescale and kind == "gru":
        scale[:2 * H] = 0.5
    bias = np.zeros(G, dtype=dtype)
    rb = cell.use_bias and cell.recurrent_bias
    if cell.use_bias:
        bias += prm["bias_ih"]
        if rb and prescale:
            if kind == "gru":
                bias[:2 * H] += prm["bias_hh"][:2 * H]
            else:
                bias += prm["bias_hh"]
        bias *= scale
    q.bhh = prm["bias_hh"] if rb and not prescale else _dummy(dtype, 1)
    q.bhn = (np.ascontiguousarray(prm["bias_hh"][2 * H:]) if kind == "gru" and rb
             else _dummy(dtype, 1))
    P = np.empty((T, N, G), dtype=dtype)
    x2, P2, w_t = x_tm.reshape(T * N, D), P.reshape(T * N, G), prm["weight_ih"].T

    def project(r0: int, r1: int) -> None:
        np.matmul(x2[r0:r1], w_t, out=P2[r0:r1])
        engine.project(P2[r0:r1], scale, bias)

    engine.parallel_rows(T * N, PRODUCT_ROWS, project)
    q.P = P
    # W_hh^T (H, G): h @ W_hh^T as an NN product (1.5-2.7x faster than h @ W_hh.T), in the
    # engine's layout (numpy: one matrix, sigmoid columns pre-scaled; numba: column panels)
    q.WR = engine.pack_forward(prm["weight_hh"].T, scale if prescale else None, N)
    start = T if reverse else 0
    S = np.empty((T + 1, N, H), dtype=dtype)
    S[start] = state[0]
    q.S = S
    if kind == "lstm":
        q.C = np.empty((T + 1, N, H), dtype=dtype)
        q.C[start] = state[1]
        q.TC = np.empty((T, N, H), dtype=dtype)
    else:
        q.C = q.TC = None
    if kind == "gru":
        q.HN = np.empty((T, N, H), dtype=dtype)
        q.HP = np.empty((N, G), dtype=dtype)
    else:
        q.HN = q.HP = None
    q.has_mask = mask_tm is not None
    q.M = mask_tm if mask_tm is not None else np.ones((1, 1), dtype=bool)
    q.Y = np.empty((T, N, H), dtype=dtype) if q.has_mask else None
    q.has_rm = rec_mask is not None
    q.RM = (np.ascontiguousarray(rec_mask, dtype=dtype) if rec_mask is not None
            else _dummy(dtype, 2))
    q.HM = np.empty((N, H), dtype=dtype) if q.has_rm else _dummy(dtype, 2)
    engine.forward(q)
    return q


def outputs(q: Seq) -> Array:
    """Outputs ``(T, N, H)`` in time order (a view of the buffers)."""
    if q.Y is not None:  # written only with a mask
        return q.Y
    return q.S[:q.T] if q.reverse else q.S[1:]


def final_state(q: Seq) -> tuple[Array, ...]:
    end = 0 if q.reverse else q.T
    if q.C is not None:  # LSTM
        return q.S[end].copy(), q.C[end].copy()
    return (q.S[end].copy(),)


def backward(q: Seq, cell: Any, dYt: Array | None, dstate: tuple[Array, ...],
             truncate: int, need_dx: bool = True) -> tuple[Array | None, tuple[Array, ...]]:
    """BPTT of one sweep. ``dYt (T, N, H)``: gradient of the outputs, indexed by *time* (or
    None). Adds the parameter gradients into ``cell.grads``; returns ``(dX (T, N, D) time-major,
    d_initial_state)``; ``dX`` is None (its product skipped) when not ``need_dx``."""
    T, N, H, G = q.T, q.N, q.H, q.G
    dtype = q.P.dtype
    eng = q.engine
    if dYt is None:
        has_dy, dY = False, _dummy(dtype, 3)
    else:
        has_dy, dY = True, dYt
    W = eng.pack_backward(cell.params["weight_hh"], N)
    n_states = 2 if q.kind == "lstm" else 1

    def fresh(d: tuple[Array, ...]) -> list[Array]:
        return [np.array(a, dtype=dtype, order="C", copy=True) for a in d[:n_states]]

    full = truncate <= 0 or truncate >= T
    dZ = np.empty((T, N, G), dtype=dtype) if full else np.zeros((T, N, G), dtype=dtype)
    if full:
        ds = fresh(dstate)
        eng.backward(q, W, dY, dZ, ds, 0, T, 0, T if has_dy else 0, False)
        d0 = tuple(ds)
    else:
        # as rnnlab.layers.sweep.sweep_gradients: the final state's gradient through the last
        # k steps, then each output's gradient through at most k steps
        zeros = tuple(np.zeros((N, H), dtype=dtype) for _ in range(n_states))
        d0_list = [z.copy() for z in zeros]
        lo = T - truncate
        ds = fresh(dstate)
        eng.backward(q, W, dY, dZ, ds, lo, T, 0, 0, True)
        if lo == 0:
            for a, b in zip(d0_list, ds):
                a += b
        if has_dy:
            for i in range(T):
                lo = max(0, i - truncate + 1)
                ds = fresh(zeros)
                eng.backward(q, W, dY, dZ, ds, lo, i + 1, i, i + 1, True)
                if lo == 0:
                    for a, b in zip(d0_list, ds):
                        a += b
        d0 = tuple(d0_list)
    dX = _params_backward(q, cell, dZ, need_dx)
    return dX, d0


def _params_backward(q: Seq, cell: Any, dZ: Array, need_dx: bool = True) -> Array | None:
    """Weight and bias gradients (added into ``cell.grads``) and ``dX`` (when ``need_dx``): one
    product each over all steps (``products.matmul``: split by output rows across the engine's
    threads, no partial sums)."""
    T, N, D, H, G = q.T, q.N, q.D, q.H, q.G
    R = T * N
    grads, prm, eng = cell.grads, cell.params, q.engine
    dZ2, x2 = dZ.reshape(R, G), q.x.reshape(R, D)
    prev = q.S[1:] if q.reverse else q.S[:T]                            # state before each step
    if q.has_rm:
        prev = prev * q.RM
    prev2 = prev.reshape(R, H)
    grads["weight_ih"] += matmul(dZ2.T, x2, engine_module=eng)
    if q.kind == "gru":                                   # reset_after: W_hn sees r ⊙ dn
        dn_r = dZ2[:, 2 * H:] * q.P.reshape(R, G)[:, :H]
        grads["weight_hh"][:2 * H] += matmul(dZ2[:, :2 * H].T, prev2, engine_module=eng)
        grads["weight_hh"][2 * H:] += matmul(dn_r.T, prev2, engine_module=eng)
    else:
        grads["weight_hh"] += matmul(dZ2.T, prev2, engine_module=eng)
    if cell.use_bias:
        b = column_sums(dZ2, eng)
        grads["bias_ih"] += b
        if cell.recurrent_bias and q.kind == "gru":
            grads["bias_hh"][:2 * H] += b[:2 * H]
            grads["bias_hh"][2 * H:] += column_sums(dn_r, eng)
        elif cell.recurrent_bias:
            grads["bias_hh"] += b
    if not need_dx:
        return None
    return matmul(dZ2, prm["weight_ih"], engine_module=eng).reshape(T, N, D)
