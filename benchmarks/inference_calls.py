"""The cost of one ``predict_on_batch`` call on bench.py's small-batch models, with PyTorch beside
it: where the time of a call is mostly Python and small products (tiny: batch 1, 25 steps).

    python benchmarks/inference_calls.py --threads 1
    python benchmarks/inference_calls.py --threads 1 --src OTHER_CHECKOUT/src   # another tree

bench.py's set-up (its threads, pinning, OpenBLAS environment and models, imported from it);
``--src`` puts another checkout's ``src`` first on the path, so that two versions can be run one
after the other and compared (each against the PyTorch it ran beside). rnnlab and PyTorch take
turns over 3 rounds of 2,000 calls (300 for clf); the median of each round, then the median of
the rounds (us per call).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
from _timing import median_us

ROWS = (("tiny", "LSTM"), ("tiny", "GRU"), ("tiny", "SimpleRNN"), ("clf", "LSTM"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--src", default=None, help="a checkout's src directory to import rnnlab from")
    args = p.parse_args()
    if args.src:
        sys.path.insert(0, os.path.abspath(args.src))
    sys.argv = [sys.argv[0], "--threads", str(args.threads)]  # bench.py's own set-up
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import bench

    import rnnlab

    where = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(rnnlab.__file__))))
    name = os.path.basename(where)
    print(f"threads {args.threads}; {bench.PINNING}; rnnlab from the checkout {name!r}")
    for cfg, cell in ROWS:
        spec = bench.config_spec(cfg)
        data = bench.make_data(spec)
        model, _, infer = bench.rnnlab_steps(spec, cell, data)
        _, torch_infer = bench.torch_steps(spec, cell, data, model)
        n = 2000 if cfg == "tiny" else 300
        ours, theirs = [], []
        for _ in range(3):
            ours.append(median_us(infer, n, warmup=20))
            theirs.append(median_us(torch_infer, n, warmup=20))
        a, b = float(np.median(ours)), float(np.median(theirs))
        print(f"{cfg:5s} {cell:9s} rnnlab {a:8.1f} us   PyTorch {b:8.1f} us   ratio {b / a:.2f}")


if __name__ == "__main__":
    main()
