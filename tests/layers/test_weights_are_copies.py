"""``get_weights`` returns copies: changing what it returned never changes the layer, also where
a transposed parameter happens to be contiguous already (one unit, one input feature, width 1)."""

from __future__ import annotations

import numpy as np
import pytest

import rnnlab
from rnnlab import layers


@pytest.mark.parametrize("make, shape", [
    (lambda: layers.Dense(1), (4, 3)),
    (lambda: layers.Dense(3), (4, 1)),
    (lambda: layers.Conv1D(1, 1), (2, 5, 1)),
    (lambda: layers.LSTM(1), (2, 3, 1)),
    (lambda: layers.SimpleRNN(1), (2, 3, 1)),
    (lambda: layers.GRU(1), (2, 3, 1)),
])
def test_get_weights_returns_copies(make, shape) -> None:
    rnnlab.set_random_seed(0)
    layer = make()
    x = np.ones(shape, dtype=np.float32)
    before = layer(x).copy()
    for w in layer.get_weights():
        w[...] = 7.0
    np.testing.assert_array_equal(layer(x), before)


def test_a_kernel_initializer_array_is_not_aliased() -> None:
    kernel = np.ones((3, 1), dtype=np.float32)
    layer = layers.Dense(1, kernel_initializer=lambda shape, dtype=None: kernel)
    model = rnnlab.Sequential([rnnlab.Input((3,)), layer])
    model.compile(optimizer=rnnlab.optimizers.SGD(0.1), loss="mse")
    model.train_on_batch(np.ones((2, 3), np.float32), np.zeros((2, 1), np.float32))
    np.testing.assert_array_equal(kernel, np.ones((3, 1), np.float32))
