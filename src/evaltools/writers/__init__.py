"""The writers: every output format, a view of the same document (its parts).

One module per format (``html``, ``pdf`` with ``typst``, ``docx``, ``xlsx``), each a view of the document's
parts; ``formats`` names the formats and editions. Nothing is imported here, so that naming a
format (``formats``) loads no nbconvert. The three notebook writers are registered as nbconvert
entry points, so that ``jupyter nbconvert --to evaltools_pdf report.ipynb``
works on any executed report, project or department, and gives what ``evaltools render`` gives:

- ``evaltools_html``: one self-contained page (no code, no scripts, no network);
- ``evaltools_pdf``: the same parts typeset on A4 by Typst, in-process (``typst`` renders them,
  ``pdf_engine`` compiles);
- ``evaltools_docx``: an editable Word document written by python-docx.

Each is written from the notebook's cells in order: Markdown cells as they are, and each code
cell's output from its structured part (``evaltools.document.parts``); cells tagged ``remove_cell`` are
left out, as nbconvert's own convention has it.
"""
