"""Evaluation of answer matching against a file of labelled questions.

The file has one ``query<TAB>expected_id`` per line; ``-`` marks a question
the knowledge base cannot answer; blank lines and lines starting with ``#``
are skipped.

hit@1, hit@5 and MRR (over the top :data:`MRR_DEPTH`) count what the user
sees: a refused answerable question is a miss. The same three figures for the
ranking alone (refusals aside) are reported separately and labelled as such,
and refusal by the two shares (answerable refused, unanswerable refused).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from tooling.answer import SearchIndex
from tooling.errors import ContentError, UsageError

UNANSWERABLE = "-"
MRR_DEPTH = 10
CONFIDENCE_STEP = 1e-4  # SearchResult.confidence is rounded to 4 decimals


@dataclass(frozen=True)
class LabelledQuery:
    query: str
    expected: str  # an entry id, or "-"
    line: int


@dataclass(frozen=True)
class Outcome:
    query: str
    expected: str
    ranked: tuple[str, ...]  # ids in rank order, also when the answer was refused
    answered: bool
    confidence: float = 0.0  # the best entry's, to 4 decimals (not in ``--details``)

    def to_json(self) -> dict[str, object]:
        """The ``--details`` line."""
        return {
            "query": self.query,
            "expected": self.expected,
            "ranked": list(self.ranked),
            "answered": self.answered,
        }


@dataclass(frozen=True)
class Metrics:
    outcomes: tuple[Outcome, ...] = field(repr=False)
    answerable: int
    unanswerable: int
    hit1: float  # answered with the right entry first (a refusal is a miss)
    hit5: float  # answered with the right entry in the top 5
    mrr: float  # reciprocal rank of the right entry, 0 when refused
    ranking_hit1: float  # the ranking alone, refusals aside
    ranking_hit5: float
    ranking_mrr: float
    wrongly_refused: float  # share of answerable queries refused
    correctly_refused: float  # share of unanswerable queries refused
    wrongly_refused_count: int
    correctly_refused_count: int


def read_queries(path: Path, known_ids: set[str] | None = None) -> list[LabelledQuery]:
    """Parse the TSV file; raise :class:`ContentError` naming file and line on a bad line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"queries file not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise ContentError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    queries = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2:
            raise ContentError(
                f"{path}:{number}: expected `query<TAB>expected_id` (2 fields separated by one "
                f"tab), found {len(parts)} field(s); use `-` as the id of an unanswerable query"
            )
        query, expected = parts[0].strip(), parts[1].strip()
        if not query or not expected:
            missing = "query" if not query else "expected id"
            raise ContentError(
                f"{path}:{number}: the {missing} is empty; "
                "write `-` as the id of an unanswerable query"
            )
        if known_ids is not None and expected != UNANSWERABLE and expected not in known_ids:
            raise ContentError(
                f"{path}:{number}: unknown entry id `{expected}`; "
                "use an id from the knowledge base, or `-`"
            )
        queries.append(LabelledQuery(query, expected, number))
    return queries


def evaluate(index: SearchIndex, queries: list[LabelledQuery]) -> Metrics:
    """Run every query; an expected id outside the index's audience counts as unanswerable."""
    outcomes = []
    for item in queries:
        result = index.search(item.query, limit=MRR_DEPTH)
        ranked = tuple(hit.entry_id for hit in result.hits)
        outcomes.append(
            Outcome(item.query, item.expected, ranked, result.answered, result.confidence)
        )
    return metrics(tuple(outcomes), index.entry_ids())


def metrics(outcomes: tuple[Outcome, ...], indexed: set[str]) -> Metrics:
    answerable = [o for o in outcomes if o.expected in indexed]
    unanswerable = [o for o in outcomes if o.expected not in indexed]
    rank1 = [o.ranked[:1] == (o.expected,) for o in answerable]
    rank5 = [o.expected in o.ranked[:5] for o in answerable]
    reciprocal = [
        1 / (o.ranked.index(o.expected) + 1) if o.expected in o.ranked[:MRR_DEPTH] else 0.0
        for o in answerable
    ]
    answered = [o.answered for o in answerable]
    wrong = sum(not o.answered for o in answerable)
    right = sum(not o.answered for o in unanswerable)
    return Metrics(
        outcomes=outcomes,
        answerable=len(answerable),
        unanswerable=len(unanswerable),
        hit1=_share(sum(r and a for r, a in zip(rank1, answered, strict=True)), len(answerable)),
        hit5=_share(sum(r and a for r, a in zip(rank5, answered, strict=True)), len(answerable)),
        mrr=_share(sum(r * a for r, a in zip(reciprocal, answered, strict=True)), len(answerable)),
        ranking_hit1=_share(sum(rank1), len(answerable)),
        ranking_hit5=_share(sum(rank5), len(answerable)),
        ranking_mrr=_share(sum(reciprocal), len(answerable)),
        wrongly_refused=_share(wrong, len(answerable)),
        correctly_refused=_share(right, len(unanswerable)),
        wrongly_refused_count=wrong,
        correctly_refused_count=right,
    )


@dataclass(frozen=True)
class TradeOff:
    """The figures the labelled queries would give with the refusal threshold at ``threshold``."""

    threshold: float
    metrics: Metrics
    fitted: bool  # the knowledge base's own threshold (the figures as evaluated)


def trade_offs(m: Metrics, indexed: set[str], fitted: float) -> list[TradeOff]:
    """What refusing more or less would cost on these queries: one row per count of
    refused unanswerable queries, at the lowest threshold that refuses that many (just
    above the confidence of the last one refused), and a row for the fitted threshold,
    sorted by threshold. Confidences are compared to 4 decimals, as
    :class:`~tooling.answer.ranking.SearchResult` reports them; the fitted row is ``m``."""
    nudge = CONFIDENCE_STEP / 2  # above a rounded confidence, below the next one
    unanswerable = [o.confidence for o in m.outcomes if o.expected not in indexed]
    rows = [TradeOff(fitted, m, fitted=True)]
    for threshold in sorted({0.0, *(c + nudge for c in unanswerable)}):
        # Nothing found is refused at any threshold, as search() does.
        answered = (bool(o.ranked) and o.confidence >= threshold for o in m.outcomes)
        outcomes = tuple(replace(o, answered=a) for o, a in zip(m.outcomes, answered, strict=True))
        rows.append(TradeOff(threshold, metrics(outcomes, indexed), fitted=False))
    return sorted(rows, key=lambda r: (r.threshold, not r.fitted))


def _share(part: float, whole: int) -> float:
    return part / whole if whole else 0.0
