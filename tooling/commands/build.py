"""``kb build``: render the knowledge base and build the public or the staff site with MkDocs."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from tooling.commands._common import (
    add_audience_argument,
    add_kb_argument,
    add_today_argument,
    load_valid,
)
from tooling.errors import EXIT_OK, UsageError
from tooling.kb.model import KnowledgeBase

NAME = "build"
HELP = "build the public or the staff site (refuses a knowledge base with errors)"
ORDER = 30

log = logging.getLogger("zhiku")


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        default="mkdocs.yml",
        metavar="FILE",
        help="MkDocs configuration (default: ./mkdocs.yml)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_kb_argument(parser)
    add_audience_argument(parser, default="public")
    parser.add_argument(
        "--out", default=None, metavar="DIR", help="output folder (default: site/<audience>)"
    )
    add_config_argument(parser)
    add_today_argument(parser)


def config_path(args: argparse.Namespace) -> Path:
    path = Path(args.config)
    if not path.is_file():
        raise UsageError(
            f"MkDocs configuration not found: {path} "
            "(run from the repository root or use --config FILE)"
        )
    return path


def build_site(
    kb_dir: Path,
    audience: str,
    out: Path,
    config_file: Path,
    today: str | None = None,
    preloaded: KnowledgeBase | None = None,
) -> int:
    """Build one site into ``out``; return the number of pages."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    from tooling.site.mkdocs_plugin import ZhikuPlugin
    from tooling.site.plugin_config import plugin_overrides

    try:
        plugins = plugin_overrides(
            config_file, kb=str(kb_dir.resolve()), audience=audience, today=today
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    config = load_config(str(config_file), site_dir=str(out.resolve()), plugins=plugins)
    plugin = config.plugins["zhiku"]
    assert isinstance(plugin, ZhikuPlugin)
    plugin.preloaded = preloaded
    config.plugins.on_startup(command="build", dirty=False)
    try:
        build(config)
    finally:
        config.plugins.on_shutdown()
    return plugin.page_count


def run(args: argparse.Namespace) -> int:
    start = time.monotonic()
    config_file = config_path(args)
    log.info(f"Loading and validating {args.kb} ...")
    validation = load_valid(args)
    log.info(
        f"{len(validation.kb.entries)} entries valid "
        f"({len(validation.warnings)} warning(s); `kb validate` lists them)"
    )
    out = Path(args.out) if args.out else Path("site") / args.audience
    log.info(f"Building the {args.audience} site with MkDocs ...")
    today = args.today.isoformat() if args.today else None
    pages = build_site(Path(args.kb), args.audience, out, config_file, today, validation.kb)
    log.info(
        f"Done in {time.monotonic() - start:.1f} s: {pages} pages, {args.audience} site in {out}/"
    )
    return EXIT_OK
