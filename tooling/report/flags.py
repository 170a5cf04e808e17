"""Flags in the report: every flag commit in the history (the protocol itself is
:mod:`tooling.flags`), deduplicated by flag id, and the open ones grouped by entry."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from tooling.flags import TRAILER_BY, TRAILER_ENTRY, TRAILER_ID, TRAILER_KIND
from tooling.kb.model import KnowledgeBase
from tooling.report.health import staff_names
from tooling.report.history import History
from tooling.report.model import Flag, OpenFlag, OpenFlagGroup


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
