"""Reviewers' decisions: which reports pass (通过), go back to the unit (退回修改) or wait (待审).

One plain YAML file per year in the workspace, ``reviews/<year>.yaml``, that ``git`` can hold and
diff: for each report (named by its folder under ``outputs/<year>/``, e.g.
``xiangxi-ggzy/platform-maintenance``) its decisions, oldest first; the last one holds. Each
decision carries the content fingerprint of the report it was made on: a hash of the report's
HTML, which is made byte for byte the same from the same inputs, and names in its provenance
line the files it was made from with their hashes. A report that reads differently since (its
parameters, rules or notebook changed, or a new evaltools writes it otherwise) reads
"已修改，待复审" rather than carry a decision about other content; a new evaltools that writes the
same report leaves the decision standing.

Saving is read, add, write under a file lock: two reviewers saving at once both land, and a
decision is appended to what the file holds *now*, never written over with a stale copy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from evaltools.domain.files import read_run_log, write_atomic
from evaltools.domain.workspace import absolute, workspace_root
from evaltools.domain.yamlio import ParamsError, Problem, read_yaml

REVIEWS_FOLDER = "reviews"
REPORT_HTML = "report.html"  # what a reviewer reads: its hash is the report's content fingerprint
PASSED, RETURNED, PENDING = "通过", "退回修改", "待审"
DECISIONS = (PASSED, RETURNED, PENDING)
CHANGED = "已修改，待复审"  # decided on other content than the report's now
UNREVIEWED = "未审"
MAX_COMMENT = 4000  # characters: a comment is a note, not a document
MAX_REVIEWER = 64
# A report is named by its folder under outputs/<year>/: a department folder and a report folder,
# neither hidden nor a way up.
_REPORT_ID = re.compile(r"[^/\\.\x00-\x1f][^/\\\x00-\x1f]*/[^/\\.\x00-\x1f][^/\\\x00-\x1f]*")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # a tab and a new line stay: comments have paragraphs
_HEADER = """\
# 评审决定（evaltools serve 写入；可用 git 保存、比较）：每个报告的决定按时间先后排列，最后一条为当前决定。
# fingerprint：作出决定时报告的内容指纹（report.html 的哈希）；报告此后有改动，则显示“已修改，待复审”。
"""


class ReviewError(ValueError):
    """A decision that cannot be recorded; ``str()`` says what was expected, for the user."""


@dataclass(frozen=True)
class Decision:
    report: str  # its folder under outputs/<year>/: "<department folder>/<report folder>"
    decision: str  # one of DECISIONS
    comment: str
    reviewer: str
    time: str  # when, ISO 8601 in UTC
    fingerprint: str  # the report's content fingerprint when decided ("" if it had none)

    def status(self, fingerprint: str | None) -> str:
        """The decision, or :data:`CHANGED` when the report's fingerprint is no longer the one decided on."""
        return CHANGED if fingerprint and self.fingerprint != fingerprint else self.decision


def reviews_file(root: Path, year: int | str) -> Path:
    """``<workspace>/reviews/<year>.yaml``."""
    return Path(root) / REVIEWS_FOLDER / f"{year}.yaml"


def check_report_id(report: str) -> str:
    """``report`` if it names a report folder as ``<department>/<report>``; never a path out."""
    if not isinstance(report, str) or not _REPORT_ID.fullmatch(report) or ".." in report.split("/"):
        raise ReviewError(f"报告应写作“部门文件夹/报告文件夹”（如 xiangxi-ggzy/platform-maintenance），而不是 {report!r}")
    return report


def _text(value: object, field: str, limit: int) -> str:
    if not isinstance(value, str):
        raise ReviewError(f"{field} 应为文字")
    value = _CONTROL.sub("", value.replace("\r\n", "\n")).strip()
    if len(value) > limit:
        raise ReviewError(f"{field} 太长：{len(value)} 个字符，最多 {limit} 个")
    return value


def new_decision(report: str, decision: str, comment: str = "", reviewer: str = "", fingerprint: str = "",
                 now: dt.datetime | None = None) -> Decision:
    """A decision as a reviewer gives it, checked: what it is, its comment and her name as text."""
    if decision not in DECISIONS:
        raise ReviewError(f"决定应为 {'、'.join(DECISIONS)} 之一，而不是 {decision!r}")
    when = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return Decision(check_report_id(report), decision, _text(comment, "意见", MAX_COMMENT),
                    _text(reviewer, "审核人", MAX_REVIEWER), when, _text(fingerprint, "fingerprint", 128))


def read_decisions(path: Path) -> dict[str, list[Decision]]:
    """Each report's decisions in ``path``, oldest first; an empty record when there is no file.

    A file edited by hand into something else is a :class:`ParamsError` naming the file, the line
    and the field.
    """
    if not Path(path).is_file():
        return {}
    loaded = read_yaml(path)
    reports = loaded.data.get("reports") or {}
    if not isinstance(reports, dict):
        raise ParamsError([Problem(loaded.path, loaded.line_of(("reports",)), "reports", "应为“报告: 决定列表”的映射")])
    found: dict[str, list[Decision]] = {}
    for report, entries in reports.items():
        where = ("reports", report)
        try:
            if not isinstance(entries, list):
                raise ReviewError("应为决定的列表")
            found[check_report_id(str(report))] = [_decision(str(report), entry) for entry in entries]
        except ReviewError as exc:
            raise ParamsError([Problem(loaded.path, loaded.line_of(where), f"reports.{report}", str(exc))]) from None
    return found


def _decision(report: str, entry: object) -> Decision:
    if not isinstance(entry, dict):
        raise ReviewError("每条决定应为含 decision、comment、reviewer、time、fingerprint 的映射")
    decision = entry.get("decision")
    if decision not in DECISIONS:
        raise ReviewError(f"decision 应为 {'、'.join(DECISIONS)} 之一，而不是 {decision!r}")
    return Decision(report, decision, str(entry.get("comment") or ""), str(entry.get("reviewer") or ""),
                    str(entry.get("time") or ""), str(entry.get("fingerprint") or ""))


def current(decisions: dict[str, list[Decision]]) -> dict[str, Decision]:
    """The decision that holds for each report: its last."""
    return {report: entries[-1] for report, entries in decisions.items() if entries}


def _dump(year: int | str, decisions: dict[str, list[Decision]]) -> str:
    reports = {report: [{k: v for k, v in asdict(d).items() if k != "report"} for d in entries]
               for report, entries in sorted(decisions.items())}
    body = yaml.safe_dump({"year": int(year), "reports": reports}, allow_unicode=True, sort_keys=False, width=100)
    return _HEADER + body


def record(path: Path, decision: Decision, timeout: float = 10.0) -> dict[str, list[Decision]]:
    """Add ``decision`` to the file at ``path`` (made if missing) and return what it holds now.

    The file is locked while it is read and written (``filelock``: Linux, macOS and Windows), so
    a decision saved at the same moment by someone else is read and kept, never written over.
    """
    from filelock import FileLock, Timeout  # only where a decision is written: `check` and the API load no lock

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(path.with_name(f".{path.name}.lock"), timeout=timeout):
            decisions = read_decisions(path)
            decisions.setdefault(decision.report, []).append(decision)
            write_atomic(path, _dump(path.stem, decisions))
    except Timeout:
        raise ReviewError(f"{path} 正被另一个进程长时间占用，决定未保存：请稍后再试") from None
    return decisions


def report_fingerprint(folder: Path) -> str | None:
    """The content fingerprint of the report in ``folder`` (``outputs/<year>/<department>/<report>``):
    a hash of its HTML; None where it has none."""
    try:
        return hashlib.sha256((Path(folder) / REPORT_HTML).read_bytes()).hexdigest()[:24]
    except OSError:
        return None


def report_fingerprints(year_outputs: Path) -> dict[str, str]:
    """The content fingerprint of every report written under ``outputs/<year>/``, by report."""
    found = {}
    for page in sorted(Path(year_outputs).glob(f"*/*/{REPORT_HTML}")):
        fingerprint = report_fingerprint(page.parent)
        if fingerprint is not None:
            found[f"{page.parent.parent.name}/{page.parent.name}"] = fingerprint
    return found


def _years(path: Path) -> tuple[Path, list[str], str | None]:
    """The workspace, the years and the department folder (or None) that ``path`` names: a
    workspace, its params/ or reviews/ folder, a year folder, a department folder or a reviews file."""
    path = absolute(path)
    if path.is_file() and path.parent.name == REVIEWS_FOLDER:
        return path.parent.parent, [path.stem], None
    if (path / "params").is_dir() or (path / REVIEWS_FOLDER).is_dir() or path.name in ("params", REVIEWS_FOLDER):
        root = path.parent if path.name in ("params", REVIEWS_FOLDER) else path
        return root, sorted(p.stem for p in (root / REVIEWS_FOLDER).glob("*.yaml") if re.fullmatch(r"\d{4}", p.stem)), None
    root = workspace_root(path / "_")
    if re.fullmatch(r"\d{4}", path.name):
        return root, [path.name], None
    if re.fullmatch(r"\d{4}", path.parent.name):
        return root, [path.parent.name], path.name
    raise ReviewError(f"{path}：应为工作区、年度文件夹（如 params/2024）、部门文件夹或 reviews/<年度>.yaml")


def review_rows(path: Path | str) -> list[dict]:
    """One row per report with a decision under ``path`` (see :func:`_years`): the decision in force,
    its status against the report as it is now, and who decided what, when and why."""
    root, years, department = _years(Path(path))
    rows = []
    for year in years:
        outputs = root / "outputs" / year
        fingerprints = report_fingerprints(outputs)
        for report, entries in current(read_decisions(reviews_file(root, year))).items():
            if department is not None and report.split("/")[0] != department:
                continue
            log = read_run_log(outputs / report) or {}
            rows.append({
                "year": int(year), "report": report, "name": (log.get("summary") or {}).get("name") or report,
                "status": entries.status(fingerprints.get(report)), "decision": entries.decision,
                "comment": entries.comment, "reviewer": entries.reviewer, "time": entries.time,
                "fingerprint": entries.fingerprint, "current_fingerprint": fingerprints.get(report),
            })
    return rows


COLUMNS = {"year": "年度", "report": "报告", "name": "名称", "status": "状态", "decision": "决定", "comment": "意见",
           "reviewer": "审核人", "time": "时间", "fingerprint": "决定时指纹", "current_fingerprint": "当前指纹"}


def read_reviews(path: Path | str = "."):
    """The decisions under ``path`` as a pandas DataFrame, one row per report, columns named in
    Chinese as the index shows them (年度, 报告, 名称, 状态, 决定, 意见, 审核人, 时间, …); 时间 a
    UTC timestamp, text ``string``."""
    import pandas as pd  # only for the DataFrame: the batch and the index read decisions without pandas

    frame = pd.DataFrame(review_rows(path), columns=list(COLUMNS)).rename(columns=COLUMNS)
    frame = frame.astype({name: "string" for key, name in COLUMNS.items() if key not in ("year", "time")})
    frame["年度"] = frame["年度"].astype("Int64")
    frame["时间"] = pd.to_datetime(frame["时间"], utc=True, errors="coerce")
    return frame


def counts(decisions: Iterable[Decision], fingerprints: dict[str, str] | None = None) -> dict[str, int]:
    """How many reports stand at each status: 通过, 退回修改, 待审 and 已修改，待复审."""
    found = dict.fromkeys((*DECISIONS, CHANGED), 0)
    for decision in decisions:
        found[decision.status((fingerprints or {}).get(decision.report))] += 1
    return found
