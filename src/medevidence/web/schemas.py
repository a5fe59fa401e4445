"""Request and response bodies of the HTTP API, as pydantic models for validation and /openapi.json.

Requests are validated here. Responses are built by the library (``Answer.to_dict()`` and the
catalog's dictionaries) and only *described* here, so the OpenAPI document states the contract's
shapes; tests validate real responses against these models so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..models import (
    Audience,
    EvidenceLevel,
    IngestStatus,
    ReviewStatus,
    SourceFormat,
    StatementKind,
    StudyDesign,
    Verdict,
)

ReceptorStatus = Literal["positive", "negative", "low"]


class CaseIn(BaseModel):
    """A patient case (docs/case.md): every field optional; unknown fields are kept and shown."""

    # Forms and scripts send numbers as text and stages as numbers; both mean the same case.
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    age: int | float | None = Field(None, ge=0, le=130, description="Years.")
    sex: str | None = None
    menopausal_status: str | None = Field(None, examples=["premenopausal"])
    histology: str | None = Field(None, examples=["invasive ductal carcinoma"])
    stage: str | None = Field(None, examples=["IV"])
    tumor_size_cm: int | float | None = Field(None, ge=0, le=100)
    er: ReceptorStatus | None = None
    pr: ReceptorStatus | None = None
    her2: ReceptorStatus | None = None
    metastatic_sites: list[str] | None = Field(None, examples=[["bone"]])
    number_of_metastases: int | None = Field(None, ge=0)
    performance_status: int | None = Field(None, ge=0, le=4, description="ECOG 0-4.")
    comorbidities: list[str] | None = None
    systemic_therapy: str | None = None
    response: str | None = None
    symptoms: list[str] | None = None
    preferences: str | None = None
    notes: str | None = None


class AskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Blank questions are described as invalid here but refused by the library, whose message says what to ask.
    question: str = Field(
        min_length=1,
        json_schema_extra={"pattern": r"\S"},
        examples=["Does mastectomy improve survival in stage IV breast cancer?"],
    )
    audience: Audience = Field(
        Audience.CLINICIAN, description="The same claims and citations, in technical or plain words."
    )
    case: CaseIn | None = None
    follow_up_of: str | None = Field(None, max_length=200, description="The id of the answer this question follows.")


# -- answers (CONTRACT.md "Answer JSON") -----------------------------------------------------------


class SpanOut(BaseModel):
    n: int
    passage_id: int
    start: int
    end: int


class StatementOut(BaseModel):
    text: str
    citations: list[int]
    kind: StatementKind
    label: str | None = None
    quote: str | None = None
    spans: list[SpanOut] | None = None
    stance: str | None = None


class SectionOut(BaseModel):
    title: str
    key: str
    statements: list[StatementOut]


class ConflictSideOut(BaseModel):
    stance: str
    design: str
    citations: list[int]
    participants: int | None
    statements: list[StatementOut]


class ConflictOut(BaseModel):
    topic: str
    summary: StatementOut
    sides: list[ConflictSideOut]
    explanation: StatementOut
    limitations: list[StatementOut]


class ReferencePassageOut(BaseModel):
    passage_id: int
    text: str
    start: int
    end: int


class ReferenceOut(BaseModel):
    n: int
    doc_id: str
    document_id: int
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
    passages: list[ReferencePassageOut]


class AnswerOut(BaseModel):
    id: str
    question: str
    resolved_question: str
    audience: Audience
    bottom_line: list[StatementOut]
    sections: list[SectionOut]
    conflicts: list[ConflictOut]
    references: list[ReferenceOut]
    verdict: Verdict | None
    evidence_summary: dict[str, Any]
    disclaimer: str
    review_status: ReviewStatus
    follow_up_of: str | None
    thread: list[str]
    case: dict[str, Any] | None
    gaps: list[str]
    created_at: str


# -- search and documents ----------------------------------------------------------------------------


class HitOut(BaseModel):
    doc_id: str
    passage_id: int
    score: float
    start: int
    end: int
    title: str
    section: str | None
    text: str


class SearchOut(BaseModel):
    query: str
    k: int
    hits: list[HitOut]


class DocumentSummaryOut(BaseModel):
    id: str = Field(description="PMID, else the id given at ingest, else the stored id.")
    stored_id: int
    version: int
    title: str
    authors: list[str]
    year: int | None
    journal: str | None
    pmid: str | None
    doi: str | None
    url: str | None
    format: SourceFormat
    publication_types: list[str]
    study_design: StudyDesign
    evidence_level: EvidenceLevel
    design_reason: str
    ingested_at: str
    characters: int


class PassageOut(BaseModel):
    passage_id: int
    ordinal: int
    start: int
    end: int
    section: str | None
    page: int | None
    text: str


class DocumentOut(DocumentSummaryOut):
    text: str
    mesh_terms: list[str]
    source_file: str | None
    references: int
    passages: list[PassageOut]


class DocumentListOut(BaseModel):
    documents: list[DocumentSummaryOut]
    limit: int
    offset: int
    next_offset: int | None = Field(description="Offset of the next page; null on the last page.")


class IngestedOut(BaseModel):
    status: IngestStatus
    key: str | None
    title: str
    message: str


class UploadFileOut(BaseModel):
    filename: str
    format: SourceFormat | None
    status: str = Field(description="added, updated, duplicate, unchanged, failed or unsupported.")
    message: str
    documents: list[IngestedOut]


class UploadOut(BaseModel):
    ok: bool
    files: list[UploadFileOut]
    added: int
    updated: int
    duplicates: int
    unchanged: int
    failed: int


class HealthOut(BaseModel):
    ok: bool
    version: str
    documents: int
    passages: int


class FieldErrorOut(BaseModel):
    field: str
    location: str
    message: str


class ErrorOut(BaseModel):
    """The one error shape, for every status."""

    ok: Literal[False]
    error: str = Field(description="What happened, which input caused it and what to do.")
    status: int
    errors: list[FieldErrorOut] | None = None
    files: list[UploadFileOut] | None = Field(None, description="Per-file results, when an upload failed.")
