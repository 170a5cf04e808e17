"""The public search API on a copy of ../shared/eval/kb: no internal entry, question or
staff-only field in any answer (skips loudly when ../shared is absent)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pytest
from conftest import EVAL_KB, init_kb_repo, require_shared_eval

from feedback_app.auth import TokenStore
from security.appserver import AppServer
from tooling.kb.load import load

pytestmark = pytest.mark.slow


def test_public_search_never_shows_internal_entries_or_staff_fields(tmp_path: Path) -> None:
    require_shared_eval()  # the fixture twin is in test_app_holes.py
    repo = init_kb_repo(tmp_path / "repo", EVAL_KB)
    kb = load(repo / "kb").kb
    internal = [e for e in kb.entries if not e.is_public]
    assert internal, "the eval KB has internal entries to attack with"
    tokens = TokenStore(tmp_path / "tokens.json")
    app = AppServer(repo, tokens.path, SEARCH_RATE_LIMIT="")
    try:
        for entry in internal:
            for question in (entry.question, *entry.phrasings):
                status, body, _ = app.request(
                    "GET", "/api/search?" + urlencode({"q": question, "limit": "50"})
                )
                assert status == 200
                ids = {r["id"] for r in body["results"]}
                assert not ids & {e.id for e in internal}, (question, ids)
                for result in body["results"]:
                    assert "replies" not in result and "owner" not in result
                    assert result["question"] not in {e.question for e in internal}
    finally:
        app.stop()
