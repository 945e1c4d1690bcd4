"""rnnlab vs PyTorch (and Keras 3 when installed): training and inference throughput.

    python benchmarks/bench.py --quick                 # main table, 2 threads, a few minutes
    python benchmarks/bench.py --threads 1 --json f.json  # full run, 1 thread on a pinned core
    python benchmarks/bench.py --seq --threads 1       # LSTM(128) cost, T = 50 ... 1600
    python benchmarks/bench.py --extra-rows            # masks, Bidirectional, float64, generation
    python benchmarks/bench.py --omp-wait-policy passive  # beside the headline, never quoted
    python benchmarks/bench.py --summarize a.json b.json c.json  # lowest ratio per row of runs
    python benchmarks/bench.py --profile-step medium:LSTM  # rnnlab's step, layer by layer

The headline is rnnlab against PyTorch at PyTorch's own settings, and the comparison to quote is
the one in PyTorch's favour: for each row, the lowest ratio (PyTorch time ÷ rnnlab time) among
the headline runs (``--summarize`` gives it) and any other setting shown beside them. Runs that
depart from the headline settings write their own, differently keyed sections and say so in
their text.

What is timed (float32 unless a row says otherwise, same thread count for every framework,
frameworks interleaved round by round inside one process so machine noise hits all alike):

* train: one step = forward, loss, backward, SGD update (learning rate 0.01, no momentum).
  rnnlab through its public Keras API: ``Sequential([Input, RNN layers..., Dense])``,
  ``compile(optimizer=SGD(0.01), loss=...)`` and ``train_on_batch(x, y)`` (which also updates
  the loss tracker, as Keras does). PyTorch: ``nn.RNN/LSTM/GRU(batch_first=True)`` +
  ``nn.Linear``, ``zero_grad(set_to_none=True)``, ``F.cross_entropy`` /
  ``F.binary_cross_entropy_with_logits`` / ``F.mse_loss``, ``backward()``,
  ``torch.optim.SGD.step()``. Both models have the same parameters (rnnlab layers get
  ``recurrent_bias=True``, PyTorch's two biases) and start from the same weights (copied from
  rnnlab into PyTorch); the first step's losses are compared (``dloss``) to show that both do
  the same computation.
* infer: one forward pass of the same model (no loss): ``predict_on_batch`` vs
  ``torch.inference_mode()`` + ``module(x)``.
* A row's figure is the median over at least 5 interleaved rounds (``--rounds``; 5 in quick
  mode, 7 in full mode, the medium config included), after warm-up; rounds continue until
  ``--budget`` seconds of rounds (wall clock) are spent. Each round gives every framework one
  turn, the starting framework rotating, and each framework is timed as its users run it, alone
  and back to back: a turn makes untimed calls for ``--settle`` seconds (20 ms at 2 threads and
  more, none at 1 thread), at least ``--lead`` of them (1), and then the timed one. The untimed
  calls outlast the other framework's spinning threads: PyTorch's OpenMP workers spin for about
  10 ms after each parallel region, and rnnlab's pool for up to 2 ms, on the cores the next
  call needs; they also wake the framework's own threads as the previous steps of a loop would,
  and keep the cores busy (a pause would not: on this KVM guest code run just after a 30 ms
  sleep ran up to 2x slower for its first few milliseconds). Calls interleaved one by one had
  every 2-thread call under ~10 ms run beside PyTorch's spinning worker. tokens/s = batch ×
  steps / median time. Ratios are PyTorch time ÷ rnnlab time (> 1: rnnlab faster).

Row families:

* main (default): configs tiny/small/medium/clf/mnist × SimpleRNN/LSTM/GRU (``--configs``,
  ``--cells``), then the matrix-product peak, the medium LSTM's GFLOP/s and its memory check.
* ``--seq``: an LSTM(128) training step, N=32, D=32, loss (MSE) on the last step, as
  ``../shared/tools/seq_scaling.py``, at T = 50, 100, 200, 400, 800, 1600: per-time-step µs of
  each framework and its growth against its own T=50 value; prints rnnlab's worst growth (the
  speed issue asks for at most 1.5× up to T=1600).
* ``--extra-rows`` (measured and reported, no target): the clf LSTM with a sequence mask
  (rnnlab: a ``Masking`` layer over zero-padded steps; PyTorch: ``pack_padded_sequence`` with the
  same lengths, as PyTorch users run masks), ``Bidirectional(LSTM)`` vs
  ``nn.LSTM(bidirectional=True)``, the clf LSTM in float64 in both frameworks, and batch-1
  generation: 200 steps one at a time with the state carried, at inference (rnnlab: stateful
  layers and ``predict_on_batch`` on one step, as ``rnnlab generate`` runs a char-rnn model;
  PyTorch: ``nn.LSTM`` on one step with ``(h, c)`` carried, then ``nn.Linear``), 2 × LSTM(128)
  with 65 one-hot characters (char-rnn's model); the sampling itself is left out.

Headline settings (each is printed, saved in the JSON meta and written into the generated text):

* PyTorch's own defaults: no ``OMP_WAIT_POLICY`` (removed from this process's environment if it
  was set). PyTorch's OpenMP threads then spin after each parallel region, which is PyTorch's
  fastest setting on an idle machine. ``--omp-wait-policy passive`` sets ``PASSIVE`` instead,
  which slows PyTorch several-fold on an idle machine (tiny LSTM training 2.0k vs 11.0k tokens/s
  at 2 threads) but survives a machine shared with other busy processes; its tables are shown
  beside the headline (section keys ending ``-omp-passive``), never instead of it.
* OpenBLAS as it tunes itself: ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` (this machine's
  environment sets ``Haswell`` and ``512``, which slow OpenBLAS on its AVX-512 cores, and not
  MKL) are recorded and removed from this process's environment before NumPy loads OpenBLAS.
  ``--keep-openblas-env`` keeps them, for a comparison run (keys ending ``-openblas-env``). The
  OpenBLAS kernel that then runs is reported (``rnnlab.kernels``' ``CORE`` and threadpoolctl's
  ``architecture``).
* Threads: ``--threads N`` (default 2) sets ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` and
  ``MKL_NUM_THREADS`` before NumPy or PyTorch is imported, limits every BLAS/OpenMP pool to N with
  threadpoolctl's ``threadpool_limits`` (when installed) and calls ``torch.set_num_threads(N)``.
* Pinning: the process is pinned to N cores (``os.sched_setaffinity``) before any thread starts;
  ``--cpu`` chooses them (default: the last N of the cores this process may use; ``none``: no
  pinning, keys ending ``-unpinned``). The affinity is recorded.
* Memory allocator: glibc's default returns large freed buffers to the OS, so every step pays
  for fresh page faults on big activations (PyTorch's 10,000-word head swung 64-109 ms per step
  that way). Unless ``--default-malloc`` is given (keys ending ``-default-malloc``), the script
  calls ``mallopt(M_MMAP_THRESHOLD, 1 GiB)`` and ``mallopt(M_TRIM_THRESHOLD, 2 GiB)`` at start-up
  (as exporting ``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_``), which made PyTorch
  steady at its faster figure; it applies to the whole process, so to every framework alike.

rnnlab's own worker threads spin for up to 2 ms when idle and then sleep, and with its numba
engine every product of a step (recurrent layers and Dense) runs on them with one BLAS thread
per call (rnnlab.kernels._pool, rnnlab.kernels.products). The load average at start and end
is recorded: ratios from a loaded machine are much noisier (do not publish them). The garbage
collector stays on, as users run it.

Memory check (main rows, unless ``--no-extras``): a fresh process per framework builds the medium
LSTM model, resets its peak-RSS counter (``/proc/self/clear_refs``) and runs one training step;
the increase of peak RSS over the RSS before the step is reported, with whether rnnlab's
increase is at most PyTorch's, for the first step (one-off costs included: rnnlab's compiled
kernels load their machine code from numba's cache then; numba itself and the cells' sweep
modules load at ``compile``, as PyTorch's libraries load at import) and for a later step
(after one more step and ``malloc_trim``, so that the heap's retained free pages do not hide the
step's working memory).

Results: a table on stdout, ``--json FILE`` (meta and the rows of every family run) and
generated sections of ``benchmarks/RESULTS.md`` (``--md FILE``; ``--md ''`` to skip), between
markers, one section per family, mode (quick/full), thread count and departure from the
headline settings (``full-threads1``, ``seq-full-threads1``, ``extra-quick-threads2-omp-passive``,
``summary-full-threads2``, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

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
SEQ_LENGTHS = (50, 100, 200, 400, 800, 1600)
SEQ_GROWTH_BAR = 1.5           # the speed issue: rnnlab's per-step cost within 1.5x of T=50
MIN_ROUNDS = 5                 # the speed issue: medians over at least 5 interleaved rounds
SETTLE_SECONDS = 0.02          # untimed calls opening each turn at threads > 1 (PyTorch's
                               # workers spin ~10 ms after each parallel region)
OPENBLAS_TUNING = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
LR = 0.01
HERE = Path(__file__).resolve().parent


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="short timings (a few minutes)")
    p.add_argument("--threads", type=int, default=2, help="threads for every framework")
    p.add_argument("--cpu", default="auto",
                   help="cores to pin to, comma-separated, one per thread ('auto': the last "
                        "--threads cores this process may use; 'none': no pinning)")
    p.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated configs")
    p.add_argument("--cells", default=",".join(CELLS), help="comma-separated cells")
    p.add_argument("--seq", action="store_true",
                   help="rows over sequence length (LSTM(128), T=50..1600) instead of the main "
                        "table")
    p.add_argument("--extra-rows", action="store_true",
                   help="masked, Bidirectional, float64 and batch-1 generation rows instead of "
                        "the main table (with --seq: both)")
    p.add_argument("--json", default=None, metavar="FILE", help="write the rows as JSON")
    p.add_argument("--md", default=str(HERE / "RESULTS.md"), metavar="FILE",
                   help="markdown file whose generated sections are replaced ('' to skip)")
    p.add_argument("--budget", type=float, default=None,
                   help="seconds of timed rounds per framework, row and mode (after the "
                        "minimum rounds)")
    p.add_argument("--rounds", type=int, default=None,
                   help=f"minimum interleaved rounds per row (default {MIN_ROUNDS} quick, 7 full)")
    p.add_argument("--settle", type=float, default=None,
                   help="seconds of untimed calls that open each framework's turn (default "
                        f"{SETTLE_SECONDS} at --threads > 1, 0 at 1 thread)")
    p.add_argument("--lead", type=int, default=1,
                   help="untimed calls, at least, before each timed one (default 1)")
    p.add_argument("--default-malloc", action="store_true",
                   help="keep glibc's default malloc thresholds")
    p.add_argument("--omp-wait-policy", default="default", choices=("default", "passive"),
                   help="OMP_WAIT_POLICY for PyTorch's OpenMP threads (default: PyTorch's own, "
                        "no override; 'passive' is shown beside the headline only)")
    p.add_argument("--keep-openblas-env", action="store_true",
                   help=f"keep {' and '.join(OPENBLAS_TUNING)} from the environment")
    p.add_argument("--rnnlab-engine", default=None, choices=("compiled", "reference"),
                   help="force rnnlab's engine (RNNLAB_ENGINE); default: its automatic choice")
    p.add_argument("--no-extras", action="store_true",
                   help="skip the matrix-product peak, GFLOP/s and memory checks")
    p.add_argument("--profile-step", default=None, metavar="CONFIG:CELL",
                   help="only time rnnlab's training step layer by layer (e.g. medium:LSTM)")
    p.add_argument("--summarize", nargs="+", default=None, metavar="JSON",
                   help="only combine the JSON files of repeated runs of one setting: the "
                        "lowest ratio of each row")
    p.add_argument("--rss-child", default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


# ---------------------------------------------------------------------------------------------
# process settings, all before NumPy or PyTorch is imported
# ---------------------------------------------------------------------------------------------
ARGS = parse_args()


def _openblas_env() -> dict[str, str | None]:
    """The OpenBLAS tuning variables found in the environment; removed from it unless
    ``--keep-openblas-env`` (NumPy's OpenBLAS reads them when it is loaded)."""
    found = {k: os.environ.get(k) for k in OPENBLAS_TUNING}
    if not ARGS.keep_openblas_env:
        for k in OPENBLAS_TUNING:
            os.environ.pop(k, None)
    return found


def _omp_wait_policy() -> str | None:
    """``OMP_WAIT_POLICY`` found in the environment; the run's own is set (passive) or removed
    (PyTorch's default)."""
    found = os.environ.pop("OMP_WAIT_POLICY", None)
    if ARGS.omp_wait_policy == "passive":
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    return found


def _pin() -> str:
    """Pin this process (and every thread it starts later) to ``--threads`` cores."""
    if ARGS.cpu == "none":
        return "not pinned (--cpu none)"
    allowed = sorted(os.sched_getaffinity(0))
    if ARGS.cpu == "auto":
        cores = allowed[-ARGS.threads:]
    else:
        cores = [int(c) for c in ARGS.cpu.split(",")]
        if len(cores) != ARGS.threads or not set(cores) <= set(allowed):
            raise SystemExit(f"--cpu needs {ARGS.threads} of the allowed cores {allowed} "
                             f"(one per thread), got {ARGS.cpu!r}")
    os.sched_setaffinity(0, cores)
    short = "" if len(cores) == ARGS.threads else f" (only {len(cores)} cores available)"
    return f"pinned to core(s) {','.join(map(str, cores))}{short}"


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


OPENBLAS_FOUND = _openblas_env()
OMP_FOUND = _omp_wait_policy()
PINNING = _pin()
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)
if ARGS.rnnlab_engine:
    os.environ["RNNLAB_ENGINE"] = ARGS.rnnlab_engine
MALLOC = _tune_malloc()

import numpy as np  # noqa: E402

try:
    from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

    _LIMITS = threadpool_limits(ARGS.threads)
except ImportError:  # pragma: no cover - optional
    threadpool_info = None


def pools() -> str:
    if threadpool_info is None:
        return "threadpoolctl not installed (env vars only)"
    return "; ".join(f"{p['internal_api']}={p['num_threads']}" for p in threadpool_info())


def openblas_kernel() -> dict[str, str]:
    """The OpenBLAS kernel that runs: rnnlab's compiled sweeps' ``CORE`` (NumPy's OpenBLAS, the
    one rnnlab calls) and threadpoolctl's ``architecture`` of every OpenBLAS it sees."""
    from rnnlab import kernels

    core = "n/a (numba unavailable)"
    if kernels.numba_status()[0]:
        from rnnlab.kernels import _numba_kernels

        core = _numba_kernels.CORE
    arch = "n/a (threadpoolctl not installed)"
    if threadpool_info is not None:
        arch = ", ".join(str(p.get("architecture")) for p in threadpool_info()
                         if p["internal_api"] == "openblas") or "no OpenBLAS loaded"
    return {"rnnlab_core": core, "threadpoolctl_architecture": arch}


# ---------------------------------------------------------------------------------------------
# rows: what a model is, its data
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Spec:
    """One model of a row: its sizes, head and loss, and the variant it measures."""

    name: str
    batch: int
    steps: int
    input: int
    hidden: int
    layers: int
    classes: int              # width of the Dense head (1: one logit)
    loss_at: str              # "every" step (language model) or the "last" step
    loss: str = "auto"        # "auto": BCE with one logit, else sparse CE; or "mse"
    dtype: str = "float32"
    masked: bool = False      # lengths T//4..T, zeros after each (Masking / pack_padded_sequence)
    bidirectional: bool = False
    stateful: bool = False    # generation: batch-1 stateful layers fed one step at a time


def config_spec(cfg: str) -> Spec:
    if cfg not in CONFIGS:
        raise SystemExit(f"unknown config {cfg!r}; choose from {sorted(CONFIGS)}")
    return Spec(cfg, *CONFIGS[cfg])


def seq_spec(steps: int) -> Spec:
    """``../shared/tools/seq_scaling.py``'s model: LSTM(128), N=32, D=32, MSE on the last step."""
    return Spec(f"T={steps}", 32, steps, 32, 128, 1, 1, "last", loss="mse")


def extra_specs() -> list[Spec]:
    clf = config_spec("clf")
    return [replace(clf, name="clf masked", masked=True),
            replace(clf, name="clf Bidirectional", bidirectional=True),
            replace(clf, name="clf float64", dtype="float64")]


# char-rnn's model (rnnlab's charlm experiment: 2 x LSTM(128), one-hot characters), batch 1
GENERATION = Spec("generate 200 steps, batch 1", 1, 200, 65, 128, 2, 65, "every", stateful=True)


def make_data(spec: Spec) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``(x, y, lengths)``; masked rows have zeros after each sequence's length."""
    n, t, d, v = spec.batch, spec.steps, spec.input, spec.classes
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, t, d)).astype(spec.dtype)
    lengths = None
    if spec.masked:
        lengths = rng.integers(t // 4, t + 1, n)
        x[np.arange(t)[None, :] >= lengths[:, None]] = 0.0
    if spec.loss == "mse":
        y = rng.standard_normal((n, v)).astype(spec.dtype)
    elif spec.loss_at == "last":
        y = (rng.random(n) < 0.5).astype(spec.dtype) if v == 1 else rng.integers(0, v, n)
    else:
        y = rng.integers(0, v, (n, t))
    return x, y, lengths


def rel_diff(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-30)


# ---------------------------------------------------------------------------------------------
# models: rnnlab, PyTorch (weights copied from rnnlab), Keras 3
# ---------------------------------------------------------------------------------------------
def rnnlab_loss(spec: Spec) -> Any:
    from rnnlab import losses

    if spec.loss == "mse":
        return losses.MeanSquaredError()
    if spec.classes == 1:
        return losses.BinaryCrossentropy(from_logits=True)
    return losses.SparseCategoricalCrossentropy(from_logits=True)


def rnnlab_model(spec: Spec, cell: str) -> Any:
    import rnnlab
    from rnnlab import layers, optimizers

    rnnlab.set_random_seed(0)
    kind = getattr(layers, cell)
    stack: list[Any]
    if spec.stateful:
        stack = [rnnlab.Input(batch_shape=(spec.batch, None, spec.input), dtype=spec.dtype)]
    else:
        stack = [rnnlab.Input((spec.steps, spec.input), dtype=spec.dtype)]
    if spec.masked:
        stack.append(layers.Masking(0.0))
    for i in range(spec.layers):
        rnn = kind(spec.hidden, return_sequences=(spec.loss_at == "every" or i < spec.layers - 1),
                   recurrent_bias=True, stateful=spec.stateful, dtype=spec.dtype, name=f"rnn{i}")
        stack.append(layers.Bidirectional(rnn, name=f"bi{i}") if spec.bidirectional else rnn)
    stack.append(layers.Dense(spec.classes, dtype=spec.dtype, name="head"))
    model = rnnlab.Sequential(stack)
    model.compile(optimizer=optimizers.SGD(LR), loss=rnnlab_loss(spec))
    return model


def recurrent_params(model: Any, spec: Spec, i: int) -> list[tuple[str, dict]]:
    """``(PyTorch name suffix, parameters)`` of recurrent layer ``i``'s cell(s)."""
    if spec.bidirectional:
        bi = model.get_layer(f"bi{i}")
        return [("", bi.forward_layer.cells[0].params),
                ("_reverse", bi.backward_layer.cells[0].params)]
    return [("", model.get_layer(f"rnn{i}").cells[0].params)]


def recurrent_engine(model: Any, spec: Spec) -> str:
    """The engine rnnlab's first recurrent layer runs on, and why when it is not compiled."""
    layer = model.get_layer("bi0").forward_layer if spec.bidirectional else model.get_layer(
        "rnn0")
    engine, why = layer.engine_choice()
    return engine + (f" ({why})" if why else "")


def torch_model(spec: Spec, cell: str, src: Any = None) -> Any:
    import torch
    from torch import nn

    torch.manual_seed(0)
    dirs = 2 if spec.bidirectional else 1

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            kind = {"SimpleRNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}[cell]
            self.rnn = kind(spec.input, spec.hidden, spec.layers, batch_first=True,
                            bidirectional=spec.bidirectional)
            self.head = nn.Linear(dirs * spec.hidden, spec.classes)

        def forward(self, x: Any, lengths: Any = None) -> Any:
            if lengths is not None:  # the way PyTorch users run masks
                x = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                                      enforce_sorted=False)
            y, state = self.rnn(x)
            if spec.loss_at == "every":
                return self.head(y)
            if dirs == 1 and lengths is None:
                return self.head(y[:, -1])
            h_n = state[0] if isinstance(state, tuple) else state   # (layers·dirs, N, H)
            return self.head(torch.cat(list(h_n[-dirs:]), dim=1))

    net = Net().to(getattr(torch, spec.dtype))
    if src is not None:
        copy_weights(net, src, spec)
    return net


def copy_weights(net: Any, src: Any, spec: Spec) -> None:
    """rnnlab's weights into the PyTorch model (rnnlab keeps PyTorch's layout and names)."""
    import torch

    with torch.no_grad():
        for i in range(spec.layers):
            for suffix, params in recurrent_params(src, spec, i):
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(net.rnn, f"{name}_l{i}{suffix}").copy_(torch.from_numpy(params[name]))
        head = src.get_layer("head").params
        net.head.weight.copy_(torch.from_numpy(head["weight"]))
        net.head.bias.copy_(torch.from_numpy(head["bias"]))


def rnnlab_steps(spec: Spec, cell: str, data: tuple) -> tuple[Any, Callable, Callable]:
    x, y, _ = data
    model = rnnlab_model(spec, cell)

    def train() -> float:
        return float(model.train_on_batch(x, y))

    def infer() -> None:
        model.predict_on_batch(x)

    return model, train, infer


def torch_loss(spec: Spec, y: np.ndarray) -> Callable:
    import torch
    import torch.nn.functional as F

    yt = torch.from_numpy(np.asarray(y))
    if spec.loss == "mse":
        return lambda out: F.mse_loss(out, yt)
    if spec.classes == 1:
        return lambda out: F.binary_cross_entropy_with_logits(out[:, 0], yt)
    yl = yt.long().reshape(-1)
    return lambda out: F.cross_entropy(out.reshape(-1, spec.classes), yl)


def torch_steps(spec: Spec, cell: str, data: tuple, src: Any = None) -> tuple[Callable, Callable]:
    import torch

    x, y, lengths = data
    net = torch_model(spec, cell, src)
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    loss_fn = torch_loss(spec, y)
    xt = torch.from_numpy(x)
    lt = None if lengths is None else torch.from_numpy(lengths)

    def train() -> float:
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(xt, lt))
        loss.backward()
        opt.step()
        return float(loss.detach())

    def infer() -> None:
        with torch.inference_mode():
            net(xt, lt)

    return train, infer


def generation_steps(spec: Spec) -> tuple[Any, Callable, Callable]:
    """The rnnlab model and two functions, rnnlab's and PyTorch's, each generating
    ``spec.steps`` steps one at a time from a fresh state, at inference, and returning the last
    step's logits."""
    import torch

    model = rnnlab_model(spec, "LSTM")
    net = torch_model(spec, "LSTM", src=model)
    ids = np.random.default_rng(0).integers(0, spec.input, spec.steps)
    onehot = np.eye(spec.input, dtype=spec.dtype)[ids]
    steps = [onehot[t].reshape(1, 1, -1) for t in range(spec.steps)]
    steps_t = [torch.from_numpy(s) for s in steps]

    def rnnlab_generate() -> np.ndarray:
        model.reset_states()
        for s in steps:
            out = model.predict_on_batch(s)
        return np.asarray(out)[0, -1]

    def torch_generate() -> np.ndarray:
        with torch.inference_mode():
            state = None
            for s in steps_t:
                y, state = net.rnn(s, state)
                out = net.head(y)
        return out.numpy()[0, -1]

    return model, rnnlab_generate, torch_generate


def keras_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("keras") is not None


def keras_steps(spec: Spec, cell: str, data: tuple) -> tuple[Callable, Callable]:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    x, y, _ = data
    kind = getattr(keras.layers, cell)
    stack = [kind(spec.hidden, return_sequences=(spec.loss_at == "every" or i < spec.layers - 1))
             for i in range(spec.layers)]
    model = keras.Sequential([keras.Input((spec.steps, spec.input)), *stack,
                              keras.layers.Dense(spec.classes)])
    loss = (keras.losses.BinaryCrossentropy(from_logits=True) if spec.classes == 1
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
def interleaved(fns: dict[str, Callable], warmup: int, budget: float, min_rounds: int,
                max_rounds: int, settle: float = 0.0, lead: int = 0
                ) -> tuple[dict[str, float], int]:
    """``(median seconds per call of each function, rounds)``: every round gives each function
    one turn, the starting function rotating; at least ``min_rounds``, then until ``budget``
    seconds of rounds (wall clock, untimed calls included) are spent or
    ``max_rounds``.

    A turn makes untimed calls for at least ``settle`` seconds (and at least ``lead`` of them),
    then the timed one, so that each framework is timed as its users run it, alone and back to
    back: the untimed calls outlast the previous framework's spinning threads (PyTorch's OpenMP
    workers spin for about 10 ms after each parallel region, on cores the next framework needs)
    and wake this framework's own threads as the previous steps of a training loop would. The
    turn keeps the cores busy instead of sleeping: on this benchmark's KVM guest, code run just
    after a 30 ms sleep ran up to 2x slower for its first few milliseconds."""
    names = list(fns)
    for _ in range(warmup):
        for k in names:
            fns[k]()
    times: dict[str, list[float]] = {k: [] for k in names}
    start = time.perf_counter()
    r = 0
    while r < max_rounds and (r < min_rounds or time.perf_counter() - start < budget):
        for k in names[r % len(names):] + names[:r % len(names)]:
            t_turn, calls = time.perf_counter(), 0
            while calls < lead or time.perf_counter() - t_turn < settle:
                fns[k]()
                calls += 1
            t0 = time.perf_counter()
            fns[k]()
            times[k].append(time.perf_counter() - t0)
        r += 1
    return {k: statistics.median(v) for k, v in times.items()}, r


@dataclass(frozen=True)
class Timing:
    budget: float
    min_rounds: int
    max_rounds: int
    warmup: int
    settle: float = 0.0
    lead: int = 0

    def run(self, fns: dict[str, Callable], warmup: int | None = None
            ) -> tuple[dict[str, float], int]:
        return interleaved(fns, self.warmup if warmup is None else warmup, self.budget,
                           self.min_rounds, self.max_rounds, self.settle, self.lead)


def make_timing() -> Timing:
    quick = ARGS.quick
    budget = ARGS.budget if ARGS.budget is not None else (0.25 if quick else 3.0)
    rounds = ARGS.rounds if ARGS.rounds is not None else (MIN_ROUNDS if quick else 7)
    settle = ARGS.settle if ARGS.settle is not None else (
        SETTLE_SECONDS if ARGS.threads > 1 else 0.0)
    return Timing(budget, max(1, rounds), max(rounds, 200 if quick else 1000), 2 if quick else 3,
                  max(0.0, settle), max(0, ARGS.lead))


# ---------------------------------------------------------------------------------------------
# measurements
# ---------------------------------------------------------------------------------------------
def measure_row(spec: Spec, cell: str, timing: Timing, keras: bool = False) -> dict[str, Any]:
    """Training step and inference of one model in rnnlab, PyTorch (and Keras 3)."""
    data = make_data(spec)
    model, r_train, r_infer = rnnlab_steps(spec, cell, data)
    t_train, t_infer = torch_steps(spec, cell, data, src=model)
    dloss = rel_diff(r_train(), t_train())   # first step from identical weights
    fns_train = {"rnnlab": r_train, "torch": t_train}
    fns_infer = {"rnnlab": r_infer, "torch": t_infer}
    if keras:
        fns_train["keras"], fns_infer["keras"] = keras_steps(spec, cell, data)
    warmup = 1 if spec.name == "medium" else None
    tr, rounds_train = timing.run(fns_train, warmup)
    inf, rounds_infer = timing.run(fns_infer, warmup)
    tok = spec.batch * spec.steps
    row: dict[str, Any] = {
        "config": spec.name, "cell": cell, "batch": spec.batch, "steps": spec.steps,
        "input": spec.input, "hidden": spec.hidden, "layers": spec.layers,
        "head": spec.classes, "dtype": spec.dtype, "rnnlab_engine": recurrent_engine(model, spec),
        "rnnlab_train_tok_s": tok / tr["rnnlab"], "torch_train_tok_s": tok / tr["torch"],
        "train_ratio": tr["torch"] / tr["rnnlab"],
        "rnnlab_infer_tok_s": tok / inf["rnnlab"], "torch_infer_tok_s": tok / inf["torch"],
        "infer_ratio": inf["torch"] / inf["rnnlab"],
        "keras_train_tok_s": tok / tr["keras"] if keras else None,
        "keras_infer_tok_s": tok / inf["keras"] if keras else None,
        "rnnlab_train_ms": 1e3 * tr["rnnlab"], "torch_train_ms": 1e3 * tr["torch"],
        "rnnlab_infer_ms": 1e3 * inf["rnnlab"], "torch_infer_ms": 1e3 * inf["torch"],
        "rounds_train": rounds_train, "rounds_infer": rounds_infer,
        "dloss": dloss, "train_gflop": train_flops(spec, cell) / 1e9,
    }
    if keras:
        row["keras_train_ratio"] = tr["keras"] / tr["rnnlab"]
        row["keras_infer_ratio"] = inf["keras"] / inf["rnnlab"]
    return row


def measure_generation(spec: Spec, timing: Timing) -> dict[str, Any]:
    model, r_gen, t_gen = generation_steps(spec)
    a, b = r_gen(), t_gen()
    check = float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), 1e-30))
    med, rounds = timing.run({"rnnlab": r_gen, "torch": t_gen})
    return {
        "config": spec.name, "cell": "LSTM", "batch": spec.batch, "steps": spec.steps,
        "input": spec.input, "hidden": spec.hidden, "layers": spec.layers, "dtype": spec.dtype,
        "rnnlab_engine": recurrent_engine(model, spec),
        "rnnlab_train_tok_s": None, "torch_train_tok_s": None, "train_ratio": None,
        "rnnlab_infer_tok_s": spec.steps / med["rnnlab"],
        "torch_infer_tok_s": spec.steps / med["torch"], "infer_ratio": med["torch"] / med["rnnlab"],
        "rnnlab_us_per_step": 1e6 * med["rnnlab"] / spec.steps,
        "torch_us_per_step": 1e6 * med["torch"] / spec.steps,
        "rounds_train": None, "rounds_infer": rounds, "dout": check,
    }


def seq_row(steps: int, timing: Timing) -> dict[str, Any]:
    spec = seq_spec(steps)
    data = make_data(spec)
    model, r_train, _ = rnnlab_steps(spec, "LSTM", data)
    t_train, _ = torch_steps(spec, "LSTM", data, src=model)
    dloss = rel_diff(r_train(), t_train())
    med, rounds = timing.run({"rnnlab": r_train, "torch": t_train})
    return {"T": steps, "rnnlab_us_per_step": 1e6 * med["rnnlab"] / steps,
            "torch_us_per_step": 1e6 * med["torch"] / steps,
            "ratio": med["torch"] / med["rnnlab"], "rounds": rounds, "dloss": dloss,
            "rnnlab_engine": recurrent_engine(model, spec)}


def measure_seq(timing: Timing) -> list[dict[str, Any]]:
    """``seq_row`` at every T, with each framework's per-step cost ÷ its own at the first T."""
    rows: list[dict[str, Any]] = []
    for steps in SEQ_LENGTHS:
        row = seq_row(steps, timing)
        base = rows[0] if rows else row
        for fw in ("rnnlab", "torch"):
            row[f"{fw}_growth"] = row[f"{fw}_us_per_step"] / base[f"{fw}_us_per_step"]
        rows.append(row)
        print(f"T={steps:5d}  rnnlab {row['rnnlab_us_per_step']:8.1f} us/step "
              f"({row['rnnlab_growth']:.2f}x of T={SEQ_LENGTHS[0]})  torch "
              f"{row['torch_us_per_step']:8.1f} us/step ({row['torch_growth']:.2f}x)  ratio "
              f"{row['ratio']:.2f}  rounds {row['rounds']}  dloss {row['dloss']:.1e}", flush=True)
    return rows


def measure_extra(timing: Timing) -> list[dict[str, Any]]:
    rows = []
    for spec in extra_specs():
        rows.append(measure_row(spec, "LSTM", timing))
        print_row(rows[-1])
    rows.append(measure_generation(GENERATION, timing))
    print_row(rows[-1])
    return rows


def matmul_peak(reps: int) -> dict[str, float]:
    """Float32 matrix-product GFLOP/s (2048², median of reps) through NumPy and PyTorch."""
    import torch

    n = 2048
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    b = a.T.copy()
    fns = {"numpy": lambda: np.matmul(a, b),
           "torch": lambda: torch.mm(torch.from_numpy(a), torch.from_numpy(b))}
    med, _ = interleaved(fns, 2, 0.0, reps, reps)
    return {k: 2 * n ** 3 / s / 1e9 for k, s in med.items()}


def train_flops(spec: Spec, cell: str) -> float:
    """Matrix-product FLOPs of one training step: forward products, and twice that backward
    (input and weight gradients), except the first layer's input gradient, which no framework
    needs (the input is data)."""
    n, t, d, h = spec.batch, spec.steps, spec.input, spec.hidden
    dirs = 2 if spec.bidirectional else 1
    g = GATES[cell]
    fwd = 0.0
    dim = d
    for _ in range(spec.layers):
        fwd += dirs * 2.0 * n * t * g * h * (dim + h)
        dim = dirs * h
    rows = n * t if spec.loss_at == "every" else n
    fwd += 2.0 * rows * dim * spec.classes
    return 3 * fwd - dirs * 2.0 * n * t * g * h * d


def _vm_mib(key: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux: ``5`` into ``/proc/self/clear_refs``)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _trim_heap() -> bool:
    """Return the heap's free pages to the OS (glibc ``malloc_trim``): the mallopt setting keeps
    them, and they would hide a later step's working memory inside the RSS before it."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
        return True
    except (OSError, AttributeError):
        return False


def rss_child(framework: str) -> None:
    """Run in a fresh process: increase of peak RSS over one medium LSTM training step, after
    building the model. "first": the first step (with one-off costs: rnnlab's compiled kernels
    loading from numba's cache, PyTorch's first-call set-up); "later": a step after one more,
    with the heap's free pages returned to the OS before it."""
    spec = config_spec("medium")
    data = make_data(spec)
    if framework == "rnnlab":
        _, train, _ = rnnlab_steps(spec, "LSTM", data)
    else:
        import torch

        torch.set_num_threads(ARGS.threads)
        train, _ = torch_steps(spec, "LSTM", data)
    out: dict[str, Any] = {"built_mib": _vm_mib("VmRSS")}
    for step in ("first", "later"):
        if step == "later":
            train()
            out["heap_trimmed"] = _trim_heap()
        out["peak_reset"] = _reset_peak_rss()
        before = _vm_mib("VmRSS")
        train()
        out[f"{step}_before_mib"] = before
        out[f"{step}_increase_mib"] = _vm_mib("VmHWM") - before
    print(json.dumps(out))


def child_flags() -> list[str]:
    """The settings a child process must repeat (the parent's environment changes carry over)."""
    cores = sorted(os.sched_getaffinity(0))
    cpu = ",".join(map(str, cores)) if ARGS.cpu != "none" and len(cores) == ARGS.threads else (
        ARGS.cpu)
    flags = ["--threads", str(ARGS.threads), "--omp-wait-policy", ARGS.omp_wait_policy,
             "--cpu", cpu]
    for on, flag in ((ARGS.default_malloc, "--default-malloc"),
                     (ARGS.keep_openblas_env, "--keep-openblas-env")):
        if on:
            flags.append(flag)
    if ARGS.rnnlab_engine:
        flags += ["--rnnlab-engine", ARGS.rnnlab_engine]
    return flags


def measure_rss() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for fw in ("rnnlab", "torch"):
        cmd = [sys.executable, str(Path(__file__).resolve()), "--rss-child", fw, *child_flags()]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            raise SystemExit(f"the {fw} memory check failed:\n{res.stderr}")
        out[fw] = json.loads(res.stdout.strip().splitlines()[-1])
    for step in ("first", "later"):
        out[f"rnnlab_le_torch_{step}"] = (out["rnnlab"][f"{step}_increase_mib"]
                                          <= out["torch"][f"{step}_increase_mib"])
    return out


def machine_checks(rows: list[dict], quick: bool) -> dict[str, Any]:
    """Matrix-product peak, the medium LSTM step's GFLOP/s against it, the memory check."""
    extras: dict[str, Any] = {"matmul_peak_gflops": matmul_peak(3 if quick else 7)}
    med = [r for r in rows if r["config"] == "medium" and r["cell"] == "LSTM"]
    if med:
        r, best = med[0], max(extras["matmul_peak_gflops"].values())
        m = {"train_gflop_per_step": r["train_gflop"],
             "rnnlab_gflops": r["train_gflop"] / (r["rnnlab_train_ms"] / 1e3),
             "torch_gflops": r["train_gflop"] / (r["torch_train_ms"] / 1e3)}
        m["rnnlab_fraction_of_peak"] = m["rnnlab_gflops"] / best
        m["torch_fraction_of_peak"] = m["torch_gflops"] / best
        extras["medium_lstm"] = m
    extras["medium_lstm_rss"] = measure_rss()
    return extras


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------
def fmt_tok(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v / 1000:.1f}k" if v < 1e6 else f"{v / 1e6:.2f}M"


def fmt_ratio(v: float | None) -> str:
    return "—" if v is None else f"**{v:.2f}**"


def md_table(head: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(cells) + " |" for cells in body])


def print_row(r: dict[str, Any]) -> None:
    parts = [f"{r['config'] + ' ' + r['cell']:<22}"]
    if r["train_ratio"] is not None:
        parts.append(f"train {fmt_tok(r['rnnlab_train_tok_s']):>8} vs "
                     f"{fmt_tok(r['torch_train_tok_s']):>8} = {r['train_ratio']:.2f}x")
    parts.append(f"infer {fmt_tok(r['rnnlab_infer_tok_s']):>8} vs "
                 f"{fmt_tok(r['torch_infer_tok_s']):>8} = {r['infer_ratio']:.2f}x")
    check = f"dloss {r['dloss']:.1e}" if "dloss" in r else f"dout {r['dout']:.1e}"
    rounds = f"rounds {r['rounds_train'] or '-'}/{r['rounds_infer']}"
    print("   ".join(parts + [rounds, check]), flush=True)


def main_table(rows: list[dict], keras: bool) -> str:
    head = ["config", "cell", "rnnlab train", "torch train", "train ×", "rnnlab infer",
            "torch infer", "infer ×"]
    if keras:
        head += ["keras train", "keras infer"]
    body = []
    for r in rows:
        cells = [r["config"], r["cell"], fmt_tok(r["rnnlab_train_tok_s"]),
                 fmt_tok(r["torch_train_tok_s"]), fmt_ratio(r["train_ratio"]),
                 fmt_tok(r["rnnlab_infer_tok_s"]), fmt_tok(r["torch_infer_tok_s"]),
                 fmt_ratio(r["infer_ratio"])]
        if keras:
            cells += [fmt_tok(r["keras_train_tok_s"]), fmt_tok(r["keras_infer_tok_s"])]
        body.append(cells + [f"{r['dloss']:.1e}"])
    return md_table(head + ["dloss"], body)


def extra_table(rows: list[dict]) -> str:
    head = ["row", "rnnlab train", "torch train", "train ×", "rnnlab infer", "torch infer",
            "infer ×", "check"]
    body = [[r["config"], fmt_tok(r["rnnlab_train_tok_s"]), fmt_tok(r["torch_train_tok_s"]),
             fmt_ratio(r["train_ratio"]), fmt_tok(r["rnnlab_infer_tok_s"]),
             fmt_tok(r["torch_infer_tok_s"]), fmt_ratio(r["infer_ratio"]),
             f"dloss {r['dloss']:.1e}" if "dloss" in r else f"dout {r['dout']:.1e}"]
            for r in rows]
    return md_table(head, body)


def seq_table(rows: list[dict]) -> str:
    head = ["T", "rnnlab µs/step", "torch µs/step", "×", f"rnnlab ÷ its T={SEQ_LENGTHS[0]}",
            f"torch ÷ its T={SEQ_LENGTHS[0]}", "dloss"]
    body = [[str(r["T"]), f"{r['rnnlab_us_per_step']:.1f}", f"{r['torch_us_per_step']:.1f}",
             fmt_ratio(r["ratio"]), f"{r['rnnlab_growth']:.2f}", f"{r['torch_growth']:.2f}",
             f"{r['dloss']:.1e}"] for r in rows]
    return md_table(head, body)


def worst(rows: list[dict], key: str) -> tuple[float, str]:
    have = [r for r in rows if r.get(key) is not None]
    if not have:
        return float("nan"), "n/a"
    r = min(have, key=lambda r: r[key])
    return r[key], f"{r['config']} {r['cell']}"


def worst_line(rows: list[dict]) -> str:
    (tr, tr_at), (inf, inf_at) = worst(rows, "train_ratio"), worst(rows, "infer_ratio")
    return (f"Lowest ratios in this run: train {tr:.2f} ({tr_at}), infer {inf:.2f} ({inf_at}).")


def seq_worst_line(rows: list[dict]) -> str:
    r = max(rows, key=lambda r: r["rnnlab_growth"])
    ok = "within" if r["rnnlab_growth"] <= SEQ_GROWTH_BAR else "ABOVE"
    tw = max(rows, key=lambda r: r["torch_growth"])
    return (f"Worst rnnlab per-step growth: {r['rnnlab_growth']:.2f}× of its T={SEQ_LENGTHS[0]} "
            f"value at T={r['T']} ({ok} the speed issue's {SEQ_GROWTH_BAR}× up to "
            f"T={SEQ_LENGTHS[-1]}); PyTorch's worst: {tw['torch_growth']:.2f}× at T={tw['T']}.")


def departures() -> list[str]:
    """How this run's settings differ from the headline's."""
    out = []
    if ARGS.omp_wait_policy == "passive":
        out.append("PyTorch's OpenMP threads with OMP_WAIT_POLICY=PASSIVE, which slows PyTorch "
                   "several-fold on an idle machine")
    if ARGS.keep_openblas_env:
        out.append("OpenBLAS tuned by the environment ("
                   + ", ".join(f"{k}={v}" for k, v in OPENBLAS_FOUND.items()) + ")")
    if ARGS.default_malloc:
        out.append("glibc's default malloc thresholds")
    if ARGS.cpu == "none":
        out.append("not pinned to cores")
    if ARGS.rnnlab_engine:
        out.append(f"rnnlab's engine forced to {ARGS.rnnlab_engine}")
    if few_rounds():
        out.append(f"fewer than {MIN_ROUNDS} rounds per row")
    return out


def few_rounds() -> bool:
    return ARGS.rounds is not None and ARGS.rounds < MIN_ROUNDS


def section_key(part: str, mode: str, headline: bool = False) -> str:
    """The generated section's key: family, mode, threads, then each departure from the
    headline settings (none with ``headline``)."""
    key = f"{mode}-threads{ARGS.threads}"
    if part != "main":
        key = f"{part}-{key}"
    if headline:
        return key
    for on, suffix in ((ARGS.rnnlab_engine, f"-{ARGS.rnnlab_engine}"),
                       (ARGS.omp_wait_policy == "passive", "-omp-passive"),
                       (ARGS.keep_openblas_env, "-openblas-env"),
                       (ARGS.default_malloc, "-default-malloc"),
                       (ARGS.cpu == "none", "-unpinned"),
                       (few_rounds(), "-few-rounds")):
        if on:
            key += suffix
    return key


def setting_note(part: str, mode: str) -> str:
    away = departures()
    quote = ("The comparison to quote is the one in PyTorch's favour: for each row, the lowest "
             "ratio among the headline runs and any setting shown beside them.")
    if not away:
        return ("**Headline setting**: PyTorch at its own defaults (no OMP_WAIT_POLICY "
                "override), OpenBLAS without the environment's tuning variables, pinned cores. "
                + quote)
    return (f"**Not the headline** ({'; '.join(away)}): shown beside the headline section "
            f"`{section_key(part, mode, headline=True)}` for comparison, never instead of it. "
            + quote)


def header_md(meta: dict[str, Any], part: str) -> list[str]:
    ob, ker = meta["openblas_env_found"], meta["openblas_kernel"]
    found = ", ".join(f"{k}={v}" for k, v in ob.items() if v is not None) or "none"
    omp_found = ("" if meta["omp_wait_policy_found"] is None else
                 f" (the environment's {meta['omp_wait_policy_found']} removed)")
    rounds = meta["min_rounds"]
    few = (f" (fewer than the {MIN_ROUNDS} the speed issue asks for: not a figure to quote)"
           if rounds < MIN_ROUNDS else "")
    return [
        f"Command: `{meta['command']}` ({meta['mode']} run, {meta['wall_s']:.0f} s)  ",
        setting_note(part, meta["mode"]) + "  ",
        f"Threads: {meta['threads']} for every framework ({meta['pools']}; torch "
        f"{meta['torch_threads']}); {meta['pinning']} (affinity {meta['affinity']}). "
        f"OMP_WAIT_POLICY: {meta['omp_wait_policy']}{omp_found}. Malloc: {meta['malloc']}.  ",
        f"OpenBLAS tuning variables found in the environment: {found}; {meta['openblas_env']}. "
        f"OpenBLAS kernel running: {ker['rnnlab_core']} (rnnlab.kernels CORE), "
        f"{ker['threadpoolctl_architecture']} (threadpoolctl).  ",
        f"Load average (1 min) at start/end: {meta['loadavg_start'][0]:.1f}/"
        f"{meta['loadavg_end'][0]:.1f} on {meta['cpu_count']} cores. rnnlab engine: "
        f"{meta['rnnlab_engine']}; NumPy {meta['numpy']}; PyTorch {meta['torch']}.  ",
        f"Medians over ≥ {rounds} interleaved rounds{few}, after warm-up; × = PyTorch time ÷ "
        "rnnlab time (> 1: rnnlab faster).",
    ]


def machine_md(extras: dict[str, Any]) -> list[str]:
    md: list[str] = []
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

        def inc(fw: str) -> str:
            v = rs[fw]
            return (f"{fw} +{v['first_increase_mib']:.0f} MiB over the first step, "
                    f"+{v['later_increase_mib']:.0f} MiB over a later one (model built: "
                    f"{v['built_mib']:.0f} MiB)")

        yes = {True: "yes", False: "no"}
        caveat = "" if all(rs[fw]["peak_reset"] and rs[fw]["heap_trimmed"] for fw in (
            "rnnlab", "torch")) else (" (the peak counter could not be reset or the heap not "
                                      "trimmed: the figures are upper bounds)")
        md += ["Peak RSS increase over one medium LSTM training step (a fresh process per "
               "framework, after building the model; the first step includes one-off costs such "
               "as rnnlab's compiled kernels loading; before the later step the heap's free "
               f"pages go back to the OS){caveat}: {inc('rnnlab')}; {inc('torch')}. rnnlab's "
               f"increase ≤ PyTorch's: {yes[rs['rnnlab_le_torch_first']]} (first step), "
               f"{yes[rs['rnnlab_le_torch_later']]} (later step)."]
    return md


def main_md(rows: list[dict], extras: dict[str, Any], keras: bool) -> list[str]:
    return ["Tokens/s (batch × steps per second). Keras 3: " + (
        "installed (torch backend), its own initial weights (throughput only). " if keras else
        "not installed: its columns could not be measured. ")
            + "dloss = relative difference of the first-step losses from identical weights. "
            + worst_line(rows), "", main_table(rows, keras), *machine_md(extras)]


def seq_md(rows: list[dict]) -> list[str]:
    return ["LSTM(128) training step, N=32, D=32, MSE on the last step (as "
            "`../shared/tools/seq_scaling.py`), float32: microseconds per time step, and each "
            f"framework's per-step cost ÷ its own T={SEQ_LENGTHS[0]} value. "
            + seq_worst_line(rows), "", seq_table(rows)]


def extra_md(rows: list[dict]) -> list[str]:
    gen = [r for r in rows if "dout" in r]
    g = (f" Generation: rnnlab {gen[0]['rnnlab_us_per_step']:.0f} µs per step, PyTorch "
         f"{gen[0]['torch_us_per_step']:.0f} µs." if gen else "")
    return ["Measured and reported, no target. LSTM rows: the clf model (32 × 100 steps, 32 "
            "inputs, 32 units, one logit) with a sequence mask (lengths 25-100, zeros after; "
            "rnnlab `Masking`, PyTorch `pack_padded_sequence(enforce_sorted=False)` inside the "
            "step), as `Bidirectional(LSTM)` vs `nn.LSTM(bidirectional=True)`, and in float64 "
            "(both frameworks). Generation: 2 × LSTM(128) + Dense(65) on one-hot characters, "
            "batch 1, 200 steps one at a time with the state carried, at inference (rnnlab: "
            "stateful layers, `predict_on_batch` per step, as `rnnlab generate`; PyTorch: "
            "`nn.LSTM` with `(h, c)` carried + `nn.Linear`); tokens/s = generated steps per "
            "second, sampling left out." + g + " check: dloss = first-step loss difference, "
            "dout = last logits' largest difference ÷ their largest value.", "",
            extra_table(rows)]


def write_md(path: str, key: str, text: str) -> None:
    p = Path(path)
    start, end = f"<!-- bench:{key}:start -->", f"<!-- bench:{key}:end -->"
    body = p.read_text() if p.exists() else "# Benchmark results\n"
    block = f"{start}\n{text}\n{end}"
    if start in body and end in body:
        pre, rest = body.split(start, 1)
        body = pre + block + rest.split(end, 1)[1]
    else:
        body = body.rstrip("\n") + "\n\n" + block + "\n"
    p.write_text(body)


# ---------------------------------------------------------------------------------------------
# modes that are not a benchmark run
# ---------------------------------------------------------------------------------------------
def profile_step(spec_text: str, steps: int = 10) -> None:
    """Where an rnnlab training step's time goes: each layer's forward and backward (or
    ``backward_params``), the rest (loss, optimizer, plumbing), milliseconds per step."""
    cfg, _, cell = spec_text.partition(":")
    if cfg not in CONFIGS or cell not in CELLS:
        raise SystemExit(f"--profile-step expects CONFIG:CELL with CONFIG in {sorted(CONFIGS)} "
                         f"and CELL in {CELLS}, got {spec_text!r}")
    spec = config_spec(cfg)
    model, train, _ = rnnlab_steps(spec, cell, make_data(spec))
    spent: dict[str, float] = {}

    def timed(layer: Any, method: str) -> None:
        inner = getattr(layer, method)
        label = f"{layer.name}.{method}"
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
    print(f"rnnlab {cfg} {cell} training step, {ARGS.threads} thread(s), {PINNING}, mean of "
          f"{steps}: {total:.1f} ms")
    parts = {k: v / steps * 1e3 for k, v in spent.items() if v > 0}
    for k, v in parts.items():
        print(f"  {k:<28} {v:8.1f}")
    print(f"  {'loss, optimizer, plumbing':<28} {total - sum(parts.values()):8.1f}")


def summarize(paths: list[str]) -> None:
    """The lowest (the figure to quote), median and highest ratio of each row over the JSON
    files of repeated runs of one setting; written as section ``summary-<key>``."""
    runs = [json.loads(Path(p).read_text()) for p in paths]
    keys = {r["meta"].get("section") for r in runs}
    if len(keys) != 1 or None in keys:
        raise SystemExit(f"--summarize needs runs of one setting (one section key), got {keys}")
    key = keys.pop()
    table: dict[tuple[str, str], dict[str, list[float]]] = {}
    for run in runs:
        for r in run.get("rows", []) + run.get("extra_rows", []):
            entry = table.setdefault((r["config"], r["cell"]), {"train": [], "infer": []})
            for what in ("train", "infer"):
                if r[f"{what}_ratio"] is not None:
                    entry[what].append(r[f"{what}_ratio"])

    def spread(v: list[float]) -> str:
        if not v:
            return "—"
        return f"**{min(v):.2f}** / {statistics.median(v):.2f} / {max(v):.2f}"

    body = [[cfg, cell, spread(e["train"]), spread(e["infer"]), str(len(e["infer"]))]
            for (cfg, cell), e in table.items()]
    low = {w: min(((min(e[w]), f"{c} {k}") for (c, k), e in table.items() if e[w]),
                  default=(float("nan"), "n/a")) for w in ("train", "infer")}
    loads = ", ".join(f"{r['meta']['loadavg_start'][0]:.1f}/{r['meta']['loadavg_end'][0]:.1f}"
                      for r in runs)
    text = "\n".join([
        f"Summary of {len(runs)} runs of section `{key}` ({', '.join(paths)}; load average at "
        f"start/end {loads}). Ratio (PyTorch time ÷ rnnlab time) lowest / median / highest "
        "over the runs; quote the lowest (in PyTorch's favour). Lowest of all: train "
        f"{low['train'][0]:.2f} ({low['train'][1]}), infer {low['infer'][0]:.2f} "
        f"({low['infer'][1]}).", "",
        md_table(["config", "cell", "train ×", "infer ×", "runs"], body)])
    print(text)
    if ARGS.md:
        write_md(ARGS.md, f"summary-{key}", text)


# ---------------------------------------------------------------------------------------------
# a benchmark run
# ---------------------------------------------------------------------------------------------
def run_meta(timing: Timing, keras: bool) -> dict[str, Any]:
    import torch

    import rnnlab
    from rnnlab import kernels

    return {
        "command": ("python benchmarks/bench.py " + shlex.join(sys.argv[1:])).strip(),
        "mode": "quick" if ARGS.quick else "full", "loadavg_start": os.getloadavg(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY") or "unset (PyTorch's default)",
        "omp_wait_policy_found": OMP_FOUND, "threads": ARGS.threads,
        "torch_threads": torch.get_num_threads(), "pinning": PINNING,
        "affinity": sorted(os.sched_getaffinity(0)), "openblas_env_found": OPENBLAS_FOUND,
        "openblas_env": "kept for this run (--keep-openblas-env)" if ARGS.keep_openblas_env
        else "removed from this process's environment before NumPy was imported",
        "openblas_kernel": openblas_kernel(), "malloc": MALLOC, "pools": pools(),
        "python": platform.python_version(), "numpy": np.__version__,
        "torch": torch.__version__, "rnnlab": rnnlab.__version__,
        "rnnlab_engine": kernels.engine_info(), "cpu_count": os.cpu_count(),
        "keras": "installed (torch backend)" if keras else "not installed",
        "budget_s": timing.budget, "min_rounds": timing.min_rounds,
        "max_rounds": timing.max_rounds, "warmup": timing.warmup,
        "settle_s": timing.settle, "lead_calls": timing.lead,
    }


def print_header(meta: dict[str, Any]) -> None:
    print(f"# {meta['command']}")
    for k in ("threads", "pinning", "affinity", "omp_wait_policy", "openblas_env_found",
              "openblas_env", "openblas_kernel", "malloc", "pools", "numpy", "torch",
              "rnnlab_engine", "keras", "min_rounds", "settle_s", "lead_calls",
              "loadavg_start"):
        print(f"#   {k}: {meta[k]}")
    print(f"#   {setting_note('main', meta['mode'])}")


def main_rows(timing: Timing, keras: bool) -> list[dict]:
    rows = []
    for cfg in ARGS.configs.split(","):
        spec = config_spec(cfg)
        for cell in ARGS.cells.split(","):
            rows.append(measure_row(spec, cell, timing, keras))
            print_row(rows[-1])
    return rows


def main() -> None:
    if ARGS.rss_child:
        rss_child(ARGS.rss_child)
        return
    if ARGS.summarize:
        summarize(ARGS.summarize)
        return
    if ARGS.profile_step:
        profile_step(ARGS.profile_step)
        return
    import torch

    torch.set_num_threads(ARGS.threads)
    timing = make_timing()
    run_main = not (ARGS.seq or ARGS.extra_rows)
    keras = run_main and keras_available()
    meta = run_meta(timing, keras)
    mode = meta["mode"]
    print_header(meta)
    t_start = time.perf_counter()
    report: dict[str, Any] = {"meta": meta}
    sections: dict[str, list[str]] = {}
    if run_main:
        rows = main_rows(timing, keras)
        extras = {} if ARGS.no_extras else machine_checks(rows, ARGS.quick)
        report.update(rows=rows, extras=extras)
        sections["main"] = main_md(rows, extras, keras)
    if ARGS.seq:
        report["seq_rows"] = measure_seq(timing)
        print(seq_worst_line(report["seq_rows"]))
        sections["seq"] = seq_md(report["seq_rows"])
    if ARGS.extra_rows:
        report["extra_rows"] = measure_extra(timing)
        sections["extra"] = extra_md(report["extra_rows"])
    meta["wall_s"] = time.perf_counter() - t_start
    meta["loadavg_end"] = os.getloadavg()
    meta["section"] = section_key(next(iter(sections)), mode)
    for part, lines in sections.items():
        key = section_key(part, mode)
        text = "\n".join(header_md(meta, part) + lines)
        print(f"\n[{key}]\n{text}")
        if ARGS.md:
            write_md(ARGS.md, key, text)
    if ARGS.json:
        Path(ARGS.json).write_text(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main()
