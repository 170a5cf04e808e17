"""Ranking and refusal: which candidate answers the query, and whether to trust it.

Every candidate from BM25F gets three numbers, each between 0 and 1:

* ``bm25``: its BM25F score divided by the best candidate's (the classic
  retrieval signal over all fields, answer text included);
* ``coverage``: the IDF-weighted share of the query's content found in the
  entry. It is counted per query token, and a token counts as found as far as
  its characters are found, through the word itself, a character bigram
  shared with the entry (segmentation mismatches), or a pinyin bigram
  (homophone typos such as 陪 for 赔). Tokens the knowledge base has never
  seen weigh the most, which is what makes an off-topic question stand out;
* ``nearest``: the weighted Dice similarity between the query and the closest
  single way the entry is asked (its question, one phrasing or one scenario
  case): nearest-neighbour matching against known phrasings.

The rank score is ``bm25 + coverage + nearest``. The confidence is
``informative coverage + nearest`` of the best candidate, and below
:data:`CONFIDENCE_THRESHOLD` the answer is "no confident answer". The
informative coverage is the same coverage with each token weighted by its IDF
squared: the TF-IDF inner product of the query with what the entry covers,
divided by the query's own (IDF weights on both sides, as in a vector-space
match). It lets the query's most informative words weigh more: a question
whose topic word (股票行情) is missing from the entry is less easily rescued by
the generic words (今天, 小区, 几点) it shares with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tooling.answer.analysis import Analyzed, Analyzer, bigrams, is_cjk
from tooling.answer.index import EntryTerms, QueryTerms, Unit

# Weight of each view (words, grams, sounds) in the nearest-phrasing
# similarity: pinyin only backs the others up, as homophones also collide.
VIEW_WEIGHTS = (0.4, 0.4, 0.2)
# Below this confidence (informative coverage + nearest, between 0 and 2) the
# best match is not trusted. The one tuned constant: the largest round value
# that keeps the answerable development questions wrongly refused under 5% (see
# the README section "Search and answer matching" for the cross-validated
# figures).
CONFIDENCE_THRESHOLD = 0.46


@dataclass(frozen=True)
class Hit:
    entry_id: str
    question: str
    score: float
    why: str


@dataclass(frozen=True)
class SearchResult:
    """``answered`` is False for "no confident answer"; ``hits`` then holds the
    nearest candidates, which callers must not present as the answer."""

    query: str
    answered: bool
    hits: tuple[Hit, ...]


@dataclass(frozen=True)
class Scored:
    terms: EntryTerms
    score: float
    bm25: float
    coverage: float
    nearest: float
    unit: Unit | None
    matched: tuple[str, ...]
    informative: float  # coverage with IDF-squared weights: the refusal's coverage

    @property
    def confidence(self) -> float:
        return self.informative + self.nearest


class QueryPlan:
    """The query analyzed once, checked cheaply against each candidate."""

    def __init__(
        self,
        analyzed: Analyzed,
        terms: QueryTerms,
        analyzer: Analyzer,
        word_idf: dict[str, float],
        max_idf: float,
    ) -> None:
        self.terms = terms
        self.weights = [sum(view.values()) for view in terms.views]
        self.sets = [frozenset(view) for view in terms.views]
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
                total2 += weight * weight
                covered2 += weight * weight * share
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


def rank(
    plan: QueryPlan, candidates: dict[int, float], entries: Sequence[EntryTerms]
) -> list[Scored]:
    """Candidates (position -> BM25F score) in rank order."""
    if not candidates:
        return []
    top = max(candidates.values()) or 1.0
    scored = []
    for position, bm25 in candidates.items():
        entry = entries[position]
        coverage, informative, matched = plan.coverage(entry)
        nearest, unit = plan.nearest(entry)
        share = bm25 / top
        score = share + coverage + nearest
        scored.append(Scored(entry, score, share, coverage, nearest, unit, matched, informative))
    scored.sort(key=lambda s: (-s.score, s.terms.entry.id))
    return scored


def explain(item: Scored) -> str:
    """Why an entry matched, for the staff who read the results."""
    parts = []
    if item.unit is not None and item.nearest > 0:
        where = {"question": "标准问"}.get(item.unit.label, "")
        if not where:
            kind, _, number = item.unit.label.partition(" ")
            where = f"{'问法' if kind == 'phrasing' else '场景'} {number}"
        parts.append(f"最接近的{where}「{item.unit.text}」(相似度 {item.nearest:.2f})")
    parts.append(f"覆盖提问内容 {item.coverage:.0%}")
    if item.matched:
        parts.append("匹配:" + "、".join(item.matched[:6]))
    return ";".join(parts)


__all__ = ["Hit", "QueryPlan", "Scored", "SearchResult", "explain", "rank"]
