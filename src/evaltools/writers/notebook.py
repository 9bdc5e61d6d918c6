"""How parts show in a notebook: their JSON, and beside it their HTML (this writer's view),
styled as the report is.

Imported by the package's top (``evaltools/__init__``, which every report module is loaded
under) when IPython runs, so a kernel that builds a report shows each part as HTML in JupyterLab
and the executed notebook carries that HTML too, without the document model knowing HTML; the
exporters render the HTML afresh from the parts anyway. Light on purpose: no nbconvert,
Typst, python-docx or openpyxl in the kernel.
"""

import functools
import re
from importlib import resources
from typing import Any

from evaltools.document.parts import register_view
from evaltools.writers.html_parts import html

NOTEBOOK_SCOPE = "evaltools-part"  # a part's HTML in a notebook: report.css applies inside it only


@functools.cache
def notebook_style(scope: str = NOTEBOOK_SCOPE) -> str:
    """The report's stylesheet for a part shown in a notebook: each rule of report.css applied
    inside ``.evaltools-part`` only (JupyterLab's own page untouched); page rules left out."""
    css = re.sub(r"/\*.*?\*/", "", (resources.files("evaltools") / "templates" / "evaltools_report" / "report.css")
                 .read_text(encoding="utf-8"), flags=re.DOTALL)
    rules = [f".{scope} td {{ text-align: left; }}"]  # JupyterLab right-aligns every cell; the report's own classes decide
    start = 0
    while (brace := css.find("{", start)) >= 0:
        depth, end = 1, brace + 1
        while depth and end < len(css):
            depth += {"{": 1, "}": -1}.get(css[end], 0)
            end += 1
        prelude, body = css[start:brace].strip(), re.sub(r"\s+", " ", css[brace + 1:end - 1]).strip()
        start = end
        if prelude.startswith("@"):
            continue  # @page and @media print: paper only
        selectors = [f".{scope}" if s.strip() in ("html", "body") else f".{scope} {s.strip()}" for s in prelude.split(",")]
        rules.append(f"{', '.join(selectors)} {{ {body} }}")
    return "\n".join(rules)


def styled_html(part: Any) -> str:
    """A part's HTML in JupyterLab, bringing the report's style with it (grid lines, alignment, the
    sign-off layout); the exporters render each part afresh, styled by the report template."""
    return f'<div class="{NOTEBOOK_SCOPE}"><style>{notebook_style()}</style>{html(part)}</div>'


register_view("text/html", styled_html)
