"""Warm kernels: one Jupyter kernel kept by a process (a batch worker) for its notebooks.

Starting a kernel and importing evaltools in it costs more than executing a report's cells;
a warm kernel pays it once. Before each notebook it is reset, and after any failure it is
discarded, so each report is still made as by a fresh kernel. Only jupyter_client here, so
that a kernel can be started before the heavier imports of papermill, nbconvert and
WeasyPrint, and start while they load.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from jupyter_client import AsyncKernelClient, AsyncKernelManager
from jupyter_core.utils import run_sync

# The kernel's own log is noise in a batch: its TCP-on-loopback warning, and "KeyboardInterrupt
# caught in kernel" when jupyter_client interrupts it before every shutdown. Cell errors are
# recorded in the notebook and reported by evaltools.
# Nor is its input history, which nobody reads back: not kept in ~/.ipython's SQLite file.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL", "--HistoryManager.enabled=False"]
# What the report notebooks import: a warm kernel pays for it once, before its first notebook
# (matplotlib only where a report draws a chart, at its first). What is loaded then lives as long
# as the kernel: frozen, the garbage collector (which every reset runs) no longer walks it.
WARM_UP = "import evaltools.project_report, evaltools.department_report, gc; gc.freeze()"
# Before each notebook: its working folder, an empty namespace and the execution counter at 1.
RESET = "__import__('os').chdir({cwd!r}); get_ipython().reset(new_session=True, aggressive=False)"


@dataclass
class WarmKernel:
    manager: AsyncKernelManager
    client: AsyncKernelClient  # kept with the kernel: a new client costs a wait for its channels
    ready: bool = False


_warm_kernels: dict[str, WarmKernel] = {}


async def _start(kernel_name: str) -> WarmKernel:
    manager = AsyncKernelManager(kernel_name=kernel_name)
    await manager.start_kernel(extra_arguments=KERNEL_ARGUMENTS)
    client = manager.client()
    client.allow_stdin = False  # as nbclient sets it for its own clients: input() fails, never waits
    client.start_channels()
    client.execute(WARM_UP, silent=True, store_history=False)  # queued: the kernel imports while we go on
    return WarmKernel(manager, client)


def start_warm_kernel(kernel_name: str = "python3") -> None:
    """Start this process's warm kernel now (without waiting for it), so that its start and
    imports overlap with the caller's own; :func:`warm_kernel` then uses it."""
    if kernel_name not in _warm_kernels:
        _warm_kernels[kernel_name] = run_sync(_start)(kernel_name)


async def _reset(kernel: WarmKernel, cwd: Path, timeout: int) -> None:
    if not await kernel.manager.is_alive():
        raise RuntimeError("内核已退出")
    if not kernel.ready:  # its first notebook: channels connected, warm-up done
        await kernel.client.wait_for_ready(timeout=timeout)
        kernel.ready = True
    msg_id = kernel.client.execute(RESET.format(cwd=str(cwd)), silent=True, store_history=False)
    while True:  # the reply on the shell channel (IOPub, for outputs, is not needed here)
        reply = await kernel.client.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"内核重置失败：{reply['content'].get('evalue')}")


def warm_kernel(kernel_name: str, cwd: Path, timeout: int = 60) -> WarmKernel:
    """This process's warm kernel (the batch's default), ready for a notebook.

    Before each notebook its namespace is reset, its execution counter set back to 1 and its
    working folder set, so that the executed notebook is the same, byte for byte, as from a
    fresh kernel (a test holds this). A kernel that died or does not answer is replaced.
    """
    start_warm_kernel(kernel_name)
    try:
        run_sync(_reset)(_warm_kernels[kernel_name], cwd, timeout)
    except Exception:
        discard_kernel(kernel_name)
        start_warm_kernel(kernel_name)
        run_sync(_reset)(_warm_kernels[kernel_name], cwd, timeout)
    return _warm_kernels[kernel_name]


def discard_kernel(kernel_name: str) -> None:
    """Stop a warm kernel at once (after any failure: it may be stuck in a cell, or hold
    anything a failed notebook left); the next notebook gets a new one."""
    kernel = _warm_kernels.pop(kernel_name, None)
    if kernel is None:
        return
    kernel.client.stop_channels()
    try:
        run_sync(kernel.manager.shutdown_kernel)(now=True)
    except Exception:  # already gone: kill what may be left
        kill_kernels([kernel])


def close_kernels() -> None:
    """Stop every warm kernel of this process (at the end of a batch, or of a worker)."""
    for name in list(_warm_kernels):
        discard_kernel(name)


def kill_kernels(kernels: Iterable[WarmKernel] | None = None) -> None:
    """Kill the warm kernels' processes without ceremony: for a worker whose batch is gone.

    Safe from any thread (no event loop); each kernel also stops by itself within a second of
    its parent's death (ipykernel's parent poller), this only makes it immediate.
    """
    for kernel in list(_warm_kernels.values()) if kernels is None else kernels:
        process = getattr(kernel.manager.provisioner, "process", None)
        if process is not None and process.poll() is None:
            process.kill()


