"""``kb serve`` rebuilds only the pages a save affects (a real server in a subprocess).

The plugin logs ``N of M pages rebuilt: <pages>`` after every rebuild; the pages
listed are the ones MkDocs converted and wrote again. Unchanged pages keep the
previous build's ``Page`` (:mod:`tooling.site.serving`), so they must still be
served, and take part in a later full rebuild, as before.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import entry_yaml, fetch, kb_serve, wait_for
from watchdog.events import (
    DirMovedEvent,
    FileClosedNoWriteEvent,
    FileModifiedEvent,
    FileOpenedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)

from tooling.site.serving import ChangesOnly

pytestmark = pytest.mark.slow

REBUILT = re.compile(r"(\d+) of (\d+) pages rebuilt(?:: ([^;\n]*))?")
TODAY = "2026-11-25"


@pytest.fixture
def served(
    make_kb: Callable[[dict[str, str | bytes]], Path], tmp_path: Path
) -> Iterator[tuple[str, Path, Path]]:
    kb = make_kb(
        {
            "repairs/leak.yaml": entry_yaml("leak", question="漏水找谁?"),
            "repairs/no-water.yaml": entry_yaml(
                "no-water", question="家里没水了怎么办?", related="[leak]"
            ),
            "repairs/door.yaml": entry_yaml("door", question="门锁坏了怎么办?"),
            "fees/pay.yaml": entry_yaml("pay", question="物业费怎么交?"),
        }
    )
    log = tmp_path / "serve.log"
    with kb_serve(
        kb, log, "--today", TODAY, ready=("repairs/leak/", "漏水找谁"), timeout=60
    ) as base:
        yield base, kb, log


def rebuilt_after(log: Path, count: int, timeout: float = 30.0) -> tuple[set[str], int, int]:
    """The pages of the ``count``-th rebuild line: (pages, rebuilt, total)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        found = REBUILT.findall(log.read_text(encoding="utf-8"))
        if len(found) >= count:
            rebuilt, total, names = found[count - 1]
            return {n for n in names.split(", ") if n}, int(rebuilt), int(total)
        time.sleep(0.1)
    raise AssertionError(f"no rebuild #{count} in the log:\n{log.read_text()[-3000:]}")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_a_save_rebuilds_only_the_pages_it_affects(served: tuple[str, Path, Path]) -> None:
    base, kb, log = served

    # A new rule: the entry's page and its section page (which shows the rule's first line).
    edit(kb / "repairs/leak.yaml", "核心规则第一行。", "先关总阀再报修。")
    wait_for(base + "repairs/leak/", "先关总阀再报修。")
    pages, rebuilt, total = rebuilt_after(log, 1)
    assert pages == {"repairs/leak.md", "repairs/index.md"}
    assert (rebuilt, total) == (2, 10)  # home, desk, 2 sections, 4 entries, 2 reports
    assert "先关总阀再报修。" in fetch(base + "repairs/")
    # Pages that were not rebuilt are still there, from the first build.
    assert "门锁坏了怎么办" in fetch(base + "repairs/door/")
    assert "物业费怎么交" in fetch(base + "fees/pay/")

    # Reading the files (as every build does) is no change: no rebuild follows.
    for path in kb.rglob("*.yaml"):
        path.read_bytes()
    time.sleep(1.5)
    assert len(REBUILT.findall(log.read_text(encoding="utf-8"))) == 1

    # A new question also changes the page linking to it (no-water), the home page's
    # recently reviewed list, and the health report that names it.
    edit(kb / "repairs/leak.yaml", "漏水找谁?", "楼上漏水找谁?")
    wait_for(base + "repairs/no-water/", "楼上漏水找谁")
    pages, rebuilt, _ = rebuilt_after(log, 2)
    assert {"repairs/leak.md", "repairs/index.md", "repairs/no-water.md", "index.md"} <= pages
    assert pages - {"knowledge-report/health.md", "knowledge-report/credit.md"} == {
        "repairs/leak.md",
        "repairs/index.md",
        "repairs/no-water.md",
        "index.md",
    }
    assert "repairs/door.md" not in pages and "fees/pay.md" not in pages

    # A new section changes the navigation on every page: everything is rebuilt.
    (kb / "notices").mkdir()
    (kb / "notices/_section.yaml").write_text("title: 通知\norder: 3\n", encoding="utf-8")
    (kb / "notices/holiday.yaml").write_text(
        entry_yaml("holiday", question="节假日客服几点上班?"), encoding="utf-8"
    )
    wait_for(base + "notices/holiday/", "节假日客服几点上班")
    wait_for(base + "fees/pay/", "通知")  # the old page has the new navigation
    found = REBUILT.findall(log.read_text(encoding="utf-8"))
    last_rebuilt, last_total, _ = found[-1]
    assert last_rebuilt == last_total


def test_a_deleted_entry_page_goes_away(served: tuple[str, Path, Path]) -> None:
    base, kb, log = served
    (kb / "repairs/door.yaml").unlink()
    wait_for(base + "repairs/", "门锁坏了", present=False)
    assert "门锁坏了" not in fetch(base + "repairs/door/")  # 404 page, not the stale page
    assert "1 removed" in log.read_text(encoding="utf-8")


class _Recorder(FileSystemEventHandler):
    def __init__(self) -> None:
        self.events: list[FileSystemEvent] = []

    def dispatch(self, event: FileSystemEvent) -> None:
        self.events.append(event)


def test_only_changes_reach_the_server() -> None:
    inner = _Recorder()
    handler = ChangesOnly(inner)
    handler.dispatch(FileOpenedEvent("/kb/repairs/leak.yaml"))
    handler.dispatch(FileClosedNoWriteEvent("/kb/repairs/leak.yaml"))
    assert inner.events == []
    handler.dispatch(FileModifiedEvent("/kb/repairs/leak.yaml"))
    # MkDocs ignores folder events; a section moved away must still rebuild.
    handler.dispatch(DirMovedEvent("/kb/repairs", "/elsewhere/repairs"))
    assert [(e.event_type, e.src_path, e.is_directory) for e in inner.events] == [
        ("modified", "/kb/repairs/leak.yaml", False),
        ("modified", "/kb/repairs", False),
    ]


def test_every_watch_moves_to_inotify(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """`kb serve` swaps MkDocs' polling observer for inotify; every path MkDocs watched
    before (the docs folder, mkdocs.yml, theme folders with --watch-theme) must move,
    as the polling observer is then never started."""
    from mkdocs.livereload import LiveReloadServer
    from watchdog.observers.polling import PollingObserver

    from tooling.site.serving import use_inotify

    docs, theme, config = tmp_path / "docs", tmp_path / "theme", tmp_path / "mkdocs.yml"
    docs.mkdir()
    theme.mkdir()
    config.write_text("site_name: x\n", encoding="utf-8")
    server = LiveReloadServer(builder=lambda: None, host="127.0.0.1", port=0, root=str(docs))
    request.addfinalizer(server.server_close)  # its socket, made (not bound) in __init__
    for path in (docs, config, theme, theme):
        server.watch(str(path))
    before, polling = dict(server._watched_paths), server.observer
    if not use_inotify(server):
        pytest.skip("INOTIFY UNAVAILABLE on this machine: the swap is not made")
    assert not isinstance(server.observer, PollingObserver)
    assert polling.emitters == set()  # nothing left where no one will look
    assert server._watched_paths == before == {str(docs): 1, str(config): 1, str(theme): 2}
    # A file is watched through its folder (MkDocs' way).
    assert {e.watch.path for e in server.observer.emitters} == {
        str(docs),
        str(theme),
        str(tmp_path),
    }
