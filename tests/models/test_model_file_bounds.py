"""Hostile model files: declared sizes are checked before anything is allocated or inflated.

A ``.npy`` header declaring a (200000, 200000) weight, a rnnlab.json inflating to 2 GiB of
whitespace, slots and resume arrays larger than the architecture allows, members whose zip
directory and header disagree: each is refused with ``ModelFileError`` naming the member and what
was expected, and the loading process's peak memory (``resource.getrusage`` in a child process)
stays within a few MiB of what it was before the load.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import rnnlab
from rnnlab import layers
from rnnlab.saving import ModelFileError, load_resume_state

BOMB_BYTES = 2 << 30  # what the whitespace member inflates to
RSS_MARGIN_KIB = 64 << 10  # peak RSS growth allowed while refusing a file


@pytest.fixture
def saved(tmp_path: Path) -> tuple[rnnlab.Sequential, Path]:
    model = rnnlab.Sequential([layers.Embedding(10, 3, input_length=4), layers.LSTM(4),
                               layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).integers(0, 10, (6, 4))
    model.fit(x, np.zeros((6, 2)), epochs=1, verbose=0)
    path = tmp_path / "model.rnnlab"
    model.save(path, resume={"epochs_done": 1, "best": model.get_weights()[0]})
    return model, path


def rewrite(src: Path, dst: Path, replace: dict[str, bytes]) -> None:
    """``src`` with the named members' bytes replaced (the zip directory stays honest)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, replace.get(item.filename, zin.read(item.filename)))


def npy_header(shape: tuple[int, ...], descr: str = "<f4") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def first_weight(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        return "weights/" + json.loads(zf.read("rnnlab.json"))["weights"][0] + ".npy"


def load_in_child(path: Path, call: str = "rnnlab.load_model(path)") -> dict[str, object]:
    """Load ``path`` in a fresh process: the error it gives and its peak RSS before / after."""
    code = f"""
import json, resource, sys
import rnnlab
from rnnlab.saving import ModelFileError, load_resume_state
path = sys.argv[1]
rnnlab.load_model  # imports done before the baseline
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    {call}
    error = None
except ModelFileError as exc:
    error = str(exc)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"error": error, "before": before, "after": after}}))
"""
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                         timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- a header declaring 149 GiB --------------------------------------------------------------------
def test_a_huge_npy_header_is_refused_before_any_allocation(saved, tmp_path):
    model, path = saved
    member = first_weight(path)
    evil = tmp_path / "huge.rnnlab"
    rewrite(path, evil, {member: npy_header((200000, 200000))})
    with pytest.raises(ModelFileError, match=rf"{member}.*\(200000, 200000\).*expected float32 "
                                             r"\(10, 3\)"):
        rnnlab.load_model(evil)
    weights = tmp_path / "w.weights.rnnlab"
    model.save_weights(weights)
    bad = tmp_path / "bad.weights.rnnlab"
    rewrite(weights, bad, {member: npy_header((200000, 200000))})
    with pytest.raises(ModelFileError, match=r"\(200000, 200000\).*do not fit the model"):
        model.load_weights(bad)
    result = load_in_child(evil)
    assert result["error"] and "(200000, 200000)" in str(result["error"])
    assert int(result["after"]) - int(result["before"]) < RSS_MARGIN_KIB


def test_header_and_zip_directory_must_agree(saved, tmp_path):
    model, path = saved
    member = first_weight(path)
    good = model.state_dict()[member[len("weights/"):-len(".npy")]]
    short = tmp_path / "short.rnnlab"  # the right header, a quarter of the data
    rewrite(path, short, {member: npy_header(good.shape) + good.tobytes()[: good.nbytes // 4]})
    with pytest.raises(ModelFileError, match=rf"{member}.*declares \d+ bytes.*bytes expected"):
        rnnlab.load_model(short)
    extra = tmp_path / "extra.rnnlab"
    rewrite(path, extra, {member: npy_header(good.shape) + good.tobytes() + b"\0" * 64})
    with pytest.raises(ModelFileError, match=member):
        rnnlab.load_model(extra)
    wrong_dtype = tmp_path / "dtype.rnnlab"
    rewrite(path, wrong_dtype, {member: npy_header(good.shape, "<U4") + b"\0" * good.size * 16})
    with pytest.raises(ModelFileError, match=rf"{member}.*<U4.*numeric dtype"):
        rnnlab.load_model(wrong_dtype)


def test_optimizer_slots_and_resume_arrays_are_bounded(saved, tmp_path):
    model, path = saved
    with zipfile.ZipFile(path) as zf:
        meta = json.loads(zf.read("rnnlab.json"))
    slot = "optimizer/" + next(n for n in meta["optimizer"] if "/" in n) + ".npy"
    evil = tmp_path / "slot.rnnlab"
    rewrite(path, evil, {slot: npy_header((100000, 100000))})
    with pytest.raises(ModelFileError, match=rf"{slot}.*expected float32/float64 \("):
        rnnlab.load_model(evil)
    resume = "resume/0.npy"
    big = tmp_path / "resume.rnnlab"
    rewrite(path, big, {resume: npy_header((40000, 40000))})
    with pytest.raises(ModelFileError, match=rf"{resume}.*expected at most \d+ bytes"):
        load_resume_state(big, model)
    with pytest.raises(ModelFileError, match=resume):
        load_resume_state(big)  # without the model: the fixed ceiling
    np.testing.assert_array_equal(load_resume_state(path, model)["best"], model.get_weights()[0])
    result = load_in_child(big, "load_resume_state(path)")
    assert result["error"] and resume in str(result["error"])
    assert int(result["after"]) - int(result["before"]) < RSS_MARGIN_KIB


# -- a zip bomb --------------------------------------------------------------------------------
def _deflate_whitespace(head: bytes, total: int) -> tuple[Iterator[bytes], int, int]:
    """A raw-deflate stream of ``head`` then spaces up to ``total`` bytes, made from one
    compressed 1 MiB block repeated (a full flush resets the compressor, so every block
    compresses to the same bytes): cheap to make, however large it inflates."""
    chunk = b" " * (1 << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = comp.compress(head) + comp.flush(zlib.Z_FULL_FLUSH)
    unit = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    assert comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH) == unit
    last = comp.flush()
    count = (total - len(head)) // len(chunk)
    check = zlib.decompressobj(-15)  # the stream is what it claims to be
    assert check.decompress(first + unit + unit) == head + chunk + chunk
    crc = zlib.crc32(head)
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)

    def parts() -> Iterator[bytes]:
        yield first
        for _ in range(count):
            yield unit
        yield last

    return parts(), crc, len(head) + count * len(chunk)


def write_zip(path: Path, members: list[tuple[str, Iterator[bytes], int, int]]) -> None:
    """A zip archive of raw-deflate members ``(name, compressed parts, crc32, size)``."""
    central = []
    with open(path, "wb") as fh:
        for name, parts, crc, size in members:
            offset, encoded = fh.tell(), name.encode()
            fh.write(b"\0" * (30 + len(encoded)))  # the local header, written once sizes are known
            csize = 0
            for part in parts:
                fh.write(part)
                csize += len(part)
            end = fh.tell()
            fh.seek(offset)
            fh.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, csize, size,
                                 len(encoded), 0) + encoded)
            fh.seek(end)
            central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc,
                                       csize, size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
        start = fh.tell()
        for entry in central:
            fh.write(entry)
        fh.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central),
                             fh.tell() - start, start, 0))


def test_a_json_member_inflating_to_gigabytes_is_refused_unread(saved, tmp_path):
    _, path = saved
    with zipfile.ZipFile(path) as zf:
        head = zf.read("rnnlab.json")
        others = [(n, zf.read(n)) for n in zf.namelist() if n != "rnnlab.json"]
    bomb_parts, crc, size = _deflate_whitespace(head, BOMB_BYTES)
    members = [("rnnlab.json", bomb_parts, crc, size)]
    for name, data in others:
        comp = zlib.compressobj(6, zlib.DEFLATED, -15)
        members.append((name, iter([comp.compress(data) + comp.flush()]), zlib.crc32(data),
                        len(data)))
    bomb = tmp_path / "bomb.rnnlab"
    write_zip(bomb, members)
    assert bomb.stat().st_size < 4 << 20 and size >= BOMB_BYTES - (1 << 20)
    with zipfile.ZipFile(bomb) as zf:  # a well-formed archive: only its size is hostile
        assert zf.getinfo("rnnlab.json").file_size == size
        with zf.open("rnnlab.json") as fh:
            assert fh.read(len(head)) == head
    with pytest.raises(ModelFileError, match=rf"rnnlab.json.*declares {size} bytes; at most"):
        rnnlab.load_model(bomb)
    result = load_in_child(bomb)
    assert "rnnlab.json" in str(result["error"])
    assert int(result["after"]) - int(result["before"]) < RSS_MARGIN_KIB


def test_a_json_member_lying_about_its_size_stops_at_the_limit(saved, tmp_path, monkeypatch):
    """The zip directory understates the size: reading still stops at the limit."""
    from rnnlab import saving

    _, path = saved
    monkeypatch.setattr(saving, "JSON_LIMIT", 1 << 16)
    with zipfile.ZipFile(path) as zf:
        head = zf.read("rnnlab.json")
    parts, crc, size = _deflate_whitespace(head, 8 << 20)
    lying = tmp_path / "lying.rnnlab"
    write_zip(lying, [("rnnlab.json", parts, crc, 1000)])
    assert len(head) > 1000
    with pytest.raises(ModelFileError, match="not a readable rnnlab model file"):
        rnnlab.load_model(lying)
