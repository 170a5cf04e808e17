"""Rate limits shared by every worker process: flask-limiter on a SQLite counter store.

``flask-limiter`` counts in a storage named by a URI. ``memory://`` is per
process (two gunicorn workers would each allow the full limit), and
redis/memcached need a server. The default here is :class:`SQLiteStorage`,
a ``limits`` storage backend registered for ``sqlite:///PATH``: one small
database file beside the repository, written in WAL mode with short
``BEGIN IMMEDIATE`` transactions, so every worker on the machine shares the
same counters. Several machines share ``redis://``.

Limits are applied after authentication (the key is the staff handle when a
valid token came, else the client address) and before the expensive work;
only requests that were not refused as bad input are counted
(``deduct_when``).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request
from flask_limiter import Limiter
from limits.storage import Storage


class SQLiteStorage(Storage):
    """Fixed-window counters in one SQLite file, safe across processes."""

    STORAGE_SCHEME = ["sqlite"]  # noqa: RUF012 (the limits base class declares it so)

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options: Any) -> None:
        path = uri.removeprefix("sqlite://")
        if not path.startswith("/"):
            raise ValueError(f"rate-limit storage {uri!r}: use sqlite:////absolute/path.sqlite3")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS counters "
                "(key TEXT PRIMARY KEY, value INTEGER NOT NULL, expiry REAL NOT NULL)"
            )

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sqlite3.Error

    def _connect(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        db = self._connect()
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT value, expiry FROM counters WHERE key = ?", (key,)).fetchone()
            if row is None or row[1] <= now:
                value = amount
                db.execute(
                    "INSERT OR REPLACE INTO counters (key, value, expiry) VALUES (?, ?, ?)",
                    (key, value, now + expiry),
                )
            else:
                value = int(row[0]) + amount
                db.execute("UPDATE counters SET value = ? WHERE key = ?", (value, key))
            if now % 1 < 0.01:  # now and then, forget expired windows
                db.execute("DELETE FROM counters WHERE expiry <= ?", (now,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return value

    def get(self, key: str) -> int:
        row = (
            self._connect()
            .execute("SELECT value FROM counters WHERE key = ? AND expiry > ?", (key, time.time()))
            .fetchone()
        )
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        row = (
            self._connect().execute("SELECT expiry FROM counters WHERE key = ?", (key,)).fetchone()
        )
        return float(row[0]) if row and row[0] > time.time() else time.time()

    def check(self) -> bool:
        try:
            self._connect().execute("SELECT 1")
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        cursor = self._connect().execute("DELETE FROM counters")
        return cursor.rowcount

    def clear(self, key: str) -> None:
        self._connect().execute("DELETE FROM counters WHERE key = ?", (key,))


def client_key() -> str:
    """Who a request counts against: the authenticated handle, else the client address."""
    handle = getattr(g, "staff_handle", None)
    if handle:
        return f"staff:{handle}"
    return f"addr:{request.remote_addr or 'unknown'}"


def counted(response: Response) -> bool:
    """Requests refused as bad input (4xx) are not counted; everything else is."""
    return not 400 <= response.status_code < 500


def install(app: Flask, storage_uri: str, limits: dict[str, str]) -> Limiter:
    """Put ``{endpoint: limit}`` on the app's views (empty limit = none), counted in
    ``storage_uri``. Wrapping the registered views (rather than decorating at import)
    gives every app its own limiter and storage."""
    limiter = Limiter(
        key_func=client_key,
        app=app,
        storage_uri=storage_uri,
        strategy="fixed-window",
        headers_enabled=True,
        swallow_errors=True,  # a broken counter store must not take the API down
        default_limits=[],
    )
    for endpoint, limit in limits.items():
        if limit.strip():
            view = app.view_functions[endpoint]
            app.view_functions[endpoint] = limiter.limit(limit, deduct_when=counted)(view)  # type: ignore[assignment]
    return limiter
