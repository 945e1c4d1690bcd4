"""``ptb``: word-level 2-layer LSTM language model on Penn Treebank (Zaremba et al. 2014, "small").

The non-regularised LSTM of Zaremba, Sutskever & Vinyals (2014), *Recurrent Neural Network
Regularization*, in its "small" configuration (the TensorFlow ``ptb_word_lm`` tutorial's
``SmallConfig``): 2 layers of 200 units, 20 unrolled steps, batch 20, plain SGD with learning rate
1.0 kept for 4 epochs and then halved every epoch, clipping of the global gradient norm at 5,
every weight (embedding, kernels, recurrent kernels, biases) drawn uniformly from ±0.1, forget
bias 0, no dropout, 13 epochs. Published: valid perplexity 120.7, test 114.5 (the tutorial's own
run: train 38.0, valid 121.4, test 115.9).

Batching is the reference code's (:func:`rnnlab.data.lm_batches`): the train token stream is cut
into 20 rows walked left to right in windows of 20 tokens, and the LSTM states are carried from
one window to the next (``stateful=True``); they are reset to zero at the start of every epoch and
of every evaluation. Validation uses the same batching (batch 20, 20 steps, state carried), as the
reference code does for its ``valid`` model; the reference evaluates *test* with batch 1 and one
step at a time, which gives the same per-token average up to the dropped tail.

The reference minimises ``sum over the 20 steps of the batch-mean cross-entropy`` (TF:
``reduce_sum(sequence_loss(..., average_across_batch=True)) ``). rnnlab's loss is the mean over
all 400 tokens, i.e. 1/20 of that, so the same updates are ``SGD(lr * num_steps,
global_clipnorm=max_grad_norm / num_steps)``: ``clip(20 g, 5) = 20 clip(g, 5/20)`` exactly.

Formulations (``--formulation``): ``fast`` (default) is Embedding -> LSTM -> LSTM -> Dense(10000)
logits with ``SparseCategoricalCrossentropy(from_logits=True)`` (Dense on a 3-D input is applied
per time step, no wrapper needed, and the fused log-softmax avoids a separate softmax backward);
``keras`` is the Keras-tutorial style Embedding -> LSTM(return_sequences) x 2 ->
TimeDistributed(Dense(10000, activation="softmax")) with the probability-space loss. Both compute
the same function (the tests check that they give identical losses for identical weights).

The test split is not in the shared data folder (it is held out); ``test_perplexity`` is measured
only when ``--data`` points at a folder that holds ``ptb.test.txt`` (same batching as validation).
``max_batches`` / ``max_valid_batches`` (> 0) cut an epoch / the evaluations short (smoke runs,
timing slices).

``--preset seed`` is the Keras PTB tutorial's recipe (seed 000): Embedding(10000, 500) ->
LSTM(500) -> LSTM(500) (both ``return_sequences``) -> Dropout(0.5) -> TimeDistributed(Dense(10000,
softmax)), categorical cross-entropy (the sparse form: the same function of integer targets),
Adam at Keras's default rate 1e-3, batch 20, 30 steps, Keras's default initialisers, states not
carried between batches, 50 epochs. The tutorial publishes no perplexity. 50 epochs of 2 x 500
units take days on two cores; RESULTS.md reports the reduced run ``--epochs 1 --max_batches
100 --max_valid_batches 20`` (a documented slice of the first epoch); the slow test runs it.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from .base import Experiment, register_experiment
from .context import RunContext, read_history


# -- shared helpers (also used by charlm and embeddings) -------------------------------------------
class PTBSequence:
    """Keras ``Sequence``-style view of :func:`rnnlab.data.lm_batches`: batch ``i`` is window ``i``
    of the ``[batch_size, -1]`` token matrix (in order, never shuffled), so a stateful model can
    carry its state from batch ``i`` to ``i + 1``. ``max_batches`` (> 0) keeps only the first ones.
    """

    def __init__(self, ids: Any, batch_size: int, num_steps: int, max_batches: int = 0) -> None:
        from ..data import lm_batches

        self.batches = lm_batches(ids, batch_size, num_steps)
        self.num_steps = num_steps
        n = len(self.batches)
        self.n = min(n, max_batches) if max_batches > 0 else n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        if not 0 <= i < self.n:
            raise IndexError(i)
        n, data = self.num_steps, self.batches.data
        return data[:, i * n:(i + 1) * n], data[:, i * n + 1:(i + 1) * n + 1]

    @property
    def tokens(self) -> int:
        return self.n * self.batches.batch_size * self.num_steps


def _callback_base() -> type:
    from ..callbacks import Callback

    return Callback


def stateful_callbacks(model: Any, tokens_per_epoch: int, lr_scale: float = 0.0) -> Any:
    """Reset the states at the start of every epoch and evaluation; add perplexities and timing
    to the epoch logs (so they reach history.csv); ``lr_scale`` > 0 also logs
    ``reference_lr`` = the optimizer's rate / ``lr_scale``."""
    Callback = _callback_base()

    class StateAndPerplexity(Callback):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            super().__init__()
            self.epoch_seconds: list[float] = []
            self._start = 0.0
            self._train_end: float | None = None

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            model.reset_states()
            self._start = time.perf_counter()
            self._train_end = None

        def on_test_begin(self, logs: Any = None) -> None:
            if self._train_end is None:
                self._train_end = time.perf_counter()
            model.reset_states()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            now = time.perf_counter()
            train_seconds = (self._train_end or now) - self._start
            self.epoch_seconds.append(now - self._start)
            if logs is not None:
                logs["perplexity"] = math.exp(min(logs["loss"], 50.0))
                if "val_loss" in logs:
                    logs["val_perplexity"] = math.exp(min(logs["val_loss"], 50.0))
                logs["seconds"] = now - self._start
                logs["train_tokens_per_second"] = tokens_per_epoch / max(train_seconds, 1e-9)
                if lr_scale:
                    logs["reference_lr"] = float(model.optimizer.learning_rate) / lr_scale
            model.reset_states()

    return StateAndPerplexity()


def evaluate_stream(model: Any, seq: PTBSequence) -> float:
    """Mean per-token cross-entropy (nats) over ``seq`` with the state carried, from zero."""
    model.reset_states()
    loss = float(model.evaluate(seq, verbose=0))
    model.reset_states()
    return loss


# -- the model ----------------------------------------------------------------------
def build_model(c: dict[str, Any], vocab_size: int) -> Any:
    from .. import initializers, layers, losses, optimizers
    from ..models import Sequential

    c = {"init": "uniform", "stateful": True, "output_dropout": 0.0, "optimizer": "sgd", **c}

    def u() -> Any:
        if c["init"] == "keras":  # Keras's defaults per weight kind, as each layer chooses
            return None
        return initializers.RandomUniform(-c["init_scale"], c["init_scale"])

    def inits(**named: Any) -> dict[str, Any]:
        return {k: v for k, v in named.items() if v is not None}

    stack: list[Any] = [layers.Embedding(vocab_size, c["hidden"],
                                         **inits(embeddings_initializer=u()))]
    for _ in range(c["layers"]):
        stack.append(layers.LSTM(
            c["hidden"], return_sequences=True, stateful=c["stateful"],
            unit_forget_bias=c["init"] == "keras", dropout=c["dropout"],
            **inits(kernel_initializer=u(), recurrent_initializer=u(), bias_initializer=u())))
    if c["output_dropout"] > 0:
        stack.append(layers.Dropout(c["output_dropout"]))
    if c["formulation"] == "keras":
        stack.append(layers.TimeDistributed(layers.Dense(
            vocab_size, activation="softmax",
            **inits(kernel_initializer=u(), bias_initializer=u()))))
        loss: Any = "sparse_categorical_crossentropy"
    else:
        stack.append(layers.Dense(vocab_size,
                                  **inits(kernel_initializer=u(), bias_initializer=u())))
        loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    model = Sequential(stack)
    opt: Any
    if c["optimizer"] == "adam":
        opt = optimizers.Adam(learning_rate=c["adam_lr"])
    else:
        opt = optimizers.SGD(learning_rate=c["lr"] * c["num_steps"],
                             global_clipnorm=c["max_grad_norm"] / c["num_steps"])
    model.compile(optimizer=opt, loss=loss)
    model.build((c["batch_size"], c["num_steps"]))
    return model


def load_streams(ctx: RunContext, needs: str) -> tuple[Any, PTBSequence, PTBSequence]:
    """Penn Treebank (``--data`` or the shared folder; ``needs`` starts the error when absent)
    and its training and validation batch streams, from ``ctx.config`` (``vocab_size``,
    ``batch_size``, ``num_steps``, ``max_batches``, ``max_valid_batches``)."""
    from ..data import load_ptb

    c = ctx.config
    data = load_ptb(ctx.data_dir_or_default(
        "ptb", f"{needs}: pass --data PATH, the folder holding ptb.train.txt and "
        "ptb.valid.txt"), vocab_size=c["vocab_size"])
    train = PTBSequence(data.train, c["batch_size"], c["num_steps"], c["max_batches"])
    valid = PTBSequence(data.valid, c["batch_size"], c["num_steps"], c["max_valid_batches"])
    return data, train, valid


def lr_at(c: dict[str, Any], epoch: int) -> float:
    """Reference schedule (0-based epoch): ``lr * lr_decay ** max(epoch + 1 - max_epoch, 0)``."""
    return c["lr"] * c["lr_decay"] ** max(epoch + 1 - c["max_epoch"], 0)


def run(ctx: RunContext) -> dict[str, float]:
    from .. import random as rnd
    from ..callbacks import LearningRateScheduler
    from . import plots

    c = ctx.config
    rnd.set_random_seed(ctx.seed)
    data, train, valid = load_streams(ctx, "ptb needs Penn Treebank")
    vocab_size = len(data.vocab)
    model = build_model(c, vocab_size)
    model.metadata = {"kind": "wordlm", "experiment": "ptb", "vocab": list(data.vocab.itos),
                      "num_steps": c["num_steps"], "batch_size": c["batch_size"]}
    state_cb = stateful_callbacks(model, train.tokens,
                                  lr_scale=c["num_steps"] if c["optimizer"] == "sgd" else 0)
    steps = c["num_steps"]

    def schedule(epoch: int) -> float:
        return lr_at(c, epoch) * steps  # the mean-loss equivalent of the reference rate

    schedules = [LearningRateScheduler(schedule)] if c["optimizer"] == "sgd" else []
    ctx.fit(model, train, epochs=c["epochs"], validation_data=valid,
            callbacks=[state_cb, *schedules])
    hist = read_history(ctx.out / "history.csv")  # all epochs, also after --resume
    ctx.save_model(model)

    metrics: dict[str, Any] = {
        "train_perplexity": hist["perplexity"][-1],
        "val_perplexity": hist["val_perplexity"][-1],
        "best_val_perplexity": min(hist["val_perplexity"]),
        "epochs": len(hist["loss"]),
        "seconds_per_epoch": float(np.mean(hist["seconds"])),
        "train_tokens_per_second": hist["train_tokens_per_second"][-1],
        "train_tokens": train.tokens,
        "vocab_size": vocab_size,
        "parameters": model.count_params(),
    }
    if "test" in data.available:
        test = PTBSequence(data.test, c["batch_size"], c["num_steps"], c["max_valid_batches"])
        metrics["test_perplexity"] = math.exp(evaluate_stream(model, test))
    else:
        ctx.notes.append("ptb: the test split is held out (no ptb.test.txt in the data folder); "
                         "pass --data with a folder holding it to measure test_perplexity")
        metrics["test_held_out"] = 1

    curves = {k: hist[k] for k in ("loss", "val_loss", "perplexity", "val_perplexity")}
    fig = plots.curves(curves, "PTB word LM (Zaremba et al. small): cross-entropy (nats/word) "
                       "and perplexity per epoch")
    fig.axes[1].set_yscale("log")
    ctx.save_plot(fig, "perplexity.png")
    return metrics


register_experiment(Experiment(
    name="ptb",
    summary="word-level 2x200 LSTM language model on Penn Treebank (Zaremba et al. 2014, small)",
    defaults={"hidden": 200, "layers": 2, "num_steps": 20, "batch_size": 20, "lr": 1.0,
              "max_epoch": 4, "lr_decay": 0.5, "max_grad_norm": 5.0, "init_scale": 0.1,
              "dropout": 0.0, "epochs": 13, "vocab_size": 10000, "formulation": "fast",
              "max_batches": 0, "max_valid_batches": 0, "optimizer": "sgd", "adam_lr": 1e-3,
              "init": "uniform", "stateful": True, "output_dropout": 0.0, "seed": 0},
    smoke={"hidden": 16, "epochs": 2, "batch_size": 10, "num_steps": 10, "max_batches": 6,
           "max_valid_batches": 2},
    run=run,
    data="ptb",
    target="valid perplexity <= 124 (paper 120.7; test 114.5, measured only with ptb.test.txt)",
    choices={"formulation": ("fast", "keras"), "optimizer": ("sgd", "adam"),
             "init": ("uniform", "keras")},
    presets={"seed": {"hidden": 500, "layers": 2, "num_steps": 30, "batch_size": 20,
                      "output_dropout": 0.5, "optimizer": "adam", "adam_lr": 1e-3,
                      "init": "keras", "stateful": False, "formulation": "keras",
                      "epochs": 50}},
))
