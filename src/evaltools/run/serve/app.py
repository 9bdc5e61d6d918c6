"""The web application of ``evaltools serve``: the year's outputs, live, and the reviewers' decisions.

Starlette serves ``outputs/`` as it is on disk (HTML, PDF, Word; nothing from elsewhere: no
CDN, no remote font) and adds to each HTML page one bar: the errors of a file saved invalid
(the last good report stays below them), the decision form on a report, and a script that
reloads the page when what it shows was made again (server-sent events).

Safe by default: every path served is checked to stay under ``outputs/`` (no ``..``, no
hidden file, no symbolic link out); writes (decisions) need a same-origin JSON request, and on
a network the server's token; on the loopback, requests naming another host are refused (DNS
rebinding). Comments are text: escaped in the HTML made here, set as text by the script.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from evaltools.domain.markup import Html, escape, join, tag
from evaltools.domain.reviews import (
    DECISIONS,
    UNREVIEWED,
    Decision,
    ReviewError,
    current,
    new_decision,
    read_decisions,
    record,
    report_fingerprint,
    reviews_file,
)
from evaltools.domain.workspace import load_project
from evaltools.domain.yamlio import ParamsError
from evaltools.run.serve.render import Change, Renderer
from evaltools.writers.xlsx import export_workbook

SCRIPT = Path(__file__).resolve().parents[2] / "templates" / "serve" / "serve.js"
TOKEN_COOKIE = "evaltools_token"
SAID_INVALID = "参数有误，下面仍是上次成功生成的报告："
SAID_ALL = "暂时无法生成报告，下面仍是上次的结果（稍后自动重试）："
MAX_BODY = 64 * 1024  # a decision is a few lines of text
_BODY_START = re.compile(rb"<body[^>]*>", re.IGNORECASE)
_REPORT_PAGE = re.compile(r"/(\d{4})/([^/]+)/([^/]+)/report\.html")


@dataclass
class Settings:
    root: Path  # the workspace
    out_root: Path  # its outputs/
    years: list[str]
    token: str | None = None  # required for writes when set (a server on a network)
    hosts: set[str] = field(default_factory=set)  # Host headers accepted (the loopback's), empty: any
    reviewer: str = ""  # the name the decision form starts with


class Live:
    """The open pages' event streams: each gets every :class:`Change`."""

    def __init__(self) -> None:
        self.queues: set[asyncio.Queue] = set()
        self.closing = asyncio.Event()

    def publish(self, change: Change) -> None:
        message = json.dumps({"reload": sorted(change.reload), "errors": change.errors, "seconds": change.seconds},
                             ensure_ascii=False)
        for queue in list(self.queues):
            with contextlib.suppress(asyncio.QueueFull):  # a page that reads nothing does not grow the server
                queue.put_nowait(message)

    async def stream(self, request: Request):
        queue: asyncio.Queue = asyncio.Queue(maxsize=64)
        self.queues.add(queue)
        try:
            yield "retry: 500\n\n"  # after a restart of the server, the page reconnects at once
            while not self.closing.is_set() and not await request.is_disconnected():
                try:
                    message = await asyncio.wait_for(queue.get(), timeout=1.0)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield f"data: {message}\n\n"
        finally:
            self.queues.discard(queue)


def _inside(out_root: Path, path: str) -> Path | None:
    """The file ``path`` names under ``out_root``, or None: not a way up, not hidden, not a link out."""
    parts = [p for p in path.split("/") if p]
    if any(p in ("..", ".") or p.startswith(".") or "\\" in p or "\x00" in p for p in parts):
        return None
    root = out_root.resolve()
    target = root.joinpath(*parts).resolve() if parts else root
    if not target.is_relative_to(root):
        return None
    return target


def _bar(settings: Settings, renderer: Renderer, page: str) -> Html:
    """What the server adds to a page: the errors it should see, and on a report its decision form."""
    errors = {p: m for p, m in renderer.errors.items() if p in (page, "*") or not _REPORT_PAGE.fullmatch(page)}
    shown = [tag("div", tag("strong", SAID_ALL if where == "*" else SAID_INVALID), tag("pre", message),
                 class_="serve-error", data_page=where) for where, message in sorted(errors.items())]
    match = _REPORT_PAGE.fullmatch(page)
    form = join([_downloads(settings, match[1], match[2], match[3]),
                 _decision_form(settings, match[1], f"{match[2]}/{match[3]}")]) if match else Html("")
    attrs = {"data_page": page, "data_reviewer": settings.reviewer, "data_token": "1" if settings.token else "0"}
    return tag("div", *shown, form, id="evaltools-serve", **attrs)


def _downloads(settings: Settings, year: str, department: str, report: str) -> Html:
    """The report's files to take away: its PDF and Word files, and a project's 自评表 in Excel."""
    folder = settings.out_root / year / department / report
    links = [tag("a", label, href=f"/{year}/{department}/{report}/{name}", download="")
             for name, label in (("report.pdf", "PDF"), ("report.docx", "Word")) if (folder / name).is_file()]
    if (settings.root / "params" / year / department / f"{report}.yaml").is_file():
        links.append(tag("a", "Excel 自评表", href=f"/_serve/xlsx/{year}/{department}/{report}.xlsx", download=""))
    return tag("div", "下载：", join(links, " · "), class_="serve-downloads") if links else Html("")


def _workbook(settings: Settings, year: str, department: str, report: str) -> bytes:
    """The 自评表 of the project ``report`` as an Excel workbook, made from its parameter file now."""
    params = (settings.root / "params").resolve()
    file = (params / year / department / f"{report}.yaml").resolve()
    if not file.is_relative_to(params) or not file.is_file():
        raise ReviewError(f"没有参数文件 params/{year}/{department}/{report}.yaml")
    project = load_project(file)
    with tempfile.TemporaryDirectory(prefix="evaltools-xlsx-") as scratch:
        return export_workbook([(project.params, project.rules)], Path(scratch) / "自评表.xlsx").read_bytes()


def _decision_form(settings: Settings, year: str, report: str) -> Html:
    try:
        decided: Decision | None = current(read_decisions(reviews_file(settings.root, year))).get(report)
    except ParamsError as exc:
        return tag("div", tag("pre", str(exc)), class_="serve-error")
    status = decided.status(report_fingerprint(settings.out_root / year / report)) if decided else UNREVIEWED
    said = Html("")
    if decided:
        said = tag("span", f"（{decided.reviewer or '未署名'}，{decided.time[:16].replace('T', ' ')} UTC）",
                   tag("q", decided.comment, class_="serve-comment") if decided.comment else "")
    choices = [tag("label", _input("decision", type="radio", value=d,
                                   checked="checked" if decided and decided.decision == d else None), d) for d in DECISIONS]
    return tag("form", tag("span", "评审：", tag("strong", status, class_="serve-status"), said, class_="serve-current"),
               join(choices, " "), _input("comment", placeholder="意见（退回修改时写明原因）", maxlength="4000"),
               _input("reviewer", placeholder="审核人", maxlength="64", value=settings.reviewer),
               tag("button", "保存决定", type="submit"), tag("span", "", class_="serve-said", role="status"),
               class_="serve-decision", data_year=year, data_report=report)


def _input(field: str, **attrs: object) -> Html:
    """An ``<input name=…>`` (``tag`` takes the element's name as its first argument)."""
    return Html(str(tag("input", **attrs)).replace("<input", f'<input name="{field}"', 1))


def _decision(settings: Settings, body: bytes) -> tuple[str, Decision]:
    """The year and the decision a request asks to record, on a report that exists, with the
    fingerprint the report has now."""
    given = json.loads(body) if len(body) <= MAX_BODY else None
    if not isinstance(given, dict):
        raise ReviewError("请求应为 JSON 对象：year、report、decision、comment、reviewer")
    year = str(given.get("year", ""))
    if year not in settings.years:
        raise ReviewError(f"没有 {year!r} 年度")
    report = str(given.get("report", ""))
    folder = _inside(settings.out_root / year, report)
    fingerprint = report_fingerprint(folder) if folder else None
    if fingerprint is None:
        raise ReviewError(f"{year} 年度没有报告 {report!r}（尚未生成？）")
    return year, new_decision(report, given.get("decision"), given.get("comment", ""),
                              given.get("reviewer", "") or settings.reviewer, fingerprint)


def _inject(html: bytes, bar: Html) -> bytes:
    added = f'{bar}<script src="/_serve/serve.js" defer></script>'.encode()
    found = _BODY_START.search(html)
    return html[:found.end()] + added + html[found.end():] if found else added + html


def build_app(settings: Settings, renderer: Renderer, live: Live) -> Starlette:
    async def home(request: Request) -> Response:
        if request.query_params.get("token") and settings.token:
            return _with_token(request, settings)
        for year in sorted(settings.years, reverse=True):
            if (settings.out_root / year / "index.html").is_file():
                return RedirectResponse(f"/{year}/index.html")
        waiting = tag("p", "正在生成报告，完成后本页自动打开索引……")
        page = f"<!DOCTYPE html><html lang=zh><head><meta charset=utf-8><title>evaltools serve</title></head><body>{waiting}</body></html>"
        return HTMLResponse(_inject(page.encode(), _bar(settings, renderer, "/")).decode().replace(
            '<div id="evaltools-serve"', '<div id="evaltools-serve" data-waiting="1"', 1))

    async def script(request: Request) -> Response:
        return FileResponse(SCRIPT, media_type="text/javascript; charset=utf-8", headers={"Cache-Control": "no-cache"})

    async def events(request: Request) -> Response:
        return StreamingResponse(live.stream(request), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def decide(request: Request) -> Response:
        refused = _refuse_write(settings, request)
        if refused:
            return refused
        if not request.headers.get("content-length", "").isdigit() or int(request.headers["content-length"]) > MAX_BODY:
            return JSONResponse({"error": f"请求应注明长度，且不超过 {MAX_BODY} 字节"}, status_code=413)
        try:
            year, decision = _decision(settings, await request.body())
            await run_in_threadpool(record, reviews_file(settings.root, year), decision)
        except (ReviewError, ValueError, ParamsError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        await run_in_threadpool(renderer.refresh_index, year)
        report = decision.report
        live.publish(Change(reload={f"/{year}/index.html", f"/{year}/{report}/report.html"}))
        return JSONResponse({"saved": decision.decision, "report": report, "time": decision.time})

    async def workbook(request: Request) -> Response:
        year, department, report = (request.path_params[k] for k in ("year", "department", "report"))
        if any(part.startswith(".") or "/" in part or "\\" in part for part in (year, department, report)):
            return HTMLResponse("<!DOCTYPE html><meta charset=utf-8><p>没有这个文件。</p>", status_code=404)
        try:
            data = await run_in_threadpool(_workbook, settings, year, department, report)
        except (ReviewError, ParamsError) as exc:
            return HTMLResponse(f"<!DOCTYPE html><meta charset=utf-8><pre>{escape(str(exc))}</pre>", status_code=404)
        name = quote(f"{report}-自评表.xlsx")
        return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})

    async def files(request: Request) -> Response:
        path = request.path_params["path"]
        target = _inside(settings.out_root, path)
        if target is not None and target.is_dir() and (target / "index.html").is_file():
            return RedirectResponse("/" + "/".join(p for p in (path.strip("/"), "index.html") if p))
        if target is None or not target.is_file():
            return HTMLResponse("<!DOCTYPE html><meta charset=utf-8><p>没有这个文件。</p>", status_code=404)
        if target.suffix != ".html":
            return FileResponse(target, headers={"Cache-Control": "no-cache"})
        data = await run_in_threadpool(target.read_bytes)
        page = "/" + target.relative_to(settings.out_root.resolve()).as_posix()
        return Response(_inject(data, _bar(settings, renderer, page)), media_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-store"})

    return Starlette(routes=[
        Route("/", home), Route("/_serve/serve.js", script), Route("/_serve/events", events),
        Route("/_serve/api/reviews", decide, methods=["POST"]),
        Route("/_serve/xlsx/{year}/{department}/{report}.xlsx", workbook), Route("/{path:path}", files),
    ], middleware=[Middleware(_HostGuard, hosts=settings.hosts)])


class _HostGuard:
    """On the loopback, a request naming another host (a page of another site, its name pointed
    at 127.0.0.1: DNS rebinding) is refused before anything else. Plain ASGI, so that the event
    stream is not buffered."""

    def __init__(self, app, hosts: set[str]) -> None:
        self.app, self.hosts = app, hosts

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and self.hosts and Headers(scope=scope).get("host", "") not in self.hosts:
            await Response("Host 不被接受：请用服务器打印的地址打开", status_code=403)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _with_token(request: Request, settings: Settings) -> Response:
    """Visiting with ``?token=…`` (the address printed at start) keeps the token in a cookie."""
    if not hmac.compare_digest(request.query_params["token"], settings.token or ""):
        return HTMLResponse("<!DOCTYPE html><meta charset=utf-8><p>令牌不对：请用服务器启动时打印的地址。</p>", status_code=403)
    response = RedirectResponse("/")
    response.set_cookie(TOKEN_COOKIE, settings.token, httponly=True, samesite="strict")
    return response


def _refuse_write(settings: Settings, request: Request) -> Response | None:
    """A write must come from a page of this server (same origin, JSON, the script's header) and,
    on a network, carry the token."""
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.headers.get("host"):
        return JSONResponse({"error": "拒绝：请求来自其他网站"}, status_code=403)
    if request.headers.get("x-requested-with") != "evaltools" or \
            not request.headers.get("content-type", "").startswith("application/json"):
        return JSONResponse({"error": "拒绝：只接受本服务器页面发出的请求"}, status_code=403)
    if settings.token:
        given = request.headers.get("x-evaltools-token") or request.cookies.get(TOKEN_COOKIE) or ""
        if not hmac.compare_digest(given, settings.token):
            return JSONResponse({"error": "需要令牌：请用服务器启动时打印的带 token 的地址打开"}, status_code=403)
    return None
