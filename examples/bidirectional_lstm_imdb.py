"""keras-io "Bidirectional LSTM on IMDB", on rnnlab.

Same structure as the published example (an Embedding, two stacked Bidirectional LSTMs and a
sigmoid Dense in a functional model, sequences padded with ``keras.utils.pad_sequences``);
only the imports are rnnlab's, and ``keras.datasets.imdb.load_data`` (a download) is replaced by
stand-in reviews made here: lists of word indices whose label is whether "positive" words
(indices 2-9) outnumber "negative" ones (10-17). ``--smoke`` shrinks every size.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

import rnnlab as keras
from rnnlab import layers


def stand_in_imdb(n: int, num_words: int, seed: int) -> tuple[Any, np.ndarray]:
    """Variable-length reviews (lists of word indices, 1 = start) and 0/1 labels."""
    rng = np.random.default_rng(seed)
    reviews, labels = [], []
    for _ in range(n):
        length = int(rng.integers(5, 60))
        words = rng.integers(18, num_words, length)
        label = int(rng.integers(0, 2))
        cues = rng.integers(2, 10, 4) if label else rng.integers(10, 18, 4)
        words[rng.choice(length, 4, replace=False)] = cues
        reviews.append([1] + words.tolist())
        labels.append(label)
    return reviews, np.array(labels)


def main(argv: list[str] | None = None) -> dict[str, list[float]]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one quick epoch")
    args = parser.parse_args(argv)

    max_features = 200 if args.smoke else 20000  # Only consider the top 20k words
    maxlen = 40 if args.smoke else 200  # Only consider the first 200 words of each movie review
    dim, units = (8, 4) if args.smoke else (128, 64)

    # Input for variable-length sequences of integers
    inputs = keras.Input(shape=(None,), dtype="int32")
    # Embed each integer in a 128-dimensional vector
    x = layers.Embedding(max_features, dim)(inputs)
    # Add 2 bidirectional LSTMs
    x = layers.Bidirectional(layers.LSTM(units, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(units))(x)
    # Add a classifier
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.summary()

    # stand-in for keras.datasets.imdb.load_data(num_words=max_features)
    n_train, n_val = (128, 32) if args.smoke else (25000, 25000)
    x_train, y_train = stand_in_imdb(n_train, max_features, seed=0)
    x_val, y_val = stand_in_imdb(n_val, max_features, seed=1)
    print(len(x_train), "Training sequences")
    print(len(x_val), "Validation sequences")
    # Use pad_sequence to standardize sequence length:
    # this will truncate sequences longer than 200 words and zero-pad sequences shorter than 200.
    x_train = keras.utils.pad_sequences(x_train, maxlen=maxlen)
    x_val = keras.utils.pad_sequences(x_val, maxlen=maxlen)

    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=1 if args.smoke else 2,
                        validation_data=(x_val, y_val))
    return history.history


if __name__ == "__main__":
    main()
