"""What the board API and pages show of an article: its dictionaries, its review banner, its statements.

Everything here reads through the public :class:`~medevidence.review.Board` methods and runs in
the board's worker thread (``BoardGate.run``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from ..accounts import Role, User
from ..audit import AuditEntry
from ..models import Answer, ReviewStatus, Statement
from ..review import RULES, Action, Article, ArticleVersion, Board, Decision, Vote
from ..revision import rendered_statements

PUBLISH_ACTION = "article.publish"


def when(stamp: str | None) -> str:
    """``2025-11-23T09:42:05+00:00`` as ``23 Nov 2025, 09:42 UTC``; the stored text if it is not a time."""
    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


# -- JSON -----------------------------------------------------------------------------------------


def article_summary(article: Article) -> dict[str, Any]:
    return {
        "id": article.id,
        "answer_id": article.answer_id,
        "question": article.question,
        "status": article.status.value,
        "current_version": article.current_version,
        "published_version": article.published_version,
        "created_by": article.created_by,
        "created_at": article.created_at,
        "updated_at": article.updated_at,
        "reviewers": list(article.reviewers),
        "tally": asdict(article.tally),
        "flagged": article.flagged,
        "url": f"/articles/{article.id}",
    }


def version_summary(version: ArticleVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "author": version.author,
        "created_at": version.created_at,
        "note": version.note,
        "flagged": version.flagged,
        "flags": [asdict(flag) for flag in version.flags],
        "comments": [asdict(comment) for comment in version.comments],
    }


def vote_dict(vote: Vote) -> dict[str, Any]:
    return {**asdict(vote), "decision": vote.decision.value}


def article_detail(board: Board, article_id: int) -> dict[str, Any]:
    article = board.article(article_id)
    versions = board.versions(article_id)
    return {
        **article_summary(article),
        "quorum": board.quorum,
        "flags": [asdict(flag) for flag in versions[-1].flags],
        "versions": [version_summary(v) for v in versions],
        "votes": [vote_dict(v) for v in board.votes(article_id)],
    }


def audit_dict(entry: AuditEntry) -> dict[str, Any]:
    return asdict(entry)


# -- the review banner ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Approval:
    reviewer: str
    at: str


@dataclass(frozen=True)
class ReviewBanner:
    """Where one version of an article stands, for the banner over it."""

    article_id: int
    version: int
    current_version: int
    status: ReviewStatus
    approvals: tuple[Approval, ...]
    published_at: str | None  # when this version was published, if it was
    published_version: int | None  # the article's published version, which may be a later one
    updated_at: str

    @property
    def superseded(self) -> bool:
        return self.published_at is not None and self.published_version != self.version


def published_versions(board: Board, article_id: int) -> dict[int, str]:
    """Every version ever published, with when: each keeps its public address after a newer one is published."""
    return {
        int(entry.details["published_version"]): entry.at
        for entry in board.audit_log(article_id)
        if entry.action == PUBLISH_ACTION
    }


def approvals(votes: list[Vote], version: int, current: int) -> tuple[Approval, ...]:
    """The reviewers whose latest vote on ``version`` approves it (on the current version, those that count)."""
    latest: dict[str, Vote] = {}
    for vote in votes:
        if vote.version == version:
            latest[vote.reviewer] = vote
    return tuple(
        Approval(vote.reviewer, vote.cast_at)
        for vote in latest.values()
        if vote.decision is Decision.APPROVE and (vote.counted or version != current)
    )


def review_banner(board: Board, article: Article, version: int, published: dict[int, str]) -> ReviewBanner:
    created_at = board.version(article.id, version).created_at
    # A version published once stays "published" at its own address after a newer one goes out.
    status = ReviewStatus.PUBLISHED if version in published else board.answer(article.id, version).review_status
    return ReviewBanner(
        article_id=article.id,
        version=version,
        current_version=article.current_version,
        status=status,
        approvals=approvals(board.votes(article.id), version, article.current_version),
        published_at=published.get(version),
        published_version=article.published_version,
        updated_at=published.get(version) or created_at,
    )


def answer_review(board: Board, answer: Answer) -> ReviewBanner | None:
    """The banner for a stored answer that the board took up: its published version if any, else where it is now."""
    article = board.article_for_answer(answer.id)
    if article is None:
        return None
    version = article.published_version or article.current_version
    return review_banner(board, article, version, published_versions(board, article.id))


# -- what a member may do -------------------------------------------------------------------------


@dataclass(frozen=True)
class Permissions:
    """Which controls the review page shows; the board still checks every action itself."""

    assign: bool
    revise: bool
    vote: bool
    publish: bool
    reopen: bool
    audit: bool


def permissions(member: User, article: Article, viewing_current: bool) -> Permissions:
    def allowed(action: Action) -> bool:
        rule = RULES[action]
        return viewing_current and member.role in rule.roles and article.status in rule.statuses

    return Permissions(
        assign=allowed(Action.ASSIGN),
        revise=allowed(Action.REVISE),
        vote=allowed(Action.VOTE) and member.name in article.reviewers,
        publish=allowed(Action.PUBLISH),
        reopen=allowed(Action.REOPEN),
        audit=member.role is Role.ADMIN,
    )


# -- statements -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NumberedStatement:
    number: int  # as revisions name it: 1-based, in the order of Answer.statements()
    heading: str
    statement: Statement
    removable: bool  # a conflict's summary and explanation can be edited but not removed


def numbered_statements(answer: Answer) -> list[NumberedStatement]:
    """Each statement with its number and heading, as diffs and revisions number them."""
    fixed = {id(c.summary) for c in answer.conflicts} | {id(c.explanation) for c in answer.conflicts}
    statements = iter(answer.statements())
    numbered: list[NumberedStatement] = []
    heading = ""
    # Numbered lines start "#1 ", so a statement's own text can never pass for a heading.
    for line in rendered_statements(answer, numbered=True):
        if line.startswith("## "):
            heading = line[3:]
            continue
        statement = next(statements)
        numbered.append(NumberedStatement(len(numbered) + 1, heading, statement, id(statement) not in fixed))
    return numbered
