"""The ``medevidence`` command: a thin adapter over :class:`medevidence.Library`."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from . import __version__
from .accounts import Role, User
from .errors import MedevidenceError
from .library import Library
from .models import Audience, EvidenceLevel, IngestReport, ReviewStatus, StudyDesign
from .render import RENDERERS, render_text
from .retrieve import SearchFilters, SearchMode
from .review import Article, Board, Decision, Vote
from .revision import AddComment, Edit, EditText, RemoveStatement, rendered_statements

console = Console()
error_console = Console(stderr=True)


class LibraryContext:
    def __init__(self, path: Path) -> None:
        self.path = path

    def open(self, read_only: bool = False, **overrides: Any) -> Library:
        try:
            return Library.open(self.path, read_only=read_only, **overrides)
        except MedevidenceError as error:
            raise click.ClickException(str(error)) from error


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="medevidence")
@click.option(
    "--library",
    "library_path",
    envvar="MEDEVIDENCE_LIBRARY",
    default="library",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Library directory (env MEDEVIDENCE_LIBRARY). Created on first ingest.",
)
@click.pass_context
def cli(context: click.Context, library_path: Path) -> None:
    """Clinical evidence answers from a literature library you control."""
    context.obj = LibraryContext(library_path)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--max-file-mb", type=float, help="Refuse single-document files larger than this (default 100).")
@click.option("--quiet", is_flag=True, help="No progress bar; only the summary.")
@click.pass_obj
def ingest(obj: LibraryContext, paths: tuple[Path, ...], max_file_mb: float | None, quiet: bool) -> None:
    """Add files or directories (recursively) to the library.

    Formats: .txt, .md, .html/.htm, .pdf, PubMed/MEDLINE XML, .jsonl. Re-ingesting an unchanged
    file does nothing; an interrupted run resumes when the same command is run again. It is safe
    while `medevidence serve` runs on the same library: searches answer from what is indexed and
    see the new documents once this run has indexed them.
    """
    with obj.open(max_file_mb=max_file_mb) as library:
        try:
            report = library.ingest(paths, progress=not quiet)
        except KeyboardInterrupt:
            error_console.print(
                "[yellow]interrupted[/]: every document stored before the interruption is kept; "
                "run the same command again to resume"
            )
            sys.exit(130)
    _print_ingest_report(report)
    if not report.stored_anything:
        sys.exit(1)


def _print_ingest_report(report: IngestReport) -> None:
    table = Table(title="ingest summary", show_header=True)
    table.add_column("result")
    table.add_column("count", justify="right")
    table.add_row("added", str(report.added))
    table.add_row("updated (new version)", str(report.updated))
    table.add_row("skipped duplicates", str(report.duplicates))
    table.add_row("skipped unchanged files", str(report.unchanged_files))
    table.add_row("failed", str(len(report.failures)))
    console.print(table)
    for failure in report.failures:
        error_console.print(f"failed: {failure.message}", highlight=False, markup=False, soft_wrap=True)


@cli.command()
@click.argument("query", required=False)
@click.option("--k", default=10, show_default=True, type=click.IntRange(min=1), help="Number of passages.")
@click.option(
    "--queries",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help='Batch: a JSONL file of {"id": ..., "text": ...} lines.',
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "jsonl"]),
    default="text",
    show_default=True,
)
@click.option("--mode", type=click.Choice([m.value for m in SearchMode]), help="Default: the search_mode setting.")
@click.option(
    "--design",
    "designs",
    multiple=True,
    type=click.Choice([d.name.lower() for d in StudyDesign]),
    help="Only documents of this study design (repeatable).",
)
@click.option(
    "--level",
    "levels",
    multiple=True,
    type=click.Choice([lv.value for lv in EvidenceLevel]),
    help="Only documents at this evidence level (repeatable).",
)
@click.option("--year-from", type=int, help="Only documents published in or after this year.")
@click.option("--year-to", type=int, help="Only documents published in or before this year.")
@click.option("--publication-type", "publication_types", multiple=True, help="MEDLINE publication type (repeatable).")
@click.pass_obj
def search(
    obj: LibraryContext,
    query: str | None,
    k: int,
    queries: Path | None,
    output_format: str,
    mode: str | None,
    designs: tuple[str, ...],
    levels: tuple[str, ...],
    year_from: int | None,
    year_to: int | None,
    publication_types: tuple[str, ...],
) -> None:
    """Ranked passages for QUERY, or for every line of --queries."""
    if (query is None) == (queries is None):
        raise click.UsageError("give either a QUERY or --queries FILE.jsonl, not both or neither")
    filters = SearchFilters(
        designs=frozenset(StudyDesign[d.upper()] for d in designs) or None,
        levels=frozenset(EvidenceLevel(lv) for lv in levels) or None,
        year_from=year_from,
        year_to=year_to,
        publication_types=frozenset(publication_types) or None,
    )
    with obj.open(read_only=True) as library:
        try:
            if queries is not None:
                for query_id, text in _read_queries(queries):
                    hits = library.search(text, k=k, filters=filters, mode=mode)
                    record = {
                        "query_id": query_id,
                        "hits": [
                            {
                                "doc_id": h.doc_id,
                                "passage_id": h.passage_id,
                                "score": h.score,
                                "start": h.start,
                                "end": h.end,
                            }
                            for h in hits
                        ],
                    }
                    click.echo(json.dumps(record))
                return
            assert query is not None
            hits = library.search(query, k=k, filters=filters, mode=mode)
        except MedevidenceError as error:
            raise click.ClickException(str(error)) from error
    if output_format in ("json", "jsonl"):
        click.echo(json.dumps([hit.to_dict() for hit in hits], indent=2 if output_format == "json" else None))
        return
    if not hits:
        console.print("no passages match; try other words or check `medevidence library stats`")
    for rank, hit in enumerate(hits, start=1):
        console.print(f"[bold]{rank}. {hit.title or hit.doc_id}[/] [dim](doc {hit.doc_id}, score {hit.score:.2f})[/]")
        console.print(f"   {hit.text}", highlight=False, markup=False)


def _read_queries(path: Path) -> Iterator[tuple[Any, str]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                yield record["id"], str(record["text"])
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise click.ClickException(
                    f'cannot read {path} line {number}: expected {{"id": ..., "text": ...}}; fix that line'
                ) from exc


@cli.command()
@click.argument("question")
@click.option(
    "--audience",
    type=click.Choice([a.value for a in Audience]),
    default="clinician",
    show_default=True,
    help="Who the answer is written for: the same claims and citations, in technical or plain language.",
)
@click.option(
    "--case",
    "case_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A patient case as JSON (fields in docs/case.md); adds a 'This patient' section and steers retrieval.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "html", "md"]),
    default="text",
    show_default=True,
)
@click.option("--follow-up-of", "follow_up_of", help="The id of an earlier answer this question follows up.")
@click.pass_obj
def ask(
    obj: LibraryContext,
    question: str,
    audience: str,
    case_path: Path | None,
    output_format: str,
    follow_up_of: str | None,
) -> None:
    """A structured, graded, span-cited answer to QUESTION from this library."""
    case = _read_case(case_path) if case_path else None
    with obj.open() as library:
        try:
            answer = library.ask(question, audience=audience, case=case, follow_up_of=follow_up_of)
        except MedevidenceError as error:
            raise click.ClickException(str(error)) from error
    if output_format == "text":
        click.echo(render_text(answer, styles=sys.stdout.isatty()))
    else:
        click.echo(RENDERERS[output_format](answer))


def _read_case(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"cannot read the case {path}: {exc}; write it as one JSON object") from exc
    if not isinstance(data, dict):
        raise click.ClickException(
            f'cannot read the case {path}: expected a JSON object such as {{"age": 45, "er": "positive"}}'
        )
    return data


@cli.group(name="library")
def library_group() -> None:
    """Inspect the library: stats, list, show."""


@library_group.command()
@click.pass_obj
def stats(obj: LibraryContext) -> None:
    """Documents by format, design and evidence level; passages; size on disk."""
    with obj.open(read_only=True) as library:
        result = library.stats()
    summary = Table(title="library", show_header=False)
    summary.add_row("documents", f"{result.documents:,}")
    summary.add_row("stored versions", f"{result.versions:,}")
    summary.add_row("passages", f"{result.passages:,}")
    summary.add_row("size on disk", f"{result.size_bytes / 1e6:,.1f} MB")
    console.print(summary)
    for title, counts in (
        ("by format", result.by_format),
        ("by study design", result.by_design),
        ("by evidence level (Oxford CEBM 2011)", result.by_level),
    ):
        table = Table(title=title)
        table.add_column("value")
        table.add_column("documents", justify="right")
        for value, count in counts.items():
            table.add_row(value, f"{count:,}")
        console.print(table)


@library_group.command(name="list")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1))
@click.option("--offset", default=0, type=click.IntRange(min=0))
@click.pass_obj
def list_documents(obj: LibraryContext, limit: int, offset: int) -> None:
    """Stored documents (current versions), oldest first."""
    with obj.open(read_only=True) as library:
        documents = library.documents(limit=limit, offset=offset)
    table = Table()
    for column in ("id", "year", "design", "level", "format", "title"):
        table.add_column(column)
    for document in documents:
        table.add_row(
            document.key,
            str(document.year or ""),
            document.study_design.value,
            document.evidence_level.value,
            document.source_format.value,
            document.title[:80],
        )
    console.print(table)


@library_group.command()
@click.argument("document_id")
@click.option("--passages", "show_passages", is_flag=True, help="Also print every passage with its offsets.")
@click.pass_obj
def show(obj: LibraryContext, document_id: str, show_passages: bool) -> None:
    """One document's metadata, design and evidence level (by id, PMID or DOI)."""
    with obj.open(read_only=True) as library:
        try:
            document = library.document(document_id)
        except MedevidenceError as error:
            raise click.ClickException(str(error)) from error
        passages = library.passages(document)
    table = Table(show_header=False, title=document.title)
    rows = [
        ("id", document.key),
        ("stored id / version", f"{document.id} / {document.version}"),
        ("authors", ", ".join(document.authors)),
        ("year", str(document.year or "")),
        ("journal", document.journal or ""),
        ("PMID", document.pmid or ""),
        ("DOI", document.doi or ""),
        ("URL", document.url or ""),
        ("publication types", "; ".join(document.publication_types)),
        ("study design", document.study_design.value),
        ("evidence level", document.evidence_level.value),
        ("why", document.design_reason),
        ("format", document.source_format.value),
        ("file", document.source_path or ""),
        ("ingested", document.ingested_at),
        ("characters / passages", f"{len(document.text):,} / {len(passages)}"),
        ("references", str(len(document.references))),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table, highlight=False)
    if show_passages:
        for passage in passages:
            where = f"section {passage.section}" if passage.section else ""
            where += f" page {passage.page}" if passage.page else ""
            console.print(f"[bold][{passage.start}:{passage.end}][/] {where}")
            console.print(passage.text, highlight=False, markup=False)


@cli.group(name="index")
def index_group() -> None:
    """Maintain the search index."""


@index_group.command()
@click.pass_obj
def rebuild(obj: LibraryContext) -> None:
    """Re-index and re-embed every stored passage (after changing the embedder)."""
    with obj.open() as library:
        try:
            count = library.reindex()
        except MedevidenceError as error:
            raise click.ClickException(str(error)) from error
    console.print(f"indexed {count:,} passages")


# -- the review board ------------------------------------------------------------------------------
#
# Who acts: --as NAME with the password on the first line of standard input, or an API token in
# MEDEVIDENCE_TOKEN. The token is read through click's envvar; the option is hidden because a
# secret on the command line is visible to every user of the machine.

_ACTING_HELP = (
    "Acting as a board member: --as NAME reads that account's password from the first line of standard "
    "input; otherwise the API token in the environment variable MEDEVIDENCE_TOKEN is used."
)


def _acting_options(command: Any) -> Any:
    command = click.option(
        "--as",
        "as_name",
        metavar="NAME",
        help="Act as this account; its password is read from standard input. Without it: MEDEVIDENCE_TOKEN.",
    )(command)
    return click.option("--token", "token", envvar="MEDEVIDENCE_TOKEN", hidden=True)(command)


def _read_secret(what: str) -> str:
    """One line of standard input (a hidden prompt at a terminal); never a command-line argument."""
    if sys.stdin.isatty():
        return str(click.prompt(what, hide_input=True, err=True))
    line = sys.stdin.readline()
    if not line:
        raise click.ClickException(f"expected {what} on standard input, but it was empty; pipe it in, one per line")
    return line.rstrip("\r\n")


def _actor(board: Board, as_name: str | None, token: str | None) -> User:
    if as_name:
        return board.authenticate(as_name, _read_secret(f"password for {as_name}"))
    if token:
        return board.authenticate_token(token)
    raise click.ClickException(
        "this command acts as a board member, but none was given; add --as NAME (password on standard input) "
        "or set MEDEVIDENCE_TOKEN to an API token (`medevidence users token NAME`)"
    )


@contextmanager
def _board(obj: LibraryContext, read_only: bool = False) -> Iterator[Board]:
    with obj.open(read_only=read_only) as library:
        try:
            yield Board(library)
        except MedevidenceError as error:
            raise click.ClickException(str(error)) from error


def _table(*columns: str) -> Table:
    table = Table()
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _votes_summary(article: Article) -> str:
    counts = [
        (article.tally.approvals, "approve"),
        (article.tally.changes_requested, "changes"),
        (article.tally.rejections, "reject"),
    ]
    return ", ".join(f"{count} {label}" for count, label in counts if count) or "none"


@cli.group(name="users", epilog=_ACTING_HELP)
def users_group() -> None:
    """Board accounts: admins, editors, reviewers."""


@users_group.command(name="add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]), help="What the account may do.")
@click.option("--specialty", help="A reviewer's field, e.g. 'medical oncology'.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the new account's password from standard input (after the acting account's, with --as).",
)
@_acting_options
@click.pass_obj
def add_user(
    obj: LibraryContext,
    name: str,
    role: str,
    specialty: str | None,
    password_stdin: bool,
    as_name: str | None,
    token: str | None,
) -> None:
    """Add an account.

    The first account must be an admin with a password (--password-stdin); after that only an admin
    adds accounts. An account without a password acts through API tokens.
    """
    with _board(obj) as board:
        actor = _actor(board, as_name, token) if as_name or token else None
        password = _read_secret(f"password for the new account {name}") if password_stdin else None
        user = board.create_user(name, role, actor=actor, password=password, specialty=specialty)
    specialty_note = f" ({user.specialty})" if user.specialty else ""
    click.echo(f"added {user.role.value} {user.name}{specialty_note}")
    if not user.has_password:
        click.echo(f"{user.name} has no password; issue an API token with `medevidence users token {user.name}`")


@users_group.command(name="list")
@click.pass_obj
def list_users(obj: LibraryContext) -> None:
    """List accounts: role, specialty, enabled."""
    with _board(obj, read_only=True) as board:
        users = board.users()
    if not users:
        click.echo(
            "no accounts yet; add the first admin with `medevidence users add NAME --role admin --password-stdin`"
        )
        return
    table = _table("name", "role", "specialty", "state", "signs in with", "created")
    for user in users:
        table.add_row(
            user.name,
            user.role.value,
            user.specialty or "",
            "disabled" if user.disabled else "enabled",
            "password or token" if user.has_password else "token",
            user.created_at,
        )
    console.print(table)


@users_group.command(name="disable")
@click.argument("name")
@_acting_options
@click.pass_obj
def disable_user(obj: LibraryContext, name: str, as_name: str | None, token: str | None) -> None:
    """Disable an account (admins only).

    A disabled account can neither sign in nor act, and its votes stop counting.
    """
    with _board(obj) as board:
        user = board.disable_user(_actor(board, as_name, token), name)
    click.echo(f"disabled {user.name}; re-enable with `medevidence users enable {user.name}`")


@users_group.command(name="enable")
@click.argument("name")
@_acting_options
@click.pass_obj
def enable_user(obj: LibraryContext, name: str, as_name: str | None, token: str | None) -> None:
    """Enable a disabled account (admins only)."""
    with _board(obj) as board:
        user = board.enable_user(_actor(board, as_name, token), name)
    click.echo(f"enabled {user.name}")


@users_group.command(name="set-role")
@click.argument("name")
@click.argument("role", type=click.Choice([r.value for r in Role]))
@_acting_options
@click.pass_obj
def set_role(obj: LibraryContext, name: str, role: str, as_name: str | None, token: str | None) -> None:
    """Change an account's role (admins only)."""
    with _board(obj) as board:
        user = board.set_role(_actor(board, as_name, token), name, role)
    click.echo(f"{user.name} is now {user.role.value}")


@users_group.command(name="passwd")
@click.argument("name")
@_acting_options
@click.pass_obj
def set_password(obj: LibraryContext, name: str, as_name: str | None, token: str | None) -> None:
    """Set an account's password.

    The new password is read from standard input, after the acting account's with --as. Admins set
    anyone's; everyone else only their own.
    """
    with _board(obj) as board:
        actor = _actor(board, as_name, token)
        board.set_password(actor, name, _read_secret(f"new password for {name}"))
    click.echo(f"set a new password for {name}")


@users_group.command(name="token")
@click.argument("name")
@_acting_options
@click.pass_obj
def issue_token(obj: LibraryContext, name: str, as_name: str | None, token: str | None) -> None:
    """Issue an API token for scripts.

    The token is printed once, alone on standard output, and only its hash is stored. Admins issue
    tokens for anyone; everyone else only for themselves.
    """
    with _board(obj) as board:
        issued = board.issue_token(_actor(board, as_name, token), name)
    click.echo(issued.secret)
    click.echo(
        f"token {issued.token.id} for {issued.token.user}: shown only this once; set it in MEDEVIDENCE_TOKEN, and "
        f"revoke it with `medevidence users revoke-token {issued.token.id}`",
        err=True,
    )


@users_group.command(name="tokens")
@click.argument("name")
@click.pass_obj
def list_tokens(obj: LibraryContext, name: str) -> None:
    """List an account's API tokens (first characters only)."""
    with _board(obj, read_only=True) as board:
        tokens = board.tokens(name)
    table = _table("id", "starts with", "created", "revoked")
    for item in tokens:
        table.add_row(str(item.id), item.prefix, item.created_at, item.revoked_at or "")
    console.print(table)


@users_group.command(name="revoke-token")
@click.argument("token_id", type=int)
@_acting_options
@click.pass_obj
def revoke_token(obj: LibraryContext, token_id: int, as_name: str | None, token: str | None) -> None:
    """Revoke an API token (its owner or an admin)."""
    with _board(obj) as board:
        revoked = board.revoke_token(_actor(board, as_name, token), token_id)
    click.echo(f"revoked token {revoked.id} of {revoked.user}")


@cli.group(name="review", epilog=_ACTING_HELP)
def review_group() -> None:
    """The review workflow: submit, vote, publish."""


@review_group.command(name="submit")
@click.argument("answer_id")
@_acting_options
@click.pass_obj
def submit_answer(obj: LibraryContext, answer_id: str, as_name: str | None, token: str | None) -> None:
    """Submit a stored answer for review.

    The answer becomes an article at version 1 (editors and admins).
    """
    with _board(obj) as board:
        article = board.submit(answer_id, _actor(board, as_name, token))
    click.echo(
        f"article {article.id} submitted as version 1 (status {article.status.value}); assign reviewers with "
        f"`medevidence review assign {article.id} REVIEWER`"
    )
    if article.flagged:
        click.echo(f"version 1 has flagged statements: `medevidence articles show {article.id}` lists them")


@review_group.command(name="assign")
@click.argument("article_id", type=int)
@click.argument("reviewer")
@_acting_options
@click.pass_obj
def assign_reviewer(
    obj: LibraryContext, article_id: int, reviewer: str, as_name: str | None, token: str | None
) -> None:
    """Assign a reviewer to an article.

    A submitted article goes under review (editors and admins).
    """
    with _board(obj) as board:
        article = board.assign(article_id, _actor(board, as_name, token), reviewer)
    click.echo(f"article {article.id} ({article.status.value}) reviewers: {', '.join(article.reviewers)}")


_DECISIONS = {"--approve": Decision.APPROVE, "--request-changes": Decision.REQUEST_CHANGES, "--reject": Decision.REJECT}


@review_group.command(name="vote")
@click.argument("article_id", type=int)
@click.option("--approve", "decision", flag_value=Decision.APPROVE.value, help="Approve the current version.")
@click.option(
    "--request-changes", "decision", flag_value=Decision.REQUEST_CHANGES.value, help="Ask the editor for changes."
)
@click.option("--reject", "decision", flag_value=Decision.REJECT.value, help="Vote to reject the article.")
@click.option("--comment", default="", help="Why; shown to the editor and the other reviewers.")
@click.option(
    "--version",
    "version",
    type=int,
    help="The version you reviewed; the vote is refused if a newer one was saved since. Default: the current one.",
)
@_acting_options
@click.pass_obj
def vote_on_article(
    obj: LibraryContext,
    article_id: int,
    decision: str | None,
    comment: str,
    version: int | None,
    as_name: str | None,
    token: str | None,
) -> None:
    """Vote on an article's current version.

    Only reviewers assigned to the article vote, and never on an article they submitted or revised.
    """
    if decision is None:
        raise click.UsageError(f"say how you vote: {', '.join(_DECISIONS)}")
    with _board(obj) as board:
        vote = board.vote(article_id, _actor(board, as_name, token), decision, comment=comment, version=version)
        article = board.article(article_id)
        quorum = board.quorum
    click.echo(
        f"{vote.reviewer} voted {vote.decision.value} on version {vote.version} of article {article_id}; "
        f"status {article.status.value} ({_votes_summary(article)}; quorum {quorum})"
    )


@review_group.command(name="revise")
@click.argument("article_id", type=int)
@click.option("--edit", "edits", nargs=2, multiple=True, metavar="N TEXT", help="Replace statement N's text.")
@click.option("--remove", "removals", type=int, multiple=True, metavar="N", help="Remove statement N.")
@click.option(
    "--comment-on",
    "comments",
    nargs=2,
    multiple=True,
    metavar="N TEXT",
    help="Add a note for reviewers on statement N.",
)
@click.option("--version", type=int, help="The version you edited; refused if a newer one was saved since.")
@_acting_options
@click.pass_obj
def revise_article(
    obj: LibraryContext,
    article_id: int,
    edits: tuple[tuple[str, str], ...],
    removals: tuple[int, ...],
    comments: tuple[tuple[str, str], ...],
    version: int | None,
    as_name: str | None,
    token: str | None,
) -> None:
    """Save a new version of an article.

    Statements are numbered as `medevidence articles show ID` prints them; every option may be
    repeated. Edited statements are checked against their cited spans, and unsupported ones are
    saved but flagged. A new version starts the votes again (editors and admins).
    """
    changes: list[Edit] = []
    try:
        changes += [EditText(int(number), text) for number, text in edits]
        changes += [AddComment(int(number), text) for number, text in comments]
    except ValueError as exc:
        raise click.UsageError(f"a statement number must be a whole number such as 3 ({exc})") from exc
    changes += [RemoveStatement(number) for number in removals]
    with _board(obj) as board:
        saved = board.revise(article_id, _actor(board, as_name, token), changes, version=version)
        article = board.article(article_id)
    click.echo(f"saved version {saved.number} of article {article_id} (status {article.status.value})")
    click.echo(saved.diff)
    for flag in saved.flags:
        click.echo(f"flagged #{flag.statement}: {flag.reason}: {flag.text}")


@review_group.command(name="publish")
@click.argument("article_id", type=int)
@_acting_options
@click.pass_obj
def publish_article(obj: LibraryContext, article_id: int, as_name: str | None, token: str | None) -> None:
    """Publish an approved article (editors and admins)."""
    with _board(obj) as board:
        article = board.publish(article_id, _actor(board, as_name, token))
    click.echo(f"published version {article.published_version} of article {article.id}")


@review_group.command(name="reopen")
@click.argument("article_id", type=int)
@_acting_options
@click.pass_obj
def reopen_article(obj: LibraryContext, article_id: int, as_name: str | None, token: str | None) -> None:
    """Reopen a published or rejected article.

    A new review cycle starts on a new version; the published version stays readable (editors and
    admins).
    """
    with _board(obj) as board:
        article = board.reopen(article_id, _actor(board, as_name, token))
    published = f"; version {article.published_version} stays published" if article.published_version else ""
    click.echo(
        f"article {article.id} reopened as version {article.current_version} ({article.status.value}){published}"
    )


@review_group.command(name="quorum")
@click.argument("quorum", type=click.IntRange(min=1), required=False)
@_acting_options
@click.pass_obj
def review_quorum(obj: LibraryContext, quorum: int | None, as_name: str | None, token: str | None) -> None:
    """Show or set the review quorum.

    The quorum is how many reviewer approvals (or rejections) decide an article; admins set it.
    """
    with _board(obj, read_only=quorum is None) as board:
        if quorum is not None:
            board.set_quorum(_actor(board, as_name, token), quorum)
        current = board.quorum
    click.echo(f"quorum: {current} reviewer approvals (or rejections) decide an article")


@cli.group(name="articles")
def articles_group() -> None:
    """Articles: status, versions, votes."""


@articles_group.command(name="list")
@click.option("--status", type=click.Choice([s.value for s in ReviewStatus if s is not ReviewStatus.DRAFT]))
@click.pass_obj
def list_articles(obj: LibraryContext, status: str | None) -> None:
    """List articles with status and votes."""
    with _board(obj, read_only=True) as board:
        articles = board.articles(status)
    if not articles:
        click.echo("no articles; an editor submits an answer with `medevidence review submit ANSWER_ID`")
        return
    table = _table("id", "question", "status", "version", "published", "votes")
    for article in articles:
        table.add_row(
            str(article.id),
            article.question,
            article.status.value + (" (flagged)" if article.flagged else ""),
            str(article.current_version),
            str(article.published_version or ""),
            _votes_summary(article),
        )
    console.print(table)


@articles_group.command(name="show")
@click.argument("article_id", type=int)
@click.pass_obj
def show_article(obj: LibraryContext, article_id: int) -> None:
    """Show an article: versions, votes, flags.

    Also who voted when on which version, editors' comments, and the numbered statements of the
    current version.
    """
    with _board(obj, read_only=True) as board:
        article = board.article(article_id)
        versions = board.versions(article_id)
        votes = board.votes(article_id)
        quorum = board.quorum
        users = {user.name: user for user in board.users()}
    current = versions[-1]
    echo = click.echo
    echo(f"article {article.id}: {article.question}")
    echo(f"answer {article.answer_id}; submitted by {article.created_by} on {article.created_at}")
    published = f"; published version {article.published_version}" if article.published_version else ""
    echo(f"status {article.status.value}; current version {article.current_version}{published}")
    reviewers = [
        name + (f" ({users[name].specialty})" if name in users and users[name].specialty else "")
        for name in article.reviewers
    ]
    echo(f"reviewers: {', '.join(reviewers) or 'none yet'}")
    echo(f"votes on version {article.current_version}: {_votes_summary(article)} (quorum {quorum})")
    echo("\nversions:")
    for version in versions:
        flagged = f", {len(version.flags)} flagged" if version.flags else ""
        echo(f"  v{version.number}  {version.created_at}  {version.author}  {version.note}{flagged}")
    echo("\nvotes:")
    for vote in votes:
        comment = f'  "{vote.comment}"' if vote.comment else ""
        why = _uncounted(vote, votes, article.current_version)
        echo(f"  v{vote.version}  {vote.cast_at}  {vote.reviewer}  {vote.decision.value}{comment}{why}")
    if not votes:
        echo("  none yet")
    if current.flags:
        echo(f"\nflagged statements of version {current.number} (not supported by the spans they cite):")
        for flag in current.flags:
            echo(f"  #{flag.statement}: {flag.reason}")
    if current.comments:
        echo(f"\ncomments on version {current.number}:")
        for note in current.comments:
            echo(f"  #{note.statement}  {note.author}: {note.text}")
    echo(f"\nstatements of version {current.number}:")
    for line in rendered_statements(current.answer(), numbered=True):
        echo(f"  {line}")


def _uncounted(vote: Vote, votes: list[Vote], current_version: int) -> str:
    """Why a vote does not count, for reviewers wondering where their approval went."""
    if vote.counted:
        return ""
    if vote.version != current_version:
        return "  (not counted: on an older version)"
    if any(v.reviewer == vote.reviewer and v.version == vote.version and v.id > vote.id for v in votes):
        return "  (not counted: replaced by a later vote)"
    return "  (not counted: the reviewer is disabled or no longer a reviewer)"


@articles_group.command(name="diff")
@click.argument("article_id", type=int)
@click.argument("old", type=int)
@click.argument("new", type=int)
@click.pass_obj
def diff_versions(obj: LibraryContext, article_id: int, old: int, new: int) -> None:
    """Diff the statements of two versions."""
    with _board(obj, read_only=True) as board:
        click.echo(board.diff(article_id, old, new) or f"versions {old} and {new} have the same statements")


@cli.group(name="audit")
def audit_group() -> None:
    """The tamper-evident audit trail."""


@audit_group.command(name="verify")
@click.pass_obj
def verify_audit(obj: LibraryContext) -> None:
    """Check the audit trail's hash chain.

    Exits 1 naming the first broken entry. Keep the printed head hash somewhere else to compare
    later: it also reveals a log rewritten from start to end.
    """
    with _board(obj, read_only=True) as board:
        report = board.verify_audit()
    if not report.intact:
        raise click.ClickException(
            f"the audit trail is broken at entry {report.broken_seq}: {report.problem}; restore the library from "
            "a backup and compare the two to see what was changed"
        )
    click.echo(f"audit trail intact: {report.entries} entries; head {report.head_hash or '(empty)'}")


@audit_group.command(name="log")
@click.option("--article", "article_id", type=int, help="Only the entries about this article.")
@click.pass_obj
def audit_log(obj: LibraryContext, article_id: int | None) -> None:
    """Print the audit trail."""
    with _board(obj, read_only=True) as board:
        entries = board.audit_log(article_id)
    if not entries:
        click.echo("no audit entries yet")
    for entry in entries:
        where = f" article {entry.article_id}" if entry.article_id is not None else ""
        versions = f" v{entry.from_version or '-'}→v{entry.to_version}" if entry.to_version is not None else ""
        statuses = f" {entry.from_status}→{entry.to_status}" if entry.to_status is not None else ""
        details = json.dumps(entry.details, ensure_ascii=False)
        click.echo(f"#{entry.seq} {entry.at} {entry.actor} {entry.action}{where}{versions}{statuses} {details}")


@cli.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. The default lets only this computer connect; 0.0.0.0 opens it to the network.",
)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option(
    "--allow-host",
    "allowed_hosts",
    multiple=True,
    help="Another host name the server answers to (repeatable), e.g. the name it is reached by on the network.",
)
@click.option("--max-upload-mb", type=float, help="Largest upload, all files together, in MB (default 100).")
@click.option(
    "--rate-limit",
    "rate_limit_per_minute",
    type=click.IntRange(min=0),
    help="Requests a minute each client address may make (default 600; 0 turns the limit off).",
)
@click.pass_obj
def serve(
    obj: LibraryContext,
    host: str,
    port: int,
    allowed_hosts: tuple[str, ...],
    max_upload_mb: float | None,
    rate_limit_per_minute: int | None,
) -> None:
    """HTTP API and web pages over this library; the API is described at /openapi.json."""
    import uvicorn

    from .web import create_app
    from .web.settings import LOOPBACK_HOSTS

    try:
        app = create_app(
            obj.path,
            allowed_hosts=(*LOOPBACK_HOSTS, *allowed_hosts),
            max_upload_mb=max_upload_mb,
            rate_limit_per_minute=rate_limit_per_minute,
        )
    except MedevidenceError as error:
        raise click.ClickException(str(error)) from error
    if host not in LOOPBACK_HOSTS:
        console.print(
            f"[yellow]listening on {host}[/]: anyone who can reach it can read this library and add to it; "
            "name the host it is reached by with --allow-host"
        )
    console.print(f"serving {obj.path} at http://{'localhost' if host in LOOPBACK_HOSTS else host}:{port}/")
    uvicorn.run(app, host=host, port=port, log_level="info")


def main() -> None:
    cli(prog_name="medevidence")
