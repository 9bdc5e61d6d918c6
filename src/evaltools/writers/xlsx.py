"""Excel in and out: the 自评表 in its official layout, and back into a parameter file.

Export writes one sheet per project with the 项目支出绩效自评表 as finance officers know it,
laid out from the very form part the reports show (``tables.self_evaluation_form``: same rows,
merged cells and numbers), with borders, wrapped text, A4 print set-up, 宋体, number formats
and live formulas where the form computes (年度资金总额, 执行率 and its 得分, 总分, 等级) at the
rules' precisions, plus a hidden sheet of every other parameter (路径 → 值, numbers as numbers),
so that importing an exported workbook gives back the same data while printing the workbook
prints the forms alone (the print layout: ``xlsx_print``).

Import reads the form wherever its rows sit (blank rows and merged cells are fine, "——" and
"/" mean empty, numbers may be text); what it cannot understand is an error naming the sheet
and the cell.

Workbooks come from strangers and go to finance officers' Excel: text is always written as
text, never as a formula (OWASP's formula-injection guidance), and a workbook is measured
before it is opened, so a zip bomb is refused instead of filling the memory.
"""

from __future__ import annotations

import io
import re
import typing
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from evaltools.domain.files import safe_filename, write_atomic
from evaltools.domain.formatting import excel_format
from evaltools.domain.model import FundType, ProjectParams
from evaltools.document.parts import Cell, Section, Table, grid, plain_text
from evaltools.domain.yamlio import ParamsError, Problem, plain
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
EMPTY = {"", "—", "——", "-", "--", "---", "/", "／", "无"}
OTHER_SHEET = "其他参数"
# What the form itself holds; everything else goes to the OTHER_SHEET as path → value rows.
FORM_KEYS = ("goals", "indicators")
FORM_FIELDS = {("project", "name"), ("project", "department"), ("project", "implementer"), ("budget", "total"),
               *(("budget", row, column) for row in ("appropriation", "carryover", "special_account", "unit_funds", "other")
                 for column in ("initial", "annual", "executed")),
               *(("evaluation", "form", key) for key in ("unit_head", "finance_head", "filled_by", "phone", "date"))}
# Text starting with one of these is a formula (or DDE) to a spreadsheet; such text is stored
# as text and marked "quote prefix", so Excel keeps it text even when the cell is edited.
NAME_LABELS = ("项目支出名称", "政府性基金预算支出名称", "国有资本经营预算支出名称", "社会保险基金预算支出名称", "项目名称")
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
# A workbook larger than this once unzipped, or with more cells, is not a 自评表: refused unread.
MAX_UNCOMPRESSED_MB = 50
MAX_CELLS = 200_000


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


# --- import ----------------------------------------------------------------------------------------


class _Reader:
    """Reads one form sheet, remembering where each value came from for error messages."""

    def __init__(self, sheet: Worksheet, file: Path):
        self.sheet, self.file = sheet, file
        self.merged = {}
        for merged in sheet.merged_cells.ranges:
            top_left = sheet.cell(merged.min_row, merged.min_col).value
            for row in range(merged.min_row, merged.max_row + 1):
                for column in range(merged.min_col, merged.max_col + 1):
                    self.merged[(row, column)] = top_left

    def value(self, row: int, column: int) -> Any:
        value = self.merged.get((row, column), self.sheet.cell(row, column).value)
        if isinstance(value, str):
            value = value.strip()
            return None if value in EMPTY else value
        return value

    def where(self, row: int, column: int) -> str:
        return f"{self.sheet.title}!{get_column_letter(column)}{row}"

    def error(self, row: int, column: int, message: str) -> ParamsError:
        return ParamsError([Problem(self.file, None, self.where(row, column), message)])

    def number(self, row: int, column: int) -> Decimal | None:
        value = self.value(row, column)
        if value is None or (isinstance(value, str) and value.startswith("=")):
            return None  # empty, or a formula the form computes anyway
        if isinstance(value, bool):
            raise self.error(row, column, f"应为数字，实际为 {value!r}")
        try:
            number = Decimal(str(value).replace(",", "").replace("，", "").removesuffix("万元"))
        except InvalidOperation:
            raise self.error(row, column, f"应为数字，实际为 {value!r}") from None
        # Excel keeps binary floats: 106.62 comes back as 106.62000000000001.
        return number.quantize(Decimal("0.000001")).normalize() if isinstance(value, float) else number

    def text(self, row: int, column: int) -> str | None:
        value = self.value(row, column)
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value)

    def find(self, *labels: str, column: int | None = None) -> tuple[int, int] | None:
        for row in self.sheet.iter_rows():
            for cell in row:
                if column is not None and cell.column != column:
                    continue
                text = str(cell.value).replace(" ", "").replace("\u3000", "") if cell.value is not None else ""
                if any(text == label or text.startswith(label) for label in labels):
                    return cell.row, cell.column
        return None

    def require(self, *labels: str) -> tuple[int, int]:
        found = self.find(*labels)
        if found is None:
            raise ParamsError([Problem(self.file, None, self.sheet.title, f"找不到“{labels[0]}”：不是自评表的版式？")])
        return found


def _fund_type(title: str | None) -> str:
    for fund in FundType:
        if title and fund.form_title in title and fund is not FundType.GENERAL:
            return fund.value
    return FundType.GENERAL.value


def read_form(sheet: Worksheet, file: Path) -> dict[str, Any]:
    """The parameters a 自评表 sheet holds (a partial project: name, budget, goals, indicators…)."""
    r = _Reader(sheet, file)
    title_row = r.find("项目支出绩效自评表", "州级预算部门项目支出绩效自评表")
    title = r.text(*title_row) if title_row else None
    if title is None:
        for fund in FundType:
            found = r.find(fund.form_title)
            if found:
                title = r.text(*found)
    name_row, name_col = r.require(*NAME_LABELS)
    data: dict[str, Any] = {"project": {"name": r.text(name_row, name_col + 1), "fund_type": _fund_type(title)}}
    dept_row, dept_col = r.require("主管部门")
    data["project"]["department"] = r.text(dept_row, dept_col + 1)
    impl = r.require("实施单位")
    # The 实施单位 value is the next cell that is not part of the label's own merged range.
    column = impl[1] + 1
    while r.value(impl[0], column) == r.value(*impl) and column < 20:
        column += 1
    data["project"]["implementer"] = r.text(impl[0], column)
    year_row = r.find("（")
    if year_row:
        year = re.search(r"(\d{4})\s*年度", r.text(*year_row) or "")
        if year:
            data["year"] = int(year.group(1))
    r.require("年初预算数")  # the 项目资金 block must be there
    columns = {label: r.find(label) for label in ("年初预算数", "全年预算数", "全年执行数")}
    budget: dict[str, Any] = {}
    for key, labels in (("appropriation", ("其中：当年财政拨款", "当年财政拨款")), ("carryover", ("上年结转资金",)),
                        ("special_account", ("财政专户管理资金",)), ("unit_funds", ("单位资金",)),
                        ("other", ("其他资金",))):
        found = r.find(*labels)
        if found is None:
            continue
        amounts = {k: r.number(found[0], columns[label][1]) for k, label in
                   (("initial", "年初预算数"), ("annual", "全年预算数"), ("executed", "全年执行数"))}
        amounts = {k: v for k, v in amounts.items() if v is not None}
        if amounts:
            budget[key] = amounts
    data["budget"] = budget
    goals = r.require("预期目标")
    achieved = r.require("实际完成情况")
    data["goals"] = {"expected": r.text(goals[0] + 1, goals[1]) or "", "achieved": r.text(achieved[0] + 1, achieved[1]) or ""}
    header_row, first_col = r.require("一级指标")
    headers = {r.text(header_row, c): c for c in range(first_col, first_col + 12) if r.text(header_row, c)}
    needed = ("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分")
    missing = [h for h in needed if h not in headers]
    if missing:
        raise r.error(header_row, first_col, f"指标表头缺少：{'、'.join(missing)}")
    indicators = []
    row = header_row + 1
    while row <= sheet.max_row:
        label = r.text(row, 1) or ""
        if label.startswith(("总分", "说明")) or (r.text(row, first_col) or "").startswith("总分"):
            break
        name = r.text(row, headers["三级指标"])
        if name is None:  # a blank row inside the table
            row += 1
            continue
        indicator: dict[str, Any] = {
            "level1": re.sub(r"[（(].*", "", r.text(row, headers["一级指标"]) or "") or None,
            "level2": r.text(row, headers["二级指标"]),
            "name": name,
            "target": r.text(row, headers["年度指标值"]) or "",
            "actual": r.text(row, headers["实际完成值"]) or "",
            "weight": r.number(row, headers["分值"]),
        }
        if indicator["level2"] is None:
            raise r.error(row, headers["二级指标"], "缺少二级指标")
        if indicator["weight"] is None:
            raise r.error(row, headers["分值"], "缺少分值")
        score_value = r.number(row, headers["得分"])
        if score_value is not None:
            indicator["score"] = score_value
        for key, heading in (("deviation", "偏差原因分析及改进措施"), ("actual_value", "实际完成值（数值）"), ("tier", "完成档次")):
            if heading in headers and r.text(row, headers[heading]):
                indicator[key] = r.text(row, headers[heading])
        if "actual_value" not in indicator:
            from evaltools.domain.targets import parse_quantity

            if parse_quantity(indicator["actual"]) is not None:
                indicator["actual_value"] = indicator["actual"]  # "100%" on its own is the value
        indicators.append(indicator)
        row += 1
    data["indicators"] = indicators
    footer = r.find("单位负责人签字")
    if footer:
        text = r.text(*footer) or ""
        form = {}
        for key, label in (("unit_head", "单位负责人签字"), ("finance_head", "财务负责人"), ("filled_by", "填表人"),
                           ("phone", "联系电话"), ("date", "填报日期")):
            match = re.search(label + r"[：:]\s*(\S*)", text)
            # a blank date is printed as "年  月  日" to write on: nothing to import
            if match and match.group(1) and not (key == "date" and not re.search(r"\d", match.group(1))):
                form[key] = match.group(1)
        if form:
            data.setdefault("evaluation", {})["form"] = form
    return data


def _unflatten(rows: Iterable[tuple[str, str]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for path, value in rows:
        parts = re.findall(r"[^.\[\]]+|\[\d+\]", path)
        target: Any = data
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt = parts[i + 1] if not last else None
            key: Any = int(part[1:-1]) if part.startswith("[") else part
            container = [] if nxt and nxt.startswith("[") else {}
            if isinstance(target, list):
                while len(target) <= key:
                    target.append(None)
                if last:
                    target[key] = [] if value == "[]" else value
                elif target[key] is None:
                    target[key] = container
                target = target[key]
            else:
                if last:
                    target[key] = [] if value == "[]" else value
                else:
                    target = target.setdefault(key, container)
    return data


_CELL_TAGS = (b"<c ", b"<c>", b":c ", b":c>")  # a cell element, with or without a namespace prefix


def _measure(path: Path) -> None:
    """Refuse, before opening it, a workbook too big to be a 自评表 (a zip bomb among them).

    The sizes the archive declares bound what zipfile will inflate, so summing them is
    enough for the size; cells are counted in the worksheets' XML, which that size bounds.
    """
    limit = MAX_UNCOMPRESSED_MB * 2**20
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            size = sum(part.file_size for part in parts)
            if size > limit:
                raise ParamsError([Problem(path, None, "", (
                    f"解压后有 {size / 2**20:,.0f} MB，超过上限 {MAX_UNCOMPRESSED_MB} MB：不像是自评表，未读取"
                    "（压缩炸弹？）"))])
            cells = 0
            for part in parts:
                if part.filename.startswith("xl/worksheets/") and part.filename.endswith(".xml"):
                    xml = archive.read(part)
                    cells += sum(xml.count(tag) for tag in _CELL_TAGS)
            if cells > MAX_CELLS:
                raise ParamsError([Problem(path, None, "", (
                    f"有 {cells:,} 个单元格，超过上限 {MAX_CELLS:,}：不像是自评表，未读取"))])
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
        raise ParamsError([Problem(path, None, "", f"不是可读的 Excel 工作簿（.xlsx）：{exc}")]) from None


def _is_form(sheet: Worksheet, file: Path) -> bool:
    """Whether a sheet is a 自评表 at all (else it is some other sheet of the workbook, skipped)."""
    reader = _Reader(sheet, file)
    return reader.find(*NAME_LABELS) is not None or reader.find("一级指标") is not None


@dataclass
class ImportedWorkbook:
    """What a workbook holds: the parameter data of each 自评表 sheet, by sheet title, and the
    titles of the sheets that are not a 自评表 (left out)."""

    projects: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def read_workbook(path: Path | str) -> ImportedWorkbook:
    """Parameter data for each 自评表 sheet of a workbook (plus its rows on the 其他参数 sheet)."""
    from evaltools.domain.yamlio import deep_merge

    path = Path(path)
    if not path.is_file():
        raise ParamsError([Problem(path, None, "", "文件不存在" if not path.exists() else "不是文件")])
    _measure(path)
    try:
        book = load_workbook(path)
    except Exception as exc:
        raise ParamsError([Problem(path, None, "", f"不是可读的 Excel 工作簿（.xlsx）：{exc}")]) from None
    others: dict[str, list[tuple[str, str]]] = {}
    if OTHER_SHEET in book.sheetnames:
        for row in book[OTHER_SHEET].iter_rows(min_row=2, max_col=3, values_only=True):
            sheet_title, key, value = (*row, None, None, None)[:3]
            if sheet_title and key:
                others.setdefault(str(sheet_title), []).append((str(key), "" if value is None else str(value)))
    imported = ImportedWorkbook()
    for sheet in book.worksheets:
        if sheet.title in (OTHER_SHEET, "汇总", "说明"):  # evaltools' own helper sheets
            continue
        if not _is_form(sheet, path):
            imported.skipped.append(sheet.title)
            continue
        form = read_form(sheet, path)
        imported.projects[sheet.title] = deep_merge(_unflatten(others.get(sheet.title, [])), form)
    if not imported.projects:
        skipped = f"（工作表：{'、'.join(imported.skipped)}）" if imported.skipped else ""
        raise ParamsError([Problem(path, None, "", f"工作簿中没有自评表工作表{skipped}")])
    return imported


def import_workbook(path: Path | str) -> list[dict[str, Any]]:
    """Parameter data for each 自评表 sheet of a workbook; see :func:`read_workbook`."""
    return list(read_workbook(path).projects.values())


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


def write_params(projects: Mapping[str, dict[str, Any]] | Sequence[dict[str, Any]], output: Path, source: Path,
                 force: bool = False) -> list[Path]:
    """Validate imported projects and write them as parameter files (one per sheet).

    Nothing is written unless everything can be: every project valid, every file name free,
    distinct and not reserved (``_department.yaml``, ``_rules.yaml``, hidden files), and no
    existing file replaced without ``force``.
    """
    from pydantic import ValidationError

    from evaltools.domain.yamlio import YAML_SUFFIXES, _drop_nulls, deep_merge, describe, dump_yaml, field_path
    from evaltools.domain.workspace import department_defaults

    items = list(projects.items()) if isinstance(projects, Mapping) else [(None, data) for data in projects]
    output = Path(output)
    single = output.suffix in YAML_SUFFIXES
    if len(items) > 1 and single:
        raise ParamsError([Problem(source, None, "", f"工作簿有 {len(items)} 个自评表：-o 应为文件夹")])
    folder = output.parent if single else output
    if folder.exists() and not folder.is_dir():
        raise ParamsError([Problem(folder, None, "", "已有同名文件：-o 应为文件夹（或一个 .yaml 文件）")])
    # A form alone lacks what the department shares (评价方式, team…): check it as it will be read.
    shared = department_defaults(folder) if folder.is_dir() else None
    problems, planned, names = [], [], {}
    for sheet, data in items:
        name = str((data.get("project") or {}).get("name") or "project")
        where = f"工作表“{sheet}”" if sheet else name
        try:
            ProjectParams.model_validate(_drop_nulls(deep_merge(shared[1] if shared else {}, data)))
        except ValidationError as exc:
            problems += [Problem(source, None, f"{where}: {field_path(e['loc'])}", describe(e)) for e in exc.errors()]
        target = output if single else folder / safe_filename(name, ".yaml")
        if target.name.startswith(("_", ".")):
            problems.append(Problem(source, None, where, (
                f"会写成 {target.name}：以 _ 或 . 开头的是部门文件、规则文件等保留的文件名，不是项目；请改项目名称")))
        elif target.name.casefold() in names:
            problems.append(Problem(source, None, where, (
                f"与{names[target.name.casefold()]}都会写成 {target.name}（项目名称重复）：请改名后再导入")))
        elif target.is_dir():
            problems.append(Problem(target, None, "", "是一个文件夹，无法写成参数文件"))
        names[target.name.casefold()] = where
        planned.append((target, data))
    if problems:
        raise ParamsError(problems)
    existing = [target for target, _ in planned if target.exists()]
    if existing and not force:
        raise ParamsError([Problem(target, None, "", "已存在，未覆盖（手改的内容和注释会丢失）；确认要替换请加 --force")
                           for target in existing] + [Problem(source, None, "", "将写入：" + "、".join(
                               f"{target}（{'覆盖' if target in existing else '新建'}）" for target, _ in planned))])
    written = []
    for target, data in planned:
        write_atomic(target, dump_yaml(data, f"# 由 evaltools import-xlsx 从 {source.name} 导入\n"))
        written.append(target)
    return written
