"""The review board's pages: sign-in, the review queue, the article review view, versions, diffs, the audit log,
and the public pages of published articles (/articles/{id}, /articles/{id}/v/{n}, their HTML export, /policy).

Board pages need a signed-in member; anyone else is sent to the sign-in page and back. A draft's
public address answers 404 to anyone not signed in, with the same message as an article that does
not exist, so the public cannot learn what the board is working on. Every form carries the CSRF
token, and every action is one :class:`~medevidence.review.Board` call whose refusal is shown on
the page it came from, with the board's message and the status the API would give.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import anyio.to_thread
import jinja2
from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from ..accounts import Role, User
from ..errors import AccountDisabled, AnswerNotFound, ArticleNotFound, AuthenticationFailed, BoardError
from ..models import Answer, ReviewStatus
from ..render import AnswerView, render_html
from ..review import RULES, Action, Article, Board, Decision
from ..revision import AddComment, Edit, EditText, RemoveStatement, StatementComment
from .board_gate import board_gate
from .board_views import ReviewBanner, numbered_statements, permissions, published_versions, review_banner
from .errors import WebError, translate
from .pages import AnswerLinks, answer_context, standalone_page
from .security import CSRF_FIELD, check_form_token
from .sessions import SESSION_COOKIE, clear_session_cookie, private_channel, set_session_cookie

router = APIRouter(include_in_schema=False)

# The order the queue lists articles in: what needs someone's attention first.
QUEUE_ORDER = (
    ReviewStatus.SUBMITTED,
    ReviewStatus.UNDER_REVIEW,
    ReviewStatus.CHANGES_REQUESTED,
    ReviewStatus.APPROVED,
    ReviewStatus.REJECTED,
    ReviewStatus.PUBLISHED,
)
DECISION_LABELS = {
    Decision.APPROVE: "Approve",
    Decision.REQUEST_CHANGES: "Request changes",
    Decision.REJECT: "Reject",
}
MAX_FIELD = 10_000
# SQLite integers stop at 2**63; numbers beyond any real board are refused before they reach it.
Number = Annotated[int, Path(ge=1, le=2**31)]
# A board action prepared from a form: run as the member, it returns where to go next.
BoardWork = Callable[[Board, User], str]


def _render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    environment: jinja2.Environment = request.app.state.jinja
    context.setdefault("active", "board")
    page = environment.get_template(template).render(
        csrf_token=request.state.csrf_token, member=request.state.member, **context
    )
    return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})


def _member(request: Request) -> User | None:
    member: User | None = request.state.member
    return member


def _safe_next(target: str | None) -> str:
    """A path on this site to return to after signing in; anything else (another site) goes to the queue."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")) and len(target) < 2000:
        return target
    return "/board"


def _to_sign_in(request: Request, back_to: str | None = None) -> RedirectResponse:
    target = back_to or (request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return RedirectResponse(f"/board/login?{urlencode({'next': target})}", status_code=303)


async def _form(request: Request) -> FormData:
    async with request.form() as form:
        check_form_token(request, form.get(CSRF_FIELD))
        return form


def _text(form: FormData, name: str, limit: int = MAX_FIELD) -> str:
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    if len(value) > limit:
        raise WebError(422, f"the field {name!r} is {len(value):,} characters long; keep it under {limit:,}")
    return value.strip()


def _number(form: FormData, name: str) -> int:
    raw = _text(form, name, 12)
    if not raw.isdigit() or int(raw) < 1:
        raise WebError(422, f"the form's {name!r} must be a number from 1 up, not {raw!r}; reload the page and retry")
    return int(raw)


# -- signing in and out ---------------------------------------------------------------------------


@router.get("/board/login", response_class=HTMLResponse)
async def login_page(request: Request) -> Response:
    target = _safe_next(request.query_params.get("next"))
    if _member(request) is not None:
        return RedirectResponse(target, status_code=303)
    return _render(request, "board_login.html", target=target, name="", error=None)


@router.post("/board/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await _form(request)
    target = _safe_next(_text(form, "next"))
    name = _text(form, "name", 64)
    password = form.get("password")
    gate = board_gate(request)
    address = request.client.host if request.client else "unknown"

    def refused(status: int, message: str, headers: dict[str, str] | None = None) -> HTMLResponse:
        response = _render(
            request, "board_login.html", status, target=target, name=name, error=WebError(status, message)
        )
        response.headers.update(headers or {})
        return response

    if not private_channel(request):
        return refused(
            403,
            f"this server is reached over plain http at {request.url.hostname!r}, so a password sent from here would "
            "cross the network unencrypted; open it over https (behind a TLS proxy), or as http://127.0.0.1 on the "
            "server itself",
        )
    if not name or not isinstance(password, str) or not password:
        return refused(422, "enter your account name and your password")
    wait = gate.throttle.wait(address)
    if wait > 0:
        seconds = max(1, round(wait))
        message = f"too many failed sign-ins from {address}; wait {seconds} s and try again, or ask an admin"
        return refused(429, message, {"Retry-After": str(seconds)})
    try:
        user = await gate.run(lambda board: board.authenticate(name, password))
    except AuthenticationFailed as exc:
        gate.throttle.failed(address)
        return refused(401, str(exc))
    except AccountDisabled as exc:
        return refused(403, str(exc))
    secret = await anyio.to_thread.run_sync(gate.sessions.start, user)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, secret, request)
    return response


@router.post("/board/logout")
async def logout(request: Request) -> Response:
    await _form(request)
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        await anyio.to_thread.run_sync(board_gate(request).sessions.end, secret)
    response = RedirectResponse("/", status_code=303)
    clear_session_cookie(response, request)
    return response


# -- the review queue -----------------------------------------------------------------------------


@router.get("/board", response_class=HTMLResponse)
async def queue(request: Request) -> Response:
    member = _member(request)
    if member is None:
        return _to_sign_in(request)
    return await _queue_page(request, member)


async def _queue_page(request: Request, member: User, error: WebError | None = None) -> HTMLResponse:
    articles = await board_gate(request).run(lambda board: board.articles())
    groups = [(status, [a for a in articles if a.status is status]) for status in QUEUE_ORDER]
    return _render(
        request,
        "board_queue.html",
        error.status_code if error else 200,
        groups=[(status, found) for status, found in groups if found],
        can_submit=member.role in RULES[Action.SUBMIT].roles,
        error=error,
    )


@router.post("/board/articles", response_class=HTMLResponse)
async def submit(request: Request) -> Response:
    member = _member(request)
    form = await _form(request)
    if member is None:
        return _to_sign_in(request, "/board")
    answer_id = _text(form, "answer_id", 200)
    try:
        article = await board_gate(request).run(lambda board: board.submit(answer_id, member))
    except (BoardError, AnswerNotFound) as exc:
        return await _queue_page(request, member, translate(exc))
    return RedirectResponse(f"/board/articles/{article.id}", status_code=303)


# -- the article review view --------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticlePage:
    """Everything the review view shows, read in one turn of the board's worker thread."""

    article: Article
    answer: Answer
    banner: ReviewBanner
    context: dict[str, Any]


def _load_article(board: Board, member: User, article_id: int, number: int | None) -> ArticlePage:
    article = board.article(article_id)
    shown_number = number if number is not None else article.current_version
    shown = board.version(article_id, shown_number)
    answer = board.answer(article_id, shown_number)
    published = published_versions(board, article_id)
    banner = review_banner(board, article, shown_number, published)
    can = permissions(member, article, viewing_current=shown_number == article.current_version)
    assignable = [
        u.name for u in board.users() if u.role is Role.REVIEWER and not u.disabled and u.name not in article.reviewers
    ]
    comments: dict[int, list[StatementComment]] = {}
    for comment in shown.comments:
        comments.setdefault(comment.statement, []).append(comment)
    context = {
        "shown": shown,
        "versions": board.versions(article_id),
        "votes": board.votes(article_id),
        "history": board.audit_log(article_id),
        "published": published,
        "quorum": board.quorum,
        "can": can,
        "assignable": assignable if can.assign else [],
        "statements": numbered_statements(answer),
        "flags": {flag.statement: flag for flag in shown.flags},
        "comments": comments,
    }
    return ArticlePage(article, answer, banner, context)


async def _article_page(
    request: Request,
    member: User,
    article_id: int,
    number: int | None = None,
    error: WebError | None = None,
    saved: int | None = None,
) -> HTMLResponse:
    loaded = await board_gate(request).run(lambda board: _load_article(board, member, article_id, number))
    loaded.answer.review_status = loaded.banner.status
    view = AnswerView(loaded.answer)
    return _render(
        request,
        "board_article.html",
        error.status_code if error else 200,
        article=loaded.article,
        answer=loaded.answer,
        review=loaded.banner,
        view=view,
        links=AnswerLinks(view),
        error=error,
        saved=saved if saved == loaded.article.current_version else None,
        decisions=DECISION_LABELS,
        **loaded.context,
    )


@router.get("/board/articles/{article_id}", response_class=HTMLResponse)
async def article_page(request: Request, article_id: Number) -> Response:
    member = _member(request)
    if member is None:
        return _to_sign_in(request)
    saved = request.query_params.get("saved", "")
    return await _article_page(request, member, article_id, saved=int(saved) if saved.isdigit() else None)


@router.get("/board/articles/{article_id}/versions/{number}", response_class=HTMLResponse)
async def version_page(request: Request, article_id: Number, number: Number) -> Response:
    member = _member(request)
    if member is None:
        return _to_sign_in(request)
    return await _article_page(request, member, article_id, number)


async def _act(request: Request, article_id: int, action: Callable[[FormData], BoardWork]) -> Response:
    """Check the form, run the board action it describes, and go where it says; a refusal is shown on the article."""
    member = _member(request)
    form = await _form(request)
    if member is None:
        return _to_sign_in(request, f"/board/articles/{article_id}")
    try:
        work = action(form)
        target = await board_gate(request).run(lambda board: work(board, member))
    except WebError as error:
        return await _article_page(request, member, article_id, error=error)
    except (BoardError, AnswerNotFound) as exc:
        if isinstance(exc, ArticleNotFound) and exc.version is None:
            raise  # no article to show the refusal on: the error page says so
        return await _article_page(request, member, article_id, error=translate(exc))
    return RedirectResponse(target, status_code=303)


@router.post("/board/articles/{article_id}/assign")
async def assign(request: Request, article_id: Number) -> Response:
    def action(form: FormData) -> BoardWork:
        reviewer = _text(form, "reviewer", 64)

        def work(board: Board, member: User) -> str:
            board.assign(article_id, member, reviewer)
            return f"/board/articles/{article_id}"

        return work

    return await _act(request, article_id, action)


@router.post("/board/articles/{article_id}/votes")
async def vote(request: Request, article_id: Number) -> Response:
    def action(form: FormData) -> BoardWork:
        raw = _text(form, "decision", 32)
        try:
            decision = Decision(raw)
        except ValueError as exc:
            choices = ", ".join(d.value for d in Decision)
            raise WebError(422, f"{raw!r} is not a decision; choose one of: {choices}") from exc
        comment, version = _text(form, "comment"), _number(form, "version")

        def work(board: Board, member: User) -> str:
            board.vote(article_id, member, decision, comment=comment, version=version)
            return f"/board/articles/{article_id}"

        return work

    return await _act(request, article_id, action)


def _remove(statement: int, _: str) -> Edit:
    return RemoveStatement(statement)


EDIT_KINDS: dict[str, Callable[[int, str], Edit]] = {"edit": EditText, "comment": AddComment, "remove": _remove}


@router.post("/board/articles/{article_id}/versions")
async def revise(request: Request, article_id: Number) -> Response:
    def action(form: FormData) -> BoardWork:
        kind = _text(form, "op", 16)
        if kind not in EDIT_KINDS:
            raise WebError(422, f"{kind!r} is not a kind of edit; choose one of: {', '.join(EDIT_KINDS)}")
        edit = EDIT_KINDS[kind](_number(form, "statement"), _text(form, "text"))
        version = _number(form, "version")

        def work(board: Board, member: User) -> str:
            saved = board.revise(article_id, member, [edit], version=version)
            return f"/board/articles/{article_id}?saved={saved.number}#statement-{edit.statement}"

        return work

    return await _act(request, article_id, action)


@router.post("/board/articles/{article_id}/publish")
async def publish(request: Request, article_id: Number) -> Response:
    def action(form: FormData) -> BoardWork:
        def work(board: Board, member: User) -> str:
            board.publish(article_id, member)
            return f"/articles/{article_id}"

        return work

    return await _act(request, article_id, action)


@router.post("/board/articles/{article_id}/reopen")
async def reopen(request: Request, article_id: Number) -> Response:
    def action(form: FormData) -> BoardWork:
        def work(board: Board, member: User) -> str:
            board.reopen(article_id, member)
            return f"/board/articles/{article_id}"

        return work

    return await _act(request, article_id, action)


@dataclass(frozen=True)
class DiffLine:
    text: str
    kind: str  # added | removed | hunk | file | same


def diff_lines(diff: str) -> list[DiffLine]:
    lines = []
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            kind = "file"
        elif line.startswith("@@"):
            kind = "hunk"
        else:
            kind = {"+": "added", "-": "removed"}.get(line[:1], "same")
        lines.append(DiffLine(line, kind))
    return lines


@router.get("/board/articles/{article_id}/diff", response_class=HTMLResponse)
async def diff_page(request: Request, article_id: Number) -> Response:
    member = _member(request)
    if member is None:
        return _to_sign_in(request)
    params = request.query_params

    def load(board: Board) -> tuple[Article, int, int, str]:
        article = board.article(article_id)
        b = int(params["b"]) if params.get("b", "").isdigit() else article.current_version
        a = int(params["a"]) if params.get("a", "").isdigit() else max(b - 1, 1)
        return article, a, b, board.diff(article_id, a, b)

    article, a, b, text = await board_gate(request).run(load)
    return _render(request, "board_diff.html", article=article, a=a, b=b, lines=diff_lines(text))


@router.get("/board/audit", response_class=HTMLResponse)
async def audit_page(request: Request) -> Response:
    member = _member(request)
    if member is None:
        return _to_sign_in(request)
    if member.role is not Role.ADMIN:
        raise WebError(403, f"{member.name} is not an admin, and only admins read the whole audit log")
    entries, report = await board_gate(request).run(lambda board: (board.audit_log(), board.verify_audit()))
    return _render(request, "board_audit.html", entries=list(reversed(entries)), report=report)


# -- public pages ------------------------------------------------------------------------------------


@router.get("/policy", response_class=HTMLResponse)
async def policy_page(request: Request) -> HTMLResponse:
    quorum = await board_gate(request).run(lambda board: board.quorum)
    return _render(request, "board_policy.html", quorum=quorum, active="policy")


def _hidden(article_id: int, version: int | None) -> WebError:
    what = f"article {article_id}" if version is None else f"version {version} of article {article_id}"
    return WebError(
        404,
        f"there is no published {what}; articles appear here once the review board publishes them "
        "(the editorial policy at /policy explains how)",
    )


@dataclass(frozen=True)
class Visible:
    article: Article
    answer: Answer
    banner: ReviewBanner
    published: dict[int, str]


def _visible(board: Board, member: User | None, article_id: int, version: int | None) -> Visible:
    """The version at a public address: a published one for anyone, any version for board members."""
    try:
        article = board.article(article_id)
    except ArticleNotFound as exc:
        if member is None:
            raise _hidden(article_id, version) from exc
        raise
    published = published_versions(board, article_id)
    number = version if version is not None else article.published_version or article.current_version
    if member is None and number not in published:
        raise _hidden(article_id, version)
    answer = board.answer(article_id, number)
    banner = review_banner(board, article, number, published)
    answer.review_status = banner.status
    return Visible(article, answer, banner, published)


async def _published_page(request: Request, article_id: int, version: int | None) -> HTMLResponse:
    member = _member(request)
    shown = await board_gate(request).run(lambda board: _visible(board, member, article_id, version))
    return _render(
        request,
        "board_published.html",
        **answer_context(shown.answer, [], shown.banner),
        article=shown.article,
        published=shown.published,
        export_href=f"/articles/{article_id}/v/{shown.banner.version}/export.html",
        can_submit=False,
        active="",
    )


@router.get("/articles/{article_id}", response_class=HTMLResponse)
async def published_article(request: Request, article_id: Number) -> HTMLResponse:
    return await _published_page(request, article_id, None)


@router.get("/articles/{article_id}/v/{number}", response_class=HTMLResponse)
async def published_version(request: Request, article_id: Number, number: Number) -> HTMLResponse:
    return await _published_page(request, article_id, number)


async def _export(request: Request, article_id: int, version: int | None) -> HTMLResponse:
    member = _member(request)
    shown = await board_gate(request).run(lambda board: _visible(board, member, article_id, version))
    environment: jinja2.Environment = request.app.state.jinja
    review = environment.get_template("board_export_review.html").render(
        review=shown.banner, policy_url=f"{str(request.base_url).rstrip('/')}/policy"
    )
    # The review header is the standalone page's first <header>; the approvals go at its end.
    page = render_html(shown.answer).replace("</header>", review + "</header>", 1)
    name = f"article-{article_id}-v{shown.banner.version}.html"
    return standalone_page(page, {"Content-Disposition": f'inline; filename="{name}"'})


@router.get("/articles/{article_id}/export.html")
async def export_article(request: Request, article_id: Number) -> HTMLResponse:
    return await _export(request, article_id, None)


@router.get("/articles/{article_id}/v/{number}/export.html")
async def export_version(request: Request, article_id: Number, number: Number) -> HTMLResponse:
    return await _export(request, article_id, number)
