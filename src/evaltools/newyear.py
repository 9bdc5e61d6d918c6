"""Starting the next year from this one: ``evaltools new-year params/2024 params/2025``.

What stays from one year to the next is carried forward: the departments and their projects
(each file keeps its place, so last year's file is found beside it), what a department's
projects share (unit, address, team), the unit's data, goals, indicators with their targets
and weights, the rules. What belongs to the year is cleared, to be filled anew: money
(budgets, spending, the department's income and expenditure), actuals and scores, the
narrative, sign-off and report dates, the figures a form states. Year numbers in indicator
names and targets move with the year ("2024年度" → "2025年度"). The figures a department
reports for two years move one column: this year's 决算 becomes next year's 上年决算.

The files are edited in place, as YAML with its comments (ruamel.yaml's round trip): comments,
key order, anchors and the way each value is written stay as they were; only what moves or is
cleared changes. A cleared value keeps its key, blank (``date:``), so that it is filled where it
was; cleared texts (实际完成情况, the report's sections) are left as "……". ``evaltools check``
lists what is still to fill, one TO-FILL finding per file (budget, dates, actuals, texts), and
each placeholder (TEMPLATE-TEXT) until it is filled in. An existing year is never written into.
"""

from __future__ import annotations

import copy
import io
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from evaltools.domain.checks.completeness import TO_FILL
from evaltools.domain.files import write_atomic
from evaltools.domain.history import shift_years
from evaltools.domain.workspace import DEPARTMENT_FILE, RULES_FILE, YAML_SUFFIXES, display_path, is_project_file
from evaltools.domain.yamlio import ParamsError, Problem, as_written, read_yaml, readable

INDICATOR_KEEPS = ("level1", "level2", "name", "target", "weight")
YEAR_COLUMNS = ("three_public", "public_funds", "procurement")  # 上年决算/本年预算/本年决算


@dataclass
class CarriedFile:
    source: Path
    target: Path
    carried: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)


@dataclass
class NewYear:
    source: Path
    target: Path
    files: list[CarriedFile] = field(default_factory=list)


def _year_of(folder: Path) -> int:
    if not folder.name.isdigit() or len(folder.name) != 4:
        raise ParamsError([Problem(folder, None, "", "应为年度文件夹，如 params/2024")])
    return int(folder.name)


def _blank(holder: dict[str, Any], key: str) -> bool:
    """Clear ``holder[key]`` where it stands (the key stays, blank, to be filled there)."""
    if holder.get(key) is None:
        return False
    holder[key] = None
    return True


def _clear_dates(evaluation: dict[str, Any], cleared: list[str], where: str) -> None:
    """Report and sign-off dates, and the notice the year's evaluation follows, are the new year's."""
    for key in ("report_date", "notice_date", "basis", "leader_opinion"):
        if _blank(evaluation, key):
            cleared.append(f"{where}{key}")
    for holder, prefix in ((evaluation.get("signoff") or {}, f"{where}signoff."), (evaluation, where)):
        for role in ("team_leader", "unit_head", "department_head", "finance_office"):
            if isinstance(holder.get(role), dict) and _blank(holder[role], "date"):
                cleared.append(f"{prefix}{role}.date")
    if isinstance(evaluation.get("form"), dict) and _blank(evaluation["form"], "date"):
        cleared.append(f"{where}form.date")


def _indicators(indicators: list, old: int, new: int, carried: list[str], cleared: list[str]) -> list:
    for indicator in indicators:
        if not isinstance(indicator, dict):
            continue
        for key in [k for k in indicator if k not in INDICATOR_KEEPS]:
            del indicator[key]
        for key in ("name", "target"):
            if isinstance(indicator.get(key), str):
                indicator[key] = shift_years(indicator[key], old, new)
        indicator["actual"] = ""
    if indicators:
        carried.append(f"{len(indicators)} 个绩效指标（名称、指标值、分值）")
        cleared.append("各指标的实际完成值、得分、完成档次、偏差原因分析")
    return indicators


def _texts_to_fill(texts: dict[str, Any], old: int, new: int) -> None:
    """A section of texts: each text left as "……" to fill in; the attached documents stay
    listed (their titles' years moved), so that check names each file still to attach."""
    for key in list(texts):
        if isinstance(texts[key], str):
            texts[key] = TO_FILL
        elif key == "attachments" and isinstance(texts[key], list):
            for i, attachment in enumerate(texts[key]):
                if isinstance(attachment, str):
                    texts[key][i] = shift_years(attachment, old, new)
                elif isinstance(attachment, dict) and isinstance(attachment.get("title"), str):
                    attachment["title"] = shift_years(attachment["title"], old, new)
        else:
            del texts[key]


def _budget(budget: dict[str, Any]) -> None:
    for row in budget.values():
        if isinstance(row, dict):
            for key in list(row):
                if key not in ("initial", "annual", "executed"):
                    del row[key]
            for key in ("initial", "annual", "executed"):
                row[key] = None


def carry_project(data: dict[str, Any], old: int, new: int) -> tuple[dict[str, Any], CarriedFile]:
    """Next year's project file from this year's: see the module docstring."""
    data = copy.deepcopy(data)
    report = CarriedFile(Path(), Path())
    carried, cleared = report.carried, report.cleared
    if "year" in data:
        data["year"] = new
    project = data.get("project")
    if isinstance(project, dict):
        carried.append("项目（名称、科目、负责人、资金类型）")
        period = project.get("period")
        if isinstance(period, dict) and all(str(period.get(k, "")).startswith(str(old)) for k in ("start", "end")):
            for key in period:
                period[key] = shift_years(str(period[key]), old, new)
    if isinstance(data.get("evaluation"), dict):
        _clear_dates(data["evaluation"], cleared, "evaluation.")
    for key, label in (("investment", "投资与到位资金"), ("spending", "支出明细"), ("declared", "表中所填数字")):
        if data.pop(key, None) is not None:
            cleared.append(label)
    for key, label in (("summary", "基本情况表文字"), ("narrative", "报告正文")):
        if isinstance(data.get(key), dict):
            _texts_to_fill(data[key], old, new)
            cleared.append(f"{label}（各段留作“……”待填写）")
    if isinstance(data.get("budget"), dict):
        _budget(data["budget"])
        cleared.append("项目资金（年初预算数、全年预算数、全年执行数）")
    goals = data.get("goals")
    if isinstance(goals, dict):
        goals.setdefault("expected", TO_FILL)
        goals["achieved"] = TO_FILL
        carried.append("年度总体目标（预期目标）")
        cleared.append("年度总体目标的实际完成情况")
    if isinstance(data.get("indicators"), list):
        data["indicators"] = _indicators(data["indicators"], old, new, carried, cleared)
    return data, report


def carry_department(data: dict[str, Any], old: int, new: int) -> tuple[dict[str, Any], CarriedFile]:
    """Next year's ``_department.yaml``: shared defaults and the unit carried, the year's figures cleared."""
    data = copy.deepcopy(data)
    report = CarriedFile(Path(), Path())
    carried, cleared = report.carried, report.cleared
    defaults = data.get("defaults")
    if isinstance(defaults, dict):
        if "year" in defaults:
            defaults["year"] = new
        if isinstance(defaults.get("evaluation"), dict):
            _clear_dates(defaults["evaluation"], cleared, "defaults.evaluation.")
        carried.append("各项目共用的参数（defaults：单位、地址、评价人员）")
    if "year" in data:
        data["year"] = new
    unit = data.get("unit")
    if isinstance(unit, dict):
        for key in ("actual_staff", "tasks", "achievements"):
            if unit.pop(key, None) is not None:
                cleared.append(f"unit.{key}")
        carried.append("部门（单位）基本情况")
    for key, label in (("income", "年度收入情况"), ("expenditure", "年度支出和结余情况"), ("funds", "年度预算申请"),
                       ("fixed_assets", "固定资产"), ("attachments", "附件（本年度的通知等）")):
        if data.pop(key, None) is not None:
            cleared.append(label)
    if isinstance(data.get("narrative"), dict):
        _texts_to_fill(data["narrative"], old, new)
        cleared.append("报告正文（各段留作“……”待填写）")
    others = data.get("other_projects")
    if isinstance(others, list):  # the same projects, likely; their amounts are the new year's
        data["other_projects"] = [{"name": p.get("name", TO_FILL)} for p in others if isinstance(p, dict)]
        carried.append("没有参数文件的其他项目（名称）")
        cleared.append("其他项目的全年预算数、全年执行数")
    for key in YEAR_COLUMNS:
        figures = data.get(key)
        if not isinstance(figures, dict):
            continue
        final = figures.get("final")
        for column in list(figures):
            del figures[column]
        if final is not None:  # this year's 决算 is next year's 上年决算
            figures["previous_final"] = final
            carried.append(f"{key}：本年决算数 → 上年决算数")
        else:
            del data[key]
    if isinstance(data.get("goals"), list):
        goals = [goal for goal in data["goals"] if isinstance(goal, dict)]
        for goal in goals:
            for column in [k for k in goal if k != "expected"]:
                del goal[column]
            goal.setdefault("expected", TO_FILL)
        data["goals"] = goals
        carried.append("整体支出绩效定性目标（预期）")
    if isinstance(data.get("overall_goals"), dict):
        data["overall_goals"].setdefault("expected", TO_FILL)
        data["overall_goals"]["achieved"] = TO_FILL
        carried.append("年度总体目标（预期目标）")
    if isinstance(data.get("indicators"), list):
        data["indicators"] = _indicators(data["indicators"], old, new, carried, cleared)
    if isinstance(data.get("evaluation"), dict):
        _clear_dates(data["evaluation"], cleared, "evaluation.")
    return data, report


def round_trip() -> YAML:
    """YAML that keeps comments, key order, anchors, quotes and flow style, as this project writes it."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a line the user wrapped (or did not)
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


# ruamel.yaml moves the comment after an anchored collection's key ("team: &team  # …") to a
# line of its own; put it back where the user wrote it.
_ANCHOR_COMMENT = re.compile(r"^([ \t]*[^#\n]*: &[^\s#]+)\n[ \t]+(#[^\n]*)$", re.MULTILINE)


def dump_round_trip(data: Any, header: str = "") -> str:
    out = io.StringIO()
    round_trip().dump(data, out)
    return header + _ANCHOR_COMMENT.sub(r"\1  \2", out.getvalue())


def _header(source: Path, report: CarriedFile, new: int) -> str:
    lines = [f"# {new} 年度：由 evaltools new-year 从 {display_path(source)} 结转。"]
    if report.carried:
        lines.append(f"# 结转：{'；'.join(report.carried)}。")
    if report.cleared:
        lines.append(f"# 已清空、待填写：{'；'.join(report.cleared)}。")
    return "\n".join(lines) + "\n\n"


def new_year(source: Path | str, target: Path | str) -> NewYear:
    """Write next year's parameter files into ``target`` (which must not exist) from ``source``."""
    source, target = Path(source), Path(target)
    old, new = _year_of(source), _year_of(target)
    if not source.is_dir():
        raise ParamsError([Problem(source, None, "", "年度文件夹不存在")])
    if target.exists():
        raise ParamsError([Problem(target, None, "", "已存在：new-year 不覆盖已有的年度（要重来，先移走它）")])
    if new == old:
        raise ParamsError([Problem(target, None, "", f"新年度与原年度同为 {old}")])
    result = NewYear(source, target)
    made: list[tuple[Path, str]] = []
    for path in sorted(source.rglob("*")):
        if not path.is_file() or path.suffix not in YAML_SUFFIXES or any(
                part.startswith(".") for part in path.relative_to(source).parts):
            continue
        destination = target / path.relative_to(source)
        if path.name == RULES_FILE:
            made.append((destination, path.read_text(encoding="utf-8")))
            result.files.append(CarriedFile(path, destination, ["评分规则（原样）"]))
            continue
        if path.name != DEPARTMENT_FILE and not is_project_file(path):
            continue
        read_yaml(path)  # safely first: a file that is not plain data is said so, naming its line
        text, stood_in = readable(path.read_text(encoding="utf-8"))  # Word's control characters carried as written
        data = round_trip().load(text)
        carry = carry_department if path.name == DEPARTMENT_FILE else carry_project
        new_data, report = carry(data, old, new)
        report.source, report.target = path, destination
        text = dump_round_trip(new_data, _header(path, report, new))
        made.append((destination, as_written(text) if stood_in else text))
        result.files.append(report)
    # Everything is read and made first: a file that cannot be read leaves no half-made year behind.
    try:
        for destination, text in made:
            write_atomic(destination, text)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return result
