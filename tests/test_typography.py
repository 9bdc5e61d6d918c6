"""公文 fonts by role: one configuration for the stylesheet, Word and the provenance."""

from evaltools.document import typography
from evaltools.document.parts import Typography
from evaltools.writers.html_parts import to_html
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
