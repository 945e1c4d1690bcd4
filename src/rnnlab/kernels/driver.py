"""A compiled sweep: the base class a cell's numba kernels plug into, and the buffers they share.

A cell opts in by returning a ``CompiledSweep`` from ``cell.compiled_sweep()`` (the cell
contract, ``rnnlab.cells.base``); the built-in cells keep theirs beside their reference step
(``rnnlab.cells.lstm.sweep`` and so on). This module knows no cell: it allocates the buffers
every gated cell uses, projects the inputs, packs the recurrent weight and does the
whole-sequence weight products; the subclass allocates its own extra buffers and runs its
kernels over row blocks of the batch (``_numba_kernels.parallel_rows``).

Layout (T steps, N batch, D inputs, H units, G = gates·H), everything *time-major*, contiguous
and indexed by time (not by processing order):

``x (T, N, D)``      the cell's input (kept for the weight gradient), rows contiguous: a
                     batch-major input's transposed view is copied to time-major order here,
                     except where the sweep projects each step itself (``step_input``);
``P (T, N, G)``      ``x W_ih^T + b_ih``; each step turns its slice into pre-activations and then
                     into activated gates (the backward pass needs nothing else from the gates).
                     A sweep with ``adds_input_bias`` gets ``x W_ih^T`` alone and adds ``bih``
                     (``b_ih``, zeros without a bias) to each step's slice itself, so that the
                     projection is one product and no second pass over the whole of ``P``.
                     A sweep with ``step_input`` may get ``P`` empty instead, with ``X`` (the
                     input, any strides) and ``WI`` (``W_ih^T`` packed as ``WR`` is): each
                     step then writes its own ``x_t W_ih^T`` into ``P[t]`` first
                     (``_numba_kernels.step_input``; ``step_input`` here says when);
``S (T+1, N, H)``    hidden states: step t reads ``S[t]`` and writes ``S[t+1]`` (reversed:
                     reads ``S[t+1]``, writes ``S[t]``), so outputs are a slice of ``S``;
``Y (T, N, H)``      outputs, only with a sequence mask (masked steps repeat or zero them);
``M (T, N)``         the mask (``has_mask``); ``RM (N, H)`` the recurrent-dropout mask
                     (``has_rm``), ``HM (N, H)`` scratch for ``S[t] ⊙ RM``;
``bhh (G,)``         ``b_hh`` (zeros without a recurrent bias), added after the recurrent product;
``bih (G,)``         ``b_ih`` (zeros without a bias);
``WR``               ``W_hh^T (H, G)`` for ``_numba_kernels.mm_panels`` (``pack_panels``: as
                     strips, ``_strips``, or column panels), packed once per call; with ``K``
                     unit blocks per step (``unit_blocks``), as strips by blocks
                     (``pack_units``) instead, and ``Z (N, G)`` their products;
``extra``            the cell's own buffers (LSTM: ``C``, ``TC``; GRU: ``HN``, ``HP``).

The backward sweep writes ``dZ (T, N, G)`` (gradient of the pre-activations = of ``P``), then
every weight gradient is one large product over all steps. On request (``state_grads``, for
diagnostics) the same sweep also adds every step's total gradient of its new states into
``dS``: ``(T, N, H)`` arrays in time order, ``h`` (and LSTM's ``c``); unrequested, the kernels
get ``None`` there and numba compiles those lines out. What is kept for the backward pass is
exactly ``x, P, S`` and the extra buffers: O(T·N·(D + G + 3H)); ``keep_cache=False`` (inference)
drops ``x``.

Rings (``ring``, inference that wants only the final states and the last step's outputs:
``forward(last_only=True)`` on a sweep with ``rings``, no sequence mask): every per-step buffer
holds only what the next step reads, and step ``t`` (state ``k``) sits at ``t % len`` (``k %
len``, ``_numba_kernels.slot``): ``S`` and the cell's states (LSTM ``C``) 2 slots, ``P`` (where
each step projects its own input) and the cell's per-step extras (LSTM ``TC``) 1. The clf
LSTM's ``(T, N, 4H)`` gate buffer is 1.6 MB; its ring is 16 kB and stays in the core's cache.
Nothing can run backward over them (``backward`` refuses).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..cells.base import Array
from . import numba_module
from .products import column_sums, matmul, matmul_add
from .workspace import Workspace

PRODUCT_ROWS = 64  # smallest row block (steps × batch) of a whole-sequence product per thread


class Seq:
    """Buffers and flags of one compiled forward sweep (the cache of its backward sweep)."""

    __slots__ = ("sweep", "T", "N", "D", "H", "G", "reverse", "zero_out", "has_mask",
                 "has_rm", "ring", "x", "P", "X", "WI", "S", "Y", "M", "RM", "HM", "WR", "K", "Z",
                 "bhh", "bih", "extra", "ws", "owned")
    sweep: CompiledSweep
    T: int
    N: int
    D: int
    H: int
    G: int
    reverse: bool
    zero_out: bool
    has_mask: bool
    has_rm: bool
    ring: bool
    x: Array | None
    P: Array
    X: Array | None
    WI: tuple[Array, Array]
    S: Array
    Y: Array | None
    M: Array
    RM: Array
    HM: Array
    WR: Any
    K: int
    Z: Array
    bhh: Array
    bih: Array
    extra: dict[str, Array]
    ws: Workspace | None
    owned: list[Array]

    def __init__(self, ws: Workspace | None = None) -> None:
        self.extra: dict[str, Array] = {}
        self.ws = ws
        self.owned: list[Array] = []

    def __del__(self) -> None:  # when this sweep is dropped, its buffers go back to the pool
        ws = self.ws
        if ws is not None:      # (``__del__``: 0.1 us; a ``weakref.finalize`` cost 1 us a call)
            ws.give_later(self.owned)

    def empty(self, shape: tuple[int, ...], dtype: Any) -> Array:
        """A buffer of this sweep (from the workspace, given back when the sweep is dropped)."""
        if self.ws is None:
            return np.empty(shape, dtype=dtype)
        a = self.ws.empty(shape, dtype)
        self.owned.append(a)
        return a


_DUMMIES: dict[tuple[str, int], Array] = {}


def dummy(dtype: Any, ndim: int) -> Array:
    """A placeholder for an absent buffer (compiled kernels need an array of the right rank):
    one per dtype and rank, shared by every sweep, which never reads or writes it (its flag
    says the buffer is absent)."""
    key = (np.dtype(dtype).str, ndim)
    a = _DUMMIES.get(key)
    if a is None:
        a = _DUMMIES[key] = np.zeros((1,) * ndim, dtype=dtype)
    return a


class CompiledSweep:
    """A cell's compiled forward and backward sweeps over the buffers of ``Seq``.

    Subclasses set ``gates`` and implement ``allocate``, ``run_forward`` and ``run_backward``
    (each ``run_*`` calls its compiled kernel on row blocks through
    ``_numba_kernels.parallel_rows``); ``final_state`` and ``recurrent_grads`` have defaults
    for a cell whose only state is ``h`` and whose recurrent pre-activation gradient is ``dZ``.
    ``state_grads``: how many per-step state gradients ``run_backward`` hands back into ``dS``
    (``h``; LSTM ``h, c``); 0, the default, for a sweep that cannot
    (``RNN.backward_with_state_grads`` then asks for the reference engine).
    ``adds_input_bias``: its forward kernel adds ``q.bih`` to each step's ``P[t]`` before using
    it (``_numba_kernels.forward_position`` does); False, the default, gets ``P`` with ``b_ih``
    already in. ``unit_blocks``: its forward kernel can also split each step by units
    (``_numba_kernels.unit_blocks``): the driver then sets ``q.K`` (blocks per step, else 0),
    packs ``q.WR`` with ``pack_units`` and gives ``q.Z (N, G)`` scratch.
    ``unit_blocks_backward``: its BPTT kernel splits those sweeps' steps by units too (its
    ``W`` then comes from ``pack_units_backward``). ``step_input``: its forward kernel, split
    by rows, calls ``_numba_kernels.step_input`` with ``q.X`` and ``q.WI`` at each step before
    reading ``P[t]`` (the driver then may skip the whole-sequence projection). ``rings``: its
    forward kernels index ``P``, ``S`` and its own per-step buffers through
    ``_numba_kernels.slot`` and its ``allocate`` sizes them by ``q.ring`` (see "Rings"
    above), so that ``forward(last_only=True)`` can run it over rings.
    """

    gates: int = 1
    state_grads: int = 0
    adds_input_bias: bool = False
    step_input: bool = False
    unit_blocks: bool = False
    unit_blocks_backward: bool = False
    rings: bool = False

    def allocate(self, q: Seq, state: tuple[Array, ...], start: int) -> None:
        """Create the cell's extra buffers in ``q.extra``, initial states at index ``start``."""

    def run_forward(self, q: Seq) -> None:
        raise NotImplementedError

    def run_backward(self, q: Seq, W: Any, dY: Array, dZ: Array, ds: list[Array], lo: int,
                     hi: int, dlo: int, dhi: int, acc: bool,
                     dS: tuple[Array, ...] | None = None) -> None:
        """BPTT over processing positions ``hi-1 … lo``; output gradients ``dY[t]`` enter at
        positions ``dlo <= i < dhi``; ``ds`` (state gradients) updated in place; ``dZ[t]``
        written, or accumulated with ``acc`` (truncation windows). ``dS`` (passed only when
        requested, ``state_grads`` arrays ``(T, N, H)``): add the total gradient of each new
        state at every position of the window into ``dS[k][t]``."""
        raise NotImplementedError

    def final_state(self, q: Seq) -> tuple[Array, ...]:
        return (last_state(q, q.S).copy(),)

    def step_states(self, q: Seq) -> dict[str, Array]:
        """Per-step states ``(T, N, H)`` in time order, views of the buffers (introspection)."""
        if q.ring:
            raise RuntimeError("this sweep ran over rings (last_only=True): it kept no "
                               "per-step states")
        return {"h": q.S[:q.T] if q.reverse else q.S[1:]}

    def recurrent_grads(self, q: Seq, cell: Any, dZ2: Array, prev2: Array,
                        bsum: Array | None) -> None:
        """``weight_hh`` (and ``bias_hh``) gradients from ``dZ (T·N, G)``, the recurrent
        operands ``prev (T·N, H)`` and ``bsum``, the column sums of ``dZ`` (None without
        bias); ``weight_ih``/``bias_ih`` are done by the caller."""
        matmul_add(dZ2.T, prev2, cell.grads["weight_hh"], engine_module=_kernels())
        if bsum is not None and cell.recurrent_bias:
            cell.grads["bias_hh"] += bsum


def _kernels() -> Any:
    return numba_module()


def last_state(q: Seq, buf: Array) -> Array:
    """The state the sweep ended on in ``buf`` (``S`` or a cell's state buffer, ``T+1`` states
    or a ring of them): index 0 reversed, else ``T``."""
    end = 0 if q.reverse else q.T
    return buf[end % buf.shape[0]]


def scratch(q: Seq, acc: bool) -> tuple[Array, Array, Array]:
    """``(DZS, DH, carry)``: one step's pre-activation gradient (windows only), the state
    gradient product, the carried output gradient of masked rows."""
    dtype = q.P.dtype
    DZS = np.empty((q.N, q.G), dtype=dtype) if acc else np.empty((1, 1), dtype=dtype)
    return DZS, np.empty((q.N, q.H), dtype=dtype), np.zeros((q.N, q.H), dtype=dtype)


# Each step's input product inside the sweep, over the input weight in strips, instead of one
# product over all steps beforehand: where ``W_ih^T`` is small it stays in cache between steps,
# the input needs no time-major copy, and a sweep on several threads no second hand-off. Through
# ``predict_on_batch`` (float32, AMD EPYC Zen 5, benchmarks/step_input.py) the clf LSTM (32 rows,
# 100 steps of (32, 32) @ (32, 128)) took 569 us against 714 on one core and 429 against 629 on
# two, the mnist LSTM 687 against 826 and 526 against 557; GRU and SimpleRNN inference gained
# 6-32%, training moved by -5 to +9% (benchmarks/RESULTS.md, "Each step's input product").
STEP_INPUT_BYTES = 256 * 1024  # the largest W_ih (elements · itemsize) projected step by step


def step_input(sweep: CompiledSweep, x_tm: Array, D: int, G: int, N: int, units: bool) -> bool:
    """Whether ``sweep`` projects each step's input itself (``CompiledSweep.step_input``): a
    sweep split by rows whose per-step products run over strips, with a ``(D, G)`` input weight
    of at most ``STEP_INPUT_BYTES`` and an input whose rows are contiguous."""
    nk = _kernels()
    return (sweep.step_input and not units and D * G * x_tm.itemsize <= STEP_INPUT_BYTES
            and (D <= 1 or x_tm.strides[2] == x_tm.itemsize)
            and nk.use_strips(nk._block_rows(N), x_tm.dtype))


def forward(sweep: CompiledSweep, cell: Any, x_tm: Array, state: tuple[Array, ...],
            mask_tm: Array | None, rec_mask: Array | None, reverse: bool,
            zero_output: bool, keep_cache: bool = True, ws: Workspace | None = None,
            last_only: bool = False) -> Seq:
    """Run ``cell`` over ``x_tm (T, N, D)`` (time order; any strides, e.g. a batch-major
    input's ``swapaxes(0, 1)`` view) from ``state``; ``mask_tm (T, N)`` bool or None. Buffers
    come from ``ws`` when given (and go back to it when the returned ``Seq`` is dropped).
    ``last_only`` (inference wanting only the final states and the last step's outputs): over
    rings where the sweep has ``rings`` and there is no mask (``q.ring``; "Rings" above), with
    no backward cache. Returns the filled ``Seq``."""
    nk = _kernels()
    T, N, D = x_tm.shape
    dtype = x_tm.dtype
    H = cell.units
    G = sweep.gates * H
    prm = cell.params
    q = Seq(ws)
    q.sweep = sweep
    q.T, q.N, q.D, q.H, q.G = T, N, D, H, G
    q.reverse, q.zero_out = bool(reverse), bool(zero_output)
    bias = np.array(prm["bias_ih"], dtype=dtype) if cell.use_bias else np.zeros(G, dtype=dtype)
    q.bih = bias
    rb = cell.use_bias and cell.recurrent_bias
    q.bhh = np.array(prm["bias_hh"], dtype=dtype) if rb else np.zeros(G, dtype=dtype)
    q.has_mask = mask_tm is not None
    q.has_rm = rec_mask is not None
    q.ring = last_only and sweep.rings and not q.has_mask
    keep_cache = keep_cache and not last_only
    units = sweep.unit_blocks and not (q.has_mask or q.has_rm)
    q.K = nk.unit_blocks(N, H, sweep.gates) if units else 0
    stepwise = step_input(sweep, x_tm, D, G, N, bool(q.K))
    P = q.empty((1 if q.ring and stepwise else T, N, G), dtype)
    if stepwise:
        q.X = x_tm
        q.WI = nk.pack_forward(prm["weight_ih"].T, N, q.empty)
    else:
        x_tm = np.ascontiguousarray(x_tm)
        q.X, q.WI = None, (dummy(dtype, 1), dummy(np.int64, 1))
        x2, P2 = x_tm.reshape(T * N, D), P.reshape(T * N, G)
        w_t = nk.nn_operand(prm["weight_ih"], T * N, q.empty)
        add_bias = cell.use_bias and not sweep.adds_input_bias

        def project(r0: int, r1: int) -> None:
            np.matmul(x2[r0:r1], w_t, out=P2[r0:r1])
            if add_bias:
                nk.add_bias(P2[r0:r1], bias)

        nk.parallel_rows(T * N, PRODUCT_ROWS, project)
    q.x = x_tm if keep_cache else None
    q.P = P
    # W_hh^T (H, G): h @ W_hh^T as an NN product (1.5-2.7x faster than h @ W_hh.T)
    if q.K:
        q.WR = nk.pack_units(prm["weight_hh"].T, q.K, sweep.gates, q.empty)
        q.Z = q.empty((N, G), dtype)
    else:
        q.WR = nk.pack_forward(prm["weight_hh"].T, N, q.empty, T)
        q.Z = dummy(dtype, 2)
    start = T if reverse else 0
    q.S = q.empty((2 if q.ring else T + 1, N, H), dtype)
    q.S[start % q.S.shape[0]] = state[0]
    sweep.allocate(q, state, start)
    q.M = mask_tm if mask_tm is not None else dummy(bool, 2)
    q.Y = q.empty((T, N, H), dtype) if q.has_mask else None
    q.RM = (np.ascontiguousarray(rec_mask, dtype=dtype) if rec_mask is not None
            else dummy(dtype, 2))
    q.HM = q.empty((N, H), dtype) if q.has_rm else dummy(dtype, 2)
    sweep.run_forward(q)
    return q


def outputs(q: Seq) -> Array:
    """Outputs ``(T, N, H)`` in time order (a view of the buffers); over rings, ``(1, N, H)``:
    the last processed step's alone."""
    if q.ring:
        return last_state(q, q.S)[None]
    if q.Y is not None:
        return q.Y
    return q.S[:q.T] if q.reverse else q.S[1:]


def backward(q: Seq, cell: Any, dYt: Array | None, dstate: tuple[Array, ...],
             windows: list[Any], need_dx: bool = True, state_grads: bool = False
             ) -> tuple[Array | None, tuple[Array, ...], tuple[Array, ...] | None]:
    """BPTT of one compiled sweep over ``windows`` (``rnnlab.layers.sweep.windows``).
    ``dYt (T, N, H)``: gradient of the outputs, indexed by *time* (or None). Adds the parameter
    gradients into ``cell.grads``; returns ``(dX (T, N, D) time-major, d_initial_state, dS)``;
    ``dX`` is None (its product skipped) when not ``need_dx``; ``dS`` is None unless
    ``state_grads``: then every step's total gradient of the new states, ``(T, N, H)`` each in
    time order (summed over the windows, as the parameter gradients are)."""
    if q.x is None:
        raise RuntimeError("this sweep ran for inference (keep_cache=False or last_only=True): "
                           "no backward pass")
    T, N, G = q.T, q.N, q.G
    dtype = q.P.dtype
    dS = None
    if state_grads:
        if q.sweep.state_grads < 1:
            raise RuntimeError(
                f"{type(q.sweep).__name__} hands back no per-step state gradients "
                "(CompiledSweep.state_grads = 0): run under rnnlab.engine('reference')")
        dS = tuple(np.zeros((T, N, q.H), dtype=dtype) for _ in range(q.sweep.state_grads))
    dY = dummy(dtype, 3) if dYt is None else dYt
    nk = _kernels()
    w_hh = cell.params["weight_hh"]
    W = (nk.pack_units_backward(w_hh, q.K, q.empty)
         if q.K and dS is None and q.sweep.unit_blocks_backward
         else nk.pack_backward(w_hh, N, q.empty))
    acc = len(windows) > 1
    dZ = q.ws.empty((T, N, G), dtype) if q.ws is not None else np.empty((T, N, G), dtype)
    if acc:
        dZ.fill(0)
    zeros = tuple(np.zeros_like(d, dtype=dtype) for d in dstate)
    d0 = [np.zeros_like(d, dtype=dtype) for d in dstate]
    for w in windows:
        start = dstate if w.from_final else zeros
        ds = [np.array(a, dtype=dtype, order="C", copy=True) for a in start]
        dlo, dhi = (w.dlo, w.dhi) if dYt is not None else (0, 0)
        if dYt is None and not w.from_final:
            continue
        if dS is None:
            q.sweep.run_backward(q, W, dY, dZ, ds, w.lo, w.hi, dlo, dhi, acc)
        else:
            q.sweep.run_backward(q, W, dY, dZ, ds, w.lo, w.hi, dlo, dhi, acc, dS=dS)
        if w.lo == 0:
            for a, b in zip(d0, ds):
                a += b
    dX = params_backward(q, cell, dZ, need_dx)
    if q.ws is not None:
        done = [dZ]
        del dZ
        q.ws.give(done)
    return dX, tuple(d0), dS


def params_backward(q: Seq, cell: Any, dZ: Array, need_dx: bool = True) -> Array | None:
    """Weight and bias gradients (added into ``cell.grads``) and ``dX`` (when ``need_dx``): one
    product each over all steps (``products.matmul``: split by output rows across the engine's
    threads, no partial sums)."""
    if q.x is None:
        raise RuntimeError("this sweep ran for inference (keep_cache=False): no backward pass")
    nk = _kernels()
    T, N, D, H, G = q.T, q.N, q.D, q.H, q.G
    R = T * N
    dZ2, x2 = dZ.reshape(R, G), q.x.reshape(R, D)
    prev = q.S[1:] if q.reverse else q.S[:T]                            # state before each step
    if q.has_rm:
        prev = prev * q.RM
    matmul_add(dZ2.T, x2, cell.grads["weight_ih"], engine_module=nk)
    bsum = column_sums(dZ2, nk) if cell.use_bias else None
    if bsum is not None:
        cell.grads["bias_ih"] += bsum
    q.sweep.recurrent_grads(q, cell, dZ2, prev.reshape(R, H), bsum)
    if not need_dx:
        return None
    return matmul(dZ2, cell.params["weight_ih"], engine_module=nk).reshape(T, N, D)
