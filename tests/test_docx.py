"""The Word edition as a unit prints it: GB/T 9704 pages, the 自评表 on one page, neutral properties.

The reports are made once (the seed project, a 20-indicator copy of it, the seed department),
read back with python-docx for what the file declares (grid, line pitch, footers, row flags,
properties) and printed through LibreOffice for what a unit gets on paper (lines a page,
characters a line, where the page numbers sit, the forms each on one page, glyph sizes).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from docx import Document
from docx.enum.text import WD_LINE_SPACING
from docx.oxml.ns import qn

from evaltools.document.parts import AttachedPdf, Cell, Row, Typography, grid, p, table, td, th, tr
from evaltools.document.typography import STYLES
from evaltools.run.build import run
from evaltools.writers import docx_page
from evaltools.writers.docx import WordWriter
from evaltools.writers.docx_tables import fitted_widths, lines_needed, shortest_widths

from conftest import SEED, SEED_DEPARTMENT, copy_example, word_boxes
from printed import glyph_sizes, needs_office, page_count, page_text, print_to_pdf

A4_HEIGHT = 841.9  # pt
BODY_BOTTOM = A4_HEIGHT - 35 / 25.4 * 72  # the 版心's foot: the page number sits under it
# a line of Chinese text and full-width punctuation only (quotes and dashes print in the Latin face)
CJK_LINE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+")
HANGING = re.compile(r"[、，。；：！？]$")


def twenty_indicators(path: Path) -> Path:
    """The seed with 20 short indicators, 产出 50, 效益 30 and 满意度 10 points shared evenly."""
    data = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    levels = [("产出指标", ["数量指标", "质量指标", "时效指标", "成本指标"], 50, 10),
              ("效益指标", ["社会效益指标", "经济效益指标"], 30, 8), ("满意度指标", ["服务对象满意度指标"], 10, 2)]
    rows = []
    for level1, categories, weight, count in levels:
        each = Decimal(weight) / count
        for i in range(count):
            rows.append({"level1": level1, "level2": categories[i % len(categories)],
                         "name": f"运维服务指标（{len(rows) + 1}）", "target": "≥95%", "actual": "96.5%，完成",
                         "weight": f"{each:.2f}", "score": f"{each:.2f}"})
    data["indicators"] = rows
    data.pop("declared", None)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def word(tmp_path_factory):
    """Each report's Word file and its print: {name: (docx, pdf)}."""
    out = tmp_path_factory.mktemp("word")
    params = copy_example(tmp_path_factory.mktemp("twenty"))
    twenty = twenty_indicators(params / "2024" / "xiangxi-ggzy" / "platform-maintenance.yaml")
    made = {}
    for name, source in (("seed", SEED), ("twenty", twenty), ("department", SEED_DEPARTMENT / "_department.yaml")):
        docx = run(source, ["docx"], out_root=out / name).files["docx"]
        made[name] = docx
    return made


@pytest.fixture(scope="module")
def printed(word, tmp_path_factory):
    folder = tmp_path_factory.mktemp("printed")
    return {name: print_to_pdf(docx, folder / name) for name, docx in word.items()}


def lines_of(pdf: Path, page: int) -> list[tuple[float, float, str]]:
    """The printed lines of a page above the page number: (top, left, text), top to bottom."""
    rows: dict[int, list] = defaultdict(list)
    for text, x0, y0, _, y1 in word_boxes(pdf, page):
        if y1 < BODY_BOTTOM:
            rows[round(y1)].append((x0, y0, text))
    return [(min(y for _, y, _ in words), min(x for x, _, _ in words), "".join(t for _, _, t in sorted(words)))
            for _, words in sorted(rows.items())]


def form_pages(pdf: Path, first: str, last: str) -> list[int]:
    """The pages from the one that shows ``first`` to the one that shows ``last``."""
    texts = [re.sub(r"\s", "", page_text(pdf, page)) for page in range(1, page_count(pdf) + 1)]
    start = next(i for i, text in enumerate(texts) if first in text)
    end = next(i for i, text in enumerate(texts) if i >= start and last in text)
    return list(range(start + 1, end + 2))


# --- what the file declares ---------------------------------------------------------------------


def test_body_pages_are_set_on_the_gbt_9704_grid(word):
    document = Document(word["seed"])
    section = document.sections[0]
    assert [round(m.mm) for m in (section.top_margin, section.bottom_margin, section.left_margin,
                                  section.right_margin)] == [37, 35, 28, 26]
    grid = section._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:type")) == "linesAndChars" and grid.get(qn("w:linePitch")) == "579"
    # 28 characters of 三号 less the grid's spacing fill the 156 mm line, 29 would not
    pitch = 16 + int(grid.get(qn("w:charSpace"))) / 4096
    assert 28 * pitch <= 156 / 25.4 * 72 < 29 * pitch
    normal = document.styles["Normal"].paragraph_format
    assert normal.line_spacing_rule == WD_LINE_SPACING.EXACTLY and round(normal.line_spacing.pt, 2) == 28.95
    assert normal.space_after.pt == 0 and normal.space_before.pt == 0  # not the template's 10 pt after
    for level in (2, 3, 4):  # 一、 （一） 1. indented two characters, in 三号
        assert document.styles[f"Heading {level}"].paragraph_format.first_line_indent.pt == 32
    assert not document.styles["Heading 2"].font.bold  # 黑体 is bold enough: as the PDF sets it


def test_page_numbers_are_4hao_odd_right_even_left_and_none_on_the_cover(word):
    document = Document(word["seed"])
    assert document.settings.odd_and_even_pages_header_footer
    section = document.sections[0]
    assert section.different_first_page_header_footer and not section.first_page_footer.paragraphs[0].text
    odd, even = section.footer.paragraphs[0], section.even_page_footer.paragraphs[0]
    assert odd.alignment == 2 and even.alignment == 0  # right, left
    for paragraph in (odd, even):
        assert "PAGE" in paragraph._p.xml and paragraph.text.startswith("— ") and paragraph.text.endswith(" —")
        assert {run.font.size.pt for run in paragraph.runs} == {STYLES["page-number"].size} == {14}


def test_a_document_without_a_cover_is_numbered_from_its_first_page_in_word_too():
    """The year overview's Word, as its PDF: page 1 is its text, and numbered."""
    import io

    from test_typst import notebook_of

    from evaltools.document.parts import Heading, Paragraph
    from evaltools.writers.docx import WordReportExporter

    made, _ = WordReportExporter().from_notebook_node(notebook_of(Heading(1, "年度总览", style="report-title"), Paragraph(["正文。"])))
    assert not Document(io.BytesIO(made)).sections[0].different_first_page_header_footer


def test_cells_open_with_their_text_and_only_a_forms_rows_never_split(word):
    document = Document(word["seed"])
    for ruled in (t for t in document.tables if t.style.name == "Table Grid"):  # sign-offs are kept whole
        form = ruled._tbl.tblPr.find(qn("w:tblCellMar")) is not None
        for r, row in enumerate(ruled.rows):
            heading = row._tr.trPr is not None and row._tr.trPr.find(qn("w:tblHeader")) is not None
            whole = row._tr.trPr is not None and row._tr.trPr.find(qn("w:cantSplit")) is not None
            assert whole == (heading or form), (r, row.cells[0].text)
            if heading:  # the label row keeps with the first row under it
                assert all(p.paragraph_format.keep_with_next for c in row.cells for p in c.paragraphs)
            for cell in row.cells:
                assert cell.paragraphs[0].text or len(cell.paragraphs) == 1, cell.text[:20]
    goal = next(c for t in document.tables for row in t.rows for c in row.cells if c.text.startswith("全面推进"))
    assert goal.paragraphs[0].text.startswith("全面推进")


def test_the_document_is_the_units_not_the_tools(word):
    properties = Document(word["seed"]).core_properties
    assert properties.title == "2024年度“公共资源交易平台运行维护费”项目支出绩效自评报告"
    assert properties.author == properties.last_modified_by == "湘西土家族苗族自治州公共资源交易中心"
    assert "python-docx" not in (properties.comments + properties.author + properties.last_modified_by)
    assert properties.created.year == 2025 and properties.created == properties.modified
    with zipfile.ZipFile(word["seed"]) as package:
        names = package.namelist()
        app = package.read("docProps/app.xml").decode("utf-8")
    assert not [n for n in names if "thumbnail" in n]  # no blank template page as the file's preview
    assert "Macintosh" not in app and "<Company>湘西土家族苗族自治州公共资源交易中心</Company>" in app
    department = Document(word["department"]).core_properties
    assert (department.created.year, department.created.month) == (2025, 4)  # 报告时间 2025-04


def test_report_dates_are_read_as_a_unit_writes_them():
    assert docx_page.report_date("2025-04-23").day == 23
    assert (docx_page.report_date("2025年4月").month, docx_page.report_date("2025年4月").day) == (4, 1)
    assert docx_page.report_date("") is None and docx_page.report_date("2025年13月") is None


def test_word_follows_the_roles_where_the_pdf_does():
    writer = WordWriter()
    writer.typography(Typography({"heading1": ["方正黑体_GBK"]}))
    for part in (p("某单位", cls="cover-unit"), p("附件2", cls="attachment-label"), p("自评表", cls="form-title"),
                 p("表 1  各项目得分", cls="table-caption keep-next"),
                 table(tr(th("指标")), tr(td("106.62", cls="num")), cls="grid form")):
        writer.block(writer.document, part)
    document = Document(io.BytesIO(writer.to_bytes("t")))
    unit, label, title, caption = document.paragraphs[:4]
    eastasia = [r._element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) for r in (unit.runs[0], label.runs[0])]
    assert eastasia == ["方正黑体_GBK", "方正黑体_GBK"]  # the unit's heading face, as in the PDF
    assert title.runs[0].font.size.pt == 16 and title.runs[0].bold
    assert caption.paragraph_format.keep_with_next  # a caption is never a page's last line
    cell = document.tables[0].cell(1, 0).paragraphs[0]
    assert cell.runs[0].font.size.pt == STYLES["form"].in_word("size") >= 10.5


# --- what a unit gets on paper ------------------------------------------------------------------


@needs_office
def test_a_full_body_page_prints_22_lines_of_28_characters(printed):
    pdf = printed["seed"]
    counts, widths = [], Counter()
    for page in range(2, page_count(pdf) + 1):
        lines = lines_of(pdf, page)
        pitches = {round(b[0] - a[0]) for a, b in zip(lines, lines[1:], strict=False)}
        if pitches == {29}:  # body text only: every line at the 28.95 pt pitch
            counts.append(len(lines))
            # a comma or a stop may hang past the line's end, as in print: it is not the 29th character
            widths.update(len(HANGING.sub("", text)) for _, _, text in lines if CJK_LINE.fullmatch(text))
    assert len(counts) >= 5 and max(counts) == 22 and Counter(counts).most_common(1)[0][0] == 22
    assert max(widths) == 28 and widths[28] >= 10  # lines of Chinese text run to 28 characters, never 29


@needs_office
def test_page_numbers_print_odd_right_even_left(printed):
    pdf = printed["seed"]
    for page in range(2, 8):
        [(x0, x1)] = [(b[1], b[3]) for b in word_boxes(pdf, page) if b[2] > BODY_BOTTOM and b[0] == str(page)]
        if page % 2:
            assert x0 > 400, page  # right, a character in from the 版心's edge
        else:
            assert x1 < 200, page
    assert glyph_sizes(pdf, 2)[14.0] >= 3  # "— 2 —" in 4号


@needs_office
@pytest.mark.parametrize("name", ["seed", "twenty"])
def test_the_self_evaluation_form_prints_on_one_page_in_5hao(printed, name):
    pdf = printed[name]
    [page] = form_pages(pdf, "项目支出绩效自评表（2024年度）", "单位负责人签字")
    text = re.sub(r"\s", "", page_text(pdf, page))
    assert "项目支出绩效自评表" in text and "年度总体目标" in text and "总分" in text and "说明" in text
    if name == "twenty":
        assert "（1）" in text and "（20）" in text
    sizes = glyph_sizes(pdf, page)
    assert min(sizes) >= 10.5, sizes
    assert page == page_count(pdf)  # nothing after it: no empty page closes the document


@needs_office
def test_each_department_form_starts_a_page_and_prints_whole(printed):
    pdf = printed["department"]
    for label, last in (("附件1-2", "填报日期"), ("附件1-3", "总分")):
        pages = form_pages(pdf, label, last)
        assert len(pages) == 1, label
        assert re.sub(r"\s", "", page_text(pdf, pages[0])).startswith(label)
        assert min(glyph_sizes(pdf, pages[0])) >= 10.5, label


def test_a_forms_label_columns_widen_only_where_the_form_gets_shorter():
    short = [Row([Cell(["数量指标"]), Cell(["培训人次（1）"]), Cell(["完成"])]) for _ in range(20)]
    placed, _ = grid(short)
    base = fitted_widths([6, 16, 78], placed, 18.0, 10.5, 0.23)
    chosen = shortest_widths([6, 16, 78], placed, 18.0, 10.5, 0.23)
    assert lines_needed(base, placed, 10.5, 0.23) > 20 == lines_needed(chosen, placed, 10.5, 0.23)  # a line a row
    assert chosen[0] > base[0] and chosen[2] < base[2]  # the room from the column with the most to spare
    # long texts in the wide column: no widening that would make the form longer than its proportions
    long = [Row([Cell(["数量指标"]), Cell(["指标"]), Cell(["全面推进公共资源交易全流程电子化，" * 6])])]
    placed, _ = grid(long)
    assert shortest_widths([6, 16, 78], placed, 18.0, 10.5, 0.23) == fitted_widths([6, 16, 78], placed, 18.0, 10.5, 0.23)


def test_a_pdf_attached_as_it_is_is_named_where_it_stands():
    writer = WordWriter()
    writer.block(writer.document, AttachedPdf("领导批示", b"%PDF-1.4", "附件3 领导批示见所附 scan.pdf"))
    document = Document(io.BytesIO(writer.to_bytes("t")))
    assert [p.text for p in document.paragraphs if p.text] == ["附件3 领导批示见所附 scan.pdf"]


def test_markdown_nested_past_the_parsers_limit_keeps_every_line():
    import nbformat

    from evaltools.document.parts import Markdown
    from evaltools.writers.docx import WordReportExporter

    deep = "".join("  " * i + f"- 层{i}\n" for i in range(30)) + "\n之后的段落\n"
    cell = nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output("display_data", data=Markdown(deep)._repr_mimebundle_())])
    docx, _ = WordReportExporter().from_notebook_node(nbformat.v4.new_notebook(cells=[cell]))
    text = "\n".join(p.text for p in Document(io.BytesIO(docx)).paragraphs)
    assert all(f"层{i}" in text for i in range(30)) and "之后的段落" in text


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n", b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"not an image"],
                         ids=["short", "svg", "text"])
def test_an_image_word_cannot_show_is_named_not_fatal(data):
    """A cell's image output is anyone's bytes."""
    import base64

    import nbformat

    from evaltools.writers.docx import WordReportExporter

    output = nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(data).decode()})
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[output])])
    docx, _ = WordReportExporter().from_notebook_node(notebook)
    assert "[图片：]" in [p.text for p in Document(io.BytesIO(docx)).paragraphs]


def test_an_image_in_a_narrative_is_named_in_word_not_dropped():
    import nbformat

    from evaltools.document.parts import Markdown
    from evaltools.writers.docx import WordReportExporter

    text = "见图 ![流程图](data:image/png;base64,iVBORw0KGgo=) 与 ![照片](http://example.invalid/a.png) 之后"
    cell = nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output("display_data", data=Markdown(text)._repr_mimebundle_())])
    docx, _ = WordReportExporter().from_notebook_node(nbformat.v4.new_notebook(cells=[cell]))
    said = "\n".join(p.text for p in Document(io.BytesIO(docx)).paragraphs)
    assert "见图 [图片：流程图] 与 [图片：照片 http://example.invalid/a.png] 之后" in said
