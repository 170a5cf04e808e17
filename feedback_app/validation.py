"""Checking requests: the JSON body, a flag's fields, its proposal, headers.

Everything a client sends is checked here before anything is read from git
or written: JSON that is not JSON, nested too deep or of the wrong types;
ids that are not ids (the *whole* string: ``fullmatch``, so a trailing
newline fails); text with control, bidi-override or zero-width characters;
fields over their limits. Each refusal is a :class:`~feedback_app.errors.BadRequest`
(or 413 for a long field) saying in Chinese what to fix.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

from feedback_app.errors import BadRequest, TooLarge
from tooling.flags import KIND_LABELS, is_entry_id, kinds_help
from tooling.kb.model import Entry

ProposalKind = Literal["rule", "add_scenario", "add_phrasing", "scenario"]

# Field limits, in characters (the request body as a whole is capped by MAX_CONTENT_LENGTH).
LIMITS = {"note": 2000, "rule": 8000, "case": 200, "answer": 4000, "phrasing": 100}
FIELDS = ("entry", "kind", "note", "proposal")
MAX_DEPTH = 8  # a flag body is at most 3 levels deep
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,200}")

PROPOSAL_LABELS: dict[str, str] = {
    "rule": "替换核心规则",
    "add_scenario": "新增场景",
    "add_phrasing": "新增问法",
    "scenario": "修改场景答复",
}
PROPOSAL_SHAPES = (
    '{"rule": 文本}、{"add_scenario": {"case": 文本, "answer": 文本}}、'
    '{"add_phrasing": 文本} 或 {"scenario": 序号, "answer": 文本}'
)

# Invisible format characters that can make text read differently from what it is:
# bidi embeddings, overrides and isolates, zero-width spaces and joiners, BOM.
INVISIBLE = frozenset(
    [
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
        *range(0x200B, 0x2010),
        *range(0x2060, 0x2065),
        0xFEFF,
        0x061C,
        0x180E,
    ]
)


@dataclass(frozen=True)
class Proposal:
    kind: ProposalKind
    text: str = ""  # the new rule, the new phrasing or the new answer
    case: str = ""  # add_scenario only
    index: int = -1  # scenario only: 0-based position in `scenarios`

    def to_json(self) -> dict[str, Any]:
        if self.kind == "rule":
            return {"rule": self.text}
        if self.kind == "add_phrasing":
            return {"add_phrasing": self.text}
        if self.kind == "add_scenario":
            return {"add_scenario": {"case": self.case, "answer": self.text}}
        return {"scenario": self.index, "answer": self.text}

    @property
    def label(self) -> str:
        if self.kind == "scenario":
            return f"{PROPOSAL_LABELS['scenario']} #{self.index}"
        return PROPOSAL_LABELS[self.kind]


@dataclass(frozen=True)
class FlagRequest:
    """A flag request whose shape and text are checked (not yet against main)."""

    entry: str
    kind: str
    note: str
    proposal: Any  # checked against the entry by parse_proposal once it is known


# -- the body ---------------------------------------------------------------------------------


def json_depth_exceeds(raw: bytes, limit: int) -> bool:
    """Whether the JSON text ``raw`` nests arrays/objects deeper than ``limit``.

    A linear scan that skips strings, run *before* ``json.loads`` so a body
    nested thousands deep never reaches the recursive parser.
    """
    depth, in_string, escaped = 0, False, False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def parse_json_body(raw: bytes, content_type: str | None) -> Any:
    mimetype = (content_type or "").split(";", 1)[0].strip().lower()
    if mimetype != "application/json":
        raise BadRequest("请发送 JSON,并带上 `Content-Type: application/json`")
    if json_depth_exceeds(raw, MAX_DEPTH):
        raise BadRequest(f"JSON 嵌套太深(最多 {MAX_DEPTH} 层)")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadRequest("请求体不是有效的 JSON(须为 UTF-8 编码)") from None


def idempotency_key(value: str | None) -> str | None:
    if value is None:
        return None
    if IDEMPOTENCY_KEY.fullmatch(value) is None:
        raise BadRequest("`Idempotency-Key` 必须是 1 到 200 个可见 ASCII 字符(不含空格)")
    return value


# -- fields -----------------------------------------------------------------------------------


def clean_text(value: Any, field: str, *, multiline: bool) -> str:
    """A user-supplied string: type, control and invisible characters, newlines, length."""
    if not isinstance(value, str):
        raise BadRequest(f"`{field}` 必须是字符串")
    text = value.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    for ch in text:
        if ord(ch) in INVISIBLE:
            raise BadRequest(
                f"`{field}` 含有不可见的格式字符 (U+{ord(ch):04X},双向控制符或零宽字符),请删除"
            )
        if ch != "\n" and unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp"):
            raise BadRequest(f"`{field}` 含有控制字符 (U+{ord(ch):04X}),请删除")
    text = text.strip()
    if not text:
        raise BadRequest(f"`{field}` 是空的,请填写内容")
    if not multiline and "\n" in text:
        raise BadRequest(f"`{field}` 只能写一行")
    limit = LIMITS[field]
    if len(text) > limit:
        raise TooLarge(f"`{field}` 太长({len(text)} 个字符,最多 {limit} 个)")
    return text


def entry_id(value: Any) -> str:
    if not is_entry_id(value):
        raise BadRequest("`entry` 必须是条目编号(小写字母、数字和连字符),例如 return-window")
    assert isinstance(value, str)
    return value


def flag_request(payload: Any) -> FlagRequest:
    """The shape and text of a flag request, checked; raise :class:`BadRequest`."""
    if not isinstance(payload, dict):
        raise BadRequest(
            '请发送一个 JSON 对象:{"entry": 条目编号, "kind": "wrong", "note": 说明, '
            '"proposal": 可选}'
        )
    unknown = sorted(set(payload) - set(FIELDS))
    if unknown:
        raise BadRequest(f"未知字段 {'、'.join(unknown)}:可用的字段是 {'、'.join(FIELDS)}")
    entry = entry_id(payload.get("entry"))
    kind = payload.get("kind")
    if not isinstance(kind, str) or kind not in KIND_LABELS:
        raise BadRequest(f"`kind` 必须是以下之一:{kinds_help()}")
    if payload.get("note") is None:
        raise BadRequest("缺少 `note`:请用一句话说明哪里有误或缺了什么")
    note = clean_text(payload["note"], "note", multiline=True)
    proposal = payload.get("proposal")
    if proposal is not None:
        proposal_shape(proposal)
    return FlagRequest(entry, kind, note, proposal)


def proposal_shape(value: Any) -> None:
    """The checks of :func:`parse_proposal` that need no entry (run before the limit)."""
    if not isinstance(value, dict):
        raise BadRequest(f"`proposal` 必须是一个对象:{PROPOSAL_SHAPES}")


def parse_proposal(value: Any, entry: Entry) -> Proposal:
    """Check a request's ``proposal`` object against the entry it is for."""
    proposal_shape(value)
    keys = set(value)
    if keys == {"rule"}:
        return Proposal("rule", clean_text(value["rule"], "rule", multiline=True))
    if keys == {"add_phrasing"}:
        return Proposal(
            "add_phrasing", clean_text(value["add_phrasing"], "phrasing", multiline=False)
        )
    if keys == {"add_scenario"}:
        item = value["add_scenario"]
        if not isinstance(item, dict) or set(item) != {"case", "answer"}:
            raise BadRequest('`proposal.add_scenario` 必须是 {"case": 文本, "answer": 文本}')
        return Proposal(
            "add_scenario",
            clean_text(item["answer"], "answer", multiline=True),
            case=clean_text(item["case"], "case", multiline=False),
        )
    if keys == {"scenario", "answer"}:
        index = value["scenario"]
        if not isinstance(index, int) or isinstance(index, bool):
            raise BadRequest("`proposal.scenario` 必须是整数:场景在条目里的序号(从 0 开始)")
        count = len(entry.scenarios)
        if not 0 <= index < count:
            have = f"它有 {count} 个(0 到 {count - 1})" if count else "它没有场景,请用 add_scenario"
            raise BadRequest(f"条目 `{entry.id}` 没有第 {index} 个场景(从 0 开始数):{have}")
        return Proposal(
            "scenario", clean_text(value["answer"], "answer", multiline=True), index=index
        )
    names = "、".join(sorted(str(k) for k in keys)) or "(空)"
    raise BadRequest(f"未知的建议 {names}:请用以下之一 {PROPOSAL_SHAPES}")
