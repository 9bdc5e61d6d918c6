"""The PDF engine, WeasyPrint, loaded fast: imported by the PDF exporter when it makes its first
PDF, and ahead of time by the server a batch forks its workers from.

On Linux WeasyPrint's libraries are found by their sonames, which it tries after names that
only ``ctypes.util.find_library`` could resolve, by running ldconfig, gcc and ld for each (a
third of a second per process): that search is skipped here.
"""

from __future__ import annotations

import ctypes.util
import sys
from types import ModuleType


def _load() -> ModuleType:
    if not sys.platform.startswith("linux"):
        import weasyprint

        return weasyprint
    search = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        import weasyprint
        import weasyprint.text.fonts
    except OSError:  # libraries under other names: let WeasyPrint search as it does
        ctypes.util.find_library = search
        import weasyprint
    finally:
        ctypes.util.find_library = search
    return weasyprint


weasyprint = _load()
