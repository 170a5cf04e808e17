"""Every shared fixture of the test suite, and only fixtures (plain helpers: helpers.py).

Knowledge bases from dicts (``make_kb``), real git repositories (``make_repo``), the
fixture knowledge base's two sites built once per run (``fixture_sites``), a real
browser (``browser``). Test modules never import fixtures from one another.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, ItemsView, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Re-exported for test modules written as ``from conftest import ...``; new code imports
# the helpers module itself.
from helpers import (  # noqa: F401
    CHROMIUM,
    CONFIG,
    EVAL_KB,
    EVAL_QUERIES,
    FIXTURE_KB,
    FIXTURE_QUERIES,
    FIXTURE_TODAY,
    GIT_ENV,
    REPO_ROOT,
    SECTION_YAML,
    SERVE_TIMEOUT,
    SHARED,
    SITE_YAML,
    STAFF_YAML,
    build_arguments,
    build_site,
    built_once,
    entry_yaml,
    fetch,
    free_port,
    git,
    init_kb_repo,
    require_shared_eval,
    run_kb_build,
    serve_folder,
    wait_for,
)

# One vector/index cache for the whole session (and across runs: CI starts it
# empty), so each knowledge base is embedded once; subprocesses inherit it.
os.environ.setdefault("ZHIKU_CACHE_DIR", str(REPO_ROOT / ".pytest-cache" / "zhiku"))
# Under pytest-xdist every core already runs a worker: the model's OpenMP threads
# would only compete with the other workers (measured: 20 s less CPU per suite run).
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Markers follow the fixtures, so they cannot go stale: a test that uses ``browser``
    is ``browser``, one that uses a whole built site is ``slow``. Other slow tests (over
    about 3 s: they build sites or start servers) carry ``@pytest.mark.slow`` themselves."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if "browser" in used:
            item.add_marker(pytest.mark.browser)
        if used & SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)
    # pytest-xdist hands modules out in collection order: the longest go first, so that
    # none is left to run alone at the end while the other workers wait.
    first = {name: rank for rank, name in enumerate(LONGEST_MODULES)}
    items.sort(key=lambda item: first.get(item.nodeid.split("::")[0], len(first)))


SLOW_FIXTURES = {"fixture_sites"}
# The modules that take longest (measured with --durations=0), longest first. The
# eval knowledge base's answer index is built by the first; the other modules that
# use it (test_search_semantic, test_app_eval_kb) come later and load it, instead of
# waiting idle on the build lock at the same time.
LONGEST_MODULES = (
    "tests/test_search_eval.py",
    "tests/test_public_site_browser.py",
    "tests/security/test_app_holes.py",
    "tests/test_feedback_browser.py",
    "tests/test_browser_search.py",
)


@dataclass(frozen=True)
class BuiltSites:
    """Both sites of one knowledge base, built by ``kb build`` for a fixed day."""

    kb: Path
    today: str
    sites: dict[str, Path]
    logs: dict[str, str]

    def __getitem__(self, audience: str) -> Path:
        return self.sites[audience]

    def items(self) -> ItemsView[str, Path]:
        return self.sites.items()


@pytest.fixture(scope="session")
def fixture_sites(tmp_path_factory: pytest.TempPathFactory) -> BuiltSites:
    """The public and the staff site of tests/fixtures/kb as of FIXTURE_TODAY, built
    once per run and shared by all xdist workers. Read them; never write into them."""
    sites, logs = built_once(tmp_path_factory, "fixture-sites", FIXTURE_KB, FIXTURE_TODAY)
    return BuiltSites(FIXTURE_KB, FIXTURE_TODAY, sites, logs)


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
