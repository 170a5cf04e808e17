"""Index stage: knowledge base -> the in-memory structures the ranking reads.

Built once per index (and persisted by :mod:`tooling.answer.store`):

* per entry, the analyzed *units* people's questions are compared with (the
  question, each phrasing and each scenario case), the term sets of the whole
  entry, and the term counts of its two BM25F fields: the ask side (units and
  tags) and the answer side (rule and scenario answers);
* BM25F postings per field and view (numpy arrays: entry positions and each
  posting's saturated, length-normalised term frequency), and the document
  frequency of every term;
* with the semantic model, one vector per unit (e5 ``query:``) and per rule
  (e5 ``passage:``), and their :class:`Centering` (the knowledge base's mean
  vectors, taken out of the cosines the ranking uses).

Everything a score needs can be computed with one unit or one whole entry
*masked* (:class:`Mask`), which is how the self-calibration holds a phrasing
or an entry out without building another index.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from tooling.answer.analysis import Analyzed, Analyzer
from tooling.answer.embed import Model, VectorCache
from tooling.answer.repair import Repairs
from tooling.kb.model import Entry, KnowledgeBase
from tooling.kb.view import DEFAULT_AUDIENCE, SiteAudience, check_audience, view
from tooling.text import fold, plain_text

log = logging.getLogger(__name__)

# The three views of a text (see :mod:`tooling.answer.analysis`).
VIEWS = ("words", "grams", "sounds")
# BM25F field boosts: how people ask (question, phrasings, cases, tags) counts
# twice as much as how we answer (the rule, long and mentioning many things in
# passing); sounds (pinyin bigrams) only back words and grams up. The answer
# side has no pinyin field: typos are in questions.
ASK_BOOST, BODY_BOOST = 2.0, 1.0
VIEW_BOOST = (1.0, 1.0, 0.5)
FIELDS = tuple(
    (side, v, boost * VIEW_BOOST[v])
    for side, boost in (("ask", ASK_BOOST), ("body", BODY_BOOST))
    for v in range(len(VIEWS))
    if (side, v) != ("body", 2)
)
K1, B = 1.2, 0.75  # the textbook BM25 constants
_NOTHING = Analyzed((), (), (), ())  # a stored unit's analyzed terms (see Corpus.__getstate__)


@dataclass(frozen=True)
class Centering:
    """The knowledge base's mean unit vector and mean rule vector, to take out of the
    cosines: :meth:`cosines` turns raw cosines into those of the centred vectors.

    e5's vectors share a large common direction (two units of the example knowledge
    base have a cosine of 0.85 on average, any two), so a raw cosine is mostly that
    direction, and what tells one entry from another is a small remainder. Taking each
    space's mean out (the units' from the units and the question, the rules' from the
    rules: ``query:`` and ``passage:`` vectors lie apart) leaves the remainder, a
    standard correction of such anisotropy. The ranking uses the centred cosines; the
    confidence keeps the raw ones (see :mod:`tooling.answer.ranking`). Everything is
    computed from the raw cosines and a few dot products, so centring costs no matrix
    product."""

    unit_mean: np.ndarray
    rule_mean: np.ndarray
    unit_dot: np.ndarray  # each unit's dot product with unit_mean
    rule_dot: np.ndarray  # each rule's dot product with unit_mean
    unit_norm: np.ndarray  # each unit's length once centred
    rule_norm: np.ndarray  # each rule's length once centred
    unit_square: float  # unit_mean . unit_mean
    means_dot: float  # unit_mean . rule_mean

    @classmethod
    def of(cls, units: np.ndarray, rules: np.ndarray) -> Centering:
        unit_mean, rule_mean = units.mean(axis=0), rules.mean(axis=0)
        unit_square = float(unit_mean @ unit_mean)
        unit_dot = units @ unit_mean
        unit_norm = _norm(np.sum(units * units, axis=1) - 2 * unit_dot + unit_square)
        rule_norm = _norm(
            np.sum(rules * rules, axis=1) - 2 * (rules @ rule_mean) + float(rule_mean @ rule_mean)
        )
        return cls(
            unit_mean,
            rule_mean,
            unit_dot,
            rules @ unit_mean,
            unit_norm,
            rule_norm,
            unit_square,
            float(unit_mean @ rule_mean),
        )

    def cosines(
        self, asked: np.ndarray, unit_cos: np.ndarray, rule_cos: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The centred cosines of ``asked`` (one vector, or one per row of the cosines)
        with every unit and every rule, from its raw cosines ``unit_cos`` and
        ``rule_cos``: ``(q - mu).(u - mu)`` and ``(q - mu).(r - mr)`` over the lengths."""
        to_unit, to_rule = asked @ self.unit_mean, asked @ self.rule_mean
        length = _norm(np.sum(asked * asked, axis=-1) - 2 * to_unit + self.unit_square)
        if asked.ndim == 2:
            to_unit, to_rule, length = to_unit[:, None], to_rule[:, None], length[:, None]
        unit = (unit_cos - to_unit - self.unit_dot + self.unit_square) / (length * self.unit_norm)
        rule = (rule_cos - to_rule - self.rule_dot + self.means_dot) / (length * self.rule_norm)
        return unit, rule


def _norm(square: np.ndarray) -> np.ndarray:
    return np.sqrt(np.maximum(square, 1e-12))


@dataclass(frozen=True)
class Unit:
    """One way an entry is asked: its question, a phrasing or a scenario case."""

    label: str  # "question", "phrasing 2", "scenario 1"
    text: str
    analyzed: Analyzed
    terms: tuple[frozenset[str], ...]  # one set per view
    weights: tuple[float, ...] = ()  # per view: the sum of the terms' IDF


@dataclass(frozen=True)
class EntryTerms:
    entry: Entry
    units: tuple[Unit, ...]
    rest: tuple[frozenset[str], ...]  # per view: tags, rule, scenario answers
    all: tuple[frozenset[str], ...]  # per view: the whole entry
    ask_counts: tuple[Counter[str], ...]  # per view: units and tags
    body_counts: tuple[Counter[str], ...]  # per view: rule and scenario answers


@dataclass(frozen=True)
class Mask:
    """What a hold-out hides: one unit of an entry, or (``unit`` None) the whole entry."""

    entry: int
    unit: int | None = None


@dataclass(frozen=True)
class QueryTerms:
    """A query's distinct terms per view, with their IDF weights."""

    views: tuple[dict[str, float], ...]

    @property
    def empty(self) -> bool:
        return not any(self.views)


@dataclass(frozen=True)
class Postings:
    """One field's postings, concatenated (few big arrays pickle and load fast)."""

    spans: dict[str, tuple[int, int]]  # term -> its slice of docs and weight
    docs: np.ndarray  # entry positions (int32)
    weight: np.ndarray  # boost * saturated, length-normalised tf (float32)


class Corpus:
    """Everything the index knows about the entries of one audience."""

    def __init__(
        self,
        kb: KnowledgeBase,
        audience: SiteAudience = DEFAULT_AUDIENCE,
        today: date | None = None,
        model: Model | None = None,
        cache: VectorCache | None = None,
    ) -> None:
        audience = check_audience(audience)
        visible = view(kb, audience, today or date.today())
        started = time.perf_counter()
        self.holds_out = True  # False once stored: see __getstate__
        self.audience: SiteAudience = audience
        self.synonyms = tuple(tuple(g) for g in kb.synonyms)
        self.analyzer = Analyzer(self.synonyms)
        self.entries: tuple[EntryTerms, ...] = tuple(self._entry_terms(e) for e in visible.entries)
        self.by_id = {t.entry.id: i for i, t in enumerate(self.entries)}
        self.size = len(self.entries)
        self.df: tuple[Counter[str], ...] = tuple(
            Counter(t for e in self.entries for t in e.all[v]) for v in range(len(VIEWS))
        )
        self.max_idf = idf_of(0, self.size)
        analyzer = self.analyzer
        self.repairs = Repairs(
            self.df[0],
            self.df[1],
            analyzer.pinyin,
            analyzer.tokens,
            analyzer.is_word,
            analyzer.frequency,
        )
        self.entries = tuple(
            replace(t, units=tuple(replace(u, weights=self._weights(u.terms)) for u in t.units))
            for t in self.entries
        )
        self._build_postings()
        self.model_id = model.model_id if model is not None else ""
        self.unit_vectors: np.ndarray | None = None
        self.rule_vectors: np.ndarray | None = None
        self.centering: Centering | None = None
        starts, position = [], 0
        for e in self.entries:
            starts.append(position)
            position += len(e.units)
        self.unit_starts = np.asarray(starts, dtype=np.int64)
        self.unit_entry = np.repeat(
            np.arange(self.size), [len(e.units) for e in self.entries]
        ).astype(np.int64)
        if model is not None and self.size:
            self._embed(model, cache or VectorCache(None))
        log.debug("answer index: %d entries in %.2fs", self.size, time.perf_counter() - started)

    def __getstate__(self) -> dict[str, object]:
        """Stored without what only holding out needs (:meth:`masked`): each unit's
        analyzed terms and each entry's term counts, a third of the objects an index
        holds. An index loaded from disk searches; it is never calibrated again (its fit
        is stored with it)."""
        state = dict(self.__dict__)
        state["entries"] = tuple(
            replace(
                e,
                units=tuple(replace(u, analyzed=_NOTHING) for u in e.units),
                rest=(),
                ask_counts=(),
                body_counts=(),
            )
            for e in self.entries
        )
        state["holds_out"] = False
        return state

    # ------------------------------------------------------------------ build

    def _entry_terms(self, entry: Entry) -> EntryTerms:
        analyze = self.analyzer.analyze
        texts = [("question", entry.question)]
        texts += [(f"phrasing {i}", p) for i, p in enumerate(entry.phrasings, 1)]
        texts += [(f"scenario {i}", s.case) for i, s in enumerate(entry.scenarios, 1)]
        units = [(label, text, analyze(text)) for label, text in texts]
        tags = analyze("\n".join(entry.tags))
        body = analyze("\n".join([entry.rule, *(s.answer for s in entry.scenarios)]))
        unit_list = tuple(Unit(label, text, a, view_sets(a)) for label, text, a in units)
        rest = tuple(a | b for a, b in zip(view_sets(tags), view_sets(body), strict=True))
        all_sets = tuple(
            frozenset().union(r, *(u.terms[v] for u in unit_list)) for v, r in enumerate(rest)
        )
        ask_counts = tuple(
            Counter(t for a in [*(u[2] for u in units), tags] for t in getattr(a, view))
            for view in VIEWS
        )
        body_counts = tuple(Counter(getattr(body, view)) for view in VIEWS)
        return EntryTerms(entry, unit_list, rest, all_sets, ask_counts, body_counts)

    def _weights(self, terms: tuple[frozenset[str], ...]) -> tuple[float, ...]:
        return tuple(
            sum(idf_of(df.get(t, 0), self.size) for t in view)
            for df, view in zip(self.df, terms, strict=True)
        )

    def _build_postings(self) -> None:
        self.avg_length: dict[tuple[str, int], float] = {}
        self.postings: dict[tuple[str, int], Postings] = {}
        for side, v, boost in FIELDS:
            counts = [self._counts(e, side, v) for e in self.entries]
            lengths = [sum(c.values()) for c in counts]
            average = (sum(lengths) / len(lengths) if lengths else 0.0) or 1.0
            self.avg_length[side, v] = average
            raw: dict[str, tuple[list[int], list[float]]] = {}
            for doc, (found, length) in enumerate(zip(counts, lengths, strict=True)):
                for term, tf in found.items():
                    docs, weights = raw.setdefault(term, ([], []))
                    docs.append(doc)
                    weights.append(boost * saturate(tf, length, average))
            spans, position = {}, 0
            for term, (d, _) in raw.items():
                spans[term] = (position, position + len(d))
                position += len(d)
            self.postings[side, v] = Postings(
                spans,
                np.fromiter((x for d, _ in raw.values() for x in d), np.int32, position),
                np.fromiter((x for _, w in raw.values() for x in w), np.float32, position),
            )

    @staticmethod
    def _counts(entry: EntryTerms, side: str, v: int) -> Counter[str]:
        return entry.ask_counts[v] if side == "ask" else entry.body_counts[v]

    def _embed(self, model: Model, cache: VectorCache) -> None:
        units = [fold(u.text) for e in self.entries for u in e.units]
        rules = [fold(entry_passage(e.entry)) for e in self.entries]
        self.unit_vectors = cache.vectors(model, units, "query")
        self.rule_vectors = cache.vectors(model, rules, "passage")
        self.centering = Centering.of(self.unit_vectors, self.rule_vectors)

    # ------------------------------------------------------------------ query

    def query_terms(self, analyzed: Analyzed, mask: Mask | None = None) -> QueryTerms:
        """The query's terms with their IDF, as if the masked unit or entry were not there."""
        views = []
        entry = self.entries[mask.entry] if mask is not None else None
        remaining = self.masked(mask).all if mask is not None and mask.unit is not None else None
        size = self.size - (mask is not None and mask.unit is None)
        for v, name in enumerate(VIEWS):
            df = self.df[v]
            weights = {}
            for t in getattr(analyzed, name):
                n = df.get(t, 0)
                if entry is not None and n and t in entry.all[v]:
                    n -= remaining is None or t not in remaining[v]
                weights[t] = idf_of(n, size)
            views.append(weights)
        return QueryTerms(tuple(views))

    def word_idf(self, terms: QueryTerms) -> dict[str, float]:
        """IDF of the query's words (the coverage weights its tokens by them)."""
        return terms.views[0]

    def masked(self, mask: Mask) -> EntryTerms:
        """The entry without the masked unit (units, sets and ask counts)."""
        if not self.holds_out:
            raise RuntimeError("a stored index keeps no term counts: build it to hold out")
        entry = self.entries[mask.entry]
        if mask.unit is None:
            return entry
        held = entry.units[mask.unit]
        units = entry.units[: mask.unit] + entry.units[mask.unit + 1 :]
        all_sets = tuple(
            frozenset().union(r, *(u.terms[v] for u in units)) for v, r in enumerate(entry.rest)
        )
        ask = tuple(
            entry.ask_counts[v] - Counter(getattr(held.analyzed, name))
            for v, name in enumerate(VIEWS)
        )
        return replace(entry, units=units, all=all_sets, ask_counts=ask)

    def bm25(self, terms: QueryTerms, mask: Mask | None = None) -> np.ndarray:
        """BM25F score of every entry (a whole masked entry scores ``-inf``)."""
        docs, parts = [], []
        for side, v, _ in FIELDS:
            table = self.postings[side, v]
            for term, idf in terms.views[v].items():
                span = table.spans.get(term)
                if span is not None:
                    start, stop = span
                    docs.append(table.docs[start:stop])
                    parts.append(idf * table.weight[start:stop])
        # One pass; each entry's contributions are still added in field and term order.
        scores = (
            np.bincount(np.concatenate(docs), np.concatenate(parts), minlength=self.size)
            if docs
            else np.zeros(self.size, dtype=np.float64)
        )
        if mask is not None:
            if mask.unit is None:
                scores[mask.entry] = -np.inf
            else:
                scores[mask.entry] = self._entry_bm25(self.masked(mask), terms)
        return scores

    def _entry_bm25(self, entry: EntryTerms, terms: QueryTerms) -> float:
        score = 0.0
        for side, v, boost in FIELDS:
            counts = self._counts(entry, side, v)
            length = sum(counts.values())
            average = self.avg_length[side, v]
            for term, idf in terms.views[v].items():
                tf = counts.get(term, 0)
                if tf:
                    score += idf * boost * saturate(tf, length, average)
        return score


def entry_passage(entry: Entry) -> str:
    """What the rule vector is computed from: the question and the rule as plain text."""
    return f"{entry.question} {plain_text(entry.rule)}"


def view_sets(found: Analyzed) -> tuple[frozenset[str], ...]:
    return tuple(frozenset(getattr(found, view)) for view in VIEWS)


def saturate(tf: int, length: int, average: float) -> float:
    return tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / average))


def idf_of(df: int, count: int) -> float:
    """BM25's IDF by document frequency (always positive; an unknown term weighs most)."""
    return math.log(1 + max(count - df + 0.5, 0.0) / (df + 0.5))


def idf_table(term_sets: Iterable[frozenset[str]], count: int) -> dict[str, float]:
    df: Counter[str] = Counter()
    for terms in term_sets:
        df.update(terms)
    return {t: idf_of(n, count) for t, n in df.items()}
