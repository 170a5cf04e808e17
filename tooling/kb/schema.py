"""The entry schema, defined once.

``ENTRY_SCHEMA`` and ``SECTION_SCHEMA`` are JSON Schema (draft-07) documents:
``kb schema`` prints them for editors (VS Code's YAML extension), and
:func:`tooling.kb.schema_check.check_document` interprets the same dictionaries to
validate files, so the editor's red underlines and ``kb validate`` cannot disagree.
"""

from __future__ import annotations

from typing import Any

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


# What starter files (`kb new`, `kb init`) put where a writer must write something:
# a value still containing it fails validation, so an untouched starter never ships.
PLACEHOLDER = "【待填写"
