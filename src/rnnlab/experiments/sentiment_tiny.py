"""``sentiment-tiny``: a many-to-one vanilla RNN classifies Victor Zhou's tiny sentiment phrases.

Victor Zhou, "An Introduction to Recurrent Neural Networks for Beginners" (2019) and the
repository ``vzhou842/rnn-from-scratch``: each word is a one-hot vector over the 18 training
words, a vanilla tanh RNN with 64 hidden units reads the phrase, and the last hidden state feeds a
2-way softmax (positive / negative). His loop trains one phrase at a time with plain SGD (learning
rate 2e-2 in the post, gradients clipped element-wise to [-10, 10]) for 1000 epochs and reaches
100% on the 20 test phrases. Here: ``Masking`` (phrases are padded with all-zero vectors to the
longest length; masked steps keep the state, so padding changes nothing) + ``SimpleRNN(64)`` +
``Dense(2, softmax)``, ``SGD(2e-2, clipvalue=10)``, batch size 1, sparse categorical
cross-entropy. The model file stores the vocabulary, so ``rnnlab predict MODEL --input
phrases.txt`` classifies new phrases (one per line).

``--preset seed`` is the recipe of the code Zhou's post walks through (seed 004): the same
model, loop and learning rate, with every gradient clipped element-wise to [-1, 1] (its
``np.clip(d, -1, 1)``) instead of the repository's ±10.
"""

from __future__ import annotations

import numpy as np

from .base import Experiment, register_experiment
from .context import RunContext, read_history

DATA = "tiny_sentiment"


def encode(texts: list[str], vocab: list[str], maxlen: int | None = None) -> np.ndarray:
    """One-hot word sequences ``(n, maxlen, len(vocab))``, post-padded with zero vectors."""
    index = {w: i for i, w in enumerate(vocab)}
    tokens = [t.lower().split() for t in texts]
    unknown = sorted({w for ws in tokens for w in ws if w not in index})
    if unknown:
        raise ValueError(f"word(s) not in the model's vocabulary: {', '.join(unknown)}; "
                         f"known words: {' '.join(vocab)}")
    if any(not ws for ws in tokens):
        raise ValueError("empty phrase: every line must hold at least one word")
    length = maxlen or max(len(ws) for ws in tokens)
    x = np.zeros((len(texts), length, len(vocab)), dtype=np.float32)
    for n, ws in enumerate(tokens):
        for t, w in enumerate(ws[:length]):
            x[n, t, index[w]] = 1.0
    return x


def run(ctx: RunContext) -> dict[str, float]:
    from .. import optimizers
    from ..data import load_tiny_sentiment
    from ..layers import Dense, Masking, SimpleRNN
    from ..models import Sequential
    from ..random import set_random_seed
    from . import plots

    c = ctx.config
    folder = ctx.data_dir_or_default(
        DATA, "sentiment-tiny needs the tiny sentiment set: pass --data PATH, the folder holding "
        "train.csv and test.csv", ("train.csv", "test.csv"))
    (train_x, train_y), (test_x, test_y) = load_tiny_sentiment(folder)
    vocab = sorted({w for t in train_x for w in t.lower().split()})
    maxlen = max(len(t.split()) for t in train_x + test_x)
    x_train, x_test = encode(train_x, vocab, maxlen), encode(test_x, vocab, maxlen)
    y_train, y_test = np.asarray(train_y), np.asarray(test_y)
    if c["train_limit"]:
        x_train, y_train = x_train[:c["train_limit"]], y_train[:c["train_limit"]]

    set_random_seed(ctx.seed)
    model = Sequential([Masking(0.0, input_shape=(None, len(vocab))),
                        SimpleRNN(c["hidden"]),
                        Dense(2, activation="softmax")])
    model.compile(optimizer=optimizers.SGD(learning_rate=c["lr"], clipvalue=c["clipvalue"]),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    ctx.fit(model, x_train, y_train, batch_size=c["batch_size"], epochs=c["epochs"],
            validation_data=(x_test, y_test), shuffle=True)
    hist = read_history(ctx.out / "history.csv")
    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
    train_loss, train_acc = model.evaluate(x_train, y_train, verbose=0)
    model.metadata = {"experiment": "sentiment-tiny", "kind": "text-classifier",
                      "vocab": vocab, "encoding": "onehot-words", "maxlen": maxlen,
                      "classes": ["negative", "positive"]}
    ctx.save_model(model)

    fig = plots.curves(hist, "sentiment-tiny: loss and accuracy per epoch (val = the test "
                       "phrases)")
    ctx.save_plot(fig, "curves.png")
    probs = np.asarray(model.predict(x_test, verbose=0))
    width = max(len(t) for t in test_x) + 2
    lines = [f"{'phrase':{width}s} label  P(positive)"]
    for text, label, p in zip(test_x, y_test.tolist(), probs[:, 1].tolist()):
        mark = "" if (p > 0.5) == bool(label) else "   <- wrong"
        lines.append(f"{text:{width}s} {label:5d}  {p:10.3f}{mark}")
    ctx.save_plot(plots.text_panel("sentiment-tiny: test phrases", "\n".join(lines)),
                  "test_predictions.png")
    return {"test_accuracy": float(test_acc), "test_loss": float(test_loss),
            "train_accuracy": float(train_acc), "train_loss": float(train_loss),
            "epochs": len(hist["loss"])}


register_experiment(Experiment(
    name="sentiment-tiny",
    summary="many-to-one vanilla RNN (64 units, one-hot words) on Victor Zhou's tiny "
            "sentiment phrases",
    defaults={"hidden": 64, "lr": 2e-2, "clipvalue": 10.0, "batch_size": 1, "epochs": 1000,
              "train_limit": 0, "seed": 0},
    smoke={"epochs": 3, "batch_size": 4, "lr": 0.1},
    run=run,
    data=DATA,
    target="test accuracy 100% (20/20)",
    presets={"seed": {"hidden": 64, "lr": 2e-2, "clipvalue": 1.0, "batch_size": 1,
                      "epochs": 1000}},
))
