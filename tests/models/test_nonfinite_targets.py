"""NaN and infinity in targets and sample weights are refused like NaN features: before any step,
with the argument, the output and the first bad position named; the weights stay as they were."""

from __future__ import annotations

import numpy as np
import pytest

import rnnlab
from rnnlab import layers


@pytest.fixture
def model() -> rnnlab.Sequential:
    m = rnnlab.Sequential([layers.SimpleRNN(3, input_shape=(4, 2)), layers.Dense(2, name="out")])
    m.compile(optimizer="sgd", loss="mse")
    return m


def data(n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 4, 2)), rng.standard_normal((n, 2))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_fit_refuses_nonfinite_targets_and_keeps_the_weights(model, bad):
    x, y = data()
    y[5, 1] = bad
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match=r"targets y for output 'out' contains 1 NaN or "
                                         r"infinite value\(s\), the first \((nan|-?inf)\) at "
                                         r"index \(5, 1\)"):
        model.fit(x, y, epochs=1, verbose=0)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_sample_weights_evaluate_train_on_batch_and_validation(model):
    x, y = data()
    sw = np.ones(8)
    sw[3] = np.nan
    with pytest.raises(ValueError, match=r"sample_weight contains 1 NaN .* at index \(3,\)"):
        model.fit(x, y, sample_weight=sw, verbose=0)
    with pytest.raises(ValueError, match=r"sample_weight contains"):
        model.evaluate(x, y, sample_weight=sw, verbose=0)
    with pytest.raises(ValueError, match=r"sample_weight contains"):
        model.train_on_batch(x, y, sample_weight=sw)
    y_bad = y.copy()
    y_bad[0, 0] = np.inf
    with pytest.raises(ValueError, match=r"targets y for output 'out'"):
        model.evaluate(x, y_bad, verbose=0)
    with pytest.raises(ValueError, match=r"targets y for output 'out'"):
        model.train_on_batch(x, y_bad)
    with pytest.raises(ValueError, match=r"targets y for output 'out'"):
        model.test_on_batch(x, y_bad)
    with pytest.raises(ValueError, match=r"targets y for output 'out' in validation_data"):
        model.fit(x, y, validation_data=(x, y_bad), verbose=0)
    model.fit(x, y, sample_weight=np.ones(8), verbose=0)  # finite: trains


def test_a_generator_batch_with_nan_targets_is_refused(model):
    x, y = data()
    y[6, 0] = np.nan

    def batches():
        for i in range(0, 8, 4):
            yield x[i:i + 4], y[i:i + 4]

    with pytest.raises(ValueError, match=r"targets y for output 'out' in a batch the data "
                                         r"yielded .* at index \(2, 0\)"):
        model.fit(batches(), epochs=1, verbose=0)


def test_integer_class_targets_pass(model):
    m = rnnlab.Sequential([layers.SimpleRNN(3, input_shape=(4, 2)), layers.Dense(3)])
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x, _ = data()
    m.fit(x, np.arange(8) % 3, verbose=0)
    assert all(np.isfinite(w).all() for w in m.get_weights())
