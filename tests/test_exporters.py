"""One report, every format: HTML, PDF, Word (and the Excel 自评表) hold what the executed notebook holds.

Each report is executed once; what its parts say (headings, numbers, the 自评表's cells) is then
looked for in every format, read back with an HTML parser, pdftotext, python-docx and openpyxl.
The nbconvert entry points are run from the command line, as a user would.
"""

import io
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from docx import Document
from docx.shared import RGBColor
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from openpyxl import load_workbook
from traitlets.config import Config

from evaltools.run.build import run
from evaltools.cli import main
from evaltools.writers.docx import WordReportExporter
from evaltools.writers.html import HtmlReportExporter
from evaltools.writers.html import report_parts
from evaltools.writers.docx import fitted_widths
from evaltools.document.parts import Cell, Heading, Row, Section, Table, grid, walk
from evaltools.writers.xlsx import export_workbook
from evaltools.domain.workspace import load_project

from conftest import ROOT, SEED, SEED_DEPARTMENT, word_boxes

OTHER_FUND = ROOT / "tests" / "fixtures" / "params" / "2024" / "county-sasac" / "state-capital-fund.yaml"
FORMATS = ["html", "pdf", "docx"]
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


def squeeze(text: str) -> str:
    """Table cells wrap anywhere in a PDF: compare text without spaces and line breaks."""
    return re.sub(r"\s+", "", text)


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.chunks: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("style", "title")

    def handle_endtag(self, tag):
        self.skip -= tag in ("style", "title")

    def handle_data(self, data):
        if not self.skip:
            self.chunks.append(data)


def html_text(path: Path) -> str:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return squeeze("".join(parser.chunks))


def pdf_text(path: Path) -> str:
    """The page text as laid out, then the text of each block (a table cell is one block, so a cell
    whose lines sit beside another cell's lines still reads whole), then the text as drawn."""
    def poppler(*args: str) -> str:
        return subprocess.run(["pdftotext", *args, str(path), "-"], capture_output=True, text=True, check=True).stdout

    blocks = re.findall(r"<block[^>]*>(.*?)</block>", poppler("-bbox-layout"), re.S)
    words = ["".join(re.findall(r"<word[^>]*>(.*?)</word>", block)) for block in blocks]
    # and in the order it was drawn (-raw): each cell's lines one after the other
    return squeeze(poppler("-layout")) + "|" + "|".join(unescape(w) for w in words) + "|" + squeeze(poppler("-raw"))


def docx_text(path: Path) -> str:
    document = Document(path)

    def tables(items):
        for table in items:
            for row in table.rows:
                for cell in row.cells:
                    yield cell.text
                    yield from tables(cell.tables)

    return squeeze("".join([p.text for p in document.paragraphs] + list(tables(document.tables))))


def docx_headings(path: Path) -> list[str]:
    return [p.text for p in Document(path).paragraphs if p.style.name.startswith("Heading") or p.style.name == "报告标题"]


def parts_of(notebook_path: Path) -> list:
    notebook = nbformat.read(notebook_path, as_version=4)
    return [part for cell in notebook.cells for _, part in report_parts(cell)]


def headings(parts) -> list[str]:
    return [node.text for part in parts for node in walk(part) if isinstance(node, Heading)]


def form_cells(parts) -> list[Cell]:
    """Every non-empty cell of the tables of the report's attachments (the 自评表, 附件1-2/1-3)."""
    found = []
    for part in parts:
        for node in walk(part):
            if isinstance(node, Section) and "attachment" in (node.style or "").split():
                for table in (n for n in walk(node) if isinstance(n, Table)):
                    found += [c for row in table.head + table.rows for c in row.cells if c.text.strip()]
    return found


def shown(cell: Cell) -> str:
    """What of a cell must be found verbatim: short cells whole, long text by its start (a PDF
    table may interleave the lines of two long cells side by side)."""
    return squeeze(cell.text)[:10]


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    out = tmp_path_factory.mktemp("formats")
    made = {path: run(path, FORMATS, out_root=out) for path in (SEED, OTHER_FUND, SEED_DEPARTMENT / "_department.yaml")}
    for path in (SEED, OTHER_FUND):
        project = load_project(path)
        made[path].files["xlsx"] = export_workbook([(project.params, project.rules)], made[path].folder / "form.xlsx")
    return made


@needs_poppler
@pytest.mark.parametrize(("source", "numbers"), [
    (SEED, ["106.62", "1066200.00", "100%", "评分：96", "得分为96分", "等级：优", "产出指标（50分）"]),
    (OTHER_FUND, ["50.00", "40.00", "80%", "评分：98", "国有资本经营预算支出绩效自评表", "产出指标（50分）"]),
], ids=["seed", "state-capital"])
def test_a_project_report_says_the_same_in_html_pdf_and_word(reports, source, numbers):
    outputs = reports[source]
    parts = parts_of(outputs.notebook)
    expected_headings = headings(parts)
    cells = form_cells(parts)
    assert {"一、项目概况", "1、年度总体目标", "2、目标分解绩效指标", "十、附件"} <= set(expected_headings)
    assert len(cells) > 40
    texts = {"html": html_text(outputs.files["html"]), "pdf": pdf_text(outputs.files["pdf"]),
             "docx": docx_text(outputs.files["docx"])}
    for kind, text in texts.items():
        missing = [h for h in expected_headings if squeeze(h) not in text]
        assert not missing, f"{kind} lacks headings {missing}"
        missing = [c.text for c in cells if shown(c) not in text]
        assert not missing, f"{kind} lacks 自评表 cells {missing}"
        assert all(squeeze(n) in text for n in numbers), kind
    word_headings = docx_headings(outputs.files["docx"])
    assert all(h in word_headings for h in expected_headings if not h.startswith(("项目基本情况", "评价人员")))


@pytest.mark.parametrize("source", [SEED, OTHER_FUND], ids=["seed", "state-capital"])
def test_the_excel_form_holds_the_cells_of_the_report_form(reports, source):
    outputs = reports[source]
    parts = parts_of(outputs.notebook)
    form = next(n for p in parts for n in walk(p) if isinstance(n, Section) and n.style == "self-evaluation-form")
    cells = [c for t in form.children if isinstance(t, Table) for r in t.head + t.rows for c in r.cells if c.text]
    sheet = load_workbook(outputs.files["xlsx"]).worksheets[0]
    values = [v for row in sheet.iter_rows(values_only=True) for v in row if v is not None]
    numbers = {Decimal(str(v)).quantize(Decimal("0.01")) for v in values if isinstance(v, int | float)}
    texts = {str(v) for v in values}
    for cell in cells:
        if cell.value is not None:
            assert Decimal(cell.value).quantize(Decimal("0.01")) in numbers or cell.name, cell.text
        else:
            assert cell.text in texts or cell.text.startswith(("等级", "—")), cell.text
    columns = max(t.columns for t in form.children if isinstance(t, Table))
    assert sheet.max_column == columns + 2  # the form's columns, then evaltools' 数值 and 档次


def test_the_form_follows_the_fund_type_in_every_format(reports):
    outputs = reports[OTHER_FUND]
    note = "每个一级国有资本经营预算支出填写一张国有资本经营预算支出绩效自评表"
    assert note in html_text(outputs.files["html"]) and note in docx_text(outputs.files["docx"])
    assert "一般公共预算" not in docx_text(outputs.files["docx"])
    word_form = Document(outputs.files["docx"]).tables[-1]
    assert len(word_form.columns) == 8  # 附件1-6 has no 偏差原因 column, in Word as in HTML
    sheet = load_workbook(outputs.files["xlsx"]).worksheets[0]
    assert any(note in str(v) for row in sheet.iter_rows(values_only=True) for v in row if v)


@needs_poppler
def test_the_department_report_says_the_same_in_html_pdf_and_word(reports):
    outputs = reports[SEED_DEPARTMENT / "_department.yaml"]
    parts = parts_of(outputs.notebook)
    expected_headings = headings(parts)
    cells = form_cells(parts)
    assert {"一、基本情况", "十一、其他需要说明的问题"} <= set(expected_headings) and len(cells) > 40
    numbers = ["1505.04", "1333.32", "171.72", "106.62", "95.56%"]
    for kind in FORMATS:
        text = {"html": html_text, "pdf": pdf_text, "docx": docx_text}[kind](outputs.files[kind])
        assert not [h for h in expected_headings if squeeze(h) not in text], kind
        assert not [c.text for c in cells if shown(c) not in text], kind
        assert all(n in text for n in numbers), kind


def test_word_tables_keep_merged_cells_and_repeat_their_header(reports):
    form = Document(reports[SEED].files["docx"]).tables[-1]  # the 自评表's indicator block
    first = 1  # the header row, then the indicators
    assert form.cell(first, 1)._tc is form.cell(first + 3, 1)._tc  # 产出指标 over four rows
    assert form.cell(first + 4, 1)._tc is form.cell(first + 5, 1)._tc  # 效益指标 over two
    assert form.cell(first, 2)._tc is not form.cell(first + 1, 2)._tc  # distinct 二级 stay apart
    assert form.cell(first, 1).text == "产出指标（50分）" and form.cell(len(form.rows) - 1, 7).text == "96"
    assert "w:tblHeader" in form.rows[0]._tr.xml


def test_word_page_setup_and_fonts(reports):
    document = Document(reports[SEED].files["docx"])
    section = document.sections[0]
    assert round(section.page_width.cm, 1) == 21.0 and round(section.page_height.cm, 1) == 29.7
    assert round(section.top_margin.cm, 1) == 3.7 and round(section.left_margin.cm, 1) == 2.8
    assert "PAGE" in section.footer._element.xml
    assert 'w:eastAsia="仿宋"' in document.styles["Normal"].element.xml
    assert 'w:eastAsia="黑体"' in document.styles["Heading 2"].element.xml  # 一、
    assert 'w:eastAsia="楷体"' in document.styles["Heading 3"].element.xml  # （一）
    assert len(document.inline_shapes) == 0  # the seed has no charts (options.*_chart)
    assert len(Document(reports[OTHER_FUND].files["docx"]).inline_shapes) == 1  # its options ask for the score chart


def _nbconvert(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nbconvert", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_the_nbconvert_entry_points_work_from_the_command_line(reports, tmp_path):
    executed = reports[SEED_DEPARTMENT / "_department.yaml"].notebook
    for exporter in ("evaltools_pdf", "evaltools_docx", "evaltools_html"):
        result = _nbconvert("--to", exporter, str(executed), "--output-dir", str(tmp_path), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    # the same as `evaltools run` / `evaltools render` made
    assert (tmp_path / "report.pdf").read_bytes() == executed.with_suffix(".pdf").read_bytes()
    assert (tmp_path / "report.html").read_text(encoding="utf-8") == executed.with_suffix(".html").read_text(encoding="utf-8")
    assert docx_text(tmp_path / "report.docx") == docx_text(executed.with_suffix(".docx"))


def test_the_review_edition_of_the_pdf_is_an_exporter_setting_on_the_command_line(reports, tmp_path):
    """report.pdf is the submission edition; --PdfReportExporter.edition=review keeps the reviewers' material."""
    executed = reports[SEED].notebook
    result = _nbconvert("--to", "evaltools_pdf", "--PdfReportExporter.edition=review", str(executed),
                        "--output-dir", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    review, submitted = pdf_text(tmp_path / "report.pdf"), pdf_text(executed.with_suffix(".pdf"))
    assert "审核提示" in review and "本报告由程序根据参数生成" in review
    assert "审核提示" not in submitted and "本报告由程序根据参数生成" not in submitted


def test_the_template_works_with_nbconverts_own_html_exporter(reports, tmp_path):
    executed = reports[SEED].notebook
    result = _nbconvert("--to", "html", "--template", "evaltools_report", str(executed), "--output-dir", str(tmp_path),
                        cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<title>2024年度“公共资源交易平台运行维护费”项目支出绩效自评报告</title>" in page
    assert re.search(r"<style>\s*/\* evaltools report", page)  # the report's CSS, not an empty <style>
    # the same page, as nbconvert's HTMLExporter re-serialises every page through BeautifulSoup
    ours = executed.with_suffix(".html").read_text(encoding="utf-8")
    assert page == str(BeautifulSoup(ours, features="html.parser"))


@needs_poppler
def test_a_markdown_cell_added_to_a_notebook_shows_in_every_format(tmp_path, capsys):
    notebook = nbformat.read(ROOT / "notebooks" / "project_self_evaluation.ipynb", as_version=4)
    cover = next(i for i, cell in enumerate(notebook.cells) if "report.cover()" in cell.source)
    notebook.cells.insert(cover + 1, nbformat.v4.new_markdown_cell("**分析员补充**：本段只写在笔记本的副本里。"))
    hidden = nbformat.v4.new_markdown_cell("给分析员的提示：这一段不进入报告。")
    hidden.metadata["tags"] = ["remove_cell"]
    notebook.cells.insert(cover + 2, hidden)
    copy = tmp_path / "copy.ipynb"
    nbformat.write(notebook, copy)
    assert main(["run", str(SEED), "--notebook", str(copy), "--to", "html,pdf,docx", "--out", str(tmp_path / "out")]) == 0
    folder = tmp_path / "out" / "2024" / "xiangxi-ggzy" / "platform-maintenance"
    for kind, read in (("html", html_text), ("pdf", pdf_text), ("docx", docx_text)):
        text = read(folder / f"report.{kind}")
        assert "分析员补充：本段只写在笔记本的副本里。" in text, kind
        assert "给分析员的提示" not in text, kind
    assert "<strong>分析员补充</strong>" in (folder / "report.html").read_text(encoding="utf-8")
    assert any(run.bold and run.text == "分析员补充" for p in Document(folder / "report.docx").paragraphs for run in p.runs)


def test_the_bundled_notebooks_keep_their_notes_to_analysts_out_of_the_report():
    for name in ("project_self_evaluation.ipynb", "department_overall.ipynb"):
        notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
        notes = [cell for cell in notebook.cells if cell.cell_type == "markdown"]
        assert notes and all("remove_cell" in cell.metadata.get("tags", []) for cell in notes)


def test_an_edition_without_reviewers_material_is_a_setting_of_the_exporters(reports):
    """The parts say who they are for; each exporter has an edition (HTML: review, Word and PDF:
    submission), set by ``--XExporter.edition`` or for all by ``PartsPreprocessor.edition``."""
    notebook = nbformat.read(reports[SEED].notebook, as_version=4)
    for exporter, read, default in ((HtmlReportExporter, lambda body: body, "review"),
                                    (WordReportExporter, _docx_bytes_text, "submission")):
        assert exporter().edition == default
        for key in (exporter.__name__, "PartsPreprocessor"):
            review, submission = (Config({key: {"edition": e}}) for e in ("review", "submission"))
            everything = read(exporter(config=review).from_notebook_node(notebook)[0])
            submitted = read(exporter(config=submission).from_notebook_node(notebook)[0])
            assert "审核提示" in everything and "本报告由程序根据参数生成" in everything
            assert "审核提示" not in submitted and "本报告由程序根据参数生成" not in submitted
            assert "一、项目概况" in submitted


def _docx_bytes_text(data: bytes) -> str:
    return "".join(p.text for p in Document(io.BytesIO(data)).paragraphs)


# CI installs LibreOffice (scripts/system-deps.sh --test): there a missing soffice fails rather than skips.
@pytest.mark.skipif(shutil.which("soffice") is None and not os.environ.get("CI"),
                    reason="LibreOffice (soffice) is not installed here")
def test_an_office_suite_converts_the_word_report_to_pdf(reports, tmp_path):
    docx = reports[SEED].files["docx"]
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(docx)],
                   check=True, capture_output=True, timeout=180)
    text = subprocess.run(["pdftotext", str(tmp_path / "report.pdf"), "-"], capture_output=True, text=True).stdout
    assert "公共资源交易平台运行维护费" in text.replace("\n", "")


DEPARTMENT = SEED_DEPARTMENT / "_department.yaml"


@needs_poppler
def test_the_department_report_fills_every_field_its_data_holds_in_every_format(reports):
    outputs = reports[DEPARTMENT]
    fields = ["评价方式州公共资源交易中心绩效自评", "评价机构州公共资源交易中心评价小组", "报告时间2025年4月",
              "楼堂馆所控制情况", "厉行节约保障措施", "服务对象满意度指标", "可持续影响指标", "部门（单位）意见",
              "财政部门归口业务科室意见", "财政部门归口业务科室负责人（签字）", "财政部门归口业务科室（盖章）"]
    for kind in FORMATS:
        text = {"html": html_text, "pdf": pdf_text, "docx": docx_text}[kind](outputs.files[kind])
        assert not [f for f in fields if f not in text.replace("：", "")], kind
        assert "部门（单位）绩效自评" not in text and "部门（单位）评价组" not in text, kind


@needs_poppler
def test_the_department_pdf_never_wraps_a_number(reports):
    outputs = reports[DEPARTMENT]
    numbers = {cell.text for part in parts_of(outputs.notebook) for cell in walk(part)
               if isinstance(cell, Cell) and "num" in (cell.style or "").split() and cell.text != "—"}
    lines = [line for page in _pages(outputs.files["pdf"]) for line in page.splitlines()]
    assert "100%" in numbers and not [n for n in numbers if not any(n in line for line in lines)]


def _lone_dates(pages: list[str]) -> list[int]:
    """Pages that hold nothing but "年 月 日" lines (and a page number)."""
    return [i for i, page in enumerate(pages) if "年" in page and not re.sub(r"[\s—\d年月日]", "", page)]


@needs_poppler
def test_the_department_pdf_keeps_its_sign_off_together(reports):
    pages = _pages(reports[DEPARTMENT].files["pdf"])
    [page] = [p for p in pages if "财政部门归口业务科室意见" in p]
    assert "部门（单位）意见" in page and "评价组组长签署意见" in page and page.count("年") >= 3
    assert _lone_dates(pages) == []


def _style_fonts(style) -> dict[str, str]:
    fonts = style.element.rPr.find(qn("w:rFonts"))
    return {key.split("}")[1]: value for key, value in fonts.attrib.items()}


def test_word_titles_and_headings_use_the_roles_fonts_not_the_theme(reports):
    document = Document(reports[DEPARTMENT].files["docx"])
    titles = [p for p in document.paragraphs if p.text.endswith("整体支出绩效自评报告") or p.text.endswith("评价报告")]
    assert titles and {p.style.name for p in titles} == {"报告标题"}  # not Word's blue Title
    title = document.styles["报告标题"]
    assert title.font.color.rgb == RGBColor(0, 0, 0) and title.font.size.pt == 22
    assert _style_fonts(title)["eastAsia"] == "方正小标宋简体"
    for name, font in (("Heading 2", "黑体"), ("Heading 3", "楷体"), ("Normal", "仿宋")):
        fonts = _style_fonts(document.styles[name])
        assert fonts["eastAsia"] == font and not [k for k in fonts if k.endswith("Theme") or k == "cstheme"], name
    assert document.styles["Heading 2"].font.color.rgb == RGBColor(0, 0, 0)
    # GB/T 9704: the text and the 一、（一） headings in 三号, the body indented two characters
    assert {document.styles[name].font.size.pt for name in ("Normal", "Heading 2", "Heading 3")} == {16}
    indents = {p.paragraph_format.first_line_indent for p in document.paragraphs if p.style.name == "Normal"}
    assert {indent.pt for indent in indents if indent is not None} == {32}


def test_a_units_own_fonts_reach_word_as_they_reach_the_pdf(tmp_path):
    """The rules' ``fonts:`` come with the report's Typography part; Word names them too."""
    from evaltools.writers.docx import WordWriter
    from evaltools.document.parts import Typography, p

    writer = WordWriter()
    writer.typography(Typography({"body": ["仿宋_GB2312"], "title": ["方正小标宋_GBK"]}))
    writer.block(writer.document, p("正文"))
    document = Document(io.BytesIO(writer.to_bytes("t")))
    assert _style_fonts(document.styles["Normal"])["eastAsia"] == "仿宋_GB2312"
    assert _style_fonts(document.styles["报告标题"])["eastAsia"] == "方正小标宋_GBK"
    assert _style_fonts(document.styles["Heading 3"])["eastAsia"] == "楷体"  # not configured: Windows' 楷体
    run = document.paragraphs[-1].runs[0]
    assert run._element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "仿宋_GB2312"


def test_word_numbers_are_right_aligned_in_fixed_tables_that_hold_them(reports):
    document = Document(reports[DEPARTMENT].files["docx"])
    cells = [cell for table in document.tables for row in table.rows for cell in row.cells
             if re.fullmatch(r"\d+\.\d\d%?", cell.text)]
    assert {"1505.04", "1333.32", "171.72", "106.62"} <= {c.text for c in cells}
    assert all(c.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT for c in cells)
    for table in document.tables:
        numbers = [c for row in table.rows for c in row.cells if re.fullmatch(r"\d+\.\d\d%?", c.text)]
        if numbers:
            assert table._tbl.tblPr.find(qn("w:tblLayout")).get(qn("w:type")) == "fixed"
        for cell in numbers:
            # wide enough for the number at its size (a form's 10.5 pt, a table's 10) in a wide
            # fallback face, with the cell's margins (a form's narrow ones)
            size = cell.paragraphs[0].runs[-1].font.size.pt
            assert cell.width.cm >= len(cell.text) * 0.65 * size * 2.54 / 72 + 0.16, cell.text


def test_word_columns_widen_for_their_numbers_and_take_the_room_from_text():
    rows = [Row([Cell(["项目名称"]), Cell(["1505.04"], style="num"), Cell(["106.62万元，完成率100%"])])]
    placed, _ = grid(rows)
    widths = fitted_widths([70, 5, 25], placed, 15.6)
    assert round(sum(widths), 6) == 15.6
    ten = 0.65 * 10 * 2.54 / 72  # a digit at the cells' 10 pt, in cm
    assert widths[1] > 15.6 * 0.05 and widths[1] >= len("1505.04") * ten  # room for 1505.04
    assert widths[0] < 15.6 * 0.70 and widths[2] >= len("106.62") * ten
    assert fitted_widths([50, 50], grid([Row([Cell(["甲"]), Cell(["乙"])])])[0], 15.6) == [7.8, 7.8]


def _office_pdf(docx: Path, folder: Path) -> Path:
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(folder), str(docx)],
                   check=True, capture_output=True, timeout=180)
    return folder / (docx.stem + ".pdf")


def _pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")


@pytest.mark.skipif((shutil.which("soffice") is None or shutil.which("pdftotext") is None) and not os.environ.get("CI"),
                    reason="LibreOffice (soffice) is not installed here")
@pytest.mark.parametrize("source", [SEED, DEPARTMENT], ids=["project", "department"])
def test_libreoffice_prints_the_word_forms_with_whole_numbers_and_repeated_headers(reports, source, tmp_path):
    docx = reports[source].files["docx"]
    pages = _pages(_office_pdf(docx, tmp_path))
    lines = [line for page in pages for line in page.splitlines()]
    # every amount, rate and score, alone in its cell or in a text ("106.62万元"), as often whole
    # on a printed line as the document has it: none wrapped
    document = Document(docx)
    cells = ["\n".join("".join(t.text or "" for t in p.iter(qn("w:t"))) for p in tc.iter(qn("w:p")))
             for tc in document.element.body.iter(qn("w:tc"))]  # each (merged) cell once
    texts = [p.text for p in document.paragraphs] + cells
    numbers = {number for text in cells for number in re.findall(r"\d+\.\d+%?", text)}
    wrapped = [n for n in numbers if sum(line.count(n) for line in lines) < sum(t.count(n) for t in texts)]
    assert numbers and wrapped == []
    # the indicator block: its header row on every page it runs onto
    caption = max(i for i, page in enumerate(pages) if "自评表" in page and re.search(r"（\s*2024\s*年度）", page))
    first = min(i for i, page in enumerate(pages) if "三级指标" in page and i >= caption)
    last = min(i for i, page in enumerate(pages) if "总分" in page and i >= first)
    assert all("三级指标" in pages[i] for i in range(first, last + 1))
    assert _lone_dates(pages) == []  # the sign-off never leaves a date alone on a page


@pytest.mark.skipif((shutil.which("soffice") is None or shutil.which("pdftotext") is None) and not os.environ.get("CI"),
                    reason="LibreOffice (soffice) is not installed here")
def test_libreoffice_prints_no_word_over_another(reports, tmp_path):
    pdf = _office_pdf(reports[DEPARTMENT].files["docx"], tmp_path)
    for page in range(1, len(_pages(pdf))):
        boxes = word_boxes(pdf, page)
        clashes = [(a[0], b[0]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
                   if min(a[3], b[3]) - max(a[1], b[1]) > 1 and min(a[4], b[4]) - max(a[2], b[2]) > 2]
        assert clashes == [], page
