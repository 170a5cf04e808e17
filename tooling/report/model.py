"""The report's data: typed, frozen records that every format and page reads.

Computed by :mod:`tooling.report.health`, :mod:`tooling.report.flags` and
:mod:`tooling.report.credit`, put together by :mod:`tooling.report.build`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from tooling.report.missing import MissingCluster

# A flag's kind is one of tooling.flags.KINDS; its label is tooling.flags.kind_label.

# Credit (知识贡献): a flag raised counts RAISED_POINTS, one accepted (merged into
# main) MERGED_POINTS, because an accepted flag is a fix the team agreed with.
RAISED_POINTS = 1
MERGED_POINTS = 3


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
