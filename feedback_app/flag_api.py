"""``/api/flags``: staff flag an entry; each flag becomes a credited git branch.

``POST /api/flags`` (Bearer token; optional ``Idempotency-Key``) creates
``flag/<entry>/<id>`` and answers 201 ``{id, branch, commit, pushed}``.
``GET /api/flags?entry=ID`` (Bearer token) lists the entry's open flags.
Both check the token and the roster on main on every request, before the
rate limit; errors are raised as :mod:`feedback_app.errors` and rendered by
the app's one JSON error handler.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, g, jsonify, request
from flask.typing import ResponseReturnValue

from feedback_app.errors import AppError, BadRequest, NotFound
from feedback_app.state import state
from feedback_app.validation import entry_id, flag_request, idempotency_key, parse_json_body

log = logging.getLogger(__name__)
bp = Blueprint("flags", __name__, url_prefix="/api")


@bp.before_request
def authenticate() -> None:
    """Every flag endpoint needs a staff member still on main's roster (401 / 403)."""
    if request.method != "OPTIONS":
        g.staff_handle = state().staff_handle()


@bp.post("/flags")
def create_flag() -> ResponseReturnValue:
    handle: str = g.staff_handle
    key = idempotency_key(request.headers.get("Idempotency-Key"))
    body = parse_json_body(request.get_data(cache=False), request.content_type)
    checked = flag_request(body)
    app_state = state()
    if key is None or app_state.idempotency is None:
        return _create(handle, checked, None)
    with app_state.idempotency.claim(handle, key) as slot:
        stored = slot.stored
        if stored is not None:
            status, answer = stored
            response = jsonify(answer)
            response.status_code = status
            response.headers["Idempotent-Replayed"] = "true"
            return response
        try:
            response_body, status = _create(handle, checked, slot.name)
        except AppError as exc:
            if exc.status < 500:  # a retry of a refused request is refused the same way
                slot.save(exc.status, {"error": exc.message, **exc.extra})
            raise
        slot.save(status, response_body)
        return response_body, status


def _create(handle: str, checked: Any, slot: str | None) -> tuple[dict[str, Any], int]:
    service = state().flag_service()
    prepared = service.prepare(handle, checked, idempotency=slot)
    return service.submit(prepared), 201


@bp.get("/flags")
def list_flags() -> ResponseReturnValue:
    raw = request.args.get("entry")
    if raw is None:
        raise BadRequest("请给出条目编号:/api/flags?entry=编号")
    wanted = entry_id(raw)
    service = state().flag_service()
    if service.current().entry(wanted) is None:
        raise NotFound(f"main 上没有条目 `{wanted}`,请检查编号")
    flags = service.open_flags(wanted)
    return jsonify({"entry": wanted, "count": len(flags), "flags": flags})


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
