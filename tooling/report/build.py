"""The whole report: ``build_report`` puts health, flags, credit and missing
knowledge together (pure: model, history and log in, :class:`Report` out);
``make_report`` does the reading (KB, git, log file) for ``kb report`` and the site.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from tooling.kb.check import validate
from tooling.kb.model import KnowledgeBase
from tooling.report import history as git_history
from tooling.report.credit import credit, flags_per_week
from tooling.report.flags import flags_from, open_flags
from tooling.report.health import health
from tooling.report.history import GitHistoryError, History
from tooling.report.missing import (
    LoggedQuery,
    Nearest,
    auto_nearest,
    in_period,
    missing_knowledge,
    read_queries_log,
)
from tooling.report.model import Report

log = logging.getLogger("zhiku.report")

DEFAULT_PERIOD_DAYS = 30


def period_start(today: date) -> date:
    """The first day of the default period ending ``today``."""
    return today - timedelta(days=DEFAULT_PERIOD_DAYS)


def build_report(
    kb: KnowledgeBase,
    *,
    today: date,
    since: date | None = None,
    history: History | None = None,
    history_note: str = "",
    queries: Sequence[LoggedQuery] = (),
    nearest: Nearest | None = None,
    kb_errors: int = 0,
) -> Report:
    """The report as of ``today`` for the period ``[since, today]`` (both inclusive)."""
    since = since or period_start(today)
    flags = flags_from(history, kb) if history is not None else []
    asked = in_period(queries, since, today)
    return Report(
        today=today,
        since=since,
        kb_root=str(kb.root),
        repo=str(history.repo) if history is not None else None,
        main=history.main if history is not None else "",
        history_note=history_note if history is None else "",
        commits_read=len(history.commits) if history is not None else 0,
        kb_errors=kb_errors,
        health=health(kb, today),
        open_flags=open_flags(flags, kb, today),
        credit=credit(flags, kb, since, today),
        flags_per_week=flags_per_week(flags, today),
        queries=sum(q.count for q in asked),
        missing=missing_knowledge(asked, nearest),
    )


def make_report(
    kb_root: Path,
    *,
    today: date | None = None,
    since: date | None = None,
    repo: Path | None = None,
    main: str = "main",
    queries_log: Path | None = None,
    nearest: Nearest | Literal["auto"] | None = "auto",
    kb: KnowledgeBase | None = None,
) -> Report:
    """Read everything a report needs and build it.

    ``repo`` None means "the git repository holding ``kb_root``, if any": then a KB
    outside git, or without the ``main`` branch, gives a report whose flags and
    credit are empty with a note saying why (what a site build wants). An explicit
    ``repo`` that cannot be read raises :class:`GitHistoryError` (exit code 2).
    Pass ``kb`` when the model is already loaded (the MkDocs plugin).
    """
    today = today or date.today()
    started = time.monotonic()
    kb_errors = 0
    if kb is None:
        validation = validate(kb_root, today)
        kb, kb_errors = validation.kb, len(validation.errors)
        if kb_errors:
            log.warning(
                "the knowledge base has %d error(s); entries with errors are left "
                "out of this report (`kb validate` lists them)",
                kb_errors,
            )
        log.info("loaded %d entries in %.2f s", len(kb.entries), time.monotonic() - started)
    history, note = None, ""
    if repo is not None:
        history = git_history.read_history(repo, main)
    else:
        found = git_history.find_repo(kb_root)
        if found is None:
            note = f"{kb_root} is not in a git repository: no flags or credit to show"
        else:
            try:
                history = git_history.read_history(found, main)
            except GitHistoryError as exc:
                note = str(exc)
        if note:
            log.warning("%s", note)
    queries = read_queries_log(queries_log) if queries_log is not None else []
    if nearest == "auto":
        nearest = auto_nearest(kb, in_period(queries, since or period_start(today), today))
    report = build_report(
        kb,
        today=today,
        since=since,
        history=history,
        history_note=note,
        queries=queries,
        nearest=nearest,
        kb_errors=kb_errors,
    )
    log.info("report built in %.2f s", time.monotonic() - started)
    return report
