"""Arguments and helpers shared by several commands."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from tooling.errors import ContentError, UsageError
from tooling.kb.check import Validation, validate


def add_kb_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kb", default="kb", metavar="DIR", help="knowledge-base folder (default: ./kb)"
    )


def add_today_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--today",
        type=parse_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="judge staleness and expiry as of this day (default: today)",
    )


def add_audience_argument(parser: argparse.ArgumentParser, default: str = "public") -> None:
    parser.add_argument(
        "--audience",
        choices=("public", "staff"),
        default=default,
        help=f"which site's entries: public ones only, or all (default: {default})",
    )


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (use YYYY-MM-DD)") from None


def kb_root(args: argparse.Namespace) -> Path:
    root = Path(args.kb)
    if not root.is_dir():
        raise UsageError(f"knowledge base folder not found: {root} (use --kb DIR)")
    return root


def load_valid(args: argparse.Namespace) -> Validation:
    """Validate the knowledge base; raise :class:`ContentError` (exit 1) if it has errors."""
    result = validate(kb_root(args), getattr(args, "today", None))
    if result.errors:
        raise ContentError(
            f"the knowledge base has {len(result.errors)} error(s); "
            "fix them first (`kb validate` lists them)",
            tuple(result.errors),
        )
    return result
