"""Content fingerprints: what a result was computed from, so that nothing unchanged is computed again.

A batch skips a report whose inputs' fingerprint its run log records; the year overview reuses
each unchanged project's rows (:class:`evaltools.domain.frames.RowCache`). Fingerprints are of file
contents, never of times, so they hold on any machine and after any copy.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from evaltools import __version__
from evaltools.domain.history import previous_sources
from evaltools.domain.workspace import DEPARTMENT_FILE, absolute, display_path, rules_files_for


# What of the package makes a report: code, templates (the PDF's Typst template too), default rules.
CODE_SUFFIXES = (".py", ".j2", ".css", ".json", ".yaml", ".typ")


@functools.cache
def code_fingerprint() -> str:
    """Hash of evaltools' own code, templates and default rules: a change re-renders everything."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix in CODE_SUFFIXES:
            digest.update(str(path.relative_to(package)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class _Folder:
    inside: str  # its path from its workspace root, "/"-ended ("" for the root)
    shared: list[Path]  # the department file and rules of its projects
    last_year: bool  # whether the same folder of the year before exists (where last year's files are)


class Known:
    """What a reading of a year learns once: each file's hash, and of each folder what all its
    projects share (a thousand projects lie in a few folders)."""

    def __init__(self) -> None:
        self.hashes: dict[Path, bytes] = {}
        self.folders: dict[Path, _Folder] = {}
        self.fingerprints: dict[tuple[Path, tuple[Path, ...]], str] = {}  # a reading asks twice: its state, its rows

    def digest(self, path: Path) -> bytes:
        if path not in self.hashes:
            try:
                self.hashes[path] = hashlib.sha256(path.read_bytes()).digest()
            except OSError:
                self.hashes[path] = b"-"
        return self.hashes[path]

    def folder(self, folder: Path) -> _Folder:
        if folder not in self.folders:
            year = folder.parent
            self.folders[folder] = _Folder(
                display_path(folder / "_")[:-1], [folder / DEPARTMENT_FILE, *rules_files_for(folder / "_")],
                year.name.isdigit() and (year.parent / str(int(year.name) - 1) / folder.name).is_dir())
        return self.folders[folder]

    def name(self, file: Path) -> str:
        """:func:`display_path` of ``file``."""
        file = absolute(file)
        return self.folder(file.parent).inside + file.name


def project_sources(file: Path, rules_files: Iterable[Path | str] = (), known: Known | None = None) -> list[Path]:
    """The files a project's figures are computed from: the project file, its department's file
    and rules, extra rules, and everything last year's figures are read from (shown beside this
    year; :func:`evaltools.domain.history.previous_sources`). This year's attached files are not
    among them: they are shown, never computed from."""
    file = absolute(file)
    folder = (known or Known()).folder(file.parent)
    return [file, *folder.shared, *map(absolute, rules_files), *(previous_sources(file) if folder.last_year else ())]


def sources_fingerprint(file: Path, rules_files: Iterable[Path | str] = (), known: Known | None = None) -> str:
    """A hash of the contents of :func:`project_sources` (a missing one counts as missing), of
    where the project lies in its workspace, and of evaltools' code. ``known`` keeps what one
    call learns for the next (a year's projects share their departments' files and rules)."""
    known = Known() if known is None else known
    asked = (Path(file), tuple(map(Path, rules_files)))
    if asked not in known.fingerprints:
        digest = hashlib.sha256(f"{code_fingerprint()}\0{known.name(file)}".encode())
        for source in project_sources(file, asked[1], known):
            digest.update(f"\0{source.name}\0".encode())
            digest.update(known.digest(source))
        known.fingerprints[asked] = digest.hexdigest()[:24]
    return known.fingerprints[asked]
