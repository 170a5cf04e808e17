"""The feedback app's one error root, and the one JSON error handler for every route.

Code anywhere in the app raises an :class:`AppError` subclass with a Chinese
message for the person who sent the request; :func:`register` installs the
handlers that turn it (and werkzeug's own HTTP errors, and -- as a last
resort that is logged -- any unexpected exception) into ``{"error": ...}``
JSON. No route builds an error response itself.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from flask import Flask, Response, current_app, jsonify
from werkzeug.exceptions import HTTPException

from tooling.errors import ZhikuError
from tooling.git import GitError

log = logging.getLogger(__name__)


class AppError(ZhikuError):
    """A request the app answers with ``status`` and ``{"error": message, **extra}``."""

    status = 400

    def __init__(
        self,
        message: str,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.headers = dict(headers or {})
        self.extra = extra

    def response(self) -> Response:
        response = jsonify({"error": self.message, **self.extra})
        response.status_code = self.status
        response.headers.update(self.headers)
        return response


class BadRequest(AppError):
    """The request is wrong in a way the sender can fix (400, or 413 for a long field)."""

    status = 400


class Unauthorized(AppError):
    status = 401

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Bearer realm="zhiku"'})


class Forbidden(AppError):
    status = 403


class NotFound(AppError):
    status = 404


class TooLarge(AppError):
    status = 413


class TooManyRequests(AppError):
    status = 429

    def __init__(self, retry_after: float) -> None:
        seconds = max(1, math.ceil(retry_after))
        super().__init__(f"请求太频繁,请 {seconds} 秒后再试", headers={"Retry-After": str(seconds)})


class Unavailable(AppError):
    """The app cannot do it right now (no repository, git failed or timed out)."""

    status = 503

    def __init__(self, message: str, retry_after: int = 30) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})


# werkzeug's errors, said in Chinese. Anything else keeps its code with a generic sentence.
_HTTP_MESSAGES = {
    400: "请求格式不正确",
    404: "没有这个接口",
    405: "这个接口不支持该请求方法",
    413: "请求太大(最多 {kb} KB)",
    415: "不支持这种请求内容类型",
    429: "请求太频繁,请稍后再试",
}


def _http_error(exc: HTTPException) -> Response:
    code = exc.code or 500
    if code == 429:  # flask-limiter's RateLimitExceeded
        retry = _retry_after(exc)
        return TooManyRequests(retry).response()
    limit_kb = int(current_app.config.get("MAX_CONTENT_LENGTH") or 0) // 1024
    message = _HTTP_MESSAGES.get(code, "请求无法处理").format(kb=limit_kb)
    response = jsonify({"error": message})
    response.status_code = code
    if code == 405 and exc.get_response().headers.get("Allow"):
        response.headers["Allow"] = exc.get_response().headers["Allow"]
    return response


def _retry_after(exc: HTTPException) -> float:
    limit = getattr(exc, "limit", None)
    try:
        return float(limit.limit.get_expiry()) if limit is not None else 60.0
    except Exception:
        return 60.0


def _unexpected(exc: Exception) -> Response:
    log.exception("unexpected error answering a request", exc_info=exc)
    response = jsonify({"error": "服务内部出错,已记录;请稍后再试"})
    response.status_code = 500
    return response


def _git_failed(exc: GitError) -> Response:
    log.error("git failed while answering a request: %s", exc)
    return Unavailable("知识库仓库暂时无法读取,请稍后再试").response()


def register(app: Flask) -> None:
    """Install the one set of error handlers, for every blueprint."""
    app.register_error_handler(AppError, lambda exc: exc.response())
    app.register_error_handler(GitError, _git_failed)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
