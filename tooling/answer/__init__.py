"""Answer matching: find the entry that answers a question as people actually ask it.

::

    index = SearchIndex.build(kb, audience="staff")
    result = index.search("電梯壞了", limit=5)
    if result.answered:
        best = result.hits[0]

The pipeline: :mod:`~tooling.answer.normalize` (full-width, case, traditional
characters) -> :mod:`~tooling.answer.analysis` (synonyms, jieba words,
character bigrams, pinyin bigrams) -> :mod:`~tooling.answer.index` (Whoosh
BM25F candidates) -> :mod:`~tooling.answer.ranking` (re-rank and refuse).
"""

from __future__ import annotations

from datetime import date

from tooling.answer.index import Corpus
from tooling.answer.normalize import normalize
from tooling.answer.ranking import (
    CONFIDENCE_THRESHOLD,
    Hit,
    QueryPlan,
    Scored,
    SearchResult,
    explain,
    rank,
)
from tooling.kb.model import KnowledgeBase
from tooling.kb.view import DEFAULT_AUDIENCE, SiteAudience

__all__ = ["Hit", "SearchIndex", "SearchResult", "normalize"]


class SearchIndex:
    """The entries of one audience, indexed once; :meth:`search` is cheap."""

    def __init__(self, corpus: Corpus) -> None:
        self._corpus = corpus

    @classmethod
    def build(
        cls, kb: KnowledgeBase, audience: SiteAudience = DEFAULT_AUDIENCE, today: date | None = None
    ) -> SearchIndex:
        """Index what ``audience`` may see of ``kb`` on ``today`` (:func:`tooling.kb.view.view`)."""
        return cls(Corpus(kb, audience, today))

    @property
    def audience(self) -> str:
        return self._corpus.audience

    def __len__(self) -> int:
        return len(self._corpus.entries)

    def entry_ids(self) -> set[str]:
        return set(self._corpus.by_id)

    def scored(self, query: str) -> list[Scored]:
        """Every candidate with its signals, best first (for evaluation and debugging)."""
        corpus = self._corpus
        analyzed = corpus.analyzer.analyze(query)
        terms = corpus.query_terms(analyzed)
        if terms.empty:
            return []
        plan = QueryPlan(analyzed, terms, corpus.analyzer, corpus.idf[0], corpus.max_idf)
        return rank(plan, corpus.candidates(terms), corpus.entries)

    def search(self, query: str, limit: int = 5) -> SearchResult:
        scored = self.scored(query)
        answered = bool(scored) and scored[0].confidence >= CONFIDENCE_THRESHOLD
        hits = tuple(
            Hit(s.terms.entry.id, s.terms.entry.question, round(s.score, 4), explain(s))
            for s in scored[: max(limit, 0)]
        )
        return SearchResult(query, answered, hits)
