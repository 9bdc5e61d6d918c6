"""Save → refreshed page with `evaltools serve`: how long an analyst waits to see an edit.

A copy of the bundled workspace is served (`evaltools serve --port 0`, as a user starts it);
once its first rendering is done, Debian's Chromium (Playwright) opens the project's report. Then
``--saves`` times: the project's 全年预算数 is saved with a new value, and the clock runs from just
before the file is written until the open page shows the new 预算执行率 (the page reloads by
itself). Between saves the server is left to finish the PDF, the Word file and the overview
(``--pause`` seconds); ``--no-pause`` saves again at once, while those are being made.

    .venv/bin/python benchmarks/serve_refresh.py --saves 10
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
PROJECT = Path("params/2024/xiangxi-ggzy/platform-maintenance.yaml")
PAGE = "2024/xiangxi-ggzy/platform-maintenance/report.html"
BUDGET = re.compile(r"appropriation: \{initial: 0\.00, annual: [\d.]+, executed: 106\.62\}")


def _start(workspace: Path) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([str(Path(sys.executable).with_name("evaltools")), "serve", str(workspace), "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    url = re.search(r"http://\S+", process.stdout.readline())[0]
    for done in ("outputs/2024/overview.pdf", "outputs/2024/xiangxi-ggzy/platform-maintenance/report.docx"):
        while not (workspace / done).is_file():
            time.sleep(0.2)
    return process, url


def _server_seconds(url: str, found: list[float]) -> None:
    """The server's own time for each step that reloaded the report (its event stream)."""
    with urllib.request.urlopen(f"{url}_serve/events") as stream:
        for line in stream:
            if line.startswith(b"data: "):
                change = json.loads(line[6:])
                if f"/{PAGE}" in change["reload"]:
                    found.append(change["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--saves", type=int, default=10)
    parser.add_argument("--pause", type=float, default=6.0, help="seconds between saves (the downloads are made meanwhile)")
    parser.add_argument("--no-pause", dest="pause", action="store_const", const=0.0)
    args = parser.parse_args()
    workspace = Path(tempfile.mkdtemp(prefix="evaltools-serve-bench-"))
    shutil.copytree(ROOT / "params", workspace / "params")
    process, url = _start(workspace)
    server: list[float] = []
    threading.Thread(target=_server_seconds, args=(url, server), daemon=True).start()
    waits = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(url + PAGE)
            project = workspace / PROJECT
            for n in range(args.saves):
                annual = Decimal(110 + n)
                rate = (Decimal("106.62") / annual * 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
                text = BUDGET.sub(f"appropriation: {{initial: 0.00, annual: {annual}.00, executed: 106.62}}",
                                  project.read_text(encoding="utf-8"))
                started = time.perf_counter()
                project.write_text(text, encoding="utf-8")
                page.wait_for_function(f"document.body && document.body.innerText.includes('{rate}%')", polling=10,
                                       timeout=60_000)
                waits.append(time.perf_counter() - started)
                print(f"save {n + 1}: {waits[-1]:.2f} s (执行率 {rate}%)", flush=True)
                time.sleep(args.pause)
            browser.close()
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)
        shutil.rmtree(workspace, ignore_errors=True)
    print(f"save → refreshed page, {len(waits)} saves: median {statistics.median(waits):.2f} s, "
          f"min {min(waits):.2f} s, max {max(waits):.2f} s")
    if server:
        print(f"the server's step (plan, execute, HTML, index): median {statistics.median(server):.2f} s")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
