"""Charts: Chinese labels with a real CJK font, the same bytes for the same data, bands from the rules."""

import functools
import warnings

import pytest

from evaltools.document.charts import cjk_font_family, score_chart, spending_chart
from evaltools.domain.scoring import score
from evaltools.writers.html_parts import html


def test_a_cjk_font_is_registered():
    assert cjk_font_family() is not None and "CJK" in cjk_font_family()


def test_no_missing_glyph_warnings(seed):
    card = score(seed.params, seed.rules)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        score_chart(card, seed.rules)
        spending_chart(seed.params, seed.rules)
    assert not [w for w in caught if "missing" in str(w.message).lower() or "glyph" in str(w.message).lower()]


def test_same_data_same_bytes(seed):
    card = score(seed.params, seed.rules)
    assert score_chart(card, seed.rules) == score_chart(card, seed.rules)


def test_the_alt_text_names_where_points_were_lost(seed):
    chart = score_chart(score(seed.params, seed.rules), seed.rules)
    assert "扣分项：切实保障公共资源交易平台运行稳定（扣2分）" in chart.alt
    assert html(chart).startswith('<figure class="chart"><img src="data:image/png;base64,')
    assert chart.png.startswith(b"\x89PNG")


def test_a_chart_cache_draws_a_chart_once_for_the_same_data_and_again_for_other_data(tmp_path):
    """The year overview is made again after every change of the year: a chart whose data did not
    change is taken from the file, the same part; one whose data changed is drawn."""
    from evaltools.document.charts import ChartCache, grades_by_department_chart

    drawn = []

    def draw(counts):
        drawn.append(counts)
        return grades_by_department_chart(counts)

    kept = tmp_path / "charts.json"
    first = ChartCache(kept).chart(draw, {"甲局": {"优": 2, "良": 1}})
    again = ChartCache(kept).chart(draw, {"甲局": {"优": 2, "良": 1}})
    assert again == first and len(drawn) == 1
    other = ChartCache(kept).chart(draw, {"甲局": {"优": 3, "良": 0}})
    assert other != first and len(drawn) == 2
    assert ChartCache().chart(draw, {"甲局": {"优": 2, "良": 1}}) == first and len(drawn) == 3  # no file: drawn


def test_a_chart_cache_keeps_every_chart_of_a_run_whichever_were_drawn_again(tmp_path):
    from evaltools.document.charts import ChartCache, department_spending_chart, grades_by_department_chart

    kept = tmp_path / "charts.json"
    grades, spending = {"甲局": {"优": 2}}, {"甲局": (10.0, 8.0, "10.00", "8.00")}
    run = ChartCache(kept)
    run.chart(grades_by_department_chart, grades)
    run.chart(department_spending_chart, spending)
    changed = ChartCache(kept)  # the first chart's data changed, the second's did not
    changed.chart(grades_by_department_chart, {"甲局": {"优": 1}})
    changed.chart(department_spending_chart, spending)
    assert len(ChartCache(kept).kept) == 2  # the new first chart and the second: the old first is dropped
    kept.write_text("not json", encoding="utf-8")
    assert ChartCache(kept).kept == {}


def test_a_kept_chart_without_a_chinese_face_still_says_so_and_a_face_installed_draws_it_again(tmp_path, monkeypatch):
    from evaltools.document import charts

    kept, counts = tmp_path / "charts.json", {"甲局": {"优": 2}}
    monkeypatch.setattr(charts, "cjk_font_file", lambda: None)  # no Chinese face on this machine
    with pytest.warns(UserWarning, match="未找到中文字体"):
        charts.ChartCache(kept).chart(charts.grades_by_department_chart, counts)
    with pytest.warns(UserWarning, match="未找到中文字体"):  # taken from the file, it says so again
        charts.ChartCache(kept).chart(charts.grades_by_department_chart, counts)
    monkeypatch.undo()  # a face installed: the chart is another one, drawn again
    drawn = []

    @functools.wraps(charts.grades_by_department_chart)  # the same chart, by name
    def drawing(c):
        drawn.append(c)
        return charts.grades_by_department_chart(c)

    charts.ChartCache(kept).chart(drawing, counts)
    assert drawn == [counts]


@pytest.mark.parametrize("name", ["公共资源交易平台运行维护费", "湘西土家族苗族自治州公共资源交易中心政府采购中心",
                                  "数量：平台运行稳定率", "短名", "2024年度电子化平台建设经费106.62万元",
                                  "某某某某某某某某某某某某某某某某某某某某某某某某某某某某某某某某某某某某某某某某某某某"])
def test_a_bars_name_is_wrapped_whole_in_even_lines_never_one_character_alone(name):
    from evaltools.document.charts import NAME_WIDTH, _names

    [label], _ = _names([name])
    lines = label.split("\n")
    assert "".join(lines) == name and all(len(line) <= NAME_WIDTH for line in lines)
    assert len(lines) == -(-len(name) // NAME_WIDTH) and (len(lines) == 1 or min(map(len, lines)) >= len(name) // len(lines) - 1)
    assert all(len(line) > 1 for line in lines)


@pytest.mark.parametrize("name, lines", [
    ("公共资源交易平台运行维护费", ["公共资源交易", "平台运行维护费"]),  # not 公共资源交易平/台运行维护费
    ("2024年度电子化平台建设经费106.62万元", ["2024年度电子化平台", "建设经费106.62万元"]),  # the amount whole
    ("数量：平台运行稳定率\n达到99%以上", ["数量：平台运行稳定率", "达到99%以上"]),  # its own lines kept
])
def test_a_bars_name_breaks_between_its_words_and_keeps_a_number_with_its_unit(name, lines):
    from evaltools.document.charts import _names

    assert _names([name])[0] == ["\n".join(lines)]


def test_a_name_with_dollar_signs_is_drawn_as_text_not_as_math():
    """A department named 财政$x^2$局: matplotlib set $x^2$ as math, its dollars gone, in the
    overview's chart, where the tables and the index print the name as written."""
    from evaltools.document.charts import _matplotlib, _style

    matplotlib = _matplotlib()
    with matplotlib.rc_context(_style()):
        label = matplotlib.text.Text(text="财政$x^2$局")
        assert label._preprocess_math(label.get_text()) == ("财政$x^2$局", False)
