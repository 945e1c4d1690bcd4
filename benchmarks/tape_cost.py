"""What the ``rnnlab.ops`` tape costs: a Keras-style LSTM cell written with ops vs built-in LSTM.

    .venv/bin/python benchmarks/tape_cost.py                   # small config, 2 threads
    .venv/bin/python benchmarks/tape_cost.py --batch 64 --steps 50 --threads 1

Three models with the same weights, ``Sequential([Input((T, D)), <recurrent>, Dense(1)])``,
``compile(SGD(0.01), "mse")``, float32:

* ``builtin``: ``LSTM(H)`` on the engine it picks (the compiled numba sweep when numba works);
* ``reference``: the same ``LSTM(H)`` under ``rnnlab.engine("reference")`` (the readable NumPy
  step loop with the hand-derived backward), to separate "no compiled sweep" from "tape";
* ``tape``: ``RNN(OpsLSTMCell(H))``, the cell below (Keras layout and gate order, written with
  ``rnnlab.ops``), whose backward is the tape's reverse-mode differentiation, step by step.

train = ``train_on_batch(x, y)`` (forward, loss, backward, SGD update); infer =
``predict_on_batch(x)``. Timed interleaved round by round in one process (the first model
rotates), medians after warm-up; ratios are tape ÷ other (> 1: the tape is slower). The first
outputs of the three models are compared to show they compute the same function. The load
average is printed at start and end; only ratios within one run mean anything.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
p.add_argument("--batch", type=int, default=32)
p.add_argument("--steps", type=int, default=20)
p.add_argument("--input", type=int, default=16)
p.add_argument("--hidden", type=int, default=32)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--budget", type=float, default=20.0, help="seconds of timing per mode")
ARGS = p.parse_args()
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)

import numpy as np  # noqa: E402

import rnnlab  # noqa: E402
from rnnlab import ops  # noqa: E402
from rnnlab.layers import LSTM, RNN, Dense, Input, Layer  # noqa: E402
from rnnlab.models import Sequential  # noqa: E402
from rnnlab.optimizers import SGD  # noqa: E402


class OpsLSTMCell(Layer):
    """An LSTM cell in Keras's layout and gate order (i, f, c, o), written with ops."""

    def __init__(self, units: int, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.units = units
        self.state_size = [units, units]
        self.output_size = units

    def build(self, input_shape: tuple[int, ...]) -> None:
        h = self.units
        self.kernel = self.add_weight(shape=(input_shape[-1], 4 * h), name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(h, 4 * h), name="recurrent_kernel",
                                                initializer="orthogonal")
        self.bias = self.add_weight(shape=(4 * h,), name="bias", initializer="zeros")

    def call(self, inputs: object, states: list[object]) -> object:
        h_prev, c_prev = states
        z = ops.matmul(inputs, self.kernel) + ops.matmul(h_prev, self.recurrent_kernel) + self.bias
        i, f, g, o = ops.split(z, 4, axis=-1)
        c = ops.sigmoid(f) * c_prev + ops.sigmoid(i) * ops.tanh(g)
        h = ops.sigmoid(o) * ops.tanh(c)
        return h, [h, c]


def model(recurrent: Layer) -> Sequential:
    m = Sequential([Input((ARGS.steps, ARGS.input)), recurrent, Dense(1)])
    m.compile(optimizer=SGD(learning_rate=0.01), loss="mse")
    return m


def interleaved(fns: dict[str, object], warmup: int, budget: float) -> dict[str, float]:
    names = list(fns)
    for _ in range(warmup):
        for k in names:
            fns[k]()  # type: ignore[operator]
    times: dict[str, list[float]] = {k: [] for k in names}
    spent, r = 0.0, 0
    while r < 5 or spent < budget:
        for k in names[r % len(names):] + names[:r % len(names)]:
            t0 = time.perf_counter()
            fns[k]()  # type: ignore[operator]
            times[k].append(time.perf_counter() - t0)
        spent += sum(times[k][-1] for k in names)
        r += 1
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    load0 = os.getloadavg()[0]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((ARGS.batch, ARGS.steps, ARGS.input)).astype("float32")
    y = rng.standard_normal((ARGS.batch, 1)).astype("float32")
    tape = model(RNN(OpsLSTMCell(ARGS.hidden)))
    builtin = model(LSTM(ARGS.hidden))
    reference = model(LSTM(ARGS.hidden))
    for m in (builtin, reference):
        m.set_weights(tape.get_weights())
    with rnnlab.engine("reference"):
        ref_out = reference.predict_on_batch(x)
    diff = max(float(np.max(np.abs(m.predict_on_batch(x) - ref_out))) for m in (tape, builtin))
    engine = builtin.layers[0].engine_choice()

    def on_reference(fn: object) -> object:
        def run() -> object:
            with rnnlab.engine("reference"):
                return fn()  # type: ignore[operator]
        return run

    models = {"builtin": builtin, "reference": reference, "tape": tape}
    rows = {}
    for mode in ("train", "infer"):
        fns = {}
        for name, m in models.items():
            fn = ((lambda m=m: m.train_on_batch(x, y)) if mode == "train"
                  else (lambda m=m: m.predict_on_batch(x)))
            fns[name] = on_reference(fn) if name == "reference" else fn
        rows[mode] = interleaved(fns, warmup=3, budget=ARGS.budget)
    load1 = os.getloadavg()[0]
    print(f"config: batch {ARGS.batch}, steps {ARGS.steps}, input {ARGS.input}, hidden "
          f"{ARGS.hidden}, LSTM + Dense(1), float32, {ARGS.threads} threads")
    why = f" ({engine[1]})" if engine[1] else ""
    print(f"built-in LSTM engine: {engine[0]}{why}; max |output difference| of the three "
          f"models: {diff:.1e}")
    print(f"load average (1 min) at start/end: {load0:.2f}/{load1:.2f} on {os.cpu_count()} cores")
    print("\n| mode | builtin (ms) | reference (ms) | tape (ms) | tape ÷ builtin | "
          "tape ÷ reference |\n|---|---|---|---|---|---|")
    for mode, t in rows.items():
        print(f"| {mode} | {t['builtin'] * 1e3:.2f} | {t['reference'] * 1e3:.2f} | "
              f"{t['tape'] * 1e3:.2f} | {t['tape'] / t['builtin']:.2f} | "
              f"{t['tape'] / t['reference']:.2f} |")


if __name__ == "__main__":
    main()
