"""Batches: every report of a department or a year, in parallel, incremental, fault-tolerant.

The public entry points (light to import: planning loads neither papermill nor nbconvert)::

    from evaltools.run.batch import BatchSettings, plan_paths, run_batch
    settings = BatchSettings(formats=("html", "pdf"), jobs=4)
    jobs, known = plan_paths(paths, settings)  # what would be made, and what is current or unreadable
    batch = run_batch(paths, settings)         # make it

The parts: :mod:`.model` (settings, jobs, results), :mod:`.planning` (content fingerprints,
in the parent), :mod:`.worker` (one job's report), :mod:`.executors` (the registry: ``serial``,
``process`` in :mod:`.pool`, ``dask`` in :mod:`.cluster`) and :mod:`.runner` (writing results,
the lock, the index).
"""

from evaltools.run.batch.model import (
    STATUS_LABELS,
    BatchRun,
    BatchSettings,
    ClusterError,
    ClusterLost,
    Interrupted,
    Job,
    LockedError,
    Result,
    Status,
)
from evaltools.domain.layout import year_folders
from evaltools.run.batch.planning import batch_files, plan, plan_paths
from evaltools.run.batch.runner import as_json, default_out_root, outputs_lock, receive, run_batch
from evaltools.run.batch.worker import execute_job

__all__ = [
    "STATUS_LABELS", "BatchRun", "BatchSettings", "ClusterError", "ClusterLost", "Interrupted", "Job", "LockedError",
    "Result", "Status", "as_json", "batch_files", "default_out_root", "execute_job", "outputs_lock", "plan", "plan_paths",
    "receive", "run_batch", "year_folders",
]
