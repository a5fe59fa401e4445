"""The board's commands through click's runner: passwords on stdin, tokens in the environment, exit codes."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from board_data import FAST_HASHER, QUESTION, RECORDS
from medevidence import accounts
from medevidence.cli import cli

ADMIN_PASSWORD = "admin passphrase 1"
EDITOR_PASSWORD = "editor passphrase 1"


@pytest.fixture(autouse=True)
def fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "default_password_hasher", lambda: FAST_HASHER)


def invoke(library: Path, *args: str, input: str | None = None, env: Mapping[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["--library", str(library), *args], input=input, env=env)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A library made with `ingest` and one answer from `ask --format json`."""
    root = tmp_path_factory.mktemp("board_cli")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "abstracts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in RECORDS), encoding="utf-8")
    library = root / "library"
    assert invoke(library, "ingest", "--quiet", str(corpus)).exit_code == 0
    asked = invoke(library, "ask", QUESTION, "--format", "json")
    assert asked.exit_code == 0, asked.output
    return library, json.loads(asked.stdout)["id"]


@pytest.fixture
def library(template: tuple[Path, str], tmp_path: Path) -> Path:
    path = tmp_path / "library"
    shutil.copytree(template[0], path)
    return path


@pytest.fixture
def answer_id(template: tuple[Path, str]) -> str:
    return template[1]


@pytest.fixture
def staffed(library: Path) -> dict[str, str]:
    """The admin ada, the editor carol, and reviewers dana and erin who act through API tokens."""
    first = invoke(library, "users", "add", "ada", "--role", "admin", "--password-stdin", input=f"{ADMIN_PASSWORD}\n")
    assert first.exit_code == 0, first.output
    added = invoke(
        library,
        "users",
        "add",
        "carol",
        "--role",
        "editor",
        "--password-stdin",
        "--as",
        "ada",
        input=f"{ADMIN_PASSWORD}\n{EDITOR_PASSWORD}\n",
    )
    assert added.exit_code == 0, added.output
    tokens = {}
    for name, specialty in (("dana", "endocrinology"), ("erin", "")):
        options = ["--specialty", specialty] if specialty else []
        added = invoke(
            library, "users", "add", name, "--role", "reviewer", *options, "--as", "ada", input=ADMIN_PASSWORD
        )
        assert added.exit_code == 0, added.output
        issued = invoke(library, "users", "token", name, "--as", "ada", input=ADMIN_PASSWORD)
        assert issued.exit_code == 0, issued.output
        tokens[name] = issued.stdout.strip()
    return tokens


def as_editor(library: Path, *args: str) -> Result:
    return invoke(library, *args, "--as", "carol", input=f"{EDITOR_PASSWORD}\n")


def as_token(library: Path, token: str, *args: str) -> Result:
    return invoke(library, *args, env={"MEDEVIDENCE_TOKEN": token})


def test_the_whole_review_from_the_command_line(library: Path, answer_id: str, staffed: dict[str, str]) -> None:
    listed = invoke(library, "users", "list")
    assert listed.exit_code == 0
    assert all(name in listed.output for name in ("ada", "carol", "dana", "erin", "endocrinology"))

    submitted = as_editor(library, "review", "submit", answer_id)
    assert submitted.exit_code == 0, submitted.output
    assert submitted.output.startswith("article 1 submitted as version 1 (status submitted)")
    for reviewer in ("dana", "erin"):
        assert as_editor(library, "review", "assign", "1", reviewer).exit_code == 0

    voted = as_token(library, staffed["dana"], "review", "vote", "1", "--request-changes", "--comment", "add spacing")
    assert voted.output == (
        "dana voted request_changes on version 1 of article 1; status changes_requested (1 changes; quorum 2)\n"
    )
    shown = invoke(library, "articles", "show", "1")
    statement = next(line for line in shown.output.splitlines() if line.startswith("  #1 "))
    text = statement[len("  #1 ") : statement.rindex(" [")]
    revised = as_editor(library, "review", "revise", "1", "--edit", "1", text + " ", "--version", "1")
    assert revised.exit_code == 1 and "already reads that" in revised.output, "trailing spaces are not a change"
    revised = as_editor(
        library, "review", "revise", "1", "--edit", "1", text.rstrip(".") + " .", "--comment-on", "1", "spacing"
    )
    assert revised.exit_code == 0, revised.output
    assert revised.output.startswith("saved version 2 of article 1 (status under_review)\n--- article 1 version 1")

    for name in ("dana", "erin"):
        voted = as_token(library, staffed[name], "review", "vote", "1", "--approve", "--version", "2")
        assert voted.exit_code == 0, voted.output
    assert "status approved" in voted.output

    published = as_editor(library, "review", "publish", "1")
    assert published.output == "published version 2 of article 1\n"
    listed = invoke(library, "articles", "list")
    assert listed.exit_code == 0 and "published" in listed.output and "2 approve" in listed.output

    shown = invoke(library, "articles", "show", "1")
    assert shown.exit_code == 0
    for expected in (
        f"answer {answer_id}; submitted by carol on ",
        "status published; current version 2; published version 2",
        "reviewers: dana (endocrinology), erin",
        "votes on version 2: 2 approve (quorum 2)",
        "  v1  ",
        "  carol  revised",
        'dana  request_changes  "add spacing"  (not counted: on an older version)',
        "  #1  carol: spacing",
        "statements of version 2:",
    ):
        assert expected in shown.output, expected

    reopened = as_editor(library, "review", "reopen", "1")
    assert reopened.output == "article 1 reopened as version 3 (under_review); version 2 stays published\n"
    diff = invoke(library, "articles", "diff", "1", "1", "2")
    assert diff.output.startswith("--- article 1 version 1\n+++ article 1 version 2\n")

    verified = invoke(library, "audit", "verify")
    assert verified.exit_code == 0
    assert verified.output.startswith("audit trail intact: 15 entries; head ")
    log = invoke(library, "audit", "log", "--article", "1")
    assert (
        log.output.splitlines()[0].startswith("#7 ") and "article.submit article 1 v-→v1 draft→submitted" in log.output
    )


def test_the_first_admin_and_passwords_only_from_standard_input(library: Path) -> None:
    assert invoke(library, "users", "list").output.startswith("no accounts yet")
    no_password = invoke(library, "users", "add", "ada", "--role", "admin")
    assert no_password.exit_code == 1
    assert "the first account must be an admin with a password, not 'ada' as admin without one" in no_password.output
    as_argument = invoke(library, "users", "add", "ada", "--role", "admin", "--password", ADMIN_PASSWORD)
    assert as_argument.exit_code == 2 and "No such option '--password'" in as_argument.output
    empty = invoke(library, "users", "add", "ada", "--role", "admin", "--password-stdin", input="")
    assert empty.exit_code == 1
    assert empty.output == (
        "Error: expected password for the new account ada on standard input, but it was empty; pipe it in, one "
        "per line\n"
    )
    added = invoke(library, "users", "add", "ada", "--role", "admin", "--password-stdin", input=ADMIN_PASSWORD)
    assert (added.exit_code, added.output) == (0, "added admin ada\n")
    second = invoke(library, "users", "add", "eve", "--role", "admin", "--password-stdin", input="x" * 12)
    assert second.exit_code == 1 and "only an admin can add the account 'eve'" in second.output


def test_acting_needs_a_name_or_token_and_the_right_password(
    library: Path, answer_id: str, staffed: dict[str, str]
) -> None:
    nobody = invoke(library, "review", "submit", answer_id)
    assert nobody.exit_code == 1
    assert nobody.output == (
        "Error: this command acts as a board member, but none was given; add --as NAME (password on standard "
        "input) or set MEDEVIDENCE_TOKEN to an API token (`medevidence users token NAME`)\n"
    )
    wrong = invoke(library, "review", "submit", answer_id, "--as", "carol", input="not my password\n")
    assert wrong.exit_code == 1
    assert wrong.output == (
        "Error: cannot sign in as 'carol': unknown name or wrong password; check both, or ask an admin to set a "
        "new password (`medevidence users passwd carol`)\n"
    )
    forged = as_token(library, "mev_not-a-real-token", "review", "submit", answer_id)
    assert forged.exit_code == 1 and "the API token is unknown or has been revoked" in forged.output
    as_reviewer = as_token(library, staffed["dana"], "review", "submit", answer_id)
    assert as_reviewer.exit_code == 1
    assert as_reviewer.output.startswith(f"Error: dana is a reviewer and cannot submit answer {answer_id!r}")


def test_a_disabled_users_token_and_a_revoked_token_are_refused(
    library: Path, answer_id: str, staffed: dict[str, str]
) -> None:
    assert as_editor(library, "review", "submit", answer_id).exit_code == 0
    assert as_editor(library, "review", "assign", "1", "dana").exit_code == 0
    disabled = invoke(library, "users", "disable", "dana", "--as", "ada", input=ADMIN_PASSWORD)
    assert disabled.output == "disabled dana; re-enable with `medevidence users enable dana`\n"
    refused = as_token(library, staffed["dana"], "review", "vote", "1", "--approve")
    assert refused.exit_code == 1
    assert refused.output == (
        "Error: the account 'dana' is disabled, so it can neither sign in nor act; an admin can re-enable it with "
        "`medevidence users enable dana`\n"
    )
    assert invoke(library, "users", "enable", "dana", "--as", "ada", input=ADMIN_PASSWORD).exit_code == 0
    assert as_token(library, staffed["dana"], "users", "revoke-token", "1").output == "revoked token 1 of dana\n"
    tokens = invoke(library, "users", "tokens", "dana")
    assert staffed["dana"][:12] in tokens.output and staffed["dana"] not in tokens.output
    assert as_token(library, staffed["dana"], "review", "vote", "1", "--approve").exit_code == 1


def test_forbidden_transitions_and_missing_choices_exit_non_zero(
    library: Path, answer_id: str, staffed: dict[str, str]
) -> None:
    assert as_editor(library, "review", "submit", answer_id).exit_code == 0
    early = as_editor(library, "review", "publish", "1")
    assert early.exit_code == 1
    assert early.output.startswith(
        "Error: cannot publish article 1 while it is submitted: publish needs status approved"
    )
    undecided = as_token(library, staffed["dana"], "review", "vote", "1")
    assert undecided.exit_code == 2 and "say how you vote: --approve, --request-changes, --reject" in undecided.output
    bad_number = as_editor(library, "review", "revise", "1", "--comment-on", "first", "hello")
    assert bad_number.exit_code == 2 and "a statement number must be a whole number such as 3" in bad_number.output
    missing = invoke(library, "articles", "show", "9")
    assert missing.exit_code == 1 and missing.output.startswith("Error: there is no article 9;")
    quorum = invoke(library, "review", "quorum", "1", "--as", "ada", input=ADMIN_PASSWORD)
    assert quorum.output == "quorum: 1 reviewer approvals (or rejections) decide an article\n"


@pytest.mark.parametrize(
    ("tampering", "message"),
    [
        (
            "UPDATE audit_log SET details = '{}' WHERE seq = 2",
            "Error: the audit trail is broken at entry 2: audit entry 2 was modified: its content no longer matches "
            "its hash; restore the library from a backup and compare the two to see what was changed\n",
        ),
        (
            "DELETE FROM audit_log WHERE seq = 3",
            "Error: the audit trail is broken at entry 3: audit entry 3 is missing: the log jumps from entry 2 to 4; "
            "restore the library from a backup and compare the two to see what was changed\n",
        ),
        (
            "DELETE FROM audit_log WHERE seq = 6",
            "Error: the audit trail is broken at entry 6: audit entry 6 is missing: the head records 6 entries; "
            "restore the library from a backup and compare the two to see what was changed\n",
        ),
    ],
)
def test_audit_verify_exits_non_zero_naming_the_first_broken_entry(
    library: Path, staffed: dict[str, str], tampering: str, message: str
) -> None:
    intact = invoke(library, "audit", "verify")
    assert intact.exit_code == 0 and intact.output.startswith("audit trail intact: 6 entries; head ")
    with closing(sqlite3.connect(library / "library.db")) as db, db:
        db.execute("DROP TRIGGER audit_log_append_only")
        db.execute("DROP TRIGGER audit_log_kept")
        db.execute(tampering)
    broken = invoke(library, "audit", "verify")
    assert (broken.exit_code, broken.output) == (1, message)
