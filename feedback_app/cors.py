"""CORS, handled once for the whole app: only the origins in ``CORS_ORIGINS``.

An allowed origin gets ``Access-Control-Allow-Origin`` (and the preflight
answers for ``POST`` with ``Authorization``, ``Content-Type`` and
``Idempotency-Key``); any other origin gets no CORS header at all, so a
browser on another site cannot read the answer.
"""

from __future__ import annotations

from flask import Flask, Response, request


def allowed_origins(setting: str) -> frozenset[str]:
    return frozenset(o.strip().rstrip("/") for o in setting.split(",") if o.strip())


def init_app(app: Flask) -> None:
    origins = allowed_origins(str(app.config.get("CORS_ORIGINS") or ""))

    @app.after_request
    def cors(response: Response) -> Response:
        origin = request.headers.get("Origin", "").rstrip("/")
        api = request.path.startswith("/api/") or request.path == "/healthz"
        if origin and api and origin in origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = (
                "Authorization, Content-Type, Idempotency-Key"
            )
            response.headers["Access-Control-Expose-Headers"] = "Retry-After"
            response.headers["Access-Control-Max-Age"] = "600"
        response.vary.add("Origin")
        return response
