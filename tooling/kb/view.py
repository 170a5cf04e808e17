"""The one audience view: what a reader of one site or API may see.

Two words that are easy to mix up have two names here:

- an entry's :data:`~tooling.kb.model.EntryAudience` (``public`` | ``internal``,
  the ``audience:`` field a writer sets), and
- a reader's :data:`SiteAudience` (``public`` | ``staff``): who is reading a
  site, a search response or a report.

Every stage that shows the knowledge base to someone (the site builds, the
browser search index, the answer engine, ``/api/search``, the reports) starts
from :func:`view`, so a template, index or endpoint mistake cannot show what
is not there. The default reader everywhere is ``public``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Literal

from tooling.kb.model import KnowledgeBase, Replies

SiteAudience = Literal["public", "staff"]
AUDIENCES: tuple[SiteAudience, ...] = ("public", "staff")
DEFAULT_AUDIENCE: SiteAudience = "public"


def check_audience(audience: str) -> SiteAudience:
    """``audience`` as a :data:`SiteAudience`, or ``ValueError`` naming the choices."""
    if audience == "public":
        return "public"
    if audience == "staff":
        return "staff"
    raise ValueError(f"unknown audience {audience!r}; expected one of {AUDIENCES}")


def view(kb: KnowledgeBase, audience: SiteAudience, today: date) -> KnowledgeBase:
    """The knowledge base as ``audience`` may see it on ``today``.

    Both audiences lose expired entries. ``public`` also loses internal
    entries, the staff-only fields of the others (replies, hand-off, owner),
    related ids that point at internal entries, and the staff roster.
    """
    audience = check_audience(audience)
    entries = tuple(
        e for e in kb.entries if not e.is_expired(today) and (audience == "staff" or e.is_public)
    )
    if audience == "staff":
        return replace(kb, entries=entries)
    public_ids = {e.id for e in entries}
    entries = tuple(
        replace(
            e,
            owner="",
            replies=Replies(),
            handoff=None,
            related=tuple(r for r in e.related if r in public_ids),
        )
        for e in entries
    )
    return replace(kb, entries=entries, staff=())
