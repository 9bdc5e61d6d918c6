"""A department's own data (附件1-1, 1-2, 1-3, 1-8): the model of ``_department.yaml``.

The department file ``_department.yaml`` holds, beside the ``defaults`` its projects share,
what the 部门整体支出绩效自评报告 needs: the unit, its income and spending per institution,
三公经费, 公用经费, 政府采购, 固定资产, the overall funds, goals and indicators, the projects
without a parameter file of their own, the team, the narrative and the attached documents.
Anything may be left out: the report shows "—" and ``evaltools check`` warns.
Totals (a table's 汇总 row, 基本支出, 收入合计) are computed, never typed. Loading a department
with its projects' roll-up is ``evaltools.domain.rollup``.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, model_validator

from evaltools.domain.model import (
    Attachment,
    BudgetRow,
    DateLike,
    FundType,
    Goals,
    Indicator,
    Params,
    Signature,
    TeamMember,
    Wan,
)

ZERO = Decimal(0)


def total(values: list[Decimal | None]) -> Decimal | None:
    """Sum of the known values; None when none is known (shown as "—", not 0)."""
    known = [v for v in values if v is not None]
    return sum(known, ZERO) if known else None


def change_rate(before: Decimal | None, after: Decimal | None) -> Decimal | None:
    """(after − before) / before; None when either is unknown or before is 0."""
    if before is None or after is None or before == 0:
        return None
    return (after - before) / before


class Unit(Params):
    name: str = Field(title="部门（单位）名称", min_length=1)
    nature: str | None = Field(None, title="单位性质")
    budget_code: str | None = Field(None, title="预算编码")
    credit_code: str | None = Field(None, title="统一社会信用代码")
    head: str | None = Field(None, title="单位负责人")
    contact: str | None = Field(None, title="联系人")
    phone: str | None = Field(None, title="联系电话")
    address: str | None = Field(None, title="办公地址")
    staffing: int | None = Field(None, title="人员编制", ge=0)
    actual_staff: int | None = Field(None, title="实有人数", ge=0)
    functions: str | None = Field(None, title="职能职责概述")
    tasks: list[str] = Field(default_factory=list, title="年度主要工作内容")
    achievements: str | None = Field(None, title="年度部门（单位）总体运行情况及取得的成绩")
    internal_bodies: list[str] = Field(default_factory=list, title="内设机构")
    subordinate_units: list[str] = Field(default_factory=list, title="下属二级机构")

    @property
    def control_rate(self) -> Decimal | None:
        """控制率 = 实有人数 / 编制数."""
        if self.staffing in (None, 0) or self.actual_staff is None:
            return None
        return Decimal(self.actual_staff) / Decimal(self.staffing)


INCOME_COLUMNS = {"carryover": "上年结转", "general_budget": "公共财政拨款", "government_fund": "政府基金拨款",
                  "special_account": "纳入专户管理的非税收入拨款", "other": "其他收入"}


class IncomeRow(Params):
    institution: str = Field(title="机构名称")
    carryover: Wan | None = Field(None, title="上年结转")
    general_budget: Wan | None = Field(None, title="公共财政拨款")
    government_fund: Wan | None = Field(None, title="政府基金拨款")
    special_account: Wan | None = Field(None, title="纳入专户管理的非税收入拨款")
    other: Wan | None = Field(None, title="其他收入")

    @property
    def total(self) -> Wan | None:
        return total([getattr(self, key) for key in INCOME_COLUMNS])


class ExpenditureRow(Params):
    """年度支出和结余: 基本支出 is 人员 + 公用 when they are known, else as given."""

    institution: str = Field(title="机构名称")
    fund_type: FundType = Field(FundType.GENERAL, title="资金类型")
    personnel: Wan | None = Field(None, title="人员支出")
    public: Wan | None = Field(None, title="公用支出")
    basic: Wan | None = Field(None, title="基本支出（人员、公用未分列时填写）")
    project: Wan | None = Field(None, title="项目支出")
    balance_current: Wan | None = Field(None, title="当年结余")
    balance_accumulated: Wan | None = Field(None, title="累计结余")

    @property
    def basic_total(self) -> Wan | None:
        split = total([self.personnel, self.public])
        return split if split is not None else self.basic

    @property
    def total(self) -> Wan | None:
        return total([self.basic_total, self.project])


THREE_PUBLIC_ITEMS = {"vehicles": "1、公务用车购置和运行维护费", "vehicle_purchase": "其中：公务用车购置费",
                      "vehicle_operation": "公务用车运行维护费", "overseas": "2、因公出国（境）费用",
                      "reception": "3、公务接待费"}


class ThreePublic(Params):
    """三公经费 of one year column, in 万元."""

    vehicle_purchase: Wan | None = Field(None, title="公务用车购置费")
    vehicle_operation: Wan | None = Field(None, title="公务用车运行维护费")
    overseas: Wan | None = Field(None, title="因公出国（境）费用")
    reception: Wan | None = Field(None, title="公务接待费")

    @property
    def vehicles(self) -> Wan | None:
        return total([self.vehicle_purchase, self.vehicle_operation])

    @property
    def total(self) -> Wan | None:
        return total([self.vehicles, self.overseas, self.reception])


PUBLIC_FUND_ITEMS = {"office": "其中：办公费", "utilities": "水费、电费", "travel": "差旅费", "meeting": "会议费",
                     "training": "培训费"}


class PublicFunds(Params):
    """公用经费 (基本支出中的一般商品和服务支出) of one year column."""

    total_amount: Wan | None = Field(None, title="公用经费合计")
    office: Wan | None = Field(None, title="办公费")
    utilities: Wan | None = Field(None, title="水费、电费")
    travel: Wan | None = Field(None, title="差旅费")
    meeting: Wan | None = Field(None, title="会议费")
    training: Wan | None = Field(None, title="培训费")


YEAR_COLUMNS = {"previous_final": "上年决算数", "budget": "本年预算数", "final": "本年决算数"}


class ThreePublicYears(Params):
    previous_final: ThreePublic = Field(default_factory=ThreePublic, title="上年决算数")
    budget: ThreePublic = Field(default_factory=ThreePublic, title="本年预算数")
    final: ThreePublic = Field(default_factory=ThreePublic, title="本年决算数")


class PublicFundsYears(Params):
    previous_final: PublicFunds = Field(default_factory=PublicFunds, title="上年决算数")
    budget: PublicFunds = Field(default_factory=PublicFunds, title="本年预算数")
    final: PublicFunds = Field(default_factory=PublicFunds, title="本年决算数")


class AmountYears(Params):
    previous_final: Wan | None = Field(None, title="上年决算数")
    budget: Wan | None = Field(None, title="本年预算数")
    final: Wan | None = Field(None, title="本年决算数")


class FixedAssetRow(Params):
    institution: str = Field(title="机构名称")
    in_use: Wan | None = Field(None, title="在用固定资产")
    rented: Wan | None = Field(None, title="出租固定资产")
    other: Wan | None = Field(None, title="其他")

    @property
    def total(self) -> Wan | None:
        return total([self.in_use, self.rented, self.other])


FUND_NATURE_ROWS = {"general_budget": "一般公共预算", "government_fund": "政府性基金拨款",
                    "special_account": "纳入专户管理的非税收入拨款", "other": "其他资金"}
SPENDING_NATURE_ROWS = {"basic": "基本支出", "project": "项目支出"}


class OverallFunds(Params):
    """附件1-3's 年度预算申请 rows: by income nature (they make the 年度资金总额) and by spending nature."""

    general_budget: BudgetRow = Field(default_factory=BudgetRow, title="一般公共预算")
    government_fund: BudgetRow = Field(default_factory=BudgetRow, title="政府性基金拨款")
    special_account: BudgetRow = Field(default_factory=BudgetRow, title="纳入专户管理的非税收入拨款")
    other: BudgetRow = Field(default_factory=BudgetRow, title="其他资金")
    basic: BudgetRow = Field(default_factory=BudgetRow, title="基本支出")
    project: BudgetRow = Field(default_factory=BudgetRow, title="项目支出")

    def column_total(self, rows: dict[str, str], column: str) -> Wan | None:
        return total([getattr(getattr(self, row), column) for row in rows])

    @property
    def total(self) -> BudgetRow:
        """年度资金总额: the sum of the income-nature rows, column by column."""
        return BudgetRow(**{c: self.column_total(FUND_NATURE_ROWS, c) for c in ("initial", "annual", "executed")})


# Which of 附件1-3's columns the 年度支出和结余 table's amounts are, in the form's words: what was
# spent (全年执行数, the default), what the year's budget allotted (全年预算数), or both (an
# allocation spent in full, as "州财政安排给本部门整体支出 1505.04 万元" reads).
ExpenditureColumn = Literal["全年预算数", "全年执行数"]
EXPENDITURE_COLUMNS: dict[str, str] = {"全年预算数": "annual", "全年执行数": "executed"}


def funds_from_expenditure(rows: list[ExpenditureRow], columns: tuple[str, ...] = ("executed",)) -> OverallFunds:
    """附件1-3's rows from the 年度支出和结余情况 table, in the given ``columns`` (BudgetRow fields):
    one source for 1505.04/1333.32/171.72."""
    named = {"general_budget": (FundType.GENERAL,), "government_fund": (FundType.GOVERNMENT_FUND,)}
    named["other"] = tuple(f for f in FundType if f not in (FundType.GENERAL, FundType.GOVERNMENT_FUND))
    amounts = {key: total([r.total for r in rows if r.fund_type in funds]) for key, funds in named.items()}
    amounts["basic"] = total([r.basic_total for r in rows])
    amounts["project"] = total([r.project for r in rows])
    return OverallFunds(**{key: BudgetRow(**dict.fromkeys(columns, value)) for key, value in amounts.items()})


class ListedProject(Params):
    """One of the department's projects without a parameter file of its own: 附件1-2 lists every
    项目支出, and the roll-up counts it against the department's 项目支出."""

    name: str = Field(title="项目名称", min_length=1)
    annual: Wan | None = Field(None, title="全年预算数（万元）")
    executed: Wan | None = Field(None, title="全年执行数（万元）")

    @property
    def rate(self) -> Decimal | None:
        return _ratio(self.executed, self.annual)


class Building(Params):
    """附件1-2 楼堂馆所控制情况: one building completed in the year before (规模 in m², 投资 in 万元)."""

    name: str | None = Field(None, title="项目名称")
    approved_area: Decimal | None = Field(None, title="批复规模（m²）", ge=0)
    actual_area: Decimal | None = Field(None, title="实际规模（m²）", ge=0)
    budget_investment: Wan | None = Field(None, title="预算投资（万元）", ge=0)
    actual_investment: Wan | None = Field(None, title="实际投资（万元）", ge=0)

    @property
    def area_control_rate(self) -> Decimal | None:
        """规模控制率 = 实际规模 / 批复规模."""
        return _ratio(self.actual_area, self.approved_area)

    @property
    def investment_control_rate(self) -> Decimal | None:
        """投资概算控制率 = 实际投资 / 预算投资."""
        return _ratio(self.actual_investment, self.budget_investment)


def _ratio(part: Decimal | None, whole: Decimal | None) -> Decimal | None:
    return None if part is None or not whole else part / whole


class QualitativeGoal(Params):
    expected: str = Field(title="预期目标")
    achieved: str | None = Field(None, title="实际完成")


class DepartmentEvaluation(Params):
    method: str | None = Field(None, title="评价方式")
    evaluator: str | None = Field(None, title="评价机构")
    report_date: DateLike | None = Field(None, title="报告时间")
    basis: str | None = Field(None, title="评价依据")
    notice_date: DateLike | None = Field(None, title="领导小组通知日期")
    team: list[TeamMember] = Field(default_factory=list, title="评价人员")
    leader_opinion: str | None = Field(None, title="评价组组长签署意见")
    team_leader: Signature | None = Field(None, title="评价组组长")
    unit_head: Signature | None = Field(None, title="部门（单位）负责人")
    finance_office: Signature | None = Field(None, title="财政部门归口业务科室负责人")


SHARED_EVALUATION = ("method", "evaluator", "report_date")


class DepartmentNarrative(Params):
    """参考提纲 一 to 十一, as Markdown."""

    basic: str | None = Field(None, title="一、基本情况")
    general_budget: str | None = Field(None, title="二、一般公共预算支出情况")
    government_fund: str | None = Field(None, title="三、政府性基金预算支出情况")
    state_capital: str | None = Field(None, title="四、国有资本经营预算支出情况")
    social_insurance: str | None = Field(None, title="五、社会保险基金预算支出情况")
    performance: str | None = Field(None, title="六、部门整体支出绩效情况")
    conclusion: str | None = Field(None, title="七、综合评价情况及评价结论")
    experience: str | None = Field(None, title="八、主要经验做法、存在的问题及原因分析")
    suggestions: str | None = Field(None, title="九、有关建议")
    application: str | None = Field(None, title="十、绩效自评结果拟应用和公开情况")
    other: str | None = Field(None, title="十一、其他需要说明的问题")


class DepartmentParams(Params):
    """The department file: its projects' ``defaults`` and the department's own report data."""

    defaults: dict[str, Any] = Field(default_factory=dict, title="各项目共用的参数")
    year: int | None = Field(None, title="评价年度", ge=2000, le=2100)
    unit: Unit | None = Field(None, title="部门（单位）基本情况")
    funds: OverallFunds | None = Field(None, title="年度预算申请（万元）")
    income: list[IncomeRow] = Field(default_factory=list, title="年度收入情况")
    expenditure: list[ExpenditureRow] = Field(default_factory=list, title="年度支出和结余情况")
    three_public: ThreePublicYears | None = Field(None, title="三公经费")
    public_funds: PublicFundsYears | None = Field(None, title="公用经费")
    procurement: AmountYears | None = Field(None, title="政府采购金额")
    fixed_assets: list[FixedAssetRow] = Field(default_factory=list, title="固定资产")
    buildings: list[Building] = Field(default_factory=list, title="楼堂馆所控制情况")
    austerity: str | None = Field(None, title="厉行节约保障措施")
    goals: list[QualitativeGoal] = Field(default_factory=list, title="整体支出绩效定性目标")
    overall_goals: Goals | None = Field(None, title="年度总体目标")
    indicators: list[Indicator] = Field(default_factory=list, title="整体支出绩效指标")
    expenditure_as: list[ExpenditureColumn] = Field(["全年执行数"], min_length=1, max_length=2,
                                                    title="年度支出和结余情况的金额在附件1-3中填作")
    other_projects: list[ListedProject] = Field(default_factory=list, title="没有参数文件的其他项目")
    attachments: list[Attachment] = Field(default_factory=list, title="附件（第一个为附件1-1，其余排在附件1-3之后）")
    evaluation: DepartmentEvaluation = Field(default_factory=DepartmentEvaluation, title="评价")
    narrative: DepartmentNarrative = Field(default_factory=DepartmentNarrative, title="报告正文")

    @model_validator(mode="before")
    @classmethod
    def _shared_evaluation(cls, data: Any) -> Any:
        """评价方式, 评价机构 and 报告时间 the department's projects share (``defaults.evaluation``)
        are the department's too, unless it states its own."""
        if not isinstance(data, dict):
            return data
        defaults = data.get("defaults")
        shared = defaults.get("evaluation") if isinstance(defaults, dict) else None
        own = data.get("evaluation") or {}
        if not isinstance(shared, dict) or not isinstance(own, dict):
            return data
        inherited = {k: shared[k] for k in SHARED_EVALUATION if shared.get(k) is not None and own.get(k) is None}
        return {**data, "evaluation": {**own, **inherited}} if inherited else data

    @property
    def overall_funds(self) -> OverallFunds | None:
        """附件1-3's funds: as stated, each blank cell of the columns the spending table stands for
        (``expenditure_as``) computed from it."""
        if not self.expenditure:
            return self.funds
        columns = tuple(EXPENDITURE_COLUMNS[c] for c in dict.fromkeys(self.expenditure_as))
        spent = funds_from_expenditure(self.expenditure, columns)
        if self.funds is None:
            return spent
        rows = {}
        for key in (*FUND_NATURE_ROWS, *SPENDING_NATURE_ROWS):
            stated, computed = getattr(self.funds, key), getattr(spent, key)
            rows[key] = stated.model_copy(update={c: getattr(computed, c) for c in columns if getattr(stated, c) is None})
        return OverallFunds(**rows)

    def spent(self, fund: FundType | None = None) -> Decimal | None:
        """年度支出 (万元) of one fund type, or of all: None when the spending table is not filled in."""
        return total([row.total for row in self.expenditure if fund is None or row.fund_type == fund]) if self.expenditure else None

    def general_split(self) -> tuple[Decimal | None, Decimal | None]:
        """The 一般公共预算 spending's 基本支出 and 项目支出 (万元)."""
        general = [row for row in self.expenditure if row.fund_type == FundType.GENERAL]
        return total([row.basic_total for row in general]), total([row.project for row in general])

    @property
    def evaluated_year(self) -> int | None:
        """The year evaluated: the file's own, else its projects' (``defaults.year``, which a
        project reads as a number even where it is written "2024")."""
        shared = self.defaults.get("year")
        if self.year or shared is None:
            return self.year
        with contextlib.suppress(TypeError, ValueError):
            return int(str(shared).strip())
        return None  # not a year: each project's own validation names defaults.year

    @property
    def name(self) -> str:
        if self.unit:
            return self.unit.name
        return str(self.defaults.get("project", {}).get("department") or "")


def project_spending(params: DepartmentParams) -> tuple[Decimal | None, tuple]:
    """The department's 项目支出 (万元) and where it is stated: 附件1-3's 年度预算申请 when
    given, else the sum of 年度支出's 项目支出 column."""
    if params.funds is not None and params.funds.project.annual is not None:
        return params.funds.project.annual, ("funds", "project", "annual")
    return total([row.project for row in params.expenditure]), ("expenditure",)
