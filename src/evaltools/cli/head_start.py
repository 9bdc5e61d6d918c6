"""A batch's head start: the year overview's kernel started before the command's modules load.

After one change in a year of a thousand projects, the year overview is the report made last,
and its kernel (0.8 s to start) is the first thing it waits for. ``evaltools batch`` loads its
modules for half a second or more before it can read its arguments; this module, light to
import, reads them first: where the command is a batch over a year folder whose overview was
made before, the kernel starts now, while the rest loads. A guess from the command line only:
the batch, once it has parsed it, keeps the kernel where its own rule wants one
(:func:`evaltools.run.batch.runner.run_batch`) and stops it where not; :func:`stop`
stops one nobody took, however the command ends.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

from evaltools.domain.files import RUN_LOG
from evaltools.domain.layout import workspace_root, year_folders
from evaltools.writers.formats import OVERVIEW, OVERVIEW_ROWS

# What the batch names the overview's run log (evaltools.run.kinds.OVERVIEW_KIND.log).
OVERVIEW_LOG = f"{OVERVIEW}.{RUN_LOG}"
# Options after which a batch wants no kernel started for its overview beforehand: everything
# made again, no warm kernels, or other executors (their workers start their own).
_UNWANTED = {"--force", "--no-warm-kernels", "--executor", "--scheduler"}


def start(argv: Sequence[str]) -> bool:
    """Start the year overview's kernel now if ``argv`` (the command line's arguments) asks for
    a batch over a year made before; whether one was started. Never fails: a head start only."""
    try:
        made = _made_before(argv)
    except Exception:  # noqa: BLE001  (an odd command line: the batch says what is wrong with it)
        return False
    if made is not None:
        with suppress(Exception):  # the batch starts the kernel itself, and says what fails
            # jupyter_client, only where a kernel is started (0.14 s for every other command)
            importlib.import_module("evaltools.run.kernels").reserve_kernel(ahead=made)
            return True
    return False


def stop() -> None:
    """Stop a kernel started by :func:`start` that no batch took (the command failed or
    was interrupted before its batch began)."""
    kernels = sys.modules.get("evaltools.run.kernels")  # none imported: none started
    if kernels is not None:
        kernels.release_reserved()


def _made_before(argv: Sequence[str]) -> tuple[Path, Path] | None:
    """Where ``argv`` is ``batch`` over a year folder whose overview's run log exists: that
    folder, and the overview's rows cache (which the overview's kernel reads the year with,
    as it starts)."""
    words = [w for w in argv if w != "--debug"]
    if not words or words[0] != "batch" or _UNWANTED & {w.split("=", 1)[0] for w in words}:
        return None
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--out")
    given, _ = parser.parse_known_args(words[1:])  # the values of other options may land in paths: not folders
    for year in year_folders(given.paths):
        outputs = Path(given.out) if given.out else workspace_root(year / "_") / "outputs"
        if (outputs / year.name / OVERVIEW_LOG).is_file():
            return year.absolute(), (outputs / year.name / OVERVIEW_ROWS).absolute()
    return None
