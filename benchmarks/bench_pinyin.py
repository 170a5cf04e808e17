"""Both searches on questions typed partly or wholly in pinyin.

People type pinyin without choosing the characters (``baoxiu`` for 报修) when the
input method is in the way, on a phone or in a hurry. This takes labelled
questions and types them in pinyin mechanically, so that no one chooses which
words: ``one word``, one jieba word of two or more characters (drawn with a
fixed seed) replaced by its toneless pinyin; ``whole``, every word in pinyin,
one space between words. For the questions as written and both pinyin forms it
reports the site search's hit@1 / hit@5 (the reference ranking,
:func:`tooling.site.search_index.search`, which the browser worker equals) and the
answer engine's answered right (a refusal counts as a miss) and ranking hit@1 /
hit@5 (:class:`tooling.answer.SearchIndex`, with the vector cache of ``kb search``).

Sets: the fixture knowledge base with its questions (always), the demo ``kb/``
with ``benchmarks/demo-questions.tsv`` (public audience) and, when
``../shared`` is beside the repository, the eval knowledge base with the dev
questions (staff audience).

Run: ``.venv/bin/python benchmarks/bench_pinyin.py``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from datetime import date
from pathlib import Path

import jieba
from pypinyin import lazy_pinyin

from tooling.answer import SearchIndex
from tooling.kb.check import validate
from tooling.kb.view import view
from tooling.site.search_index import build_index, search

REPO = Path(__file__).resolve().parent.parent
TODAY = date(2026, 12, 1)
SEED = 1
HAN = re.compile(r"[\u4e00-\u9fff]+")


def question_sets() -> list[tuple[str, Path, str, Path]]:
    sets = [
        ("fixture", REPO / "tests/fixtures/kb", "staff", REPO / "tests/fixtures/queries.tsv"),
        ("demo", REPO / "kb", "public", REPO / "benchmarks/demo-questions.tsv"),
    ]
    shared = REPO.parent / "shared" / "eval"
    if shared.is_dir():
        sets.append(("dev", shared / "kb", "staff", shared / "queries-dev.tsv"))
    else:
        print("../shared/eval is not beside the repository: the dev set is skipped")
    return sets


def labelled(path: Path, ids: set[str]) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            query, expected = line.split("\t")
            if expected in ids:
                rows.append((query, expected))
    return rows


def one_word(query: str, rng: random.Random) -> str | None:
    words = [w for w in jieba.lcut(query) if len(w) >= 2 and HAN.fullmatch(w)]
    if not words:
        return None
    word = rng.choice(words)
    return query.replace(word, "".join(lazy_pinyin(word)), 1)


def whole(query: str) -> str:
    return " ".join("".join(lazy_pinyin(w)) for w in jieba.lcut(query) if HAN.fullmatch(w))


def main() -> dict[str, float]:
    """``{"<set> <form> hit1": ..., "<set> <form> hit5": ...}`` (``make bench``)."""
    jieba.setLogLevel(60)
    results: dict[str, float] = {}
    for name, root, audience, queries in question_sets():
        whole_kb = validate(root, TODAY).kb
        kb = view(whole_kb, audience, TODAY)
        index = build_index(kb, url=lambda e: e.id)
        engine = SearchIndex.build(whole_kb, audience, TODAY)
        rows = labelled(queries, {e.id for e in kb.entries})
        rng = random.Random(SEED)
        forms = {
            "as written": [(q, e) for q, e in rows],
            "one word": [(t, e) for q, e in rows if (t := one_word(q, rng))],
            "whole": [(whole(q), e) for q, e in rows],
        }
        for form, asked in forms.items():
            ranked = [[loc for loc, _ in search(index, q, 5)] for q, _ in asked]
            hit1 = sum(r[:1] == [e] for r, (_, e) in zip(ranked, asked, strict=True))
            hit5 = sum(e in r for r, (_, e) in zip(ranked, asked, strict=True))
            found = [engine.search(q) for q, _ in asked]
            right = sum(
                f.answered and f.hits[0].entry_id == e
                for f, (_, e) in zip(found, asked, strict=True)
            )
            rank1 = sum(
                bool(f.hits) and f.hits[0].entry_id == e
                for f, (_, e) in zip(found, asked, strict=True)
            )
            rank5 = sum(
                e in [h.entry_id for h in f.hits] for f, (_, e) in zip(found, asked, strict=True)
            )
            n = len(asked)
            key = f"{name} {form}"
            results[f"{key} site hit1"] = hit1 / n
            results[f"{key} site hit5"] = hit5 / n
            results[f"{key} engine answered right"] = right / n
            results[f"{key} engine ranking hit1"] = rank1 / n
            results[f"{key} engine ranking hit5"] = rank5 / n
            print(
                f"{key:20} site hit@1 {hit1 / n:.3f} hit@5 {hit5 / n:.3f} | engine answered "
                f"right {right / n:.3f}, ranking {rank1 / n:.3f} / {rank5 / n:.3f}  n={n}",
                file=sys.stderr,
            )
    return results


if __name__ == "__main__":
    argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Prints one line per set and form on stderr, then the figures as JSON.",
    ).parse_args()
    print(json.dumps(main(), ensure_ascii=False, indent=1))
