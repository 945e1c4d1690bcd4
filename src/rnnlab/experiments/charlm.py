"""``charlm``: character-level LSTM language model on Tiny Shakespeare (Karpathy's char-rnn).

Default recipe: char-rnn's defaults (``train.lua``): one-hot characters into a 2-layer LSTM of
128 units, a linear read-out and softmax; sequences of 50 characters, batch 50, RMSprop with
learning rate 2e-3 and decay rate (rho) 0.95, the rate multiplied by 0.97 every epoch after epoch
10, dropout 0, every parameter drawn uniformly from ±0.08 with the forget-gate biases set to 1.
Data as char-rnn's loader (``--split charrnn``, the default): the text is viewed as ``[batch,
-1]`` rows walked in windows of ``seq_length`` with the hidden state carried from one window to
the next (stateful layers, reset at the start of every epoch and evaluation); the first 95% of
the windows train and the last 5% validate, so the validation text is the tail of each of the 50
rows. ``--split contiguous`` validates on the last 5% of the text instead (a harder, less
Shakespeare-like stretch: different plays and speakers).

Gradient clipping: char-rnn clips **element-wise** (``grad_params:clamp(-5, 5)``, i.e. Keras
``clipvalue``), not by norm, and it clips the gradient of the loss *summed* over the
``seq_length`` steps (it reports the mean but never divides the gradient). rnnlab's loss is the
mean over time, so the same clip is ``clipvalue = grad_clip / seq_length`` (``clip(T g, 5) = T
clip(g, 5 / T)``, and RMSprop/Adagrad steps do not change when the gradient is scaled by T, once
their epsilon is scaled too). The ``clip`` setting is given in char-rnn's units.

``--cell rnn --optimizer adagrad`` switches to Karpathy's ``min-char-rnn.py`` recipe: one tanh
layer of 100 units, sequences of 25, batch 1, Adagrad with learning rate 0.1 (accumulator from 0,
``sqrt(mem + 1e-8)``), gradients clipped to [-5, 5], weights from N(0, 0.01²), zero biases, the
hidden state carried through the text. Settings left at 0 take the recipe's value; any other
value overrides it. ``--cell`` is one of lstm, gru, rnn; ``--optimizer`` one of rmsprop, adagrad,
adam, sgd.

Writes ``samples.txt`` and ``samples.png`` (text sampled at several temperatures, and with
top-k), ``loss.png``, ``history.csv``, ``model.rnnlab`` (its metadata holds the character
vocabulary and ``kind = "charlm"``, so ``rnnlab generate runs/charlm/model.rnnlab --prime
"ROMEO:" --length 300 --temperature 0.8`` works).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from .base import Experiment, register_experiment
from .context import RunContext, read_history, write_json_atomic
from .ptb import PTBSequence, stateful_callbacks

CHAR_RNN = {"hidden": 128, "layers": 2, "seq_length": 50, "batch_size": 50, "lr": 2e-3,
            "clip": 5.0, "epochs": 20, "lr_decay": 0.97, "lr_decay_after": 10}
MIN_CHAR_RNN = {"hidden": 100, "layers": 1, "seq_length": 25, "batch_size": 1, "lr": 0.1,
                "clip": 5.0, "epochs": 1, "lr_decay": 1.0, "lr_decay_after": 0}
RECIPE_KEYS = tuple(CHAR_RNN)


def resolve(c: dict[str, Any]) -> dict[str, Any]:
    """The settings with 0 entries replaced by the recipe's values."""
    minimal = c["cell"] == "rnn" and c["optimizer"] == "adagrad"
    recipe = MIN_CHAR_RNN if minimal else CHAR_RNN
    out = dict(c)
    for key in RECIPE_KEYS:
        if not out.get(key):
            out[key] = recipe[key]
    out["recipe"] = "min-char-rnn" if minimal else "char-rnn"
    return out


class CharWindows:
    """Keras ``Sequence``-style batches ``i = 0 .. n-1``: windows ``first + i`` of the row
    matrices ``x_rows`` / ``y_rows`` (``[batch, L]``), ``num_steps`` wide, inputs one-hot
    (char-rnn feeds one-hot characters). Consecutive batches continue each row, so a stateful
    model carries its state from one to the next. ``max_batches`` (> 0) keeps the first ones."""

    def __init__(self, x_rows: np.ndarray, y_rows: np.ndarray, first: int, count: int,
                 num_steps: int, vocab_size: int, max_batches: int = 0) -> None:
        if count < 1:
            raise ValueError(f"no {num_steps}-character windows left for this split (rows of "
                             f"{x_rows.shape[1]} characters); use a smaller seq_length or "
                             "batch_size, or more text")
        self.x_rows, self.y_rows = x_rows, y_rows
        self.first, self.num_steps = first, num_steps
        self.n = min(count, max_batches) if max_batches > 0 else count
        self.eye = np.eye(vocab_size, dtype=np.float32)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        if not 0 <= i < self.n:
            raise IndexError(i)
        lo = (self.first + i) * self.num_steps
        hi = lo + self.num_steps
        return self.eye[self.x_rows[:, lo:hi]], self.y_rows[:, lo:hi]

    @property
    def tokens(self) -> int:
        return self.n * self.x_rows.shape[0] * self.num_steps


def char_rnn_split(ids: np.ndarray, batch_size: int, seq_length: int, train_fraction: float,
                   vocab_size: int, max_batches: int = 0, max_val_batches: int = 0
                   ) -> tuple[CharWindows, CharWindows]:
    """char-rnn's ``CharSplitLMMinibatchLoader``: the text cut to a multiple of ``batch *
    seq_length``, ``y`` = ``x`` shifted by one (the last target wraps to the first character),
    both viewed as ``[batch, -1]`` and split into ``seq_length`` windows; the first
    ``floor(n * train_fraction)`` windows train, the rest validate (so validation is the tail
    of every row)."""
    chunk = batch_size * seq_length
    n_batches = len(ids) // chunk
    data = np.asarray(ids[:n_batches * chunk])
    ydata = np.roll(data, -1)
    x_rows, y_rows = data.reshape(batch_size, -1), ydata.reshape(batch_size, -1)
    n_train = int(math.floor(n_batches * train_fraction))
    return (CharWindows(x_rows, y_rows, 0, n_train, seq_length, vocab_size, max_batches),
            CharWindows(x_rows, y_rows, n_train, n_batches - n_train, seq_length, vocab_size,
                        max_val_batches))


def contiguous_split(ids: np.ndarray, batch_size: int, seq_length: int, train_fraction: float,
                     vocab_size: int, max_batches: int = 0, max_val_batches: int = 0
                     ) -> tuple[CharWindows, CharWindows]:
    """The first ``train_fraction`` of the characters train, the rest validate; each part laid
    out as :func:`rnnlab.data.lm_batches` (``[batch, -1]`` rows, windows of ``seq_length``)."""
    cut = int(len(ids) * train_fraction)
    parts = []
    for part, limit in ((ids[:cut], max_batches), (ids[cut:], max_val_batches)):
        seq = PTBSequence(part, batch_size, seq_length)
        rows = seq.batches.data
        parts.append(CharWindows(rows[:, :-1], rows[:, 1:], 0, len(seq.batches), seq_length,
                                 vocab_size, limit))
    return parts[0], parts[1]


def build_model(c: dict[str, Any], vocab_size: int) -> Any:
    from .. import initializers, layers, losses, optimizers
    from ..models import Sequential

    minimal = c["recipe"] == "min-char-rnn"
    T = c["seq_length"]

    def init() -> Any:
        if minimal:
            return initializers.RandomNormal(0.0, 0.01)
        return initializers.RandomUniform(-0.08, 0.08)

    bias = (lambda: "zeros") if minimal else init
    stack: list[Any] = []
    for k in range(c["layers"]):
        shape = {"input_shape": (None, vocab_size)} if k == 0 else {}
        common = dict(return_sequences=True, stateful=True, kernel_initializer=init(),
                      recurrent_initializer=init(), bias_initializer=bias(), **shape)
        if c["cell"] == "lstm":
            stack.append(layers.LSTM(c["hidden"], unit_forget_bias=True, **common))
        elif c["cell"] == "gru":
            stack.append(layers.GRU(c["hidden"], **common))
        else:
            stack.append(layers.SimpleRNN(c["hidden"], **common))
    stack.append(layers.Dense(vocab_size, kernel_initializer=init(), bias_initializer=bias()))
    model = Sequential(stack)
    clip = c["clip"] / T  # char-rnn / min-char-rnn clip the gradient of the loss summed over time
    name = c["optimizer"]
    if name == "rmsprop":
        opt: Any = optimizers.RMSprop(learning_rate=c["lr"], rho=c["rho"],
                                      epsilon=(1e-8 / T) ** 2, clipvalue=clip)
    elif name == "adagrad":
        opt = optimizers.Adagrad(learning_rate=c["lr"], initial_accumulator_value=0.0,
                                 epsilon=1e-8 / T ** 2, clipvalue=clip)
    elif name == "adam":
        opt = optimizers.Adam(learning_rate=c["lr"], clipvalue=clip)
    elif name == "sgd":
        opt = optimizers.SGD(learning_rate=c["lr"], clipvalue=clip)
    else:  # pragma: no cover - validated by the runner's choices
        raise ValueError(f"unknown optimizer {name!r}; choose rmsprop, adagrad, adam or sgd")
    model.compile(optimizer=opt, loss=losses.SparseCategoricalCrossentropy(from_logits=True))
    model.build((c["batch_size"], T, vocab_size))
    return model


def _check_choices(c: dict[str, Any]) -> None:
    for key, allowed in CHOICES.items():
        if c[key] not in allowed:
            raise ValueError(f"--{key} must be one of {list(allowed)}, got {c[key]!r}")


def run(ctx: RunContext) -> dict[str, Any]:
    from .. import random as rnd
    from ..callbacks import LearningRateScheduler
    from ..data import load_tiny_shakespeare
    from . import plots
    from .sampling import generate_text

    _check_choices(ctx.config)
    c = resolve(ctx.config)
    _rewrite_config(ctx, c)
    rnd.set_random_seed(ctx.seed)
    corpus = load_tiny_shakespeare(ctx.data_dir_or_default(
        "tinyshakespeare", "charlm needs text: pass --data PATH, a plain text file or the "
        "folder holding Tiny Shakespeare's input.txt"))
    chars = list(corpus.vocab.itos)
    V = len(chars)
    split = char_rnn_split if c["split"] == "charrnn" else contiguous_split
    train, val = split(corpus.ids, c["batch_size"], c["seq_length"], c["train_fraction"], V,
                       c["max_batches"], c["max_val_batches"])
    model = build_model(c, V)
    model.metadata = {"kind": "charlm", "experiment": "charlm", "chars": chars,
                      "input": "onehot", "output": "logits", "cell": c["cell"],
                      "recipe": c["recipe"]}
    state_cb = stateful_callbacks(model, train.tokens)

    def schedule(epoch: int) -> float:
        after = c["lr_decay_after"]
        return c["lr"] * c["lr_decay"] ** max(epoch + 1 - after, 0) if after else c["lr"]

    ctx.fit(model, train, epochs=c["epochs"], validation_data=val,
            callbacks=[state_cb, LearningRateScheduler(schedule)])
    hist = read_history(ctx.out / "history.csv")
    ctx.save_model(model)

    samples = []
    for temperature, top_k in c["samples"]:
        text = generate_text(model, c["prime"], c["sample_length"], temperature, top_k,
                             seed=ctx.seed)
        label = f"temperature {temperature}" + (f", top-k {top_k}" if top_k else "")
        samples.append(f"=== {label} ===\n{text}\n")
    (ctx.out / "samples.txt").write_text("\n".join(samples))
    ctx.save_plot(plots.text_panel(f"charlm ({c['recipe']}, {c['cell']}): samples",
                                   "\n".join(samples)), "samples.png")
    fig = plots.curves({"loss": hist["loss"], "val_loss": hist["val_loss"]},
                       "Tiny Shakespeare char LM: cross-entropy (nats/char)")
    ctx.save_plot(fig, "loss.png")
    val_loss = hist["val_loss"][-1]
    return {
        "val_loss_nats_per_char": val_loss,
        "val_bits_per_char": val_loss / math.log(2),
        "best_val_loss_nats_per_char": min(hist["val_loss"]),
        "train_loss": hist["loss"][-1],
        "first_epoch_train_loss": hist["loss"][0],
        "epochs": len(hist["loss"]),
        "seconds_per_epoch": float(np.mean(hist["seconds"])),
        "train_chars_per_second": hist["train_tokens_per_second"][-1],
        "train_chars": train.tokens,
        "vocab_size": V,
        "parameters": model.count_params(),
    }


def _rewrite_config(ctx: RunContext, c: dict[str, Any]) -> None:
    """config.json with the recipe values actually used (0 entries resolved)."""
    path = ctx.out / "config.json"
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        saved = {}
    saved.update({k: c[k] for k in (*RECIPE_KEYS, "recipe")})
    write_json_atomic(path, saved)


CHOICES = {"cell": ("lstm", "gru", "rnn"), "optimizer": ("rmsprop", "adagrad", "adam", "sgd"),
           "split": ("charrnn", "contiguous")}

register_experiment(Experiment(
    name="charlm",
    summary="character-level 2x128 LSTM on Tiny Shakespeare (char-rnn; --cell rnn --optimizer "
            "adagrad: min-char-rnn)",
    defaults={"cell": "lstm", "optimizer": "rmsprop", "hidden": 0, "layers": 0,
              "seq_length": 0, "batch_size": 0, "lr": 0.0, "clip": 0.0, "epochs": 0,
              "lr_decay": 0.0, "lr_decay_after": 0, "rho": 0.95, "train_fraction": 0.95,
              "split": "charrnn",
              "max_batches": 0, "max_val_batches": 0, "prime": "ROMEO:", "sample_length": 500,
              "samples": [[0.5, None], [0.8, None], [1.0, None], [1.0, 5]], "seed": 0},
    smoke={"hidden": 32, "layers": 1, "seq_length": 20, "batch_size": 8, "epochs": 2,
           "max_batches": 12, "max_val_batches": 3, "sample_length": 40, "lr": 1e-2},
    run=run,
    data="tinyshakespeare",
    target="validation loss <= 1.6 nats/char",
    choices=CHOICES,
))
