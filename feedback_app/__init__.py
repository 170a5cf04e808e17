"""Zhiku's small web app: staff flag entries (each flag becomes a credited git
branch) and the answer desk searches the knowledge base.

Flask's application-factory shape: no module-level app; configuration from
``ZHIKU_*`` environment variables or ``instance/config.py``, never from code.
"""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        # Path of the git repository that holds kb/ (required); env ZHIKU_REPO.
        REPO=None,
        # Knowledge-base folder inside the repository.
        KB_DIR="kb",
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("ZHIKU", loads=str)
    else:
        app.config.update(test_config)

    from feedback_app import flags, health, search_api

    for module in (health, search_api, flags):
        module.init_app(app)
    return app
