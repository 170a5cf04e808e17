"""Answer matching: find the entry that answers a question as people actually ask it.

::

    index = SearchIndex.build(kb, audience="staff")
    result = index.search("電梯壞了", limit=5)
    if result.answered:
        best = result.hits[0]
    else:  # 没有把握: result.hits are suggestions, never the answer
        ...

The pipeline: :mod:`tooling.text` (full-width, case, traditional characters)
-> :mod:`~tooling.answer.repair` (a question's typing slips, in the knowledge base's
words) -> :mod:`~tooling.answer.analysis` (synonyms, jieba words, character bigrams,
pinyin bigrams) -> :mod:`~tooling.answer.index` (BM25F postings, units, e5
vectors from :mod:`~tooling.answer.embed`) -> :mod:`~tooling.answer.engine`
(candidates and their signals) -> :mod:`~tooling.answer.ranking` (rank score
and confidence), with weights and refusal threshold fitted on the knowledge
base itself by :mod:`~tooling.answer.calibrate`. :mod:`~tooling.answer.store`
keeps built indexes on disk for the CLI.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

from tooling.answer.calibrate import Fit, SelfEstimate, calibrate
from tooling.answer.embed import Model, VectorCache, cache_dir, embedder
from tooling.answer.engine import candidates
from tooling.answer.index import Corpus
from tooling.answer.ranking import Hit, Scored, SearchResult, explain
from tooling.kb.model import KnowledgeBase
from tooling.kb.view import DEFAULT_AUDIENCE, SiteAudience, check_audience
from tooling.text import fold

normalize = fold  # the name this package has always exported

__all__ = ["Hit", "SearchIndex", "SearchResult", "SelfEstimate", "normalize"]


class SearchIndex:
    """The entries of one audience, indexed and calibrated once; :meth:`search` is cheap."""

    def __init__(self, corpus: Corpus, fit: Fit) -> None:
        self._corpus = corpus
        self.fit = fit

    @classmethod
    def build(
        cls,
        kb: KnowledgeBase,
        audience: SiteAudience = DEFAULT_AUDIENCE,
        today: date | None = None,
        *,
        cache: str | os.PathLike[str] | None = None,
        model: Model | bool | None = True,
        reuse: bool = True,
    ) -> SearchIndex:
        """Index what ``audience`` may see of ``kb`` on ``today`` (:func:`tooling.kb.view.view`),
        then calibrate on it. ``cache`` is the vector and index cache folder (default:
        :func:`~tooling.answer.embed.cache_dir`); ``model=False`` matches on words only.
        With ``reuse`` an index of the same content built before (by this engine, with
        this model) is loaded from the cache instead (:mod:`tooling.answer.store`)."""
        from tooling.answer import store

        chosen = embedder() if model is True else (model or None)
        folder = cache_dir(cache)
        if not reuse:
            return cls._build(kb, audience, today, folder, chosen)
        key = store.index_key(kb, check_audience(audience), today or date.today(), chosen)
        return cls._reused(kb, audience, today, folder, chosen, key)

    @classmethod
    def of_folder(
        cls,
        root: Path,
        read: Callable[[], KnowledgeBase],
        audience: SiteAudience = DEFAULT_AUDIENCE,
        today: date | None = None,
        *,
        cache: str | os.PathLike[str] | None = None,
    ) -> SearchIndex:
        """The index of the knowledge base in ``root``, for a process that starts cold
        (``kb search``): when no file under ``root`` changed since an index was stored
        for it (:func:`~tooling.answer.store.folder_stamp`), that index is loaded without
        reading the knowledge base; otherwise ``read()`` loads and validates it (and may
        raise) and :meth:`build` follows."""
        from tooling.answer import store

        chosen = embedder()
        folder = cache_dir(cache)
        day = today or date.today()
        audience = check_audience(audience)
        stamp = store.folder_stamp(root, audience, day, chosen)
        key = store.remembered(folder, stamp)
        if key is not None:
            found = store.load(folder, key)
            if isinstance(found, cls):
                return found
        kb = read()
        key = store.index_key(kb, audience, day, chosen)
        index = cls._reused(kb, audience, day, folder, chosen, key)
        store.remember(folder, stamp, key)
        return index

    @classmethod
    def _reused(
        cls,
        kb: KnowledgeBase,
        audience: SiteAudience,
        today: date | None,
        folder: Path,
        model: Model | None,
        key: str,
    ) -> SearchIndex:
        """The index stored under ``key``, or built (once, under the folder's build lock)
        and stored."""
        from tooling.answer import store

        found = store.load(folder, key)
        if isinstance(found, cls):
            return found
        with store.one_builder(folder):
            found = store.load(folder, key)  # built by another process while we waited
            if isinstance(found, cls):
                return found
            index = cls._build(kb, audience, today, folder, model)
            store.save(folder, key, index)
        return index

    @classmethod
    def _build(
        cls,
        kb: KnowledgeBase,
        audience: SiteAudience,
        today: date | None,
        folder: Path,
        model: Model | None,
    ) -> SearchIndex:
        vectors = VectorCache(folder) if model is not None else None
        corpus = Corpus(kb, audience, today, model, vectors)
        return cls(corpus, calibrate(corpus))

    @classmethod
    def cached(
        cls,
        kb: KnowledgeBase,
        audience: SiteAudience = DEFAULT_AUDIENCE,
        today: date | None = None,
        *,
        cache: str | os.PathLike[str] | None = None,
    ) -> SearchIndex:
        """:meth:`build` with ``reuse`` (kept for callers that want to say so)."""
        return cls.build(kb, audience, today, cache=cache, reuse=True)

    @property
    def audience(self) -> str:
        return self._corpus.audience

    @property
    def semantic(self) -> bool:
        """True when the semantic model's vectors take part."""
        return self._corpus.unit_vectors is not None

    @property
    def threshold(self) -> float:
        """The refusal threshold fitted on this knowledge base."""
        return self.fit.threshold

    @property
    def estimate(self) -> SelfEstimate | None:
        return self.fit.estimate

    def __len__(self) -> int:
        return self._corpus.size

    def entry_ids(self) -> set[str]:
        return set(self._corpus.by_id)

    def read(self, query: str) -> str:
        """The question as it is searched: normalized, its pinyin-input slips repaired in
        the knowledge base's own words (:mod:`tooling.answer.repair`)."""
        return self._corpus.repairs(fold(query))

    def scored(self, query: str) -> list[Scored]:
        """Every candidate with its signals, best first (for evaluation and debugging)."""
        return self._scored(self.read(query))

    def _scored(self, text: str) -> list[Scored]:
        corpus = self._corpus
        analyzed = corpus.analyzer.analyze(text)
        vector = None
        if self.semantic:
            model = embedder()
            if model is not None and model.model_id == corpus.model_id:
                vector = model.embed([text], "query")[0]
        found = candidates(corpus, analyzed, vector, self.fit.baseline)
        if found is None:
            return []
        if vector is None:  # the model went away after the index was built
            found.rows[:, 4:] = 0.0
        rank = found.rows @ self.fit.weights.rank_vector()
        confidence = self.fit.weights.confidences(found.rows)
        order = sorted(
            range(len(found.positions)),
            key=lambda i: (-rank[i], corpus.entries[found.positions[i]].entry.id),
        )
        return [
            Scored(
                corpus.entries[found.positions[i]],
                found.rows[i],
                float(rank[i]),
                float(confidence[i]),
                found.units[i],
                found.matched[i],
            )
            for i in order
        ]

    def search(self, query: str, limit: int = 5) -> SearchResult:
        text = self.read(query)
        scored = self._scored(text)
        confidence = scored[0].confidence if scored else 0.0
        answered = bool(scored) and confidence >= self.fit.threshold
        hits = tuple(
            Hit(s.terms.entry.id, s.terms.entry.question, round(s.score, 4), explain(s))
            for s in scored[: max(limit, 0)]
        )
        read_as = text if text != fold(query) else ""
        return SearchResult(
            query, answered, hits, round(confidence, 4), round(self.fit.threshold, 4), read_as
        )
