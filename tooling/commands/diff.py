"""``kb diff BASE HEAD``: entries added, removed and changed between two revisions."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from tooling.errors import UsageError
from tooling.git import find_toplevel
from tooling.kb.diff import diff, format_markdown, format_text

NAME = "diff"
HELP = "list entries added, removed and changed between two git revisions (for reviewers)"
ORDER = 70


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("base", metavar="BASE", help="base revision, e.g. origin/main")
    parser.add_argument(
        "head", metavar="HEAD", nargs="?", default="HEAD", help="head revision (default: HEAD)"
    )
    parser.add_argument(
        "--kb",
        default="kb",
        metavar="DIR",
        help="knowledge-base folder in the working tree (default: ./kb)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "markdown", "json"),
        default="text",
        help="markdown is what CI writes to the job summary",
    )


def _repo_and_path(kb: str) -> tuple[Path, str]:
    folder = Path(kb).resolve()
    probe = folder if folder.is_dir() else folder.parent
    top = find_toplevel(probe)
    if top is None:
        raise UsageError(f"{kb} is not inside a git repository")
    return top, folder.relative_to(top).as_posix()


def run(args: argparse.Namespace) -> int:
    repo, kb_path = _repo_and_path(args.kb)
    result = diff(repo, args.base, args.head, kb_path)
    if args.format == "json":
        json.dump(dataclasses.asdict(result), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    elif args.format == "markdown":
        sys.stdout.write(format_markdown(result))
    else:
        sys.stdout.write(format_text(result))
    return 0
