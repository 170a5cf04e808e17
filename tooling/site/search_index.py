"""Index stage for the static site's own search: model -> compact JSON index.

Material for MkDocs segments Chinese pages with jieba at build time but cannot
segment what a resident types into the search box, so whole-sentence questions
("楼上往下滴水怎么办") rarely match. We replace only Material's search web
worker (``tooling/site/assets/zhiku-search-worker.js``) and feed it this index instead.

Both sides cut text the same way (:mod:`tooling.site.search_text`: normalise,
then CJK unigrams and bigrams plus ASCII words), so no dictionary is needed in
the browser.

Each entry is one document with three fields: question and phrasings (weight
3), tags (weight 2), rule and scenarios (weight 1). Fields are combined
BM25F-style with the textbook constants k1 = 1.2, b = 0.75 (a field's length is
compared with the average over the entries that have that field); the saturated
term frequency of each (term, entry) pair is computed here and shipped quantised
to 1..63. The browser derives IDF from the length of each posting list, adds
``idf * weight`` over the query's distinct terms and multiplies by the share of
the query's IDF mass the entry covers. Single characters of the rule and
scenarios are not indexed: they add little over the bigrams and would double
the index.

The weights of all (term, entry) pairs are computed at once with numpy, in the
same floating-point operations, in the same order, as the formula reads, and
postings are encoded as text by :mod:`tooling.site.search_codec`. On ``kb
serve`` a cache keeps each entry's analysis (its terms as numbers of a
vocabulary kept with the cache), so a rebuild after a save analyses only the
entries that changed and recomputes the rest of the index in about a tenth of a
second at 5,000 entries.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tooling.kb.model import Entry, KnowledgeBase
from tooling.site import search_sure
from tooling.site.search_codec import decode_postings, encode_grouped, pack_terms, unpack_terms
from tooling.site.search_text import (
    Normalizer,
    fold,
    query_terms,
    sound_terms,
    terms,
    traditional_to_simplified,
)
from tooling.text import plain_text

INDEX_VERSION = 1
INDEX_PATH = "search/zhiku-index.json"

K1 = 1.2
B = 0.75
HIGH, MEDIUM, LOW = 3.0, 2.0, 1.0
_FIELD_WEIGHTS = (HIGH, MEDIUM, LOW)
WEIGHT_LEVELS = 63
SNIPPET_CHARS = 60

# ------------------------------------------------------------------- building


def snippet(rule: str, limit: int = SNIPPET_CHARS) -> str:
    """The start of the rule as plain text (:func:`tooling.text.plain_text`: no table
    pipes, emphasis or list markers), cut to ``limit`` characters."""
    text = plain_text(rule)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fields(entry: Entry) -> list[tuple[float, list[str], bool]]:
    """(weight, texts, index single characters?) per field."""
    return [
        (HIGH, [entry.question, *entry.phrasings], True),
        (MEDIUM, list(entry.tags), True),
        (LOW, [entry.rule, *(part for s in entry.scenarios for part in (s.case, s.answer))], False),
    ]


@dataclass(frozen=True)
class _Analysed:
    """One entry as the index sees it: its distinct terms (numbers in the vocabulary
    they were analysed with), their count in each field, each field's length, the
    characters of its folded text and its snippet."""

    terms: np.ndarray  # int64, one per distinct term
    counts: np.ndarray  # float64, shape (fields, terms)
    lengths: tuple[int, ...]
    chars: frozenset[str]
    snippet: str


def _analyse(entry: Entry, normalize: Normalizer, vocabulary: dict[str, int]) -> _Analysed:
    """Term counts per field of one entry, with new terms added to ``vocabulary``. The
    ways an entry is asked (question, phrasings, tags) also get their syllable pairs
    (:func:`~tooling.site.search_text.sound_terms`), which leave the field's length as
    it is, so that the characters' weights do not change with them."""
    per_field = []
    lengths = []
    chars: set[str] = set()
    for weight, texts, unigrams in _fields(entry):
        counts: Counter[str] = Counter()
        length = 0
        for text in texts:
            normalized = normalize(text)
            found = terms(normalized, unigrams)
            counts.update(found)
            length += len(found)
            if weight > LOW:
                counts.update(sound_terms(normalized))
            chars.update(fold(text, normalize.t2s))
        per_field.append(counts)
        lengths.append(length)
    distinct = list(dict.fromkeys(term for counts in per_field for term in counts))
    ids = [vocabulary.setdefault(term, len(vocabulary)) for term in distinct]
    table = np.array([[c[t] for t in distinct] for c in per_field], dtype=np.float64)
    return _Analysed(
        terms=np.array(ids, dtype=np.int64),
        counts=table.reshape(len(per_field), len(distinct)),
        lengths=tuple(lengths),
        chars=frozenset(chars),
        snippet=snippet(entry.rule),
    )


def _averages(docs: Sequence[_Analysed]) -> list[float]:
    """Average length of each field over the entries that have it (most have no tags)."""
    lengths = np.array([d.lengths for d in docs], dtype=np.int64).reshape(len(docs), -1)
    average = []
    for i in range(len(_FIELD_WEIGHTS)):
        present = lengths[:, i][lengths[:, i] > 0]
        average.append(int(present.sum()) / len(present) if len(present) else 1.0)
    return average


def _levels(docs: Sequence[_Analysed]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (term, document) pair's quantised saturated term frequency:
    ``(term ids, document numbers, levels)``, one item per pair, in document order."""
    lengths = np.array([d.lengths for d in docs], dtype=np.int64).reshape(len(docs), -1)
    average = _averages(docs)
    sizes = [len(d.terms) for d in docs]
    ids = np.concatenate([d.terms for d in docs]) if docs else np.zeros(0, np.int64)
    doc_of = np.repeat(np.arange(len(docs), dtype=np.int64), sizes)
    counts = (
        np.concatenate([d.counts for d in docs], axis=1)
        if docs
        else np.zeros((len(_FIELD_WEIGHTS), 0))
    )
    per_pair = [lengths[doc_of, i] for i in range(len(_FIELD_WEIGHTS))]
    return ids, doc_of, _quantised(_tf(counts, per_pair, average))


def _tf(
    counts: np.ndarray, lengths: Sequence[np.ndarray | int], average: Sequence[float]
) -> np.ndarray:
    """BM25F term frequency of each column of ``counts`` (fields x terms), given the
    length of each field where the term stands. As the formula reads, term by term:
    for each field, weight * count / norm added to the sum (a field without the term
    adds exactly 0.0)."""
    tf = np.zeros(counts.shape[1], dtype=np.float64)
    for i, weight in enumerate(_FIELD_WEIGHTS):
        norm = 1 - B + B * np.asarray(lengths[i], dtype=np.float64) / average[i]
        tf = tf + weight * counts[i] / norm
    return tf


def _quantised(tf: np.ndarray) -> np.ndarray:
    """Saturated term frequencies as weight levels 1..:data:`WEIGHT_LEVELS`."""
    saturated = tf / (tf + K1)  # (k1 + 1) cancels out in the ranking
    return np.clip(np.rint(WEIGHT_LEVELS * saturated), 1, WEIGHT_LEVELS).astype(np.int64)


def _postings(postings: search_sure.Postings, vocabulary: Mapping[str, int]) -> dict[str, str]:
    """``{term: encoded postings}`` of every term of the sorted ``postings``."""
    names = {number: term for term, number in vocabulary.items()}
    heads = np.fromiter((a for a, _ in postings.starts.values()), np.int64, len(postings.starts))
    encoded = encode_grouped(heads, postings.docs, postings.levels)
    return {names[term]: text for term, text in zip(postings.starts, encoded, strict=True)}


def _analysed(
    entries: Sequence[Entry],
    normalize: Normalizer,
    vocabulary: dict[str, int],
    previous: dict[int, tuple[Entry, _Analysed]],
) -> list[_Analysed]:
    """Each entry's analysis, taken from ``previous`` (by identity, then by equality:
    the loader keeps the objects of unchanged entries, so comparing whole entries is
    rarely needed) or made; ``previous`` is updated to these entries."""
    docs: list[_Analysed] = []
    fresh: dict[int, tuple[Entry, _Analysed]] = {}
    by_value: dict[Entry, _Analysed] | None = None
    for entry in entries:
        hit = previous.get(id(entry))
        if hit is not None and hit[0] is entry:
            analysed = hit[1]
        else:
            if by_value is None:
                by_value = {e: a for e, a in previous.values()}
            analysed = by_value.get(entry) or _analyse(entry, normalize, vocabulary)
        fresh[id(entry)] = (entry, analysed)
        docs.append(analysed)
    previous.clear()
    previous.update(fresh)
    return docs


class _Chars:
    """The characters of all entries' folded text, kept up to date entry by entry."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.docs: dict[int, _Analysed] = {}

    def of(self, docs: Sequence[_Analysed]) -> set[str]:
        current = {id(d): d for d in docs}
        for gone in self.docs.keys() - current.keys():
            self.counts.subtract(self.docs[gone].chars)
        for new in current.keys() - self.docs.keys():
            self.counts.update(current[new].chars)
        self.docs = current
        return {ch for ch, n in self.counts.items() if n > 0}


def build_index(
    kb: KnowledgeBase,
    cache: dict[Any, Any] | None = None,
    url: Callable[[Entry], str] | None = None,
) -> dict[str, Any]:
    """The browser search index for the entries of ``kb`` (already filtered by audience).

    ``cache`` (``kb serve``) keeps each entry's analysis between calls, so a
    rebuild after a save analyses only the entries that changed. ``url`` gives an
    entry's page URL relative to the site root; by default the render stage's
    :func:`~tooling.site.render.entry_url` (the site assembles with the same).
    """
    if url is None:
        from tooling.site.render import entry_url

        def url(entry: Entry) -> str:
            return entry_url(entry, kb)

    entries = sorted(kb.entries, key=lambda e: (e.section, e.id))
    full_t2s = traditional_to_simplified()
    normalize = Normalizer(full_t2s, kb.synonyms)
    if cache is None:
        cache = {}
    if cache.get("synonyms") != kb.synonyms:
        cache.clear()
        cache.update(synonyms=kb.synonyms, vocabulary={}, entries={}, chars=_Chars())
    vocabulary: dict[str, int] = cache["vocabulary"]
    docs = _analysed(entries, normalize, vocabulary, cache["entries"])
    seen = cache["chars"].of(docs)
    # Every (term, entry) pair's weight, sorted by term: encoded for the browser, and
    # scored by the not-sure fit.
    postings = search_sure.Postings.of(*_levels(docs))
    syllables = _syllables(vocabulary, docs)
    index = {
        "version": INDEX_VERSION,
        "docs": [[url(e), e.question, d.snippet] for e, d in zip(entries, docs, strict=True)],
        **pack_terms(_postings(postings, vocabulary)),
        "t2s": _shipped_t2s(full_t2s, seen, kb.synonyms),
        "synonyms": [list(group) for group in _folded_groups(kb.synonyms, full_t2s)],
        "syllables": syllables,
    }
    sure = _sure(entries, docs, postings, normalize, vocabulary, frozenset(syllables.split()))
    if sure is not None:
        index["sure"] = sure
    return index


def _sure(
    entries: Sequence[Entry],
    docs: Sequence[_Analysed],
    postings: search_sure.Postings,
    normalize: Normalizer,
    vocabulary: dict[str, int],
    syllables: frozenset[str],
) -> float | None:
    """The knowledge base's own not-sure score (:mod:`tooling.site.search_sure`)."""
    average = _averages(docs)

    def levels(counts: np.ndarray, lengths: Sequence[int]) -> np.ndarray:
        return _quantised(_tf(counts, lengths, average))

    return search_sure.sure_score(
        asked=[[e.question, *e.phrasings] for e in entries],
        docs=[search_sure.Doc(d.terms, d.counts, d.lengths) for d in docs],
        postings=postings,
        vocabulary=vocabulary,
        normalize=normalize,
        syllables=syllables,
        levels=levels,
        weight_levels=WEIGHT_LEVELS,
    )


def _syllables(vocabulary: Mapping[str, int], docs: Sequence[_Analysed]) -> str:
    """The syllables of the entries' syllable pairs, space-separated: what a query's
    Latin letters may split into (:func:`~tooling.site.search_text.spelled_terms`)."""
    names = {number: term for term, number in vocabulary.items() if " " in term}
    used = {names[int(n)] for d in docs for n in d.terms if int(n) in names}
    return " ".join(sorted({s for pair in used for s in pair.split(" ")}))


def _folded_groups(groups: Iterable[Sequence[str]], t2s: Mapping[str, str]) -> list[list[str]]:
    folded = []
    for group in groups:
        words = list(dict.fromkeys(w for w in (fold(word, t2s).strip() for word in group) if w))
        if len(words) > 1:
            folded.append(words)
    return folded


def _shipped_t2s(
    full: Mapping[str, str], entry_chars: set[str], groups: Iterable[Sequence[str]]
) -> str:
    """Pairs "繁简" for the traditional characters whose simplified form occurs in the KB
    (``entry_chars``: the characters of the entries' folded text)."""
    seen = set(entry_chars)
    for group in groups:
        for word in group:
            seen.update(fold(word, full))
    return "".join(t + s for t, s in sorted(full.items()) if s in seen)


# --------------------------------------------------- reference query (Python)


# Material's query syntax: fuzzy/boost suffixes (~2, ^10) and +/- prefixes.
_SUFFIX = re.compile(r"[~^]\d*(?:\.\d+)?(?=\s|$)")
_PREFIX = re.compile(r"(^|\s)[+-]+")


def strip_syntax(query: str) -> str:
    return _PREFIX.sub(r"\1", _SUFFIX.sub(" ", query))


def _tally(
    index: Mapping[str, Any], query: str
) -> tuple[dict[int, float], dict[int, float], float]:
    """The worker's scoring: per document its BM25-like score and the IDF weight of
    the query terms it covers, and the query's total IDF weight."""
    t2s = dict(zip(index["t2s"][0::2], index["t2s"][1::2], strict=True))
    normalize = Normalizer(t2s, index["synonyms"])
    docs = index["docs"]
    table = unpack_terms(index)
    scores: dict[int, float] = {}
    covered: dict[int, float] = {}
    total = 0.0
    normalized = normalize(strip_syntax(query))
    syllables = frozenset(index.get("syllables", "").split())
    for term in set(query_terms(normalized, syllables)):
        encoded = table.get(term)
        if encoded is None:
            continue
        postings = decode_postings(encoded)
        idf = search_sure.idf(len(docs), len(postings))
        total += idf
        for doc, level in postings:
            scores[doc] = scores.get(doc, 0.0) + idf * level / WEIGHT_LEVELS
            covered[doc] = covered.get(doc, 0.0) + idf
    return scores, covered, total


def _ranked(scores: dict[int, float], covered: dict[int, float], total: float) -> list[int]:
    return sorted(scores, key=lambda d: (-scores[d] * covered[d] / total, d))


def search(index: Mapping[str, Any], query: str, limit: int = 10) -> list[tuple[str, float]]:
    """What the browser worker returns, as ``[(location, score)]``: the reference for tests."""
    scores, covered, total = _tally(index, query)
    docs = index["docs"]
    return [
        (docs[d][0], scores[d] * covered[d] / total)
        for d in _ranked(scores, covered, total)[:limit]
    ]


LOW_COVERAGE = 0.5  # keep in step with LOW_COVERAGE in the worker


def best_coverage(index: Mapping[str, Any], query: str) -> float:
    """The share of the query's weight the best entry covers; 0 when nothing matches."""
    scores, covered, total = _tally(index, query)
    if not scores or not total:
        return 0.0
    return covered[_ranked(scores, covered, total)[0]] / total


def not_sure(index: Mapping[str, Any], query: str) -> bool:
    """True when the worker says 没有找到可信的答案 above its results: the best entry's
    score is below the knowledge base's own ``sure`` score
    (:mod:`tooling.site.search_sure`), or, in an index without one (nothing to hold
    out), the best entry covers less than :data:`LOW_COVERAGE` of the query's weight.
    False when nothing matches (the list is empty)."""
    scores, covered, total = _tally(index, query)
    if not scores or not total:
        return False
    best = _ranked(scores, covered, total)[0]
    if "sure" in index:
        return bool(scores[best] * covered[best] / total < index["sure"])
    return covered[best] / total < LOW_COVERAGE


def write_index(kb: KnowledgeBase, site_dir: Path) -> Path:
    """Write ``search/zhiku-index.json`` under ``site_dir``; returns its path."""
    path = site_dir / INDEX_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(build_index(kb), ensure_ascii=False, separators=(",", ":"))
    path.write_text(text, encoding="utf-8")
    return path


def slim_material_index(site_dir: Path) -> None:
    """Empty the ``docs`` of Material's ``search/search_index.json``.

    Material's page script still downloads that file on every page load and hands
    it to the search worker, but the Zhiku worker only needs its ``config`` (which
    Material's ``?h=`` highlighting reads), so the full text need not go to phones.
    """
    path = site_dir / "search" / "search_index.json"
    if path.is_file():
        data = json.loads(path.read_text(encoding="utf-8"))
        data["docs"] = []
        path.write_text(
            json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
        )
