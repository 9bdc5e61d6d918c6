"""Commands that read parameter files and say what they find: ``check``, ``score``, ``table``."""

from __future__ import annotations

import argparse
import json
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

from rich.table import Table

from evaltools.cli.console import err, out, styled
from evaltools.cli.common import force_option, paths_argument, print_problems, projects, rules_option
from evaltools.domain.checks import (CHECKS, DEPARTMENT_CHECKS, SEVERITY_LABELS, Finding, check_department, check_project,
                                     find_check)
from evaltools.domain.files import write_atomic
from evaltools.domain.rollup import load_department
from evaltools.domain.scoring import ScoreCard, as_dict, percent, score
from evaltools.domain.targets import plain_number
from evaltools.domain.workspace import LoadedProject, find_department_files, is_department_file
from evaltools.domain.yamlio import ParamsError

METHOD_LABELS = {"rule": "规则计算", "evaluator": "评价组打分", "missing": "缺数据"}


def _is_workbook(path: str) -> bool:
    return Path(path).suffix.lower() in (".xlsx", ".xlsm")


def _with_workbooks(paths: Sequence[str], rules: Sequence[str]) -> Iterator[LoadedProject | ParamsError]:
    """The projects under ``paths``, a workbook's 自评表 sheets among them (``check`` and ``score``)."""
    yield from projects([p for p in paths if not _is_workbook(p)], rules)
    workbooks = [p for p in paths if _is_workbook(p)]
    if workbooks:
        from evaltools.domain.workbook import load_sheets  # openpyxl (0.3 s) only when a workbook is given

        for path in workbooks:
            yield from load_sheets(path, rules)  # type: ignore[misc]


def cmd_check(args: argparse.Namespace) -> int:
    if args.explain:
        spec = find_check(args.explain)
        if spec is None:
            err.print(f"没有检查项 {args.explain}；evaltools check --list 列出全部")
            return 2
        out.print(spec.explain(), soft_wrap=True)
        return 0
    if args.list:
        for spec in [*CHECKS, *DEPARTMENT_CHECKS]:
            out.print(f"{spec.code:<18} {SEVERITY_LABELS[spec.severity]}  {spec.description}")
        return 0
    if not args.paths:
        err.print("请给出参数文件或文件夹，如 evaltools check params/")
        return 2
    counted = {"projects": 0, "departments": 0, "errors": 0, "warnings": 0, "broken": 0}
    report: list[dict] = []
    for item in _checked(args.paths, args.rules):
        if isinstance(item, ParamsError):
            counted["broken"] += 1
            print_problems(item)
            report.append({"problems": [str(p) for p in item.problems]})
            continue
        path, name, findings = item
        counted["departments" if is_department_file(path) else "projects"] += 1
        counted["errors"] += sum(f.severity == "error" for f in findings)
        counted["warnings"] += sum(f.severity == "warning" for f in findings)
        if args.json:
            report.append({"file": str(path), "findings": [_finding_dict(f) for f in findings]})
        else:
            _print_findings(path, name, findings)
    if args.json:
        out.print_json(json.dumps(report, ensure_ascii=False))
    else:
        out.print(_check_summary(counted))
    return 1 if counted["errors"] or counted["broken"] else 0


def _check_summary(counted: dict[str, int]) -> str:
    summary = f"{counted['projects']} 个项目" + (
        f"、{counted['departments']} 个部门整体报告" if counted["departments"] else "") + \
        f"：{counted['errors']} 个错误，{counted['warnings']} 个提示"
    if counted["broken"]:
        summary += f"；{counted['broken']} 个文件无法读取"
    return summary


def _checked(paths: Sequence[str], rules: Sequence[str]) -> Iterator[tuple[Path, str, list[Finding]] | ParamsError]:
    """The findings of every project under ``paths``, then of every department report."""
    for item in _with_workbooks(paths, rules):
        if isinstance(item, ParamsError):
            yield item
        else:
            yield Path(getattr(item, "label", item.path)), item.params.project.name, check_project(item)
    for file in find_department_files([p for p in paths if not _is_workbook(p)]):
        try:
            department = load_department(file, rules)
        except ParamsError as exc:
            yield exc
            continue
        yield file, department.params.name, check_department(department)


def _finding_dict(finding: Finding) -> dict:
    return {"code": finding.code, "severity": finding.severity, "file": str(finding.file),
            "line": finding.line, "cell": finding.cell, "field": finding.field, "message": finding.message}


def _print_findings(path: Path, name: str, findings: list[Finding]) -> None:
    if not findings:
        out.print(styled("[green]✓[/green] {}：{}，未发现问题", path, name))
        return
    out.print(styled("[bold]{}[/bold]：{}", path, name))
    for finding in findings:
        colour = "red" if finding.severity == "error" else "yellow"
        where = finding.where
        out.print(styled(f"  [{colour}]{{}}[/{colour}] \\[{{}}] {{}} {{}}：{{}}", SEVERITY_LABELS[finding.severity],
                         finding.code, where, finding.field, finding.message), soft_wrap=True)


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
    table.add_row("总分", "", "", "", "", "100", styled("[bold]{}[/bold]", card.total), styled("等级：[bold]{}[/bold]", card.grade))
    return table


def cmd_score(args: argparse.Namespace) -> int:
    failed = 0
    results = []
    for item in _with_workbooks(args.paths, args.rules):
        if isinstance(item, ParamsError):
            failed += 1
            print_problems(item)
            continue
        card = score(item.params, item.rules)
        if args.json:
            results.append({"file": str(getattr(item, "label", item.path)), "project": item.params.project.name,
                            "year": item.params.year, **as_dict(card, item.rules)})
        else:
            out.print(_score_table(item, card))
    if args.json:
        out.print_json(json.dumps(results, ensure_ascii=False))
    return 1 if failed else 0


def cmd_table(args: argparse.Namespace) -> int:
    # pandas and pyarrow load only for this command: the others start faster without them.
    from evaltools.domain.frames import TABLE_FORMATS, UnreadableProject, read_indicators, read_projects, table_bytes

    output = Path(args.output)
    if output.suffix.lower() not in TABLE_FORMATS:
        err.print(styled("[red]错误[/red] {}：不支持的表格格式，扩展名应为 {}", output, '、'.join(TABLE_FORMATS)))
        return 2
    if output.exists() and not args.force:
        err.print(styled("[red]拒绝[/red] {} 已存在；要覆盖请加 --force", output))
        return 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnreadableProject)
        try:
            frame = (read_indicators if args.indicators else read_projects)(args.paths, args.rules)
        except ParamsError as exc:
            print_problems(exc)
            return 1
    skipped = [w for w in caught if issubclass(w.category, UnreadableProject)]
    for warning in skipped:
        err.print(styled("[red]错误[/red] {}", warning.message), soft_wrap=True)
    write_atomic(output, table_bytes(frame, output.suffix))
    kind = "个指标" if args.indicators else "个项目"
    out.print(styled("[green]✓[/green] {} {}，{} 列 → {}", len(frame), kind, len(frame.columns), output))
    return 1 if skipped else 0


def _json_option(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--json", action="store_true", help="以 JSON 输出，供程序读取")


def register(commands: argparse._SubParsersAction) -> None:
    check = commands.add_parser("check", help="一致性检查：找出表中数字、文字、日期的矛盾",
                                description="一致性检查：找出表中数字、文字、日期的矛盾；有错误时退出状态为 1")
    paths_argument(check, required=False)
    rules_option(check)
    _json_option(check)
    check.add_argument("--list", action="store_true", help="列出全部检查项")
    check.add_argument("--explain", metavar="代码", help="说明一项检查：查什么、依据、例子")
    check.set_defaults(run=cmd_check)

    score_cmd = commands.add_parser("score", help="按评分规则计算各项得分、总分和等级",
                                    description="按评分规则计算各项得分、总分和等级")
    paths_argument(score_cmd)
    rules_option(score_cmd)
    _json_option(score_cmd)
    score_cmd.set_defaults(run=cmd_score)

    table = commands.add_parser("table", help="把一个年度（或部门、文件）导出为数据表：每个项目一行，或每个指标一行",
                                description="把一个年度（或部门、文件）导出为数据表：每个项目一行，或每个指标一行")
    paths_argument(table, help="年度或部门文件夹，或参数文件")
    table.add_argument("-o", "--output", required=True, metavar="文件",
                       help="输出文件，格式由扩展名决定：.csv（UTF-8 带 BOM）、.xlsx、.parquet")
    table.add_argument("--indicators", action="store_true", help="每个指标一行（默认每个项目一行）")
    rules_option(table)
    force_option(table, "覆盖已有的输出文件")
    table.set_defaults(run=cmd_table)
