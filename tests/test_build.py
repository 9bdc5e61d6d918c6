"""The real pipeline: papermill executes the notebook, nbconvert renders the HTML, Typst typesets the PDF.

Nothing is mocked; the PDF is read back with poppler's pdftotext, pdffonts and pdfinfo.
"""

import functools
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import nbformat
import pytest

from evaltools.cli import main
from evaltools.run.build import RenderError, make, run
from evaltools.run.execute import load as load_subject, run_cells
from evaltools.run.kinds import DEPARTMENT, OVERVIEW_KIND, PROJECT, kind_of
from evaltools.run.options import Options
from evaltools.run.export import made_from, render_file, typeset_alongside
from evaltools.writers import pdf_engine
from evaltools.writers.pdf_engine import lay_out_ahead
from evaltools.domain.scoring import score
from evaltools.domain.workspace import Workspace, load_project

from conftest import ROOT, SEED, add_project, in_fresh_python

POPPLER = all(shutil.which(tool) for tool in ("pdftotext", "pdffonts", "pdfinfo"))
needs_poppler = pytest.mark.skipif(not POPPLER and not os.environ.get("CI"),
                                   reason="poppler-utils not installed (scripts/system-deps.sh installs it)")


def pdftotext(pdf: Path, *args: str) -> str:
    return subprocess.run(["pdftotext", "-layout", *args, str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


def squeeze(text: str) -> str:
    """Table cells wrap inside words: compare text without its line breaks and spaces."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def seed_outputs(tmp_path_factory):
    return run(SEED, out_root=tmp_path_factory.mktemp("outputs"))


def test_outputs_are_laid_out_by_year_department_project(seed_outputs):
    assert seed_outputs.folder.parts[-3:] == ("2024", "xiangxi-ggzy", "platform-maintenance")
    assert {p.name for p in seed_outputs.folder.iterdir()} == {"report.ipynb", "report.html", "report.pdf"}


def test_the_run_prints_no_warning(seed_outputs):
    assert seed_outputs.warnings == []


@needs_poppler
def test_pdf_text_holds_the_project_every_indicator_and_the_score(seed_outputs, seed):
    text = squeeze(pdftotext(seed_outputs.files["pdf"]))
    assert "公共资源交易平台运行维护费" in text
    card = score(seed.params, seed.rules)
    for row in card.indicators:
        assert squeeze(row.indicator.name) in text
    form = text[text.rindex("项目支出绩效自评表（2024年度）"):]
    assert re.search(r"15.*13.*10.*10.*15.*13.*10", form) and "15.00" not in form
    assert "10096等级：优" in form
    assert "评分：96" in text and "96.00" not in text


@needs_poppler
def test_pdf_embeds_its_fonts(seed_outputs):
    listing = subprocess.run(["pdffonts", str(seed_outputs.files["pdf"])], capture_output=True, text=True,
                             check=True).stdout.splitlines()[2:]
    assert listing and all(line.split()[-5] == "yes" for line in listing)  # the "emb" column
    names = [line.split()[0].replace("-", "") for line in listing]  # PostScript names: NotoSerifCJKsc-Regular …
    assert any("SerifCJK" in name for name in names) and any("SansCJK" in name for name in names)


@needs_poppler
def test_pdf_is_a4_with_page_numbers(seed_outputs):
    info = subprocess.run(["pdfinfo", str(seed_outputs.files["pdf"])], capture_output=True, text=True,
                          check=True).stdout
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info)
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages > 3
    def page(n: int) -> str:
        return squeeze(pdftotext(seed_outputs.files["pdf"], "-f", str(n), "-l", str(n)))

    assert page(2).endswith("—2—")
    assert "—1—" not in page(1)  # no number on the cover
    assert page(pages).endswith(f"—{pages}—")


def test_html_has_no_code_no_script_and_no_network(seed_outputs):
    html = seed_outputs.files["html"].read_text(encoding="utf-8")
    assert '<html lang="zh">' in html
    assert "report.cover()" not in html and "ProjectReport" not in html and "params_file" not in html
    assert "<script" not in html.lower()
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", html)
    assert "http://" not in html and "https://" not in html


def test_the_parameters_are_injected_once_by_their_file(seed_outputs):
    """The notebook is told where the file is, never given a copy of its data to merge over it:
    the kernel reads the file (with its department's defaults and rules) as `evaltools score` does."""
    from evaltools.domain.workspace import fingerprint_notebook

    notebook = nbformat.read(seed_outputs.notebook, as_version=4)
    parameters = notebook.metadata.papermill.parameters
    assert parameters == {"params_file": "params/2024/xiangxi-ggzy/platform-maintenance.yaml", "rules_files": [],
                          "notebook_fingerprint": fingerprint_notebook(ROOT / "notebooks" / "project_self_evaluation.ipynb")}
    [injected] = [cell for cell in notebook.cells if "injected-parameters" in cell.metadata.get("tags", [])]
    assert "project =" not in injected.source and "budget =" not in injected.source


def test_render_again_without_executing(seed_outputs, tmp_path):
    copy = tmp_path / "report.ipynb"
    shutil.copy(seed_outputs.notebook, copy)
    written = render_file(copy, ["html"])
    assert written["html"].read_text(encoding="utf-8") == seed_outputs.files["html"].read_text(encoding="utf-8")


def test_a_pdf_laid_out_before_the_html_is_the_one_laid_out_beside_it(seed_outputs):
    """A pool's workers lay a PDF out in turn, a report made alone beside its HTML: same files."""
    notebook = nbformat.read(seed_outputs.notebook, as_version=4)
    made = {}
    try:
        for alongside in (True, False):
            typeset_alongside(alongside)
            calls: list[bool] = []
            seconds: dict[str, float] = {}
            made[alongside] = made_from(notebook, ["html", "pdf"], seconds=seconds,
                                        meanwhile=functools.partial(calls.append, alongside))[0]
            assert calls == [alongside] and seconds["pdf"] > 0 and seconds["html"] > 0
    finally:
        typeset_alongside(True)
    assert made[True] == made[False]
    assert made[False]["pdf"] == seed_outputs.files["pdf"].read_bytes()


def test_a_pdf_laid_out_after_the_source_kept_before_is_the_same_and_none_is_laid_out_once_due(seed_outputs, tmp_path,
                                                                                             monkeypatch):
    """lay_out_ahead: Typst lays out the source a report kept the time before while the cells run
    again, and then lays out only what changed; the new PDF is the same, byte for byte. Once the
    new PDF is due, nothing more is laid out; a file that is not such a source is passed over."""
    before = nbformat.read(seed_outputs.notebook, as_version=4)
    after = nbformat.from_dict(before)
    after.cells.append(nbformat.v4.new_markdown_cell("改过后添上的一段。"))
    pdf_engine.compiler.cache_clear()
    fresh = made_from(after, ["pdf"])[0]["pdf"]
    sources: list = []
    made_from(before, ["pdf"], sources=sources)
    kept = tmp_path / "overview.layout.zip"
    kept.write_bytes(pdf_engine.kept_source(sources[0].source.markup, {"/" + "0" * 32 + ".svg": b"<svg/>"}))
    pdf_engine.compiler.cache_clear()
    lay_out_ahead(kept, None, threading.Event())
    assert made_from(after, ["pdf"])[0]["pdf"] == fresh != seed_outputs.files["pdf"].read_bytes()

    compiled: list[str] = []
    monkeypatch.setattr(pdf_engine, "compile_pdf", lambda source, standard, files: compiled.append((source, files)))
    due = threading.Event()
    due.set()
    lay_out_ahead(kept, None, due)
    lay_out_ahead(tmp_path / "nowhere.zip", None, threading.Event())
    lay_out_ahead(seed_outputs.notebook, None, threading.Event())  # not an archive
    for name in ("../evil.svg", "sub/" + "0" * 32 + ".svg", "picture.svg"):  # only names the writer gives
        (tmp_path / "odd.zip").write_bytes(pdf_engine.kept_source("#lorem(10)", {name: b"<svg/>"}))
        lay_out_ahead(tmp_path / "odd.zip", None, threading.Event())
    (tmp_path / "many.zip").write_bytes(pdf_engine.kept_source("#lorem(10)", {f"/{i:032x}.svg": b"<svg/>" for i in range(1001)}))
    lay_out_ahead(tmp_path / "many.zip", None, threading.Event())  # more files than a report's images
    assert compiled == []
    lay_out_ahead(kept, None, threading.Event())
    assert len(compiled) == 1 and "公共资源交易" in compiled[0][0] and compiled[0][1] == {"/" + "0" * 32 + ".svg": b"<svg/>"}


def test_cells_run_apart_are_exported_into_the_report_a_run_makes(seed_outputs):
    """A batch's job runs its cells as soon as papermill is loaded, and exports once nbconvert and
    Typst are: the same files, with the cells' timings, as the report made in one go."""
    subject = load_subject(SEED)
    kind, workspace = kind_of(SEED), Workspace.of(SEED, seed_outputs.folder.parents[2])
    ran = run_cells(kind, subject, Options(("html", "pdf")), workspace)
    assert ran.phases["cells"] > 0 and ran.phases["kernel"] > 0 and len(ran.timings["cells"]) > 10
    made = make(kind, subject, Options(("html", "pdf")), workspace, ran)
    assert made.timings == ran.timings and made.phases["cells"] == round(ran.phases["cells"], 3)
    assert made.contents["report.pdf"] == seed_outputs.files["pdf"].read_bytes()
    assert made.contents["report.html"] == seed_outputs.files["html"].read_text(encoding="utf-8")


def test_a_second_project_gets_its_own_numbers(workspace, tmp_path):
    second = add_project(workspace / "2024" / "xiangxi-ggzy", "expert-system", "专家评审系统升级", "50.00", "40.00")
    project = load_project(second)
    card = score(project.params, project.rules)
    assert card.total == 94  # 8.00 for an 80% execution rate instead of 10
    outputs = run(second, ["html"], out_root=tmp_path / "outputs")
    html = outputs.files["html"].read_text(encoding="utf-8")
    assert "<title>2024年度“专家评审系统升级”项目支出绩效自评报告</title>" in html  # the report's own title
    assert "<dd>专家评审系统升级</dd>" in html and "<dd>公共资源交易平台运行维护费</dd>" not in html
    assert "评分：94" in html and "80%" in html and "<td class=\"num\">8</td>" in html


def test_a_failed_run_leaves_the_good_outputs_untouched(seed_outputs, tmp_path):
    out_root = seed_outputs.folder.parents[2]
    before = {p.name: p.read_bytes() for p in seed_outputs.folder.iterdir()}
    broken = tmp_path / "broken.ipynb"
    notebook = nbformat.read(ROOT / "notebooks" / "project_self_evaluation.ipynb", as_version=4)
    notebook.cells.insert(3, nbformat.v4.new_code_cell("raise RuntimeError('单元出错了')"))
    nbformat.write(notebook, broken)
    with pytest.raises(RenderError, match="单元出错了"):
        run(SEED, out_root=out_root, notebook=broken)
    after = {p.name: p.read_bytes() for p in seed_outputs.folder.iterdir() if p.name != "report.failed.ipynb"}
    assert after == before
    assert (seed_outputs.folder / "report.failed.ipynb").is_file()
    assert not [p for p in seed_outputs.folder.iterdir() if p.name.endswith(".tmp")]


def test_cli_run_writes_the_formats_asked_for(capsys, tmp_path):
    assert main(["run", str(SEED), "--to", "html,docx", "--out", str(tmp_path)]) == 0
    folder = tmp_path / "2024" / "xiangxi-ggzy" / "platform-maintenance"
    assert sorted(p.name for p in folder.iterdir()) == ["report.docx", "report.html", "report.ipynb"]
    assert "report.docx" in capsys.readouterr().out


def test_an_unknown_format_is_refused_before_any_work(capsys, tmp_path):
    assert main(["run", str(SEED), "--to", "html,odt", "--out", str(tmp_path)]) == 1
    assert "不支持的格式：odt" in capsys.readouterr().err and not tmp_path.joinpath("2024").exists()


def test_cli_run_reports_bad_parameters_without_a_kernel(capsys, workspace, tmp_path):
    project = workspace / "2024" / "xiangxi-ggzy" / "platform-maintenance.yaml"
    project.write_text(project.read_text(encoding="utf-8").replace("weight: 15", "weight: 十五", 1), encoding="utf-8")
    out = tmp_path / "outputs"
    assert main(["run", str(project), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{project}:" in err and "indicators[0].weight" in err and "Traceback" not in err
    assert not out.exists()


def test_pdf_rendering_logs_no_warning(seed_outputs, caplog, recwarn):
    from evaltools.run.export import to_pdf

    with caplog.at_level("WARNING"):
        to_pdf(nbformat.read(seed_outputs.notebook, as_version=4))
    assert [r.getMessage() for r in caplog.records if r.levelname in ("WARNING", "ERROR")] == []
    assert [str(w.message) for w in recwarn] == []


def test_a_machine_without_chinese_fonts_is_told(seed_outputs, monkeypatch):
    from evaltools.writers import pdf as pdf_report

    assert pdf_report.cjk_fonts_installed() is True  # this machine has them (scripts/system-deps.sh)
    monkeypatch.setattr(pdf_report, "cjk_fonts_installed", lambda: False)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("中文")])
    with pytest.warns(UserWarning, match="fonts-noto-cjk"):
        pdf_report.notebook_to_pdf(notebook)


def _notebook_with(tmp_path, source: str) -> Path:
    notebook = nbformat.read(ROOT / "notebooks" / "project_self_evaluation.ipynb", as_version=4)
    notebook.cells.insert(3, nbformat.v4.new_code_cell(source))
    path = tmp_path / "custom.ipynb"
    nbformat.write(notebook, path)
    return path


def test_a_cell_that_runs_too_long_is_stopped_and_reported(tmp_path):
    slow = _notebook_with(tmp_path, "import time\ntime.sleep(60)")
    with pytest.raises(RenderError, match="超过 3 秒，已停止（可用 --timeout 放宽）"):
        run(SEED, ["html"], out_root=tmp_path / "out", notebook=slow, timeout=3)
    assert not list((tmp_path / "out").rglob("report.html"))


def test_a_reports_own_kernel_is_killed_once_its_notebook_ran_not_asked_to_shut_down(tmp_path):
    """ipykernel, asked to shut down, may log a traceback from its closed sockets on its
    stderr, which is the command's: the kernel nbclient started for a report is killed, so
    nothing of it runs after the notebook (an exit handler of a cell's included)."""
    marker = tmp_path / "exited"
    noted = _notebook_with(tmp_path, f"import atexit\natexit.register(lambda: open({str(marker)!r}, 'w').close())")
    run(SEED, ["html"], out_root=tmp_path / "out", notebook=noted)
    assert list((tmp_path / "out").rglob("report.html")) and not marker.exists()


def test_a_kernel_that_dies_is_reported_with_what_it_last_said_itself_kept_off_the_terminal(tmp_path, capfd, monkeypatch):
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)  # under it, ipykernel writes as it does not for users
    dying = _notebook_with(tmp_path, "import faulthandler, ctypes\nfaulthandler.enable()\nctypes.string_at(0)")
    said = "platform-maintenance.yaml：笔记本无法执行：内核意外退出.*，它最后输出：Fatal Python error: Segmentation fault$"
    with pytest.raises(RenderError, match=said):
        run(SEED, ["html"], out_root=tmp_path / "out", notebook=dying)
    assert not list((tmp_path / "out").rglob("report.html"))
    said = capfd.readouterr()
    assert said.out + said.err == ""  # nor nbclient's log of it


# --- strangers' files -------------------------------------------------------------------------------


def test_the_pdf_renderer_fetches_nothing_from_the_network_or_the_disk(tmp_path):
    import http.server
    import threading

    from evaltools.document.parts import Paragraph
    from evaltools.writers.pdf import notebook_to_pdf

    requests = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    secret = tmp_path / "secret.txt"
    secret.write_text("机密内容", encoding="utf-8")
    narrative = (f'正文 ![图]({base}/c.png) ![内联](data:image/png;base64,iVBORw0KGgo=) [链接]({base}/d)\n\n'
                 f'#image("{base}/e.png") #read("{secret}") #include "{secret}"')
    part = Paragraph([f'#read("{secret}")'])
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(narrative), nbformat.v4.new_code_cell(
        outputs=[nbformat.v4.new_output("display_data", data=part._repr_mimebundle_())])])
    notebook.cells[1].outputs[0].data.pop("text/html", None)  # shown in a kernel only
    try:
        pdf = tmp_path / "report.pdf"
        pdf.write_bytes(notebook_to_pdf(notebook))
    finally:
        server.shutdown()
    assert requests == []
    text = squeeze(pdftotext(pdf))
    assert "机密内容" not in text and squeeze(f'#read("{secret}")') in text and f"[图片：图{base}/c.png]" in text


def test_a_project_linked_from_another_workspace_is_rendered_in_this_one(workspace, tmp_path):
    from evaltools.run.build import load, output_folder

    other = tmp_path / "other" / "params" / "2024" / "xiangxi-ggzy"
    other.mkdir(parents=True)
    shutil.copy(SEED, other / "elsewhere.yaml")
    link = workspace / "2024" / "xiangxi-ggzy" / "linked.yaml"
    link.symlink_to(other / "elsewhere.yaml")
    assert output_folder(load(link)) == workspace.parent / "outputs" / "2024" / "xiangxi-ggzy" / "linked"


def test_a_report_folder_that_links_out_of_the_outputs_is_refused_before_any_work(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    outputs = tmp_path / "outputs"
    (outputs / "2024").mkdir(parents=True)
    (outputs / "2024" / "xiangxi-ggzy").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(RenderError, match="链接"):
        run(SEED, ["html"], out_root=outputs)
    assert list(elsewhere.iterdir()) == []


def test_each_kind_of_report_declares_its_notebook_folder_log_and_inputs(workspace):
    """Project, department and year overview, each declared once: what build, execute and the
    batch ask of them instead of asking which one they have."""
    year = workspace / "2024"
    seed, department = year / "xiangxi-ggzy" / "platform-maintenance.yaml", year / "xiangxi-ggzy" / "_department.yaml"
    assert [kind_of(seed), kind_of(department), kind_of(year)] == [PROJECT, DEPARTMENT, OVERVIEW_KIND]
    place = Workspace.of(year)
    outputs = workspace.parent / "outputs"
    assert PROJECT.folder(place, seed) == outputs / "2024" / "xiangxi-ggzy" / "platform-maintenance"
    assert DEPARTMENT.folder(place, department) == outputs / "2024" / "xiangxi-ggzy" / "_department"
    assert OVERVIEW_KIND.folder(place, year) == outputs / "2024"
    assert [k.notebook for k in (PROJECT, DEPARTMENT, OVERVIEW_KIND)] == [
        "project_self_evaluation.ipynb", "department_overall.ipynb", "year_overview.ipynb"]
    assert [k.log for k in (PROJECT, DEPARTMENT, OVERVIEW_KIND)] == ["run.json", "run.json", "overview.run.json"]
    assert PROJECT.parameter_files(seed) == [seed]
    assert DEPARTMENT.parameter_files(department) == [department, seed]  # it rolls up its projects
    assert OVERVIEW_KIND.parameter_files(year) == [department, seed]
    summary = PROJECT.summary(PROJECT.load(seed))
    assert (summary["kind"], summary["shown"]["total"], summary["grade"]) == ("project", "96", "优")
    assert DEPARTMENT.summary(DEPARTMENT.load(department))["kind"] == "department"


def test_loading_papermill_loads_neither_pyarrow_nor_numpy_and_leaves_them_importable():
    """The batch's process loads papermill before any cell runs; its hdfs:// handler's pyarrow
    (and numpy with it) is not loaded with it, and can be imported afterwards."""
    script = ("import sys\n"
              "import evaltools.run.execute\n"
              "print(sorted(m for m in ('papermill', 'pyarrow', 'numpy') if m in sys.modules))\n"
              "import pyarrow.fs\n"
              "print(pyarrow.fs.LocalFileSystem.__name__)\n")
    assert in_fresh_python(script) == ["['papermill']", "LocalFileSystem"]
