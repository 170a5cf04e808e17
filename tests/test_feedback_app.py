"""The feedback app on real git repositories: flags become credited branches."""

from __future__ import annotations

import difflib
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURE_KB, REPO_ROOT, entry_yaml, git
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from feedback_app import create_app
from feedback_app.auth import TokenStore, hash_token
from feedback_app.gitstore import GitError, GitStore
from feedback_app.service import FlagService
from tooling.cli import main as kb_main
from tooling.kb.check import validate

RETURN_WINDOW = """\
# 退货时效:负责人每季度复核
id: return-window
question: 7天无理由退货从哪天开始算?
owner: li-na
tags: [退货, 时效]
# 核心规则
rule: |
  7天无理由退货的期限从**签收之日**的次日起算。
  物流途中的天数不计入。

scenarios:
  - case: 快递路上走了3天
    answer: 仍在期限内,可以申请。  # 常见
  - case: 塑封膜已经撕开
    answer: |
      不影响二次销售的,仍可退。
phrasings:
  - 超过7天了还能退吗
  - 七天无理由从哪天算
reviewed: 2026-10-01
"""
ENTRY_PATH = "kb/returns/return-window.yaml"


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def repo(
    make_kb: Callable[[dict[str, str | bytes]], Path], make_repo: Callable[[Path], Path]
) -> Path:
    kb = make_kb(
        {
            "returns/return-window.yaml": RETURN_WINDOW,
            "returns/refund-timeline.yaml": entry_yaml("refund-timeline"),
        }
    )
    return make_repo(kb)


@pytest.fixture
def tokens(tmp_path: Path) -> dict[str, Any]:
    store = TokenStore(tmp_path / "config" / "tokens.json")
    return {
        "file": store.path,
        "zhang-wei": store.issue("zhang-wei"),
        "li-na": store.issue("li-na"),
    }


@pytest.fixture
def make_app(repo: Path, tokens: dict[str, Any]) -> Callable[..., Flask]:
    def make(**config: Any) -> Flask:
        base = {
            "REPO": str(repo),
            "TOKENS_FILE": str(tokens["file"]),
            "FLAG_RATE_LIMIT": "",
            "SEARCH_RATE_LIMIT": "",
            "REF_CHECK_SECONDS": 0,
            "CORS_ORIGINS": "https://kb.example.com",
        }
        return create_app({**base, **config})

    return make


@pytest.fixture
def client(make_app: Callable[..., Flask]) -> FlaskClient:
    return make_app().test_client()


def auth(tokens: dict[str, Any], handle: str = "zhang-wei") -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[handle]}"}


def flag(client: FlaskClient, tokens: dict[str, Any], **body: Any) -> Any:
    payload = {"entry": "return-window", "kind": "wrong", "note": "签收日期说得不清楚", **body}
    return client.post("/api/flags", json=payload, headers=auth(tokens))


def branches(repo: Path, pattern: str = "flag/") -> list[str]:
    out = git(repo, "for-each-ref", "--format=%(refname:short)", f"refs/heads/{pattern}")
    return out.split()


def show(repo: Path, rev: str, path: str) -> str:
    return git(repo, "show", f"{rev}:{path}")


def file_diff(repo: Path, branch: str, path: str = ENTRY_PATH) -> str:
    before, after = show(repo, "main", path), show(repo, branch, path)
    return "".join(
        difflib.unified_diff(
            before.splitlines(True), after.splitlines(True), f"a/{path}", f"b/{path}", n=1
        )
    )


def export_and_validate(repo: Path, rev: str, dest: Path) -> list[str]:
    data = subprocess.run(
        ["git", "archive", "--format=tar", rev, "kb"], cwd=repo, check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")
    return [p.format() for p in validate(dest / "kb").errors]


# -- the branch, its author and message ---------------------------------------------------------


def test_flag_creates_a_credited_branch(
    client: FlaskClient, tokens: dict[str, Any], repo: Path, tmp_path: Path
) -> None:
    main_before = git(repo, "rev-parse", "main").strip()
    response = flag(client, tokens, note="规则没说节假日怎么算。\n\n请补充。")

    assert response.status_code == 201
    data = response.get_json()
    assert re.fullmatch(r"[0-9a-f]{8}", data["id"])
    assert data["branch"] == f"flag/return-window/{data['id']}"
    assert branches(repo) == [data["branch"]]
    assert git(repo, "rev-parse", data["branch"]).strip() == data["commit"]
    assert git(repo, "rev-parse", f"{data['branch']}^").strip() == main_before
    people = git(repo, "log", "-1", "--format=%an|%ae|%cn|%ce", data["branch"]).strip()
    assert people == "张伟|zhang.wei@example.com|Zhiku 反馈|zhiku-feedback@localhost"
    assert git(repo, "log", "-1", "--format=%B", data["branch"]) == (
        "反馈(答案错误): return-window\n\n规则没说节假日怎么算。\n\n请补充。\n\n"
        "Flag-Kind: wrong\nFlag-Entry: return-window\nFlag-By: zhang-wei\n"
        f"Flag-Id: {data['id']}\n\n"
    )
    # Without a proposal the flag is a record file the loader never reads as an entry.
    record_path = f"kb/.flags/return-window/{data['id']}.yaml"
    assert git(repo, "diff", "--name-status", "main", data["branch"]) == f"A\t{record_path}\n"
    record = show(repo, data["branch"], record_path)
    assert f"id: {data['id']}\nentry: return-window\n" in record
    assert 'file: "kb/returns/return-window.yaml"\nkind: wrong  # 答案错误\nby: 张伟\n' in record
    assert record.endswith("note: |\n  规则没说节假日怎么算。\n\n  请补充。\n")
    assert export_and_validate(repo, data["branch"], tmp_path / "export") == []


def test_kind_labels_and_committer_from_config(
    make_app: Callable[..., Flask], repo: Path, tokens: dict[str, Any]
) -> None:
    client = make_app(
        COMMITTER_NAME="知库机器人", COMMITTER_EMAIL="bot@kb.example.com"
    ).test_client()
    for kind, label in (("missing", "场景缺失"), ("unclear", "表述模糊")):
        data = flag(client, tokens, kind=kind).get_json()
        subject = git(repo, "log", "-1", "--format=%s|%cn|%ce", data["branch"]).strip()
        assert subject == f"反馈({label}): return-window|知库机器人|bot@kb.example.com"


# -- proposals: the exact diff of each kind --------------------------------------------------

PROPOSAL_DIFFS = [
    (
        {"rule": "7天无理由退货从签收次日起算,满7个自然日为止。\n节假日照常计算。"},
        """\
--- a/kb/returns/return-window.yaml
+++ b/kb/returns/return-window.yaml
@@ -7,4 +7,4 @@
 rule: |
-  7天无理由退货的期限从**签收之日**的次日起算。
-  物流途中的天数不计入。
+  7天无理由退货从签收次日起算,满7个自然日为止。
+  节假日照常计算。
\u0020
""",
    ),
    (
        {"add_scenario": {"case": "节假日签收", "answer": "照常计算,不顺延。"}},
        """\
--- a/kb/returns/return-window.yaml
+++ b/kb/returns/return-window.yaml
@@ -16,2 +16,4 @@
       不影响二次销售的,仍可退。
+  - case: 节假日签收
+    answer: 照常计算,不顺延。
 phrasings:
""",
    ),
    (
        {"add_phrasing": "国庆节签收的退货怎么算"},
        """\
--- a/kb/returns/return-window.yaml
+++ b/kb/returns/return-window.yaml
@@ -19,2 +19,3 @@
   - 七天无理由从哪天算
+  - 国庆节签收的退货怎么算
 reviewed: 2026-10-01
""",
    ),
    (
        {"scenario": 0, "answer": "仍在期限内:物流途中的天数不计入。"},
        """\
--- a/kb/returns/return-window.yaml
+++ b/kb/returns/return-window.yaml
@@ -12,3 +12,3 @@
   - case: 快递路上走了3天
-    answer: 仍在期限内,可以申请。  # 常见
+    answer: 仍在期限内:物流途中的天数不计入。  # 常见
   - case: 塑封膜已经撕开
""",
    ),
    (
        {"scenario": 1, "answer": "包装不影响二次销售的可以退。\n已激活的手机不适用。"},
        """\
--- a/kb/returns/return-window.yaml
+++ b/kb/returns/return-window.yaml
@@ -15,3 +15,4 @@
     answer: |
-      不影响二次销售的,仍可退。
+      包装不影响二次销售的可以退。
+      已激活的手机不适用。
 phrasings:
""",
    ),
]


@pytest.mark.parametrize(
    ("proposal", "expected"),
    PROPOSAL_DIFFS,
    ids=["rule", "add_scenario", "add_phrasing", "scenario-0", "scenario-1-block"],
)
def test_proposal_diff_is_exactly_the_change(
    client: FlaskClient,
    tokens: dict[str, Any],
    repo: Path,
    tmp_path: Path,
    proposal: dict[str, Any],
    expected: str,
) -> None:
    response = flag(client, tokens, proposal=proposal)

    assert response.status_code == 201, response.get_json()
    branch = response.get_json()["branch"]
    assert git(repo, "diff", "--name-only", "main", branch) == f"{ENTRY_PATH}\n"
    assert file_diff(repo, branch) == expected
    key = next(iter(proposal))
    assert (
        git(repo, "log", "-1", "--format=%(trailers:key=Flag-Proposal)", branch)
        == f"Flag-Proposal: {key}\n\n"
    )
    assert export_and_validate(repo, branch, tmp_path / "export") == []


def test_invalid_proposal_is_refused_with_the_validation_message(
    client: FlaskClient, tokens: dict[str, Any], repo: Path
) -> None:
    response = flag(client, tokens, proposal={"add_phrasing": "超过 7 天了,还能退吗?"})

    assert response.status_code == 400
    assert response.get_json() == {
        "error": "这条建议会让条目无法通过校验(与 `kb validate` 的检查相同),请修改后重新发送",
        "details": [
            "kb/returns/return-window.yaml:20:5: error: 问法“超过 7 天了,还能退吗?”与 本条目:18 "
            "的问法重复 — 同一个问法只能属于一个条目:删掉其中一处,或把两处改写得更具体"
        ],
    }
    other = flag(client, tokens, proposal={"add_phrasing": "refund-timeline 怎么办?"})
    assert other.status_code == 400
    assert "与 returns/refund-timeline.yaml:2 的标准问相同" in other.get_json()["details"][0]
    unsafe = flag(client, tokens, proposal={"rule": "点这里 <script>alert(1)</script>"})
    assert unsafe.status_code == 400
    assert branches(repo) == []


@pytest.mark.parametrize(
    ("proposal", "message"),
    [
        (
            {"scenario": 2, "answer": "x"},
            "条目 `return-window` 没有第 2 个场景(从 0 开始数):它有 2 个(0 到 1)",
        ),
        (
            {"scenario": "1", "answer": "x"},
            "`proposal.scenario` 必须是整数:场景在条目里的序号(从 0 开始)",
        ),
        (
            {"add_scenario": {"case": "x"}},
            '`proposal.add_scenario` 必须是 {"case": 文本, "answer": 文本}',
        ),
        ({"add_phrasing": "两行\n问法"}, "`phrasing` 只能写一行"),
        ({"rule": "  "}, "`rule` 是空的,请填写内容"),
        (
            {"replace": "x"},
            '未知的建议 replace:请用以下之一 {"rule": 文本}、{"add_scenario": '
            '{"case": 文本, "answer": 文本}}、{"add_phrasing": 文本} 或 '
            '{"scenario": 序号, "answer": 文本}',
        ),
    ],
)
def test_malformed_proposals_get_400(
    client: FlaskClient, tokens: dict[str, Any], proposal: dict[str, Any], message: str
) -> None:
    response = flag(client, tokens, proposal=proposal)
    assert (response.status_code, response.get_json()) == (400, {"error": message})


# -- auth and bad input ---------------------------------------------------------------------


def test_requests_without_a_valid_token_get_401(client: FlaskClient, repo: Path) -> None:
    body = {"entry": "return-window", "kind": "wrong", "note": "x"}
    missing = client.post("/api/flags", json=body)
    wrong = client.post("/api/flags", json=body, headers={"Authorization": "Bearer zk_nope"})
    basic = client.post("/api/flags", json=body, headers={"Authorization": "Basic abc"})
    listing = client.get("/api/flags?entry=return-window")

    for response in (missing, wrong, basic, listing):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="zhiku"'
    assert missing.get_json()["error"].startswith("请先登录:在请求头里带上个人令牌")
    assert wrong.get_json() == {"error": "令牌无效,请找维护者重新生成"}
    assert branches(repo) == []


def test_token_for_a_handle_no_longer_in_the_roster_gets_403(
    client: FlaskClient, tokens: dict[str, Any]
) -> None:
    ghost = TokenStore(tokens["file"]).issue("ghost")
    response = client.post(
        "/api/flags",
        headers={"Authorization": f"Bearer {ghost}"},
        json={"entry": "return-window", "kind": "wrong", "note": "x"},
    )
    assert response.status_code == 403
    assert response.get_json() == {
        "error": "你的账号 `ghost` 已不在 main 的 _staff.yaml 里,请联系维护者"
    }


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (
            {"entry": "no-such-entry", "kind": "wrong", "note": "x"},
            404,
            "main 上没有条目 `no-such-entry`,请检查编号",
        ),
        (
            {"entry": "../main", "kind": "wrong", "note": "x"},
            400,
            "`entry` 必须是条目编号(小写字母、数字和连字符),例如 return-window",
        ),
        (
            {"entry": "return-window", "kind": "typo", "note": "x"},
            400,
            "`kind` 必须是以下之一:wrong (答案错误)、missing (场景缺失)、unclear (表述模糊)",
        ),
        (
            {"entry": "return-window", "kind": "wrong"},
            400,
            "缺少 `note`:请用一句话说明哪里有误或缺了什么",
        ),
        (
            {"entry": "return-window", "kind": "wrong", "note": "x\x00y"},
            400,
            "`note` 含有控制字符 (U+0000),请删除",
        ),
        (
            {"entry": "return-window", "kind": "wrong", "note": "x", "by": "li-na"},
            400,
            "未知字段 by:可用的字段是 entry、kind、note、proposal",
        ),
        (
            {"entry": "return-window", "kind": "wrong", "note": "长" * 2001},
            413,
            "`note` 太长(2001 个字符,最多 2000 个)",
        ),
        (
            [1, 2],
            400,
            '请发送一个 JSON 对象:{"entry": 条目编号, "kind": "wrong", "note": 说明, '
            '"proposal": 可选}',
        ),
    ],
)
def test_bad_input_says_what_to_fix(
    client: FlaskClient, tokens: dict[str, Any], repo: Path, body: Any, status: int, message: str
) -> None:
    objects_before = git(repo, "count-objects")
    response = client.post("/api/flags", json=body, headers=auth(tokens))

    assert (response.status_code, response.get_json()) == (status, {"error": message})
    assert branches(repo) == []
    assert git(repo, "count-objects") == objects_before  # nothing half-written
    assert list((repo / ".git" / "zhiku-spool").iterdir()) == []


def test_oversize_body_and_non_json_are_refused(
    client: FlaskClient, tokens: dict[str, Any], repo: Path
) -> None:
    big = json.dumps({"entry": "return-window", "kind": "wrong", "note": "x" * 70_000})
    response = client.post(
        "/api/flags", data=big, content_type="application/json", headers=auth(tokens)
    )
    assert (response.status_code, response.get_json()) == (
        413,
        {"error": "请求太大(最多 64 KB)"},
    )
    form = client.post("/api/flags", data={"entry": "x"}, headers=auth(tokens))
    assert (form.status_code, form.get_json()) == (
        400,
        {"error": "请发送 JSON,并带上 `Content-Type: application/json`"},
    )
    broken = client.post(
        "/api/flags", data="{", content_type="application/json", headers=auth(tokens)
    )
    assert (broken.status_code, broken.get_json()) == (
        400,
        {"error": "请求体不是有效的 JSON(须为 UTF-8 编码)"},
    )
    assert branches(repo) == []


def test_rate_limit_per_token(
    make_app: Callable[..., Flask], tokens: dict[str, Any], repo: Path
) -> None:
    client = make_app(FLAG_RATE_LIMIT="2 per minute").test_client()
    assert [flag(client, tokens).status_code for _ in range(2)] == [201, 201]
    limited = flag(client, tokens)
    assert limited.status_code == 429
    assert limited.get_json()["error"].startswith("请求太频繁,请 ")
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    other = client.post(
        "/api/flags",
        headers=auth(tokens, "li-na"),
        json={"entry": "return-window", "kind": "wrong", "note": "x"},
    )
    assert other.status_code == 201  # the limit is per token
    assert len(branches(repo)) == 3


def test_rate_limit_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, repo: Path, tokens: dict[str, Any]
) -> None:
    monkeypatch.setenv("ZHIKU_REPO", str(repo))
    monkeypatch.setenv("ZHIKU_TOKENS_FILE", str(tokens["file"]))
    monkeypatch.setenv("ZHIKU_FLAG_RATE_LIMIT", "1 per minute")
    monkeypatch.setenv("ZHIKU_MAX_CONTENT_LENGTH", "2048")
    app = create_app()
    assert (app.config["FLAG_RATE_LIMIT"], app.config["MAX_CONTENT_LENGTH"]) == (
        "1 per minute",
        2048,
    )
    client = app.test_client()
    assert [flag(client, tokens).status_code for _ in range(2)] == [201, 429]


# -- the repository stays as people left it -------------------------------------------------


def test_working_tree_index_and_head_are_untouched(
    client: FlaskClient, tokens: dict[str, Any], repo: Path
) -> None:
    (repo / "notes.txt").write_text("someone's uncommitted work\n", encoding="utf-8")
    head, index = git(repo, "rev-parse", "HEAD"), (repo / ".git" / "index").read_bytes()
    status = git(repo, "status", "--porcelain")

    flag(client, tokens)
    flag(client, tokens, proposal={"add_phrasing": "节假日也算吗"})
    flag(client, tokens, proposal={"rule": "新规则。"})

    assert len(branches(repo)) == 3
    assert git(repo, "rev-parse", "HEAD") == head
    assert (repo / ".git" / "index").read_bytes() == index
    assert git(repo, "status", "--porcelain") == status == "?? notes.txt\n"
    assert git(repo, "symbolic-ref", "HEAD") == "refs/heads/main\n"
    assert (repo / ENTRY_PATH).read_text(encoding="utf-8") == RETURN_WINDOW


def test_push_to_the_remote(
    make_app: Callable[..., Flask], tokens: dict[str, Any], repo: Path, tmp_path: Path
) -> None:
    client = make_app(REMOTE="origin").test_client()
    data = flag(client, tokens, proposal={"add_phrasing": "节假日也算吗"}).get_json()

    assert data["pushed"] is True
    origin = tmp_path / "origin.git"
    assert git(origin, "rev-parse", data["branch"]).strip() == data["commit"]
    assert list((repo / ".git" / "zhiku-spool").iterdir()) == []


def test_a_push_that_fails_once_is_tried_again_at_once(
    make_app: Callable[..., Flask],
    tokens: dict[str, Any],
    repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A transient failure (a ref lock held by another push, a slow moment) costs one
    retry, not a flag left for the next start."""
    real_push = GitStore.push
    calls: list[str] = []

    def flaky_push(self: GitStore, remote: str, ref: str) -> None:
        calls.append(ref)
        if len(calls) == 1:
            raise GitError(["push"], 1, "error: cannot lock ref (a concurrent push)")
        real_push(self, remote, ref)

    monkeypatch.setattr(GitStore, "push", flaky_push)
    monkeypatch.setattr("feedback_app.service.PUSH_RETRY_SECONDS", 0.0)
    data = flag(make_app(REMOTE="origin").test_client(), tokens).get_json()
    assert data["pushed"] is True
    assert calls == [f"refs/heads/{data['branch']}"] * 2
    assert git(tmp_path / "origin.git", "rev-parse", data["branch"]).strip() == data["commit"]
    assert list((repo / ".git" / "zhiku-spool").iterdir()) == []


def test_failed_push_is_kept_and_retried_on_start(
    make_app: Callable[..., Flask], tokens: dict[str, Any], repo: Path, tmp_path: Path
) -> None:
    origin = tmp_path / "origin.git"
    moved = tmp_path / "origin-away.git"
    origin.rename(moved)
    data = flag(make_app(REMOTE="origin").test_client(), tokens).get_json()
    assert data["pushed"] is False
    assert branches(repo) == [data["branch"]]  # the flag itself is safe
    assert len(list((repo / ".git" / "zhiku-spool").glob("*.json"))) == 1

    moved.rename(origin)
    make_app(REMOTE="origin")
    assert git(origin, "rev-parse", data["branch"]).strip() == data["commit"]
    assert list((repo / ".git" / "zhiku-spool").glob("*.json")) == []


# -- durability -------------------------------------------------------------------------------


def _service(app: Flask) -> FlagService:
    service = app.extensions["zhiku"].service
    assert isinstance(service, FlagService)
    return service


def test_spooled_flag_is_committed_on_start(make_app: Callable[..., Flask], repo: Path) -> None:
    service = _service(make_app())
    prepared = service.prepare(
        "li-na", {"entry": "return-window", "kind": "missing", "note": "缺节假日的场景"}
    )
    service.spool.put({**prepared.__dict__})  # the process dies before writing the branch
    assert branches(repo) == []

    make_app()  # next start

    assert branches(repo) == [prepared.branch]
    assert (
        git(repo, "log", "-1", "--format=%an|%s", prepared.branch).strip()
        == "李娜|反馈(场景缺失): return-window"
    )
    assert list(service.spool.folder.iterdir()) == []


def test_recovery_is_idempotent(
    make_app: Callable[..., Flask], tokens: dict[str, Any], repo: Path
) -> None:
    app = make_app()
    service = _service(app)
    prepared = service.prepare(
        "zhang-wei", {"entry": "return-window", "kind": "wrong", "note": "x"}
    )
    result = service.submit(prepared)
    service.spool.put({**prepared.__dict__})  # as if it died before forgetting the spool item

    make_app()

    assert branches(repo) == [result["branch"]]
    assert git(repo, "rev-parse", result["branch"]).strip() == result["commit"]


def test_spooled_proposal_follows_main_when_it_moved(
    make_app: Callable[..., Flask], repo: Path, tmp_path: Path
) -> None:
    service = _service(make_app())
    prepared = service.prepare(
        "zhang-wei",
        {
            "entry": "return-window",
            "kind": "missing",
            "note": "x",
            "proposal": {"add_phrasing": "节假日也算吗"},
        },
    )
    service.spool.put({**prepared.__dict__})
    (repo / "kb/returns/refund-timeline.yaml").write_text(
        entry_yaml("refund-timeline", question="退款多久到账?"), encoding="utf-8"
    )
    git(repo, "commit", "-qam", "reviewer edits another entry")

    make_app()

    assert git(repo, "rev-parse", f"{prepared.branch}^") == git(repo, "rev-parse", "main")
    assert "+  - 节假日也算吗\n" in file_diff(repo, prepared.branch)
    assert export_and_validate(repo, prepared.branch, tmp_path / "export") == []


def test_main_moving_between_check_and_write(make_app: Callable[..., Flask], repo: Path) -> None:
    service = _service(make_app())
    prepared = service.prepare(
        "zhang-wei",
        {
            "entry": "return-window",
            "kind": "missing",
            "note": "x",
            "proposal": {"scenario": 0, "answer": "新的答复"},
        },
    )
    git(repo, "rm", "-q", "kb/returns/refund-timeline.yaml")
    git(repo, "commit", "-qm", "a reviewer removes an entry meanwhile")

    result = service.submit(prepared)

    assert git(repo, "rev-parse", f"{result['branch']}^") == git(repo, "rev-parse", "main")
    assert git(repo, "diff", "--name-only", "main", result["branch"]) == f"{ENTRY_PATH}\n"


# -- open flags ---------------------------------------------------------------------------------


def test_open_flags_newest_first_without_personal_details(
    make_app: Callable[..., Flask], tokens: dict[str, Any], repo: Path
) -> None:
    app = make_app()
    service = _service(app)
    first = service.prepare(
        "li-na", {"entry": "return-window", "kind": "unclear", "note": "第一条"}
    )
    service.submit(replace(first, received=1_790_000_000.0))
    second = service.prepare(
        "zhang-wei",
        {
            "entry": "return-window",
            "kind": "wrong",
            "note": "第二条",
            "proposal": {"rule": "新规则。"},
        },
    )
    service.submit(replace(second, received=1_790_000_100.0))
    merged = service.prepare(
        "zhang-wei", {"entry": "return-window", "kind": "wrong", "note": "已合并"}
    )
    service.submit(merged)
    git(repo, "merge", "-q", "--no-ff", "-m", "merge flag", merged.branch)
    service.submit(
        service.prepare(
            "zhang-wei", {"entry": "refund-timeline", "kind": "wrong", "note": "别的条目"}
        )
    )

    response = app.test_client().get("/api/flags?entry=return-window", headers=auth(tokens))

    assert response.status_code == 200
    assert response.get_json() == {
        "entry": "return-window",
        "count": 2,
        "flags": [
            {
                "id": second.id,
                "entry": "return-window",
                "kind": "wrong",
                "note": "第二条",
                "created": "2026-09-21T14:15:00+00:00",
                "by_name": "张伟",
                "branch": second.branch,
                "proposal": "rule",
            },
            {
                "id": first.id,
                "entry": "return-window",
                "kind": "unclear",
                "note": "第一条",
                "created": "2026-09-21T14:13:20+00:00",
                "by_name": "李娜",
                "branch": first.branch,
                "proposal": None,
            },
        ],
    }
    assert "@" not in response.get_data(as_text=True)
    unknown = app.test_client().get("/api/flags?entry=nope", headers=auth(tokens))
    assert unknown.status_code == 404


# -- CORS ---------------------------------------------------------------------------------------


def test_cors_allows_only_the_configured_origins(client: FlaskClient) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    allowed = client.options(
        "/api/flags", headers={"Origin": "https://kb.example.com", **preflight}
    )
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://kb.example.com"
    assert (
        allowed.headers["Access-Control-Allow-Headers"]
        == "Authorization, Content-Type, Idempotency-Key"
    )
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    other = client.options("/api/flags", headers={"Origin": "https://evil.example", **preflight})
    assert "Access-Control-Allow-Origin" not in other.headers
    health = client.get("/healthz", headers={"Origin": "https://kb.example.com"})
    assert health.headers["Access-Control-Allow-Origin"] == "https://kb.example.com"


# -- tokens -------------------------------------------------------------------------------------


def test_token_command_prints_the_token_once_and_stores_its_hash(
    repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert kb_main(["feedback", "token", "li-na", "--repo", str(repo)]) == 0
    out, err = capsys.readouterr()
    token = out.strip()
    assert out == token + "\n" and token.startswith("zk_") and len(token) > 40
    path = tmp_path / "xdg" / "zhiku" / "tokens.json"
    assert f"its hash is in {path}" in err
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = path.read_text(encoding="utf-8")
    assert hash_token(token) in stored and token not in stored
    assert TokenStore(path).handle_for(token) == "li-na"

    # A new token replaces the old one.
    assert kb_main(["feedback", "token", "li-na", "--repo", str(repo)]) == 0
    newer = capsys.readouterr().out.strip()
    assert TokenStore(path).handle_for(token) is None
    assert TokenStore(path).handle_for(newer) == "li-na"

    assert kb_main(["feedback", "token", "nobody", "--repo", str(repo)]) == 2
    assert (
        "no handle 'nobody' in kb/_staff.yaml on main (handles: zhang-wei, li-na)"
        in capsys.readouterr().err
    )

    # The token never reaches the logs or the repository.
    app = create_app({"REPO": str(repo), "TOKENS_FILE": str(path)})
    with caplog.at_level("DEBUG"):
        flag(app.test_client(), {"zhang-wei": newer}, note="x")
    assert newer not in caplog.text
    all_objects = subprocess.run(
        ["git", "cat-file", "--batch-all-objects", "--batch"], cwd=repo, capture_output=True
    ).stdout
    assert newer.encode() not in all_objects and hash_token(newer).encode() not in all_objects


# -- a real server: the CLI, and concurrency ---------------------------------------------------


@pytest.fixture
def served(make_app: Callable[..., Flask]) -> Iterator[str]:
    servers = [make_server("127.0.0.1", 0, make_app(), threaded=True) for _ in range(2)]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    yield ",".join(f"http://127.0.0.1:{s.server_port}" for s in servers)
    for server in servers:
        server.shutdown()
        server.server_close()


def post(url: str, token: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{url}/api/flags",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.slow
def test_hundred_concurrent_flags_all_land(served: str, tokens: dict[str, Any], repo: Path) -> None:
    """10 threads x 10 flags against two app instances sharing the repository."""
    urls = served.split(",")
    results: list[tuple[int, dict[str, Any]]] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        for i in range(10):
            body: dict[str, Any] = {
                "entry": "return-window",
                "kind": "wrong",
                "note": f"线程 {n} 第 {i} 条",
            }
            if i % 3 == 0:
                body["proposal"] = {"add_phrasing": f"线程{n}的问法{i}"}
            outcome = post(urls[n % 2], tokens["zhang-wei"], body)
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(status for status, _ in results) == [201] * 100
    created = {data["branch"] for _, data in results}
    assert len(created) == 100
    assert set(branches(repo)) == created
    fsck = subprocess.run(
        ["git", "fsck", "--strict", "--no-dangling"], cwd=repo, capture_output=True, text=True
    )
    assert (fsck.returncode, fsck.stdout) == (0, "")
    assert git(repo, "status", "--porcelain") == ""


@pytest.mark.slow
def test_kb_feedback_serve_runs_the_app(repo: Path, tokens: dict[str, Any]) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tooling",
            "feedback",
            "serve",
            "--repo",
            str(repo),
            "--port",
            "0",
            "--tokens",
            str(tokens["file"]),
            "--remote",
            "origin",
        ],
        cwd=REPO_ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        lines = []
        while not (
            match := re.search(
                r"listening on (http://127\.0\.0\.1:\d+)", lines[-1] if lines else ""
            )
        ):
            lines.append(process.stderr.readline())
            assert lines[-1], "".join(lines)
        url = match.group(1)
        with urllib.request.urlopen(f"{url}/healthz", timeout=10) as response:
            assert response.status == 200
        status, data = post(
            url, tokens["li-na"], {"entry": "refund-timeline", "kind": "unclear", "note": "x"}
        )
        assert (status, data["pushed"]) == (201, True)
        assert (
            git(repo.parent / "origin.git", "rev-parse", data["branch"]).strip() == data["commit"]
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


def test_fixture_kb_flag_branches_validate(
    make_repo: Callable[[Path], Path], tmp_path: Path, tokens: dict[str, Any]
) -> None:
    kb = tmp_path / "fixture-kb"
    shutil.copytree(FIXTURE_KB, kb)
    repo = make_repo(kb)
    tokens["qian-jun"] = TokenStore(tokens["file"]).issue("qian-jun")  # on the fixture's roster
    app = create_app({"REPO": str(repo), "TOKENS_FILE": str(tokens["file"])})
    client = app.test_client()
    started = time.perf_counter()
    response = client.post(
        "/api/flags",
        headers=auth(tokens, "qian-jun"),
        json={
            "entry": "water-leak",
            "kind": "missing",
            "note": "缺少夜间漏水的场景",
            "proposal": {"add_scenario": {"case": "半夜水管爆了", "answer": "拨 6688。"}},
        },
    )
    assert response.status_code == 201, response.get_json()
    assert time.perf_counter() - started < 2
    branch = response.get_json()["branch"]
    assert export_and_validate(repo, branch, tmp_path / "export") == []
    assert (
        git(repo, "diff", "--stat", "main", branch)
        .strip()
        .endswith("1 file changed, 2 insertions(+)")
    )
