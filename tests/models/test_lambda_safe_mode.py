"""A ``Lambda``'s function in model files, as Keras stores it: a named function by its registered
name (loads anywhere), a Python lambda as bytecode (loads only with ``safe_mode=False`` or after
``rnnlab.config.enable_unsafe_deserialization()``), in rnnlab's format and in ``.keras`` files
both ways, checked against real Keras (torch backend)."""

from __future__ import annotations

import os

os.environ["KERAS_BACKEND"] = "torch"

import keras  # noqa: E402  (the oracle: a missing Keras is a failure, not a skip)
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import rnnlab  # noqa: E402
from rnnlab import ops  # noqa: E402
from rnnlab.layers import Dense, Input, Lambda  # noqa: E402
from rnnlab.models import Sequential, load_model, model_from_json  # noqa: E402
from rnnlab.safe_mode import SafeModeScope  # noqa: E402
from rnnlab.saving import ModelFileError, register_keras_serializable  # noqa: E402

X = np.random.default_rng(0).standard_normal((4, 3)).astype("float32")


@register_keras_serializable(package="tests")
def double_tanh(t):
    return ops.tanh(t) * 2.0


def unregistered(t):
    return t * 3.0


def _model(fn, **kwargs):
    return Sequential([Input((3,)), Lambda(fn, **kwargs), Dense(2)])


def _saved(model, tmp_path, name="m.rnnlab"):
    path = tmp_path / name
    model.save(path)
    return path


def _same(a, b, tol=0.0):
    np.testing.assert_allclose(a.predict(X, verbose=0), b.predict(X, verbose=0), rtol=0,
                               atol=tol)


def test_a_python_lambda_loads_only_outside_safe_mode(tmp_path):
    scale = 3.0
    model = _model(lambda t, k=2.0: ops.tanh(t) * k + scale)
    path = _saved(model, tmp_path)
    with pytest.raises(ModelFileError, match="safe_mode=False"):
        load_model(path)
    _same(load_model(path, safe_mode=False), model)
    with SafeModeScope(None):  # restores the setting afterwards
        rnnlab.config.enable_unsafe_deserialization()
        _same(load_model(path), model)  # the global setting wins over safe_mode=True
    with pytest.raises(ModelFileError, match="safe_mode=False"):
        load_model(path)
    with pytest.raises(ValueError, match="safe mode"):
        model_from_json(model.to_json())  # outside a loader: safe mode too


def test_named_functions_load_in_safe_mode(tmp_path):
    for fn in (double_tanh, ops.tanh):
        model = _model(fn)
        config = model.layers[0].get_config()["function"]
        assert config["class_name"] == "function"
        assert config["config"] == ("tests>double_tanh" if fn is double_tanh else "tanh")
        loaded = load_model(_saved(model, tmp_path))
        assert loaded.layers[0].function is fn
        _same(loaded, model)
    path = _saved(_model(unregistered), tmp_path)
    with pytest.raises(ModelFileError, match="register_keras_serializable"):
        load_model(path)


def test_a_lambda_over_arrays_is_refused_at_save(tmp_path):
    table = np.ones(3)
    with pytest.raises(TypeError, match="JSON values only"):
        _model(lambda t: t * table).save(tmp_path / "m.rnnlab")


def test_keras_loads_an_rnnlab_lambda_only_outside_safe_mode(tmp_path):
    model = _model(lambda t: t * 2.0 + 1.0)
    path = _saved(model, tmp_path, "m.keras")
    with pytest.raises(ValueError, match="safe_mode=False"):
        keras.models.load_model(path)
    theirs = keras.models.load_model(path, safe_mode=False)
    np.testing.assert_allclose(theirs.predict(X, verbose=0), model.predict(X, verbose=0),
                               atol=1e-6)
    mine = load_model(path, safe_mode=False)  # and back into rnnlab
    _same(mine, model)


def test_rnnlab_loads_a_keras_lambda_only_outside_safe_mode(tmp_path):
    theirs = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda t: t * 2.0 + 1.0),
                               keras.layers.Dense(2)])
    path = tmp_path / "k.keras"
    theirs.save(path)
    with pytest.raises(ModelFileError, match="safe_mode=False"):
        load_model(path)
    mine = load_model(path, safe_mode=False)
    np.testing.assert_allclose(mine.predict(X, verbose=0), theirs.predict(X, verbose=0),
                               atol=1e-6)
