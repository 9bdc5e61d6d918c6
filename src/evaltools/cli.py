"""The ``evaltools`` command: a thin layer over the library.

Every command takes files or folders; bad input is reported as a message naming the file,
line and field, and the other projects go on. What else a user can cause (a folder that is a
file, a read-only disk, a name too long) is said in words with what to do; anything left is
one line and a hint to rerun with ``--debug`` for the traceback. Exit status: 0 all good, 1 an
error was found (in the data or a finding), 2 the command line itself was wrong.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from evaltools import __version__
from evaltools.domain.files import write_atomic
from evaltools.domain.checks import CHECKS, DEPARTMENT_CHECKS, SEVERITY_LABELS, Finding, check_project
from evaltools.errors import RenderError
from evaltools.run.serve.cli import add_commands as add_serve_commands
from evaltools.domain.files import os_error_message
from evaltools.domain.yamlio import ParamsError
from evaltools.domain.scoring import ScoreCard, as_dict, percent, score
from evaltools.domain.targets import plain_number
from evaltools.domain.workspace import LoadedProject, find_project_files, is_department_file, load_project

# Logs and pipes get a wide page rather than rich's 80 columns, so tables stay readable.
out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, highlight=False)

METHOD_LABELS = {"rule": "规则计算", "evaluator": "评价组打分", "missing": "缺数据"}


def _projects(paths: Sequence[str], rules: Sequence[str]) -> Iterator[LoadedProject | ParamsError]:
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


def _print_problems(exc: ParamsError) -> None:
    for problem in exc.problems:
        err.print(f"[red]错误[/red] {problem}", soft_wrap=True)


def cmd_check(args: argparse.Namespace) -> int:
    if args.list:
        for spec in [*CHECKS, *DEPARTMENT_CHECKS]:
            out.print(f"{spec.code:<18} {SEVERITY_LABELS[spec.severity]}  {spec.description}")
        return 0
    if not args.paths:
        err.print("请给出参数文件或文件夹，如 evaltools check params/")
        return 2
    projects = departments = errors = warnings = broken = 0
    report: list[dict] = []
    for item in _checked(args.paths, args.rules):
        if isinstance(item, ParamsError):
            broken += 1
            _print_problems(item)
            report.append({"problems": [str(p) for p in item.problems]})
            continue
        path, name, findings = item
        if is_department_file(path):
            departments += 1
        else:
            projects += 1
        errors += sum(f.severity == "error" for f in findings)
        warnings += sum(f.severity == "warning" for f in findings)
        if args.json:
            report.append({"file": str(path), "findings": [_finding_dict(f) for f in findings]})
        else:
            _print_findings(path, name, findings)
    if args.json:
        out.print_json(json.dumps(report, ensure_ascii=False))
    else:
        summary = f"{projects} 个项目" + (f"、{departments} 个部门整体报告" if departments else "") + \
            f"：{errors} 个错误，{warnings} 个提示"
        if broken:
            summary += f"；{broken} 个文件无法读取"
        out.print(summary)
    return 1 if errors or broken else 0


def _checked(paths: Sequence[str], rules: Sequence[str]) -> Iterator[tuple[Path, str, list[Finding]] | ParamsError]:
    """The findings of every project under ``paths``, then of every department report."""
    from evaltools.domain.checks import check_department
    from evaltools.domain.rollup import load_department
    from evaltools.domain.workspace import find_department_files

    for item in _projects(paths, rules):
        yield item if isinstance(item, ParamsError) else (item.path, item.params.project.name, check_project(item))
    for file in find_department_files(paths):
        try:
            department = load_department(file, rules)
        except ParamsError as exc:
            yield exc
            continue
        yield file, department.params.name, check_department(department)


def _finding_dict(finding: Finding) -> dict:
    return {"code": finding.code, "severity": finding.severity, "file": str(finding.file),
            "line": finding.line, "field": finding.field, "message": finding.message}


def _print_findings(path: Path, name: str, findings: list[Finding]) -> None:
    if not findings:
        out.print(f"[green]✓[/green] {path}：{name}，未发现问题")
        return
    out.print(f"[bold]{path}[/bold]：{name}")
    for finding in findings:
        colour = "red" if finding.severity == "error" else "yellow"
        where = f"{finding.file}:{finding.line}" if finding.line else str(finding.file)
        out.print(f"  [{colour}]{SEVERITY_LABELS[finding.severity]}[/{colour}] [{finding.code}] "
                  f"{where} {finding.field}：{finding.message}", soft_wrap=True)


def _score_table(project: LoadedProject, card: ScoreCard) -> Table:
    params, rules = project.params, project.rules
    table = Table(title=f"{params.project.name}（{params.year} 年度，{rules.name}）", title_justify="left")
    for column in ("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "评分方式"):
        table.add_column(column, justify="right" if column in ("分值", "得分") else "left")
    execution = card.execution
    table.add_row(rules.execution.label, "", f"执行率 {percent(execution.rate, rules)}", "", "",
                  plain_number(execution.weight), str(execution.score), METHOD_LABELS["rule"])
    for row in card.indicators:
        table.add_row(row.level1 or "?", row.level2, row.indicator.name, row.indicator.target,
                      str(row.actual) if row.actual else "", plain_number(row.weight), str(row.score),
                      METHOD_LABELS[row.method])
    table.add_section()
    table.add_row("总分", "", "", "", "", "100", f"[bold]{card.total}[/bold]", f"等级：[bold]{card.grade}[/bold]")
    return table


def cmd_score(args: argparse.Namespace) -> int:
    failed = 0
    results = []
    for item in _projects(args.paths, args.rules):
        if isinstance(item, ParamsError):
            failed += 1
            _print_problems(item)
            continue
        card = score(item.params, item.rules)
        if args.json:
            results.append({"file": str(item.path), "project": item.params.project.name,
                            "year": item.params.year, **as_dict(card, item.rules)})
        else:
            out.print(_score_table(item, card))
    if args.json:
        out.print_json(json.dumps(results, ensure_ascii=False))
    return 1 if failed else 0


def _formats(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


class _UsageError(Exception):
    """The command line asks for something impossible (exit status 2)."""


DEBUG_HINT = "加 --debug 重新运行可看到完整的出错位置（traceback）"


def _unexpected(exc: BaseException) -> str:
    """One line for an exception nobody foresaw: what it was, and how to see more."""
    if isinstance(exc, OSError):
        return os_error_message(exc)
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    return f"意外错误 {type(exc).__name__}: {first}（{DEBUG_HINT}）"


def _out_folder(out: str | None) -> Path | None:
    """``--out`` as a folder; one that is a file is the user's mistake, said as such."""
    if out is None:
        return None
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise _UsageError(f"--out {out} 是一个文件，应为文件夹（输出根目录）")
    return path


def cmd_run(args: argparse.Namespace) -> int:
    from evaltools.run.build import run

    failed = 0
    out_root = _out_folder(args.out)
    try:
        files = find_project_files(args.paths)
    except ParamsError as exc:
        _print_problems(exc)
        return 1
    # A department's _department.yaml named on the command line makes its 部门整体 report.
    files += [Path(p) for p in args.paths if is_department_file(Path(p))]
    for file in files:
        try:
            outputs = run(file, _formats(args.to), out_root, args.rules,
                          Path(args.notebook) if args.notebook else None, args.timeout, edition=args.edition)
        except ParamsError as exc:
            failed += 1
            _print_problems(exc)
            continue
        except RenderError as exc:
            failed += 1
            err.print(f"[red]失败[/red] {exc}", soft_wrap=True)
            continue
        except Exception as exc:  # this project's failure: the others still run
            if args.debug:
                raise
            failed += 1
            err.print(f"[red]失败[/red] {file}：{_unexpected(exc)}", soft_wrap=True)
            continue
        for warning in outputs.warnings:
            err.print(f"[yellow]提示[/yellow] {file}：笔记本输出了警告：{warning}", soft_wrap=True)
        written = "、".join(str(p) for p in [outputs.notebook, *outputs.files.values()])
        out.print(f"[green]✓[/green] {file} → {written}", soft_wrap=True)
    return 1 if failed else 0


def cmd_render(args: argparse.Namespace) -> int:
    from evaltools.run.export import render_file

    failed = 0
    for path in args.notebooks:
        try:
            written = render_file(path, _formats(args.to), args.edition)
        except RenderError as exc:
            failed += 1
            err.print(f"[red]失败[/red] {exc}", soft_wrap=True)
            continue
        except Exception as exc:
            if args.debug:
                raise
            failed += 1
            err.print(f"[red]失败[/red] {path}：{_unexpected(exc)}", soft_wrap=True)
            continue
        out.print(f"[green]✓[/green] {path} → {'、'.join(str(p) for p in written.values())}", soft_wrap=True)
    return 1 if failed else 0


class _BatchProgress:
    """A progress bar on a terminal; one plain line per project in logs and CI (on stderr
    when stdout carries JSON)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.bar = None
        self.task = None
        self.total = self.finished = 0
        self.counts = {"done": 0, "skipped": 0, "failed": 0}
        self.started = time.monotonic()

    def plan(self, total: int, to_run: int) -> None:
        self.total = total
        self.console.print(f"{total} 个项目，{to_run} 个需要生成，{total - to_run} 个未变或无法读取")
        if self.console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[status]}"), TimeElapsedColumn(),
                                TextColumn("{task.fields[rate]}"), console=self.console)
            self.task = self.bar.add_task("批处理", total=total, status="", rate="")
            self.bar.start()

    def result(self, result) -> None:
        self.finished += 1
        self.counts[result.status] += 1
        elapsed = time.monotonic() - self.started
        rate = f"{self.finished / elapsed * 60:.1f} 个/分钟" if elapsed > 0 else ""
        status = f"完成 {self.counts['done']} · 跳过 {self.counts['skipped']} · 失败 {self.counts['failed']}"
        if self.bar is not None:
            self.bar.update(self.task, advance=1, status=status, rate=rate)
            if result.status == "failed":
                self.bar.console.print(f"[red]失败[/red] {result.message}", soft_wrap=True)
        elif result.status == "skipped":
            pass  # counted in the plan's line: a year's unchanged projects would be a thousand lines
        else:
            shown = result.summary.get("shown", {})
            detail = f"{shown.get('total', '')} {shown.get('grade', '')}".strip()
            line = f"[{self.finished}/{self.total}] {result.label} {result.project_file}"
            if detail:
                line += f" {detail}"
            if result.duration:
                line += f"（{result.duration:.1f} 秒）"
            if result.status == "failed":
                line += f"：{result.message}"
            self.console.print(line, soft_wrap=True)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _batch_table(batch) -> Table:
    """What this batch made or failed to make; the unchanged projects are only counted."""
    skipped = batch.count("skipped")
    table = Table(title="批处理结果", title_justify="left",
                  caption=f"另有 {skipped} 个项目未变，已跳过" if skipped else None, caption_justify="left")
    for column in ("项目", "状态", "总分", "等级", "检查（错误/提示）", "用时", "说明"):
        table.add_column(column, justify="right" if column in ("总分", "用时") else "left", overflow="fold")
    for result in batch.results:
        if result.status == "skipped":
            continue
        summary = result.summary
        findings = f"{summary['errors']}/{summary['warnings']}" if summary else ""
        colour = {"failed": "red", "done": "green", "skipped": "dim"}[result.status]
        table.add_row(summary.get("name") or result.project_file, f"[{colour}]{result.label}[/{colour}]",
                      summary.get("shown", {}).get("total", ""), summary.get("shown", {}).get("grade", ""), findings,
                      f"{result.duration:.1f}s" if result.duration else "", result.message)
    return table


def cmd_batch(args: argparse.Namespace) -> int:
    from evaltools.run.batch import ClusterError, LockedError, as_json, run_batch

    out_root = _out_folder(args.out)
    said = err if args.json else out  # with --json, stdout is the JSON alone
    progress = _BatchProgress(said)
    try:
        batch = run_batch(args.paths, _formats(args.to), jobs=args.jobs, out_root=out_root,
                          rules_files=args.rules, notebook=Path(args.notebook) if args.notebook else None,
                          timeout=args.timeout, force=args.force, executor=args.executor, scheduler=args.scheduler,
                          warm=args.warm_kernels, edition=args.edition, on_plan=progress.plan,
                          on_result=progress.result)
    except LockedError as exc:
        err.print(f"[red]拒绝[/red] {exc}")
        return 1
    except ClusterError as exc:
        err.print(f"[red]错误[/red] {exc}", soft_wrap=True)
        return 1
    except RenderError as exc:
        err.print(f"[red]错误[/red] {exc}")
        return 1
    except ParamsError as exc:
        _print_problems(exc)
        return 1
    finally:
        progress.stop()
    if args.json:
        print(as_json(batch))
    elif batch.count("skipped") < len(batch.results):
        out.print(_batch_table(batch))
    summary = (f"完成 {batch.count('done')}，跳过 {batch.count('skipped')}，失败 {batch.count('failed')}，"
               f"用时 {time.monotonic() - progress.started:.1f} 秒"
               f"（规划 {batch.seconds['plan']:.2f} 秒，索引 {batch.seconds['index']:.2f} 秒）")
    said.print(summary)
    for overview in batch.overviews:
        if overview.status == "failed":
            err.print(f"[red]年度总览失败[/red] {overview.message}", soft_wrap=True)
        else:
            said.print(f"年度总览：{'、'.join(overview.files.values())}")
    for index in batch.indexes:
        said.print(f"评审索引：{index}")
    return 1 if batch.failed or any(r.status == "failed" for r in batch.overviews) else 0


def cmd_export_xlsx(args: argparse.Namespace) -> int:
    from evaltools.writers.xlsx import export_workbook

    projects, failed = [], 0
    for item in _projects(args.paths, args.rules):
        if isinstance(item, ParamsError):
            failed += 1
            _print_problems(item)
        else:
            projects.append((item.params, item.rules))
    if not projects:
        err.print("没有可导出的项目")
        return 1
    _may_write(Path(args.output), args.force)
    path = export_workbook(projects, args.output)
    out.print(f"[green]✓[/green] {len(projects)} 个项目 → {path}")
    return 1 if failed else 0


def _may_write(path: Path, force: bool) -> None:
    """Refuse to replace an existing file without ``--force`` (nothing is overwritten unasked)."""
    if path.is_dir():
        raise _UsageError(f"-o {path} 是一个文件夹，应为 .xlsx 文件")
    if path.exists() and not force:
        raise _UsageError(f"{path} 已存在，未覆盖；确认要替换请加 --force")


def cmd_import_xlsx(args: argparse.Namespace) -> int:
    from evaltools.writers.xlsx import read_workbook, write_params

    try:
        imported = read_workbook(args.workbook)
        for title in imported.skipped:
            out.print(f"跳过工作表“{title}”：不是自评表")
        written = write_params(imported.projects, Path(args.output), Path(args.workbook), force=args.force)
    except ParamsError as exc:
        _print_problems(exc)
        return 1
    for path in written:
        out.print(f"[green]✓[/green] {args.workbook} → {path}")
    return 0


def cmd_template_xlsx(args: argparse.Namespace) -> int:
    from evaltools.domain.rules import load_rules
    from evaltools.writers.xlsx import template_workbook

    try:
        rules = load_rules(*args.rules)
    except ParamsError as exc:
        _print_problems(exc)
        return 1
    _may_write(Path(args.output), args.force)
    out.print(f"[green]✓[/green] 空白自评表 → {template_workbook(rules, args.output)}")
    return 0


def cmd_table(args: argparse.Namespace) -> int:
    # pandas and pyarrow load only for this command: the others start faster without them.
    from evaltools.domain.frames import TABLE_FORMATS, UnreadableProject, read_indicators, read_projects, table_bytes

    output = Path(args.output)
    if output.suffix.lower() not in TABLE_FORMATS:
        err.print(f"[red]错误[/red] {output}：不支持的表格格式，扩展名应为 {'、'.join(TABLE_FORMATS)}")
        return 2
    if output.exists() and not args.force:
        err.print(f"[red]拒绝[/red] {output} 已存在；要覆盖请加 --force")
        return 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnreadableProject)
        try:
            frame = (read_indicators if args.indicators else read_projects)(args.paths, args.rules)
        except ParamsError as exc:
            _print_problems(exc)
            return 1
    skipped = [w for w in caught if issubclass(w.category, UnreadableProject)]
    for warning in skipped:
        err.print(f"[red]错误[/red] {warning.message}", soft_wrap=True)
    write_atomic(output, table_bytes(frame, output.suffix))
    kind = "个指标" if args.indicators else "个项目"
    out.print(f"[green]✓[/green] {len(frame)} {kind}，{len(frame.columns)} 列 → {output}")
    return 1 if skipped else 0


def cmd_new_year(args: argparse.Namespace) -> int:
    from evaltools.newyear import new_year

    try:
        result = new_year(args.source, args.target)
    except ParamsError as exc:
        _print_problems(exc)
        return 1
    for file in result.files:
        out.print(f"[green]✓[/green] {file.source} → {file.target}", soft_wrap=True)
        if file.carried:
            out.print(f"  结转：{'；'.join(file.carried)}", soft_wrap=True)
        if file.cleared:
            out.print(f"  [yellow]已清空、待填写[/yellow]：{'；'.join(file.cleared)}", soft_wrap=True)
    out.print(f"{len(result.files)} 个文件 → {result.target}；填写后运行 evaltools check {result.target}，"
              "它列出尚未填写的实际完成值、得分和文字")
    return 0


def lab_command(workspace: Path, port: int | None = None, browser: bool = True,
                allow_root: bool = False) -> tuple[list[str], dict[str, str]]:
    """The JupyterLab command line for ``workspace``, and its environment.

    JupyterLab runs from this environment, and the notebooks' ``python3`` kernel is found first
    in this environment's kernels, whose ``python`` jupyter_client takes as its own interpreter:
    the kernel that has evaltools, whatever other kernels the user has installed.
    """
    kernels = str(Path(sys.prefix) / "share" / "jupyter")
    env = {**os.environ, "JUPYTER_PATH": os.pathsep.join(p for p in (kernels, os.environ.get("JUPYTER_PATH")) if p)}
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={workspace}"]
    if port is not None:
        command.append(f"--ServerApp.port={port}")
    if not browser:
        command.append("--no-browser")
    if allow_root:
        command.append("--allow-root")
    return command, env


def cmd_lab(args: argparse.Namespace) -> int:
    workspace = Path(args.workspace).resolve()
    if not (workspace / "notebooks").is_dir():
        err.print(f"[red]错误[/red] {workspace}：不是 evaltools 工作区（没有 notebooks/ 文件夹）；请在工作区中运行，或给出它的路径")
        return 2
    command, env = lab_command(workspace, args.port, not args.no_browser, args.allow_root)
    out.print(f"JupyterLab：{workspace}（notebooks/ 中的笔记本用本环境的 Python 内核运行；Ctrl-C 退出）")
    out.file.flush()
    if os.name == "posix":  # JupyterLab takes this process's place: signals (Ctrl-C, stop) reach it directly
        os.execve(command[0], command, env)
    return subprocess.call(command, env=env)


def edition_option(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--edition", choices=("submission", "review"), default="submission",
                     help="PDF/Word 的版本：submission（提交版，默认：report.pdf、report.docx，不含审核提示和来源说明）"
                          "或 review（审阅版：report.review.pdf、report.review.docx）；HTML 总是审阅版")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="evaltools", description="预算绩效自评：校验参数、按规则评分、生成报告。",
    )
    parser.add_argument("--version", action="version", version=f"evaltools {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("paths", nargs="*", metavar="PATH", help="参数文件或文件夹（如 params/2024）")
        sub.add_argument("--rules", action="append", default=[], metavar="FILE",
                         help="额外的评分规则文件，叠加在 _rules.yaml 之上（可多次给出）")
        sub.add_argument("--json", action="store_true", help="以 JSON 输出，供程序读取")

    check = commands.add_parser("check", help="一致性检查：找出表中数字、文字、日期的矛盾")
    common(check)
    check.add_argument("--list", action="store_true", help="列出全部检查项")
    check.set_defaults(run=cmd_check)

    score_cmd = commands.add_parser("score", help="按评分规则计算各项得分、总分和等级")
    common(score_cmd)
    score_cmd.set_defaults(run=cmd_score)

    run_cmd = commands.add_parser("run", help="执行报告笔记本（papermill），输出 HTML 与 PDF")
    run_cmd.add_argument("paths", nargs="+", metavar="PATH", help="参数文件或文件夹")
    run_cmd.add_argument("--to", default="html,pdf", help="输出格式，逗号分隔：html,pdf,docx（默认 html,pdf）")
    edition_option(run_cmd)
    run_cmd.add_argument("--out", metavar="DIR", help="输出根目录（默认：工作区的 outputs/）")
    run_cmd.add_argument("--rules", action="append", default=[], metavar="FILE", help="额外的评分规则文件")
    run_cmd.add_argument("--notebook", metavar="IPYNB", help="另用一个报告笔记本（默认 notebooks/project_self_evaluation.ipynb）")
    run_cmd.add_argument("--timeout", type=int, default=600, help="每个单元的超时秒数（默认 600）")
    run_cmd.set_defaults(run=cmd_run)

    batch_cmd = commands.add_parser("batch", help="批量生成一个部门或一个年度的全部报告（并行、增量）")
    batch_cmd.add_argument("paths", nargs="+", metavar="PATH", help="年度或部门文件夹（如 params/2024），或参数文件")
    batch_cmd.add_argument("--jobs", "-j", type=int, default=None, help="并行的工作进程数（默认：CPU 核数）")
    batch_cmd.add_argument("--to", default="html,pdf", help="输出格式，逗号分隔：html,pdf,docx")
    edition_option(batch_cmd)
    batch_cmd.add_argument("--force", action="store_true", help="忽略记录的内容指纹，全部重新生成")
    batch_cmd.add_argument("--out", metavar="DIR", help="输出根目录（默认：工作区的 outputs/）")
    batch_cmd.add_argument("--rules", action="append", default=[], metavar="FILE", help="额外的评分规则文件")
    batch_cmd.add_argument("--notebook", metavar="IPYNB", help="另用一个报告笔记本")
    batch_cmd.add_argument("--timeout", type=int, default=600, help="每个单元的超时秒数（默认 600）")
    batch_cmd.add_argument("--warm-kernels", action=argparse.BooleanOptionalAction, default=True,
                           help="每个工作进程复用一个内核，每个报告前重置、出错即弃用（默认）；输出与新内核逐字节相同。"
                                "--no-warm-kernels：每个报告一个新内核")
    batch_cmd.add_argument("--executor", choices=("process", "dask"), default="process",
                           help="process：本机工作进程（默认）；dask：Dask 集群")
    batch_cmd.add_argument("--scheduler", metavar="ADDRESS", help="Dask 调度器地址，如 tcp://10.0.0.5:8786（不给则启动本机 LocalCluster）")
    batch_cmd.add_argument("--json", action="store_true", help="以 JSON 输出结果")
    batch_cmd.set_defaults(run=cmd_batch)

    export = commands.add_parser("export-xlsx", help="导出自评表到 Excel（官方版式，含公式；多个项目另有汇总表）")
    export.add_argument("paths", nargs="+", metavar="PATH", help="参数文件或文件夹")
    export.add_argument("-o", "--output", required=True, metavar="FILE.xlsx")
    export.add_argument("--rules", action="append", default=[], metavar="FILE", help="额外的评分规则文件")
    export.add_argument("--force", action="store_true", help="覆盖已有的文件")
    export.set_defaults(run=cmd_export_xlsx)

    importer = commands.add_parser("import-xlsx", help="从 Excel 自评表读回参数文件")
    importer.add_argument("workbook", metavar="FILE.xlsx")
    importer.add_argument("-o", "--output", required=True, metavar="PATH",
                          help="参数文件（.yaml，单个项目）或文件夹（每个工作表一个文件）")
    importer.add_argument("--force", action="store_true", help="覆盖已有的参数文件（其中手改的内容和注释会丢失）")
    importer.set_defaults(run=cmd_import_xlsx)

    template = commands.add_parser("template-xlsx", help="生成空白自评表（下拉列表、规则分值）")
    template.add_argument("-o", "--output", required=True, metavar="FILE.xlsx")
    template.add_argument("--rules", action="append", default=[], metavar="FILE", help="评分规则文件（默认全国规则）")
    template.add_argument("--force", action="store_true", help="覆盖已有的文件")
    template.set_defaults(run=cmd_template_xlsx)

    table = commands.add_parser("table", help="把一个年度（或部门、文件）导出为数据表：每个项目一行，或每个指标一行")
    table.add_argument("paths", nargs="+", metavar="PATH", help="年度或部门文件夹，或参数文件")
    table.add_argument("-o", "--output", required=True, metavar="FILE",
                       help="输出文件，格式由扩展名决定：.csv（UTF-8 带 BOM）、.xlsx、.parquet")
    table.add_argument("--indicators", action="store_true", help="每个指标一行（默认每个项目一行）")
    table.add_argument("--rules", action="append", default=[], metavar="FILE", help="额外的评分规则文件")
    table.add_argument("--force", action="store_true", help="覆盖已有的输出文件")
    table.set_defaults(run=cmd_table)

    lab = commands.add_parser("lab", help="在 JupyterLab 中打开工作区（笔记本使用本环境的内核，即装有 evaltools 的 Python）")
    lab.add_argument("workspace", nargs="?", default=".", metavar="WORKSPACE",
                     help="工作区文件夹（含 params/ 与 notebooks/；默认当前文件夹）")
    lab.add_argument("--port", type=int, default=None, help="端口（默认 8888，被占用时顺延）")
    lab.add_argument("--no-browser", action="store_true", help="不打开浏览器（只打印网址）")
    lab.add_argument("--allow-root", action="store_true", help="允许以 root 运行（如在容器中）")
    lab.set_defaults(run=cmd_lab)

    year = commands.add_parser("new-year", help="由一个年度的参数文件开始下一年度：结转部门、项目、指标值，清空须重新填写的内容")
    year.add_argument("source", metavar="FROM", help="已有的年度文件夹，如 params/2024")
    year.add_argument("target", metavar="TO", help="新年度文件夹，如 params/2025（不得已存在）")
    year.set_defaults(run=cmd_new_year)

    render_cmd = commands.add_parser("render", help="把已执行的笔记本重新渲染为 HTML/PDF/Word，不再执行")
    render_cmd.add_argument("notebooks", nargs="+", metavar="EXECUTED.ipynb")
    render_cmd.add_argument("--to", default="html,pdf", help="输出格式，逗号分隔：html,pdf,docx（默认 html,pdf）")
    edition_option(render_cmd)
    render_cmd.set_defaults(run=cmd_render)
    add_serve_commands(commands)  # serve, reviews: evaltools.run.serve.cli
    debug_help = "出错时显示完整的 traceback（供报告问题）"
    parser.add_argument("--debug", action="store_true", help=debug_help)
    for sub in commands.choices.values():  # accepted after the command too
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=debug_help)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "score" and not args.paths:
        parser.error("score 需要参数文件或文件夹")
    try:
        return args.run(args)
    except KeyboardInterrupt:
        err.print("已中断")
        return 130
    except _UsageError as exc:
        err.print(f"[red]错误[/red] {exc}", soft_wrap=True)
        return 2
    except ParamsError as exc:
        _print_problems(exc)
        return 1
    except RenderError as exc:
        err.print(f"[red]失败[/red] {exc}", soft_wrap=True)
        return 1
    except Exception as exc:  # the promise: never a traceback, unless asked for
        if args.debug:
            raise
        err.print(f"[red]错误[/red] {_unexpected(exc)}", soft_wrap=True)
        if isinstance(exc, OSError):
            err.print(f"（{DEBUG_HINT}）")
        return 1


if __name__ == "__main__":
    sys.exit(main())
