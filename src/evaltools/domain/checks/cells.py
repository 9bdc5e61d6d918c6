"""Checks of what a row's cells say: blank cells, a target in the name, units, a misfiled indicator."""

from __future__ import annotations

from collections.abc import Iterator

from evaltools.domain import reviewer
from evaltools.domain.checks.registry import Context, Raised, blank_actual, check
from evaltools.domain.model import is_blank
from evaltools.domain.scoring import IndicatorScore
from evaltools.domain.targets import plain_number


def _hidden_target(row: IndicatorScore) -> str | None:
    """The target written into the 三级指标 name when the 年度指标值 cell is empty."""
    return reviewer.target_in_name(row.indicator.name) if is_blank(row.indicator.target) else None


@check("BLANK-CELL", "error", "绩效指标的年度指标值或实际完成值为空，或有得分而分值为空",
       basis="财预〔2020〕10号 附件《项目支出绩效自评表》：指标值、实际完成值、分值不得为空（不用的类别整行写“/”）",
       example="“水质检测合格率”的实际完成值为空")
def _blank_cell(ctx: Context) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        indicator = row.indicator
        if _hidden_target(row):
            continue  # TARGET-IN-NAME says it better
        if not indicator.name.strip():
            yield ("indicators", row.index, "name"), (
                f"{row.level2}下有一行三级指标为空，却填了分值或得分；不用的类别应整行留空或写“/”")
            continue
        if is_blank(indicator.target):
            yield ("indicators", row.index, "target"), f"“{indicator.name}”的年度指标值为空"
        if blank_actual(row):
            yield ("indicators", row.index, "actual"), f"“{indicator.name}”的实际完成值为空"
        if indicator.weight is None and indicator.score is not None:
            yield ("indicators", row.index, "weight"), (
                f"“{indicator.name}”填了得分 {plain_number(indicator.score)}，分值却为空")


@check("TARGET-IN-NAME", "error", "指标值写进了三级指标名称，年度指标值（或实际完成值）栏却为空",
       basis="财政局评审实务：指标值写在年度指标值栏，三级指标只写名称",
       example="三级指标“全流程电子化率达95%以上”，年度指标值栏为空")
def _target_in_name(ctx: Context) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        hidden = _hidden_target(row)
        if hidden:
            empty = "年度指标值、实际完成值均为空" if blank_actual(row) else "年度指标值为空"
            yield ("indicators", row.index, "target"), (
                f"“{row.indicator.name}”把指标值“{hidden}”写进了名称，{empty}；应写入年度指标值栏并填实际完成值")


def _unit_problems(ctx: Context, certain: bool) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        if not row.target.is_quantitative:
            continue
        for message, is_certain in reviewer.unit_problems(row.indicator.name, row.target, row.actual):
            if is_certain == certain:
                yield ("indicators", row.index, "target" if "指标值却" in message else "actual"), message


@check("UNIT-FIT", "error", "数值与单位对不上：比率超过100%，或元与万元相差一万倍",
       basis="财政局评审实务：比率不超过 100%；元与万元不可混用",
       example="满意度 105%；成本指标值“≤2.5万元”，实际写 25000")
def _unit_fit(ctx: Context) -> Iterator[Raised]:
    yield from _unit_problems(ctx, certain=True)


@check("UNIT-DOUBT", "warning", "单位与指标的性质不符（数量却以%计），请核对",
       basis="财政局评审实务：数量指标以个、人、次等计，不以 % 计",
       example="“培训人数”的指标值为“≥95%”")
def _unit_doubt(ctx: Context) -> Iterator[Raised]:
    yield from _unit_problems(ctx, certain=False)


@check("WRONG-CATEGORY", "warning", "指标疑似放错了类别（成本放在效益下、非满意度放在满意度下等），并说明依据",
       basis="财预〔2020〕10号《项目支出绩效评价管理办法》 附件及各省共性指标库：成本入成本指标、满意度调查入满意度指标、"
             "产出数量入产出指标（判断，提示而非错误）",
       example="“污水处理运行资金 ≤20万元”放在生态效益指标下")
def _wrong_category(ctx: Context) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        found = reviewer.misplaced(row.indicator.name, row.level1, row.level2, row.target)
        if found:
            yield ("indicators", row.index, "level2"), (
                f"“{row.indicator.name}”放在{row.level2}下，看来应属{found.should_be}：{found.why}；"
                f"如确属{found.should_be}，请移过去")


@check("UNIT-WORD", "warning", "指标值的单位不是单位（“98百分率”“100分比”“95个百分点”写比率、“30万”缺“元”、时效指标写成个数）",
       basis="《项目支出绩效评价管理办法》（财预〔2020〕10号）附件“指标值应清晰、可衡量”；评审实务：单位须是计量单位",
       example="“合格率”指标值“≥98百分率”：提示单位写作“百分率”，应为“%”，即“≥98%”",
       looks_for="年度指标值数字后的写法：百分率、百分比、分比、个百分点（比率本身，不是变化）、缺“元”的“万”（金额类名称），时效指标的个数")
def _unit_word(ctx: Context) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        found = reviewer.unit_word(row.indicator.name, row.level2, row.target)
        if found:
            written, implied = found
            yield ("indicators", row.index, "target"), (
                f"“{row.indicator.name}”的指标值“{row.indicator.target}”单位写作“{written}”，"
                f"应为{implied if implied.startswith('时间') else '“' + implied + '”'}；请改正单位")


@check("TARGET-UNREADABLE", "warning", "指标值看似定量（有数字或“≥”），却读不出“≥95%”这样的数值，只能当定性指标，其得分未按规则核对",
       basis="《项目支出绩效评价管理办法》（财预〔2020〕10号）：定量指标按实际完成值与指标值之比计分；读不出指标值就无从核对",
       example="指标值“≥九成”或“完成3个村的改造”：提示写成“≥90%”“≥3个”，否则其得分未经核对",
       looks_for="年度指标值中有数字（或“≥”后接汉字数字），却不是“运算符+数值+单位”的写法")
def _target_unreadable(ctx: Context) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        if row.target.unreadable and not reviewer.template_residue(row.indicator.target):
            yield ("indicators", row.index, "target"), (
                f"“{row.indicator.name}”的指标值“{row.indicator.target}”像是定量的，却读不出数值，只能按定性处理，"
                f"得分 {plain_number(row.score)} 未按规则核对；请写成“≥95%”“≥3个”这样的数值")


@check("ACTUAL-NOT-MEASURED", "warning", "实际完成值不是实测：照抄指标值（“≥90%”“以上”）或其文字，或只写“已完成”",
       basis="《项目支出绩效评价管理办法》（财预〔2020〕10号）：实际完成值应为实际达到的数值或情况",
       example="指标值“≥90%”，实际完成值也写“≥90%”：提示应写实测值，如“93%”",
       looks_for="实际完成值以“≥”“不低于”开头或以“以上”“以内”结尾；定性指标的实际完成值与指标值一字不差，或只有“完成”“已完成”")
def _actual_not_measured(ctx: Context) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        why = reviewer.not_measured(row.target, row.indicator.actual)
        if why:
            yield ("indicators", row.index, "actual"), f"“{row.indicator.name}”的{why}"
