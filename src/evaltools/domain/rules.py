"""Scoring rules: the national default, overridden by a province's or department's YAML.

The rules say how much each part of the form weighs, which 二级指标 belong to which 一级指标,
where the grade bands start, and how targets without an operator are read. They are data,
so a 财政局 with its own practice (湘西州 calls the third band 较差) changes a file, not code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from evaltools.domain.layout import display_path
from evaltools.domain.control_chars import control_findings
from evaltools.domain.model import Params, Places
from evaltools.domain.yamlio import deep_merge, fingerprint, read_yaml, validate
from evaltools.domain.targets import Operator, plain_number

DEFAULT_RULES = "national_rules.yaml"
_POINTS = re.compile(r"\s*[（(]\s*\d+(?:\.\d+)?\s*分?\s*[)）]\s*$")


class Execution(Params):
    label: str = "预算执行率"
    weight: Decimal = Field(ge=0)
    # 执行率 below this share needs a reason on the form ("执行率低于90%须说明原因": 0.9).
    explain_below: Decimal = Field(Decimal(1), ge=0, le=1)


class Level(Params):
    # None: the province fixes only the indicators' total (``indicator_total``), not this level's.
    weight: Decimal | None = Field(None, ge=0)
    categories: list[str] = Field(min_length=1)  # the form's own rows (the blank template has one each)
    # Further 二级 labels some provinces use under this level (经济成本指标, 满意度指标).
    other_categories: list[str] = Field(default_factory=list)

    @property
    def all_categories(self) -> list[str]:
        return [*self.categories, *self.other_categories]


class Band(Params):
    min: Decimal
    label: str


class Redistribution(Params):
    source: str = Field(alias="from")
    to: list[str]


class Display(Params):
    """Decimal places each kind of quantity is shown with (computing uses ``Rules.decimals``).

    The defaults are the official forms' way: scores and rates as "96", "15", "100%" (up to two
    decimals when they have them), money always with two (106.62, 1066200.00)."""

    money: Places = (2, 2)
    score: Places = (0, 2)
    rate: Places = (0, 2)
    share: Places = (2, 2)

    def override(self, changes: Mapping[str, Any] | None) -> Display:
        """These precisions with some kinds changed (a parameter file's ``report.display``)."""
        return Display.model_validate({**self.model_dump(), **(changes or {})}) if changes else self


FontRole = Literal["body", "heading1", "heading2", "title"]


class Rules(Params):
    name: str
    execution: Execution
    levels: dict[str, Level]
    redistribute: Redistribution | None = None
    grades: list[Band] = Field(min_length=1)
    tiers: list[Band] = Field(min_length=1)
    overachievement: Decimal = Field(ge=0)
    default_operator: Operator = Operator.EQ
    default_operator_by_category: dict[str, Operator] = Field(default_factory=dict)
    # The indicators' points together; by default 100 less the 执行率's.
    indicator_total: Decimal | None = Field(None, ge=0)
    decimals: int = Field(2, ge=0, le=6)
    display: Display = Field(default_factory=Display)
    fonts: dict[FontRole, list[str]] = Field(default_factory=dict)  # fonts put first in a role's stack
    evaluation_years_after: tuple[int, int] = (1, 1)
    files: tuple[str, ...] = Field((), exclude=True)
    fingerprint: str = Field("", exclude=True)
    # The control characters the files held (cleaned by the model): (file, its name from the
    # workspace root, line, field's place, message).
    control: tuple[tuple[str, str, int | None, tuple[str | int, ...], str], ...] = Field((), exclude=True)

    @model_validator(mode="after")
    def _consistent(self) -> Rules:
        weights = [level.weight for level in self.levels.values()]
        if None in weights and self.indicator_total is None:
            raise ValueError("有一级指标未定分值时，须给出 indicator_total（全部指标的分值合计）")
        fixed = sum((w for w in weights if w is not None), Decimal(0))
        if self.indicator_total is not None:
            if self.execution.weight + self.indicator_total != 100:
                raise ValueError(f"执行率与指标分值合计之和应为 100，实际为 {self.execution.weight + self.indicator_total}")
            if fixed > self.indicator_total:
                raise ValueError(f"各一级指标分值之和 {fixed} 超过指标分值合计 {self.indicator_total}")
        elif self.execution.weight + fixed != 100:
            raise ValueError(f"执行率与各一级指标分值之和应为 100，实际为 {self.execution.weight + fixed}")
        if self.redistribute is not None:
            unknown = [n for n in (self.redistribute.source, *self.redistribute.to) if n not in self.levels]
            if unknown:
                raise ValueError(f"redistribute 中的一级指标不存在：{'、'.join(unknown)}")
        for category in self.default_operator_by_category:
            # a 二级 name, or a 一级 one where a province makes 成本指标 a level of its own
            if self.level_of(category) is None and category not in self.levels:
                raise ValueError(f"default_operator_by_category 中的二级指标不存在：{category}")
        return self

    # --- lookups -------------------------------------------------------------------------

    @property
    def indicators_weight(self) -> Decimal:
        """The points all indicators share (90 by the national rules)."""
        return self.indicator_total if self.indicator_total is not None else 100 - self.execution.weight

    def canonical_level(self, label: str) -> str | None:
        """The 一级指标 a label names, as forms print it: "产出指标（50分）", "产出指标(50分)", "产出"."""
        name = _POINTS.sub("", label).strip()
        for level in self.levels:
            if name in (level, level.removesuffix("指标")):
                return level
        return None

    def canonical_category(self, name: str) -> str | None:
        """"经济效益" and "经济效益指标" are the same 二级指标; None when unknown. A level's own
        ``categories`` win over another's ``other_categories`` (a province that makes 成本指标 a
        一级 of its own takes 经济成本指标 from 产出)."""
        name = _POINTS.sub("", name.strip())
        for pick in (lambda level: level.categories, lambda level: level.other_categories):
            for level in self.levels.values():
                for category in pick(level):
                    if name in (category, category.removesuffix("指标")):
                        return category
        return None

    def level_of(self, category: str) -> str | None:
        canonical = self.canonical_category(category)
        if canonical is None:
            return None
        for level_name, level in self.levels.items():
            if canonical in level.categories:
                return level_name
        for level_name, level in self.levels.items():
            if canonical in level.other_categories:
                return level_name
        return None

    def default_operator_for(self, category: str) -> Operator:
        canonical = self.canonical_category(category) or category
        return self.default_operator_by_category.get(canonical, self.default_operator)

    def round(self, value: Decimal) -> Decimal:
        """Round as the form does (四舍五入 to ``decimals`` places)."""
        return value.quantize(Decimal(1).scaleb(-self.decimals), rounding=ROUND_HALF_UP)

    def grade(self, total: Decimal) -> str:
        rounded = self.round(total)
        for band in sorted(self.grades, key=lambda b: b.min, reverse=True):
            if rounded >= band.min:
                return band.label
        return sorted(self.grades, key=lambda b: b.min)[0].label

    def tier(self, score: Decimal, weight: Decimal) -> str:
        share = score / weight if weight else Decimal(1)
        for band in sorted(self.tiers, key=lambda b: b.min, reverse=True):
            if share >= band.min:
                return band.label
        return sorted(self.tiers, key=lambda b: b.min)[0].label

    def tier_range(self, label: str) -> tuple[Decimal, Decimal]:
        """Share of the weight a tier covers: [low, high), the top tier up to 1 inclusive."""
        bands = sorted(self.tiers, key=lambda b: b.min)
        for i, band in enumerate(bands):
            if band.label == label:
                high = bands[i + 1].min if i + 1 < len(bands) else Decimal(1)
                return band.min, high
        raise KeyError(label)

    def grade_note(self) -> str:
        """备注 of the 自评结论: "90（含）—100分为优；80（含）—90分为良；…"."""
        bands = sorted(self.grades, key=lambda b: b.min, reverse=True)
        parts, upper = [], Decimal(100)
        for band in bands:
            if band.min > 0:
                parts.append(f"{plain_number(band.min)}（含）—{plain_number(upper)}分为{band.label}")
            else:
                parts.append(f"{plain_number(upper)}分以下为{band.label}")
            upper = band.min
        return "；".join(parts) + "。"


def _default_rules_file() -> Path:
    return Path(str(resources.files("evaltools") / "data" / DEFAULT_RULES))


def load_rules(*overrides: Path | str) -> Rules:
    """The national default with each override file deep-merged over it, in order."""
    files = [read_yaml(_default_rules_file()), *(read_yaml(p) for p in overrides)]
    merged: dict[str, Any] = {}
    for yaml_file in files:
        merged = deep_merge(merged, yaml_file.data)
    rules = validate(Rules, merged, [(f, ()) for f in files])
    control = tuple((str(f.path), display_path(f.path), f.line_of(loc), loc, message)
                    for f in files[1:] for loc, message in control_findings(f.data))
    return rules.model_copy(
        update={"files": tuple(str(f.path) for f in files[1:]), "fingerprint": fingerprint(merged), "control": control}
    )

