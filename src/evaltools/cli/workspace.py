"""Commands on the workspace itself: ``lab`` (JupyterLab on it) and ``new-year``."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from evaltools.cli.console import err, out, styled
from evaltools.cli.common import print_problems
from evaltools.domain.yamlio import ParamsError
from evaltools.newyear import new_year

DEFAULT_PORT = 8888


def cmd_new_year(args: argparse.Namespace) -> int:
    try:
        result = new_year(args.source, args.target)
    except ParamsError as exc:
        print_problems(exc)
        return 1
    for file in result.files:
        out.print(styled("[green]✓[/green] {} → {}", file.source, file.target), soft_wrap=True)
        if file.carried:
            out.print(f"  结转：{'；'.join(file.carried)}", soft_wrap=True)
        if file.cleared:
            out.print(styled("  [yellow]已清空、待填写[/yellow]：{}", "；".join(file.cleared)), soft_wrap=True)
    out.print(f"{len(result.files)} 个文件 → {result.target}；填写后运行 evaltools check {result.target}，"
              "它按文件列出尚未填写的内容（预算、日期、实际完成值、得分和文字）")
    return 0


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def free_port(start: int = DEFAULT_PORT, tries: int = 50) -> int:
    """The first port from ``start`` nobody listens on (JupyterLab's own rule), chosen here so
    that the address can be said before JupyterLab starts."""
    for port in range(start, start + tries):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    return start


def _given(options: Sequence[str], name: str) -> str | None:
    """The value of ``--ServerApp.<name>=…`` (or ``--<name>=…``) among JupyterLab's own options."""
    for option in options:
        key, _, value = option.partition("=")
        if key.lstrip("-") in (f"ServerApp.{name}", name):
            return value
    return None


def lab_command(workspace: Path, port: int | None = None, browser: bool = True, allow_root: bool = False,
                extra: Sequence[str] = ()) -> tuple[list[str], dict[str, str]]:
    """The JupyterLab command line for ``workspace``, and its environment.

    JupyterLab runs from this environment, and the notebooks' ``python3`` kernel is found first
    in this environment's kernels, whose ``python`` jupyter_client takes as its own interpreter:
    the kernel that has evaltools, whatever other kernels the user has installed. ``extra`` are
    JupyterLab's own options, passed as they are (and last, so they win).
    """
    kernels = str(Path(sys.prefix) / "share" / "jupyter")
    env = {**os.environ, "JUPYTER_PATH": os.pathsep.join(p for p in (kernels, os.environ.get("JUPYTER_PATH")) if p)}
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={workspace}",
               # the shipped report notebooks open read-only: an analyst works on a copy (see lab_contents)
               "--ServerApp.contents_manager_class=evaltools.cli.lab_contents.WorkspaceContents"]
    if port is not None:
        command.append(f"--ServerApp.port={port}")
    if not browser:
        command.append("--no-browser")
    if allow_root or is_root():  # containers run as root; JupyterLab refuses it unless told
        command.append("--allow-root")
    return command + list(extra), env


def cmd_lab(args: argparse.Namespace) -> int:
    workspace = Path(args.workspace).resolve()
    if not (workspace / "notebooks").is_dir():
        err.print(styled("[red]错误[/red] {}：不是 evaltools 工作区（没有 notebooks/ 文件夹）；请在工作区中运行，或给出它的路径",
                         workspace))
        return 2
    extra = list(args.jupyter_options)
    port = args.port
    if port is None and _given(extra, "port") is None:
        port = free_port()
    shown_port = _given(extra, "port") or port
    host = _given(extra, "ip") or "localhost"
    command, env = lab_command(workspace, port, not args.no_browser, args.allow_root, extra)
    out.print(f"JupyterLab：{workspace}，网址 http://{host}:{shown_port}/lab（登录令牌见下方 JupyterLab 的输出）；"
              "notebooks/ 中的笔记本用本环境的 Python 内核运行；Ctrl-C 退出")
    out.file.flush()
    if os.name == "posix":  # JupyterLab takes this process's place: signals (Ctrl-C, stop) reach it directly
        os.execve(command[0], command, env)
    return subprocess.call(command, env=env)


def register(commands: argparse._SubParsersAction) -> None:
    lab = commands.add_parser(
        "lab", help="在 JupyterLab 中打开工作区（笔记本使用本环境的内核，即装有 evaltools 的 Python）",
        description="在 JupyterLab 中打开工作区。JupyterLab 自己的选项（如 --ServerApp.token=…）原样传给它；"
                    "以 root 运行时自动加 --allow-root。")
    lab.add_argument("workspace", nargs="?", default=".", metavar="工作区",
                     help="工作区文件夹（含 params/ 与 notebooks/；默认当前文件夹）")
    lab.add_argument("--port", type=int, default=None, metavar="端口", help="端口（默认 8888，被占用时顺延）")
    lab.add_argument("--no-browser", action="store_true", help="不打开浏览器（只打印网址）")
    lab.add_argument("--allow-root", action="store_true", help="允许以 root 运行（以 root 运行时自动加上）")
    lab.set_defaults(run=cmd_lab, jupyter_options=[])

    year = commands.add_parser("new-year", help="由一个年度的参数文件开始下一年度：结转部门、项目、指标值，清空须重新填写的内容",
                               description="由一个年度的参数文件开始下一年度：结转部门、项目、指标值（注释与键的顺序保留），"
                                           "清空须重新填写的内容")
    year.add_argument("source", metavar="原年度", help="已有的年度文件夹，如 params/2024")
    year.add_argument("target", metavar="新年度", help="新年度文件夹，如 params/2025（不得已存在）")
    year.set_defaults(run=cmd_new_year)
