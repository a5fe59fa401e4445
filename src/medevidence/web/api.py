"""The JSON API under /api: each route validates its input and calls one public library method.

Routes describe their bodies with the models in :mod:`.schemas` (so /openapi.json is complete)
but answer with the library's own dictionaries; failures raise :class:`~.errors.WebError` or let
library errors through to the handlers in :mod:`.errors`.
"""

from __future__ import annotations

import email.message
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse

from .. import Library, __version__
from ..errors import AnswerNotFound
from .catalog import (
    DESIGN_CHOICES,
    FORMAT_CHOICES,
    LEVEL_CHOICES,
    YEAR_RANGE,
    DocumentFilters,
    document_detail,
    document_summary,
    list_documents,
)
from .errors import WebError
from .gate import LibraryGate
from .schemas import (
    AnswerOut,
    AskIn,
    DocumentListOut,
    DocumentOut,
    ErrorOut,
    HealthOut,
    SearchOut,
    UploadOut,
)
from .settings import WebSettings
from .uploads import ingest_saved, save_uploads

UPLOAD_PATH = "/api/documents"
MAX_K = 100
MAX_PAGE = 500

router = APIRouter(prefix="/api", tags=["api"])


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        400: "Malformed request (not JSON, not multipart, wrong Host).",
        401: "No API token, or one that is unknown, revoked or a disabled account's.",
        403: "A form or upload sent from another site's page, or a board action the account's role does not allow.",
        404: "No such answer, document, article or version.",
        409: "The article's status or version does not allow this (e.g. a vote on a superseded version).",
        413: "Request body over the limit.",
        415: "Unsupported content type, or every uploaded file is of a type no reader takes.",
        422: "Invalid field values (the message and `errors` name them).",
        429: "Too many requests from this address; see Retry-After.",
    }
    # 422 always: FastAPI would otherwise describe its own validation-error shape, not ours.
    return {status: {"model": ErrorOut, "description": descriptions[status]} for status in (*statuses, 422, 429)}


def _gate(request: Request) -> LibraryGate:
    gate: LibraryGate = request.app.state.gate
    return gate


def _settings(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


Gate = Annotated[LibraryGate, Depends(_gate)]


def _enum_items(choices: dict[str, Any]) -> dict[str, Any]:
    return {"items": {"type": "string", "enum": list(choices)}}


DesignQuery = Annotated[
    list[str],
    Query(description="Study design (repeatable), e.g. rct.", json_schema_extra=_enum_items(DESIGN_CHOICES)),
]
LevelQuery = Annotated[
    list[str],
    Query(description="Oxford CEBM 2011 evidence level (repeatable).", json_schema_extra=_enum_items(LEVEL_CHOICES)),
]
FormatQuery = Annotated[
    list[str], Query(description="Source format (repeatable).", json_schema_extra=_enum_items(FORMAT_CHOICES))
]
YearQuery = Annotated[int | None, Query(ge=YEAR_RANGE[0], le=YEAR_RANGE[1])]


@router.get("/health", response_model=HealthOut, responses=error_responses())
async def health(gate: Gate) -> dict[str, Any]:
    """Whether the server and its library are up, with the library's size."""
    stats = await gate.run(lambda library: library.stats())
    return {"ok": True, "version": __version__, "documents": stats.documents, "passages": stats.passages}


async def _require_json(request: Request) -> None:
    """Questions come as JSON: a form-encoded post from another site cannot pose as one."""
    message = email.message.Message()
    message["content-type"] = request.headers.get("content-type", "")
    if message.get_content_type() != "application/json":
        raise WebError(
            415,
            f"POST /api/ask takes JSON, not {message.get_content_type()!r}; "
            "send the body with Content-Type: application/json",
        )


@router.post(
    "/ask",
    response_model=AnswerOut,
    dependencies=[Depends(_require_json)],
    responses=error_responses(400, 403, 404, 413, 415, 422),
)
async def ask(body: AskIn, gate: Gate) -> JSONResponse:
    """A structured, graded, span-cited answer (CONTRACT.md Answer JSON), stored for follow-ups."""
    case = body.case.model_dump(exclude_none=True) if body.case else None
    try:
        answer = await gate.run(
            lambda library: library.ask(
                body.question, audience=body.audience, case=case, follow_up_of=body.follow_up_of
            )
        )
    except AnswerNotFound as exc:
        message = f"follow_up_of names no answer in this library ({exc.answer_id!r}); use an id returned by /api/ask"
        raise WebError(404, message) from exc
    return JSONResponse(answer.to_dict(), headers={"Location": f"/api/answers/{answer.id}"})


@router.get("/answers/{answer_id}", response_model=AnswerOut, responses=error_responses(404))
async def answer(answer_id: Annotated[str, Path(max_length=200)], gate: Gate) -> JSONResponse:
    """A stored answer."""
    found = await gate.run(lambda library: library.answer(answer_id))
    return JSONResponse(found.to_dict())


@router.get("/search", response_model=SearchOut, responses=error_responses(422))
async def search(
    gate: Gate,
    q: Annotated[str, Query(min_length=1, description="Any text; operators and quotes are just characters.")],
    k: Annotated[int, Query(ge=1, le=MAX_K)] = 10,
    design: DesignQuery = [],  # noqa: B006 (FastAPI copies defaults per request)
    level: LevelQuery = [],  # noqa: B006
    year_from: YearQuery = None,
    year_to: YearQuery = None,
) -> JSONResponse:
    """Ranked passages for ``q``, optionally only from documents of these designs, levels and years."""
    filters = DocumentFilters.parse(designs=design, levels=level, year_from=year_from, year_to=year_to)
    hits = await gate.run(lambda library: library.search(q, k=k, filters=filters.for_search()))
    return JSONResponse({"query": q, "k": k, "hits": [hit.to_dict() for hit in hits]})


@router.get("/documents", response_model=DocumentListOut, responses=error_responses(422))
async def documents(
    gate: Gate,
    design: DesignQuery = [],  # noqa: B006
    level: LevelQuery = [],  # noqa: B006
    format: FormatQuery = [],  # noqa: B006
    year_from: YearQuery = None,
    year_to: YearQuery = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
) -> JSONResponse:
    """Current documents, oldest first, one page at a time."""
    filters = DocumentFilters.parse(design, level, format, year_from, year_to)
    found, more = await gate.run(lambda library: list_documents(library, filters, limit, offset))
    return JSONResponse(
        {
            "documents": [document_summary(d) for d in found],
            "limit": limit,
            "offset": offset,
            "next_offset": offset + limit if more else None,
        }
    )


@router.get("/documents/{reference:path}", response_model=DocumentOut, responses=error_responses(404))
async def document(reference: str, gate: Gate) -> JSONResponse:
    """One document by id, PMID or DOI: metadata, design, level and the reason, text and passages."""

    def load(library: Library) -> dict[str, Any]:
        found = library.document(reference)
        return document_detail(found, library.passages(found))

    return JSONResponse(await gate.run(load))


@router.post(
    UPLOAD_PATH.removeprefix("/api"), response_model=UploadOut, responses=error_responses(400, 403, 413, 415, 422)
)
async def upload(
    request: Request,
    gate: Gate,
    files: Annotated[
        list[UploadFile], File(min_length=1, description="PDF, text, Markdown, HTML, JSONL or MEDLINE XML files.")
    ],
) -> JSONResponse:
    """Ingest uploaded files; each gets its own result, and one bad file does not stop the others."""
    chosen = [f for f in files if f.filename]
    settings = _settings(request)
    if not chosen:
        raise WebError(422, "the upload has no files; send them as multipart form fields named 'files'")
    if len(chosen) > settings.max_upload_files:
        limit = settings.max_upload_files
        raise WebError(422, f"{len(chosen)} files in one upload, over the limit of {limit}; send fewer at a time")
    saved = await save_uploads([(f.filename or "", f.file) for f in chosen], request.app.state.upload_dir)
    report = await gate.run(lambda library: ingest_saved(library, saved))
    body = report.to_dict()
    if report.status_code != 200:
        first = report.files[0].message
        raise WebError(report.status_code, f"{report.summary()}: {first}", extra={"files": body["files"]})
    return JSONResponse(body)
