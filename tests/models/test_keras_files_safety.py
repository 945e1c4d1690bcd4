"""Hostile and broken Keras-format files: clear ``ModelFileError``s, nothing from the file run,
every HDF5 dataset checked before its data is read, and a fuzz run (byte flips, truncations) in
a child process, since libhdf5 could crash in C."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest

import rnnlab
from rnnlab.keras_format import files
from rnnlab.models import load_model
from rnnlab.saving import ModelFileError


def _model():
    model = rnnlab.Sequential([rnnlab.Input((4, 2)), rnnlab.layers.GRU(3),
                               rnnlab.layers.Dense(2)])
    model.compile("adam", "mse")
    return model


def _rewrite(src: Path, dst: Path, config=None, weights=None) -> None:
    with zipfile.ZipFile(src) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    if config is not None:
        members["config.json"] = json.dumps(config(json.loads(members["config.json"]))).encode()
    if weights is not None:
        members["model.weights.h5"] = weights(members["model.weights.h5"])
    with zipfile.ZipFile(dst, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _edit_h5(data: bytes, edit) -> bytes:
    buf = io.BytesIO(data)
    with h5py.File(buf, "a") as root:
        edit(root)
    return buf.getvalue()


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "m.keras"
    _model().save(path)
    return path


def _set_layer_class(cfg, name, module="keras.layers", registered=None):
    cfg["config"]["layers"][2].update(class_name=name, module=module,
                                      registered_name=registered)
    return cfg


@pytest.mark.parametrize("name, module, registered, match", [
    ("MyLayer", "__main__", "Custom>MyLayer", "safe_mode"),
    ("Dense", "my_package.layers", "my_package>Dense", "safe_mode"),
    ("NoSuchLayer", "keras.layers", None, "unknown class 'NoSuchLayer'"),
])
def test_code_and_unknown_classes_are_refused(saved, tmp_path, name, module, registered, match):
    bad = tmp_path / "bad.keras"
    _rewrite(saved, bad, config=lambda c: _set_layer_class(c, name, module, registered))
    with pytest.raises(ModelFileError, match=match):
        load_model(bad)


def test_unsupported_keras_option_is_named(saved, tmp_path):
    def edit(cfg):
        cfg["config"]["layers"][2]["config"]["kernel_regularizer"] = {
            "module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.1}}
        cfg["config"]["layers"][1]["config"]["use_cudnn"] = "auto"   # harmless: accepted
        return cfg

    bad = tmp_path / "bad.keras"
    _rewrite(saved, bad, config=edit)
    with pytest.raises(ModelFileError, match="kernel_regularizer"):
        load_model(bad)


def _replace(path, make):
    def edit(root):
        del root[path]
        make(root, path)
    return edit


@pytest.mark.parametrize("make, match", [
    # a header declaring 200000 x 200000 floats (149 GiB): refused before any data is read
    (lambda r, p: r.create_dataset(p, shape=(200000, 200000), dtype="f4"),
     r"shape \(200000, 200000\).*expects \(3, 2\)"),
    (lambda r, p: r.create_dataset(p, data=np.zeros((2, 3), "f4")), r"shape \(2, 3\)"),
    (lambda r, p: r.create_dataset(p, data=np.array([b"x" * 8] * 6).reshape(3, 2)),
     "dtype"),
    (lambda r, p: r.create_dataset(p, shape=(3, 2), dtype=h5py.vlen_dtype("f4")), "dtype"),
    (lambda r, p: r.create_group(p), "not a dataset"),
])
def test_dataset_checked_before_reading(saved, tmp_path, make, match):
    bad = tmp_path / "bad.keras"
    _rewrite(saved, bad, weights=lambda d: _edit_h5(d, _replace("layers/dense/vars/0", make)))
    with pytest.raises(ModelFileError, match=match):
        load_model(bad)


def test_missing_and_extra_weights(saved, tmp_path):
    bad = tmp_path / "missing.keras"
    _rewrite(saved, bad, weights=lambda d: _edit_h5(
        d, lambda r: r.__delitem__("layers/gru/cell/vars/1")))
    with pytest.raises(ModelFileError, match="gru"):
        load_model(bad)
    extra = tmp_path / "extra.keras"
    _rewrite(saved, extra, weights=lambda d: _edit_h5(
        d, lambda r: r.create_dataset("layers/lstm/cell/vars/0", data=np.ones(3))))
    with pytest.raises(ModelFileError, match="'lstm'"):
        load_model(extra)


def test_archive_members_bounded_and_checked(saved, tmp_path, monkeypatch):
    garbage = tmp_path / "garbage.keras"
    _rewrite(saved, garbage, weights=lambda d: b"not hdf5" * 100)
    with pytest.raises(ModelFileError, match="not an HDF5 file"):
        load_model(garbage)
    monkeypatch.setattr(files, "MAX_JSON_BYTES", 100)
    with pytest.raises(ModelFileError, match="config.json.*at most 100"):
        load_model(saved)


def test_bad_optimizer_state_is_refused(saved, tmp_path):
    model = _model()
    model.fit(np.ones((4, 4, 2), "f4"), np.ones((4, 2), "f4"), verbose=0)
    model.save(saved)
    bad = tmp_path / "bad.keras"
    _rewrite(saved, bad, weights=lambda d: _edit_h5(
        d, lambda r: r.__delitem__("optimizer/vars/5")))
    with pytest.raises(ModelFileError, match="optimizer"):
        load_model(bad)
    assert load_model(bad, compile=False).predict(np.ones((1, 4, 2), "f4"),
                                                   verbose=0).shape == (1, 2)


FUZZ = textwrap.dedent("""
    import json, sys
    import numpy as np
    import rnnlab
    from rnnlab.models import load_model
    from rnnlab.saving import ModelFileError
    folder, cases = sys.argv[1], int(sys.argv[2])
    rnnlab.random.set_random_seed(0)   # the same files, so the same cases, on every run
    model = rnnlab.Sequential([rnnlab.Input((4, 2)), rnnlab.layers.LSTM(3),
                               rnnlab.layers.Dense(2)])
    model.compile("adam", "mse")
    model.fit(np.ones((4, 4, 2), "f4"), np.ones((4, 2), "f4"), verbose=0)
    sources = {}
    for name in ("m.keras", "m.h5"):
        model.save(f"{folder}/{name}")
        sources[name] = open(f"{folder}/{name}", "rb").read()
    model.save_weights(f"{folder}/w.weights.h5")
    sources["w.weights.h5"] = open(f"{folder}/w.weights.h5", "rb").read()
    rng = np.random.default_rng(0)
    counts = {"cases": 0, "clear_error": 0, "loaded": 0}
    for k in range(cases):
        name = list(sources)[k % 3]
        data = bytearray(sources[name])
        if rng.random() < 0.3:
            data = data[:int(rng.integers(0, len(data)))]
        else:
            for _ in range(int(rng.integers(1, 9))):
                data[int(rng.integers(0, len(data)))] = int(rng.integers(0, 256))
        path = f"{folder}/case-{name}"
        open(path, "wb").write(bytes(data))
        counts["cases"] += 1
        try:
            if name == "w.weights.h5":
                model.load_weights(path)
            else:
                load_model(path)
            counts["loaded"] += 1
        except ModelFileError:
            counts["clear_error"] += 1
        except Exception as exc:
            print(json.dumps({"case": k, "file": name, "error": repr(exc)[:300]}))
            sys.exit(1)
    print(json.dumps(counts))
""")


def test_fuzz_in_child_process(tmp_path):
    """Byte flips and truncations of .keras, legacy .h5 and .weights.h5 files: every case
    loads or gives a ModelFileError; run in a child so a crash in libhdf5 is a failure here,
    not a dead test run."""
    cases = 300
    env = dict(os.environ, PYTHONPATH=str(Path(rnnlab.__file__).parents[1]))
    run = subprocess.run([sys.executable, "-c", FUZZ, str(tmp_path), str(cases)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, (run.returncode, run.stdout[-2000:], run.stderr[-2000:])
    counts = json.loads(run.stdout.strip().splitlines()[-1])
    assert counts["cases"] == cases
    assert counts["clear_error"] + counts["loaded"] == cases
    assert counts["clear_error"] > cases // 4
