"""Read one YAML file into plain Python values plus the position of every value.

Built on libyaml's composer, so the whole knowledge base parses fast, and on
nodes rather than constructed objects, so that we can refuse what PyYAML would
silently accept: duplicate keys (it keeps the last), anchors and aliases (an
alias bomb expands exponentially when constructed), tab indentation, and
files that are not UTF-8.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import yaml

from tooling.errors import Problem, Severity
from tooling.kb.model import FieldPath

try:
    _Base: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Base = yaml.SafeLoader

# First characters for which YAML 1.1 has an implicit type (null, bool, int, float,
# timestamp, ...); a plain scalar starting with anything else, and every quoted or
# block scalar, is a string.
_IMPLICIT_FIRST = frozenset(k for k in _Base.yaml_implicit_resolvers if k)


class _Loader(_Base):
    """The safe loader, resolving the tag of most scalars (Chinese text) without
    trying the implicit-type regexes: the composer asks once per scalar, keys included."""

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if (
            kind is yaml.ScalarNode
            and (not implicit[0] or (value and value[0] not in _IMPLICIT_FIRST))
            and not self.yaml_path_resolvers
            and None not in self.yaml_implicit_resolvers
        ):
            return str(self.DEFAULT_SCALAR_TAG)
        return str(super().resolve(kind, value, implicit))


_DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_INT_TAG = "tag:yaml.org,2002:int"
_STR_TAG = "tag:yaml.org,2002:str"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_NULL_TAG = "tag:yaml.org,2002:null"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class BadDate(str):
    """A scalar that looks like a date but names no real day (``2026-02-30``)."""

    __slots__ = ()


@dataclass
class Document:
    """A parsed file: ``data`` plus ``positions[path] = (line, col)`` (1-based)."""

    data: Any
    positions: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)
    # Which literal style each string scalar used, for mapping text offsets to lines.
    block_scalars: set[FieldPath] = field(default_factory=set)
    # The indentation (spaces) of each block scalar's content lines, for columns.
    block_indent: dict[FieldPath, int] = field(default_factory=dict)
    # Where each mapping key itself stands (for "unknown key" and "duplicate key").
    key_positions: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)


def _err(file: str, line: int, col: int, message: str, hint: str, code: str) -> Problem:
    return Problem(file, line, col, Severity.ERROR, message, hint, code)


def decode(raw: bytes, file: str) -> tuple[str | None, list[Problem]]:
    """Bytes to text. Accepts UTF-8 with or without BOM; names the likely encoding otherwise."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, [
            _err(
                file,
                1,
                1,
                "文件是 UTF-16 编码,不是 UTF-8",
                "用编辑器另存为 UTF-8(VS Code:右下角编码 → 通过编码保存 → UTF-8)",
                "encoding",
            )
        ]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        guess = _guess_encoding(raw)
        name = f"看起来是 {guess}" if guess else "编码无法识别"
        source = guess or "GBK"
        return None, [
            _err(
                file,
                line,
                col,
                f"文件不是 UTF-8 编码({name})",
                f"转换为 UTF-8 后再保存,例如 `iconv -f {source} -t UTF-8 文件 > 新文件`,"
                f"或在 VS Code 中“通过编码重新打开 → {source}”再“通过编码保存 → UTF-8”",
                "encoding",
            )
        ]
    return text.replace("\r\n", "\n").replace("\r", "\n"), []


def _guess_encoding(raw: bytes) -> str:
    for name, label in (("gb18030", "GBK"), ("big5", "Big5"), ("shift_jis", "Shift_JIS")):
        try:
            raw.decode(name)
        except UnicodeDecodeError:
            continue
        return label
    return ""


def find_tab_indents(text: str, file: str) -> list[Problem]:
    problems = []
    for number, line in enumerate(text.split("\n"), start=1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent and line.strip():
            problems.append(
                _err(
                    file,
                    number,
                    indent.index("\t") + 1,
                    "缩进里有 Tab 制表符",
                    "YAML 只能用空格缩进,把 Tab 换成两个空格"
                    "(VS Code:右下角“制表符长度” → 使用空格缩进)",
                    "tab",
                )
            )
    return problems


def parse(text: str, file: str) -> tuple[Document | None, list[Problem]]:
    """Parse YAML text into a :class:`Document`, or report why it cannot be."""
    problems = find_tab_indents(text, file)
    if problems:
        return None, problems
    if not _has_content(text):
        return None, [
            _err(
                file,
                1,
                1,
                "文件是空的",
                "写入条目内容(可用 `kb new` 生成模板),或删除此文件",
                "empty",
            )
        ]
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        what = exc.problem or "语法错误"
        if exc.context:
            what = f"{exc.context}, {what}"
        return None, [
            _err(
                file,
                line,
                col,
                f"YAML 语法错误:{what}",
                "检查这一行及上一行的缩进、冒号后的空格和引号是否成对",
                "yaml-syntax",
            )
        ]
    except yaml.YAMLError as exc:  # pragma: no cover - libyaml reader errors
        return None, [_err(file, 1, 1, f"YAML 无法读取:{exc}", "检查文件内容", "yaml-syntax")]
    if node is None:
        return None, [
            _err(
                file,
                1,
                1,
                "文件是空的",
                "写入条目内容(可用 `kb new` 生成模板),或删除此文件",
                "empty",
            )
        ]
    doc = Document(None)
    seen: set[int] = set()
    doc.data = _convert(node, (), doc, file, seen, problems)
    if any(p.code == "alias" for p in problems):
        return None, [p for p in problems if p.code == "alias"][:1]
    _block_indents(doc, text)
    return doc, problems


def _block_indents(doc: Document, text: str) -> None:
    """Fill ``doc.block_indent`` from the first non-blank content line of each block scalar."""
    if not doc.block_scalars:
        return
    lines = text.split("\n")
    for path in doc.block_scalars:
        start = doc.positions.get(path, (0, 0))[0]  # the line of the `|` / `>` indicator
        for line in lines[start : start + 50]:
            if line.strip():
                doc.block_indent[path] = len(line) - len(line.lstrip(" "))
                break


def _has_content(text: str) -> bool:
    return any(line.strip() and not line.lstrip().startswith("#") for line in text.split("\n"))


_BLOCK_STYLES = ("|", ">")


def _convert(
    node: yaml.Node,
    path: FieldPath,
    doc: Document,
    file: str,
    seen: set[int],
    problems: list[Problem],
) -> Any:
    """The value of ``node``; records positions (and block scalars) under ``path``.

    Scalar children are handled inline, not by a call each: most of a file's
    nodes are scalars, and this walk is a large part of ``kb validate``.
    """
    mark = node.start_mark
    line, col = mark.line + 1, mark.column + 1
    positions = doc.positions
    positions[path] = (line, col)
    if type(node) is yaml.ScalarNode:
        if node.style in _BLOCK_STYLES:
            doc.block_scalars.add(path)
        return _scalar(node)
    if id(node) in seen:
        # The composer reuses the node object for an alias: refuse instead of expanding.
        problems.append(
            _err(
                file,
                line,
                col,
                "使用了 YAML 锚点/别名(& 和 *)",
                "知识库条目不支持锚点和别名,请直接写出完整内容",
                "alias",
            )
        )
        return None
    seen.add(id(node))
    block_scalars = doc.block_scalars
    if type(node) is yaml.MappingNode:
        result: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        key_positions = doc.key_positions
        for key_node, value_node in node.value:
            key = _scalar(key_node) if type(key_node) is yaml.ScalarNode else str(key_node)
            kmark = key_node.start_mark
            kline = kmark.line + 1
            if key in first_line:
                problems.append(
                    _err(
                        file,
                        kline,
                        kmark.column + 1,
                        f"字段 `{key}` 写了两次(第一次在第 {first_line[key]} 行)",
                        "删掉其中一个,或把两处内容合并",
                        "duplicate-key",
                    )
                )
                continue
            first_line[key] = kline
            sub = (*path, key)
            kpos = (kline, kmark.column + 1)
            key_positions[sub] = kpos
            if type(value_node) is yaml.ScalarNode:
                if value_node.style in _BLOCK_STYLES:
                    block_scalars.add(sub)
                result[key] = _scalar(value_node)
                if value_node.value:
                    vmark = value_node.start_mark
                    positions[sub] = (vmark.line + 1, vmark.column + 1)
                else:
                    positions[sub] = kpos
            else:
                result[key] = _convert(value_node, sub, doc, file, seen, problems)
                positions[sub] = kpos
        return result
    assert type(node) is yaml.SequenceNode, node
    items: list[Any] = []
    for i, item in enumerate(node.value):
        sub = (*path, i)
        if type(item) is yaml.ScalarNode:
            imark = item.start_mark
            positions[sub] = (imark.line + 1, imark.column + 1)
            if item.style in _BLOCK_STYLES:
                block_scalars.add(sub)
            items.append(_scalar(item))
        else:
            items.append(_convert(item, sub, doc, file, seen, problems))
    return items


def _scalar(node: yaml.ScalarNode) -> Any:
    """Resolve a scalar the way YAML 1.1 would, but keep impossible dates as :class:`BadDate`."""
    value = node.value
    if node.style:  # quoted or block: always a string (libyaml gives "" for plain)
        return value
    tag = node.tag
    if tag == _STR_TAG and not _DATE_RE.match(value):  # the common case, first
        return value
    if tag == _NULL_TAG:
        return None
    if tag == _BOOL_TAG:
        return value.lower() in ("yes", "true", "on", "y")
    if tag == _INT_TAG:
        try:
            return int(value.replace("_", ""), 0)
        except ValueError:
            return value
    if tag == _FLOAT_TAG:
        try:
            return float(value.replace("_", ""))
        except ValueError:
            return value
    if tag == _TIMESTAMP_TAG or _DATE_RE.match(value):
        match = _DATE_RE.match(value)
        if match:
            try:
                return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                return BadDate(value)
        return value
    return value


def text_position(
    doc: Document, path: FieldPath, offset_line: int, offset_col: int
) -> tuple[int, int]:
    """The file (line, col) of a character inside the string at ``path``.

    ``offset_line`` / ``offset_col`` are 0-based, within the string's own text.
    Exact for block scalars and one-line plain scalars; for quoted or folded
    scalars the column is close (escapes and folding shift it).
    """
    line, col = doc.positions.get(path, (1, 1))
    if path in doc.block_scalars:
        return line + 1 + offset_line, doc.block_indent.get(path, col - 1) + 1 + offset_col
    if offset_line:  # a plain or quoted scalar over several lines: the column is approximate
        return line + offset_line, col
    return line, col + offset_col


def text_line(doc: Document, path: FieldPath, offset_line: int) -> int:
    """The file line of line ``offset_line`` (0-based) inside the string at ``path``."""
    line = doc.positions.get(path, (1, 1))[0]
    if path in doc.block_scalars:
        return line + 1 + offset_line
    return line + offset_line
