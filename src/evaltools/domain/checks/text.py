"""Checks of the free text: template residue, unknown figure names, linked images, figures in sentences."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path

from evaltools.domain import reviewer
from evaltools.domain.checks.registry import Context, Raised, check
from evaltools.domain.markup import linked_images
from evaltools.domain.control_chars import CONTROL_BASIS, control_findings
from evaltools.domain.placeholders import NAMES, placeholders
from evaltools.domain.scoring import HUNDRED, percent
from evaltools.domain.targets import NUMBER_BEGINS, NUMBER_IN_TEXT, plain_number
from evaltools.domain.yamlio import Loc



@check("TEMPLATE-TEXT", "error", "文字中留有模板占位内容（……、指标2、（100字以内）等）",
       basis="财政局评审实务：模板的占位内容须换成实际内容",
       example="指标值“≥**人”、名称“××村”、目标“完成＿＿处”、“（此处填写…）”")
def _template_text(ctx: Context) -> Iterator[Raised]:
    yield from template_findings(ctx.texts)


def template_findings(found: Iterable[tuple[Loc, str]]) -> Iterator[Raised]:
    for loc, text in found:
        residue = reviewer.template_residue(text, markdown=loc[:1] == ("narrative",))
        if residue:
            yield loc, f"留有模板占位内容“{residue}”，请替换为实际内容"


@check("FIGURE-NAME", "error", "文字引用了不存在的数字名称 {{…}}",
       basis="evaltools 的数字名称：文字中的 {{…}} 须是已定义的名称",
       example="文中写了 {{总得分}}，应为 {{总分}}")
def _figure_name(ctx: Context) -> Iterator[Raised]:
    for loc, text in ctx.texts:
        for name in placeholders(text):
            if name not in NAMES:
                yield loc, f"不认识的数字名称 {{{{{name}}}}}，可用：{'、'.join(NAMES)}"


def linked_image_findings(found: Iterable[tuple[Loc, str]]) -> Iterator[Raised]:
    for loc, text in found:
        for src in linked_images(text):
            yield loc, (f"插入了图片 {src[:120]}：报告离线生成，不从网络或其他文件读取图片，这里只会显示为文字；"
                        "请删除它，或改为文字说明")


@check("LINKED-IMAGE", "error", "文字中插入了网络地址或外部文件的图片（报告离线生成，不读取）",
       basis="evaltools 安全要求：报告离线生成，不读取网络或外部文件",
       example="文中插入 ![](http://…/a.png)")
def _linked_image(ctx: Context) -> Iterator[Raised]:
    yield from linked_image_findings(ctx.texts)


@check("CONTROL-CHAR", "warning", "文字中含有不可见的控制字符（常见于从 Word 粘贴的文字）",
       basis=CONTROL_BASIS,
       example="名称“某局\\v信息中心”（Word 的手动换行 U+000B）：报告中按换行排版",
       looks_for="参数文件中读到的每段文字（改正前的原样）；U+000B、U+000C 按换行排版，其余控制字符删去")
def _control_characters(ctx: Context) -> Iterator[Raised]:
    yield from control_findings(ctx.data)


@check("RULES-CONTROL-CHAR", "warning", "规则文件（_rules.yaml）的文字中含有不可见的控制字符",
       basis=CONTROL_BASIS,
       example="等级名称“优\\x07”（Word 表格的单元格结束符）：报告中删去",
       looks_for="项目所用的每个规则文件中读到的每段文字，在规则文件的行上指出")
def _rules_control_characters(ctx: Context) -> Iterator[Raised]:
    yield from rules_control(ctx.rules)


def rules_control(rules) -> Iterator[Raised]:
    """The control characters of the rules files ``rules`` were read from, each at its file and line."""
    for file, shown, line, loc, message in rules.control:
        yield tuple(loc), f"规则文件 {shown}{f' 第 {line} 行' if line else ''}：{message}", Path(file), line


_MALFORMED_NUMBER = re.compile(rf"{NUMBER_BEGINS}\d{{1,20}}\.\d{{1,20}}\.\d{{1,20}}\s*(?:亿元|万元|元|%|‰)")


_STATED_FIGURE = re.compile(rf"({NUMBER_IN_TEXT})\s*(分|%|万元|元)")


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


@check("SENTENCE-FIGURE", "warning", "单位自拟的句子所写的得分、扣分、比率或金额与表中计算的不符",
       basis="财政局评审实务：报告文字中的数字须与表一致",
       example="单位自拟句子写“得分 98 分”，表中总分为 96.6")
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


@check("ATTACHMENT-NOT-ATTACHED", "warning", "附件只写了名称、没有附上文件：报告的附件列表不列出它",
       basis="evaltools 报告附件：只列出附上的文件",
       example="附件写“验收报告”却没有附文件")
def _attachment_not_attached(ctx: Context) -> Iterator[Raised]:
    form = ctx.params.project.fund_type.form_title
    for i, attachment in enumerate(ctx.params.narrative.attachments):
        if isinstance(attachment, str) and not attachment.endswith(form):  # the 自评表 is always attached
            yield ("narrative", "attachments", i), (
                f"“{attachment}”没有附上文件，十、附件中不列出；要附上，请写作 {{title: …, file: 文件.md 或 .pdf}}")


@check("MALFORMED-NUMBER", "error", "文字中的金额或比率写法有误（如 106.62.00万元）",
       basis="财政局评审实务：金额和比率须是有效数字",
       example="“106.62.00万元”")
def _malformed_number(ctx: Context) -> Iterator[Raised]:
    yield from malformed_number_findings(ctx.texts)


def malformed_number_findings(found: Iterable[tuple[Loc, str]]) -> Iterator[Raised]:
    for loc, text in found:
        for match in _MALFORMED_NUMBER.finditer(text):
            yield loc, f"“{match.group(0)}”不是一个有效的数字"


_CHANGE = re.compile(
    r"由(?:去年|上年|原来)?\s*(\d+(?:\.\d+)?)\s*([%‰％])\s*"
    r"(?:下降|降低|降|上升|提高|提升|增长|增加|减少)(?:至|到|为)\s*(\d+(?:\.\d+)?)\s*([%‰％])"
)


@check("UNIT-CONFLICT", "warning", "同一变化在不同处用了不同单位（% 与 ‰）",
       basis="财政局评审实务：同一数字在全文用同一单位",
       example="一处“由8‰降至5‰”，另一处“由8%降至5%”")
def _unit_conflict(ctx: Context) -> Iterator[Raised]:
    yield from unit_conflict_findings(ctx.texts)


def unit_conflict_findings(found: Iterable[tuple[Loc, str]]) -> Iterator[Raised]:
    seen: dict[tuple[str, str], list[tuple[Loc, str, str]]] = defaultdict(list)
    for loc, text in found:
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
