"""keras-io "Character-level text generation with LSTM", on rnnlab.

Same structure as the published example (overlapping character windows one-hot encoded, an
LSTM and a softmax Dense trained with RMSprop, sampling with a temperature after each epoch);
only the imports are rnnlab's, and the Nietzsche corpus (downloaded by the original) is replaced
by a stand-in text made here from a small vocabulary, so it runs offline. ``--smoke`` shrinks
the text, the window and the generated length.
"""

from __future__ import annotations

import argparse
import random

import numpy as np

import rnnlab as keras
from rnnlab import layers

WORDS = ("the will to power is a kind of truth and every truth is a mask of the "
         "free spirit who laughs at morality while the herd obeys").split()


def stand_in_text(n_words: int, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    return " ".join(rng.choice(WORDS, n_words)) + "."


def sample(preds: np.ndarray, temperature: float = 1.0) -> int:
    # helper function to sample an index from a probability array
    preds = np.asarray(preds).astype("float64")
    preds = np.log(np.maximum(preds, 1e-300)) / temperature
    exp_preds = np.exp(preds)
    preds = exp_preds / np.sum(exp_preds)
    probas = np.random.multinomial(1, preds, 1)
    return int(np.argmax(probas))


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one quick epoch")
    args = parser.parse_args(argv)

    text = stand_in_text(300 if args.smoke else 20000).lower()
    text = text.replace("\n", " ")  # We remove newlines chars for nicer display
    print("Corpus length:", len(text))

    chars = sorted(list(set(text)))
    print("Total chars:", len(chars))
    char_indices = dict((c, i) for i, c in enumerate(chars))
    indices_char = dict((i, c) for i, c in enumerate(chars))

    # cut the text in semi-redundant sequences of maxlen characters
    maxlen = 12 if args.smoke else 40
    step = 3
    sentences = []
    next_chars = []
    for i in range(0, len(text) - maxlen, step):
        sentences.append(text[i: i + maxlen])
        next_chars.append(text[i + maxlen])
    print("Number of sequences:", len(sentences))

    x = np.zeros((len(sentences), maxlen, len(chars)), dtype="bool")
    y = np.zeros((len(sentences), len(chars)), dtype="bool")
    for i, sentence in enumerate(sentences):
        for t, char in enumerate(sentence):
            x[i, t, char_indices[char]] = 1
        y[i, char_indices[next_chars[i]]] = 1

    model = keras.Sequential(
        [
            keras.Input(shape=(maxlen, len(chars))),
            layers.LSTM(16 if args.smoke else 128),
            layers.Dense(len(chars), activation="softmax"),
        ]
    )
    optimizer = keras.optimizers.RMSprop(learning_rate=0.01)
    model.compile(loss="categorical_crossentropy", optimizer=optimizer)

    epochs = 1 if args.smoke else 40
    batch_size = 128
    length = 20 if args.smoke else 400
    losses = []
    generated = ""
    for epoch in range(epochs):
        history = model.fit(x, y, batch_size=batch_size, epochs=1)
        losses.append(history.history["loss"][-1])
        print()
        print("Generating text after epoch: %d" % epoch)

        start_index = random.randint(0, len(text) - maxlen - 1)
        for diversity in [0.2, 0.5, 1.0, 1.2]:
            print("...Diversity:", diversity)

            generated = ""
            sentence = text[start_index: start_index + maxlen]
            print('...Generating with seed: "' + sentence + '"')

            for i in range(length):
                x_pred = np.zeros((1, maxlen, len(chars)))
                for t, char in enumerate(sentence):
                    x_pred[0, t, char_indices[char]] = 1.0
                preds = model.predict(x_pred, verbose=0)[0]
                next_index = sample(preds, diversity)
                next_char = indices_char[next_index]
                sentence = sentence[1:] + next_char
                generated += next_char

            print("...Generated: ", generated)
            print("-")
    return {"loss": losses, "generated": generated, "chars": chars}


if __name__ == "__main__":
    main()
