"""`evaltools lab`: JupyterLab on the workspace, and the notebooks run there as they are, from
their folder, by the kernel that has evaltools. A real server on localhost, driven through its
REST API and its kernel's websocket, as the browser drives it."""

import copy
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
import websocket

from conftest import copy_example

NOTEBOOKS = {
    "project_self_evaluation.ipynb": "公共资源交易平台运行维护费",
    "department_overall.ipynb": "部门整体支出绩效自评报告",
    "year_overview.ipynb": "2024年度预算绩效自评总览",
}
DEADLINE = 90  # seconds for the server to answer, and for each notebook


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token

    def request(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - localhost only
            text = response.read().decode()
        return json.loads(text) if text else {}

    def run_cells(self, kernel_id: str, sources: list[str]) -> list[dict]:
        """Execute each source in the kernel; the messages each one produced."""
        ws = websocket.create_connection(
            self.url.replace("http://", "ws://") + f"api/kernels/{kernel_id}/channels?token={self.token}", timeout=DEADLINE)
        session, results = uuid.uuid4().hex, []
        try:
            for source in sources:
                msg_id = uuid.uuid4().hex
                ws.send(json.dumps({
                    "header": {"msg_id": msg_id, "username": "test", "session": session, "msg_type": "execute_request",
                               "version": "5.3"},
                    "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                    "content": {"code": source, "silent": False, "store_history": True, "user_expressions": {},
                                "allow_stdin": False, "stop_on_error": True},
                }))
                outputs, ended = [], time.monotonic() + DEADLINE
                while time.monotonic() < ended:
                    message = json.loads(ws.recv())
                    if message.get("parent_header", {}).get("msg_id") != msg_id:
                        continue
                    kind = message["msg_type"]
                    if kind in ("execute_result", "display_data", "error", "stream"):
                        outputs.append(message)
                    if kind == "status" and message["content"]["execution_state"] == "idle":
                        break
                else:
                    pytest.fail(f"cell did not finish in {DEADLINE} s: {source[:60]}")
                results.append(outputs)
        finally:
            ws.close()
        return results


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """`evaltools lab WORKSPACE --no-browser` on a free port, the token given as JupyterLab's own
    option (passed through) and, as root (containers), without --allow-root: evaltools adds it.
    Jupyter's own files are kept in tmp."""
    root = tmp_path_factory.mktemp("lab")
    workspace = root / "workspace"
    copy_example(workspace, notebooks=True)
    token, port = secrets.token_hex(16), free_port()
    env = {**{k: v for k, v in os.environ.items() if k != "JUPYTER_TOKEN"}, "JUPYTER_CONFIG_DIR": str(root / "config"),
           "JUPYTER_DATA_DIR": str(root / "data"), "JUPYTER_RUNTIME_DIR": str(root / "runtime")}
    command = [str(Path(sys.executable).parent / "evaltools"), "lab", str(workspace), "--no-browser", "--port", str(port),
               f"--ServerApp.token={token}"]
    log = (root / "lab.log").open("w")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}/", token)
    try:
        deadline = time.monotonic() + DEADLINE
        while True:
            try:
                server.request("GET", "api/status")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not start:\n" + (root / "lab.log").read_text())
                time.sleep(0.3)
        server.log = root / "lab.log"
        server.port = port
        yield server, workspace
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_jupyterlab_serves_the_workspace(lab):
    server, _ = lab
    with urllib.request.urlopen(server.url + f"lab?token={server.token}", timeout=30) as page:  # noqa: S310
        assert page.status == 200 and "JupyterLab" in page.read().decode()
    listing = server.request("GET", "api/contents/notebooks")
    assert set(NOTEBOOKS) <= {item["name"] for item in listing["content"]}


@pytest.mark.parametrize("name", list(NOTEBOOKS))
def test_each_notebook_runs_as_is_from_its_folder_in_the_project_kernel(lab, name):
    server, workspace = lab
    session = server.request("POST", "api/sessions", {"path": f"notebooks/{name}", "type": "notebook", "name": name,
                                                      "kernel": {"name": "python3"}})
    try:
        notebook = server.request("GET", f"api/contents/notebooks/{name}")["content"]
        sources = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
        probe = "import os, sys, evaltools; print(os.getcwd()); print(sys.executable)"
        *cells, [where] = server.run_cells(session["kernel"]["id"], [*sources, probe])
        errors = [m["content"] for outputs in cells for m in outputs if m["msg_type"] == "error"]
        assert errors == []
        html = "".join(m["content"]["data"].get("text/html", "") for outputs in cells for m in outputs
                       if m["msg_type"] in ("execute_result", "display_data"))
        assert NOTEBOOKS[name] in html
        cwd, executable = where["content"]["text"].split("\n")[:2]
        assert Path(cwd).resolve() == (workspace / "notebooks").resolve()
        assert Path(executable).resolve() == Path(sys.executable).resolve()
    finally:
        server.request("DELETE", f"api/sessions/{session['id']}")


def test_lab_says_where_it_listens(lab):
    server, _ = lab
    first = server.log.read_text(encoding="utf-8").splitlines()[0]
    assert f"http://localhost:{server.port}/lab" in first


def test_the_shipped_notebooks_are_read_only_and_the_analyst_saves_a_copy(lab):
    """Step 12: a cell added in JupyterLab is never autosaved into the notebook every report runs."""
    server, workspace = lab
    shipped = workspace / "notebooks" / "project_self_evaluation.ipynb"
    before = shipped.read_bytes()
    model = server.request("GET", "api/contents/notebooks/project_self_evaluation.ipynb")
    assert model["writable"] is False
    edited = copy.deepcopy(model["content"])
    edited["cells"].append({"cell_type": "code", "metadata": {}, "source": "1/0", "outputs": [], "execution_count": 3})
    with pytest.raises(urllib.error.HTTPError) as refused:
        server.request("PUT", "api/contents/notebooks/project_self_evaluation.ipynb",
                       {"type": "notebook", "format": "json", "content": edited})
    assert refused.value.code == 403 and "另存为" in json.loads(refused.value.read())["message"]
    with pytest.raises(urllib.error.HTTPError):
        server.request("DELETE", "api/contents/notebooks/project_self_evaluation.ipynb")
    assert shipped.read_bytes() == before
    saved = server.request("PUT", "api/contents/notebooks/" + urllib.parse.quote("我的分析.ipynb"),
                           {"type": "notebook", "format": "json", "content": edited})
    assert saved["writable"] is True and (workspace / "notebooks" / "我的分析.ipynb").is_file()


def test_the_library_reads_workspace_paths_the_same_way_in_the_notebook_kernel(lab):
    """The README's `read_projects("params/2024")` works in JupyterLab (working in notebooks/), and so does `../params/2024`."""
    server, _ = lab
    session = server.request("POST", "api/sessions", {"path": "notebooks/scratch.ipynb", "type": "notebook",
                                                      "name": "scratch.ipynb", "kernel": {"name": "python3"}})
    try:
        [outputs] = server.run_cells(session["kernel"]["id"], [
            "import evaltools\n"
            "print(len(evaltools.read_projects('params/2024')), len(evaltools.read_projects('../params/2024')),"
            " evaltools.load_project('params/2024/xiangxi-ggzy/platform-maintenance.yaml').params.year)"])
        assert [m["content"].get("text", "").split() for m in outputs if m["msg_type"] == "stream"] == [["1", "1", "2024"]]
    finally:
        server.request("DELETE", f"api/sessions/{session['id']}")


@pytest.mark.parametrize("name", list(NOTEBOOKS))
def test_the_shipped_notebooks_are_clean_of_outputs(name):
    """What every report runs carries no outputs, counts or widget state: an experiment is saved in a copy."""
    notebook = json.loads((Path(__file__).resolve().parents[1] / "notebooks" / name).read_text(encoding="utf-8"))
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code and all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)
    assert "widgets" not in notebook["metadata"]
