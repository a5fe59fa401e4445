"""The medical advisory board: answers become articles that reviewers vote on before publication.

An editor submits a stored answer; it becomes article N at version 1. The workflow::

    draft ──submit──▶ submitted ──assign──▶ under_review ◀──────── revise (a new version) ──┐
                                              │  votes on the current version               │
                                              ├──▶ changes_requested ───────────────────────┘
                                              ├──▶ approved ──publish──▶ published ──reopen──▶ under_review
                                              └──▶ rejected ──reopen──▶ under_review

Votes decide the status after every vote, counting only the latest vote of each enabled
reviewer on the *current* version: ``quorum`` rejections → rejected; else any request for
changes → changes_requested; else ``quorum`` approvals and no rejection → approved; else
under_review. The quorum is stored with the board (default 2) and set by an admin. A revision
returns an article in review to under_review (a submitted one stays submitted).

Rules the workflow enforces (:data:`RULES` is the table the messages are built from):

- only editors and admins submit, assign, revise, publish and reopen; only assigned reviewers vote;
- nobody reviews an article they submitted or revised (an editor cannot approve their own work,
  even after becoming a reviewer);
- every revision is a new immutable version holding the full answer JSON and a diff; votes attach
  to a version, so a new version starts the count again;
- each version is re-checked against its cited spans (``verify.check_statement``); unsupported
  statements are saved but flagged, and a flagged version cannot be approved: reviewers may only
  request changes or reject until an editor fixes or removes those statements;
- reopening a published article starts a new cycle on a new version while the published version
  stays readable (``Article.published_version``).

Every change, with its audit entry (``audit.py``), is one ``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

import enum
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher

from . import audit
from .accounts import Accounts, Role, User, acting_user, role_phrase
from .audit import AuditEntry, AuditReport
from .errors import (
    ArticleNotFound,
    BoardError,
    DuplicateArticle,
    FlaggedVersion,
    NotPermitted,
    SelfReview,
    StaleVersion,
    TransitionNotAllowed,
    UserNotFound,
)
from .models import Answer, ReviewStatus, answer_from_dict
from .revision import Edit, Flag, StatementComment, apply_edits, unified_diff, unsupported

if TYPE_CHECKING:
    from .library import Library

DEFAULT_QUORUM = 2
QUORUM_KEY = "quorum"


class Decision(enum.StrEnum):
    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"
    REJECT = "reject"


class Action(enum.StrEnum):
    SUBMIT = "submit"
    ASSIGN = "assign"
    VOTE = "vote"
    REVISE = "revise"
    PUBLISH = "publish"
    REOPEN = "reopen"


@dataclass(frozen=True)
class Rule:
    verb: str  # how messages name the action: "cannot <verb> article 3"
    roles: frozenset[Role]
    statuses: frozenset[ReviewStatus]  # where the article must be
    hint: str  # how an article gets there; may use {version}, {quorum} and {approvals}


_EDITORS = frozenset({Role.EDITOR, Role.ADMIN})
_S = ReviewStatus
RULES: dict[Action, Rule] = {
    Action.SUBMIT: Rule("submit", _EDITORS, frozenset({_S.DRAFT}), "each answer is submitted once"),
    Action.ASSIGN: Rule(
        "assign a reviewer to",
        _EDITORS,
        frozenset({_S.SUBMITTED, _S.UNDER_REVIEW, _S.CHANGES_REQUESTED}),
        "reopen a published or rejected article first (`medevidence review reopen ID`)",
    ),
    Action.VOTE: Rule(
        "vote on",
        frozenset({Role.REVIEWER}),
        frozenset({_S.UNDER_REVIEW, _S.CHANGES_REQUESTED, _S.APPROVED}),
        "an editor assigns reviewers to a submitted article (`medevidence review assign ID REVIEWER`), "
        "or reopens a published or rejected one",
    ),
    Action.REVISE: Rule(
        "revise",
        _EDITORS,
        frozenset({_S.SUBMITTED, _S.UNDER_REVIEW, _S.CHANGES_REQUESTED, _S.APPROVED}),
        "reopen a published or rejected article first (`medevidence review reopen ID`)",
    ),
    Action.PUBLISH: Rule(
        "publish",
        _EDITORS,
        frozenset({_S.APPROVED}),
        "version {version} needs {quorum} reviewer approvals and has {approvals}, and it may have no request for "
        "changes, no rejection and no flagged statement",
    ),
    Action.REOPEN: Rule(
        "reopen",
        _EDITORS,
        frozenset({_S.PUBLISHED, _S.REJECTED}),
        "an article still in review is revised instead (`medevidence review revise ID`)",
    ),
}
_IN_REVIEW = frozenset({_S.UNDER_REVIEW, _S.CHANGES_REQUESTED, _S.APPROVED})


@dataclass(frozen=True)
class Vote:
    id: int
    article_id: int
    version: int
    reviewer: str
    decision: Decision
    comment: str
    cast_at: str
    counted: bool  # the latest vote of an enabled reviewer on the current version


@dataclass(frozen=True)
class Tally:
    """The counted votes on one version."""

    version: int
    approvals: int
    changes_requested: int
    rejections: int


@dataclass(frozen=True)
class ArticleVersion:
    article_id: int
    number: int
    author: str
    created_at: str
    note: str  # submitted / revised / reopened
    body: dict[str, Any]  # the full answer JSON of this version
    diff: str  # unified diff of the rendered statements against the previous version
    flags: tuple[Flag, ...]
    comments: tuple[StatementComment, ...]

    def answer(self) -> Answer:
        return answer_from_dict(self.body)

    @property
    def flagged(self) -> bool:
        return bool(self.flags)


@dataclass(frozen=True)
class Article:
    id: int
    answer_id: str
    question: str
    status: ReviewStatus
    current_version: int
    published_version: int | None
    created_by: str
    created_at: str
    updated_at: str
    reviewers: tuple[str, ...]
    tally: Tally  # counted votes on the current version
    flagged: bool  # the current version has statements its cited spans do not support


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Board(Accounts):
    """The review board of one library: accounts (from :class:`Accounts`), articles, versions, votes, audit.

    Methods that change something take the acting :class:`User` (from :meth:`authenticate` or
    :meth:`authenticate_token`); the account is re-read inside the transaction, so a role change or
    a disabled account takes effect at once. Refusals raise a :class:`~medevidence.errors.BoardError`
    and change nothing.
    """

    def __init__(self, library: Library, password_hasher: PasswordHasher | None = None) -> None:
        super().__init__(library.store, password_hasher)

    # -- quorum -----------------------------------------------------------------------------------

    @property
    def quorum(self) -> int:
        with self._read() as db:
            return _quorum(db)

    def set_quorum(self, actor: User, quorum: int) -> int:
        """How many reviewer approvals (and rejections) decide an article; articles in review are recounted."""
        if quorum < 1:
            raise BoardError(f"the quorum must be at least 1 reviewer, not {quorum}; e.g. 2")
        with self._write() as db:
            acting = acting_user(db, actor, frozenset({Role.ADMIN}), "change the review quorum")
            before = _quorum(db)
            if quorum == before:
                return quorum
            db.execute("INSERT OR REPLACE INTO board_meta (key, value) VALUES (?, ?)", (QUORUM_KEY, str(quorum)))
            audit.append(
                db,
                actor=acting.name,
                actor_id=acting.id,
                action="board.set_quorum",
                details={"from": before, "to": quorum},
            )
            placeholders = ",".join("?" * len(_IN_REVIEW))
            rows = db.execute(f"SELECT * FROM articles WHERE status IN ({placeholders})", sorted(_IN_REVIEW))
            for row in rows.fetchall():
                _recount(db, row, acting, reason="quorum changed")
            return quorum

    # -- reading ----------------------------------------------------------------------------------

    def article(self, article_id: int) -> Article:
        with self._read() as db:
            return _article(db, _article_row(db, article_id))

    def articles(self, status: ReviewStatus | str | None = None) -> list[Article]:
        with self._read() as db:
            if status is None:
                rows = db.execute("SELECT * FROM articles ORDER BY id").fetchall()
            else:
                rows = db.execute(
                    "SELECT * FROM articles WHERE status = ? ORDER BY id", (ReviewStatus(status).value,)
                ).fetchall()
            return [_article(db, row) for row in rows]

    def article_for_answer(self, answer_id: str) -> Article | None:
        with self._read() as db:
            row = db.execute("SELECT * FROM articles WHERE answer_id = ?", (answer_id,)).fetchone()
            return None if row is None else _article(db, row)

    def status_of_answer(self, answer_id: str) -> ReviewStatus:
        """The board's status for a stored answer: ``draft`` until it is submitted."""
        article = self.article_for_answer(answer_id)
        return ReviewStatus.DRAFT if article is None else article.status

    def versions(self, article_id: int) -> list[ArticleVersion]:
        with self._read() as db:
            _article_row(db, article_id)
            rows = db.execute(
                "SELECT article_versions.*, board_users.name AS author FROM article_versions "
                "JOIN board_users ON board_users.id = article_versions.author_id "
                "WHERE article_id = ? ORDER BY number",
                (article_id,),
            ).fetchall()
            return [_version(row) for row in rows]

    def version(self, article_id: int, number: int | None = None) -> ArticleVersion:
        """One version (the current one when ``number`` is None)."""
        with self._read() as db:
            row = _article_row(db, article_id)
            return _version(_version_row(db, article_id, number if number is not None else row["current_version"]))

    def answer(self, article_id: int, version: int | None = None) -> Answer:
        """A version as an :class:`Answer` whose ``review_status`` says where that version stands.

        The published version reads ``published``; the current version the article's status;
        an older version keeps the status it was stored with.
        """
        with self._read() as db:
            row = _article_row(db, article_id)
            number = version if version is not None else row["current_version"]
            answer = _version(_version_row(db, article_id, number)).answer()
        if number == row["published_version"]:
            answer.review_status = ReviewStatus.PUBLISHED
        elif number == row["current_version"]:
            answer.review_status = ReviewStatus(row["status"])
        return answer

    def votes(self, article_id: int) -> list[Vote]:
        """Every vote on every version, oldest first; ``counted`` marks those that decide the status."""
        with self._read() as db:
            row = _article_row(db, article_id)
            return _votes(db, article_id, row["current_version"])

    def diff(self, article_id: int, a: int, b: int) -> str:
        """Unified diff of the rendered statements of versions ``a`` and ``b``."""
        with self._read() as db:
            _article_row(db, article_id)
            old = _version(_version_row(db, article_id, a)).answer()
            new = _version(_version_row(db, article_id, b)).answer()
        return unified_diff(old, new, f"article {article_id} version {a}", f"article {article_id} version {b}")

    def audit_log(self, article_id: int | None = None) -> list[AuditEntry]:
        with self._read() as db:
            return audit.entries(db, article_id)

    def verify_audit(self) -> AuditReport:
        with self._read() as db:
            return audit.verify(db)

    # -- the workflow -------------------------------------------------------------------------------

    def submit(self, answer_id: str, actor: User) -> Article:
        """Make a stored answer article N at version 1, status submitted."""
        with self._write() as db:
            acting = acting_user(db, actor, RULES[Action.SUBMIT].roles, f"submit answer {answer_id!r}")
            existing = db.execute("SELECT id, status FROM articles WHERE answer_id = ?", (answer_id,)).fetchone()
            if existing is not None:
                raise DuplicateArticle(answer_id, existing["id"], existing["status"])
            answer = answer_from_dict(self.store.answer_json(answer_id))
            now = _now()
            cursor = db.execute(
                "INSERT INTO articles (answer_id, question, status, current_version, created_by, created_at, "
                "updated_at) VALUES (?, ?, ?, 1, ?, ?, ?)",
                (answer_id, answer.question, ReviewStatus.SUBMITTED.value, acting.id, now, now),
            )
            assert cursor.lastrowid is not None
            article_id = cursor.lastrowid
            diff = unified_diff(None, answer, "", f"article {article_id} version 1")
            flags = _save_version(db, article_id, 1, acting, "submitted", answer, diff)
            audit.append(
                db,
                actor=acting.name,
                actor_id=acting.id,
                action="article.submit",
                article_id=article_id,
                to_version=1,
                from_status=ReviewStatus.DRAFT.value,
                to_status=ReviewStatus.SUBMITTED.value,
                details={"answer_id": answer_id, "flagged": [f.statement for f in flags]},
            )
            return _article(db, _article_row(db, article_id))

    def assign(self, article_id: int, actor: User, reviewer: str) -> Article:
        """Add a reviewer; a submitted article goes under review. Assigning someone twice changes nothing."""
        with self._write() as db:
            row = _article_row(db, article_id)
            acting = _allowed(db, actor, Action.ASSIGN, row)
            target = db.execute("SELECT * FROM board_users WHERE name = ?", (reviewer,)).fetchone()
            if target is None:
                raise UserNotFound(reviewer)
            if target["role"] != Role.REVIEWER.value or target["disabled"]:
                state = "disabled" if target["disabled"] else role_phrase(frozenset({Role(target["role"])}))
                raise NotPermitted(
                    f"{target['name']} cannot review article {article_id}: the account is {state}, and only enabled "
                    f"reviewers review; choose a reviewer (`medevidence users list`)"
                )
            if _is_author(db, article_id, target["id"]):
                raise SelfReview(target["name"], article_id, "review")
            if db.execute(
                "SELECT 1 FROM article_reviewers WHERE article_id = ? AND user_id = ?", (article_id, target["id"])
            ).fetchone():
                return _article(db, row)
            db.execute(
                "INSERT INTO article_reviewers (article_id, user_id, assigned_by, assigned_at) VALUES (?, ?, ?, ?)",
                (article_id, target["id"], acting.id, _now()),
            )
            status = ReviewStatus(row["status"])
            new_status = ReviewStatus.UNDER_REVIEW if status is ReviewStatus.SUBMITTED else status
            _set_status(db, article_id, new_status)
            audit.append(
                db,
                actor=acting.name,
                actor_id=acting.id,
                action="article.assign",
                article_id=article_id,
                from_version=row["current_version"],
                to_version=row["current_version"],
                from_status=status.value,
                to_status=new_status.value,
                details={"reviewer": target["name"]},
            )
            return _article(db, _article_row(db, article_id))

    def vote(
        self,
        article_id: int,
        actor: User,
        decision: Decision | str,
        *,
        comment: str = "",
        version: int | None = None,
    ) -> Vote:
        """Vote on the current version (``version`` names the one the reviewer read; a stale one is refused)."""
        chosen = Decision(decision)
        with self._write() as db:
            row = _article_row(db, article_id)
            acting = _allowed(db, actor, Action.VOTE, row)
            if _is_author(db, article_id, acting.id):
                raise SelfReview(acting.name, article_id, "vote on")
            if not db.execute(
                "SELECT 1 FROM article_reviewers WHERE article_id = ? AND user_id = ?", (article_id, acting.id)
            ).fetchone():
                raise NotPermitted(
                    f"{acting.name} is not assigned to review article {article_id}, so cannot vote on it; an editor "
                    f"can assign them (`medevidence review assign {article_id} {acting.name}`)"
                )
            current = row["current_version"]
            _check_version(article_id, "vote on", version, current)
            flags = _version(_version_row(db, article_id, current)).flags
            if chosen is Decision.APPROVE and flags:
                raise FlaggedVersion(article_id, current, [f.statement for f in flags])
            cursor = db.execute(
                "INSERT INTO votes (article_id, version, reviewer_id, decision, comment, cast_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (article_id, current, acting.id, chosen.value, comment.strip(), _now()),
            )
            new_status = _status_from(_tally(db, article_id, current), _quorum(db), bool(flags))
            _set_status(db, article_id, new_status)
            audit.append(
                db,
                actor=acting.name,
                actor_id=acting.id,
                action="article.vote",
                article_id=article_id,
                from_version=current,
                to_version=current,
                from_status=row["status"],
                to_status=new_status.value,
                details={"decision": chosen.value, "comment": comment.strip(), "vote_id": cursor.lastrowid},
            )
            return next(v for v in _votes(db, article_id, current) if v.id == cursor.lastrowid)

    def revise(
        self, article_id: int, actor: User, edits: Sequence[Edit], *, version: int | None = None
    ) -> ArticleVersion:
        """Save ``edits`` (numbered against the current version) as a new version; its votes start from none.

        ``version`` names the version the editor worked from; if another revision was saved since,
        the edits are refused (their statement numbers may no longer point where they meant).
        """
        with self._write() as db:
            row = _article_row(db, article_id)
            acting = _allowed(db, actor, Action.REVISE, row)
            current = row["current_version"]
            _check_version(article_id, "revise", version, current)
            body = _version(_version_row(db, article_id, current)).body
            previous, revised = answer_from_dict(body), answer_from_dict(body)
            record, comments = apply_edits(article_id, revised, edits, acting.name)
            number = current + 1
            diff = unified_diff(
                previous, revised, f"article {article_id} version {current}", f"article {article_id} version {number}"
            )
            flags = _save_version(db, article_id, number, acting, "revised", revised, diff, comments)
            status = ReviewStatus(row["status"])
            new_status = ReviewStatus.SUBMITTED if status is ReviewStatus.SUBMITTED else ReviewStatus.UNDER_REVIEW
            db.execute("UPDATE articles SET current_version = ? WHERE id = ?", (number, article_id))
            _set_status(db, article_id, new_status)
            audit.append(
                db,
                actor=acting.name,
                actor_id=acting.id,
                action="article.revise",
                article_id=article_id,
                from_version=current,
                to_version=number,
                from_status=status.value,
                to_status=new_status.value,
                details={"edits": record, "flagged": [{"statement": f.statement, "reason": f.reason} for f in flags]},
            )
            return _version(_version_row(db, article_id, number))

    def publish(self, article_id: int, actor: User) -> Article:
        """Publish the current (approved) version."""
        with self._write() as db:
            row = _article_row(db, article_id)
            acting = _allowed(db, actor, Action.PUBLISH, row)
            current = row["current_version"]
            flagged = bool(_version(_version_row(db, article_id, current)).flags)
            tally = _tally(db, article_id, current)
            quorum = _quorum(db)
            if _status_from(tally, quorum, flagged) is not ReviewStatus.APPROVED:
                # Approved earlier, but an approving reviewer has since been disabled or lost the role.
                raise TransitionNotAllowed(
                    article_id,
                    row["status"],
                    "publish",
                    f"version {current} now has {tally.approvals} counted approvals of the {quorum} needed; "
                    f"ask another assigned reviewer to vote (`medevidence articles show {article_id}`)",
                )
            db.execute("UPDATE articles SET published_version = ? WHERE id = ?", (current, article_id))
            _set_status(db, article_id, ReviewStatus.PUBLISHED)
            audit.append(
                db,
                actor=acting.name,
                actor_id=acting.id,
                action="article.publish",
                article_id=article_id,
                from_version=current,
                to_version=current,
                from_status=row["status"],
                to_status=ReviewStatus.PUBLISHED.value,
                details={"published_version": current, "previously_published": row["published_version"]},
            )
            return _article(db, _article_row(db, article_id))

    def reopen(self, article_id: int, actor: User) -> Article:
        """Start a new review cycle on a new version (a copy of the current one); the published version stays."""
        with self._write() as db:
            row = _article_row(db, article_id)
            acting = _allowed(db, actor, Action.REOPEN, row)
            current = row["current_version"]
            answer = _version(_version_row(db, article_id, current)).answer()
            number = current + 1
            _save_version(db, article_id, number, acting, "reopened", answer, "")
            db.execute("UPDATE articles SET current_version = ? WHERE id = ?", (number, article_id))
            _set_status(db, article_id, ReviewStatus.UNDER_REVIEW)
            audit.append(
                db,
                actor=acting.name,
                actor_id=acting.id,
                action="article.reopen",
                article_id=article_id,
                from_version=current,
                to_version=number,
                from_status=row["status"],
                to_status=ReviewStatus.UNDER_REVIEW.value,
                details={"published_version": row["published_version"]},
            )
            return _article(db, _article_row(db, article_id))


# -- inside a write transaction --------------------------------------------------------------


def _allowed(db: sqlite3.Connection, actor: User, action: Action, row: sqlite3.Row) -> User:
    rule = RULES[action]
    status = ReviewStatus(row["status"])
    acting = acting_user(db, actor, rule.roles, f"{rule.verb} article {row['id']} (status {status.value})")
    if status not in rule.statuses:
        needed = " or ".join(s.value for s in ReviewStatus if s in rule.statuses)
        current = row["current_version"]
        tally = _tally(db, row["id"], current)
        hint = rule.hint.format(version=current, quorum=_quorum(db), approvals=tally.approvals)
        raise TransitionNotAllowed(
            row["id"],
            status.value,
            rule.verb,
            f"{action.value} needs status {needed} ({hint}); then {role_phrase(rule.roles)} may {rule.verb} it",
        )
    return acting


def _save_version(
    db: sqlite3.Connection,
    article_id: int,
    number: int,
    author: User,
    note: str,
    answer: Answer,
    diff: str,
    comments: Sequence[StatementComment] = (),
) -> list[Flag]:
    flags = unsupported(answer)
    db.execute(
        "INSERT INTO article_versions (article_id, number, author_id, created_at, note, body, diff, flags, "
        "comments) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            article_id,
            number,
            author.id,
            _now(),
            note,
            json.dumps(answer.to_dict(), ensure_ascii=False),
            diff,
            json.dumps([asdict(f) for f in flags], ensure_ascii=False),
            json.dumps([asdict(c) for c in comments], ensure_ascii=False),
        ),
    )
    return flags


def _set_status(db: sqlite3.Connection, article_id: int, status: ReviewStatus) -> None:
    db.execute("UPDATE articles SET status = ?, updated_at = ? WHERE id = ?", (status.value, _now(), article_id))


def _recount(db: sqlite3.Connection, row: sqlite3.Row, acting: User, reason: str) -> None:
    current = row["current_version"]
    flagged = bool(_version(_version_row(db, row["id"], current)).flags)
    new_status = _status_from(_tally(db, row["id"], current), _quorum(db), flagged)
    if new_status.value == row["status"]:
        return
    _set_status(db, row["id"], new_status)
    audit.append(
        db,
        actor=acting.name,
        actor_id=acting.id,
        action="article.recount",
        article_id=row["id"],
        from_version=current,
        to_version=current,
        from_status=row["status"],
        to_status=new_status.value,
        details={"reason": reason},
    )


# -- rows -----------------------------------------------------------------------------------------


def _check_version(article_id: int, action: str, named: int | None, current: int) -> None:
    if named is not None and named > current:
        raise ArticleNotFound(article_id, named)
    if named is not None and named != current:
        raise StaleVersion(article_id, action, named, current)


def _quorum(db: sqlite3.Connection) -> int:
    row = db.execute("SELECT value FROM board_meta WHERE key = ?", (QUORUM_KEY,)).fetchone()
    return DEFAULT_QUORUM if row is None else int(row[0])


def _status_from(tally: Tally, quorum: int, flagged: bool) -> ReviewStatus:
    if tally.rejections >= quorum:
        return ReviewStatus.REJECTED
    if tally.changes_requested:
        return ReviewStatus.CHANGES_REQUESTED
    if tally.approvals >= quorum and not tally.rejections and not flagged:
        return ReviewStatus.APPROVED
    return ReviewStatus.UNDER_REVIEW


def _is_author(db: sqlite3.Connection, article_id: int, user_id: int) -> bool:
    row = db.execute(
        "SELECT 1 FROM articles WHERE id = ? AND created_by = ? "
        "UNION SELECT 1 FROM article_versions WHERE article_id = ? AND author_id = ? AND note = 'revised'",
        (article_id, user_id, article_id, user_id),
    ).fetchone()
    return row is not None


def _article_row(db: sqlite3.Connection, article_id: int) -> sqlite3.Row:
    row: sqlite3.Row | None = db.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
    if row is None:
        raise ArticleNotFound(article_id)
    return row


def _version_row(db: sqlite3.Connection, article_id: int, number: int) -> sqlite3.Row:
    row: sqlite3.Row | None = db.execute(
        "SELECT article_versions.*, board_users.name AS author FROM article_versions "
        "JOIN board_users ON board_users.id = article_versions.author_id WHERE article_id = ? AND number = ?",
        (article_id, number),
    ).fetchone()
    if row is None:
        raise ArticleNotFound(article_id, number)
    return row


def _votes(db: sqlite3.Connection, article_id: int, current_version: int) -> list[Vote]:
    rows = db.execute(
        "SELECT votes.*, board_users.name AS reviewer, board_users.role, board_users.disabled FROM votes "
        "JOIN board_users ON board_users.id = votes.reviewer_id WHERE article_id = ? ORDER BY votes.id",
        (article_id,),
    ).fetchall()
    latest: dict[tuple[int, int], int] = {}
    for row in rows:
        latest[(row["version"], row["reviewer_id"])] = row["id"]
    return [
        Vote(
            id=row["id"],
            article_id=article_id,
            version=row["version"],
            reviewer=row["reviewer"],
            decision=Decision(row["decision"]),
            comment=row["comment"],
            cast_at=row["cast_at"],
            counted=row["version"] == current_version
            and latest[(row["version"], row["reviewer_id"])] == row["id"]
            and row["role"] == Role.REVIEWER.value
            and not row["disabled"],
        )
        for row in rows
    ]


def _tally(db: sqlite3.Connection, article_id: int, version: int) -> Tally:
    counted = [v.decision for v in _votes(db, article_id, version) if v.counted]
    return Tally(
        version=version,
        approvals=counted.count(Decision.APPROVE),
        changes_requested=counted.count(Decision.REQUEST_CHANGES),
        rejections=counted.count(Decision.REJECT),
    )


def _version(row: sqlite3.Row) -> ArticleVersion:
    return ArticleVersion(
        article_id=row["article_id"],
        number=row["number"],
        author=row["author"],
        created_at=row["created_at"],
        note=row["note"],
        body=json.loads(row["body"]),
        diff=row["diff"],
        flags=tuple(Flag(**f) for f in json.loads(row["flags"])),
        comments=tuple(StatementComment(**c) for c in json.loads(row["comments"])),
    )


def _article(db: sqlite3.Connection, row: sqlite3.Row) -> Article:
    reviewers = db.execute(
        "SELECT board_users.name FROM article_reviewers JOIN board_users ON board_users.id = article_reviewers.user_id "
        "WHERE article_id = ? ORDER BY article_reviewers.assigned_at, board_users.name",
        (row["id"],),
    ).fetchall()
    creator = db.execute("SELECT name FROM board_users WHERE id = ?", (row["created_by"],)).fetchone()
    current = row["current_version"]
    return Article(
        id=row["id"],
        answer_id=row["answer_id"],
        question=row["question"],
        status=ReviewStatus(row["status"]),
        current_version=current,
        published_version=row["published_version"],
        created_by=creator[0],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        reviewers=tuple(r[0] for r in reviewers),
        tally=_tally(db, row["id"], current),
        flagged=bool(json.loads(_version_row(db, row["id"], current)["flags"])),
    )
