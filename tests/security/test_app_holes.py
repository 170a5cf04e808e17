"""Issue 10's holes in the feedback app, each attacked against a real gunicorn server
on a real git repository holding a fixture knowledge base (one test per hole)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO_ROOT, git

from feedback_app.auth import TokenStore
from security.appserver import (
    INTERNAL_QUESTION,
    INTERNAL_RULE,
    PUBLIC_REPLY,
    AppServer,
    make_fixture_repo,
)
from tooling.flags import read_unanswered

pytestmark = pytest.mark.slow
NOTE = {"entry": "return-window", "kind": "wrong", "note": "签收日期说得不清楚"}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_fixture_repo(tmp_path)


@pytest.fixture
def tokens(tmp_path: Path) -> dict[str, Any]:
    store = TokenStore(tmp_path / "config" / "tokens.json")
    return {
        "file": store.path,
        "zhang-wei": store.issue("zhang-wei"),
        "li-na": store.issue("li-na"),
    }


@pytest.fixture
def server(repo: Path, tokens: dict[str, Any]) -> Iterator[AppServer]:
    app = AppServer(repo, tokens["file"], FLAG_RATE_LIMIT="", SEARCH_RATE_LIMIT="")
    yield app
    app.stop()


@pytest.fixture(scope="module")
def unwritten(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppServer, Path, str]]:
    """One server for the requests that must be refused without writing anything (so
    one repository serves them all): the server, its repository and li-na's token."""
    folder = tmp_path_factory.mktemp("refused")
    repo = make_fixture_repo(folder)
    store = TokenStore(folder / "config" / "tokens.json")
    token = store.issue("li-na")
    app = AppServer(repo, store.path, FLAG_RATE_LIMIT="", SEARCH_RATE_LIMIT="")
    yield app, repo, token
    app.stop()


def flag_branches(repo: Path) -> list[str]:
    return git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/flag/").split()


def search(server: AppServer, q: str, **params: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    from urllib.parse import urlencode

    token = params.pop("token", None)
    return server.request("GET", "/api/search?" + urlencode({"q": q, **params}), token=token)


# -- 2. internal entries and staff-only fields -------------------------------------------------


def test_search_is_public_by_default_and_staff_needs_a_valid_token(
    server: AppServer, tokens: dict[str, Any]
) -> None:
    status, body, _ = search(server, INTERNAL_QUESTION)
    assert status == 200
    text = str(body["results"])
    assert "escalation" not in text and INTERNAL_RULE not in text and INTERNAL_QUESTION not in text
    status, body, _ = search(server, "七天无理由从哪天算", limit="5")
    assert status == 200 and body["results"][0]["id"] == "return-window"
    for result in body["results"]:  # no staff-only field in a public answer
        assert set(result) == {
            "id",
            "question",
            "score",
            "why",
            "section",
            "rule",
            "scenarios",
            "url",
        }
    assert PUBLIC_REPLY not in str(body) and "zhang-wei" not in str(body)

    status, body, headers = search(server, INTERNAL_QUESTION, audience="staff")
    assert (status, headers["WWW-Authenticate"]) == (401, 'Bearer realm="zhiku"')
    assert body["error"].startswith("请先登录")
    status, body, _ = search(server, INTERNAL_QUESTION, audience="staff", token="zk_forged")
    assert (status, body) == (401, {"error": "令牌无效,请找维护者重新生成"})
    ghost = TokenStore(tokens["file"]).issue("ghost")
    status, body, _ = search(server, INTERNAL_QUESTION, audience="staff", token=ghost)
    assert (status, body) == (
        403,
        {"error": "你的账号 `ghost` 已不在 main 的 _staff.yaml 里,请联系维护者"},
    )
    status, body, _ = search(server, INTERNAL_QUESTION, audience="staff", token=tokens["li-na"])
    assert status == 200 and body["results"][0]["id"] == "escalation"
    assert body["results"][0]["rule"].strip() == INTERNAL_RULE


# -- 3. the roster on every request ---------------------------------------------------------------


def test_a_handle_removed_from_main_gets_403_at_once(
    server: AppServer, repo: Path, tokens: dict[str, Any]
) -> None:
    assert server.request("GET", "/api/flags?entry=return-window", token=tokens["li-na"])[0] == 200
    staff = repo / "kb" / "_staff.yaml"
    staff.write_text(staff.read_text(encoding="utf-8").split("- handle: li-na")[0], "utf-8")
    git(repo, "commit", "-qam", "li-na leaves")

    status, body, _ = server.request("GET", "/api/flags?entry=return-window", token=tokens["li-na"])
    assert (status, body) == (
        403,
        {"error": "你的账号 `li-na` 已不在 main 的 _staff.yaml 里,请联系维护者"},
    )
    assert server.request("POST", "/api/flags", NOTE, token=tokens["li-na"])[0] == 403
    assert flag_branches(repo) == []


# -- 4. the tip of main, never the working tree --------------------------------------------------


def test_search_and_flags_read_main_and_follow_it(
    server: AppServer, repo: Path, tokens: dict[str, Any]
) -> None:
    uncommitted = repo / "kb" / "returns" / "draft.yaml"
    uncommitted.write_text(
        "id: draft\nquestion: 草稿条目的问题是什么?\nowner: zhang-wei\nrule: 草稿。\n"
        "phrasings: [草稿问法一, 草稿问法二]\nreviewed: 2026-10-01\n",
        encoding="utf-8",
    )
    _, body, _ = search(server, "草稿条目的问题是什么", audience="staff", token=tokens["li-na"])
    assert "draft" not in [r["id"] for r in body["results"]]
    status, _, _ = server.request("GET", "/api/flags?entry=draft", token=tokens["li-na"])
    assert status == 404  # search and flags agree: it is not on main

    git(repo, "add", "kb/returns/draft.yaml")
    git(repo, "commit", "-qm", "add the draft")
    _, body, _ = search(server, "草稿条目的问题是什么", audience="staff", token=tokens["li-na"])
    assert body["results"][0]["id"] == "draft"
    assert server.request("GET", "/api/flags?entry=draft", token=tokens["li-na"])[0] == 200

    git(repo, "rm", "-q", "kb/returns/return-window.yaml")
    git(repo, "commit", "-qm", "remove return-window")
    _, body, _ = search(server, "七天无理由从哪天算")
    assert "return-window" not in [r["id"] for r in body["results"]]  # no restart needed


# -- 5. the unanswered log: bounded, beside the repository -----------------------------------------


def test_unanswered_log_is_counted_bounded_and_beside_the_repository(
    repo: Path, tokens: dict[str, Any]
) -> None:
    app = AppServer(
        repo,
        tokens["file"],
        SEARCH_RATE_LIMIT="",
        QUERY_LOG_MAX_BYTES="4096",
        QUERY_LOG_KEEP="2",
    )
    try:
        for _ in range(30):
            assert search(app, "游泳池几点开门要门票吗")[0] == 200
        for n in range(120):
            assert search(app, f"完全无关的问题编号{n:03d}号")[0] == 200
    finally:
        app.stop()
    log = repo / ".git" / "zhiku-unanswered.jsonl"
    files = [p for p in (log, log.with_name(log.name + ".1"), log.with_name(log.name + ".2"))]
    assert all(p.exists() for p in files)
    assert not log.with_name(log.name + ".3").exists()
    assert all(p.stat().st_size <= 4096 for p in files)
    assert not (REPO_ROOT / "instance").exists()
    counted: dict[str, int] = {}
    for path in files:
        with path.open(encoding="utf-8") as fh:
            for line in read_unanswered(fh):
                assert line is not None
                counted[line.query] = counted.get(line.query, 0) + line.count
    assert counted.get("完全无关的问题编号119号") == 1
    if "游泳池几点开门要门票吗" in counted:  # rotated away at most, never split across lines
        assert counted["游泳池几点开门要门票吗"] == 30


# -- 5/7. rate limits shared by two gunicorn workers, bad input not counted ------------------------


def test_rate_limit_is_shared_by_workers_and_skips_bad_input(
    repo: Path, tokens: dict[str, Any]
) -> None:
    app = AppServer(repo, tokens["file"], workers=2, SEARCH_RATE_LIMIT="6 per minute")
    try:
        for _ in range(10):  # refused as bad input: not counted
            assert search(app, "退货", limit="0")[0] == 400
        statuses = [search(app, "七天无理由从哪天算")[0] for _ in range(12)]
        status, body, headers = search(app, "七天无理由从哪天算")
    finally:
        app.stop()
    assert statuses == [200] * 6 + [429] * 6  # per process it would be up to 12 x 200
    assert status == 429 and body["error"].startswith("请求太频繁,请 ")
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert (repo / ".git" / "zhiku-ratelimit.sqlite3").exists()


# -- 6. malformed requests: 4xx JSON in Chinese, never 500 -----------------------------------------

MALFORMED: list[tuple[str, Any, int, str]] = [
    ("kind-list", {**NOTE, "kind": ["wrong"]}, 400, "`kind` 必须是以下之一"),
    ("kind-object", {**NOTE, "kind": {"a": 1}}, 400, "`kind` 必须是以下之一"),
    ("entry-int", {**NOTE, "entry": 7}, 400, "`entry` 必须是条目编号"),
    ("entry-newline", {**NOTE, "entry": "return-window\n"}, 400, "`entry` 必须是条目编号"),
    ("note-list", {**NOTE, "note": ["x"]}, 400, "`note` 必须是字符串"),
    ("note-bidi", {**NOTE, "note": "退货\u202e规则"}, 400, "`note` 含有不可见的格式字符"),
    ("note-zero-width", {**NOTE, "note": "退\u200b货"}, 400, "`note` 含有不可见的格式字符"),
    ("proposal-list", {**NOTE, "proposal": ["rule"]}, 400, "`proposal` 必须是一个对象"),
    ("rule-object", {**NOTE, "proposal": {"rule": {"x": 1}}}, 400, "`rule` 必须是字符串"),
    ("scenario-bool", {**NOTE, "proposal": {"scenario": True, "answer": "x"}}, 400, "必须是整数"),
    ("answer-null", {**NOTE, "proposal": {"scenario": 0, "answer": None}}, 400, "必须是字符串"),
    ("body-string", "just a string", 400, "请发送一个 JSON 对象"),
    ("body-null", None, 400, "请发送一个 JSON 对象"),
]


@pytest.mark.parametrize(
    ("name", "body", "status", "message"), MALFORMED, ids=[m[0] for m in MALFORMED]
)
def test_malformed_flag_requests_get_4xx_json_in_chinese(
    unwritten: tuple[AppServer, Path, str],
    name: str,
    body: Any,
    status: int,
    message: str,
) -> None:
    server, repo, token = unwritten
    raw = b"null" if body is None else None
    got, answer, _ = server.request("POST", "/api/flags", body, raw=raw, token=token)
    assert got == status and message in answer["error"], (name, answer)
    assert flag_branches(repo) == []


def test_deep_oversize_and_broken_bodies(
    server: AppServer, repo: Path, tokens: dict[str, Any]
) -> None:
    cases = [
        (b"[" * 5000 + b"]" * 5000, 400, "JSON 嵌套太深(最多 8 层)"),
        (b'{"note": ' + b"[" * 5000 + b"]" * 5000 + b"}", 400, "JSON 嵌套太深(最多 8 层)"),
        (b'{"entry": "\xff\xfe"}', 400, "请求体不是有效的 JSON(须为 UTF-8 编码)"),
        (b"{", 400, "请求体不是有效的 JSON(须为 UTF-8 编码)"),
        (b'{"note": "' + b"x" * 70_000 + b'"}', 413, "请求太大(最多 64 KB)"),
    ]
    for raw, status, message in cases:
        got, answer, _ = server.request("POST", "/api/flags", raw=raw, token=tokens["li-na"])
        assert (got, answer) == (status, {"error": message})
    got, answer, _ = server.request(
        "GET", "/api/flags?entry=return-window%0A", token=tokens["li-na"]
    )
    assert got == 400 and answer["error"].startswith("`entry` 必须是条目编号")
    got, answer, _ = server.request(
        "POST", "/api/flags", NOTE, token=tokens["li-na"], headers={"Idempotency-Key": "a b"}
    )
    assert (got, answer) == (
        400,
        {"error": "`Idempotency-Key` 必须是 1 到 200 个可见 ASCII 字符(不含空格)"},
    )
    assert server.request("GET", "/api/nothing-here")[:2] == (404, {"error": "没有这个接口"})
    assert server.request("DELETE", "/api/flags", token=tokens["li-na"])[0] == 405
    assert flag_branches(repo) == []


# -- 6. git failures: 503 + Retry-After, nothing half-made, nothing replayed ------------------------


def _fake_git(folder: Path, real: str = "/usr/bin/git") -> Path:
    """A ``git`` first on PATH that fails ``update-ref`` while ``FAIL`` exists, and hangs
    on ``push`` while ``HANG`` exists."""
    folder.mkdir()
    script = folder / "git"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ -e "{folder}/FAIL" ] && [ "$1" = "update-ref" ]; then\n'
        '  echo "fatal: simulated failure" >&2; exit 128\nfi\n'
        f'if [ -e "{folder}/HANG" ] && [ "$1" = "push" ]; then sleep 60; fi\n'
        f'exec {real} "$@"\n',
        encoding="utf-8",
    )
    script.chmod(0o755)
    return folder


def test_git_failure_is_503_and_the_flag_is_not_replayed(
    repo: Path, tokens: dict[str, Any], tmp_path: Path
) -> None:
    fake = _fake_git(tmp_path / "fakebin")
    (fake / "FAIL").touch()
    app = AppServer(repo, tokens["file"], path_prefix=fake, FLAG_RATE_LIMIT="")
    try:
        status, body, headers = app.request(
            "POST", "/api/flags", NOTE, token=tokens["li-na"], headers={"Idempotency-Key": "k-1"}
        )
    finally:
        app.stop()
    assert (status, body) == (
        503,
        {"error": "反馈服务暂时无法写入仓库,请稍后再试(这条反馈没有保存)"},
    )
    assert headers["Retry-After"] == "30"
    assert flag_branches(repo) == []
    assert list((repo / ".git" / "zhiku-spool").glob("*.json")) == []

    (fake / "FAIL").unlink()
    app = AppServer(repo, tokens["file"], path_prefix=fake, FLAG_RATE_LIMIT="")
    try:
        assert flag_branches(repo) == []  # the restart did not replay it behind the client's back
        status, body, _ = app.request(
            "POST", "/api/flags", NOTE, token=tokens["li-na"], headers={"Idempotency-Key": "k-1"}
        )
    finally:
        app.stop()
    assert status == 201 and flag_branches(repo) == [body["branch"]]  # the retry works


def test_a_hanging_push_times_out(repo: Path, tokens: dict[str, Any], tmp_path: Path) -> None:
    git(repo.parent, "init", "-q", "--bare", "-b", "main", "origin.git")
    git(repo, "remote", "add", "origin", str(repo.parent / "origin.git"))
    fake = _fake_git(tmp_path / "fakebin")
    (fake / "HANG").touch()
    app = AppServer(repo, tokens["file"], path_prefix=fake, REMOTE="origin", GIT_TIMEOUT="2")
    try:
        started = time.monotonic()
        status, body, _ = app.request("POST", "/api/flags", NOTE, token=tokens["li-na"])
        took = time.monotonic() - started
    finally:
        app.stop()
    assert (status, body["pushed"]) == (201, False)  # the branch is safe, the push retried later
    assert took < 15, took
    assert flag_branches(repo) == [body["branch"]]


# -- 6. Idempotency-Key ------------------------------------------------------------------------------


def test_idempotency_key_makes_one_branch(
    server: AppServer, repo: Path, tokens: dict[str, Any]
) -> None:
    key = {"Idempotency-Key": "panel-3f9c2a1b-0001"}
    first = server.request("POST", "/api/flags", NOTE, token=tokens["li-na"], headers=key)
    again = server.request("POST", "/api/flags", NOTE, token=tokens["li-na"], headers=key)
    assert first[0] == again[0] == 201 and first[1] == again[1]
    assert again[2]["Idempotent-Replayed"] == "true"
    assert flag_branches(repo) == [first[1]["branch"]]
    other = server.request("POST", "/api/flags", NOTE, token=tokens["zhang-wei"], headers=key)
    assert other[0] == 201 and other[1]["branch"] != first[1]["branch"]  # keys are per person
    assert len(flag_branches(repo)) == 2


# -- 7. stale temporary index files ------------------------------------------------------------------


def test_stale_temporary_index_files_are_removed_at_start(
    repo: Path, tokens: dict[str, Any]
) -> None:
    stale = repo / ".git" / "zhiku-index-crashed"
    fresh = repo / ".git" / "zhiku-index-in-use"
    stale.write_bytes(b"DIRC")
    fresh.write_bytes(b"DIRC")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    app = AppServer(repo, tokens["file"])
    app.stop()
    assert not stale.exists()
    assert fresh.exists()  # another worker's index of a moment ago is left alone
    assert "removed 1 stale temporary index file(s): zhiku-index-crashed" in app.log()
