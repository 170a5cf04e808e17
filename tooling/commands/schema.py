"""``kb schema``: print the entry schema as JSON Schema (for editors)."""

from __future__ import annotations

import argparse
import json
import sys

from tooling.kb.identity import SITE_SCHEMA
from tooling.kb.schema import ENTRY_SCHEMA, SECTION_SCHEMA, STAFF_SCHEMA, SYNONYMS_SCHEMA

NAME = "schema"
HELP = "print the JSON Schema of entries (or of other KB files) for editors"
ORDER = 20

SCHEMAS = {
    "entry": ENTRY_SCHEMA,
    "section": SECTION_SCHEMA,
    "staff": STAFF_SCHEMA,
    "synonyms": SYNONYMS_SCHEMA,
    "site": SITE_SCHEMA,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "kind",
        nargs="?",
        choices=sorted(SCHEMAS),
        default="entry",
        help="which file's schema (default: entry)",
    )


def run(args: argparse.Namespace) -> int:
    json.dump(SCHEMAS[args.kind], sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0
