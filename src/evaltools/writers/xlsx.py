"""Excel out: the 自评表 in its official layout, and a blank one to fill in.

Export writes one sheet per project with the 项目支出绩效自评表 as finance officers know it,
laid out from the very form part the reports show (``tables.self_evaluation_form``: same rows,
merged cells and numbers), with borders, wrapped text, A4 print set-up, 宋体, number formats
and live formulas where the form computes (年度资金总额, 执行率 and its 得分, 总分, 等级) at the
rules' precisions, plus a hidden sheet of every other parameter (路径 → 值, numbers as numbers),
so that importing an exported workbook gives back the same data while printing the workbook
prints the forms alone (the print layout: ``xlsx_print``).

Reading a workbook back (``import-xlsx``, and ``check`` and ``score`` on a workbook) is the
domain's: :mod:`evaltools.domain.workbook`.

Workbooks come from strangers and go to finance officers' Excel: text is always written as
text, never as a formula (OWASP's formula-injection guidance).
"""

from __future__ import annotations

import io
import re
import typing
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from evaltools.domain.files import write_atomic
from evaltools.domain.formatting import excel_format
from evaltools.domain.model import FundType, ProjectParams
from evaltools.document.parts import Cell, Section, Table, grid, plain_text
from evaltools.domain.workbook import OTHER_SHEET
from evaltools.domain.yamlio import plain
from evaltools.domain.rules import Level, Rules
from evaltools.domain.scoring import ScoreCard, score
from evaltools.document.tables import self_evaluation_form
from evaltools.writers.xlsx_print import default_font, fit_columns, fit_row_heights, print_form, print_setup

FONT = "宋体"  # Word/WPS/Excel map it to the system's Song face; Noto Serif CJK SC elsewhere
THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="center")
CENTER = Alignment(wrap_text=True, vertical="center", horizontal="center")
HEADING_FILL = PatternFill("solid", fgColor="EEF1F5")
# The form's columns, left to right, in Excel width units (5.25 pt each with Arial 10 as the default
# font, see xlsx_print), at their narrowest: 9 columns: label, 一级, 二级, 三级, 指标值 (年初预算数 above),
# 实际完成值 (全年预算数), 分值, 得分 (执行率), 偏差原因 (得分); 8 columns: label, 一级 (the fund line's
# name), 二级, 三级, 指标值, 实际完成值 (分值), 分值 (执行率), 得分. A rate's column keeps "99.50%" on one
# line. The text columns then share the rest of the A4 width by what they hold (``fit_columns``).
LEAST_WIDTHS = {9: [6, 7, 8.5, 9, 8, 9, 5, 7.5, 8], 8: [6, 7, 8.5, 9, 8, 9, 7.5, 7]}
TEXT_COLUMNS = {9: [1, 2, 3, 4, 5, 6, 9], 8: [1, 2, 3, 4, 5, 6]}
EXTRA_WIDTHS = [12, 10]  # 实际完成值（数值）, 完成档次
# What the form itself holds; everything else goes to the OTHER_SHEET as path → value rows.
FORM_KEYS = ("goals", "indicators")
FORM_FIELDS = {("project", "name"), ("project", "department"), ("project", "implementer"), ("budget", "total"),
               *(("budget", row, column) for row in ("appropriation", "carryover", "special_account", "unit_funds", "other")
                 for column in ("initial", "annual", "executed")),
               *(("evaluation", "form", key) for key in ("unit_head", "finance_head", "filled_by", "phone", "date"))}
# Text starting with one of these is a formula (or DDE) to a spreadsheet; such text is stored
# as text and marked "quote prefix", so Excel keeps it text even when the cell is edited.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


# --- export ----------------------------------------------------------------------------------------


def _put(cell: Any, value: Any, formula: bool = False) -> None:
    """Set a cell: a formula only when the form computes it (``formula``); text always as text."""
    cell.value = value
    if isinstance(value, str) and not formula:
        cell.data_type = "s"  # not a formula, nor an error code such as "#N/A"
        if value.startswith(FORMULA_TRIGGERS):
            cell.quotePrefix = True


def _append(sheet: Worksheet, values: Sequence[Any]) -> None:
    """``sheet.append`` with text kept as text."""
    sheet.append(list(values))
    for cell, value in zip(sheet[sheet.max_row], values, strict=False):
        _put(cell, value)


def _cell(sheet: Worksheet, ref: str, value: Any = None, *, bold: bool = False, align: Alignment = WRAP,
          fill: PatternFill | None = None, number_format: str | None = None, formula: bool = False) -> None:
    cell = sheet[ref]
    _put(cell, value, formula)
    cell.font = Font(name=FONT, size=10, bold=bold)
    cell.alignment = align
    if fill:
        cell.fill = fill
    if number_format:
        cell.number_format = number_format


def _merge(sheet: Worksheet, ref: str, value: Any = None, **style: Any) -> None:
    first = ref.split(":")[0]
    if ":" in ref:
        sheet.merge_cells(ref)
    _cell(sheet, first, value, **style)


def _money(value: Decimal | None) -> float | None:
    # Excel stores binary floats; 2-decimal amounts round-trip exactly through str → Decimal.
    return float(value) if value is not None else None


def _quoted(text: str) -> str:
    """A string literal inside a formula: a quote in a rule's label cannot end it early."""
    return '"' + str(text).replace('"', '""') + '"'


def _grade_formula(cell: str, rules: Rules) -> str:
    """等级 from 总分 by the rules' bands, compared at the rules' precision as ``Rules.grade`` does."""
    bands = sorted(rules.grades, key=lambda b: b.min, reverse=True)
    formula = _quoted(bands[-1].label)
    for band in reversed(bands[:-1]):
        formula = f"IF(ROUND({cell},{rules.decimals})>={Decimal(band.min):f},{_quoted(band.label)},{formula})"
    return "=" + formula


def _sheet_title(name: str, taken: set[str]) -> str:
    title = re.sub(r"[\[\]:*?/\\\x00-\x1f]", "", name)[:28].strip("'") or "项目"
    candidate, n = title, 2
    while candidate in taken:
        candidate, n = f"{title[:25]}({n})", n + 1
    taken.add(candidate)
    return candidate


def _style(cell: Cell) -> dict[str, Any]:
    words = (cell.style or "").split()
    bold = cell.header or "label" in words
    centred = cell.header or bool({"label", "center", "num"} & set(words))
    return {"bold": bold, "align": CENTER if centred else WRAP, "fill": HEADING_FILL if cell.header else None}


def _formulas(sheet: Worksheet, named: dict[str, list[str]], rules: Rules) -> None:
    """Where the form computes, the sheet computes too: the formulas over the named cells."""
    def first(name: str) -> str | None:
        return named.get(name, [None])[0]

    for key in ("initial", "annual", "executed"):
        total, lines = first(f"funds.total.{key}"), named.get(f"funds.line.{key}", [])
        if total and lines:
            sheet[total].value = f"=SUM({lines[0]}:{lines[-1]})"
    annual, executed, weight = first("funds.total.annual"), first("funds.total.executed"), first("execution.weight")
    if annual and executed and weight:
        sheet[first("execution.rate")].value = f'=IF({annual}>0,{executed}/{annual},"—")'
        sheet[first("execution.score")].value = (f"=IF({annual}>0,ROUND(MIN({executed}/{annual},1)*{weight},"
                                                 f"{rules.decimals}),0)")
    for total, part, rows in (("total.weight", "execution.weight", "indicator.weight"),
                              ("total.score", "execution.score", "indicator.score")):
        if first(total) and first(part) and named.get(rows):
            sheet[first(total)].value = f"={first(part)}+SUM({named[rows][0]}:{named[rows][-1]})"
    if first("total.grade") and first("total.score"):
        sheet[first("total.grade")].value = _grade_formula(first("total.score"), rules)


def write_form(sheet: Worksheet, params: ProjectParams, card: ScoreCard, rules: Rules,
               deviation: bool | None = None) -> None:
    """The 自评表 on ``sheet``, laid out from the form part the reports show (``tables.self_evaluation_form``):
    the same rows, merged cells and numbers, with live formulas where the form computes, and
    two columns of evaltools' own after the form (数值, 档次) so that import gets everything back."""
    form = self_evaluation_form(params, card, rules, deviation)
    tables = [child for child in form.children if isinstance(child, Table)]
    columns = max(t.columns for t in tables)
    last = get_column_letter(columns)
    for index, width in enumerate(LEAST_WIDTHS[columns] + EXTRA_WIDTHS, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    rows_by_index = {row.index: row for row in card.indicators}
    named: dict[str, list[str]] = {}
    r = 1
    table_rows: tuple[int, int] = (0, 0)
    for child in form.children:
        if isinstance(child, Table):
            placed, _ = grid(child.head + child.rows)
            for row_offset, column, cell in placed:
                ref = f"{get_column_letter(column + 1)}{r + row_offset}"
                value: Any = float(Decimal(cell.value)) if cell.value is not None else cell.text
                if "continued" in (cell.style or "").split():  # the label cell merged with the one above
                    sheet.merge_cells(f"{get_column_letter(column + 1)}{r + row_offset - 1}:"
                                      f"{get_column_letter(column + 1)}{r + row_offset + cell.rowspan - 1}")
                    continue
                end = f"{get_column_letter(column + cell.colspan)}{r + row_offset + cell.rowspan - 1}"
                _merge(sheet, f"{ref}:{end}" if end != ref else ref, value, **_style(cell),
                       number_format=excel_format(cell.kind, rules) if cell.kind and cell.value is not None else None)
                if cell.name:
                    named.setdefault(cell.name, []).append(ref)
            for row_offset, row in enumerate(child.head + child.rows):
                if row.key and row.key.startswith("indicator."):
                    indicator = rows_by_index[int(row.key.split(".")[1])].indicator
                    for extra, value in enumerate((None if indicator.actual_value is None else str(indicator.actual_value),
                                                   indicator.tier or "")):
                        _cell(sheet, f"{get_column_letter(columns + 1 + extra)}{r + row_offset}", value, align=CENTER)
            if child.head:
                table_rows = (r, r + len(child.head) - 1)
                for extra, heading in enumerate(("实际完成值（数值）", "完成档次")):
                    _cell(sheet, f"{get_column_letter(columns + 1 + extra)}{r}", heading, bold=True, align=CENTER,
                          fill=HEADING_FILL)
            for line in sheet.iter_rows(min_row=r, max_row=r + len(child.head + child.rows) - 1, max_col=columns):
                for cell_ in line:
                    cell_.border = BORDER
            r += len(child.head + child.rows)
        else:  # the caption's title and year, the note, the signature line
            for paragraph in child.children if isinstance(child, Section) else [child]:
                _merge(sheet, f"A{r}:{last}{r}", plain_text(paragraph),
                       align=CENTER if r <= 2 else WRAP, bold=paragraph.style == "form-title")
                if paragraph.style == "form-title":
                    sheet[f"A{r}"].font = Font(name=FONT, size=14, bold=True)
                r += 1
    _formulas(sheet, named, rules)
    fit_columns(sheet, LEAST_WIDTHS[columns], TEXT_COLUMNS[columns])
    fit_row_heights(sheet)
    sheet.print_area = f"A1:{last}{r - 1}"
    print_form(sheet, columns, r - 1, table_rows)


def _flatten(data: Any, prefix: str = "") -> Iterable[tuple[str, Any]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _flatten(value, f"{prefix}.{key}" if prefix else key)
    elif isinstance(data, list):
        if not data:
            yield prefix, "[]"
        for i, value in enumerate(data):
            yield from _flatten(value, f"{prefix}[{i}]")
    else:
        yield prefix, data


def _other_parameters(params: ProjectParams) -> list[tuple[str, Any]]:
    """Every parameter the form has no cell for, as path → value: numbers (Decimal, int) as
    numbers, truth values as such, the rest as the text the parameter file holds."""
    data = plain(params.model_dump(mode="json", exclude_none=True))
    typed = dict(_flatten(params.model_dump(mode="python", exclude_none=True)))
    rows = []
    for path, value in _flatten(data):
        top = path.split(".")[0].split("[")[0]
        if top in FORM_KEYS or any(path == ".".join(f) or path.startswith(".".join(f) + ".") for f in FORM_FIELDS):
            continue
        original = typed.get(path)
        rows.append((path, original if isinstance(original, (bool, int, Decimal)) else value))
    return rows


def _field_title(path: str) -> str:
    """The Chinese name of a parameter path ("declared.execution_rate" → "表中所填数字 › 执行率（%）"),
    from the model's field titles: what a person reading the sheet goes by."""
    model: Any = ProjectParams
    titles = []
    for part in re.findall(r"[^.\[\]]+", path):
        fields = getattr(model, "model_fields", None)
        if fields is None or part not in fields:
            continue  # a list index, or a mapping's own key
        info = fields[part]
        titles.append(info.title or part)
        model = next((arg for arg in _type_args(info.annotation) if hasattr(arg, "model_fields")), None)
    return " › ".join(titles)


def _type_args(annotation: Any) -> list[Any]:
    """The classes inside a field's type (``list[Attachment | str] | None`` → Attachment, str, None)."""
    found, stack = [], [annotation]
    while stack:
        item = stack.pop()
        args = typing.get_args(item)
        if args:
            stack.extend(args)
        else:
            found.append(item)
    return found


def _other_sheet(book: Workbook) -> Worksheet:
    """The sheet of the other parameters: for the round trip, not for printing (hidden, so that
    "print the workbook" prints the forms alone)."""
    other = book.create_sheet(OTHER_SHEET)
    other.sheet_state = "hidden"
    for column, heading in zip("ABCD", ("工作表", "参数路径", "值", "参数名称"), strict=True):
        _cell(other, f"{column}1", heading, bold=True, fill=HEADING_FILL)
    for column, width in zip("ABCD", (28, 30, 60, 30), strict=True):  # a sheet name on one line
        other.column_dimensions[column].width = width
    return other


def _other_row(other: Worksheet, title: str, key: str, value: Any) -> None:
    _append(other, [title, key, float(value) if isinstance(value, Decimal) else value, _field_title(key)])
    cell = other.cell(other.max_row, 3)
    if isinstance(value, Decimal):  # the places the file gives, so that 100.00 reads 100.00
        places = max(-value.as_tuple().exponent, 0) if value.is_finite() else 0
        cell.number_format = "0." + "0" * places if places else "0"
    for line in other.iter_rows(min_row=other.max_row, max_row=other.max_row):
        for cell_ in line:
            cell_.font, cell_.alignment = Font(name=FONT, size=10), Alignment(wrap_text=True, vertical="top")


def export_workbook(projects: Sequence[tuple[ProjectParams, Rules]], path: Path | str) -> Path:
    """One 自评表 sheet per project, their other parameters, and a summary sheet if several."""
    book = Workbook()
    default_font(book)
    book.remove(book.active)
    if projects:  # the unit's workbook, not openpyxl's: what Excel shows under 文件 › 信息
        first = projects[0][0]
        book.properties.creator = book.properties.lastModifiedBy = first.project.department
        book.properties.title = f"{first.year}年度{first.project.fund_type.form_title}"
    taken: set[str] = set()
    summary_rows = []
    other = _other_sheet(book) if projects else None
    for params, rules in projects:
        card = score(params, rules)
        title = _sheet_title(params.project.name, taken)
        write_form(book.create_sheet(title, index=len(taken) - 1), params, card, rules)
        for key, value in _other_parameters(params):
            _other_row(other, title, key, value)
        summary_rows.append((params.project.department, params.project.name, card.execution.budget.annual,
                             card.execution.budget.executed, card.total, card.grade, rules))
    if other is not None:
        fit_row_heights(other)
        print_setup(other, (1, 1))
    if len(projects) > 1:
        summary = book.create_sheet("汇总", 0)
        for column, heading in zip("ABCDEFG", ("主管部门", "项目", "全年预算数（万元）", "全年执行数（万元）", "执行率",
                                               "总分", "等级"), strict=True):
            _cell(summary, f"{column}1", heading, bold=True, fill=HEADING_FILL, align=CENTER)
        for r, (department, name, annual, executed, total, grade, rules) in enumerate(summary_rows, 2):
            values = (department, name, _money(annual), _money(executed), f'=IF(C{r}>0,D{r}/C{r},"—")',
                      float(total), grade)
            formats = {"C": "money", "D": "money", "E": "rate", "F": "score"}
            for column, value in zip("ABCDEFG", values, strict=True):
                _cell(summary, f"{column}{r}", value, formula=column == "E",
                      number_format=excel_format(formats[column], rules) if column in formats else None)
        for column, width in zip("ABCDEFG", (30, 36, 14, 14, 10, 8, 6), strict=True):
            summary.column_dimensions[column].width = width
        fit_row_heights(summary)
        print_setup(summary, (1, 1), landscape=True)
    return _save(book, path)


def _save(book: Workbook, path: Path | str) -> Path:
    """The workbook written completely or not at all (a failed save keeps the old file)."""
    buffer = io.BytesIO()
    book.save(buffer)
    path = Path(path)
    write_atomic(path, buffer.getvalue())
    return path


def _level_weight(spec: Level, rules: Rules) -> Decimal:
    """A level's points; where the rules fix only the indicators' total, an even share of it."""
    return spec.weight if spec.weight is not None else rules.indicators_weight / len(rules.levels)


def template_workbook(rules: Rules, path: Path | str, rows_per_category: int = 1) -> Path:
    """A blank 自评表 to fill in: lists for 一级/二级 and the fund type, weights from the rules."""
    book = Workbook()
    default_font(book)
    sheet = book.active
    sheet.title = "项目"
    params = ProjectParams.model_validate({
        "year": 2024, "project": {"name": "（项目名称）", "department": "（主管部门）", "implementer": "（实施单位）"},
        "evaluation": {"method": "", "evaluator": ""}, "budget": {}, "goals": {"expected": "", "achieved": ""},
        "indicators": [{"level1": level, "level2": category, "name": "（三级指标）", "target": "",
                        "weight": str(_level_weight(spec, rules) / len(spec.categories))}
                       for level, spec in rules.levels.items() for category in spec.categories
                       for _ in range(rows_per_category)],
    })
    write_form(sheet, params, score(params, rules), rules, deviation=True)  # a column to fill in
    first, last = 13, 12 + len(params.indicators)
    for r in range(first, last + 1):
        sheet[f"H{r}"].value = None  # 得分: the evaluator's, or computed on import
    levels = DataValidation(type="list", formula1=_quoted(",".join(rules.levels)), allow_blank=True)
    categories = DataValidation(type="list", allow_blank=True,
                                formula1=_quoted(",".join(c for spec in rules.levels.values() for c in spec.categories)))
    funds = DataValidation(type="list", formula1=_quoted(",".join(f.value for f in FundType)), allow_blank=False)
    for validation, ref in ((levels, f"B{first}:B{last}"), (categories, f"C{first}:C{last}")):
        sheet.add_data_validation(validation)
        validation.add(ref)
    other = book.create_sheet(OTHER_SHEET)
    _append(other, ["工作表", "参数路径", "值"])
    for key, value in (("year", "2024"), ("project.fund_type", FundType.GENERAL.value), ("evaluation.method", ""),
                       ("evaluation.evaluator", "")):
        _append(other, ["项目", key, value])
    other.add_data_validation(funds)
    funds.add("C3")
    notes = book.create_sheet("说明")
    _append(notes, ["一级指标", "分值", "二级指标"])
    for level, spec in rules.levels.items():
        _append(notes, [level, float(_level_weight(spec, rules)), "、".join(spec.categories)])
    _append(notes, ["预算执行率", float(rules.execution.weight), "全年执行数 / 全年预算数"])
    for extra in (other, notes):
        fit_row_heights(extra)
        print_setup(extra, (1, 1))
    return _save(book, path)
