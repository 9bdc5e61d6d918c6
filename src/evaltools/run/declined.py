"""Imports made with a module declined: a package loaded without an optional part it would
load as it starts, and that a batch never uses.

The part's import is declined for that moment only (a ``None`` in ``sys.modules``: Python's own
way to make an import fail), in every thread of the process, which loads the package once: the
package then behaves as where the part is not installed, and the part imports again afterwards.
"""

from __future__ import annotations

import importlib
import sys


def import_without(module: str, declined: str) -> None:
    """Import ``module`` with ``declined`` unimportable while it loads; nothing where either is
    loaded already, or where ``module`` is not there (a saving, never a new way to fail: a
    package that moved it loads it, or not, as it would have)."""
    if module in sys.modules or declined in sys.modules:
        return
    sys.modules[declined] = None  # type: ignore[assignment]
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
    finally:
        if sys.modules.get(declined, False) is None:
            del sys.modules[declined]
