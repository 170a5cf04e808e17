"""The feedback app refuses proposals the sanitizer would change (issue 10, item 1).

A real Flask app on a real git repository: ``POST /api/flags`` with a proposal runs
the same check as ``kb validate`` on the edited entry (``Snapshot.check_change``),
so the sanitizer's findings come back as a 400 with the located message, and no
branch is written.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import entry_yaml, git

from feedback_app import create_app
from feedback_app.auth import TokenStore

REFUSED = "这条建议会让条目无法通过校验(与 `kb validate` 的检查相同),请修改后重新发送"
URL_HINT = "链接只能以 http://、https://、mailto: 或 tel: 开头,或是站内的相对地址"


@pytest.fixture
def post(
    make_kb: Callable[[dict[str, str | bytes]], Path],
    make_repo: Callable[[Path], Path],
    tmp_path: Path,
) -> tuple[Callable[[dict[str, Any]], Any], Path]:
    repo = make_repo(make_kb({"returns/return-window.yaml": entry_yaml("return-window")}))
    store = TokenStore(tmp_path / "config" / "tokens.json")
    token = store.issue("zhang-wei")
    client = create_app(
        {"REPO": str(repo), "TOKENS_FILE": str(store.path), "RATE_LIMIT_PER_MINUTE": 1000}
    ).test_client()

    def send(proposal: dict[str, Any]) -> Any:
        body = {"entry": "return-window", "kind": "wrong", "note": "补充", "proposal": proposal}
        return client.post("/api/flags", json=body, headers={"Authorization": f"Bearer {token}"})

    return send, repo


@pytest.mark.parametrize(
    ("proposal", "detail"),
    [
        (
            {
                "add_scenario": {
                    "case": "x",
                    "answer": '详见[说明](https://example.com){ onmouseover="alert(1)" }',
                }
            },
            "kb/returns/return-window.yaml:11:40: error: `scenarios[2].answer` 里的属性写法 "
            '`{ onmouseover="alert(1)" }` 不支持,会原样显示成文字 — '
            "删掉这对花括号和里面的内容;链接写成 [标题](https://…) 即可,不能加属性",
        ),
        (
            {"add_scenario": {"case": "x", "answer": "[点我](jav&#x61;script:alert(1))"}},
            "kb/returns/return-window.yaml:11:18: error: `scenarios[2].answer` 里的链接地址 "
            f"`javascript:alert(1)` 不是 http/https/mailto/tel 链接,会被去掉 — {URL_HINT}",
        ),
        (
            {"rule": "规则\n[点我](jav&#x61;script:alert(1))"},
            "kb/returns/return-window.yaml:6:8: error: `rule` 里的链接地址 "
            f"`javascript:alert(1)` 不是 http/https/mailto/tel 链接,会被去掉 — {URL_HINT}",
        ),
    ],
)
def test_unsafe_proposals_get_400_with_the_validator_message(
    post: tuple[Callable[[dict[str, Any]], Any], Path], proposal: dict[str, Any], detail: str
) -> None:
    send, repo = post
    response = send(proposal)
    assert response.status_code == 400
    assert response.get_json() == {"error": REFUSED, "details": [detail]}
    assert git(repo, "for-each-ref", "refs/heads/flag/") == ""


def test_a_safe_link_in_a_proposal_is_accepted(
    post: tuple[Callable[[dict[str, Any]], Any], Path],
) -> None:
    send, _ = post
    response = send({"add_scenario": {"case": "x", "answer": "详见[说明](https://example.com)"}})
    assert response.status_code == 201, response.get_json()
