import gc

import numpy as np
import pytest

from rnnlab.data import counting_sequences
from rnnlab.experiments import run_experiment
from rnnlab.experiments.counting import _model, loss_surface


@pytest.fixture(autouse=True)
def _free_figures():
    """The run's figures are closed and matplotlib's cyclic garbage collected before the next
    test (some of it is freed only by weakref callbacks during a collection)."""
    yield
    for _ in range(3):
        gc.collect()


def test_loss_surface_equals_the_model_loss() -> None:
    x, y = counting_sequences(20, 10, seed=0, dtype="float64")
    x = np.asarray(x, dtype=np.float64).reshape(20, 10)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    w_x, w_rec = np.array([[0.7, 1.1]]), np.array([[1.05, 0.4]])
    grid = loss_surface(x, y, w_x, w_rec)
    for k in range(2):
        model = _model(float(w_x[0, k]), float(w_rec[0, k]), "sgd")
        expected = model.evaluate(x[..., None], y[:, None], verbose=0)
        assert grid[0, k] == np.float64(expected) or abs(grid[0, k] - expected) <= 1e-12 * max(
            1.0, expected)
    assert loss_surface(x, y, np.array(1.0), np.array(1.0)) == 0.0


def test_counting_draws_the_surface(tmp_path) -> None:
    run_experiment("counting", smoke=True, out=tmp_path, verbose=0)
    assert (tmp_path / "surface.png").stat().st_size > 10000
