"""Self-calibration: fit the signal weights and the refusal threshold on the knowledge base.

No set of test questions is needed. When an index is built, the knowledge
base questions itself:

* **answerable**: each question or phrasing in turn is asked with that one
  unit masked (its words, its vector, its share of the entry's BM25F counts
  and of the document frequencies): a question in words the index has not
  seen, whose right answer is known;
* **unanswerable**: each entry in turn is masked whole, and its question and
  phrasings are asked: questions the knowledge base (now) has no answer for.

Masking reuses the index (:class:`~tooling.answer.index.Mask`), so a hold-out
costs one search, not one index build. On large knowledge bases a fixed-seed
sample of :data:`MAX_ANSWERABLE` and :data:`MAX_UNANSWERABLE` questions is
used.

A held-out entry's question whose best candidate is one of its ``related``
entries (either way round) is dropped from the unanswerable set: a "see also"
entry may well answer it, and such doubtful negatives only blur the fit.

The held-out phrasings are harder than people's questions (short, and matched
against sibling phrasings written by the same person), so an unweighted estimate is
pessimistic: in the example knowledge base it predicts 0.05 of answerable questions
refused where people's questions get 0.03, and answered right 0.72 where they get
0.93. :func:`people_weights` reweights the held-out questions so that the share
ranked right is that of the entries' own questions held out, which are asked as
people ask; the estimate then tracks what labelled questions measure.

The fit has six weights (:class:`~tooling.answer.ranking.Weights`), each
chosen from a short grid: the two semantic weights of the rank score are the
pair that leans most on the model among those within one standard error of the
best held-out hit@1 (:func:`lean_on_meaning` says why); then the four of the
confidence (semantic, rule, margin, coverage), with the threshold set to the
confidence below which at most :func:`sure_budget` of the (weighted) answerable
held-out questions fall, so that no more than :data:`REFUSAL_BUDGET` (5 %) are
refused at one-sided 95 % confidence, maximise what the user sees go right: the
share of unanswerable questions refused plus the (weighted) share of answerable ones
answered with the right entry. Without the semantic model the semantic weights are
0. The estimate is in-sample for the weights and the threshold, so slightly
optimistic; ``kb eval --self`` prints it.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass

import numpy as np

from tooling.answer.engine import Baseline, baseline, candidates
from tooling.answer.index import Corpus, Mask
from tooling.answer.ranking import SIGNALS, Weights

REFUSAL_BUDGET = 0.05  # the share of answerable questions we accept to refuse
BUDGET_Z = 1.645  # one-sided 95 %: the budget holds despite the estimate's sampling error
MAX_ANSWERABLE = 800
MAX_UNANSWERABLE = 800
RANK_SEMANTIC = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0)
RANK_RULE = (0.0, 0.5, 1.0, 2.0)
CONF_SEMANTIC = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)
CONF_RULE = (0.0, 0.5, 1.0)
CONF_MARGIN = (0.0, 0.25, 0.5, 1.0)
CONF_COVERAGE = (0.0, 0.5, 1.0)
ASKED = ("question", "phrasing")  # the units held out as questions (not scenario cases)
BATCH = 128  # held-out questions whose cosines are computed in one matrix product


@dataclass(frozen=True)
class SelfEstimate:
    """What the hold-outs say about this knowledge base (shares of held-out questions)."""

    semantic: bool
    answerable: int
    unanswerable: int
    answered_right: float  # right entry first and answered: a refusal is a miss
    ranking_hit1: float  # right entry first, refusal aside
    ranking_hit5: float
    wrongly_refused: float
    correctly_refused: float
    sampled: bool  # True when a sample of the possible hold-outs was used
    # The reweighting (people_weights): how many held-out questions (an entry's own
    # question) there were, and the plain hit@1 of all held-out questions and phrasings.
    questions: int = 0
    held_out_hit1: float = 0.0


@dataclass(frozen=True)
class Fit:
    weights: Weights
    threshold: float
    baseline: Baseline
    estimate: SelfEstimate | None  # None: nothing to hold out (no phrasings)


@dataclass
class _Questions:
    rows: list[np.ndarray]  # per question: candidates x signals
    targets: list[int]  # per question: the right candidate's row, or -1
    held: list[int]  # per question: the held-out entry's position
    positions: list[np.ndarray]  # per question: the candidates' entry positions


def calibrate(corpus: Corpus, seed: int = 0) -> Fit:
    base = baseline(corpus, seed)
    semantic = corpus.unit_vectors is not None
    rng = random.Random(seed)
    units = [
        (e, u)
        for e, entry in enumerate(corpus.entries)
        if len(entry.units) > 1
        for u, unit in enumerate(entry.units)
        if unit.label.split()[0] in ASKED
    ]
    sampled = len(units) > MAX_ANSWERABLE
    if sampled:
        units = rng.sample(units, MAX_ANSWERABLE)
    answerable = _ask(corpus, base, [(e, u, Mask(e, u)) for e, u in units], expect=True)
    order = list(range(corpus.size))
    rng.shuffle(order)
    whole: list[tuple[int, int, Mask]] = []
    for e in order if corpus.size > 1 else []:
        asked = [
            u for u, unit in enumerate(corpus.entries[e].units) if unit.label.split()[0] in ASKED
        ]
        whole += [(e, u, Mask(e)) for u in asked]
        if len(whole) >= MAX_UNANSWERABLE:
            sampled = True
            break
    whole = whole[:MAX_UNANSWERABLE]
    unanswerable = _ask(corpus, base, whole, expect=False)
    if not answerable.rows:
        return Fit(Weights(), 0.0, base, None)
    ans, ans_valid, target = _stack(answerable)
    una, una_valid, _ = _stack(unanswerable)
    grid = itertools.product(RANK_SEMANTIC, RANK_RULE) if semantic else [(0.0, 0.0)]
    best_rank = lean_on_meaning({w: _hits(ans, ans_valid, target, w) for w in grid}, len(target))
    rank = Weights(best_rank[0], best_rank[1]).rank_vector()
    top_ans = _top(ans, ans_valid, rank)
    top_una = _top(una, una_valid, rank)
    kept = _unrelated(corpus, unanswerable, top_una)
    una, una_valid, top_una = una[kept], una_valid[kept], top_una[kept]
    right = top_ans == target
    asked_as_question = np.array(
        [corpus.entries[e].units[u].label == "question" for e, u in units], dtype=bool
    )
    like_people = people_weights(right, asked_as_question)
    conf_grid = (
        itertools.product(CONF_SEMANTIC, CONF_RULE, CONF_MARGIN, CONF_COVERAGE)
        if semantic
        else itertools.product([0.0], [0.0], CONF_MARGIN, CONF_COVERAGE)
    )
    scored = []
    for c in conf_grid:
        weights = Weights(*best_rank, *c)
        conf_ans = _top_confidence(weights, ans, ans_valid, top_ans)
        threshold = _threshold(conf_ans, like_people)
        conf_una = _top_confidence(weights, una, una_valid, top_una)
        refused = float(np.mean(conf_una < threshold)) if len(conf_una) else 0.0
        answered_right = _mean(right & (conf_ans >= threshold), like_people)
        scored.append((refused + answered_right, -sum(c), c, threshold, refused))
    _, _, best_conf, threshold, refused = max(scored, key=lambda s: (s[0], s[1]))
    weights = Weights(*best_rank, *best_conf)
    answered = _top_confidence(weights, ans, ans_valid, top_ans) >= threshold
    scores = np.where(ans_valid, ans @ rank, -np.inf)
    target_score = np.take_along_axis(scores, np.maximum(target, 0)[:, None], 1)[:, 0]
    rank_of_target = np.sum(scores > target_score[:, None], axis=1)
    hit5 = (target >= 0) & (rank_of_target < 5)
    estimate = SelfEstimate(
        semantic=semantic,
        answerable=len(target),
        unanswerable=len(top_una),
        answered_right=_mean(right & answered, like_people),
        ranking_hit1=_mean(right, like_people),
        ranking_hit5=_mean(hit5, like_people),
        wrongly_refused=_mean(~answered, like_people),
        correctly_refused=refused,
        sampled=sampled,
        questions=int(np.sum(asked_as_question)),
        held_out_hit1=float(np.mean(right)),
    )
    return Fit(weights, threshold, base, estimate)


def lean_on_meaning(hits: dict[tuple[float, float], float], asked: int) -> tuple[float, float]:
    """The rank weights (semantic, rule) to use, given each pair's held-out hit@1 over
    ``asked`` questions: of the pairs within one standard error of the best, the one
    that leans most on the semantic model (then the better hit@1, then less rule).

    Held-out phrasings flatter the words: they were written by the same person as the
    sibling phrasings they are matched against, and they are short (a median of 8
    characters in the example knowledge base, where people's questions describe their
    situation in twice that). Among the longer held-out phrasings, the weightings that
    lean on the model do as well or better. So a pair the hold-out cannot tell apart
    from the best is taken to be the better one for questions in new words."""
    top = max(hits.values())
    near = top - math.sqrt(top * (1 - top) / max(asked, 1))
    return max((w for w in hits if hits[w] >= near), key=lambda w: (sum(w), hits[w], -w[1]))


def _ask(
    corpus: Corpus, base: Baseline, held: list[tuple[int, int, Mask]], *, expect: bool
) -> _Questions:
    out = _Questions([], [], [], [])
    vectors, rules = corpus.unit_vectors, corpus.rule_vectors
    for start in range(0, len(held), BATCH):
        batch = held[start : start + BATCH]
        cosines = None
        if vectors is not None and rules is not None:
            # One matrix product for the whole batch instead of one pass over every
            # vector per question (the cosines agree to float32 rounding, ~1e-7).
            asked = vectors[[int(corpus.unit_starts[e]) + u for e, u, _ in batch]]
            cosines = (asked @ vectors.T, asked @ rules.T)
        for i, (e, u, mask) in enumerate(batch):
            unit = corpus.entries[e].units[u]
            vector = vectors[corpus.unit_starts[e] + u] if vectors is not None else None
            pair = (cosines[0][i], cosines[1][i]) if cosines is not None else None
            found = candidates(corpus, unit.analyzed, vector, base, mask, pair)
            if found is None:
                if expect:  # an answerable question with no content words: a refusal
                    out.rows.append(np.zeros((1, len(SIGNALS))))
                    out.targets.append(-1)
                    out.held.append(e)
                    out.positions.append(np.array([e]))
                continue
            out.rows.append(found.rows)
            out.held.append(e)
            out.positions.append(found.positions)
            hit = np.flatnonzero(found.positions == e) if expect else np.zeros(0, np.int64)
            out.targets.append(int(hit[0]) if len(hit) else -1)
    return out


def _unrelated(corpus: Corpus, questions: _Questions, top: np.ndarray) -> np.ndarray:
    """Which held-out-entry questions stay unanswerable: not those whose best candidate
    is a ``related`` entry of the held-out one (either way round), since a "see also"
    entry may well answer them, and a doubtful negative only blurs the fit."""
    ids = [t.entry.id for t in corpus.entries]
    related = {frozenset((t.entry.id, other)) for t in corpus.entries for other in t.entry.related}
    keep = [
        frozenset((ids[held], ids[int(found[t])])) not in related
        for held, found, t in zip(questions.held, questions.positions, top, strict=True)
    ]
    return np.asarray(keep, dtype=bool)


def _stack(questions: _Questions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pad to one array: (questions x candidates x signals), validity, targets."""
    width = max((len(r) for r in questions.rows), default=1)
    rows = np.zeros((len(questions.rows), width, len(SIGNALS)))
    valid = np.zeros((len(questions.rows), width), dtype=bool)
    for i, r in enumerate(questions.rows):
        rows[i, : len(r)] = r
        valid[i, : len(r)] = True
    return rows, valid, np.asarray(questions.targets, dtype=np.int64)


def _hits(rows: np.ndarray, valid: np.ndarray, target: np.ndarray, w: tuple[float, float]) -> float:
    scores = np.where(valid, rows @ Weights(*w).rank_vector(), -np.inf)
    return float(np.mean(np.argmax(scores, axis=1) == target))


def _top(rows: np.ndarray, valid: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """The best candidate's position per question."""
    if not len(rows):
        return np.zeros(0, np.int64)
    return np.argmax(np.where(valid, rows @ rank, -np.inf), axis=1)


def _top_confidence(
    weights: Weights, rows: np.ndarray, valid: np.ndarray, top: np.ndarray
) -> np.ndarray:
    if not len(rows):
        return np.zeros(0)
    return weights.confidences(rows, valid)[np.arange(len(rows)), top]


def people_weights(right: np.ndarray, asked_as_question: np.ndarray) -> np.ndarray:
    """Per held-out question, its weight in the estimate of what people's questions get.

    The held-out phrasings are harder than people's questions: short, matched against
    sibling phrasings, they rank their entry first far less often (0.73 against 0.95 in
    the example knowledge base). An entry's own question, held out, is asked as people
    ask, in a full sentence, and ranks about as often first as their questions do (0.91).
    (Its text is still inside its entry's rule passage, ``index.entry_passage``: a known
    leak, kept because it offsets the held-out question's other handicap, an entry that
    has lost its one full-sentence unit; closed, the estimate moved further from what
    people's questions measure. The README's "How entries are ranked" has the figures.)
    So the held-out questions and phrasings are reweighted to that share: those ranked
    right weigh ``p / hit1``, the others ``(1 - p) / (1 - hit1)``, ``hit1`` being the
    share ranked right of all of them and ``p`` that of the held-out entry questions
    (with Jeffreys' +1/2, +1 so that a few questions don't make it 0 or 1). The weights
    average 1; with no held-out entry question, or all ranked alike, they are all 1.
    Only the mix of right and wrong changes: within each, the confidences are as held
    out, which is what lets the 5 % budget be spent as people would see it."""
    count = len(right)
    asked = int(np.sum(asked_as_question))
    hit1 = float(np.mean(right)) if count else 0.0
    if not asked or hit1 in (0.0, 1.0):
        return np.ones(count)
    people = (float(np.sum(right & asked_as_question)) + 0.5) / (asked + 1)
    return np.where(right, people / hit1, (1 - people) / (1 - hit1))


def _mean(values: np.ndarray, weights: np.ndarray) -> float:
    return float(np.average(values, weights=weights)) if len(values) else 0.0


def sure_budget(weights: np.ndarray) -> float:
    """The share of the held-out questions (by ``weights``) the threshold may refuse, so
    that the share refused stays within :data:`REFUSAL_BUDGET` at one-sided 95 %
    confidence (:data:`BUDGET_Z` standard errors of a share, over the effective number
    of weighted questions, Kish's ``sum(w)^2 / sum(w^2)``). A small knowledge base,
    whose estimate is rough, refuses less: with 400 equal hold-outs the threshold may
    refuse 3.2 % of them, with 100 1.4 %, with 51 or fewer none."""
    if not len(weights) or not np.any(weights):
        return 0.0
    effective = float(np.sum(weights) ** 2 / np.sum(weights**2))
    error = math.sqrt(REFUSAL_BUDGET * (1 - REFUSAL_BUDGET) / effective)
    return max(REFUSAL_BUDGET - BUDGET_Z * error, 0.0)


def _threshold(confidences: np.ndarray, weights: np.ndarray | None = None) -> float:
    """The highest confidence below which at most :func:`sure_budget` of ``confidences``
    (by ``weights``; default all 1) fall: the confidence of the first held-out question,
    from the lowest, at which the weight of those before it would exceed that share."""
    weights = np.ones(len(confidences)) if weights is None else weights
    order = np.argsort(confidences, kind="stable")
    before = np.cumsum(weights[order]) / np.sum(weights)  # including each one
    first = int(np.searchsorted(before, sure_budget(weights), side="right"))
    return float(confidences[order][min(first, len(order) - 1)])
