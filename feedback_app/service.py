"""Flags, from request to credited branch: check, spool, commit, push.

``prepare`` checks a request against main (entry, roster, proposal and the
resulting knowledge base) without writing anything; ``submit`` spools it
durably, writes ``flag/<entry>/<id>`` under the repository lock, pushes it if
a remote is configured, and only then forgets the spool item. A git failure
while writing forgets the spool item and leaves no ref (the client gets 503
and may retry: nothing appears later behind its back). Branch names, trailers
and kind labels come from :mod:`tooling.flags`.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from feedback_app.errors import AppError, BadRequest, Forbidden, NotFound, Unavailable
from feedback_app.gitstore import GitError, GitStore, Identity, RepoLock
from feedback_app.snapshot import MainSnapshot, Snapshot
from feedback_app.spool import Spool
from feedback_app.validation import FlagRequest, Proposal, flag_request, parse_proposal
from feedback_app.yamledit import apply_proposal, yaml_value
from tooling import flags as protocol

log = logging.getLogger(__name__)
PUSH_RETRY_SECONDS = 1.0  # the pause before a failed push is tried once more

BOM = b"\xef\xbb\xbf"
GIT_FAILED = "反馈服务暂时无法写入仓库,请稍后再试(这条反馈没有保存)"


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
    idempotency: str | None = None  # the Idempotency-Key slot to answer, if any

    @property
    def branch(self) -> str:
        return protocol.branch_name(self.entry, self.id)


class FlagService:
    def __init__(
        self,
        main: MainSnapshot,
        *,
        remote: str | None = None,
        committer: Identity,
        spool: Spool,
    ) -> None:
        self.main = main
        self.store: GitStore = main.store
        self.kb_dir = main.cache.kb_dir
        self.base_ref = main.base_ref
        self.remote = remote or None
        self.committer = committer
        self.lock = RepoLock(self.store.git_dir / "zhiku-feedback.lock")
        self.snapshots = main.cache
        self.spool = spool

    # -- reading -----------------------------------------------------------------------------

    def current(self) -> Snapshot:
        return self.main.current()

    def open_flags(self, entry_id: str) -> list[dict[str, Any]]:
        """Flags on ``entry_id`` whose branch is not merged into main, newest first."""
        flags = []
        refs = self.store.flag_refs(protocol.entry_refs_prefix(entry_id), self.base_ref)
        for ref in refs:
            message, by_name, created = ref.message, ref.author_name, ref.created
            trailers = protocol.parse_trailers(message)
            if protocol.TRAILER_ID not in trailers:  # a reviewer committed on top
                first = self.store.run(
                    "log",
                    "--reverse",
                    "--format=%an%x00%aI%x00%B%x1e",
                    f"{self.base_ref}..{ref.commit}",
                ).split("\x1e")[0]
                if first.count("\0") >= 2:
                    by_name, created, message = first.lstrip("\n").split("\0", 2)
                    trailers = protocol.parse_trailers(message)
            parsed = protocol.parse_branch(ref.branch)
            flags.append(
                {
                    "id": trailers.get(protocol.TRAILER_ID, parsed[1] if parsed else ""),
                    "entry": entry_id,
                    "kind": trailers.get(protocol.TRAILER_KIND, ""),
                    "note": protocol.message_note(message),
                    "created": created,
                    "by_name": by_name,
                    "branch": ref.branch,
                    "proposal": trailers.get(protocol.TRAILER_PROPOSAL),
                }
            )
        return flags

    # -- checking ----------------------------------------------------------------------------

    def prepare(self, handle: str, payload: Any, idempotency: str | None = None) -> Prepared:
        """Check a request; raise an :class:`AppError` saying what to fix. Writes nothing."""
        request = payload if isinstance(payload, FlagRequest) else flag_request(payload)
        snap = self.current()
        staff = snap.staff(handle)
        if staff is None:
            raise Forbidden(f"你的账号 `{handle}` 已不在 main 的 _staff.yaml 里,请联系维护者")
        entry = snap.entry(request.entry)
        if entry is None:
            raise NotFound(f"main 上没有条目 `{request.entry}`,请检查编号")
        proposal = None
        new_text = None
        if request.proposal is not None:
            proposal = parse_proposal(request.proposal, entry)
            new_text = self._apply(snap, request.entry, proposal)
        return Prepared(
            id=self._new_id(request.entry),
            entry=request.entry,
            kind=request.kind,
            note=request.note,
            handle=handle,
            by_name=staff.name or handle,
            by_email=staff.email,
            received=time.time(),
            base=snap.commit,
            path=snap.repo_path(entry),
            proposal=proposal.to_json() if proposal else None,
            new_text=new_text,
            idempotency=idempotency,
        )

    def _apply(self, snap: Snapshot, entry_id: str, proposal: Proposal) -> str:
        entry = snap.entry(entry_id)
        if entry is None:
            raise NotFound(f"main 上没有条目 `{entry_id}`,请检查编号")
        raw = self.store.blob(snap.files[snap.repo_path(entry)][1])
        text = raw.removeprefix(BOM).decode("utf-8")
        crlf = "\r\n" in text
        new_text = apply_proposal(text.replace("\r\n", "\n"), proposal, snap.repo_path(entry))
        errors = snap.check_change(entry.file, new_text, date.today())
        if errors:
            raise BadRequest(
                "这条建议会让条目无法通过校验(与 `kb validate` 的检查相同),请修改后重新发送",
                details=[p.format(self.kb_dir) for p in errors],
            )
        if crlf:
            new_text = new_text.replace("\n", "\r\n")
        return (BOM.decode() if raw.startswith(BOM) else "") + new_text

    def _new_id(self, entry_id: str) -> str:
        while True:
            flag_id = uuid.uuid4().hex[:8]
            if self.store.resolve(protocol.branch_ref(entry_id, flag_id)) is None:
                return flag_id

    # -- writing -----------------------------------------------------------------------------

    def submit(self, flag: Prepared) -> dict[str, Any]:
        """Spool, write the branch, push; return ``{id, branch, commit, pushed}``.

        A git failure before the branch exists forgets the spool item and raises
        :class:`Unavailable` (503): no ref, and nothing replayed at the next start.
        """
        record = asdict(flag)
        self.spool.put(record)
        try:
            commit = self._write(record, fresh=True)
        except GitError as exc:
            log.error("flag %s: git failed, nothing written: %s", flag.id, exc)
            try:
                written = self.store.resolve(protocol.branch_ref(flag.entry, flag.id))
            except GitError:
                written = None
            if written is None:
                self.spool.done(flag.id)
            raise Unavailable(GIT_FAILED) from None
        pushed = self._push(record, commit)
        return {"id": flag.id, "branch": flag.branch, "commit": commit, "pushed": pushed}

    def recover(self, answered: Any = None) -> int:
        """Finish spooled flags left by a crash or a failed push; return how many.
        ``answered(slot, body)`` stores the answer of a flag sent with an Idempotency-Key."""
        finished = 0
        for record in self.spool.pending():
            try:
                commit = self._write(record)
                pushed = self._push(record, commit)
                if pushed or not self.remote:
                    finished += 1
                if answered is not None and record.get("idempotency"):
                    branch = protocol.branch_name(record["entry"], record["id"])
                    body = {"id": record["id"], "branch": branch, "commit": commit}
                    answered(record["idempotency"], {**body, "pushed": pushed})
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
        ref = protocol.branch_ref(record["entry"], record["id"])
        try:
            try:
                self.store.push(self.remote, ref)
            except GitError as first:
                # Once more after a moment: a ref lock held by another push to the same
                # remote, or a slow moment of the machine, is usually gone by then (pushing
                # a ref that did land is a no-op).
                log.info("flag %s: push failed (%s); trying once more", record["id"], first)
                time.sleep(PUSH_RETRY_SECONDS)
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
        ref = protocol.branch_ref(flag.entry, flag.id)
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
                raise NotFound("条目已不在 main 上")
            proposal = parse_proposal(flag.proposal, entry)
            return self._apply(snap, flag.entry, proposal), snap.repo_path(entry), ""
        except AppError as exc:
            return None, flag.path, f"建议未能自动应用({exc.message})"


def _message(flag: Prepared, applied: bool) -> str:
    proposal = next(iter(flag.proposal)) if flag.proposal is not None else None
    trailers = protocol.FlagTrailers(
        kind=flag.kind,
        entry=flag.entry,
        by=flag.handle,
        id=flag.id,
        proposal=proposal,
        applied=applied,
    )
    return protocol.flag_message(trailers, flag.note)


def _record_yaml(flag: Prepared, entry_path: str, note_extra: str) -> str:
    created = datetime.fromtimestamp(flag.received, UTC).isoformat(timespec="seconds")
    text = (
        "# 知库反馈记录(由反馈服务生成)。审核时请在这个分支上修改条目本身,\n"
        "# 并在合并前删除本文件。以 . 开头的文件夹不会被当作条目,不影响站点。\n"
        f"id: {flag.id}\n"
        f"entry: {flag.entry}\n"
        f"file: {json.dumps(entry_path, ensure_ascii=False)}\n"
        f"kind: {flag.kind}  # {protocol.kind_label(flag.kind)}\n"
        f"by: {yaml_value(flag.by_name, 2)}"
        f"created: {created}\n"
        f"note: {yaml_value(flag.note, 2)}"
    )
    if flag.proposal is not None:
        text += f"proposal: {json.dumps(flag.proposal, ensure_ascii=False)}\n"
        text += f"proposal_status: {yaml_value(note_extra, 2)}"
    return text
