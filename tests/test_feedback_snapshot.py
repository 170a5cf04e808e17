"""The feedback app's snapshot of main: a refresh reuses the previous snapshot by blob id.

Real git repositories in tmp: after a commit that changes one entry, only that
entry is parsed again, and the refreshed snapshot equals one built from nothing
(and what ``kb validate`` says about a checkout of that commit).
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from helpers import FIXTURE_KB, entry_yaml, git, init_kb_repo

from feedback_app.gitstore import GitStore
from feedback_app.snapshot import Snapshot, SnapshotCache
from tooling.git import GitError
from tooling.kb.check import validate

EDITED = "kb/repairs/water-leak.yaml"


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def cold(repo: Path, commit: str) -> Snapshot:
    """The snapshot of ``commit`` built by a new cache, from nothing."""
    return SnapshotCache(GitStore(repo), "kb").get(commit)


def same_content(a: Snapshot, b: Snapshot) -> None:
    assert a.loaded.kb.entries == b.loaded.kb.entries
    assert a.loaded.kb.sections == b.loaded.kb.sections
    assert a.loaded.kb.staff == b.loaded.kb.staff
    assert a.problems == b.problems
    assert a.files == b.files
    assert a.meta_blobs == b.meta_blobs


def test_refresh_after_one_entry_change_parses_only_that_entry(tmp_path: Path) -> None:
    repo = init_kb_repo(tmp_path / "repo", FIXTURE_KB)
    cache = SnapshotCache(GitStore(repo), "kb")
    first = cache.get(git(repo, "rev-parse", "HEAD").strip())
    entries = len(first.loaded.kb.entries)
    assert cache.load_cache.misses == entries  # the first build parses every entry

    path = repo / EDITED
    path.write_text(
        path.read_text(encoding="utf-8").replace("rule: |\n", "rule: |\n  先关总阀。\n", 1),
        encoding="utf-8",
    )
    tip = commit_all(repo, "Edit water-leak")
    refreshed = cache.get(tip)

    assert refreshed.commit == tip
    assert cache.load_cache.misses == entries + 1  # only the edited entry parsed again
    assert cache.mirror.written == 1  # and only its file written
    edited = refreshed.entry("water-leak")
    assert edited is not None and edited.rule.startswith("先关总阀。")
    before = {e.id: e for e in first.loaded.kb.entries}
    for entry in refreshed.loaded.kb.entries:  # every other entry is the very same object
        assert (entry is before[entry.id]) == (entry.id != "water-leak")
    same_content(refreshed, cold(repo, tip))


def test_refresh_follows_added_removed_and_broken_files(tmp_path: Path) -> None:
    repo = init_kb_repo(tmp_path / "repo", FIXTURE_KB)
    cache = SnapshotCache(GitStore(repo), "kb")
    cache.get(git(repo, "rev-parse", "HEAD").strip())

    shutil.rmtree(repo / "kb" / "community" / "notices")  # a whole sub-section goes
    (repo / "kb" / "fees" / "parking-monthly.yaml").unlink()
    (repo / "kb" / "fees" / "new-fee.yaml").write_text(entry_yaml("new-fee"), encoding="utf-8")
    (repo / "kb" / "repairs" / "access-card.yaml").write_text(
        entry_yaml("access-card", phrasing="[一, 二]"), encoding="utf-8"
    )
    tip = commit_all(repo, "Reorganise")
    refreshed = cache.get(tip)

    ids = {e.id for e in refreshed.loaded.kb.entries}
    assert "new-fee" in ids and "parking-monthly" not in ids and "access-card" not in ids
    assert not (cache.mirror.root / "community" / "notices").exists()  # no empty folder left
    assert "community/notices" not in {s.path for s in refreshed.loaded.kb.sections}
    assert any(p.file == "repairs/access-card.yaml" for p in refreshed.problems)
    same_content(refreshed, cold(repo, tip))
    checkout = validate(repo / "kb", date.today())  # what kb validate says of the checkout
    assert refreshed.problems == checkout.problems
    assert refreshed.loaded.kb.entries == checkout.kb.entries


def test_snapshot_of_an_older_commit_after_a_newer_one(tmp_path: Path) -> None:
    """Moving back (main reset to an older commit) restores the older files."""
    repo = init_kb_repo(tmp_path / "repo", FIXTURE_KB)
    old = git(repo, "rev-parse", "HEAD").strip()
    (repo / "kb" / "fees" / "new-fee.yaml").write_text(entry_yaml("new-fee"), encoding="utf-8")
    new = commit_all(repo, "Add new-fee")
    cache = SnapshotCache(GitStore(repo), "kb")
    assert cache.get(new).entry("new-fee") is not None
    back = cache.get(old)
    assert back.entry("new-fee") is None
    assert cache.load_cache.misses == len(back.loaded.kb.entries) + 1
    same_content(back, cold(repo, old))


def test_a_tree_with_a_symbolic_link_is_exported_whole(tmp_path: Path) -> None:
    repo = init_kb_repo(tmp_path / "repo", FIXTURE_KB)
    cache = SnapshotCache(GitStore(repo), "kb")
    cache.get(git(repo, "rev-parse", "HEAD").strip())
    (repo / "kb" / "fees" / "notes.md").symlink_to("../repairs/_section.yaml")
    linked = commit_all(repo, "Add a link")
    with_link = cache.get(linked)
    assert (cache.mirror.root / "fees" / "notes.md").is_symlink()
    same_content(with_link, cold(repo, linked))
    (repo / "kb" / "fees" / "notes.md").unlink()
    plain = commit_all(repo, "Remove the link")
    same_content(cache.get(plain), cold(repo, plain))
    assert not (cache.mirror.root / "fees" / "notes.md").exists()


def test_a_link_pointing_outside_the_repository_is_left_out(tmp_path: Path) -> None:
    """tarfile's data filter refuses such a link; the snapshot leaves that one file out
    (the app keeps answering) instead of failing on every request."""
    repo = init_kb_repo(tmp_path / "repo", FIXTURE_KB)
    (repo / "kb" / "fees" / "outside.yaml").symlink_to("../../../../../../etc/hostname")
    (repo / "kb" / "fees" / "notes.md").symlink_to("../repairs/_section.yaml")
    linked = commit_all(repo, "Add a link out of the repository and one inside it")
    cache = SnapshotCache(GitStore(repo), "kb")
    snapshot = cache.get(linked)
    assert not (cache.mirror.root / "fees" / "outside.yaml").exists()
    assert (cache.mirror.root / "fees" / "notes.md").is_symlink()  # inside: kept
    assert len(snapshot.loaded.kb.entries) == len(validate(FIXTURE_KB).kb.entries)


def test_a_move_that_fails_midway_is_redone_whole(tmp_path: Path) -> None:
    """A git failure while the mirror moves (after it deleted removed files) must not
    leave it believing it holds them: the next move writes everything again."""
    repo = init_kb_repo(tmp_path / "repo", FIXTURE_KB)
    store = GitStore(repo)
    cache = SnapshotCache(store, "kb")
    cache.get(git(repo, "rev-parse", "HEAD").strip())
    removed = repo / EDITED
    text = removed.read_text(encoding="utf-8")
    removed.unlink()
    without = commit_all(repo, "Remove water-leak")
    real = store.blobs

    def failing(oids: list[str]) -> dict[str, bytes]:
        raise GitError(["cat-file", "--batch"], -1, "timed out")

    store.blobs = failing  # type: ignore[method-assign]
    with pytest.raises(GitError):
        cache.get(without)
    store.blobs = real  # type: ignore[method-assign]
    removed.write_text(text, encoding="utf-8")
    back = commit_all(repo, "Restore water-leak")
    restored = cache.get(back)
    assert restored.entry("water-leak") is not None
    same_content(restored, cold(repo, back))
