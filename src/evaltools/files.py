"""Writing files: completely or not at all.

Every output of evaltools (reports, run logs, indexes, workbooks, imported parameter files) is
written to a temporary file beside its destination and moved into place only when complete, so
a failed or interrupted run never leaves a half-written file where a good one stood.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

RUN_LOG = "run.json"  # beside each report: what made it, for the incremental batch and the index


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``path`` completely or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; reports are meant to be shared
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_run_log(folder: Path) -> dict | None:
    try:
        return json.loads((folder / RUN_LOG).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
