"""``RunContext.data_dir_or_default``: the one place every experiment finds its data."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnlab.experiments.context import RunContext

FILES = ("train.csv", "test.csv")


def ctx(tmp_path: Path, data: Path | None) -> RunContext:
    return RunContext(config={}, out=tmp_path / "out", data_dir=data)


def make(folder: Path, files: tuple[str, ...] = FILES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for f in files:
        (folder / f).write_text("x\n")
    return folder


def test_data_folder_itself_or_a_parent_holding_it(tmp_path: Path) -> None:
    sets = make(tmp_path / "shared" / "prices")
    assert ctx(tmp_path, sets).data_dir_or_default("prices", "n", FILES) == sets
    assert ctx(tmp_path, tmp_path / "shared").data_dir_or_default("prices", "n", FILES) == sets


def test_missing_files_are_named(tmp_path: Path) -> None:
    folder = make(tmp_path / "d", ("train.csv",))
    with pytest.raises(FileNotFoundError, match="does not hold train.csv, test.csv"):
        ctx(tmp_path, folder).data_dir_or_default("prices", "n", FILES)


def test_a_file_where_a_folder_is_needed(tmp_path: Path) -> None:
    f = tmp_path / "train.csv"
    f.write_text("x\n")
    with pytest.raises(FileNotFoundError, match="is a file; pass the folder holding"):
        ctx(tmp_path, f).data_dir_or_default("prices", "n", FILES)


def test_without_files_data_is_returned_as_given(tmp_path: Path) -> None:
    text = tmp_path / "corpus.txt"
    assert ctx(tmp_path, text).data_dir_or_default("tinyshakespeare", "n") == text


def test_default_folder_missing_says_what_to_pass(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)                  # the default is ../shared/data/<folder>
    with pytest.raises(FileNotFoundError, match="pass --data PATH.*does not exist"):
        ctx(tmp_path, None).data_dir_or_default("prices", "pass --data PATH", FILES)
    make(tmp_path / "shared" / "data" / "prices", ("train.csv",))
    with pytest.raises(FileNotFoundError, match="does not hold train.csv, test.csv"):
        ctx(tmp_path, None).data_dir_or_default("prices", "x", FILES)
    make(tmp_path / "shared" / "data" / "prices")
    found = ctx(tmp_path, None).data_dir_or_default("prices", "x", FILES)
    assert found.resolve() == (tmp_path / "shared" / "data" / "prices").resolve()
