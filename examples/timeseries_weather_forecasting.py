"""keras-io "Timeseries forecasting for weather prediction", on rnnlab.

Same structure as the published example: seven of the Jena climate features normalised with the
training split's statistics, windows of the past 720 observations sampled hourly
(``timeseries_dataset_from_array`` with ``sampling_rate=6``) labelled with the temperature 72
observations later, an LSTM(32) and a Dense(1) trained with Adam on MSE with ``EarlyStopping``
and a weights-only ``ModelCheckpoint``, then single-step predictions on validation windows.

Differences from the original: the imports are rnnlab's; the Jena CSV (a download) is replaced
by a stand-in series generated here (daily and yearly cycles plus noise, 14 columns, one row per
10 minutes) held in NumPy arrays where the original uses a pandas DataFrame (``.loc``/``.iloc``
slices become array slices); the function is called as ``keras.utils.
timeseries_dataset_from_array`` (Keras 3's documented name; the original uses the
``keras.preprocessing`` alias); the datasets are rnnlab's NumPy ``(x, y)`` batch
sequences, so ``dataset.take(n)`` becomes the first ``n`` batches and ``.numpy()`` is not
needed; the checkpoint is named ``*.weights.h5``, as Keras 3 requires for
``save_weights_only``; the plots are left out. ``--smoke`` shrinks the series, the windows and
the epochs.
"""

from __future__ import annotations

import argparse
import os
import tempfile

import numpy as np

import rnnlab as keras

TITLES = ["Pressure", "Temperature", "Temperature in Kelvin", "Temperature (dew point)",
          "Relative Humidity", "Saturation vapor pressure", "Vapor pressure",
          "Vapor pressure deficit", "Specific humidity", "Water vapor concentration",
          "Airtight", "Wind speed", "Maximum wind speed", "Wind direction in degrees"]


def stand_in_climate(rows: int, seed: int = 0) -> np.ndarray:
    """14 weather-like columns, one row per 10 minutes (144 a day)."""
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    day = np.sin(2 * np.pi * t / 144)
    year = np.sin(2 * np.pi * t / (144 * 365))
    temperature = 9 + 8 * year + 4 * day + np.cumsum(rng.normal(0, 0.05, rows))
    cols = [990 + 8 * year + rng.normal(0, 1, rows), temperature, temperature + 273.15,
            temperature - 5 + rng.normal(0, 1, rows), 75 - 10 * day + rng.normal(0, 3, rows)]
    while len(cols) < 14:
        k = len(cols)
        cols.append(k + np.roll(temperature, 6 * k) * 0.3 + rng.normal(0, 1, rows))
    return np.stack(cols, axis=1).astype("float32")


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, two quick epochs")
    args = parser.parse_args(argv)

    df = stand_in_climate(3000 if args.smoke else 60000)

    split_fraction = 0.715
    train_split = int(split_fraction * int(df.shape[0]))
    step = 6

    past = 72 if args.smoke else 720
    future = 12 if args.smoke else 72
    learning_rate = 0.001
    batch_size = 64 if args.smoke else 256
    epochs = 2 if args.smoke else 10

    def normalize(data: np.ndarray, train_split: int) -> np.ndarray:
        data_mean = data[:train_split].mean(axis=0)
        data_std = data[:train_split].std(axis=0)
        return (data - data_mean) / data_std

    print("The selected parameters are:",
          ", ".join([TITLES[i] for i in [0, 1, 5, 7, 8, 10, 11]]))
    features = df[:, [0, 1, 5, 7, 8, 10, 11]]
    features = normalize(features, train_split)

    train_data = features[0: train_split]
    val_data = features[train_split:]

    # Training dataset: the labels start from observation past + future.
    start = past + future
    end = start + train_split

    x_train = train_data[:, [i for i in range(7)]]
    y_train = features[start:end][:, [1]]

    sequence_length = int(past / step)

    dataset_train = keras.utils.timeseries_dataset_from_array(
        x_train,
        y_train,
        sequence_length=sequence_length,
        sampling_rate=step,
        batch_size=batch_size,
    )

    # Validation dataset: without the last past + future rows (no labels for them); the
    # labels start past + future after train_split.
    x_end = len(val_data) - past - future

    label_start = train_split + past + future

    x_val = val_data[:x_end][:, [i for i in range(7)]]
    y_val = features[label_start:][:, [1]]

    dataset_val = keras.utils.timeseries_dataset_from_array(
        x_val,
        y_val,
        sequence_length=sequence_length,
        sampling_rate=step,
        batch_size=batch_size,
    )

    for batch in dataset_train:
        inputs, targets = batch
        break

    print("Input shape:", inputs.shape)
    print("Target shape:", targets.shape)

    # Training
    inputs = keras.layers.Input(shape=(inputs.shape[1], inputs.shape[2]))
    lstm_out = keras.layers.LSTM(8 if args.smoke else 32)(inputs)
    outputs = keras.layers.Dense(1)(lstm_out)

    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="mse")
    model.summary()

    path_checkpoint = os.path.join(tempfile.mkdtemp(), "model_checkpoint.weights.h5")
    es_callback = keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=0, patience=5)

    modelckpt_callback = keras.callbacks.ModelCheckpoint(
        monitor="val_loss",
        filepath=path_checkpoint,
        verbose=1,
        save_weights_only=True,
        save_best_only=True,
    )

    history = model.fit(
        dataset_train,
        epochs=epochs,
        validation_data=dataset_val,
        callbacks=[es_callback, modelckpt_callback],
    )

    # Prediction: single-step predictions for 5 sets of values from the validation set.
    predictions = []
    for k, (x, y) in enumerate(dataset_val):
        if k == 5:
            break
        prediction = model.predict(x, verbose=0)[0]
        predictions.append((x[0][:, 1], y[0], prediction))
        print("History (last 3):", x[0][-3:, 1], "True future:", y[0],
              "Model prediction:", prediction)
    return {"history": history.history, "predictions": predictions,
            "checkpoint": path_checkpoint, "model": model, "dataset_val": dataset_val,
            "shapes": (inputs.shape, targets.shape)}


if __name__ == "__main__":
    main()
