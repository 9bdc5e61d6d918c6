"""The parameters of one project's self-evaluation: what the 自评报告 and its 自评表 hold.

Field names are English; each field's ``title`` is the Chinese label shown to users.
Money is ``Decimal`` end to end: 万元 in the funds tables, 元 in the spending breakdown.
Figures that the form computes (年度资金总额, 计划投资额, 得分, 总分, 等级) may be given as
they stand on a submitted form; they are then checked against the computed ones, never used.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer,
                      model_validator)

from evaltools.domain.control_chars import printable
from evaltools.domain.yamlio import Loc

MAX_DIGITS = 12  # below 10^12 in 元 or 万元: more than any budget, fewer digits than a typo like 1e309
_THOUSANDS = re.compile(r"\s*[+-]?\d{1,3}(?:[,，]\d{3})+(?:\.\d*)?\s*")
def _no_thousands_separator(value: Any) -> Any:
    if isinstance(value, str) and _THOUSANDS.fullmatch(value):
        plain = re.sub(r"[,，\s]", "", value)
        raise ValueError(f"金额不要写千位分隔符（逗号）：{value.strip()!r} 应写作 {plain}")
    return value


def _amount(places: int, unit: str):
    def check(value: Decimal) -> Decimal:
        if not value.is_finite():
            raise ValueError("应为有限的数字")
        if value < 0:
            raise ValueError(f"金额不能为负数，实际为 {value}")
        if value.adjusted() >= MAX_DIGITS:
            raise ValueError(f"金额过大（应小于 10^12 {unit}），实际为 {value:.6g}")
        if -min(value.normalize().as_tuple().exponent, 0) > places:  # type: ignore[operator]
            raise ValueError(f"以{unit}计的金额最多 {places} 位小数，实际为 {value}")
        return value

    return check


def _bounded(value: Decimal) -> Decimal:
    if not value.is_finite() or value.adjusted() >= MAX_DIGITS:  # no arithmetic: 1e999999999 overflows it
        raise ValueError(f"应为有限且小于 10^12 的数字，实际为 {value:.6g}")
    return value


class _InWan:
    """Marks an amount held in 万元 (see :func:`amounts_in_wan`)."""


IN_WAN = _InWan()

Number = Annotated[Decimal, AfterValidator(_bounded)]  # a score, a rate, a measured value
Wan = Annotated[Decimal, BeforeValidator(_no_thousands_separator), AfterValidator(_amount(6, "万元")), IN_WAN]  # 万元
Yuan = Annotated[Decimal, BeforeValidator(_no_thousands_separator), AfterValidator(_amount(2, "元"))]  # 元，到分

# What a blank cell of a printed form looks like once typed or extracted: nothing, a slash, a dash.
BLANK_MARKS = frozenset({"", "/", "／", "\\", "-", "－", "—", "——", "–"})


def unwritten(text: str | None) -> bool:
    """A text left out, or nothing but blanks: a section of a report the unit did not write."""
    return not text or not text.strip()


def is_blank(value: Any) -> bool:
    """A cell left empty or marked "/" (不适用) on the form. "无" is not blank: it is what
    a form writes as the 实际完成值 of "安全事故 0起"."""
    return value is None or isinstance(value, str) and value.strip() in BLANK_MARKS


def _blank_to_none(value: Any) -> Any:
    # In a number cell "无" says there is no number.
    return None if is_blank(value) or isinstance(value, str) and value.strip() == "无" else value


def _points(value: Any) -> Any:
    """分值 or 得分 as forms print them: 10, "10分", blank or "/"."""
    if isinstance(value, str) and value.strip().endswith("分"):
        value = value.strip()[:-1]
    return _blank_to_none(value)


def _none_to_empty(value: Any) -> Any:
    return "" if value is None else value


def _percent(value: Any) -> Any:
    """A rate as a form writes it: 86, 86.20, "86%", "86.20 %"; kept at its written precision."""
    if _blank_to_none(value) is None:
        return None
    if isinstance(value, str):
        text = value.strip().replace("％", "%").replace(" ", "")
        if text.endswith("%"):
            text = text[:-1]
        try:
            return Decimal(text)
        except ArithmeticError:
            raise ValueError(f"应为百分比，如 86% 或 86.20，实际为 {value!r}") from None
    return value


# A number of points that may be blank or "/" on the form, or printed "10分".
Points = Annotated[Number | None, BeforeValidator(_points)]
# A stated 执行率 in percent ("86%" or 86), None when the cell is blank.
Percent = Annotated[Number | None, BeforeValidator(_percent)]
# An amount in 万元 whose cell may be blank or "/" on the form.
FormWan = Annotated[Wan | None, BeforeValidator(_blank_to_none)]
# A text cell that may be left blank (read as "").
Text = Annotated[str, BeforeValidator(_none_to_empty)]


def _in_wan(annotation: Any) -> bool:
    """Whether a field's type (an Optional, a list, an Annotated of it) holds amounts in 万元."""
    return annotation is IN_WAN or any(_in_wan(arg) for arg in get_args(annotation))


def amounts_in_wan(model: BaseModel, loc: Loc = (), titles: tuple[str, ...] = ()) -> Iterator[tuple[Loc, tuple[str, ...], Decimal]]:
    """Every amount in 万元 the parameters hold, wherever it sits, with where (its loc) and what
    (the titles of its field and of the fields and rows around it: 上年结转资金, 全年预算数)."""
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        title = (field.title or name).split("（")[0]
        if isinstance(value, Decimal) and (_in_wan(field.annotation) or any(_in_wan(m) for m in field.metadata)):
            yield loc + (name,), titles + (title,), value
        elif isinstance(value, BaseModel):
            yield from amounts_in_wan(value, loc + (name,), titles + (title,))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    row = next((getattr(item, key) for key in ("institution", "name", "item") if getattr(item, key, None)),
                               f"第{i + 1}行")
                    yield from amounts_in_wan(item, loc + (name, i), titles + (title, str(row)))


class Params(BaseModel):
    """Base of every parameter model: unknown keys are errors (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _printable(cls, data: Any) -> Any:
        """Text that Excel, Word and the PDF can hold, before any value is read as a number or a
        date: control characters pasted from Word never fail a report (「460507.00」 and a cell's
        end mark is still a number); they are left out (the CONTROL-CHAR check names each field
        that had one)."""
        return printable(data)

    @classmethod
    def title_of(cls, field: str) -> str:
        info = cls.model_fields[field]
        return info.title or field


def _partial_date(value: Any) -> Any:
    if isinstance(value, (dt.date, PartialDate)) or value is None:
        return PartialDate.of(value) if value is not None else None
    if isinstance(value, str):
        return PartialDate.parse(value)
    raise ValueError("应为日期，如 2025-04-23、2025-04 或 2025年4月23日")


_DATE = re.compile(r"^\s*(\d{4})\s*[-年./]\s*(\d{1,2})\s*(?:[-月./]\s*(?:(\d{1,2})\s*日?)?)?\s*$")


class PartialDate(BaseModel):
    """A date known to the day or only to the month ("报告时间: 2025 年 4 月")."""

    model_config = ConfigDict(frozen=True)
    year: int
    month: int = Field(ge=1, le=12)
    day: int | None = Field(default=None, ge=1, le=31)

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        match = _DATE.match(text)
        if not match:
            raise ValueError(f"无法识别的日期 {text!r}，应写作 2025-04-23、2025-04 或 2025年4月23日")
        year, month, day = (int(g) if g else None for g in match.groups())
        try:
            dt.date(year, month, day or 1)
        except ValueError:
            raise ValueError(f"不存在的日期 {text!r}") from None
        return cls(year=year, month=month, day=day)

    @classmethod
    def of(cls, value: dt.date | PartialDate) -> PartialDate:
        if isinstance(value, PartialDate):
            return value
        return cls(year=value.year, month=value.month, day=value.day)

    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, self.day or 1)

    def __str__(self) -> str:
        text = f"{self.year}年{self.month}月"
        return f"{text}{self.day}日" if self.day else text

    def iso(self) -> str:
        return f"{self.year:04d}-{self.month:02d}" + (f"-{self.day:02d}" if self.day else "")


DateLike = Annotated[
    PartialDate, BeforeValidator(_partial_date), PlainSerializer(lambda d: d.iso(), return_type=str)
]


class FundType(StrEnum):
    GENERAL = "一般公共预算"
    GOVERNMENT_FUND = "政府性基金预算"
    STATE_CAPITAL = "国有资本经营预算"
    SOCIAL_INSURANCE = "社会保险基金预算"

    @property
    def form_title(self) -> str:
        """The 自评表's title for this fund type (附件1-4 to 1-7)."""
        return {
            FundType.GENERAL: "项目支出绩效自评表",
            FundType.GOVERNMENT_FUND: "政府性基金预算支出绩效自评表",
            FundType.STATE_CAPITAL: "国有资本经营预算支出绩效自评表",
            FundType.SOCIAL_INSURANCE: "社会保险基金预算支出绩效自评表",
        }[self]

    @property
    def has_deviation_column(self) -> bool:
        """附件1-5 and 1-7 have a 偏差原因分析及改进措施 column; 1-4 and 1-6 do not."""
        return self in (FundType.GOVERNMENT_FUND, FundType.SOCIAL_INSURANCE)


def _places(value: Any) -> Any:
    """2 (always two decimals) or "0-2" (up to two, trailing zeros dropped down to none)."""
    low = high = None
    if isinstance(value, int) and not isinstance(value, bool):
        low = high = value
    elif isinstance(value, str) and (match := re.fullmatch(r"\s*(\d)\s*(?:[-~～]\s*(\d)\s*)?", value)):
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) else low
    elif isinstance(value, tuple | list) and len(value) == 2:
        low, high = value
    if low is not None and high is not None and 0 <= low <= high <= 6:
        return (low, high)
    raise ValueError("应为小数位数，如 2（总是两位）或 0-2（至多两位，末尾的 0 不显示）")


def _places_text(places: tuple[int, int]) -> int | str:
    low, high = places
    return low if low == high else f"{low}-{high}"


# (fewest, most) decimal places: a number is rounded to the most, then trailing zeros are dropped
# down to the fewest; 96.00 at "0-2" shows as 96, 95.50 as 95.5.
Places = Annotated[tuple[int, int], BeforeValidator(_places), PlainSerializer(_places_text)]


class Period(Params):
    start: DateLike = Field(title="开始")
    end: DateLike = Field(title="结束")


class Project(Params):
    name: str = Field(title="项目名称", min_length=1)
    function_code: str | None = Field(None, title="支出功能科目编码", pattern=r"^\d{3,7}$")
    department: Text = Field("", title="主管部门")  # blank on some forms: a check finding, not a type error
    implementer: Text = Field("", title="项目实施单位")  # some provinces' forms have no such row
    leader: str | None = Field(None, title="项目负责人")
    phone: str | None = Field(None, title="联系电话")
    address: str | None = Field(None, title="地址")
    postcode: str | None = Field(None, title="邮编", pattern=r"^\d{6}$")
    period: Period | None = Field(None, title="项目起止时间")
    fund_type: FundType = Field(FundType.GENERAL, title="资金类型")


class TeamMember(Params):
    name: str = Field(title="姓名")
    role: str = Field(title="职称/职务")
    unit: str | None = Field(None, title="单位")


class Signature(Params):
    name: str | None = Field(None, title="签字")
    date: DateLike | None = Field(None, title="日期")


class Signoff(Params):
    team_leader: Signature | None = Field(None, title="评价组组长")
    unit_head: Signature | None = Field(None, title="项目实施单位负责人")
    department_head: Signature | None = Field(None, title="主管部门负责人")
    finance_office: Signature | None = Field(None, title="财政部门归口业务科室负责人")


class FormFooter(Params):
    """The line under the 自评表: 单位负责人签字 / 填表人 / 联系电话 / 填报日期."""

    unit_head: str | None = Field(None, title="单位负责人")
    finance_head: str | None = Field(None, title="财务负责人")
    filled_by: str | None = Field(None, title="填表人")
    phone: str | None = Field(None, title="联系电话")
    date: DateLike | None = Field(None, title="填报日期")


class Evaluation(Params):
    # Required for a report, not for a form-only file (checked by REPORT-FIELD, not here).
    method: Text = Field("", title="评价方式")
    evaluator: Text = Field("", title="评价机构")
    report_number: str | None = Field(None, title="报告编号")
    report_date: DateLike | None = Field(None, title="报告时间")
    basis: str | None = Field(None, title="评价依据")
    team: list[TeamMember] = Field(default_factory=list, title="评价人员")
    signoff: Signoff = Field(default_factory=Signoff, title="签字")
    form: FormFooter = Field(default_factory=FormFooter, title="自评表落款")


SOURCE_LABELS = {
    "central": "中央财政",
    "provincial": "省财政",
    "prefecture": "州财政",
    "county": "县财政",
    "self_raised": "单位自筹",
    "other": "其他",
}


class Sources(Params):
    """An amount in 万元 broken down by where it comes from."""

    central: Wan | None = Field(None, title="中央财政")
    provincial: Wan | None = Field(None, title="省财政")
    prefecture: Wan | None = Field(None, title="州财政")
    county: Wan | None = Field(None, title="县财政")
    self_raised: Wan | None = Field(None, title="单位自筹")
    other: Wan | None = Field(None, title="其他")
    total: Wan | None = Field(None, title="合计（如填写，须等于各来源之和）")

    @property
    def computed_total(self) -> Wan:
        return sum((getattr(self, key) or Decimal(0) for key in SOURCE_LABELS), Decimal(0))


class Investment(Params):
    planned: Sources = Field(title="计划投资额")
    received: Sources = Field(title="实际到位资金")


class BudgetRow(Params):
    initial: FormWan = Field(None, title="年初预算数")
    annual: FormWan = Field(None, title="全年预算数")
    executed: FormWan = Field(None, title="全年执行数")
    rate: Percent = Field(None, title="执行率（表中所填，%）")
    reason: str | None = Field(None, title="原因（预算调整、未执行的说明）")
    # Some forms print 分值 and 得分 on a fund row of their own (当年财政拨款 10 分) rather than on 年度资金总额.
    weight: Points = Field(None, title="分值（资金行另印的）", ge=0, le=100)
    score: Points = Field(None, title="得分（资金行另印的）")


BUDGET_COLUMNS = ("initial", "annual", "executed")


def _row_in_wan(row: Any) -> Any:
    if not isinstance(row, dict):
        return row
    converted = dict(row)
    for column in BUDGET_COLUMNS:
        value = row.get(column)
        if value is None or isinstance(value, bool) or str(value).strip() in BLANK_MARKS:
            continue
        with contextlib.suppress(InvalidOperation):  # not a number: the field's own validation says so
            converted[column] = Decimal(str(value).replace(",", "").replace("，", "").strip()) / 10_000
    return converted


class Budget(Params):
    """The 项目资金 rows of the 自评表, in 万元."""

    appropriation: BudgetRow = Field(default_factory=BudgetRow, title="当年财政拨款")
    carryover: BudgetRow = Field(default_factory=BudgetRow, title="上年结转资金")
    special_account: BudgetRow = Field(default_factory=BudgetRow, title="财政专户管理资金")
    unit_funds: BudgetRow = Field(default_factory=BudgetRow, title="单位资金")
    other: BudgetRow = Field(default_factory=BudgetRow, title="其他资金")
    total: BudgetRow | None = Field(None, title="年度资金总额（如填写，须等于各行之和）")
    unit: Literal["万元", "元"] | None = Field(None, title="表中金额的单位（“项目资金（元）”的表写 元，读入时换算为万元）")

    ROWS: ClassVar[tuple[str, ...]] = ("appropriation", "carryover", "special_account", "unit_funds", "other")

    @model_validator(mode="before")
    @classmethod
    def _in_wan(cls, data: Any) -> Any:
        """A block printed as 项目资金（元） declares its unit once: its amounts are read in 万元."""
        if not isinstance(data, dict) or str(data.get("unit") or "").strip() != "元":
            return data
        # Held in 万元 from here on (so that a dumped model read again is not divided twice).
        converted = {key: _row_in_wan(value) if key in (*cls.ROWS, "total") else value for key, value in data.items()}
        return {**converted, "unit": None}

    def rows(self) -> Iterator[tuple[str, BudgetRow]]:
        """The rows the form states, the 年度资金总额 row (if stated) first."""
        if self.total is not None:
            yield "total", self.total
        for key in self.ROWS:
            yield key, getattr(self, key)

    def lines(self) -> list[tuple[str, BudgetRow]]:
        """The rows the form prints under 年度资金总额: the national three, and the rows a
        province adds (财政专户管理资金, 单位资金) when they are stated."""
        lines = []
        for key in self.ROWS:
            row = getattr(self, key)
            if key in ("special_account", "unit_funds") and row == BudgetRow():
                continue
            label = self.title_of(key)
            lines.append((f"其中：{label}" if not lines else label, row))
        return lines

    @property
    def reasons(self) -> list[str]:
        """The 原因 column's text, blank cells left out."""
        return [row.reason.strip() for _, row in self.rows() if not is_blank(row.reason)]

    @property
    def computed_total(self) -> BudgetRow:
        sums: dict[str, Decimal | None] = {}
        for column in BUDGET_COLUMNS:
            values = [getattr(getattr(self, row), column) for row in self.ROWS]
            present = [v for v in values if v is not None]
            sums[column] = sum(present, Decimal(0)) if present else None
        return BudgetRow(**sums)


class SpendingItem(Params):
    item: str = Field(title="支出科目")
    amount: Yuan = Field(title="金额（元）")


class Goals(Params):
    expected: Text = Field("", title="预期目标")
    achieved: Text = Field("", title="实际完成情况")


class Indicator(Params):
    """One row of 绩效指标. Any cell but 二级/三级 may be blank, as on real forms."""

    level1: str | None = Field(None, title="一级指标")  # as printed: "产出指标（50分）" is fine
    level2: str = Field(title="二级指标")
    name: Text = Field("", title="三级指标")  # blank on a row a category leaves unused
    target: Text = Field("", title="年度指标值")
    actual: Text = Field("", title="实际完成值")
    actual_value: Annotated[Number | str | None, BeforeValidator(_blank_to_none)] = Field(
        None, title="实际完成值（数值）", union_mode="left_to_right"
    )
    weight: Points = Field(None, title="分值", ge=0, le=100)
    score: Points = Field(None, title="得分")
    tier: Literal["达成", "部分达成", "未达成"] | None = Field(None, title="完成档次")
    deviation: str | None = Field(None, title="偏差原因分析及改进措施")

    @property
    def not_applicable(self) -> bool:
        """A row marked "/" on the form: a category the project does not use. It is not scored."""
        if self.name.strip() in BLANK_MARKS - {""}:
            return True
        if not self.name.strip():  # left empty rather than "/": unused unless it carries points
            return self.weight is None and self.score is None
        return (self.target.strip() in BLANK_MARKS - {""} and is_blank(self.actual)
                and self.weight is None and self.score is None)


class Summary(Params):
    """The narrative cells of the report's first-page table (项目基本情况表)."""

    background: str | None = Field(None, title="基本情况")
    completion: str | None = Field(None, title="项目完成情况")
    funds_input: str | None = Field(None, title="资金投入情况")
    goal_achievement: str | None = Field(None, title="绩效目标实现情况")
    economic: str | None = Field(None, title="经济效益分析")
    social: str | None = Field(None, title="社会效益分析")
    organization: str | None = Field(None, title="项目组织管理情况")
    finance: str | None = Field(None, title="项目财务管理情况")
    lessons: str | None = Field(None, title="总结经验及存在问题分析")
    suggestions: str | None = Field(None, title="有关建议")


# The generated sentences a unit may replace with its own (the macros of templates/wording/project.j2).
Sentence = Literal["verdict", "grade_note", "spending", "spending_total", "execution", "completion", "conclusion"]


class Attachment(Params):
    """A document attached to the report (十、附件): Markdown text, or a PDF appended as it is.

    ``file`` is relative to the parameter file that names it and must stay inside the workspace."""

    title: str = Field(title="附件名称", min_length=1)
    file: str = Field(title="附件文件（.md 或 .pdf）", pattern=r"(?i)\.(md|markdown|pdf)$")


class Narrative(Params):
    """The sections of the report's body (一、项目概况 … 九、其他需要说明的问题), as Markdown."""

    unit: str | None = Field(None, title="项目实施单位基本情况")
    funding: str | None = Field(None, title="项目资金基本情况")
    arrangement: str | None = Field(None, title="项目资金安排落实、总投入等情况")
    fund_management: str | None = Field(None, title="项目资金管理情况分析")
    organization: str | None = Field(None, title="项目组织情况")
    management: str | None = Field(None, title="项目管理情况")
    decision: str | None = Field(None, title="项目支出决策情况")
    process: str | None = Field(None, title="项目支出过程情况")
    output: str | None = Field(None, title="项目支出产出情况")
    economic: str | None = Field(None, title="经济效益")
    social: str | None = Field(None, title="社会效益")
    conclusion: str | None = Field(None, title="综合评价情况及评价结论")
    experience: str | None = Field(None, title="主要经验做法")
    problems: str | None = Field(None, title="存在的问题及原因分析")
    suggestions: str | None = Field(None, title="有关建议")
    application: str | None = Field(None, title="绩效自评结果拟应用和公开情况")
    other: str | None = Field(None, title="其他需要说明的问题")
    attachments: list[Attachment | str] = Field(default_factory=list, title="附件")
    sentences: dict[Sentence, str] = Field(default_factory=dict, title="单位自拟的句子（代替程序生成的句子）")


class Declared(Params):
    """Figures as a submitted form states them; checked against the computed ones."""

    execution_rate: Percent = Field(None, title="执行率（%）")
    execution_score: Points = Field(None, title="执行率得分")
    total_score: Points = Field(None, title="总分")
    grade: Annotated[str | None, BeforeValidator(_blank_to_none)] = Field(None, title="等级")


DisplayKind = Literal["money", "score", "rate", "share"]


class ReportOptions(Params):
    """How the report is made: shown precisions, and the material the seed's form does not have."""

    display: dict[DisplayKind, Places] = Field(default_factory=dict, title="显示的小数位数（覆盖规则的 display）")
    spending_table: bool = Field(False, title="二（二）列出支出明细及占比表")
    spending_chart: bool = Field(False, title="二（二）附支出构成图")
    score_chart: bool = Field(False, title="五、附得分图")
    deductions: bool = Field(False, title="四（三）逐项写出扣分（扣X分）")


class ProjectParams(Params):
    """Everything one project's report is made from: the merged parameter file."""

    year: int = Field(title="评价年度", ge=2000, le=2100)
    project: Project = Field(title="项目")
    evaluation: Evaluation = Field(default_factory=Evaluation, title="评价")
    investment: Investment | None = Field(None, title="投资与到位资金")
    budget: Budget = Field(title="项目资金")
    spending: list[SpendingItem] = Field(default_factory=list, title="项目资金实际支出明细")
    goals: Goals = Field(default_factory=Goals, title="年度总体目标")
    indicators: list[Indicator] = Field(title="绩效指标", min_length=1)
    summary: Summary = Field(default_factory=Summary, title="基本情况表")
    narrative: Narrative = Field(default_factory=Narrative, title="报告正文")
    declared: Declared = Field(default_factory=Declared, title="表中所填数字")
    options: ReportOptions = Field(default_factory=ReportOptions, title="报告选项")

    @property
    def form_only(self) -> bool:
        """A 自评表 without its report: no summary table and no report body."""
        return not any(texts_of(self.summary)) and not any(texts_of(self.narrative))


def texts_of(model: BaseModel) -> list[str]:
    """The non-blank text fields of a flat model (a summary, a narrative)."""
    values = (getattr(model, name) for name in type(model).model_fields)
    return [v for v in values if isinstance(v, str) and v.strip()]
