"""Missing knowledge: the unanswered-questions log, clustered."""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from conftest import entry_yaml

from tooling.kb.model import KnowledgeBase
from tooling.report.build import build_report, make_report
from tooling.report.missing import (
    bigram_nearest,
    cluster_queries,
    normalize_query,
    queries_log_path,
    read_queries_log,
    search_nearest,
    suggestion_floor,
)

TODAY = date(2026, 11, 25)

# (query, day in November 2026, audience)
LOG = [
    ("停车卡丢了怎么办", 20, "public"),
    ("停车卡丢了怎么办", 21, "staff"),
    ("停车卡丢了怎么办?", 22, "public"),  # full-width punctuation
    ("停車卡丟了怎麼辦", 23, "public"),  # traditional characters
    ("停车卡丢了怎么办呢", 10, "public"),  # one particle more
    ("停车卡丢了怎么补办", 11, "public"),
    ("物业费多少钱", 12, "public"),  # shares 费多少钱 with the next one: not the same question
    ("物业费 多少钱", 13, "public"),
    ("停车费多少钱", 14, "public"),
    ("停车费多少钱", 24, "staff"),
    ("ＷＩＦＩ密码是多少", 15, "public"),  # full-width letters
    ("wifi密码是多少?", 16, "public"),
    ("电梯坏了找谁", 17, "public"),
    ("???", 18, "public"),  # nothing left after normalizing: ignored
]


def write_log(path: Path, extra: tuple[str, ...] = ()) -> Path:
    lines = [
        json.dumps(
            {"query": q, "time": f"2026-11-{day:02d}T10:00:00+00:00", "audience": audience},
            ensure_ascii=False,
        )
        for q, day, audience in LOG
    ]
    path.write_text("\n".join([*lines, *extra]) + "\n", encoding="utf-8")
    return path


def test_normalize_query() -> None:
    assert normalize_query("停車卡丟了怎麼辦?") == "停车卡丢了怎么办"
    assert normalize_query(" ＷＩＦＩ 密码是多少? ") == "wifi密码是多少"
    assert normalize_query("???") == ""


def test_clusters_exact_groups_and_counts(tmp_path: Path) -> None:
    queries = read_queries_log(write_log(tmp_path / "log.jsonl"))
    clusters = cluster_queries(queries)
    assert [(c.count, c.variants) for c in clusters] == [
        # ties between wordings: the most recent first
        (
            6,
            (
                "停车卡丢了怎么办",
                "停車卡丟了怎麼辦",
                "停车卡丢了怎么办?",
                "停车卡丢了怎么补办",
                "停车卡丢了怎么办呢",
            ),
        ),
        (2, ("停车费多少钱",)),
        (2, ("wifi密码是多少?", "ＷＩＦＩ密码是多少")),
        (2, ("物业费 多少钱", "物业费多少钱")),
        (1, ("电梯坏了找谁",)),
    ]
    assert [c.representative for c in clusters] == [
        "停车卡丢了怎么办",
        "停车费多少钱",
        "wifi密码是多少?",
        "物业费 多少钱",
        "电梯坏了找谁",
    ]
    assert [str(c.last_seen.date()) for c in clusters] == [
        "2026-11-23",
        "2026-11-24",
        "2026-11-16",
        "2026-11-13",
        "2026-11-17",
    ]
    assert clusters[0].audiences == (("public", 5), ("staff", 1))


def test_stricter_threshold_splits_the_rewordings(tmp_path: Path) -> None:
    clusters = cluster_queries(read_queries_log(write_log(tmp_path / "log.jsonl")), threshold=0.9)
    assert [c.count for c in clusters if "停车卡" in c.representative] == [4, 1, 1]


def test_bad_lines_are_skipped_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_log(tmp_path / "log.jsonl", ("not json", '{"query": "x"}', ""))
    assert len(read_queries_log(path)) == len(LOG)
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        f"{path}: skipped 2 line(s) that are not {{query, time, audience}} JSON"
    ]


def test_period_and_nearest_suggestion(
    make_kb: Callable[[dict[str, str | bytes]], Path], tmp_path: Path
) -> None:
    kb_root = make_kb(
        {
            "repairs/parking-card.yaml": entry_yaml(
                "parking-card",
                question="停车卡怎么补办?",
                phrasings="\n  - 停车卡坏了\n  - 车卡丢失补办",
            )
        }
    )
    log = write_log(tmp_path / "log.jsonl")
    asked: list[str] = []

    def nearest(query: str) -> list[tuple[str, str]]:
        asked.append(query)
        return [("parking-card", "停车卡怎么补办?")] if "停车卡" in query else []

    report = make_report(
        kb_root, today=TODAY, since=date(2026, 11, 14), queries_log=log, nearest=nearest
    )
    # 2026-11-14 .. 2026-11-25 only: 停车卡 x4 (20-23), 停车费 x2, wifi x2, 电梯 x1, ??? x1
    assert report.queries == 10
    assert [(c.representative, c.count) for c in report.missing] == [
        ("停车卡丢了怎么办", 4),
        ("停车费多少钱", 2),
        ("wifi密码是多少?", 2),
        ("电梯坏了找谁", 1),
    ]
    assert asked == [c.representative for c in report.missing]
    assert report.missing[0].nearest is not None
    assert report.missing[0].nearest.entry_id == "parking-card"
    assert [c.nearest for c in report.missing[1:]] == [None, None, None]


def test_bigram_nearest_stand_in(make_kb: Callable[[dict[str, str | bytes]], Path]) -> None:
    from tooling.kb.load import load

    kb = load(
        make_kb(
            {
                "repairs/parking-card.yaml": entry_yaml(
                    "parking-card",
                    question="停车卡怎么补办?",
                    phrasings="\n  - 停车卡坏了\n  - 车卡丢失",
                ),
                "repairs/elevator.yaml": entry_yaml(
                    "elevator",
                    question="电梯坏了怎么报修?",
                    phrasings="\n  - 电梯停了\n  - 电梯困人",
                ),
            }
        )
    ).kb
    nearest = bigram_nearest(kb)
    assert nearest("停车卡丢了怎么办")[0] == ("parking-card", "停车卡怎么补办?")
    assert nearest("電梯壞了找誰")[0][0] == "elevator"
    assert nearest("完全无关") == []
    report = build_report(kb, today=TODAY, nearest=nearest)
    assert report.missing == ()


def two_entry_kb(make_kb: Callable[[dict[str, str | bytes]], Path]) -> KnowledgeBase:
    from tooling.kb.load import load

    return load(
        make_kb(
            {
                "repairs/parking-card.yaml": entry_yaml(
                    "parking-card",
                    question="停车卡怎么补办?",
                    phrasings="\n  - 停车卡坏了\n  - 车卡丢失",
                ),
                "repairs/elevator.yaml": entry_yaml(
                    "elevator",
                    question="电梯坏了怎么报修?",
                    phrasings="\n  - 电梯停了\n  - 电梯困人",
                ),
            }
        )
    ).kb


def test_search_nearest_ranks_candidates_with_the_site_search(
    make_kb: Callable[[dict[str, str | bytes]], Path],
) -> None:
    kb = two_entry_kb(make_kb)
    nearest = search_nearest(kb, ["停车卡丢了怎么办", "電梯壞了找誰"])
    assert nearest("停车卡丢了怎么办")[0] == ("parking-card", "停车卡怎么补办?")
    assert nearest("電梯壞了找誰")[0][0] == "elevator"


def test_search_nearest_falls_back_when_the_index_fails(
    make_kb: Callable[[dict[str, str | bytes]], Path],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import tooling.answer

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(tooling.answer.SearchIndex, "build", broken)
    kb = two_entry_kb(make_kb)
    nearest = search_nearest(kb, ["停车卡丢了怎么办"])
    assert nearest("停车卡丢了怎么办")[0][0] == "parking-card"
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "search index unavailable (OSError: disk full); suggesting entries by shared "
        "character bigrams instead"
    ]


def test_a_nearest_entry_that_is_not_near_is_not_suggested(
    make_kb: Callable[[dict[str, str | bytes]], Path],
) -> None:
    """An after-school-class question is not sent to the parking or elevator entries:
    the engine's own confidence in them is below its own refusal threshold."""
    kb = two_entry_kb(make_kb)
    questions = ["孩子放学后有没有托管班", "停车卡丢了怎么办"]
    nearest = search_nearest(kb, questions)
    assert nearest("孩子放学后有没有托管班") == []
    assert nearest("停车卡丢了怎么办")[0][0] == "parking-card"
    assert bigram_nearest(kb)("孩子放学后有没有托管班") == []


def test_the_floor_is_the_engines_threshold() -> None:
    class Calibrated:
        threshold = 0.83

    assert suggestion_floor(Calibrated()) == 0.83
    assert suggestion_floor(object()) == 0.0  # no fitted threshold: every match counts


def test_the_log_is_read_where_the_app_writes_it_by_default(tmp_path: Path) -> None:
    repo = tmp_path / "kb-repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    expected = (repo / ".git" / "zhiku-unanswered.jsonl").resolve()
    assert queries_log_path(None, repo) == expected
    assert queries_log_path(str(tmp_path / "x.jsonl"), repo) == tmp_path / "x.jsonl"
    assert queries_log_path(None, None) is None
    assert queries_log_path(None, tmp_path / "not-a-repo") is None
