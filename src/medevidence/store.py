"""The library on disk: a SQLite database, used the way datasette and sqlite-utils use it.

WAL journal, foreign keys on, one writer transaction (``BEGIN IMMEDIATE``) per stored document
so a crash or Ctrl-C mid-ingest leaves every earlier document intact. Documents keep their full
normalised text and every version; passages are offsets into that text.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import AnswerNotFound, DocumentNotFound, StoreError
from .ingest.chunk import PassageSpan
from .migrations import migrate
from .models import (
    Answer,
    Classification,
    Document,
    EvidenceLevel,
    IngestOutcome,
    IngestStatus,
    PageSpan,
    ParsedDocument,
    Passage,
    PassageRow,
    SearchHit,
    Section,
    SourceFormat,
    StudyDesign,
)

DATABASE_FILE = "library.db"


@dataclass(frozen=True)
class FileFingerprint:
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> FileFingerprint:
        stat = path.stat()
        return cls(stat.st_size, stat.st_mtime_ns)


@dataclass(frozen=True)
class LibraryStats:
    documents: int
    versions: int
    passages: int
    by_format: dict[str, int]
    by_design: dict[str, int]
    by_level: dict[str, int]
    size_bytes: int


def content_hash(document: ParsedDocument) -> str:
    """Identity of a document's content: title and text, whitespace-insensitive."""
    canonical = " ".join(f"{document.title}\n{document.text}".split()).lower()
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class SQLiteStore:
    """Documents, passages and their lexical index in ``<library>/library.db``."""

    def __init__(self, directory: Path, read_only: bool = False) -> None:
        self.directory = directory
        self.path = directory / DATABASE_FILE
        self.read_only = read_only
        try:
            if read_only:
                if not self.path.exists():
                    raise StoreError(
                        f"no library at {directory}; create one with `medevidence --library {directory} ingest FILES`"
                    )
                self.connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)
            else:
                directory.mkdir(parents=True, exist_ok=True)
                self.connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                self.connection.execute("PRAGMA journal_mode = WAL")
                # In WAL mode NORMAL keeps the database consistent through a crash; at worst the
                # last few commits before a power cut are lost, and re-running ingest restores them.
                self.connection.execute("PRAGMA synchronous = NORMAL")
            self.connection.execute("PRAGMA foreign_keys = ON")
            self.connection.execute("PRAGMA busy_timeout = 10000")
            self.connection.row_factory = sqlite3.Row
            if not read_only:
                migrate(self.connection)
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"cannot open the library database {self.path}: {exc}; "
                "check that it is a medevidence library and that the disk is not full"
            ) from exc

    def close(self) -> None:
        self.connection.close()

    @contextmanager
    def atomic(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is stored, or none of it."""
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield self.connection
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    # -- ingest -------------------------------------------------------------------------

    def file_is_ingested(self, path: Path, fingerprint: FileFingerprint) -> bool:
        row = self.connection.execute("SELECT size, mtime_ns FROM source_files WHERE path = ?", (str(path),)).fetchone()
        return row is not None and (row["size"], row["mtime_ns"]) == (fingerprint.size, fingerprint.mtime_ns)

    def mark_file_ingested(self, path: Path, fingerprint: FileFingerprint) -> None:
        with self.atomic() as db:
            db.execute(
                "INSERT OR REPLACE INTO source_files (path, size, mtime_ns, completed_at) VALUES (?, ?, ?, ?)",
                (str(path), fingerprint.size, fingerprint.mtime_ns, _now()),
            )

    def add_document(
        self,
        parsed: ParsedDocument,
        classification: Classification,
        passages: Sequence[PassageSpan],
        source_path: str | None,
        abbreviations: Sequence[tuple[str, str]] = (),
    ) -> IngestOutcome:
        """Store one document in one transaction, or recognise it as already stored.

        Deduplication: the same PMID, else the same DOI, else the same content is the same
        document. Same identity with changed content becomes a new version; the old version
        stays (answers cite it) but is no longer searched.
        """
        digest = content_hash(parsed)
        source = source_path or "(no file)"
        with self.atomic() as db:
            lineage = _lineage(parsed, source_path, digest)
            existing = self._current_match(db, parsed, lineage, digest)
            if existing is not None and existing["content_hash"] == digest:
                return IngestOutcome(IngestStatus.DUPLICATE, source, existing["id"], existing["key"], parsed.title)
            if existing is not None and existing["lineage"] != lineage and not (parsed.pmid or parsed.doi):
                # Same content under another name: already stored, nothing new to keep.
                return IngestOutcome(IngestStatus.DUPLICATE, source, existing["id"], existing["key"], parsed.title)
            version = 1
            key = parsed.pmid or parsed.external_id
            if existing is not None:
                version = existing["version"] + 1
                key = existing["key"]
                lineage = existing["lineage"]
                self._retire(db, existing["id"])
            document_id = self._insert_document(db, parsed, classification, lineage, version, digest, source_path)
            if key is None:
                key = str(document_id)
            db.execute("UPDATE documents SET key = ? WHERE id = ?", (key, document_id))
            self._insert_passages(db, document_id, parsed.text, passages)
            db.executemany(
                "INSERT OR IGNORE INTO abbreviations (document_id, short_form, long_form) VALUES (?, ?, ?)",
                [(document_id, short, long) for short, long in abbreviations],
            )
        status = IngestStatus.UPDATED if existing is not None else IngestStatus.ADDED
        return IngestOutcome(status, source, document_id, key, parsed.title)

    def _current_match(
        self, db: sqlite3.Connection, parsed: ParsedDocument, lineage: str, digest: str
    ) -> sqlite3.Row | None:
        conditions: list[tuple[str, str]] = []
        if parsed.pmid:
            conditions.append(("pmid = ?", parsed.pmid))
        else:
            if parsed.doi:
                conditions.append(("lower(doi) = ?", parsed.doi.lower()))
            conditions += [("lineage = ?", lineage), ("content_hash = ?", digest)]
        for condition, value in conditions:
            row: sqlite3.Row | None = db.execute(
                f"SELECT id, key, lineage, version, content_hash FROM documents WHERE is_current = 1 AND {condition}",
                (value,),
            ).fetchone()
            if row is not None:
                return row
        return None

    def _retire(self, db: sqlite3.Connection, document_id: int) -> None:
        db.execute("UPDATE documents SET is_current = 0 WHERE id = ?", (document_id,))

    def _insert_document(
        self,
        db: sqlite3.Connection,
        parsed: ParsedDocument,
        classification: Classification,
        lineage: str,
        version: int,
        digest: str,
        source_path: str | None,
    ) -> int:
        cursor = db.execute(
            """INSERT INTO documents (key, lineage, version, is_current, title, text, source_format, source_path,
                authors, year, journal, pmid, doi, url, publication_types, mesh_terms, external_id, reference_list,
                sections, pages, study_design, evidence_level, design_reason, content_hash, ingested_at, extra)
               VALUES ('', ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                lineage,
                version,
                parsed.title,
                parsed.text,
                parsed.source_format.value,
                source_path,
                json.dumps(parsed.authors),
                parsed.year,
                parsed.journal,
                parsed.pmid,
                parsed.doi,
                parsed.url,
                json.dumps(parsed.publication_types),
                json.dumps(parsed.mesh_terms),
                parsed.external_id,
                json.dumps(parsed.references),
                json.dumps([[s.label, s.start, s.end] for s in parsed.sections]),
                json.dumps([[p.number, p.start, p.end] for p in parsed.pages]),
                classification.design.value,
                classification.level.value,
                classification.reason,
                digest,
                _now(),
                json.dumps(parsed.extra, default=str),
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def _insert_passages(
        self, db: sqlite3.Connection, document_id: int, text: str, passages: Sequence[PassageSpan]
    ) -> None:
        rows = [
            (document_id, ordinal, span.start, span.end, span.section, span.page, text[span.start : span.end])
            for ordinal, span in enumerate(passages)
        ]
        db.executemany(
            "INSERT INTO passages (document_id, ordinal, start, end, section, page, text) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    # -- reading ------------------------------------------------------------------------

    def get_document(self, reference: str | int) -> Document:
        """The current version of a document by key (PMID, JSONL id), or DOI; else the version with that stored id."""
        text = str(reference).strip()
        row = self.connection.execute(
            "SELECT * FROM documents WHERE is_current = 1 AND (key = ? OR pmid = ? OR lower(doi) = ?) "
            "ORDER BY id LIMIT 1",
            (text, text, text.lower()),
        ).fetchone()
        if row is None and text.isdigit():
            # A stored id names one exact version, current or not.
            row = self.connection.execute("SELECT * FROM documents WHERE id = ?", (int(text),)).fetchone()
        if row is None:
            raise DocumentNotFound(text)
        return _document(row)

    def document_by_id(self, document_id: int) -> Document:
        """One stored version by its stored id."""
        row = self.connection.execute("SELECT * FROM documents WHERE id = ?", (document_id,)).fetchone()
        if row is None:
            raise DocumentNotFound(str(document_id))
        return _document(row)

    def documents(self, limit: int | None = None, offset: int = 0, design: StudyDesign | None = None) -> list[Document]:
        where, parameters = "is_current = 1", []
        if design is not None:
            where += " AND study_design = ?"
            parameters.append(design.value)
        sql = f"SELECT * FROM documents WHERE {where} ORDER BY id LIMIT ? OFFSET ?"
        rows = self.connection.execute(sql, (*parameters, -1 if limit is None else limit, offset)).fetchall()
        return [_document(row) for row in rows]

    def passages(self, document_id: int) -> list[Passage]:
        rows = self.connection.execute(
            "SELECT * FROM passages WHERE document_id = ? ORDER BY ordinal", (document_id,)
        ).fetchall()
        return [_passage(row) for row in rows]

    def versions(self, document: Document) -> list[Document]:
        rows = self.connection.execute(
            "SELECT * FROM documents WHERE lineage = (SELECT lineage FROM documents WHERE id = ?) ORDER BY version",
            (document.id,),
        ).fetchall()
        return [_document(row) for row in rows]

    def stats(self) -> LibraryStats:
        db = self.connection

        def grouped(column: str) -> dict[str, int]:
            rows = db.execute(
                f"SELECT {column} AS value, count(*) AS n FROM documents WHERE is_current = 1 "
                f"GROUP BY {column} ORDER BY n DESC, value"
            )
            return {row["value"]: row["n"] for row in rows}

        documents = db.execute("SELECT count(*) FROM documents WHERE is_current = 1").fetchone()[0]
        versions = db.execute("SELECT count(*) FROM documents").fetchone()[0]
        passages = db.execute(
            "SELECT count(*) FROM passages JOIN documents ON documents.id = passages.document_id "
            "WHERE documents.is_current = 1"
        ).fetchone()[0]
        size = sum(f.stat().st_size for f in self.directory.iterdir() if f.is_file())
        return LibraryStats(
            documents=documents,
            versions=versions,
            passages=passages,
            by_format=grouped("source_format"),
            by_design=grouped("study_design"),
            by_level=grouped("evidence_level"),
            size_bytes=size,
        )

    # -- answers --------------------------------------------------------------------------------

    def save_answer(self, answer: Answer) -> None:
        with self.atomic() as db:
            db.execute(
                "INSERT OR REPLACE INTO answers (id, question, audience, follow_up_of, created_at, body) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    answer.id,
                    answer.question,
                    answer.audience.value,
                    answer.follow_up_of,
                    answer.created_at,
                    json.dumps(answer.to_dict(), ensure_ascii=False),
                ),
            )

    def answer_json(self, answer_id: str) -> dict[str, Any]:
        row = self.connection.execute("SELECT body FROM answers WHERE id = ?", (answer_id,)).fetchone()
        if row is None:
            raise AnswerNotFound(answer_id)
        body: dict[str, Any] = json.loads(row["body"])
        return body

    # -- what the search index reads ----------------------------------------------------------

    def passage_rows_after(self, passage_id: int, batch_size: int = 5000) -> Iterator[list[PassageRow]]:
        """Passages of current documents with ids above ``passage_id``, in id order, in batches."""
        last = passage_id
        while True:
            rows = self.connection.execute(
                """SELECT passages.id, passages.document_id, passages.text, documents.title
                   FROM passages JOIN documents ON documents.id = passages.document_id
                   WHERE passages.id > ? AND documents.is_current = 1 ORDER BY passages.id LIMIT ?""",
                (last, batch_size),
            ).fetchall()
            if not rows:
                return
            yield [PassageRow(row[0], row[1], row[2], row[3]) for row in rows]
            last = rows[-1][0]

    def superseded_passage_ids(self) -> list[int]:
        rows = self.connection.execute(
            "SELECT passages.id FROM passages JOIN documents ON documents.id = passages.document_id "
            "WHERE documents.is_current = 0"
        )
        return [row[0] for row in rows]

    def abbreviation_counts(self) -> list[tuple[str, str, int]]:
        """``(short form, long form, documents defining it)`` over current documents."""
        rows = self.connection.execute(
            """SELECT short_form, long_form, count(*) FROM abbreviations
               JOIN documents ON documents.id = abbreviations.document_id
               WHERE documents.is_current = 1 GROUP BY short_form, long_form"""
        )
        return [(row[0], row[1], row[2]) for row in rows]

    def abbreviations_of(self, document_id: int) -> list[tuple[str, str]]:
        """``(short form, long form)`` pairs the document defines itself."""
        rows = self.connection.execute(
            "SELECT short_form, long_form FROM abbreviations WHERE document_id = ? ORDER BY short_form", (document_id,)
        )
        return [(row[0], row[1]) for row in rows]

    def max_passage_id(self) -> int:
        return int(self.connection.execute("SELECT coalesce(max(id), 0) FROM passages").fetchone()[0])

    def document_ids_where(self, conditions: Sequence[tuple[str, Sequence[Any]]]) -> list[int]:
        """Ids of current documents matching every ``(sql condition, parameters)`` pair."""
        where = " AND ".join(["is_current = 1", *(condition for condition, _ in conditions)])
        parameters = [value for _, values in conditions for value in values]
        return [row[0] for row in self.connection.execute(f"SELECT id FROM documents WHERE {where}", parameters)]

    def hits(self, scored: Sequence[tuple[int, float]]) -> list[SearchHit]:
        """Search hits for ``(passage id, score)`` pairs, in the given order."""
        if not scored:
            return []
        placeholders = ",".join("?" * len(scored))
        rows = self.connection.execute(
            f"""SELECT passages.id AS passage_id, passages.document_id, passages.text, passages.start, passages.end,
                       passages.section, documents.key, documents.title
                FROM passages JOIN documents ON documents.id = passages.document_id
                WHERE passages.id IN ({placeholders})""",
            [passage_id for passage_id, _ in scored],
        ).fetchall()
        by_id = {row["passage_id"]: row for row in rows}
        return [_hit(by_id[passage_id], score) for passage_id, score in scored if passage_id in by_id]


def _lineage(parsed: ParsedDocument, source_path: str | None, digest: str) -> str:
    if parsed.pmid:
        return f"pmid:{parsed.pmid}"
    if parsed.doi:
        return f"doi:{parsed.doi.lower()}"
    if parsed.external_id:
        return f"id:{parsed.external_id}"
    if source_path and parsed.source_format not in (SourceFormat.JSONL, SourceFormat.MEDLINE):
        return f"file:{source_path}"
    return f"hash:{digest}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _document(row: sqlite3.Row) -> Document:
    extra: dict[str, Any] = json.loads(row["extra"])
    return Document(
        id=row["id"],
        key=row["key"],
        version=row["version"],
        title=row["title"],
        text=row["text"],
        source_format=SourceFormat(row["source_format"]),
        source_path=row["source_path"],
        authors=tuple(json.loads(row["authors"])),
        year=row["year"],
        journal=row["journal"],
        pmid=row["pmid"],
        doi=row["doi"],
        url=row["url"],
        publication_types=tuple(json.loads(row["publication_types"])),
        mesh_terms=tuple(json.loads(row["mesh_terms"])),
        external_id=row["external_id"],
        references=tuple(json.loads(row["reference_list"])),
        study_design=StudyDesign(row["study_design"]),
        evidence_level=EvidenceLevel(row["evidence_level"]),
        design_reason=row["design_reason"],
        content_hash=row["content_hash"],
        ingested_at=row["ingested_at"],
        is_current=bool(row["is_current"]),
        sections=tuple(Section(*s) for s in json.loads(row["sections"])),
        pages=tuple(PageSpan(*p) for p in json.loads(row["pages"])),
        extra=extra,
    )


def _hit(row: sqlite3.Row, score: float) -> SearchHit:
    return SearchHit(
        doc_id=row["key"],
        document_id=row["document_id"],
        passage_id=row["passage_id"],
        score=float(score),
        text=row["text"],
        start=row["start"],
        end=row["end"],
        title=row["title"],
        section=row["section"],
    )


def _passage(row: sqlite3.Row) -> Passage:
    return Passage(
        id=row["id"],
        document_id=row["document_id"],
        ordinal=row["ordinal"],
        text=row["text"],
        start=row["start"],
        end=row["end"],
        section=row["section"],
        page=row["page"],
    )
