"""Flags, from request to credited branch: check, spool, commit, push.

``prepare`` checks a request against main (entry, roster, proposal and the
resulting knowledge base) without writing anything; ``submit`` spools it
durably, writes ``flag/<entry>/<id>`` under the repository lock, pushes it if
a remote is configured, and only then forgets the spool item.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from feedback_app.gitstore import GitError, GitStore, Identity, RepoLock
from feedback_app.proposals import (
    InputError,
    Proposal,
    apply_proposal,
    clean_text,
    parse_proposal,
    yaml_value,
)
from feedback_app.snapshot import Snapshot, SnapshotCache
from feedback_app.spool import Spool

log = logging.getLogger(__name__)

KIND_LABELS = {"wrong": "答案错误", "missing": "场景缺失", "unclear": "表述模糊"}
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
FIELDS = ("entry", "kind", "note", "proposal")
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Prepared:
    """A checked flag, ready to spool. ``new_text`` is the edited entry file for ``base``."""

    id: str
    entry: str
    kind: str
    note: str
    handle: str
    by_name: str
    by_email: str
    received: float
    base: str
    path: str
    proposal: dict[str, Any] | None = None
    new_text: str | None = None

    @property
    def branch(self) -> str:
        return f"flag/{self.entry}/{self.id}"


class ServiceError(RuntimeError):
    """The app cannot take flags right now (e.g. main is missing)."""


class FlagService:
    def __init__(
        self,
        repo: Path,
        *,
        kb_dir: str = "kb",
        base_branch: str = "main",
        remote: str | None = None,
        committer: Identity,
        spool_dir: Path | None = None,
    ) -> None:
        self.store = GitStore(repo)
        self.kb_dir = kb_dir.strip("/")
        self.base_ref = f"refs/heads/{base_branch}"
        self.remote = remote or None
        self.committer = committer
        self.lock = RepoLock(self.store.git_dir / "zhiku-feedback.lock")
        self.snapshots = SnapshotCache(self.store, self.kb_dir)
        self.spool = Spool(spool_dir or self.store.git_dir / "zhiku-spool")

    # -- reading -----------------------------------------------------------------------------

    def current(self) -> Snapshot:
        tip = self.store.resolve(self.base_ref)
        if tip is None:
            raise ServiceError(f"{self.base_ref} does not exist in {self.store.repo}")
        return self.snapshots.get(tip)

    def open_flags(self, entry_id: str) -> list[dict[str, Any]]:
        """Flags on ``entry_id`` whose branch is not merged into main, newest first."""
        flags = []
        for ref in self.store.flag_refs(f"refs/heads/flag/{entry_id}/", self.base_ref):
            message, by_name, created = ref.message, ref.author_name, ref.created
            trailers = _trailers(message)
            if "Flag-Id" not in trailers:  # a reviewer committed on top: read the flag commit
                first = self.store.run(
                    "log",
                    "--reverse",
                    "--format=%an%x00%aI%x00%B%x1e",
                    f"{self.base_ref}..{ref.commit}",
                ).split("\x1e")[0]
                if first.count("\0") >= 2:
                    by_name, created, message = first.lstrip("\n").split("\0", 2)
                    trailers = _trailers(message)
            paragraphs = message.strip("\n").split("\n\n")
            flags.append(
                {
                    "id": trailers.get("Flag-Id", ref.branch.rsplit("/", 1)[-1]),
                    "entry": entry_id,
                    "kind": trailers.get("Flag-Kind", ""),
                    "note": "\n\n".join(paragraphs[1:-1]),
                    "created": created,
                    "by_name": by_name,
                    "branch": ref.branch,
                    "proposal": trailers.get("Flag-Proposal"),
                }
            )
        return flags

    # -- checking ----------------------------------------------------------------------------

    def prepare(self, handle: str, payload: Any) -> Prepared:
        """Check a request; raise :class:`InputError` saying what to fix. Writes nothing."""
        if not isinstance(payload, dict):
            raise InputError(
                'send a JSON object: {"entry": ID, "kind": "wrong", '
                '"note": TEXT, "proposal": optional}'
            )
        unknown = sorted(set(payload) - set(FIELDS))
        if unknown:
            raise InputError(
                f"unknown field(s) {', '.join(unknown)}: the fields are {', '.join(FIELDS)}"
            )
        entry_id = payload.get("entry")
        if not isinstance(entry_id, str) or not SLUG.match(entry_id) or len(entry_id) > 100:
            raise InputError(
                "`entry` must be an entry id (lower-case letters, digits and "
                "hyphens), e.g. return-window"
            )
        kind = payload.get("kind")
        if kind not in KIND_LABELS:
            raise InputError(
                "`kind` must be one of: wrong (答案错误), missing (场景缺失), unclear (表述模糊)"
            )
        if payload.get("note") is None:
            raise InputError("`note` is required: say in a sentence what is wrong or missing")
        note = clean_text(payload["note"], "note", multiline=True)
        snap = self.current()
        staff = snap.staff(handle)
        if staff is None:
            raise InputError(
                f"your handle `{handle}` is not in _staff.yaml on main any more; ask a maintainer",
                status=403,
            )
        entry = snap.entry(entry_id)
        if entry is None:
            raise InputError(f"no entry `{entry_id}` on main: check the id", status=404)
        proposal = None
        new_text = None
        if payload.get("proposal") is not None:
            proposal = parse_proposal(payload["proposal"], entry)
            new_text = self._apply(snap, entry_id, proposal)
        return Prepared(
            id=self._new_id(entry_id),
            entry=entry_id,
            kind=str(kind),
            note=note,
            handle=handle,
            by_name=staff.name or handle,
            by_email=staff.email,
            received=time.time(),
            base=snap.commit,
            path=snap.repo_path(entry),
            proposal=proposal.to_json() if proposal else None,
            new_text=new_text,
        )

    def _apply(self, snap: Snapshot, entry_id: str, proposal: Proposal) -> str:
        entry = snap.entry(entry_id)
        if entry is None:
            raise InputError(f"no entry `{entry_id}` on main: check the id", status=404)
        raw = self.store.blob(snap.files[snap.repo_path(entry)][1])
        text = raw.removeprefix(BOM).decode("utf-8")
        crlf = "\r\n" in text
        new_text = apply_proposal(text.replace("\r\n", "\n"), proposal, snap.repo_path(entry))
        errors = snap.check_change(entry.file, new_text, date.today())
        if errors:
            raise InputError(
                "the proposal would make the entry invalid; change it and send again",
                details=[p.format(self.kb_dir) for p in errors],
            )
        if crlf:
            new_text = new_text.replace("\n", "\r\n")
        return (BOM.decode() if raw.startswith(BOM) else "") + new_text

    def _new_id(self, entry_id: str) -> str:
        while True:
            flag_id = uuid.uuid4().hex[:8]
            if self.store.resolve(f"refs/heads/flag/{entry_id}/{flag_id}") is None:
                return flag_id

    # -- writing -----------------------------------------------------------------------------

    def submit(self, flag: Prepared) -> dict[str, Any]:
        """Spool, write the branch, push; return ``{id, branch, commit, pushed}``."""
        record = asdict(flag)
        self.spool.put(record)
        commit = self._write(record, fresh=True)
        pushed = self._push(record, commit)
        return {"id": flag.id, "branch": flag.branch, "commit": commit, "pushed": pushed}

    def recover(self) -> int:
        """Finish spooled flags left by a crash or a failed push; return how many."""
        finished = 0
        for record in self.spool.pending():
            try:
                commit = self._write(record)
                if self._push(record, commit) or not self.remote:
                    finished += 1
                log.info("recovered flag %s on %s", record.get("id"), record.get("entry"))
            except Exception:
                log.exception(
                    "could not recover spooled flag %s; kept for the next start", record.get("id")
                )
        return finished

    def _push(self, record: dict[str, Any], commit: str) -> bool:
        if not self.remote:
            self.spool.done(record["id"])
            return False
        ref = f"refs/heads/flag/{record['entry']}/{record['id']}"
        try:
            self.store.push(self.remote, ref)
        except GitError as exc:
            log.warning(
                "flag %s: push to %s failed (%s); retried on next start",
                record["id"],
                self.remote,
                exc.stderr.strip()[:200],
            )
            self.spool.put({**record, "commit": commit})
            return False
        self.spool.done(record["id"])
        return True

    def _write(self, record: dict[str, Any], fresh: bool = False) -> str:
        """Create the flag branch (idempotent: an existing branch is the flag already
        written); return its commit. ``fresh``: just prepared in this process, so the
        branch cannot exist yet and ``base`` is main's tip of a moment ago.

        Objects are content-addressed, so the commit is built outside the lock; under
        the lock we only check that main has not moved (else rebuild on the new tip)
        and create the ref with ``update-ref`` expecting it not to exist.
        """
        flag = Prepared(**{k: v for k, v in record.items() if k in Prepared.__dataclass_fields__})
        ref = f"refs/heads/{flag.branch}"
        if not fresh:
            existing = self.store.resolve(ref)
            if existing:
                return existing
        # Build on the commit the flag was checked against (cached); re-checked below.
        cached = self.snapshots.peek()
        snap = cached if fresh and cached and cached.commit == flag.base else self.current()
        commit = self._commit(flag, snap)
        with self.lock.held():
            existing = self.store.resolve(ref)
            if existing:  # another worker finished this spool item meanwhile
                return existing
            tip = self.store.resolve(self.base_ref)
            if tip != snap.commit:
                commit = self._commit(flag, self.current())
            self.store.create_ref(ref, commit)
        log.info("flag %s: wrote %s", flag.id, flag.branch)
        return commit

    def _commit(self, flag: Prepared, snap: Snapshot) -> str:
        """The flag's commit on top of ``snap`` (objects only; no ref is touched)."""
        path, new_text, note_extra = flag.path, flag.new_text, ""
        if flag.proposal is not None and snap.commit != flag.base:
            new_text, path, note_extra = self._reapply(snap, flag)
        files: dict[str, tuple[str, str]] = {}
        if new_text is not None:
            mode = snap.files.get(path, ("100644", ""))[0]
            files[path] = (mode, self.store.write_blob(new_text.encode("utf-8")))
        else:
            record_path = f"{self.kb_dir}/.flags/{flag.entry}/{flag.id}.yaml"
            text = _record_yaml(flag, path, note_extra)
            files[record_path] = ("100644", self.store.write_blob(text.encode("utf-8")))
        tree = self.store.tree_with(snap.commit, files)
        return self.store.commit_tree(
            tree,
            snap.commit,
            _message(flag, applied=new_text is not None),
            Identity(flag.by_name, flag.by_email),
            self.committer,
            author_date=f"{int(flag.received)} +0000",
        )

    def _reapply(self, snap: Snapshot, flag: Prepared) -> tuple[str | None, str, str]:
        """Main moved since the flag was checked: apply its proposal to the new tip, or
        keep it in the flag record if it no longer applies."""
        entry = snap.entry(flag.entry)
        assert flag.proposal is not None
        try:
            if entry is None:
                raise InputError("the entry is no longer on main")
            proposal = parse_proposal(flag.proposal, entry)
            return self._apply(snap, flag.entry, proposal), snap.repo_path(entry), ""
        except InputError as exc:
            return None, flag.path, f"建议未能自动应用({exc})"


def _trailers(message: str) -> dict[str, str]:
    last = message.strip("\n").split("\n\n")[-1]
    pairs = (line.split(": ", 1) for line in last.split("\n") if ": " in line)
    return {key: value for key, value in pairs if key.startswith("Flag-")}


def _message(flag: Prepared, applied: bool) -> str:
    lines = [
        f"反馈({KIND_LABELS[flag.kind]}): {flag.entry}",
        "",
        flag.note,
        "",
        f"Flag-Kind: {flag.kind}",
        f"Flag-Entry: {flag.entry}",
        f"Flag-By: {flag.handle}",
        f"Flag-Id: {flag.id}",
    ]
    if flag.proposal is not None:
        proposal = next(iter(flag.proposal))
        lines.append(f"Flag-Proposal: {proposal}" + ("" if applied else " (not applied)"))
    return "\n".join(lines) + "\n"


def _record_yaml(flag: Prepared, entry_path: str, note_extra: str) -> str:
    import json

    created = datetime.fromtimestamp(flag.received, UTC).isoformat(timespec="seconds")
    text = (
        "# 知库反馈记录(由反馈服务生成)。审核时请在这个分支上修改条目本身,\n"
        "# 并在合并前删除本文件。以 . 开头的文件夹不会被当作条目,不影响站点。\n"
        f"id: {flag.id}\n"
        f"entry: {flag.entry}\n"
        f"file: {json.dumps(entry_path, ensure_ascii=False)}\n"
        f"kind: {flag.kind}  # {KIND_LABELS[flag.kind]}\n"
        f"by: {yaml_value(flag.by_name, 2)}"
        f"created: {created}\n"
        f"note: {yaml_value(flag.note, 2)}"
    )
    if flag.proposal is not None:
        text += f"proposal: {json.dumps(flag.proposal, ensure_ascii=False)}\n"
        text += f"proposal_status: {yaml_value(note_extra, 2)}"
    return text
