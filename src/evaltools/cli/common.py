"""What every command shares: the consoles, the options, and the way problems are said."""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from pathlib import Path

from evaltools.cli.console import err, styled
from evaltools.domain.files import os_error_message
from evaltools.domain.workspace import LoadedProject, find_project_files, load_project
from evaltools.domain.yamlio import ParamsError


DEBUG_HELP = "出错时显示完整的 traceback（供报告问题）"
DEBUG_HINT = "加 --debug 重新运行可看到完整的出错位置（traceback）"


class UsageError(Exception):
    """The command line asks for something impossible (exit status 2)."""


def projects(paths: Sequence[str], rules: Sequence[str]) -> Iterator[LoadedProject | ParamsError]:
    """Each project under ``paths``, or the error that stopped it from loading."""
    files = []
    for path in paths:  # a path that is wrong does not stop the others
        try:
            files += find_project_files([path])
        except ParamsError as exc:
            yield exc
    for file in dict.fromkeys(files):
        try:
            yield load_project(file, rules)
        except ParamsError as exc:
            yield exc


def print_problems(exc: ParamsError) -> None:
    for problem in exc.problems:
        err.print(styled("[red]错误[/red] {}", problem), soft_wrap=True)


def formats(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def unexpected(exc: BaseException) -> str:
    """One line for an exception nobody foresaw: what it was, and how to see more."""
    if isinstance(exc, OSError):
        return os_error_message(exc)
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    return f"意外错误 {type(exc).__name__}: {first}（{DEBUG_HINT}）"


def out_folder(value: str | None) -> Path | None:
    """``--out`` as a folder; one that is a file is the user's mistake, said as such."""
    if value is None:
        return None
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise UsageError(f"--out {value} 是一个文件，应为文件夹（输出根目录）")
    return path


def may_write(path: Path, force: bool) -> None:
    """Refuse to replace an existing file without ``--force`` (nothing is overwritten unasked)."""
    if path.is_dir():
        raise UsageError(f"-o {path} 是一个文件夹，应为 .xlsx 文件")
    if path.exists() and not force:
        raise UsageError(f"{path} 已存在，未覆盖；确认要替换请加 --force")


def rules_option(sub: argparse.ArgumentParser, help: str = "额外的评分规则文件，叠加在 _rules.yaml 之上（可多次给出）") -> None:
    sub.add_argument("--rules", action="append", default=[], metavar="文件", help=help)


def force_option(sub: argparse.ArgumentParser, help: str = "覆盖已有的文件") -> None:
    sub.add_argument("--force", action="store_true", help=help)


def edition_option(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--edition", choices=("submission", "review"), default="submission",
                     help="PDF/Word 的版本：submission（提交版，默认：report.pdf、report.docx，不含审核提示和来源说明）"
                          "或 review（审阅版：report.review.pdf、report.review.docx）；HTML 总是审阅版")
    sub.add_argument("--pdf-standard", choices=("a-2b",), default=None, metavar="标准",
                     help="PDF 的标准：a-2b 输出 PDF/A-2b（档案系统要求的长期保存格式）；默认普通 PDF")


def paths_argument(sub: argparse.ArgumentParser, required: bool = True,
                   help: str = "参数文件或文件夹（如 params/2024）") -> None:
    sub.add_argument("paths", nargs="+" if required else "*", metavar="路径", help=help)


def run_options(sub: argparse.ArgumentParser) -> None:
    """What ``run`` and ``batch`` share: formats, edition, outputs, rules, notebook, timeout."""
    sub.add_argument("--to", default="html,pdf", metavar="格式", help="输出格式，逗号分隔：html,pdf,docx（默认 html,pdf）")
    edition_option(sub)
    sub.add_argument("--out", metavar="文件夹", help="输出根目录（默认：工作区的 outputs/）")
    rules_option(sub)
    sub.add_argument("--notebook", metavar="笔记本.ipynb", help="另用一个报告笔记本（默认 notebooks/project_self_evaluation.ipynb）")
    sub.add_argument("--timeout", type=int, default=600, metavar="秒数", help="每个单元的超时秒数（默认 600）")
