"""A 自评表 workbook read back into parameter data: what ``import-xlsx`` writes and ``check`` and ``score`` read.

A 财政局 receives the 自评表 as Excel from its units, in the official layout ``export-xlsx``
writes and units fill by hand: the form is read wherever its rows sit (blank rows and merged
cells are fine, "——" and "/" mean empty, numbers may be text, a rate typed as 96% is 96), and
every value remembers its cell, so that a finding names ``2024.xlsx!项目A!F12`` as it names a
YAML file's line. What cannot be understood is an error naming the sheet and the cell.

Workbooks come from strangers: one is measured before it is opened, so a zip bomb is refused
instead of filling the memory, and nothing in it is evaluated (formulas are read as formulas).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import ValidationError

from evaltools.domain.model import FundType, ProjectParams
from evaltools.domain.rules import Rules, load_rules
from evaltools.domain.targets import parse_quantity
from evaltools.domain.workspace import department_defaults, rules_files_for
from evaltools.domain.yamlio import (Loc, ParamsError, Problem, _drop_nulls, deep_merge, describe,
                                     field_path)

EMPTY = {"", "—", "——", "-", "--", "---", "/", "／", "无"}
OTHER_SHEET = "其他参数"
HELPER_SHEETS = (OTHER_SHEET, "汇总", "说明")  # evaltools' own sheets beside the forms
NAME_LABELS = ("项目支出名称", "政府性基金预算支出名称", "国有资本经营预算支出名称", "社会保险基金预算支出名称", "项目名称")
# A workbook larger than this once unzipped, or with more cells, is not a 自评表: refused unread.
MAX_UNCOMPRESSED_MB = 50
MAX_CELLS = 200_000
BUDGET_LABELS = (("appropriation", ("其中：当年财政拨款", "当年财政拨款")), ("carryover", ("上年结转资金",)),
                 ("special_account", ("财政专户管理资金",)), ("unit_funds", ("单位资金",)), ("other", ("其他资金",)))
INDICATOR_COLUMNS = (("level1", "一级指标"), ("level2", "二级指标"), ("name", "三级指标"), ("target", "年度指标值"),
                     ("actual", "实际完成值"), ("weight", "分值"), ("score", "得分"),
                     ("deviation", "偏差原因分析及改进措施"), ("actual_value", "实际完成值（数值）"), ("tier", "完成档次"))


class _Reader:
    """Reads one form sheet, remembering where each value came from (for errors and findings)."""

    def __init__(self, sheet: Worksheet, file: Path, as_printed: bool = False):
        self.sheet, self.file = sheet, file
        # Checking reads text cells as printed ("无", "/", "产出指标（50分）"): what they say is what is checked.
        self.as_printed = as_printed
        self.merged: dict[tuple[int, int], Any] = {}
        self.cells: dict[Loc, str] = {}  # where each field was read: "项目A!F12"
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

    def mark(self, loc: Loc, row: int, column: int) -> None:
        self.cells[loc] = self.where(row, column)

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
        return self._as_shown(number, row, column) if isinstance(value, float) else number

    def _as_shown(self, number: Decimal, row: int, column: int) -> Decimal:
        """A float at the places its number format shows ("0.00" → 9.60), else cleaned of binary
        noise (106.62 comes back from Excel as 106.62000000000001)."""
        shown = re.search(r"0\.(0+)", self.sheet.cell(row, column).number_format or "")
        if shown:
            return number.quantize(Decimal(1).scaleb(-len(shown.group(1))))
        return number.quantize(Decimal("0.000001")).normalize()

    def percent(self, row: int, column: int) -> str | Decimal | None:
        """A rate as the form shows it: 0.96 in a cell formatted 0.00% is "96.00%"; text stays text."""
        value = self.value(row, column)
        if isinstance(value, str):
            return None if value.startswith("=") else value
        number = self.number(row, column)
        if number is None or "%" not in (self.sheet.cell(row, column).number_format or ""):
            return number
        shown = re.search(r"0\.(0+)%", self.sheet.cell(row, column).number_format)
        rate = Decimal(str(value)) * 100
        return f"{rate.quantize(Decimal(1).scaleb(-len(shown.group(1))) if shown else Decimal(1))}%"

    def printed(self, row: int, column: int) -> str | None:
        """A text cell as printed when checking ("无" is an answer to check), as imported otherwise."""
        if not self.as_printed:
            return self.text(row, column)
        value = self.merged.get((row, column), self.sheet.cell(row, column).value)
        text = str(int(value) if isinstance(value, float) and value.is_integer() else value).strip() if value is not None else ""
        return text or None

    def text(self, row: int, column: int) -> str | None:
        value = self.value(row, column)
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value)

    def find(self, *labels: str, column: int | None = None, row: int | None = None) -> tuple[int, int] | None:
        lines = self.sheet.iter_rows(min_row=row, max_row=row) if row else self.sheet.iter_rows()
        for line in lines:
            for cell in line:
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
    return read_form_cells(sheet, file)[0]


def read_form_cells(sheet: Worksheet, file: Path, as_printed: bool = False) -> tuple[dict[str, Any], dict[Loc, str]]:
    """The parameters a 自评表 sheet holds, and the cell (``sheet!F12``) each field was read from;
    ``as_printed`` (checking) keeps text cells as printed rather than as imported."""
    r = _Reader(sheet, file, as_printed)
    data = _read_heading(r)
    data["budget"], data["declared"] = _read_funds(r)
    goals, achieved = r.require("预期目标"), r.require("实际完成情况")
    data["goals"] = {"expected": r.text(goals[0] + 1, goals[1]) or "", "achieved": r.text(achieved[0] + 1, achieved[1]) or ""}
    r.mark(("goals", "expected"), goals[0] + 1, goals[1])
    r.mark(("goals", "achieved"), achieved[0] + 1, achieved[1])
    data["indicators"], end = _read_indicators(r)
    data["declared"].update(_read_totals(r, end))
    if not data["declared"]:
        del data["declared"]
    form = _read_footer(r)
    if form:
        data.setdefault("evaluation", {})["form"] = form
    return data, r.cells


def _read_heading(r: _Reader) -> dict[str, Any]:
    title_row = r.find("项目支出绩效自评表", "州级预算部门项目支出绩效自评表")
    title = r.text(*title_row) if title_row else None
    if title is None:
        for fund in FundType:
            found = r.find(fund.form_title)
            if found:
                title = r.text(*found)
    name_row, name_col = r.require(*NAME_LABELS)
    data: dict[str, Any] = {"project": {"name": r.text(name_row, name_col + 1), "fund_type": _fund_type(title)}}
    r.mark(("project", "name"), name_row, name_col + 1)
    dept_row, dept_col = r.require("主管部门")
    data["project"]["department"] = r.text(dept_row, dept_col + 1)
    r.mark(("project", "department"), dept_row, dept_col + 1)
    year_row = r.find("（")
    if year_row:
        year = re.search(r"(\d{4})\s*年度", r.text(*year_row) or "")
        if year:
            data["year"] = int(year.group(1))
            r.mark(("year",), *year_row)
    impl = r.find("实施单位")
    if impl is None:  # some provinces' forms have no such row
        return data
    # The 实施单位 value is the next cell that is not part of the label's own merged range.
    column = impl[1] + 1
    while r.value(impl[0], column) == r.value(*impl) and column < 20:
        column += 1
    data["project"]["implementer"] = r.text(impl[0], column)
    r.mark(("project", "implementer"), impl[0], column)
    return data


def _read_funds(r: _Reader) -> tuple[dict[str, Any], dict[str, Any]]:
    """The 项目资金 block: each source row's amounts, and the 执行率 and its 得分 the form states."""
    head, _ = r.require("年初预算数")  # the 项目资金 block must be there
    r.mark(("budget",), head, 1)
    columns = {label: r.find(label, row=head) for label in ("年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分")}
    keys = (("initial", "年初预算数"), ("annual", "全年预算数"), ("executed", "全年执行数"))
    budget: dict[str, Any] = {}
    for key, labels in (("total", ("年度资金总额",)), *BUDGET_LABELS):
        found = r.find(*labels)
        if found is None:
            continue
        r.mark(("budget", key), *found)
        amounts = {}
        for k, label in keys:
            if columns[label]:
                amounts[k] = r.number(found[0], columns[label][1])
                r.mark(("budget", key, k), found[0], columns[label][1])
        if key != "total":  # a fund row printed with its own 分值 and 得分
            for k, label in (("weight", "分值"), ("score", "得分")):
                if columns[label]:
                    amounts[k] = r.number(found[0], columns[label][1])
                    r.mark(("budget", key, k), found[0], columns[label][1])
        amounts = {k: v for k, v in amounts.items() if v is not None}
        if amounts:
            budget[key] = amounts
    _drop_agreeing_total(budget)
    block = r.find("项目资金")
    if block and re.search(r"[（(]\s*元\s*[)）]", r.text(*block) or ""):
        budget["unit"] = "元"  # the unit is declared once, for the whole block
    declared: dict[str, Any] = {}
    total = r.find("年度资金总额")
    for key, label, read in (("execution_rate", "执行率", r.percent), ("execution_score", "得分", r.number)):
        if total and columns[label]:
            r.mark(("declared", key), total[0], columns[label][1])
            value = read(total[0], columns[label][1])
            if value is not None:
                declared[key] = value
    return budget, declared


def _drop_agreeing_total(budget: dict[str, Any]) -> None:
    """The 年度资金总额 row is the rows' sum (a formula in an exported form): kept only where a
    hand-typed total disagrees with its rows, which BUDGET-TOTAL then reports."""
    total = budget.pop("total", None)
    if not total:
        return
    for column, stated in total.items():
        summed = sum((row.get(column) or Decimal(0) for row in budget.values() if isinstance(row, dict)), Decimal(0))
        if stated != summed:
            budget["total"] = total
            return


def _indicator_headers(r: _Reader) -> tuple[int, int, dict[str, int]]:
    header_row, first_col = r.require("一级指标")
    headers = {r.text(header_row, c): c for c in range(first_col, first_col + 12) if r.text(header_row, c)}
    missing = [h for h in ("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分") if h not in headers]
    if missing:
        raise r.error(header_row, first_col, f"指标表头缺少：{'、'.join(missing)}")
    r.mark(("indicators",), header_row, first_col)
    return header_row, first_col, headers


def _read_indicators(r: _Reader) -> tuple[list[dict[str, Any]], int]:
    """The indicator rows, and the row where the table ends (its 总分 row). A row with nothing
    in it but its merged 一级/二级 labels (a category the project does not use) is no row."""
    header_row, first_col, headers = _indicator_headers(r)
    indicators: list[dict[str, Any]] = []
    row = header_row + 1
    while row <= r.sheet.max_row:
        label = r.text(row, 1) or ""
        if label.startswith(("总分", "说明")) or (r.text(row, first_col) or "").startswith("总分"):
            break
        name = r.printed(row, headers["三级指标"])
        if name is None and r.number(row, headers["分值"]) is None and r.number(row, headers["得分"]) is None:
            row += 1  # a blank row inside the table, or an unused category's row left empty
            continue
        index = len(indicators)
        indicator: dict[str, Any] = {}
        for key, heading in INDICATOR_COLUMNS:
            if heading not in headers:
                continue
            r.mark(("indicators", index, key), row, headers[heading])
            if key in ("weight", "score"):
                value = r.number(row, headers[heading])
            else:
                value = r.printed(row, headers[heading])
            if value is not None or key in ("target", "actual"):
                indicator[key] = value if value is not None else ""
        r.mark(("indicators", index), row, headers["三级指标"])
        if not r.as_printed:  # imported as the level's name; checked as printed (its points are checked)
            indicator["level1"] = re.sub(r"[（(].*", "", indicator.get("level1") or "") or None
        if indicator.get("level2") is None:
            raise r.error(row, headers["二级指标"], "缺少二级指标")
        indicator.setdefault("name", "")
        if "actual_value" not in indicator and parse_quantity(indicator["actual"]) is not None:
            indicator["actual_value"] = indicator["actual"]  # "100%" on its own is the value
        indicators.append(indicator)
        row += 1
    return indicators, row


def _read_totals(r: _Reader, row: int) -> dict[str, Any]:
    """The 总分 and 等级 the form states on its total row (a formula there is the form's own sum)."""
    header = r.find("一级指标")
    if row > r.sheet.max_row or header is None:
        return {}
    score_col = r.find("得分", row=header[0])
    if score_col is None:
        return {}
    declared: dict[str, Any] = {}
    r.mark(("declared", "total_score"), row, score_col[1])
    total = r.number(row, score_col[1])
    if total is not None:
        declared["total_score"] = total
    for column in range(score_col[1] + 1, score_col[1] + 4):
        text = r.text(row, column)
        if text and not text.startswith("="):
            r.mark(("declared", "grade"), row, column)
            declared["grade"] = re.sub(r"^等级[：:]?\s*", "", text)
            break
    return declared


def _read_footer(r: _Reader) -> dict[str, str]:
    footer = r.find("单位负责人签字")
    if not footer:
        return {}
    text = r.text(*footer) or ""
    form = {}
    for key, label in (("unit_head", "单位负责人签字"), ("finance_head", "财务负责人"), ("filled_by", "填表人"),
                       ("phone", "联系电话"), ("date", "填报日期")):
        match = re.search(label + r"[：:]\s*(\S*)", text)
        # a blank date is printed as "年  月  日" to write on: nothing to import
        if match and match.group(1) and not (key == "date" and not re.search(r"\d", match.group(1))):
            form[key] = match.group(1)
            r.mark(("evaluation", "form", key), *footer)
    return form


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
    """What a workbook holds: the parameter data of each 自评表 sheet, by sheet title, the cells
    each field was read from, and the titles of the sheets that are not a 自评表 (left out)."""

    projects: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    cells: dict[str, dict[Loc, str]] = field(default_factory=dict)
    problems: dict[str, ParamsError] = field(default_factory=dict)  # sheets that could not be read


def read_workbook(path: Path | str, keep_going: bool = False, as_printed: bool = False) -> ImportedWorkbook:
    """Parameter data for each 自评表 sheet of a workbook (plus its rows on the 其他参数 sheet).

    A sheet that cannot be read stops the import; with ``keep_going`` (checking a workbook,
    where one bad sheet must not stop the others) it is kept in ``problems`` instead. With
    ``as_printed`` text cells are kept as printed (see :meth:`_Reader.printed`).
    """
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
        if sheet.title in HELPER_SHEETS:
            continue
        if not _is_form(sheet, path):
            imported.skipped.append(sheet.title)
            continue
        try:
            form, cells = read_form_cells(sheet, path, as_printed)
        except ParamsError as exc:
            if not keep_going:
                raise
            imported.problems[sheet.title] = exc
            continue
        imported.projects[sheet.title] = deep_merge(_unflatten(others.get(sheet.title, [])), form)
        imported.cells[sheet.title] = cells
    if not imported.projects and not imported.problems:
        skipped = f"（工作表：{'、'.join(imported.skipped)}）" if imported.skipped else ""
        raise ParamsError([Problem(path, None, "", f"工作簿中没有自评表工作表{skipped}")])
    return imported


def import_workbook(path: Path | str) -> list[dict[str, Any]]:
    """Parameter data for each 自评表 sheet of a workbook; see :func:`read_workbook`."""
    return list(read_workbook(path).projects.values())


# --- a workbook's forms as projects to check and score ------------------------------------------------


@dataclass
class LoadedSheet:
    """One 自评表 sheet of a workbook, validated like a project file (and merged with the
    ``_department.yaml`` defaults of the workbook's folder), each field located in its cell."""

    path: Path
    sheet: str
    params: ProjectParams
    rules: Rules
    data: dict[str, Any]
    cells: dict[Loc, str]

    @property
    def label(self) -> str:
        return f"{self.path}!{self.sheet}"

    def locate(self, loc: Loc) -> tuple[Path, None]:
        return self.path, None

    def cell_of(self, loc: Loc) -> str | None:
        """The cell that holds ``loc`` or, for what the form has no cell for, the nearest one
        that does (a row's 原因 → its row's label); None when the sheet does not hold it."""
        for end in range(len(loc), 0, -1):
            if loc[:end] in self.cells:
                return self.cells[loc[:end]]
        return None


def load_sheets(path: Path | str, rules: Sequence[Path | str] = ()) -> Iterator[LoadedSheet | ParamsError]:
    """Each 自评表 sheet of a workbook as a project, or the error that stopped it (the others go on)."""
    path = Path(path)
    try:
        imported = read_workbook(path, keep_going=True, as_printed=True)
        shared = department_defaults(path.parent)
        sheet_rules = load_rules(*rules_files_for(path), *rules)
    except ParamsError as exc:
        yield exc
        return
    yield from imported.problems.values()
    for title, data in imported.projects.items():
        cells = imported.cells[title]
        merged = deep_merge(shared[1], data) if shared else data
        if "year" not in merged and _year_of(path):  # a form without "（2024年度）" in a 2024.xlsx or a 2024/ folder
            merged = {**merged, "year": _year_of(path)}
        try:
            params = ProjectParams.model_validate(_drop_nulls(merged))
        except ValidationError as exc:
            yield ParamsError([Problem(path, None, cells.get(tuple(e["loc"]), f"{title}: {field_path(e['loc'])}"),
                                       describe(e)) for e in exc.errors()])
            continue
        yield LoadedSheet(path, title, params, sheet_rules, merged, cells)


def _year_of(path: Path) -> int | None:
    """The year a workbook's name or folder gives ("2024.xlsx", "params/2024/…"), if any."""
    for name in (path.stem, path.parent.name, path.parent.parent.name):
        found = re.search(r"(?<!\d)(?:19|20)\d{2}(?!\d)", name)
        if found:
            return int(found.group(0))
    return None
