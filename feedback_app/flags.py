"""``/api/flags``: staff flag an entry; each flag becomes a credited git branch.

``POST /api/flags`` (Bearer token) creates ``flag/<entry>/<id>`` and answers 201
``{id, branch, commit, pushed}``. ``GET /api/flags?entry=ID`` (Bearer token) lists
the entry's open flags. Errors are JSON ``{"error": ...}`` saying what to fix.
CORS answers only the origins in ``CORS_ORIGINS``.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from feedback_app.auth import TokenStore, default_tokens_path
from feedback_app.gitstore import Identity
from feedback_app.proposals import InputError
from feedback_app.ratelimit import RateLimiter
from feedback_app.service import SLUG, FlagService, ServiceError

log = logging.getLogger(__name__)
bp = Blueprint("flags", __name__, url_prefix="/api")
EXTENSION = "zhiku_flags"


class _Parts:
    def __init__(
        self,
        service: FlagService | None,
        tokens: TokenStore,
        limiter: RateLimiter,
        origins: set[str],
    ) -> None:
        self.service = service
        self.tokens = tokens
        self.limiter = limiter
        self.origins = origins


def _parts() -> _Parts:
    parts: _Parts = current_app.extensions[EXTENSION]
    return parts


def _service() -> FlagService:
    service = _parts().service
    if service is None:
        raise ServiceError("the feedback app has no repository: set ZHIKU_REPO")
    return service


def error(message: str, status: int, **extra: Any) -> Response:
    response = jsonify({"error": message, **extra})
    response.status_code = status
    return response


def _authenticate() -> str | Response:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    handle = _parts().tokens.handle_for(token.strip()) if scheme.lower() == "bearer" else None
    if handle is None:
        response = error(
            "sign in: send your personal token as `Authorization: Bearer TOKEN` "
            "(ask a maintainer to run `kb feedback token YOUR-HANDLE`)"
            if not header
            else "this token is not valid; ask for a new one",
            401,
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="zhiku"'
        return response
    g.staff_handle = handle
    return handle


@bp.post("/flags")
def create_flag() -> ResponseReturnValue:
    handle = _authenticate()
    if isinstance(handle, Response):
        return handle
    wait = _parts().limiter.hit(handle)
    if wait:
        response = error(f"too many flags; try again in {math.ceil(wait)} s", 429)
        response.headers["Retry-After"] = str(math.ceil(wait))
        return response
    if not request.is_json:
        return error("send JSON with `Content-Type: application/json`", 400)
    payload = request.get_json(silent=True)
    if payload is None:
        return error("the body is not valid JSON", 400)
    try:
        service = _service()
        prepared = service.prepare(handle, payload)
        result = service.submit(prepared)
    except InputError as exc:
        extra = {"details": exc.details} if exc.details else {}
        return error(str(exc), exc.status, **extra)
    return jsonify(result), 201


@bp.get("/flags")
def list_flags() -> ResponseReturnValue:
    handle = _authenticate()
    if isinstance(handle, Response):
        return handle
    entry_id = request.args.get("entry", "")
    if not SLUG.match(entry_id):
        return error("give the entry id: /api/flags?entry=ID", 400)
    service = _service()
    if service.current().entry(entry_id) is None:
        return error(f"no entry `{entry_id}` on main: check the id", 404)
    flags = service.open_flags(entry_id)
    return jsonify({"entry": entry_id, "count": len(flags), "flags": flags})


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> ResponseReturnValue:
    messages = {
        413: f"the request is too large (at most "
        f"{current_app.config['MAX_CONTENT_LENGTH'] // 1024} KB)"
    }
    return error(messages.get(exc.code or 500, exc.description or exc.name), exc.code or 500)


@bp.errorhandler(ServiceError)
def service_error(exc: ServiceError) -> ResponseReturnValue:
    log.error("feedback service unavailable: %s", exc)
    return error("the feedback service is not ready; try again later", 503)


@bp.after_app_request
def cors(response: Response) -> Response:
    """Allow the configured site origins only; answer preflights for POST + Authorization."""
    origin = request.headers.get("Origin")
    api = request.path.startswith("/api/") or request.path == "/healthz"
    if origin and api and origin in _parts().origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = (
            "Authorization, Content-Type, Idempotency-Key"
        )
        response.headers["Access-Control-Max-Age"] = "600"
    response.vary.add("Origin")
    return response


def init_app(app: Flask) -> None:
    config = app.config
    service = None
    if config.get("REPO"):
        service = FlagService(
            Path(config["REPO"]),
            kb_dir=config["KB_DIR"],
            base_branch=config["BASE_BRANCH"],
            remote=config.get("REMOTE") or None,
            committer=Identity(config["COMMITTER_NAME"], config["COMMITTER_EMAIL"]),
            spool_dir=Path(config["SPOOL_DIR"]) if config.get("SPOOL_DIR") else None,
        )
        service.current()  # load main's knowledge base now, not on the first flag
        recovered = service.recover()
        if recovered:
            log.info("finished %d spooled flag(s) left from an earlier run", recovered)
    else:
        log.warning("ZHIKU_REPO is not set: /api/flags answers 503")
    tokens = TokenStore(
        Path(config["TOKENS_FILE"]) if config.get("TOKENS_FILE") else default_tokens_path()
    )
    origins = {
        o.strip().rstrip("/") for o in str(config.get("CORS_ORIGINS") or "").split(",") if o.strip()
    }
    limiter = RateLimiter(int(config["RATE_LIMIT_PER_MINUTE"]))
    app.extensions[EXTENSION] = _Parts(service, tokens, limiter, origins)
    app.register_blueprint(bp)
