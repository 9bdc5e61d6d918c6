"""What a run computed, kept in a JSON file for the next run of the same code.

The year overview keeps each project's rows and each chart it drew (``evaltools batch`` ships
the files with the overview's job and back). Entries are valid for the code that wrote them (a
file of another evaltools is ignored); what a run used is written back, so entries nobody asked
for are dropped. A missing, stale or unreadable file only costs the computing again.
"""

from __future__ import annotations

import json
from os import PathLike
from pathlib import Path

from evaltools.domain.files import write_atomic
from evaltools.domain.fingerprints import code_fingerprint


class JsonCache:
    """Entries (JSON objects) by key, in ``section`` of the file at ``path`` (none: nothing kept)."""

    def __init__(self, path: PathLike | str | None, section: str):
        self.path = Path(path) if path is not None else None
        self.section = section
        self.kept: dict[str, dict] = {}
        self.used: dict[str, dict] = {}
        try:
            kept = json.loads(self.path.read_text(encoding="utf-8")) if self.path else {}
        except (OSError, ValueError):
            kept = {}
        if isinstance(kept, dict) and kept.get("code") == code_fingerprint() and isinstance(kept.get(section), dict):
            self.kept = {k: v for k, v in kept[section].items() if isinstance(v, dict)}
        self._on_disk = dict(self.kept)

    def get(self, key: str) -> dict | None:
        return self.kept.get(key)

    def keep(self, key: str, entry: dict) -> None:
        self.used[key] = entry

    def save(self, final: bool = True) -> None:
        """Write what this run used: when it differs from the file (``final``: the run has used
        all it will, and entries nobody used are dropped), or, while the run goes on, when it
        holds anything the file does not."""
        content = self.pending(final)
        if content is not None:
            write_atomic(self.path, content)
            self._on_disk = dict(self.used)

    def pending(self, final: bool = True) -> str | None:
        """What :meth:`save` would write now, or None."""
        if self.path is None:
            return None
        new = any(self._on_disk.get(key) != entry for key, entry in self.used.items())
        if new or (final and self.used != self._on_disk):
            return json.dumps({"code": code_fingerprint(), self.section: self.used}, ensure_ascii=False)
        return None
