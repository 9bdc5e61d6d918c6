"""The ``evaltools`` command: a thin layer over the library.

Every command takes files or folders; bad input is reported as a message naming the file,
line and field, and the other projects go on. What else a user can cause (a folder that is a
file, a read-only disk, a name too long) is said in words with what to do; anything left is
one line and a hint to rerun with ``--debug`` for the traceback. Exit status: 0 all good, 1 an
error was found (in the data or a finding), 2 the command line itself was wrong, 3 ``batch``
made every report but some are drafts (see ``evaltools batch --help``), 130 interrupted.

The commands live by group: :mod:`~evaltools.cli.data` (check, score, table),
:mod:`~evaltools.cli.reports` (run, batch, render), :mod:`~evaltools.cli.workbook` (the Excel
commands), :mod:`~evaltools.cli.workspace` (lab, new-year), :mod:`~evaltools.cli.serve` (serve, reviews);
:mod:`~evaltools.cli.console` is where they print; :mod:`~evaltools.cli.parser` assembles them and speaks argparse's part in Chinese,
:mod:`~evaltools.cli.program` runs one, and :mod:`~evaltools.cli.head_start` reads a batch's command line
before any of them loads.
"""

from __future__ import annotations

import gc
import importlib
import sys

from evaltools.cli import head_start


def entry() -> None:
    """The ``evaltools`` program: :func:`main`, then exit with its status."""
    try:
        head_start.start(sys.argv[1:])  # before the command's modules load: see head_start
        status = importlib.import_module("evaltools.cli.program").main()
    except KeyboardInterrupt:  # while loading, before the command can say it itself
        print("已中断", file=sys.stderr)
        status = 130
    finally:
        head_start.stop()
    # The process ends here: what is alive is frozen first, so that the interpreter's last
    # collection does not walk it (0.1 s after a batch).
    gc.freeze()
    sys.exit(status)


# The commands, imported at their first use: the program starts a year overview's kernel first.
_COMMANDS = {"main": "program", "build_parser": "parser", "edition_option": "common", "lab_command": "workspace"}


def __getattr__(name: str):
    if name in _COMMANDS:
        return getattr(importlib.import_module(f"evaltools.cli.{_COMMANDS[name]}"), name)
    raise AttributeError(f"module 'evaltools.cli' has no attribute {name!r}")


__all__ = ["build_parser", "edition_option", "entry", "lab_command", "main"]

if __name__ == "__main__":
    entry()
