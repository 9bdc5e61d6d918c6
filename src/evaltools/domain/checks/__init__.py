"""Consistency checks: what a careful reviewer at the 财政局 would send back.

Each check has a code, a severity and a one-line description (``evaltools check --list``), and
beside it what it looks for, its basis and an example (``evaltools check --explain CODE``);
each finding names the field and says, in Chinese, what is wrong and what was expected.
Errors make the report wrong or unacceptable; warnings are worth a second look.

The checks live by family, one module each; importing them registers them, in this order
(the order ``--list`` and the README's table show them).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Imported for their registrations, in the order --list shows them.
from evaltools.domain.checks import funds, indicators, cells, text, judgement, dates, completeness, department  # noqa: F401
from evaltools.domain.checks.department import INDICATOR_CHECKS, check_department
from evaltools.domain.checks.registry import (CHECKS, DEPARTMENT_CHECKS, SEVERITY_LABELS, Check, Context, Finding, Severity,
                                              find_check, findings, texts)
from evaltools.domain.model import ProjectParams
from evaltools.domain.rules import Rules
from evaltools.domain.scoring import ScoreCard, score
from evaltools.domain.workspace import LoadedProject

__all__ = ["CHECKS", "DEPARTMENT_CHECKS", "INDICATOR_CHECKS", "SEVERITY_LABELS", "Check", "Context", "Finding",
           "Severity", "check_department", "check_project", "find_check", "run_checks", "texts"]


def run_checks(params: ProjectParams, rules: Rules, card: ScoreCard | None = None,
               path: Path | None = None, data: Mapping[str, Any] | None = None) -> list[Finding]:
    """The findings of ``params``; ``data``, the values as read, lets the checks see what the model cleaned."""
    return findings(CHECKS, Context(params, rules, card or score(params, rules), path, data))


def check_project(project: LoadedProject, card: ScoreCard | None = None) -> list[Finding]:
    """All findings of a loaded project, each located in the file and line that set it (or, for a
    form read from a workbook, in its sheet and cell)."""
    cell_of = getattr(project, "cell_of", None)
    # A workbook is not a workspace file: no year folder to match, no last year's file beside it.
    path = None if cell_of else project.path
    ctx = Context(project.params, project.rules, card or score(project.params, project.rules), path, project.data)
    return findings(CHECKS, ctx, project.locate, cell_of)
