"""rnnlab.utils (PyDataset, timeseries_dataset_from_array, get_file) and rnnlab.datasets
(imdb/mnist/reuters load_data) on tiny generated files, against hand-computed references."""

import hashlib

import numpy as np
import pytest

import rnnlab
from rnnlab.data.errors import DownloadError
from rnnlab.utils import PyDataset, get_file, timeseries_dataset_from_array


def _windows(data, targets, length, stride, rate, start, end):
    """The reference: every window start p with all its steps before end, in order."""
    out_x, out_y = [], []
    p = start
    while p + (length - 1) * rate < end and (targets is None or p < len(targets)):
        out_x.append(data[p:p + (length - 1) * rate + 1:rate])
        out_y.append(None if targets is None else targets[p])
        p += stride
    return np.array(out_x), out_y


@pytest.mark.parametrize("length,stride,rate,start,end,batch", [
    (3, 1, 1, None, None, 4), (4, 2, 2, 1, 18, 3), (2, 3, 1, 5, None, 100), (5, 1, 3, 0, 20, 1)])
def test_timeseries_windows_match_the_reference(length, stride, rate, start, end, batch):
    data = np.arange(40).reshape(20, 2)
    targets = np.arange(100, 120)
    ds = timeseries_dataset_from_array(data, targets, length, sequence_stride=stride,
                                       sampling_rate=rate, batch_size=batch,
                                       start_index=start, end_index=end)
    xs = np.concatenate([b[0] for b in ds])
    ys = np.concatenate([b[1] for b in ds])
    ref_x, ref_y = _windows(data, targets, length, stride, rate, start or 0, end or 20)
    np.testing.assert_array_equal(xs, ref_x)
    np.testing.assert_array_equal(ys, ref_y)
    assert all(len(b[0]) <= batch for b in ds)


def test_timeseries_keras_docstring_example_and_shuffle():
    # Keras's documented example: data[i:i+10] predicts data[i+10]
    data = np.arange(100)
    ds = timeseries_dataset_from_array(data[:-10], data[10:], sequence_length=10,
                                       batch_size=128)
    x, y = ds[0]
    np.testing.assert_array_equal(x[0], np.arange(10))
    assert y[0] == data[10] and len(x) == 81
    shuffled = timeseries_dataset_from_array(data, None, 5, batch_size=8, shuffle=True, seed=3)
    starts = np.arange(96)
    np.random.RandomState(3).shuffle(starts)
    np.testing.assert_array_equal(np.concatenate(list(shuffled))[:, 0], starts)
    with pytest.raises(ValueError, match="start_index"):
        timeseries_dataset_from_array(data, None, 5, start_index=100)
    with pytest.raises(ValueError, match="sampling_rate"):
        timeseries_dataset_from_array(data, None, 5, sampling_rate=0)


def test_fit_accepts_a_timeseries_dataset_and_a_pydataset():
    rng = np.random.default_rng(0)
    series = rng.normal(size=(60, 2)).astype("f4")
    ds = timeseries_dataset_from_array(series[:-5], series[5:, :1], 5, batch_size=16)
    model = rnnlab.Sequential([rnnlab.Input((5, 2)), rnnlab.layers.GRU(3),
                               rnnlab.layers.Dense(1)])
    model.compile("adam", "mse")
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2

    class Batches(PyDataset):
        def __init__(self):
            super().__init__(workers=2)
            self.ended = 0

        def __len__(self):
            return 3

        def __getitem__(self, i):
            return series[i * 8:(i + 1) * 8, None].repeat(5, 1), series[i * 8:(i + 1) * 8, :1]

        def on_epoch_end(self):
            self.ended += 1

    batches = Batches()
    model.fit(batches, epochs=2, verbose=0)
    assert batches.ended == 2 and batches.workers == 2
    assert rnnlab.utils.Sequence is PyDataset


def test_get_file_caches_verifies_and_explains_offline(tmp_path, monkeypatch):
    src = tmp_path / "remote" / "data.bin"
    src.parent.mkdir()
    src.write_bytes(b"payload")
    digest = hashlib.sha256(b"payload").hexdigest()
    cache = tmp_path / "cache"
    path = get_file("data.bin", src.as_uri(), file_hash=digest, cache_dir=cache)
    assert path == str(cache / "datasets" / "data.bin")
    src.unlink()  # cached: no second download
    assert get_file("data.bin", src.as_uri(), file_hash=digest, cache_dir=cache) == path
    monkeypatch.setenv("RNNLAB_OFFLINE", "1")
    with pytest.raises(DownloadError) as err:
        get_file("other.bin", "https://example.org/other.bin", cache_dir=cache)
    assert "https://example.org/other.bin" in str(err.value)
    assert str(cache / "datasets" / "other.bin") in str(err.value)
    monkeypatch.delenv("RNNLAB_OFFLINE")
    md5 = hashlib.md5(b"payload").hexdigest()
    (tmp_path / "remote" / "data.bin").write_bytes(b"changed")
    with pytest.raises(DownloadError, match="md5 mismatch"):
        get_file("fresh.bin", src.as_uri(), file_hash=md5, cache_dir=cache)


def _object(seqs):
    out = np.empty(len(seqs), dtype=object)
    out[:] = [list(s) for s in seqs]
    return out


def test_reuters_load_data_follows_keras_conventions(tmp_path):
    rng = np.random.default_rng(0)
    seqs = [list(rng.integers(1, 30, rng.integers(2, 9))) for _ in range(20)]
    labels = rng.integers(0, 5, 20)
    np.savez(tmp_path / "reuters.npz", x=_object(seqs), y=labels)
    (x_train, y_train), (x_test, y_test) = rnnlab.datasets.reuters.load_data(
        path=str(tmp_path / "reuters.npz"), num_words=20, skip_top=4, maxlen=9,
        test_split=0.25, seed=7)
    order = np.arange(20)
    np.random.RandomState(7).shuffle(order)
    ref, ref_y = [], []
    for i in order:
        s = [1] + [w + 3 for w in seqs[i]]
        if len(s) < 9:
            ref.append([w if 4 <= w < 20 else 2 for w in s])
            ref_y.append(labels[i])
    cut = int(len(ref) * 0.75)
    assert [list(s) for s in x_train] == ref[:cut]
    assert [list(s) for s in x_test] == ref[cut:]
    np.testing.assert_array_equal(np.concatenate([y_train, y_test]), ref_y)


def test_imdb_and_mnist_load_data_from_local_files(tmp_path):
    rng = np.random.default_rng(1)
    tr = [list(rng.integers(1, 15, 4)) for _ in range(6)]
    te = [list(rng.integers(1, 15, 5)) for _ in range(4)]
    np.savez(tmp_path / "imdb.npz", x_train=_object(tr), y_train=np.arange(6) % 2,
             x_test=_object(te), y_test=np.arange(4) % 2)
    (x_train, _), (x_test, _) = rnnlab.datasets.imdb.load_data(
        path=str(tmp_path / "imdb.npz"), num_words=100, start_char=None, index_from=0,
        oov_char=None)
    assert sorted(map(list, x_train)) == sorted(tr) and sorted(map(list, x_test)) == sorted(te)
    images = rng.integers(0, 255, (3, 28, 28), dtype=np.uint8)
    np.savez(tmp_path / "mnist.npz", x_train=images, y_train=np.arange(3, dtype=np.uint8),
             x_test=images[:1], y_test=np.zeros(1, np.uint8))
    (xm, ym), (xt, _) = rnnlab.datasets.mnist.load_data(path=str(tmp_path / "mnist.npz"))
    np.testing.assert_array_equal(xm, images)
    assert xt.shape == (1, 28, 28) and ym.dtype == np.uint8


def test_dataset_loaders_offline_name_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path))
    monkeypatch.setenv("RNNLAB_OFFLINE", "1")
    with pytest.raises(OSError) as err:
        rnnlab.datasets.reuters.load_data()
    assert "reuters.npz" in str(err.value) and str(tmp_path) in str(err.value)
    with pytest.raises(OSError, match="imdb.npz"):
        rnnlab.datasets.imdb.load_data()
