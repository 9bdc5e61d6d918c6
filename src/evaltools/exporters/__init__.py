"""nbconvert exporters of an executed report notebook: every format from the same cells.

Registered as nbconvert entry points, so that ``jupyter nbconvert --to evaltools_pdf report.ipynb``
works on any executed report, project or department, and gives what ``evaltools render`` gives:

- ``evaltools_html``: one self-contained page (no code, no scripts, no network);
- ``evaltools_pdf``: that page printed on A4 by WeasyPrint, in-process;
- ``evaltools_docx``: an editable Word document written by python-docx.

Each is written from the notebook's cells in order: Markdown cells as they are, and each code
cell's output from its structured part (``evaltools.parts``); cells tagged ``remove_cell`` are
left out, as nbconvert's own convention has it.
"""

from evaltools.exporters.html_report import REMOVE_TAG, HtmlReportExporter, PartsPreprocessor
from evaltools.exporters.pdf_report import PdfReportExporter
from evaltools.exporters.word_report import WordReportExporter

__all__ = ["REMOVE_TAG", "HtmlReportExporter", "PartsPreprocessor", "PdfReportExporter", "WordReportExporter"]
