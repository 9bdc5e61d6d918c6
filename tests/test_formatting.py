"""Showing numbers: one helper, 四舍五入 everywhere, precisions from the rules, separate from computing."""

from decimal import Decimal

import pytest

from evaltools.domain import formatting
from evaltools.document.project_report import ProjectReport
from evaltools.domain.rules import load_rules
from evaltools.domain.yamlio import ParamsError
from evaltools.writers.html_parts import html


@pytest.fixture(scope="module")
def rules():
    return load_rules()


@pytest.fixture(scope="module")
def seed_report(seed):
    return ProjectReport.of(seed)


@pytest.mark.parametrize(("value", "money", "score"), [("0.125", "0.13", "0.13"), ("0.135", "0.14", "0.14"),
                                                       ("2.5", "2.50", "2.5"), ("106.625", "106.63", "106.63"),
                                                       ("96.00", "96.00", "96"), ("95.996", "96.00", "96")])
def test_money_and_scores_round_half_up(rules, value, money, score):
    """Money always with two decimals; scores as the form writes them: 96, 95.5, 0.13."""
    assert formatting.money(Decimal(value), rules) == money and formatting.score(Decimal(value), rules) == score


def test_rates_and_shares_round_half_up(rules):
    assert formatting.percent(Decimal("0.0000125"), rules) == "0%"
    assert formatting.percent(Decimal("0.123455"), rules) == "12.35%"
    assert formatting.percent(Decimal(1), rules) == "100%" and formatting.percent(Decimal("0.995"), rules) == "99.5%"
    assert formatting.share(Decimal(1), Decimal(8), rules) == "12.50%"
    assert formatting.share(Decimal(1), Decimal(0), rules) == "—" and formatting.money(None, rules) == "—"


def test_display_precision_is_separate_from_computing(tmp_path, rules):
    override = tmp_path / "_rules.yaml"
    override.write_text("display: {score: 0, rate: 1, money: 1}\n", encoding="utf-8")
    shown = load_rules(override)
    assert shown.decimals == rules.decimals == 2  # computing is unchanged
    assert formatting.score(Decimal("96.00"), shown) == "96" and formatting.percent(Decimal(1), shown) == "100.0%"
    assert formatting.money(Decimal("106.62"), shown) == "106.6"
    assert formatting.excel_format("score", shown) == "0" and formatting.excel_format("rate", shown) == "0.0%"
    assert formatting.excel_format("score", rules) == "General" and formatting.excel_format("rate", rules) == "[=1]0%;0.00%"


@pytest.mark.parametrize("bad", ["3-1", "two", "0-9", -1])
def test_a_display_precision_is_a_number_or_a_range(tmp_path, bad):
    override = tmp_path / "_rules.yaml"
    override.write_text(f"display: {{score: {bad}}}\n", encoding="utf-8")
    with pytest.raises(ParamsError, match="display.score"):
        load_rules(override)


def test_a_parameter_file_changes_each_shown_precision(workspace):
    """options.display in a project file wins over its rules, kind by kind; computing is unchanged."""
    project = workspace / "2024" / "xiangxi-ggzy" / "platform-maintenance.yaml"
    project.write_text(project.read_text(encoding="utf-8") + "\noptions:\n  display: {score: 2, rate: 1, money: 0-2}\n",
                       encoding="utf-8")
    report = ProjectReport.load(project)
    assert report.card.total == Decimal("96.00")
    first_page = html(report.first_page())
    assert "评分：96.00　　等级：优" in first_page and "资金到位率100.0%" in first_page
    assert ">106.62<" in first_page and "<strong>96.00</strong>" in html(report.form())


def test_a_rules_file_changes_every_shown_score_of_a_report(workspace):
    department = workspace / "2024" / "xiangxi-ggzy"
    (department / "_rules.yaml").write_text("display: {score: 2}\n", encoding="utf-8")
    report = ProjectReport.load(department / "platform-maintenance.yaml")
    assert report.card.total == Decimal("96.00")
    assert "评分：96.00　　等级：优" in html(report.first_page()) and "<strong>96.00</strong>" in html(report.form())


def test_the_seed_shows_its_scores_as_the_form_does(seed_report):
    """"评分：96", "得分为96分", row scores 15 and 13, "资金到位率100%": the official forms' display."""
    first_page, form = html(seed_report.first_page()), html(seed_report.form())
    assert "评分：96　　等级：优" in first_page and "资金到位率100%" in first_page
    assert "得分为96分" in str(seed_report.conclusion())
    assert ">15<" in form and ">13<" in form and "<strong>96</strong>" in form and "96.00" not in form


def test_the_lowest_passing_band_comes_from_the_rules(rules):
    assert formatting.grade_floor(rules) == 60
