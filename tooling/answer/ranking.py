"""Ranking and refusal: which entry answers the query, and whether to trust it.

Every candidate gets eight signals (:data:`SIGNALS`), each about 0..1:

* ``bm25``: its BM25F score divided by the best entry's (the classic
  retrieval signal over all fields, answer text included);
* ``coverage``: the IDF-weighted share of the query's content found in the
  entry, per query token, a token counting as found as far as its characters
  are found (through the word, a shared character bigram, or a pinyin bigram
  for homophone typos such as 陪 for 赔);
* ``nearest``: weighted Dice similarity between the query and the closest
  single way the entry is asked (question, one phrasing or one case);
* ``informative``: the coverage with IDF-squared weights, so that a topic word
  the entry lacks (股票行情) is not rescued by generic words (今天, 小区, 几点);
  time expressions (:data:`~tooling.answer.analysis.WHEN_WORDS`) weigh nothing
  here, as they say when, not what;
* ``semantic``: the e5 cosine with the closest unit, rescaled so that 0 is the
  knowledge base's typical cosine between units of different entries and 1 is
  identity; it is what finds 停电 when asked 家里黑了;
* ``rule``: the same for the entry's question + rule passage;
* ``centred`` and ``centred_rule``: the same two with the knowledge base's mean
  vectors taken out of the cosines (:class:`~tooling.answer.index.Centering`).

The rank score and the confidence are weighted sums of these signals
(:class:`Weights`). The rank score reads the centred cosines, which tell
neighbouring entries apart better; the confidence reads the raw ones, which
tell an answer from no answer better (see :class:`Weights`). The weights of
the two semantic signals in each, of the margin and coverage in the
confidence, and the refusal threshold on the confidence, are fitted on each knowledge base by
:mod:`tooling.answer.calibrate`; the lexical weights are 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tooling.answer.analysis import WHEN_WORDS, Analyzed, Analyzer, bigrams, is_cjk
from tooling.answer.index import EntryTerms, QueryTerms, Unit

SIGNALS = (
    "bm25",
    "coverage",
    "nearest",
    "informative",
    "semantic",
    "rule",
    "centred",
    "centred_rule",
)
INFORMATIVE = SIGNALS.index("informative")
# Weight of each view (words, grams, sounds) in the nearest-phrasing
# similarity: pinyin only backs the others up, as homophones also collide.
VIEW_WEIGHTS = (0.4, 0.4, 0.2)


@dataclass(frozen=True)
class Weights:
    """``rank = bm25 + coverage + nearest + rank_semantic*centred + rank_rule*centred_rule``;
    ``confidence = informative + nearest + conf_semantic*semantic + conf_rule*rule
    + conf_margin*margin*informative + conf_coverage*coverage``, the margin being how far
    the entry's *lead* (the rank score with the raw cosines instead of the centred ones)
    is above the best other candidate's. The margin counts only as far as the entry
    covers the question's topic: a lone match of generic words is far ahead of
    candidates that match nothing, which says nothing.

    The confidence is the same function of the same raw signals as before the rank
    score was centred; only which entry comes first changed. Measured on labelled
    questions (the README's "How entries are ranked"), the centred cosines rank better
    but separate right answers from unanswerable questions worse (AUC of the best
    entry's value on the dev set 0.93 against 0.97), so the confidence does not use
    them. When the centred ranking puts first an entry the raw lead does not, its
    margin is negative: the two disagree, which lowers the confidence."""

    rank_semantic: float = 0.0
    rank_rule: float = 0.0
    conf_semantic: float = 0.0
    conf_rule: float = 0.0
    conf_margin: float = 0.0
    conf_coverage: float = 0.0

    def rank_vector(self) -> np.ndarray:
        return np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0, self.rank_semantic, self.rank_rule])

    def lead_vector(self) -> np.ndarray:
        return np.array([1.0, 1.0, 1.0, 0.0, self.rank_semantic, self.rank_rule, 0.0, 0.0])

    def confidence_vector(self) -> np.ndarray:
        return np.array(
            [0.0, self.conf_coverage, 1.0, 1.0, self.conf_semantic, self.conf_rule, 0.0, 0.0]
        )

    def confidences(self, rows: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
        """Confidence of every candidate of one query (``rows``: candidates x signals),
        or of many (``rows``: queries x candidates x signals, ``valid`` their padding)."""
        lead = rows @ self.lead_vector()
        if valid is not None:
            lead = np.where(valid, lead, -np.inf)
        ahead = margins(lead) * rows[..., INFORMATIVE]  # counts as far as the topic is covered
        return rows @ self.confidence_vector() + self.conf_margin * ahead


def margins(rank: np.ndarray) -> np.ndarray:
    """Each candidate's rank score minus the best other candidate's (last axis); a lone
    candidate's margin is its own score."""
    if rank.shape[-1] < 2:
        return np.where(np.isfinite(rank), rank, 0.0)
    order = np.sort(rank, axis=-1)
    best, second = order[..., -1:], order[..., -2:-1]
    second = np.where(np.isfinite(second), second, 0.0)
    other = np.where(rank >= best, second, best)
    return np.where(np.isfinite(rank), rank - other, 0.0)


@dataclass(frozen=True)
class Hit:
    entry_id: str
    question: str
    score: float
    why: str


@dataclass(frozen=True)
class SearchResult:
    """``answered`` is False for "no confident answer" (没有把握); ``hits`` then holds
    the nearest entries, which callers must show as suggestions, never as the answer.
    ``confidence`` is the best entry's, ``threshold`` the knowledge base's fitted one.
    ``read_as`` is the question as searched when typing slips were repaired in it
    (:mod:`tooling.answer.repair`), else empty."""

    query: str
    answered: bool
    hits: tuple[Hit, ...]
    confidence: float = 0.0
    threshold: float = 0.0
    read_as: str = ""


@dataclass(frozen=True)
class Scored:
    terms: EntryTerms
    signals: np.ndarray  # in the order of SIGNALS
    score: float
    confidence: float
    unit: Unit | None
    matched: tuple[str, ...]

    def __getattr__(self, name: str) -> float:
        if name in SIGNALS:
            return float(self.signals[SIGNALS.index(name)])
        raise AttributeError(name)


class QueryPlan:
    """The query analyzed once, checked cheaply against each candidate."""

    def __init__(
        self, analyzed: Analyzed, terms: QueryTerms, analyzer: Analyzer, max_idf: float
    ) -> None:
        self.terms = terms
        self.weights = [sum(view.values()) for view in terms.views]
        self.sets = [frozenset(view) for view in terms.views]
        word_idf = terms.views[0]
        self.runs: list[tuple[str, list[tuple[str, float]], list[str], list[str]]] = []
        for run in analyzed.runs:
            text = "".join(run)
            syllables = [s for token in run for s in analyzer.pinyin(token)]
            tokens = [(t, word_idf.get(t, max_idf)) for t in run]
            grams = [text[i : i + 2] for i in range(len(text) - 1)] if is_cjk(text) else []
            sounds = bigrams(syllables) if len(syllables) == len(text) > 1 else []
            self.runs.append((text, tokens, grams, sounds))

    def coverage(self, entry: EntryTerms) -> tuple[float, float, tuple[str, ...]]:
        """The share of the query's tokens found in the entry, weighted by IDF and by IDF
        squared (the informative coverage), and the found tokens."""
        words, grams, sounds = entry.all
        total = covered = total2 = covered2 = 0.0
        found: list[str] = []
        for text, tokens, run_grams, run_sounds in self.runs:
            if not run_grams and len(tokens) == 1 and len(text) > 1:  # letters or digits
                weight = tokens[0][1]
                total += weight
                total2 += weight * weight
                if text in words:
                    covered += weight
                    covered2 += weight * weight
                    found.append(text)
                continue
            hit = [False] * len(text)
            if len(text) == 1:
                hit[0] = text in words or text in grams
            for i, gram in enumerate(run_grams):
                if gram in grams or (run_sounds and run_sounds[i] in sounds):
                    hit[i] = hit[i + 1] = True
            pos = 0
            for token, weight in tokens:
                share = 1.0 if token in words else sum(hit[pos : pos + len(token)]) / len(token)
                pos += len(token)
                total += weight
                covered += weight * share
                informs = 0.0 if token in WHEN_WORDS else weight * weight
                total2 += informs
                covered2 += informs * share
                if share >= 0.5:
                    found.append(token)
        return (
            covered / total if total else 0.0,
            covered2 / total2 if total2 else 0.0,
            tuple(dict.fromkeys(found)),
        )

    def nearest(self, entry: EntryTerms) -> tuple[float, Unit | None]:
        """Weighted Dice similarity to the closest question, phrasing or scenario case."""
        best, best_unit = 0.0, None
        for unit in entry.units:
            similarity = 0.0
            for v, view in enumerate(self.terms.views):
                common = self.sets[v] & unit.terms[v]
                if common:
                    matched = sum(view[t] for t in common)
                    similarity += (
                        VIEW_WEIGHTS[v] * 2 * matched / (self.weights[v] + unit.weights[v])
                    )
            if similarity > best:
                best, best_unit = similarity, unit
        return best, best_unit


def signals(
    plan: QueryPlan,
    entries: Sequence[EntryTerms],
    bm25_share: np.ndarray,
    semantic: np.ndarray | None,
    rule: np.ndarray | None,
    semantic_unit: np.ndarray | None = None,
    centred: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, list[Unit | None], list[tuple[str, ...]]]:
    """The signal matrix (one row per entry of ``entries``), the nearest units, the
    matched words. ``semantic_unit`` is the position of each entry's closest unit by
    cosine, used to name it when no unit shares a word; ``centred`` the centred
    semantic and rule signals."""
    rows = np.zeros((len(entries), len(SIGNALS)))
    units: list[Unit | None] = []
    matched: list[tuple[str, ...]] = []
    for i, entry in enumerate(entries):
        coverage, informative, found = plan.coverage(entry)
        nearest, unit = plan.nearest(entry)
        if unit is None and semantic_unit is not None and entry.units:
            unit = entry.units[int(semantic_unit[i])]
        rows[i, :4] = (bm25_share[i], coverage, nearest, informative)
        units.append(unit)
        matched.append(found)
    if semantic is not None and rule is not None:
        rows[:, 4] = semantic
        rows[:, 5] = rule
    if centred is not None:
        rows[:, 6], rows[:, 7] = centred
    return rows, units, matched


def explain(item: Scored) -> str:
    """Why an entry matched, for the staff who read the results."""
    parts = []
    if item.unit is not None:
        where = {"question": "标准问"}.get(item.unit.label, "")
        if not where:
            kind, _, number = item.unit.label.partition(" ")
            where = f"{'问法' if kind == 'phrasing' else '场景'} {number}"
        parts.append(f"最接近的{where}「{item.unit.text}」(相似度 {item.nearest:.2f})")
    if item.semantic:
        parts.append(f"语义相近 {max(item.semantic, 0.0):.0%}")
    parts.append(f"覆盖提问内容 {item.coverage:.0%}")
    if item.matched:
        parts.append("匹配:" + "、".join(item.matched[:6]))
    return ";".join(parts)


__all__ = ["Hit", "QueryPlan", "Scored", "SearchResult", "Weights", "explain", "signals"]
