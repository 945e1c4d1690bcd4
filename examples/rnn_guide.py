"""The Keras guide "Working with RNNs", section by section, with rnnlab in place of Keras.

Only the imports differ from the guide's code (and MNIST is replaced by random stand-in digits
of the same shape, so the script runs offline). ``--smoke`` shrinks every size for a fast run.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

import rnnlab as keras
from rnnlab import layers


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one quick epoch")
    args = parser.parse_args(argv)
    small = args.smoke
    results: dict[str, object] = {}

    # -- Built-in RNN layers: a simple example -----------------------------------------------------
    model: Any = keras.Sequential()
    model.add(layers.Input(shape=(None,), dtype="int32"))
    model.add(layers.Embedding(input_dim=1000, output_dim=64))
    model.add(layers.LSTM(128))
    model.add(layers.Dense(10))
    model.summary()

    # -- Outputs and states: return_sequences ------------------------------------------------------
    model = keras.Sequential()
    model.add(layers.Input(shape=(None,), dtype="int32"))
    model.add(layers.Embedding(input_dim=1000, output_dim=64))
    # The output of GRU will be a 3D tensor of shape (batch_size, timesteps, 256)
    model.add(layers.GRU(256, return_sequences=True))
    # The output of SimpleRNN will be a 2D tensor of shape (batch_size, 128)
    model.add(layers.SimpleRNN(128))
    model.add(layers.Dense(10))
    model.summary()
    results["return_sequences"] = model.predict(np.ones((2, 7), "int32"), verbose=0).shape

    # -- return_state + initial_state: an encoder-decoder ------------------------------------------
    encoder_vocab = 1000
    decoder_vocab = 2000

    encoder_input = layers.Input(shape=(None,))
    encoder_embedded = layers.Embedding(input_dim=encoder_vocab, output_dim=64)(encoder_input)

    # Return states in addition to output
    output, state_h, state_c = layers.LSTM(64, return_state=True, name="encoder")(
        encoder_embedded)
    encoder_state = [state_h, state_c]

    decoder_input = layers.Input(shape=(None,))
    decoder_embedded = layers.Embedding(input_dim=decoder_vocab, output_dim=64)(decoder_input)

    # Pass the 2 states to a new LSTM layer, as initial state
    decoder_output = layers.LSTM(64, name="decoder")(
        decoder_embedded, initial_state=encoder_state)
    output = layers.Dense(10)(decoder_output)

    model = keras.Model([encoder_input, decoder_input], output)
    model.summary()
    results["encoder_decoder"] = model.predict(
        [np.ones((2, 5)), np.ones((2, 3))], verbose=0).shape

    # -- Cross-batch statefulness ------------------------------------------------------------------
    paragraph1 = np.random.random((20, 10, 50)).astype(np.float32)
    paragraph2 = np.random.random((20, 10, 50)).astype(np.float32)
    paragraph3 = np.random.random((20, 10, 50)).astype(np.float32)

    lstm_layer = layers.LSTM(64, stateful=True)
    output = lstm_layer(paragraph1)
    output = lstm_layer(paragraph2)
    output = lstm_layer(paragraph3)

    # reset_states() will reset the cached state to the original initial_state.
    # If no initial_state was provided, zero-states will be used by default.
    lstm_layer.reset_states()

    # RNN State Reuse
    output = lstm_layer(paragraph1)
    output = lstm_layer(paragraph2)

    existing_state = lstm_layer.states

    new_lstm_layer = layers.LSTM(64)
    new_output = new_lstm_layer(paragraph3, initial_state=existing_state)
    results["stateful"] = (output.shape, new_output.shape)

    # -- Bidirectional RNNs ------------------------------------------------------------------------
    model = keras.Sequential()
    model.add(layers.Input(shape=(5, 10)))
    model.add(layers.Bidirectional(layers.LSTM(64, return_sequences=True)))
    model.add(layers.Bidirectional(layers.LSTM(32)))
    model.add(layers.Dense(10))
    model.summary()
    results["bidirectional"] = model.predict(np.zeros((2, 5, 10)), verbose=0).shape

    # -- MNIST rows: LSTM, RNN(LSTMCell) and BatchNormalization ------------------------------------
    batch_size = 64
    # Each MNIST image batch is a tensor of shape (batch_size, 28, 28).
    # Each input sequence will be of size (28, 28) (height is treated like time).
    input_dim = 28

    units = 16 if small else 64
    output_size = 10  # labels are from 0 to 9

    # Build the RNN model
    def build_model(allow_cudnn_kernel: bool = True) -> keras.Sequential:
        # CuDNN is only available at the layer level, and not at the cell level.
        # This means `LSTM(units)` will use the CuDNN kernel,
        # while RNN(LSTMCell(units)) will run on non-CuDNN kernel.
        lstm_layer: layers.Layer
        if allow_cudnn_kernel:
            # The LSTM layer with default options uses CuDNN.
            lstm_layer = layers.LSTM(units, input_shape=(None, input_dim))
        else:
            # Wrapping a LSTMCell in a RNN layer will not use CuDNN.
            lstm_layer = layers.RNN(layers.LSTMCell(units), input_shape=(None, input_dim))
        model = keras.models.Sequential(
            [
                lstm_layer,
                layers.BatchNormalization(),
                layers.Dense(output_size),
            ]
        )
        return model

    # stand-in for keras.datasets.mnist.load_data(): random "digits" whose rows carry the label
    rng = np.random.default_rng(0)
    n_train, n_test = (256, 64) if small else (6000, 1000)
    y_train = rng.integers(0, 10, n_train)
    y_test = rng.integers(0, 10, n_test)
    x_train = rng.random((n_train, 28, 28)).astype("float32") * 0.5
    x_test = rng.random((n_test, 28, 28)).astype("float32") * 0.5
    x_train[np.arange(n_train), y_train, :] += 0.5
    x_test[np.arange(n_test), y_test, :] += 0.5
    sample, sample_label = x_train[0], y_train[0]

    model = build_model(allow_cudnn_kernel=True)
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer="sgd",
        metrics=["accuracy"],
    )
    history = model.fit(x_train, y_train, validation_data=(x_test, y_test),
                        batch_size=batch_size, epochs=1)

    noncudnn_model = build_model(allow_cudnn_kernel=False)
    noncudnn_model.set_weights(model.get_weights())
    noncudnn_model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer="sgd",
        metrics=["accuracy"],
    )
    noncudnn_model.fit(x_train, y_train, validation_data=(x_test, y_test),
                       batch_size=batch_size, epochs=1)

    result = model.predict(np.expand_dims(sample, 0), verbose=0)
    print(f"Predicted result is: {result.argmax(axis=1)}, target result is: {sample_label}")
    results["mnist_loss"] = history.history["loss"][-1]
    results["mnist_logits"] = result.shape
    return results


if __name__ == "__main__":
    main()
