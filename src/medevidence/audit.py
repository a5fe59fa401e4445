"""The review board's audit trail: an append-only, hash-chained log of every action.

Each entry has a sequence number (1, 2, 3, ... with no gaps) and stores
``hash = sha256(prev_hash + canonical JSON of the entry)``, where ``prev_hash`` is the previous
entry's hash (:data:`GENESIS` for the first). The newest entry's sequence number and hash (the
*head*) are kept in ``board_meta`` and written in the same transaction as the entry.

:func:`verify` walks the chain and reports the first entry that breaks it:

- a changed entry no longer matches its hash;
- a deleted entry leaves a gap in the sequence;
- entries cut off the end no longer reach the recorded head;
- an entry rewritten together with its hash breaks the next entry's link.

What it cannot catch is someone who rewrites every later entry, and the head, consistently: only
a copy of the head kept outside the database (``medevidence audit verify`` prints it) shows that.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
HEAD_SEQ = "audit_head_seq"
HEAD_HASH = "audit_head_hash"


@dataclass(frozen=True)
class AuditEntry:
    """One action: who did what to which article, and how its version and status changed."""

    seq: int
    at: str
    actor: str
    actor_id: int | None
    action: str
    article_id: int | None
    from_version: int | None
    to_version: int | None
    from_status: str | None
    to_status: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str

    def content(self) -> dict[str, Any]:
        """What the hash covers: every field except the hashes themselves."""
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "actor_id": self.actor_id,
            "action": self.action,
            "article_id": self.article_id,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "from_status": self.from_status,
            "to_status": self.to_status,
            "details": self.details,
        }


@dataclass(frozen=True)
class AuditReport:
    """The outcome of :func:`verify`. ``broken_seq`` and ``problem`` are set when the chain is broken."""

    intact: bool
    entries: int
    head_hash: str | None
    broken_seq: int | None = None
    problem: str = ""


def entry_hash(prev_hash: str, content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def append(
    db: sqlite3.Connection,
    *,
    actor: str,
    actor_id: int | None,
    action: str,
    article_id: int | None = None,
    from_version: int | None = None,
    to_version: int | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry. Call it inside the write transaction of the action it records."""
    head = _head(db)
    seq, prev_hash = (1, GENESIS) if head is None else (head[0] + 1, head[1])
    # A round trip through JSON makes the hashed details exactly what a later read returns.
    stored_details: dict[str, Any] = json.loads(json.dumps(details or {}, ensure_ascii=False))
    draft = AuditEntry(
        seq=seq,
        at=datetime.now(UTC).isoformat(timespec="microseconds"),
        actor=actor,
        actor_id=actor_id,
        action=action,
        article_id=article_id,
        from_version=from_version,
        to_version=to_version,
        from_status=from_status,
        to_status=to_status,
        details=stored_details,
        prev_hash=prev_hash,
        hash="",
    )
    digest = entry_hash(prev_hash, draft.content())
    db.execute(
        """INSERT INTO audit_log (seq, at, actor_id, actor, action, article_id, from_version, to_version,
               from_status, to_status, details, prev_hash, hash)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            seq,
            draft.at,
            actor_id,
            actor,
            action,
            article_id,
            from_version,
            to_version,
            from_status,
            to_status,
            json.dumps(stored_details, ensure_ascii=False),
            prev_hash,
            digest,
        ),
    )
    db.executemany(
        "INSERT OR REPLACE INTO board_meta (key, value) VALUES (?, ?)",
        [(HEAD_SEQ, str(seq)), (HEAD_HASH, digest)],
    )
    return replace(draft, hash=digest)


def entries(db: sqlite3.Connection, article_id: int | None = None) -> list[AuditEntry]:
    """Every entry in order, or those about one article."""
    if article_id is None:
        rows = db.execute("SELECT * FROM audit_log ORDER BY seq").fetchall()
    else:
        rows = db.execute("SELECT * FROM audit_log WHERE article_id = ? ORDER BY seq", (article_id,)).fetchall()
    return [_entry(row) for row in rows]


def verify(db: sqlite3.Connection) -> AuditReport:
    """Walk the whole chain; report the first entry that breaks it. Call it inside a read transaction."""
    expected_seq, prev_hash = 1, GENESIS
    count = 0
    for row in db.execute("SELECT * FROM audit_log ORDER BY seq"):
        try:
            entry = _entry(row)
        except (json.JSONDecodeError, TypeError) as exc:
            return _broken(
                count, row["seq"], f"audit entry {row['seq']} was modified: its details are not JSON ({exc})"
            )
        if entry.seq != expected_seq:
            problem = (
                f"{_missing(expected_seq, entry.seq - 1)}: the log jumps from entry {expected_seq - 1} to {entry.seq}"
            )
            return _broken(count, expected_seq, problem)
        if entry.prev_hash != prev_hash:
            return _broken(
                count, entry.seq, f"audit entry {entry.seq} does not link to entry {entry.seq - 1}: one was rewritten"
            )
        if entry_hash(prev_hash, entry.content()) != entry.hash:
            return _broken(
                count, entry.seq, f"audit entry {entry.seq} was modified: its content no longer matches its hash"
            )
        prev_hash, expected_seq, count = entry.hash, entry.seq + 1, count + 1
    head = _head(db)
    last_hash = prev_hash if count else None
    if head is None and count:
        return _broken(count, count, f"the audit head record is missing, though the log has {count} entries")
    if head is not None and (head[0], head[1]) != (count, last_hash):
        if head[0] > count:
            problem = f"{_missing(count + 1, head[0])}: the head records {head[0]} entries"
            return _broken(count, count + 1, problem)
        if head[0] < count:
            problem = f"entry {head[0] + 1} was added outside medevidence: the head records {head[0]} entries"
            return _broken(count, head[0] + 1, problem)
        return _broken(count, head[0], f"the audit head does not match entry {head[0]}: one of them was rewritten")
    return AuditReport(intact=True, entries=count, head_hash=last_hash)


def _missing(first: int, last: int) -> str:
    return f"audit entry {first} is missing" if first == last else f"audit entries {first} to {last} are missing"


def _broken(count: int, seq: int, problem: str) -> AuditReport:
    return AuditReport(intact=False, entries=count, head_hash=None, broken_seq=seq, problem=problem)


def _head(db: sqlite3.Connection) -> tuple[int, str] | None:
    values = dict(db.execute("SELECT key, value FROM board_meta WHERE key IN (?, ?)", (HEAD_SEQ, HEAD_HASH)).fetchall())
    if HEAD_SEQ not in values or HEAD_HASH not in values:
        return None
    return int(values[HEAD_SEQ]), str(values[HEAD_HASH])


def _entry(row: sqlite3.Row) -> AuditEntry:
    details = json.loads(row["details"])
    if not isinstance(details, dict):
        raise TypeError("details is not a JSON object")
    return AuditEntry(
        seq=row["seq"],
        at=row["at"],
        actor=row["actor"],
        actor_id=row["actor_id"],
        action=row["action"],
        article_id=row["article_id"],
        from_version=row["from_version"],
        to_version=row["to_version"],
        from_status=row["from_status"],
        to_status=row["to_status"],
        details=details,
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )
