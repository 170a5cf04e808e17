"""Report stage: knowledge health, open flags, credit and missing knowledge.

``build_report`` is pure: it takes the model, the git history (or None) and the
logged unanswered questions, and returns a typed :class:`Report`; the missing
knowledge (clustering the questions, suggesting entries) is
:mod:`tooling.report.missing`. ``make_report`` does the reading (KB, git, log
file) for the ``kb report`` command and the site.

Credit score (知识贡献): each flag raised in the period counts
``RAISED_POINTS`` (1); each of the person's flags accepted (merged into main)
in the period counts ``MERGED_POINTS`` (3), because an accepted flag is a fix
the team agreed with, not just a report.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal

from tooling.flags import TRAILER_BY, TRAILER_ENTRY, TRAILER_ID, TRAILER_KIND
from tooling.kb.check import EXPIRY_SOON_DAYS, validate
from tooling.kb.model import Entry, KnowledgeBase
from tooling.report import history as git_history
from tooling.report.history import GitHistoryError, History
from tooling.report.missing import (
    LoggedQuery,
    MissingCluster,
    Nearest,
    auto_nearest,
    in_period,
    missing_knowledge,
    read_queries_log,
)

log = logging.getLogger("zhiku.report")

RAISED_POINTS = 1
MERGED_POINTS = 3
EXPIRING_DAYS = EXPIRY_SOON_DAYS  # the same window `kb validate` warns about
MIN_PHRASINGS = 3
DEFAULT_PERIOD_DAYS = 30
CHART_WEEKS = 12


# ---------------------------------------------------------------- the Report


@dataclass(frozen=True)
class EntryRef:
    id: str
    question: str
    section: str
    owner: str
    audience: str
    due: date | None  # stale_on for stale entries, expires for expiring/expired ones
    days: int  # days overdue (stale, expired) or days left (expiring)


@dataclass(frozen=True)
class OwnerHealth:
    handle: str
    name: str
    stale: tuple[EntryRef, ...]
    expiring: tuple[EntryRef, ...]
    expired: tuple[EntryRef, ...]


@dataclass(frozen=True)
class ThinEntry:
    entry: EntryRef
    owner_name: str
    phrasings: int
    scenarios: int


@dataclass(frozen=True)
class SectionCount:
    path: str
    title: str
    entries: int
    public: int
    internal: int
    stale: int


@dataclass(frozen=True)
class Health:
    entries: int
    stale: int
    expiring: int
    expired: int
    owners: tuple[OwnerHealth, ...]  # only owners with something to do, busiest first
    thin: tuple[ThinEntry, ...]
    sections: tuple[SectionCount, ...]


@dataclass(frozen=True)
class OpenFlag:
    flag_id: str
    by: str
    by_name: str
    branch: str
    raised: date
    age_days: int
    subject: str
    note: str = ""  # what the staff member wrote


@dataclass(frozen=True)
class OpenFlagGroup:
    entry_id: str
    question: str  # "" when the entry does not exist (yet)
    owner: str
    owner_name: str
    kind: str
    flags: tuple[OpenFlag, ...]  # oldest first

    @property
    def oldest_days(self) -> int:
        return max(f.age_days for f in self.flags)


@dataclass(frozen=True)
class CreditRow:
    handle: str
    name: str
    raised: int
    merged: int

    @property
    def score(self) -> int:
        return self.raised * RAISED_POINTS + self.merged * MERGED_POINTS


@dataclass(frozen=True)
class WeekCount:
    week_start: date  # a Monday
    raised: int
    merged: int


@dataclass(frozen=True)
class Report:
    today: date
    since: date
    kb_root: str
    repo: str | None
    main: str
    history_note: str  # why flags and credit are empty, when they are
    commits_read: int
    kb_errors: int
    health: Health
    open_flags: tuple[OpenFlagGroup, ...]
    credit: tuple[CreditRow, ...]
    flags_per_week: tuple[WeekCount, ...]
    queries: int  # unanswered questions logged in the period
    missing: tuple[MissingCluster, ...]

    @property
    def has_history(self) -> bool:
        return self.repo is not None and not self.history_note


# ---------------------------------------------------------------- health


def _ref(entry: Entry, due: date | None, days: int) -> EntryRef:
    return EntryRef(entry.id, entry.question, entry.section, entry.owner, entry.audience, due, days)


def staff_names(kb: KnowledgeBase) -> dict[str, str]:
    return {s.handle: s.name for s in kb.staff}


def health(kb: KnowledgeBase, today: date) -> Health:
    names = staff_names(kb)
    stale: dict[str, list[EntryRef]] = defaultdict(list)
    expiring: dict[str, list[EntryRef]] = defaultdict(list)
    expired: dict[str, list[EntryRef]] = defaultdict(list)
    thin = []
    per_section: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for e in sorted(kb.entries, key=lambda e: (e.section, e.id)):
        counts = per_section[e.section]
        counts[0] += 1
        counts[1 if e.is_public else 2] += 1
        if e.is_expired(today):
            assert e.expires is not None
            expired[e.owner].append(_ref(e, e.expires, (today - e.expires).days))
            continue
        if e.is_stale(today):
            counts[3] += 1
            stale[e.owner].append(_ref(e, e.stale_on, (today - e.stale_on).days))
        if e.expires is not None and (e.expires - today).days <= EXPIRING_DAYS:
            expiring[e.owner].append(_ref(e, e.expires, (e.expires - today).days))
        if len(e.phrasings) < MIN_PHRASINGS or not e.scenarios:
            thin.append(
                ThinEntry(
                    _ref(e, None, 0),
                    names.get(e.owner, e.owner),
                    len(e.phrasings),
                    len(e.scenarios),
                )
            )
    owners = [
        OwnerHealth(
            h,
            names.get(h, h),
            tuple(sorted(stale[h], key=lambda r: (-r.days, r.id))),
            tuple(sorted(expiring[h], key=lambda r: (r.days, r.id))),
            tuple(sorted(expired[h], key=lambda r: (-r.days, r.id))),
        )
        for h in {*stale, *expiring, *expired}
    ]
    owners.sort(key=lambda o: (-(len(o.stale) + len(o.expiring) + len(o.expired)), o.handle))
    titles = {s.path: s.title for s in kb.sections}
    sections = tuple(
        SectionCount(path, titles.get(path, path or "(root)"), *per_section[path])
        for path in sorted({*per_section, *titles})
    )
    return Health(
        entries=len(kb.entries),
        stale=sum(len(v) for v in stale.values()),
        expiring=sum(len(v) for v in expiring.values()),
        expired=sum(len(v) for v in expired.values()),
        owners=tuple(owners),
        thin=tuple(thin),
        sections=sections,
    )


# ---------------------------------------------------------------- flags and credit


@dataclass(frozen=True)
class Flag:
    """One flag, merged across the commits that carry its ``Flag-Id`` (rebases, squashes)."""

    flag_id: str
    entry_id: str
    kind: str
    by: str  # staff handle when known, else the author's e-mail
    author_name: str
    branch: str
    subject: str
    raised: datetime  # author date of the flag commit
    accepted: datetime | None  # when it reached main; None = open
    note: str = ""  # the staff member's note: the flag commit's message body


def flags_from(history: History, kb: KnowledgeBase) -> list[Flag]:
    """Every flag commit reachable from main or a flag branch, deduplicated by Flag-Id."""
    handles = {s.handle for s in kb.staff}
    by_email = {s.email.lower(): s.handle for s in kb.staff}
    by_name = {s.name: s.handle for s in kb.staff}
    branches = {r.name.rsplit("/", 1)[-1]: r.name for r in history.flag_refs}
    branch_of_tip = {r.sha: r.name for r in history.flag_refs}
    found: dict[str, Flag] = {}
    for commit in history.commits.values():
        flag_id = commit.trailer(TRAILER_ID)
        kind = commit.trailer(TRAILER_KIND)
        if not flag_id and not kind:
            continue
        flag_id = flag_id or commit.sha[:12]
        by = commit.trailer(TRAILER_BY)
        if by not in handles:
            by = (
                by_email.get(commit.author_email.lower())
                or by_name.get(commit.author_name)
                or by
                or commit.author_email
            )
        accepted = history.accepted.get(commit.sha)
        flag = Flag(
            flag_id=flag_id,
            entry_id=commit.trailer(TRAILER_ENTRY),
            kind=kind.lower() or "unknown",
            by=by,
            author_name=commit.author_name,
            branch=branches.get(flag_id) or branch_of_tip.get(commit.sha, ""),
            subject=commit.subject,
            raised=commit.authored,
            accepted=accepted,
            note=commit.body,
        )
        old = found.get(flag_id)
        if old is not None:
            accepted_at = [t for t in (old.accepted, accepted) if t is not None]
            flag = Flag(
                old.flag_id,
                old.entry_id or flag.entry_id,
                old.kind,
                old.by,
                old.author_name,
                old.branch or flag.branch,
                old.subject,
                min(old.raised, flag.raised),
                min(accepted_at, default=None),
                old.note or flag.note,
            )
        found[flag_id] = flag
    return sorted(found.values(), key=lambda f: (f.raised, f.flag_id))


def open_flags(flags: Iterable[Flag], kb: KnowledgeBase, today: date) -> tuple[OpenFlagGroup, ...]:
    names = staff_names(kb)
    groups: dict[tuple[str, str], list[OpenFlag]] = defaultdict(list)
    for f in flags:
        if f.accepted is None:
            raised = f.raised.date()
            groups[(f.entry_id, f.kind)].append(
                OpenFlag(
                    f.flag_id,
                    f.by,
                    names.get(f.by, f.author_name),
                    f.branch,
                    raised,
                    (today - raised).days,
                    f.subject,
                    f.note,
                )
            )
    result = []
    for (entry_id, kind), items in groups.items():
        entry = kb.entry(entry_id)
        owner = entry.owner if entry else ""
        items.sort(key=lambda o: (o.raised, o.flag_id))
        result.append(
            OpenFlagGroup(
                entry_id,
                entry.question if entry else "",
                owner,
                names.get(owner, owner),
                kind,
                tuple(items),
            )
        )
    result.sort(key=lambda g: (-g.oldest_days, g.entry_id, g.kind))
    return tuple(result)


def _in(when: datetime | None, since: date, today: date) -> bool:
    return when is not None and since <= when.date() <= today


def credit(
    flags: Iterable[Flag],
    kb: KnowledgeBase,
    since: date,
    today: date,
) -> tuple[CreditRow, ...]:
    """The leaderboard: flags raised and flags accepted in ``[since, today]``, per person."""
    names = staff_names(kb)
    raised: Counter[str] = Counter()
    merged: Counter[str] = Counter()
    author_names: dict[str, str] = {}
    for f in flags:
        author_names.setdefault(f.by, f.author_name)
        if _in(f.raised, since, today):
            raised[f.by] += 1
        if _in(f.accepted, since, today):
            merged[f.by] += 1
    rows = [
        CreditRow(h, names.get(h, author_names[h]), raised[h], merged[h])
        for h in {*raised, *merged}
    ]
    rows.sort(key=lambda r: (-r.score, -r.merged, -r.raised, r.handle))
    return tuple(rows)


def flags_per_week(
    flags: Iterable[Flag],
    today: date,
    weeks: int = CHART_WEEKS,
) -> tuple[WeekCount, ...]:
    """Flags raised and accepted per ISO week (Monday first), the last ``weeks`` weeks."""
    this_monday = today - timedelta(days=today.weekday())
    starts = [this_monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    raised: Counter[date] = Counter()
    merged: Counter[date] = Counter()
    for f in flags:
        for counter, when in ((raised, f.raised), (merged, f.accepted)):
            if when is not None and when.date() <= today:
                day = when.date()
                counter[day - timedelta(days=day.weekday())] += 1
    return tuple(WeekCount(s, raised[s], merged[s]) for s in starts)


# ---------------------------------------------------------------- the whole report


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
