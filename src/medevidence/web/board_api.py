"""The review board's JSON API under /api: articles, their versions and votes, and the audit log.

Every route needs an API token (``Authorization: Bearer``, from ``Board.issue_token``) and calls
one public :class:`~medevidence.review.Board` method as that account; the board checks the role,
the article's status and the version, and its refusals become the app's error shape (401, 403,
404, 409 or 422, see :mod:`.errors`). Session cookies are not accepted here: the pages have their
own forms with CSRF tokens, so no page on another site can make a signed-in browser call the API.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from ..accounts import Role, User, role_phrase
from ..models import ReviewStatus
from ..review import Board, Decision
from ..revision import AddComment, Edit, EditText, RemoveStatement
from .api import error_responses
from .board_gate import BoardGate, api_user, board_gate
from .board_views import article_detail, article_summary, audit_dict, version_summary, vote_dict
from .errors import WebError

router = APIRouter(prefix="/api", tags=["board"])

# SQLite integers stop at 2**63; ids beyond any real board are refused before they reach it.
MAX_NUMBER = 2**31
ArticleId = Annotated[int, Path(ge=1, le=MAX_NUMBER)]
VersionNumber = Annotated[int, Field(ge=1, le=MAX_NUMBER, description="The version the request was made from.")]
Member = Annotated[User, Depends(api_user)]
Gate = Annotated[BoardGate, Depends(board_gate)]
# Reads need a member of the board but not who it is; the board itself checks who acts.
SIGNED_IN = [Depends(api_user)]


class SubmitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer_id: str = Field(min_length=1, max_length=200, description="A stored answer's id (from POST /api/ask).")


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewer: str = Field(min_length=1, max_length=64)


class VoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Decision
    comment: str = Field("", max_length=10_000)
    # Required, unlike the library's: a vote names the version its reviewer read, so a newer one refuses it.
    version: VersionNumber


class EditTextIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    op: Literal["edit"]
    statement: int = Field(ge=1, le=MAX_NUMBER)
    text: str = Field(max_length=10_000)


class RemoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    op: Literal["remove"]
    statement: int = Field(ge=1, le=MAX_NUMBER)


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    op: Literal["comment"]
    statement: int = Field(ge=1, le=MAX_NUMBER)
    text: str = Field(max_length=10_000)


EditIn = Annotated[EditTextIn | RemoveIn | CommentIn, Field(discriminator="op")]


class ReviseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: VersionNumber
    edits: list[EditIn] = Field(min_length=1, max_length=500)


def to_edit(edit: EditTextIn | RemoveIn | CommentIn) -> Edit:
    if isinstance(edit, EditTextIn):
        return EditText(edit.statement, edit.text)
    if isinstance(edit, RemoveIn):
        return RemoveStatement(edit.statement)
    return AddComment(edit.statement, edit.text)


def _created(body: dict[str, Any], location: str) -> JSONResponse:
    return JSONResponse(body, status_code=201, headers={"Location": location})


@router.get("/articles", dependencies=SIGNED_IN, responses=error_responses(401, 403, 422))
async def list_articles(gate: Gate, status: ReviewStatus | None = None) -> JSONResponse:
    """Every article, or those with ``status``, oldest first."""
    found = await gate.run(lambda board: board.articles(status))
    return JSONResponse({"articles": [article_summary(a) for a in found]})


@router.post("/articles", status_code=201, responses=error_responses(400, 401, 403, 404, 409, 422))
async def submit(body: SubmitIn, member: Member, gate: Gate) -> JSONResponse:
    """Submit a stored answer: it becomes an article at version 1 (editors and admins)."""

    def work(board: Board) -> dict[str, Any]:
        article = board.submit(body.answer_id, member)
        return article_detail(board, article.id)

    detail = await gate.run(work)
    return _created(detail, f"/api/articles/{detail['id']}")


@router.get("/articles/{article_id}", dependencies=SIGNED_IN, responses=error_responses(401, 403, 404, 422))
async def article(article_id: ArticleId, gate: Gate) -> JSONResponse:
    """Status, reviewers, tally, versions (with flags and comments), votes and the current version's flags."""
    return JSONResponse(await gate.run(lambda board: article_detail(board, article_id)))


@router.post("/articles/{article_id}/assign", responses=error_responses(400, 401, 403, 404, 409, 422))
async def assign(article_id: ArticleId, body: AssignIn, member: Member, gate: Gate) -> JSONResponse:
    def work(board: Board) -> dict[str, Any]:
        board.assign(article_id, member, body.reviewer)
        return article_detail(board, article_id)

    return JSONResponse(await gate.run(work))


@router.post("/articles/{article_id}/votes", status_code=201, responses=error_responses(400, 401, 403, 404, 409, 422))
async def vote(article_id: ArticleId, body: VoteIn, member: Member, gate: Gate) -> JSONResponse:
    """An assigned reviewer's vote on the version they read; the reply carries the article's new status."""

    def work(board: Board) -> dict[str, Any]:
        cast = board.vote(article_id, member, body.decision, comment=body.comment, version=body.version)
        return {"vote": vote_dict(cast), "article": article_summary(board.article(article_id))}

    return _created(await gate.run(work), f"/api/articles/{article_id}")


@router.post(
    "/articles/{article_id}/versions", status_code=201, responses=error_responses(400, 401, 403, 404, 409, 422)
)
async def revise(article_id: ArticleId, body: ReviseIn, member: Member, gate: Gate) -> JSONResponse:
    """Save edits to the current version as a new one; unsupported statements come back in ``flags``."""
    edits = [to_edit(edit) for edit in body.edits]

    def work(board: Board) -> dict[str, Any]:
        saved = board.revise(article_id, member, edits, version=body.version)
        return {**version_summary(saved), "diff": saved.diff, "article": article_summary(board.article(article_id))}

    saved = await gate.run(work)
    return _created(saved, f"/api/articles/{article_id}/versions/{saved['number']}")


@router.post("/articles/{article_id}/publish", responses=error_responses(401, 403, 404, 409, 422))
async def publish(article_id: ArticleId, member: Member, gate: Gate) -> JSONResponse:
    def work(board: Board) -> dict[str, Any]:
        board.publish(article_id, member)
        return article_detail(board, article_id)

    return JSONResponse(await gate.run(work))


@router.post("/articles/{article_id}/reopen", responses=error_responses(401, 403, 404, 409, 422))
async def reopen(article_id: ArticleId, member: Member, gate: Gate) -> JSONResponse:
    def work(board: Board) -> dict[str, Any]:
        board.reopen(article_id, member)
        return article_detail(board, article_id)

    return JSONResponse(await gate.run(work))


@router.get(
    "/articles/{article_id}/versions/{number}", dependencies=SIGNED_IN, responses=error_responses(401, 403, 404, 422)
)
async def version(article_id: ArticleId, number: Annotated[int, Path(ge=1, le=MAX_NUMBER)], gate: Gate) -> JSONResponse:
    """One version: who saved it and why, its flags, comments and diff, and the answer JSON it holds."""

    def work(board: Board) -> dict[str, Any]:
        found = board.version(article_id, number)
        answer = board.answer(article_id, number)
        return {**version_summary(found), "diff": found.diff, "answer": answer.to_dict()}

    return JSONResponse(await gate.run(work))


@router.get("/articles/{article_id}/diff", dependencies=SIGNED_IN, responses=error_responses(401, 403, 404, 422))
async def diff(
    article_id: ArticleId,
    gate: Gate,
    a: Annotated[int, Query(ge=1, le=MAX_NUMBER)],
    b: Annotated[int, Query(ge=1, le=MAX_NUMBER)],
) -> JSONResponse:
    """Unified diff of the statements of versions ``a`` and ``b``."""
    text = await gate.run(lambda board: board.diff(article_id, a, b))
    return JSONResponse({"article_id": article_id, "a": a, "b": b, "diff": text})


@router.get("/audit", responses=error_responses(401, 403, 422))
async def audit(
    member: Member,
    gate: Gate,
    article: Annotated[int | None, Query(ge=1, le=MAX_NUMBER)] = None,
) -> JSONResponse:
    """The audit log (admins only), or the entries about one article."""
    if member.role is not Role.ADMIN:
        raise WebError(
            403,
            f"{member.name} is {role_phrase(frozenset({member.role}))} and cannot read the audit log; only an admin "
            "may (anyone on the board may check the chain with GET /api/audit/verify)",
        )
    entries = await gate.run(lambda board: board.audit_log(article))
    return JSONResponse({"entries": [audit_dict(e) for e in entries]})


@router.get("/audit/verify", dependencies=SIGNED_IN, responses=error_responses(401, 403, 422))
async def verify_audit(gate: Gate) -> JSONResponse:
    """Whether the hash chain is intact; when it is not, the first broken entry and what is wrong with it."""
    report = await gate.run(lambda board: board.verify_audit())
    return JSONResponse(
        {
            "intact": report.intact,
            "entries": report.entries,
            "head_hash": report.head_hash,
            "broken_seq": report.broken_seq,
            "problem": report.problem,
        }
    )
