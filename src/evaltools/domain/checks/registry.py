"""The checks' registry: each check's code, severity, description and explanation, and its findings.

A check is a function registered with :func:`check` (a project's) or :func:`department_check`
(a department report's). Beside its code it keeps, as data, what a reviewer needs to trust or
dismiss a finding (``evaltools check --explain CODE``): what it looks for, its basis (a rule
such as 财预〔2020〕10号 or reviewers' practice) and an example of a form it flags.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from evaltools.domain.model import ProjectParams, is_blank
from evaltools.domain.rules import Rules
from evaltools.domain.scoring import IndicatorScore, ScoreCard
from evaltools.domain.yamlio import Loc, field_path

Severity = Literal["error", "warning"]
SEVERITY_LABELS = {"error": "错误", "warning": "提示"}


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    loc: Loc
    message: str
    file: Path | None = None
    line: int | None = None
    cell: str | None = None  # "项目A!F12" when the form was read from a workbook

    @property
    def field(self) -> str:
        return field_path(self.loc)

    @property
    def where(self) -> str:
        """``file:line`` for a YAML file, ``file.xlsx!sheet!F12`` for a workbook's cell, else the file."""
        if self.file and self.cell:
            return f"{self.file}!{self.cell}"
        if self.file and self.line:
            return f"{self.file}:{self.line}"
        return str(self.file) if self.file else ""

    def __str__(self) -> str:
        where = f"{self.where}: " if self.where else ""
        return f"{where}{SEVERITY_LABELS[self.severity]} [{self.code}] {self.field}: {self.message}"


@dataclass(frozen=True)
class Context:
    params: ProjectParams
    rules: Rules
    card: ScoreCard
    path: Path | None = None
    data: Mapping[str, Any] | None = None  # the values as read, before the model cleans them

    @functools.cached_property
    def texts(self) -> list[tuple[Loc, str]]:
        """Every piece of free text in the parameters (see :func:`texts`), gathered once for all checks."""
        return list(texts(self.params))


# What a check raises: where (in the checked file), and what; or also the file and line it is
# in, where that is another file (a rules file the project's figures are computed by).
Raised = tuple[Loc, str] | tuple[Loc, str, Path, int | None]


@dataclass(frozen=True)
class Check:
    code: str
    severity: Severity
    description: str
    run: Callable[[Any], Iterable[Raised]]  # a Context (project) or a LoadedDepartment
    basis: str = ""  # the rule or practice it rests on
    example: str = ""  # a form it flags, and what it then says
    looks_for: str = ""  # more than the description says, where there is more to say

    def explain(self) -> str:
        """What ``evaltools check --explain CODE`` prints: enough to trust or dismiss a finding."""
        kind = "错误（须改正）" if self.severity == "error" else "提示（请核对，属判断，不是错误）"
        lines = [f"{self.code}  {kind}", f"查什么：{self.description}"]
        if self.looks_for:
            lines.append(f"怎么查：{self.looks_for}")
        lines += [f"依据：{self.basis}", f"例：{self.example}"]
        return "\n".join(lines)


CHECKS: list[Check] = []  # a project's
DEPARTMENT_CHECKS: list[Check] = []  # a department report's


def check(code: str, severity: Severity, description: str, registry: list[Check] | None = None, *,
          basis: str = "", example: str = "", looks_for: str = ""):
    def register(function: Callable[[Any], Iterable[Raised]]):
        target = CHECKS if registry is None else registry
        target.append(Check(code, severity, description, function, basis, example, looks_for))
        return function

    return register


def department_check(code: str, severity: Severity, description: str, **explained: str):
    return check(code, severity, description, DEPARTMENT_CHECKS, **explained)


def find_check(code: str) -> Check | None:
    """The check registered under ``code`` (case and surrounding blanks ignored), if any."""
    wanted = code.strip().upper()
    return next((spec for spec in [*CHECKS, *DEPARTMENT_CHECKS] if spec.code == wanted), None)


Locate = Callable[[Loc], tuple[Path | None, int | None]]


def findings(specs: Iterable[Check], subject: Any, locate: Locate | None = None,
             cell_of: Callable[[Loc], str | None] | None = None) -> list[Finding]:
    """Run checks on ``subject``; each finding located by ``locate`` (file and line) if given,
    and by ``cell_of`` (a workbook's sheet and cell) when the form was read from one."""
    found = []
    for spec in specs:
        for loc, message, *elsewhere in spec.run(subject):
            file, line = elsewhere if elsewhere else locate(loc) if locate else (None, None)
            cell = cell_of(loc) if cell_of else None
            found.append(Finding(spec.code, spec.severity, loc, message, file, line, cell))
    return found


def differs(stated: Decimal, computed: Decimal, rules: Rules) -> bool:
    return rules.round(stated) != rules.round(computed)


def blank_actual(row: IndicatorScore) -> bool:
    return is_blank(row.indicator.actual) and row.indicator.actual_value is None


def texts(model: BaseModel, loc: Loc = ()) -> Iterator[tuple[Loc, str]]:
    """Every piece of free text in the parameters, with where it sits."""
    for name in type(model).model_fields:
        yield from _walk(getattr(model, name), loc + (name,))


def _walk(value: object, loc: Loc) -> Iterator[tuple[Loc, str]]:
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, BaseModel):
        yield from texts(value, loc)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, loc + (i,))
