"""The review board through its Python API: accounts, the workflow, versions, re-checks, audit, concurrency.

The library is two small abstracts and one answer composed from them; each test gets its own copy.
Passwords are hashed with a cheap argon2 setting so the suite stays fast; the real setting is
argon2-cffi's default, checked in ``test_default_password_hasher_is_argon2id_with_library_defaults``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher, Type

from board_data import FAST_HASHER, PASSWORDS, QUESTION, RECORDS
from medevidence import Library, MedevidenceError, StoreError, accounts
from medevidence.accounts import Role, User
from medevidence.audit import entry_hash
from medevidence.errors import (
    AccountDisabled,
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
from medevidence.models import ReviewStatus, StatementKind
from medevidence.review import Board, Decision
from medevidence.revision import AddComment, EditText, RemoveStatement, rendered_statements

REAL_HASHER = accounts.default_password_hasher


@pytest.fixture(autouse=True)
def fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "default_password_hasher", lambda: FAST_HASHER)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A library holding the two abstracts and one stored answer, closed so it can be copied."""
    root = tmp_path_factory.mktemp("board")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "abstracts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in RECORDS), encoding="utf-8")
    with Library.open(root / "library", embedder="fake") as library:
        library.ingest([corpus])
        answer = library.ask(QUESTION)
    assert len(answer.statements()) >= 2, "the board tests edit two statements"
    return root / "library", answer.id


@dataclass
class Cast:
    """A library with a board and four people: an admin, an editor and two reviewers."""

    path: Path
    library: Library
    board: Board
    answer_id: str
    ada: User
    carol: User
    dana: User
    erin: User

    @contextmanager
    def another_board(self) -> Iterator[Board]:
        """A Board on its own connection, as another process or web worker would have."""
        with Library.open(self.path, embedder="fake") as library:
            yield Board(library)


@pytest.fixture
def cast(template: tuple[Path, str], tmp_path: Path) -> Iterator[Cast]:
    source, answer_id = template
    path = tmp_path / "library"
    shutil.copytree(source, path)
    library = Library.open(path, embedder="fake")
    board = Board(library)
    ada = board.create_user("ada", "admin", password=PASSWORDS["ada"])
    carol = board.create_user("carol", Role.EDITOR, actor=ada, password=PASSWORDS["carol"])
    dana = board.create_user("dana", "reviewer", actor=ada, password=PASSWORDS["dana"], specialty="endocrinology")
    erin = board.create_user("erin", "reviewer", actor=ada, password=PASSWORDS["erin"])
    yield Cast(path, library, board, answer_id, ada, carol, dana, erin)
    library.close()


def under_review(cast: Cast) -> int:
    """Submit the answer as carol and assign both reviewers; return the article id."""
    article = cast.board.submit(cast.answer_id, cast.carol)
    cast.board.assign(article.id, cast.carol, "dana")
    cast.board.assign(article.id, cast.carol, "erin")
    return article.id


def first_source_statement(cast: Cast, article_id: int) -> tuple[int, str]:
    answer = cast.board.answer(article_id)
    for number, statement in enumerate(answer.statements(), start=1):
        if statement.kind is StatementKind.SOURCE:
            return number, statement.text
    raise AssertionError("the answer has no source statement")


def refused(expected: type[BoardError], action: Callable[[], object], cast: Cast) -> str:
    """Run ``action``, expect ``expected``, and check that nothing was written."""
    before = len(cast.board.audit_log())
    with pytest.raises(expected) as caught:
        action()
    assert type(caught.value) is expected
    assert len(cast.board.audit_log()) == before, "a refused action must leave no trace"
    return str(caught.value)


# -- the whole lifecycle ------------------------------------------------------------------------


def test_lifecycle_from_answer_to_publication_and_a_second_cycle(cast: Cast) -> None:
    board = cast.board
    assert board.status_of_answer(cast.answer_id) is ReviewStatus.DRAFT

    editor = board.authenticate("carol", PASSWORDS["carol"])
    article = board.submit(cast.answer_id, editor)
    assert (article.status, article.current_version, article.created_by) == (ReviewStatus.SUBMITTED, 1, "carol")
    assert board.status_of_answer(cast.answer_id) is ReviewStatus.SUBMITTED
    assert board.version(article.id, 1).answer().to_dict() == cast.library.answer(cast.answer_id).to_dict()

    article = board.assign(article.id, editor, "dana")
    assert article.status is ReviewStatus.UNDER_REVIEW
    article = board.assign(article.id, editor, "erin")
    assert article.reviewers == ("dana", "erin")

    dana = board.authenticate("dana", PASSWORDS["dana"])
    erin = board.authenticate_token(board.issue_token(cast.ada, "erin").secret)
    board.vote(article.id, dana, Decision.REQUEST_CHANGES, comment="say who was randomised")
    assert board.article(article.id).status is ReviewStatus.CHANGES_REQUESTED

    number, text = first_source_statement(cast, article.id)
    version = board.revise(
        article.id, editor, [EditText(number, text.rstrip(".") + " ."), AddComment(number, "spacing only")], version=1
    )
    assert (version.number, version.flags, version.note) == (2, (), "revised")
    assert board.article(article.id).status is ReviewStatus.UNDER_REVIEW
    assert board.article(article.id).tally.changes_requested == 0, "votes on version 1 do not count for version 2"

    board.vote(article.id, dana, "approve", version=2)
    assert board.article(article.id).status is ReviewStatus.UNDER_REVIEW, "one approval is short of the quorum"
    board.vote(article.id, erin, "approve", comment="agreed", version=2)
    article = board.article(article.id)
    assert (article.status, article.tally.approvals) == (ReviewStatus.APPROVED, 2)

    article = board.publish(article.id, editor)
    assert (article.status, article.published_version) == (ReviewStatus.PUBLISHED, 2)
    assert board.answer(article.id).review_status is ReviewStatus.PUBLISHED

    article = board.reopen(article.id, editor)
    assert (article.status, article.current_version, article.published_version) == (ReviewStatus.UNDER_REVIEW, 3, 2)
    assert board.answer(article.id, 2).review_status is ReviewStatus.PUBLISHED, "the published version stays readable"
    assert board.answer(article.id).review_status is ReviewStatus.UNDER_REVIEW
    assert board.article(article.id).tally.approvals == 0

    assert [v.number for v in board.versions(article.id)] == [1, 2, 3]
    assert [(v.version, v.reviewer, v.decision.value, v.counted) for v in board.votes(article.id)] == [
        (1, "dana", "request_changes", False),
        (2, "dana", "approve", False),
        (2, "erin", "approve", False),
    ]
    assert [a.id for a in board.articles(ReviewStatus.UNDER_REVIEW)] == [article.id]
    assert board.articles("published") == []

    log = board.audit_log(article.id)
    assert [(e.actor, e.action, e.from_version, e.to_version, e.from_status, e.to_status) for e in log] == [
        ("carol", "article.submit", None, 1, "draft", "submitted"),
        ("carol", "article.assign", 1, 1, "submitted", "under_review"),
        ("carol", "article.assign", 1, 1, "under_review", "under_review"),
        ("dana", "article.vote", 1, 1, "under_review", "changes_requested"),
        ("carol", "article.revise", 1, 2, "changes_requested", "under_review"),
        ("dana", "article.vote", 2, 2, "under_review", "under_review"),
        ("erin", "article.vote", 2, 2, "under_review", "approved"),
        ("carol", "article.publish", 2, 2, "approved", "published"),
        ("carol", "article.reopen", 2, 3, "published", "under_review"),
    ]
    assert log[3].details == {"decision": "request_changes", "comment": "say who was randomised", "vote_id": 1}
    report = board.verify_audit()
    assert report.intact and report.entries == len(board.audit_log()) and report.head_hash == board.audit_log()[-1].hash


# -- accounts -----------------------------------------------------------------------------------


def test_first_admin_only_while_there_is_none_and_never_without_a_password(template: tuple[Path, str]) -> None:
    source, _ = template
    with Library.open(source, embedder="fake") as library:
        board = Board(library)
        with pytest.raises(InvalidAccount) as caught:
            board.create_user("bob", "editor", password="editor passphrase")
        assert str(caught.value) == (
            "the first account must be an admin with a password, not 'bob' as editor; run "
            "`medevidence users add NAME --role admin --password-stdin` first"
        )
        with pytest.raises(InvalidAccount, match="not 'root' as admin without one"):
            board.create_user("root", "admin")
        assert board.users() == []


def test_only_admins_manage_accounts(cast: Cast) -> None:
    message = refused(NotPermitted, lambda: cast.board.create_user("zed", "admin", password="x" * 12), cast)
    assert message == (
        "only an admin can add the account 'zed': this board already has an admin; sign in as one "
        "(--as NAME or MEDEVIDENCE_TOKEN)"
    )
    message = refused(
        NotPermitted, lambda: cast.board.create_user("zed", "reviewer", actor=cast.carol, password="x" * 12), cast
    )
    assert message == (
        "carol is an editor and cannot add the account 'zed'; only an admin may, so sign in as one "
        "(--as NAME or MEDEVIDENCE_TOKEN)"
    )
    refused(NotPermitted, lambda: cast.board.set_role(cast.carol, "dana", "admin"), cast)
    refused(NotPermitted, lambda: cast.board.disable_user(cast.dana, "erin"), cast)
    refused(NotPermitted, lambda: cast.board.issue_token(cast.dana, "erin"), cast)
    refused(NotPermitted, lambda: cast.board.set_password(cast.dana, "erin", "new passphrase 1"), cast)


def test_account_names_roles_and_passwords_are_checked(cast: Cast) -> None:
    board = cast.board
    assert refused(InvalidAccount, lambda: board.create_user("DANA", "reviewer", actor=cast.ada), cast) == (
        "there is already an account named 'DANA' (names ignore case); choose another name, or change that "
        "account with `medevidence users set-role DANA ROLE`"
    )
    assert refused(InvalidAccount, lambda: board.create_user("x y", "reviewer", actor=cast.ada), cast).startswith(
        "'x y' cannot be an account name; use 1 to 64 letters, digits"
    )
    assert refused(InvalidAccount, lambda: board.create_user("zed", "owner", actor=cast.ada), cast) == (
        "'owner' is not a role; choose one of: admin, editor, reviewer"
    )
    assert refused(
        InvalidAccount, lambda: board.create_user("zed", "editor", actor=cast.ada, password="short"), cast
    ) == (
        "the password is 5 characters long; use at least 12 (a passphrase of a few random words is easy to type "
        "and hard to guess)"
    )


def test_wrong_password_and_unknown_name_read_the_same(cast: Cast) -> None:
    with pytest.raises(AuthenticationFailed) as wrong:
        cast.board.authenticate("carol", "not the password")
    assert str(wrong.value) == (
        "cannot sign in as 'carol': unknown name or wrong password; check both, or ask an admin to set a new "
        "password (`medevidence users passwd carol`)"
    )
    with pytest.raises(AuthenticationFailed, match="cannot sign in as 'nobody': unknown name or wrong password"):
        cast.board.authenticate("nobody", "not the password")
    cast.board.issue_token(cast.ada, "dana")
    token_only = cast.board.create_user("tess", "reviewer", actor=cast.ada)
    assert not token_only.has_password
    with pytest.raises(AuthenticationFailed):
        cast.board.authenticate("tess", "")


def test_passwords_are_argon2id_and_tokens_are_stored_only_as_sha256(cast: Cast) -> None:
    issued = cast.board.issue_token(cast.carol, "carol")
    assert issued.secret.startswith("mev_") and len(issued.secret) > 40
    db = cast.library.store.connection
    stored = db.execute("SELECT password_hash FROM board_users WHERE name = 'carol'").fetchone()[0]
    assert stored.startswith("$argon2id$") and PASSWORDS["carol"] not in stored
    row = db.execute("SELECT token_hash, prefix FROM board_tokens WHERE id = ?", (issued.token.id,)).fetchone()
    assert row[0] == hashlib.sha256(issued.secret.encode()).hexdigest() and row[1] == issued.secret[:12]
    dump = "\n".join(cast.library.store.connection.iterdump())
    assert issued.secret not in dump and PASSWORDS["carol"] not in dump
    assert all("passphrase" not in json.dumps(e.details) for e in cast.board.audit_log())
    assert cast.board.authenticate_token(issued.secret + "\n").name == "carol"


def test_default_password_hasher_is_argon2id_with_library_defaults() -> None:
    hasher = REAL_HASHER()
    assert (hasher.type, hasher.time_cost, hasher.memory_cost) == (Type.ID, 3, 65536)


def test_a_hasher_argon2_refuses_is_a_board_error(cast: Cast) -> None:
    board = Board(cast.library, PasswordHasher(memory_cost=8, parallelism=4))
    with pytest.raises(BoardError, match="cannot hash the password with argon2: Memory cost is too small"):
        board.create_user("zed", "editor", actor=cast.ada, password="long enough passphrase")


def test_revoked_token_and_disabled_account_cannot_act(cast: Cast) -> None:
    board = cast.board
    issued = board.issue_token(cast.ada, "dana")
    assert board.authenticate_token(issued.secret).name == "dana"
    assert [t.prefix for t in board.tokens("dana")] == [issued.secret[:12]]

    board.disable_user(cast.ada, "dana")
    with pytest.raises(AccountDisabled) as caught:
        board.authenticate_token(issued.secret)
    assert str(caught.value) == (
        "the account 'dana' is disabled, so it can neither sign in nor act; an admin can re-enable it with "
        "`medevidence users enable dana`"
    )
    with pytest.raises(AccountDisabled):
        board.authenticate("dana", PASSWORDS["dana"])
    article_id = board.submit(cast.answer_id, cast.carol).id
    # A User object from before the account was disabled (a web session, say) cannot act either.
    assert refused(AccountDisabled, lambda: board.vote(article_id, cast.dana, "approve"), cast).startswith(
        "the account 'dana' is disabled"
    )

    board.enable_user(cast.ada, "dana")
    board.revoke_token(cast.dana, issued.token.id)
    with pytest.raises(AuthenticationFailed) as revoked:
        board.authenticate_token(issued.secret)
    assert str(revoked.value) == (
        "the API token is unknown or has been revoked; ask an admin for a new one (`medevidence users token NAME`) "
        "and set it in MEDEVIDENCE_TOKEN"
    )
    assert board.tokens("dana")[0].revoked_at is not None
    with pytest.raises(AuthenticationFailed):
        board.authenticate_token("mev_made-up")


def test_the_last_admin_cannot_be_disabled_or_demoted(cast: Cast) -> None:
    expected = (
        "cannot disable ada: ada is the only active admin, and the board would have nobody to manage it; make "
        "another account admin first (`medevidence users set-role NAME admin`)"
    )
    assert refused(InvalidAccount, lambda: cast.board.disable_user(cast.ada, "ada"), cast) == expected
    refused(InvalidAccount, lambda: cast.board.set_role(cast.ada, "ada", "editor"), cast)
    cast.board.set_role(cast.ada, "carol", "admin")
    assert cast.board.set_role(cast.ada, "ada", "editor").role is Role.EDITOR
    assert refused(UserNotFound, lambda: cast.board.disable_user(cast.carol, "nobody"), cast) == (
        "no account named 'nobody'; `medevidence users list` shows the accounts"
    )


def test_password_change_by_self_and_rehash_on_sign_in(cast: Cast) -> None:
    cast.board.set_password(cast.dana, "dana", "a brand new passphrase")
    assert cast.board.authenticate("dana", "a brand new passphrase").name == "dana"
    stronger = Board(cast.library, PasswordHasher(time_cost=2, memory_cost=16, parallelism=1))
    stronger.authenticate("dana", "a brand new passphrase")
    stored = cast.library.store.connection.execute("SELECT password_hash FROM board_users WHERE name = 'dana'")
    assert "m=16,t=2,p=1" in stored.fetchone()[0], "a sign-in upgrades a hash made with weaker parameters"


# -- forbidden transitions --------------------------------------------------------------------


def test_each_action_is_refused_to_the_wrong_role(cast: Cast) -> None:
    board = cast.board
    message = refused(NotPermitted, lambda: board.submit(cast.answer_id, cast.dana), cast)
    assert message.startswith("dana is a reviewer and cannot submit answer")
    article_id = under_review(cast)
    assert refused(NotPermitted, lambda: board.vote(article_id, cast.carol, "approve"), cast) == (
        "carol is an editor and cannot vote on article 1 (status under_review); only a reviewer may, so sign in "
        "as one (--as NAME or MEDEVIDENCE_TOKEN)"
    )
    refused(NotPermitted, lambda: board.vote(article_id, cast.ada, "approve"), cast)
    assert refused(NotPermitted, lambda: board.publish(article_id, cast.dana), cast) == (
        "dana is a reviewer and cannot publish article 1 (status under_review); only an editor or an admin may, "
        "so sign in as one (--as NAME or MEDEVIDENCE_TOKEN)"
    )
    refused(NotPermitted, lambda: board.assign(article_id, cast.dana, "erin"), cast)
    refused(NotPermitted, lambda: board.revise(article_id, cast.erin, [AddComment(1, "x")]), cast)
    refused(NotPermitted, lambda: board.reopen(article_id, cast.erin), cast)
    refused(NotPermitted, lambda: board.set_quorum(cast.carol, 1), cast)


def test_illegal_transitions_name_the_article_its_status_the_action_and_who_may(cast: Cast) -> None:
    board = cast.board
    article_id = board.submit(cast.answer_id, cast.carol).id
    assert refused(TransitionNotAllowed, lambda: board.publish(article_id, cast.carol), cast) == (
        "cannot publish article 1 while it is submitted: publish needs status approved (version 1 needs 2 "
        "reviewer approvals and has 0, and it may have no request for changes, no rejection and no flagged "
        "statement); then an editor or an admin may publish it"
    )
    assert refused(TransitionNotAllowed, lambda: board.vote(article_id, cast.dana, "approve"), cast) == (
        "cannot vote on article 1 while it is submitted: vote needs status under_review or changes_requested or "
        "approved (an editor assigns reviewers to a submitted article (`medevidence review assign ID REVIEWER`), "
        "or reopens a published or rejected one); then a reviewer may vote on it"
    )
    assert refused(TransitionNotAllowed, lambda: board.reopen(article_id, cast.carol), cast).startswith(
        "cannot reopen article 1 while it is submitted: reopen needs status rejected or published"
    )
    assert refused(DuplicateArticle, lambda: board.submit(cast.answer_id, cast.ada), cast) == (
        f"answer {cast.answer_id!r} is already article 1 (status submitted); revise that article instead "
        "(`medevidence articles show 1`)"
    )
    assert refused(ArticleNotFound, lambda: board.publish(99, cast.carol), cast) == (
        "there is no article 99; `medevidence articles list` shows the articles and `medevidence articles show ID` "
        "their versions"
    )
    with pytest.raises(StoreError, match="no answer 'nope' in this library"):
        board.submit("nope", cast.carol)

    board.assign(article_id, cast.carol, "dana")
    board.assign(article_id, cast.carol, "erin")
    board.vote(article_id, cast.dana, "approve")
    board.vote(article_id, cast.erin, "approve")
    board.publish(article_id, cast.carol)
    assert refused(TransitionNotAllowed, lambda: board.revise(article_id, cast.carol, [AddComment(1, "x")]), cast) == (
        "cannot revise article 1 while it is published: revise needs status submitted or under_review or "
        "changes_requested or approved (reopen a published or rejected article first (`medevidence review reopen "
        "ID`)); then an editor or an admin may revise it"
    )
    refused(TransitionNotAllowed, lambda: board.vote(article_id, cast.dana, "reject"), cast)
    refused(TransitionNotAllowed, lambda: board.publish(article_id, cast.carol), cast)
    refused(TransitionNotAllowed, lambda: board.assign(article_id, cast.carol, "dana"), cast)


def test_nobody_reviews_their_own_article(cast: Cast) -> None:
    board = cast.board
    article_id = under_review(cast)
    board.set_role(cast.ada, "carol", "reviewer")
    assert refused(SelfReview, lambda: board.vote(article_id, cast.carol, "approve"), cast) == (
        "carol cannot vote on article 1: carol submitted or revised it, and nobody may review their own article; "
        "assign another reviewer"
    )
    refused(SelfReview, lambda: board.assign(article_id, cast.ada, "carol"), cast)
    # Revising makes an editor an author too.
    board.set_role(cast.ada, "carol", "editor")
    board.create_user("fred", "editor", actor=cast.ada)
    fred = board.user("fred")
    number, text = first_source_statement(cast, article_id)
    board.revise(article_id, fred, [AddComment(number, "checked the numbers")])
    board.set_role(cast.ada, "fred", "reviewer")
    refused(SelfReview, lambda: board.assign(article_id, cast.ada, "fred"), cast)


def test_only_assigned_reviewers_vote(cast: Cast) -> None:
    board = cast.board
    article = board.submit(cast.answer_id, cast.carol)
    board.assign(article.id, cast.carol, "dana")
    assert refused(NotPermitted, lambda: board.vote(article.id, cast.erin, "approve"), cast) == (
        "erin is not assigned to review article 1, so cannot vote on it; an editor can assign them "
        "(`medevidence review assign 1 erin`)"
    )
    assert refused(NotPermitted, lambda: board.assign(article.id, cast.carol, "ada"), cast) == (
        "ada cannot review article 1: the account is an admin, and only enabled reviewers review; choose a "
        "reviewer (`medevidence users list`)"
    )
    before = len(board.audit_log())
    assert board.assign(article.id, cast.carol, "dana").reviewers == ("dana",)
    assert len(board.audit_log()) == before, "assigning the same reviewer again changes nothing"


# -- versions, votes and re-checks -------------------------------------------------------------


def test_a_new_version_resets_approval_and_stale_votes_are_refused(cast: Cast) -> None:
    board = cast.board
    article_id = under_review(cast)
    board.vote(article_id, cast.dana, "approve", version=1)
    number, text = first_source_statement(cast, article_id)
    board.revise(article_id, cast.carol, [AddComment(number, "please look again")], version=1)
    assert refused(StaleVersion, lambda: board.vote(article_id, cast.erin, "approve", version=1), cast) == (
        "cannot vote on version 1 of article 1: version 2 is now current, and only the current version can be "
        "voted on or revised; read it (`medevidence articles show 1`) and try again with version 2"
    )
    refused(StaleVersion, lambda: board.revise(article_id, cast.carol, [AddComment(1, "x")], version=1), cast)
    refused(ArticleNotFound, lambda: board.vote(article_id, cast.erin, "approve", version=7), cast)
    board.vote(article_id, cast.erin, "approve", version=2)
    article = board.article(article_id)
    assert (article.status, article.tally.approvals) == (ReviewStatus.UNDER_REVIEW, 1), "dana's v1 approval is stale"
    board.vote(article_id, cast.dana, "approve", version=2)
    assert board.article(article_id).status is ReviewStatus.APPROVED
    # Revising an approved article takes it back under review.
    board.revise(article_id, cast.carol, [AddComment(number, "one more note")])
    assert board.article(article_id).status is ReviewStatus.UNDER_REVIEW


def test_an_unsupported_edit_is_saved_flagged_and_cannot_be_approved_until_fixed(cast: Cast) -> None:
    board = cast.board
    article_id = under_review(cast)
    number, text = first_source_statement(cast, article_id)
    invented = text.rstrip(".") + " for 9 years."
    version = board.revise(article_id, cast.carol, [EditText(number, invented)])
    assert version.flags[0].statement == number and version.flags[0].text == invented
    assert version.flags[0].reason == "numbers not in the cited spans: 9"
    assert board.version(article_id).answer().statements()[number - 1].text == invented, "saved, not dropped"
    assert board.article(article_id).flagged
    assert f"+{invented} [" in version.diff and f"-{text} [" in version.diff

    message = refused(FlaggedVersion, lambda: board.vote(article_id, cast.dana, "approve"), cast)
    assert message == (
        f"cannot approve version 2 of article 1: statement #{number} is not supported by the spans cited; "
        "request changes instead, so an editor can fix or remove them in a new version"
    )
    board.vote(article_id, cast.dana, "request_changes", comment="9 years is not in the source")
    assert board.article(article_id).status is ReviewStatus.CHANGES_REQUESTED

    fixed = board.revise(article_id, cast.carol, [EditText(number, text)])
    assert fixed.flags == () and not board.article(article_id).flagged
    board.vote(article_id, cast.dana, "approve")
    board.vote(article_id, cast.erin, "approve")
    assert board.article(article_id).status is ReviewStatus.APPROVED
    revise_entry = [e for e in board.audit_log(article_id) if e.action == "article.revise"][0]
    assert revise_entry.details["flagged"] == [{"statement": number, "reason": "numbers not in the cited spans: 9"}]


def test_remove_and_comment_in_one_revision_keep_the_comment_on_its_statement(cast: Cast) -> None:
    board = cast.board
    article_id = under_review(cast)
    before = board.version(article_id).answer()
    lines_before = rendered_statements(before)
    second = before.statements()[1].text
    version = board.revise(article_id, cast.carol, [RemoveStatement(1), AddComment(2, "is this still true?")])
    after = version.answer()
    assert len(after.statements()) == len(before.statements()) - 1
    assert after.statements()[0].text == second
    assert [(c.statement, c.text, c.author) for c in version.comments] == [(1, "is this still true?", "carol")]
    assert board.diff(article_id, 1, 2) == version.diff
    removed = [line for line in version.diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    assert removed == [f"-{lines_before[1]}"]
    assert board.diff(article_id, 2, 2) == ""


def test_bad_edits_are_refused_and_nothing_is_saved(cast: Cast) -> None:
    board = cast.board
    article_id = under_review(cast)
    count = len(board.version(article_id).answer().statements())
    assert refused(InvalidEdit, lambda: board.revise(article_id, cast.carol, []), cast) == (
        "no edits for article 1; edit a statement's text, remove one, or comment"
    )
    assert refused(InvalidEdit, lambda: board.revise(article_id, cast.carol, [RemoveStatement(count + 1)]), cast) == (
        f"article 1 has no statement #{count + 1}; its statements are numbered 1 to {count} "
        "(`medevidence articles show 1` lists them)"
    )
    assert refused(InvalidEdit, lambda: board.revise(article_id, cast.carol, [EditText(1, "  ")]), cast) == (
        "the text for statement #1 of article 1 is empty; give the text, or remove the statement"
    )
    twice = [EditText(1, "one text"), RemoveStatement(1)]
    assert refused(InvalidEdit, lambda: board.revise(article_id, cast.carol, twice), cast).startswith(
        "statement #1 of article 1 is changed twice in one revision"
    )
    both = [RemoveStatement(1), AddComment(1, "why?")]
    refused(InvalidEdit, lambda: board.revise(article_id, cast.carol, both), cast)
    same = board.version(article_id).answer().statements()[0].text
    assert refused(InvalidEdit, lambda: board.revise(article_id, cast.carol, [EditText(1, same)]), cast).startswith(
        "statement #1 of article 1 already reads that"
    )
    assert [v.number for v in board.versions(article_id)] == [1]


def test_rejection_needs_the_quorum_and_a_rejected_article_can_be_reopened(cast: Cast) -> None:
    board = cast.board
    article_id = under_review(cast)
    board.vote(article_id, cast.dana, "reject", comment="off topic")
    assert board.article(article_id).status is ReviewStatus.UNDER_REVIEW
    board.vote(article_id, cast.erin, "approve")
    assert board.article(article_id).status is ReviewStatus.UNDER_REVIEW, "a rejection blocks approval"
    board.vote(article_id, cast.erin, "reject")
    assert board.article(article_id).status is ReviewStatus.REJECTED, "erin's later vote replaced her approval"
    article = board.reopen(article_id, cast.carol)
    assert (article.status, article.current_version, article.published_version) == (ReviewStatus.UNDER_REVIEW, 2, None)


def test_quorum_is_set_by_an_admin_and_articles_in_review_are_recounted(cast: Cast) -> None:
    board = cast.board
    assert board.quorum == 2
    article_id = under_review(cast)
    board.vote(article_id, cast.dana, "approve")
    board.set_quorum(cast.ada, 1)
    assert (board.quorum, board.article(article_id).status) == (1, ReviewStatus.APPROVED)
    assert [e.action for e in board.audit_log()[-2:]] == ["board.set_quorum", "article.recount"]
    board.set_quorum(cast.ada, 3)
    assert board.article(article_id).status is ReviewStatus.UNDER_REVIEW
    with pytest.raises(BoardError, match="the quorum must be at least 1 reviewer, not 0"):
        board.set_quorum(cast.ada, 0)


def test_a_disabled_reviewers_approval_stops_counting_before_publication(cast: Cast) -> None:
    board = cast.board
    article_id = under_review(cast)
    board.vote(article_id, cast.dana, "approve")
    board.vote(article_id, cast.erin, "approve")
    board.disable_user(cast.ada, "erin")
    assert board.article(article_id).tally.approvals == 1
    assert refused(TransitionNotAllowed, lambda: board.publish(article_id, cast.carol), cast) == (
        "cannot publish article 1 while it is approved: version 1 now has 1 counted approvals of the 2 needed; "
        "ask another assigned reviewer to vote (`medevidence articles show 1`)"
    )
    board.enable_user(cast.ada, "erin")
    assert board.publish(article_id, cast.carol).status is ReviewStatus.PUBLISHED


def test_board_writes_on_a_read_only_library_become_store_errors(cast: Cast) -> None:
    cast.library.close()
    with Library.open(cast.path, read_only=True) as library:
        board = Board(library)
        assert [u.name for u in board.users()] == ["ada", "carol", "dana", "erin"]
        with pytest.raises(StoreError, match="the review board could not write to .*readonly database"):
            board.submit(cast.answer_id, cast.carol)


def test_versions_votes_and_audit_rows_refuse_update_and_delete(cast: Cast) -> None:
    article_id = under_review(cast)
    cast.board.vote(article_id, cast.dana, "approve")
    db = cast.library.store.connection
    for statement in (
        "UPDATE article_versions SET body = '{}'",
        "DELETE FROM article_versions",
        "UPDATE votes SET decision = 'reject'",
        "DELETE FROM votes",
        "UPDATE audit_log SET actor = 'mallory'",
        "DELETE FROM audit_log",
    ):
        with pytest.raises(sqlite3.IntegrityError):
            db.execute(statement)


def test_every_board_error_is_a_medevidence_error() -> None:
    import medevidence.errors as errors

    board_errors = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.BoardError)]
    assert all(issubclass(c, MedevidenceError) for c in board_errors)
    drawn = errors.__doc__ or ""
    assert all(c.__name__ in drawn for c in board_errors), "every board error is drawn in the tree"


# -- the audit trail ------------------------------------------------------------------------------


def tamper(path: Path, *statements: str) -> None:
    """Change the database the way someone with the file would: the append-only triggers dropped first."""
    with closing(sqlite3.connect(path / "library.db")) as db, db:
        db.execute("DROP TRIGGER audit_log_append_only")
        db.execute("DROP TRIGGER audit_log_kept")
        for statement in statements:
            db.execute(statement)


@pytest.mark.parametrize(
    ("statements", "seq", "problem"),
    [
        (
            ['UPDATE audit_log SET details = \'{"decision": "approve"}\' WHERE seq = 8'],
            8,
            "audit entry 8 was modified: its content no longer matches its hash",
        ),
        (["UPDATE audit_log SET actor = 'mallory' WHERE seq = 3"], 3, "audit entry 3 was modified"),
        (["DELETE FROM audit_log WHERE seq = 6"], 6, "audit entry 6 is missing: the log jumps from entry 5 to 7"),
        (["DELETE FROM audit_log WHERE seq >= 8"], 8, "audit entries 8 to 9 are missing: the head records 9 entries"),
        (["DELETE FROM audit_log WHERE seq = 9"], 9, "audit entry 9 is missing: the head records 9 entries"),
        (["DELETE FROM board_meta"], 9, "the audit head record is missing, though the log has 9 entries"),
    ],
)
def test_audit_verify_names_the_first_broken_entry(cast: Cast, statements: list[str], seq: int, problem: str) -> None:
    article_id = under_review(cast)  # entries 1-4 are the accounts, 5-7 submit and assign
    cast.board.vote(article_id, cast.dana, "request_changes", comment="cite the trial")  # 8
    cast.board.vote(article_id, cast.erin, "approve")  # 9
    assert cast.board.verify_audit().intact
    cast.library.close()
    tamper(cast.path, *statements)
    with Library.open(cast.path, embedder="fake") as library:
        report = Board(library).verify_audit()
    assert (report.intact, report.broken_seq) == (False, seq)
    assert report.problem.startswith(problem)


def test_an_entry_rewritten_with_a_fresh_hash_breaks_the_next_link(cast: Cast) -> None:
    under_review(cast)
    entry = cast.board.audit_log()[4]
    forged = {**entry.content(), "actor": "mallory"}
    cast.library.close()
    digest = entry_hash(entry.prev_hash, forged)
    tamper(cast.path, f"UPDATE audit_log SET actor = 'mallory', hash = '{digest}' WHERE seq = 5")
    with Library.open(cast.path, embedder="fake") as library:
        report = Board(library).verify_audit()
    assert (report.broken_seq, report.problem) == (6, "audit entry 6 does not link to entry 5: one was rewritten")


def test_an_empty_board_has_an_intact_empty_log(tmp_path: Path) -> None:
    with Library.open(tmp_path / "empty", embedder="fake") as library:
        report = Board(library).verify_audit()
    assert (report.intact, report.entries, report.head_hash) == (True, 0, None)


# -- concurrency ----------------------------------------------------------------------------------


@pytest.mark.parametrize("connections", ["one each", "one shared"])
def test_concurrent_votes_and_revisions_lose_nothing_and_keep_the_chain(cast: Cast, connections: str) -> None:
    """Two reviewers vote while an editor saves versions: each on its own connection, or all on one Board."""

    @contextmanager
    def board_for_thread() -> Iterator[Board]:
        if connections == "one shared":
            yield cast.board
        else:
            with cast.another_board() as board:
                yield board

    article_id = under_review(cast)
    entries_before = len(cast.board.audit_log())
    rounds = 6
    start = threading.Barrier(3)
    outcomes: dict[str, list[str]] = {"dana": [], "erin": [], "carol": []}
    failures: list[BaseException] = []

    def reviewer(user: User) -> None:
        try:
            with board_for_thread() as board:
                start.wait()
                for round_number in range(rounds):
                    # Half the votes name the version read a moment ago, so some of them meet a newer one.
                    seen = board.article(article_id).current_version if round_number % 2 else None
                    try:
                        board.vote(article_id, user, "request_changes", comment=f"round {round_number}", version=seen)
                        outcomes[user.name].append("voted")
                    except StaleVersion:
                        outcomes[user.name].append("stale")
        except BaseException as exc:  # reported below; a thread's exception is otherwise lost
            failures.append(exc)

    def editor() -> None:
        try:
            with board_for_thread() as board:
                start.wait()
                for round_number in range(rounds):
                    board.revise(article_id, cast.carol, [AddComment(1, f"note {round_number}")])
                    outcomes["carol"].append("revised")
        except BaseException as exc:
            failures.append(exc)

    threads = [
        threading.Thread(target=reviewer, args=(cast.dana,)),
        threading.Thread(target=reviewer, args=(cast.erin,)),
        threading.Thread(target=editor),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures

    board = cast.board
    votes = board.votes(article_id)
    for name in ("dana", "erin"):
        assert len([v for v in votes if v.reviewer == name]) == outcomes[name].count("voted")
        assert len(outcomes[name]) == rounds
    assert [v.number for v in board.versions(article_id)] == list(range(1, rounds + 2))
    successes = sum(o.count("voted") + o.count("revised") for o in outcomes.values())
    assert len(board.audit_log()) == entries_before + successes
    assert board.verify_audit().intact
    article = board.article(article_id)
    counted = [v for v in votes if v.counted]
    expected = ReviewStatus.CHANGES_REQUESTED if counted else ReviewStatus.UNDER_REVIEW
    assert article.status is expected, "the status agrees with the votes on the current version"
