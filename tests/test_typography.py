"""公文 style roles and fonts: declared once, read by the stylesheet, report.css, Word and the provenance."""

import io
import re
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH

from evaltools.document import typography
from evaltools.document.parts import Typography, h, p, table, td, tr
from evaltools.writers.docx import WordWriter
from evaltools.document.department_report import DepartmentReport
from evaltools.document.project_report import ProjectReport
from evaltools.writers.html_parts import html, stylesheet, to_html

from conftest import SEED, SEED_DEPARTMENT
from evaltools.domain.rules import load_rules


def test_each_role_falls_back_to_a_free_font_this_machine_has():
    used = typography.fonts_used()
    assert used == {"body": "Noto Serif CJK SC", "heading1": "Noto Sans CJK SC", "heading2": "AR PL UKai CN",
                    "title": "Noto Serif CJK SC"}
    assert typography.fonts_line() == ("仿宋：Noto Serif CJK SC；黑体：Noto Sans CJK SC；楷体：AR PL UKai CN；"
                                       "小标宋：Noto Serif CJK SC")


def test_a_rules_file_puts_a_units_own_fonts_first(tmp_path):
    override = tmp_path / "_rules.yaml"
    override.write_text("fonts: {body: [仿宋_GB2312, My FangSong], title: [方正小标宋简体]}\n", encoding="utf-8")
    fonts = load_rules(override).fonts
    assert typography.stacks(fonts)["body"][:3] == ["仿宋_GB2312", "My FangSong", "FangSong_GB2312"]
    assert typography.word_fonts(fonts) == {"body": "仿宋_GB2312", "heading1": "黑体", "heading2": "楷体",
                                            "title": "方正小标宋简体"}  # the configured ones, else Windows' names
    css = str(to_html(Typography(fonts)))
    assert css.startswith("<style>body { font-family: \"仿宋_GB2312\", \"My FangSong\"")


def test_a_configured_name_cannot_break_out_of_the_stylesheet():
    css = str(to_html(Typography({"body": ['x"; } </style><script>']})))
    assert "</style><script>" not in css and css.count("</style>") == 1 and '"x  stylescript"' in css


CSS = Path(typography.__file__).parents[1] / "templates" / "evaltools_report" / "report.css"


def _css_rules() -> list[tuple[set[str], str]]:
    """report.css as (selectors, declarations), @page's margin boxes included."""
    text = re.sub(r"/\*.*?\*/", "", CSS.read_text(encoding="utf-8"), flags=re.S)
    return [({s.strip() for s in selectors.split(";")[-1].split(",")}, body)
            for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", text)]


def test_report_css_styles_every_role_as_the_roles_declare():
    """The class names and sizes report.css styles are the roles' (the Word writer reads the same roles)."""
    rules = _css_rules()
    for name, style in typography.STYLES.items():
        declared = " ".join(body for selectors, body in rules if {style.selector, *style.also} & selectors)
        assert declared, name
        expected = [f"font-size: {style.size:g}pt" if style.size else "", "font-weight: bold" if style.bold else "",
                    f"text-align: {style.align}" if style.align else "", f"text-indent: {style.indent:g}em" if style.indent else ""]
        assert [e for e in expected if e and e not in declared] == [], name


def test_the_page_font_rules_name_each_roles_selectors():
    css = stylesheet()
    assert css.splitlines()[1].startswith("h2, .cover-unit, .attachment-label { font-family: \"黑体\"")
    assert all(style.selector in css for style in typography.STYLES.values() if style.font)


def test_where_word_differs_from_the_page_is_declared_on_the_roles():
    """The Word edition differs from the HTML/PDF's only on purpose, role by role: the forms' text
    in 五号 (10.5 pt, the smallest a unit's printed Word form shows), the labels bold, the page
    numbers odd right and even left (GB/T 9704's, for printing on both sides). Everything
    else (faces, sizes, weights, alignments) is the page's, so a unit's ``fonts:`` reaches both."""
    assert {name: dict(style.word) for name, style in typography.STYLES.items() if style.word} == {
        "form": {"size": 10.5}, "form-note": {"size": 10.5}, "form-sign": {"size": 10.5}, "label": {"bold": True},
        "page-number": {"align": "outside"}}


def test_word_takes_its_sizes_alignments_and_weights_from_the_roles():
    writer = WordWriter()
    for part in (p("某单位", cls="cover-unit"), p("自评表", cls="form-title"), p("注", cls="form-note"), h(2, "一、概况"),
                 h(2, "项目基本情况", cls="table-title"), table(tr(td("106.62", cls="num"), td("指标", cls="label")))):
        writer.block(writer.document, part)
    document = Document(io.BytesIO(writer.to_bytes("t")))
    unit, form_title, note, heading, table_title = document.paragraphs[:5]
    styles = typography.STYLES
    assert unit.runs[0].font.size.pt == styles["cover-unit"].size and unit.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert form_title.runs[0].font.size.pt == styles["form-title"].in_word("size") and form_title.runs[0].bold
    assert note.runs[0].font.size.pt == styles["form-note"].in_word("size") == 10.5
    assert note.paragraph_format.first_line_indent is None
    assert document.styles["Heading 2"].font.size.pt == styles["heading1"].size and heading.alignment is None
    assert table_title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    number, label = document.tables[0].rows[0].cells
    assert number.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT and number.paragraphs[0].runs[-1].font.size.pt == styles["cell"].size
    assert label.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.CENTER and label.paragraphs[0].runs[-1].bold


def test_every_class_the_reports_carry_is_styled_by_report_css_or_is_a_named_hook():
    """The class names are the contract between the parts' styles and report.css: none goes unstyled unnoticed."""
    project, department = ProjectReport.load(SEED), DepartmentReport.load(SEED_DEPARTMENT / "_department.yaml")
    parts = [project.cover(), project.review(), project.first_page(), project.overview(), project.funds(),
             project.performance(), project.closing(), project.attachments("text"), project.form(), project.provenance(),
             department.cover(), department.finances(), department.basic_data(), department.self_evaluation_form()]
    classes = {c for part in parts for value in re.findall(r'class="([^"]+)"', html(part)) for c in value.split()}
    css = CSS.read_text(encoding="utf-8")
    hooks = {"chapter", "review", "indicator", "indicators", "lost"}  # for readers and scripts, not styled
    assert {c for c in classes if not re.search(rf"\.{re.escape(c)}\b", css)} == hooks & classes
    assert {"num", "label", "form-title", "cover-unit", "signoff-page"} <= classes
