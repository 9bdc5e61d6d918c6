"""The HTML exporter (``evaltools_html``): nbconvert's HTMLExporter with the report template.

The template ``evaltools_report`` (installed where nbconvert finds it, and shipped inside the
package) shows Markdown cells and the cells' outputs, never code; its ``conf.json`` turns on the
two preprocessors below, so ``jupyter nbconvert --to html --template evaltools_report`` gives
the same page as this exporter.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbconvert.preprocessors import Preprocessor
from traitlets import Unicode

from evaltools.document import typography
from evaltools.writers.draft import draft_title
from evaltools.writers.formats import REVIEW_EDITION, SUBMISSION
from evaltools.domain.markup import markdown
from evaltools.document.parts import REVIEW, Heading, part_of, walk
from evaltools.writers.html_parts import html

TEMPLATE = "evaltools_report"
REMOVE_TAG = "remove_cell"  # nbconvert's TagRemovePreprocessor convention: notes to analysts


def templates_folder() -> Path:
    return Path(str(resources.files("evaltools") / "templates"))


def report_parts(cell: Any) -> list[tuple[dict, Any]]:
    """A code cell's outputs that carry a part, with the part."""
    return [(output, part) for output in cell.get("outputs", []) if (part := part_of(output.get("data", {}))) is not None]


def report_title(notebook: Any) -> str | None:
    """The report's own title: its first heading styled report-title (else the cover title)."""
    titles: dict[str, str] = {}
    for cell in notebook.cells:
        for _, part in report_parts(cell):
            for node in walk(part):
                if isinstance(node, Heading) and typography.is_title(node.style):
                    titles.setdefault(node.style, node.text)
    return titles.get("report-title") or titles.get("cover-title")


class PartsPreprocessor(Preprocessor):
    """Renders each output's HTML afresh from its part, so HTML, PDF and Word show the very same
    parts; gives the page the report's title; leaves out reviewers' material in the
    ``submission`` edition (the ``review`` edition keeps everything). Unless set here, the
    edition is its exporter's: review for HTML, submission for PDF and Word."""

    edition = Unicode(None, allow_none=True, help="review: everything; submission: without reviewers' material"
                      ).tag(config=True)

    @property
    def chosen_edition(self) -> str:
        return self.edition or getattr(self.parent, "edition", None) or REVIEW_EDITION

    def preprocess(self, nb, resources):
        title = draft_title(nb.metadata.get("title") or report_title(nb), nb)  # a draft says so in its title
        if title:
            nb.metadata["title"] = title
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        kept = []
        for output in cell.get("outputs", []):
            part = part_of(output.get("data", {}))
            if part is not None:
                if self.chosen_edition == SUBMISSION and getattr(part, "audience", None) == REVIEW:
                    continue
                output["data"]["text/html"] = html(part)
            kept.append(output)
        if "outputs" in cell:
            cell.outputs = kept
        return cell, resources


class HtmlReportExporter(HTMLExporter):
    """``evaltools_html``: the report as one self-contained page."""

    export_from_notebook = "evaltools report (HTML)"
    edition = Unicode(REVIEW_EDITION, help="review (with the 审核提示 and the provenance) or submission").tag(config=True)

    def __init__(self, **kw: Any):
        kw.setdefault("template_name", TEMPLATE)
        kw.setdefault("extra_template_basedirs", [str(templates_folder())])
        super().__init__(**kw)
        self.exclude_input = True
        self.exclude_input_prompt = True
        self.exclude_output_prompt = True
        self.optimistic_validation = True  # the notebook validated once, after the preprocessors, not after each
        # Markdown cells with raw HTML switched off: a notebook from elsewhere runs no script here.
        self.register_filter("markdown2html", markdown)

    def from_notebook_node(self, nb: Any, resources: dict | None = None, **kw: Any) -> tuple[str, dict]:
        """The page as the template renders it. (HTMLExporter's own re-parses the page with
        BeautifulSoup to give images a stock alt text and JupyterLab's cells a tabindex: every
        image here carries its alt text and there are no JupyterLab cells; it is a quarter of
        the export.)"""
        self.register_filter("highlight_code", Highlight2HTML(parent=self))  # no code is shown; the template asks
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    def _init_preprocessors(self) -> None:
        super()._init_preprocessors()
        # conf.json's preprocessors are made without a parent: give ours this exporter's edition.
        for preprocessor in self._preprocessors:
            if isinstance(preprocessor, PartsPreprocessor) and preprocessor.edition is None:
                preprocessor.edition = self.edition
