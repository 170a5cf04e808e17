"""Missing knowledge: the questions the search API could not answer, clustered.

The search API logs the questions it has no reliable answer for (one JSON line per
distinct question, audience and day, with a count: the format is defined in
:mod:`tooling.flags`). :func:`read_queries_log` reads that log,
:func:`cluster_queries` groups near-identical wordings (character-bigram Jaccard
similarity of the normalized question), and :func:`missing_knowledge` attaches to
the most frequent clusters the nearest existing entry, so a writer can see whether
an entry needs another phrasing rather than a new entry.

A nearest entry is only suggested when it is actually near: when the answer
engine's own confidence in it reaches the engine's own refusal threshold (the
calibrated one when the engine exposes it, see :func:`suggestion_floor`). An
entry below that line is what the engine itself calls "no confident answer", so
naming it would send a writer to add an after-school-class question to the dog
rules. Without the engine, the bigram stand-in suggests an entry only when its
question and phrasings hold at least half the question's character bigrams.

The log is read from :data:`QUERY_LOG_ENV` when set, else from
:func:`default_queries_log`: beside the git repository holding the knowledge
base, where the feedback app writes it by default.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from tooling.flags import default_unanswered_log, read_unanswered
from tooling.git import Git, GitError
from tooling.kb.model import KnowledgeBase
from tooling.text import compact

log = logging.getLogger("zhiku.report")

MAX_SUGGESTIONS = 50  # clusters that get a "nearest entry" suggestion, most frequent first
SEARCH_CANDIDATES = 10  # entries per question the search index ranks for a suggestion
SIMILARITY = 0.5  # character-bigram Jaccard at which two questions are "the same question"

# question -> [(entry id, question)], best first; only entries near enough to suggest
Nearest = Callable[[str], list[tuple[str, str]]]


def queries_log_path(setting: str | None, repo: Path | None) -> Path | None:
    """The log to read: ``setting`` (from ``$ZHIKU_QUERY_LOG`` or the build's
    ``queries_log``), else :func:`tooling.flags.default_unanswered_log` of ``repo``
    (None without a repository)."""
    if setting:
        return Path(setting).expanduser()
    if repo is None:
        return None
    try:
        return default_unanswered_log(Git(repo).git_dir())
    except GitError:
        return None


@dataclass(frozen=True)
class Suggestion:
    entry_id: str
    question: str


@dataclass(frozen=True)
class MissingCluster:
    representative: str
    count: int
    last_seen: datetime
    variants: tuple[str, ...]  # distinct wordings, most frequent first
    audiences: tuple[tuple[str, int], ...]
    nearest: Suggestion | None = None


@dataclass(frozen=True)
class LoggedQuery:
    query: str
    time: datetime
    audience: str
    count: int = 1  # times asked (the log keeps one line per question per day)


def read_queries_log(path: Path) -> list[LoggedQuery]:
    """The search API's unanswered-questions log (JSON lines, see :mod:`tooling.flags`);
    bad lines are skipped with one warning."""
    queries, bad = [], 0
    with path.open(encoding="utf-8") as fh:
        for line in read_unanswered(fh):
            if line is None:
                bad += 1
                continue
            queries.append(LoggedQuery(line.query, line.last, line.audience, line.count))
    if bad:
        log.warning("%s: skipped %d line(s) that are not {query, time, audience} JSON", path, bad)
    return queries


def in_period(queries: Sequence[LoggedQuery], since: date, today: date) -> list[LoggedQuery]:
    """The questions logged in ``[since, today]`` (both inclusive)."""
    return [q for q in queries if since <= q.time.date() <= today]


def normalize_query(text: str) -> str:
    """Comparison form of a question (:func:`tooling.text.compact`)."""
    return compact(text)


def bigrams(text: str) -> frozenset[str]:
    if len(text) < 2:
        return frozenset([text]) if text else frozenset()
    return frozenset(text[i : i + 2] for i in range(len(text) - 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def cluster_queries(
    queries: Sequence[LoggedQuery],
    threshold: float = SIMILARITY,
) -> list[MissingCluster]:
    """Group near-identical questions, most frequent first.

    Greedy leader clustering: distinct normalized questions, most frequent first,
    join the existing cluster whose leader is most similar (bigram Jaccard >=
    ``threshold``) or start a new one. Leaders never drift, so no chains of
    "A like B like C" merge unrelated questions; an inverted bigram index keeps it
    near-linear.
    """
    by_key: dict[str, list[LoggedQuery]] = defaultdict(list)
    for q in queries:
        key = normalize_query(q.query)
        if key:
            by_key[key].append(q)
    order = sorted(
        by_key,
        key=lambda k: (
            -sum(q.count for q in by_key[k]),
            -max(q.time for q in by_key[k]).timestamp(),
            k,
        ),
    )
    leaders: list[frozenset[str]] = []
    members: list[list[str]] = []
    index: dict[str, list[int]] = defaultdict(list)
    for key in order:
        grams = bigrams(key)
        candidates = {c for g in grams for c in index.get(g, ())}
        best, best_sim = -1, threshold
        for c in sorted(candidates):
            sim = jaccard(grams, leaders[c])
            if sim >= best_sim and (best < 0 or sim > best_sim):
                best, best_sim = c, sim
        if best < 0:
            best = len(leaders)
            leaders.append(grams)
            members.append([])
            for g in grams:
                index[g].append(best)
        members[best].append(key)
    clusters = []
    for keys in members:
        items = [q for k in keys for q in by_key[k]]
        wordings: Counter[str] = Counter()
        latest: dict[str, datetime] = {}
        for q in items:
            wording = q.query.strip()
            wordings[wording] += q.count
            latest[wording] = max(q.time, latest.get(wording, q.time))
        variants = sorted(wordings, key=lambda w: (-wordings[w], -latest[w].timestamp(), w))
        audiences: Counter[str] = Counter()
        for q in items:
            audiences[q.audience] += q.count
        clusters.append(
            MissingCluster(
                representative=variants[0],
                count=sum(q.count for q in items),
                last_seen=max(q.time for q in items),
                variants=tuple(variants),
                audiences=tuple(sorted(audiences.items())),
            )
        )
    clusters.sort(key=lambda c: (-c.count, -c.last_seen.timestamp(), c.representative))
    return clusters


class BigramIndex:
    """Entries by the character bigrams of their question and phrasings (with the
    KB's synonym groups added to a query): the stand-in for the search index, and its
    cheap candidate filter."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.entries = kb.entries
        self.synonyms = [tuple(normalize_query(w) for w in group) for group in kb.synonyms]
        self.sizes: list[int] = []  # bigram count of each text
        self.owner: list[int] = []  # entry position of each text
        self.postings: dict[str, list[int]] = defaultdict(list)  # bigram -> texts
        for i, e in enumerate(kb.entries):
            for text in (e.question, *e.phrasings):
                grams = bigrams(normalize_query(text))
                for g in grams:
                    self.postings[g].append(len(self.sizes))
                self.sizes.append(len(grams))
                self.owner.append(i)

    def ranked(self, query: str, limit: int) -> list[int]:
        """Positions of the ``limit`` entries most like ``query`` (best Jaccard similarity
        of one of their texts), best first."""
        key = normalize_query(query)
        grams = set(bigrams(key))
        for group in self.synonyms:
            if any(word and word in key for word in group):
                grams.update(g for word in group for g in bigrams(word))
        shared: Counter[int] = Counter()
        for g in grams:
            shared.update(self.postings.get(g, ()))
        best: dict[int, float] = {}
        for text, overlap in shared.items():
            score = overlap / (len(grams) + self.sizes[text] - overlap)
            entry = self.owner[text]
            if score > best.get(entry, 0.0):
                best[entry] = score
        order = sorted(best, key=lambda i: (-best[i], self.entries[i].id))
        return order[:limit]

    def coverage(self, query: str, position: int) -> float:
        """The share of the question's bigrams found in the entry's question or phrasings."""
        grams = bigrams(normalize_query(query))
        entry = self.entries[position]
        own = frozenset(
            g for t in (entry.question, *entry.phrasings) for g in bigrams(normalize_query(t))
        )
        return len(grams & own) / len(grams) if grams else 0.0


def bigram_nearest(kb: KnowledgeBase) -> Nearest:
    """The stand-in: entries whose question and phrasings hold at least
    :data:`SIMILARITY` of the question's character bigrams."""
    index = BigramIndex(kb)

    def nearest(query: str) -> list[tuple[str, str]]:
        return [
            (kb.entries[i].id, kb.entries[i].question)
            for i in index.ranked(query, 3)
            if index.coverage(query, i) >= SIMILARITY
        ]

    return nearest


def suggestion_floor(index: object) -> float:
    """The engine's own line between "answers it" and "no confident answer": the
    index's calibrated ``threshold`` (0 for an index without one: every match counts)."""
    calibrated = getattr(index, "threshold", None)
    return float(calibrated) if isinstance(calibrated, int | float) else 0.0


def search_nearest(kb: KnowledgeBase, questions: Sequence[str]) -> Nearest:
    """Nearest entries for ``questions`` as the staff site's search ranks them.

    Indexing a whole large KB is slow (about 10 s for 5,000 entries), so only the
    candidates are indexed: the ``SEARCH_CANDIDATES`` entries sharing most bigrams
    (synonyms included) with each question. The search package is imported lazily
    (jieba and Whoosh load slowly); if the index cannot be built the bigram ranking is
    used, since a suggestion is not worth failing the report for.
    """
    started = time.monotonic()
    prefilter = BigramIndex(kb)
    chosen = sorted({i for q in questions for i in prefilter.ranked(q, SEARCH_CANDIDATES)})
    subset = KnowledgeBase(
        kb.root, tuple(kb.entries[i] for i in chosen), kb.sections, kb.staff, kb.synonyms
    )
    try:
        from tooling.answer import SearchIndex

        index = SearchIndex.build(subset, audience="staff")
    except Exception as exc:
        log.warning(
            "search index unavailable (%s: %s); suggesting entries by shared "
            "character bigrams instead",
            type(exc).__name__,
            exc,
        )
        return bigram_nearest(kb)
    log.info(
        "indexed %d candidate entries for suggestions in %.2f s",
        len(chosen),
        time.monotonic() - started,
    )

    floor = suggestion_floor(index)

    def nearest(query: str) -> list[tuple[str, str]]:
        return [
            (s.terms.entry.id, s.terms.entry.question)
            for s in index.scored(query)[:3]
            if s.confidence >= floor
        ]

    return nearest


def auto_nearest(kb: KnowledgeBase, queries: Sequence[LoggedQuery]) -> Nearest | None:
    """The staff search's suggester for the clusters of ``queries`` that get a
    suggestion; None when there are none (no index worth building)."""
    wanted = [c.representative for c in cluster_queries(queries)[:MAX_SUGGESTIONS]]
    return search_nearest(kb, wanted) if wanted else None


def missing_knowledge(
    queries: Sequence[LoggedQuery],
    nearest: Nearest | None = None,
) -> tuple[MissingCluster, ...]:
    """``queries`` clustered, the ``MAX_SUGGESTIONS`` most frequent clusters with the
    nearest entry when ``nearest`` is given."""
    started = time.monotonic()
    clusters = cluster_queries(queries)
    if nearest is not None:
        clusters[:MAX_SUGGESTIONS] = [_suggest(c, nearest) for c in clusters[:MAX_SUGGESTIONS]]
    if queries:
        log.info(
            "clustered %d unanswered questions into %d groups in %.2f s",
            len(queries),
            len(clusters),
            time.monotonic() - started,
        )
    return tuple(clusters)


def _suggest(cluster: MissingCluster, nearest: Nearest) -> MissingCluster:
    hits = nearest(cluster.representative)
    if not hits:
        return cluster
    entry_id, question = hits[0]
    return MissingCluster(
        cluster.representative,
        cluster.count,
        cluster.last_seen,
        cluster.variants,
        cluster.audiences,
        Suggestion(entry_id, question),
    )
