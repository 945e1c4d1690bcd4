"""The matrix-product floor of an inference pass: how fast rnnlab's LSTM inference could be if
everything but its matrix products took no time, beside rnnlab's and PyTorch's measured times.

    python benchmarks/floor.py --threads 2 --configs small,medium --rounds 9

For each config of ``bench.py`` (LSTM layers + Dense head, float32, batch-first input) it times,
interleaved round by round in one process, with every framework's turn preceded by untimed
calls as in ``bench.py``:

* ``rnnlab``: ``predict_on_batch``; ``torch``: ``nn.LSTM`` + ``nn.Linear`` under
  ``torch.inference_mode()``;
* ``products``: the products that rnnlab's inference pass makes, as its engine splits them, with
  nothing else: each layer's input projection ``(T·N, D) @ (D, 4H)`` and the head
  ``(T·N, H) @ (H, C)`` split by rows over the threads (``products.matmul``), and ``T`` per-step
  recurrent products on one thread of the size each thread gets (``(N, H) @ (H, 4H/threads)``
  with unit blocks, ``(N/threads, H) @ (H, 4H)`` with row blocks: the threads run their blocks
  at the same time, so one block is the step's critical path), through the engine's own
  product (``mm_panels`` on ``pack_forward``'s layout: strips, ``_strips``, on cores whose
  OpenBLAS lacks small-matrix kernels, else sgemm). The sum is the floor.

``floor ÷ torch`` above ``1/1.2`` means rnnlab cannot be 1.2x as fast as PyTorch there with
these products, whatever the rest costs. Meaningful where each product takes
much longer than a Python call (small, medium: the default): the per-step products of tiny, clf
and mnist take a few microseconds, and a Python loop of ``np.matmul`` calls then measures the
calls (its "floor" comes out above rnnlab's own time).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def measure(cfg: str, rounds: int) -> dict[str, float | str]:
    """Median ms of rnnlab, PyTorch and the products alone for one config (see above)."""
    import bench
    import numpy as np
    import torch
    from threadpoolctl import threadpool_limits

    from rnnlab import layers, models
    from rnnlab.kernels import _numba_kernels as nk
    from rnnlab.kernels import products

    N, T, D, H, L, C, _ = bench.CONFIGS[cfg]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, T, D)).astype(np.float32)
    stack: list[Any] = [layers.Input((T, D))]
    stack += [layers.LSTM(H, return_sequences=True, recurrent_bias=True) for _ in range(L)]
    model = models.Sequential(stack + [layers.Dense(C)])
    net = torch.nn.LSTM(D, H, L, batch_first=True)
    head = torch.nn.Linear(H, C)
    xt = torch.from_numpy(x)
    K = nk.unit_blocks(N, H, 4)
    nt = nk.threads()
    rows = N if K else -(-N // nt)
    cols = 4 * H // nt if K else 4 * H
    ins = [rng.standard_normal((T * N, d)).astype(np.float32) for d in [D] + [H] * (L - 1)]
    w_ih = [rng.standard_normal((d, 4 * H)).astype(np.float32) for d in [D] + [H] * (L - 1)]
    h = rng.standard_normal((rows, H)).astype(np.float32)
    w_hh = rng.standard_normal((H, cols)).astype(np.float32)
    WF, WB = nk.pack_panels(np.ascontiguousarray(w_hh.T).T, rows)  # W_hh^T, as the engine has it
    out_step = np.empty((rows, cols), np.float32)
    hs = rng.standard_normal((T * N, H)).astype(np.float32)
    w_head = rng.standard_normal((H, C)).astype(np.float32)

    def projections() -> None:
        for a, w in zip(ins, w_ih):
            products.matmul(a, w)

    def recurrent() -> None:
        with threadpool_limits(1):
            for _ in range(T * L):
                nk.mm_panels(h, WF, WB, out_step, 0.0)

    def run_torch() -> None:
        with torch.inference_mode():
            head(net(xt)[0])

    fns = {"rnnlab": lambda: model.predict_on_batch(x), "torch": run_torch,
           "projections": projections, "recurrent": recurrent,
           "head": lambda: products.matmul(hs, w_head)}
    times: dict[str, list[float]] = {k: [] for k in fns}
    for f in fns.values():
        f()
    for r in range(rounds):
        for k in list(fns)[r % len(fns):] + list(fns)[:r % len(fns)]:
            t_turn = time.perf_counter()
            while time.perf_counter() - t_turn < 0.02:
                fns[k]()
            t0 = time.perf_counter()
            fns[k]()
            times[k].append(time.perf_counter() - t0)
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
          "| floor ÷ torch | split |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    with threadpool_limits(args.threads):
        for cfg in args.configs.split(","):
            m = measure(cfg, rounds)
            f = [float(m[k]) for k in ("rnnlab", "torch", "projections", "recurrent", "head")]
            floor = f[2] + f[3] + f[4]
            print(f"| {cfg} | {f[0]:.1f} | {f[1]:.1f} | {floor:.1f} | {f[2]:.1f} | {f[3]:.1f} | "
                  f"{f[4]:.1f} | {floor / f[1]:.2f} | {m['split']} |")


if __name__ == "__main__":
    main()
