"""Where things lie in a workspace, by their names alone (no file is read): its root above
``params/``, a file's path from that root, the year folders. Light to import, so that the
command line can look before it loads the rest (:mod:`evaltools.cli.head_start`)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from evaltools.domain import memo

YEAR_FOLDER = re.compile(r"\d{4}")


def absolute(path: Path | str) -> Path:
    """``path`` made absolute without following links: where the user points, not where a
    symbolic link leads (a project file linked in from another workspace belongs to this one)."""
    if isinstance(path, Path) and path.is_absolute() and ".." not in path.parts:
        return path  # already so (a path never holds "."): a year's planning asks ten thousand times
    return Path(os.path.abspath(path))


def workspace_root(path: Path) -> Path:
    """The folder holding ``params/`` for a file inside it (else the file's own folder)."""
    return _root_of(absolute(path).parent)


@memo.kept(maxsize=4096)  # names only, no file looked at: a year's files share a few folders
def _root_of(folder: Path) -> Path:
    for parent in (folder, *folder.parents):
        if parent.name == "params":
            return parent.parent
    return folder


def display_path(path: Path) -> str:
    """A file's path from its workspace root (params/2024/…), the same on every machine."""
    resolved = absolute(path)
    try:
        return str(resolved.relative_to(workspace_root(resolved)))
    except ValueError:
        return resolved.name


def year_folders(paths: Iterable[Path | str]) -> list[Path]:
    """The years a batch renders whole: year folders given (params/2024), or found in one (params/)."""
    found = set()
    for path in map(Path, paths):
        if path.is_dir():
            found.update(p.resolve() for p in [path, *path.iterdir()] if p.is_dir() and YEAR_FOLDER.fullmatch(p.name))
    return sorted(found)
