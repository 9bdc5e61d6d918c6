"""papermill, loaded without pyarrow: import this before papermill.

papermill's I/O module imports ``pyarrow.fs`` for its hdfs:// handler as it loads, and with it
pyarrow and numpy: 0.08 s of the 0.27 s papermill takes to load, on the path of every batch
(its jobs wait for papermill before their cells run) in a process that uses neither. evaltools
gives papermill notebooks and local paths, never an hdfs:// one. Where ``pyarrow.fs`` is not
loaded already, its import is declined while papermill loads (a ``None`` in ``sys.modules``: Python's
own way to make an import fail; for that moment in every thread of the process, which loads
papermill once): papermill then registers hdfs:// as it does where pyarrow is not installed,
and the import works again afterwards.
"""

from __future__ import annotations

import sys

_DECLINED = "pyarrow.fs"

if "papermill" not in sys.modules and _DECLINED not in sys.modules:
    sys.modules[_DECLINED] = None  # type: ignore[assignment]
    try:
        import papermill  # noqa: F401
    finally:
        if sys.modules.get(_DECLINED, False) is None:
            del sys.modules[_DECLINED]
