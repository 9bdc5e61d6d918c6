"""Commands that make reports: ``run`` (one by one), ``batch`` (in parallel, incremental) and
``render`` (an executed notebook again, without executing it).

The run machinery (papermill, nbconvert, the batch's lock) is imported inside each command:
``check`` and ``score`` start without it, and where there is no ``fcntl`` (Windows).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from evaltools.cli.console import err, out, styled
from evaltools.cli.common import (
    edition_option,
    force_option,
    formats,
    out_folder,
    paths_argument,
    print_problems,
    run_options,
    unexpected,
)
from evaltools.domain.workspace import find_project_files, is_department_file
from evaltools.domain.yamlio import ParamsError
from evaltools.errors import RenderError
from evaltools.writers.draft import draft_of

DRAFTS_EXIT = 3  # the reports were made, but some are drafts (their files have check errors)


def cmd_run(args: argparse.Namespace) -> int:
    from evaltools.run.build import run  # papermill and nbconvert: only for the commands that render

    failed = drafts = 0
    out_root = out_folder(args.out)
    try:
        files = find_project_files(args.paths)
    except ParamsError as exc:
        print_problems(exc)
        return 1
    # A department's _department.yaml named on the command line makes its 部门整体 report.
    files += [Path(p) for p in args.paths if is_department_file(Path(p))]
    for file in files:
        try:
            outputs = run(file, formats(args.to), out_root, args.rules,
                          Path(args.notebook) if args.notebook else None, args.timeout, edition=args.edition,
                          pdf_standard=args.pdf_standard)
        except ParamsError as exc:
            failed += 1
            print_problems(exc)
            continue
        except RenderError as exc:
            failed += 1
            err.print(styled("[red]失败[/red] {}", exc), soft_wrap=True)
            continue
        except Exception as exc:  # this project's failure: the others still run
            if args.debug:
                raise
            failed += 1
            err.print(styled("[red]失败[/red] {}：{}", file, unexpected(exc)), soft_wrap=True)
            continue
        for warning in outputs.warnings:
            err.print(styled("[yellow]提示[/yellow] {}：笔记本输出了警告：{}", file, warning), soft_wrap=True)
        written = "、".join(str(p) for p in [outputs.notebook, *outputs.files.values()])
        out.print(styled("[green]✓[/green] {} → {}", file, written), soft_wrap=True)
        draft = draft_of(json.loads(outputs.notebook.read_text(encoding="utf-8")))
        if draft:
            drafts += 1
            out.print(styled("  [yellow]草稿[/yellow]：参数文件有 {} 个检查错误（{}），提交版标有“草稿”，不能提交；"
                             "evaltools check 列出错误", draft["errors"], "、".join(draft["codes"])), soft_wrap=True)
    if failed:
        return 1
    return DRAFTS_EXIT if drafts and not args.drafts_ok else 0


def cmd_render(args: argparse.Namespace) -> int:
    from evaltools.run.export import render_file  # nbconvert: only for the commands that render

    failed = 0
    for path in args.notebooks:
        try:
            written = render_file(path, formats(args.to), args.edition, args.pdf_standard)
        except RenderError as exc:
            failed += 1
            err.print(styled("[red]失败[/red] {}", exc), soft_wrap=True)
            continue
        except Exception as exc:
            if args.debug:
                raise
            failed += 1
            err.print(styled("[red]失败[/red] {}：{}", path, unexpected(exc)), soft_wrap=True)
            continue
        out.print(styled("[green]✓[/green] {} → {}", path, '、'.join(str(p) for p in written.values())), soft_wrap=True)
    return 1 if failed else 0


def is_draft(result) -> bool:
    """A report made (now or before) from files with check errors: its submission edition is a draft."""
    return result.status in ("done", "skipped") and bool(result.summary.get("errors"))


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
                self.bar.console.print(styled("[red]失败[/red] {}", result.message), soft_wrap=True)
        elif result.status == "skipped":
            pass  # counted in the plan's line: a year's unchanged projects would be a thousand lines
        else:
            shown = result.summary.get("shown", {})
            detail = f"{shown.get('total', '')} {shown.get('grade', '')}".strip()
            line = f"[{self.finished}/{self.total}] {result.label} {result.project_file}"
            if detail:
                line += f" {detail}"
            if is_draft(result):
                line += f"（草稿：{result.summary['errors']} 个检查错误）"
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
        label = f"{result.label}（草稿）" if is_draft(result) else result.label
        table.add_row(summary.get("name") or result.project_file, styled(f"[{colour}]{{}}[/{colour}]", label),
                      summary.get("shown", {}).get("total", ""), summary.get("shown", {}).get("grade", ""), findings,
                      f"{result.duration:.1f}s" if result.duration else "", result.message)
    return table


def _batch_summary(batch, drafts: int, seconds: float) -> str:
    summary = f"完成 {batch.count('done')}，跳过 {batch.count('skipped')}，失败 {batch.count('failed')}"
    if drafts:
        summary += f"，其中草稿 {drafts}（文件有检查错误：提交版标有“草稿”，不能提交；evaltools check 列出错误）"
    return summary + (f"，用时 {seconds:.1f} 秒"
                      f"（规划 {batch.seconds['plan']:.2f} 秒，索引 {batch.seconds['index']:.2f} 秒）")


def cmd_batch(args: argparse.Namespace) -> int:
    # filelock: not on every command
    from evaltools.run.batch import BatchSettings, ClusterError, Interrupted, LockedError, as_json, run_batch

    said = err if args.json else out  # with --json, stdout is the JSON alone
    progress = _BatchProgress(said)
    try:
        settings = BatchSettings(formats=tuple(formats(args.to)), edition=args.edition, pdf_standard=args.pdf_standard,
                                 timeout=args.timeout,
                                 warm=args.warm_kernels, notebook=Path(args.notebook) if args.notebook else None,
                                 rules_files=tuple(args.rules), jobs=args.jobs, out_root=out_folder(args.out),
                                 force=args.force, executor=args.executor, scheduler=args.scheduler)
        batch = run_batch(args.paths, settings, on_plan=progress.plan, on_result=progress.result)
    except Interrupted as exc:
        progress.stop()
        err.print(str(exc), soft_wrap=True)
        return 130
    except LockedError as exc:
        err.print(styled("[red]拒绝[/red] {}", exc))
        return 1
    except (ClusterError, RenderError) as exc:
        err.print(styled("[red]错误[/red] {}", exc), soft_wrap=True)
        return 1
    except ParamsError as exc:
        print_problems(exc)
        return 1
    finally:
        progress.stop()
    if args.json:
        print(as_json(batch))
    elif batch.count("skipped") < len(batch.results):
        out.print(_batch_table(batch))
    drafts = sum(is_draft(r) for r in batch.results)
    said.print(_batch_summary(batch, drafts, time.monotonic() - progress.started))
    for overview in batch.overviews:
        if overview.status == "failed":
            err.print(styled("[red]年度总览失败[/red] {}", overview.message), soft_wrap=True)
        else:
            said.print(f"年度总览：{'、'.join(overview.files.values())}")
    for index in batch.indexes:
        said.print(f"评审索引：{index}")
    if batch.failed or any(r.status == "failed" for r in batch.overviews):
        return 1
    return DRAFTS_EXIT if drafts and not args.drafts_ok else 0


def _drafts_option(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--drafts-ok", action="store_true",
                     help=f"有草稿（参数文件有检查错误的报告）时退出状态仍为 0（默认为 {DRAFTS_EXIT}）")


def register(commands: argparse._SubParsersAction) -> None:
    run_cmd = commands.add_parser("run", help="执行报告笔记本（papermill），输出 HTML 与 PDF",
                                  description="逐个执行报告笔记本（papermill），输出 HTML、PDF（及 Word）。退出状态：0 全部完成；"
                                              f"1 有报告失败；{DRAFTS_EXIT} 报告都已生成，但有草稿（加 --drafts-ok 则为 0）")
    paths_argument(run_cmd, help="参数文件或文件夹；部门的 _department.yaml 生成部门整体报告")
    run_options(run_cmd)
    _drafts_option(run_cmd)
    run_cmd.set_defaults(run=cmd_run)

    batch_cmd = commands.add_parser(
        "batch", help="批量生成一个部门或一个年度的全部报告（并行、增量）",
        description="批量生成一个部门或一个年度的全部报告（并行、增量）。退出状态：0 全部完成；1 有报告失败；"
                    f"{DRAFTS_EXIT} 报告都已生成，但有草稿（参数文件有检查错误，提交版标有“草稿”），加 --drafts-ok 则为 0")
    paths_argument(batch_cmd, help="年度或部门文件夹（如 params/2024），或参数文件")
    batch_cmd.add_argument("--jobs", "-j", type=int, default=None, metavar="个数", help="并行的工作进程数（默认：CPU 核数）")
    run_options(batch_cmd)
    force_option(batch_cmd, "忽略记录的内容指纹，全部重新生成")
    warm = batch_cmd.add_argument("--warm-kernels", action=argparse.BooleanOptionalAction, default=True)
    # Set after: BooleanOptionalAction appends an English "(default: True)" to a help given to it.
    warm.help = ("每个工作进程复用一个内核，每个报告前重置、出错即弃用（默认）；输出与新内核逐字节相同。"
                 "--no-warm-kernels：每个报告一个新内核")
    # Any registered executor (the registry refuses an unknown name, listing the others): not a
    # fixed list of choices, and the registry is not loaded for every command.
    batch_cmd.add_argument("--executor", default="process", metavar="执行器",
                           help="process：本机工作进程（默认）；serial：本进程逐个生成；dask：Dask 集群；"
                                "或以 evaltools.executors 入口点注册的其他执行器")
    batch_cmd.add_argument("--scheduler", metavar="地址",
                           help="Dask 调度器地址，如 tcp://10.0.0.5:8786（不给则启动本机 LocalCluster）")
    _drafts_option(batch_cmd)
    batch_cmd.add_argument("--json", action="store_true", help="以 JSON 输出结果")
    batch_cmd.set_defaults(run=cmd_batch)

    render_cmd = commands.add_parser("render", help="把已执行的笔记本重新渲染为 HTML/PDF/Word，不再执行",
                                     description="把已执行的笔记本（outputs/…/report.ipynb）重新渲染，不再执行")
    render_cmd.add_argument("notebooks", nargs="+", metavar="已执行.ipynb", help="已执行的报告笔记本")
    render_cmd.add_argument("--to", default="html,pdf", metavar="格式", help="输出格式，逗号分隔：html,pdf,docx（默认 html,pdf）")
    edition_option(render_cmd)
    render_cmd.set_defaults(run=cmd_render)
