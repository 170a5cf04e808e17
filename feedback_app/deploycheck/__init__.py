"""``kb feedback check``: is this deployment of the feedback app ready to go live?

Reads the settings exactly as the app does (:func:`feedback_app.configure`: the
declared defaults, ``instance/config.py``, ``ZHIKU_*`` variables), then checks
each thing a production instance depends on and says, in Chinese, what is fine
and what to fix: the repository clone, its base branch and the knowledge base on
it, the remote flags are pushed to (reachable, and accepting a push) in
:mod:`.repo`; the tokens file and the places the app writes to in :mod:`.files`;
CORS against the staff site's URL, the proxy and the rate-limit storage in
:mod:`.net`.

Nothing is changed by a check except what the app would create itself on its
first request (a missing spool folder, the rate-limit database); the push is a
``--dry-run``. Messages never show a password or token that a remote URL or a
storage URI may carry.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from tooling.git import Git

#: The checkout the running code comes from; the app must never work on it.
CODE_ROOT = Path(__file__).resolve().parent.parent.parent


class Level(StrEnum):
    OK = "正常"
    WARNING = "警告"
    ERROR = "错误"
    SKIPPED = "跳过"


@dataclass(frozen=True)
class Finding:
    level: Level
    topic: str
    message: str
    fix: str = ""

    def format(self) -> str:
        text = f"[{self.level}] {self.topic}:{self.message}"
        return f"{text} — {self.fix}" if self.fix else text


def ok(topic: str, message: str) -> Finding:
    return Finding(Level.OK, topic, message)


def warning(topic: str, message: str, fix: str) -> Finding:
    return Finding(Level.WARNING, topic, message, fix)


def error(topic: str, message: str, fix: str) -> Finding:
    return Finding(Level.ERROR, topic, message, fix)


@dataclass
class Context:
    """The settings being checked, and what earlier checks found out."""

    config: Mapping[str, Any]
    git: Git | None = None
    git_dir: Path | None = None
    base_tip: str | None = None
    staff: set[str] = field(default_factory=set)


def setting_problems(environ: Mapping[str, str]) -> list[Finding]:
    """A finding for each ``ZHIKU_*`` variable that does not parse as its type."""
    from feedback_app.settings import ENV_PREFIX, SETTINGS

    kinds = {int: "整数", float: "数字", bool: "true 或 false"}
    found = []
    for setting in SETTINGS:
        raw = environ.get(ENV_PREFIX + setting.name)
        try:
            setting.parse(raw)
        except ValueError:
            name = ENV_PREFIX + setting.name
            kind = kinds.get(setting.type, setting.type.__name__)
            found.append(
                error(
                    "设置", f"{name}={raw} 不是{kind}", f"改成{kind},例如 {name}={setting.default}"
                )
            )
    return found


def run_checks(config: Mapping[str, Any]) -> list[Finding]:
    ctx = Context(config)
    findings: list[Finding] = []
    for check in checks():
        findings.extend(check(ctx))
    return findings


def skipped(topic: str, why: str) -> Finding:
    return Finding(Level.SKIPPED, topic, why)


def checks() -> tuple[Callable[[Context], Iterator[Finding]], ...]:
    """Every check, in the order they are printed (later ones use what earlier found)."""
    from feedback_app.deploycheck import files, net, repo

    return (
        repo.check_repository,
        repo.check_base_branch,
        repo.check_knowledge_base,
        repo.check_remote,
        files.check_tokens,
        net.check_cors,
        net.check_proxies,
        net.check_rate_limits,
        files.check_query_log,
        files.check_spool,
    )


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines as systemd's ``EnvironmentFile=`` reads them (``#``/``;``
    comments, blank lines, one pair of surrounding quotes removed)."""
    found = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.strip()
        if not text or text.startswith(("#", ";")):
            continue
        key, sep, value = text.partition("=")
        key = key.strip().removeprefix("export ").strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise ValueError(f"{path}:{number}: 不是 KEY=VALUE:{line}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        found[key] = value
    return found


def environment(env_file: Path | None) -> dict[str, str]:
    """The environment the service would see: with an env file, its values and no other
    ``ZHIKU_*`` variable (as under systemd); otherwise this process's."""
    environ = dict(os.environ)
    if env_file is not None:
        environ = {k: v for k, v in environ.items() if not k.startswith("ZHIKU_")}
        environ.update(read_env_file(env_file))
    return environ
