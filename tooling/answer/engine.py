"""One query against a :class:`~tooling.answer.index.Corpus`: candidates and their signals.

Shared by :class:`tooling.answer.SearchIndex` (a person's question) and by the
self-calibration (a held-out phrasing, with its unit or entry masked), so that
the calibration measures exactly what a search does.

Candidates are the union of the best :data:`CANDIDATES` entries by BM25F and,
with the semantic model, the best :data:`CANDIDATES` by cosine: an entry that
shares no word with the question (家里黑了 / 停电) can still be found.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tooling.answer.analysis import Analyzed
from tooling.answer.index import Corpus, Mask, Unit
from tooling.answer.ranking import QueryPlan, signals

CANDIDATES = 30
# Units sampled to find the semantic signal of an unrelated entry (its zero).
BASELINE_UNITS = 1000


@dataclass(frozen=True)
class Candidates:
    positions: np.ndarray  # entry positions in the corpus
    rows: np.ndarray  # signals, one row per position
    units: list[Unit | None]
    matched: list[tuple[str, ...]]


@dataclass(frozen=True)
class Baseline:
    """The cosine that means "unrelated", for units and for rule passages, raw and
    centred (:class:`~tooling.answer.index.Centering`)."""

    unit: float = 0.0
    rule: float = 0.0
    centred_unit: float = 0.0
    centred_rule: float = 0.0


def baseline(corpus: Corpus, seed: int = 0) -> Baseline:
    """The typical semantic signal of an unrelated entry: for sampled units, the cosine
    with the closest unit of a random other entry (the signal is a maximum over an
    entry's units, so its zero must be one too), and with that entry's rule passage."""
    units, rules = corpus.unit_vectors, corpus.rule_vectors
    if units is None or rules is None or corpus.size < 2:
        return Baseline()
    rng = np.random.default_rng(seed)
    sample = rng.choice(len(units), min(BASELINE_UNITS, len(units)), replace=False)
    own = corpus.unit_entry[sample]
    other = (own + rng.integers(1, corpus.size, len(sample))) % corpus.size
    found: list[list[np.ndarray]] = [[], [], [], []]  # raw unit, raw rule, centred both
    for start in range(0, len(sample), 128):
        rows = sample[start : start + 128]
        picked = other[start : start + 128]
        unit_cos, rule_cos = units[rows] @ units.T, units[rows] @ rules.T
        pairs = [(unit_cos, rule_cos)]
        if corpus.centering is not None:
            pairs.append(corpus.centering.cosines(units[rows], unit_cos, rule_cos))
        for k, (unit, rule) in enumerate(pairs):
            per_entry = np.maximum.reduceat(unit, corpus.unit_starts, axis=1)
            found[2 * k].append(per_entry[np.arange(len(rows)), picked])
            found[2 * k + 1].append(rule[np.arange(len(rows)), picked])
    zeros = [min(float(np.mean(np.concatenate(f))), 0.99) if f else 0.0 for f in found]
    return Baseline(*zeros)


def candidates(
    corpus: Corpus,
    analyzed: Analyzed,
    vector: np.ndarray | None,
    base: Baseline,
    mask: Mask | None = None,
    cosines: tuple[np.ndarray, np.ndarray] | None = None,
) -> Candidates | None:
    """The candidates of one query with their signals, or None when the query has no
    content words (only function words and punctuation). ``cosines`` are the vector's
    cosines with every unit and every rule when the caller computed them already (the
    calibration does, for many questions in one matrix product); they are not changed."""
    terms = corpus.query_terms(analyzed, mask)
    if terms.empty:
        return None
    bm25 = corpus.bm25(terms, mask)
    top = float(np.max(bm25)) if corpus.size else 0.0
    share = bm25 / top if top > 0 else np.zeros_like(bm25)
    pools = [_best(bm25, CANDIDATES, positive=True)]
    semantic = rule = closest = centred = None
    unit_cos = rule_cos = np.zeros(0)
    best: list[np.ndarray] = []  # per entry: the best unit cosine, raw and centred
    rules: list[np.ndarray] = []
    if vector is not None and corpus.unit_vectors is not None and corpus.rule_vectors is not None:
        if cosines is None:
            unit_cos, rule_cos = corpus.unit_vectors @ vector, corpus.rule_vectors @ vector
        else:
            unit_cos, rule_cos = cosines[0].copy(), cosines[1].copy()
        pairs = [(unit_cos, rule_cos)]
        if corpus.centering is not None:
            pairs.append(corpus.centering.cosines(vector, unit_cos, rule_cos))
        for unit, rule in pairs:
            _hide(corpus, unit, mask)
            best.append(np.maximum.reduceat(unit, corpus.unit_starts))
            if mask is not None and mask.unit is None:
                best[-1][mask.entry] = rule[mask.entry] = -1.0
            rules.append(rule)
        pools.append(_best(best[0], CANDIDATES, positive=False))
    positions = np.unique(np.concatenate(pools))
    if mask is not None and mask.unit is None:
        positions = positions[positions != mask.entry]
    if not len(positions):
        return None
    entries = [
        corpus.masked(mask) if mask is not None and mask.entry == p else corpus.entries[p]
        for p in positions.tolist()
    ]
    if vector is not None and corpus.unit_vectors is not None:
        semantic = _rescale(best[0][positions], base.unit)
        rule = _rescale(rules[0][positions], base.rule)
        if len(best) > 1:
            centred = (
                _rescale(best[1][positions], base.centred_unit),
                _rescale(rules[1][positions], base.centred_rule),
            )
        closest = np.array([_closest_unit(corpus, int(p), unit_cos) for p in positions])
        if mask is not None and mask.unit is not None:
            # The masked entry's units shifted by one past the held-out unit.
            where = np.flatnonzero(positions == mask.entry)
            if len(where) and closest[where[0]] > mask.unit:
                closest[where[0]] -= 1
    plan = QueryPlan(analyzed, terms, corpus.analyzer, corpus.max_idf)
    rows, units, matched = signals(
        plan, entries, share[positions], semantic, rule, closest, centred
    )
    return Candidates(positions, rows, units, matched)


def _hide(corpus: Corpus, cosines: np.ndarray, mask: Mask | None) -> None:
    """Set the masked unit's, or the masked entry's units', cosines to -1 (in place)."""
    if mask is None:
        return
    start = int(corpus.unit_starts[mask.entry])
    if mask.unit is None:
        cosines[start : start + len(corpus.entries[mask.entry].units)] = -1.0
    else:
        cosines[start + mask.unit] = -1.0


def _rescale(cosines: np.ndarray, zero: float) -> np.ndarray:
    """0 for the typical unrelated entry, 1 for identity."""
    return (cosines - zero) / (1 - zero)


def _best(scores: np.ndarray, count: int, *, positive: bool) -> np.ndarray:
    if positive:
        pool = np.flatnonzero(scores > 0)
        if len(pool) > count:
            pool = pool[np.argpartition(-scores[pool], count)[:count]]
        return pool
    count = min(count, len(scores))
    return np.argpartition(-scores, count - 1)[:count] if count else np.zeros(0, np.int64)


def _closest_unit(corpus: Corpus, position: int, cosines: np.ndarray) -> int:
    start = corpus.unit_starts[position]
    return int(np.argmax(cosines[start : start + len(corpus.entries[position].units)]))
