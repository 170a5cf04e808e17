"""Several app instances against one remote, as on several machines.

Two gunicorn processes, each started with ``deploy/gunicorn.conf.py`` on its own bare
clone of one bare "origin" (the team's GitHub), both pushing flag branches there and
counting rate limits in one shared storage. redis-server is not assumed: the two
instances share one SQLite file through ``RATE_LIMIT_STORAGE_URI``, which is what two
processes on one machine can share; machines share ``redis://`` the same way.
Everything listens on 127.0.0.1 and every request loop is bounded.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO_ROOT, SECTION_YAML, SITE_YAML, STAFF_YAML, entry_yaml, git

from feedback_app.auth import TokenStore

pytestmark = pytest.mark.slow

GUNICORN = Path(sys.executable).with_name("gunicorn")
DEPLOY = REPO_ROOT / "deploy"
FLAGS_PER_HOUR = 6  # per staff member, across both instances
AUTHORS = {"zhang-wei": ("张伟", "zhang.wei@example.com"), "li-na": ("李娜", "li.na@example.com")}


class Instance:
    """``gunicorn -c deploy/gunicorn.conf.py`` on a free port, its logs in files."""

    def __init__(self, name: str, env: dict[str, str], folder: Path) -> None:
        self.error_log = folder / f"{name}-error.log"
        self.access_log = folder / f"{name}-access.log"
        self._err = self.error_log.open("w", encoding="utf-8")
        self.process = subprocess.Popen(
            [
                *(str(GUNICORN), "-c", str(DEPLOY / "gunicorn.conf.py")),
                *("-b", "127.0.0.1:0", "-w", "2", "--access-logfile", str(self.access_log)),
                "feedback_app:create_app()",
            ],
            cwd=REPO_ROOT,
            env={**os.environ, **env},
            stdout=self._err,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while not (found := re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", self.log())):
            assert self.process.poll() is None, self.log()
            assert time.monotonic() < deadline, self.log()
            time.sleep(0.1)
        self.url = found.group(1)
        while self.request("GET", "/healthz")[0] != 200:
            assert time.monotonic() < deadline + 60, self.log()
            time.sleep(0.2)

    def log(self) -> str:
        self._err.flush()
        return self.error_log.read_text(encoding="utf-8", errors="replace")

    def request(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())
        except OSError:
            return 0, {}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._err.close()


def flag_branches(repo: Path) -> dict[str, tuple[str, str]]:
    """``{branch: (author name, author email)}`` of every flag branch in ``repo``."""
    out = git(
        repo,
        "for-each-ref",
        "--format=%(refname:short)%00%(authorname)%00%(authoremail:trim)",
        "refs/heads/flag/",
    )
    rows = [line.split("\0") for line in out.splitlines()]
    return {branch: (name, email) for branch, name, email in rows}


@pytest.fixture
def two_instances(tmp_path: Path) -> Iterator[tuple[Instance, Instance, dict[str, str], Path]]:
    reviewed = (date.today() - timedelta(days=10)).isoformat()
    source = tmp_path / "source"
    for rel, text in {
        "kb/_staff.yaml": STAFF_YAML,
        "kb/_site.yaml": SITE_YAML,
        "kb/repairs/_section.yaml": SECTION_YAML,
        "kb/repairs/no-water.yaml": entry_yaml("no-water", reviewed=reviewed),
        "kb/repairs/power-cut.yaml": entry_yaml("power-cut", reviewed=reviewed),
    }.items():
        (source / rel).parent.mkdir(parents=True, exist_ok=True)
        (source / rel).write_text(text, encoding="utf-8")
    git(source, "init", "-q", "-b", "main")
    git(source, "add", "-A")
    git(source, "commit", "-q", "-m", "Knowledge base")
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(source), str(origin))
    store = TokenStore(tmp_path / "tokens.json")
    tokens = {handle: store.issue(handle) for handle in AUTHORS}
    shared = f"sqlite:///{tmp_path / 'shared' / 'ratelimit.sqlite3'}"
    instances = []
    try:
        for name in ("a", "b"):
            clone = tmp_path / f"{name}.git"  # one machine's clone
            git(tmp_path, "clone", "-q", "--bare", str(origin), str(clone))
            env = {
                "ZHIKU_REPO": str(clone),
                "ZHIKU_REMOTE": "origin",
                "ZHIKU_TOKENS_FILE": str(store.path),
                "ZHIKU_RATE_LIMIT_STORAGE_URI": shared,
                "ZHIKU_FLAG_RATE_LIMIT": f"{FLAGS_PER_HOUR} per hour",
                "ZHIKU_REF_CHECK_SECONDS": "0",
            }
            instances.append(Instance(name, env, tmp_path))
        yield instances[0], instances[1], tokens, tmp_path
    finally:
        for instance in instances:
            instance.stop()


def test_flags_sent_to_two_instances_land_once_each_and_share_the_limit(
    two_instances: tuple[Instance, Instance, dict[str, str], Path],
) -> None:
    a, b, tokens, tmp = two_instances
    origin = tmp / "origin.git"
    sent: dict[str, str] = {}  # branch -> handle
    by_instance: dict[str, set[str]] = {"a": set(), "b": set()}
    for i in range(FLAGS_PER_HOUR):  # each staff member alternately to A and B
        for turn, handle in enumerate(AUTHORS):
            name, instance = ("a", a) if (i + turn) % 2 == 0 else ("b", b)
            entry = "no-water" if i % 2 else "power-cut"
            body = {"entry": entry, "kind": "unclear", "note": f"{handle} 第 {i} 条"}
            status, data = instance.request("POST", "/api/flags", body, tokens[handle])
            # On a failure, the instance's log says why git refused the push.
            assert (status, data.get("pushed")) == (201, True), (
                status,
                data,
                instance.log()[-2000:],
            )
            assert data["branch"] not in sent
            sent[data["branch"]] = handle
            by_instance[name].add(data["branch"])

    # Half of each one's flags went to A, half to B: only a shared count is used up,
    # so both refuse now.
    for instance in (a, b, a):
        status, data = instance.request(
            "POST",
            "/api/flags",
            {"entry": "no-water", "kind": "wrong", "note": "再来一条"},
            tokens["zhang-wei"],
        )
        assert status == 429, data
    assert sorted(len(s) for s in by_instance.values()) == [FLAGS_PER_HOUR, FLAGS_PER_HOUR]

    landed = flag_branches(origin)
    assert landed == {branch: AUTHORS[handle] for branch, handle in sent.items()}
    assert len(landed) == 2 * FLAGS_PER_HOUR
    # Each machine's clone holds the flags it wrote, until it fetches.
    assert set(flag_branches(tmp / "a.git")) == by_instance["a"]
    assert set(flag_branches(tmp / "b.git")) == by_instance["b"]
    fsck = subprocess.run(
        ["git", "fsck", "--strict", "--no-dangling"], cwd=origin, capture_output=True, text=True
    )
    assert (fsck.returncode, fsck.stdout) == (0, "")

    # The fetch unit's own command brings the other machine's flags into A's clone,
    # and A then lists them as open flags.
    unit = (DEPLOY / "zhiku-feedback-fetch.service").read_text(encoding="utf-8")
    command = re.search(r"^ExecStart=(.*)$", unit, re.MULTILINE)
    assert command is not None
    argv = [w.replace("/srv/zhiku/kb.git", str(tmp / "a.git")) for w in shlex.split(command[1])]
    subprocess.run(argv, check=True, capture_output=True)
    assert flag_branches(tmp / "a.git") == landed
    status, listed = a.request("GET", "/api/flags?entry=no-water", token=tokens["li-na"])
    expected = sorted(b for b in landed if b.startswith("flag/no-water/"))
    assert (status, sorted(f["branch"] for f in listed["flags"])) == (200, expected)


def test_access_log_has_no_token_and_no_question(
    two_instances: tuple[Instance, Instance, dict[str, str], Path],
) -> None:
    a, _, tokens, _ = two_instances
    question = "停水了保密问题怎么办"
    status, _ = a.request(
        "GET",
        "/api/search?q=" + urllib.request.quote(question) + "&audience=staff",
        token=tokens["zhang-wei"],
    )
    assert status == 200
    deadline = time.monotonic() + 10
    while "/api/search" not in a.access_log.read_text(encoding="utf-8"):
        assert time.monotonic() < deadline, "the request never reached the access log"
        time.sleep(0.1)
    logged = a.access_log.read_text(encoding="utf-8")
    assert '"GET /api/search" 200' in logged
    for secret in (tokens["zhang-wei"], urllib.request.quote(question), question, "q="):
        assert secret not in logged
