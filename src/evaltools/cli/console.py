"""Where the commands print: the consoles, and the one way a line gets colour.

Everything printed is plain text unless made with :func:`styled`: a file's words (a project's
name, an error quoting a YAML value or a path) are never read as rich's markup or emoji codes,
where ``[/red]`` in a name would stop the command with a traceback, ``[b]x[/b]`` lose its
brackets, and ``:100:`` at the end of a file's line number become 💯.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.text import Text

# Logs and pipes get a wide page rather than rich's 80 columns, so tables stay readable.
out = Console(highlight=False, markup=False, emoji=False, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, highlight=False, markup=False, emoji=False)


def styled(template: str, *values: object) -> Text:
    """``template``, evaltools' own markup (a label's colour), with each ``{}`` in it replaced by
    one of ``values`` as plain text, in the style the template gives that place."""
    holders = [chr(0xE000 + i) for i in range(len(values))]  # private use: never in a template
    marked = Text.from_markup("".join(part + holder for part, holder in zip(template.split("{}"), [*holders, ""], strict=True)),
                              emoji=False)
    line, start = Text(), 0
    for holder, value in zip(holders, values, strict=True):
        at = marked.plain.index(holder, start)
        line.append_text(marked[start:at])
        line.append(str(value), " ".join(str(span.style) for span in marked.spans if span.start <= at < span.end) or None)
        start = at + 1
    line.append_text(marked[start:])
    return line
