"""A year (or a department, or some files) as pandas DataFrames, for analysts and the overview.

- :func:`read_projects`: one row per project: 部门, 项目, 资金类型, 全年预算数, 全年执行数,
  执行率, the score of 预算执行率 and of each 一级指标, 总分, 等级, the check findings by
  severity, and last year's 总分/等级/执行率 where last year's file exists;
- :func:`read_indicators`: one row per indicator, columns named as the 自评表 names them;
- :func:`read_findings`: one row per check finding.

Columns are numeric where the data is (``float64`` for money, rates and scores, ``Int64`` for
counts and years), never ``Decimal`` objects or strings: money in 万元, rates in percent
(100.0 = 100 %). Each project is loaded, scored and checked from its parameter file; one that
cannot be read is left out with a warning naming the file and the problem.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd

from evaltools.domain.checks import SEVERITY_LABELS, Finding, check_project
from evaltools.domain.cache import JsonCache
from evaltools.domain.fingerprints import Known, sources_fingerprint
from evaltools.domain.history import previous_year
from evaltools.domain import formatting
from evaltools.domain.scoring import ScoreCard, score
from evaltools.domain.workspace import (
    DEPARTMENT_FILE,
    RULES_FILE,
    LoadedProject,
    display_path,
    find_project_files,
    listed_attachments,
    load_project,
)
from evaltools.domain.yamlio import ParamsError

PathLike = str | Path


class UnreadableProject(UserWarning):
    """A project file left out of a table because it cannot be read (the message says why)."""

# The 自评表's own column names, for the indicator table.
INDICATOR_COLUMNS = {
    "level1": "一级指标", "level2": "二级指标", "name": "三级指标", "target": "年度指标值",
    "actual": "实际完成值", "weight": "分值", "score": "得分", "deviation": "偏差原因分析及改进措施",
}
NUMERIC = {"全年预算数", "全年执行数", "执行率", "总分", "上年总分", "上年执行率", "分值", "得分", "扣分",
           "实际完成值（数值）"}




def _paths(path: PathLike | Iterable[PathLike]) -> list[PathLike]:
    return [path] if isinstance(path, (str, Path)) else list(path)


def scored(path: PathLike | Iterable[PathLike],
           rules_files: Iterable[PathLike] = ()) -> Iterator[tuple[LoadedProject, ScoreCard, list[Finding]]]:
    """Every readable project under ``path``, scored and checked."""
    rules_files = list(rules_files)
    for file in find_project_files(_paths(path)):
        found = _scored(file, rules_files)
        if found is not None:
            yield found


def _scored(file: Path, rules_files: list[PathLike], strict: bool = False
            ) -> tuple[LoadedProject, ScoreCard, list[Finding]] | None:
    """One project file loaded, scored and checked; None (with a warning) when it cannot be
    read, or (``strict``) :class:`ParamsError`."""
    try:
        project = load_project(file, rules_files)
    except ParamsError as exc:
        if strict:
            raise
        warnings.warn(f"{file} 无法读取，未列入：{exc}", UnreadableProject, stacklevel=4)
        return None
    card = score(project.params, project.rules)
    return project, card, check_project(project, card)


def _common(project: LoadedProject) -> dict:
    p = project.params
    return {"年度": p.year, "部门": p.project.department, "项目": p.project.name, "文件": display_path(project.path)}


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    """Rows in the order their keys come (rules may name the levels differently), typed."""
    frame = pd.DataFrame(rows, columns=list(dict.fromkeys(k for row in rows for k in row)) if rows else columns)
    for column in frame.columns:
        if column in NUMERIC or column.endswith("得分"):
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
        elif column in ("年度", "行", *SEVERITY_LABELS.values()):
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("Int64")
        else:
            frame[column] = frame[column].astype("string")
    return frame


def _project_row(project: LoadedProject, card: ScoreCard, findings: list[Finding]) -> dict:
    budget = card.execution.budget
    last = previous_year(project.path)
    return {
        **_common(project),
        "资金类型": str(project.params.project.fund_type),
        "全年预算数": formatting.number(budget.annual), "全年执行数": formatting.number(budget.executed),
        "执行率": formatting.percent_number(card.execution.rate),
        f"{project.rules.execution.label}得分": formatting.number(card.execution.score),
        **{f"{level.name}得分": formatting.number(level.score) for level in card.levels},
        "总分": formatting.number(card.total), "等级": card.grade,
        **{label: sum(f.severity == severity for f in findings) for severity, label in SEVERITY_LABELS.items()},
        "上年总分": formatting.number(last.total) if last else None, "上年等级": last.grade if last else None,
        "上年执行率": formatting.percent_number(last.rate) if last else None,
    }


def _indicator_rows(project: LoadedProject, card: ScoreCard) -> list[dict]:
    return [{
        **_common(project),
        "一级指标": row.level1 or row.indicator.level1, "二级指标": row.level2, "三级指标": row.indicator.name,
        "年度指标值": row.indicator.target, "实际完成值": row.indicator.actual,
        "实际完成值（数值）": formatting.number(row.actual.value) if row.actual else None,
        "单位": row.actual.unit if row.actual else None,
        "分值": formatting.number(row.weight), "得分": formatting.number(row.score), "扣分": formatting.number(row.lost),
        "偏差原因分析及改进措施": row.indicator.deviation,
    } for row in card.indicators]


def _finding_rows(project: LoadedProject, findings: list[Finding]) -> list[dict]:
    return [{**_common(project), "代码": f.code, "级别": SEVERITY_LABELS[f.severity], "字段": f.field,
             "行": f.line, "说明": f.message} for f in findings]


PROJECT_COLUMNS = ["年度", "部门", "项目", "文件", "资金类型", "全年预算数", "全年执行数", "执行率", "总分", "等级",
                   *SEVERITY_LABELS.values(), "上年总分", "上年等级", "上年执行率"]
INDICATOR_TABLE_COLUMNS = ["年度", "部门", "项目", "文件", *INDICATOR_COLUMNS.values(), "实际完成值（数值）", "单位", "扣分"]
FINDING_COLUMNS = ["年度", "部门", "项目", "文件", "代码", "级别", "字段", "行", "说明"]


class RowCache(JsonCache):
    """Each project's rows (its line, its indicators, its findings) kept in a JSON file by the
    fingerprint of the files they are computed from (:func:`evaltools.domain.fingerprints.sources_fingerprint`),
    so that a year with one project changed loads that one. A missing, stale or unreadable
    file only costs the computing; rows are never taken for other contents."""

    def __init__(self, path: PathLike | None = None):
        super().__init__(path, "projects")
        self.known = Known()  # each file hashed once per reading

    def entry(self, file: Path, rules_files: list[PathLike]) -> tuple[str, dict | None]:
        """The key of the project's files, and its kept entry (its rows, the files it attaches
        and whether each existed): None where its files changed, or where a file it attaches
        came or went since (its findings say whether one is missing)."""
        key = sources_fingerprint(file, rules_files, self.known)
        entry = self.get(self.known.name(file))
        if not entry or entry.get("key") != key or not isinstance(entry.get("attached"), dict) \
                or _attached(file, entry["attached"]) != entry["attached"]:
            return key, None
        return key, entry


def _attached(file: Path, names: Iterable[str]) -> dict[str, bool]:
    """Whether each file ``names`` (from the project's folder) exists."""
    return {name: (file.parent / name).is_file() for name in names}


def attached_as_kept(file: Path, entry: dict) -> bool:
    """Whether the files a project's kept rows record it attaches exist, or not, as then."""
    return _attached(file, entry["attached"]) == entry["attached"]


def year_state(folder: Path, known: Known) -> tuple[tuple, list[Path]]:
    """What a year folder's tables are read from, as fingerprints of contents: each project's
    name and sources (:func:`sources_fingerprint`), each department folder's file, the year's
    rules; and the project files. Two folders in the same state give the same tables, but for
    the files each project attaches, which its rows say it found or not (:func:`attached_as_kept`)."""
    files = find_project_files([folder])
    projects = tuple((known.name(file), sources_fingerprint(file, (), known)) for file in files)
    departments = tuple((child.name, known.digest(child / DEPARTMENT_FILE))
                        for child in sorted(folder.iterdir()) if child.is_dir())
    return (folder.name, projects, departments, known.digest(folder / RULES_FILE)), files


def _year_rows(path: PathLike | Iterable[PathLike], rules_files: Iterable[PathLike],
               cache: RowCache, strict: bool = False, most: int | None = None) -> Iterator[dict]:
    """Every readable project's rows under ``path``: from ``cache`` where its files are unchanged
    (``strict``: an unreadable one raises; more than ``most`` to compute: :class:`TooMany`)."""
    rules_files = list(rules_files)
    computed = 0
    for file in find_project_files(_paths(path)):
        key, entry = cache.entry(file, rules_files)
        if entry is None:
            computed += 1
            if most is not None and computed > most:
                raise TooMany(most)
            loaded = _scored(file, rules_files, strict)
            if loaded is None:
                continue
            project, card, found = loaded
            rows = {"project": _project_row(project, card, found), "indicators": _indicator_rows(project, card),
                    "findings": _finding_rows(project, found)}
            named = (os.path.relpath(a, file.parent) for a in listed_attachments(file, existing=False))
            entry = {"key": key, "rows": rows, "attached": _attached(file, named)}
        cache.keep(cache.known.name(file), entry)
        yield entry["rows"]


class TooMany(Exception):
    """More projects to compute than a reading was allowed."""


def read_year(path: PathLike | Iterable[PathLike], rules_files: Iterable[PathLike] = (),
              cache: RowCache | None = None, *, save: bool = True, strict: bool = False,
              most: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The projects, indicators and findings tables at once, each project scored and checked
    once, or taken from ``cache`` where its files are unchanged (the cache is saved after,
    unless not to ``save``). ``strict``: a project that cannot be read raises :class:`ParamsError`
    rather than warn; ``most``: more projects than that to compute raise :class:`TooMany`."""
    cache = cache or RowCache()
    projects, indicators, findings = [], [], []
    for rows in _year_rows(path, rules_files, cache, strict, most):
        projects.append(rows["project"])
        indicators += rows["indicators"]
        findings += rows["findings"]
    if save:
        cache.save()
    return _frame(projects, PROJECT_COLUMNS), _frame(indicators, INDICATOR_TABLE_COLUMNS), _frame(findings, FINDING_COLUMNS)


def read_projects(path: PathLike | Iterable[PathLike], rules_files: Iterable[PathLike] = ()) -> pd.DataFrame:
    """One row per project under ``path`` (a year or department folder, a file, or a list of them)."""
    rows = [_project_row(project, card, findings) for project, card, findings in scored(path, rules_files)]
    return _frame(rows, PROJECT_COLUMNS)


def read_indicators(path: PathLike | Iterable[PathLike], rules_files: Iterable[PathLike] = ()) -> pd.DataFrame:
    """One row per indicator of every project under ``path``, with its 得分 and 扣分 by the rules."""
    rows = [row for project, card, _ in scored(path, rules_files) for row in _indicator_rows(project, card)]
    return _frame(rows, INDICATOR_TABLE_COLUMNS)


def read_findings(path: PathLike | Iterable[PathLike], rules_files: Iterable[PathLike] = ()) -> pd.DataFrame:
    """One row per check finding of every project under ``path``."""
    return read_year(path, rules_files)[2]


# --- writing a table --------------------------------------------------------------------------

TABLE_FORMATS = (".csv", ".xlsx", ".parquet")


def table_bytes(frame: pd.DataFrame, suffix: str) -> bytes:
    """The frame as a file of the kind ``suffix`` names (.csv, .xlsx, .parquet)."""
    suffix = suffix.lower()
    buffer = io.BytesIO()
    if suffix == ".csv":
        # UTF-8 with a BOM: Excel on Windows opens Chinese CSV correctly only so.
        buffer.write(frame.to_csv(index=False).encode("utf-8-sig"))
    elif suffix == ".parquet":
        frame.to_parquet(buffer, index=False)
    elif suffix == ".xlsx":
        with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
            frame.to_excel(writer, index=False, sheet_name="evaltools")
            for row in writer.sheets["evaltools"].iter_rows():
                for cell in row:
                    if cell.data_type == "f":  # text such as "=1+1" stays text, never a live formula
                        cell.data_type = "s"
    else:
        raise ValueError(f"不支持的表格格式 {suffix or '（无扩展名）'}：应为 {'、'.join(TABLE_FORMATS)}")
    return buffer.getvalue()
