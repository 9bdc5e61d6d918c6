"""A department loaded: its ``_department.yaml`` validated and scored, the files it attaches
found, and the roll-up of the projects of its folder (each loaded, scored and checked from its
own parameter file, never from a rendered report) and of those it lists without a file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from evaltools.domain.checks import check_project
from evaltools.domain.department import DepartmentParams
from evaltools.domain.model import BudgetRow
from evaltools.domain.rules import Rules, load_rules
from evaltools.domain.scoring import ScoreCard, score, score_budget_and_indicators
from evaltools.domain.workspace import (DEPARTMENT_FILE, absolute, attached_file, is_project_file, load_project,
                                         rules_files_for)
from evaltools.domain.yamlio import ParamsError, Problem, YamlFile, deep_merge, fingerprint, read_yaml, validate


@dataclass
class ProjectLine:
    """One of the department's projects, as its own parameter file scores it."""

    path: Path
    name: str
    annual: Decimal | None = None
    executed: Decimal | None = None
    rate: Decimal | None = None
    total: Decimal | None = None
    grade: str = ""
    errors: int = 0
    warnings: int = 0
    problem: str = ""
    listed: bool = False  # named in the department file (``other_projects``), without a file of its own


@dataclass
class LoadedDepartment:
    path: Path
    params: DepartmentParams
    rules: Rules
    data: dict[str, Any]
    source: YamlFile
    projects: list[ProjectLine]
    card: ScoreCard | None  # None without funds and indicators to score
    attachments: dict[int, Path] = field(default_factory=dict)  # the attached documents by their place in the list
    unusable_attachments: dict[int, str] = field(default_factory=dict)  # what is wrong with those that cannot be read

    @property
    def listed(self) -> list[ProjectLine]:
        """The projects the department file names without a parameter file (``other_projects``)."""
        return [ProjectLine(self.path, p.name, p.annual, p.executed, p.rate, listed=True)
                for p in self.params.other_projects]

    def locate(self, loc: tuple) -> tuple[Path, int | None]:
        return self.path, self.source.line_of(loc)

    def attachment_problems(self) -> list[Problem]:
        """The attached files its report cannot be made without, each named by field and line."""
        return [Problem(self.path, self.source.line_of(("attachments", i, "file")), f"attachments[{i}].file", message)
                for i, message in self.unusable_attachments.items()]

    @property
    def year(self) -> int:
        return self.params.evaluated_year

    @property
    def fingerprint(self) -> str:
        """The department's data and its projects' scored lines: what its report is made of."""
        lines = [(str(p.path.name), str(p.annual), str(p.executed), str(p.total), p.grade, p.errors, p.warnings)
                 for p in self.projects]
        attached = {str(i): hashlib.sha256(path.read_bytes()).hexdigest() for i, path in self.attachments.items()}
        return fingerprint({"department": self.data, "projects": lines, **({"attached": attached} if attached else {})})


def project_lines(folder: Path, rules_files: list[Path | str] | tuple = ()) -> list[ProjectLine]:
    """Every project file of the folder, loaded, scored and checked (never rendered)."""
    lines = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and is_project_file(p)):
        try:
            project = load_project(path, rules_files)
        except ParamsError as exc:
            lines.append(ProjectLine(path, path.stem, problem=str(exc.problems[0].message)))
            continue
        card = score(project.params, project.rules)
        findings = check_project(project, card)
        budget = card.execution.budget
        lines.append(ProjectLine(
            path, project.params.project.name, budget.annual, budget.executed, card.execution.rate, card.total,
            card.grade, sum(f.severity == "error" for f in findings), sum(f.severity == "warning" for f in findings),
        ))
    return lines


def read_department(path: Path | str, overrides: dict[str, Any] | None = None) -> tuple[Path, YamlFile, dict, DepartmentParams]:
    """A ``_department.yaml`` read and validated, its projects left alone: path, file, data, params."""
    path = Path(path)
    if path.is_dir():
        path = path / DEPARTMENT_FILE
    source = read_yaml(path)
    data = deep_merge(source.data, overrides) if overrides else source.data
    params = validate(DepartmentParams, data, [(source, ())])
    if params.evaluated_year is None:
        raise ParamsError([Problem(path, 1, "year", "缺少评价年度：在 year 或 defaults.year 中填写")])
    return path, source, data, params


def attachment_files(path: Path, params: DepartmentParams) -> tuple[dict[int, Path], dict[int, str]]:
    """Each attached document's file, relative to the department file, and what is wrong with
    each that cannot be used: it must exist and lie inside the workspace (a report never reads
    from elsewhere). A missing file is the check DEPT-ATTACHMENT-MISSING and refuses the report,
    never the reading: scoring and checking do not need it."""
    found, wrong = {}, {}
    for i, attachment in enumerate(params.attachments):
        target, problem = attached_file(attachment.file, absolute(path).parent)
        if target is None:
            wrong[i] = str(problem)
        else:
            found[i] = target
    return found, wrong


def load_department(path: Path | str, rules_files: list[Path | str] | tuple = (),
                    overrides: dict[str, Any] | None = None) -> LoadedDepartment:
    """Read and validate a ``_department.yaml``, score it, find what it attaches, and roll up its projects."""
    path, source, data, params = read_department(path, overrides)
    rules = load_rules(*rules_files_for(path), *rules_files)
    funds = params.overall_funds  # as stated, or from the spending table
    card = None
    if funds is not None or params.indicators:
        card = score_budget_and_indicators(funds.total if funds else BudgetRow(), params.indicators, rules)
    attachments, unusable = attachment_files(path, params)
    return LoadedDepartment(path, params, rules, data, source, project_lines(path.parent, rules_files), card,
                            attachments, unusable)
