"""The document model: parts are data, travel as JSON in the notebook, and show as the writers' views."""

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat

from evaltools.document import parts

from evaltools.document.parts import (
    LEGACY_MIME_TYPE,
    MIME_TYPE,
    REVIEW,
    Figure,
    Markdown,
    from_data,
    part_of,
    grid,
    h,
    p,
    plain_text,
    section,
    Span,
    table,
    td,
    th,
    to_data,
    tr,
    words,
)
from evaltools.document.project_report import ProjectReport
from evaltools.document.wording import runs
from evaltools.writers import notebook  # noqa: F401  (what a kernel imports: parts show as HTML)
from evaltools.writers.html_parts import to_html

from conftest import SEED


def test_every_part_of_the_seed_report_survives_json():
    report = ProjectReport.load(SEED)
    for part in (report.cover(), report.first_page(), report.overview(), report.funds(), report.performance(),
                 report.conclusion(), report.closing(), report.form(), report.provenance()):
        again = from_data(json.loads(json.dumps(to_data(part), ensure_ascii=False)))
        assert again == part and to_html(again) == to_html(part)


def test_a_cell_shows_its_part_as_json_beside_html():
    part = section(h(2, "一、概况"), p("正文\n第二行", Span("加粗", bold=True)), cls="chapter")
    bundle = part._repr_mimebundle_()
    data = json.loads(bundle[MIME_TYPE])  # text, one line: nbformat keeps it as a string, not as nodes
    assert "\n" not in bundle[MIME_TYPE] and "一、概况" in bundle[MIME_TYPE]
    assert data["type"] == "Section" and data["children"][0] == {"type": "Heading", "level": 2, "text": "一、概况"}
    assert part_of(bundle) == part
    html = bundle["text/html"]
    assert html.startswith('<div class="evaltools-part"><style>') and html.endswith(
        '</style><section class="chapter"><h2>一、概况</h2><p>正文\n第二行<strong>加粗</strong></p></section></div>')


def test_a_notebook_executed_before_with_its_parts_as_json_objects_is_read_the_same():
    part = section(h(2, "一、概况"), p("正文"), cls="chapter")
    as_written = nbformat.from_dict({"output_type": "display_data", "metadata": {},
                                     "data": {LEGACY_MIME_TYPE: to_data(part), "text/plain": "<Section>"}})
    assert part_of(as_written["data"]) == part
    assert part_of({"text/plain": "<Section>"}) is None


def test_a_part_in_a_notebook_brings_the_reports_grid_lines_alignment_and_sign_off_layout():
    """JupyterLab's own table style (no borders, right-aligned cells) gives way inside a part."""
    style = re.search(r"<style>(.*)</style>", section(p("x"))._repr_mimebundle_()["text/html"], re.DOTALL)[1]
    rules = dict(re.findall(r"^([^{}]+?) \{ (.*) \}$", style, re.MULTILINE))
    assert "border: 0.6pt solid #000" in rules[".evaltools-part th, .evaltools-part td"]
    assert rules[".evaltools-part td"] == "text-align: left;"
    assert "text-align: right" in rules[".evaltools-part td.num"]
    assert "grid-template-columns: 1fr 1fr" in rules[".evaltools-part .signoff"]
    assert "@page" not in style and all(selector.startswith(".evaltools-part") for selector in rules)


def test_the_model_imports_no_markup_and_shows_the_views_writers_register(monkeypatch):
    tree = ast.parse(Path(parts.__file__).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {m for m in imported if m.startswith(("evaltools", "html"))}
    monkeypatch.setitem(parts.VIEWS, "text/x-words", parts.words)
    assert p("正文")._repr_mimebundle_()["text/x-words"] == "正文"


def test_a_part_reads_as_its_words():
    part = section(h(2, "一、概况"), p("正文", Span("加粗", bold=True)), table(tr(td("<b>x</b>"), td("1.00"))))
    assert str(part) == words(part) == "一、概况\n正文加粗\n<b>x</b>\t1.00"
    assert "正文加粗" in part and "<strong>" not in part


def test_text_is_escaped_when_rendered_and_markdown_keeps_raw_html_as_text():
    assert to_html(p("<b>x</b>")) == "<p>&lt;b&gt;x&lt;/b&gt;</p>"
    assert "<script>" not in to_html(Markdown("<script>alert(1)</script>"))
    assert plain_text(p("<b>x</b>")) == "<b>x</b>"  # the model holds the text itself


def test_merged_cells_are_placed_on_the_grid():
    rows = table(tr(td("A", rowspan=2), td("B", colspan=2)), tr(td("C"), td("D"))).rows
    placed, columns = grid(rows)
    assert columns == 3
    assert [(r, c, cell.text) for r, c, cell in placed] == [(0, 0, "A"), (0, 1, "B"), (1, 1, "C"), (1, 2, "D")]
    # a block of two rows and two columns, and a label over three rows beside it
    rows = table(tr(td("A", rowspan=2, colspan=2), td("B", rowspan=3), td("C")), tr(td("D")),
                 tr(td("E"), td("F"), td("G"))).rows
    placed, columns = grid(rows)
    assert columns == 4
    assert [(r, c, cell.text) for r, c, cell in placed] == [
        (0, 0, "A"), (0, 2, "B"), (0, 3, "C"), (1, 3, "D"), (2, 0, "E"), (2, 1, "F"), (2, 3, "G")]


def test_tables_keep_header_rows_widths_and_numbers():
    part = table(tr(td("10.00", cls="num", value="10.00", kind="score")), head=[tr(th("得分"))], colgroup=(100,))
    html = to_html(part)
    assert html.startswith('<table class="grid"><colgroup><col style="width:100%"></colgroup><thead><tr><th>得分')
    assert from_data(to_data(part)).rows[0].cells[0].value == "10.00"


def test_figures_carry_their_png_and_reviewers_material_says_so():
    figure = Figure(b"\x89PNG...", "alt", "图")
    assert from_data(json.loads(json.dumps(to_data(figure)))).png == b"\x89PNG..."
    assert ProjectReport.load(SEED).review().audience == REVIEW


def test_markup_from_a_wording_template_becomes_runs():
    assert runs("<strong>审核提示：</strong>a &lt;b&gt;") == [Span("审核提示：", bold=True), "a <b>"]


def test_in_a_kernel_parts_show_as_html_without_loading_an_exporter():
    """Where IPython runs, the package registers the HTML writer's view; nothing heavier comes with it."""
    code = ("import sys, IPython, evaltools.document.project_report as r, evaltools.document.parts as parts; "
            "print('text/html' in parts.VIEWS, sorted(m for m in ('nbconvert', 'weasyprint', 'docx', 'openpyxl') "
            "if m in sys.modules))")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert shown == "True []"
