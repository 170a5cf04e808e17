"""``kb report``: knowledge health, open flags, credit and missing knowledge."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date, timedelta
from pathlib import Path

from tooling.commands._common import add_kb_argument, add_today_argument, kb_root, parse_date
from tooling.errors import EXIT_OK, UsageError
from tooling.flags import QUERY_LOG_ENV
from tooling.report.build import DEFAULT_PERIOD_DAYS, make_report
from tooling.report.formats import to_json, to_text
from tooling.report.history import find_repo
from tooling.report.markdown import to_markdown
from tooling.report.missing import queries_log_path

NAME = "report"
HELP = "report stale, wrong and missing knowledge, open flags and who improves the KB"
ORDER = 60
FORMATTERS = {"text": to_text, "markdown": to_markdown, "json": to_json}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_kb_argument(parser)
    parser.add_argument(
        "--repo",
        metavar="DIR",
        type=Path,
        default=None,
        help="git repository with the history and flag branches (default: the one containing --kb)",
    )
    parser.add_argument(
        "--main",
        default="main",
        metavar="BRANCH",
        help="the branch accepted changes land on (default: main)",
    )
    parser.add_argument(
        "--since",
        type=parse_date,
        default=None,
        metavar="YYYY-MM-DD",
        help=f"start of the period for credit and missing knowledge "
        f"(default: {DEFAULT_PERIOD_DAYS} days before --today)",
    )
    add_today_argument(parser)
    parser.add_argument(
        "--queries-log",
        type=Path,
        default=None,
        metavar="FILE",
        help="unanswered-questions log written by the feedback app (default: $ZHIKU_QUERY_LOG, "
        "else where the app writes it, <git dir>/zhiku-unanswered.jsonl, when it exists)",
    )
    parser.add_argument(
        "--format",
        choices=sorted(FORMATTERS),
        default="text",
        help="text for the terminal, markdown for an issue or wiki, json for tools (default: text)",
    )


def run(args: argparse.Namespace) -> int:
    root = kb_root(args)
    today: date = args.today or date.today()
    since: date = args.since or today - timedelta(days=DEFAULT_PERIOD_DAYS)
    if since > today:
        raise UsageError(f"--since {since} is after --today {today}")
    if args.repo is not None and not args.repo.is_dir():
        raise UsageError(f"repository folder not found: {args.repo} (use --repo DIR)")
    if args.queries_log is not None and not args.queries_log.is_file():
        raise UsageError(f"queries log not found: {args.queries_log} (use --queries-log FILE)")
    queries_log = args.queries_log or _default_log(args.repo or find_repo(root))
    report = make_report(
        root, today=today, since=since, repo=args.repo, main=args.main, queries_log=queries_log
    )
    sys.stdout.write(FORMATTERS[args.format](report))
    return EXIT_OK


def _default_log(repo: Path | None) -> Path | None:
    """The log the feedback app writes by default, when there is one to read."""
    path = queries_log_path(os.environ.get(QUERY_LOG_ENV), repo)
    return path if path is not None and path.is_file() else None
