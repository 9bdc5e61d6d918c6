"""The ``dask`` executor: the same jobs on a Dask cluster, at ``--scheduler`` or on a
LocalCluster started here. Jobs carry their inputs and results their outputs, so the workers
need no shared disk.

A scheduler that cannot be reached is said in one line at once; one lost mid-batch ends the
batch in one line too (:class:`ClusterLost`), after what finished is written: a rerun makes only
the rest. Dask's own reconnect messages and tracebacks are kept from the terminal.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from dask.distributed import Client, LocalCluster, as_completed

from evaltools.run.batch.executors import children_ignore_ctrl_c
from evaltools.run.batch.model import BatchSettings, ClusterError, ClusterLost, Job, Result
from evaltools.run.batch.worker import execute_job


def dask(jobs: list[Job], settings: BatchSettings) -> Iterator[tuple[Job, Result]]:
    """Results as the cluster's workers finish them."""
    with _quiet():
        cluster = None
        if settings.scheduler is None:
            with children_ignore_ctrl_c():  # its worker processes leave Ctrl-C to the batch
                cluster = LocalCluster(n_workers=settings.workers, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
        address = settings.scheduler or cluster.scheduler_address
        client = connect(address)
        finished = False
        try:
            yield from _results(client, address, jobs)
            finished = True
        finally:
            if cluster is not None and not finished:  # stopped (Ctrl-C): see _hush
                with suppress(Exception):
                    client.run(_hush)
            with suppress(Exception):  # a scheduler gone: nothing left to close
                client.close(timeout=5)
            if cluster is not None:
                cluster.close()


def _results(client: Client, address: str, jobs: list[Job]) -> Iterator[tuple[Job, Result]]:
    futures = {client.submit(execute_job, job, pure=False): job for job in jobs}
    for future in as_completed(futures):
        job = futures.pop(future)
        try:
            result = future.result()
        except Exception as exc:  # noqa: BLE001  (Dask raises what the task raised, or its own)
            if _lost(client):
                raise ClusterLost(address) from None
            result = Result(job.project_file, "failed", message=f"{job.project_file}：Dask 任务失败：{exc}")
        yield job, result
        future.release()


def _hush() -> None:
    """In a worker of the batch's own LocalCluster, stopped with the batch: closing, it warns of
    each task it drops ("… ended with CancelledError") on the batch's terminal, under the line
    that already says what did not finish. Its errors are still shown."""
    logging.getLogger("distributed").setLevel(logging.ERROR)


def _lost(client: Client) -> bool:
    """Whether the scheduler is gone (the client reconnecting, or given up), rather than one
    task failed."""
    return client.status != "running" or client.scheduler_comm is None or client.scheduler_comm.comm is None \
        or client.scheduler_comm.comm.closed()


def connect(scheduler: str, timeout: float = 5.0) -> Client:
    """A client of the scheduler at ``scheduler``, or :class:`ClusterError` in seconds."""
    try:
        if scheduler.startswith("tcp://"):  # refused or unroutable: say so now, not after Dask's retries
            host, _, port = scheduler.removeprefix("tcp://").rpartition(":")
            socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
        return Client(scheduler, timeout=f"{timeout}s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"无法连接 Dask 调度器 {scheduler}（{type(exc).__name__}: {exc}）："
                           "请确认 dask scheduler 正在运行、地址与端口正确") from None


@contextmanager
def _quiet() -> Iterator[None]:
    """Dask's client logs its lost connections and retries, tracebacks included; the batch says
    what matters in its own words. Its loggers each have a level of their own (Dask's config)."""
    loggers = [logging.getLogger(name) for name in ["distributed", *logging.root.manager.loggerDict]
               if name.startswith("distributed")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
