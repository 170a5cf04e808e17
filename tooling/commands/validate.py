"""``kb validate``: check every file and print every problem, sorted by file and line."""

from __future__ import annotations

import argparse
import json
import sys

from tooling.commands._common import add_kb_argument, add_today_argument, kb_root
from tooling.errors import EXIT_CONTENT, EXIT_OK, Problem, Severity
from tooling.kb.check import validate

NAME = "validate"
HELP = "check the knowledge base and report every problem (exit 1 on errors)"
ORDER = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_kb_argument(parser)
    parser.add_argument(
        "--format",
        choices=("text", "json", "github"),
        default="text",
        help="text for people, json for tools, github for Actions annotations",
    )
    add_today_argument(parser)


def github_annotation(problem: Problem, label: str) -> str:
    """One GitHub Actions workflow command, escaped as the runner expects."""

    def esc(text: str, prop: bool = False) -> str:
        text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return text.replace(":", "%3A").replace(",", "%2C") if prop else text

    level = "error" if problem.severity is Severity.ERROR else "warning"
    path = f"{label.rstrip('/')}/{problem.file}" if label else problem.file
    props = [f"file={esc(path, True)}"]
    if problem.line:
        props.append(f"line={problem.line}")
    if problem.col:
        props.append(f"col={problem.col}")
    props.append(f"title={esc('kb validate: ' + (problem.code or level), True)}")
    message = problem.message + (f" — {problem.hint}" if problem.hint else "")
    return f"::{level} {','.join(props)}::{esc(message)}"


def run(args: argparse.Namespace) -> int:
    result = validate(kb_root(args), args.today)
    label = args.kb
    if args.format == "json":
        json.dump(
            [p.to_json(label) for p in result.problems], sys.stdout, ensure_ascii=False, indent=2
        )
        sys.stdout.write("\n")
    else:
        for problem in result.problems:
            line = (
                github_annotation(problem, label)
                if args.format == "github"
                else problem.format(label)
            )
            print(line)
        summary = (
            f"{len(result.kb.entries)} entries checked: "
            f"{len(result.errors)} error(s), {len(result.warnings)} warning(s)"
        )
        print(summary, file=sys.stderr)
    return EXIT_CONTENT if result.errors else EXIT_OK
