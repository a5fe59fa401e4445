"""The public entry point: a :class:`Library` is a directory the engine owns.

``Library.open(path)`` → ``.ingest(paths)`` → ``.search(text)``. The CLI and the web app are
thin adapters over these methods.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import Settings, load_settings
from .errors import BadRecord, IngestError, QueryError
from .ingest import iter_source_files, read_source
from .ingest.chunk import chunk_passages
from .ingest.classify import classify
from .models import (
    Answer,
    Audience,
    Case,
    Document,
    IngestOutcome,
    IngestReport,
    IngestStatus,
    ParsedDocument,
    Passage,
    SearchHit,
    answer_from_dict,
)
from .retrieve import RetrievalSettings, Retriever, SearchFilters, SearchMode
from .store import FileFingerprint, LibraryStats, SQLiteStore
from .vocabulary import Vocabulary, find_abbreviations

MAX_QUERY_CHARACTERS = 10_000


@dataclass(frozen=True)
class IngestProgress:
    """Reported after each document and each file, for progress bars."""

    files_done: int
    files_total: int
    records: int  # documents stored, found duplicate or failed so far
    current: str


ProgressCallback = Callable[[IngestProgress], None]


class Library:
    """A literature library: documents, passages and the indexes built from them."""

    def __init__(self, store: SQLiteStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._retriever: Retriever | None = None

    @classmethod
    def open(
        cls, path: str | Path, settings: Settings | None = None, read_only: bool = False, **overrides: Any
    ) -> Library:
        """Open (creating if needed) the library at ``path``."""
        directory = Path(path)
        resolved = settings if settings is not None else load_settings(directory, overrides)
        return cls(SQLiteStore(directory, read_only=read_only), resolved)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- ingest ---------------------------------------------------------------------------

    def ingest(self, paths: Iterable[str | Path], progress: bool | ProgressCallback = False) -> IngestReport:
        """Ingest files and directories (recursively); each document is stored in its own transaction.

        A file that fails is reported and skipped; the rest go on. An unchanged file ingested
        before is skipped without being read, so an interrupted run resumes where it stopped.
        """
        files = list(iter_source_files(Path(p) for p in paths))
        from .progress import ingest_progress_bar, say_waiting_for_another_ingest

        with self.retriever.writing(on_wait=say_waiting_for_another_ingest if progress is True else None):
            if progress is True:
                with ingest_progress_bar(len(files)) as callback:
                    report = self._ingest_files(files, callback)
            else:
                report = self._ingest_files(files, progress or None)
            self.retriever.refresh()
        return report

    def _ingest_files(self, files: Sequence[Path], callback: ProgressCallback | None) -> IngestReport:
        report = IngestReport()
        for files_done, path in enumerate(files):
            for records in self._ingest_file(path, report):
                if callback is not None:
                    callback(IngestProgress(files_done, len(files), records, path.name))
            if callback is not None:
                callback(IngestProgress(files_done + 1, len(files), len(report.outcomes), path.name))
        return report

    def _ingest_file(self, path: Path, report: IngestReport) -> Iterator[int]:
        """Ingest one file into ``report``, yielding the number of outcomes after each document."""
        source = str(path)
        try:
            fingerprint: FileFingerprint | None = FileFingerprint.of(path)
            absolute = path.resolve()
        except OSError:
            fingerprint, absolute = None, path
        if fingerprint is not None and self.store.file_is_ingested(absolute, fingerprint):
            report.outcomes.append(IngestOutcome(IngestStatus.UNCHANGED, source, message="unchanged since last ingest"))
            return
        stored_any = False
        try:
            _, records = read_source(path, self.settings.max_file_bytes)
            for record in records:
                if isinstance(record, BadRecord):
                    report.outcomes.append(IngestOutcome(IngestStatus.FAILED, record.source, message=str(record)))
                    continue
                report.outcomes.append(self.add_parsed(record, str(absolute)))
                stored_any = True
                yield len(report.outcomes)
        except IngestError as error:
            report.outcomes.append(IngestOutcome(IngestStatus.FAILED, source, message=str(error)))
            return
        if stored_any and fingerprint is not None:
            self.store.mark_file_ingested(absolute, fingerprint)

    def add_parsed(self, document: ParsedDocument, source_path: str | None = None) -> IngestOutcome:
        """Classify, chunk and store one already-parsed document."""
        passages = chunk_passages(
            document,
            min_words=self.settings.passage_min_words,
            max_words=self.settings.passage_max_words,
            overlap_sentences=self.settings.passage_overlap_sentences,
        )
        abbreviations = find_abbreviations(document.text)
        return self.store.add_document(document, classify(document), passages, source_path, abbreviations)

    # -- reading --------------------------------------------------------------------------

    def document(self, reference: str | int) -> Document:
        """A document by stored id, PMID, JSONL id or DOI (its current version)."""
        return self.store.get_document(reference)

    def documents(self, limit: int | None = None, offset: int = 0) -> list[Document]:
        return self.store.documents(limit=limit, offset=offset)

    def passages(self, document: Document) -> list[Passage]:
        return self.store.passages(document.id)

    def stats(self) -> LibraryStats:
        return self.store.stats()

    @property
    def retriever(self) -> Retriever:
        """The search index with its embedder and vocabulary, loaded on first use and then kept."""
        if self._retriever is None:
            self._retriever = build_retriever(self.store, self.settings)
        return self._retriever

    def reindex(self) -> int:
        """Rebuild the search index from the stored passages (after changing the embedder)."""
        return self.retriever.rebuild()

    def search(
        self,
        text: str,
        k: int = 10,
        filters: SearchFilters | None = None,
        mode: SearchMode | str | None = None,
        expand: bool | None = None,
    ) -> list[SearchHit]:
        """Ranked passages for ``text``. Any text is a valid query: operators and quotes are just characters.

        ``expand`` turns medical synonym expansion on or off for this query (default: the setting).
        """
        if len(text) > MAX_QUERY_CHARACTERS:
            raise QueryError(
                f"the query is {len(text):,} characters long, over the {MAX_QUERY_CHARACTERS:,} limit; "
                "shorten it to the question itself"
            )
        if k < 1:
            raise QueryError(f"k must be at least 1, not {k}")
        retriever = self.retriever
        if self.store.max_passage_id() > retriever.index.manifest.last_passage_id:
            retriever.refresh(wait=False)
        return retriever.search(text, k=k, filters=filters, mode=SearchMode(mode) if mode else None, expand=expand)

    # -- answers --------------------------------------------------------------------------------

    def ask(
        self,
        question: str,
        audience: Audience | str = Audience.CLINICIAN,
        case: Case | dict[str, Any] | None = None,
        follow_up_of: str | None = None,
    ) -> Answer:
        """A structured, graded, span-cited answer from this library, stored so follow-ups can build on it."""
        from .compose import compose_answer

        question = question.strip()
        if not question:
            raise QueryError("the question is empty; ask a clinical question, e.g. 'Does X improve Y in Z?'")
        if len(question) > MAX_QUERY_CHARACTERS:
            raise QueryError(
                f"the question is {len(question):,} characters long, over the {MAX_QUERY_CHARACTERS:,} limit; "
                "shorten it to the question itself and put the patient's details in a case"
            )
        try:
            chosen_audience = Audience(audience)
        except ValueError as exc:
            raise QueryError(f"audience must be 'clinician' or 'patient', not {audience!r}") from exc
        patient_case = Case.from_dict(case) if isinstance(case, dict) else case
        previous = self.answer(follow_up_of) if follow_up_of else None
        answer = compose_answer(self, question, chosen_audience, patient_case, previous)
        self.store.save_answer(answer)
        return answer

    def answer(self, answer_id: str) -> Answer:
        """A stored answer by id."""
        return answer_from_dict(self.store.answer_json(answer_id))


def build_retriever(store: SQLiteStore, settings: Settings) -> Retriever:
    from .embed import get_embedder

    embedder = None if settings.embedder == "none" else get_embedder(settings.embedder)
    retrieval = RetrievalSettings(
        mode=SearchMode(settings.search_mode),
        title_weight=settings.title_weight,
        lexical_weight=settings.lexical_weight,
        dense_weight=settings.dense_weight,
        candidates=settings.search_candidates,
        expand_vocabulary=settings.expand_vocabulary,
        exact_search_limit=settings.exact_search_limit,
    )
    # Loaded either way: the composer reads a question's concepts through it even when search does not expand.
    vocabulary = Vocabulary.load(store.abbreviation_counts())
    return Retriever(store, retrieval, embedder, vocabulary)
