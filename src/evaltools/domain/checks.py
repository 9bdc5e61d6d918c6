"""Consistency checks: what a careful reviewer at the 财政局 would send back.

Each check has a code, a severity and a one-line description (``evaltools check --list``);
each finding names the field and says, in Chinese, what is wrong and what was expected.
Errors make the report wrong or unacceptable; warnings are worth a second look.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from evaltools.domain.history import previous_error, previous_year
from evaltools.domain.department import FUND_NATURE_ROWS, SPENDING_NATURE_ROWS, project_spending
from evaltools.domain.markup import linked_images
from evaltools.domain.placeholders import NAMES, placeholders
from evaltools.domain.model import BUDGET_COLUMNS, SOURCE_LABELS, Budget, BudgetRow, ProjectParams, is_blank
from evaltools.domain.yamlio import Loc, field_path
from evaltools.domain.rules import Rules
from evaltools.domain import reviewer
from evaltools.domain.scoring import HUNDRED, IndicatorScore, ScoreCard, percent, score
from evaltools.domain.targets import plain_number
from evaltools.domain.workspace import LoadedProject, display_path

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

    @property
    def field(self) -> str:
        return field_path(self.loc)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: " if self.file and self.line else (f"{self.file}: " if self.file else "")
        return f"{where}{SEVERITY_LABELS[self.severity]} [{self.code}] {self.field}: {self.message}"


@dataclass(frozen=True)
class Context:
    params: ProjectParams
    rules: Rules
    card: ScoreCard
    path: Path | None = None

    @functools.cached_property
    def texts(self) -> list[tuple[Loc, str]]:
        """Every piece of free text in the parameters (see :func:`texts`), gathered once for all checks."""
        return list(texts(self.params))


Raised = tuple[Loc, str]


@dataclass(frozen=True)
class Check:
    code: str
    severity: Severity
    description: str
    run: Callable[[Any], Iterable[Raised]]  # a Context (project) or a LoadedDepartment


CHECKS: list[Check] = []  # a project's
DEPARTMENT_CHECKS: list[Check] = []  # a department report's


def check(code: str, severity: Severity, description: str, registry: list[Check] = CHECKS):
    def register(function: Callable[[Any], Iterable[Raised]]):
        registry.append(Check(code, severity, description, function))
        return function

    return register


def _findings(specs: Iterable[Check], subject: Any,
              locate: Callable[[Loc], tuple[Path | None, int | None]] | None = None) -> list[Finding]:
    """Run checks on ``subject``; each finding located by ``locate`` (file and line) if given."""
    findings = []
    for spec in specs:
        for loc, message in spec.run(subject):
            file, line = locate(loc) if locate else (None, None)
            findings.append(Finding(spec.code, spec.severity, loc, message, file, line))
    return findings


def _differs(stated: Decimal, computed: Decimal, rules: Rules) -> bool:
    return rules.round(stated) != rules.round(computed)


# --- funds -------------------------------------------------------------------------------------


@check("EXEC-RATE", "error", "预算执行率超过100%，或全年预算数为零却有支出")
def _execution_rate(ctx: Context) -> Iterator[Raised]:
    execution = ctx.card.execution
    if execution.over_budget:
        budget = execution.budget
        yield ("budget", "total"), (
            f"全年执行数 {plain_number(budget.executed or Decimal(0))} 万元超过全年预算数 "
            f"{plain_number(budget.annual or Decimal(0))} 万元（执行率 {percent(execution.rate, ctx.rules)}），执行率不能超过100%"
        )


@check("EXEC-SCORE", "error", "表中执行率或其得分与公式（全年执行数/全年预算数 × 分值）不符（执行率按表中所写的位数比较）")
def _execution_score(ctx: Context) -> Iterator[Raised]:
    declared, execution = ctx.params.declared, ctx.card.execution
    if declared.execution_score is not None and _differs(declared.execution_score, execution.score, ctx.rules):
        yield ("declared", "execution_score"), (
            f"表中执行率得分为 {plain_number(declared.execution_score)}，按公式应为 {execution.score}"
        )
    stated_rates: list[tuple[Loc, Decimal, str, BudgetRow]] = []
    if declared.execution_rate is not None:
        stated_rates.append((("declared", "execution_rate"), declared.execution_rate, "表中执行率", execution.budget))
    budget = ctx.params.budget
    for key, row in budget.rows():
        if row.rate is not None:
            amounts = execution.budget if key == "total" else row
            stated_rates.append((("budget", key, "rate"), row.rate, f"{Budget.title_of(key).split('（')[0]}的执行率", amounts))
    for loc, stated, label, amounts in stated_rates:
        annual, executed = amounts.annual or Decimal(0), amounts.executed or Decimal(0)
        if annual <= 0:
            if stated != 0 or executed:
                yield loc, f"{label}为 {plain_number(stated)}%，但全年预算数为空或为零，无从计算"
            continue
        exact = executed / annual * HUNDRED
        if not reviewer.agrees_as_written(stated, exact):
            yield loc, (f"{label}为 {plain_number(stated)}%，按全年执行数/全年预算数"
                        f"（{plain_number(executed)}/{plain_number(annual)}）应为 {ctx.rules.round(exact)}%")


@check("BUDGET-TOTAL", "error", "年度资金总额与各资金来源行（当年财政拨款、上年结转资金、财政专户管理资金、单位资金、其他资金）之和不符")
def _budget_total(ctx: Context) -> Iterator[Raised]:
    stated = ctx.params.budget.total
    if stated is None:
        return
    computed = ctx.params.budget.computed_total
    for column in BUDGET_COLUMNS:
        given, summed = getattr(stated, column), getattr(computed, column)
        if given is not None and given != (summed or Decimal(0)):
            yield ("budget", "total", column), (
                f"年度资金总额的{BudgetRow.title_of(column)}为 {plain_number(given)} 万元，"
                f"各行之和为 {plain_number(summed or Decimal(0))} 万元"
            )


@check("INVESTMENT-TOTAL", "error", "计划投资额或实际到位资金的合计与各来源之和不符")
def _investment_total(ctx: Context) -> Iterator[Raised]:
    investment = ctx.params.investment
    if investment is None:
        return
    for key in ("planned", "received"):
        sources = getattr(investment, key)
        if sources.total is not None and sources.total != sources.computed_total:
            labels = "、".join(SOURCE_LABELS.values())
            yield ("investment", key, "total"), (
                f"{type(investment).title_of(key)}合计为 {plain_number(sources.total)} 万元，"
                f"各来源（{labels}）之和为 {plain_number(sources.computed_total)} 万元"
            )


@check("FUNDING-RATE", "warning", "实际到位资金超过计划投资额")
def _funding_rate(ctx: Context) -> Iterator[Raised]:
    rate = ctx.card.funding_rate
    if rate is not None and rate > 1:
        yield ("investment", "received"), f"资金到位率为 {percent(rate, ctx.rules)}，超过100%，请核对"


@check("SPENDING-SUM", "error", "支出明细合计（元）与全年执行数（万元）不符")
def _spending_sum(ctx: Context) -> Iterator[Raised]:
    spending = ctx.params.spending
    if not spending:
        return
    total_yuan = sum((item.amount for item in spending), Decimal(0))
    executed = ctx.card.execution.budget.executed or Decimal(0)
    if total_yuan != executed * 10_000:
        yield ("spending",), (
            f"支出明细合计 {total_yuan:.2f} 元，而全年执行数为 {plain_number(executed)} 万元"
            f"（{executed * 10_000:.2f} 元）"
        )


# --- indicators ----------------------------------------------------------------------------------


@check("CATEGORY", "error", "二级指标不在规则之内，或与所填一级指标不符")
def _category(ctx: Context) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        indicator = row.indicator
        if row.level1 is None:
            known = "、".join(c for level in ctx.rules.levels.values() for c in level.all_categories)
            yield ("indicators", row.index, "level2"), f"不认识的二级指标 {indicator.level2!r}，应为：{known}"
        elif indicator.level1 and not _level1_fits(indicator.level1, row, ctx.rules):
            yield ("indicators", row.index, "level1"), (
                f"二级指标“{row.level2}”属于“{row.level1}”，表中写的是“{indicator.level1}”"
            )


def _level1_fits(written: str, row: IndicatorScore, rules: Rules) -> bool:
    """The 一级 label as printed ("产出指标（50分）") names the row's level; newer forms print
    成本指标 as a 一级 over 经济/社会/生态环境成本指标, which the rules keep under the same level."""
    if rules.canonical_level(written) == row.level1:
        return True
    as_category = rules.canonical_category(re.sub(r"[（(].*", "", written))
    return as_category is not None and rules.level_of(as_category) == row.level1


_LABEL_POINTS = re.compile(r"[（(]\s*(\d+(?:\.\d+)?)\s*分?\s*[)）]")


@check("WEIGHTS", "error", "各一级指标分值之和与规则或表中所印分值不符，或总分值不是100")
def _weights(ctx: Context) -> Iterator[Raised]:
    rules, levels = ctx.rules, ctx.card.levels
    moved = rules.redistribute
    receiving = set(moved.to) if moved and not any(lv.name == moved.source and lv.weight for lv in levels) else set()
    for level in levels:
        if level.expected_weight is None:
            pass  # the province fixes only the total
        elif level.name in receiving:
            if level.weight < level.expected_weight:
                yield ("indicators",), (
                    f"{level.name}分值合计 {plain_number(level.weight)}，至少应为 {plain_number(level.expected_weight)}"
                )
        elif level.weight != level.expected_weight:
            yield ("indicators",), f"{level.name}分值合计 {plain_number(level.weight)}，应为 {plain_number(level.expected_weight)}"
    # A 一级 label printed with its points ("产出指标（50分）") must agree with its rows.
    printed: dict[str, tuple[int, Decimal]] = {}
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for row in ctx.card.indicators:
        match = _LABEL_POINTS.search(row.indicator.level1 or "")
        if match:
            label = _LABEL_POINTS.sub("", row.indicator.level1 or "").strip()
            printed.setdefault(label, (row.index, Decimal(match.group(1))))
            sums[label] += row.weight
    for label, (index, points) in printed.items():
        if points != sums[label]:
            yield ("indicators", index, "level1"), (
                f"表中印的是“{label}（{plain_number(points)}分）”，其下各指标分值合计 {plain_number(sums[label])}")
    indicators = sum((r.weight for r in ctx.card.indicators), Decimal(0))
    if indicators != rules.indicators_weight:
        yield ("indicators",), (f"全部指标的分值合计 {plain_number(indicators)}，应为 {plain_number(rules.indicators_weight)}"
                                f"（另有预算执行率 {plain_number(rules.execution.weight)} 分，合计 100）")


@check("NOT-A-NUMBER", "error", "定量指标的实际完成值缺少数字，或单位与指标值不一致")
def _not_a_number(ctx: Context) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        if (not row.target.is_quantitative or row.method != "missing" or _blank_actual(row) or row.unit_suspect
                or row.indicator.weight is None):
            continue  # a blank cell is BLANK-CELL's, 元 for 万元 UNIT-FIT's
        loc = ("indicators", row.index, "actual_value" if row.indicator.actual_value is not None else "actual")
        if row.unit_mismatch:
            yield loc, f"实际完成值 {row.actual} 的单位与指标值 {row.target} 不一致，无法换算"
        else:
            written = row.indicator.actual_value if row.indicator.actual_value is not None else row.indicator.actual
            yield loc, (f"指标值 {row.target} 是定量的，实际完成值“{written}”中没有一个可以计分的数值"
                        f"（没有{row.target.quantity.unit or '数值'}，或不止一个），请写明实际完成的数值")


def _blank_actual(row: IndicatorScore) -> bool:
    return is_blank(row.indicator.actual) and row.indicator.actual_value is None


@check("SCORE-MISSING", "error", "定性或时效指标的得分为空")
def _score_missing(ctx: Context) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        if not row.target.is_quantitative and row.method == "missing" and row.indicator.weight is not None:
            kind = "时效" if row.target.kind == "deadline" else "定性"
            yield ("indicators", row.index, "score"), f"{kind}指标“{row.indicator.name}”的得分为空（由评价组打分后填写）"


@check("SCORE-OVER-WEIGHT", "error", "得分超过分值或为负")
def _score_over_weight(ctx: Context) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        given = row.indicator.score
        if given is not None and row.indicator.weight is not None and (given > row.weight or given < 0):
            yield ("indicators", row.index, "score"), f"得分 {plain_number(given)} 应在 0 到分值 {plain_number(row.weight)} 之间"


@check("MET-BUT-DEDUCTED", "error", "定量指标已达到指标值却被扣分")
def _met_but_deducted(ctx: Context) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        given = row.indicator.score
        if row.met and given is not None and given < row.weight:
            yield ("indicators", row.index, "score"), (
                f"实际完成值 {row.actual} 已达到指标值 {row.target}，应得满分 {plain_number(row.weight)}，表中为 {plain_number(given)}"
            )


@check("SCORE-MISMATCH", "error", "定量指标表中得分与按规则计算的得分不符")
def _score_mismatch(ctx: Context) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        given = row.indicator.score
        if row.method != "rule" or given is None or row.met and given < row.weight:
            continue
        if row.met is False and given >= row.weight:
            yield ("indicators", row.index, "score"), (
                f"实际完成值 {row.actual} 未达到指标值 {row.target}，不应得满分 {plain_number(given)}"
                f"（按规则得分为 {row.score}）")
        elif _differs(given, row.score, ctx.rules):
            yield ("indicators", row.index, "score"), (
                f"按规则（实际 {row.actual}，指标值 {row.target}）得分应为 {row.score}，表中为 {plain_number(given)}"
            )


@check("TIER", "error", "定性指标的得分与所填完成档次（达成/部分达成/未达成）不符")
def _tier(ctx: Context) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        declared = row.indicator.tier
        if declared is None or row.method != "evaluator":
            continue
        computed = ctx.rules.tier(row.score, row.weight)
        if computed != declared:
            low, high = ctx.rules.tier_range(declared)
            yield ("indicators", row.index, "tier"), (
                f"得分 {plain_number(row.score)}/{plain_number(row.weight)} 属于“{computed}”；“{declared}”应得分值的 "
                f"{plain_number(low * HUNDRED)}%–{plain_number(high * HUNDRED)}%"
            )


def _lost_points(row: IndicatorScore) -> Decimal:
    """Points the row lost: by the rule's score, or by the form's own 得分 where that is lower
    (a deduction the form states needs its reason even where the rule would not deduct)."""
    if row.method == "missing" and row.indicator.score is None:
        return Decimal(0)  # nothing stated, nothing computed: SCORE-MISSING or NOT-A-NUMBER say so
    stated = row.indicator.score
    stated_loss = row.weight - stated if stated is not None and row.indicator.weight is not None else Decimal(0)
    return max(row.lost, stated_loss, Decimal(0))


@check("DEVIATION-MISSING", "error", "扣分（计算的或表中所填的）或未达到指标值，却没有偏差原因分析及改进措施")
def _deviation_missing(ctx: Context) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        deviation = row.indicator.deviation
        if (deviation or "").strip():
            continue  # a non-reason ("无", "0") is NON-REASON's
        lost = _lost_points(row)
        if row.met is False:
            yield ("indicators", row.index, "deviation"), (
                f"实际完成值 {row.actual} 未达到指标值 {row.target}，偏差原因分析及改进措施为空"
            )
        elif lost > 0:
            yield ("indicators", row.index, "deviation"), (
                f"扣 {plain_number(lost)} 分（{plain_number(row.weight - lost)}/{plain_number(row.weight)}），偏差原因分析及改进措施为空"
            )


@check("NON-REASON", "error", "扣分的指标，偏差原因只写了“0”“无”“/”之类，不是原因")
def _non_reason(ctx: Context) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        if (row.met is False or _lost_points(row) > 0) and reviewer.is_non_reason(row.indicator.deviation):
            yield ("indicators", row.index, "deviation"), (
                f"“{row.indicator.name}”扣了分，偏差原因只写了“{row.indicator.deviation.strip()}”，须说明原因及改进措施")


@check("OVERACHIEVEMENT", "warning", "实际完成值大幅超过指标值（规则默认30%），未作说明")
def _overachievement(ctx: Context) -> Iterator[Raised]:
    share = ctx.rules.overachievement * HUNDRED
    for row in ctx.card.indicators:
        if row.overachieved and not (row.indicator.deviation or "").strip():
            yield ("indicators", row.index, "deviation"), (
                f"实际完成值 {row.actual} 偏离指标值 {row.target} 达 {plain_number(share)}% 以上，"
                "应说明原因（目标是否定得过低）"
            )


# --- what the cells say ----------------------------------------------------------------------------


def _hidden_target(row: IndicatorScore) -> str | None:
    """The target written into the 三级指标 name when the 年度指标值 cell is empty."""
    return reviewer.target_in_name(row.indicator.name) if is_blank(row.indicator.target) else None


@check("BLANK-CELL", "error", "绩效指标的年度指标值或实际完成值为空，或有得分而分值为空")
def _blank_cell(ctx: Context) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        indicator = row.indicator
        if _hidden_target(row):
            continue  # TARGET-IN-NAME says it better
        if is_blank(indicator.target):
            yield ("indicators", row.index, "target"), f"“{indicator.name}”的年度指标值为空"
        if _blank_actual(row):
            yield ("indicators", row.index, "actual"), f"“{indicator.name}”的实际完成值为空"
        if indicator.weight is None and indicator.score is not None:
            yield ("indicators", row.index, "weight"), (
                f"“{indicator.name}”填了得分 {plain_number(indicator.score)}，分值却为空")


@check("TARGET-IN-NAME", "error", "指标值写进了三级指标名称，年度指标值（或实际完成值）栏却为空")
def _target_in_name(ctx: Context) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        hidden = _hidden_target(row)
        if hidden:
            empty = "年度指标值、实际完成值均为空" if _blank_actual(row) else "年度指标值为空"
            yield ("indicators", row.index, "target"), (
                f"“{row.indicator.name}”把指标值“{hidden}”写进了名称，{empty}；应写入年度指标值栏并填实际完成值")


def _unit_problems(ctx: Context, certain: bool) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        if not row.target.is_quantitative:
            continue
        for message, is_certain in reviewer.unit_problems(row.indicator.name, row.target, row.actual):
            if is_certain == certain:
                yield ("indicators", row.index, "target" if "指标值却" in message else "actual"), message


@check("UNIT-FIT", "error", "数值与单位对不上：比率超过100%，或元与万元相差一万倍")
def _unit_fit(ctx: Context) -> Iterator[Raised]:
    yield from _unit_problems(ctx, certain=True)


@check("UNIT-DOUBT", "warning", "单位与指标的性质不符（数量却以%计），请核对")
def _unit_doubt(ctx: Context) -> Iterator[Raised]:
    yield from _unit_problems(ctx, certain=False)


@check("WRONG-CATEGORY", "warning", "指标疑似放错了类别（成本放在效益下、非满意度放在满意度下等），并说明依据")
def _wrong_category(ctx: Context) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        found = reviewer.misplaced(row.indicator.name, row.level1, row.level2, row.target)
        if found:
            yield ("indicators", row.index, "level2"), (
                f"“{row.indicator.name}”放在{row.level2}下，看来应属{found.should_be}：{found.why}")


# --- totals --------------------------------------------------------------------------------------


@check("TOTAL-SCORE", "error", "表中总分与各项得分之和不符")
def _total_score(ctx: Context) -> Iterator[Raised]:
    stated = ctx.params.declared.total_score
    if stated is not None and _differs(stated, ctx.card.total, ctx.rules):
        yield ("declared", "total_score"), f"表中总分为 {plain_number(stated)}，各项得分之和为 {ctx.card.total}"


@check("GRADE", "error", "表中等级与总分所在的等级区间不符")
def _grade(ctx: Context) -> Iterator[Raised]:
    stated = ctx.params.declared.grade
    # "优秀" and "良好" are how many forms write 优 and 良; "较差" is not "差".
    if stated is not None and not stated.strip().startswith(ctx.card.grade):
        yield ("declared", "grade"), (
            f"总分 {ctx.card.total} 对应等级“{ctx.card.grade}”，表中为“{stated}”（{ctx.rules.grade_note()}）"
        )


# --- text ----------------------------------------------------------------------------------------


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


_TEMPLATE_TEXT = re.compile(
    r"……|…|\.{4,}|[（(]\s*\d+\s*字(?:以内|左右)\s*[)）]|××|(?<![A-Za-z])XX(?![A-Za-z])"
    r"|^\s*(?:指标|任务|目标)\s*\d+\s*[：:]?\s*$|此页为封面|（参考格式）|请填写|在此填写"
    r"|（(?:项目名称|主管部门|实施单位|三级指标)）"  # the blank workbook's placeholders
)


@check("TEMPLATE-TEXT", "error", "文字中留有模板占位内容（……、指标2、（100字以内）等）")
def _template_text(ctx: Context) -> Iterator[Raised]:
    for loc, text in ctx.texts:
        match = _TEMPLATE_TEXT.search(text)
        if match:
            yield loc, f"留有模板占位内容“{match.group(0)}”，请替换为实际内容"


@check("FIGURE-NAME", "error", "文字引用了不存在的数字名称 {{…}}")
def _figure_name(ctx: Context) -> Iterator[Raised]:
    for loc, text in ctx.texts:
        for name in placeholders(text):
            if name not in NAMES:
                yield loc, f"不认识的数字名称 {{{{{name}}}}}，可用：{'、'.join(NAMES)}"


def _linked_images(found: Iterable[tuple[Loc, str]]) -> Iterator[Raised]:
    for loc, text in found:
        for src in linked_images(text):
            yield loc, (f"插入了图片 {src[:120]}：报告离线生成，不从网络或其他文件读取图片，这里只会显示为文字；"
                        "请删除它，或改为文字说明")


@check("LINKED-IMAGE", "error", "文字中插入了网络地址或外部文件的图片（报告离线生成，不读取）")
def _linked_image(ctx: Context) -> Iterator[Raised]:
    yield from _linked_images(ctx.texts)


_MALFORMED_NUMBER = re.compile(r"\d+\.\d+\.\d+\s*(?:亿元|万元|元|%|‰)")


_STATED_FIGURE = re.compile(r"(\d+(?:\.\d+)?)\s*(分|%|万元|元)")


def _computed_figures(ctx: Context) -> set[tuple[Decimal, str]]:
    """Every score, deduction, rate and sum the report computes, with its unit."""
    card, figures = ctx.card, set()
    for row in card.indicators:
        figures |= {(row.weight, "分"), (row.score, "分"), (row.lost, "分")}
    figures |= {(card.total, "分"), (card.execution.score, "分"), (ctx.rules.execution.weight, "分")}
    figures |= {(rate * HUNDRED, "%") for rate in (card.execution.rate, card.funding_rate) if rate is not None}
    budget = card.execution.budget
    figures |= {(v, "万元") for v in (budget.initial, budget.annual, budget.executed) if v is not None}
    amounts = [item.amount for item in ctx.params.spending]
    figures |= {(v, "元") for v in [*amounts, sum(amounts, Decimal(0))]}
    return {(ctx.rules.round(value), unit) for value, unit in figures if value is not None}


@check("SENTENCE-FIGURE", "warning", "单位自拟的句子所写的得分、扣分、比率或金额与表中计算的不符")
def _sentence_figures(ctx: Context) -> Iterator[Raised]:
    """A unit's own sentence in place of a generated one (narrative.sentences) must say what the
    tables say: each figure it names with 分, %, 万元 or 元 is one the report computes."""
    sentences = ctx.params.narrative.sentences
    if not sentences:
        return
    computed = _computed_figures(ctx)
    for name, text in sentences.items():
        for match in _STATED_FIGURE.finditer(re.sub(r"\{\{[^}]*\}\}", "", text)):
            value, unit = ctx.rules.round(Decimal(match.group(1))), match.group(2)
            if (value, unit) not in computed:
                yield ("narrative", "sentences", name), (
                    f"“{match.group(0)}”与表中计算的数字不符（总分 {plain_number(ctx.card.total)} 分，"
                    f"执行率 {percent(ctx.card.execution.rate, ctx.rules)}）；可写 {{{{总分}}}} 等数字名称，由数据填入")
        if name == "completion" and "全部完成" in text and any(row.met is False for row in ctx.card.indicators):
            yield ("narrative", "sentences", name), "写“全部完成”，但有指标未达到年度指标值"


@check("ATTACHMENT-NOT-ATTACHED", "warning", "附件只写了名称、没有附上文件：报告的附件列表不列出它")
def _attachment_not_attached(ctx: Context) -> Iterator[Raised]:
    form = ctx.params.project.fund_type.form_title
    for i, attachment in enumerate(ctx.params.narrative.attachments):
        if isinstance(attachment, str) and not attachment.endswith(form):  # the 自评表 is always attached
            yield ("narrative", "attachments", i), (
                f"“{attachment}”没有附上文件，十、附件中不列出；要附上，请写作 {{title: …, file: 文件.md 或 .pdf}}")


@check("MALFORMED-NUMBER", "error", "文字中的金额或比率写法有误（如 106.62.00万元）")
def _malformed_number(ctx: Context) -> Iterator[Raised]:
    for loc, text in ctx.texts:
        for match in _MALFORMED_NUMBER.finditer(text):
            yield loc, f"“{match.group(0)}”不是一个有效的数字"


_CHANGE = re.compile(
    r"由(?:去年|上年|原来)?\s*(\d+(?:\.\d+)?)\s*([%‰％])\s*"
    r"(?:下降|降低|降|上升|提高|提升|增长|增加|减少)(?:至|到|为)\s*(\d+(?:\.\d+)?)\s*([%‰％])"
)


@check("UNIT-CONFLICT", "warning", "同一变化在不同处用了不同单位（% 与 ‰）")
def _unit_conflict(ctx: Context) -> Iterator[Raised]:
    seen: dict[tuple[str, str], list[tuple[Loc, str, str]]] = defaultdict(list)
    for loc, text in ctx.texts:
        for match in _CHANGE.finditer(text):
            before, unit, after, _ = match.groups()
            unit = "%" if unit == "％" else unit
            seen[(before, after)].append((loc, unit, match.group(0)))
    for (before, after), uses in seen.items():
        units = [unit for _, unit, _ in uses]
        if len(set(units)) < 2:
            continue
        usual = max(set(units), key=lambda u: (units.count(u), u == "‰"))
        for loc, unit, phrase in uses:
            if unit != usual:
                yield loc, f"“{phrase}”用的是 {unit}，其他地方同一变化（{before}→{after}）写作 {usual}"


# --- what a reviewer reads between the lines --------------------------------------------------------


def _explanations(params: ProjectParams) -> list[str]:
    """Where a form or report explains its money: the 原因 column, 偏差原因, the report's text."""
    found = [text for text in params.budget.reasons + [i.deviation or "" for i in params.indicators]
             if reviewer.gives_reason(text)]
    found += [params.goals.achieved]
    for part in (params.summary, params.narrative):
        found += [text for _, text in texts(part)]
    return [t for t in found if t]


@check("BUDGET-ADJUSTED", "warning", "预算调整（年初预算数≠全年预算数）却未说明原因")
def _budget_adjusted(ctx: Context) -> Iterator[Raised]:
    amounts = ctx.card.execution.budget
    if amounts.initial is None or amounts.annual is None or amounts.initial == amounts.annual:
        return
    if reviewer.mentions(reviewer.ADJUSTMENT_WORDS, _explanations(ctx.params)) or any(
            map(reviewer.gives_reason, ctx.params.budget.reasons)):
        return
    changed = next((key for key, row in ctx.params.budget.rows()
                    if row.initial is not None and row.annual is not None and row.initial != row.annual), "total")
    yield ("budget", changed, "reason"), (
        f"年初预算数 {plain_number(amounts.initial)} 万元调整为全年预算数 {plain_number(amounts.annual)} 万元，"
        "未说明调整原因（追加、调减或调剂的依据）")


@check("EXEC-UNEXPLAINED", "warning", "预算执行率低于100%（或省里规则所定的比例，如90%）却未说明原因")
def _execution_unexplained(ctx: Context) -> Iterator[Raised]:
    rate, threshold = ctx.card.execution.rate, ctx.rules.execution.explain_below
    # compared as the form shows it: 99.996 % is "100.00%", not below 100 %
    if rate is None or ctx.rules.round(rate * HUNDRED) >= threshold * HUNDRED:
        return
    if reviewer.mentions(reviewer.UNSPENT_WORDS, _explanations(ctx.params)):
        return
    below = "100%" if threshold == 1 else f"{plain_number(threshold * HUNDRED)}%（{ctx.rules.name}）"
    budget = ctx.card.execution.budget
    unspent = (budget.annual or Decimal(0)) - (budget.executed or Decimal(0))
    yield ("budget", "total", "reason"), (
        f"预算执行率 {percent(rate, ctx.rules)} 低于 {below}，{plain_number(unspent)} 万元未执行，未说明原因")


@check("RESTATED-BUDGET", "warning", "产出指标只是重复预算金额或执行率，不是产出")
def _restated_budget(ctx: Context) -> Iterator[Raised]:
    budget = ctx.card.execution.budget
    amounts = {v for v in (budget.initial, budget.annual, budget.executed) if v}
    for row in ctx.card.indicators:
        if row.level1 != "产出指标":
            continue
        named = reviewer.restates_execution(row.indicator.name)
        quantity = row.target.quantity
        if named:
            yield ("indicators", row.index, "name"), (
                f"“{row.indicator.name}”是{named}，已在项目资金栏按执行率计分，不是{row.level2.removesuffix('指标')}产出")
        elif quantity is not None and "成本" not in row.level2 and quantity.unit in ("元", "万元", "亿元"):
            wan = quantity.to("万元")
            if wan is not None and wan.value in amounts:
                yield ("indicators", row.index, "target"), (
                    f"“{row.indicator.name}”的指标值 {row.target} 就是项目预算金额，只重复了资金数，没有说明产出")


@check("BARE-GOAL", "warning", "年度总体目标或实际完成情况为空、只重复项目名称或只写一个数字")
def _bare_goal(ctx: Context) -> Iterator[Raised]:
    goals, name = ctx.params.goals, ctx.params.project.name
    for key in ("expected", "achieved"):
        text = getattr(goals, key)
        label = type(goals).title_of(key)
        if is_blank(text):
            if ctx.params.form_only:  # a report requires it: REPORT-FIELD says so
                yield ("goals", key), f"年度总体目标的{label}为空"
            continue
        why = reviewer.bare_goal(text, name)
        if why:
            yield ("goals", key), f"年度总体目标的{label}{why}"


@check("TEXT-FIGURES", "warning", "文字与表中数字矛盾：所说的结余比例或金额、项目总成本与全年预算数、执行数不符")
def _text_figures(ctx: Context) -> Iterator[Raised]:
    budget = ctx.card.execution.budget
    annual, executed = budget.annual, budget.executed
    if annual is None or executed is None or annual <= 0:
        return
    unspent = annual - executed
    share = unspent / annual * HUNDRED
    where: list[tuple[Loc, str]] = [(("budget", key, "reason"), row.reason) for key, row in ctx.params.budget.rows()
                                    if row.reason]
    where += [(("indicators", i, "deviation"), ind.deviation) for i, ind in enumerate(ctx.params.indicators)
              if ind.deviation]
    where += [(("summary",) + loc, text) for loc, text in texts(ctx.params.summary)]
    where += [(("narrative",) + loc, text) for loc, text in texts(ctx.params.narrative)]
    unspent_text = f"全年预算数 {plain_number(annual)} 万元、执行数 {plain_number(executed)} 万元"
    for loc, text in where:
        for cited in reviewer.unspent_shares(text):
            if not reviewer.cited_agrees(cited, share):
                yield loc, f"文中说“{cited.phrase}”，而{unspent_text}，未执行的是 {ctx.rules.round(share)}%"
        for cited in reviewer.unspent_amounts(text):
            if not reviewer.cited_agrees(cited, unspent):
                yield loc, f"文中说“{cited.phrase}”，而{unspent_text}，未执行的是 {plain_number(unspent)} 万元"
        for cited in reviewer.total_costs(text):
            if not reviewer.cited_agrees(cited, executed):
                yield loc, f"文中说“{cited.phrase}”，而全年执行数为 {plain_number(executed)} 万元"
    for row in ctx.card.indicators:
        actual = row.actual
        if ("成本" in row.level2 and reviewer.is_total_cost_name(row.indicator.name) and actual is not None
                and actual.unit in ("元", "万元", "亿元")):
            wan = actual.to("万元")
            if wan is not None and wan.value != executed:
                yield ("indicators", row.index, "actual"), (
                    f"“{row.indicator.name}”的实际完成值为 {actual}，而全年执行数为 {plain_number(executed)} 万元")


@check("FORM-BLANK", "warning", "自评表（无报告正文）中执行率、得分或总分栏为空")
def _form_blank(ctx: Context) -> Iterator[Raised]:
    params = ctx.params
    if not params.form_only:
        return  # a report's params may leave what is computed unstated
    for key in ("execution_rate", "execution_score", "total_score"):
        if getattr(params.declared, key) is None:
            yield ("declared", key), f"表中{type(params.declared).title_of(key).removesuffix('（%）')}为空"
    for row in ctx.card.indicators:
        if row.method == "rule" and row.indicator.score is None:
            yield ("indicators", row.index, "score"), f"“{row.indicator.name}”的得分为空（按规则应为 {row.score}）"


@check("REPORT-FIELD", "error", "主管部门为空；报告（非仅自评表）缺少评价方式、评价机构或年度总体目标")
def _report_field(ctx: Context) -> Iterator[Raised]:
    params = ctx.params
    if is_blank(params.project.department):
        yield ("project", "department"), "主管部门为空"
    if params.form_only:
        return
    for key in ("method", "evaluator"):
        if is_blank(getattr(params.evaluation, key)):
            yield ("evaluation", key), f"报告的{type(params.evaluation).title_of(key)}为空"
    for key in ("expected", "achieved"):
        if is_blank(getattr(params.goals, key)):
            yield ("goals", key), f"年度总体目标的{type(params.goals).title_of(key)}为空"


# --- dates and people ------------------------------------------------------------------------------


def _evaluation_dates(params: ProjectParams) -> Iterator[tuple[Loc, object]]:
    evaluation = params.evaluation
    if evaluation.report_date:
        yield ("evaluation", "report_date"), evaluation.report_date
    for key in type(evaluation.signoff).model_fields:
        signature = getattr(evaluation.signoff, key)
        if signature is not None and signature.date is not None:
            yield ("evaluation", "signoff", key, "date"), signature.date
    if evaluation.form.date:
        yield ("evaluation", "form", "date"), evaluation.form.date


def _evaluation_years(ctx: Context) -> tuple[int, int]:
    first, last = ctx.rules.evaluation_years_after
    return ctx.params.year + first, ctx.params.year + last


@check("DATE-RANGE", "error", "报告、签字或填报日期不在评价年度之后的合理范围内")
def _date_range(ctx: Context) -> Iterator[Raised]:
    first, last = _evaluation_years(ctx)
    span = f"{first}年" if first == last else f"{first}—{last}年"
    for loc, when in _evaluation_dates(ctx.params):
        if not first <= when.year <= last:
            yield loc, f"日期 {when} 不在 {ctx.params.year} 年度自评的合理时间（{span}）内"


@check("DATE-ORDER", "error", "项目起止时间颠倒，或评价日期早于项目结束")
def _date_order(ctx: Context) -> Iterator[Raised]:
    period = ctx.params.project.period
    if period is None:
        return
    if period.start.first_day() > period.end.first_day():
        yield ("project", "period"), f"开始时间 {period.start} 晚于结束时间 {period.end}"
    first, last = _evaluation_years(ctx)
    for loc, when in _evaluation_dates(ctx.params):
        # A date outside the evaluation years is already a DATE-RANGE error: say it once.
        if first <= when.year <= last and (when.year, when.month) < (period.end.year, period.end.month):
            yield loc, f"日期 {when} 早于项目结束时间 {period.end}"


@check("PERIOD-YEAR", "warning", "项目起止时间与评价年度不重叠")
def _period_year(ctx: Context) -> Iterator[Raised]:
    period = ctx.params.project.period
    if period is not None and not period.start.year <= ctx.params.year <= period.end.year:
        yield ("project", "period"), f"项目起止时间 {period.start}—{period.end} 不含评价年度 {ctx.params.year}"


@check("SIGNER", "warning", "评价组组长签字人不是评价人员名单中的组长")
def _signer(ctx: Context) -> Iterator[Raised]:
    evaluation = ctx.params.evaluation
    signed = evaluation.signoff.team_leader
    leaders = [m.name for m in evaluation.team if "组长" in m.role.replace(" ", "") and "副" not in m.role]
    if signed and signed.name and leaders and signed.name.replace(" ", "") not in leaders:
        yield ("evaluation", "signoff", "team_leader", "name"), (
            f"签字人“{signed.name}”不是评价人员名单中的组长（{'、'.join(leaders)}）"
        )


@check("YEAR-FOLDER", "error", "参数文件所在的年度文件夹与 year 不符")
def _year_folder(ctx: Context) -> Iterator[Raised]:
    if ctx.path is None:
        return
    for folder in ctx.path.resolve().parents:
        if re.fullmatch(r"(19|20)\d{2}", folder.name):
            if int(folder.name) != ctx.params.year:
                yield ("year",), f"文件在 {folder.name} 年度文件夹中，但 year 为 {ctx.params.year}"
            return


@check("TARGET-CHANGED", "warning", "指标值与上年同一指标（同名三级指标）不同，且未说明")
def _target_changed(ctx: Context) -> Iterator[Raised]:
    previous = previous_year(ctx.path) if ctx.path is not None else None
    if previous is None:
        return
    for index, indicator in enumerate(ctx.params.indicators):
        before = previous.targets.get(indicator.name)
        # Said in 偏差原因分析及改进措施 (naming last year's value): changed, but not silently.
        if before is not None and before.strip() != indicator.target.strip() and before not in (indicator.deviation or ""):
            yield ("indicators", index, "target"), (
                f"年度指标值由 {previous.year} 年的“{before}”改为“{indicator.target}”，未作说明：如属有意调整，"
                f"请在偏差原因分析及改进措施中写明上年指标值“{before}”及调整原因"
            )


@check("PREVIOUS-UNREADABLE", "warning", "上年参数文件存在但无法读取，报告中没有上年对照")
def _previous_unreadable(ctx: Context) -> Iterator[Raised]:
    error = previous_error(ctx.path) if ctx.path is not None else None
    if error is not None:
        first = error.problems[0]
        where = (display_path(first.file) if first.file else "") + (f" 第 {first.line} 行" if first.line else "") \
            + (f" {first.field}" if first.field else "")
        yield ("year",), f"上年的参数文件无法读取（{where}：{first.message}），报告中没有上年对照；请修正上年的文件"


# --- the department report ------------------------------------------------------------------------

# Project checks that look only at the indicators and their scores: they apply to a
# department's 整体支出 indicators as they are.
INDICATOR_CHECKS = ("CATEGORY", "WEIGHTS", "NOT-A-NUMBER", "SCORE-MISSING", "SCORE-OVER-WEIGHT", "MET-BUT-DEDUCTED",
                    "SCORE-MISMATCH", "TIER", "DEVIATION-MISSING", "NON-REASON", "OVERACHIEVEMENT", "BLANK-CELL",
                    "TARGET-IN-NAME", "UNIT-FIT", "UNIT-DOUBT", "WRONG-CATEGORY")


def department_check(code: str, severity: Severity, description: str):
    return check(code, severity, description, DEPARTMENT_CHECKS)


# What the 部门整体支出绩效自评报告 asks for, by where it sits in the department file.
_EXPECTED = {
    ("unit",): "部门（单位）基本情况", ("unit", "contact"): "联系人", ("unit", "staffing"): "人员编制",
    ("unit", "actual_staff"): "实有人数", ("unit", "functions"): "职能职责概述", ("unit", "tasks"): "年度主要工作内容",
    ("funds",): "年度预算申请（附件1-3 的项目资金）", ("income",): "年度收入情况", ("expenditure",): "年度支出和结余情况",
    ("three_public",): "三公经费", ("public_funds",): "公用经费", ("procurement",): "政府采购金额",
    ("fixed_assets",): "固定资产", ("goals",): "整体支出绩效定性目标", ("indicators",): "整体支出绩效指标",
    ("evaluation", "team"): "评价人员",
}


@department_check("DEPT-MISSING", "warning", "部门整体报告缺少的内容（报告中显示为“—”）")
def _department_missing(department) -> Iterator[Raised]:
    data = department.data
    for loc, label in _EXPECTED.items():
        value: object = data
        for part in loc:
            value = value.get(part) if isinstance(value, dict) else None
        if value in (None, [], {}, ""):
            yield loc, f"未填写{label}，报告中显示为“—”"
    narrative = department.params.narrative
    empty = [type(narrative).title_of(k) for k in type(narrative).model_fields if not getattr(narrative, k)]
    if empty:
        yield ("narrative",), f"报告正文未填写：{'、'.join(empty)}（仅显示由数据生成的句子）"


@department_check("DEPT-STAFF", "warning", "实有人数超过编制数")
def _department_staff(department) -> Iterator[Raised]:
    unit = department.params.unit
    if unit and unit.staffing is not None and unit.actual_staff is not None and unit.actual_staff > unit.staffing:
        yield ("unit", "actual_staff"), f"实有人数 {unit.actual_staff} 超过编制数 {unit.staffing}"


@department_check("DEPT-BASIC-SPLIT", "error", "基本支出与人员支出、公用支出之和不符")
def _department_basic_split(department) -> Iterator[Raised]:
    for i, row in enumerate(department.params.expenditure):
        split = [v for v in (row.personnel, row.public) if v is not None]
        if row.basic is not None and split and row.basic != sum(split, Decimal(0)):
            yield ("expenditure", i, "basic"), (
                f"{row.institution}的基本支出 {plain_number(row.basic)} 万元，人员与公用支出之和为 "
                f"{plain_number(sum(split, Decimal(0)))} 万元")


@department_check("DEPT-FUNDS-BALANCE", "error", "年度资金按收入性质与按支出性质的合计不符")
def _department_funds_balance(department) -> Iterator[Raised]:
    funds = department.params.funds
    if funds is None:
        return
    for column in BUDGET_COLUMNS:
        by_income = funds.column_total(FUND_NATURE_ROWS, column)
        by_spending = funds.column_total(SPENDING_NATURE_ROWS, column)
        if by_income is not None and by_spending is not None and by_income != by_spending:
            yield ("funds",), (f"{BudgetRow.title_of(column)}：按收入性质合计 {plain_number(by_income)} 万元，"
                               f"按支出性质合计 {plain_number(by_spending)} 万元")


@department_check("DEPT-PROJECTS-TOTAL", "warning", "部门项目支出与各项目全年预算数之和不符（有项目没有自评报告？）")
def _department_projects_total(department) -> Iterator[Raised]:
    projects = [p for p in department.projects if p.annual is not None]
    if not projects:
        return
    covered = sum((p.annual for p in projects), Decimal(0))
    stated, loc = project_spending(department.params)
    if stated is not None and stated != covered:
        yield loc, (f"部门项目支出 {plain_number(stated)} 万元，而本文件夹 {len(projects)} 个项目的全年预算数合计 "
                    f"{plain_number(covered)} 万元；其余 {plain_number(stated - covered)} 万元的项目没有参数文件")


@department_check("DEPT-LINKED-IMAGE", "error", "部门文件的文字中插入了网络地址或外部文件的图片（报告离线生成，不读取）")
def _department_linked_image(department) -> Iterator[Raised]:
    yield from _linked_images(texts(department.params))


@department_check("DEPT-PROJECT-INVALID", "error", "部门下有无法读取的项目参数文件")
def _department_project_invalid(department) -> Iterator[Raised]:
    for line in department.projects:
        if line.problem:
            yield ("defaults",), f"项目文件 {line.path.name} 无法读取：{line.problem}"


def check_department(department) -> list[Finding]:
    """Findings of a loaded department: its completeness, its totals, its indicators, its projects."""
    findings = _findings(DEPARTMENT_CHECKS, department, department.locate)
    if department.card is not None and department.params.indicators:
        ctx = Context(None, department.rules, department.card, department.path)  # type: ignore[arg-type]
        findings += _findings([c for c in CHECKS if c.code in INDICATOR_CHECKS], ctx, department.locate)
    return findings


# --- running them --------------------------------------------------------------------------------


def run_checks(params: ProjectParams, rules: Rules, card: ScoreCard | None = None,
               path: Path | None = None) -> list[Finding]:
    return _findings(CHECKS, Context(params, rules, card or score(params, rules), path))


def check_project(project: LoadedProject, card: ScoreCard | None = None) -> list[Finding]:
    """All findings of a loaded project, each located in the file and line that set it."""
    ctx = Context(project.params, project.rules, card or score(project.params, project.rules), project.path)
    return _findings(CHECKS, ctx, project.locate)
