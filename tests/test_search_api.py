"""`GET /api/search` through Flask's test client, on a copy of the fixture KB."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURE_KB, init_kb_repo
from flask import Flask
from flask.testing import FlaskClient
from helpers import git

from feedback_app import create_app
from feedback_app.auth import TokenStore
from tooling.flags import read_unanswered

UNRELATED = "小区游泳池夏天几点开放,要买门票吗"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real git repository holding a copy of the fixture KB (the flag service needs git)."""
    return init_kb_repo(tmp_path_factory.mktemp("repo"), FIXTURE_KB)


@pytest.fixture(scope="module")
def app(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    log = tmp_path_factory.mktemp("log") / "unanswered.jsonl"
    tokens = TokenStore(tmp_path_factory.mktemp("config") / "tokens.json")
    app = create_app(
        {
            "REPO": str(repo),
            "KB_DIR": "kb",
            "QUERY_LOG": str(log),
            "TOKENS_FILE": str(tokens.path),
            "SEARCH_RATE_LIMIT": "",
            "CORS_ORIGINS": "https://kb.example.com, https://staff.example.com",
        }
    )
    staff = next(iter(app.extensions["zhiku"].snapshot().loaded.kb.staff))
    app.config["TEST_STAFF_AUTH"] = {"Authorization": f"Bearer {tokens.issue(staff.handle)}"}
    yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.mark.parametrize("warm", [True, False])
def test_the_answer_indexes_are_built_as_the_app_starts(
    repo: Path, tmp_path: Path, warm: bool
) -> None:
    """SEARCH_WARM: both audiences' indexes are built in the background at start, before
    any question, and the first question uses them instead of building its own."""
    app = create_app(
        {"REPO": str(repo), "TOKENS_FILE": str(tmp_path / "t.json"), "SEARCH_WARM": warm}
    )
    zhiku = app.extensions["zhiku"]
    snapshot = zhiku.main.cache.peek()
    if not warm:
        assert zhiku.warming is None
        assert snapshot.indexed() == set()
        return
    zhiku.warming.join(timeout=300)
    assert not zhiku.warming.is_alive()
    assert snapshot.indexed() == {"public", "staff"}
    built = snapshot.search_view("public")[1]
    response = app.test_client().get("/api/search", query_string={"q": "電梯壞了"})
    assert response.status_code == 200
    assert response.get_json()["answered"] is True
    assert snapshot.search_view("public")[1] is built


def test_a_merge_to_main_is_warmed_before_the_first_question(tmp_path: Path) -> None:
    """After main moves, the new snapshot's indexes are built in the background too: the
    first question after a merge does not wait for a build."""
    own = init_kb_repo(tmp_path / "own", FIXTURE_KB)
    app = create_app(
        {"REPO": str(own), "TOKENS_FILE": str(tmp_path / "t.json"), "REF_CHECK_SECONDS": 0}
    )
    zhiku = app.extensions["zhiku"]
    zhiku.warming.join(timeout=300)
    first = zhiku.main.cache.peek()
    entry = own / "kb" / "repairs" / "water-leak.yaml"
    text = entry.read_text(encoding="utf-8").replace("rule: |\n", "rule: |\n  先关总阀。\n", 1)
    entry.write_text(text, encoding="utf-8")
    git(own, "commit", "-q", "-am", "Edit water-leak")
    merged = zhiku.main.current()  # what the next request does: main moved
    assert merged is not first
    zhiku.warming.join(timeout=300)
    assert [p for p in merged.problems if p.file == "repairs/water-leak.yaml"] == []
    assert merged.indexed() == {"public", "staff"}


def _log_lines(app: Flask) -> list[dict[str, Any]]:
    path = Path(app.config["QUERY_LOG"])
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _asked(app: Flask) -> int:
    path = Path(app.config["QUERY_LOG"])
    if not path.exists():
        return 0
    with path.open(encoding="utf-8") as fh:
        return sum(line.count for line in read_unanswered(fh) if line is not None)


def test_answer_with_entry_details(client: FlaskClient, app: Flask) -> None:
    before = len(_log_lines(app))
    response = client.get(
        "/api/search",
        query_string={"q": "電梯壞了", "limit": 3, "audience": "staff"},
        headers=app.config["TEST_STAFF_AUTH"],
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["query"] == "電梯壞了"
    assert body["answered"] is True
    assert body["read_as"] == ""  # nothing to repair: traditional characters are no slip
    assert len(body["results"]) == 3
    first = body["results"][0]
    assert first["id"] == "elevator-fault"
    assert first["question"] == "电梯坏了或者被困在电梯里怎么办?".replace("?", "？")
    assert set(first) == {
        "id",
        "question",
        "score",
        "why",
        "section",
        "rule",
        "scenarios",
        "replies",
        "handoff",
        "url",
    }
    assert first["section"] == "repairs"
    assert first["handoff"]["team"] and first["handoff"]["collect"]
    assert all(set(s) == {"case", "answer"} for s in first["scenarios"])
    assert set(first["replies"]) == {"friendly", "formal", "brief"}
    assert first["url"].endswith("/repairs/elevator-fault/")
    assert len(_log_lines(app)) == before  # answered questions are not logged
    public = client.get("/api/search", query_string={"q": "電梯壞了", "limit": 3}).get_json()
    assert public["results"][0]["id"] == "elevator-fault"
    # The public view has no replies and no hand-off: the result cannot carry them.
    assert set(public["results"][0]) == {
        "id",
        "question",
        "score",
        "why",
        "section",
        "rule",
        "scenarios",
        "url",
    }


def test_unanswered_query_is_logged_once_per_day_with_a_count(
    client: FlaskClient, app: Flask
) -> None:
    before = len(_log_lines(app))
    for wording in (UNRELATED, UNRELATED + "?", " " + UNRELATED):
        response = client.get("/api/search", query_string={"q": wording, "audience": "public"})
        assert response.status_code == 200
        assert response.get_json()["answered"] is False
    lines = _log_lines(app)
    assert len(lines) == before + 1  # the same normalized question: one line, counted
    assert set(lines[-1]) == {"count", "query", "time", "audience"}
    assert (lines[-1]["query"], lines[-1]["audience"], lines[-1]["count"]) == (
        UNRELATED,
        "public",
        3,
    )
    assert lines[-1]["time"].endswith("+00:00")


def test_concurrent_unanswered_appends_stay_whole(app: Flask) -> None:
    before = _asked(app)

    def ask(n: int) -> None:
        client = app.test_client()
        for i in range(5):
            client.get("/api/search", query_string={"q": f"{UNRELATED} {n}-{i}"})

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _log_lines(app)  # every line parses as JSON
    assert _asked(app) == before + 20


def test_index_is_built_once(client: FlaskClient, app: Flask) -> None:
    client.get("/api/search", query_string={"q": "物业费"})
    first = app.extensions["zhiku"].snapshot().search_view("public")
    client.get("/api/search", query_string={"q": "停车"})
    assert app.extensions["zhiku"].snapshot().search_view("public") is first


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({}, "缺少查询内容:请用 ?q=问题 传入要搜索的问题 (missing q)"),
        ({"q": "   "}, "缺少查询内容:请用 ?q=问题 传入要搜索的问题 (missing q)"),
        ({"q": "问" * 501}, "问题太长:q 最多 500 个字符 (q is over 500 characters)"),
        (
            {"q": "退款", "limit": "0"},
            "limit 必须是 1 到 50 之间的整数 (limit must be an integer from 1 to 50)",
        ),
        (
            {"q": "退款", "limit": "51"},
            "limit 必须是 1 到 50 之间的整数 (limit must be an integer from 1 to 50)",
        ),
        (
            {"q": "退款", "limit": "five"},
            "limit 必须是 1 到 50 之间的整数 (limit must be an integer from 1 to 50)",
        ),
        (
            {"q": "退款", "audience": "all"},
            "audience 只能是 public 或 staff (audience must be public or staff)",
        ),
    ],
)
def test_bad_input_is_400(client: FlaskClient, query: dict[str, str], error: str) -> None:
    response = client.get("/api/search", query_string=query)
    assert response.status_code == 400
    assert response.get_json() == {"error": error}


def test_cors_only_for_configured_origins(client: FlaskClient) -> None:
    allowed = client.get(
        "/api/search", query_string={"q": "物业费"}, headers={"Origin": "https://staff.example.com"}
    )
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://staff.example.com"
    other = client.get(
        "/api/search", query_string={"q": "物业费"}, headers={"Origin": "https://evil.example.net"}
    )
    assert "Access-Control-Allow-Origin" not in other.headers
