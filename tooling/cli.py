"""The ``kb`` command: a thin layer that parses arguments and calls one function.

Each subcommand lives in ``tooling/commands/<name>.py`` and provides ``NAME``,
``HELP``, ``ORDER``, ``add_arguments(parser)`` and ``run(args) -> int``.
Errors are translated to exit codes here: 1 content, 2 usage, 3 bug.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

from tooling import __version__, commands
from tooling.errors import EXIT_BUG, EXIT_USAGE, ContentError, ZhikuError

log = logging.getLogger("zhiku")


def _command_modules() -> list[ModuleType]:
    modules = [
        importlib.import_module(f"tooling.commands.{info.name}")
        for info in pkgutil.iter_modules(commands.__path__)
        if not info.name.startswith("_")
    ]
    return sorted(modules, key=lambda m: (m.ORDER, m.NAME))


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kb",
        description="Zhiku (知库): validate, build, search and report on a knowledge base "
        "kept as YAML files in git.",
        epilog="Run `kb COMMAND --help` for the options of one command.",
    )
    parser.add_argument("--version", action="version", version=f"kb {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in _command_modules():
        command = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(message)s",
        stream=sys.stderr,
    )
    if not getattr(args, "run", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.run(args))
    except ContentError as exc:
        for problem in exc.problems:
            print(problem.format(getattr(args, "kb", "")), file=sys.stderr)
        print(f"kb: {exc}", file=sys.stderr)
        return exc.exit_code
    except ZhikuError as exc:
        print(f"kb: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # e.g. `kb schema | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("kb: interrupted", file=sys.stderr)
        return 130
    except Exception:  # a bug in Zhiku, not the user's fault
        log.exception("kb: internal error — please report it with the traceback above")
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
