"""The evaltools command: exit codes, messages instead of tracebacks, JSON for machines."""

import argparse
import errno
import json
import re
import shutil
import subprocess
import sys

import pytest

from evaltools.cli import main

from conftest import PARAMS, SEED


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_check_on_the_bundled_params_has_no_error(capsys):
    code, out, _ = run(capsys, "check", str(PARAMS))
    assert code == 0 and "1 个项目、1 个部门整体报告：0 个错误" in out
    assert "platform-maintenance.yaml：公共资源交易平台运行维护费，未发现问题" in out
    assert "[DEPT-PROJECTS-TOTAL]" in out  # the department's warnings are shown too


def test_score_prints_the_table_with_total_and_grade(capsys):
    code, out, _ = run(capsys, "score", str(SEED))
    assert code == 0
    assert "96.00" in out and "等级：优" in out and "大力推进智慧交易" in out


def test_score_json_carries_numbers_as_numbers_with_the_unit_in_the_key(capsys):
    code, out, _ = run(capsys, "score", "--json", str(SEED))
    [result] = json.loads(out)
    assert code == 0
    assert (result["total_score"], result["grade"], result["execution_rate_percent"]) == (96.0, "优", 100.0)
    assert result["budget_wan_yuan"] == {"initial": 0.0, "annual": 106.62, "executed": 106.62}
    assert [row["score"] for row in result["indicators"]] == [15.0, 13.0, 10.0, 10.0, 15.0, 13.0, 10.0]
    assert (result["indicators"][0]["actual_value"], result["indicators"][0]["actual_unit"]) == (100.0, "%")
    assert [level["score"] for level in result["levels"]] == [48.0, 28.0, 10.0]


def test_check_lists_its_checks(capsys):
    code, out, _ = run(capsys, "check", "--list")
    assert code == 0 and "DATE-RANGE" in out and "错误" in out


def test_findings_make_the_exit_code_one(capsys, workspace):
    project = workspace / "2024" / "xiangxi-ggzy" / "platform-maintenance.yaml"
    project.write_text(project.read_text(encoding="utf-8").replace("total_score: 96", "total_score: 95"),
                       encoding="utf-8")
    code, out, _ = run(capsys, "check", str(workspace))
    assert code == 1
    assert "[TOTAL-SCORE]" in out and f"{project}:" in out and "declared.total_score" in out


def test_a_broken_file_is_a_message_and_the_others_go_on(capsys, workspace):
    department = workspace / "2024" / "xiangxi-ggzy"
    broken = department / "broken.yaml"
    broken.write_text("year: 2024\nproject: [unclosed\n", encoding="utf-8")
    code, out, err = run(capsys, "check", str(workspace))
    assert code == 1
    assert f"{broken}:" in err and "YAML 格式错误" in err and "Traceback" not in err
    assert "platform-maintenance.yaml" in out and "1 个文件无法读取" in out


def test_a_files_words_print_as_they_are_never_as_markup_or_emoji(capsys, workspace):
    """A project's name, or a value an error quotes, is text: rich's markup in it would stop the
    command (``[/b]``) or vanish (``[bold]…[/bold]``), an emoji code become a picture."""
    project = workspace / "2024" / "xiangxi-ggzy" / "platform-maintenance.yaml"
    name = "平台[/b]运维[bold]费[/bold]:smile:"
    text = project.read_text(encoding="utf-8").replace("  name: 公共资源交易平台运行维护费", f"  name: '{name}'", 1)
    project.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "check", str(project))
    assert f"{name}，" in out and "😄" not in out and "Traceback" not in err
    broken = workspace / "2024" / "xiangxi-ggzy" / "broken.yaml"
    lines = text.splitlines()
    lines[99], lines[101] = "    weight: 十[/red]", lines[99]  # an error on line 100
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "check", str(broken))
    assert code == 1 and "broken.yaml:100:" in err and "十[/red]" in err and "💯" not in err


@pytest.mark.parametrize("value", ["C:\\out\\", "a\\\\", "[/red]x[bold]", ":100:", "\\[red]"])
def test_a_styled_line_shows_each_value_as_written_in_its_places_style(value):
    from evaltools.cli.console import styled

    line = styled("[red]错误[/red] {}：[bold]{}[/bold]", value, value)
    assert line.plain == f"错误 {value}：{value}"
    assert [(span.start, span.end, str(span.style)) for span in line.spans] == [
        (0, 2, "red"), (4 + len(value), 4 + 2 * len(value), "bold")]


def test_a_wrong_path_is_a_message(capsys, tmp_path):
    code, _, err = run(capsys, "score", str(tmp_path / "missing"))
    assert code == 1 and "不存在" in err


def test_extra_rules_apply_after_the_workspace_rules(capsys, tmp_path):
    rules = tmp_path / "strict.yaml"
    rules.write_text("grades:\n  - {min: 97, label: 优}\n  - {min: 0, label: 良}\n", encoding="utf-8")
    code, out, _ = run(capsys, "score", "--json", "--rules", str(rules), str(SEED))
    assert json.loads(out)[0]["grade"] == "良"


def test_the_installed_command_runs():
    command = shutil.which("evaltools") or str(__import__("pathlib").Path(sys.executable).parent / "evaltools")
    result = subprocess.run([command, "score", "--json", str(SEED)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["total_score"] == 96.0


# --- never a traceback ------------------------------------------------------------------------------


def test_a_name_too_long_for_the_file_system_is_a_message(capsys, tmp_path):
    code, _, err = run(capsys, "check", str(tmp_path / ("项目" * 100 + ".yaml")), str(SEED))
    assert code == 1 and "名称过长" in err and "Traceback" not in err


@pytest.mark.parametrize("command", ["run", "batch"])
def test_an_out_folder_that_is_a_file_is_a_message(capsys, tmp_path, command):
    out = tmp_path / "out"
    out.write_text("", encoding="utf-8")
    code, _, err = run(capsys, command, str(SEED), "--to", "html", "--out", str(out))
    assert code == 2 and "是一个文件，应为文件夹" in err


def test_a_read_only_outputs_folder_is_a_message(capsys, tmp_path, monkeypatch):
    def read_only(source, target):
        raise OSError(errno.EROFS, "Read-only file system", str(target))

    monkeypatch.setattr("evaltools.domain.files.os.replace", read_only)
    code, _, err = run(capsys, "template-xlsx", "-o", str(tmp_path / "blank.xlsx"))
    assert code == 1 and "只读" in err and str(tmp_path / "blank.xlsx") in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind


def test_anything_unforeseen_is_one_line_and_a_hint_to_rerun_with_debug(capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr("evaltools.cli.data.score", broken)
    code, _, err = run(capsys, "score", str(SEED))
    assert code == 1 and "RuntimeError: boom" in err and "--debug" in err
    assert "second line" not in err and "Traceback" not in err
    with pytest.raises(RuntimeError):
        main(["score", str(SEED), "--debug"])
    with pytest.raises(RuntimeError):
        main(["--debug", "score", str(SEED)])


def test_check_works_where_there_is_no_fcntl_and_without_the_batch_lock():
    # Windows has no fcntl: batch must import there, and check must not even load the lock.
    script = (
        "import sys; sys.modules['fcntl'] = None\n"
        "from evaltools.cli import main\n"
        f"code = main(['check', {str(SEED)!r}])\n"
        "assert 'filelock' not in sys.modules and 'evaltools.run.batch' not in sys.modules, 'check loaded the lock'\n"
        "import evaltools.run.batch\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_check_explain_prints_what_a_check_looks_for_its_basis_and_an_example(capsys):
    code, out, _ = run(capsys, "check", "--explain", "restated-budget")
    assert code == 0
    assert "RESTATED-BUDGET" in out and "依据：" in out and "财预〔2020〕10号" in out and "例：" in out
    code, _, err = run(capsys, "check", "--explain", "NO-SUCH-CHECK")
    assert code == 2 and "NO-SUCH-CHECK" in err


# --- one language ------------------------------------------------------------------------------------

ARGPARSE_ENGLISH = re.compile(r"usage:|options:|positional arguments|show this help|error:|the following arguments"
                              r"|required:|invalid choice|unrecognized|\(default:|expected one argument")


def _subcommands():
    from evaltools.cli import build_parser

    parser = build_parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return parser, commands.choices


def test_every_option_of_every_command_has_its_help():
    parser, commands = _subcommands()
    for name, sub in [("evaltools", parser), *commands.items()]:
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            assert action.help and action.help is not argparse.SUPPRESS, (name, action.option_strings or action.dest)


@pytest.mark.parametrize("command", [None, *sorted(_subcommands()[1])])
def test_help_speaks_chinese_only(capsys, command):
    with pytest.raises(SystemExit) as done:
        main([*([command] if command else []), "--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0 and out.startswith("用法：") and "选项" in out
    assert not ARGPARSE_ENGLISH.search(out), out


@pytest.mark.parametrize(("argv", "says"), [
    (["batch"], "缺少参数"), (["check", "--lst"], "不认识的参数：--lst"), (["bogus"], "无效的取值"),
    (["batch", "x", "--jobs", "two"], "应为 int 类型的值"), (["run", "x", "--edition", "draft"], "无效的取值"),
    (["export-xlsx", "x"], "缺少参数"), (["run", "x", "--to"], "后面需要一个值"),
])
def test_command_line_errors_speak_chinese_with_the_usage(capsys, argv, says):
    with pytest.raises(SystemExit) as done:
        main(argv)
    err = capsys.readouterr().err
    assert done.value.code == 2 and err.startswith("用法：") and says in err and "：错误：" in err
    assert not ARGPARSE_ENGLISH.search(err), err


def test_lab_passes_jupyterlabs_own_options_through_and_allows_root_when_root(monkeypatch, tmp_path):
    from evaltools.cli import workspace

    monkeypatch.setattr(workspace, "is_root", lambda: True)
    command, env = workspace.lab_command(tmp_path, 8899, browser=False, extra=["--ServerApp.token=abc"])
    assert command[-1] == "--ServerApp.token=abc" and "--allow-root" in command and "--ServerApp.port=8899" in command
    monkeypatch.setattr(workspace, "is_root", lambda: False)
    assert "--allow-root" not in workspace.lab_command(tmp_path)[0]
