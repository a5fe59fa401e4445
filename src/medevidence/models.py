"""Typed records shared by every stage: ingest, store, retrieve, compose, review.

Readers produce a :class:`ParsedDocument`; the store turns it into a :class:`Document`
with :class:`Passage` children whose ``start``/``end`` are character offsets into
``Document.text`` (so ``document.text[p.start:p.end] == p.text`` always holds).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class SourceFormat(enum.StrEnum):
    TEXT = "text"
    MARKDOWN = "markdown"
    HTML = "html"
    PDF = "pdf"
    MEDLINE = "medline"
    JSONL = "jsonl"


class StudyDesign(enum.StrEnum):
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


class EvidenceLevel(enum.StrEnum):
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
class PassageRow:
    """What the search index needs of a passage: ids, its text and its document's title."""

    passage_id: int
    document_id: int
    text: str
    title: str


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


class IngestStatus(enum.StrEnum):
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


# -- answers -------------------------------------------------------------------------------


class Audience(enum.StrEnum):
    CLINICIAN = "clinician"
    PATIENT = "patient"


class Verdict(enum.StrEnum):
    YES = "yes"
    NO = "no"
    MIXED = "mixed"
    INSUFFICIENT = "insufficient"


class ReviewStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    PUBLISHED = "published"


class StatementKind(enum.StrEnum):
    """Where a statement's words come from.

    ``source``: a sentence of a cited document, verbatim or lightly trimmed, and checked against it.
    ``framing``: connective text the composer writes about the cited documents' designs and counts
    (e.g. "1 randomized trial [1] and 3 registry studies [2-4]"); it asserts nothing about a
    finding, and its claims about designs are checked against the references' metadata.
    """

    SOURCE = "source"
    FRAMING = "framing"


@dataclass(frozen=True)
class CitedSpan:
    """The exact stretch of a reference's stored text that supports a statement."""

    n: int
    passage_id: int
    start: int
    end: int


@dataclass
class Statement:
    text: str
    citations: list[int]
    kind: StatementKind = StatementKind.SOURCE
    quote: str = ""  # the source sentence(s) the text renders; empty for framing
    spans: list[CitedSpan] = field(default_factory=list)
    stance: str | None = None  # direction of a finding: benefit / no benefit / harm, when it states one
    label: str = ""  # what the statement bears on, e.g. a case attribute: "ER: positive (favours)"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"text": self.text, "citations": list(self.citations), "kind": self.kind.value}
        if self.label:
            data["label"] = self.label
        if self.quote:
            data["quote"] = self.quote
        if self.spans:
            data["spans"] = [{"n": s.n, "passage_id": s.passage_id, "start": s.start, "end": s.end} for s in self.spans]
        if self.stance:
            data["stance"] = self.stance
        return data


@dataclass
class AnswerSection:
    title: str
    statements: list[Statement]
    key: str = ""  # stable identifier of the section's role, e.g. "framework", "this_patient"

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "key": self.key, "statements": [s.to_dict() for s in self.statements]}


@dataclass
class ConflictSide:
    stance: str
    design: str
    citations: list[int]
    statements: list[Statement]
    participants: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "stance": self.stance,
            "design": self.design,
            "citations": list(self.citations),
            "participants": self.participants,
            "statements": [s.to_dict() for s in self.statements],
        }


@dataclass
class Conflict:
    topic: str
    summary: Statement
    sides: list[ConflictSide]
    explanation: Statement
    limitations: list[Statement] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "summary": self.summary.to_dict(),
            "sides": [side.to_dict() for side in self.sides],
            "explanation": self.explanation.to_dict(),
            "limitations": [s.to_dict() for s in self.limitations],
        }


@dataclass(frozen=True)
class ReferencePassage:
    passage_id: int
    text: str
    start: int
    end: int


@dataclass
class Reference:
    n: int
    document_id: int
    doc_id: str
    title: str
    authors: list[str]
    year: int | None
    journal: str | None
    pmid: str | None
    doi: str | None
    url: str | None
    study_design: StudyDesign
    evidence_level: EvidenceLevel
    design_reason: str
    passages: list[ReferencePassage] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "doc_id": self.doc_id,
            "document_id": self.document_id,
            "title": self.title,
            "authors": list(self.authors),
            "year": self.year,
            "journal": self.journal,
            "pmid": self.pmid,
            "doi": self.doi,
            "url": self.url,
            "study_design": self.study_design.value,
            "evidence_level": self.evidence_level.value,
            "design_reason": self.design_reason,
            "passages": [
                {"passage_id": p.passage_id, "text": p.text, "start": p.start, "end": p.end} for p in self.passages
            ],
        }


CASE_FIELDS = (
    "age",
    "sex",
    "menopausal_status",
    "histology",
    "stage",
    "tumor_size_cm",
    "er",
    "pr",
    "her2",
    "metastatic_sites",
    "number_of_metastases",
    "performance_status",
    "comorbidities",
    "systemic_therapy",
    "response",
    "symptoms",
    "preferences",
    "notes",
)


@dataclass
class Case:
    """A patient case (CONTRACT.md fields). Unknown fields are kept in ``extra`` and shown."""

    values: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Case:
        known = {k: v for k, v in data.items() if k in CASE_FIELDS and v not in (None, "", [])}
        unknown = {k: v for k, v in data.items() if k not in CASE_FIELDS and v not in (None, "", [])}
        return cls(values=known, extra=unknown)

    def to_dict(self) -> dict[str, Any]:
        return {**self.values, **self.extra}

    def __bool__(self) -> bool:
        return bool(self.values or self.extra)


@dataclass
class Answer:
    id: str
    question: str
    audience: Audience
    bottom_line: list[Statement]
    sections: list[AnswerSection]
    conflicts: list[Conflict]
    references: list[Reference]
    verdict: Verdict | None
    evidence_summary: dict[str, Any]
    disclaimer: str
    review_status: ReviewStatus = ReviewStatus.DRAFT
    follow_up_of: str | None = None
    resolved_question: str = ""  # the question as interpreted, with a follow-up's context filled in
    thread: list[str] = field(default_factory=list)  # ids of earlier answers in this conversation
    case: Case | None = None
    gaps: list[str] = field(default_factory=list)  # what the library does not cover, said plainly
    created_at: str = ""

    def statements(self) -> list[Statement]:
        """Every statement that must carry a citation: bottom line, sections, conflicts."""
        found = list(self.bottom_line)
        for section in self.sections:
            found.extend(section.statements)
        for conflict in self.conflicts:
            found.append(conflict.summary)
            found.append(conflict.explanation)
            found.extend(conflict.limitations)
            for side in conflict.sides:
                found.extend(side.statements)
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "question": self.question,
            "resolved_question": self.resolved_question or self.question,
            "audience": self.audience.value,
            "bottom_line": [s.to_dict() for s in self.bottom_line],
            "sections": [s.to_dict() for s in self.sections],
            "conflicts": [c.to_dict() for c in self.conflicts],
            "references": [r.to_dict() for r in self.references],
            "verdict": self.verdict.value if self.verdict else None,
            "evidence_summary": self.evidence_summary,
            "disclaimer": self.disclaimer,
            "review_status": self.review_status.value,
            "follow_up_of": self.follow_up_of,
            "thread": list(self.thread),
            "case": self.case.to_dict() if self.case else None,
            "gaps": list(self.gaps),
            "created_at": self.created_at,
        }


def statement_from_dict(data: dict[str, Any]) -> Statement:
    return Statement(
        text=data["text"],
        citations=list(data["citations"]),
        kind=StatementKind(data.get("kind", "source")),
        quote=data.get("quote", ""),
        spans=[CitedSpan(s["n"], s["passage_id"], s["start"], s["end"]) for s in data.get("spans", [])],
        stance=data.get("stance"),
        label=data.get("label", ""),
    )


def answer_from_dict(data: dict[str, Any]) -> Answer:
    """The inverse of :meth:`Answer.to_dict`, for answers read back from storage."""
    return Answer(
        id=data["id"],
        question=data["question"],
        audience=Audience(data["audience"]),
        bottom_line=[statement_from_dict(s) for s in data["bottom_line"]],
        sections=[
            AnswerSection(s["title"], [statement_from_dict(x) for x in s["statements"]], s.get("key", ""))
            for s in data["sections"]
        ],
        conflicts=[
            Conflict(
                topic=c["topic"],
                summary=statement_from_dict(c["summary"]),
                sides=[
                    ConflictSide(
                        side["stance"],
                        side["design"],
                        list(side["citations"]),
                        [statement_from_dict(x) for x in side["statements"]],
                        side.get("participants"),
                    )
                    for side in c["sides"]
                ],
                explanation=statement_from_dict(c["explanation"]),
                limitations=[statement_from_dict(x) for x in c.get("limitations", [])],
            )
            for c in data["conflicts"]
        ],
        references=[
            Reference(
                n=r["n"],
                document_id=r["document_id"],
                doc_id=r["doc_id"],
                title=r["title"],
                authors=list(r["authors"]),
                year=r["year"],
                journal=r["journal"],
                pmid=r["pmid"],
                doi=r["doi"],
                url=r["url"],
                study_design=StudyDesign(r["study_design"]),
                evidence_level=EvidenceLevel(r["evidence_level"]),
                design_reason=r["design_reason"],
                passages=[ReferencePassage(p["passage_id"], p["text"], p["start"], p["end"]) for p in r["passages"]],
            )
            for r in data["references"]
        ],
        verdict=Verdict(data["verdict"]) if data.get("verdict") else None,
        evidence_summary=dict(data["evidence_summary"]),
        disclaimer=data["disclaimer"],
        review_status=ReviewStatus(data.get("review_status", "draft")),
        follow_up_of=data.get("follow_up_of"),
        resolved_question=data.get("resolved_question", ""),
        thread=list(data.get("thread", [])),
        case=Case.from_dict(data["case"]) if data.get("case") else None,
        gaps=list(data.get("gaps", [])),
        created_at=data.get("created_at", ""),
    )
