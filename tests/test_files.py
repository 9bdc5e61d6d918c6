"""evaltools.domain.files: the temporary folders a job's inputs are copied into."""

from __future__ import annotations

import os
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
