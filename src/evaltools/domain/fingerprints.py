"""Content fingerprints: what a result was computed from, so that nothing unchanged is computed again.

A batch skips a report whose inputs' fingerprint its run log records; the year overview reuses
each unchanged project's rows (:class:`evaltools.domain.frames.RowCache`). Fingerprints are of file
contents, never of times, so they hold on any machine and after any copy.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
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


def project_sources(file: Path, rules_files: Iterable[Path | str] = ()) -> list[Path]:
    """The files a project's figures are computed from: the project file, its department's file
    and rules, extra rules, and everything last year's figures are read from (shown beside this
    year; :func:`evaltools.domain.history.previous_sources`). This year's attached files are not
    among them: they are shown, never computed from."""
    file = absolute(file)
    return [file, file.parent / DEPARTMENT_FILE, *rules_files_for(file), *map(absolute, rules_files),
            *previous_sources(file)]


def sources_fingerprint(file: Path, rules_files: Iterable[Path | str] = (),
                        seen: dict[Path, bytes] | None = None) -> str:
    """A hash of the contents of :func:`project_sources` (a missing one counts as missing), of
    where the project lies in its workspace, and of evaltools' code. ``seen`` keeps each file's
    hash for the next call (a year's projects share their departments' files and rules)."""
    seen = {} if seen is None else seen
    digest = hashlib.sha256(f"{code_fingerprint()}\0{display_path(file)}".encode())
    for source in project_sources(file, rules_files):
        if source not in seen:
            try:
                seen[source] = hashlib.sha256(source.read_bytes()).digest()
            except OSError:
                seen[source] = b"-"
        digest.update(f"\0{source.name}\0".encode())
        digest.update(seen[source])
    return digest.hexdigest()[:24]
