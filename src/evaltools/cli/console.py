"""Where the commands print: the consoles, and the one way a line gets colour.

Everything printed is plain text unless made with :func:`styled`: a file's words (a project's
name, an error quoting a YAML value or a path) are never read as rich's markup or emoji codes,
where ``[/red]`` in a name would stop the command with a traceback, ``[b]x[/b]`` lose its
brackets, and ``:100:`` at the end of a file's line number become 💯.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape
from rich.text import Text

# Logs and pipes get a wide page rather than rich's 80 columns, so tables stay readable.
out = Console(highlight=False, markup=False, emoji=False, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, highlight=False, markup=False, emoji=False)


def styled(template: str, *values: object) -> Text:
    """``template``, evaltools' own markup (a label's colour), with each ``{}`` in it replaced by
    one of ``values`` as plain text."""
    parts = template.split("{}")
    markup = "".join(part + escape(str(value)) for part, value in zip(parts, [*values, ""], strict=True))  # a value for each {}
    return Text.from_markup(markup, emoji=False)
