"""Knowledge health: stale, expiring, expired and thin entries, by owner and section."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from tooling.kb.check import EXPIRY_SOON_DAYS
from tooling.kb.model import Entry, KnowledgeBase
from tooling.report.model import EntryRef, Health, OwnerHealth, SectionCount, ThinEntry

EXPIRING_DAYS = EXPIRY_SOON_DAYS  # the same window `kb validate` warns about
MIN_PHRASINGS = 3


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
