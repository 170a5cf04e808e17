"""``GET /api/search``: the answer desk asks a question, gets ranked entries.

The knowledge base is validated and indexed once per process, on the first
request (kept in ``app.extensions["zhiku_search"]``). Questions that get no
confident answer are appended to a JSON-lines log, with no IP and no user
data, so the knowledge-base owners can see what people ask that the
knowledge base cannot answer.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from tooling.answer import SearchIndex
from tooling.kb.check import validate
from tooling.kb.model import Entry, KnowledgeBase
from tooling.kb.view import DEFAULT_AUDIENCE, SiteAudience, check_audience
from tooling.site.render import entry_url

log = logging.getLogger(__name__)
bp = Blueprint("search_api", __name__)

EXTENSION = "zhiku_search"
MAX_QUERY_CHARS = 500
MAX_LIMIT = 50
DEFAULT_LIMIT = 5


@dataclass
class SearchState:
    """What one process keeps: the knowledge base, one index per audience, the log lock."""

    kb: KnowledgeBase | None = None
    indexes: dict[str, SearchIndex] = field(default_factory=dict)
    build_lock: threading.Lock = field(default_factory=threading.Lock)
    log_lock: threading.Lock = field(default_factory=threading.Lock)


def _state() -> SearchState:
    state: SearchState = current_app.extensions[EXTENSION]
    return state


def _index(audience: SiteAudience) -> SearchIndex:
    state = _state()
    index = state.indexes.get(audience)
    if index is not None:
        return index
    with state.build_lock:
        if state.kb is None:
            state.kb = _load_kb()
        if audience not in state.indexes:
            # The one audience view: expired notices and, for the public,
            # internal entries and staff-only fields are left out.
            state.indexes[audience] = SearchIndex.build(state.kb, audience, date.today())
        return state.indexes[audience]


def _load_kb() -> KnowledgeBase:
    repo = current_app.config.get("REPO")
    if not repo:
        raise RuntimeError("REPO is not configured (set ZHIKU_REPO to the git repository path)")
    root = Path(repo) / current_app.config.get("KB_DIR", "kb")
    result = validate(root)
    if result.errors:
        # Entries with errors are left out by the loader; search what is valid.
        log.warning(
            "knowledge base %s has %d error(s); searching the valid entries",
            root,
            len(result.errors),
        )
    return result.kb


def _bad_request(message: str) -> ResponseReturnValue:
    return jsonify({"error": message}), 400


@bp.get("/api/search")
def search() -> ResponseReturnValue:
    query = request.args.get("q", "").strip()
    if not query:
        return _bad_request("缺少查询内容:请用 ?q=问题 传入要搜索的问题 (missing q)")
    if len(query) > MAX_QUERY_CHARS:
        return _bad_request(
            f"问题太长:q 最多 {MAX_QUERY_CHARS} 个字符 (q is over {MAX_QUERY_CHARS} characters)"
        )
    raw_limit = request.args.get("limit", str(DEFAULT_LIMIT))
    try:
        limit = int(raw_limit)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        return _bad_request(
            f"limit 必须是 1 到 {MAX_LIMIT} 之间的整数 "
            f"(limit must be an integer from 1 to {MAX_LIMIT})"
        )
    try:
        audience = check_audience(request.args.get("audience", DEFAULT_AUDIENCE))
    except ValueError:
        return _bad_request("audience 只能是 public 或 staff (audience must be public or staff)")

    index = _index(audience)
    result = index.search(query, limit=limit)
    if not result.answered:
        _log_unanswered(query, audience)
    kb = _state().kb
    assert kb is not None
    results = []
    for hit in result.hits:
        entry = kb.entry(hit.entry_id)
        if entry is not None:
            results.append(_result_json(entry, kb, hit.score, hit.why))
    return jsonify({"query": query, "answered": result.answered, "results": results})


def _result_json(entry: Entry, kb: KnowledgeBase, score: float, why: str) -> dict[str, Any]:
    base = current_app.config.get("SITE_URL", "").rstrip("/")
    return {
        "id": entry.id,
        "question": entry.question,
        "score": score,
        "why": why,
        "section": entry.section,
        "rule": entry.rule,
        "replies": {
            "friendly": entry.replies.friendly,
            "formal": entry.replies.formal,
            "brief": entry.replies.brief,
        },
        # The same URL the site gives the page (render decides, e.g. for id clashes).
        "url": f"{base}/{entry_url(entry, kb)}",
    }


def _log_unanswered(query: str, audience: str) -> None:
    path = current_app.config.get("QUERY_LOG") or os.path.join(
        current_app.instance_path, "unanswered.jsonl"
    )
    line = (
        json.dumps(
            {
                "query": query,
                "time": datetime.now(UTC).isoformat(timespec="seconds"),
                "audience": audience,
            },
            ensure_ascii=False,
        )
        + "\n"
    )
    try:
        with _state().log_lock:
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            with open(path, "a", encoding="utf-8") as out:
                out.write(line)
    except OSError:
        log.exception("could not append to the unanswered-query log %s", path)


def _cors(response: Response) -> Response:
    origins = current_app.config.get("CORS_ORIGINS") or ""
    allowed = {o.strip().rstrip("/") for o in str(origins).split(",") if o.strip()}
    origin = request.headers.get("Origin", "")
    if origin and origin.rstrip("/") in allowed:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.vary.add("Origin")
    return response


bp.after_request(_cors)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = SearchState()
    app.register_blueprint(bp)
