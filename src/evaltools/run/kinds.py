"""The kinds of report: a project's, a department's 部门整体 report and a year's overview.

Each is declared once here: its notebook, how its subject is loaded, where its files go, the
parameter files it is made from (the batch adds what each of those needs: its department's
file, its rules, its attachments and last year's), what papermill injects, and its summary
row. Building, executing and batching take a kind instead of asking which one they have.
Light on purpose: a batch plans with it without loading papermill or nbconvert.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from evaltools.domain import formatting
from evaltools.domain.checks import check_department, check_project
from evaltools.domain.files import RUN_LOG
from evaltools.domain.history import previous_year
from evaltools.domain.rollup import LoadedDepartment, load_department
from evaltools.domain.scoring import score
from evaltools.domain.yamlio import ParamsError
from evaltools.domain.workspace import (
    DEPARTMENT_NOTEBOOK,
    NOTEBOOK,
    OVERVIEW_NOTEBOOK,
    LoadedProject,
    Workspace,
    absolute,
    attachment_files,
    declared_parameters,
    fingerprint_notebook,
    is_department_file,
    is_project_file,
    load_project,
)
from evaltools.writers.formats import CHARTS_CACHE, OVERVIEW, ROWS_CACHE, SUBMISSION

Loaded = LoadedProject | LoadedDepartment
Subject = LoadedProject | LoadedDepartment | Path  # a year's overview is made from its folder


@dataclass(frozen=True)
class ReportKind:
    """What every kind declares; the subclasses say how."""

    name: str  # project, department, overview
    notebook: str  # its notebook, in the workspace's notebooks/
    output: str = "report"  # its files' stem: report.html, overview.html…
    label: str = "报告"  # in messages

    @property
    def log(self) -> str:
        """Its run log, beside its files."""
        return RUN_LOG if self.output == "report" else f"{self.output}.{RUN_LOG}"

    def edition_of(self, edition: str) -> str:
        """The edition its PDF and Word are made in: a report's as asked (the one a unit
        submits, or the reviewers'); the year overview, the reviewers' own, has one."""
        return edition if self.output == "report" else SUBMISSION

    def load(self, path: Path, rules_files: Sequence[Path | str] = ()) -> Subject:
        raise NotImplementedError

    def path_of(self, subject: Subject) -> Path:
        return subject if isinstance(subject, Path) else subject.path

    def folder(self, workspace: Workspace, path: Path, subject: Subject | None = None) -> Path:
        """Where its files go (below the workspace's outputs)."""
        year = None if subject is None or isinstance(subject, Path) else subject.year
        return workspace.report_folder(path, year)

    def parameter_files(self, path: Path) -> list[Path]:
        """The parameter files its report reads."""
        return [absolute(path)]

    def parameters(self, subject: Subject, workspace: Workspace, rules_files: Sequence[Path | str],
                   notebook: Path, caches: bool = False) -> dict:
        """What papermill injects: where the file is (from the workspace root, where the kernel
        works, so that the executed notebook is the same wherever the workspace lies), the extra
        rules, and the notebook's fingerprint for the provenance line. The kernel loads the file
        itself: the parameters are given once, by their file."""
        return {
            "params_file": _name(self.path_of(subject), workspace),
            "rules_files": [_name(Path(f), workspace) for f in rules_files],
            "notebook_fingerprint": fingerprint_notebook(notebook),
        }

    def summary(self, subject: Subject) -> dict:
        """Its row in the summary table, ``batch --json`` and the index."""
        return {}

    def findings(self, subject: Subject) -> list:
        """The check findings of the files it is made from."""
        return []

    def error_codes(self, subject: Subject) -> list[str]:
        """The codes of the check errors of its files: a draft's, if any (``writers.draft``)."""
        return [finding.code for finding in self.findings(subject) if finding.severity == "error"]

    def refuse_unusable(self, subject: Subject) -> None:
        """Raise :class:`ParamsError` naming what it cannot be made without (attached files),
        field and path; scoring and checking go on without them."""


def _name(path: Path, workspace: Workspace) -> str:
    return workspace.name_of(path) or str(Path(path).resolve())


class _ProjectKind(ReportKind):
    def load(self, path: Path, rules_files: Sequence[Path | str] = ()) -> LoadedProject:
        return load_project(path, rules_files)

    def findings(self, subject: Subject) -> list:
        assert isinstance(subject, LoadedProject)
        return check_project(subject)

    def refuse_unusable(self, subject: Subject) -> None:
        assert isinstance(subject, LoadedProject)
        attachment_files(subject.params, subject.sources)

    def summary(self, subject: Subject) -> dict:
        assert isinstance(subject, LoadedProject)
        card = score(subject.params, subject.rules)
        summary = _row(subject, "project", subject.params.project.name, subject.params.project.department, card,
                       check_project(subject, card))
        last = previous_year(subject.path)
        if last is not None:  # last year's, where its file exists
            rules = subject.rules
            summary.update(previous_total=formatting.number(last.total), previous_grade=last.grade,
                           previous_rate=formatting.percent_number(last.rate))
            summary["shown"]["previous"] = (f"{formatting.score(last.total, rules)}（{last.grade}）· "
                                            f"{formatting.percent(last.rate, rules)}")
        return summary


class _DepartmentKind(ReportKind):
    def load(self, path: Path, rules_files: Sequence[Path | str] = ()) -> LoadedDepartment:
        return load_department(path, list(rules_files))

    def findings(self, subject: Subject) -> list:
        assert isinstance(subject, LoadedDepartment)
        return check_department(subject)

    def refuse_unusable(self, subject: Subject) -> None:
        assert isinstance(subject, LoadedDepartment)
        if subject.unusable_attachments:
            raise ParamsError(subject.attachment_problems())

    def parameter_files(self, path: Path) -> list[Path]:
        """The department's file and every project of its folder (it rolls them up)."""
        folder = absolute(path).parent
        return [absolute(path), *sorted(p for p in folder.iterdir() if p.is_file() and is_project_file(p))]

    def summary(self, subject: Subject) -> dict:
        assert isinstance(subject, LoadedDepartment)
        card = subject.card if subject.params.indicators else None
        return _row(subject, "department", subject.params.name, subject.params.name, card,
                    check_department(subject))


class _OverviewKind(ReportKind):
    def load(self, path: Path, rules_files: Sequence[Path | str] = ()) -> Path:
        return Path(path)  # its notebook loads the year, each project from its file

    def folder(self, workspace: Workspace, path: Path, subject: Subject | None = None) -> Path:
        return workspace.year_folder(absolute(path))

    def parameter_files(self, path: Path) -> list[Path]:
        """Every project and department file of the year."""
        folder = absolute(path)
        found = [p for p in folder.rglob("*") if p.is_file() and (is_project_file(p) or is_department_file(p))]
        return sorted(found)

    def parameters(self, subject: Subject, workspace: Workspace, rules_files: Sequence[Path | str],
                   notebook: Path, caches: bool = False) -> dict:
        """The year folder (from the workspace root), and with ``caches`` (a batch's) where the
        projects' rows and the charts are kept between runs, for the unchanged ones."""
        offered = {"rows_cache": ROWS_CACHE, "charts_cache": CHARTS_CACHE} if caches else {}
        declared = declared_parameters(notebook) if offered else frozenset()  # an older notebook takes fewer
        return {"year_folder": _name(self.path_of(subject), workspace),
                **{name: path for name, path in offered.items() if name in declared}}


def _row(loaded: Loaded, kind: str, name: str, department: str, card, findings) -> dict:
    rate = card.execution.rate if card else None
    return {
        "kind": kind,
        "name": name,
        "year": loaded.year,
        "department": department,
        "department_folder": absolute(loaded.path).parent.name,
        "total": formatting.number(card.total if card else None),
        "grade": card.grade if card else None,
        "rate": formatting.percent_number(rate),
        "errors": sum(f.severity == "error" for f in findings),
        "warnings": sum(f.severity == "warning" for f in findings),
        "shown": {"total": formatting.score(card.total if card else None, loaded.rules),
                  "grade": card.grade if card else formatting.DASH,
                  "rate": formatting.percent(rate, loaded.rules)},
    }


PROJECT = _ProjectKind("project", NOTEBOOK, label="项目报告")
DEPARTMENT = _DepartmentKind("department", DEPARTMENT_NOTEBOOK, label="部门整体报告")
OVERVIEW_KIND = _OverviewKind("overview", OVERVIEW_NOTEBOOK, output=OVERVIEW, label="年度总览")
KINDS: dict[str, ReportKind] = {kind.name: kind for kind in (PROJECT, DEPARTMENT, OVERVIEW_KIND)}


def kind_of(path: Path | str) -> ReportKind:
    """The kind of report made from ``path``: a year folder's overview, a department's
    ``_department.yaml`` report, else a project's."""
    path = Path(path)
    if path.is_dir():
        return OVERVIEW_KIND
    return DEPARTMENT if is_department_file(path) else PROJECT


def summary(loaded: Loaded) -> dict:
    """The summary row of a loaded project or department."""
    return (DEPARTMENT if isinstance(loaded, LoadedDepartment) else PROJECT).summary(loaded)


__all__ = ["DEPARTMENT", "KINDS", "OVERVIEW_KIND", "PROJECT", "Loaded", "ReportKind", "Subject",
           "kind_of", "summary"]
