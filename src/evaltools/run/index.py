"""The reviewers' index: ``outputs/<year>/index.html``, every department and project at a glance.

One self-contained page per year: 总分, 等级, 预算执行率 and the check findings of every
project, grouped by department, with links to each report's HTML and PDF. Sorting and
filtering are a few lines of inline script: no server, no network.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import quote

from evaltools.domain.files import RUN_LOG, read_run_log, write_atomic
from evaltools.domain.layout import workspace_root
from evaltools.domain.markup import Html, join, tag
from evaltools.domain.reviews import CHANGED, UNREVIEWED, Decision, current, read_decisions, report_fingerprint, reviews_file
from evaltools.domain.yamlio import ParamsError

INDEX = "index.html"

_STYLE = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif; margin: 2em auto;
       max-width: 1100px; padding: 0 1em; color: #111; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
.tools { display: flex; gap: 1em; align-items: center; flex-wrap: wrap; margin: 1em 0; }
.tools input[type=search] { flex: 1; min-width: 16em; padding: .3em .5em; }
table { border-collapse: collapse; width: 100%; font-size: .92em; }
th, td { border: 1px solid #ccc; padding: .3em .5em; }
th { background: #eef1f5; cursor: pointer; user-select: none; white-space: nowrap; }
th[aria-sort=ascending]::after { content: " ▲"; } th[aria-sort=descending]::after { content: " ▼"; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.failed td { background: #fdecea; } .errors { color: #b0301f; font-weight: bold; } .warnings { color: #b7791f; }
nav ul { columns: 2; } figure { margin: 0; } figcaption { font-size: .85em; color: #555; }
.summary { display: flex; gap: 2em; align-items: flex-start; flex-wrap: wrap; }
.grades .row { display: flex; align-items: center; gap: .5em; margin: .2em 0; }
.grades .label { width: 2.5em; } .grades .bar { display: inline-block; height: 1em; background: #2f5d8a; }
.decision { white-space: nowrap; } .decision-通过 { color: #1f7a3a; } .decision-退回修改 { color: #b0301f; }
.decision-changed { color: #b7791f; font-weight: bold; } .decision .comment { white-space: normal; font-size: .85em; color: #555; }
"""

_SCRIPT = """
(function () {
  const rows = Array.from(document.querySelectorAll('tbody tr[data-project]'));
  const q = document.getElementById('q'), grade = document.getElementById('grade'),
        issues = document.getElementById('issues');
  function apply() {
    const text = q.value.trim();
    rows.forEach(function (r) {
      r.hidden = !((!text || r.textContent.indexOf(text) >= 0) && (!grade.value || r.dataset.grade === grade.value)
                  && (!issues.checked || r.dataset.issues === '1'));
    });
    document.querySelectorAll('section.department').forEach(function (s) {
      s.hidden = !s.querySelector('tbody tr[data-project]:not([hidden])');
    });
  }
  [q, grade, issues].forEach(function (el) { el.addEventListener('input', apply); });
  document.querySelectorAll('th[data-type]').forEach(function (th) {
    th.addEventListener('click', function () {
      const table = th.closest('table'), body = table.tBodies[0], col = th.cellIndex;
      const ascending = th.getAttribute('aria-sort') !== 'ascending';
      table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      const value = function (r) {
        const t = r.cells[col].dataset.value || r.cells[col].textContent;
        return th.dataset.type === 'number' ? (parseFloat(t) || -1) : t;
      };
      Array.from(body.rows).sort(function (a, b) {
        const x = value(a), y = value(b);
        return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
      }).forEach(function (r) { body.appendChild(r); });
    });
  });
})();
"""


def _number(text: object) -> Decimal:
    try:
        return Decimal(str(text))
    except InvalidOperation:
        return Decimal(-1)


def grade_order(entries: list[dict]) -> list[str]:
    """The grades that occur, best first. The labels and bands are each department's rules', so the
    order is read from the data (by the best 总分 each grade got), never from a list of labels."""
    best: dict[str, Decimal] = {}
    for entry in entries:
        if entry.get("grade"):
            best[entry["grade"]] = max(best.get(entry["grade"], Decimal(-1)), _number(entry.get("total")))
    return sorted(best, key=lambda grade: (-best[grade], grade))


def _entries(results: list[Any], year_folder: Path) -> list[dict]:
    """This batch's projects and department reports of the year, plus any rendered earlier
    (from their run logs: only those the batch did not bring, a thousand of which take a tenth
    of a second to read)."""
    made: dict[str, dict] = {}
    for result in results:
        if not result.summary or str(result.summary.get("year")) != year_folder.name:
            continue
        stem = Path(result.project_file).stem
        folder = Path(result.folder) if result.folder else year_folder / result.summary["department_folder"] / stem
        made[os.path.abspath(folder)] = {**result.summary, "status": result.status, "message": result.message,
                                       "folder": folder}
    entries: dict[str, dict] = {}
    for log_file in sorted(year_folder.glob(f"*/*/{RUN_LOG}")):  # */_department/ included
        key = os.path.abspath(log_file.parent)
        if key in made:
            entries[key] = made.pop(key)
        elif (log := read_run_log(log_file.parent)) and log.get("summary"):
            entries[key] = {**log["summary"], "status": "done", "message": "", "folder": log_file.parent}
    entries.update(made)
    return list(entries.values())


def _decision_cell(entry: dict, decision: Decision | None) -> Html:
    """The reviewer's decision in force, or 已修改，待复审 when the report changed since it was made."""
    if decision is None:
        return tag("td", UNREVIEWED, class_="decision", data_value=UNREVIEWED)
    status = decision.status(report_fingerprint(Path(entry["folder"])))
    who = "，".join(part for part in (decision.reviewer, decision.time[:10]) if part)
    return tag("td", tag("span", status, class_="decision-changed" if status == CHANGED else f"decision-{status}"),
               f"（{who}）" if who else "", tag("div", decision.comment, class_="comment") if decision.comment else "",
               class_="decision", data_value=status)


def _report_id(entry: dict) -> str:
    folder = Path(entry["folder"])
    return f"{folder.parent.name}/{folder.name}"


def _row(entry: dict, base: Path, decisions: dict[str, Decision] | None = None) -> Html:
    links = _links(Path(entry["folder"]), base)
    status = {"done": "已生成", "skipped": "已生成（未变）", "failed": "失败"}[entry["status"]]
    errors, warnings = entry.get("errors", 0), entry.get("warnings", 0)
    findings = join([tag("span", f"{errors} 错误", class_="errors") if errors else "",
                     " " if errors and warnings else "",
                     tag("span", f"{warnings} 提示", class_="warnings") if warnings else "",
                     "—" if not errors and not warnings else ""])
    status_cell = tag("td", status, tag("div", entry["message"], class_="message") if entry["message"] else "")
    return tag(
        "tr",
        tag("td", entry["name"]), tag("td", _shown(entry, "total"), class_="num", data_value=_value(entry, "total")),
        tag("td", _shown(entry, "grade")),
        tag("td", _shown(entry, "rate"), class_="num", data_value=_value(entry, "rate")),
        tag("td", findings, data_value=str(errors * 1000 + warnings)), _last_year_cell(entry), status_cell,
        tag("td", join(links, " · ")), _decision_cell(entry, (decisions or {}).get(_report_id(entry))),
        data_project="1", data_report=_report_id(entry), data_grade=entry.get("grade") or "",
        data_issues="1" if errors or warnings or entry["status"] == "failed" else "0",
        class_="failed" if entry["status"] == "failed" else None,
    )


def _last_year_cell(entry: dict) -> Html:
    """上年 总分（等级）· 执行率, where last year's file exists."""
    if entry.get("previous_total") is None:
        return tag("td", "—", data_value="-1")
    return tag("td", _shown(entry, "previous"), class_="num", data_value=_value(entry, "previous_total"))


def _shown(entry: dict, key: str) -> str:
    """A figure as the reports show it (the run log's ``shown``, formatted with the project's rules)."""
    return str(entry.get("shown", {}).get(key) or "—")


def _value(entry: dict, key: str) -> str:
    """A figure as a number for sorting: -1 where there is none."""
    value = entry.get(key)
    return "-1" if value is None or isinstance(value, str) else f"{value:g}"


def _links(folder: Path, base: Path) -> list[Html]:
    # Percent-encoded: a project file named "平台 #2 100%.yaml" must not end its link at "#".
    where = Path(os.path.relpath(folder, base)).as_posix()
    return [tag("a", kind.upper(), href=quote(f"{where}/report.{kind}"))
            for kind in ("html", "pdf") if os.path.isfile(os.path.join(folder, f"report.{kind}"))]


def _department_section(number: int, department: str, entries: list[dict], base: Path,
                        overall: dict | None = None, decisions: dict[str, Decision] | None = None) -> Html:
    if overall is not None:
        links = _links(Path(overall["folder"]), base)
        status = "（本次生成失败）" if overall["status"] == "failed" else ""
        decided = (decisions or {}).get(_report_id(overall))
        report = tag("p", "部门整体支出绩效自评报告：", join(links, " · ") if links else "尚未生成", status,
                     f"；综合得分 {_shown(overall, 'total')}，等级 {_shown(overall, 'grade')}；"
                     f"检查：{overall.get('errors', 0)} 错误、{overall.get('warnings', 0)} 提示；评审：",
                     decided.status(report_fingerprint(Path(overall["folder"]))) if decided else UNREVIEWED,
                     class_="department-report", data_report=_report_id(overall))
    else:
        report = Html("")
    head = tag("tr", *(tag("th", label, data_type=kind) for label, kind in (
        ("项目", "text"), ("总分", "number"), ("等级", "text"), ("预算执行率", "number"),
        ("检查发现", "number"), ("上年总分（等级）· 执行率", "number"), ("状态", "text"), ("报告", "text"),
        ("评审", "text"))))
    rows = [_row(e, base, decisions) for e in sorted(entries, key=lambda e: e["name"])]
    return tag("section", tag("h2", f"{department}（{len(entries)} 个项目）"), report,
               tag("table", tag("thead", head), tag("tbody", *rows)),
               class_="department", id=f"department-{number}")


def _grade_bars(counts: dict[str, int]) -> Html:
    """How many projects got each grade, best grade first: bars drawn in HTML, so that writing
    the index makes no image (and a batch's process never loads matplotlib)."""
    most = max(counts.values())
    rows = [tag("div", tag("span", grade, class_="label"),
                tag("span", "", class_="bar", style=f"width: {count / most * 12:.2f}em"),
                tag("span", str(count), class_="count"), class_="row")
            for grade, count in counts.items()]
    alt = "等级分布：" + "，".join(f"{grade} {count} 个" for grade, count in counts.items())
    return tag("figure", *rows, tag("figcaption", "等级分布"), class_="grades", role="img", aria_label=alt)


def year_decisions(year_folder: Path) -> dict[str, Decision]:
    """The reviewers' decisions for the year of ``outputs/<year>`` (``reviews/<year>.yaml`` of its
    workspace); none where the file cannot be read (``evaltools reviews`` says why)."""
    try:
        return current(read_decisions(reviews_file(year_folder.parent.parent, year_folder.name)))
    except ParamsError:
        return {}


def _department_of(entry: dict) -> tuple[str, str]:
    """The department a report is listed under: its name and its folder (two folders may give
    the same name: each is its own, its report linked)."""
    return entry["department"], Path(entry["folder"]).parent.name


def build_index(year: str, entries: list[dict], base: Path, decisions: dict[str, Decision] | None = None,
                unread: Sequence[tuple[str, str]] = ()) -> str:
    """The year's index page; ``unread``: the parameter files this batch could not read (each
    with why), listed before the departments: no report, and no word of them elsewhere."""
    by_department: dict[tuple[str, str], list[dict]] = defaultdict(list)
    overall: dict[tuple[str, str], dict] = {}
    for entry in entries:
        if entry.get("kind") == "department":
            overall[_department_of(entry)] = entry
        else:
            by_department[_department_of(entry)].append(entry)
    for key in overall:
        by_department.setdefault(key, [])
    entries = [e for e in entries if e.get("kind") != "department"]
    departments = sorted(by_department)
    shared = Counter(name for name, _ in departments)
    titles = {key: f"{key[0]}（{key[1]}）" if shared[key[0]] > 1 else key[0] for key in departments}
    grades = Counter(e["grade"] for e in entries if e.get("grade"))
    order = grade_order(entries)
    failed = sum(e["status"] == "failed" for e in entries)
    overview = tag("p", f"共 {len(departments)} 个部门、{len(entries)} 个项目",
                   f"；{failed} 个项目本次生成失败（保留上次的报告）" if failed else "", "。")
    nav = tag("nav", tag("ul", *(tag("li", tag("a", f"{titles[d]}（{len(by_department[d])}）", href=f"#department-{i}"))
                               for i, d in enumerate(departments))))
    chart = _grade_bars({g: grades[g] for g in order}) if grades else Html("")
    tools = tag("div",
                tag("input", type="search", id="q", placeholder="按项目、部门或文字筛选", aria_label="筛选"),
                tag("select", tag("option", "全部等级", value=""), *(tag("option", g, value=g) for g in order), id="grade"),
                tag("label", tag("input", type="checkbox", id="issues"), " 只看有问题的"), class_="tools")
    sections = [_department_section(i, titles[d], by_department[d], base, overall.get(d), decisions)
                for i, d in enumerate(departments)]
    title = f"{year} 年度绩效自评报告索引"
    overview_links = [tag("a", kind.upper(), href=f"overview.{kind}") for kind in linked_overview(base)]
    overview_line = tag("p", "年度总览（等级分布、执行率、扣分、检查发现、上年对比）：", join(overview_links, " · "),
                        class_="overview") if overview_links else Html("")
    return (
        "<!DOCTYPE html>\n" + tag("html", tag("head", Html('<meta charset="utf-8">'), tag("title", title),
                                           tag("style", Html(_STYLE))),
                                   tag("body", tag("h1", title), overview, overview_line, _unread_section(unread),
                                       tag("div", nav, chart, class_="summary"), tools, *sections, tag("script", Html(_SCRIPT))),
                                   lang="zh")
    )


def _from_workspace(message: str, file: Path) -> str:
    """A message naming files by their paths from the workspace root (params/2024/…), as the
    reports do: the index goes to the reviewers, not the analyst's folders."""
    root = os.path.join(str(workspace_root(file)), "")
    return message.replace(root, "").replace(root.replace("\\", "/"), "")


def _unread_section(unread: Sequence[tuple[str, str]]) -> Html:
    if not unread:
        return Html("")
    return tag("section", tag("h2", f"无法读取的参数文件（{len(unread)} 个，未生成报告）"),
               tag("ul", *(tag("li", tag("span", message, class_="message")) for _, message in unread)),
               class_="unread")


def linked_overview(folder: Path) -> list[str]:
    """The formats of the year's overview the index in ``folder`` links: those whose file is there."""
    return [kind for kind in ("html", "pdf") if (folder / f"overview.{kind}").is_file()]


def write_indexes(results: list[Any], out_root: Path, only_if_changed: bool = False) -> list[Path]:
    """Write ``<outputs>/<year>/index.html`` for each year the batch's ``results`` touched.

    With ``only_if_changed``, a year whose projects were all skipped keeps the index it has
    (it would come out the same).
    """
    years = sorted({str(r.summary["year"]) for r in results if r.summary})
    written = []
    for year in years:
        folder = out_root / year
        path = folder / INDEX
        touched = [r for r in results if r.summary and str(r.summary["year"]) == year]
        unread = _unread(results, year, folder)
        if not (only_if_changed and path.is_file() and all(r.status == "skipped" for r in touched) and not unread):
            write_atomic(path, build_index(year, _entries(results, folder), folder, year_decisions(folder), unread))
        written.append(path)
    return written


def write_year_index(folder: Path) -> Path:
    """Write ``outputs/<year>/index.html`` again from the run logs (after a reviewer's decision),
    with the files the batches could not read."""
    path = folder / INDEX
    unread = [(file, said) for file, said in _kept_unread(folder).items() if Path(file).is_file()]
    write_atomic(path, build_index(folder.name, _entries([], folder), folder, year_decisions(folder), unread))
    return path


# The year's files the batches could not read, with why (no report, no run log says so): kept for
# the index written again later (a reviewer's decision in evaltools serve, a batch over one department).
UNREAD = "unread.json"


def _unread(results: list[Any], year: str, folder: Path) -> list[tuple[str, str]]:
    """The year's files this batch could not read, and those earlier batches could not read
    that this one did not look at and are still there; kept in ``folder`` for the next index."""
    looked: set[str] = set()
    now: dict[str, str] = {}
    for result in results:
        file = Path(result.project_file)
        if year not in file.parts:  # a file that could not be read has no summary, hence no year but its folder's
            continue
        looked.add(os.path.abspath(file))
        if result.status == "failed" and not result.summary:
            now[os.path.abspath(file)] = _from_workspace(result.message, file)
    kept = {file: said for file, said in _kept_unread(folder).items() if file not in looked and Path(file).is_file()}
    unread = sorted({**kept, **now}.items())
    if unread:  # named from the outputs, not by the analyst's folders
        write_atomic(folder / UNREAD, json.dumps({_relative(file, folder): said for file, said in unread},
                                                 ensure_ascii=False, indent=1))
    else:
        (folder / UNREAD).unlink(missing_ok=True)
    return unread


def _relative(file: str, folder: Path) -> str:
    try:
        return Path(os.path.relpath(file, folder)).as_posix()
    except ValueError:  # another drive (Windows)
        return file


def _kept_unread(folder: Path) -> dict[str, str]:
    """:data:`UNREAD` in ``folder``, by the files' absolute paths (nothing where it cannot be read)."""
    try:
        kept = json.loads((folder / UNREAD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(kept, dict):
        return {}
    return {os.path.abspath(folder / str(file)): str(said) for file, said in kept.items()}

