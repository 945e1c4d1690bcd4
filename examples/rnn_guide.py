"""The Keras guide "Working with RNNs", section by section, with rnnlab in place of Keras.

Only the imports differ from the guide's code (and MNIST is replaced by random stand-in digits
of the same shape, so the script runs offline). ``--smoke`` shrinks every size for a fast run.
The last section, nested inputs, writes the guide's ``NestedCell`` with ``rnnlab.ops`` in place
of ``tf.matmul``/``tf.einsum``/``tf.nest`` and plain lists in place of ``tf.TensorShape``.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

import rnnlab as keras
from rnnlab import layers, ops
from rnnlab.saving import register_keras_serializable


# -- RNNs with list/dict inputs, or nested inputs: a custom cell with nested input/output --------
@register_keras_serializable()
class NestedCell(layers.Layer):
    """Two states, ``(batch, unit_1)`` and ``(batch, unit_2, unit_3)``, each adding its input's
    projection: inputs ``[(batch, i1), (batch, i2, i3)]`` per step."""

    def __init__(self, unit_1: int, unit_2: int, unit_3: int, **kwargs: Any) -> None:
        self.unit_1 = unit_1
        self.unit_2 = unit_2
        self.unit_3 = unit_3
        self.state_size = [[unit_1], [unit_2, unit_3]]
        self.output_size = [[unit_1], [unit_2, unit_3]]
        super().__init__(**kwargs)

    def build(self, input_shapes: Any) -> None:
        # expect input_shape to contain 2 items, [(batch, i1), (batch, i2, i3)]
        i1 = input_shapes[0][1]
        i2 = input_shapes[1][1]
        i3 = input_shapes[1][2]

        self.kernel_1 = self.add_weight(
            shape=(i1, self.unit_1), initializer="uniform", name="kernel_1"
        )
        self.kernel_2_3 = self.add_weight(
            shape=(i2, i3, self.unit_2, self.unit_3),
            initializer="uniform",
            name="kernel_2_3",
        )

    def call(self, inputs: Any, states: Any) -> Any:
        # inputs should be in [(batch, input_1), (batch, input_2, input_3)]
        # state should be in shape [(batch, unit_1), (batch, unit_2, unit_3)]
        input_1, input_2 = inputs
        s1, s2 = states

        output_1 = ops.matmul(input_1, self.kernel_1)
        output_2_3 = ops.einsum("bij,ijkl->bkl", input_2, self.kernel_2_3)
        state_1 = s1 + output_1
        state_2_3 = s2 + output_2_3

        output = (output_1, output_2_3)
        new_states = (state_1, state_2_3)

        return output, new_states

    def get_config(self) -> dict[str, Any]:
        return {"unit_1": self.unit_1, "unit_2": self.unit_2, "unit_3": self.unit_3}


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

    # -- RNNs with list/dict inputs, or nested inputs: build and train ---------------------------
    unit_1, unit_2, unit_3 = (3, 4, 5) if small else (10, 20, 30)
    i1, i2, i3 = (6, 4, 3) if small else (32, 64, 32)
    batch_size = 16 if small else 64
    num_batches = 4 if small else 10
    timestep = 5 if small else 50

    cell = NestedCell(unit_1, unit_2, unit_3)
    rnn = keras.layers.RNN(cell)

    input_1 = keras.Input((None, i1))
    input_2 = keras.Input((None, i2, i3))

    outputs = rnn((input_1, input_2))

    model = keras.models.Model([input_1, input_2], outputs)

    model.compile(optimizer="adam", loss="mse", metrics=["accuracy"])

    input_1_data = np.random.random((batch_size * num_batches, timestep, i1))
    input_2_data = np.random.random((batch_size * num_batches, timestep, i2, i3))
    target_1_data = np.random.random((batch_size * num_batches, unit_1))
    target_2_data = np.random.random((batch_size * num_batches, unit_2, unit_3))
    input_data = [input_1_data, input_2_data]
    target_data = [target_1_data, target_2_data]

    history = model.fit(input_data, target_data, batch_size=batch_size,
                        epochs=3 if small else 1)
    results["nested_loss"] = history.history["loss"]
    results["nested_outputs"] = [o.shape for o in model.predict(
        [input_1_data[:2], input_2_data[:2]], verbose=0)]
    return results


if __name__ == "__main__":
    main()
