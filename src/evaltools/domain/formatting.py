"""How the reports show numbers: one place, explicit rounding, precisions from the rules.

Computing and showing are separate. Scores and rates are computed by ``evaltools.domain.scoring`` at the
rules' ``decimals``; here they are only shown, each kind at its own ``display`` precision
(``rules.display.money``, ``.score``, ``.rate``, ``.share``), always 四舍五入 (ROUND_HALF_UP on
exact Decimals, never binary floats). The same precisions give Excel its number formats and
its ROUND() places, so the workbook shows what the report shows.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from evaltools.domain.rules import Rules

DASH = "—"
HUNDRED = Decimal(100)


def rounded(value: Decimal, places: int) -> Decimal:
    """``value`` 四舍五入 to ``places`` decimals: 0.125 → 0.13, 0.135 → 0.14."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def shown(value: Decimal, places: tuple[int, int]) -> str:
    """``value`` rounded to the most places, trailing zeros dropped down to the fewest:
    (0, 2) shows 96.00 as "96" and 95.50 as "95.5"; (2, 2) always shows two decimals."""
    fewest, most = places
    text = f"{rounded(value, most):f}"
    if most > fewest and "." in text:
        whole, decimals = text.split(".")
        decimals = decimals.rstrip("0").ljust(fewest, "0")
        text = f"{whole}.{decimals}" if decimals else whole
    return text



def number(value: Decimal | None) -> float | None:
    """A computed value for machines (JSON, DataFrames): a number, exact to the rules' decimals."""
    return None if value is None else float(value)


def percent_number(rate: Decimal | None) -> float | None:
    """A rate (a fraction) for machines, in percent: 1 → 100.0."""
    return None if rate is None else float(rate * HUNDRED)


def money(value: Decimal | None, rules: Rules) -> str:
    """万元 or 元 as the forms print them: 106.62, 1066200.00; "—" when unknown."""
    return DASH if value is None else shown(value, rules.display.money)


def score(value: Decimal | None, rules: Rules) -> str:
    """A score or 总分: 96 (at the default "0-2"), 95.5."""
    return DASH if value is None else shown(value, rules.display.score)


def percent(rate: Decimal | None, rules: Rules) -> str:
    """A rate (a fraction) in percent: 1 → "100%", 0.995 → "99.5%"; "—" when there is none."""
    return DASH if rate is None else f"{shown(rate * HUNDRED, rules.display.rate)}%"


def share(part: Decimal, whole: Decimal, rules: Rules) -> str:
    """``part`` as a percentage of ``whole`` (the 占比 of a spending item); "—" of nothing."""
    return f"{shown(part / whole * HUNDRED, rules.display.share)}%" if whole else DASH


def share_value(part: Decimal, whole: Decimal, rules: Rules) -> Decimal:
    """The share as a number, rounded as :func:`share` shows it (for charts' bars)."""
    return rounded(part / whole * HUNDRED, rules.display.share[1]) if whole else Decimal(0)


def excel_format(kind: str, rules: Rules) -> str:
    """The number format of a kind of quantity: "0.00", or "0.00%" for rates.

    Excel has no format that drops trailing zeros, so a precision of "0-2" becomes General for
    scores (their values are already rounded to the computing precision) and, for rates, "100%"
    for a whole 100 % and the most places otherwise."""
    fewest, most = {"money": rules.display.money, "score": rules.display.score, "rate": rules.display.rate,
                    "weight": rules.display.score}[kind]
    digits = "0." + "0" * most if most else "0"
    if kind == "rate":
        return f"[=1]0%;{digits}%" if fewest < most else digits + "%"
    return "General" if fewest < most else digits


def grade_floor(rules: Rules) -> Decimal:
    """The lowest passing bound (the lowest band above zero): below it a total is shown as failing."""
    bounds = sorted(band.min for band in rules.grades if band.min > 0)
    return bounds[0] if bounds else Decimal(0)
