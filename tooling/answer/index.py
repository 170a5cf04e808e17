"""Index stage: knowledge base -> an in-memory search index.

Two structures are built once per process:

* a Whoosh index (RAM storage), one document per entry, with the ask side
  (question, phrasings, scenario cases, tags) and the answer side (rule,
  scenario answers) in separate fields, each as jieba words and as character
  bigrams. Whoosh's BM25F over these fields finds the candidates;
* per entry, the analyzed *units* people's questions are compared with: the
  question, each phrasing and each scenario case, plus the term sets of the
  whole ask side and of the whole entry, and an IDF table. The ranking stage
  (:mod:`tooling.answer.ranking`) reads these to re-rank the candidates and to
  decide whether the best one deserves to be called an answer.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from whoosh import fields, query, scoring
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.filedb.filestore import RamStorage

from tooling.answer.analysis import Analyzed, Analyzer
from tooling.kb.model import Entry, KnowledgeBase
from tooling.kb.view import DEFAULT_AUDIENCE, SiteAudience, check_audience, view

log = logging.getLogger(__name__)

# Field boosts for BM25F: how people ask (question, phrasings, cases) counts
# more than how we answer (rule text), which is long and mentions many things
# in passing.
ASK_BOOST = 2.0
BODY_BOOST = 1.0
# The three views of a text (see :mod:`tooling.answer.analysis`) and how much
# each weighs in BM25F. Sounds (pinyin bigrams) only back the other two up.
VIEWS = ("words", "grams", "sounds")
VIEW_BOOST = {"words": 1.0, "grams": 1.0, "sounds": 0.5}
# The answer side has no pinyin field: long texts would double the index for
# little gain (typos are in questions, and they are checked against the answer
# text by the ranking stage anyway).
TERM_FIELDS = {
    f"{side}_{view}": side_boost * VIEW_BOOST[view]
    for side, side_boost in (("ask", ASK_BOOST), ("body", BODY_BOOST))
    for view in VIEWS
    if (side, view) != ("body", "sounds")
}
# Whoosh's posting pool, in MB: the index stays in memory, never in /tmp.
WRITER_POOL_MB = 2048
# Terms found in more entries than this are left out of the candidate query
# (they still count when ranking the candidates): they say little about which
# entry is meant and would make Whoosh score thousands of postings. Knowledge
# bases of up to this many entries are not affected at all.
COMMON_TERM_ENTRIES = 150
# How many BM25F candidates the ranking stage looks at.
CANDIDATES = 30


@dataclass(frozen=True)
class Unit:
    """One way an entry is asked: its question, a phrasing or a scenario case."""

    label: str  # "question", "phrasing 2", "scenario 1"
    text: str
    terms: tuple[frozenset[str], ...]  # one set per view
    weights: tuple[float, ...] = ()  # per view: the sum of the terms' IDF


@dataclass(frozen=True)
class EntryTerms:
    entry: Entry
    units: tuple[Unit, ...]
    ask: tuple[frozenset[str], ...]  # per view: question, phrasings, cases, tags
    all: tuple[frozenset[str], ...]  # per view: the whole entry


@dataclass(frozen=True)
class QueryTerms:
    """A query's distinct terms per view, with their IDF weights."""

    views: tuple[dict[str, float], ...]

    @property
    def empty(self) -> bool:
        return not any(self.views)


class Corpus:
    """Everything the index knows about the entries of one audience."""

    def __init__(
        self,
        kb: KnowledgeBase,
        audience: SiteAudience = DEFAULT_AUDIENCE,
        today: date | None = None,
    ) -> None:
        audience = check_audience(audience)
        visible = view(kb, audience, today or date.today())
        started = time.perf_counter()
        self.audience = audience
        self.analyzer = Analyzer(kb.synonyms)
        self._whoosh = _MemoryStorage().create_index(_schema())
        # A pool large enough never to spill to a temporary folder on disk.
        writer = self._whoosh.writer(limitmb=WRITER_POOL_MB)
        self.entries: tuple[EntryTerms, ...] = tuple(
            self._entry_terms(e, writer) for e in visible.entries
        )
        writer.commit()
        self.by_id = {t.entry.id: i for i, t in enumerate(self.entries)}
        self.idf = tuple(
            _idf((t.all[v] for t in self.entries), len(self.entries)) for v in range(len(VIEWS))
        )
        self.max_idf = math.log(1 + (len(self.entries) + 0.5) / 0.5)
        # Terms rarer than this IDF are in more than COMMON_TERM_ENTRIES entries.
        self.common_idf = _idf_of(COMMON_TERM_ENTRIES, len(self.entries))
        self.entries = tuple(
            replace(t, units=tuple(replace(u, weights=self._weights(u.terms)) for u in t.units))
            for t in self.entries
        )
        self._searcher = self._whoosh.searcher(weighting=scoring.BM25F())
        log.debug(
            "search index: %d entries in %.2fs", len(self.entries), time.perf_counter() - started
        )

    def _entry_terms(self, entry: Entry, writer: Any) -> EntryTerms:
        """Analyze an entry once: its units and sets for ranking, its fields for Whoosh."""
        analyze = self.analyzer.analyze
        texts = [("question", entry.question)]
        texts += [(f"phrasing {i}", p) for i, p in enumerate(entry.phrasings, 1)]
        texts += [(f"scenario {i}", s.case) for i, s in enumerate(entry.scenarios, 1)]
        found = [(label, text, analyze(text)) for label, text in texts]
        tags = analyze("\n".join(entry.tags))
        body = analyze("\n".join([entry.rule, *(s.answer for s in entry.scenarios)]))
        # Texts are analyzed apart, as bigrams never cross the line breaks that
        # would join them: the ask side is the concatenation of its parts.
        asked = [f for _, _, f in found] + [tags]
        writer.add_document(
            id=entry.id,
            **{
                f"ask_{view}": " ".join(t for f in asked for t in getattr(f, view))
                for view in VIEWS
            },
            **{
                f"body_{view}": " ".join(getattr(body, view))
                for view in VIEWS
                if f"body_{view}" in TERM_FIELDS
            },
        )
        units = [Unit(label, text, _view_sets(f)) for label, text, f in found]
        ask = tuple(frozenset(t for f in asked for t in getattr(f, view)) for view in VIEWS)
        body_sets = _view_sets(body)
        return EntryTerms(
            entry, tuple(units), ask, tuple(a | b for a, b in zip(ask, body_sets, strict=True))
        )

    def _weights(self, terms: tuple[frozenset[str], ...]) -> tuple[float, ...]:
        return tuple(
            sum(idf.get(t, self.max_idf) for t in view)
            for idf, view in zip(self.idf, terms, strict=True)
        )

    def query_terms(self, analyzed: Analyzed) -> QueryTerms:
        return QueryTerms(
            tuple(
                {t: idf.get(t, self.max_idf) for t in getattr(analyzed, view)}
                for view, idf in zip(VIEWS, self.idf, strict=True)
            )
        )

    def candidates(self, terms: QueryTerms, limit: int = CANDIDATES) -> dict[int, float]:
        """BM25F scores of the best ``limit`` entries, by position in :attr:`entries`."""
        subqueries = self._subqueries(terms, self.common_idf)
        if not subqueries:  # only common terms: use them all, slower but still an answer
            subqueries = self._subqueries(terms, 0.0)
        if not subqueries:
            return {}
        hits = self._searcher.search(query.Or(subqueries), limit=limit)
        return {self.by_id[hit["id"]]: float(hit.score) for hit in hits}

    def _subqueries(self, terms: QueryTerms, min_idf: float) -> list[query.Query]:
        subqueries: list[query.Query] = []
        for name, boost in TERM_FIELDS.items():
            source = terms.views[VIEWS.index(name.split("_", 1)[1])]
            subqueries += [
                query.Term(name, t, boost=boost) for t, idf in source.items() if idf >= min_idf
            ]
        return subqueries


def _view_sets(found: Analyzed) -> tuple[frozenset[str], ...]:
    return tuple(frozenset(getattr(found, view)) for view in VIEWS)


class _MemoryStorage(RamStorage):
    """RAM storage whose scratch space is RAM too.

    Whoosh's own RamStorage puts scratch files in ``/tmp/<indexname>.tmp``,
    one folder shared by every process on the machine, which another process
    may delete while this one writes.
    """

    def temp_storage(self, name: str | None = None) -> RamStorage:
        return RamStorage()


def _schema() -> fields.Schema:
    text = fields.TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=False)
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        **{name: text for name in TERM_FIELDS},
    )


def _idf(term_sets: Iterable[frozenset[str]], count: int) -> dict[str, float]:
    """BM25's IDF by document frequency (always positive)."""
    df: Counter[str] = Counter()
    for terms in term_sets:
        df.update(terms)
    return {t: _idf_of(n, count) for t, n in df.items()}


def _idf_of(df: int, count: int) -> float:
    return math.log(1 + max(count - df + 0.5, 0.0) / (df + 0.5))
