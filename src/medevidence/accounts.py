"""Review-board accounts: people, roles, passwords and API tokens.

Passwords are hashed with argon2id (argon2-cffi) and never stored or logged. API tokens are
random (256 bits), shown once when issued, and stored only as their sha256: a slow hash adds
nothing for a secret with that much entropy, and a fast one lets every request check its token.

The first admin is made by :meth:`Accounts.create_user` without an actor, which works only while
no active admin exists; after that only an admin creates accounts. There is no default password.
Every change is written in one ``BEGIN IMMEDIATE`` transaction together with its audit entry.

:class:`~medevidence.review.Board` adds the review workflow to this class; use that.
"""

from __future__ import annotations

import enum
import hashlib
import re
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import HashingError, InvalidHashError, VerificationError

from . import audit
from .errors import (
    AccountDisabled,
    AuthenticationFailed,
    BoardError,
    InvalidAccount,
    NotPermitted,
    StoreError,
    UserNotFound,
)
from .store import SQLiteStore

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # argon2 would hash megabytes happily; a sign-in form should not make it
TOKEN_PREFIX = "mev_"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class Role(enum.StrEnum):
    ADMIN = "admin"  # manages accounts, and may do everything an editor does
    EDITOR = "editor"  # submits answers, assigns reviewers, revises, publishes, reopens
    REVIEWER = "reviewer"  # votes on the articles assigned to them


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: Role
    specialty: str | None
    disabled: bool
    has_password: bool  # False for accounts that act only through API tokens
    created_at: str


@dataclass(frozen=True)
class ApiToken:
    """A token as listed: never the secret itself, which exists only in :class:`IssuedToken`."""

    id: int
    user: str
    prefix: str
    created_at: str
    revoked_at: str | None


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # show it once; only its sha256 is stored


def default_password_hasher() -> PasswordHasher:
    """argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile: 64 MiB, 3 passes)."""
    return PasswordHasher()


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def role_phrase(roles: frozenset[Role]) -> str:
    # Admins last: "an editor or an admin" reads as the rule, admins as the exception.
    ordered = sorted(roles, key=lambda r: (r is Role.ADMIN, r.value))
    names = [f"an {r.value}" if r.value[0] in "aeiou" else f"a {r.value}" for r in ordered]
    return " or ".join(names)


class Accounts:
    """Accounts and sign-in over a library's database; the base of :class:`~medevidence.review.Board`.

    One instance may be shared by threads: a lock serialises its use of the library's single
    connection. Separate instances (separate connections, processes) are serialised by SQLite.
    """

    def __init__(self, store: SQLiteStore, password_hasher: PasswordHasher | None = None) -> None:
        self.store = store
        self._hasher = password_hasher or default_password_hasher()
        self._lock = threading.RLock()
        self._dummy_hash: str | None = None

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction: the checks, the change and its audit entry, or nothing."""
        with self._lock:
            try:
                with self.store.atomic() as db:
                    yield db
            except sqlite3.Error as exc:
                raise StoreError(
                    f"the review board could not write to {self.store.path}: {exc}; check that the library is "
                    "writable and not open in a program holding a long write lock, then try again"
                ) from exc

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction, so everything read comes from one consistent snapshot."""
        with self._lock:
            db = self.store.connection
            try:
                db.execute("BEGIN")
                try:
                    yield db
                finally:
                    db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreError(
                    f"the review board could not read {self.store.path}: {exc}; check that it is a medevidence "
                    "library opened by this version (run any `medevidence users` command once to upgrade it)"
                ) from exc

    # -- reading ------------------------------------------------------------------------------

    def user(self, name: str) -> User:
        with self._read() as db:
            return _user(_user_row(db, name))

    def users(self) -> list[User]:
        with self._read() as db:
            return [_user(row) for row in db.execute("SELECT * FROM board_users ORDER BY name")]

    def tokens(self, name: str) -> list[ApiToken]:
        with self._read() as db:
            owner = _user_row(db, name)
            rows = db.execute("SELECT * FROM board_tokens WHERE user_id = ? ORDER BY id", (owner["id"],)).fetchall()
            return [_token(row, owner["name"]) for row in rows]

    # -- signing in ---------------------------------------------------------------------------

    def authenticate(self, name: str, password: str) -> User:
        """The account for ``name`` if ``password`` is right and the account is enabled."""
        if len(password) > MAX_PASSWORD_LENGTH:
            raise AuthenticationFailed.password(name)
        with self._read() as db:
            row = db.execute("SELECT * FROM board_users WHERE name = ?", (name,)).fetchone()
        stored = row["password_hash"] if row is not None else None
        if stored is None:
            # Spend the time a real check takes, so timing does not tell which names exist.
            self._verify(self._dummy(), password, name)
            raise AuthenticationFailed.password(name)
        if not self._verify(stored, password, name):
            raise AuthenticationFailed.password(name)
        user = _user(row)
        if user.disabled:
            raise AccountDisabled(user.name)
        if self._hasher.check_needs_rehash(stored):
            # Upgrade to the current parameters while the password is at hand. Not audited: nothing
            # about the account changes, and a sign-in must not lengthen the chain. No length policy
            # either: a password accepted under an older policy must keep working.
            rehashed = self._argon2(password)
            with self._write() as db:
                db.execute(
                    "UPDATE board_users SET password_hash = ? WHERE id = ? AND password_hash = ?",
                    (rehashed, user.id, stored),
                )
        return user

    def authenticate_token(self, secret: str) -> User:
        """The account an API token belongs to, if the token is live and the account enabled."""
        with self._read() as db:
            row = db.execute(
                "SELECT board_users.*, board_tokens.revoked_at FROM board_tokens "
                "JOIN board_users ON board_users.id = board_tokens.user_id WHERE token_hash = ?",
                (token_digest(secret.strip()),),
            ).fetchone()
        if row is None or row["revoked_at"] is not None:
            raise AuthenticationFailed.token()
        user = _user(row)
        if user.disabled:
            raise AccountDisabled(user.name)
        return user

    def _verify(self, stored: str, password: str, name: str) -> bool:
        try:
            return self._hasher.verify(stored, password)
        except VerificationError:
            return False
        except InvalidHashError as exc:
            raise StoreError(
                f"the stored password of {name!r} is not an argon2 hash, so nobody can sign in with it; an admin "
                f"can set a new one with `medevidence users passwd {name}`"
            ) from exc

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self._argon2(secrets.token_urlsafe(16))
        return self._dummy_hash

    def _hash(self, password: str) -> str:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise InvalidAccount(
                f"the password is {len(password)} characters long; use at least {MIN_PASSWORD_LENGTH} "
                "(a passphrase of a few random words is easy to type and hard to guess)"
            )
        if len(password) > MAX_PASSWORD_LENGTH:
            raise InvalidAccount(f"the password is over {MAX_PASSWORD_LENGTH} characters long; use a shorter one")
        return self._argon2(password)

    def _argon2(self, password: str) -> str:
        try:
            return self._hasher.hash(password)
        except HashingError as exc:
            raise BoardError(
                f"cannot hash the password with argon2: {exc}; check the password hasher's parameters "
                "(argon2-cffi's defaults always work)"
            ) from exc

    # -- managing accounts ----------------------------------------------------------------------

    def create_user(
        self,
        name: str,
        role: Role | str,
        *,
        actor: User | None = None,
        password: str | None = None,
        specialty: str | None = None,
    ) -> User:
        """Add an account. Without ``actor`` this makes the first admin, and only while there is none."""
        chosen = _role(role)
        if not _NAME.fullmatch(name):
            raise InvalidAccount(
                f"{name!r} cannot be an account name; use 1 to 64 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit (e.g. 'j.smith')"
            )
        password_hash = self._hash(password) if password is not None else None
        with self._write() as db:
            if actor is None:
                if _active_admins(db) > 0:
                    raise NotPermitted(
                        f"only an admin can add the account {name!r}: this board already has an admin; "
                        "sign in as one (--as NAME or MEDEVIDENCE_TOKEN)"
                    )
                if chosen is not Role.ADMIN or password_hash is None:
                    raise InvalidAccount(
                        f"the first account must be an admin with a password, not {name!r} as {chosen.value}"
                        f"{'' if password_hash else ' without one'}; run "
                        f"`medevidence users add NAME --role admin --password-stdin` first"
                    )
                acting_name, acting_id = name, None
            else:
                acting = acting_user(db, actor, frozenset({Role.ADMIN}), f"add the account {name!r}")
                acting_name, acting_id = acting.name, acting.id
            if db.execute("SELECT 1 FROM board_users WHERE name = ?", (name,)).fetchone() is not None:
                raise InvalidAccount(
                    f"there is already an account named {name!r} (names ignore case); choose another name, or "
                    f"change that account with `medevidence users set-role {name} ROLE`"
                )
            cursor = db.execute(
                "INSERT INTO board_users (name, role, specialty, password_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                (name, chosen.value, specialty or None, password_hash, _now()),
            )
            assert cursor.lastrowid is not None
            user = _user(_user_row_by_id(db, cursor.lastrowid))
            audit.append(
                db,
                actor=acting_name,
                actor_id=acting_id if acting_id is not None else user.id,
                action="user.create",
                details={
                    "user": user.name,
                    "role": user.role.value,
                    "specialty": user.specialty,
                    "password": user.has_password,
                    "first_admin": actor is None,
                },
            )
            return user

    def set_role(self, actor: User, name: str, role: Role | str) -> User:
        chosen = _role(role)
        with self._write() as db:
            acting = acting_user(db, actor, frozenset({Role.ADMIN}), f"change the role of {name!r}")
            target = _user(_user_row(db, name))
            if target.role is chosen:
                return target
            if target.role is Role.ADMIN and not target.disabled and _active_admins(db) == 1:
                raise InvalidAccount(_last_admin(target.name, f"make {target.name} {chosen.value}"))
            db.execute("UPDATE board_users SET role = ? WHERE id = ?", (chosen.value, target.id))
            audit.append(
                db,
                actor=acting.name,
                actor_id=acting.id,
                action="user.set_role",
                details={"user": target.name, "from": target.role.value, "to": chosen.value},
            )
            return _user(_user_row_by_id(db, target.id))

    def disable_user(self, actor: User, name: str) -> User:
        """Disabled accounts can neither sign in nor act, and their votes stop counting."""
        return self._set_disabled(actor, name, disabled=True)

    def enable_user(self, actor: User, name: str) -> User:
        return self._set_disabled(actor, name, disabled=False)

    def _set_disabled(self, actor: User, name: str, disabled: bool) -> User:
        verb = "disable" if disabled else "enable"
        with self._write() as db:
            acting = acting_user(db, actor, frozenset({Role.ADMIN}), f"{verb} the account {name!r}")
            target = _user(_user_row(db, name))
            if target.disabled == disabled:
                return target
            if disabled and target.role is Role.ADMIN and _active_admins(db) == 1:
                raise InvalidAccount(_last_admin(target.name, f"disable {target.name}"))
            db.execute("UPDATE board_users SET disabled = ? WHERE id = ?", (int(disabled), target.id))
            audit.append(
                db, actor=acting.name, actor_id=acting.id, action=f"user.{verb}", details={"user": target.name}
            )
            return _user(_user_row_by_id(db, target.id))

    def set_password(self, actor: User, name: str, password: str) -> None:
        """An admin may set anyone's password; everyone else only their own."""
        password_hash = self._hash(password)
        with self._write() as db:
            target = _user(_user_row(db, name))
            acting = acting_user(db, actor, _self_or_admin(actor, target), f"set the password of {target.name}")
            db.execute("UPDATE board_users SET password_hash = ? WHERE id = ?", (password_hash, target.id))
            audit.append(
                db, actor=acting.name, actor_id=acting.id, action="user.set_password", details={"user": target.name}
            )

    def issue_token(self, actor: User, name: str) -> IssuedToken:
        """A new API token for ``name`` (an admin for anyone, everyone else for themselves)."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._write() as db:
            target = _user(_user_row(db, name))
            acting = acting_user(db, actor, _self_or_admin(actor, target), f"issue a token for {target.name}")
            if target.disabled:
                raise AccountDisabled(target.name)
            cursor = db.execute(
                "INSERT INTO board_tokens (user_id, token_hash, prefix, created_at) VALUES (?, ?, ?, ?)",
                (target.id, token_digest(secret), secret[:12], _now()),
            )
            assert cursor.lastrowid is not None
            row = db.execute("SELECT * FROM board_tokens WHERE id = ?", (cursor.lastrowid,)).fetchone()
            token = _token(row, target.name)
            audit.append(
                db,
                actor=acting.name,
                actor_id=acting.id,
                action="token.issue",
                details={"user": target.name, "token_id": token.id, "prefix": token.prefix},
            )
            return IssuedToken(token, secret)

    def revoke_token(self, actor: User, token_id: int) -> ApiToken:
        with self._write() as db:
            row = db.execute(
                "SELECT board_tokens.*, board_users.name AS owner FROM board_tokens "
                "JOIN board_users ON board_users.id = board_tokens.user_id WHERE board_tokens.id = ?",
                (token_id,),
            ).fetchone()
            if row is None:
                raise InvalidAccount(
                    f"there is no API token {token_id}; `medevidence users tokens NAME` lists a user's tokens"
                )
            owner = _user(_user_row(db, row["owner"]))
            acting = acting_user(db, actor, _self_or_admin(actor, owner), f"revoke token {token_id} of {owner.name}")
            if row["revoked_at"] is None:
                db.execute("UPDATE board_tokens SET revoked_at = ? WHERE id = ?", (_now(), token_id))
                audit.append(
                    db,
                    actor=acting.name,
                    actor_id=acting.id,
                    action="token.revoke",
                    details={"user": owner.name, "token_id": token_id, "prefix": row["prefix"]},
                )
            return _token(db.execute("SELECT * FROM board_tokens WHERE id = ?", (token_id,)).fetchone(), owner.name)


# -- helpers shared with review.py ---------------------------------------------------------------


def acting_user(db: sqlite3.Connection, actor: User, roles: frozenset[Role], doing: str) -> User:
    """The actor as stored now (roles change, accounts get disabled), if that role may do ``doing``."""
    row = db.execute("SELECT * FROM board_users WHERE id = ?", (actor.id,)).fetchone()
    if row is None:
        raise UserNotFound(actor.name)
    current = _user(row)
    if current.disabled:
        raise AccountDisabled(current.name)
    if current.role not in roles:
        raise NotPermitted(
            f"{current.name} is {role_phrase(frozenset({current.role}))} and cannot {doing}; only "
            f"{role_phrase(roles)} may, so sign in as one (--as NAME or MEDEVIDENCE_TOKEN)"
        )
    return current


def _self_or_admin(actor: User, target: User) -> frozenset[Role]:
    return frozenset(Role) if actor.id == target.id else frozenset({Role.ADMIN})


def _last_admin(name: str, doing: str) -> str:
    return (
        f"cannot {doing}: {name} is the only active admin, and the board would have nobody to manage it; "
        "make another account admin first (`medevidence users set-role NAME admin`)"
    )


def _role(value: Role | str) -> Role:
    try:
        return Role(value)
    except ValueError as exc:
        choices = ", ".join(r.value for r in Role)
        raise InvalidAccount(f"{value!r} is not a role; choose one of: {choices}") from exc


def _active_admins(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT count(*) FROM board_users WHERE role = 'admin' AND disabled = 0").fetchone()[0])


def _user_row(db: sqlite3.Connection, name: str) -> Any:
    row = db.execute("SELECT * FROM board_users WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise UserNotFound(name)
    return row


def _user_row_by_id(db: sqlite3.Connection, user_id: int) -> Any:
    return db.execute("SELECT * FROM board_users WHERE id = ?", (user_id,)).fetchone()


def _user(row: sqlite3.Row) -> User:
    return User(
        id=row["id"],
        name=row["name"],
        role=Role(row["role"]),
        specialty=row["specialty"],
        disabled=bool(row["disabled"]),
        has_password=row["password_hash"] is not None,
        created_at=row["created_at"],
    )


def _token(row: sqlite3.Row, owner: str) -> ApiToken:
    return ApiToken(
        id=row["id"], user=owner, prefix=row["prefix"], created_at=row["created_at"], revoked_at=row["revoked_at"]
    )
