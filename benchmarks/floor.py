"""The matrix-product floor of an inference pass: how fast rnnlab's LSTM inference could be if
everything but its matrix products took no time, beside rnnlab's and PyTorch's measured times.

    python benchmarks/floor.py --threads 2 --configs small,medium --rounds 9

For each config of ``bench.py`` (LSTM layers + Dense head, float32, batch-first input) it times,
interleaved round by round in one process, with every framework's turn preceded by untimed
calls as in ``bench.py``:

* ``rnnlab``: ``predict_on_batch``; ``torch``: ``nn.LSTM`` + ``nn.Linear`` under
  ``torch.inference_mode()``;
* ``products``: the products that rnnlab's inference pass makes, as its engine splits them, with
  nothing else: each layer's input projection, either ``(T·N, D) @ (D, 4H)`` split by rows
  over the threads (``products.matmul``) or, where the engine's sweep makes each step's input
  product itself (``driver.step_input``: small input weights, sweeps split by rows), ``T``
  products of one thread's rows; the head (``(T·N, H) @ (H, C)``, or ``(N, H) @ (H, C)`` on the
  last step); and ``T`` per-step recurrent products on one thread of the size each thread gets
  (``(N, H) @ (H, 4H/threads)`` with unit blocks, ``(N/threads, H) @ (H, 4H)`` with row
  blocks: the threads run their blocks at the same time, so one block is the step's critical
  path), through the engine's own product (``mm_panels`` on ``pack_forward``'s layout: strips,
  ``_strips``, on cores whose OpenBLAS lacks small-matrix kernels, else sgemm). The sum is the
  floor. The per-step products run in one compiled loop (``step_products``), so that a product
  of a few microseconds (tiny, clf, mnist) is timed without a Python call around each one;
* ``equations``: the LSTM cell's equations alone over the same ``T`` steps and the same block,
  also in one compiled loop (``equations``: the sweep's own ``lstm_cells`` on a gate buffer),
  the other part of a sweep; ``rnnlab`` minus floor minus equations is what the rest costs
  (bias adds, copies, Python, the model around the layers);
* ``sweeps``: the engine's compiled sweeps alone, each LSTM layer's ``run_forward`` run again
  on the buffers of one ``predict_on_batch`` call (``captured_sweeps``): its per-step products
  (and, where it makes them, the input products), the equations and the hand-offs between
  threads, with nothing of the call around them; ``rnnlab - sweeps`` is the rest of the call
  (Python, buffers, weight packing, the whole-sequence input projections where the sweep does
  not make them, and the head); ``outside`` times that rest directly: ``predict_on_batch``
  with every LSTM sweep's ``run_forward`` doing nothing (``skipped_sweeps``; its outputs are
  whatever the buffers held), with the caches as cold or warm as a call without sweeps
  leaves them.

The models are ``bench.py``'s (heads on every step or on the last step, as its config says).
``floor ÷ torch`` above ``1/1.2`` means rnnlab cannot be 1.2x as fast as PyTorch there with
these products, whatever the rest costs; ``(floor + equations) ÷ torch`` above it, that it
cannot with these products and these equations.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _compiled() -> tuple[Any, Any]:
    """The two compiled loops (built after ``bench`` has made the process settings)."""
    from numba import njit

    from rnnlab.cells.lstm import sweep
    from rnnlab.kernels import _numba_kernels as nk

    @njit(nogil=True, error_model="numpy")
    def step_products(A: Any, WF: Any, WB: Any, out: Any, steps: int) -> None:
        for i in range(steps):  # A (T', rows, k): step i multiplies A[i % T']
            nk.mm_panels(A[i % A.shape[0]], WF, WB, out, 0.0)

    @njit(nogil=True, error_model="numpy")
    def equations(P: Any, S: Any, C: Any, TC: Any, M: Any, bhh: Any, steps: int, rows: int,
                  units: int) -> None:
        T = P.shape[0]
        for i in range(steps):
            t = i % T
            sweep.lstm_cells(P, S, C, TC, M, bhh, t, t, t + 1, False, 0, rows, 0, units)

    return step_products, equations


@contextmanager
def _lstm_run_forward(replacement: Any) -> Iterator[Any]:
    """``LSTMSweep.run_forward`` replaced by ``replacement`` inside the block; yields the
    original."""
    from rnnlab.cells.lstm.sweep import LSTMSweep

    run_forward = LSTMSweep.run_forward
    LSTMSweep.run_forward = replacement  # type: ignore[method-assign]
    try:
        yield run_forward
    finally:
        LSTMSweep.run_forward = run_forward  # type: ignore[method-assign]


def captured_sweeps(model: Any, x: Any) -> list[tuple[Any, Any]]:
    """``(sweep, Seq)`` of every LSTM layer's compiled sweep in one ``predict_on_batch(x)``
    call, kept (their buffers with them) so that each can be run again alone."""
    runs: list[tuple[Any, Any]] = []

    def keep(self: Any, q: Any) -> None:
        runs.append((self, q))
        run_forward(self, q)

    with _lstm_run_forward(keep) as run_forward:
        model.predict_on_batch(x)
    return runs


def skipped_sweeps(model: Any, x: Any) -> None:
    """``predict_on_batch(x)`` with every LSTM sweep's ``run_forward`` doing nothing."""
    with _lstm_run_forward(lambda self, q: None):
        model.predict_on_batch(x)


def measure(cfg: str, rounds: int) -> dict[str, float | str]:
    """Median ms of rnnlab, PyTorch, the products alone, the equations alone, the sweeps alone
    and the call outside them for one config (see above)."""
    import bench
    import numpy as np
    import torch
    from threadpoolctl import threadpool_limits

    from rnnlab import layers, models
    from rnnlab.cells.lstm.sweep import LSTMSweep
    from rnnlab.kernels import _numba_kernels as nk
    from rnnlab.kernels import driver, products

    N, T, D, H, L, C, loss_at = bench.CONFIGS[cfg]
    every = loss_at == "every"
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, T, D)).astype(np.float32)
    stack: list[Any] = [layers.Input((T, D))]
    stack += [layers.LSTM(H, return_sequences=every or i < L - 1, recurrent_bias=True)
              for i in range(L)]
    model = models.Sequential(stack + [layers.Dense(C)])
    net = torch.nn.LSTM(D, H, L, batch_first=True)
    head = torch.nn.Linear(H, C)
    xt = torch.from_numpy(x)
    K = nk.unit_blocks(N, H, 4)
    nt = nk.threads()
    rows = N if K else -(-N // nt)
    cols = 4 * H // nt if K else 4 * H
    step_products, equations = _compiled()
    dims = [D] + [H] * (L - 1)
    ins = [rng.standard_normal((T, N, d)).astype(np.float32) for d in dims]
    w_ih = [rng.standard_normal((d, 4 * H)).astype(np.float32) for d in dims]
    # a layer whose sweep makes each step's input product itself (driver.step_input), on one
    # thread's rows, else one product over all steps split by rows over the threads
    by_step = [driver.step_input(LSTMSweep(), a, a.shape[2], 4 * H, N, bool(K)) for a in ins]
    packed = [nk.pack_forward(np.ascontiguousarray(w.T).T, N) for w in w_ih]
    out_in = np.empty((rows, 4 * H), np.float32)
    h = rng.standard_normal((1, rows, H)).astype(np.float32)
    w_hh = rng.standard_normal((H, cols)).astype(np.float32)
    WF, WB = nk.pack_panels(np.ascontiguousarray(w_hh.T).T, rows)  # W_hh^T, as the engine has it
    out_step = np.empty((rows, cols), np.float32)
    hs = rng.standard_normal((T * N if every else N, H)).astype(np.float32)
    w_head = rng.standard_normal((H, C)).astype(np.float32)
    # the equations on one thread's block: its rows (row blocks) or its units (unit blocks)
    units = H // nt if K else H
    P = rng.standard_normal((T, rows, 4 * H)).astype(np.float32)
    S = np.zeros((T + 1, rows, H), np.float32)
    Cs = rng.standard_normal((T + 1, rows, H)).astype(np.float32)
    TC = np.empty((T, rows, H), np.float32)
    M = np.ones((1, 1), np.bool_)
    bhh = rng.standard_normal(4 * H).astype(np.float32)

    def projections() -> None:
        for a, w, (wf, wb), step in zip(ins, w_ih, packed, by_step):
            if step:
                step_products(a[:, :rows], wf, wb, out_in, T)
            else:
                products.matmul(a.reshape(T * N, -1), w)

    def recurrent() -> float:  # timed inside the limit: entering it takes about a millisecond
        with threadpool_limits(1):
            t0 = time.perf_counter()
            step_products(h, WF, WB, out_step, T * L)
            return time.perf_counter() - t0

    def cell_equations() -> None:  # on gates activated by the calls before: the same work
        equations(P, S, Cs, TC, M, bhh, T * L, rows, units)

    def run_torch() -> None:
        with torch.inference_mode():
            y = net(xt)[0]
            head(y if every else y[:, -1])

    runs = captured_sweeps(model, x)

    def sweeps() -> None:
        for sweep, q in runs:
            sweep.run_forward(q)

    fns: dict[str, Any] = {"rnnlab": lambda: model.predict_on_batch(x), "torch": run_torch,
           "projections": projections, "recurrent": recurrent,
           "head": lambda: products.matmul(hs, w_head), "equations": cell_equations,
           "sweeps": sweeps, "outside": lambda: skipped_sweeps(model, x)}
    times: dict[str, list[float]] = {k: [] for k in fns}
    for f in fns.values():
        f()
    for r in range(rounds):
        for k in list(fns)[r % len(fns):] + list(fns)[:r % len(fns)]:
            t_turn = time.perf_counter()
            while time.perf_counter() - t_turn < 0.02:
                fns[k]()
            t0 = time.perf_counter()
            own = fns[k]()  # a turn that times itself returns its seconds
            times[k].append(own if isinstance(own, float) else time.perf_counter() - t0)
    med: dict[str, float | str] = {k: 1e3 * statistics.median(v) for k, v in times.items()}
    med["split"] = (f"{K} unit blocks" if K else f"rows ({nt} blocks)") if nt > 1 else "1 thread"
    return med


def main() -> None:
    # bench.py parses this command line and makes the process settings of its headline on
    # import (threads, pinning, OpenBLAS variables removed, malloc thresholds): floor.py takes
    # the same --threads, --configs and --rounds
    sys.path.insert(0, str(HERE))
    import bench
    import torch
    from threadpoolctl import threadpool_limits

    args = bench.ARGS
    rounds = args.rounds or 9
    torch.set_num_threads(args.threads)
    print(f"# floor.py --threads {args.threads}, cores {sorted(os.sched_getaffinity(0))}, "
          f"medians of {rounds} rounds (ms)")
    print("| config | rnnlab | torch | products (floor) | projections | recurrent | head "
          "| equations | floor ÷ torch | (floor + equations) ÷ torch | sweeps | rnnlab - sweeps "
          "| outside | split |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    with threadpool_limits(args.threads):
        for cfg in args.configs.split(","):
            m = measure(cfg, rounds)
            f = [float(m[k]) for k in ("rnnlab", "torch", "projections", "recurrent", "head",
                                       "equations")]
            floor = f[2] + f[3] + f[4]
            cells = " | ".join(f"{v:.2f}" for v in [f[0], f[1], floor] + f[2:])
            sw = float(m["sweeps"])
            print(f"| {cfg} | {cells} | {floor / f[1]:.2f} | {(floor + f[5]) / f[1]:.2f} "
                  f"| {sw:.2f} | {f[0] - sw:.2f} | {float(m['outside']):.2f} | {m['split']} |")


if __name__ == "__main__":
    main()
