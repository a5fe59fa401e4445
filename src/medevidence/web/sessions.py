"""Sign-in sessions of the web pages, and the limit on guessing passwords through the sign-in form.

A session is a random 256-bit id in a cookie (HttpOnly, SameSite=Strict, Secure over https);
the library stores only its sha256 (table ``web_sessions``), with an absolute expiry. Signing out
deletes the row, so a copied cookie stops working at once; a disabled account's sessions end the
next time they are used. Sessions live on their own connection to the library, so checking one
never waits for an answer being composed or a board action being written.

Scripts use the board's API tokens (``Authorization: Bearer``) instead; see :mod:`.board_gate`.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from .. import Library
from ..accounts import User
from .settings import LOOPBACK_HOSTS

SESSION_COOKIE = "medevidence_session"
SESSION_LIFETIME = timedelta(hours=12)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _stamp(moment: datetime) -> str:
    # One fixed format, so stored times compare correctly as text in SQL.
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class SessionStore:
    """Sessions in the library's ``web_sessions`` table, on a connection of their own."""

    def __init__(self, directory: Path) -> None:
        self._library = Library.open(directory)
        self._lock = threading.Lock()

    def start(self, user: User) -> str:
        """A new session for ``user``; the returned id goes into the cookie and is never stored."""
        secret = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with self._lock, self._library.store.atomic() as db:
            # Expired rows are useless and would otherwise pile up; signing in is a rare enough moment to sweep.
            db.execute("DELETE FROM web_sessions WHERE expires_at <= ?", (_stamp(now),))
            db.execute(
                "INSERT INTO web_sessions (id_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                (_digest(secret), user.id, _stamp(now), _stamp(now + SESSION_LIFETIME)),
            )
        return secret

    def user_name(self, secret: str) -> str | None:
        """The account name of a live session, or None for an unknown or expired one."""
        with self._lock:
            row = self._library.store.connection.execute(
                "SELECT board_users.name FROM web_sessions JOIN board_users ON board_users.id = web_sessions.user_id "
                "WHERE id_hash = ? AND expires_at > ?",
                (_digest(secret), _stamp(datetime.now(UTC))),
            ).fetchone()
        return None if row is None else str(row[0])

    def end(self, secret: str) -> None:
        with self._lock, self._library.store.atomic() as db:
            db.execute("DELETE FROM web_sessions WHERE id_hash = ?", (_digest(secret),))

    def close(self) -> None:
        with self._lock:
            self._library.close()


def set_session_cookie(response: Response, secret: str, request: Request) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=request.url.scheme == "https", httponly=True, samesite="strict"
    )


def private_channel(request: Request) -> bool:
    """Whether a password may be sent here: over https, or over http to this machine only."""
    return request.url.scheme == "https" or (request.url.hostname or "").lower() in LOOPBACK_HOSTS


class LoginThrottle:
    """At most ``failures`` failed sign-ins per client address in ``window`` seconds.

    argon2 makes each guess slow; this caps how many a client gets at all. A successful sign-in
    does not reset the count, or anyone with an account of their own could keep guessing others'.
    """

    MAX_KEYS = 10_000

    def __init__(self, failures: int = 5, window: float = 300.0) -> None:
        self.failures = failures
        self.window = window
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, key: str, now: float | None = None) -> float:
        """Seconds until ``key`` may try again; 0.0 when it may now."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            if key not in self._seen:
                return 0.0
            recent = self._recent(key, moment)
            if len(recent) < self.failures:
                return 0.0
            return max(recent[0] + self.window - moment, 0.0)

    def failed(self, key: str, now: float | None = None) -> None:
        moment = time.monotonic() if now is None else now
        with self._lock:
            if key not in self._seen and len(self._seen) >= self.MAX_KEYS:
                self._forget_old(moment)
            self._recent(key, moment).append(moment)

    def _recent(self, key: str, now: float) -> deque[float]:
        recent = self._seen.setdefault(key, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        return recent

    def _forget_old(self, now: float) -> None:
        # An address whose failures have all aged out is the same as one never seen.
        for key, recent in list(self._seen.items()):
            if not recent or recent[-1] <= now - self.window:
                del self._seen[key]
