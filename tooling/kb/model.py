"""The knowledge-base model: plain, frozen, typed objects.

Every stage after loading (check, render, index, report, the feedback app)
works from these objects and never re-reads YAML.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

# An entry's own audience (the `audience:` field); a reader's is
# tooling.kb.view.SiteAudience.
EntryAudience = Literal["public", "internal"]
FieldPath = tuple[str | int, ...]

DURATION_RE = re.compile(r"^([1-9][0-9]{0,3})([dwmy])$")


@dataclass(frozen=True)
class Duration:
    """A review interval such as ``90d``, ``26w``, ``6m`` or ``1y``."""

    amount: int
    unit: str  # d, w, m, y

    @classmethod
    def parse(cls, text: str) -> Duration | None:
        match = DURATION_RE.match(text.strip())
        if not match:
            return None
        return cls(int(match.group(1)), match.group(2))

    def after(self, start: date) -> date:
        """The day this interval after ``start`` falls on (months are calendar months)."""
        if self.unit == "d":
            return start + timedelta(days=self.amount)
        if self.unit == "w":
            return start + timedelta(weeks=self.amount)
        months = self.amount * (12 if self.unit == "y" else 1)
        year, month0 = divmod(start.month - 1 + months, 12)
        year += start.year
        day = min(start.day, calendar.monthrange(year, month0 + 1)[1])
        return date(year, month0 + 1, day)

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


DEFAULT_REVIEW_EVERY = Duration(180, "d")


@dataclass(frozen=True)
class Staff:
    handle: str
    name: str
    email: str
    team: str
    line: int = 0


@dataclass(frozen=True)
class Scenario:
    case: str
    answer: str


@dataclass(frozen=True)
class Replies:
    friendly: str = ""
    formal: str = ""
    brief: str = ""

    def items(self) -> list[tuple[str, str]]:
        """Non-empty replies as (tone, text), in a fixed order."""
        pairs = [("friendly", self.friendly), ("formal", self.formal), ("brief", self.brief)]
        return [(tone, text) for tone, text in pairs if text]


@dataclass(frozen=True)
class Handoff:
    team: str
    collect: tuple[str, ...]
    respond_within: str


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class Section:
    """A folder of entries. ``path`` is POSIX-relative to the KB root, e.g. ``property/fees``."""

    path: str
    title: str
    order: int
    description: str = ""

    @property
    def parent(self) -> str:
        return self.path.rpartition("/")[0]

    @property
    def depth(self) -> int:
        return self.path.count("/") + 1


@dataclass(frozen=True)
class Contact:
    """One way to reach the team: a phone number, or a text such as a WeChat account's name."""

    label: str
    phone: str = ""
    text: str = ""

    @property
    def tel(self) -> str:
        """The phone number as a ``tel:`` URI target (digits, ``+`` and ``,`` only), or ``""``."""
        return "".join(ch for ch in self.phone if ch.isdigit() or ch in "+,")


DEFAULT_SITE_NAME = "知库"


@dataclass(frozen=True)
class SiteIdentity:
    """The team's identity from ``_site.yaml``: one place for the name and the contacts.

    ``logo`` is the logo's path relative to the knowledge-base root, or ``""``.
    """

    name: str = DEFAULT_SITE_NAME
    organisation: str = ""
    description_public: str = ""
    description_staff: str = ""
    contacts: tuple[Contact, ...] = ()
    hours: str = ""
    address: str = ""
    logo: str = ""

    def description(self, audience: str) -> str:
        return self.description_staff if audience == "staff" else self.description_public


@dataclass(frozen=True)
class Entry:
    id: str
    question: str
    owner: str
    rule: str
    phrasings: tuple[str, ...]
    reviewed: date
    section: str  # Section.path; "" for entries at the KB root
    file: str  # POSIX path relative to the KB root
    scenarios: tuple[Scenario, ...] = ()
    audience: EntryAudience = "public"
    tags: tuple[str, ...] = ()
    replies: Replies = Replies()
    handoff: Handoff | None = None
    related: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    review_every: Duration = DEFAULT_REVIEW_EVERY
    expires: date | None = None
    # Position inside the section, set by writers (lower first); unset entries follow,
    # by question in pinyin order.
    order: int | None = None
    # (line, col) of every key and value, by field path: ("phrasings", 2) -> (14, 5).
    positions: dict[FieldPath, tuple[int, int]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    @property
    def is_public(self) -> bool:
        return self.audience == "public"

    @property
    def stale_on(self) -> date:
        """The first day the entry counts as stale."""
        return self.review_every.after(self.reviewed)

    def is_stale(self, today: date) -> bool:
        return today >= self.stale_on

    def is_expired(self, today: date) -> bool:
        return self.expires is not None and today > self.expires

    def line_of(self, *path: str | int) -> int:
        """Best known line for a field path, falling back to its parents, then line 1."""
        while path:
            if path in self.positions:
                return self.positions[path][0]
            path = path[:-1]
        return 1


@dataclass(frozen=True)
class KnowledgeBase:
    root: Path
    entries: tuple[Entry, ...]
    sections: tuple[Section, ...]
    staff: tuple[Staff, ...]
    synonyms: tuple[tuple[str, ...], ...] = ()
    site: SiteIdentity = SiteIdentity()

    def entry(self, entry_id: str) -> Entry | None:
        return self._by_id.get(entry_id)

    @property
    def _by_id(self) -> dict[str, Entry]:
        cached = self.__dict__.get("_by_id_cache")
        if cached is None:
            cached = {e.id: e for e in self.entries}
            object.__setattr__(self, "_by_id_cache", cached)
        return cached

    def staff_member(self, handle: str) -> Staff | None:
        return next((s for s in self.staff if s.handle == handle), None)

    def section(self, path: str) -> Section | None:
        return next((s for s in self.sections if s.path == path), None)
