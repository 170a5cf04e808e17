"""``kb serve``: the site on a local port, rebuilt and reloaded whenever a YAML file changes.

Rebuilds are MkDocs "dirty" builds: the zhiku plugin marks the pages a save did
not change as unmodified, so only the affected pages are rebuilt
(:mod:`tooling.site.incremental`).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from tooling.commands._common import (
    add_audience_argument,
    add_kb_argument,
    add_today_argument,
    kb_root,
)
from tooling.commands.build import add_config_argument, config_path
from tooling.errors import EXIT_OK, UsageError

NAME = "serve"
HELP = "serve the staff site locally with live reload (errors show, the server stays up)"
ORDER = 31

log = logging.getLogger("zhiku")
# MkDocs warns on every dirty build that navigation may be stale; the zhiku plugin
# rebuilds every page whenever the navigation or anything else shown on every page changes.
DIRTY_WARNING = "A 'dirty' build is being performed"


class _HideDirtyWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(DIRTY_WARNING)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_kb_argument(parser)
    parser.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default 8000)")
    add_audience_argument(parser, default="staff")
    add_config_argument(parser)
    add_today_argument(parser)


def run(args: argparse.Namespace) -> int:
    from mkdocs.commands.serve import serve

    from tooling.site.plugin_config import plugin_overrides

    kb_dir = kb_root(args).resolve()
    config_file = config_path(args)
    today = args.today.isoformat() if args.today else None
    try:
        plugins = plugin_overrides(config_file, kb=str(kb_dir), audience=args.audience, today=today)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    log.info(
        f"Serving the {args.audience} site of {args.kb} on http://127.0.0.1:{args.port}/ "
        "(Ctrl+C to stop); pages reload when a YAML file is saved"
    )
    logging.getLogger("mkdocs.commands.build").addFilter(_HideDirtyWarning())
    serve(
        config_file=str(Path(config_file)),
        livereload=True,
        build_type="dirty",
        dev_addr=f"127.0.0.1:{args.port}",
        plugins=plugins,
    )
    return EXIT_OK
