"""Model files: one zip of JSON and .npy arrays (no pickle), written atomically; damaged,
truncated and wrong-kind files give a clear ``ModelFileError``."""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest

import rnnlab
from rnnlab import layers, saving
from rnnlab.saving import ModelFileError


def _model(seed=0):
    rnnlab.set_random_seed(seed)
    inp = layers.Input(shape=(4,), dtype="int32", name="ids")
    x = layers.Embedding(10, 3, mask_zero=True)(inp)
    x = layers.GRU(3, return_sequences=True, dropout=0.1)(x)
    x = layers.BatchNormalization()(x)
    out = layers.Dense(2, activation="softmax")(layers.GlobalAveragePooling1D()(x))
    model = rnnlab.Model(inp, out)
    model.compile(rnnlab.optimizers.Adam(0.01), "sparse_categorical_crossentropy",
                  metrics=["accuracy", rnnlab.metrics.SparseCategoricalAccuracy(name="acc2")])
    return model


def _data():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 10, (12, 4))
    return x, (x[:, 0] > 4).astype(int)


def _same(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k]) for k in sa)


@pytest.fixture
def trained(tmp_path):
    model = _model()
    x, y = _data()
    model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    path = tmp_path / "model.rnnlab"
    model.save(path)
    return model, path


def test_round_trip_architecture_weights_and_optimizer(trained):
    model, path = trained
    x, y = _data()
    loaded = rnnlab.models.load_model(path)
    assert type(loaded) is rnnlab.Model
    assert loaded.get_config() == model.get_config()
    assert _same(model, loaded)  # buffers too: BatchNormalization's moving statistics
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    assert loaded.compiled and type(loaded.optimizer) is rnnlab.optimizers.Adam
    assert loaded.optimizer.iterations == model.optimizer.iterations == 6
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
    # continued training after loading equals continued training without the save
    h1 = model.fit(x, y, batch_size=4, epochs=4, initial_epoch=2, verbose=0)
    h2 = loaded.fit(x, y, batch_size=4, epochs=4, initial_epoch=2, verbose=0)
    assert h1.history == h2.history
    assert _same(model, loaded)


def test_optimizer_state_matters_for_the_round_trip(trained):
    """Sharpness of the test above: a fresh optimizer (Adam moments lost) diverges."""
    model, path = trained
    x, y = _data()
    fresh = rnnlab.models.load_model(path, compile=False)
    assert not fresh.compiled
    fresh.compile(rnnlab.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=4, epochs=3, initial_epoch=2, verbose=0)
    fresh.fit(x, y, batch_size=4, epochs=3, initial_epoch=2, verbose=0)
    assert not _same(model, fresh)


@pytest.mark.parametrize("name", ["m.keras", "m.h5", "m.hdf5", "m.rnnlab", "m"])
def test_any_file_name_is_accepted(tmp_path, name):
    model = _model()
    model.save(tmp_path / name)
    assert _same(model, rnnlab.load_model(str(tmp_path / name)))


def test_file_holds_json_and_plain_arrays_only(trained):
    _, path = trained
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert "rnnlab.json" in names
        meta = json.loads(zf.read("rnnlab.json"))
        assert meta["format"] == "rnnlab-model"
        arrays = [n for n in names if n != "rnnlab.json"]
        assert all(n.endswith(".npy") and n.split("/")[0] in ("weights", "optimizer")
                   for n in arrays)
        assert len(arrays) == len(meta["weights"]) + len(meta["optimizer"])
        for n in arrays:
            data = zf.read(n)
            assert data.startswith(b"\x93NUMPY")  # plain .npy, not a pickle
            array = np.load(io.BytesIO(data), allow_pickle=False)
            assert array.dtype != object


def test_a_pickled_array_in_a_file_is_refused_and_never_run(trained, tmp_path):
    _, path = trained
    evil = tmp_path / "evil.rnnlab"
    buf = io.BytesIO()
    np.save(buf, np.array([Boom()], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(evil, "w") as dst:
        target = "weights/" + json.loads(src.read("rnnlab.json"))["weights"][0] + ".npy"
        for item in src.infolist():
            data = buf.getvalue() if item.filename == target else src.read(item.filename)
            dst.writestr(item.filename, data)
    Boom.ran = False
    with pytest.raises(ModelFileError, match="evil.rnnlab.*unreadable.*pickle"):
        rnnlab.load_model(evil)
    assert not Boom.ran


class Boom:
    ran = False

    def __reduce__(self):
        return (Boom._run, ())

    @staticmethod
    def _run():
        Boom.ran = True
        return "boom"


@pytest.mark.parametrize("keep", [0, 1, 22, 100, 0.5, 0.9, -1])
def test_truncated_file_gives_a_clear_error(trained, tmp_path, keep):
    _, path = trained
    data = path.read_bytes()
    n = keep if isinstance(keep, int) and keep >= 0 else (
        len(data) - 1 if keep == -1 else int(len(data) * keep))
    cut = tmp_path / "cut.rnnlab"
    cut.write_bytes(data[:n])
    with pytest.raises(ModelFileError, match="cut.rnnlab"):
        rnnlab.load_model(cut)


def test_every_flipped_byte_gives_an_error_or_the_same_model(tmp_path):
    """Flip each byte of a (small) model file in turn: loading either raises ModelFileError or
    gives exactly the saved model (bytes such as timestamps carry nothing); never another
    exception, never silently different weights."""
    rnnlab.set_random_seed(1)
    model = rnnlab.Sequential([layers.Dense(2, input_shape=(3,))])
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    path = tmp_path / "small.rnnlab"
    model.save(path)
    data = bytearray(path.read_bytes())
    assert len(data) < 4000
    bad = tmp_path / "flipped.rnnlab"
    errors = same = 0
    for i in range(len(data)):
        flipped = bytearray(data)
        flipped[i] ^= 0xFF
        bad.write_bytes(bytes(flipped))
        try:
            loaded = rnnlab.load_model(bad)
        except ModelFileError as exc:
            assert "flipped.rnnlab" in str(exc)
            errors += 1
            continue
        assert _same(model, loaded), f"byte {i} changed the model silently"
        same += 1
    assert errors > len(data) // 2


def test_crash_mid_save_leaves_the_old_file_intact(trained, monkeypatch, tmp_path):
    model, path = trained
    before = path.read_bytes()
    x, y = _data()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)  # the new state differs
    calls = {"n": 0}
    original = zipfile.ZipFile.writestr

    def failing_writestr(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full (simulated)")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing_writestr)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    monkeypatch.undo()
    assert calls["n"] == 3
    assert path.read_bytes() == before
    assert sorted(os.listdir(path.parent)) == ["model.rnnlab"]  # no temporary file left over
    old = rnnlab.load_model(path)
    assert old.optimizer.iterations == 6
    # and a save that completes replaces it
    model.save(path)
    assert rnnlab.load_model(path).optimizer.iterations == 9


def test_new_files_get_normal_permissions(tmp_path):
    model = _model()
    path = tmp_path / "perm.rnnlab"
    model.save(path)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_overwrite_false_refuses(trained):
    model, path = trained
    with pytest.raises(FileExistsError, match="overwrite"):
        model.save(path, overwrite=False)


def test_wrong_kind_of_file(trained, tmp_path):
    model, path = trained
    weights = tmp_path / "w.weights.rnnlab"
    model.save_weights(weights)
    with pytest.raises(ModelFileError, match="rnnlab-weights.*load_weights"):
        rnnlab.load_model(weights)
    with pytest.raises(ModelFileError, match="rnnlab-model.*load_model"):
        model.load_weights(path)
    text = tmp_path / "notes.rnnlab"
    text.write_text("not a model")
    with pytest.raises(ModelFileError, match="not a readable rnnlab model file"):
        rnnlab.load_model(text)
    other_zip = tmp_path / "other.rnnlab"
    with zipfile.ZipFile(other_zip, "w") as zf:
        zf.writestr("config.json", "{}")  # read as a Keras 3 archive (by content)
    with pytest.raises(ModelFileError, match="Keras archive has no 'model.weights.h5'"):
        rnnlab.load_model(other_zip)
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ModelFileError):
        rnnlab.load_model(pickled)
    with pytest.raises(FileNotFoundError):
        rnnlab.load_model(tmp_path / "missing.rnnlab")
    with pytest.raises(ModelFileError):
        rnnlab.load_model(tmp_path)  # a folder


def test_newer_format_version_is_refused(trained, tmp_path):
    _, path = trained
    newer = tmp_path / "newer.rnnlab"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(newer, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "rnnlab.json":
                meta = json.loads(data)
                meta["version"] = saving.VERSION + 1
                data = json.dumps(meta).encode()
            dst.writestr(item.filename, data)
    with pytest.raises(ModelFileError, match="format version"):
        rnnlab.load_model(newer)


def test_weights_files_round_trip_and_mismatch(trained, tmp_path):
    model, _ = trained
    path = tmp_path / "weights.rnnlab"
    model.save_weights(path)
    other = _model(seed=5)  # the same architecture built again: other layer names
    assert [a.name for a in other.layers] != [a.name for a in model.layers]
    before = [w.copy() for w in other.get_weights()]
    other.load_weights(path)  # matched by position, as Keras's HDF5 load_weights
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)
    # every randomly initialised array changed (the load did replace them); zero-initialised
    # ones (biases) are zero in both and say nothing
    for a, c in zip(model.get_weights(), before):
        if np.any(c):
            assert not np.array_equal(a, c)
    assert not all(np.array_equal(a, c) for a, c in zip(model.get_weights(), before))
    small = rnnlab.Sequential([layers.Dense(2, input_shape=(3,))])
    with pytest.raises(ModelFileError, match="do not fit the model.*the model has"):
        small.load_weights(path)


def test_unsaveable_compile_arguments_warn_and_save_the_rest(tmp_path):
    model = rnnlab.Sequential([layers.Dense(1, input_shape=(2,))])

    class Custom:  # a user loss with the protocol but no config
        def value_and_grad(self, y_true, y_pred, sample_weight=None, mask=None):
            return rnnlab.losses.MeanSquaredError().value_and_grad(y_true, y_pred)

    model.compile("sgd", Custom())
    model.fit(np.ones((2, 2)), np.ones((2, 1)), verbose=0)
    with pytest.warns(UserWarning, match="compile arguments cannot be saved"):
        model.save(tmp_path / "m.rnnlab")
    loaded = rnnlab.load_model(tmp_path / "m.rnnlab")
    assert not loaded.compiled and _same(model, loaded)
