import numpy as np

from rnnlab.layers import LSTM, Dense, Embedding
from rnnlab.models import Sequential


class Batches:
    """A re-iterable object (like rnnlab.data.lm_batches): each iter() is a new pass."""

    def __init__(self, n: int) -> None:
        rng = np.random.default_rng(0)
        self.items = [(rng.integers(0, 20, (4, 5)), rng.integers(0, 20, (4, 5)))
                      for _ in range(n)]

    def __iter__(self):
        return iter(self.items)


def test_fit_restarts_a_reiterable_object_every_epoch():
    model = Sequential([Embedding(20, 8), LSTM(8, return_sequences=True), Dense(20)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    history = model.fit(Batches(6), steps_per_epoch=6, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3
    assert model.optimizer.iterations == 18
