"""Helpers for the site-search tests: dev queries, synthetic large KBs."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from tooling.kb.model import Entry, KnowledgeBase, Scenario


def answerable_queries(path: Path) -> list[tuple[str, str]]:
    """(question, expected entry id) for every line whose expected id is not '-'."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        query, expected = line.split("\t")
        if expected.strip() != "-":
            rows.append((query, expected.strip()))
    return rows


def hit_rates(
    rows: list[tuple[str, str]], ranked: Callable[[str], list[str]]
) -> tuple[float, float]:
    """hit@1 and hit@5 of ``ranked(query)`` (entry ids, best first) over ``rows``."""
    hit1 = hit5 = 0
    for query, expected in rows:
        found = ranked(query)[:5]
        hit1 += found[:1] == [expected]
        hit5 += expected in found
    return hit1 / len(rows), hit5 / len(rows)


def entry_id_of(location: str) -> str:
    """``.../property/repairs/water-leak/`` or ``...#x`` -> ``water-leak``."""
    path = location.split("#")[0].split("?")[0].rstrip("/")
    return path.rsplit("/", 1)[-1]


class _RandomText:
    """Chinese-looking text drawn from jieba's word frequencies (a pessimistic vocabulary)."""

    def __init__(self, seed: int, vocabulary: int | None) -> None:
        import jieba

        pairs = []
        dictionary = Path(jieba.__file__).parent / "dict.txt"
        for line in dictionary.read_text(encoding="utf-8").splitlines():
            word, freq, _ = line.split(" ")
            if re.fullmatch(r"[\u4e00-\u9fff]+", word):
                pairs.append((int(freq), word))
        pairs.sort(reverse=True)
        pairs = pairs[:vocabulary] if vocabulary else pairs
        words = [word for _, word in pairs]
        weights = [freq for freq, _ in pairs]
        self.words = words
        self.cumulative = list(_accumulate(weights))
        self.rng = random.Random(seed)

    def char(self) -> str:
        """One character, drawn by word frequency."""
        return self.rng.choice(self.rng.choices(self.words, cum_weights=self.cumulative)[0])

    def like(self, text: str) -> str:
        """Random text about as long as ``text``, with punctuation now and then."""
        out: list[str] = []
        size = 0
        while size < len(text):
            word = self.rng.choices(self.words, cum_weights=self.cumulative)[0]
            out.append(word)
            size += len(word)
            if self.rng.random() < 0.15:
                out.append("，")
        return "".join(out)


def _all_text(entry: Entry) -> str:
    parts = [entry.question, *entry.phrasings, *entry.tags, entry.rule]
    parts += [part for s in entry.scenarios for part in (s.case, s.answer)]
    return "".join(parts)


def _accumulate(values: list[int]) -> Iterator[int]:
    total = 0
    for value in values:
        total += value
        yield total


def synthetic_kb(kb: KnowledgeBase, size: int, *, mode: str, seed: int = 7) -> KnowledgeBase:
    """``size`` entries shaped like those of ``kb``, to measure the index of a large KB.

    ``copy``: copies (a lower bound: no new vocabulary). ``remix``: each copy swaps a
    third of its distinct Chinese characters for others drawn by frequency, the same
    way in all its fields, so entries keep the repetition of real text but bring new
    words (the realistic estimate). ``random``: every field replaced by random words
    of the same length (an upper bound: no repetition at all).
    """
    maker = _RandomText(seed, None) if mode in ("remix", "random") else None
    rng = random.Random(seed)
    entries: list[Entry] = []
    for i in range(size):
        base = kb.entries[i % len(kb.entries)]
        entry = replace(base, id=f"{base.id}-{i}")
        if maker is not None and mode == "remix":
            chars = sorted({ch for ch in _all_text(base) if "\u4e00" <= ch <= "\u9fff"})
            swap = {ch: maker.char() for ch in chars if rng.random() < 1 / 3}

            def remix(text: str, swap: dict[str, str] = swap) -> str:
                return "".join(swap.get(ch, ch) for ch in text)

            entry = replace(
                entry,
                question=remix(base.question),
                phrasings=tuple(remix(p) for p in base.phrasings),
                tags=tuple(remix(t) for t in base.tags),
                rule=remix(base.rule),
                scenarios=tuple(Scenario(remix(s.case), remix(s.answer)) for s in base.scenarios),
            )
        elif maker is not None:
            entry = replace(
                entry,
                question=maker.like(base.question),
                phrasings=tuple(maker.like(p) for p in base.phrasings),
                tags=tuple(maker.like(t) for t in base.tags),
                rule=maker.like(base.rule),
                scenarios=tuple(
                    Scenario(maker.like(s.case), maker.like(s.answer)) for s in base.scenarios
                ),
            )
        entries.append(entry)
    return replace(kb, entries=tuple(entries))
