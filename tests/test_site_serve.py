"""``kb serve``: a real server in a subprocess picks up edited YAML and survives errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import SERVE_TIMEOUT, entry_yaml, fetch, kb_serve, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def served(
    make_kb: Callable[[dict[str, str | bytes]], Path], tmp_path: Path
) -> Iterator[tuple[str, Path, Path]]:
    """``(base url, kb folder, log file)`` of a ``kb serve`` running on a free port."""
    kb = make_kb(
        {
            "repairs/no-water.yaml": entry_yaml("no-water", question="家里没水了怎么办?"),
            "repairs/leak.yaml": entry_yaml("leak", question="漏水找谁?"),
        }
    )
    log = tmp_path / "serve.log"
    with kb_serve(kb, log, ready=("repairs/no-water/", "家里没水了怎么办")) as base:
        yield base, kb, log


def test_serve_picks_up_an_edited_yaml_file(served: tuple[str, Path, Path]) -> None:
    base, kb, log = served
    page = base + "repairs/no-water/"
    assert "livereload" in fetch(page)  # the open page reloads itself on a change
    path = kb / "repairs/no-water.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("核心规则第一行。", "先关总阀再报修。"),
        encoding="utf-8",
    )
    took = wait_for(page, "先关总阀再报修。")
    assert took < SERVE_TIMEOUT
    assert log.read_text().count("pages rendered for the staff site") >= 2


def test_serve_shows_validation_errors_and_keeps_running(served: tuple[str, Path, Path]) -> None:
    base, kb, log = served
    path = kb / "repairs/leak.yaml"
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("owner: zhang-wei", "owner: nobody"), encoding="utf-8")
    # The error shows on every page (here the home page) and in the terminal.
    wait_for(base, "知识库有 1 个错误")
    assert "<code>repairs/leak.yaml:3:8</code> 负责人 `nobody` 不在 _staff.yaml 里" in fetch(base)
    assert "repairs/leak.yaml:3:8: error:" in log.read_text()
    path.write_text(good, encoding="utf-8")
    wait_for(base, "知识库有", present=False)
    assert "漏水找谁" in fetch(base + "repairs/leak/")
