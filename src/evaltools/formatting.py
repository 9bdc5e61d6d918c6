"""How the reports show numbers: one place, explicit rounding, precisions from the rules.

Computing and showing are separate. Scores and rates are computed by ``evaltools.scoring`` at the
rules' ``decimals``; here they are only shown, each kind at its own ``display`` precision
(``rules.display.money``, ``.score``, ``.rate``, ``.share``), always 四舍五入 (ROUND_HALF_UP on
exact Decimals, never binary floats). The same precisions give Excel its number formats and
its ROUND() places, so the workbook shows what the report shows.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from evaltools.rules import Rules

DASH = "—"
HUNDRED = Decimal(100)


def rounded(value: Decimal, places: int) -> Decimal:
    """``value`` 四舍五入 to ``places`` decimals: 0.125 → 0.13, 0.135 → 0.14."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _fixed(value: Decimal, places: int) -> str:
    return f"{rounded(value, places):f}"


def money(value: Decimal | None, rules: Rules) -> str:
    """万元 or 元 as the forms print them: 106.62, 1066200.00; "—" when unknown."""
    return DASH if value is None else _fixed(value, rules.display.money)


def score(value: Decimal | None, rules: Rules) -> str:
    """A score or 总分: 96.00."""
    return DASH if value is None else _fixed(value, rules.display.score)


def percent(rate: Decimal | None, rules: Rules) -> str:
    """A rate (a fraction) in percent: 1 → "100.00%"; "—" when there is none."""
    return DASH if rate is None else f"{_fixed(rate * HUNDRED, rules.display.rate)}%"


def share(part: Decimal, whole: Decimal, rules: Rules) -> str:
    """``part`` as a percentage of ``whole`` (the 占比 of a spending item); "—" of nothing."""
    return f"{_fixed(part / whole * HUNDRED, rules.display.share)}%" if whole else DASH


def share_value(part: Decimal, whole: Decimal, rules: Rules) -> Decimal:
    """The share as a number, rounded as :func:`share` shows it (for charts' labels)."""
    return rounded(part / whole * HUNDRED, rules.display.share) if whole else Decimal(0)


def excel_format(kind: str, rules: Rules) -> str:
    """The number format of a kind of quantity: "0.00", or "0.00%" for rates."""
    places = {"money": rules.display.money, "score": rules.display.score, "rate": rules.display.rate,
              "weight": rules.display.score}[kind]
    digits = "0." + "0" * places if places else "0"
    return digits + "%" if kind == "rate" else digits


def grade_floor(rules: Rules) -> Decimal:
    """The lowest passing bound (the lowest band above zero): below it a total is shown as failing."""
    bounds = sorted(band.min for band in rules.grades if band.min > 0)
    return bounds[0] if bounds else Decimal(0)
