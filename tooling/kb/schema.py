"""The entry schema, defined once.

``ENTRY_SCHEMA`` and ``SECTION_SCHEMA`` are JSON Schema (draft-07) documents:
``kb schema`` prints them for editors (VS Code's YAML extension), and
:func:`check_document` interprets the same dictionaries to validate files, so
the editor's red underlines and ``kb validate`` cannot disagree.
"""

from __future__ import annotations

import difflib
import re
from datetime import date
from typing import Any

from tooling.errors import Problem, Severity
from tooling.kb.yamlio import BadDate, Document

SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"
DATE = r"^\d{4}-\d{2}-\d{2}$"

_text = {"type": "string", "minLength": 1}
_texts = {"type": "array", "items": _text}

ENTRY_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "$id": "https://zhiku.example/schema/entry.json",
    "title": "知库条目",
    "description": "一个文件一个条目:标准问、核心规则、常见场景和衍生问法。",
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "question", "owner", "rule", "phrasings", "reviewed"],
    "properties": {
        "id": {
            "type": "string",
            "pattern": SLUG,
            "description": "条目编号:小写字母、数字和连字符,与文件名(不含 .yaml)相同",
            "x-fix": "只用小写字母、数字和连字符,例如 water-leak,并与文件名一致",
        },
        "question": {
            "type": "string",
            "minLength": 1,
            "maxLength": 80,
            "description": "标准问:页面标题,80 字以内",
            "x-fix": "写成一句完整的问题,80 字以内",
        },
        "owner": {
            "type": "string",
            "pattern": SLUG,
            "description": "负责人:_staff.yaml 里的 handle(知识认领)",
            "x-fix": "填写 _staff.yaml 里某位同事的 handle",
        },
        "rule": {
            "type": "string",
            "minLength": 1,
            "description": "核心规则(Markdown):权威答案",
            "x-fix": "用 `rule: |` 另起一行写规则正文",
        },
        "phrasings": {
            "type": "array",
            "minItems": 2,
            "items": _text,
            "description": "衍生问法:大家实际怎么问,至少 2 条,搜索会用到",
            "x-fix": "每条问法单独一行,以 `- ` 开头,至少写 2 条",
        },
        "scenarios": {
            "type": "array",
            "description": "常见场景:具体情况和对应的答复",
            "x-fix": "每个场景写成 `- case: …` 加下一行 `answer: …`",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["case", "answer"],
                "properties": {
                    "case": {**_text, "description": "具体情况"},
                    "answer": {**_text, "description": "这种情况怎么答复(Markdown)"},
                },
            },
        },
        "audience": {
            "type": "string",
            "enum": ["public", "internal"],
            "default": "public",
            "description": "public:公开站点可见;internal:只在员工站点可见",
            "x-fix": "填 public 或 internal",
        },
        "tags": {**_texts, "description": "标签", "x-fix": "写成列表,例如 `tags: [退货, 时效]`"},
        "replies": {
            "type": "object",
            "additionalProperties": False,
            "description": "话术:三种语气的现成回复",
            "x-fix": "写成 friendly / formal / brief 三个子字段",
            "properties": {
                "friendly": {**_text, "description": "亲切"},
                "formal": {**_text, "description": "专业"},
                "brief": {**_text, "description": "简洁"},
            },
        },
        "handoff": {
            "type": "object",
            "additionalProperties": False,
            "required": ["team", "respond_within"],
            "description": "转人工:交给哪个组、先收集什么、承诺多久响应(只在员工站点显示)",
            "x-fix": "写成 team / collect / respond_within 三个子字段",
            "properties": {
                "team": {**_text, "description": "负责的组"},
                "collect": {**_texts, "description": "转交前先收集的信息"},
                "respond_within": {
                    "type": "string",
                    "pattern": r"^[1-9][0-9]*(m|h|d)$",
                    "description": "承诺的响应时间,例如 30m、2h、1d",
                    "x-fix": "写成数字加单位:m 分钟、h 小时、d 天,例如 2h",
                },
            },
        },
        "related": {
            "type": "array",
            "items": {"type": "string", "pattern": SLUG},
            "description": "相关条目的 id",
            "x-fix": "写成条目 id 的列表,例如 `related: [refund-timeline]`",
        },
        "links": {
            "type": "array",
            "description": "外部链接",
            "x-fix": "每个链接写成 `- title: …` 加下一行 `url: https://…`",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["title", "url"],
                "properties": {
                    "title": {**_text, "description": "链接标题"},
                    "url": {
                        "type": "string",
                        "pattern": r"^https?://\S+$",
                        "description": "以 http:// 或 https:// 开头的网址",
                        "x-fix": "只能链接 http:// 或 https:// 开头的网址",
                    },
                },
            },
        },
        "reviewed": {
            "type": "string",
            "format": "date",
            "pattern": DATE,
            "description": "负责人最近一次确认内容无误的日期,YYYY-MM-DD",
            "x-fix": "写成 YYYY-MM-DD,例如 2026-10-01",
        },
        "review_every": {
            "type": "string",
            "pattern": r"^[1-9][0-9]{0,3}[dwmy]$",
            "default": "180d",
            "description": "复核周期:90d、26w、6m、1y;过期未复核会提示",
            "x-fix": "写成数字加单位:d 天、w 周、m 月、y 年,例如 90d",
        },
        "expires": {
            "type": "string",
            "format": "date",
            "pattern": DATE,
            "description": "到期日(限时通知用):过了这一天条目不再出现在站点上",
            "x-fix": "写成 YYYY-MM-DD,例如 2027-01-13",
        },
        "order": {
            "type": "integer",
            "description": "在栏目里的位置，数字小的在前；不写的条目排在后面，按标准问的拼音排序",
            "x-fix": "写一个整数，例如 `order: 1`",
        },
    },
}

SECTION_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "$id": "https://zhiku.example/schema/section.json",
    "title": "知库栏目",
    "type": "object",
    "additionalProperties": False,
    "required": ["title"],
    "properties": {
        "title": {**_text, "description": "栏目名称", "x-fix": "写上栏目名称,例如 `title: 报修`"},
        "order": {
            "type": "integer",
            "description": "排序,数字小的在前",
            "x-fix": "写一个整数,例如 `order: 1`",
        },
        "description": {**_text, "description": "栏目简介"},
    },
}

STAFF_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "知库人员名册",
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["handle", "name", "email"],
        "properties": {
            "handle": {
                "type": "string",
                "pattern": SLUG,
                "x-fix": "小写字母和连字符,例如 zhang-wei",
            },
            "name": _text,
            "email": {
                "type": "string",
                "pattern": r"^[^@\s]+@[^@\s]+$",
                "x-fix": "写成 name@example.com 的形式",
            },
            "team": _text,
        },
    },
}

SYNONYMS_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "搜索同义词组",
    "type": "array",
    "items": {
        "type": "array",
        "minItems": 2,
        "items": _text,
        "x-fix": "每组写成一行列表,至少两个词,例如 `- [快递, 包裹]`",
    },
}

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


# What starter files (`kb new`, `kb init`) put where a writer must write something:
# a value still containing it fails validation, so an untouched starter never ships.
PLACEHOLDER = "【待填写"


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
