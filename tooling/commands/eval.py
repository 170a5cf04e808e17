"""``kb eval``: measure answer matching on labelled questions, or on the KB itself (``--self``)."""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from tooling.commands._common import add_audience_argument, add_kb_argument, load_valid
from tooling.errors import EXIT_OK, UsageError

if TYPE_CHECKING:  # the search stack (jieba, pypinyin, numpy, the model) loads only when used
    from tooling.answer import SearchIndex, SelfEstimate
    from tooling.answer.evaluate import LabelledQuery, Metrics, TradeOff
    from tooling.kb.model import KnowledgeBase

NAME = "eval"
HELP = "measure answer matching on a TSV of `query<TAB>expected_id` lines, or with --self"
ORDER = 41
TRADE_OFF_SHOWN = 0.25  # kb eval --trade-off leaves out thresholds refusing more answerable


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_kb_argument(parser)
    add_audience_argument(parser)
    parser.add_argument(
        "--queries",
        type=Path,
        metavar="FILE.tsv",
        help="one `query<TAB>expected_id` per line; `-` for unanswerable; "
        "blank lines and lines starting with # are skipped",
    )
    parser.add_argument(
        "--self",
        dest="self_estimate",
        action="store_true",
        help="print the knowledge base's own estimate (held-out phrasings and entries)",
    )
    parser.add_argument(
        "--details",
        type=Path,
        metavar="OUT.jsonl",
        help='write one JSON line per query: {"query", "expected", "ranked": [ids], '
        '"answered": true|false}',
    )
    parser.add_argument(
        "--trade-off",
        action="store_true",
        help="also print what a higher or lower refusal threshold would give on these queries",
    )
    parser.add_argument(
        "--site",
        action="store_true",
        help="also measure the site's own search (the in-browser index of the audience) "
        "on these queries: hit@1, hit@5 and how often it says 没有找到可信的答案",
    )
    parser.add_argument(
        "--cache", metavar="DIR", help="vector and index cache folder (default: ~/.cache/zhiku)"
    )


def format_metrics(m: Metrics) -> str:
    return "\n".join(
        [
            f"queries: {m.answerable + m.unanswerable} "
            f"({m.answerable} answerable, {m.unanswerable} unanswerable)",
            "answered right (a refusal counts as a miss):",
            f"  hit@1: {m.hit1:.3f}",
            f"  hit@5: {m.hit5:.3f}",
            f"  MRR: {m.mrr:.3f}",
            "ranking only (refusals aside):",
            f"  hit@1: {m.ranking_hit1:.3f}",
            f"  hit@5: {m.ranking_hit5:.3f}",
            f"  MRR: {m.ranking_mrr:.3f}",
            f"answerable wrongly refused: {m.wrongly_refused:.3f} "
            f"({m.wrongly_refused_count}/{m.answerable})",
            f"unanswerable correctly refused: {m.correctly_refused:.3f} "
            f"({m.correctly_refused_count}/{m.unanswerable})",
        ]
    )


def format_trade_offs(rows: list[TradeOff]) -> str:
    """The table of ``kb eval --trade-off``; rows refusing more than
    :data:`TRADE_OFF_SHOWN` of the answerable queries are left out (the fitted row stays)."""
    lines = [
        "refusal threshold trade-off on these queries (> the fitted threshold):",
        "   threshold  answered right  answerable refused  unanswerable refused",
    ]
    for row in rows:
        r = row.metrics
        if r.wrongly_refused > TRADE_OFF_SHOWN and not row.fitted:
            continue
        lines.append(
            f"{'>' if row.fitted else ' '} {row.threshold:10.4f}  {r.hit1:14.3f}  "
            f"{f'{r.wrongly_refused:.3f} ({r.wrongly_refused_count}/{r.answerable})':>18}  "
            f"{f'{r.correctly_refused:.3f} ({r.correctly_refused_count}/{r.unanswerable})':>20}"
        )
    return "\n".join(lines)


def site_figures(kb: KnowledgeBase, audience: str, queries: list[LabelledQuery]) -> str:
    """``kb eval --site``: the browser search's reference ranking (which the worker
    equals) on ``queries``, and where it shows its 没有找到可信的答案 notice. As for the
    answer engine, a query whose entry this audience does not see (an internal entry,
    on the public site) is one the site has no answer for."""
    from tooling.kb.view import check_audience, view
    from tooling.site.search_index import build_index, not_sure, search

    visible = view(kb, check_audience(audience), date.today())
    index = build_index(visible, url=lambda entry: entry.id)
    shown = {entry.id for entry in visible.entries}  # "-" (no answer) is never an id
    answerable = [q for q in queries if q.expected in shown]
    unanswerable = [q for q in queries if q.expected not in shown]
    ranked = [[loc for loc, _ in search(index, q.query, 5)] for q in answerable]
    hit1 = sum(r[:1] == [q.expected] for r, q in zip(ranked, answerable, strict=True))
    hit5 = sum(q.expected in r for r, q in zip(ranked, answerable, strict=True))
    flagged = sum(not_sure(index, q.query) for q in answerable)
    refused = sum(not_sure(index, q.query) for q in unanswerable)
    cut = (
        f"score below {index['sure']:.3f}, fitted on the knowledge base"
        if "sure" in index
        else "the best entry covers less than half of the question"
    )
    n, u = max(len(answerable), 1), max(len(unanswerable), 1)
    return "\n".join(
        [
            "site search (the in-browser index of this audience; ranking only):",
            f"  hit@1: {hit1 / n:.3f}",
            f"  hit@5: {hit5 / n:.3f}",
            f"没有找到可信的答案 shown ({cut}):",
            f"  answerable: {flagged / n:.3f} ({flagged}/{len(answerable)})",
            f"  unanswerable: {refused / u:.3f} ({refused}/{len(unanswerable)})",
        ]
    )


def format_estimate(index: SearchIndex) -> str:
    fit = index.fit
    w = fit.weights
    estimate: SelfEstimate | None = fit.estimate
    signals = "words + semantic model" if index.semantic else "words only (no semantic model)"
    lines = [f"self-estimate ({signals}; {len(index)} entries)"]
    if estimate is None:
        lines.append("nothing to hold out: no entry has a phrasing; every match is answered")
        return "\n".join(lines)
    sample = ", a sample" if estimate.sampled else ""
    lines += [
        f"held out: {estimate.answerable} phrasings (answerable), "
        f"{estimate.unanswerable} phrasings of held-out entries (unanswerable){sample}",
        f"weighted as people ask: {estimate.questions} held-out entry questions "
        f"(plain held-out hit@1 {estimate.held_out_hit1:.3f})",
        f"answered right (a refusal counts as a miss): {estimate.answered_right:.3f}",
        f"ranking only: hit@1 {estimate.ranking_hit1:.3f}, hit@5 {estimate.ranking_hit5:.3f}",
        f"answerable wrongly refused: {estimate.wrongly_refused:.3f}",
        f"unanswerable correctly refused: {estimate.correctly_refused:.3f}",
        f"refusal threshold: {fit.threshold:.3f} (confidence of the best entry)",
        f"weights: rank semantic {w.rank_semantic:g}, rule {w.rank_rule:g}; "
        f"confidence semantic {w.conf_semantic:g}, rule {w.conf_rule:g}, "
        f"margin {w.conf_margin:g}, coverage {w.conf_coverage:g}",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.queries is None and not args.self_estimate:
        raise UsageError("give --queries FILE.tsv, --self, or both")
    if args.details and args.queries is None:
        raise UsageError("--details needs --queries FILE.tsv")
    if args.trade_off and args.queries is None:
        raise UsageError("--trade-off needs --queries FILE.tsv")
    if args.site and args.queries is None:
        raise UsageError("--site needs --queries FILE.tsv")
    kb = load_valid(args).kb
    from tooling.answer import SearchIndex
    from tooling.answer.evaluate import evaluate, read_queries

    queries = read_queries(args.queries, {e.id for e in kb.entries}) if args.queries else []
    if args.queries and not queries:
        raise UsageError(f"{args.queries}: no queries in the file")
    index = SearchIndex.cached(kb, args.audience, cache=args.cache)
    blocks = []
    if args.self_estimate:
        blocks.append(format_estimate(index))
    if queries:
        result = evaluate(index, queries)
        if args.details:
            with args.details.open("w", encoding="utf-8") as out:
                for outcome in result.outcomes:
                    out.write(json.dumps(outcome.to_json(), ensure_ascii=False) + "\n")
        blocks.append(format_metrics(result))
        if args.trade_off:
            from tooling.answer.evaluate import trade_offs

            rows = trade_offs(result, index.entry_ids(), index.threshold)
            blocks.append(format_trade_offs(rows))
        if args.site:
            blocks.append(site_figures(kb, args.audience, queries))
    print("\n\n".join(blocks))
    return EXIT_OK
