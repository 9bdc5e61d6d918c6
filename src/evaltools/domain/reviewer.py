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
from evaltools.domain.targets import NUMBER_IN_TEXT, Operator, Quantity, Target, parse_number

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

_COST_WORDS = re.compile(r"成本|费用|经费|支出|单价|造价|开支|费率|预算|投入|资金|补助标准|补贴标准|收费标准")
# Words that make a cost-sounding name a benefit: money saved, earned or relieved.
_BENEFIT_WORDS = re.compile(r"节约|节省|节支|降低|减少|下降|减轻|增收|收入|带动|拉动|增加|提高|挽回|效益|释放|收益|减负|撬动|"
                            r"吸引|融资|产值|到位率|使用率|撬动|引导|杠杆|回报|利润|税收")
# 满意度 as the national indicator library (财预〔2020〕10号 附件) and the provinces' libraries name it.
_SURVEY = re.compile(r"满意度|满意率|满意程度|满意情况|满意测评|满意度调查|测评满意|好评率")
# The output a 数量指标 counts: a verb of doing and a count, not people served (受益人数 is a benefit).
_OUTPUT_COUNT = re.compile(r"(?:完成|建设|建成|新建|改造|改建|维修|养护|培训|采购|购置|购买|发放|举办|开展|召开|印发|制作|安装|"
                           r"修建|铺设|新增|配备|组织)[\u4e00-\u9fff]{0,10}(?:数量|个数|次数|场次|批次|处数|台数|套数|件数|项数|"
                           r"期数|人次|人数|公里数|面积|长度)$")
_NOT_OUTPUT = re.compile(r"受益|带动|惠及|覆盖|就业|增收|减少|降低|提高|节约|服务对象|群众|人口")
_COUNT_UNITS = {"个", "处", "项", "次", "场", "期", "批", "台", "套", "件", "人次", "人", "公里", "千米", "米", "亩", "平方米", "m²", "座",
                "所", "户", "家", "册", "份", "辆", "条"}
_COST_NOUN = re.compile(r"(?:成本|费用|经费|支出|单价|造价|开支|费|资金|投入|标准)$")
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
    if level1 == "效益指标" and not satisfaction_row:
        counted = _OUTPUT_COUNT.search(name)
        if counted and not _NOT_OUTPUT.search(name) and unit in _COUNT_UNITS:
            return Misplaced("产出指标（数量指标）", f"名称“{counted.group(0)}”是做了多少，指标值以“{unit}”计，"
                             "不是带来的变化（效益）")
    if not satisfaction_row:
        satisfied = _SURVEY.search(name)
        if satisfied:
            return Misplaced("满意度指标", f"名称含“{satisfied.group(0)}”，满意度调查属满意度指标（财预〔2020〕10号 附件）")
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
    rf"(?:剩余|结余|余下|尚余|未支付|未付|未拨付|未执行|尾款|余款)[^。；;，,\d%％]{{0,6}}?({NUMBER_IN_TEXT})\s*[%％]"
    rf"|({NUMBER_IN_TEXT})\s*[%％]\s*(?:的)?(?:合同)?(?:尾款|余款|资金未|未支付|未付|未拨付|未执行|结余)")
_UNSPENT_AMOUNT = re.compile(
    r"(?:剩余|结余|余下|尚余|未支付|未付|未拨付|未执行|尾款|余款)(?:资金|款项|金额|经费)?[为是：:共计约]{0,3}\s*"
    rf"({NUMBER_IN_TEXT})\s*(万元|元)")
_TOTAL_COST = re.compile(
    r"(?:项目总成本|实际总成本|总成本|项目成本|成本总额|项目总支出|项目支出总额)(?:为|是|：|:|共计|合计|约)?\s*"
    rf"({NUMBER_IN_TEXT})\s*(万元|元)")


@dataclass(frozen=True)
class Cited:
    phrase: str
    value: Decimal  # a share in percent, or an amount in 万元
    written: Decimal  # the number as written, in ``unit`` (for the precision it is stated at)
    unit: str  # "%", "万元" or "元"


def _wan(value: Decimal, unit: str) -> Decimal:
    return value / TEN_THOUSAND if unit == "元" else value


_MONEY_WORDS = re.compile(r"款|资金|经费|预算|金额|费用|质保金|保证金|尾款|余款|合同款|工程款")


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


# --- a money target that restates the budget ---------------------------------------------------------

_MONEY_NAME = re.compile(r"资金|经费|金额|投入|预算|款|费用|支出|拨付|补助|补贴|奖补")


def restated_amount(name: str, target: Target, amounts: Iterable[Decimal]) -> Decimal | None:
    """The budget amount (万元) a money target repeats, if it does: written in 元 or 万元, or with
    no unit at all (26.5 when the budget is 26.5 万元), equal at the precision written (15.8万元 is
    15.84万元 rounded). A bare number counts only for a money name or an exact decimal figure."""
    quantity = target.quantity
    if quantity is None or quantity.value <= 0 or quantity.unit not in ("", *_MONEY):
        return None
    candidates: list[tuple[Decimal, Decimal]] = []  # (written, as 万元 scale factor)
    if quantity.unit:
        candidates.append((quantity.value, _MONEY_FACTOR[quantity.unit]))
    elif _MONEY_NAME.search(name or "") or places(quantity.value) > 0:
        candidates += [(quantity.value, Decimal(1)), (quantity.value, Decimal("0.0001"))]  # 万元, or 元
    for amount in amounts:
        if amount <= 0:
            continue
        for written, factor in candidates:
            if agrees_as_written(written, amount / factor):
                return amount
    return None


_MONEY_FACTOR = {"元": Decimal("0.0001"), "万元": Decimal(1), "亿元": Decimal(10_000)}


# --- units that are not units ------------------------------------------------------------------------

_NOT_A_UNIT = {"百分率": "%", "百分比": "%", "分比": "%", "百分": "%", "个百分点": "%", "百分点": "%", "万": "万元"}
# "百分比" is how many forms write % and is left alone; "分比" after a number is 百分比 mistyped.
_RAW_UNIT = re.compile(r"\d(?:[\d.,，]*)\s*(个百分点|百分点|百分率|(?<!百)分比|百分(?![比率点])"
                       r"|万(?![元人户亩册份吨个件只头平公千米次套台]))")
_TIME_UNITS = {"天", "日", "个工作日", "工作日", "小时", "分钟", "周", "月", "个月", "年", "%", "秒"}
_CHANGE_NAME = re.compile(r"提高|提升|增长|增加|下降|降低|减少|增幅|降幅|变化")


def unit_word(name: str, level2: str, target: Target) -> tuple[str, str] | None:
    """A target whose unit is not a unit: (what is written, what the target implies)."""
    if not target.is_quantitative or target.quantity is None:
        return None
    raw = _RAW_UNIT.search(re.sub(r"\s+", "", target.text))
    if raw:
        word = raw.group(1)
        if word.endswith("百分点") and _CHANGE_NAME.search(name or ""):
            return None  # a change of a rate is in 百分点
        if word == "万" and not (_MONEY_NAME.search(name or "") or "成本" in level2 or _COST_WORDS.search(name or "")):
            return None  # 万人, 万亩 are read by their own unit; a bare 万 is money only for a money name
        return word, _NOT_A_UNIT[word]
    if "时效" in level2 and target.quantity.unit not in _TIME_UNITS:
        written = target.quantity.unit or "没有单位"
        return written, "时间（“2024年12月底前”“≤30个工作日”）或及时率（%）"
    return None


# --- actuals that are not actuals --------------------------------------------------------------------

_DONE_ONLY = re.compile(r"^(?:已|均已|全部|基本|按时|如期|已经)?(?:完成|达到|达成|达标|实现|落实|到位|全部完成|完成目标|已完成|100%完成)"
                        r"(?:任务|目标|预期目标|年度目标)?$")
_OPERATOR_START = re.compile(r"^\s*(?:[≥≤><＞＜≧≦═=＝]|不低于|不少于|不小于|不高于|不超过|不多于|大于|小于)")
_BOUND_END = re.compile(r"(?:以上|以内|以下|及以上|及以下)\s*$")


def not_measured(target: Target, actual: str | None) -> str | None:
    """Why a 实际完成值 measures nothing: it repeats the target with its operator ("≥90%"), copies
    the target's text, or says only 已完成."""
    text = (actual or "").strip()
    if not text:
        return None
    bare = _BOUND_END.sub("", _OPERATOR_START.sub("", text)).strip()
    if target.is_quantitative and bare != text and re.fullmatch(r"[\d.,，]+\s*[%％‰\u4e00-\u9fff]{0,4}", bare):
        return f"实际完成值“{text}”照抄了指标值的写法（带“≥”“以上”之类），不是实际达到的数值，请写实测值"
    stripped = _PUNCTUATION.sub("", text)
    if not target.is_quantitative and target.kind == "qualitative" and stripped == _PUNCTUATION.sub("", target.text or "") \
            and stripped not in ("", "定性"):
        return f"实际完成值照抄了年度指标值“{text}”，没有写实际完成的情况"
    if not target.is_quantitative and _DONE_ONLY.match(stripped):
        return f"实际完成值只写了“{text}”，没有写做了什么、达到什么程度"
    return None


def copied_goal(expected: str, achieved: str) -> str | None:
    """Why a goal's 实际完成情况 describes nothing: a copy of its 预期目标, or a bare 已完成."""
    done, planned = _PUNCTUATION.sub("", achieved or ""), _PUNCTUATION.sub("", expected or "")
    if not done:
        return None
    if done == planned:
        return "照抄了预期目标，没有写实际完成的情况"
    if _DONE_ONLY.match(done):
        return f"只写了“{achieved.strip()}”，没有写实际完成的内容"
    return None


# --- a reason's figures against the row's gap ---------------------------------------------------------

_ROW_GAP = re.compile(r"(?:少|差|未完成|相差|缺|短缺|未达到?|欠)(?:完成|建成|实施|了)?\s*"
                      r"(\d+(?:\.\d+)?)\s*(%|个百分点|[\u4e00-\u9fff]{1,2})")


def stated_gaps(text: str, unit: str) -> Iterator[Cited]:
    """Shortfalls a 偏差原因 states in the row's own unit: "少完成2处", "差3个百分点"."""
    for match in _ROW_GAP.finditer(text or ""):
        written = match.group(2)
        said = "%" if written in ("%", "个百分点") else written
        if unit and (said == unit or said in unit or unit.startswith(said)):
            number = parse_number(match.group(1))
            if number is not None:
                yield Cited(match.group(0), number, number, unit)


# --- template residue ----------------------------------------------------------------------------------

_RESIDUE = (
    r"……|…|\.{4,}|[（(]\s*\d+\s*字(?:以内|左右)\s*[)）]|××|(?<![A-Za-z])(?:XX|xx|XXX)(?![A-Za-z])"
    r"|^\s*(?:指标|任务|目标)\s*\d+\s*[：:]?\s*$|此页为封面|（参考格式）|请填写|在此填写|此处填写|此处写|请输入|请选择"
    r"|（(?:项目名称|主管部门|实施单位|三级指标)）"  # the blank workbook's placeholders
    r"|[＿_]{2,}|某某|○○|〇〇|[□■]{2,}"
)
# ≥**人, (≥**元/人·月): the number never filled in; in Markdown (a narrative) only after a sign,
# where ** otherwise makes text bold (**单位**, 本年**重点**工作).
_STARS = r"\s*\*{2,}\s*[\u4e00-\u9fff%％/·.]*"
_TEMPLATE_TEXT = re.compile(rf"{_RESIDUE}|[≥≤><＞＜=＝]?{_STARS}")
_TEMPLATE_MARKDOWN = re.compile(rf"{_RESIDUE}|[≥≤><＞＜=＝]{_STARS}")


def template_residue(text: str | None, markdown: bool = False) -> str | None:
    """The template's placeholder a text still holds ("≥**人", "××", "＿＿", "XX%", "（此处填写…）");
    ``markdown``: a narrative's, where ** makes text bold."""
    match = (_TEMPLATE_MARKDOWN if markdown else _TEMPLATE_TEXT).search(text or "")
    return match.group(0).strip() if match else None
