"""No process-wide state decides a training run: models trained at once in two threads end
with the same weights as trained one after the other (compiled sweeps on several row-block
threads sharing rnnlab's pool, thread-local BLAS limits, per-thread engine choice)."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from rnnlab import kernels
from rnnlab.layers import GRU, LSTM, Dense
from rnnlab.models import Sequential
from rnnlab.random import set_random_seed


def _model(seed: int) -> Any:
    set_random_seed(seed)  # models are built here, in the main thread
    model = Sequential([GRU(6, return_sequences=True, dtype="float64", seed=seed),
                        LSTM(5, dtype="float64", seed=seed + 1),
                        Dense(2, dtype="float64")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.build((None, 7, 3))
    return model


def _train(model: Any, seed: int, engine: str, out: dict[int, list[np.ndarray]]) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((24, 7, 3))
    y = rng.integers(0, 2, 24)
    with kernels.use_engine(engine):
        for _ in range(4):
            model.train_on_batch(x, y)
    out[seed] = [p.copy() for _, p in sorted(model.named_params())]


def test_two_models_in_two_threads_equal_one_after_the_other(three_threads: None) -> None:
    engines = {1: "auto", 2: "auto", 3: "reference"}
    alone: dict[int, list[np.ndarray]] = {}
    for seed, eng in engines.items():
        _train(_model(seed), seed, eng, alone)
    together: dict[int, list[np.ndarray]] = {}
    models = {seed: _model(seed) for seed in engines}
    threads = [threading.Thread(target=_train, args=(models[s], s, e, together))
               for s, e in engines.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for seed in engines:
        assert len(together[seed]) == len(alone[seed])
        for a, b in zip(together[seed], alone[seed]):
            np.testing.assert_array_equal(a, b)
