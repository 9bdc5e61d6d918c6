"""papermill, loaded without pyarrow: import this before papermill.

papermill's I/O module imports ``pyarrow.fs`` for its hdfs:// handler as it loads, and with it
pyarrow and numpy: 0.08 s of the 0.27 s papermill takes to load, on the path of every batch
(its jobs wait for papermill before their cells run) in a process that uses neither. evaltools
gives papermill notebooks and local paths, never an hdfs:// one: papermill is loaded with
``pyarrow.fs`` declined (:mod:`evaltools.run.declined`), and registers hdfs:// as it does where
pyarrow is not installed.
"""

from __future__ import annotations

from evaltools.run.declined import import_without

import_without("papermill", "pyarrow.fs")
