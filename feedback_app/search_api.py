"""``GET /api/search``: the answer desk asks a question, gets ranked entries.

Public by default: without a token the answer comes from the public view
(no internal entries, no replies, hand-off or owner). ``audience=staff``
needs a staff token still on main's roster (401 / 403). Both read the same
snapshot as ``/api/flags``: the tip of ``BASE_BRANCH``, never the working
tree, with one index per audience built from :func:`tooling.kb.view.view`
and each result built only from that view. Questions with no confident
answer go to the bounded unanswered log (:mod:`feedback_app.querylog`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue

from feedback_app.errors import BadRequest
from feedback_app.state import state
from tooling.kb.model import Entry, KnowledgeBase
from tooling.kb.view import DEFAULT_AUDIENCE, SiteAudience, check_audience
from tooling.site.render import entry_url

bp = Blueprint("search_api", __name__)

MAX_QUERY_CHARS = 500
MAX_LIMIT = 50
DEFAULT_LIMIT = 5


def _audience() -> SiteAudience:
    raw = request.args.get("audience", DEFAULT_AUDIENCE)
    try:
        return check_audience(raw)
    except ValueError:
        raise BadRequest(
            "audience 只能是 public 或 staff (audience must be public or staff)"
        ) from None


@bp.before_request
def check_request() -> None:
    """Cheap checks first, then authentication for staff results, then (in the
    view's rate-limit wrapper) the limit: so bad input is never counted."""
    if request.method == "OPTIONS":
        return
    query = request.args.get("q", "").strip()
    if not query:
        raise BadRequest("缺少查询内容:请用 ?q=问题 传入要搜索的问题 (missing q)")
    if len(query) > MAX_QUERY_CHARS:
        raise BadRequest(
            f"问题太长:q 最多 {MAX_QUERY_CHARS} 个字符 (q is over {MAX_QUERY_CHARS} characters)"
        )
    raw_limit = request.args.get("limit", str(DEFAULT_LIMIT))
    limit = int(raw_limit) if raw_limit.isascii() and raw_limit.isdigit() else 0
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(
            f"limit 必须是 1 到 {MAX_LIMIT} 之间的整数 "
            f"(limit must be an integer from 1 to {MAX_LIMIT})"
        )
    audience = _audience()
    if audience == "staff" or request.headers.get("Authorization"):
        g.staff_handle = state().staff_handle()
    g.search = (query, limit, audience)


@bp.get("/api/search")
def search() -> ResponseReturnValue:
    query, limit, audience = g.search
    app_state = state()
    kb, index = app_state.snapshot().search_view(audience)
    result = index.search(query, limit=limit)
    if not result.answered and app_state.query_log is not None:
        app_state.query_log.record(query, audience)
    results = []
    for hit in result.hits:
        entry = kb.entry(hit.entry_id)  # from the audience's own view, never the full KB
        if entry is not None:
            results.append(_result_json(entry, kb, audience, hit.score, hit.why))
    payload = {"query": query, "answered": result.answered, "results": results}
    payload["read_as"] = result.read_as  # the question as searched, typing slips repaired
    return jsonify(payload)


def _result_json(
    entry: Entry, kb: KnowledgeBase, audience: SiteAudience, score: float, why: str
) -> dict[str, Any]:
    base = str(current_app.config.get("SITE_URL") or "").rstrip("/")
    data: dict[str, Any] = {
        "id": entry.id,
        "question": entry.question,
        "score": score,
        "why": why,
        "section": entry.section,
        "rule": entry.rule,
        "scenarios": [{"case": s.case, "answer": s.answer} for s in entry.scenarios],
        # The same URL the site gives the page (render decides, e.g. for id clashes).
        "url": f"{base}/{entry_url(entry, kb)}",
    }
    # The view already left these out for the public; the audience check says so twice.
    if audience == "staff":
        data["replies"] = {
            "friendly": entry.replies.friendly,
            "formal": entry.replies.formal,
            "brief": entry.replies.brief,
        }
        if entry.handoff is not None:
            data["handoff"] = {
                "team": entry.handoff.team,
                "collect": list(entry.handoff.collect),
                "respond_within": entry.handoff.respond_within,
            }
    return data


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
