"""Optimizer slots keyed by structure (``layers.<i>.<path>``), the same in every process and for
every build of a model; files written with the earlier keys (``<layer name>/<path>``) still load
and resume exactly."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import rnnlab
from rnnlab import layers
from rnnlab.models.model import BaseModel


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((24, 5, 3))
    return x, (x[:, :, 0].sum(axis=1) > 0).astype("int64")


def _build() -> Any:
    rnnlab.set_random_seed(4)
    model = rnnlab.Sequential([layers.LSTM(6, return_sequences=True, input_shape=(5, 3),
                                           dtype="float64"),
                               layers.GRU(4, dtype="float64"),
                               layers.Dense(2, activation="softmax", dtype="float64")])
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


FIT: dict[str, Any] = dict(batch_size=8, verbose=0, shuffle=True)


def _old_named(kind: str) -> Any:
    """The parameter keys models used before structural keys: ``<layer name>/<path>``."""
    def named(self: Any, trainable_only: bool = False) -> Any:
        for layer in self.layers:
            if trainable_only and not layer.trainable:
                continue
            for pname, value in getattr(layer, kind)():
                yield f"{layer.name}/{pname}", value
    return named


def test_keys_are_structural_and_equal_across_builds() -> None:
    x, y = _data()
    a, b = _build(), _build()
    assert [layer.name for layer in a.layers] != [layer.name for layer in b.layers]
    for m in (a, b):
        m.fit(x, y, epochs=1, **FIT)
    assert set(a.optimizer.state_dict()) == set(b.optimizer.state_dict())
    assert "m/layers.0.cell.weight_ih" in a.optimizer.state_dict()
    assert [k for k, _ in a.named_params()][0] == "layers.0.cell.weight_ih"


def test_a_file_with_the_earlier_keys_loads_and_resumes_exactly(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    x, y = _data()
    full = _build()
    full.fit(x, y, epochs=4, **FIT)
    with monkeypatch.context() as patch:                   # a file in the earlier layout
        patch.setattr(BaseModel, "named_params", _old_named("named_params"))
        patch.setattr(BaseModel, "named_grads", _old_named("named_grads"))
        first = _build()
        first.fit(x, y, epochs=2, **FIT)
        old_keys = set(first.optimizer.state_dict())
        first.save(tmp_path / "old.rnnlab")
    assert any(k.count("/") == 2 for k in old_keys)
    resumed = rnnlab.models.load_model(tmp_path / "old.rnnlab")
    assert set(resumed.optimizer.state_dict()) == set(full.optimizer.state_dict())
    resumed.fit(x, y, epochs=4, initial_epoch=2, **FIT)
    for u, v in zip(full.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(u, v)
