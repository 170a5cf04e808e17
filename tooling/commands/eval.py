"""``kb eval``: measure answer matching on a file of labelled questions."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from tooling.commands._common import add_audience_argument, add_kb_argument, load_valid
from tooling.errors import EXIT_OK, UsageError

if TYPE_CHECKING:  # the search stack (jieba, pypinyin, Whoosh) loads only when used
    from tooling.answer.evaluate import Metrics

NAME = "eval"
HELP = "measure search quality on a TSV of `query<TAB>expected_id` lines (`-`: no answer)"
ORDER = 41


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_kb_argument(parser)
    add_audience_argument(parser)
    parser.add_argument(
        "--queries",
        required=True,
        type=Path,
        metavar="FILE.tsv",
        help="one `query<TAB>expected_id` per line; `-` for unanswerable; "
        "blank lines and lines starting with # are skipped",
    )
    parser.add_argument(
        "--details",
        type=Path,
        metavar="OUT.jsonl",
        help="write one JSON line per query: query, expected, ranked ids "
        "(empty when the answer was refused)",
    )


def format_metrics(m: Metrics) -> str:
    return "\n".join(
        [
            f"queries: {m.answerable + m.unanswerable} "
            f"({m.answerable} answerable, {m.unanswerable} unanswerable)",
            f"hit@1: {m.hit1:.3f}",
            f"hit@5: {m.hit5:.3f}",
            f"MRR: {m.mrr:.3f}",
            f"answerable wrongly refused: {m.wrongly_refused:.3f} "
            f"({m.wrongly_refused_count}/{m.answerable})",
            f"unanswerable correctly refused: {m.correctly_refused:.3f} "
            f"({m.correctly_refused_count}/{m.unanswerable})",
        ]
    )


def run(args: argparse.Namespace) -> int:
    kb = load_valid(args).kb
    from tooling.answer import SearchIndex
    from tooling.answer.evaluate import evaluate, read_queries

    queries = read_queries(args.queries, {e.id for e in kb.entries})
    if not queries:
        raise UsageError(f"{args.queries}: no queries in the file")
    result = evaluate(SearchIndex.build(kb, args.audience), queries)
    if args.details:
        with args.details.open("w", encoding="utf-8") as out:
            for outcome in result.outcomes:
                out.write(json.dumps(outcome.to_json(), ensure_ascii=False) + "\n")
    print(format_metrics(result))
    return EXIT_OK
