"""Typed records shared by every stage: ingest, store, retrieve, compose, review.

Readers produce a :class:`ParsedDocument`; the store turns it into a :class:`Document`
with :class:`Passage` children whose ``start``/``end`` are character offsets into
``Document.text`` (so ``document.text[p.start:p.end] == p.text`` always holds).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class SourceFormat(str, enum.Enum):
    TEXT = "text"
    MARKDOWN = "markdown"
    HTML = "html"
    PDF = "pdf"
    MEDLINE = "medline"
    JSONL = "jsonl"


class StudyDesign(str, enum.Enum):
    """What kind of evidence a document is. Values are the labels users see."""

    SYSTEMATIC_REVIEW = "systematic review or meta-analysis"
    RCT = "randomized controlled trial"
    GUIDELINE = "practice guideline"
    CONSENSUS = "expert consensus"
    COHORT = "cohort, retrospective or registry study"
    CASE_CONTROL = "case-control study"
    CASE_SERIES = "case series or case report"
    NARRATIVE_REVIEW = "narrative review or reference topic"
    PATIENT_INFORMATION = "patient information"
    NEWS_REPORT = "news report of a study"
    ANIMAL_LAB = "animal or laboratory study"
    UNKNOWN = "unclassified"


class EvidenceLevel(str, enum.Enum):
    """Oxford CEBM 2011 levels (treatment-benefit column), plus 'not graded'.

    Level 1 systematic review of randomised trials; 2 randomised trial; 3 non-randomised
    controlled cohort/follow-up study; 4 case series, case-control or historically controlled
    study; 5 mechanism-based reasoning and expert opinion. Patient leaflets and unclassified
    documents are not graded rather than given a level they have not earned.
    """

    LEVEL_1 = "1"
    LEVEL_2 = "2"
    LEVEL_3 = "3"
    LEVEL_4 = "4"
    LEVEL_5 = "5"
    NOT_GRADED = "not graded"

    @property
    def rank(self) -> int:
        """Smaller is stronger evidence; 'not graded' sorts last."""
        return int(self.value) if self.value.isdigit() else 6


@dataclass(frozen=True)
class Section:
    """A labelled stretch of a document's text (``text[start:end]``)."""

    label: str
    start: int
    end: int


@dataclass(frozen=True)
class PageSpan:
    """Where page ``number`` (1-based) lies in a PDF document's text."""

    number: int
    start: int
    end: int


@dataclass
class ParsedDocument:
    """What a format reader extracts from one source document, before storage.

    ``text`` is the normalised full text that passages and citations index into. The
    title is part of ``text`` only if the source had it in the body; ``sections`` and
    ``pages`` are optional structure with offsets into ``text``.
    """

    text: str
    source_format: SourceFormat
    title: str = ""
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    journal: str | None = None
    pmid: str | None = None
    doi: str | None = None
    url: str | None = None
    publication_types: list[str] = field(default_factory=list)
    mesh_terms: list[str] = field(default_factory=list)
    external_id: str | None = None
    sections: list[Section] = field(default_factory=list)
    pages: list[PageSpan] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Classification:
    """Study design and evidence level of one document, with the reason shown to users."""

    design: StudyDesign
    level: EvidenceLevel
    reason: str


@dataclass(frozen=True)
class Document:
    """A stored document version. ``key`` is the id users and benchmarks see."""

    id: int
    key: str
    version: int
    title: str
    text: str
    source_format: SourceFormat
    source_path: str | None
    authors: tuple[str, ...]
    year: int | None
    journal: str | None
    pmid: str | None
    doi: str | None
    url: str | None
    publication_types: tuple[str, ...]
    mesh_terms: tuple[str, ...]
    external_id: str | None
    references: tuple[str, ...]
    study_design: StudyDesign
    evidence_level: EvidenceLevel
    design_reason: str
    content_hash: str
    ingested_at: str
    is_current: bool
    sections: tuple[Section, ...] = ()
    pages: tuple[PageSpan, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Passage:
    """A chunk of a document version's text: ``document.text[start:end] == text``."""

    id: int
    document_id: int
    ordinal: int
    text: str
    start: int
    end: int
    section: str | None = None
    page: int | None = None


@dataclass(frozen=True)
class Span:
    """An exact stretch of a stored document's text that a citation points at."""

    document_id: int
    start: int
    end: int
    passage_id: int | None = None


@dataclass(frozen=True)
class SearchHit:
    """One ranked passage. ``doc_id`` is the PMID, else the JSONL id, else the stored id."""

    doc_id: str
    document_id: int
    passage_id: int
    score: float
    text: str
    start: int
    end: int
    title: str = ""
    section: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "passage_id": self.passage_id,
            "score": self.score,
            "start": self.start,
            "end": self.end,
            "title": self.title,
            "section": self.section,
            "text": self.text,
        }


class IngestStatus(str, enum.Enum):
    ADDED = "added"
    UPDATED = "updated"
    DUPLICATE = "duplicate"
    UNCHANGED = "unchanged"  # a whole file skipped: same size and time as when it was last ingested
    FAILED = "failed"


@dataclass(frozen=True)
class IngestOutcome:
    """What happened to one source document (or one failed file or line)."""

    status: IngestStatus
    source: str
    document_id: int | None = None
    key: str | None = None
    title: str = ""
    message: str = ""


@dataclass
class IngestReport:
    """Totals for one ``ingest`` call; ``failures`` keep each reason for the summary."""

    outcomes: list[IngestOutcome] = field(default_factory=list)

    def count(self, status: IngestStatus) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status is status)

    @property
    def added(self) -> int:
        return self.count(IngestStatus.ADDED)

    @property
    def updated(self) -> int:
        return self.count(IngestStatus.UPDATED)

    @property
    def duplicates(self) -> int:
        return self.count(IngestStatus.DUPLICATE)

    @property
    def unchanged_files(self) -> int:
        return self.count(IngestStatus.UNCHANGED)

    @property
    def failures(self) -> list[IngestOutcome]:
        return [o for o in self.outcomes if o.status is IngestStatus.FAILED]

    @property
    def stored_anything(self) -> bool:
        """False only when every input failed (the CLI then exits non-zero)."""
        return any(o.status is not IngestStatus.FAILED for o in self.outcomes)
