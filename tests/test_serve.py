"""`evaltools serve`, tested as its users meet it: the real server on a copy of the bundled year,
driven in Debian's Chromium through Playwright (one server for the module), and its guards
spoken to directly."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx

from conftest import PARAMS
from evaltools.domain.reviews import CHANGED, new_decision, record, report_fingerprint, reviews_file
from evaltools.run.serve.app import Live, Settings, build_app
from evaltools.run.serve.render import Renderer, report_page
from evaltools.run.serve.server import ServeError, is_loopback, listen, scope

CHROMIUM = Path("/usr/bin/chromium")
PROJECT = "2024/xiangxi-ggzy/platform-maintenance"
BUDGET = "appropriation: {initial: 0.00, annual: 106.62, executed: 106.62}"


class Server:
    """``evaltools serve`` in its own process, as a user starts it."""

    def __init__(self, workspace: Path, *extra: str) -> None:
        self.workspace, self.extra = workspace, extra
        self.process: subprocess.Popen | None = None
        self.url = ""

    def start(self, until: str = f"{PROJECT}/report.pdf") -> Server:
        self.process = subprocess.Popen([sys.executable, "-m", "evaltools", "serve", str(self.workspace), "--port", "0",
                                         *self.extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        start_new_session=True)
        line = self.process.stdout.readline()
        found = re.search(r"http://\S+", line)
        assert found, line + self.process.stdout.read()
        self.url = found[0].split("?")[0]
        # Its console read as it writes: a pipe nobody reads fills, and the server then waits on its next line.
        self.said: list[str] = []
        threading.Thread(target=lambda: self.said.extend(self.process.stdout), daemon=True).start()
        deadline = time.monotonic() + 120
        while not (self.workspace / "outputs" / until).is_file():  # made when the server starts
            assert self.process.poll() is None and time.monotonic() < deadline, "".join(self.said)
            time.sleep(0.2)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("served")
    shutil.copytree(PARAMS, root / "params")
    return root


@pytest.fixture(scope="module")
def server(workspace: Path):
    served = Server(workspace).start()
    yield served
    served.stop()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        pytest.skip("Chromium is not installed (scripts/system-deps.sh --test installs it: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def _project_file(workspace: Path) -> Path:
    return workspace / "params" / "2024" / "xiangxi-ggzy" / "platform-maintenance.yaml"


def _edit(workspace: Path, old: str, new: str) -> None:
    path = _project_file(workspace)
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


# --- in the browser ------------------------------------------------------------------------------


def test_the_index_opens_and_links_to_each_report(server, page):
    page.goto(server.url)
    assert page.url.endswith("/2024/index.html")
    assert page.locator("tr[data-report='xiangxi-ggzy/platform-maintenance'] td.decision").inner_text().startswith("未审")
    page.locator("tr[data-report='xiangxi-ggzy/platform-maintenance'] a", has_text="HTML").click()
    page.wait_for_url(f"**/{PROJECT}/report.html")
    assert "公共资源交易平台运行维护费" in page.title() + page.locator("body").inner_text()
    assert page.locator("form.serve-decision").is_visible()
    pdf = urllib.request.urlopen(f"{server.url}{PROJECT}/report.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.read(5) == b"%PDF-"


def test_a_saved_number_refreshes_the_open_report(server, workspace, page):
    page.goto(f"{server.url}{PROJECT}/report.html")
    assert "96.93%" not in page.locator("body").inner_text()
    _edit(workspace, BUDGET, BUDGET.replace("annual: 106.62", "annual: 110.00"))
    page.wait_for_function("document.body?.innerText?.includes('96.93%')")  # 106.62 / 110.00, reloaded by itself


def test_a_file_saved_invalid_shows_its_errors_beside_the_last_good_report(server, workspace, page):
    page.goto(f"{server.url}{PROJECT}/report.html")
    _edit(workspace, "  fund_type: 一般公共预算\n", "  fund_type: [一般公共预算\n")  # half-written: an open bracket
    error = page.locator(".serve-error pre")
    error.wait_for()
    assert "platform-maintenance.yaml:" in error.inner_text()  # the file and its line
    assert "96.93%" in page.locator("body").inner_text()  # the last good report, still below
    page.reload()
    assert "platform-maintenance.yaml:" in page.locator(".serve-error pre").inner_text()  # the server keeps it
    _edit(workspace, "  fund_type: [一般公共预算\n", "  fund_type: 一般公共预算\n")
    page.wait_for_function("!document.querySelector('.serve-error')")


def test_a_decision_is_recorded_and_kept_after_a_restart(server, workspace, page):
    page.goto(f"{server.url}{PROJECT}/report.html")
    form = page.locator("form.serve-decision")
    form.get_by_label("退回修改").check()
    form.locator("input[name=comment]").fill("<b>执行率</b> 请核对全年预算数")
    form.locator("input[name=reviewer]").fill("王审核")
    form.get_by_role("button", name="保存决定").click()
    page.wait_for_function("document.querySelector('.serve-status') && "
                           "document.querySelector('.serve-status').textContent === '退回修改'")
    assert page.locator(".serve-comment").inner_text() == "<b>执行率</b> 请核对全年预算数"  # text, not markup
    saved = yaml.safe_load(reviews_file(workspace, 2024).read_text(encoding="utf-8"))
    [entry] = saved["reports"]["xiangxi-ggzy/platform-maintenance"]
    assert (entry["decision"], entry["reviewer"]) == ("退回修改", "王审核")

    server.stop()
    server.start()
    page.goto(server.url)
    cell = page.locator("tr[data-report='xiangxi-ggzy/platform-maintenance'] td.decision")
    assert cell.inner_text().startswith("退回修改（王审核")
    assert cell.locator(".comment").inner_text() == "<b>执行率</b> 请核对全年预算数"


def test_a_report_changed_after_its_decision_reads_changed_awaiting_review(server, workspace, page):
    page.goto(server.url)
    _edit(workspace, "annual: 110.00", "annual: 106.62")
    page.wait_for_function(f"document.querySelector(\"tr[data-report='xiangxi-ggzy/platform-maintenance'] "
                           f"td.decision\")?.innerText?.startsWith('{CHANGED}')")
    out = subprocess.run([sys.executable, "-m", "evaltools", "reviews", str(workspace), "--json"],
                         capture_output=True, text=True, check=True).stdout
    [row] = json.loads(out)
    assert (row["status"], row["decision"]) == (CHANGED, "退回修改")


def test_the_index_records_a_decision_in_its_row(server, page):
    page.goto(server.url)
    row = page.locator("tr[data-report='xiangxi-ggzy/platform-maintenance']")
    row.locator("select").select_option("通过")
    row.get_by_role("button", name="保存").click()
    page.wait_for_function("document.querySelector(\"tr[data-report='xiangxi-ggzy/platform-maintenance'] "
                           "td.decision\")?.innerText?.startsWith('通过')")
    department = page.locator("p.department-report[data-report='xiangxi-ggzy/_department']")
    department.locator("select").select_option("退回修改")
    department.get_by_role("button", name="保存").click()
    page.wait_for_function("document.querySelector(\"p.department-report\")?.innerText?.includes('评审：退回修改')")


def test_a_decision_being_written_is_not_lost_to_the_index_made_again(server, workspace, page):
    """The index made again while a reviewer has chosen a decision but not saved it: the page waits
    (a reload would lose the choice, or save it from a page being replaced), and reloads once
    it is saved."""
    page.goto(server.url)
    department = page.locator("p.department-report[data-report='xiangxi-ggzy/_department']")
    department.locator("select").select_option("待审")
    before = urllib.request.urlopen(server.url).read()
    annual = re.search(r"annual: (\d+\.\d\d)", _project_file(workspace).read_text(encoding="utf-8"))[1]
    _edit(workspace, f"annual: {annual}", f"annual: {float(annual) + 1:.2f}")
    deadline = time.monotonic() + 60
    while urllib.request.urlopen(server.url).read() == before:  # the index made again
        assert time.monotonic() < deadline
        time.sleep(0.2)
    time.sleep(1)  # its reload sent
    assert department.locator("select").input_value() == "待审"  # not reloaded under the choice
    department.get_by_role("button", name="保存").click()
    page.wait_for_function("document.querySelector(\"p.department-report\")?.innerText?.includes('评审：待审')")


def test_decisions_saved_outside_the_server_show_in_its_index(server, workspace, page):
    """Another reviewer's server, a hand edit or a git pull: the open index follows."""
    page.goto(server.url)
    key = report_fingerprint(workspace / "outputs" / PROJECT)
    record(reviews_file(workspace, 2024), new_decision("xiangxi-ggzy/platform-maintenance", "待审", "另一位审核人", "赵", key))
    page.wait_for_function("document.querySelector(\"tr[data-report='xiangxi-ggzy/platform-maintenance'] "
                           "td.decision\")?.innerText?.startsWith('待审（赵')")


def test_reviewers_saving_at_once_lose_nothing(server, workspace):
    """Twelve decisions posted to the server at the same moment: every one is in the file."""
    decided = reviews_file(workspace, 2024)  # by the browser's tests before, if they ran
    before = len(yaml.safe_load(decided.read_text(encoding="utf-8"))["reports"][
        "xiangxi-ggzy/platform-maintenance"]) if decided.is_file() else 0

    def post(n: int) -> int:
        body = json.dumps({"year": "2024", "report": "xiangxi-ggzy/platform-maintenance", "decision": "待审",
                           "comment": f"并发 {n}", "reviewer": f"审核人{n}"}).encode()
        request = urllib.request.Request(f"{server.url}_serve/api/reviews", body, method="POST",
                                         headers={"Content-Type": "application/json", "X-Requested-With": "evaltools"})
        with urllib.request.urlopen(request) as answer:
            return answer.status

    with ThreadPoolExecutor(max_workers=12) as pool:
        assert list(pool.map(post, range(12))) == [200] * 12
    entries = yaml.safe_load(reviews_file(workspace, 2024).read_text(encoding="utf-8"))["reports"][
        "xiangxi-ggzy/platform-maintenance"]
    assert len(entries) == before + 12
    assert sorted(e["comment"] for e in entries[before:]) == sorted(f"并发 {n}" for n in range(12))


# --- the guards, spoken to directly ----------------------------------------------------------------


class Client:
    """The application in this process, spoken to over ASGI (httpx), keeping its cookies."""

    def __init__(self, app) -> None:
        self.app, self.cookies = app, httpx.Cookies()

    def request(self, method: str, url: str, **kw) -> httpx.Response:
        async def send() -> httpx.Response:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://testserver",
                                         cookies=self.cookies) as client:
                answer = await client.request(method, url, **kw)
                self.cookies.update(answer.cookies)
                return answer

        with ThreadPoolExecutor(max_workers=1) as thread:  # Playwright's loop runs in this thread
            return thread.submit(asyncio.run, send()).result()

    def get(self, url: str, **kw) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw) -> httpx.Response:
        return self.request("POST", url, **kw)


@pytest.fixture
def client(server, workspace):
    """The same application in this process, on the outputs the server made (nothing rendered here)."""
    settings = Settings(workspace, workspace / "outputs", ["2024"], hosts={"testserver"})
    return Client(build_app(settings, Renderer([workspace / "params"], settings.out_root, print), Live()))


WRITE = {"Content-Type": "application/json", "X-Requested-With": "evaltools"}


def test_no_path_leads_out_of_the_outputs(client, workspace):
    (workspace / "outputs" / "2024" / "outside").symlink_to(workspace / "params")
    for path in ("/../params/2024/xiangxi-ggzy/_department.yaml", "/2024/%2e%2e/%2e%2e/params/2024",
                 "/2024/outside/2024/xiangxi-ggzy/_department.yaml", "/2024/.evaltools.lock", "/%2Fetc/passwd"):
        assert client.get(path).status_code == 404, path
    assert client.get(f"/{PROJECT}/report.html").status_code == 200


def test_a_request_naming_another_host_is_refused(client):
    assert client.get("/2024/index.html", headers={"Host": "attacker.example:8765"}).status_code == 403


def test_a_write_from_another_site_or_a_plain_form_is_refused(client):
    body = json.dumps({"year": "2024", "report": "xiangxi-ggzy/platform-maintenance", "decision": "通过"})
    assert client.post("/_serve/api/reviews", content=body, headers={**WRITE, "Origin": "http://attacker.example"}
                       ).status_code == 403
    assert client.post("/_serve/api/reviews", data={"decision": "通过"}).status_code == 403


def test_a_decision_on_no_report_or_of_no_kind_is_refused_with_a_reason(client):
    for given, said in (({"report": "../../etc"}, "没有报告"), ({"report": "xiangxi-ggzy/nothing"}, "没有报告"),
                        ({"decision": "同意"}, "决定应为")):
        body = {"year": "2024", "report": "xiangxi-ggzy/platform-maintenance", "decision": "通过", **given}
        answer = client.post("/_serve/api/reviews", content=json.dumps(body), headers=WRITE)
        assert answer.status_code == 400 and said in answer.json()["error"], given


def test_on_a_network_writes_need_the_token(server, workspace):
    settings = Settings(workspace, workspace / "outputs", ["2024"], token="s3cret")
    client = Client(build_app(settings, Renderer([workspace / "params"], settings.out_root, print), Live()))
    body = json.dumps({"year": "2024", "report": "xiangxi-ggzy/platform-maintenance", "decision": "待审"})
    assert client.post("/_serve/api/reviews", content=body, headers=WRITE).status_code == 403
    assert client.get("/?token=wrong", follow_redirects=False).status_code == 403
    assert client.get("/?token=s3cret", follow_redirects=False).cookies.get("evaltools_token") == "s3cret"
    assert client.post("/_serve/api/reviews", content=body, headers=WRITE).status_code == 200  # the cookie


def test_only_the_loopback_is_the_default():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")


def test_a_port_taken_is_said_with_what_to_do():
    taken = listen("127.0.0.1", 0)
    try:
        with pytest.raises(ServeError, match="请换一个 --port"):
            listen("127.0.0.1", taken.getsockname()[1])
    finally:
        taken.close()


def test_serve_needs_a_workspace(tmp_path):
    with pytest.raises(ServeError, match="找不到 params/"):
        scope(tmp_path)


def test_a_report_page_is_named_as_the_batch_lays_it_out(workspace):
    assert report_page(_project_file(workspace), workspace / "outputs") == f"/{PROJECT}/report.html"
    department = _project_file(workspace).with_name("_department.yaml")
    assert report_page(department, workspace / "outputs") == "/2024/xiangxi-ggzy/_department/report.html"


def test_a_report_offers_its_pdf_word_and_excel_self_evaluation_form(client):
    page = client.get(f"/{PROJECT}/report.html").text
    for link in (f'href="/{PROJECT}/report.pdf"', f'href="/{PROJECT}/report.docx"',
                 'href="/_serve/xlsx/2024/xiangxi-ggzy/platform-maintenance.xlsx"'):
        assert link in page
    answer = client.get("/_serve/xlsx/2024/xiangxi-ggzy/platform-maintenance.xlsx")
    assert answer.status_code == 200 and "attachment" in answer.headers["content-disposition"]
    from io import BytesIO

    from openpyxl import load_workbook

    book = load_workbook(BytesIO(answer.content))
    assert any("公共资源交易平台运行维护费" in str(cell.value) for sheet in book for row in sheet.iter_rows() for cell in row)
    assert client.get("/_serve/xlsx/2024/xiangxi-ggzy/..%2F..%2F2024.xlsx").status_code == 404
    assert client.get("/_serve/xlsx/2024/xiangxi-ggzy/nothing.xlsx").status_code == 404


def test_a_step_reloads_the_pages_it_made_and_says_what_failed(workspace):
    from evaltools.run.batch import Result
    from evaltools.run.serve.render import _change

    out = workspace / "outputs"
    project, page = _project_file(workspace), f"/{PROJECT}/report.html"
    folder = str(out / PROJECT)
    html = Result(str(project), "done", folder=folder, files={"html": f"{folder}/report.html"})
    assert _change([html], out, 0.5).reload == {page, "/2024/index.html"}
    pdf_only = Result(str(project), "done", folder=folder, files={"pdf": f"{folder}/report.pdf"})
    assert _change([pdf_only], out, 0.5, indexes=False).reload == set()  # the page shows no PDF: not reloaded
    failed = _change([Result(str(project), "failed", message="x.yaml:3: budget: 应为数字")], out, 0.5)
    assert failed.errors == {page: "x.yaml:3: budget: 应为数字"} and failed.reload == {"/2024/index.html"}
    assert _change([Result(str(project), "skipped")], out, 0.1).fixed == {page}  # put back as it was
    overview = _change([Result(str(workspace / "params" / "2024"), "failed", message="总览失败")], out, 1.0)
    assert overview.errors == {"/2024/overview.html": "总览失败"}
