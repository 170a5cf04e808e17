"""``kb search``: the entries that answer a question, best first, or 没有把握 (not sure)."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import TYPE_CHECKING

from tooling.commands._common import (
    add_audience_argument,
    add_kb_argument,
    kb_root,
    load_valid,
)
from tooling.errors import EXIT_OK, UsageError

if TYPE_CHECKING:  # the search stack (jieba, pypinyin, Whoosh) loads only when used
    from tooling.answer import SearchResult

NAME = "search"
HELP = "find the entries that answer a question (or say there is no confident answer)"
ORDER = 40

READ_AS = "已按知识库用词纠正输入,按此查找 (typing slips repaired, searched as):"
NOT_SURE = "没有把握:没有找到可信的答案 (not sure: no confident answer)"
SUGGESTIONS = "最接近的条目,仅供参考,不是答案 (nearest entries, suggestions only):"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_kb_argument(parser)
    add_audience_argument(parser)
    parser.add_argument(
        "--limit", type=int, default=5, metavar="N", help="how many entries to show (default: 5)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON for tools")
    parser.add_argument(
        "--cache", metavar="DIR", help="vector and index cache folder (default: ~/.cache/zhiku)"
    )
    parser.add_argument("query", metavar="QUERY", help="the question, as a customer asks it")


def format_result(result: SearchResult) -> str:
    lines = []
    if result.read_as:
        lines.append(f"{READ_AS}「{result.read_as}」")
    if not result.answered:
        lines.append(NOT_SURE)
        if result.hits:
            lines.append(SUGGESTIONS)
    for rank, hit in enumerate(result.hits, 1):
        lines.append(f"{rank}. {hit.entry_id}  {hit.score:.2f}  {hit.question}")
        lines.append(f"   {hit.why}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise UsageError("--limit must be 1 or more")
    if not args.query.strip():
        raise UsageError("QUERY is empty: type the question to search for")
    from tooling.answer import SearchIndex

    # Read and validate the knowledge base only when a file changed since the index
    # stored for it (reading 5,000 entries costs more than the whole search).
    index = SearchIndex.of_folder(
        kb_root(args), lambda: load_valid(args).kb, args.audience, cache=args.cache
    )
    result = index.search(args.query, limit=args.limit)
    if args.json:
        payload = {
            "query": result.query,
            "answered": result.answered,
            "confidence": result.confidence,
            "threshold": result.threshold,
            "read_as": result.read_as,
            "hits": [asdict(hit) for hit in result.hits],
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        print(format_result(result))
    return EXIT_OK
