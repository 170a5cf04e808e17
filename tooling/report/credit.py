"""Credit (知识贡献): points per person for flags raised and accepted, and flags per week.

The points (:data:`~tooling.report.model.RAISED_POINTS` for a flag raised in the
period, :data:`~tooling.report.model.MERGED_POINTS` for one accepted) are the
score of :class:`~tooling.report.model.CreditRow`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from tooling.kb.model import KnowledgeBase
from tooling.report.health import staff_names
from tooling.report.model import CreditRow, Flag, WeekCount

CHART_WEEKS = 12


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
