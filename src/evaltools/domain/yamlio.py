"""Parameter files: reading YAML safely, deep-merging it, and saying where a bad value is.

Every error names the file, the line and the field, in words a finance officer reads.
Numbers are read as exact ``Decimal`` (106.62 stays 106.62), dates as dates, and a key
written twice is an error rather than a silent overwrite. Files may come from strangers:
aliases may not expand a file beyond :data:`MAX_EXPANDED_NODES` values ("billion laughs"),
and only plain data is built (no Python objects).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from evaltools.domain import memo

DEPARTMENT_FILE = "_department.yaml"
RULES_FILE = "_rules.yaml"
YAML_SUFFIXES = (".yaml", ".yml")
# A parameter file has a few thousand values; aliases (*name) may repeat parts of it, but not
# blow it up to millions (which would take minutes and gigabytes to build and validate).
MAX_EXPANDED_NODES = 100_000

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located as precisely as the file allows."""

    file: Path | None
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = str(self.file) if self.file else "<参数>"
        if self.line:
            where += f":{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class ParamsError(Exception):
    """Input that cannot be used. ``str()`` is a message for the user, one problem a line."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def _render_traceback_(self) -> list[str]:
        # IPython shows this instead of a traceback: in a notebook the user sees the problems.
        return ["无法使用这些参数（文件、行、字段及原因如下）：", *(f"  {p}" for p in self.problems)]


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser when the wheel has it
    """Safe YAML with exact decimals and no silently repeated keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, yaml.Node] = {}
        for index, (key_node, value_node) in enumerate(node.value):
            if node.flow_style and index and _split_number(key_node, value_node):
                previous = node.value[index - 1][0].value
                raise yaml.constructor.ConstructorError(
                    None, None, (f"“{previous}: …,{key_node.value}”：逗号在 {{…}} 里分隔各项，把数字拆开了；"
                                 f"数字不要写千位分隔符（如 319788.00），或把这一项单独写一行"), key_node.start_mark,
                )
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"键 {key!r} 重复出现（第 {seen[key].start_mark.line + 1} 行已有）",
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


_BYTE_OFFSETS = hasattr(yaml, "CSafeLoader") and issubclass(_Loader, yaml.CSafeLoader)  # where a reader's error is


def _split_number(key_node: yaml.Node, value_node: yaml.Node) -> bool:
    """A number standing alone as a key in ``{…}``: what ``{total: 319,788.00}`` turns into."""
    return (isinstance(key_node, yaml.ScalarNode) and key_node.tag.endswith((":int", ":float"))
            and isinstance(value_node, yaml.ScalarNode) and value_node.tag.endswith(":null") and not value_node.value)


def _expanded_size(root: yaml.Node) -> int:
    """How many values the document has once every alias is expanded (aliases share nodes)."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise yaml.constructor.ConstructorError(None, None, "别名引用了包含它自己的内容（循环引用）", node.start_mark)
        active.add(key)
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        else:
            children = []
        sizes[key] = 1 + sum(size(child) for child in children)
        active.discard(key)
        return sizes[key]

    return size(root)


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError:
        raise yaml.constructor.ConstructorError(None, None, f"不存在的日期 {node.value}", node.start_mark) from None


def _construct_decimal(loader: _Loader, node: yaml.ScalarNode) -> Decimal | float:
    text = loader.construct_scalar(node).replace("_", "")
    if text.lower().lstrip("+-") in (".inf", ".nan"):
        return float(text.replace(".", ""))
    return Decimal(text)


_Loader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


@dataclass
class YamlFile:
    """A parsed YAML file that still knows where each value came from."""

    path: Path
    data: dict[str, Any]
    root: yaml.Node | None = field(repr=False, default=None)

    def line_of(self, loc: Loc) -> int | None:
        """Line (1-based) of the deepest part of ``loc`` present in this file."""
        node = self.root
        if node is None:
            return None
        line = None
        for part in loc:
            child = None
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if key_node.value == str(part):
                        child, line = value_node, key_node.start_mark.line + 1
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                child = node.value[part]
                line = child.start_mark.line + 1
            if child is None:
                break
            node = child
        return line

    def depth(self, loc: Loc) -> int:
        """How many leading parts of ``loc`` this file sets."""
        value: Any = self.data
        for found, part in enumerate(loc):
            if isinstance(value, Mapping) and part in value or isinstance(value, list) and isinstance(part, int) and part < len(value):
                value = value[part]
            else:
                return found
        return len(loc)


def read_yaml(path: Path | str) -> YamlFile:
    """Read a YAML mapping safely; any problem raises :class:`ParamsError` naming the line.

    A batch reads each department and rules file once per project: parsed files are kept
    by their content (an edit that keeps the size and the modification time, as ``cp -p`` or
    ``rsync -t`` may, is still seen), and each caller gets its own copy of the data.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParamsError([Problem(path, None, "", "文件不存在")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ParamsError([Problem(path, None, "", f"无法读取（应为 UTF-8 文本）：{exc}")]) from None
    parsed = _parse(path, text)
    return YamlFile(parsed.path, copy.deepcopy(parsed.data), parsed.root)


def _field_at(root: yaml.Node | None, mark: yaml.Mark | None) -> str:
    """The field (``evaluation.report_date``) whose key or value starts at ``mark``, if any."""
    if root is None or mark is None:
        return ""
    stack: list[tuple[yaml.Node, Loc]] = [(root, ())]
    while stack:
        node, loc = stack.pop()
        if (node.start_mark.line, node.start_mark.column) == (mark.line, mark.column) and loc:
            return field_path(loc)
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = (key_node.value if isinstance(key_node, yaml.ScalarNode) else "?",)
                if (key_node.start_mark.line, key_node.start_mark.column) == (mark.line, mark.column):
                    return field_path(loc + key)
                stack.append((value_node, loc + key))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((child, loc + (i,)) for i, child in enumerate(node.value))
    return ""


# PyYAML's words for what it refuses, in the user's (what is not listed stays as PyYAML says it).
_YAML_PROBLEMS = [
    (r"could not determine a constructor for the tag '?([^']*)'?",
     r"不支持的类型标签 \1：参数文件只能写普通数据（文字、数字、日期、列表、映射）"),
    (r"mapping values are not allowed (?:here|in this context)", "这里不能再有“键: 值”：冒号后缺空格、值里有未加引号的“: ”，或缩进不对"),
    (r"found character '\\t' that cannot start any token", "有制表符（Tab）：YAML 只能用空格缩进"),
    (r"found character '(.)' that cannot start any token", r"字符“\1”不能出现在值的开头：请给这个值加引号"),
    (r"found character that cannot start any token", "有不能出现在值开头的字符（制表符 Tab？@、` 等）：缩进只用空格，这样的值加引号"),
    (r"could not find expected ':'", "缺少冒号“:”（键与值之间）"),
    (r"found undefined alias '?([^']*)'?", r"引用了未定义的别名 *\1"),
    (r"did not find expected key", "缩进不对，或列表/映射没有写完"),
    (r"expected <block end>, but found '?([^']*)'?", "缩进不对：这一行与上文对不齐"),
    (r"found unexpected end of stream", "文件在引号或括号闭合之前结束了"),
    (r"did not find expected ',' or '[\]}]'", "{…} 或 […] 没有闭合，或项与项之间缺逗号"),
    (r"expected ',' or '[\]}]', but got '?([^']*)'?", "{…} 或 […] 中项与项之间缺逗号，或括号没有闭合"),
]


def _in_words(problem: str) -> str:
    for pattern, words in _YAML_PROBLEMS:
        said, count = re.subn(f"^{pattern}$", words, problem.strip())
        if count:
            return said
    return problem


# What YAML's reader refuses in a file (pyyaml's ``Reader.NON_PRINTABLE``, less the surrogates,
# which no UTF-8 file holds): control characters, as Word pastes them. They are read as written,
# each through a stand-in from the last private-use plane while YAML parses; the model then
# leaves them out, and the CONTROL-CHAR check names the field.
_UNREADABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]")
_STAND_INS = re.compile("[\U0010fd00-\U0010feff]")
_STAND_IN = 0x10FD00


def _stand_in(match: re.Match) -> str:
    code = ord(match.group())
    return chr(_STAND_IN + (code if code < 0x100 else 0x100 + (code & 0xFF)))


def readable(text: str) -> tuple[str, bool]:
    """``text`` with a stand-in for each character YAML's reader refuses, and whether it has
    any (a text that holds the stand-ins themselves is left as it is, for the reader to refuse)."""
    if not _UNREADABLE.search(text) or _STAND_INS.search(text):
        return text, False
    return _UNREADABLE.sub(_stand_in, text), True


def as_written(value: Any) -> Any:
    """``value`` (a text, or data read from one, keys too) with the characters the stand-ins of :func:`readable` stood for."""
    if isinstance(value, str):
        return _STAND_INS.sub(lambda m: chr(k if (k := ord(m.group()) - _STAND_IN) < 0x100 else 0xFF00 + (k & 0xFF)), value)
    if isinstance(value, dict):
        return {as_written(k): as_written(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_written(v) for v in value]
    return value


def _no_control_in_keys(path: Path, node: yaml.Node | None, loc: Loc = ()) -> None:
    """A key is a field's name, not text a report shows: one holding a control character is an
    error at its line (a text holding one is read, see :func:`readable`)."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if found := _STAND_INS.search(key):
                code = ord(as_written(found.group()))
                raise ParamsError([Problem(path, key_node.start_mark.line + 1, field_path((*loc, _STAND_INS.sub("", key))),
                                           f"字段名中含有不可见的控制字符 U+{code:04X}（常见于从 Word 粘贴的文字）：请删除它")])
            _no_control_in_keys(path, value_node, (*loc, key))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _no_control_in_keys(path, item, (*loc, i))


@memo.kept(maxsize=256)
def _parse(path: Path, text: str) -> YamlFile:
    text, stood_in = readable(text)
    loader = _Loader(text)
    root = None
    try:
        root = loader.get_single_node()
        if root is not None and _expanded_size(root) > MAX_EXPANDED_NODES:
            raise ParamsError([Problem(path, None, "", (
                f"别名（*名称）展开后超过 {MAX_EXPANDED_NODES:,} 个值：不像是参数文件，未读取（“十亿笑声”式的别名炸弹？）"))])
        data = loader.construct_document(root) if root is not None else {}
        if stood_in:
            _no_control_in_keys(path, root)
            data = as_written(data)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        detail = _in_words(str(exc.problem or exc.context or ""))
        field = _field_at(root, exc.problem_mark)
        if field and isinstance(exc, yaml.constructor.ConstructorError) and detail.startswith("不存在的日期"):
            raise ParamsError([Problem(path, line, field, detail)]) from None  # the text parsed; a value is wrong
        raise ParamsError([Problem(path, line, field, f"YAML 格式错误：{detail}")]) from None
    except yaml.reader.ReaderError as exc:
        # libyaml counts the bytes of the UTF-8 text before the character; pyyaml, the characters
        before = text.encode("utf-8")[:exc.position].count(b"\n") if _BYTE_OFFSETS else text.count("\n", 0, exc.position)
        line = before + 1
        raise ParamsError([Problem(path, line, "", (
            f"含有不可见的控制字符 U+{exc.character if isinstance(exc.character, int) else ord(exc.character):04X}"
            "（常见于从 Word 粘贴的文字）：请删除它"))]) from None
    except yaml.YAMLError as exc:
        raise ParamsError([Problem(path, None, "", f"YAML 格式错误：{exc}")]) from None
    except RecursionError:
        raise ParamsError([Problem(path, None, "", "嵌套层数过多：不像是参数文件，未读取")]) from None
    finally:
        loader.dispose()
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ParamsError([Problem(path, 1, "", f"文件顶层应为键值映射（mapping），实际为 {type(data).__name__}")])
    return YamlFile(path, data, root)


class _Dumper(yaml.SafeDumper):
    """YAML out: Decimals as plain numbers (read back exactly by :func:`read_yaml`)."""


_Dumper.add_representer(Decimal, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:float" if value != value.to_integral_value() or "." in str(value) else "tag:yaml.org,2002:int",
    f"{value:f}"))


def dump_yaml(data: Any, header: str = "") -> str:
    """A parameter file's text: key order kept, Chinese as is, money exact."""
    body = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=120)
    return header + body


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``: mappings merge recursively, anything else is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _drop_nulls(data: Any) -> Any:
    """``key: null`` means "no value": pydantic then applies the field's default."""
    if isinstance(data, Mapping):
        return {k: _drop_nulls(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [_drop_nulls(v) for v in data]
    return data


def plain(data: Any) -> Any:
    """JSON-ready copy of parameter data (Decimals and dates become strings).

    This is what papermill injects and what the hashes are taken of, so it must be stable.
    """
    return json.loads(json.dumps(data, default=str, ensure_ascii=False, sort_keys=True))


def fingerprint(data: Any) -> str:
    """A short, stable content hash of parameter-like data."""
    blob = json.dumps(plain(data), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


# --- pydantic errors, in the user's words ---------------------------------------------------

_MESSAGES = {
    "missing": "缺少必填项",
    "extra_forbidden": "不认识的字段（拼写错误？）",
    "decimal_parsing": "应为数字",
    "decimal_type": "应为数字",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "string_type": "应为文字",
    "list_type": "应为列表（每项以 - 开头）",
    "model_type": "应为键值映射",
    "dict_type": "应为键值映射",
    "enum": "取值不在允许范围内",
    "literal_error": "取值不在允许范围内",
    "string_pattern_mismatch": "格式不对",
    "too_short": "不能为空",
    "string_too_short": "不能为空",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "finite_number": "应为有限数字",
}


def describe(error: Mapping[str, Any]) -> str:
    """A pydantic error in the user's words (Chinese), with the value that was given."""
    kind = error["type"]
    message = _MESSAGES.get(kind)
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    if message is None:
        return error["msg"]
    if kind in ("enum", "literal_error"):
        message += f"：{error.get('ctx', {}).get('expected', '')}"
    elif kind == "string_pattern_mismatch":
        message += f"（应匹配 {error.get('ctx', {}).get('pattern')}）"
    elif kind in ("greater_than_equal", "less_than_equal"):
        bound = error.get("ctx", {}).get("ge", error.get("ctx", {}).get("le"))
        message += f"（界限 {bound}）"
    if "input" in error and kind != "missing" and not isinstance(error["input"], (dict, list)):
        message += f"，实际为 {error['input']!r}"
    return message


def field_path(loc: Iterable[str | int]) -> str:
    """``("indicators", 2, "weight")`` → ``indicators[2].weight``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


_UNION_MEMBERS = {"decimal", "str", "int", "float", "date"}


def _member(part: Any) -> bool:
    """A union's member (a type, or a model: its class's name, capitalised where fields are not)
    or a validator's name, which pydantic puts into an error's loc; not a field."""
    return isinstance(part, str) and ("[" in part or part in _UNION_MEMBERS or part[:1].isupper())


def _clean_loc(loc: Sequence[Any]) -> Loc:
    return tuple(p for p in loc if not _member(p))


def validation_problems(exc: ValidationError, files: Sequence[tuple[YamlFile, Loc]]) -> list[Problem]:
    """Turn a pydantic error into problems located in the file that holds (or lacks) the field.

    ``files`` lists the merged files first to last wins, each with the prefix under which
    its data sits (a department's defaults sit under ``("defaults",)``).
    """
    said: dict[tuple[Loc, int], list[str]] = {}  # a union's members, each saying what it expected, in one
    missing: set[tuple[Loc, int]] = set()
    errors = [(error, _clean_loc(error["loc"]), any(map(_member, error["loc"]))) for error in exc.errors()]
    deeper = [loc for _, loc, branch in errors if branch]
    for number, (error, loc, branch) in enumerate(errors):
        if branch and any(len(other) > len(loc) and other[:len(loc)] == loc for other in deeper):
            continue  # one member of a union said more, further in (an attachment's title, not "应为文字" for it all)
        said.setdefault((loc, -1 if branch else number), []).append(describe(error))
        if error["type"] == "missing":
            missing.add((loc, -1 if branch else number))
    # A field no file gives is the last file's to give (a project's own, not its department's
    # defaults, which only set what is around it): an empty project file was blamed on them.
    own = next((source for source in reversed(files) if source[0].path.is_file()), files[-1]) if files else None
    problems = []
    for key, descriptions in said.items():
        loc = key[0]
        yaml_file, prefix = own if key in missing and own is not None else locate(files, loc)
        problems.append(Problem(yaml_file.path, yaml_file.line_of(prefix + loc), field_path(loc),
                                "，或".join(dict.fromkeys(descriptions))))
    return problems


def locate(files: Sequence[tuple[YamlFile, Loc]], loc: Loc) -> tuple[YamlFile, Loc]:
    """The merged file that sets most of ``loc`` (the last one on a tie: it won the merge)."""
    best = max(range(len(files)), key=lambda i: (files[i][0].depth(files[i][1] + loc) - len(files[i][1]), i))
    return files[best]


def validate(model: type, data: Mapping[str, Any], files: Sequence[tuple[YamlFile, Loc]]) -> Any:
    try:
        return model.model_validate(_drop_nulls(data))
    except ValidationError as exc:
        raise ParamsError(validation_problems(exc, files)) from None
