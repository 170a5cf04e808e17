"""Zhiku's small web app: staff flag entries (each flag becomes a credited git
branch) and the answer desk searches the knowledge base.

Flask's application-factory shape: no module-level app. Every setting is
declared once in :mod:`feedback_app.settings` and comes from
``instance/config.py`` or ``ZHIKU_<NAME>`` environment variables, never from
code. One error root (:mod:`feedback_app.errors`) with one JSON handler for
every route, CORS handled once (:mod:`feedback_app.cors`), rate limits shared
by all workers (:mod:`feedback_app.ratelimit`).

Development: ``kb feedback serve --repo DIR``. Production:
``ZHIKU_REPO=/srv/kb gunicorn -w 2 'feedback_app:create_app()'``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    from feedback_app import cors, errors, flag_api, health, ratelimit, search_api, settings, state

    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(settings.defaults())
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.update(settings.normalize(app.config))
        app.config.update(settings.from_environment())
    else:
        app.config.update(test_config)
        app.config.update(settings.normalize(app.config))
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    if int(app.config["TRUSTED_PROXIES"]) > 0:
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops)  # type: ignore[method-assign]

    errors.register(app)
    cors.init_app(app)
    app.extensions[state.EXTENSION] = state.build(app)
    for module in (health, search_api, flag_api):
        module.init_app(app)
    storage = app.config.get("RATE_LIMIT_STORAGE_URI") or state.default_rate_limit_storage(app)
    ratelimit.install(
        app,
        storage,
        {
            "flags.create_flag": str(app.config.get("FLAG_RATE_LIMIT") or ""),
            "flags.list_flags": str(app.config.get("SEARCH_RATE_LIMIT") or ""),
            "search_api.search": str(app.config.get("SEARCH_RATE_LIMIT") or ""),
        },
    )
    return app
