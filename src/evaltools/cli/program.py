"""``evaltools``'s commands parsed and run: :func:`main` (see the package's docstring)."""

from __future__ import annotations

from collections.abc import Sequence

from evaltools.cli.console import err, styled
from evaltools.cli.common import DEBUG_HINT, UsageError, print_problems, unexpected
from evaltools.cli.parser import build_parser
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
        err.print(styled("[red]错误[/red] {}", exc), soft_wrap=True)
        return 2
    except ParamsError as exc:
        print_problems(exc)
        return 1
    except RenderError as exc:
        err.print(styled("[red]失败[/red] {}", exc), soft_wrap=True)
        return 1
    except Exception as exc:  # the promise: never a traceback, unless asked for
        if args.debug:
            raise
        err.print(styled("[red]错误[/red] {}", unexpected(exc)), soft_wrap=True)
        if isinstance(exc, OSError):
            err.print(f"（{DEBUG_HINT}）")
        return 1
