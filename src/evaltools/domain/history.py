"""Last year's file of a project: its score, grade and 执行率, and its indicators' targets.

A project is the same project from one year to the next when its file keeps its place:
``params/<year>/<department>/<project>.yaml`` and ``params/<year - 1>/<department>/<project>.yaml``
(``evaltools new-year`` carries files forward that way). Nothing here is stored: last year is
read and scored from its parameter file, by its own year's rules.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from evaltools.domain import formatting, memo
from evaltools.domain.scoring import ScoreCard, score
from evaltools.domain.workspace import DEPARTMENT_FILE, LoadedProject, absolute, listed_attachments, load_project, rules_files_for
from evaltools.domain.yamlio import ParamsError


@dataclass(frozen=True)
class PreviousYear:
    """What a report shows of last year, beside this year's figures."""

    path: Path
    year: int
    total: Decimal
    grade: str
    rate: Decimal | None  # 执行率 as a fraction (1 = 100 %)
    targets: dict[str, str]  # 三级指标 → 年度指标值, their year numbers moved to this year


def shift_years(text: str, old: int, new: int) -> str:
    """Year numbers that move with the year: "2024年度" → "2025年度" (not 2024 inside 12024)."""
    return re.sub(rf"(?<!\d){old}(?!\d)", str(new), text)


def previous_file(path: Path | str) -> Path | None:
    """The same file in the year before (``params/2023/<dept>/<name>``), if there is one: in the
    workspace the file was named in (a linked file's last year is this workspace's)."""
    path = absolute(path)
    year_folder = path.parent.parent
    if not year_folder.name.isdigit():
        return None
    candidate = year_folder.parent / str(int(year_folder.name) - 1) / path.parent.name / path.name
    return candidate if candidate.is_file() else None


def previous_sources(path: Path | str) -> list[Path]:
    """Every file last year's figures of the project at ``path`` are read from: last year's
    file, its department's file, its rules and the files it attaches (without which it does
    not load), those that exist; none without last year's file."""
    previous = previous_file(path)
    if previous is None:
        return []
    sources = [previous, previous.parent / DEPARTMENT_FILE, *rules_files_for(previous), *listed_attachments(previous)]
    return [f for f in dict.fromkeys(sources) if f.is_file()]


def previous_year(path: Path | str) -> PreviousYear | None:
    """Last year's figures for the project file at ``path``; None without a readable file (see
    :func:`previous_error` for why one that exists cannot be read)."""
    found = _read_previous(path)
    return found if isinstance(found, PreviousYear) else None


def previous_error(path: Path | str) -> ParamsError | None:
    """Why last year's file of the project at ``path`` exists but cannot be read; None when it
    is read, or there is none. Its report says so, rather than show no 上年 without a word."""
    found = _read_previous(path)
    return found if isinstance(found, ParamsError) else None


def _read_previous(path: Path | str) -> PreviousYear | ParamsError | None:
    previous = previous_file(path)
    if previous is None:
        return None
    # Keyed by the contents of the files it is read from (never their times): the overview and
    # the checks of a year read each once, and an edit within a clock tick is still seen.
    state = tuple((str(f), hashlib.sha256(f.read_bytes()).hexdigest()) for f in previous_sources(path))
    return _previous(previous, state)


@memo.kept(maxsize=1024)
def _previous(path: Path, state: tuple) -> PreviousYear | ParamsError:
    try:
        project = load_project(path)
    except ParamsError as exc:
        return exc  # last year's problem, fixed in last year's file: this year's report only says it
    card = score(project.params, project.rules)
    old, new = project.params.year, project.params.year + 1
    # "2024年度" last year and "2025年度" this year is the same target: only a real change is one.
    targets = {shift_years(indicator.name, old, new): shift_years(indicator.target, old, new)
               for indicator in project.params.indicators}
    return PreviousYear(path, project.params.year, card.total, card.grade, card.execution.rate, targets)


def compared(project: LoadedProject, card: ScoreCard) -> tuple[int, list[tuple[str, str, str]]] | None:
    """Last year's number, and 上年 beside 本年 as a report shows them: (label, last year, this
    year) for 总分, 等级 and 预算执行率; None without last year's file."""
    last = previous_year(project.path)
    if last is None:
        return None
    rules = project.rules
    return last.year, [
        ("总分", formatting.score(last.total, rules), formatting.score(card.total, rules)),
        ("等级", last.grade, card.grade),
        (rules.execution.label, formatting.percent(last.rate, rules), formatting.percent(card.execution.rate, rules)),
    ]


def previous_key(path: Path | str) -> list[str] | None:
    """What a report shows of last year, for the batch's content key: it changes when that does."""
    last = previous_year(path)
    return None if last is None else [str(last.total), last.grade, str(last.rate)]
