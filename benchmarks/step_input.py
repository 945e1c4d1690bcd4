"""Each step's input product inside the sweep (``rnnlab.kernels.driver.step_input``) against one
product over all steps beforehand, on bench.py's models, with PyTorch beside them.

    python benchmarks/step_input.py --threads 1
    python benchmarks/step_input.py --threads 2 --configs clf,mnist --cells LSTM

bench.py's set-up (its threads, pinning, OpenBLAS environment and models, imported from it);
the same rnnlab model runs with ``driver.STEP_INPUT_BYTES`` at 0 (the whole-sequence product)
and at its default, interleaved with PyTorch over 3 rounds of 100 calls (10 for the small
config); medians of each round, then the median of the rounds (us per call).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
from _timing import median_us


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--configs", default="clf,mnist")
    p.add_argument("--cells", default="LSTM,GRU,SimpleRNN")
    args = p.parse_args()
    sys.argv = [sys.argv[0], "--threads", str(args.threads)]  # bench.py's own set-up
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import bench

    from rnnlab.kernels import driver

    default = driver.STEP_INPUT_BYTES
    print(f"threads {args.threads}; {bench.PINNING}; STEP_INPUT_BYTES {default}")
    for cfg in args.configs.split(","):
        for cell in args.cells.split(","):
            spec = bench.config_spec(cfg)
            data = bench.make_data(spec)
            model, train, infer = bench.rnnlab_steps(spec, cell, data)
            torch_train, torch_infer = bench.torch_steps(spec, cell, data, model)
            n = 10 if cfg in ("small", "medium") else 100
            res: dict[tuple[str, str], list[float]] = {}
            for _ in range(3):
                for name, limit in (("whole", 0), ("steps", default)):
                    driver.STEP_INPUT_BYTES = limit
                    res.setdefault(("infer", name), []).append(median_us(infer, n))
                    res.setdefault(("train", name), []).append(median_us(train, n // 2))
                res.setdefault(("infer", "torch"), []).append(median_us(torch_infer, n))
                res.setdefault(("train", "torch"), []).append(median_us(torch_train, n // 2))
            driver.STEP_INPUT_BYTES = default
            for mode in ("infer", "train"):
                whole, steps, torch = (float(np.median(res[(mode, k)]))
                                       for k in ("whole", "steps", "torch"))
                print(f"{cfg:6} {cell:9} {mode}: whole-sequence {whole:8.0f}  step by step "
                      f"{steps:8.0f}  torch {torch:8.0f} us   x torch {torch / whole:.2f} -> "
                      f"{torch / steps:.2f}")


if __name__ == "__main__":
    main()
