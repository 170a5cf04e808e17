"""Validate a parsed YAML document against one of the schemas of :mod:`tooling.kb.schema`.

A small interpreter of the JSON Schema subset those dictionaries use (types,
required and known keys, patterns, enums, lengths, formats), reporting each
problem in Chinese at the value's FILE:LINE:COL, with a "did you mean" for a
misspelt key.
"""

from __future__ import annotations

import difflib
import re
from datetime import date
from typing import Any

from tooling.errors import Problem, Severity
from tooling.kb.schema import PLACEHOLDER
from tooling.kb.yamlio import BadDate, Document

_TYPE_NAMES = {
    "string": "文字",
    "integer": "整数",
    "array": "列表",
    "object": "键值(字段: 值)",
}


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "布尔值"
    if isinstance(value, int):
        return "整数"
    if isinstance(value, float):
        return "数字"
    if isinstance(value, str | date):
        return "文字"
    if isinstance(value, list):
        return "列表"
    if isinstance(value, dict):
        return "键值"
    if value is None:
        return "空值"
    return type(value).__name__


def field_label(path: tuple[str | int, ...]) -> str:
    parts: list[str] = []
    for part in path:
        if isinstance(part, int):
            parts.append(f"[{part + 1}]")
        else:
            parts.append(("." if parts else "") + part)
    return "".join(parts) or "文件"


def check_document(doc: Document, schema: dict[str, Any], file: str) -> list[Problem]:
    """Validate a parsed document against one of the schemas above."""
    problems: list[Problem] = []
    _check(doc.data, schema, (), doc, file, problems)
    return problems


def _check(
    value: Any,
    schema: dict[str, Any],
    path: tuple[str | int, ...],
    doc: Document,
    file: str,
    out: list[Problem],
) -> Any:
    if type(value) is str and schema.get("type") == "string" and _passes(value, schema):
        return  # most values: skip building the context of a message never written
    line, col = doc.positions.get(path, (1, 1))
    fix = schema.get("x-fix", "")

    def err(message: str, hint: str = fix, code: str = "type") -> None:
        out.append(Problem(file, line, col, Severity.ERROR, message, hint, code))

    kind = schema.get("type")
    name = field_label(path)
    if value is None and path:
        err(f"`{name}` 是空的", fix or "填写内容,或删掉这一行", "empty-value")
        return
    if kind == "object":
        if not isinstance(value, dict):
            what = "条目文件" if not path else f"`{name}`"
            err(
                f"{what}应该是{_TYPE_NAMES['object']},现在是{_type_of(value)}",
                fix or "每行写成 `字段: 值` 的形式",
                "not-a-mapping" if not path else "type",
            )
            return
        props: dict[str, Any] = schema.get("properties", {})
        # A misspelt key (`phrasing:`) is one mistake: report the unknown key with the
        # right name as the hint, not also "missing `phrasings`".
        meant: set[str] = set()
        for key in value:
            if key not in props and schema.get("additionalProperties") is False:
                kline, kcol = doc.key_positions.get((*path, key), (line, col))
                close = difflib.get_close_matches(str(key), list(props), n=1, cutoff=0.6)
                meant.update(close)
                hint = f"是不是想写 `{close[0]}`?" if close else f"可用的字段:{', '.join(props)}"
                where = f"`{name}` 里" if path else ""
                out.append(
                    Problem(
                        file,
                        kline,
                        kcol,
                        Severity.ERROR,
                        f"{where}未知字段 `{key}`",
                        hint,
                        "unknown-key",
                    )
                )
        for key in schema.get("required", []):
            if key not in value and key not in meant:
                where = f"`{name}` 缺少" if path else "缺少"
                sub = props.get(key, {})
                out.append(
                    Problem(
                        file,
                        line,
                        col,
                        Severity.ERROR,
                        f"{where}必填字段 `{key}`",
                        f"加上 `{key}:`({sub.get('description', '')})",
                        "missing-key",
                    )
                )
        for key, sub in props.items():
            if key in value:
                _check(value[key], sub, (*path, key), doc, file, out)
        return
    if kind == "array":
        if not isinstance(value, list):
            err(f"`{name}` 应该是{_TYPE_NAMES['array']},现在是{_type_of(value)}")
            return
        minimum = schema.get("minItems")
        if minimum is not None and len(value) < minimum:
            err(f"`{name}` 至少要有 {minimum} 条,现在只有 {len(value)} 条", fix, "min-items")
        items = schema.get("items")
        if items:
            for i, item in enumerate(value):
                _check(item, items, (*path, i), doc, file, out)
        return
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            err(f"`{name}` 应该是{_TYPE_NAMES['integer']},现在是 `{value}`")
        return
    if kind == "string":
        if schema.get("format") == "date":
            if isinstance(value, BadDate):
                err(
                    f"`{name}` 的日期 `{value}` 不存在",
                    "检查月份和日期,例如 2 月没有 30 日",
                    "bad-date",
                )
            elif not isinstance(value, date):
                err(f"`{name}` 应该是日期 YYYY-MM-DD,现在是 `{value}`", fix, "bad-date")
            return
        if isinstance(value, dict | list):
            err(
                f"`{name}` 应该是{_TYPE_NAMES['string']},现在是{_type_of(value)}",
                fix or "直接写文字;含冒号等符号时用引号括起来",
            )
            return
        text = str(value) if not isinstance(value, bool) else value
        if isinstance(text, bool):
            err(f"`{name}` 应该是文字,现在被读成了布尔值", '给这个值加上引号,例如 `"yes"`', "type")
            return
        if PLACEHOLDER in text:
            err(
                f"`{name}` 还是模板里的占位内容：{_placeholder(text)}",
                "把【待填写…】连同括号换成真实内容；不需要的可选字段可以整段删掉",
                "placeholder",
            )
        elif "enum" in schema and text not in schema["enum"]:
            err(f"`{name}` 的值 `{text}` 不在可选范围内", fix, "enum")
        elif schema.get("minLength") and not text.strip():
            err(f"`{name}` 是空的", fix or "填写内容,或删掉这一行", "empty-value")
        elif "maxLength" in schema and len(text) > schema["maxLength"]:
            err(f"`{name}` 有 {len(text)} 个字,超过 {schema['maxLength']} 字上限", fix, "too-long")
        elif "pattern" in schema and not re.match(schema["pattern"], text):
            err(f"`{name}` 的值 `{text}` 格式不对", fix, "pattern")
        return
    # enum without a type (not used by our schemas, kept for completeness)
    if "enum" in schema and value not in schema["enum"]:  # pragma: no cover
        err(f"`{name}` 的值 `{value}` 不在可选范围内", fix, "enum")


def _passes(text: str, schema: dict[str, Any]) -> bool:
    """True when the string branch of :func:`_check` would report nothing for ``text``
    (a plain ``str``); False sends it there to be reported."""
    if schema.get("format") == "date" or PLACEHOLDER in text:
        return False
    if "enum" in schema and text not in schema["enum"]:
        return False
    if schema.get("minLength") and not text.strip():
        return False
    if "maxLength" in schema and len(text) > schema["maxLength"]:
        return False
    return "pattern" not in schema or re.match(schema["pattern"], text) is not None


def _placeholder(text: str) -> str:
    """The first 【待填写…】 marker in ``text``, for the message."""
    start = text.index(PLACEHOLDER)
    end = text.find("】", start)
    return text[start : end + 1] if end != -1 else text[start : start + 30]
