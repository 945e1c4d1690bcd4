"""The two Keras programs of the issue, unchanged but for imports and small synthetic data: they
train, save, load, and the loaded model predicts exactly what the trained one does."""

from __future__ import annotations

import os

import numpy as np

import rnnlab
from rnnlab import layers
from rnnlab.callbacks import ModelCheckpoint
from rnnlab.layers import LSTM, Activation, Dense, Dropout, Embedding, TimeDistributed
from rnnlab.models import Model, Sequential, load_model


class KerasBatchGenerator:
    """The batch generator of the Keras language-model tutorial, verbatim."""

    def __init__(self, data, num_steps, batch_size, vocabulary, skip_step=5):
        self.data = data
        self.num_steps = num_steps
        self.batch_size = batch_size
        self.vocabulary = vocabulary
        self.current_idx = 0
        self.skip_step = skip_step

    def generate(self):
        x = np.zeros((self.batch_size, self.num_steps))
        y = np.zeros((self.batch_size, self.num_steps, self.vocabulary))
        while True:
            for i in range(self.batch_size):
                if self.current_idx + self.num_steps >= len(self.data):
                    self.current_idx = 0
                x[i, :] = self.data[self.current_idx:self.current_idx + self.num_steps]
                temp_y = self.data[self.current_idx + 1:self.current_idx + self.num_steps + 1]
                y[i, :, :] = np.eye(self.vocabulary)[temp_y]  # to_categorical
                self.current_idx += self.skip_step
            yield x, y


def test_sequential_language_model_snippet(tmp_path, capsys):
    rnnlab.set_random_seed(0)
    rng = np.random.default_rng(0)
    vocabulary, hidden_size, num_steps, batch_size, num_epochs = 12, 8, 5, 4, 2
    # a learnable sequence: a cycle through the vocabulary with a little noise
    train_data = (np.arange(400) + (rng.random(400) < 0.1)) % vocabulary
    valid_data = (np.arange(100) + 3) % vocabulary
    data_path = str(tmp_path)

    train_data_generator = KerasBatchGenerator(train_data, num_steps, batch_size, vocabulary,
                                               skip_step=num_steps)
    valid_data_generator = KerasBatchGenerator(valid_data, num_steps, batch_size, vocabulary,
                                               skip_step=num_steps)

    model = Sequential()
    model.add(Embedding(vocabulary, hidden_size, input_length=num_steps))
    model.add(LSTM(hidden_size, return_sequences=True))
    model.add(LSTM(hidden_size, return_sequences=True))
    model.add(Dropout(0.5))
    model.add(TimeDistributed(Dense(vocabulary)))
    model.add(Activation('softmax'))

    model.compile(loss='categorical_crossentropy', optimizer='adam',
                  metrics=['categorical_accuracy'])
    checkpointer = ModelCheckpoint(filepath=data_path + '/model-{epoch:02d}.hdf5', verbose=1)
    history = model.fit(train_data_generator.generate(),
                        steps_per_epoch=len(train_data) // (batch_size * num_steps),
                        epochs=num_epochs,
                        validation_data=valid_data_generator.generate(),
                        validation_steps=len(valid_data) // (batch_size * num_steps),
                        callbacks=[checkpointer])

    out = capsys.readouterr().out
    assert "Epoch 2/2" in out and "saving model to" in out
    assert sorted(os.listdir(data_path)) == ["model-01.hdf5", "model-02.hdf5"]
    assert set(history.history) == {"loss", "categorical_accuracy", "val_loss",
                                    "val_categorical_accuracy"}
    assert len(history.history["loss"]) == num_epochs
    assert history.history["loss"][1] < history.history["loss"][0]  # it trains

    trained_model = model
    model = load_model(data_path + "/model-02.hdf5")
    assert model.count_params() == (12 * 8 + 2 * 4 * 8 * (8 + 8 + 1) + 8 * 12 + 12)
    example_test_generator = KerasBatchGenerator(valid_data, num_steps, 1, vocabulary,
                                                 skip_step=1)
    x, _ = next(example_test_generator.generate())
    prediction = model.predict(x, verbose=0)
    assert prediction.shape == (1, num_steps, vocabulary)
    np.testing.assert_allclose(prediction.sum(axis=-1), 1.0, rtol=1e-5)
    predict_word = np.argmax(prediction[:, num_steps - 1, :])
    # the checkpoint predicts what the model in memory predicted for the same window
    np.testing.assert_allclose(prediction, trained_model.predict(x, verbose=0), rtol=1e-6)
    assert predict_word == np.argmax(trained_model.predict(x, verbose=0)[:, num_steps - 1, :])


def test_sequential_snippet_reloads_identically(tmp_path):
    """The checkpoint of the last epoch predicts exactly what the model in memory does."""
    rnnlab.set_random_seed(1)
    vocabulary, hidden_size, num_steps = 10, 6, 4
    data = np.arange(200) % vocabulary
    gen = KerasBatchGenerator(data, num_steps, 3, vocabulary)
    model = Sequential([Embedding(vocabulary, hidden_size, input_length=num_steps),
                        LSTM(hidden_size, return_sequences=True),
                        LSTM(hidden_size, return_sequences=True), Dropout(0.5),
                        TimeDistributed(Dense(vocabulary)), Activation('softmax')])
    model.compile(loss='categorical_crossentropy', optimizer='adam',
                  metrics=['categorical_accuracy'])
    model.fit(gen.generate(), steps_per_epoch=5, epochs=2, verbose=0,
              callbacks=[ModelCheckpoint(str(tmp_path / "model-{epoch:02d}.hdf5"))])
    loaded = load_model(tmp_path / "model-02.hdf5")
    x = (np.arange(24) % vocabulary).reshape(6, num_steps)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert [type(layer).__name__ for layer in loaded.layers] == [
        "Embedding", "LSTM", "LSTM", "Dropout", "TimeDistributed", "Activation"]


def test_functional_encoder_decoder_snippet(tmp_path):
    """The Keras RNN guide's encoder-decoder, with small vocabularies and random data."""
    rnnlab.set_random_seed(2)
    encoder_vocab = 50
    decoder_vocab = 60

    encoder_input = layers.Input(shape=(None,))
    encoder_embedded = layers.Embedding(input_dim=encoder_vocab, output_dim=64)(encoder_input)

    # Return states in addition to output
    output, state_h, state_c = layers.LSTM(64, return_state=True, name="encoder")(
        encoder_embedded
    )
    encoder_state = [state_h, state_c]

    decoder_input = layers.Input(shape=(None,))
    decoder_embedded = layers.Embedding(input_dim=decoder_vocab, output_dim=64)(decoder_input)

    # Pass the 2 states to a new LSTM layer, as initial state
    decoder_output = layers.LSTM(64, name="decoder")(
        decoder_embedded, initial_state=encoder_state
    )
    output = layers.Dense(10)(decoder_output)

    model = Model([encoder_input, decoder_input], output)
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    # Keras's counts: 3,200 + 3,840 + 33,024 + 33,024 + 650
    assert "Total params: 73,738" in text
    # Keras 3's layer order: deepest first, the InputLayers included
    assert [type(layer).__name__ for layer in model.layers] == [
        "InputLayer", "InputLayer", "Embedding", "Embedding", "LSTM", "LSTM", "Dense"]
    assert [layer.name for layer in model.layers][4:6] == ["encoder", "decoder"]
    assert model.layers[2].input_dim == encoder_vocab

    rng = np.random.default_rng(0)
    x_enc = rng.integers(0, encoder_vocab, (48, 7))
    x_dec = rng.integers(0, decoder_vocab, (48, 5))
    y = x_enc[:, 0] % 10  # the decoder must learn the encoder's first token, via the states
    model.compile(optimizer="adam",
                  loss=rnnlab.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit([x_enc, x_dec], y, batch_size=16, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    pred = model.predict([x_enc, x_dec], verbose=0)
    assert pred.shape == (48, 10)

    model.save(tmp_path / "seq2seq.keras")
    loaded = rnnlab.models.load_model(tmp_path / "seq2seq.keras")
    np.testing.assert_array_equal(loaded.predict([x_enc, x_dec], verbose=0), pred)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    # the reloaded model keeps training from the same optimizer state
    h1 = model.fit([x_enc, x_dec], y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    h2 = loaded.fit([x_enc, x_dec], y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    assert h1.history == h2.history
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
