"""The command line's grammar in the user's language: argparse with Chinese usage lines,
headings, help and errors (argparse's own words are English).

Each command group registers its subcommands (``register(commands)``); a new command is a
new module whose ``register`` is added to the groups in :func:`build_parser`.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from typing import NoReturn

from evaltools import __version__
from evaltools.cli.data import register as data_commands
from evaltools.cli.reports import register as report_commands
from evaltools.cli.workbook import register as workbook_commands
from evaltools.cli.workspace import register as workspace_commands
from evaltools.cli.common import DEBUG_HELP
from evaltools.cli.serve import add_commands as serve_commands

HELP = "显示本帮助并退出"

# argparse's messages (Python 3.11–3.13), in the words the rest of the command speaks.
_ERRORS: list[tuple[str, str]] = [
    (r"the following arguments are required: (.*)", r"缺少参数：\1"),
    (r"unrecognized arguments: (.*)", r"不认识的参数：\1"),
    (r"argument (.+?): invalid choice: (.+?) \(choose from (.*)\)", r"参数 \1：无效的取值 \2（可选：\3）"),
    (r"argument (.+?): invalid (\w+) value: (.*)", r"参数 \1：应为 \2 类型的值，实际为 \3"),
    (r"argument (.+?): expected one argument", r"参数 \1 后面需要一个值"),
    (r"argument (.+?): expected at least one argument", r"参数 \1 后面至少需要一个值"),
    (r"argument (.+?): expected (.*) arguments?", r"参数 \1 的值的个数不对（应为 \2 个）"),
    (r"argument (.+?): not allowed with argument (.*)", r"参数 \1 不能与 \2 同时使用"),
    (r"argument (.+?): ignored explicit argument (.*)", r"参数 \1 不接受取值 \2"),
    (r"ambiguous option: (.+?) could match (.*)", r"选项 \1 不明确，可能是：\2"),
    (r"one of the arguments (.*) is required", r"需要以下参数之一：\1"),
]


def translate(message: str) -> str:
    for pattern, replacement in _ERRORS:
        translated, count = re.subn(f"^{pattern}$", replacement, message)
        if count:
            return translated
    return message


class Formatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):  # noqa: ANN001 - argparse's signature
        super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose every word the user sees is Chinese."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - argparse's signature
        add_help = kwargs.pop("add_help", True)
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "位置参数"
        self._optionals.title = "选项"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help=HELP)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}：错误：{translate(message)}\n")


Register = Callable[[argparse._SubParsersAction], None]


def build_parser() -> Parser:
    parser = Parser(prog="evaltools", description="预算绩效自评：校验参数、按规则评分、生成报告。")
    parser.add_argument("--version", action="version", version=f"evaltools {__version__}", help="显示版本号并退出")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    commands = parser.add_subparsers(title="命令", dest="command", required=True, metavar="命令", parser_class=Parser)
    groups: list[Register] = [data_commands, report_commands, workbook_commands, workspace_commands, serve_commands]
    for register in groups:
        register(commands)
    for sub in commands.choices.values():  # accepted after the command too
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
    return parser

