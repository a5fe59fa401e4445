"""The review board in a real headless Chromium (Playwright) against uvicorn, as in test_browser.py.

An editor signs in, asks, submits the answer and assigns two reviewers; each reviewer signs in and
approves; the editor publishes; an anonymous reader sees the published page with both approving
reviewers and the dates. Screenshots go to bench/screenshots/ (git-ignored). Skipped, with the
reason, when Debian's chromium or the playwright package is missing.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from board_data import FAST_HASHER, OTHER_QUESTION, PASSWORDS, QUESTION, RECORDS
from live import CHROMIUM, chromium, screenshot, served
from medevidence import Library, accounts
from medevidence.review import Board, Decision
from medevidence.web import create_app

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="playwright is missing: pip install playwright")

SEED_QUESTION = "What is the role of mastectomy in stage 4 invasive ductal carcinoma?"
DATE = r"\d{1,2} \w{3} \d{4}, \d\d:\d\d UTC"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("board-browser") / "library"
    directory.mkdir()
    (directory / "settings.toml").write_text('embedder = "fake"\n', encoding="utf-8")
    source = tmp_path_factory.mktemp("sources") / "abstracts.jsonl"
    source.write_text("".join(json.dumps(record) + "\n" for record in RECORDS), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "default_password_hasher", lambda: FAST_HASHER)
        with Library.open(directory) as library:
            library.ingest([source])
            board = Board(library)
            ada = board.create_user("ada", "admin", password=PASSWORDS["ada"])
            for name, role in (("carol", "editor"), ("dana", "reviewer"), ("erin", "reviewer")):
                board.create_user(name, role, actor=ada, password=PASSWORDS[name])
        app = create_app(directory, rate_limit_per_minute=0)
    with served(app) as url:
        yield url
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def context(browser: Browser, server: str) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=server, viewport={"width": 1100, "height": 900})
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    yield page
    # A CSP violation or a script error means a page relies on something the policy forbids.
    assert problems == []


def sign_in(page: Page, name: str) -> None:
    page.goto("/board/login")
    page.get_by_label("Account name").fill(name)
    page.get_by_label("Password").fill(PASSWORDS[name])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/board$"))
    assert page.get_by_role("button", name=f"Sign out {name}").is_visible()


def sign_out(page: Page, name: str) -> None:
    page.get_by_role("button", name=f"Sign out {name}").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.get_by_role("link", name="Sign in").is_visible()


def ask_and_submit(page: Page, question: str) -> str:
    """As a signed-in editor: ask, submit the answer, and return the article's review page URL."""
    page.goto("/")
    page.get_by_label("Your question").fill(question)
    page.get_by_label("Healthcare professional").check()
    page.get_by_role("button", name="Get the answer").click()
    page.wait_for_url(re.compile(r"/answers/[0-9a-f]+$"))
    page.get_by_role("button", name="Submit to the review board").click()
    page.wait_for_url(re.compile(r"/board/articles/\d+$"))
    return page.url


def assign(page: Page, reviewer: str) -> None:
    page.get_by_label("Assign a reviewer").select_option(reviewer)
    page.get_by_role("button", name="Assign", exact=True).click()
    page.wait_for_load_state()


def test_an_answer_goes_from_submission_to_a_published_page_naming_both_reviewers(
    page: Page, browser: Browser, server: str
) -> None:
    sign_in(page, "carol")
    review_url = ask_and_submit(page, QUESTION)
    assign(page, "dana")
    assign(page, "erin")
    assert page.get_by_text("Reviewers: dana, erin.").is_visible()
    screenshot(page, "board-article-review")
    sign_out(page, "carol")

    for reviewer in ("dana", "erin"):
        sign_in(page, reviewer)
        page.get_by_role("link", name=QUESTION).click()
        page.wait_for_url(review_url)
        assert page.locator(".board-statement").count() >= 2
        assert page.locator(".board-statement .spans blockquote").count() >= 1, "cited spans beside the statements"
        page.get_by_label("Your comment on version 1 (optional)").fill(f"{reviewer}: consistent with the sources")
        page.get_by_role("button", name="Approve").click()
        page.wait_for_url(review_url)
        assert page.locator("table.votes").get_by_text(f"{reviewer}: consistent with the sources").is_visible()
        sign_out(page, reviewer)

    sign_in(page, "carol")
    page.goto(review_url)
    assert "Article Review Status: Approved" in page.locator("header.review").inner_text()
    page.get_by_role("button", name="Publish version 1").click()
    page.wait_for_url(re.compile(r"/articles/\d+$"))
    public_url = page.url
    sign_out(page, "carol")

    # An anonymous reader, in a browser that never signed in.
    reader = browser.new_context(base_url=server, viewport={"width": 1100, "height": 900})
    try:
        public = reader.new_page()
        public.goto(public_url)
        banner = public.locator("header.review")
        text = " ".join(banner.inner_text().split())
        assert "Article Review Status: Published" in text
        assert re.search(rf"Approved by dana on {DATE} and erin on {DATE}\.", text), text
        assert re.search(rf"Published {DATE} · Last updated {DATE} · Editorial policy", text), text
        assert public.get_by_role("heading", name="Professional medical disclaimer").is_visible()
        assert public.get_by_label("Ask a follow-up question about this answer").is_visible()
        assert public.get_by_role("link", name="Sign in").is_visible()
        screenshot(public, "published-article", full_page=False)

        public.get_by_role("link", name="Editorial policy").first.click()
        public.wait_for_url(re.compile(r"/policy$"))
        assert public.get_by_role("heading", name="How an article is reviewed").is_visible()
        exported = public.request.get(public_url + "/export.html")
        assert exported.ok and "Approved by dana on" in exported.text()
    finally:
        reader.close()


def test_an_unsupported_edit_is_flagged_and_a_draft_stays_private(page: Page, browser: Browser, server: str) -> None:
    sign_in(page, "carol")
    review_url = ask_and_submit(page, OTHER_QUESTION)
    assign(page, "dana")
    statement = page.locator(".board-statement").first
    original = statement.locator(".statement-text .text").inner_text()
    statement.get_by_text("Edit or comment on #1").click()
    statement.get_by_label("New text of statement 1").fill(original.rstrip(".") + " for 9 years.")
    statement.get_by_role("button", name=re.compile(r"Save the edit as version \d+")).click()
    page.wait_for_url(re.compile(r"saved=2"))

    notice = page.get_by_role("status").filter(has_text="Saved as version 2.")
    assert "is not supported by its cited spans" in notice.inner_text()
    assert page.locator("#statement-1 .flag").inner_text().startswith("Not supported by its cited spans:")
    screenshot(page, "board-flagged-edit")
    sign_out(page, "carol")

    sign_in(page, "dana")
    page.goto(review_url)
    assert page.get_by_role("button", name="Approve").is_disabled()
    assert page.get_by_role("button", name="Request changes").is_enabled()

    article_id = review_url.rsplit("/", 1)[1]
    stranger = browser.new_context(base_url=server)
    try:
        assert stranger.request.get(f"/articles/{article_id}").status == 404
        to_sign_in = stranger.request.get(f"/board/articles/{article_id}", max_redirects=0)
        assert to_sign_in.status == 303 and to_sign_in.headers["location"].startswith("/board/login?next=")
    finally:
        stranger.close()


def test_the_seed_question_is_published_after_two_approvals_with_the_trial_cited(
    seeds: Path, browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seed answer page's question, answered from the seeds, approved by two reviewers and read anonymously."""
    monkeypatch.setattr(accounts, "default_password_hasher", lambda: FAST_HASHER)
    directory = tmp_path / "library"
    with Library.open(directory) as library:
        library.ingest(sorted(seeds.glob("*.txt")))
        answer = library.ask(SEED_QUESTION)
        board = Board(library)
        ada = board.create_user("ada", "admin", password=PASSWORDS["ada"])
        carol = board.create_user("carol", "editor", actor=ada, password=PASSWORDS["carol"])
        reviewers = [board.create_user(name, "reviewer", actor=ada) for name in ("dana", "erin")]
        article = board.submit(answer.id, carol)
        for reviewer in reviewers:
            board.assign(article.id, carol, reviewer.name)
        for reviewer in reviewers:
            board.vote(article.id, reviewer, Decision.APPROVE, comment="checked against the sources")
        board.publish(article.id, carol)
    app = create_app(directory, rate_limit_per_minute=0)

    with served(app) as url:
        reader = browser.new_context(base_url=url, viewport={"width": 1100, "height": 900})
        try:
            public = reader.new_page()
            public.goto(f"/articles/{article.id}")
            banner = " ".join(public.locator("header.review").inner_text().split())
            assert re.search(rf"Approved by dana on {DATE} and erin on {DATE}\.", banner), banner
            assert public.get_by_role("heading", name=SEED_QUESTION).is_visible()
            disagreement = public.get_by_role("heading", name="Where the evidence disagrees")
            assert disagreement.is_visible(), "the trial and the retrospective series disagree"
            assert "selection bias" in public.locator("body").inner_text()
            trial = public.locator("ol.references > li").filter(has_text="the Primary May Not Need to Be Removed")
            assert "News report of a study" in trial.inner_text() and "Level 2" in trial.inner_text()
            screenshot(public, "seed-article-published")
        finally:
            reader.close()
