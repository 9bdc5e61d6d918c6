"""Targets and quantities as people write them in a 绩效自评表.

"≥95%", "不低于95%", "≤106.62万元", "100%", "2024年度", "定性", "$\\geq 95\\%$" (a PDF's
LaTeX-ish extraction): each becomes a :class:`Target` with an operator, a number and a unit,
or is recognised as qualitative (no number) or as a deadline (a year or date), which the
evaluator scores like a qualitative indicator.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Literal


class Operator(StrEnum):
    GE = "≥"
    GT = ">"
    LE = "≤"
    LT = "<"
    EQ = "="


TargetKind = Literal["quantitative", "qualitative", "deadline"]

# Written forms of each operator, longest first so that "不低于" wins over "低于".
_OPERATOR_WORDS: list[tuple[str, Operator]] = sorted(
    [
        ("≥", Operator.GE), (">=", Operator.GE), ("＞=", Operator.GE), ("\\geq", Operator.GE), ("≧", Operator.GE),
        ("≥=", Operator.GE), ("=>", Operator.GE), ("≮", Operator.GE), ("大于或等于", Operator.GE), ("不得低于", Operator.GE),
        ("≦", Operator.LE), ("≤=", Operator.LE), ("=<", Operator.LE), ("≯", Operator.LE), ("小于或等于", Operator.LE),
        ("不得超过", Operator.LE), ("不得高于", Operator.LE), ("═", Operator.EQ), ("==", Operator.EQ),
        ("\\ge", Operator.GE), ("不低于", Operator.GE), ("不少于", Operator.GE),
        ("不小于", Operator.GE), ("至少", Operator.GE), ("达到", Operator.GE), ("达", Operator.GE), ("大于等于", Operator.GE),
        (">", Operator.GT), ("＞", Operator.GT), ("\\gt", Operator.GT), ("高于", Operator.GT),
        ("大于", Operator.GT), ("超过", Operator.GT), ("多于", Operator.GT),
        ("≤", Operator.LE), ("<=", Operator.LE), ("\\leq", Operator.LE), ("\\le", Operator.LE),
        ("不高于", Operator.LE), ("不超过", Operator.LE), ("不多于", Operator.LE),
        ("不大于", Operator.LE), ("小于等于", Operator.LE), ("控制在", Operator.LE),
        ("<", Operator.LT), ("＜", Operator.LT), ("\\lt", Operator.LT), ("低于", Operator.LT),
        ("小于", Operator.LT), ("少于", Operator.LT),
        ("=", Operator.EQ), ("＝", Operator.EQ), ("等于", Operator.EQ),
    ],
    key=lambda pair: -len(pair[0]),
)
_SUFFIX_OPERATORS = {"以上": Operator.GE, "及以上": Operator.GE, "以内": Operator.LE, "之内": Operator.LE,
                     "内": Operator.LE, "以下": Operator.LE, "及以下": Operator.LE}

_UNIT_ALIASES = {"％": "%", "\\%": "%", "percent": "%", "百分比": "%", "百分率": "%", "‰": "‰", "千分比": "‰",
                 "分比": "%", "百分": "%", "个百分点": "%", "百分点": "%",
                 "平方米": "m²", "m2": "m²"}
# Units that convert into each other: factor to the group's base unit.
_UNIT_FACTORS: dict[str, tuple[str, Decimal]] = {
    "元": ("money", Decimal(1)),
    "万元": ("money", Decimal(10_000)),
    "亿元": ("money", Decimal(100_000_000)),
    "%": ("ratio", Decimal("0.01")),
    "‰": ("ratio", Decimal("0.001")),
}

_NUMBER = re.compile(r"[-+]?\d[\d,，]*(?:\.\d+)?")
# Where a number begins in a text: after no digit, nor a digit and its separator (a pattern tried
# from each digit of a run to its end took seconds over 20,000 digits). And a number as a text
# writes it, for a pattern that finds one followed by its unit: of at most 20 digits a part.
NUMBER_BEGINS = r"(?<!\d)(?<!\d[.,，])"
NUMBER_IN_TEXT = NUMBER_BEGINS + r"\d{1,20}(?:\.\d{1,20})?"
_DEADLINE = re.compile(
    r"(19|20)\d{2}\s*年(?:度|底|末|内|\s*\d{1,2}\s*月|$)"
    r"|^\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?\s*(?:底|末|前|份|中旬|上旬|下旬|之前|以前)"  # "12月底前": the year is the form's
    r"|^(?:年底|年末|年内|当年|本年度?|年度内)")


@dataclass(frozen=True)
class Quantity:
    value: Decimal
    unit: str = ""

    def to(self, unit: str) -> Quantity | None:
        """The same amount in ``unit``; None when the units do not convert (个 → 万元)."""
        if unit == self.unit or not unit or not self.unit:
            return Quantity(self.value, unit or self.unit)
        mine, theirs = _UNIT_FACTORS.get(self.unit), _UNIT_FACTORS.get(unit)
        if mine is None or theirs is None or mine[0] != theirs[0]:
            # 万人 and 人, 万亩 and 亩: a 万 in front is 10⁴ of the same thing
            if self.unit == "万" + unit:
                return Quantity(self.value * 10_000, unit)
            if unit == "万" + self.unit:
                return Quantity(self.value / 10_000, unit)
            return None
        return Quantity(self.value * mine[1] / theirs[1], unit)

    def __str__(self) -> str:
        return f"{plain_number(self.value)}{self.unit}"


@dataclass(frozen=True)
class Target:
    text: str
    kind: TargetKind
    operator: Operator | None = None
    quantity: Quantity | None = None
    unreadable: bool = False  # looks numeric (a number or an operator in it) but could not be read

    @property
    def is_quantitative(self) -> bool:
        return self.kind == "quantitative"

    def __str__(self) -> str:
        if not self.is_quantitative:
            return self.text
        return f"{self.operator}{self.quantity}"


def plain_number(value: Decimal) -> str:
    """A number as people write it: 10 not 1E+1, 106.62 not 106.6200."""
    return format(value.normalize(), "f")


def _clean(text: str) -> str:
    # NFKC: full-width digits, signs and letters as typed on a Chinese keyboard (９５％, ＞＝) are the ASCII ones.
    text = unicodedata.normalize("NFKC", text.strip()).replace("$", "").replace("\\%", "%")
    text = re.sub(r"百分之\s*(\d+(?:\.\d+)?)", r"\1%", text)  # 百分之95 is 95%
    return re.sub(r"\s+", "", text)


def parse_number(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", "").replace("，", ""))
    except InvalidOperation:
        return None


# A unit: a sign, a Latin one, or up to three Chinese characters; but an area, a volume or an
# energy whole, after its multiple and with what it is per (1.2万平方米, 3万立方米/年): three
# characters of 万平方米 left 米 over, which made the value a sentence.
_UNIT = re.compile(r"[%％‰]|[A-Za-z²]+|个工作日|个百分点"
                   r"|[十百千万亿]{0,3}(?:平方公里|平方千米|平方米|立方米|千瓦时)(?:/[\u4e00-\u9fff]{1,2})?"
                   r"|[\u4e00-\u9fff]{1,3}")


def _unit(rest: str) -> tuple[str, str, Operator | None]:
    """Split what follows a number into its unit, any leftover text, and a trailing
    operator word (95%以上 → ≥)."""
    suffix_op = None
    for word in sorted(_SUFFIX_OPERATORS, key=len, reverse=True):
        if rest.endswith(word):
            suffix_op = _SUFFIX_OPERATORS[word]
            rest = rest[: -len(word)]
            break
    match = _UNIT.match(rest)
    unit = match.group(0) if match else ""
    return _UNIT_ALIASES.get(unit, unit), rest[len(unit):], suffix_op


def parse_target(text: str | int | Decimal | None, default_operator: Operator = Operator.EQ) -> Target:
    """Parse a 年度指标值. Text without a number is qualitative; a year is a deadline."""
    raw = "" if text is None else str(text)
    cleaned = _clean(raw)
    if not cleaned or cleaned == "定性" or cleaned.startswith("定性"):
        return Target(raw, "qualitative")
    if _DEADLINE.search(cleaned):
        return Target(raw, "deadline")
    read = _read_target(cleaned, default_operator) or _read_target(_LABEL.sub("", cleaned, count=1), default_operator,
                                                                     whole=True)
    if read is None:
        # A number or a sign in it, yet no "≥95%": say so rather than score it as qualitative unseen.
        looks_numeric = bool(re.search(r"\d", cleaned) or re.match(r"[≥≤><=≧≦═≮≯]+[零〇一二三四五六七八九十百千两]", cleaned))
        return Target(raw, "qualitative", unreadable=looks_numeric)
    operator, quantity = read
    return Target(raw, "quantitative", operator, quantity)


# A label before the target, as some forms repeat it in the cell: "合格率≥95%", "电子化率达95%以上".
_LABEL = re.compile(r"^[\u4e00-\u9fff]{1,12}?(?=[≥≤><=≧≦═≮≯]|不低于|不少于|不小于|不高于|不超过|不多于|达到?|\d)")


def _read_target(text: str, default: Operator, whole: bool = False) -> tuple[Operator, Quantity] | None:
    """Operator, number and unit from the start of ``text``; with ``whole``, only when nothing but a
    以上/以内 marker follows the unit (a label's leftover must not turn a sentence into a number)."""
    operator = None
    rest = text
    for word, op in _OPERATOR_WORDS:
        if rest.startswith(word):
            operator, rest = op, rest[len(word):]
            break
    number = _NUMBER.match(rest)
    value = parse_number(number.group(0)) if number else None
    if number is None or value is None:
        return None
    unit, leftover, suffix_op = _unit(rest[number.end():])
    if whole and leftover:
        return None
    return operator or suffix_op or default, Quantity(value, unit)


def parse_quantity(value: str | int | Decimal | None, default_unit: str = "") -> Quantity | None:
    """A measured value: a bare number (in ``default_unit``) or a number with a unit ("100%").

    Returns None when there is no number to be read ("基本完成"), so the caller can say
    that a number is required.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, Decimal)):
        return Quantity(Decimal(value), default_unit)
    cleaned = _clean(value)
    for word, _ in _OPERATOR_WORDS:
        if cleaned.startswith(word):
            cleaned = cleaned[len(word):]
            break
    number = _NUMBER.fullmatch(cleaned) or _NUMBER.match(cleaned)
    if number is None:
        return None
    amount = parse_number(number.group(0))
    if amount is None:
        return None
    unit, leftover, _ = _unit(cleaned[number.end():])
    # Anything after the unit but a 以上/以内 marker means this was a sentence, not a value.
    if leftover:
        return None
    return Quantity(amount, unit or default_unit)


def find_quantity(text: str | None, unit: str) -> Quantity | None:
    """The one value in a sentence written in ``unit`` or a unit that converts to it:
    "入场项目全流程电子化率达100%" → 100%, "完成32处维修" → 32处. None when there is none, or
    more than one value (which one was meant is then the writer's to say)."""
    if not text or not unit:
        return None
    cleaned = _clean(text).replace("％", "%")
    group = _UNIT_FACTORS.get(unit, (None,))[0]
    candidates = sorted({unit, *(u for u, (g, _) in _UNIT_FACTORS.items() if group and g == group)}, key=len, reverse=True)
    found: set[Decimal] = set()
    for match in _NUMBER.finditer(cleaned):
        if match.start() > 0 and (cleaned[match.start() - 1].isdigit() or cleaned[match.start() - 1] == "."):
            continue
        after = cleaned[match.end():]
        written = next((u for u in candidates if after.startswith(u)), None)
        amount = parse_number(match.group(0))
        if written is None or amount is None:
            continue
        converted = Quantity(amount, written).to(unit)
        if converted is not None:
            found.add(converted.value.normalize())
    return Quantity(found.pop(), unit) if len(found) == 1 else None
