"""Zhiku's small web app: staff flag entries (each flag becomes a credited git
branch) and the answer desk searches the knowledge base.

Flask's application-factory shape: no module-level app; configuration from
``ZHIKU_*`` environment variables or ``instance/config.py``, never from code.

Development: ``kb feedback serve --repo DIR``. Production:
``ZHIKU_REPO=/srv/kb gunicorn -w 2 'feedback_app:create_app()'``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

# Settings read as integers when they come from the environment (always strings there).
_INT_KEYS = ("MAX_CONTENT_LENGTH", "RATE_LIMIT_PER_MINUTE")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        # Path of the git repository that holds kb/ (required); env ZHIKU_REPO.
        REPO=None,
        # Knowledge-base folder inside the repository.
        KB_DIR="kb",
        # Flags start from, and count as open until merged into, this branch.
        BASE_BRANCH="main",
        # Push each flag branch to this remote (e.g. origin); none by default.
        REMOTE=None,
        # Token hashes written by `kb feedback token`; default
        # $XDG_CONFIG_HOME/zhiku/tokens.json (or ~/.config/zhiku/tokens.json).
        TOKENS_FILE=None,
        # Identity that commits flag branches (the author is the staff member).
        COMMITTER_NAME="Zhiku 反馈",
        COMMITTER_EMAIL="zhiku-feedback@localhost",
        # Site origins allowed to call the API from a browser, comma-separated.
        CORS_ORIGINS="",
        # Flags per token per minute (per worker process); 0 turns the limit off.
        RATE_LIMIT_PER_MINUTE=30,
        # Request bodies larger than this are refused with 413.
        MAX_CONTENT_LENGTH=64 * 1024,
        # Where flags wait until their branch is written; default <git dir>/zhiku-spool.
        SPOOL_DIR=None,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("ZHIKU", loads=str)
    else:
        app.config.update(test_config)
    for key in _INT_KEYS:
        app.config[key] = int(app.config[key])
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    from feedback_app import flags, health, search_api

    for module in (health, search_api, flags):
        module.init_app(app)
    return app
