"""The ``medevidence`` command: a thin adapter over :class:`medevidence.Library`."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from . import __version__
from .errors import MedevidenceError
from .library import Library
from .models import Audience, EvidenceLevel, IngestReport, StudyDesign
from .render import RENDERERS, render_text
from .retrieve import SearchFilters, SearchMode

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
    file does nothing; an interrupted run resumes when the same command is run again.
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


def main() -> None:
    cli(prog_name="medevidence")
