"""Proposed fixes applied to an entry file as targeted text edits.

A proposal changes one field of one entry file. Instead of re-dumping the
YAML (which would reflow comments, quotes and line breaks), we find the
affected node's position with the YAML composer and replace or insert only
that text. The rest of the file stays byte for byte as it was; every edit is
then re-parsed and checked to change exactly the intended value. Checking the
*request* that carries a proposal is :mod:`feedback_app.validation`.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import yaml

from feedback_app.errors import BadRequest
from feedback_app.validation import Proposal
from tooling.kb.yamlio import parse

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Loader = yaml.SafeLoader


# -- text edits --------------------------------------------------------------------------------


class _Text:
    """The file text with (line, column) -> offset conversion for YAML marks."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        for match in re.finditer("\n", text):
            self.starts.append(match.end())

    def at(self, mark: yaml.Mark) -> int:
        return self.starts[mark.line] + mark.column

    def eol(self, offset: int) -> int:
        """Offset of the newline ending the line that holds ``offset`` (or len(text))."""
        end = self.text.find("\n", offset)
        return len(self.text) if end < 0 else end

    def after_node(self, node: yaml.Node) -> int:
        """Offset just past the line where ``node``'s own text ends (trailing blank lines
        of a block scalar and comments on following lines are left where they are)."""
        start, end = self.at(node.start_mark), self.at(node.end_mark)
        content_end = start + len(self.text[start:end].rstrip())
        return min(self.eol(content_end) + 1, len(self.text))


def _plain_ok(text: str, flow: bool) -> bool:
    if flow and any(ch in text for ch in ",[]{}"):
        return False
    doc, problems = parse(f"k: {text}\n", "proposal")
    return not problems and doc is not None and doc.data == {"k": text}


def _inline(text: str, flow: bool = False, quote: str = "") -> str:
    """A single-line scalar: plain when YAML reads it back unchanged, else quoted."""
    if quote == "'" and "\n" not in text:
        return "'" + text.replace("'", "''") + "'"
    if quote != '"' and _plain_ok(text, flow):
        return text
    return json.dumps(text, ensure_ascii=False)


def _block_lines(text: str, indent: int) -> str:
    pad = " " * indent
    return "".join(f"{pad}{line}\n" if line.strip() else "\n" for line in text.split("\n"))


def yaml_value(text: str, indent: int) -> str:
    """Text to write after ``key: ``, ending with a newline: inline or a ``|`` block."""
    if "\n" in text:
        return "|\n" + _block_lines(text, indent)
    return _inline(text) + "\n"


def _get(mapping: yaml.MappingNode, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    for key_node, value_node in mapping.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return key_node, value_node
    return None


def _replace_scalar(t: _Text, node: yaml.Node, new: str, indent: int) -> str:
    """Replace a scalar value node with ``new``; ``indent`` is used for a new block."""
    if not isinstance(node, yaml.ScalarNode):
        raise _Unsupported("该值不是普通文本")
    text = t.text
    start, end = t.at(node.start_mark), t.at(node.end_mark)
    if node.style in ("|", ">"):
        header_end = t.eol(start)
        header = text[start:header_end]
        match = re.match(r"^[|>]([+-]?)[1-9]?([+-]?)(.*)$", header)
        chomp = (match.group(1) or match.group(2)) if match else ""
        header = "|" + chomp + (match.group(3) if match else "")
        body_lines = [ln for ln in text[header_end + 1 : end].split("\n") if ln.strip()]
        if body_lines:
            indent = len(body_lines[0]) - len(body_lines[0].lstrip(" "))
        return text[:start] + header + "\n" + _block_lines(new, indent) + text[t.after_node(node) :]
    if "\n" not in new:
        return text[:start] + _inline(new, quote=node.style or "") + text[end:]
    line_end = t.eol(end)
    rest = text[end:line_end].strip()
    comment = f"  {rest}" if rest.startswith("#") else ""
    return (
        text[:start]
        + "|"
        + comment
        + "\n"
        + _block_lines(new, indent)
        + text[min(line_end + 1, len(text)) :]
    )


def _last_leaf(node: yaml.Node) -> yaml.Node:
    while isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(node, yaml.MappingNode) else last
    return node


def _append(t: _Text, seq: yaml.Node, block_item: Any, flow_item: str) -> str:
    """Append an item to a sequence node. ``block_item(dash_col, item_col)`` gives the
    lines for a block sequence; ``flow_item`` the text for a flow sequence."""
    if not isinstance(seq, yaml.SequenceNode):
        raise _Unsupported("该字段不是列表")
    text = t.text
    if seq.flow_style:
        if seq.value:
            at = t.at(seq.value[-1].end_mark)
            return text[:at] + ", " + flow_item + text[at:]
        at = t.at(seq.end_mark) - 1  # the closing bracket
        return text[:at] + flow_item + text[at:]
    dash_col = seq.start_mark.column
    item_col = seq.value[0].start_mark.column if seq.value else dash_col + 2
    at = t.after_node(_last_leaf(seq.value[-1]))
    prefix = "" if text[:at].endswith("\n") else "\n"
    return text[:at] + prefix + block_item(dash_col, item_col) + text[at:]


class _Unsupported(Exception):
    pass


def _edit(text: str, proposal: Proposal) -> str:
    t = _Text(text)
    root = yaml.compose(text, Loader=_Loader)
    if not isinstance(root, yaml.MappingNode):
        raise _Unsupported("文件顶层不是映射")
    key_col = root.start_mark.column

    if proposal.kind == "rule":
        found = _get(root, "rule")
        if found is None:
            raise _Unsupported("条目没有 `rule`")
        return _replace_scalar(t, found[1], proposal.text, key_col + 2)

    if proposal.kind == "add_phrasing":
        found = _get(root, "phrasings")
        if found is None:
            raise _Unsupported("条目没有 `phrasings`")
        phrasing = proposal.text

        def phrasing_item(dash: int, col: int) -> str:
            return " " * dash + "-" + " " * (col - dash - 1) + _inline(phrasing) + "\n"

        return _append(t, found[1], phrasing_item, _inline(phrasing, flow=True))

    if proposal.kind == "add_scenario":
        case, answer = proposal.case, proposal.text

        def scenario_item(dash: int, col: int) -> str:
            return (
                " " * dash
                + "-"
                + " " * (col - dash - 1)
                + "case: "
                + _inline(case)
                + "\n"
                + " " * col
                + "answer: "
                + yaml_value(answer, col + 2)
            )

        flow = (
            f"{{case: {json.dumps(case, ensure_ascii=False)}, "
            f"answer: {json.dumps(answer, ensure_ascii=False)}}}"
        )
        found = _get(root, "scenarios")
        if found is not None and not (
            isinstance(found[1], yaml.ScalarNode) and found[1].tag.endswith(":null")
        ):
            return _append(t, found[1], scenario_item, flow)
        block = scenario_item(key_col + 2, key_col + 4)
        if found is not None:  # `scenarios:` with no value (or ~ / null)
            key_end = t.at(found[0].end_mark)
            line_end = t.eol(key_end)
            rest = text[key_end:line_end]
            if rest.split("#", 1)[0].strip() != ":":
                _, hash_, comment = rest.partition("#")
                rest = ":" + (f"  {hash_}{comment}" if hash_ else "")
            return text[:key_end] + rest + "\n" + block + text[min(line_end + 1, len(text)) :]
        rule = _get(root, "rule")
        at = t.after_node(rule[1]) if rule else len(text)
        prefix = "" if text[:at].endswith("\n") or not at else "\n"
        return text[:at] + prefix + " " * key_col + "scenarios:\n" + block + text[at:]

    found = _get(root, "scenarios")
    if (
        found is None
        or not isinstance(found[1], yaml.SequenceNode)
        or proposal.index >= len(found[1].value)
    ):
        raise _Unsupported("没有这个场景")
    item = found[1].value[proposal.index]
    if not isinstance(item, yaml.MappingNode):
        raise _Unsupported("该场景不是映射")
    answer_node = _get(item, "answer")
    if answer_node is None:
        raise _Unsupported("该场景没有 answer")
    return _replace_scalar(t, answer_node[1], proposal.text, item.start_mark.column + 2)


def _expected(data: dict[str, Any], proposal: Proposal, new_data: dict[str, Any]) -> Any:
    """What the whole document must read as after the edit."""
    want = copy.deepcopy(data)
    if proposal.kind == "rule":
        got = new_data.get("rule")
        if isinstance(got, str) and got.rstrip("\n") == proposal.text:
            want["rule"] = got
    elif proposal.kind == "add_phrasing":
        want["phrasings"] = [*want.get("phrasings", []), proposal.text]
    elif proposal.kind == "add_scenario":
        got = (new_data.get("scenarios") or [{}])[-1]
        answer = got.get("answer") if isinstance(got, dict) else None
        if isinstance(answer, str) and answer.rstrip("\n") == proposal.text:
            want["scenarios"] = [
                *(want.get("scenarios") or []),
                {"case": proposal.case, "answer": answer},
            ]
    else:
        got = new_data["scenarios"][proposal.index].get("answer")
        if isinstance(got, str) and got.rstrip("\n") == proposal.text:
            want["scenarios"][proposal.index]["answer"] = got
    return want


def apply_proposal(text: str, proposal: Proposal, file: str) -> str:
    """The entry file's new text. Raises :class:`BadRequest` when the file's layout is
    too unusual to edit safely (the check after the edit did not read back as intended)."""
    before, _ = parse(text, file)
    try:
        new_text = _edit(text, proposal)
    except (_Unsupported, yaml.YAMLError) as exc:
        raise _cannot(file, str(exc)) from None
    if not new_text.endswith("\n"):
        new_text += "\n"
    after, problems = parse(new_text, file)
    if (
        before is None
        or after is None
        or problems
        or not isinstance(after.data, dict)
        or after.data != _expected(before.data, proposal, after.data)
    ):
        raise _cannot(file, "改动后的文件读回来与预期不符")
    return new_text


def _cannot(file: str, why: str) -> BadRequest:
    return BadRequest(
        f"这条建议无法自动应用到 {file}({why});请不带建议发送反馈,在说明里写清楚怎么改"
    )
