"""Personal tokens for staff: issued by ``kb feedback token``, checked by the app.

Only the SHA-256 of each token is stored (a token is 32 random bytes, so a
fast hash is enough: there is nothing to brute-force), in a file outside the
repository, mode 0600. A new token for a handle replaces the old one.
:func:`authenticate` checks a request's token *and* that its handle is still
on the roster of main, on every authenticated request.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feedback_app.errors import Forbidden, Unauthorized

if TYPE_CHECKING:
    from feedback_app.snapshot import Snapshot

TOKEN_PREFIX = "zk_"
MAX_TOKEN_LENGTH = 200


def default_tokens_path() -> Path:
    """``$XDG_CONFIG_HOME/zhiku/tokens.json``, else ``~/.config/zhiku/tokens.json``."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "zhiku" / "tokens.json"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._by_hash: dict[str, str] = {}

    # -- issuing (kb feedback token) ---------------------------------------------------------

    def issue(self, handle: str) -> str:
        """Create a token for ``handle``, replacing any earlier one; return it (once)."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock_fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
            data = self._read()
            tokens = {h: v for h, v in data["tokens"].items() if v.get("handle") != handle}
            tokens[hash_token(token)] = {
                "handle": handle,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            data["tokens"] = tokens
            self._write(data)
        finally:
            fcntl.flock(lock_fd, fcntl.LOCK_UN)
            os.close(lock_fd)
        return token

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"version": 1, "tokens": {}}
        if not isinstance(data, dict) or not isinstance(data.get("tokens"), dict):
            raise ValueError(f"{self.path} is not a Zhiku tokens file")
        return data

    def _write(self, data: dict[str, Any]) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, ensure_ascii=False, indent=2)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    # -- checking (the app) ------------------------------------------------------------------

    def handle_for(self, token: str) -> str | None:
        """The staff handle a presented token belongs to, or None."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        self._reload_if_changed()
        return self._by_hash.get(hash_token(token))

    def _reload_if_changed(self) -> None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._by_hash, self._stamp = {}, None
            return
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self._stamp:
            return
        with self._lock:
            data = self._read()
            self._by_hash = {
                h: str(v["handle"])
                for h, v in data["tokens"].items()
                if isinstance(v, dict) and "handle" in v
            }
            self._stamp = stamp


def bearer_token(header: str) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header, or None."""
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def authenticate(tokens: TokenStore, roster: Callable[[], Snapshot], header: str) -> str:
    """The staff handle of a request's ``Authorization`` header, checked against the
    token file *and* the roster on main now; raise 401 / 403 otherwise."""
    token = bearer_token(header)
    handle = tokens.handle_for(token) if token else None
    if handle is None:
        if not header:
            raise Unauthorized(
                "请先登录:在请求头里带上个人令牌 `Authorization: Bearer 令牌`"
                "(令牌请找维护者用 `kb feedback token 你的账号` 生成)"
            )
        raise Unauthorized("令牌无效,请找维护者重新生成")
    if roster().staff(handle) is None:
        raise Forbidden(f"你的账号 `{handle}` 已不在 main 的 _staff.yaml 里,请联系维护者")
    return handle
