"""The per-step recurrent product over strips (``rnnlab.kernels._strips``) against OpenBLAS's
sgemm/dgemm, and the split it changed (unit blocks against row blocks).

    python benchmarks/strips.py                 # products, one thread
    python benchmarks/strips.py --splits        # LSTM(650) layer, 2 threads, units vs rows

Products: medians of 200 calls in one process, one thread (BLAS limited to 1): ``mm_strips``
on the packed weight, sgemm/dgemm (numba's binding of NumPy's BLAS, as the engine called it)
on the weight as it lies, and the packing itself (from a C-contiguous weight and from a
transposed one, ``W_hh^T``). Splits: one ``LSTM(650)`` layer, 35 steps, ``predict_on_batch``
and ``train_on_batch`` interleaved 20 times per split, medians (ms).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
from _timing import median_us

SHAPES = [(20, 650, 2600), (20, 650, 1300), (10, 650, 2600), (10, 650, 1300), (20, 200, 800),
          (10, 200, 800), (32, 32, 128), (64, 64, 256), (20, 2600, 650), (10, 2600, 650)]




def products() -> None:
    from numba import njit
    from threadpoolctl import threadpool_limits

    from rnnlab.kernels import _numba_kernels as nk
    from rnnlab.kernels import _strips as st

    @njit(nogil=True)
    def blas(a: Any, b: Any, c: Any) -> None:
        nk._mm(a, b, c, 0.0)

    print(f"# {nk.DESCRIPTION}; one thread; medians of 200 calls (us)")
    print("| dtype | (m, k) @ (k, n) | sgemm | strips | × | GFLOP/s strips | pack | pack W^T |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    rng = np.random.default_rng(0)
    with threadpool_limits(1):
        for dtype in (np.float32, np.float64):
            for m, k, n in SHAPES:
                print(_product_row(blas, st, rng, np.dtype(dtype), m, k, n))


def _product_row(blas: Any, st: Any, rng: Any, dtype: Any, m: int, k: int, n: int) -> str:
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    bt = np.ascontiguousarray(b.T)
    W = st.pack_strips(b)
    c1, c2 = np.empty((m, n), dtype), np.empty((m, n), dtype)
    t_blas = median_us(lambda: blas(a, b, c1))
    t_strips = median_us(lambda: st.mm_strips(a, W, n, c2, 0.0))
    t_pack = median_us(lambda: st.pack_strips(b, W), 20)
    t_pack_t = median_us(lambda: st.pack_strips(bt.T, W), 20)
    scale = np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64)
    assert (np.abs(c2 - a.astype(np.float64) @ b) <= 1e-5 * scale).all()
    return (f"| {dtype.name} | ({m}, {k}) @ ({k}, {n}) | {t_blas:.1f} | {t_strips:.1f} | "
            f"{t_blas / t_strips:.2f} | {2 * m * k * n / t_strips / 1e3:.0f} | {t_pack:.0f} | "
            f"{t_pack_t:.0f} |")


def splits() -> None:
    from threadpoolctl import threadpool_limits

    from rnnlab import layers, models
    from rnnlab.kernels import _numba_kernels as nk

    print("# LSTM(650), 35 steps, 2 threads: medians of 20 interleaved calls (ms)")
    print("| rows | rows per thread | units: infer | rows: infer | units: train | rows: train |")
    print("|---:|---:|---:|---:|---:|---:|")
    with threadpool_limits(2):
        for N in (4, 6, 8, 12, 16, 20, 24):
            print(_split_row(layers, models, nk, N))


def _split_row(layers: Any, models: Any, nk: Any, N: int) -> str:
    T, H = 35, 650
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, T, H)).astype(np.float32)
    y = np.zeros((N, T, H), np.float32)
    m = models.Sequential([layers.Input((T, H)), layers.LSTM(H, return_sequences=True)])
    m.compile(optimizer="sgd", loss="mse")
    steps = {"infer": lambda: m.predict_on_batch(x), "train": lambda: m.train_on_batch(x, y)}
    res: dict[tuple[str, str], list[float]] = {}
    keep = nk.UNIT_MAX_ROWS
    try:
        for _ in range(20):
            for mode in ("units", "rows"):
                nk.UNIT_MAX_ROWS = 1000 if mode == "units" else 0
                for what, fn in steps.items():
                    fn()
                    t0 = time.perf_counter()
                    fn()
                    res.setdefault((mode, what), []).append(time.perf_counter() - t0)
    finally:
        nk.UNIT_MAX_ROWS = keep
    med = {key: 1e3 * float(np.median(v)) for key, v in res.items()}
    return (f"| {N} | {N / 2:g} | {med['units', 'infer']:.1f} | {med['rows', 'infer']:.1f} | "
            f"{med['units', 'train']:.1f} | {med['rows', 'train']:.1f} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--splits", action="store_true", help="unit blocks against row blocks")
    args = p.parse_args()
    if args.splits:
        splits()
    else:
        products()


if __name__ == "__main__":
    main()
