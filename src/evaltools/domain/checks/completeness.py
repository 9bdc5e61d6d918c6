"""Checks that nothing a report needs is missing: its attached files, and what a fresh year
(``evaltools new-year``) leaves to fill.

A family of the check registry, like the others in this package.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from evaltools.domain.checks.registry import Context, Raised, check, department_check
from evaltools.domain.model import Signoff, is_blank, unwritten
from evaltools.domain.workspace import absolute, find_attachments
from evaltools.domain.yamlio import Loc, field_path

TO_FILL = "……"  # what new-year writes where a text is to be filled in (TEMPLATE-TEXT reports it too)


@check("ATTACHMENT-MISSING", "error", "附件文件不存在或不在工作区内：报告无法生成（评分、检查照常）",
       basis="财政局评审实务：报告所列附件须随报告报送",
       example="narrative.attachments[0].file: attachments/notice.md 不存在")
def _attachment_missing(ctx: Context) -> Iterator[Raised]:
    if ctx.path is None:
        return
    # The project file and its department's file lie in the same folder: names are read from there.
    _, wrong = find_attachments(ctx.params, absolute(ctx.path).parent)
    for i, message in wrong.items():
        yield ("narrative", "attachments", i, "file"), f"{message}：报告无法生成（评分与检查不受影响）"


def _unfilled(value: object) -> bool:
    return is_blank(value) or isinstance(value, str) and value.strip() == TO_FILL


def _budget(params) -> Iterator[Loc]:
    total = params.budget.computed_total
    for column in ("annual", "executed"):
        if getattr(total, column) is None:
            yield ("budget", "appropriation", column)


def _dates(params) -> Iterator[Loc]:
    evaluation = params.evaluation
    if not params.form_only and evaluation.report_date is None:
        yield ("evaluation", "report_date")
    for key in Signoff.model_fields:
        signature = getattr(evaluation.signoff, key)
        if signature is not None and not is_blank(signature.name) and signature.date is None:
            yield ("evaluation", "signoff", key, "date")
    form = evaluation.form
    if evaluation.form.date is None and any(not is_blank(v) for v in (form.unit_head, form.filled_by)):
        yield ("evaluation", "form", "date")


def _actuals(params) -> Iterator[Loc]:
    for i, indicator in enumerate(params.indicators):
        if _unfilled(indicator.actual) and indicator.actual_value is None:
            yield ("indicators", i, "actual")


def _texts(params) -> Iterator[Loc]:
    if _unfilled(params.goals.achieved) and not params.form_only:
        yield ("goals", "achieved")
    for part in ("summary", "narrative"):
        model = getattr(params, part)
        for name in type(model).model_fields:
            value = getattr(model, name)
            if isinstance(value, str) and value.strip() == TO_FILL:
                yield (part, name)


GROUPS = (("预算", _budget), ("日期", _dates), ("实际完成值", _actuals), ("文字", _texts))


@check("TO-FILL", "error", "文件尚在填写中（预算、日期、实际完成值、文字中两类以上为空）：待填写的内容每个文件汇成一条",
       basis="财预〔2020〕10号：自评表各栏须据实填写",
       example="new-year 生成的 2025 年文件：全年执行数、报告日期、实际完成值均为空")
def _to_fill(ctx: Context) -> Iterator[Raised]:
    """A file still being filled in (two kinds of field or more left blank, as new-year leaves
    it): one finding listing them all. A single blank is its own check's (BLANK-CELL …)."""
    yield from _grouped(ctx.params, GROUPS)


@check("TEXT-MISSING", "warning", "报告正文有未填写的部分：报告中写明“未填写”，或只有由数据生成的句子",
       basis="财预〔2020〕10号《项目支出绩效评价管理办法》 项目支出绩效自评报告格式",
       example="未写有关建议：报告“七、有关建议”之下写“有关建议未填写。”")
def _text_missing(ctx: Context) -> Iterator[Raised]:
    """The report's own sections left unwritten (其他需要说明的问题 unwritten is 无), in one finding."""
    if ctx.params.form_only:
        return
    narrative = ctx.params.narrative
    empty = [name for name, value in vars(narrative).items() if name != "other" and (value is None or isinstance(value, str))
             and unwritten(value)]
    if empty:
        titles = "、".join(type(narrative).title_of(name) for name in empty)
        yield ("narrative", empty[0]), f"报告正文未填写：{titles}（报告中写明“未填写”，或只有由数据生成的句子）"


@check("TEAM-MISSING", "warning", "未填写评价人员：报告“评价人员”表中写明“未填写”",
       basis="财预〔2020〕10号《项目支出绩效评价管理办法》 项目支出绩效自评报告格式（评价人员名单）",
       example="evaluation.team 为空：表中只有“未填写”一行")
def _team_missing(ctx: Context) -> Iterator[Raised]:
    if not ctx.params.form_only and not ctx.params.evaluation.team:
        yield ("evaluation", "team"), "未填写评价人员，报告“评价人员”表中写明“未填写”：请列出评价组成员"


def _grouped(params: Any, groups: tuple) -> Iterator[Raised]:
    found = [(label, list(fields(params))) for label, fields in groups]
    found = [(label, locs) for label, locs in found if locs]
    if len(found) < 2:
        return
    count = sum(len(locs) for _, locs in found)
    listed = "；".join(f"{label}（{len(locs)}）：{'、'.join(field_path(loc) for loc in locs)}" for label, locs in found)
    yield found[0][1][0], f"尚有 {count} 项待填写——{listed}"


def _department_funds(params) -> Iterator[Loc]:
    for key in ("funds", "income", "expenditure"):
        if not getattr(params, key):
            yield (key,)


def _department_dates(params) -> Iterator[Loc]:
    for key in ("report_date", "notice_date"):
        if getattr(params.evaluation, key) is None:
            yield ("evaluation", key)


def _department_texts(params) -> Iterator[Loc]:
    narrative = params.narrative
    for name in type(narrative).model_fields:
        if getattr(narrative, name) == TO_FILL:
            yield ("narrative", name)
    if params.overall_goals is not None and _unfilled(params.overall_goals.achieved):
        yield ("overall_goals", "achieved")


DEPARTMENT_GROUPS = (("资金", _department_funds), ("日期", _department_dates), ("实际完成值", _actuals),
                     ("文字", _department_texts))


@department_check("DEPT-ATTACHMENT-MISSING", "error", "部门文件所列附件的文件不存在或不在工作区内：报告无法生成（评分、检查照常）",
                  basis="财政局评审实务：报告所列附件须随报告报送",
                  example="attachments[0].file: attachments/leading-group.md 不存在")
def _department_attachment_missing(department: Any) -> Iterator[Raised]:
    for index, message in department.unusable_attachments.items():
        yield ("attachments", index, "file"), f"{message}：报告无法生成（评分与检查不受影响）"


@department_check("DEPT-TO-FILL", "warning", "部门文件尚在填写中（资金、日期、实际完成值、文字中两类以上为空）：待填写的内容汇成一条",
                  basis="财预〔2020〕10号：部门整体支出绩效自评表各栏须据实填写",
                  example="new-year 生成的 _department.yaml：收入、支出与报告日期为空")
def _department_to_fill(department: Any) -> Iterator[Raised]:
    yield from _grouped(department.params, DEPARTMENT_GROUPS)
