"""Warm kernels: one Jupyter kernel kept by a process (a batch worker) for its notebooks.

Starting a kernel and importing evaltools in it costs more than executing a report's cells;
a warm kernel pays it once. Before each notebook it is reset, and after any failure it is
discarded, so each report is still made as by a fresh kernel. Only jupyter_client here, so
that a kernel can be started before the heavier imports of papermill, nbconvert and
Typst, and start while they load.
"""

from __future__ import annotations

import asyncio
import locale
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from queue import Empty
from typing import IO

from jupyter_client import AsyncKernelClient, AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from jupyter_core.utils import ensure_event_loop, run_sync

from evaltools import __version__

# The kernel's own log is noise in a batch: its TCP-on-loopback warning, and "KeyboardInterrupt
# caught in kernel" when jupyter_client interrupts a kernel it stops (a warm kernel is killed
# without it: see _stop). Cell errors are
# recorded in the notebook and reported by evaltools.
# Nor is its input history, which nobody reads back: not kept in ~/.ipython's SQLite file.
# What the kernel's process writes at the level of its file descriptors (a C library's warning,
# a fatal error's dump) goes straight where its process writes (see kernel_output_file), not
# through a pipe to the notebook, whose reading thread dies with the kernel: with it, what a
# dying kernel wrote last (the reason it died) was lost.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL", "--HistoryManager.enabled=False",
                    "--IPKernelApp.capture_fd_output=False"]
# A warm kernel that is IPython's, started by this interpreter, where evaltools is installed, is
# evaltools' kernel class, IPython's without the debugger (see evaltools.run.batch_kernel; named,
# not imported: this process does not load ipykernel). Not any other: a kernel whose class cannot
# be imported dies as it starts, where without it the notebook's first cell says what is missing;
# and a kernel spec that runs a module of its own keeps the class it chose.
KERNEL_CLASS = "--IPKernelApp.kernel_class=evaltools.run.batch_kernel.BatchKernel"
# What the report notebooks import: a warm kernel pays for it once, before its first notebook
# (matplotlib only where a report draws a chart, at its first). What is loaded then lives as long
# as the kernel: frozen, the garbage collector (which every reset runs) no longer walks it.
WARM_UP = "import evaltools.document.project_report, evaltools.document.department_report, gc; gc.freeze()"
# A warm kernel runs it as it starts, before it answers (IPython's exec_lines: no execution
# count, and the namespace is reset before each notebook anyway).
WARM_ARGUMENTS = [*KERNEL_ARGUMENTS, f"--IPKernelApp.exec_lines={WARM_UP}"]
# …and for the year overview, pandas too; matplotlib as well where its charts are likely drawn
# (a batch of many reports, where the kernel starts while the workers load), else at a chart
# whose data changed (the overview keeps the charts it drew, see evaltools.document.charts.ChartCache).
OVERVIEW_WARM_UP = "import evaltools.document.overview, gc; gc.freeze()"
OVERVIEW_CHARTS_WARM_UP = ("import evaltools.document.overview, evaltools.document.charts, gc; "
                           "evaltools.document.charts.prepare(); gc.freeze()")
# …and the year, where a batch starts the overview's kernel before it plans (the namespace is reset
# before the notebook; what is read stays in the module, for the notebook's load to take), frozen:
# the reset's collection and the cells' do not walk a thousand projects' rows.
READ_AHEAD = ("__import__('evaltools.document.overview').document.overview.read_ahead({year!r}, {rows!r}); "
              "__import__('gc').freeze()")
# Where a kernel a batch started can be handed to a worker it forks (its process watched
# through /proc): Linux.
ADOPTABLE = sys.platform.startswith("linux")
# Before each notebook: its working folder, an empty namespace and the execution counter at 1,
# and nothing kept of the files the notebook before read (each job's are a copy of its own: see
# evaltools.domain.memo), before the reset's full collection walks it.
RESET = ("__import__('os').chdir({cwd!r}); __import__('evaltools.domain.memo').domain.memo.forget(); "
         "get_ipython().reset(new_session=True, aggressive=False)")


@dataclass
class WarmKernel:
    manager: AsyncKernelManager
    client: AsyncKernelClient  # kept with the kernel: a new client costs a wait for its channels
    said: IO[bytes] | None = None  # what the kernel's process writes itself (see kernel_output_file)
    heard: int = 0  # how much of it was written before this notebook (an earlier one's, not why it died)
    ready: bool = False


# Each thread keeps its own warm kernels (a batch of a few jobs runs them in threads of one
# process, see evaltools.run.batch.executors.threaded); every one is also listed process-wide, for
# kill_kernels, which a watcher thread or a signal handler calls.
_local = threading.local()
_every: dict[int, WarmKernel] = {}


def _mine() -> dict[str, WarmKernel]:
    """This thread's warm kernels, by kernel name."""
    if not hasattr(_local, "kernels"):
        _local.kernels = {}
    return _local.kernels


def _keep(kernel_name: str, kernel: WarmKernel) -> None:
    _mine()[kernel_name] = kernel
    _every[id(kernel)] = kernel


def warm_arguments(overview: bool = False, charts: bool = False,
                   ahead: tuple[Path, Path | None] | None = None) -> list[str]:
    """A warm kernel's arguments; with ``overview`` it also loads what the year overview
    computes with, with ``charts`` what it draws with, and with ``ahead`` (a year folder and its
    rows cache) it reads that year as it starts (:func:`evaltools.document.overview.read_ahead`)."""
    lines = OVERVIEW_CHARTS_WARM_UP if charts else OVERVIEW_WARM_UP
    arguments = [*WARM_ARGUMENTS, *([f"--IPKernelApp.exec_lines={lines}"] if overview else [])]
    if overview and ahead is not None:
        year, rows = (None if path is None else str(path) for path in ahead)
        arguments.append(f"--IPKernelApp.exec_lines={READ_AHEAD.format(year=year, rows=rows)}")
    return arguments


def _here(manager: AsyncKernelManager) -> list[str]:
    """:data:`KERNEL_CLASS` where the manager's kernel is ipykernel's, run by this interpreter
    (its kernel spec names a bare ``python``, which jupyter_client makes this one, or this one's
    path: not another environment's, though its python may be a link to the same file), started
    by jupyter_client's local provisioner, and evaltools is installed (not only on this
    process's ``sys.path``)."""
    spec = manager.kernel_spec
    argv = list(spec.argv)
    bare = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}
    ours = bool(argv) and (argv[0] in bare or os.path.normcase(os.path.abspath(argv[0]))
                           == os.path.normcase(os.path.abspath(sys.executable)))
    launcher = any(argv[i:i + 2] == ["-m", "ipykernel_launcher"] for i in range(1, len(argv) - 1))
    local = (spec.metadata or {}).get("kernel_provisioner", {}).get("provisioner_name", "local-provisioner") == "local-provisioner"
    installed = __version__ != "0+unknown"
    return [KERNEL_CLASS] if ours and launcher and local and installed else []


def kernel_output_file() -> IO[bytes]:
    """Where a kernel's process writes what it says itself (its own log, a traceback as it
    fails to start or dies; a cell's output goes to the notebook): a temporary file, gone when
    closed, read back when the kernel dies (:func:`last_words`). Not the batch's terminal,
    where ipykernel's noise (a traceback from its sockets as it stops) would stand under the
    batch's lines, and a ``--json`` batch's standard output must be its JSON alone."""
    return tempfile.TemporaryFile(prefix="evaltools-kernel-")


async def _begin(manager: AsyncKernelManager, arguments: list[str]) -> IO[bytes]:
    """Start the manager's warm kernel with ``arguments``; returns the file it writes to."""
    said = kernel_output_file()
    try:
        await manager.start_kernel(extra_arguments=[*arguments, *_here(manager)], stdout=said, stderr=said)
    except BaseException:  # Ctrl-C while it starts: a process started is nobody's to stop but ours
        _kill(manager)
        said.close()
        raise
    return said


async def _start(kernel_name: str, overview: bool) -> WarmKernel:
    manager = AsyncKernelManager(kernel_name=kernel_name)
    return _connect(manager, await _begin(manager, warm_arguments(overview)))


def _connect(manager: AsyncKernelManager, said: IO[bytes] | None) -> WarmKernel:
    client = manager.client()
    client.allow_stdin = False  # as nbclient sets it for its own clients: input() fails, never waits
    client.start_channels()
    return WarmKernel(manager, client, said)


# A traceback's colours, where a kernel wrote one with them.
_COLOURS = re.compile(r"\x1b\[[0-9;]*m")


def last_words(kernel_name: str = "python3") -> str:
    """What this thread's warm kernel last said itself, for a message saying why it died: the
    line of a fatal error, else its last line; "" if none (a cell that called ``os._exit``)."""
    kernel = _mine().get(kernel_name)
    return last_words_in(kernel.said, kernel.heard) if kernel is not None else ""


def last_words_in(said: IO[bytes] | None, since: int = 0) -> str:
    """:func:`last_words` of a kernel given ``said`` (:func:`kernel_output_file`) to write to,
    from ``since`` (bytes) on."""
    if said is None:
        return ""
    try:
        size = os.fstat(said.fileno()).st_size
        start = max(since, size - 8192)
        if hasattr(os, "pread"):  # the kernel, alive, writes at the file's offset: left where it is
            data = os.pread(said.fileno(), size - start, start)
        else:
            said.seek(start)
            data = said.read()
    except (OSError, ValueError):  # closed
        return ""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:  # a console's code page (Windows: cp936)
        text = data.decode(locale.getpreferredencoding(False), "replace")
    text = _COLOURS.sub("", text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    fatal = [line for line in lines if line.startswith("Fatal Python error")]
    line = (fatal or lines or [""])[-1]
    return line if len(line) <= 300 else line[:300] + "…"


def _dead(kernel: WarmKernel) -> RuntimeError:
    words = last_words_in(kernel.said, kernel.heard)
    return RuntimeError(f"内核已退出：{words}" if words else "内核已退出")


def has_warm_kernel(kernel_name: str = "python3") -> bool:
    return kernel_name in _mine()


def start_warm_kernel(kernel_name: str = "python3", overview: bool = False) -> None:
    """Start this thread's warm kernel now (without waiting for it), so that its start and
    imports overlap with the caller's own; :func:`warm_kernel` then uses it. With ``overview``
    it loads what the year overview computes with too: the one reserved for it
    (:func:`reserve_kernel`), if there is one."""
    if kernel_name not in _mine():
        reserved = take_reserved() if overview else None
        if reserved is not None and reserved[1]["kernel_name"] == kernel_name:
            adopt_kernel(reserved[1])
        else:
            _keep(kernel_name, run_sync(_start)(kernel_name, overview))


async def _reset(kernel: WarmKernel, cwd: Path, timeout: int) -> None:
    if not await kernel.manager.is_alive():
        raise _dead(kernel)
    if not kernel.ready:  # its first notebook: channels connected, warm-up done
        await _answering(kernel, timeout)
        kernel.ready = True
    msg_id = kernel.client.execute(RESET.format(cwd=str(cwd)), silent=True, store_history=False)
    while True:  # the reply on the shell channel (IOPub, for outputs, is not needed here)
        reply = await kernel.client.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"内核重置失败：{reply['content'].get('evalue')}")
    if kernel.said is not None:
        kernel.heard = _heard(kernel.said)


# What a kernel may write of its own before it is rewound (a library's warnings, over a long life).
_KEPT = 1 << 20


def _heard(said: IO[bytes]) -> int:
    """How much the kernel has written to ``said``; a file past :data:`_KEPT` is emptied and
    rewound first where the kernel writes through this very file (one it started: they share
    the offset), so that its size stays bounded."""
    try:
        size = os.fstat(said.fileno()).st_size
        if size > _KEPT and said.writable():
            said.truncate(0)
            said.seek(0)
            size = 0
    except (OSError, ValueError):
        return 0
    return size


async def _answering(kernel: WarmKernel, timeout: float) -> None:
    """Wait until the kernel answers on its shell channel and what it publishes reaches this
    client: what jupyter_client's ``wait_for_ready`` checks, without its closing 0.2 s of
    listening for silence on IOPub (nbclient takes a cell's outputs by the cell's request, so
    nothing published before is mistaken for them)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        asked = kernel.client.kernel_info()
        try:
            while (await kernel.client.get_shell_msg(timeout=1))["parent_header"].get("msg_id") != asked:
                if time.monotonic() > deadline:
                    raise Empty
            while time.monotonic() < deadline:  # its idle status after that request: IOPub is connected, and drained up to here
                published = await kernel.client.get_iopub_msg(timeout=0.5)
                if (published["parent_header"].get("msg_id") == asked and published["msg_type"] == "status"
                        and published["content"].get("execution_state") == "idle"):
                    return
        except Empty:  # not answering yet, or IOPub not yet connected: ask again
            if not await kernel.manager.is_alive():
                raise _dead(kernel) from None
    raise RuntimeError(f"内核 {timeout:g} 秒内没有响应")


def warm_kernel(kernel_name: str, cwd: Path, timeout: int = 60) -> WarmKernel:
    """This thread's warm kernel (the batch's default), ready for a notebook.

    Before each notebook its namespace is reset, its execution counter set back to 1 and its
    working folder set, so that the executed notebook is the same, byte for byte, as from a
    fresh kernel (a test holds this). A kernel that died or does not answer is replaced.
    """
    start_warm_kernel(kernel_name)
    try:
        run_sync(_reset)(_mine()[kernel_name], cwd, timeout)
    except Exception:
        discard_kernel(kernel_name)
        start_warm_kernel(kernel_name)
        run_sync(_reset)(_mine()[kernel_name], cwd, timeout)
    return _mine()[kernel_name]


def discard_kernel(kernel_name: str) -> None:
    """Stop a warm kernel at once (after any failure: it may be stuck in a cell, or hold
    anything a failed notebook left); the next notebook gets a new one."""
    kernel = _mine().pop(kernel_name, None)
    if kernel is None:
        return
    _every.pop(id(kernel), None)
    kernel.client.stop_channels()
    _stop(kernel.manager)
    if kernel.said is not None:
        kernel.said.close()


def drop_pending(grace: float = 5.0) -> None:
    """After an interrupt (Ctrl-C) out of a kernel call: cancel what the call left on this
    thread's event loop and collect how each task ended, within ``grace`` seconds.

    ``run_sync`` leaves its task (nbclient's cell, with its pollers) pending when interrupted;
    the next use of the loop, the kernel's shutdown, would resume it, it would end in
    ``DeadKernelError`` with nobody to receive it, and asyncio would print that traceback
    ("Task exception was never retrieved") under the batch's one line.
    """
    loop = ensure_event_loop()
    if loop.is_running():  # called from a coroutine: its own caller owns the tasks
        return
    tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in tasks:
        task.cancel()
    if not tasks:
        return
    done, _ = loop.run_until_complete(asyncio.wait(tasks, timeout=grace))
    for task in done:
        if not task.cancelled():
            task.exception()  # received: a stopped execution's DeadKernelError is nobody's error


def thread_kernels() -> Mapping[str, WarmKernel]:
    """This thread's warm kernels by name, as they are now and later (one started to replace
    another after a failure too): for another thread to kill them (:func:`kill_kernels`)."""
    return _mine()


def close_event_loop() -> None:
    """Close this thread's event loop (jupyter_core's, which ``run_sync`` made): a thread that
    ends with its loop open leaves its selector and sockets to the collector."""
    loop = ensure_event_loop()
    if not loop.is_running():
        loop.close()


def close_kernels() -> None:
    """Stop every warm kernel of this thread (at the end of a batch, of a worker, or of a
    batch's thread)."""
    for name in list(_mine()):
        discard_kernel(name)


def kill_kernels(kernels: Iterable[WarmKernel] | None = None) -> None:
    """Kill the warm kernels' processes (by default every thread's) without ceremony: for a
    worker whose batch is gone, or a batch stopped early.

    Safe from any thread (no event loop); each kernel also stops by itself within a second of
    its parent's death (ipykernel's parent poller), this only makes it immediate.
    """
    for kernel in list(_every.values()) if kernels is None else kernels:
        _kill(kernel.manager, reap=False)


def _kill(manager: AsyncKernelManager, reap: bool = True) -> None:
    """Kill the manager's kernel process if it still runs, with what its cells started (its
    process group, which jupyter_client makes its own, as its provisioner kills it), and
    (``reap``) wait for it."""
    provisioner = manager.provisioner
    process = getattr(provisioner, "process", None)
    if process is None or process.poll() is not None:
        return
    group = getattr(provisioner, "pgid", None)
    try:
        if group and hasattr(os, "killpg") and group != os.getpgrp():
            try:
                os.killpg(group, signal.SIGKILL)
            except PermissionError:  # a group of zombies only (macOS): the kernel itself, as jupyter_client does
                process.kill()
        else:
            process.kill()
    except ProcessLookupError:  # ended meanwhile
        pass
    if reap:
        process.wait()


def _stop(manager: AsyncKernelManager) -> None:
    """Kill the manager's kernel, reap it, and remove its connection file and close its sockets.

    Not jupyter_client's ``shutdown_kernel(now=True)``, which interrupts the kernel before it
    kills it: the interrupted kernel may print a KeyboardInterrupt, or (closing its sockets
    as the kill comes) a traceback, on the batch's own stderr. A warm kernel has nothing to
    save."""
    _kill(manager)
    run_sync(manager.cleanup_resources)()
    said = _launched.pop(id(manager), None)
    if said is not None:
        said.close()


# --- kernels a batch starts for the workers it forks ------------------------------------------


def launch_kernels(count: int, kernel_name: str = "python3",
                   overview: bool = False) -> tuple[list[AsyncKernelManager], list[dict]]:
    """Start ``count`` warm kernels in this process (a batch), for the workers it is about to
    fork to adopt (:func:`adopt_kernel`): they start and import while the workers' code loads.
    With ``overview`` the first also loads what the year overview draws with, and is marked so:
    the worker that takes the overview adopts it (:func:`evaltools.run.batch.worker.take_kernel`).
    A kernel reserved before the batch was planned (:func:`reserve_kernel`) is one of the others.
    Returns their managers, to stop them at the end (:func:`stop_kernels`), and what a worker
    needs to adopt one."""
    managers, handed = [], []
    for number in range(count):
        for_overview = overview and number == 0
        reserved = None if for_overview else take_reserved()  # reaped by release_reserved
        manager, kernel = reserved or _launch(kernel_name, for_overview, charts=True)
        if reserved is None:
            managers.append(manager)
        handed.append({**kernel, "overview": for_overview})
    return managers, handed


# What the kernels a batch launched say (:func:`kernel_output_file`), by their manager's id: kept as long as
# the kernel runs, for the worker that adopts one to read (its process is not the batch's).
_launched: dict[int, IO[bytes]] = {}


def _launch(kernel_name: str, overview: bool, charts: bool,
            ahead: tuple[Path, Path | None] | None = None) -> tuple[AsyncKernelManager, dict]:
    manager = AsyncKernelManager(kernel_name=kernel_name)
    said = run_sync(_begin)(manager, warm_arguments(overview, charts=charts, ahead=ahead))
    _launched[id(manager)] = said
    provisioner = manager.provisioner
    return manager, {"kernel_name": kernel_name, "connection": manager.get_connection_info(),
                     "pid": provisioner.pid, "pgid": provisioner.pgid, "overview": overview,
                     # the file, nameless, as the worker that adopts the kernel opens it (Linux, as adopting)
                     "said": f"/proc/{os.getpid()}/fd/{said.fileno()}"}


# Kernels a batch starts before it is planned: the year overview's, which is the longest to be
# made after one change (planning a thousand projects takes 0.3 s, the overview's kernel 0.6 s
# to start). Taken by the job that uses it, or by a worker; stopped at the batch's end.
_reserved: list[tuple[AsyncKernelManager, dict]] = []
_taken: list[AsyncKernelManager] = []
_reserving = threading.Lock()


def reserve_kernel(kernel_name: str = "python3", ahead: tuple[Path, Path | None] | None = None) -> None:
    """Start a year overview's warm kernel now (where it can be adopted: :data:`ADOPTABLE`),
    before a batch knows its jobs, reading ``ahead`` (a year folder and its rows cache) as it
    starts; :func:`take_reserved` hands it to one (it serves any report),
    :func:`release_reserved` stops it."""
    if ADOPTABLE:
        reserved = _launch(kernel_name, overview=True, charts=False, ahead=ahead)
        with _reserving:
            _reserved.append(reserved)


def has_reserved() -> bool:
    """Whether a reserved kernel waits to be taken."""
    with _reserving:
        return bool(_reserved)


def take_reserved() -> tuple[AsyncKernelManager, dict] | None:
    """A reserved kernel, now the caller's: adopt it (:func:`adopt_kernel`); its manager stays
    here to reap it."""
    with _reserving:
        if not _reserved:
            return None
        manager, kernel = _reserved.pop()
        _taken.append(manager)
        return manager, kernel


def release_reserved() -> None:
    """Stop and reap the reserved kernels, those no job took and those taken."""
    with _reserving:
        unused, taken = [manager for manager, _ in _reserved], list(_taken)
        _reserved.clear()
        _taken.clear()
    stop_kernels([*unused, *taken])


class _Adopted:
    """The process of a kernel this process did not start (its batch did): as much of
    ``subprocess.Popen`` as jupyter_client's local provisioner uses, by pid. A kernel that
    exited stays a zombie until the batch reaps it: that counts as exited."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid, self.returncode = pid, None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                state = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                state = "X"
            if state in ("Z", "X"):
                self.returncode = -signal.SIGKILL
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout)
            time.sleep(0.05)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


def adopt_kernel(handed: dict) -> None:
    """Make a kernel the batch started (:func:`launch_kernels`) this thread's warm kernel: it
    is used, reset, replaced after a failure and stopped as one started here."""
    manager = AsyncKernelManager(kernel_name=handed["kernel_name"])
    manager.load_connection_info(handed["connection"])
    provisioner = LocalProvisioner(kernel_id=manager.kernel_id, kernel_spec=manager.kernel_spec, parent=manager)
    provisioner.process, provisioner.pid, provisioner.pgid = _Adopted(handed["pid"]), handed["pid"], handed["pgid"]
    provisioner.connection_info = handed["connection"]
    manager.provisioner = provisioner
    try:  # what it says, read from here (the batch keeps the file as long as the kernel runs)
        said = open(handed["said"], "rb") if handed.get("said") else None  # noqa: SIM115  (closed with the kernel)
    except OSError:
        said = None
    _keep(handed["kernel_name"], _connect(manager, said))


def stop_kernels(managers: Iterable[AsyncKernelManager]) -> None:
    """Stop (and reap) the kernels :func:`launch_kernels` started, whether or not a worker
    stopped them first."""
    for manager in managers:
        try:
            _stop(manager)
        except Exception:  # noqa: BLE001  (its files: the others are stopped all the same)
            _kill(manager)
