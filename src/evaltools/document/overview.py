"""The year at a glance, for reviewers at the 财政局: the computation behind
``notebooks/year_overview.ipynb`` (which narrates it).

Every figure comes from :mod:`evaltools.domain.frames` (each project scored and checked from its
parameter file) and the departments' ``_department.yaml``; tables are shown in the reports'
style (the ``grid`` table of the report CSS), each under its caption and kept with it (the
caption is a ``table-caption keep-next`` paragraph: a page never ends on it), and charts drawn
like the reports' charts, their labels whole. What it shows speaks the reviewer's language
(部门, 项目, 自评), never the tool's (files, commands).
"""

from __future__ import annotations

import hashlib
import math
import warnings
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pandas as pd

from evaltools.domain import formatting
from evaltools.document.charts import ChartCache, department_spending_chart, execution_chart, grades_by_department_chart
from evaltools.domain.checks import CHECKS, DEPARTMENT_CHECKS
from evaltools.domain.department import project_spending
from evaltools.domain.files import write_atomic
from evaltools.domain.fingerprints import Known
from evaltools.domain.frames import RowCache, attached_as_kept, read_year, year_state
from evaltools.domain.reviews import DECISIONS, UNREVIEWED, current, read_decisions, reviews_file
from evaltools.document.parts import Figure, Markdown, Section, h, p, section, table, td, th, tr
from evaltools.domain.rollup import read_department
from evaltools.domain.rules import Rules, load_rules
from evaltools.domain.workspace import DEPARTMENT_FILE, RULES_FILE, display_path, find_project_files, workspace_root
from evaltools.domain.yamlio import ParamsError

EXECUTION_BINS = [(100.0, math.inf, "100%"), (90.0, 100.0, "90%—100%"), (80.0, 90.0, "80%—90%"),
                  (60.0, 80.0, "60%—80%"), (-math.inf, 60.0, "60%以下")]
MONEY = ("全年预算数", "全年执行数", "项目支出", "已自评项目全年预算数", "其他项目全年预算数", "差额")
PERCENT = ("执行率", "上年执行率", "覆盖率")
COUNTS = ("项目数", "错误", "提示", "个数", "涉及项目")


def _decimal(value: float) -> Decimal:
    return Decimal(repr(float(value)))


@dataclass
class YearOverview:
    folder: Path
    year: int
    rules: Rules
    projects: pd.DataFrame
    indicators: pd.DataFrame
    findings: pd.DataFrame
    departments: pd.DataFrame
    charts: ChartCache = field(default_factory=ChartCache)
    # The year's parameter files that could not be read (by their names from the workspace):
    # left out of every table, and said so (evaltools check says why)
    unreadable: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, folder: Path | str, rows_cache: Path | str | None = None,
             charts_cache: Path | str | None = None) -> YearOverview:
        """Everything under ``params/<year>``: projects, indicators, findings, departments; with
        ``rows_cache`` and ``charts_cache`` (files, as ``evaltools batch`` gives), unchanged
        projects' rows are reused, and charts drawn from the same data before."""
        folder = Path(folder)
        rules = load_rules(*([folder / RULES_FILE] if (folder / RULES_FILE).is_file() else []))
        read = _read_before(folder, rows_cache) or _read(folder, RowCache(rows_cache))
        return cls(folder, int(folder.name), rules, read.projects.copy(), read.indicators.copy(), read.findings.copy(),
                   read.departments.copy(), ChartCache(charts_cache), list(read.unreadable))

    # --- showing ------------------------------------------------------------------------------

    def show(self, column: str, value: object) -> str:
        """One cell as the reports print it: money, scores and rates at the rules' display precisions."""
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
            return formatting.DASH
        if column in COUNTS or isinstance(value, int):
            return str(int(value))
        if isinstance(value, float):
            if column in MONEY:
                return formatting.money(_decimal(value), self.rules)
            if column in PERCENT:
                return formatting.percent(_decimal(value) / formatting.HUNDRED, self.rules)
            return formatting.score(_decimal(value), self.rules)
        return str(value)

    def table(self, frame: pd.DataFrame, caption: str | None = None) -> Section:
        """A DataFrame as a report table (the reports' grid), under its caption and kept with it;
        numbers right-aligned."""
        numeric = {c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])}
        head = tr(*(th(column) for column in frame.columns))
        rows = [tr(*(td(self.show(column, value), cls="num" if column in numeric else None,
                        value=None if column not in numeric or self.show(column, value) == formatting.DASH else value)
                     for column, value in zip(frame.columns, record, strict=True)))
                for record in frame.itertuples(index=False)]
        if not rows:
            rows = [tr(td("无", colspan=len(frame.columns)))]
        return section(p(caption, cls="table-caption keep-next") if caption else None, table(*rows, head=[head]),
                       cls="captioned")

    def say(self, text: str) -> Markdown:
        """The notebook's narration (Markdown) as part of the report."""
        return Markdown(text)

    def title(self) -> Section:
        lost = (f"另有{len(self.unreadable)}个参数文件无法读取，未计入本总览：{'、'.join(self.unreadable)}"
                "（evaltools check 说明原因）。") if self.unreadable else ""
        return section(h(1, f"{self.year}年度预算绩效自评总览", cls="report-title"),
                       p(f"{len(self.departments)}个部门、{len(self.projects)}个项目；评分口径：{self.rules.name}"),
                       p(lost) if lost else None)

    # --- the figures ----------------------------------------------------------------------------

    def grade_order(self) -> list[str]:
        labels = [band.label for band in self.rules.grades]
        return labels + sorted(set(self.projects["等级"].dropna()) - set(labels))

    def grades(self) -> pd.DataFrame:
        """Projects per grade and department, best grade first, with totals."""
        counts = pd.crosstab(self.projects["部门"], self.projects["等级"])
        counts = counts.reindex(columns=[g for g in self.grade_order() if g in counts.columns], fill_value=0)
        counts["项目数"] = counts.sum(axis=1)
        counts.loc["合计"] = counts.sum()
        return counts.reset_index().rename_axis(columns=None).astype({c: "Int64" for c in counts.columns})

    def execution(self) -> pd.DataFrame:
        """Projects by 执行率 band."""
        rates = self.projects["执行率"]
        rows = [{"执行率": label, "项目数": int(((rates >= low) & (rates < high)).sum())} for low, high, label in EXECUTION_BINS]
        rows.append({"执行率": "无预算数", "项目数": int(rates.isna().sum())})
        frame = pd.DataFrame(rows)
        frame["执行率"] = frame["执行率"].astype("string")
        return frame.astype({"项目数": "Int64"})

    def under(self, threshold: float = 90.0) -> pd.DataFrame:
        """Projects whose 执行率 is under ``threshold`` percent, lowest first."""
        low = self.projects[self.projects["执行率"] < threshold].sort_values("执行率")
        return low[["部门", "项目", "全年预算数", "全年执行数", "执行率", "总分", "等级"]].reset_index(drop=True)

    def lost_points(self, n: int = 10) -> pd.DataFrame:
        """The indicators that lost most points, and the 二级指标 that lost most over the year."""
        lost = self.indicators[self.indicators["扣分"] > 0].sort_values(["扣分", "项目"], ascending=[False, True])
        return lost[["部门", "项目", "二级指标", "三级指标", "年度指标值", "分值", "得分", "扣分"]].head(n).reset_index(drop=True)

    def lost_by_category(self) -> pd.DataFrame:
        lost = self.indicators[self.indicators["扣分"] > 0]
        frame = (lost.groupby(["一级指标", "二级指标"], as_index=False)
                 .agg(扣分=("扣分", "sum"), 个数=("扣分", "size"), 涉及项目=("项目", "nunique"))
                 .sort_values("扣分", ascending=False))
        return frame.astype({"个数": "Int64", "涉及项目": "Int64"}).reset_index(drop=True)

    def findings_by_code(self) -> pd.DataFrame:
        """Check findings by code: how many, in how many projects, and what the check looks for."""
        described = {spec.code: spec.description for spec in [*CHECKS, *DEPARTMENT_CHECKS]}
        if self.findings.empty:
            columns = (("代码", "string"), ("级别", "string"), ("个数", "Int64"), ("涉及项目", "Int64"), ("检查内容", "string"))
            return pd.DataFrame({column: pd.Series(dtype=kind) for column, kind in columns})
        frame = (self.findings.groupby(["代码", "级别"], as_index=False)
                 .agg(个数=("代码", "size"), 涉及项目=("项目", "nunique"))
                 .sort_values(["个数", "代码"], ascending=[False, True]))
        frame["检查内容"] = frame["代码"].map(described).astype("string")
        return frame.astype({"个数": "Int64", "涉及项目": "Int64"}).reset_index(drop=True)

    def lowest(self, n: int = 10) -> pd.DataFrame:
        """The lowest-scoring projects, with last year's score where there is one."""
        low = self.projects.sort_values(["总分", "项目"]).head(n)
        return low[["部门", "项目", "总分", "等级", "执行率", "上年总分", "上年等级"]].reset_index(drop=True)

    def year_over_year(self) -> pd.DataFrame:
        """This year beside last year, for the projects that have last year's file."""
        both = self.projects[self.projects["上年总分"].notna()].copy()
        both["总分变化"] = both["总分"] - both["上年总分"]
        return both[["部门", "项目", "上年总分", "总分", "总分变化", "上年等级", "等级", "上年执行率", "执行率"]
                    ].sort_values("总分变化").reset_index(drop=True)

    def decisions(self) -> pd.DataFrame:
        """The reviewers' decisions (``reviews/<year>.yaml``) on the projects, per department:
        通过, 退回修改, 待审 as recorded, and 未审; with totals."""
        decided = current(read_decisions(reviews_file(workspace_root(self.folder / DEPARTMENT_FILE), self.year)))
        reports = self.projects["部门文件夹"] + "/" + self.projects["文件"].map(lambda f: Path(f).stem)
        status = reports.map(lambda r: decided[r].decision if r in decided else UNREVIEWED)
        counts = pd.crosstab(self.projects["部门"], status).reindex(columns=[*DECISIONS, UNREVIEWED], fill_value=0)
        counts.insert(0, "项目数", counts.sum(axis=1))
        counts.loc["合计"] = counts.sum()
        return counts.reset_index().rename_axis(columns=None).astype({c: "Int64" for c in counts.columns})

    # --- charts -----------------------------------------------------------------------------------

    def grade_chart(self) -> Figure:
        counts = pd.crosstab(self.projects["部门"], self.projects["等级"])
        order = [g for g in self.grade_order() if g in counts.columns]
        return self.charts.chart(grades_by_department_chart,
                                 {name: {g: int(counts.loc[name, g]) for g in order} for name in counts.index})

    def execution_chart(self, threshold: float = 90.0, limit: int = 30) -> Figure:
        """The projects' 执行率, lowest first: all of them, or the lowest ``limit`` of a larger year
        (a bar each for a thousand projects is a chart nobody reads, and an image of 50,000
        pixels; the 执行率 bands and the table of projects under ``threshold`` list them all)."""
        rates = self.projects.sort_values("执行率", kind="stable")[["项目", "部门", "执行率"]].dropna()
        names = rates["项目"].where(~rates["项目"].duplicated(keep=False), rates["项目"] + "（" + rates["部门"] + "）")
        shown = {name: (rate, self.show("执行率", rate)) for name, rate in zip(names[:limit], rates["执行率"][:limit],
                                                                                strict=True)}
        caption = None if len(rates) <= limit else f"执行率最低的{limit}个项目（共{len(rates)}个；红色：低于{threshold:g}%）"
        return self.charts.chart(execution_chart, shown, threshold, caption)

    def department_chart(self) -> Figure:
        frame = self.departments
        return self.charts.chart(department_spending_chart, {
            name: (None if pd.isna(stated) else stated, covered, self.show("项目支出", stated), self.show("项目支出", covered))
            for name, stated, covered in zip(frame["部门"], frame["项目支出"], frame["已自评项目全年预算数"], strict=True)})


@dataclass(frozen=True)
class _Read:
    """A year's tables, and what they were read from."""

    projects: pd.DataFrame
    indicators: pd.DataFrame
    findings: pd.DataFrame
    departments: pd.DataFrame
    state: tuple = ()  # evaltools.domain.frames.year_state
    kept: dict[str, dict] = field(default_factory=dict)  # each project's rows as kept, by its name
    cache_seen: bytes = b""  # the rows cache read (a hash of its bytes)…
    cache_after: str | None = None  # …and what it becomes (None: as it was)
    unreadable: tuple[str, ...] = ()  # the files that could not be read (see _departments)


def _read(folder: Path, cache: RowCache, ahead: bool = False) -> _Read:
    """The year's tables (``ahead``: strictly, see :func:`read_ahead`), the cache saved unless ``ahead``."""
    projects, indicators, findings = read_year(folder, cache=cache, save=not ahead, strict=ahead,
                                               most=AHEAD_MOST if ahead else None)
    folders: dict[str, str] = {}  # each file's department folder, its path read once (a year's 8,000 indicators name 1,000 files)
    projects.insert(2, "部门文件夹", _folders(projects["文件"], folders).astype("string"))
    departments, unreadable = _departments(folder, projects)
    shared = _shared_names(projects, departments, folders)  # before any frame is named apart
    for frame in (projects, indicators, findings, departments):
        _named_apart(frame, shared, folders)
    return _Read(projects, indicators, findings, departments.drop(columns="文件"), unreadable=tuple(unreadable))


def _shared_names(projects: pd.DataFrame, departments: pd.DataFrame, folders: dict[str, str]) -> set[str]:
    """The department names that more than one department folder gives (its projects, or its file)."""
    given = pd.concat([projects[["部门", "文件"]], departments[["部门", "文件"]]]).drop_duplicates()
    counted = given.assign(文件=_folders(given["文件"], folders)).drop_duplicates().groupby("部门")["文件"].size()
    return set(counted[counted > 1].index)


def _named_apart(frame: pd.DataFrame, shared: set[str], folders: dict[str, str]) -> None:
    """Departments of one name in several folders, each named with its folder (甲局（dept-a）),
    so that no table or chart counts two departments as one."""
    if shared and len(frame):
        mask = frame["部门"].isin(shared)
        frame.loc[mask, "部门"] = frame["部门"] + "（" + _folders(frame["文件"], folders) + "）"


def _folders(files: pd.Series, known: dict[str, str]) -> pd.Series:
    """The department folder of each file, from ``known`` (those not in it added)."""
    known.update((f, Path(f).parent.name) for f in files.unique() if f not in known)
    return files.map(known)


# The most projects a year read ahead computes (the others' rows kept): more have changed, and
# the batch is making as many reports on every core.
AHEAD_MOST = 10
# The years read ahead in this process (a kernel a batch started before it planned), by folder name.
_ahead: dict[str, _Read] = {}


def read_ahead(folder: Path | str, rows_cache: Path | str | None = None) -> None:
    """Read the year now, for the overview's notebook to take when it loads the same (by the
    state of its files, see :func:`evaltools.domain.frames.year_state`), wherever its copy lies.

    The kernel that ``evaltools batch`` starts for the year overview before planning does it as
    it starts (the batch's process plans, loads papermill and makes the changed project's report
    meanwhile): after one change in a year of a thousand projects, the notebook's load is then a
    check of the files' hashes. Nothing is written (``rows_cache``, the one the batch will send,
    is read only). Nothing is kept where the reading says anything (a project that cannot be
    read, a warning: the notebook's own reading says it) or finds more than :data:`AHEAD_MOST`
    projects changed."""
    folder = Path(folder)
    try:
        with warnings.catch_warnings(record=True) as said:  # the filters as they are: what would be shown
            cache = RowCache(rows_cache)
            state, _ = year_state(folder, cache.known)
            read = _read(folder, cache, ahead=True)
    except Exception:  # noqa: BLE001  (a head start only: the notebook reads the year itself)
        return
    if not said:
        _ahead[folder.name] = _Read(read.projects, read.indicators, read.findings, read.departments, state,
                                    dict(cache.used), _hash(rows_cache), cache.pending(), read.unreadable)


def _read_before(folder: Path, rows_cache: Path | str | None) -> _Read | None:
    """The year read ahead (:func:`read_ahead`) if ``folder`` is in the same state, with the same
    rows cache; the cache is then saved as that reading would have saved it."""
    read = _ahead.pop(folder.name, None)
    if read is None:
        return None
    state, files = year_state(folder, Known())
    if state != read.state or _hash(rows_cache) != read.cache_seen:
        return None
    kept = [read.kept.get(name) for name, _ in state[1]]
    if not all(entry is not None and attached_as_kept(file, entry) for entry, file in zip(kept, files, strict=True)):
        return None
    if read.cache_after is not None and rows_cache is not None:
        write_atomic(Path(rows_cache), read.cache_after)
    return read


def _hash(path: Path | str | None) -> bytes:
    try:
        return hashlib.sha256(Path(path).read_bytes()).digest() if path is not None else b""
    except OSError:
        return b"-"


def _departments(folder: Path, projects: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Each department: its 项目支出 (as its department file states it) against the 全年预算数 of
    its projects that were self-evaluated and of those it lists without a self-evaluation; and
    the year's files that cannot be read (the department files, and the project files not among
    ``projects``), by their names from the workspace."""
    read = set(projects["文件"])
    unreadable = [display_path(f) for f in find_project_files([folder]) if display_path(f) not in read]
    rows = []
    for department_folder in sorted(child for child in folder.iterdir() if child.is_dir()):
        mine = projects[projects["部门文件夹"] == department_folder.name]
        name, stated, listed = (mine["部门"].iloc[0] if len(mine) else department_folder.name), None, 0.0
        if (department_folder / DEPARTMENT_FILE).is_file():
            try:  # its projects are those of the frame already: not loaded again
                params = read_department(department_folder / DEPARTMENT_FILE)[3]
            except ParamsError:
                params = None  # the department's own checks report it; the overview shows "—" and names the file
                unreadable.append(display_path(department_folder / DEPARTMENT_FILE))
            if params is not None:
                name, stated = params.name or name, project_spending(params)[0]
                listed = float(sum(p.annual for p in params.other_projects if p.annual is not None))
        if not len(mine) and stated is None:
            continue
        covered = float(mine["全年预算数"].sum()) if len(mine) else 0.0
        rows.append({"部门": name, "项目数": len(mine), "项目支出": None if stated is None else float(stated),
                     "已自评项目全年预算数": covered, "其他项目全年预算数": listed,
                     "文件": display_path(department_folder / DEPARTMENT_FILE)})  # its folder, as its projects give theirs
    frame = pd.DataFrame(rows, columns=["部门", "项目数", "项目支出", "已自评项目全年预算数", "其他项目全年预算数", "文件"])
    frame["差额"] = frame["项目支出"] - frame["已自评项目全年预算数"] - frame["其他项目全年预算数"]
    frame["覆盖率"] = frame["已自评项目全年预算数"] / frame["项目支出"] * 100
    return frame.astype({"部门": "string", "项目数": "Int64", "项目支出": "float64", "已自评项目全年预算数": "float64",
                         "其他项目全年预算数": "float64", "差额": "float64", "覆盖率": "float64"}), sorted(unreadable)
