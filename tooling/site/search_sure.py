"""When the browser search says 没有找到可信的答案: a score fitted on each knowledge base.

The browser worker ranks by ``score`` (the BM25F-like sum of the query's terms
times the share of the query's weight an entry covers). That score separates
questions with an answer from questions without one far better than the covered
share alone: on the eval knowledge base's dev questions, with 10 % of answerable
questions flagged, the score flags 75 % of the unanswerable ones, the covered share
45 %. But its scale depends on the knowledge base (its size, its words), so the
cut-off is fitted on the knowledge base itself when the index is built, as the
answer engine's refusal is (:mod:`tooling.answer.calibrate`), with no test
questions:

* **answerable**: each question and phrasing of an entry that has others is asked
  with that one text taken out of its entry (the entry's weights recomputed without
  it, the document frequencies too); its best entry's score is recorded;
* **unanswerable**: each question and phrasing is asked with its whole entry taken
  out; the best other entry's score is recorded.

The cut-off is the score at which the two error shares are equal (the equal error
rate): as many held-out answerable questions score below it as held-out
unanswerable ones score above it. Held-out phrasings are short, and people's
questions score higher than they do, so fewer of people's answerable questions
are flagged than of the held-out ones (on the eval knowledge base 9 % of the dev
questions against 26 % of the hold-outs). Above :data:`MAX_HELD_OUT` questions of
either kind, a fixed-seed sample is used. Two approximations keep it one pass over
the built postings: the average field lengths and the other entries' weights stay
those of the whole knowledge base.

:func:`sure_score` returns the cut-off, or ``None`` when there is nothing to hold
out (fewer than two entries, no entry with two ways of asking); the worker then
falls back to the covered share (:data:`~tooling.site.search_index.LOW_COVERAGE`).
"""

from __future__ import annotations

import functools
import itertools
import math
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from tooling.site.search_text import query_terms, sound_terms, terms

MAX_HELD_OUT = 400
SEED = 0


@dataclass(frozen=True)
class Postings:
    """Every (term, entry) pair of the index: term ids, entry numbers and weight levels,
    sorted by term (each term's entries in order), with each term's slice. The index
    encodes them for the browser and the fit scores hold-outs with them."""

    ids: np.ndarray
    docs: np.ndarray
    levels: np.ndarray
    starts: dict[int, tuple[int, int]]  # term id -> its slice

    @classmethod
    def of(cls, ids: np.ndarray, docs: np.ndarray, levels: np.ndarray) -> Postings:
        order = np.argsort(ids, kind="stable")
        ids, docs, levels = ids[order], docs[order], levels[order]
        edges = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1], True]).tolist() if len(ids) else []
        starts = {int(ids[a]): (a, b) for a, b in itertools.pairwise(edges)}
        return cls(ids, docs, levels, starts)


@dataclass(frozen=True)
class Doc:
    """An entry as the index analysed it: its term ids, their count in each field (the
    question and phrasings are the first field), each field's length."""

    terms: np.ndarray
    counts: np.ndarray
    lengths: tuple[int, ...]


def sure_score(
    *,
    asked: Sequence[Sequence[str]],
    docs: Sequence[Doc],
    postings: Postings,
    vocabulary: Mapping[str, int],
    normalize: Callable[[str], str],
    syllables: frozenset[str],
    levels: Callable[[np.ndarray, Sequence[int]], np.ndarray],
    weight_levels: int,
) -> float | None:
    """The score below which the worker says it is not sure (module docstring).

    ``asked[d]``: entry ``d``'s question and phrasings, the texts of ``docs[d]``'s first
    field in order; ``normalize``: the index's text normalizer; ``levels(counts,
    lengths)``: the weight levels of an entry's terms from their counts per field and
    the fields' lengths, as the index computes them."""
    count = len(docs)
    if count < 2:
        return None
    rng = random.Random(SEED)
    units = [(d, u) for d in range(count) if len(asked[d]) > 1 for u in range(len(asked[d]))]
    whole = [(d, u) for d in range(count) for u in range(len(asked[d]))]
    if not units:
        return None
    if len(units) > MAX_HELD_OUT:
        units = rng.sample(units, MAX_HELD_OUT)
    if len(whole) > MAX_HELD_OUT:
        whole = rng.sample(whole, MAX_HELD_OUT)
    read = functools.cache(normalize)
    df = {term: b - a for term, (a, b) in postings.starts.items()}

    def looked_up(text: str) -> list[int]:
        found = query_terms(read(text), syllables)
        return sorted({vocabulary[t] for t in found if t in vocabulary})

    def masked(d: int, u: int) -> dict[int, int]:
        """Entry ``d``'s ``{term id: level}`` without its ``u``-th text: that text's terms
        taken out of the first field, its length too."""
        doc, text = docs[d], read(asked[d][u])
        own = terms(text)
        gone = Counter(own)
        gone.update(sound_terms(text))
        counts = doc.counts.copy()
        column = {int(t): i for i, t in enumerate(doc.terms)}
        for term, n in gone.items():
            at = column.get(vocabulary.get(term, -1))
            if at is not None:  # always, as the text is the entry's own
                counts[0, at] -= n
        lengths = (doc.lengths[0] - len(own), *doc.lengths[1:])
        present = counts.sum(axis=0) > 0
        found = levels(counts, lengths)
        return dict(zip(doc.terms[present].tolist(), found[present].tolist(), strict=True))

    answerable = [
        _best(count, looked_up(asked[d][u]), postings, df, d, masked(d, u), weight_levels)
        for d, u in units
    ]
    unanswerable = [
        _best(count, looked_up(asked[d][u]), postings, df, d, None, weight_levels) for d, u in whole
    ]
    return equal_error(np.asarray(answerable), np.asarray(unanswerable))


def idf(count: int, frequency: int) -> float:
    """The browser search's IDF of a term held by ``frequency`` of ``count`` entries
    (the worker's ``search`` and :func:`~tooling.site.search_index.search` use the same)."""
    return math.log(1 + (count - frequency + 0.5) / (frequency + 0.5))


def _best(
    count: int,
    ids: list[int],
    postings: Postings,
    df: Mapping[int, int],
    held: int,
    own: dict[int, int] | None,
    weight_levels: int,
) -> float:
    """The best entry's score for a query of term ``ids`` with entry ``held`` replaced by
    ``own`` (``None``: taken out whole), as the worker scores."""
    n = count if own is not None else count - 1
    score = np.zeros(count)
    covered = np.zeros(count)
    total = 0.0
    for term in ids:
        a, b = postings.starts.get(term, (0, 0))
        docs, levels = postings.docs[a:b], postings.levels[a:b]
        holds = bool(np.any(docs == held))
        keep = docs != held
        docs, levels = docs[keep], levels[keep]
        level = own.get(term, 0) if own is not None else 0
        frequency = df.get(term, 0) - holds + (level > 0)
        if frequency <= 0:
            continue
        weight = idf(n, frequency)
        total += weight
        score[docs] += weight * levels / weight_levels
        covered[docs] += weight
        if level:
            score[held] += weight * level / weight_levels
            covered[held] += weight
    if not total:
        return 0.0
    ranked = score * covered / total
    if own is None:
        ranked[held] = 0.0
    return float(np.max(ranked))


def equal_error(answerable: np.ndarray, unanswerable: np.ndarray) -> float | None:
    """The score at which the share of ``answerable`` below it is closest to the share
    of ``unanswerable`` at or above it (the lowest such score)."""
    if not len(answerable) or not len(unanswerable):
        return None
    candidates = np.unique(np.concatenate([answerable, unanswerable]))
    below = np.searchsorted(np.sort(answerable), candidates, side="left") / len(answerable)
    above = 1 - np.searchsorted(np.sort(unanswerable), candidates, side="left") / len(unanswerable)
    return float(candidates[int(np.argmin(np.abs(below - above)))])
