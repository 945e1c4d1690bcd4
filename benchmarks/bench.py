"""rnnlab vs PyTorch (and Keras 3 when installed): training and inference throughput.

    .venv/bin/python benchmarks/bench.py --quick                  # about 1-2 minutes
    .venv/bin/python benchmarks/bench.py --json out.json          # full run
    .venv/bin/python benchmarks/bench.py --configs clf,mnist --cells LSTM --threads 1
    .venv/bin/python benchmarks/bench.py --profile-step medium:LSTM   # rnnlab's step by layer

What is timed (float32, same thread count for every framework, frameworks interleaved round by
round inside one process so machine noise hits all of them alike):

* train: one step = forward, loss, backward, SGD update (learning rate 0.01, no momentum).
  rnnlab through its public Keras API: ``Sequential([Input, RNN layers..., Dense])``,
  ``compile(optimizer=SGD(0.01), loss=...)`` and ``train_on_batch(x, y)`` (which also updates
  the loss tracker, as Keras does). PyTorch: ``nn.RNN/LSTM/GRU(batch_first=True)`` +
  ``nn.Linear``, ``zero_grad(set_to_none=True)``, ``F.cross_entropy`` /
  ``F.binary_cross_entropy_with_logits``, ``backward()``, ``torch.optim.SGD.step()``.
  Both models have the same parameters (rnnlab layers get ``recurrent_bias=True``, PyTorch's two
  biases) and start from the same weights (copied from rnnlab into PyTorch); the first step's
  losses are compared (column ``dloss``) to show that both do the same computation.
* infer: one forward pass of the same model (no loss): ``predict_on_batch`` vs
  ``torch.inference_mode()`` + ``module(x)``.
* tokens/s = batch × steps / median step time over the timed repetitions, after warm-up.
  Ratios are rnnlab ÷ PyTorch (> 1: rnnlab faster).

Threads: ``--threads N`` (default 2) sets ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` and
``MKL_NUM_THREADS`` before NumPy or PyTorch is imported, then (when ``threadpoolctl`` is
installed) limits every BLAS/OpenMP pool to N with ``threadpool_limits``, and calls
``torch.set_num_threads(N)``. The pools in use are printed.

Memory allocator: glibc's default returns large freed buffers to the OS, so every step pays for
fresh page faults on big activations (PyTorch's 10,000-word head swung 64-109 ms per step that
way). Unless ``--default-malloc`` is given, the script calls ``mallopt(M_MMAP_THRESHOLD,
1 GiB)`` and ``mallopt(M_TRIM_THRESHOLD, 2 GiB)`` at start-up (the same as exporting
``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_``), which made PyTorch steady; it applies to
the whole process, so to every framework alike. The setting used is printed and saved.

OpenMP waiting: PyTorch's OpenMP threads spin after every parallel region by default. On a machine
shared with other processes (this one ran other engineers' experiments) a spinning or descheduled
thread stalls every barrier: a tiny-config PyTorch LSTM step took 884 ms at 2 threads instead of
1.2 ms at 1 thread, 11 ms with ``OMP_WAIT_POLICY=PASSIVE``. The script therefore sets
``OMP_WAIT_POLICY=PASSIVE`` (before PyTorch is imported) unless ``--omp-wait-policy default``;
on a lightly loaded machine PyTorch's default is the faster policy, so report both
(benchmarks/RESULTS.md does).
rnnlab's own worker threads sleep when idle, and with its numba engine every product of a step
(recurrent layers and Dense) runs on them with one BLAS thread per call (rnnlab.kernels._pool,
rnnlab.kernels.products), so OpenBLAS's own, spinning, threads stay idle. The load
average at start and end is recorded: ratios from a loaded machine are much noisier.

The garbage collector stays on, as users run it. Results: a table on stdout, ``--json FILE``
(one row per configuration and cell) and a generated section of ``benchmarks/RESULTS.md``
(``--md FILE``; ``--md ''`` to skip), between markers, one section per mode (quick/full),
thread count, forced engine and OpenMP policy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

CONFIGS = {
    # name: (batch, steps, input, hidden, layers, head classes, loss at)
    "tiny": (1, 25, 65, 100, 1, 65, "every"),
    "small": (20, 35, 200, 200, 2, 10000, "every"),
    "medium": (20, 35, 650, 650, 2, 10000, "every"),
    "clf": (32, 100, 32, 32, 1, 1, "last"),
    "mnist": (64, 28, 28, 64, 1, 10, "last"),
}
CELLS = ("SimpleRNN", "LSTM", "GRU")
GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}
LR = 0.01
HERE = Path(__file__).resolve().parent


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="short timings (about 1-2 minutes; 58 s at 1 thread here)")
    p.add_argument("--threads", type=int, default=2, help="threads for every framework")
    p.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated configs")
    p.add_argument("--cells", default=",".join(CELLS), help="comma-separated cells")
    p.add_argument("--json", default=None, metavar="FILE", help="write the rows as JSON")
    p.add_argument("--md", default=str(HERE / "RESULTS.md"), metavar="FILE",
                   help="markdown file whose generated section is replaced ('' to skip)")
    p.add_argument("--budget", type=float, default=None,
                   help="seconds of timed runs per framework, row and mode")
    p.add_argument("--default-malloc", action="store_true",
                   help="keep glibc's default malloc thresholds")
    p.add_argument("--omp-wait-policy", default="passive", choices=("passive", "default"),
                   help="OMP_WAIT_POLICY for PyTorch's OpenMP threads (default: passive)")
    p.add_argument("--rnnlab-engine", default=None, choices=("compiled", "reference"),
                   help="force rnnlab's engine (RNNLAB_ENGINE); default: its automatic choice")
    p.add_argument("--no-extras", action="store_true",
                   help="skip the peak, GFLOP/s and memory measurements")
    p.add_argument("--profile-step", default=None, metavar="CONFIG:CELL",
                   help="only time rnnlab's training step layer by layer (e.g. medium:LSTM)")
    p.add_argument("--rss-child", default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


ARGS = parse_args()
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)
if ARGS.omp_wait_policy == "passive":
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
if ARGS.rnnlab_engine:
    os.environ["RNNLAB_ENGINE"] = ARGS.rnnlab_engine


def _tune_malloc() -> str:
    if ARGS.default_malloc:
        return "glibc default"
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        ok = libc.mallopt(m_mmap_threshold, 1 << 30) and libc.mallopt(m_trim_threshold, 2 << 30)
        if ok:
            return "mallopt M_MMAP_THRESHOLD=1GiB, M_TRIM_THRESHOLD=2GiB (whole process)"
    except OSError:
        pass
    return "glibc default (mallopt unavailable)"


MALLOC = _tune_malloc()

import numpy as np  # noqa: E402

try:
    from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

    _LIMITS = threadpool_limits(ARGS.threads)
except ImportError:  # pragma: no cover - optional
    threadpool_info = None  # type: ignore[assignment]


def pools() -> str:
    if threadpool_info is None:
        return "threadpoolctl not installed (env vars only)"
    return "; ".join(f"{p['internal_api']}={p['num_threads']}" for p in threadpool_info())


# ---------------------------------------------------------------------------------------------
# data and models
# ---------------------------------------------------------------------------------------------
def make_data(cfg: str) -> tuple[np.ndarray, np.ndarray]:
    n, t, d, _, _, v, at = CONFIGS[cfg]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, t, d)).astype(np.float32)
    if at == "last":
        y = (rng.random(n) < 0.5).astype(np.float32) if v == 1 else rng.integers(0, v, n)
    else:
        y = rng.integers(0, v, (n, t))
    return x, y


def rnnlab_model(cfg: str, cell: str):
    import rnnlab
    from rnnlab import layers, losses, optimizers

    n, t, d, h, nl, v, at = CONFIGS[cfg]
    rnnlab.set_random_seed(0)
    kind = getattr(layers, cell)
    stack = [kind(h, return_sequences=(at == "every" or i < nl - 1), recurrent_bias=True,
                  name=f"rnn{i}") for i in range(nl)]
    model = rnnlab.Sequential([rnnlab.Input((t, d)), *stack, layers.Dense(v, name="head")])
    loss = (losses.BinaryCrossentropy(from_logits=True) if v == 1
            else losses.SparseCategoricalCrossentropy(from_logits=True))
    model.compile(optimizer=optimizers.SGD(LR), loss=loss)
    return model


def torch_model(cfg: str, cell: str, src=None):
    import torch
    from torch import nn

    n, t, d, h, nl, v, at = CONFIGS[cfg]
    torch.manual_seed(0)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            kind = {"SimpleRNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}[cell]
            self.rnn = kind(d, h, nl, batch_first=True)
            self.head = nn.Linear(h, v)

        def forward(self, x):
            y, _ = self.rnn(x)
            if at == "last":
                y = y[:, -1]
            return self.head(y)

    net = Net()
    if src is not None:  # copy rnnlab's weights (PyTorch layout inside rnnlab)
        with torch.no_grad():
            for i in range(nl):
                cp = src.get_layer(f"rnn{i}").cells[0].params
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(net.rnn, f"{name}_l{i}").copy_(torch.from_numpy(cp[name]))
            hp = src.get_layer("head").params
            net.head.weight.copy_(torch.from_numpy(hp["weight"]))
            net.head.bias.copy_(torch.from_numpy(hp["bias"]))
    return net


def rnnlab_steps(cfg: str, cell: str, x: np.ndarray, y: np.ndarray):
    model = rnnlab_model(cfg, cell)

    def train() -> float:
        return float(model.train_on_batch(x, y))

    def infer() -> None:
        model.predict_on_batch(x)

    return model, train, infer


def torch_steps(cfg: str, cell: str, x: np.ndarray, y: np.ndarray, src=None):
    import torch
    import torch.nn.functional as F

    v = CONFIGS[cfg][5]
    net = torch_model(cfg, cell, src)
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    xt = torch.from_numpy(x)
    yt = torch.from_numpy(np.asarray(y))
    if v == 1:
        yt = yt.float()

        def loss_fn(out):
            return F.binary_cross_entropy_with_logits(out[:, 0], yt)
    else:
        yt = yt.long()

        def loss_fn(out):
            return F.cross_entropy(out.reshape(-1, v), yt.reshape(-1))

    def train() -> float:
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(xt))
        loss.backward()
        opt.step()
        return float(loss.detach())

    def infer() -> None:
        with torch.inference_mode():
            net(xt)

    return train, infer


def keras_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("keras") is not None


def keras_steps(cfg: str, cell: str, x: np.ndarray, y: np.ndarray):  # pragma: no cover
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    n, t, d, h, nl, v, at = CONFIGS[cfg]
    kind = getattr(keras.layers, cell)
    stack = [kind(h, return_sequences=(at == "every" or i < nl - 1)) for i in range(nl)]
    model = keras.Sequential([keras.Input((t, d)), *stack, keras.layers.Dense(v)])
    loss = (keras.losses.BinaryCrossentropy(from_logits=True) if v == 1
            else keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.compile(optimizer=keras.optimizers.SGD(LR), loss=loss)

    def train() -> float:
        return float(model.train_on_batch(x, y))

    def infer() -> None:
        model.predict_on_batch(x)

    return train, infer


# ---------------------------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------------------------
def interleaved(fns: dict[str, object], warmup: int, budget: float, min_reps: int,
                max_reps: int) -> dict[str, float]:
    """Median seconds per call of each function, timed round-robin (the starting function
    rotates every round)."""
    names = list(fns)
    for _ in range(warmup):
        for k in names:
            fns[k]()  # type: ignore[operator]
    times: dict[str, list[float]] = {k: [] for k in names}
    spent = 0.0
    r = 0
    while r < max_reps and (r < min_reps or spent < budget):
        order = names[r % len(names):] + names[:r % len(names)]
        for k in order:
            t0 = time.perf_counter()
            fns[k]()  # type: ignore[operator]
            dt = time.perf_counter() - t0
            times[k].append(dt)
        spent += max(times[k][-1] for k in names)
        r += 1
    return {k: statistics.median(v) for k, v in times.items()}


def matmul_peak(reps: int) -> dict[str, float]:
    """Float32 matrix-product GFLOP/s (2048², median of reps) through NumPy and PyTorch."""
    import torch

    n = 2048
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    b = a.T.copy()
    out = {}
    fns = {"numpy": lambda: np.matmul(a, b),
           "torch": lambda: torch.mm(torch.from_numpy(a), torch.from_numpy(b))}
    med = interleaved(fns, 2, 0.0, reps, reps)
    for k, s in med.items():
        out[k] = 2 * n ** 3 / s / 1e9
    return out


def train_flops(cfg: str, cell: str) -> float:
    """Matrix-product FLOPs of one training step: forward products, and twice that backward
    (input and weight gradients), except the first layer's input gradient, which no framework
    needs (the input is data)."""
    n, t, d, h, nl, v, at = CONFIGS[cfg]
    g = GATES[cell]
    fwd = 0.0
    dim = d
    for _ in range(nl):
        fwd += 2.0 * n * t * g * h * (dim + h)
        dim = h
    rows = n * t if at == "every" else n
    fwd += 2.0 * rows * h * v
    return 3 * fwd - 2.0 * n * t * g * h * d


def rss_child(framework: str) -> None:
    """Run in a fresh process: peak RSS of the medium LSTM training step."""
    def vm(key: str) -> float:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1]) / 1024
        return float("nan")

    x, y = make_data("medium")
    if framework == "rnnlab":
        _, train, _ = rnnlab_steps("medium", "LSTM", x, y)
    else:
        import torch

        torch.set_num_threads(ARGS.threads)
        train, _ = torch_steps("medium", "LSTM", x, y)
    before = vm("VmRSS")
    for _ in range(1 if ARGS.quick else 3):
        train()
    print(json.dumps({"before_mib": before, "peak_mib": vm("VmHWM")}))


def measure_rss() -> dict[str, dict[str, float]]:
    out = {}
    for fw in ("rnnlab", "torch"):
        cmd = [sys.executable, str(Path(__file__).resolve()), "--rss-child", fw,
               "--threads", str(ARGS.threads)] + (["--default-malloc"] if ARGS.default_malloc
                                                  else []) + (["--quick"] if ARGS.quick else [])
        res = subprocess.run(cmd, capture_output=True, text=True, check=True)
        out[fw] = json.loads(res.stdout.strip().splitlines()[-1])
    return out


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------
def fmt_tok(v: float | None) -> str:
    if v is None:
        return "n/a"
    return f"{v / 1000:.1f}k" if v < 1e6 else f"{v / 1e6:.2f}M"


def table(rows: list[dict], keras: bool) -> str:
    head = ["config", "cell", "rnnlab train", "torch train", "train ×", "rnnlab infer",
            "torch infer", "infer ×"]
    if keras:
        head += ["keras train", "keras infer"]
    head += ["dloss"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["config"], r["cell"], fmt_tok(r["rnnlab_train_tok_s"]),
                 fmt_tok(r["torch_train_tok_s"]), f"**{r['train_ratio']:.2f}**",
                 fmt_tok(r["rnnlab_infer_tok_s"]), fmt_tok(r["torch_infer_tok_s"]),
                 f"**{r['infer_ratio']:.2f}**"]
        if keras:
            cells += [fmt_tok(r["keras_train_tok_s"]), fmt_tok(r["keras_infer_tok_s"])]
        cells.append(f"{r['dloss']:.1e}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_md(path: str, mode: str, text: str) -> None:
    p = Path(path)
    start, end = f"<!-- bench:{mode}:start -->", f"<!-- bench:{mode}:end -->"
    body = p.read_text() if p.exists() else "# Benchmark results\n"
    block = f"{start}\n{text}\n{end}"
    if start in body and end in body:
        pre, rest = body.split(start, 1)
        post = rest.split(end, 1)[1]
        body = pre + block + post
    else:
        body = body.rstrip("\n") + "\n\n" + block + "\n"
    p.write_text(body)


def profile_step(spec: str, steps: int = 10) -> None:
    """Where an rnnlab training step's time goes: each layer's forward and backward (or
    ``backward_params``), the rest (loss, optimizer, plumbing), milliseconds per step."""
    cfg, _, cell = spec.partition(":")
    if cfg not in CONFIGS or cell not in CELLS:
        raise SystemExit(f"--profile-step expects CONFIG:CELL with CONFIG in {sorted(CONFIGS)} "
                         f"and CELL in {CELLS}, got {spec!r}")
    x, y = make_data(cfg)
    model, train, _ = rnnlab_steps(cfg, cell, x, y)
    spent: dict[str, float] = {}

    def timed(layer: object, method: str) -> None:
        inner = getattr(layer, method)
        label = f"{layer.name}.{method}"  # type: ignore[attr-defined]
        spent[label] = 0.0

        def call(*args: object, **kwargs: object) -> object:
            t0 = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - t0

        setattr(layer, method, call)

    for layer in model.layers:
        for method in ("forward", "backward", "backward_params"):
            timed(layer, method)
    for _ in range(3):
        train()
    for k in spent:
        spent[k] = 0.0
    t0 = time.perf_counter()
    for _ in range(steps):
        train()
    total = (time.perf_counter() - t0) / steps * 1e3
    print(f"rnnlab {cfg} {cell} training step, {ARGS.threads} thread(s), mean of {steps}: "
          f"{total:.1f} ms")
    parts = {k: v / steps * 1e3 for k, v in spent.items() if v > 0}
    for k, v in parts.items():
        print(f"  {k:<28} {v:8.1f}")
    print(f"  {'loss, optimizer, plumbing':<28} {total - sum(parts.values()):8.1f}")


def main() -> None:
    if ARGS.rss_child:
        rss_child(ARGS.rss_child)
        return
    if ARGS.profile_step:
        profile_step(ARGS.profile_step)
        return
    import torch

    torch.set_num_threads(ARGS.threads)
    import rnnlab
    from rnnlab import kernels

    quick = ARGS.quick
    budget = ARGS.budget if ARGS.budget is not None else (0.25 if quick else 3.0)
    min_reps, max_reps, warmup = (3, 200, 2) if quick else (7, 1000, 3)
    keras = keras_available()
    cmd = "python benchmarks/bench.py " + " ".join(sys.argv[1:])
    meta = {
        "command": cmd.strip(), "mode": "quick" if quick else "full",
        "loadavg_start": os.getloadavg(), "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "threads": ARGS.threads, "malloc": MALLOC, "pools": pools(),
        "python": platform.python_version(), "numpy": np.__version__,
        "torch": torch.__version__, "rnnlab": rnnlab.__version__,
        "rnnlab_engine": kernels.engine_info(), "cpu_count": os.cpu_count(),
        "keras": "installed (torch backend)" if keras else
        "not installed: the Keras 3 columns could not be measured",
        "budget_s": budget, "min_reps": min_reps, "warmup": warmup,
    }
    print(f"# {cmd}")
    for k in ("threads", "malloc", "omp_wait_policy", "pools", "numpy", "torch", "rnnlab_engine",
              "keras", "loadavg_start"):
        print(f"#   {k}: {meta[k]}")
    rows = []
    t_start = time.perf_counter()
    for cfg in ARGS.configs.split(","):
        x, y = make_data(cfg)
        n, t = CONFIGS[cfg][:2]
        for cell in ARGS.cells.split(","):
            model, r_train, r_infer = rnnlab_steps(cfg, cell, x, y)
            t_train, t_infer = torch_steps(cfg, cell, x, y, src=model)
            l_r, l_t = r_train(), t_train()   # first step from identical weights
            dloss = abs(l_r - l_t) / max(abs(l_t), 1e-30)
            fns_train = {"rnnlab": r_train, "torch": t_train}
            fns_infer = {"rnnlab": r_infer, "torch": t_infer}
            if keras:
                k_train, k_infer = keras_steps(cfg, cell, x, y)
                fns_train["keras"], fns_infer["keras"] = k_train, k_infer
            slow = cfg == "medium"
            mr = 2 if slow and quick else min_reps
            tr = interleaved(fns_train, 1 if slow else warmup, budget, mr, max_reps)
            inf = interleaved(fns_infer, 1 if slow else warmup, budget, mr, max_reps)
            tok = n * t
            row = {
                "config": cfg, "cell": cell, "batch": n, "steps": t,
                "input": CONFIGS[cfg][2], "hidden": CONFIGS[cfg][3], "layers": CONFIGS[cfg][4],
                "head": CONFIGS[cfg][5],
                "rnnlab_train_tok_s": tok / tr["rnnlab"], "torch_train_tok_s": tok / tr["torch"],
                "train_ratio": tr["torch"] / tr["rnnlab"],
                "rnnlab_infer_tok_s": tok / inf["rnnlab"], "torch_infer_tok_s": tok / inf["torch"],
                "infer_ratio": inf["torch"] / inf["rnnlab"],
                "keras_train_tok_s": tok / tr["keras"] if keras else None,
                "keras_infer_tok_s": tok / inf["keras"] if keras else None,
                "rnnlab_train_ms": 1e3 * tr["rnnlab"], "torch_train_ms": 1e3 * tr["torch"],
                "rnnlab_infer_ms": 1e3 * inf["rnnlab"], "torch_infer_ms": 1e3 * inf["torch"],
                "dloss": dloss, "train_gflop": train_flops(cfg, cell) / 1e9,
            }
            if keras:
                row["keras_train_ratio"] = tr["keras"] / tr["rnnlab"]
                row["keras_infer_ratio"] = inf["keras"] / inf["rnnlab"]
            rows.append(row)
            print(f"{cfg:>6} {cell:>9}  train {fmt_tok(row['rnnlab_train_tok_s']):>8} vs "
                  f"{fmt_tok(row['torch_train_tok_s']):>8} = {row['train_ratio']:.2f}x   infer "
                  f"{fmt_tok(row['rnnlab_infer_tok_s']):>8} vs "
                  f"{fmt_tok(row['torch_infer_tok_s']):>8} = {row['infer_ratio']:.2f}x   "
                  f"dloss {dloss:.1e}", flush=True)
            del model
    extras: dict = {}
    if not ARGS.no_extras:
        peak = matmul_peak(3 if quick else 7)
        extras["matmul_peak_gflops"] = peak
        med = [r for r in rows if r["config"] == "medium" and r["cell"] == "LSTM"]
        if med:
            r = med[0]
            best = max(peak.values())
            extras["medium_lstm"] = {
                "train_gflop_per_step": r["train_gflop"],
                "rnnlab_gflops": r["train_gflop"] / (r["rnnlab_train_ms"] / 1e3),
                "torch_gflops": r["train_gflop"] / (r["torch_train_ms"] / 1e3),
            }
            extras["medium_lstm"]["rnnlab_fraction_of_peak"] = (
                extras["medium_lstm"]["rnnlab_gflops"] / best)
            extras["medium_lstm"]["torch_fraction_of_peak"] = (
                extras["medium_lstm"]["torch_gflops"] / best)
        extras["medium_lstm_rss"] = measure_rss()
    meta["wall_s"] = time.perf_counter() - t_start
    meta["loadavg_end"] = os.getloadavg()
    md = [f"Command: `{meta['command']}` ({meta['mode']} run, {meta['wall_s']:.0f} s)  ",
          f"Threads: {ARGS.threads} for every framework ({meta['pools']}; torch "
          f"{torch.get_num_threads()}; OMP_WAIT_POLICY={meta['omp_wait_policy']}). "
          f"Malloc: {MALLOC}. Load average (1 min) at start/end: "
          f"{meta['loadavg_start'][0]:.1f}/{meta['loadavg_end'][0]:.1f} on {os.cpu_count()} "
          "cores.  ",
          f"rnnlab engine: {meta['rnnlab_engine']}; NumPy {np.__version__}; PyTorch "
          f"{torch.__version__}. Keras 3: {meta['keras']}.  ",
          "Tokens/s (batch × steps per second), medians after warm-up; × = rnnlab ÷ PyTorch; "
          "dloss = relative difference of the first-step losses from identical weights.", "",
          table(rows, keras)]
    if "matmul_peak_gflops" in extras:
        pk = extras["matmul_peak_gflops"]
        md += ["", f"Float32 matrix-product peak (2048², this run): NumPy/OpenBLAS "
               f"{pk['numpy']:.0f} GFLOP/s, PyTorch/MKL {pk['torch']:.0f} GFLOP/s."]
    if "medium_lstm" in extras:
        m = extras["medium_lstm"]
        md += [f"Medium LSTM training step: {m['train_gflop_per_step']:.1f} GFLOP of matrix "
               f"products; rnnlab {m['rnnlab_gflops']:.0f} GFLOP/s "
               f"({100 * m['rnnlab_fraction_of_peak']:.0f}% of the higher peak), PyTorch "
               f"{m['torch_gflops']:.0f} GFLOP/s ({100 * m['torch_fraction_of_peak']:.0f}%)."]
    if "medium_lstm_rss" in extras:
        rs = extras["medium_lstm_rss"]
        steps = 1 if ARGS.quick else 3
        md += ["Peak RSS of a process running the medium LSTM training step (fresh process, "
               f"after building the model -> peak over {steps} step(s)): " + "; ".join(
                   f"{k} {v['before_mib']:.0f} -> {v['peak_mib']:.0f} MiB" for k, v in
                   rs.items()) + "."]
    text = "\n".join(md)
    print()
    print(text)
    if ARGS.json:
        Path(ARGS.json).write_text(json.dumps({"meta": meta, "extras": extras, "rows": rows},
                                              indent=1))
    if ARGS.md:
        key = f"{meta['mode']}-threads{ARGS.threads}" + (
            f"-{ARGS.rnnlab_engine}" if ARGS.rnnlab_engine else "") + (
            "-omp-default" if ARGS.omp_wait_policy == "default" else "")
        write_md(ARGS.md, key, text)


if __name__ == "__main__":
    main()
