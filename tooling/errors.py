"""Problems found in user content, and the error hierarchy for the CLI edge.

Exit codes (translated in ``tooling.cli``): 0 fine, 1 problems in the user's
content, 2 usage errors, 3 a bug in Zhiku itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

EXIT_OK = 0
EXIT_CONTENT = 1
EXIT_USAGE = 2
EXIT_BUG = 3


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the knowledge base, pointing at ``file:line:col``.

    ``file`` is the path relative to the knowledge-base root (POSIX slashes);
    ``line`` and ``col`` are 1-based, 0 when unknown.
    """

    file: str
    line: int
    col: int
    severity: Severity
    message: str
    hint: str = ""
    code: str = ""

    def format(self, root_label: str = "") -> str:
        path = f"{root_label.rstrip('/')}/{self.file}" if root_label else self.file
        where = path
        if self.line:
            where += f":{self.line}"
            if self.col:
                where += f":{self.col}"
        text = f"{where}: {self.severity}: {self.message}"
        if self.hint:
            text += f" — {self.hint}"
        return text

    def to_json(self, root_label: str = "") -> dict[str, object]:
        path = f"{root_label.rstrip('/')}/{self.file}" if root_label else self.file
        return {
            "file": path,
            "line": self.line,
            "col": self.col,
            "severity": str(self.severity),
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
        }


class ZhikuError(Exception):
    """Base class for errors shown to the user as a message, not a traceback."""

    exit_code = EXIT_BUG


class UsageError(ZhikuError):
    """The command line or its arguments are wrong."""

    exit_code = EXIT_USAGE


class ContentError(ZhikuError):
    """The knowledge base has errors; carries the problems to print."""

    exit_code = EXIT_CONTENT

    def __init__(self, message: str, problems: tuple[Problem, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


def has_errors(problems: tuple[Problem, ...] | list[Problem]) -> bool:
    return any(p.severity is Severity.ERROR for p in problems)
