"""Plain helpers for the tests: paths, entry text, git, an HTTP folder server, site builds.

Imported by ``conftest.py`` (which holds every fixture) and by test modules
(``from helpers import entry_yaml``). Nothing here is a fixture.
"""

from __future__ import annotations

import fcntl
import functools
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG = REPO_ROOT / "mkdocs.yml"
KB_CMD = str(Path(sys.executable).with_name("kb"))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

# The tool's own knowledge base and questions (tests/fixtures/): every test that needs a
# whole, realistic knowledge base uses these, never the team's kb/ (a team replaces it).
FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIXTURE_KB = FIXTURES / "kb"
FIXTURE_QUERIES = FIXTURES / "queries.tsv"
# The day the fixture is judged on: one notice has expired, one entry is stale.
FIXTURE_TODAY = "2026-11-25"

# The shared evaluation set beside the repository on the development machines only.
# ZHIKU_SHARED_DIR=/nonexistent runs the suite as a team's clone sees it.
SHARED = Path(os.environ.get("ZHIKU_SHARED_DIR") or REPO_ROOT.parent / "shared")
EVAL_KB = SHARED / "eval" / "kb"
EVAL_QUERIES = SHARED / "eval" / "queries-dev.tsv"

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


def run_kb_build(kb: Path, audience: str, out: Path, *, today: str | None = FIXTURE_TODAY) -> str:
    """``kb build`` in a subprocess, as a person runs it, from the repository root;
    asserts it succeeded and returns its log (stderr)."""
    done = subprocess.run(
        [KB_CMD, *build_arguments(kb, audience, out, today=today)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stderr


def require_shared_eval() -> None:
    """Skip, loudly, when the shared evaluation set is not beside the repository."""
    if not (EVAL_KB.is_dir() and EVAL_QUERIES.is_file()):
        pytest.skip(
            f"SHARED EVAL DATA ABSENT: {SHARED} is not beside the repository; this test "
            "measures quality on the large shared eval set, its fixture twin still runs"
        )


def shared_run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary folder shared by every pytest-xdist worker of this run (the run's
    base temporary folder), or this process's own one when not under xdist."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path``: one xdist worker at a time runs the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def built_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, kb: Path, today: str
) -> tuple[dict[str, Path], dict[str, str]]:
    """Both sites of ``kb`` built with ``kb build`` once per test run, whatever the number
    of xdist workers: ``({audience: site folder}, {audience: build log})``."""
    root = shared_run_folder(tmp_path_factory) / name
    with file_lock(root.with_suffix(".lock")):
        record = root / "logs.json"
        if not record.is_file():
            shutil.rmtree(root, ignore_errors=True)
            logs = {
                audience: run_kb_build(kb, audience, root / audience, today=today)
                for audience in ("public", "staff")
            }
            record.write_text(json.dumps(logs, ensure_ascii=False), encoding="utf-8")
        logs = json.loads(record.read_text(encoding="utf-8"))
    return {audience: root / audience for audience in logs}, logs


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


@contextmanager
def kb_serve(
    kb: Path, log: Path, *extra: str, ready: tuple[str, str], timeout: float = 30
) -> Iterator[str]:
    """A real ``kb serve`` of ``kb`` on a free port, its output in ``log``; yields the base
    URL once page ``ready[0]`` shows ``ready[1]``, and stops the whole process group."""
    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                *(KB_CMD, "serve", "--kb", str(kb), "--port", str(port)),
                *("--config", str(REPO_ROOT / "mkdocs.yml"), *extra),
            ],
            cwd=log.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        base = f"http://127.0.0.1:{port}/"
        wait_for(base + ready[0], ready[1], timeout=timeout)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
