"""Imported projects written as parameter files (``import-xlsx``): all or nothing, never over a
file without ``--force``, and no attached file named where it cannot be found."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from evaltools.domain.files import safe_filename, write_atomic
from evaltools.domain.model import ProjectParams
from evaltools.domain.workspace import attached_file, department_defaults
from evaltools.domain.yamlio import YAML_SUFFIXES, ParamsError, Problem, _drop_nulls, deep_merge, describe, dump_yaml, field_path


class Written(list):
    """The parameter files written, and what was left out of them (``warnings``)."""

    def __init__(self, paths: Sequence[Path] = (), warnings: Sequence[str] = ()) -> None:
        super().__init__(paths)
        self.warnings = list(warnings)


def _unreachable_attachments(data: dict[str, Any], folder: Path, target: Path) -> list[str]:
    """Attached files named relative to a folder the workbook came from: those not found from
    ``folder`` (where the file is written) keep their title only, each said in a warning."""
    narrative = data.get("narrative")
    entries = narrative.get("attachments") if isinstance(narrative, dict) else None
    warnings = []
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(entry, dict) and isinstance(entry.get("file"), str):
            path, problem = attached_file(entry["file"], folder.resolve())
            if path is None:
                entries[i] = str(entry.get("title") or entry["file"])
                warnings.append(f"{target}：附件“{entries[i]}”的文件 {entry['file']} 在 {folder} 中找不到，只写入了附件名称；"
                                f"把文件复制到该文件夹下的 {entry['file']} 后，改回 {{title: …, file: {entry['file']}}}")
    return warnings


def write_params(projects: Mapping[str, dict[str, Any]] | Sequence[dict[str, Any]], output: Path, source: Path,
                 force: bool = False) -> Written:
    """Validate imported projects and write them as parameter files (one per sheet).

    Nothing is written unless everything can be: every project valid, every file name free,
    distinct and not reserved (``_department.yaml``, ``_rules.yaml``, hidden files), and no
    existing file replaced without ``force``. An attached file that cannot be found from where
    the file is written is left out (its title kept), named in the result's ``warnings``.
    """
    items = list(projects.items()) if isinstance(projects, Mapping) else [(None, data) for data in projects]
    output = Path(output)
    single = output.suffix in YAML_SUFFIXES
    if len(items) > 1 and single:
        raise ParamsError([Problem(source, None, "", f"工作簿有 {len(items)} 个自评表：-o 应为文件夹")])
    folder = output.parent if single else output
    if folder.exists() and not folder.is_dir():
        raise ParamsError([Problem(folder, None, "", "已有同名文件：-o 应为文件夹（或一个 .yaml 文件）")])
    # A form alone lacks what the department shares (评价方式, team…): check it as it will be read.
    shared = department_defaults(folder) if folder.is_dir() else None
    problems, planned, names = [], [], {}
    for sheet, data in items:
        name = str((data.get("project") or {}).get("name") or "project")
        where = f"工作表“{sheet}”" if sheet else name
        try:
            ProjectParams.model_validate(_drop_nulls(deep_merge(shared[1] if shared else {}, data)))
        except ValidationError as exc:
            problems += [Problem(source, None, f"{where}: {field_path(e['loc'])}", describe(e)) for e in exc.errors()]
        target = output if single else folder / safe_filename(name, ".yaml")
        if target.name.startswith(("_", ".")):
            problems.append(Problem(source, None, where, (
                f"会写成 {target.name}：以 _ 或 . 开头的是部门文件、规则文件等保留的文件名，不是项目；请改项目名称")))
        elif target.name.casefold() in names:
            problems.append(Problem(source, None, where, (
                f"与{names[target.name.casefold()]}都会写成 {target.name}（项目名称重复）：请改名后再导入")))
        elif target.is_dir():
            problems.append(Problem(target, None, "", "是一个文件夹，无法写成参数文件"))
        names[target.name.casefold()] = where
        planned.append((target, data))
    if problems:
        raise ParamsError(problems)
    existing = [target for target, _ in planned if target.exists()]
    if existing and not force:
        raise ParamsError([Problem(target, None, "", "已存在，未覆盖（手改的内容和注释会丢失）；确认要替换请加 --force")
                           for target in existing] + [Problem(source, None, "", "将写入：" + "、".join(
                               f"{target}（{'覆盖' if target in existing else '新建'}）" for target, _ in planned))])
    written = Written()
    for target, data in planned:
        written.warnings += _unreachable_attachments(data, folder, target)
        write_atomic(target, dump_yaml(data, f"# 由 evaltools import-xlsx 从 {source.name} 导入\n"))
        written.append(target)
    return written
