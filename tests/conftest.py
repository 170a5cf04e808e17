"""Shared fixtures: knowledge bases from dicts, real git repositories, a real browser."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"
EVAL_KB = SHARED / "eval" / "kb"
EVAL_QUERIES = SHARED / "eval" / "queries-dev.tsv"
DEMO_KB = REPO_ROOT / "kb"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

STAFF_YAML = """\
- handle: zhang-wei
  name: 张伟
  email: zhang.wei@example.com
  team: 客服一组
- handle: li-na
  name: 李娜
  email: li.na@example.com
  team: 售后组
"""
SECTION_YAML = "title: 报修\norder: 1\n"
# A team's identity file (tooling.kb.identity); make_kb writes it unless told otherwise.
SITE_YAML = """\
name: 测试服务中心
organisation: 测试物业
contacts:
  - {label: 服务热线, phone: "010-1234-5678"}
"""


def entry_yaml(entry_id: str, **fields: Any) -> str:
    """A valid entry as YAML text; keyword arguments replace or add top-level lines."""
    base = {
        "id": entry_id,
        "question": f"{entry_id} 怎么办?",
        "owner": "zhang-wei",
        "rule": "|\n  核心规则第一行。\n  第二行。",
        "scenarios": "\n  - case: 一种情况\n    answer: 对应答复",
        "phrasings": f"\n  - {entry_id} 问法一\n  - {entry_id} 问法二",
        "reviewed": "2026-10-01",
    }
    base.update({k: v for k, v in fields.items() if v is not None})
    for key in [k for k, v in fields.items() if v is None]:
        base.pop(key, None)
    return "".join(f"{key}: {value}\n" for key, value in base.items())


@pytest.fixture
def make_kb(tmp_path: Path) -> Callable[[dict[str, str | bytes]], Path]:
    """Write a knowledge base from ``{relative path: text or bytes}``.

    ``_staff.yaml``, ``_site.yaml`` and each folder's ``_section.yaml`` are added unless
    given.
    """

    def make(files: dict[str, str | bytes]) -> Path:
        root = tmp_path / "kb"
        root.mkdir(exist_ok=True)
        files = dict(files)
        files.setdefault("_staff.yaml", STAFF_YAML)
        files.setdefault("_site.yaml", SITE_YAML)
        for rel in list(files):
            parts = rel.split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                files.setdefault("/".join(parts[:depth]) + "/_section.yaml", SECTION_YAML)
        for rel, content in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(textwrap.dedent(content), encoding="utf-8")
        return root

    return make


GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.com",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run git in ``cwd`` with a fixed identity; return stdout."""
    full_env = {**os.environ, **GIT_ENV, **(env or {})}
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=full_env, check=True, capture_output=True, text=True
    )
    return done.stdout


def init_kb_repo(work: Path, kb_source: Path) -> Path:
    """A git repository at ``work`` with a copy of ``kb_source`` as ``kb/`` committed on main."""
    work.mkdir(parents=True, exist_ok=True)
    git(work, "init", "-q", "-b", "main")
    shutil.copytree(kb_source, work / "kb")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "Initial knowledge base")
    return work


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[[Path], Path]:
    """A real git repository holding a copy of a KB folder as ``kb/``, committed on
    ``main``, with a bare ``origin`` remote it has been pushed to."""

    def make(kb_source: Path) -> Path:
        origin = tmp_path / "origin.git"
        git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
        work = init_kb_repo(tmp_path / "repo", kb_source)
        git(work, "remote", "add", "origin", str(origin))
        git(work, "push", "-q", "origin", "main")
        return work

    return make


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files like ``SimpleHTTPRequestHandler`` without logging each request."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Serve ``folder`` (created if missing) on 127.0.0.1, a free port, in a daemon
    thread; yields the base URL ``http://127.0.0.1:PORT/`` and shuts down on exit."""
    folder.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# --- a running server: wait for a page -----------------------------------------------------

SERVE_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        return str(exc.read().decode("utf-8", errors="replace"))


def wait_for(url: str, text: str, timeout: float = SERVE_TIMEOUT, present: bool = True) -> float:
    """Poll ``url`` until its page contains ``text`` (or no longer does, with
    ``present=False``); return the seconds it took."""
    start = time.monotonic()
    last = ""
    while time.monotonic() - start < timeout:
        try:
            last = fetch(url)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            last = ""
        if last and (text in last) == present:
            return time.monotonic() - start
        time.sleep(0.2)
    state = "appear" if present else "go away"
    raise AssertionError(f"{text!r} did not {state} at {url} within {timeout} s:\n{last[-2000:]}")


def build_arguments(kb: Path, audience: str, out: Path, *, today: str | None = None) -> list[str]:
    """The arguments after the program name of a ``kb build`` with the repository's
    ``mkdocs.yml``."""
    arguments = ["build", "--kb", str(kb), "--audience", audience, "--out", str(out)]
    if today is not None:
        arguments += ["--today", today]
    return [*arguments, "--config", str(REPO_ROOT / "mkdocs.yml")]


def build_site(
    kb: Path,
    audience: str,
    out: Path,
    *,
    today: str | None = None,
    env: dict[str, str] | None = None,
) -> Path:
    """``python -m tooling build`` of ``kb`` for ``audience`` into ``out``, in a subprocess
    from the repository root with its ``mkdocs.yml``; ``env`` adds to (or overrides) the
    environment. Asserts it succeeded; returns ``out``."""
    done = subprocess.run(
        [sys.executable, "-m", "tooling", *build_arguments(kb, audience, out, today=today)],
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def _chromium_missing_reason() -> str | None:
    if not Path(CHROMIUM).exists():
        return (
            "Debian chromium is not installed (`make test` installs it as root with "
            "apt-get: apt-get install chromium fonts-noto-cjk)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is missing (`make install` installs it)"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Debian Chromium driven by Playwright; skips loudly when unavailable."""
    reason = _chromium_missing_reason()
    if reason:
        pytest.skip(f"BROWSER TESTS SKIPPED: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield instance
        instance.close()
