"""The ``evaltools`` command: a thin layer over the library.

Every command takes files or folders; bad input is reported as a message naming the file,
line and field, and the other projects go on. What else a user can cause (a folder that is a
file, a read-only disk, a name too long) is said in words with what to do; anything left is
one line and a hint to rerun with ``--debug`` for the traceback. Exit status: 0 all good, 1 an
error was found (in the data or a finding), 2 the command line itself was wrong, 3 ``batch``
made every report but some are drafts (see ``evaltools batch --help``), 130 interrupted.

The commands live by group: :mod:`~evaltools.cli.data` (check, score, table),
:mod:`~evaltools.cli.reports` (run, batch, render), :mod:`~evaltools.cli.workbook` (the Excel
commands), :mod:`~evaltools.cli.workspace` (lab, new-year), and serve and reviews from
:mod:`evaltools.run.serve.cli`; :mod:`~evaltools.cli.parser` assembles them and speaks argparse's part in Chinese.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence

from evaltools.cli.common import DEBUG_HINT, UsageError, edition_option, err, print_problems, unexpected
from evaltools.cli.parser import build_parser
from evaltools.cli.workspace import lab_command
from evaltools.domain.yamlio import ParamsError
from evaltools.errors import RenderError

PASSES_THROUGH = {"lab"}  # commands whose unknown options belong to the program they start


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        if args.command not in PASSES_THROUGH:
            parser.error(f"不认识的参数：{' '.join(unknown)}")
        args.jupyter_options = unknown
    try:
        return args.run(args)
    except KeyboardInterrupt:
        err.print("已中断")
        return 130
    except UsageError as exc:
        err.print(f"[red]错误[/red] {exc}", soft_wrap=True)
        return 2
    except ParamsError as exc:
        print_problems(exc)
        return 1
    except RenderError as exc:
        err.print(f"[red]失败[/red] {exc}", soft_wrap=True)
        return 1
    except Exception as exc:  # the promise: never a traceback, unless asked for
        if args.debug:
            raise
        err.print(f"[red]错误[/red] {unexpected(exc)}", soft_wrap=True)
        if isinstance(exc, OSError):
            err.print(f"（{DEBUG_HINT}）")
        return 1


def entry() -> None:
    """The ``evaltools`` program: :func:`main`, then exit with its status."""
    status = main()
    # The process ends here: what is alive is frozen first, so that the interpreter's last
    # collection does not walk it (0.1 s after a batch).
    gc.freeze()
    sys.exit(status)


__all__ = ["build_parser", "edition_option", "entry", "lab_command", "main"]

if __name__ == "__main__":
    entry()
