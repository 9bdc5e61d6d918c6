"""Checks of the indicator table's scores: categories, weights, each row's 得分 against the rules, the totals."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal

from evaltools.domain import reviewer
from evaltools.domain.checks.registry import Context, Raised, blank_actual, check, differs
from evaltools.domain.rules import Rules
from evaltools.domain.scoring import HUNDRED, IndicatorScore
from evaltools.domain.targets import plain_number


@check("CATEGORY", "error", "二级指标不在规则之内，或与所填一级指标不符",
       basis="财预〔2020〕10号《项目支出绩效评价管理办法》 附件指标体系：一级指标下只有规定的二级指标",
       example="“规模指标”不是二级指标；“数量指标”写在“效益指标”下")
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


def _printed_points(ctx: Context) -> Iterator[Raised]:
    """A 一级 label printed with its points ("产出指标（50分）") must agree with its rows: all the rows
    of that level, whether their label is printed with the points (first row of a group) or plain."""
    printed: dict[str, tuple[int, Decimal]] = {}
    sums: dict[str, Decimal] = defaultdict(Decimal)
    key = ""
    for row in ctx.card.indicators:
        # a blank 一级 cell is the merged label of the row above
        key = re.sub(r"\s+", "", _LABEL_POINTS.sub("", row.indicator.level1 or "")) or key or (row.level1 or "")
        match = _LABEL_POINTS.search(row.indicator.level1 or "")
        if match:
            printed.setdefault(key, (row.index, Decimal(match.group(1))))
        sums[key] += row.weight
    for label, (index, points) in printed.items():
        if points != sums[label]:
            yield ("indicators", index, "level1"), (
                f"表中印的是“{label}（{plain_number(points)}分）”，其下各指标分值合计 {plain_number(sums[label])}")


@check("WEIGHTS", "error", "各一级指标分值之和与规则或表中所印分值不符，或总分值不是100",
       basis="财预〔2020〕10号《项目支出绩效评价管理办法》：原则上预算执行率 10 分、产出 50 分、效益 30 分、满意度 10 分（省里可另定）",
       example="产出 45、效益 35：两处都与规则不符，一次列出")
def _weights(ctx: Context) -> Iterator[Raised]:
    rules, levels = ctx.rules, ctx.card.levels
    moved = rules.redistribute
    receiving = set(moved.to) if moved and not any(lv.name == moved.source and lv.weight for lv in levels) else set()
    off = []
    for level in levels:
        if level.expected_weight is None:
            pass  # the province fixes only the total
        elif level.name in receiving:
            if level.weight < level.expected_weight:
                off.append(f"{level.name} {plain_number(level.weight)}（至少应为 {plain_number(level.expected_weight)}）")
        elif level.weight != level.expected_weight:
            off.append(f"{level.name} {plain_number(level.weight)}（应为 {plain_number(level.expected_weight)}）")
    if off:  # every level that is off, in one finding: the split is one decision
        yield ("indicators",), f"一级指标分值与规则不符：{'；'.join(off)}（{rules.name}）"
    yield from _printed_points(ctx)
    indicators = sum((r.weight for r in ctx.card.indicators), Decimal(0))
    if indicators != rules.indicators_weight:
        yield ("indicators",), (f"全部指标的分值合计 {plain_number(indicators)}，应为 {plain_number(rules.indicators_weight)}"
                                f"（另有预算执行率 {plain_number(rules.execution.weight)} 分，合计 100）")


@check("NOT-A-NUMBER", "error", "定量指标的实际完成值缺少数字，或单位与指标值不一致",
       basis="财预〔2020〕10号《项目支出绩效评价管理办法》：定量指标按实际完成值与指标值计分，须有可比的数值",
       example="指标值“≥95%”，实际完成值“基本完成”")
def _not_a_number(ctx: Context) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        if (not row.target.is_quantitative or row.method != "missing" or blank_actual(row) or row.unit_suspect
                or row.indicator.weight is None):
            continue  # a blank cell is BLANK-CELL's, 元 for 万元 UNIT-FIT's
        loc = ("indicators", row.index, "actual_value" if row.indicator.actual_value is not None else "actual")
        if row.unit_mismatch:
            yield loc, f"实际完成值 {row.actual} 的单位与指标值 {row.target} 不一致，无法换算"
        else:
            written = row.indicator.actual_value if row.indicator.actual_value is not None else row.indicator.actual
            yield loc, (f"指标值 {row.target} 是定量的，实际完成值“{written}”中没有一个可以计分的数值"
                        f"（没有{row.target.quantity.unit or '数值'}，或不止一个），请写明实际完成的数值")


@check("SCORE-MISSING", "error", "定性或时效指标的得分为空",
       basis="财预〔2020〕10号 附件《项目支出绩效自评表》：每项指标都须有得分",
       example="定性指标“工程长效运行”得分为空")
def _score_missing(ctx: Context) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        if not row.target.is_quantitative and row.method == "missing" and row.indicator.weight is not None:
            kind = "时效" if row.target.kind == "deadline" else "定性"
            yield ("indicators", row.index, "score"), f"{kind}指标“{row.indicator.name}”的得分为空（由评价组打分后填写）"


@check("SCORE-OVER-WEIGHT", "error", "得分超过分值或为负",
       basis="财预〔2020〕10号 附件《项目支出绩效自评表》：得分在 0 到分值之间",
       example="分值 10，得分 12")
def _score_over_weight(ctx: Context) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        given = row.indicator.score
        if given is not None and row.indicator.weight is not None and (given > row.weight or given < 0):
            yield ("indicators", row.index, "score"), f"得分 {plain_number(given)} 应在 0 到分值 {plain_number(row.weight)} 之间"


@check("MET-BUT-DEDUCTED", "error", "定量指标已达到指标值却被扣分",
       basis="财预〔2020〕10号《项目支出绩效评价管理办法》：完成指标值的得满分",
       example="指标值“≥32处”，实际 32 处，却得 18/20 分")
def _met_but_deducted(ctx: Context) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        given = row.indicator.score
        if row.met and given is not None and given < row.weight:
            yield ("indicators", row.index, "score"), (
                f"实际完成值 {row.actual} 已达到指标值 {row.target}，应得满分 {plain_number(row.weight)}，表中为 {plain_number(given)}"
            )


@check("SCORE-MISMATCH", "error", "定量指标表中得分与按规则计算的得分不符",
       basis="财预〔2020〕10号《项目支出绩效评价管理办法》：定量指标按完成比例计分，未完成的不得满分",
       example="指标值“≥95%”，实际 93%，表中却得满分 15")
def _score_mismatch(ctx: Context) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        given = row.indicator.score
        if row.method != "rule" or given is None or row.met and given < row.weight:
            continue
        if row.met is False and given >= row.weight:
            yield ("indicators", row.index, "score"), (
                f"实际完成值 {row.actual} 未达到指标值 {row.target}，不应得满分 {plain_number(given)}"
                f"（按规则得分为 {row.score}）")
        elif differs(given, row.score, ctx.rules):
            yield ("indicators", row.index, "score"), (
                f"按规则（实际 {row.actual}，指标值 {row.target}）得分应为 {row.score}，表中为 {plain_number(given)}"
            )


@check("TIER", "error", "定性指标的得分与所填完成档次（达成/部分达成/未达成）不符",
       basis="财政局评审实务：达成、部分达成、未达成按分值比例给分",
       example="得分 5/10 却写“达成”")
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


@check("DEVIATION-MISSING", "error", "扣分（计算的或表中所填的）或未达到指标值，却没有偏差原因分析及改进措施",
       basis="财预〔2020〕10号 附件《项目支出绩效自评表》：未完成或扣分的指标须填写偏差原因分析及改进措施",
       example="实际 28 处未达到“≥32处”，偏差原因栏为空")
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


@check("NON-REASON", "error", "扣分的指标，偏差原因只写了“0”“无”“/”之类，不是原因",
       basis="财预〔2020〕10号 附件《项目支出绩效自评表》：偏差原因须说明原因及改进措施",
       example="扣了 2 分，偏差原因只写“无”")
def _non_reason(ctx: Context) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        if (row.met is False or _lost_points(row) > 0) and reviewer.is_non_reason(row.indicator.deviation):
            yield ("indicators", row.index, "deviation"), (
                f"“{row.indicator.name}”扣了分，偏差原因只写了“{row.indicator.deviation.strip()}”，须说明原因及改进措施")


@check("OVERACHIEVEMENT", "warning", "实际完成值大幅超过指标值（规则默认30%），未作说明",
       basis="财政局评审实务：大幅超额完成说明目标定得过低，须说明（规则可设比例，默认 30%）",
       example="指标值“≥100人”，实际 180 人，未作说明")
def _overachievement(ctx: Context) -> Iterator[Raised]:
    share = ctx.rules.overachievement * HUNDRED
    for row in ctx.card.indicators:
        if row.overachieved and not (row.indicator.deviation or "").strip():
            yield ("indicators", row.index, "deviation"), (
                f"实际完成值 {row.actual} 偏离指标值 {row.target} 达 {plain_number(share)}% 以上，"
                "应说明原因（目标是否定得过低）"
            )


@check("TOTAL-SCORE", "error", "表中总分与各项得分之和不符",
       basis="财预〔2020〕10号 附件《项目支出绩效自评表》：总分 = 执行率得分 + 各指标得分",
       example="表中总分 95，表中各项得分相加 100，按规则计算 100")
def _total_score(ctx: Context) -> Iterator[Raised]:
    stated = ctx.params.declared.total_score
    if stated is not None and differs(stated, ctx.card.total, ctx.rules):
        yield ("declared", "total_score"), (
            f"表中总分为 {plain_number(stated)}，表中各项得分相加为 {plain_number(_stated_sum(ctx))}，"
            f"按规则计算为 {ctx.card.total}")


def _stated_sum(ctx: Context) -> Decimal:
    """The form's own 得分 column added up (a blank cell counts what the rules compute for it)."""
    card, declared = ctx.card, ctx.params.declared
    execution = declared.execution_score if declared.execution_score is not None else card.execution.score
    return execution + sum((row.indicator.score if row.indicator.score is not None else row.score
                            for row in card.indicators), Decimal(0))


@check("GRADE", "error", "表中等级与总分所在的等级区间不符",
       basis="财预〔2020〕10号《项目支出绩效评价管理办法》：90（含）以上为优、80–90 为良、60–80 为中、60 以下为差（省里可另定）",
       example="总分 88 写“优”")
def _grade(ctx: Context) -> Iterator[Raised]:
    stated = ctx.params.declared.grade
    # "优秀" and "良好" are how many forms write 优 and 良; "较差" is not "差".
    if stated is not None and not stated.strip().startswith(ctx.card.grade):
        yield ("declared", "grade"), (
            f"总分 {ctx.card.total} 对应等级“{ctx.card.grade}”，表中为“{stated}”（{ctx.rules.grade_note()}）"
        )
