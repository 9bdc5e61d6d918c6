"""``evaltools serve``: the server's life: where it works, what it listens on, what it watches.

uvicorn runs the application; ``watchfiles`` (Rust's notify: inotify, FSEvents,
ReadDirectoryChangesW) watches ``params/`` and ``notebooks/``; the renderer makes again what a
change touched. One process: the warm kernel and the loaded exporters stay between saves.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import re
import secrets
import socket
from collections.abc import Callable
from pathlib import Path

import uvicorn
import watchfiles

from evaltools.domain.reviews import REVIEWS_FOLDER
from evaltools.domain.workspace import absolute, workspace_root
from evaltools.run.batch import year_folders
from evaltools.run.serve.app import Live, Settings, build_app
from evaltools.run.serve.render import Change, Renderer, start_background

DEFAULT_PORT = 8765
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class ServeError(Exception):
    """The server cannot start here (not a workspace, the port taken); ``str()`` says what to do."""


def scope(path: Path | str) -> tuple[Path, list[Path], list[str]]:
    """The workspace, the params folders to watch and render, and their years, for ``path``: a
    workspace (its params/), a year folder or a department folder."""
    path = absolute(path)
    if not path.is_dir():
        raise ServeError(f"{path}：不是文件夹；应为工作区（含 params/）、年度文件夹或部门文件夹")
    if (path / "params").is_dir():
        root, paths = path, [path / "params"]
    elif "params" in path.parts[:-1] or path.name == "params":
        root, paths = workspace_root(path / "_"), [path]
    else:
        raise ServeError(f"{path}：找不到 params/ 文件夹：请在工作区中运行，或给出工作区、年度或部门文件夹")
    years = sorted({p.name for p in year_folders(paths)} | {p.parent.name for p in paths if re.fullmatch(r"\d{4}", p.parent.name)})
    if not years:
        raise ServeError(f"{path}：没有年度文件夹（如 params/2024）")
    return root, paths, years


def listen(host: str, port: int | None) -> socket.socket:
    """A socket bound to ``host``: ``port``, or the first free one from 8765 when none is given."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for candidate in [port] if port is not None else range(DEFAULT_PORT, DEFAULT_PORT + 20):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, candidate))
        except OSError as exc:
            sock.close()
            if port is not None or candidate == DEFAULT_PORT + 19:
                raise ServeError(f"无法在 {host}:{candidate} 上监听（{exc.strerror or exc}）：请换一个 --port") from None
            continue
        sock.listen(128)
        sock.set_inheritable(True)
        return sock
    raise AssertionError("unreachable")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _watched(root: Path, paths: list[Path]) -> list[Path]:
    """The params folders served and the workspace's notebooks (its rules and attachments are in params/)."""
    return [*paths, *([root / "notebooks"] if (root / "notebooks").is_dir() else [])]


class _Watch(watchfiles.DefaultFilter):
    """Parameter files, rules, notebooks and attachments; not editors' swap and backup files, nor
    the checkpoints Jupyter keeps."""

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        name = Path(path).name
        return super().__call__(change, path) and not name.startswith((".", "~")) and ".ipynb_checkpoints" not in path


async def _watch(folders: list[Path], reviews: Path, renderer: Renderer, live: Live, stop: asyncio.Event) -> None:
    """A saved input: made again; decisions changed outside the server (edited, pulled with git):
    the year's index again."""
    watched = [*folders, *([reviews] if reviews.is_dir() else [])]
    # step: a save is seen 30 ms after the last write of it (watchfiles' default waits 50 ms)
    async for changes in watchfiles.awatch(*watched, watch_filter=_Watch(), stop_event=stop, step=30, debounce=400):
        years = {Path(p).stem for _, p in changes if Path(p).parent == reviews and Path(p).suffix == ".yaml"}
        for year in sorted(years & set(renderer.years)):
            await asyncio.to_thread(renderer.refresh_index, year)
            live.publish(Change(reload={f"/{year}/index.html"}))
        if any(Path(p).parent != reviews for _, p in changes):
            renderer.changed()


def _said(change: Change) -> str | None:
    """A step's line on the console: what was made again, or what failed."""
    pages = sorted(p.removesuffix("/report.html") for p in change.reload if p.endswith("/report.html"))
    if change.errors:
        return "\n".join(f"错误 {message}" for message in change.errors.values())
    return f"已更新 {'、'.join(pages)}（{change.seconds:.2f} 秒）" if pages else None


def serve(path: Path | str = ".", host: str = "127.0.0.1", port: int | None = None, reviewer: str = "",
          token: str | None = None, say: Callable[[str], None] = print) -> None:
    """Serve the outputs of ``path`` (rendering what is missing first) until interrupted."""
    root, paths, years = scope(path)
    sock = listen(host, port)
    bound = sock.getsockname()[1]
    loopback = is_loopback(host)
    if not loopback:
        token = token or secrets.token_urlsafe(24)
    hosts = {f"{name}:{bound}" for name in ("127.0.0.1", "localhost", "[::1]")} if loopback else set()
    settings = Settings(root, root / "outputs", years, token, hosts, reviewer)
    live = Live()
    loop_holder: dict[str, asyncio.AbstractEventLoop] = {}

    def notify(change: Change) -> None:  # from the renderer's thread
        loop = loop_holder.get("loop")
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(live.publish, change)
        if (line := _said(change)) is not None:
            say(line)

    renderer = Renderer(paths, settings.out_root, notify, years=years, background=start_background())
    app = build_app(settings, renderer, live)
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2, lifespan="off")
    server = uvicorn.Server(config)
    shown = socket.gethostname() if host in ("0.0.0.0", "::") else host
    address = f"http://{f'[{shown}]' if ':' in shown else shown}:{bound}/"
    say(f"evaltools serve：{address}" + (f"?token={token}" if token else ""))
    if token:
        say("（在网络上监听：记录决定需要上面地址中的令牌）")
    say(f"工作区 {root}；监视 {', '.join(str(p) for p in _watched(root, paths))}；Ctrl-C 停止")

    async def main() -> None:
        loop_holder["loop"] = asyncio.get_running_loop()
        stop = asyncio.Event()
        renderer.start()
        watcher = asyncio.create_task(_watch(_watched(root, paths), root / REVIEWS_FOLDER, renderer, live, stop))
        try:
            await server.serve(sockets=[sock])
        finally:
            live.closing.set()
            stop.set()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(watcher, timeout=2)
            await asyncio.to_thread(renderer.stop)

    try:
        asyncio.run(main())
    finally:
        sock.close()
