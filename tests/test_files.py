"""evaltools.domain.files: the temporary folders a job's inputs are copied into."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from evaltools.domain import files
from evaltools.domain.files import scratch, write_tree

MEMORY = files.MEMORY_FOLDER.is_dir() and os.access(files.MEMORY_FOLDER, os.W_OK)


@pytest.mark.skipif(sys.platform != "linux" or not MEMORY, reason="a Linux file system in memory")
def test_a_jobs_copy_is_made_in_memory_where_linux_has_room(monkeypatch):
    monkeypatch.delenv("TMPDIR", raising=False)
    with scratch("evaltools-test-", 1 << 20) as folder:
        assert Path(folder).parent == files.MEMORY_FOLDER
    assert not Path(folder).exists()


@pytest.mark.skipif(sys.platform != "linux" or not MEMORY, reason="a Linux file system in memory")
def test_a_copy_larger_than_the_memory_has_room_for_goes_to_the_temporary_folder(monkeypatch):
    monkeypatch.delenv("TMPDIR", raising=False)
    room = os.statvfs(files.MEMORY_FOLDER)
    with scratch("evaltools-test-", room.f_bavail * room.f_frsize) as folder:
        assert Path(folder).parent != files.MEMORY_FOLDER


def test_a_temporary_folder_the_user_named_is_used(monkeypatch, tmp_path):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # read TMPDIR again
    with scratch("evaltools-test-", 100) as folder:
        assert Path(folder).parent == tmp_path


def test_a_tree_is_written_by_its_names(tmp_path):
    write_tree(tmp_path / "job", {"params/2024/a/p.yaml": b"1", "params/2024/a/q.yaml": b"2", "notebooks/n.ipynb": b"3"})
    assert sorted(p.relative_to(tmp_path / "job").as_posix() for p in (tmp_path / "job").rglob("*") if p.is_file()) == [
        "notebooks/n.ipynb", "params/2024/a/p.yaml", "params/2024/a/q.yaml"]
    assert (tmp_path / "job" / "params/2024/a/q.yaml").read_bytes() == b"2"


def test_a_sealed_file_is_told_from_a_copy_of_it_and_of_its_seal(tmp_path):
    """seal/sealed: the very file this machine wrote, untouched; not a copy brought from elsewhere
    (both files copied, times kept), not one changed since, not one without a seal or with a bad one."""
    kept = tmp_path / "here" / "overview.layout.zip"
    files.write_atomic(kept, b"PK kept")
    assert not files.sealed(kept)
    files.seal(kept)
    assert files.sealed(kept)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for made in (kept, kept.with_name(kept.name + files.SEAL)):
        shutil.copy2(made, elsewhere / made.name)
    assert not files.sealed(elsewhere / kept.name)
    files.write_atomic(kept, b"PK kept, changed")
    assert not files.sealed(kept)
    files.seal(kept)
    kept.with_name(kept.name + files.SEAL).write_text("not a seal", encoding="utf-8")
    assert not files.sealed(kept) and not files.sealed(tmp_path / "nowhere.zip")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_seal_that_is_a_pipe_or_no_seal_at_all_seals_nothing_and_never_blocks(tmp_path):
    kept = tmp_path / "overview.layout.zip"
    files.write_atomic(kept, b"PK kept")
    os.mkfifo(kept.with_name(kept.name + files.SEAL))  # read, it would wait for a writer forever
    assert not files.sealed(kept)
    kept.with_name(kept.name + files.SEAL).unlink()
    kept.with_name(kept.name + files.SEAL).write_text("[" * 100_000, encoding="utf-8")  # too deep for json
    assert not files.sealed(kept)
