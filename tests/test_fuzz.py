"""Property-based fuzzing (hypothesis) of what rnnlab reads from outside: model files, the
text/label CSV, text and IDX loaders, and the command line's argument parsing.

Inputs: byte flips, truncations, huge declared headers, odd member names, random bytes and
tokens. The property: a result or a clear error of the documented type (``ModelFileError``,
``DataFormatError``, a one-line ``rnnlab: error`` with exit status 2), never another exception,
a hang (a deadline per case) or unbounded memory (peak RSS growth over the whole test bounded).
The runs are derandomized (the same cases on every machine) and bounded in number and time; each
test records how many cases ran (shown in the summary of the test run: ``fuzz cases``).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import resource
import struct
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rnnlab
from rnnlab import cli, layers
from rnnlab.data.errors import DataFormatError
from rnnlab.data.loaders import load_char_corpus, read_idx, read_text_label_csv
from rnnlab.saving import ModelFileError, load_resume_state

FUZZ = settings(max_examples=250, deadline=10_000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
RSS_GROWTH_KIB = 256 << 10


@contextlib.contextmanager
def counted(request: pytest.FixtureRequest) -> Iterator[list[int]]:
    """Count the cases run; record the count for the summary and bound the memory growth."""
    count = [0]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    yield count
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    counts = request.config.__dict__.setdefault("fuzz_counts", {})
    counts[request.node.name] = counts.get(request.node.name, 0) + count[0]
    assert count[0] > 0
    assert grown < RSS_GROWTH_KIB, f"peak RSS grew by {grown} KiB"


# -- model files -----------------------------------------------------------------------------------
def _model_bytes() -> tuple[bytes, Any]:
    model = rnnlab.Sequential([layers.Embedding(7, 3, input_length=4), layers.GRU(4),
                               layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).integers(0, 7, (4, 4))
    model.fit(x, np.zeros((4, 2)), verbose=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.rnnlab"
        model.save(path, resume={"epochs_done": 1, "best": model.get_weights()})
        return path.read_bytes(), model


GOOD, MODEL = _model_bytes()


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _npy_header(shape: tuple[int, ...], descr: str) -> bytes:
    d = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    pad = (64 - (10 + len(d) + 1) % 64) % 64
    body = d + b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(body)) + body


flips = st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(1, 255)), min_size=1,
                 max_size=8)
member_names = st.text(st.characters(codec="utf-8"), min_size=1,
                       max_size=40) | st.sampled_from(
    ["../escape.npy", "/abs.npy", "weights/", "weights/../../x.npy", "rnnlab.json/", "\\x.npy",
     "weights/" + "a" * 300 + ".npy", "resume/0.npy"])
dims = st.integers(0, 2**40)
descrs = st.sampled_from(["<f4", "<f8", "|O", "<U8", "|V16", "<i8", "|b1", "<c16", ">f4", "<f2"])


def mutate_model_file(data: st.DataObject) -> bytes:
    kind = data.draw(st.sampled_from(["flip", "truncate", "json", "header", "names"]))
    if kind == "flip":
        out = bytearray(GOOD)
        for pos, xor in data.draw(flips):
            out[pos] ^= xor
        return bytes(out)
    if kind == "truncate":
        return GOOD[: data.draw(st.integers(0, len(GOOD) - 1))]
    members = _members(GOOD)
    if kind == "json":  # byte flips in the uncompressed JSON, archive otherwise valid
        text = bytearray(members["rnnlab.json"])
        for _ in range(data.draw(st.integers(1, 4))):
            text[data.draw(st.integers(0, len(text) - 1))] ^= data.draw(st.integers(1, 255))
        members["rnnlab.json"] = bytes(text)
    elif kind == "header":  # one array's header declares another (often huge) shape or dtype
        name = data.draw(st.sampled_from(sorted(n for n in members if n.endswith(".npy"))))
        shape = tuple(data.draw(st.lists(dims, min_size=0, max_size=4)))
        tail = data.draw(st.binary(max_size=64))
        members[name] = _npy_header(shape, data.draw(descrs)) + tail
    else:  # odd member names, also listed in the JSON
        meta = json.loads(members["rnnlab.json"])
        odd = data.draw(member_names)
        members[odd] = data.draw(st.binary(max_size=64))
        key = data.draw(st.sampled_from(["weights", "optimizer"]))
        meta[key] = [*meta[key], odd.removeprefix(key + "/").removesuffix(".npy")]
        members["rnnlab.json"] = json.dumps(meta).encode()
    return _zip(members)


def test_fuzz_model_file_reader(request: pytest.FixtureRequest) -> None:
    with tempfile.TemporaryDirectory() as tmp, counted(request) as count:
        path = Path(tmp) / "fuzzed.rnnlab"

        @FUZZ
        @given(st.data())
        def case(data: st.DataObject) -> None:
            count[0] += 1
            path.write_bytes(mutate_model_file(data))
            reader = data.draw(st.sampled_from(["load_model", "load_weights", "resume"]))
            with contextlib.suppress(ModelFileError):
                if reader == "load_model":
                    rnnlab.load_model(path)
                elif reader == "load_weights":
                    MODEL.load_weights(path)
                else:
                    load_resume_state(path, MODEL)

        case()


# -- CSV, text and IDX loaders ---------------------------------------------------------------------
GOOD_CSV = b"text,label\ngood movie,1\nbad film,0\n\"quoted, text\",true\n"


def _bytes_like(good: bytes) -> st.SearchStrategy[bytes]:
    """Flipped, truncated or random versions of ``good``."""
    def flipped(edits: list[tuple[int, int]]) -> bytes:
        out = bytearray(good)
        for pos, xor in edits:
            out[pos % len(out)] ^= xor
        return bytes(out)

    return st.one_of(
        st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), min_size=1,
                 max_size=6).map(flipped),
        st.integers(0, len(good)).map(lambda n: good[:n]),
        st.binary(max_size=200),
        st.binary(max_size=100).map(lambda b: good + b))


def _fuzz_file(request: pytest.FixtureRequest, suffix: str, inputs: st.SearchStrategy[bytes],
               read: Callable[[Path], Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp, counted(request) as count:
        path = Path(tmp) / f"fuzzed{suffix}"

        @FUZZ
        @given(inputs)
        def case(raw: bytes) -> None:
            count[0] += 1
            path.write_bytes(raw)
            with contextlib.suppress(DataFormatError):
                read(path)

        case()


def test_fuzz_text_label_csv(request: pytest.FixtureRequest) -> None:
    _fuzz_file(request, ".csv", _bytes_like(GOOD_CSV), read_text_label_csv)


def test_fuzz_text_loader(request: pytest.FixtureRequest) -> None:
    text = b"First Citizen:\nBefore we proceed any further, hear me speak.\n"
    inputs = _bytes_like(text) | _bytes_like(gzip.compress(text, mtime=0))
    _fuzz_file(request, ".txt", inputs, load_char_corpus)
    _fuzz_file(request, ".gz", _bytes_like(gzip.compress(text, mtime=0)), load_char_corpus)


def _idx(dims_: tuple[int, ...], type_code: int = 0x08, data: bytes = b"") -> bytes:
    return bytes([0, 0, type_code, len(dims_)]) + b"".join(d.to_bytes(4, "big") for d in dims_) \
        + data


GOOD_IDX = _idx((2, 3, 3), 0x08, bytes(range(18)))
huge_idx = st.builds(
    _idx, st.lists(st.integers(0, 2**32 - 1), max_size=6).map(tuple),
    st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x0A, 0xFF]), st.binary(max_size=64))


def test_fuzz_idx_loader(request: pytest.FixtureRequest) -> None:
    inputs = (_bytes_like(GOOD_IDX) | huge_idx | _bytes_like(gzip.compress(GOOD_IDX, mtime=0))
              | huge_idx.map(lambda b: gzip.compress(b, mtime=0)))
    _fuzz_file(request, ".idx", inputs, read_idx)


# -- the command line ------------------------------------------------------------------------------
class _WouldRun(BaseException):
    """Raised in place of running an experiment: parsing and validation passed."""


WORDS = ["run", "list", "generate", "forecast", "predict", "info", "sine", "charlm",
         "sentiment-tiny", "nope", "--epochs", "--seed", "--smoke", "--resume", "--data", "--out",
         "--lr", "--hidden", "--batch-size", "--batch_size", "--units", "--bptt-truncate",
         "--verbose", "--csv", "--input", "--prime", "--length", "--temperature",
         "--top-k", "0", "-1", "3", "1e9", "nan", "true", "[1, 2]", "{}", "null", "\"x\"", "=",
         "--lr=0.1", "--epochs=", "--", "-", "", "--help", "-h", "/nonexistent/model.rnnlab"]
tokens = st.lists(st.sampled_from(WORDS) | st.text(max_size=12), max_size=8)


def test_fuzz_command_line_parsing(request: pytest.FixtureRequest, capsys: Any,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import rnnlab.experiments as experiments

    def would_run(*args: Any, **kwargs: Any) -> Any:
        raise _WouldRun

    monkeypatch.setattr(experiments, "run_experiment", would_run)
    with counted(request) as count:

        @FUZZ
        @given(tokens)
        def case(argv: list[str]) -> None:
            count[0] += 1
            code: Any
            try:
                code = cli.main(argv)
            except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
                code = exc.code
            except _WouldRun:
                code = 0
            err = capsys.readouterr().err
            assert code in (0, 2), (argv, code, err)
            assert "Traceback" not in err and "internal error" not in err, (argv, err)
            if code == 2:
                assert err.startswith("rnnlab: error:") or "usage:" in err, (argv, err)

        case()
