"""What one app process holds, built once by the factory: ``app.extensions["zhiku"]``.

Search and flags read the *same* :class:`~feedback_app.snapshot.MainSnapshot`
(the tip of ``BASE_BRANCH``), so they can never disagree about what exists.
With ``SEARCH_WARM`` (the default) the answer indexes of both audiences are
built in a background thread for every snapshot of main, as the app starts and
after each merge, so the first question does not wait for them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app, request

from feedback_app.auth import TokenStore, authenticate, default_tokens_path
from feedback_app.errors import Unavailable
from feedback_app.gitstore import GitStore, Identity
from feedback_app.idempotency import IdempotencyStore
from feedback_app.querylog import QueryLog
from feedback_app.service import FlagService
from feedback_app.snapshot import MainSnapshot, Snapshot
from feedback_app.spool import Spool
from tooling.flags import default_unanswered_log
from tooling.kb.view import AUDIENCES, SiteAudience
from tooling.report.missing import normalize_query

log = logging.getLogger(__name__)
EXTENSION = "zhiku"
# Warmed in this order: the staff index first, as the desk asks most.
WARM_ORDER: tuple[SiteAudience, ...] = tuple(sorted(AUDIENCES, key=lambda a: a != "staff"))
NO_REPO = "反馈服务还没有配置知识库仓库(请设置 ZHIKU_REPO),请稍后再试"


@dataclass
class AppState:
    tokens: TokenStore
    main: MainSnapshot | None = None
    service: FlagService | None = None
    query_log: QueryLog | None = None
    idempotency: IdempotencyStore | None = None
    # The background builds of each snapshot's answer indexes (SEARCH_WARM).
    warming: Warmer | None = None

    def snapshot(self) -> Snapshot:
        if self.main is None:
            raise Unavailable(NO_REPO)
        return self.main.current()

    def flag_service(self) -> FlagService:
        if self.service is None:
            raise Unavailable(NO_REPO)
        return self.service

    def staff_handle(self) -> str:
        """The authenticated handle of the current request (401 / 403 otherwise)."""
        if self.main is None:
            raise Unavailable(NO_REPO)
        return authenticate(self.tokens, self.snapshot, request.headers.get("Authorization", ""))


def state() -> AppState:
    found: AppState = current_app.extensions[EXTENSION]
    return found


def build(app: Flask) -> AppState:
    """Open the repository named by the settings; finish spooled flags."""
    config: dict[str, Any] = app.config
    tokens_file = config.get("TOKENS_FILE")
    tokens = TokenStore(Path(tokens_file) if tokens_file else default_tokens_path())
    if not config.get("REPO"):
        log.warning("ZHIKU_REPO is not set: the API answers 503")
        return AppState(tokens)
    store = GitStore(Path(config["REPO"]), timeout=float(config["GIT_TIMEOUT"]))
    stale = store.remove_stale_temp_files()
    if stale:
        log.warning("removed %d stale temporary index file(s): %s", len(stale), ", ".join(stale))
    warming = Warmer() if config.get("SEARCH_WARM") else None
    main = MainSnapshot(
        store,
        config["KB_DIR"],
        f"refs/heads/{config['BASE_BRANCH']}",
        float(config["REF_CHECK_SECONDS"]),
        on_new=warming,
    )
    spool_dir = Path(config["SPOOL_DIR"]) if config.get("SPOOL_DIR") else None
    service = FlagService(
        main,
        remote=config.get("REMOTE") or None,
        committer=Identity(config["COMMITTER_NAME"], config["COMMITTER_EMAIL"]),
        spool=Spool(spool_dir or store.git_dir / "zhiku-spool"),
    )
    idempotency = IdempotencyStore(service.spool.folder.parent / "zhiku-idempotency")
    idempotency.forget_old()
    query_log = QueryLog(
        Path(config.get("QUERY_LOG") or default_unanswered_log(store.git_dir)),
        normalize_query,
        int(config["QUERY_LOG_MAX_BYTES"]),
        int(config["QUERY_LOG_KEEP"]),
    )
    try:
        main.current()  # load main's knowledge base now (and warm it), not on the first request
    except Unavailable:
        log.error("cannot load %s yet; the API answers 503 until it can", main.base_ref)
    recovered = service.recover(lambda slot, body: idempotency.save(slot, 201, body))
    if recovered:
        log.info("finished %d spooled flag(s) left from an earlier run", recovered)
    return AppState(tokens, main, service, query_log, idempotency, warming)


class Warmer:
    """Builds each new snapshot's answer indexes in a background thread: at start and
    after every move of main, so the first question after a merge does not wait for a
    build. A snapshot replaced before its turn is not warmed any further."""

    def __init__(self) -> None:
        self.thread: threading.Thread | None = None
        self.latest: Snapshot | None = None

    def __call__(self, snapshot: Snapshot) -> None:
        self.latest = snapshot
        self.thread = threading.Thread(
            target=warm_search,
            args=(snapshot, lambda: self.latest is snapshot),
            name="zhiku-warm-search",
            daemon=True,
        )
        self.thread.start()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the newest snapshot's warming (for tests and benchmarks)."""
        if self.thread is not None:
            self.thread.join(timeout)

    def is_alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()


def warm_search(snapshot: Snapshot, wanted: Callable[[], bool] = lambda: True) -> None:
    """Build the snapshot's answer index for each audience (the staff one first: the desk
    asks most) while ``wanted()``. A request that comes meanwhile waits for the build
    under way instead of starting another (:meth:`Snapshot.search_view` holds a lock)."""
    for audience in WARM_ORDER:
        if not wanted():
            return
        started = time.perf_counter()
        try:
            snapshot.search_view(audience)
        except Exception:  # a request will rebuild it and report the error
            log.exception("warming the %s answer index failed", audience)
            return
        log.info("%s answer index ready in %.1f s", audience, time.perf_counter() - started)


def default_rate_limit_storage(app: Flask) -> str:
    state_ = app.extensions[EXTENSION]
    if state_.main is None:
        return "memory://"
    return f"sqlite:///{state_.main.store.git_dir / 'zhiku-ratelimit.sqlite3'}"
