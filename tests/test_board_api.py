"""The review board over HTTP (httpx ASGITransport, and uvicorn for the concurrent test): the API with tokens,
the pages with sign-in sessions, every refusal with its status and message, and the public article pages.

The library holds two abstracts and two stored answers; the board has an admin (ada), an editor
(carol) and two reviewers (dana, erin), each with an API token. Each test gets its own copy.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from board_data import FAST_HASHER, OTHER_QUESTION, PASSWORDS, QUESTION, RECORDS
from live import served
from medevidence import Library, accounts
from medevidence.errors import (
    AccountDisabled,
    AnswerNotFound,
    ArticleNotFound,
    AuthenticationFailed,
    BoardError,
    DuplicateArticle,
    FlaggedVersion,
    InvalidAccount,
    InvalidEdit,
    NotPermitted,
    SelfReview,
    StaleVersion,
    TransitionNotAllowed,
    UserNotFound,
)
from medevidence.models import StatementKind
from medevidence.review import Board
from medevidence.web import create_app
from medevidence.web.board_gate import TOKEN_HINT
from medevidence.web.board_views import when
from medevidence.web.errors import translate
from medevidence.web.sessions import SESSION_COOKIE, LoginThrottle

pytestmark = pytest.mark.anyio

BASE_URL = "http://127.0.0.1"


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "default_password_hasher", lambda: FAST_HASHER)


@dataclass(frozen=True)
class Template:
    path: Path
    answer_id: str
    other_answer_id: str
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    root = tmp_path_factory.mktemp("board-web")
    corpus = root / "abstracts.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in RECORDS), encoding="utf-8")
    directory = root / "library"
    directory.mkdir()
    (directory / "settings.toml").write_text('embedder = "fake"\n', encoding="utf-8")
    with Library.open(directory) as library:
        library.ingest([corpus])
        answer, other = library.ask(QUESTION), library.ask(OTHER_QUESTION)
        board = Board(library, password_hasher=FAST_HASHER)
        ada = board.create_user("ada", "admin", password=PASSWORDS["ada"])
        for name, role in (("carol", "editor"), ("dana", "reviewer"), ("erin", "reviewer")):
            board.create_user(name, role, actor=ada, password=PASSWORDS[name])
        tokens = {name: board.issue_token(ada, name).secret for name in PASSWORDS}
    return Template(directory, answer.id, other.id, tokens)


@dataclass
class Site:
    client: httpx.AsyncClient
    path: Path
    answer_id: str
    other_answer_id: str
    tokens: dict[str, str]

    def auth(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    async def call(self, method: str, url: str, name: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = self.auth(name) if name else {}
        return await self.client.request(method, url, headers=headers, **kwargs)

    async def under_review(self) -> int:
        """Article 1 (the first answer), submitted by carol, with dana and erin assigned."""
        created = await self.call("POST", "/api/articles", "carol", json={"answer_id": self.answer_id})
        assert created.status_code == 201, created.text
        article_id = int(created.json()["id"])
        for reviewer in ("dana", "erin"):
            assigned = await self.call(
                "POST", f"/api/articles/{article_id}/assign", "carol", json={"reviewer": reviewer}
            )
            assert assigned.status_code == 200, assigned.text
        return article_id

    async def vote(self, article_id: int, name: str, decision: str, version: int = 1) -> httpx.Response:
        return await self.call(
            "POST", f"/api/articles/{article_id}/votes", name, json={"decision": decision, "version": version}
        )

    async def published(self) -> int:
        article_id = await self.under_review()
        for reviewer in ("dana", "erin"):
            assert (await self.vote(article_id, reviewer, "approve")).status_code == 201
        assert (await self.call("POST", f"/api/articles/{article_id}/publish", "carol")).status_code == 200
        return article_id


@contextmanager
def board_on(path: Path) -> Iterator[Board]:
    """The board on a connection of its own, as an admin's CLI would use it beside the server."""
    with Library.open(path) as library:
        yield Board(library, password_hasher=FAST_HASHER)


def copy_library(template: Template, tmp_path: Path) -> Path:
    return Path(shutil.copytree(template.path, tmp_path / "library"))


@asynccontextmanager
async def serve(path: Path, base_url: str = BASE_URL, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    overrides.setdefault("rate_limit_per_minute", 0)
    app = create_app(path, **overrides)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url=base_url) as client:
        yield client


@pytest.fixture
async def site(template: Template, tmp_path: Path) -> AsyncIterator[Site]:
    path = copy_library(template, tmp_path)
    async with serve(path) as client:
        yield Site(client, path, template.answer_id, template.other_answer_id, dict(template.tokens))


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def form_token(client: httpx.AsyncClient, url: str = "/board/login") -> str:
    page = await client.get(url)
    found = CSRF.search(page.text)
    assert found, f"no form token on {url}"
    return found.group(1)


async def sign_in(
    client: httpx.AsyncClient, name: str, password: str | None = None, next_page: str = "/board"
) -> httpx.Response:
    # Any page carries the browser's form token; the sign-in page itself sends a signed-in member onwards.
    token = await form_token(client, "/")
    data = {"csrf_token": token, "name": name, "password": password or PASSWORDS[name], "next": next_page}
    return await client.post("/board/login", data=data)


async def post_form(client: httpx.AsyncClient, url: str, page: str, **fields: str) -> httpx.Response:
    return await client.post(url, data={"csrf_token": await form_token(client, page), **fields})


def assert_error(response: httpx.Response, status: int, message: str | None = None) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["ok"] is False and body["status"] == status and body["error"]
    if message is not None:
        assert body["error"] == message
    return str(body["error"])


def banner(page: str) -> str:
    found = re.search(r'<header class="review.*?</header>', page, flags=re.DOTALL)
    assert found, "the page has no review banner"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(0))).strip()


def first_source_statement(answer: dict[str, Any]) -> tuple[int, str]:
    from medevidence.models import answer_from_dict

    for number, statement in enumerate(answer_from_dict(answer).statements(), start=1):
        if statement.kind is StatementKind.SOURCE:
            return number, statement.text
    raise AssertionError("the answer has no statement quoting a source")


# -- the lifecycle ------------------------------------------------------------------------------------


async def test_the_whole_lifecycle_through_the_api(site: Site) -> None:
    created = await site.call("POST", "/api/articles", "carol", json={"answer_id": site.answer_id})
    assert created.status_code == 201 and created.headers["location"] == "/api/articles/1"
    article = created.json()
    assert (article["status"], article["current_version"], article["created_by"]) == ("submitted", 1, "carol")
    assert [v["note"] for v in article["versions"]] == ["submitted"] and article["flags"] == []

    for reviewer in ("dana", "erin"):
        assigned = await site.call("POST", "/api/articles/1/assign", "carol", json={"reviewer": reviewer})
    assert assigned.json()["status"] == "under_review" and assigned.json()["reviewers"] == ["dana", "erin"]

    first = await site.vote(1, "dana", "approve")
    assert first.status_code == 201
    assert first.json()["vote"]["decision"] == "approve" and first.json()["article"]["status"] == "under_review"
    second = await site.vote(1, "erin", "approve")
    assert second.json()["article"]["status"] == "approved"
    assert second.json()["article"]["tally"] == {"version": 1, "approvals": 2, "changes_requested": 0, "rejections": 0}

    published = await site.call("POST", "/api/articles/1/publish", "carol")
    assert published.status_code == 200 and published.json()["published_version"] == 1
    listed = (await site.call("GET", "/api/articles?status=published", "dana")).json()["articles"]
    assert [a["id"] for a in listed] == [1] and listed[0]["url"] == "/articles/1"
    assert (await site.call("GET", "/api/articles?status=under_review", "dana")).json()["articles"] == []
    version = (await site.call("GET", "/api/articles/1/versions/1", "erin")).json()
    assert version["answer"]["review_status"] == "published" and version["author"] == "carol"

    # A second cycle: reopened as version 2, revised as version 3; version 1 stays the published one.
    reopened = await site.call("POST", "/api/articles/1/reopen", "carol")
    assert (reopened.json()["status"], reopened.json()["current_version"]) == ("under_review", 2)
    number, text = first_source_statement(version["answer"])
    revised = await site.call(
        "POST",
        "/api/articles/1/versions",
        "carol",
        json={"version": 2, "edits": [{"op": "edit", "statement": number, "text": text.rstrip(".") + " ."}]},
    )
    assert revised.status_code == 201 and revised.headers["location"] == "/api/articles/1/versions/3"
    assert revised.json()["number"] == 3 and revised.json()["flags"] == []
    diff = (await site.call("GET", "/api/articles/1/diff?a=2&b=3", "dana")).json()["diff"]
    assert f"-{text} [" in diff and f"+{text.rstrip('.')} . [" in diff

    detail = (await site.call("GET", "/api/articles/1", "erin")).json()
    assert [v["number"] for v in detail["versions"]] == [1, 2, 3] and detail["published_version"] == 1
    assert [(v["reviewer"], v["version"], v["counted"]) for v in detail["votes"]] == [
        ("dana", 1, False),
        ("erin", 1, False),
    ]
    actions = [e["action"] for e in (await site.call("GET", "/api/audit?article=1", "ada")).json()["entries"]]
    assert actions == [
        "article.submit",
        "article.assign",
        "article.assign",
        "article.vote",
        "article.vote",
        "article.publish",
        "article.reopen",
        "article.revise",
    ]
    report = (await site.call("GET", "/api/audit/verify", "dana")).json()
    assert report["intact"] is True and report["broken_seq"] is None and len(report["head_hash"]) == 64

    public = await site.client.get("/articles/1")
    shown = banner(public.text)
    assert public.status_code == 200 and "Article Review Status: Published" in shown
    assert re.search(r"Approved by dana on \d+ \w+ \d{4}, \d\d:\d\d UTC and erin on", shown), shown
    assert "Article 1, version 1" in shown and "Last updated" in shown and "Editorial policy" in shown
    assert (await site.client.get("/articles/1/v/3")).status_code == 404, "version 3 is still a draft"


async def test_the_answer_page_shows_the_boards_status_with_the_approving_reviewers(site: Site) -> None:
    before = await site.client.get(f"/answers/{site.answer_id}")
    assert "Article Review Status: Draft" in banner(before.text) and "Approved by" not in before.text

    await site.published()
    after = await site.client.get(f"/answers/{site.answer_id}")
    shown = banner(after.text)
    assert "Article Review Status: Published" in shown and "Approved by dana on" in shown and "erin on" in shown
    assert 'href="/articles/1"' in after.text


async def test_an_editor_submits_from_the_answer_page_and_reviewers_vote_with_the_page_forms(site: Site) -> None:
    anonymous = await site.client.get(f"/answers/{site.answer_id}")
    assert "Submit to the review board" not in anonymous.text

    await sign_in(site.client, "carol")
    page = f"/answers/{site.answer_id}"
    assert "Submit to the review board" in (await site.client.get(page)).text
    submitted = await post_form(site.client, "/board/articles", page, answer_id=site.answer_id)
    assert (submitted.status_code, submitted.headers["location"]) == (303, "/board/articles/1")
    for reviewer in ("dana", "erin"):
        assigned = await post_form(site.client, "/board/articles/1/assign", "/board/articles/1", reviewer=reviewer)
        assert assigned.status_code == 303
    queue = (await site.client.get("/board")).text
    assert "Under review (1)" in queue and QUESTION in queue

    await sign_in(site.client, "dana")
    review = (await site.client.get("/board/articles/1")).text
    assert 'value="approve"' in review and 'value="request_changes"' in review and 'value="reject"' in review
    assert 'op" value="edit"' not in review, "reviewers do not edit"
    voted = await post_form(
        site.client, "/board/articles/1/votes", "/board/articles/1", decision="approve", comment="fine", version="1"
    )
    assert voted.status_code == 303
    detail = (await site.call("GET", "/api/articles/1", "ada")).json()
    assert [(v["reviewer"], v["decision"], v["comment"]) for v in detail["votes"]] == [("dana", "approve", "fine")]


async def test_an_unsupported_edit_is_saved_flagged_and_shown_on_the_review_page(site: Site) -> None:
    await site.under_review()
    answer = (await site.call("GET", "/api/articles/1/versions/1", "carol")).json()["answer"]
    number, text = first_source_statement(answer)
    invented = text.rstrip(".") + " for 9 years."
    await sign_in(site.client, "carol")

    saved = await post_form(
        site.client,
        "/board/articles/1/versions",
        "/board/articles/1",
        op="edit",
        statement=str(number),
        text=invented,
        version="1",
    )
    assert saved.headers["location"] == f"/board/articles/1?saved=2#statement-{number}"
    page = (await site.client.get("/board/articles/1?saved=2")).text
    assert (
        f"Saved as version 2. Statement #{number} is not supported by its cited spans "
        "(numbers not in the cited spans: 9)." in page
    )
    assert "<strong>Not supported by its cited spans:</strong> numbers not in the cited spans: 9" in page

    refused = await site.vote(1, "dana", "approve", version=2)
    assert_error(refused, 409, str(FlaggedVersion(1, 2, [number])))
    detail = (await site.call("GET", "/api/articles/1", "dana")).json()
    assert detail["flagged"] is True and detail["flags"][0]["statement"] == number


async def test_diff_versions_and_audit_pages(site: Site) -> None:
    await site.published()
    await sign_in(site.client, "carol")
    assert (await site.client.get("/board/audit")).status_code == 403
    reopened = await post_form(site.client, "/board/articles/1/reopen", "/board/articles/1")
    assert reopened.headers["location"] == "/board/articles/1"
    await post_form(
        site.client,
        "/board/articles/1/versions",
        "/board/articles/1",
        op="comment",
        statement="1",
        text="why?",
        version="2",
    )
    diff = await site.client.get("/board/articles/1/diff")
    assert diff.status_code == 200 and "Changes from version 2 to version 3" in diff.text
    old = await site.client.get("/board/articles/1/versions/1")
    assert "version 1 of 3" in old.text and 'op" value="edit"' not in old.text, "only the current version is edited"

    await sign_in(site.client, "ada")
    audit = (await site.client.get("/board/audit")).text
    assert "The hash chain is intact:" in audit and "article.publish" in audit and "article.revise" in audit


# -- refusals ---------------------------------------------------------------------------------------


async def test_the_api_needs_a_live_token_of_an_enabled_account(site: Site) -> None:
    missing = await site.client.get("/api/articles")
    assert_error(missing, 401, f"this endpoint is for review-board members; {TOKEN_HINT}")
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = await site.client.get("/api/articles", headers={"Authorization": "Bearer mev_nothing"})
    assert_error(wrong, 401, str(AuthenticationFailed.token()))
    # A session cookie is for the pages; the API does not take it in place of a token.
    await sign_in(site.client, "carol")
    assert (await site.client.get("/api/articles")).status_code == 401

    with board_on(site.path) as board:
        board.disable_user(board.user("ada"), "dana")
    assert_error(await site.call("GET", "/api/articles", "dana"), 403, str(AccountDisabled("dana")))


async def test_every_forbidden_transition_is_refused_with_its_status_and_message(site: Site) -> None:
    answer_id = site.answer_id
    assert_error(
        await site.call("POST", "/api/articles", "dana", json={"answer_id": answer_id}),
        403,
        f"dana is a reviewer and cannot submit answer {answer_id!r}; only an editor or an admin may, so sign in "
        "as one (--as NAME or MEDEVIDENCE_TOKEN)",
    )
    assert_error(await site.call("POST", "/api/articles", "carol", json={"answer_id": "nope"}), 404).startswith(
        "no answer 'nope'"
    )
    await site.under_review()
    assert_error(
        await site.call("POST", "/api/articles", "carol", json={"answer_id": answer_id}),
        409,
        str(DuplicateArticle(answer_id, 1, "under_review")),
    )
    assert_error(
        await site.vote(1, "carol", "approve"),
        403,
        "carol is an editor and cannot vote on article 1 (status under_review); only a reviewer may, so sign in as "
        "one (--as NAME or MEDEVIDENCE_TOKEN)",
    )
    assert_error(
        await site.call("POST", "/api/articles/1/publish", "carol"),
        409,
        "cannot publish article 1 while it is under_review: publish needs status approved (version 1 needs 2 "
        "reviewer approvals and has 0, and it may have no request for changes, no rejection and no flagged "
        "statement); then an editor or an admin may publish it",
    )
    assert_error(await site.call("POST", "/api/articles/1/reopen", "carol"), 409).startswith(
        "cannot reopen article 1 while it is under_review"
    )
    assert_error(await site.call("POST", "/api/articles/1/publish", "dana"), 403).startswith(
        "dana is a reviewer and cannot publish article 1"
    )
    assert_error(
        await site.call("POST", "/api/articles/1/assign", "carol", json={"reviewer": "zed"}),
        422,
        str(UserNotFound("zed")),
    )
    assert_error(
        await site.call(
            "POST",
            "/api/articles/1/versions",
            "carol",
            json={"version": 1, "edits": [{"op": "edit", "statement": 1, "text": " "}]},
        ),
        422,
    ).startswith("the text for statement #1 of article 1 is empty")
    assert_error(
        await site.call("GET", "/api/articles/9", "dana"),
        404,
        "there is no article 9; GET /api/articles (or the review queue at /board) lists the articles",
    )
    assert_error(await site.call("GET", "/api/articles/1/versions/7", "dana"), 404).startswith(
        "there is no version 7 of article 1"
    )
    missing_version = await site.call("POST", "/api/articles/1/votes", "dana", json={"decision": "approve"})
    assert_error(missing_version, 422, "invalid request: body version: Field required")
    assert_error(
        await site.call("GET", "/api/audit", "carol"),
        403,
        "carol is an editor and cannot read the audit log; only an admin may (anyone on the board may check the "
        "chain with GET /api/audit/verify)",
    )

    # Voting on a stale version: carol saves version 2 while dana still reads version 1.
    edit = {"version": 1, "edits": [{"op": "comment", "statement": 1, "text": "look here"}]}
    assert (await site.call("POST", "/api/articles/1/versions", "carol", json=edit)).status_code == 201
    assert_error(await site.vote(1, "dana", "approve", version=1), 409, str(StaleVersion(1, "vote on", 1, 2)))
    assert_error(
        await site.call("POST", "/api/articles/1/versions", "carol", json=edit),
        409,
        str(StaleVersion(1, "revise", 1, 2)),
    )
    nothing_changed = (await site.call("GET", "/api/articles/1", "ada")).json()
    assert nothing_changed["votes"] == [] and nothing_changed["current_version"] == 2


async def test_nobody_approves_their_own_article(site: Site) -> None:
    await site.under_review()
    with board_on(site.path) as board:
        board.set_role(board.user("ada"), "carol", "reviewer")
    # carol submitted article 1, so becoming a reviewer does not let her approve it, nor be assigned to it.
    assert_error(await site.vote(1, "carol", "approve"), 403, str(SelfReview("carol", 1, "vote on")))
    assign = await site.call("POST", "/api/articles/1/assign", "ada", json={"reviewer": "carol"})
    assert_error(assign, 403, str(SelfReview("carol", 1, "review")))
    assert_error(await site.vote(1, "ada", "approve"), 403).startswith("ada is an admin and cannot vote on article 1")


async def test_drafts_are_hidden_from_the_public_and_shown_to_board_members(site: Site) -> None:
    await site.under_review()
    hidden = (
        "there is no published article 1; articles appear here once the review board publishes them "
        "(the editorial policy at /policy explains how)"
    )
    for path in ("/articles/1", "/articles/1/export.html"):
        response = await site.client.get(path)
        assert response.status_code == 404 and hidden in response.text, path
    for path in ("/articles/1/v/1", "/articles/1/v/1/export.html"):
        response = await site.client.get(path)
        assert response.status_code == 404 and "there is no published version 1 of article 1;" in response.text, path
    nowhere = await site.client.get("/articles/2")
    assert nowhere.status_code == 404 and "there is no published article 2;" in nowhere.text, "same as a draft"
    board_only = await site.client.get("/board/articles/1")
    assert (board_only.status_code, board_only.headers["location"]) == (
        303,
        "/board/login?next=%2Fboard%2Farticles%2F1",
    )

    await sign_in(site.client, "erin")
    draft = await site.client.get("/articles/1")
    assert draft.status_code == 200 and "Article Review Status: Under review" in banner(draft.text)
    assert "No reviewer has approved version 1 yet." in banner(draft.text)


async def test_a_published_article_keeps_its_address_and_exports_as_static_html(site: Site) -> None:
    await site.published()
    export = await site.client.get("/articles/1/export.html")
    assert export.status_code == 200 and export.headers["content-disposition"] == 'inline; filename="article-1-v1.html"'
    policy = export.headers["content-security-policy"]
    assert policy.startswith("default-src 'none'; style-src 'sha256-") and "script-src" in policy
    assert "/static/" not in export.text and "<link" not in export.text, "the export needs nothing from the server"
    shown = banner(export.text)
    assert re.search(r"Approved by dana on .+ UTC and erin on .+ UTC\.", shown), shown
    assert "Editorial policy: http://127.0.0.1/policy" in shown

    await site.call("POST", "/api/articles/1/reopen", "carol")
    again = await site.client.get("/articles/1")
    assert "Article 1, version 1" in banner(again.text), "the published version stays while version 2 is reviewed"
    assert (await site.client.get("/articles/1/v/1")).status_code == 200
    policy_page = await site.client.get("/policy")
    assert policy_page.status_code == 200 and "2 approvals, and no request for changes" in policy_page.text


# -- sessions ---------------------------------------------------------------------------------------


async def test_sign_in_sets_a_strict_cookie_whose_id_is_stored_only_hashed(site: Site) -> None:
    signed_in = await sign_in(site.client, "carol", next_page="/board/articles/1")
    assert (signed_in.status_code, signed_in.headers["location"]) == (303, "/board/articles/1")
    cookie = signed_in.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie, "plain http on this machine, as in the tests"
    secret = site.client.cookies[SESSION_COOKIE]
    with closing(sqlite3.connect(site.path / "library.db")) as db:
        stored = [row[0] for row in db.execute("SELECT id_hash FROM web_sessions")]
    assert stored == [hashlib.sha256(secret.encode()).hexdigest()]

    queue = await site.client.get("/board")
    assert queue.status_code == 200 and "Sign out carol" in queue.text

    await post_form(site.client, "/board/logout", "/board")
    assert SESSION_COOKIE not in site.client.cookies
    site.client.cookies.set(SESSION_COOKIE, secret)
    assert (await site.client.get("/board")).status_code == 303, "a signed-out session id no longer works"


async def test_the_session_cookie_is_secure_over_https(template: Template, tmp_path: Path) -> None:
    async with serve(copy_library(template, tmp_path), base_url="https://127.0.0.1") as client:
        signed_in = await sign_in(client, "dana")
    assert "Secure" in signed_in.headers["set-cookie"]


async def test_passwords_are_not_taken_over_plain_http_from_another_machine(template: Template, tmp_path: Path) -> None:
    library = copy_library(template, tmp_path)
    async with serve(library, "http://board.example", allowed_hosts=["board.example"]) as client:
        refused = await sign_in(client, "dana")
    assert refused.status_code == 403 and SESSION_COOKIE not in refused.headers.get("set-cookie", "")
    assert (
        "reached over plain http at &#39;board.example&#39;, so a password sent from here would cross" in refused.text
    )


async def test_sign_in_refusals(site: Site) -> None:
    without_token = await site.client.post("/board/login", data={"name": "carol", "password": PASSWORDS["carol"]})
    assert without_token.status_code == 403 and "security token is missing" in without_token.text

    elsewhere = await sign_in(site.client, "carol", next_page="//evil.example/")
    assert elsewhere.headers["location"] == "/board", "never back to another site"

    for attempt in range(5):
        wrong = await sign_in(site.client, "dana", password=f"wrong password {attempt}")
        assert wrong.status_code == 401 and "unknown name or wrong password" in wrong.text
    throttled = await sign_in(site.client, "dana")
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    assert "too many failed sign-ins from 127.0.0.1" in throttled.text


async def test_a_disabled_member_is_signed_out_and_cannot_sign_in(site: Site) -> None:
    await sign_in(site.client, "dana")
    assert (await site.client.get("/board")).status_code == 200
    with board_on(site.path) as board:
        board.disable_user(board.user("ada"), "dana")
    assert (await site.client.get("/board")).status_code == 303
    refused = await sign_in(site.client, "dana")
    assert refused.status_code == 403 and "the account &#39;dana&#39; is disabled" in refused.text


def test_login_throttle_forgets_failures_after_the_window() -> None:
    throttle = LoginThrottle(failures=2, window=60.0)
    throttle.failed("a", now=0.0)
    assert throttle.wait("a", now=1.0) == 0.0
    throttle.failed("a", now=10.0)
    assert throttle.wait("a", now=20.0) == 40.0 and throttle.wait("b", now=20.0) == 0.0
    assert throttle.wait("a", now=60.5) == 0.0


def test_times_read_as_dates() -> None:
    assert when("2026-11-23T09:42:05+00:00") == "23 Nov 2026, 09:42 UTC"
    assert when("") == "" and when("yesterday") == "yesterday"


def _subclasses(cls: type[BoardError]) -> set[type[BoardError]]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def test_every_board_error_has_an_http_status() -> None:
    examples: dict[type[BoardError], tuple[BoardError, int]] = {
        AuthenticationFailed: (AuthenticationFailed.token(), 401),
        AccountDisabled: (AccountDisabled("dana"), 403),
        NotPermitted: (NotPermitted("not a reviewer"), 403),
        SelfReview: (SelfReview("dana", 1, "vote on"), 403),
        ArticleNotFound: (ArticleNotFound(3), 404),
        DuplicateArticle: (DuplicateArticle("a1", 1, "submitted"), 409),
        TransitionNotAllowed: (TransitionNotAllowed(1, "submitted", "publish", "not yet"), 409),
        StaleVersion: (StaleVersion(1, "vote on", 1, 2), 409),
        FlaggedVersion: (FlaggedVersion(1, 2, [3]), 409),
        InvalidEdit: (InvalidEdit("no edits"), 422),
        InvalidAccount: (InvalidAccount("bad name"), 422),
        UserNotFound: (UserNotFound("zed"), 422),
    }
    assert _subclasses(BoardError) == set(examples), "map the new BoardError in web/errors.py and list it here"
    for error, status in examples.values():
        assert translate(error).status_code == status, type(error).__name__
    assert translate(AnswerNotFound("a1")).status_code == 404


# -- concurrency ------------------------------------------------------------------------------------


@pytest.fixture
def live_url(template: Template, tmp_path: Path) -> Iterator[str]:
    """The app under uvicorn, so requests from several threads really run at once."""
    app = create_app(copy_library(template, tmp_path), rate_limit_per_minute=0)
    with served(app) as url:
        yield url


def test_concurrent_votes_and_a_revision_lose_nothing(live_url: str, template: Template) -> None:
    def client(name: str) -> httpx.Client:
        return httpx.Client(base_url=live_url, headers={"Authorization": f"Bearer {template.tokens[name]}"}, timeout=60)

    with client("carol") as carol:
        assert carol.post("/api/articles", json={"answer_id": template.answer_id}).status_code == 201
        for reviewer in ("dana", "erin"):
            carol.post("/api/articles/1/assign", json={"reviewer": reviewer}).raise_for_status()

    # Both reviewers approve at the same moment: both votes count.
    start = threading.Barrier(2)
    statuses: list[int] = []

    def approve(name: str) -> None:
        with client(name) as http:
            start.wait()
            statuses.append(http.post("/api/articles/1/votes", json={"decision": "approve", "version": 1}).status_code)

    threads = [threading.Thread(target=approve, args=(name,)) for name in ("dana", "erin")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with client("ada") as ada:
        article = ada.get("/api/articles/1").json()
    assert statuses == [201, 201] and article["status"] == "approved" and article["tally"]["approvals"] == 2

    # Then they keep voting while the editor saves versions: every request is stored or refused as stale.
    rounds = 4
    start = threading.Barrier(3)
    outcomes: dict[str, list[int]] = {"dana": [], "erin": [], "carol": []}
    failures: list[BaseException] = []

    def reviewer(name: str) -> None:
        try:
            with client(name) as http:
                start.wait()
                for round_number in range(rounds):
                    seen = http.get("/api/articles/1").json()["current_version"]
                    vote = {"decision": "request_changes", "comment": f"round {round_number}", "version": seen}
                    outcomes[name].append(http.post("/api/articles/1/votes", json=vote).status_code)
        except BaseException as exc:  # reported below; a thread's exception is otherwise lost
            failures.append(exc)

    def editor() -> None:
        try:
            with client("carol") as http:
                start.wait()
                for round_number in range(rounds):
                    seen = http.get("/api/articles/1").json()["current_version"]
                    edit = {
                        "version": seen,
                        "edits": [{"op": "comment", "statement": 1, "text": f"note {round_number}"}],
                    }
                    outcomes["carol"].append(http.post("/api/articles/1/versions", json=edit).status_code)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=reviewer, args=(n,)) for n in ("dana", "erin")] + [
        threading.Thread(target=editor)
    ]
    with client("ada") as ada:
        entries_before = len(ada.get("/api/audit").json()["entries"])
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not failures, failures
        assert all(status in (201, 409) for statuses_of in outcomes.values() for status in statuses_of), outcomes
        assert outcomes["carol"] == [201] * rounds, "only the editor saves versions, so none of them is stale"

        article = ada.get("/api/articles/1").json()
        assert [v["number"] for v in article["versions"]] == list(range(1, rounds + 2))
        for name in ("dana", "erin"):
            cast = [v for v in article["votes"] if v["reviewer"] == name and v["decision"] == "request_changes"]
            assert len(cast) == outcomes[name].count(201)
        successes = sum(statuses_of.count(201) for statuses_of in outcomes.values())
        assert len(ada.get("/api/audit").json()["entries"]) == entries_before + successes
        assert ada.get("/api/audit/verify").json()["intact"] is True
        counted = [v for v in article["votes"] if v["counted"]]
        assert article["status"] == ("changes_requested" if counted else "under_review")
