"""Showing numbers: one helper, 四舍五入 everywhere, precisions from the rules, separate from computing."""

from decimal import Decimal

import pytest

from evaltools import formatting
from evaltools.project_report import ProjectReport
from evaltools.rules import load_rules


@pytest.fixture(scope="module")
def rules():
    return load_rules()


@pytest.mark.parametrize(("value", "shown"), [("0.125", "0.13"), ("0.135", "0.14"), ("2.5", "2.50"), ("106.625", "106.63")])
def test_money_and_scores_round_half_up(rules, value, shown):
    assert formatting.money(Decimal(value), rules) == shown and formatting.score(Decimal(value), rules) == shown


def test_rates_and_shares_round_half_up(rules):
    assert formatting.percent(Decimal("0.0000125"), rules) == "0.00%"
    assert formatting.percent(Decimal("0.123455"), rules) == "12.35%"
    assert formatting.share(Decimal(1), Decimal(8), rules) == "12.50%"
    assert formatting.share(Decimal(1), Decimal(0), rules) == "—" and formatting.money(None, rules) == "—"


def test_display_precision_is_separate_from_computing(tmp_path, rules):
    override = tmp_path / "_rules.yaml"
    override.write_text("display: {score: 0, rate: 1, money: 1}\n", encoding="utf-8")
    shown = load_rules(override)
    assert shown.decimals == rules.decimals == 2  # computing is unchanged
    assert formatting.score(Decimal("96.00"), shown) == "96" and formatting.percent(Decimal(1), shown) == "100.0%"
    assert formatting.money(Decimal("106.62"), shown) == "106.6"
    assert formatting.excel_format("score", shown) == "0" and formatting.excel_format("rate", rules) == "0.00%"


def test_a_rules_file_changes_every_shown_score_of_a_report(workspace):
    department = workspace / "2024" / "xiangxi-ggzy"
    (department / "_rules.yaml").write_text("display: {score: 0}\n", encoding="utf-8")
    report = ProjectReport.load(department / "platform-maintenance.yaml")
    assert report.card.total == Decimal("96.00")
    assert "评分：96　　等级：优" in report.first_page() and "<strong>96</strong>" in report.form()


def test_the_lowest_passing_band_comes_from_the_rules(rules):
    assert formatting.grade_floor(rules) == 60
