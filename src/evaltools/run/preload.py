"""What the server a batch forks its workers from loads before it forks them (multiprocessing's
forkserver, on Linux): papermill, nbconvert and Typst imported, the report template compiled,
the fonts read and Typst's compiler made (with every role's face laid out once), once for every
worker. Imported by that server alone.
"""

import gc

try:
    from evaltools.run import build  # noqa: F401  (loaded for the workers)
    from evaltools.run.batch import pool  # noqa: F401  (what a worker runs: the pool's initializer, the worker)
    from evaltools.run.export import warm_up

    warm_up(typeset=False)  # the workers typeset their first page themselves, after the fork
except Exception:  # noqa: BLE001  (e.g. no fonts: each worker meets it again and reports it with its projects)
    pass
# Frozen before the forks: the collector never walks (and so never copies) these pages in a worker.
gc.freeze()
