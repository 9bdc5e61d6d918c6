"""Commands that meet finance officers in Excel: ``export-xlsx``, ``import-xlsx``, ``template-xlsx``.

openpyxl is imported inside each command: the other commands start without it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from evaltools.cli.console import err, out, styled
from evaltools.cli.common import force_option, may_write, paths_argument, print_problems, projects, rules_option
from evaltools.domain.rules import load_rules
from evaltools.domain.yamlio import ParamsError


def cmd_export_xlsx(args: argparse.Namespace) -> int:
    from evaltools.writers.xlsx import export_workbook  # openpyxl: see the module docstring

    loaded, failed = [], 0
    for item in projects(args.paths, args.rules):
        if isinstance(item, ParamsError):
            failed += 1
            print_problems(item)
        else:
            loaded.append((item.params, item.rules))
    if not loaded:
        err.print("没有可导出的项目")
        return 1
    may_write(Path(args.output), args.force)
    path = export_workbook(loaded, args.output)
    out.print(styled("[green]✓[/green] {} 个项目 → {}", len(loaded), path))
    return 1 if failed else 0


def cmd_import_xlsx(args: argparse.Namespace) -> int:
    from evaltools.domain.params_writer import write_params
    from evaltools.domain.workbook import read_workbook  # openpyxl: see the module docstring

    try:
        imported = read_workbook(args.workbook)
        for title in imported.skipped:
            out.print(f"跳过工作表“{title}”：不是自评表")
        written = write_params(imported.projects, Path(args.output), Path(args.workbook), force=args.force)
    except ParamsError as exc:
        print_problems(exc)
        return 1
    for path in written:
        out.print(styled("[green]✓[/green] {} → {}", args.workbook, path))
    for warning in written.warnings:
        err.print(styled("[yellow]提示[/yellow] {}", warning), soft_wrap=True)
    return 0


def cmd_template_xlsx(args: argparse.Namespace) -> int:
    from evaltools.writers.xlsx import template_workbook  # openpyxl: see the module docstring

    try:
        rules = load_rules(*args.rules)
    except ParamsError as exc:
        print_problems(exc)
        return 1
    may_write(Path(args.output), args.force)
    out.print(styled("[green]✓[/green] 空白自评表 → {}", template_workbook(rules, args.output)))
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser("export-xlsx", help="导出自评表到 Excel（官方版式，含公式；多个项目另有汇总表）",
                                 description="导出自评表到 Excel（官方版式，含公式；多个项目另有汇总表）")
    paths_argument(export)
    export.add_argument("-o", "--output", required=True, metavar="文件.xlsx", help="要写的 Excel 文件")
    rules_option(export)
    force_option(export)
    export.set_defaults(run=cmd_export_xlsx)

    importer = commands.add_parser("import-xlsx", help="从 Excel 自评表读回参数文件",
                                   description="从 Excel 自评表读回参数文件")
    importer.add_argument("workbook", metavar="文件.xlsx", help="填好的自评表（export-xlsx 或 template-xlsx 所写）")
    importer.add_argument("-o", "--output", required=True, metavar="路径",
                          help="参数文件（.yaml，单个项目）或文件夹（每个工作表一个文件）")
    force_option(importer, "覆盖已有的参数文件（其中手改的内容和注释会丢失）")
    importer.set_defaults(run=cmd_import_xlsx)

    template = commands.add_parser("template-xlsx", help="生成空白自评表（下拉列表、规则分值）",
                                   description="生成空白自评表（下拉列表、规则分值）")
    template.add_argument("-o", "--output", required=True, metavar="文件.xlsx", help="要写的 Excel 文件")
    rules_option(template, "评分规则文件（默认全国规则；可多次给出）")
    force_option(template)
    template.set_defaults(run=cmd_template_xlsx)
