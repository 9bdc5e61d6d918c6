"""Charts: Chinese labels with a real CJK font, the same bytes for the same data, bands from the rules."""

import warnings

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
