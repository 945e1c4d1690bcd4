"""keras-io "Sequence to sequence learning for performing number addition", on rnnlab.

Same structure as the published example (CharacterTable, the generated questions, an LSTM
encoder, RepeatVector, an LSTM decoder and a softmax Dense, trained one epoch at a time with
sample predictions); only the imports are rnnlab's. ``--smoke`` uses 600 questions, 16 units and
two epochs.
"""

from __future__ import annotations

import argparse

import numpy as np

import rnnlab as keras
from rnnlab import layers


class CharacterTable:
    """Given a set of characters: one-hot encode them, decode the one-hot (or probability)
    rows back to characters."""

    def __init__(self, chars: str) -> None:
        self.chars = sorted(set(chars))
        self.char_indices = {c: i for i, c in enumerate(self.chars)}
        self.indices_char = {i: c for i, c in enumerate(self.chars)}

    def encode(self, C: str, num_rows: int) -> np.ndarray:
        x = np.zeros((num_rows, len(self.chars)))
        for i, c in enumerate(C):
            x[i, self.char_indices[c]] = 1
        return x

    def decode(self, x: np.ndarray, calc_argmax: bool = True) -> str:
        if calc_argmax:
            x = x.argmax(axis=-1)
        return "".join(self.indices_char[int(i)] for i in x)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, two quick epochs")
    args = parser.parse_args(argv)

    # Parameters for the model and dataset.
    TRAINING_SIZE = 600 if args.smoke else 50000
    DIGITS = 3
    REVERSE = True
    # Maximum length of input is 'int + int' (e.g., '345+678'). Maximum length of int is DIGITS.
    MAXLEN = DIGITS + 1 + DIGITS

    # All the numbers, plus sign and space for padding.
    chars = "0123456789+ "
    ctable = CharacterTable(chars)

    questions: list[str] = []
    expected: list[str] = []
    seen: set[tuple[int, int]] = set()
    print("Generating data...")
    while len(questions) < TRAINING_SIZE:
        def f() -> int:
            return int("".join(np.random.choice(list("0123456789"))
                               for i in range(np.random.randint(1, DIGITS + 1))))

        a, b = f(), f()
        # Skip any addition questions we've already seen; also skip any such that x+Y == Y+x.
        key = tuple(sorted((a, b)))
        if key in seen:
            continue
        seen.add(key)  # type: ignore[arg-type]
        # Pad the data with spaces such that it is always MAXLEN.
        q = f"{a}+{b}"
        query = q + " " * (MAXLEN - len(q))
        ans = str(a + b)
        # Answers can be of maximum size DIGITS + 1.
        ans += " " * (DIGITS + 1 - len(ans))
        if REVERSE:
            # Reverse the query, e.g., '12+345  ' becomes '  543+21'.
            query = query[::-1]
        questions.append(query)
        expected.append(ans)
    print("Total questions:", len(questions))

    print("Vectorization...")
    x = np.zeros((len(questions), MAXLEN, len(chars)), dtype=bool)
    y = np.zeros((len(questions), DIGITS + 1, len(chars)), dtype=bool)
    for i, sentence in enumerate(questions):
        x[i] = ctable.encode(sentence, MAXLEN)
    for i, sentence in enumerate(expected):
        y[i] = ctable.encode(sentence, DIGITS + 1)

    # Shuffle (x, y) in unison as the later parts of x will almost all be larger digits.
    indices = np.arange(len(y))
    np.random.shuffle(indices)
    x = x[indices]
    y = y[indices]

    # Explicitly set apart 10% for validation data that we never train over.
    split_at = len(x) - len(x) // 10
    (x_train, x_val) = x[:split_at], x[split_at:]
    (y_train, y_val) = y[:split_at], y[split_at:]

    print("Build model...")
    num_layers = 1  # Try to add more LSTM layers!
    units = 16 if args.smoke else 128

    model = keras.Sequential()
    # "Encode" the input sequence using a LSTM, producing an output of size `units`.
    model.add(layers.Input((MAXLEN, len(chars))))
    model.add(layers.LSTM(units))
    # As the decoder RNN's input, repeatedly provide with the last output of RNN for each
    # time step. Repeat 'DIGITS + 1' times as that's the maximum length of output.
    model.add(layers.RepeatVector(DIGITS + 1))
    # The decoder RNN could be multiple layers stacked or a single layer.
    for _ in range(num_layers):
        # By setting return_sequences to True, return not only the last output but all the
        # outputs so far in the form of (num_samples, timesteps, output_dim).
        model.add(layers.LSTM(units, return_sequences=True))

    # Apply a dense layer to the every temporal slice of an input. For each of step
    # of the output sequence, decide which character should be chosen.
    model.add(layers.Dense(len(chars), activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.summary()

    epochs = 3 if args.smoke else 30
    batch_size = 32

    # Train the model each generation and show predictions against the validation dataset.
    history = None
    for epoch in range(1, epochs):
        print()
        print("Iteration", epoch)
        history = model.fit(x_train, y_train, batch_size=batch_size, epochs=1,
                            validation_data=(x_val, y_val))
        # Select 10 samples from the validation set at random so we can visualize errors.
        for i in range(10):
            ind = np.random.randint(0, len(x_val))
            rowx, rowy = x_val[np.array([ind])], y_val[np.array([ind])]
            preds = np.argmax(model.predict(rowx, verbose=0), axis=-1)
            q = ctable.decode(rowx[0])
            correct = ctable.decode(rowy[0])
            guess = ctable.decode(preds[0], calc_argmax=False)
            print("Q", q[::-1] if REVERSE else q, end=" ")
            print("T", correct, end=" ")
            if correct == guess:
                print("☑ " + guess)
            else:
                print("☒ " + guess)
    assert history is not None
    return {k: float(v[-1]) for k, v in history.history.items()}


if __name__ == "__main__":
    main()
