"""The 公文 rules of the Typst PDF that hold across pages, as a reader sees them: a label broken
between its terms with its score whole on a line of its own, a form's 总分 never alone on a
page, and a narrative row running onto a new page showing its labels there.

Nothing is mocked: every PDF is compiled by the typst wheel and read back with poppler (the
helpers are tests/test_typst.py's).
"""

import re
import shutil
from pathlib import Path

import pytest

from evaltools.writers import typst_lines
from evaltools.writers.pdf import notebook_to_pdf

from conftest import SEED_DEPARTMENT
from test_typst import (  # noqa: F401  (seed_pdfs: the seed's two PDFs, a fixture)
    _many_indicators, _pages, _segments, lone_characters, notebook_of, pdftotext, seed_pdfs, squeeze,
)

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")



# --- labels break where a reader would ------------------------------------------------------------


def test_a_label_breaks_between_its_terms_and_before_its_bracketed_score():
    # （10分） is 4.04 ems: its digits 0.48 and 0.56 of an em
    assert typst_lines.label_lines("满意度指标（10分）", 4.1 * 9, 9) == (["满意度", "指标", "（10分）"], 0.0)  # not 满意度指/标
    assert typst_lines.label_lines("满意度指标（10分）", 5 * 9, 9) == (["满意度指标", "（10分）"], 0.0)
    assert typst_lines.label_lines("项目资金（万元）", 4 * 9, 9) == (["项目资金", "（万元）"], 0.0)
    assert typst_lines.label_lines("服务对象满意度指标", 4 * 9, 9) == (["服务对象", "满意度", "指标"], 0.0)
    assert typst_lines.label_lines("服务对象满意度指标", 5 * 9, 9) == (["服务对象", "满意度指标"], 0.0)
    assert typst_lines.label_lines("经济效益指标", 3 * 9, 9) == (["经济效", "益指标"], 0.0)  # as few lines as Typst's
    assert typst_lines.label_lines("经济效益指标", 3 * 9, 9, most=3) == (["经济", "效益", "指标"], 0.0)  # the row is that tall
    assert typst_lines.label_lines("产出指标（50分）", 8.2 * 9, 9) is None  # on one line (8.12 ems)


def _cell_lines(pdf: bytes | Path) -> list[str]:
    return [s[4] for page in range(1, _pages(pdf) + 1) for s in _segments(pdf, page)]


def _split_brackets(lines: list[str], labels: set[str]) -> list[str]:
    """Lines that hold a label's bracketed score with part of its name before it (「标（10分）」),
    or split the bracket group (「（10」)."""
    groups = {re.search(r"（[^（）]+）$", label)[0] for label in labels}
    return [line for line in lines
            if (any(line.endswith(g) and line != g and line not in labels for g in groups))
            or re.search(r"（\d*$", line)]


@pytest.mark.parametrize("form", [True, False], ids=["form page", "report page"])
def test_first_and_second_level_labels_keep_their_score_whole_on_a_line_of_its_own(form):
    """一级/二级 labels of 4 to 12 characters with 「（n分）」 in narrow columns: the score on a
    line of its own, whole; no line of the name one character alone."""
    from evaltools.document.parts import section, table, td, tr

    names = ["产出指标", "满意度指标", "经济效益指标", "社会公众满意度", "可持续影响指标", "服务对象满意度指标",
             "生态环境效益指标", "项目资金到位及时率", "政府采购执行规范性", "部门整体支出绩效评价", "项目实施方案可行性分析",
             "预算执行率及资金使用效益"]
    assert {len(name) for name in names} == set(range(4, 13))
    labels = [f"{name}（{10 + i}分）" for i, name in enumerate(names)]
    tables = [table(*(tr(td(label, cls="label"), td(label), td("说明" * 12)) for label in labels),
                    colgroup=(narrow, narrow + 2, 100 - 2 * narrow - 2), cls="grid form" if form else "grid")
              for narrow in (5, 6, 8)]
    pdf = notebook_to_pdf(notebook_of(*([section(*tables, cls="form-page")] if form else tables)))
    lines = _cell_lines(pdf)
    assert _split_brackets(lines, set(labels)) == []
    assert sum(line in {re.search(r"（[^（）]+）$", label)[0] for label in labels} for line in lines) > 20
    assert lone_characters(pdf, set(names) | set(labels)) == []


def test_the_seeds_first_level_labels_keep_their_score_whole(request):
    for pdf in request.getfixturevalue("seed_pdfs"):  # the seed's project and department PDFs
        lines = _cell_lines(pdf)
        assert _split_brackets(lines, {"产出指标（50分）", "效益指标（30分）", "满意度指标（10分）"}) == []
        assert "（10分）" in lines  # 满意度指标 broken before its score


# --- a total never alone on a page ---------------------------------------------------------------------


def _page_texts(pdf: bytes | Path) -> list[str]:
    return [squeeze(pdftotext(pdf, "-f", str(p), "-l", str(p))) for p in range(1, _pages(pdf) + 1)]


def _rows_with_total(pdf: bytes, names: list[str]) -> list[int]:
    """How many of ``names`` (the indicators) stand on the page of 总分, for each page holding it
    (a name's first line: the text of a row's cells comes out interleaved)."""
    return [sum(name[:4] in text for name in names) for text in _page_texts(pdf) if "总分" in text]


def test_the_project_forms_total_is_never_alone_on_a_page(seed):
    """The 自评表 with 4 to 15 indicators more: wherever its page breaks, 总分 has an indicator
    row beside it, and at some length (6 more: 总分 alone on the second page, before) the last
    row goes over with it."""
    from evaltools.document import tables
    from evaltools.document.parts import section
    from evaltools.domain.scoring import score

    beside = []
    for count in range(4, 16):
        params = _many_indicators(seed, count)
        form = tables.self_evaluation_form(params, score(params, seed.rules), seed.rules)
        pdf = notebook_to_pdf(notebook_of(section(form, cls="form-page")))
        names = [i.name for i in params.indicators]
        rows = _rows_with_total(pdf, names)
        assert rows and all(n >= 1 for n in rows), (count, rows)
        beside.append((_pages(pdf), rows[0]))
    assert any(pages > 1 and rows == 1 for pages, rows in beside), beside  # the break fell at the end


def test_the_department_forms_total_is_never_alone_on_a_page():
    from evaltools.document.department_report import DepartmentReport

    beside = []
    for count in range(28, 44, 1):
        many = [{"level1": "产出指标", "level2": "数量指标", "name": f"第{i}项数量", "target": "≥95%", "actual": "100%",
                 "weight": 1, "score": 1} for i in range(count)]
        report = DepartmentReport.load(SEED_DEPARTMENT / "_department.yaml", {"indicators": many})
        pdf = notebook_to_pdf(notebook_of(report.self_evaluation_form()))
        texts = _page_texts(pdf)
        total = [t for t in texts if "总分" in t]
        # the form's last rows are its 满意度 row (blank, its 二级 named) and 总分
        assert total and all("服务对象" in t or re.search(r"第\d+项数量", t) for t in total), count
        beside.append(len(texts))
    assert max(beside) > min(beside)  # the lengths tried run over a page break


# --- a narrative row running onto a new page shows its label there ----------------------------------


def test_a_narrative_row_broken_across_pages_shows_its_labels_on_each_page():
    from evaltools.document.tables import labelled_rows

    long = "".join(f"第{i}句：推进公共资源交易全流程电子化，保障交易平台运行稳定。" for i in range(150))
    rows = labelled_rows([("基本情况", "项目基本情况的说明。" * 30),
                          ("项目执行情况", [("项目完成情况", long), ("资金投入情况", "资金到位。")])])
    pdf = notebook_to_pdf(notebook_of(rows))
    texts = _page_texts(pdf)
    holding = [t for t in texts if re.search(r"第\d+句", t)]
    assert len(holding) >= 3  # the row runs over two page breaks
    assert all("项目完成情况" in t and "项目执行情况" in t for t in holding), [t[:40] for t in holding]
    assert all(f"第{i}句" in "".join(texts) for i in range(150))  # nothing of the narrative lost
    single = notebook_to_pdf(notebook_of(labelled_rows([("项目完成情况", long)])))
    assert all("项目完成情况" in t for t in _page_texts(single) if re.search(r"第\d+句", t))
