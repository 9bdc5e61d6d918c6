"""How parts show in a notebook: their JSON, and beside it their HTML (this writer's view).

Imported by the package's top (``evaltools/__init__``, which every report module is loaded
under) when IPython runs, so a kernel that builds a report shows each part as HTML in JupyterLab
and the executed notebook carries that HTML too, without the document model knowing HTML; the
exporters render the HTML afresh from the parts anyway. Light on purpose: no nbconvert,
WeasyPrint, python-docx or openpyxl in the kernel.
"""

from evaltools.document.parts import register_view
from evaltools.writers.html_parts import html

register_view("text/html", html)
