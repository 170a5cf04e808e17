"""Proposals are targeted text edits: only the changed field's lines differ."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path

import pytest

from feedback_app import validation
from feedback_app import yamledit as proposals
from feedback_app.errors import BadRequest as InputError
from feedback_app.validation import Proposal
from feedback_app.yamledit import apply_proposal
from tooling.kb.yamlio import parse


def diff(before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(before.splitlines(True), after.splitlines(True), "a", "b", n=0)
    )


COMPACT = """\
id: a  # 编号
rule: 简单规则  # 待补充
phrasings: [问法一, 问法二]   # 至少两条
reviewed: 2026-10-01
"""


def test_flow_list_gets_the_item_after_its_last_one() -> None:
    after = apply_proposal(COMPACT, Proposal("add_phrasing", "甲, 乙"), "a.yaml")
    assert (
        diff(COMPACT, after)
        == """\
--- a
+++ b
@@ -3 +3 @@
-phrasings: [问法一, 问法二]   # 至少两条
+phrasings: [问法一, 问法二, "甲, 乙"]   # 至少两条
"""
    )


def test_missing_scenarios_are_added_after_the_rule() -> None:
    after = apply_proposal(
        COMPACT, Proposal("add_scenario", "第一行\n第二行", case="c: 冒号"), "a.yaml"
    )
    assert (
        diff(COMPACT, after)
        == """\
--- a
+++ b
@@ -2,0 +3,5 @@
+scenarios:
+  - case: "c: 冒号"
+    answer: |
+      第一行
+      第二行
"""
    )


def test_single_line_rule_becomes_a_block_and_keeps_its_comment() -> None:
    after = apply_proposal(COMPACT, Proposal("rule", "第一段。\n\n  - 列表项"), "a.yaml")
    assert (
        diff(COMPACT, after)
        == """\
--- a
+++ b
@@ -2 +2,4 @@
-rule: 简单规则  # 待补充
+rule: |  # 待补充
+  第一段。
+
+    - 列表项
"""
    )
    doc, _ = parse(after, "a.yaml")
    assert doc is not None and doc.data["rule"] == "第一段。\n\n  - 列表项\n"


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("yes", '"yes"'),
        ("2026-01-01", '"2026-01-01"'),
        ("null", '"null"'),
        ("123", '"123"'),
        ("- 破折号开头", '"- 破折号开头"'),
        ("a # b", '"a # b"'),
        ("普通的问法", "普通的问法"),
    ],
)
def test_values_yaml_would_misread_are_quoted(text: str, written: str) -> None:
    source = "id: a\nrule: r\nphrasings:\n- p1\n- p2\nreviewed: 2026-10-01\n"
    after = apply_proposal(source, Proposal("add_phrasing", text), "a.yaml")
    assert diff(source, after).splitlines()[-1] == f"+- {written}"


def test_empty_scenarios_key_and_empty_flow_list() -> None:
    empty_key = "id: a\nrule: r\nscenarios:   # 以后补\nphrasings: [x, y]\n"
    after = apply_proposal(empty_key, Proposal("add_scenario", "答", case="情况"), "a.yaml")
    assert after == (
        "id: a\nrule: r\nscenarios:   # 以后补\n  - case: 情况\n    answer: 答\nphrasings: [x, y]\n"
    )
    null = "id: a\nrule: r\nscenarios: ~  # 以后补\nphrasings: [x, y]\n"
    after = apply_proposal(null, Proposal("add_scenario", "答", case="情况"), "a.yaml")
    assert after == (
        "id: a\nrule: r\nscenarios:  # 以后补\n  - case: 情况\n    answer: 答\nphrasings: [x, y]\n"
    )
    flow = "id: a\nrule: r\nscenarios: []\nphrasings: [x, y]\n"
    after = apply_proposal(flow, Proposal("add_scenario", "答", case="情况"), "a.yaml")
    assert after == (
        'id: a\nrule: r\nscenarios: [{case: "情况", answer: "答"}]\nphrasings: [x, y]\n'
    )


def test_an_edit_that_does_not_read_back_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(proposals, "_edit", lambda text, proposal: text.replace("r\n", "R\n"))
    with pytest.raises(InputError) as caught:
        apply_proposal("id: a\nrule: r\n", Proposal("rule", "新"), "kb/x/a.yaml")
    assert str(caught.value) == (
        "这条建议无法自动应用到 kb/x/a.yaml(改动后的文件读回来与预期不符);"
        "请不带建议发送反馈,在说明里写清楚怎么改"
    )


def test_control_characters_and_tabs(monkeypatch: pytest.MonkeyPatch) -> None:
    assert validation.clean_text("\tA\r\nB\t", "rule", multiline=True) == "A\nB"
    with pytest.raises(InputError, match=r"U\+2028"):
        validation.clean_text("a\u2028b", "rule", multiline=True)
    # Bidi overrides and zero-width characters make text read differently from what it is.
    for invisible in ("\u202e", "\u2066", "\u200b", "\u200d", "\ufeff"):
        with pytest.raises(InputError) as caught:
            validation.clean_text(f"退货{invisible}规则", "note", multiline=True)
        assert str(caught.value) == (
            f"`note` 含有不可见的格式字符 (U+{ord(invisible):04X},双向控制符或零宽字符),请删除"
        )


def test_crlf_and_bom_files_keep_their_line_endings(
    make_kb: Callable[[dict[str, str | bytes]], Path],
    make_repo: Callable[[Path], Path],
    tmp_path: Path,
) -> None:
    from conftest import entry_yaml, git

    from feedback_app import create_app
    from feedback_app.auth import TokenStore

    raw = b"\xef\xbb\xbf" + entry_yaml("crlf-entry").replace("\n", "\r\n").encode()
    repo = make_repo(make_kb({"misc/crlf-entry.yaml": raw}))
    git(repo, "config", "core.autocrlf", "false")
    token = TokenStore(tmp_path / "t.json").issue("li-na")
    client = create_app({"REPO": str(repo), "TOKENS_FILE": str(tmp_path / "t.json")}).test_client()
    response = client.post(
        "/api/flags",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "entry": "crlf-entry",
            "kind": "unclear",
            "note": "x",
            "proposal": {"add_phrasing": "第三种问法"},
        },
    )
    assert response.status_code == 201, response.get_json()
    after = subprocess_show(repo, response.get_json()["branch"], "kb/misc/crlf-entry.yaml")
    assert after == raw.replace(b"reviewed:", "  - 第三种问法\r\nreviewed:".encode())


def subprocess_show(repo: Path, rev: str, path: str) -> bytes:
    import subprocess

    return subprocess.run(
        ["git", "show", f"{rev}:{path}"], cwd=repo, check=True, capture_output=True
    ).stdout
