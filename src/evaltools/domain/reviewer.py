"""What a 财政局 reviewer reads into a form's words: the heuristics behind the reviewer checks.

Each function looks at the text and figures of one form and says what does not hold, with the
words that gave it away, so that a finding can say *why* (an indicator "looks like a cost"
because its name says 费用 and its target is a ceiling in 万元). They are deliberately
conservative: a heuristic that cries wolf on correct forms is worse than none, so the checks
built on them are warnings wherever judgement is involved.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from evaltools.domain.scoring import TEN_THOUSAND, off_by_ten_thousand
from evaltools.domain.targets import Operator, Quantity, Target, parse_number

# --- figures as written -----------------------------------------------------------------------


def places(stated: Decimal) -> int:
    """Decimal places a figure is written with: 86 → 0, 86.2 → 1, 86.20 → 2."""
    exponent = stated.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def agrees_as_written(stated: Decimal, exact: Decimal) -> bool:
    """Whether ``stated`` is ``exact`` at the precision the form writes it: "86%" is right for
    86.20 % (rounded) and for 86.9 % (cut off, as some forms do), "87%" is not right for 86.20 %."""
    step = Decimal(1).scaleb(-places(stated))
    return stated in (exact.quantize(step, rounding=ROUND_HALF_UP), exact.quantize(step, rounding=ROUND_DOWN))


# --- reasons --------------------------------------------------------------------------------------

_PUNCTUATION = re.compile(r"[\s。．.，,；;：:、!！?？“”\"'（）()]+")
# Entries in a 原因 or 偏差原因 cell that explain nothing.
NON_REASONS = frozenset({
    "0", "无", "暂无", "没有", "无偏差", "无差异", "无原因", "无问题", "不适用", "略", "/", "／", "-", "－",
    "—", "——", "无无", "null", "none", "na", "n/a",
})


def is_non_reason(text: str | None) -> bool:
    """A filled cell that gives no reason: "0", "无", "/", "暂无"."""
    if text is None or not text.strip():
        return False
    stripped = _PUNCTUATION.sub("", text).lower()
    return stripped in NON_REASONS or (not stripped and bool(text.strip()))


def gives_reason(text: str | None) -> bool:
    """A cell with a reason in it (neither blank nor a non-reason)."""
    return bool(text and text.strip()) and not is_non_reason(text)


# Words with which a text explains a budget that was changed during the year.
ADJUSTMENT_WORDS = re.compile(r"追加|结转|调增|调减|调整|追减|调剂|收回|核减|压减|追拨|年中|预算变动|变更|未纳入|未列入|补充下达|新增安排")
# Words with which a text explains money not spent.
UNSPENT_WORDS = re.compile(
    r"结余|剩余|未支付|未付|未拨付|未执行|未使用|未用完|尾款|质保金|结转|余额|滞后|延期|延迟|推迟|尚未|未到期|未结算|未完工|未验收|未完成")


def mentions(pattern: re.Pattern[str], texts: Iterable[str]) -> str | None:
    """The first phrase of ``texts`` matching ``pattern``, with a little context."""
    for text in texts:
        match = pattern.search(text or "")
        if match:
            return text[max(0, match.start() - 6): match.end() + 6].strip()
    return None


# --- a target written into the indicator's name -----------------------------------------------------

_TARGET_IN_NAME = re.compile(
    r"(?:≥|≤|>=|<=|＞|＜|>|<|不低于|不少于|不小于|不高于|不超过|不多于|大于|小于|高于|低于|达到?|控制在|超过)\s*\d+(?:\.\d+)?\s*"
    r"(?:%|％|‰|万元|亿元|元|[\u4e00-\u9fff]{0,2})(?:以上|以内|以下)?"
    r"|\d+(?:\.\d+)?\s*(?:%|％|‰)(?:以上|以内|以下)?"
    r"|\d+(?:\.\d+)?\s*(?:万元|亿元|元|个|人次|人|次|场|户|家|台|套|件|项|公里|天|日)\s*(?:以上|以内|以下)"
    r"|(?:19|20)\d{2}\s*年\s*(?:\d{1,2}\s*月)?\s*(?:底前|底|前|内|末前)"
)


def target_in_name(name: str) -> str | None:
    """The target a 三级指标 name carries ("全流程电子化率达95%以上" → "达95%以上"), if any."""
    match = _TARGET_IN_NAME.search(name or "")
    return match.group(0).strip() if match else None


# --- units ------------------------------------------------------------------------------------------

# Rates that cannot exceed 100 %: a share of those served, passed, covered.
# (Not 完成率, 增长比例 or 到位率: those may pass 100 %.)
_CAPPED_RATE = re.compile(r"满意|合格率|覆盖率|知晓率|达标率|及时率|准确率|完好率|正确率|通过率|普及率|入学率|参保率|"
                          r"验收率|受益率|使用率|就业率|出勤率|巩固率|回收率|结案率|办结率|公开率|留存率|占比")
# Names that count things; a percent makes no sense for them unless the name speaks of a rate.
_COUNT = re.compile(r"人数|人次|次数|个数|户数|家数|场次|场数|套数|台数|件数|项数|册数|床位数|公里数|面积|天数|数量|批次")
_RATE = re.compile(r"率|比|占|覆盖|满意|程度|增长|下降|提高|降低|增幅|降幅")
_MONEY = {"元", "万元", "亿元"}


def unit_problems(name: str, target: Target, actual: Quantity | None) -> Iterator[tuple[str, bool]]:
    """What does not fit in an indicator's units: (message, certain). ``certain`` problems are
    errors (a 满意度 over 100 %, 元 read as 万元); the others are worth a look."""
    quantity = target.quantity
    if quantity is None:
        return
    unit = quantity.unit
    if unit == "%" and _CAPPED_RATE.search(name):
        for label, value in (("年度指标值", quantity.value), ("实际完成值", actual.value if actual else None)):
            if value is not None and value > 100 and not (label == "年度指标值" and target.operator in (Operator.LE, Operator.LT)):
                yield f"“{name}”是不会超过100%的比率，{label}却为 {value.normalize():f}%", True
    if unit == "%" and _COUNT.search(name) and not _RATE.search(name):
        yield f"“{name}”是一个数量（人数、次数等），年度指标值却以%为单位（{target}）", False
    if actual is not None and off_by_ten_thousand(actual, target):
        yield (f"实际完成值 {actual.value.normalize():f}{unit} 与指标值 {target} 相差约一万倍，"
               "疑为元与万元混用", True)


# --- categories ---------------------------------------------------------------------------------------

_COST_WORDS = re.compile(r"成本|费用|经费|支出|单价|造价|开支|费率|预算|投入|资金使用")
# Words that make a cost-sounding name a benefit: money saved, earned or relieved.
_BENEFIT_WORDS = re.compile(r"节约|节省|节支|降低|减少|下降|减轻|增收|收入|带动|拉动|增加|提高|挽回|效益|释放|收益|减负|撬动|"
                            r"吸引|融资|产值")
_COST_NOUN = re.compile(r"(?:成本|费用|经费|支出|单价|造价|开支|费)$")
_SATISFACTION = re.compile(r"满意|投诉|认可|好评|信任|获得感|幸福感|安全感|满足|评价|口碑|赞誉")


@dataclass(frozen=True)
class Misplaced:
    should_be: str
    why: str


def misplaced(name: str, level1: str | None, level2: str, target: Target) -> Misplaced | None:
    """An indicator that looks as if it belongs to another category, and why it looks so."""
    unit = target.quantity.unit if target.quantity else ""
    satisfaction_row = level1 == "满意度指标" or "满意" in level2
    if level1 == "效益指标" and not satisfaction_row:
        cost = _COST_WORDS.search(name)
        # A cost is named as one (…费用, …成本) or measured in money; "预算绩效管理水平" is neither.
        named_cost = _COST_NOUN.search(name)
        if cost and not _BENEFIT_WORDS.search(name) and (unit in _MONEY or named_cost):
            return Misplaced("成本指标", f"名称含“{cost.group(0)}”、没有节约或增收之意"
                             + (f"，指标值是金额（{target}）" if unit in _MONEY else ""))
    if not satisfaction_row:
        satisfied = re.search(r"满意度|满意率", name)
        if satisfied:
            return Misplaced("满意度指标", f"名称含“{satisfied.group(0)}”")
    if satisfaction_row and not _SATISFACTION.search(name):
        return Misplaced("产出或效益指标", "名称中没有“满意”“投诉”“认可”等满意度的说法")
    return None


# Names that are the execution of the budget, which the form already scores in its funds block.
# Not 资金拨付及时率: for a transfer programme getting the money out in time is the output.
_EXECUTION_NAME = re.compile(r"预算执行率|资金执行率|预算执行进度|资金支付率|资金支付进度|资金使用率")


def restates_execution(name: str) -> str | None:
    match = _EXECUTION_NAME.search(name)
    return match.group(0) if match else None


# --- 年度总体目标 ---------------------------------------------------------------------------------------

_BARE_NUMBER = re.compile(r"[\d.,，%％‰万亿元个项次≥≤><=＞＜\s]*")
# Words around a name that add nothing: "完成××项目", "保障××运行维护".
_FILLER = re.compile(r"项目|资金|经费|专项|已经|已|全部|按时|完成|顺利|实施|年度|的|了|保障|做好|开展|确保|用于|\d{4}年?")


def bare_goal(text: str, project_name: str) -> str | None:
    """Why a 预期目标 or 实际完成情况 says nothing: it repeats the project name or is a number."""
    stripped = _PUNCTUATION.sub("", text or "")
    if not stripped:
        return None
    if _BARE_NUMBER.fullmatch(stripped):
        return f"只写了“{text.strip()}”，没有说明目标或完成的内容"
    name = _PUNCTUATION.sub("", project_name or "")
    rest = _FILLER.sub("", stripped)
    repeated = name in stripped and not _FILLER.sub("", stripped.replace(name, ""))
    if name and len(stripped) <= len(name) + 8 and (repeated or len(rest) >= 2 and rest in name):
        return f"只重复了项目名称“{project_name}”，没有说明目标或完成的内容"
    return None


# --- text against the table -------------------------------------------------------------------------

_UNSPENT_SHARE = re.compile(
    r"(?:剩余|结余|余下|尚余|未支付|未付|未拨付|未执行|尾款|余款)[^。；;，,\d%％]{0,6}?(\d+(?:\.\d+)?)\s*[%％]"
    r"|(\d+(?:\.\d+)?)\s*[%％]\s*(?:的)?(?:合同)?(?:尾款|余款|资金未|未支付|未付|未拨付|未执行|结余)")
_UNSPENT_AMOUNT = re.compile(
    r"(?:剩余|结余|余下|尚余|未支付|未付|未拨付|未执行|尾款|余款)(?:资金|款项|金额|经费)?[为是：:共计约]{0,3}\s*"
    r"(\d+(?:\.\d+)?)\s*(万元|元)")
_TOTAL_COST = re.compile(
    r"(?:项目总成本|实际总成本|总成本|项目成本|成本总额|项目总支出|项目支出总额)(?:为|是|：|:|共计|合计|约)?\s*(\d+(?:\.\d+)?)\s*(万元|元)")


@dataclass(frozen=True)
class Cited:
    phrase: str
    value: Decimal  # a share in percent, or an amount in 万元
    written: Decimal  # the number as written, in ``unit`` (for the precision it is stated at)
    unit: str  # "%", "万元" or "元"


def _wan(value: Decimal, unit: str) -> Decimal:
    return value / TEN_THOUSAND if unit == "元" else value


_MONEY_WORDS = re.compile(r"款|资金|经费|预算|金额|费用")


def unspent_shares(text: str) -> Iterator[Cited]:
    """Shares of the budget a text says are unspent: "剩余3%尾款", "结余资金13.8%". "剩余10%工程量"
    is work, not money, and is left alone."""
    text = text or ""
    for match in _UNSPENT_SHARE.finditer(text):
        number = parse_number(match.group(1) or match.group(2))
        around = text[match.start(): match.end() + 4]
        if number is None or match.group(0).startswith(("剩余", "余下", "尚余")) and not _MONEY_WORDS.search(around):
            continue
        yield Cited(match.group(0), number, number, "%")


def unspent_amounts(text: str) -> Iterator[Cited]:
    for match in _UNSPENT_AMOUNT.finditer(text or ""):
        number = parse_number(match.group(1))
        if number is not None:
            yield Cited(match.group(0), _wan(number, match.group(2)), number, match.group(2))


def total_costs(text: str) -> Iterator[Cited]:
    for match in _TOTAL_COST.finditer(text or ""):
        number = parse_number(match.group(1))
        if number is not None:
            yield Cited(match.group(0), _wan(number, match.group(2)), number, match.group(2))


def cited_agrees(cited: Cited, exact: Decimal) -> bool:
    """A figure quoted in text against the table's (percent or 万元), at the precision it is written."""
    scale = TEN_THOUSAND if cited.unit == "元" else Decimal(1)
    return agrees_as_written(cited.written, exact * scale)


def is_total_cost_name(name: str) -> bool:
    return bool(re.search(r"总成本|项目成本|成本总额|总投入|项目总支出|支出总额", name or ""))
