"""Server-rendered pages: ask, answer (in the shape of seed 000), library, document, upload, stats.

Templates are Jinja2 with autoescaping on and nothing marked safe, so a document's ``<script>``
is shown as text. Scripts are external (/static/web.js) because the CSP allows no inline script;
every page works without them, and they add the progress indicator, the citation pop-over,
drag-and-drop and the print button. Forms that change something carry the CSRF token.

The answer page shares what the standalone export has: :class:`~medevidence.render.AnswerView`
decides every label, quote, badge and count, and its stylesheet is the ``<style>`` block of
``medevidence/templates/answer.html``, served as /static/answer.css. What the web page adds is
links: each citation opens the cited span highlighted in the document view.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from .. import Document, DocumentNotFound, Library, Passage, QueryError, __version__
from ..errors import AnswerNotFound
from ..models import Answer, Audience
from ..render import (
    BOTTOM_LINE,
    CONFLICTS,
    EVIDENCE,
    FOLLOW_UP,
    GAPS,
    REFERENCES,
    VERDICT_BASIS,
    AnswerView,
    Quote,
    StatementView,
    render_html,
    render_markdown,
)
from ..review import RULES, Action
from .board_gate import board_gate
from .board_views import ReviewBanner, answer_review, when
from .catalog import (
    DESIGN_CHOICES,
    FORMAT_CHOICES,
    LEVEL_CHOICES,
    DocumentFilters,
    list_documents,
    parse_year,
    search_documents,
)
from .errors import WebError
from .gate import LibraryGate
from .schemas import CaseIn
from .security import CSRF_FIELD, check_form_token
from .settings import WebSettings
from .uploads import ACCEPTED_EXTENSIONS, ingest_saved, save_uploads

UPLOAD_PATH = "/library/upload"
SEARCH_RESULTS = 50

router = APIRouter(include_in_schema=False)


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("medevidence.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(version=__version__, active="", document_href=document_href, csrf_field=CSRF_FIELD)
    env.filters["when"] = when
    return env


def _gate(request: Request) -> LibraryGate:
    gate: LibraryGate = request.app.state.gate
    return gate


def _page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    environment: jinja2.Environment = request.app.state.jinja
    # The signed-in board member, if any, for the sign-in link (set by board_gate.load_member).
    member = getattr(request.state, "member", None)
    page = environment.get_template(template).render(csrf_token=request.state.csrf_token, member=member, **context)
    # Pages carry this browser's form token, so no cache keeps them.
    return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})


def document_href(key: str, start: int | None = None, end: int | None = None, version: int | None = None) -> str:
    """The document view; with ``start``/``end``, that span highlighted and scrolled to."""
    path = f"/documents/{quote(key, safe='')}"
    if start is None or end is None:
        return path
    query = {"start": start, "end": end, **({"version": version} if version is not None else {})}
    return f"{path}?{urlencode(query)}#cited"


# -- the patient case form ------------------------------------------------------------------


@dataclass(frozen=True)
class CaseField:
    name: str
    label: str
    kind: str = "text"  # text | number | select | textarea | list
    options: tuple[tuple[str, str], ...] = ()
    hint: str = ""


_RECEPTOR = (("positive", "Positive"), ("negative", "Negative"), ("low", "Low"))
CASE_FORM: tuple[CaseField, ...] = (
    CaseField("age", "Age (years)", "number"),
    CaseField("sex", "Sex", hint="e.g. female"),
    CaseField(
        "menopausal_status",
        "Menopausal status",
        "select",
        tuple((s, s.capitalize()) for s in ("premenopausal", "perimenopausal", "postmenopausal")),
    ),
    CaseField("histology", "Histology", hint="e.g. invasive ductal carcinoma"),
    CaseField("stage", "Stage", "select", tuple((s, s) for s in ("0", "I", "II", "III", "IV"))),
    CaseField("tumor_size_cm", "Tumour size (cm)", "number"),
    CaseField("er", "Estrogen receptor (ER)", "select", _RECEPTOR),
    CaseField("pr", "Progesterone receptor (PR)", "select", _RECEPTOR),
    CaseField("her2", "HER2", "select", _RECEPTOR),
    CaseField("metastatic_sites", "Metastatic sites", "list", hint="comma-separated, e.g. bone, liver"),
    CaseField("number_of_metastases", "Number of metastases", "number"),
    CaseField(
        "performance_status",
        "Performance status (ECOG)",
        "select",
        (
            ("0", "0: fully active"),
            ("1", "1: restricted in strenuous activity"),
            ("2", "2: up and about, unable to work"),
            ("3", "3: limited self-care"),
            ("4", "4: completely disabled"),
        ),
    ),
    CaseField("comorbidities", "Other conditions", "list", hint="comma-separated, e.g. diabetes"),
    CaseField("systemic_therapy", "Systemic therapy", hint="e.g. TCH"),
    CaseField("response", "Response to treatment", hint="e.g. complete response"),
    CaseField("symptoms", "Symptoms", "list", hint="comma-separated, e.g. bleeding"),
    CaseField("preferences", "Preferences", "textarea"),
    CaseField("notes", "Notes", "textarea"),
)
CASE_LABELS = {f.name: f.label for f in CASE_FORM}
AUDIENCES = ((Audience.CLINICIAN.value, "Healthcare professional"), (Audience.PATIENT.value, "Patient or caregiver"))


def _case_from_form(form: Mapping[str, str]) -> dict[str, Any]:
    """The case typed into the form, or carried over as JSON from an earlier answer."""
    data: dict[str, Any] = {}
    carried = _text(form, "case_json")
    if carried:
        try:
            loaded = json.loads(carried)
        except json.JSONDecodeError as exc:
            raise WebError(400, "the case carried over from the earlier answer is not valid JSON; ask again") from exc
        if not isinstance(loaded, dict):
            raise WebError(400, "the case carried over from the earlier answer is not a JSON object; ask again")
        data.update(loaded)
    for spec in CASE_FORM:
        raw = _text(form, f"case_{spec.name}")
        if raw:
            data[spec.name] = [item.strip() for item in raw.split(",") if item.strip()] if spec.kind == "list" else raw
    if not data:
        return {}
    try:
        return CaseIn.model_validate(data).model_dump(exclude_none=True)
    except ValidationError as exc:
        errors = []
        for problem in exc.errors():
            name = str(problem["loc"][0]) if problem["loc"] else "case"
            message = f"{CASE_LABELS.get(name, name)}: {problem['msg']}"
            errors.append({"field": name, "location": "case", "message": message})
        summary = "; ".join(e["message"] for e in errors)
        raise WebError(422, f"the patient case has invalid values: {summary}", errors=errors) from exc


def _text(form: FormData | Mapping[str, str], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


@asynccontextmanager
async def _form(request: Request, **limits: int) -> AsyncIterator[FormData]:
    """The posted form, once its token is checked; its uploaded files are closed afterwards."""
    async with request.form(**limits) as form:
        check_form_token(request, form.get(CSRF_FIELD))
        yield form


# -- ask and answer -----------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def ask_page(request: Request) -> HTMLResponse:
    return _ask_form(request)


def _ask_form(
    request: Request, status: int = 200, values: Mapping[str, str] | None = None, error: WebError | None = None
) -> HTMLResponse:
    return _page(
        request,
        "ask.html",
        status,
        active="ask",
        values=values or {},
        error=error,
        case_form=CASE_FORM,
        case_open=any(key.startswith("case_") and value for key, value in (values or {}).items()),
        audiences=AUDIENCES,
    )


@router.post("/ask")
async def ask(request: Request) -> Response:
    async with _form(request) as form:
        values = {key: value for key, value in form.items() if isinstance(value, str) and key != CSRF_FIELD}
        question = _text(form, "question")
        audience = _text(form, "audience") or Audience.CLINICIAN.value
        follow_up_of = _text(form, "follow_up_of") or None
    try:
        case = _case_from_form(values)
        answer = await _gate(request).run(
            lambda library: library.ask(question, audience=audience, case=case or None, follow_up_of=follow_up_of)
        )
    except WebError as error:
        return _ask_form(request, error.status_code, values, error)
    except AnswerNotFound as exc:
        missing = WebError(422, f"the earlier answer {exc.answer_id!r} is not in this library any more; ask afresh")
        return _ask_form(request, 422, values, missing)
    except QueryError as exc:
        return _ask_form(request, 422, values, WebError(422, str(exc)))
    return RedirectResponse(f"/answers/{quote(answer.id, safe='')}", status_code=303)


@dataclass(frozen=True)
class CiteLink:
    """One citation mark of a statement: where it leads and the exact text it cites."""

    n: int
    href: str
    quote: str
    where: str
    hover: str


class AnswerLinks:
    """Links from an answer into this server: cited spans in the document view."""

    def __init__(self, view: AnswerView) -> None:
        self.view = view

    def quote_href(self, quote: Quote) -> str:
        reference = self.view.by_n.get(quote.n)
        if reference is None:
            return f"#ref-{quote.n}"
        return document_href(reference.doc_id, quote.start, quote.end, reference.document_id)

    def reference_href(self, n: int) -> str:
        reference = self.view.by_n.get(n)
        return document_href(reference.doc_id) if reference is not None else f"#ref-{n}"

    def cites(self, shown: StatementView) -> list[CiteLink]:
        links: list[CiteLink] = []
        for cite in shown.cites:
            quotes = [q for q in shown.quotes if q.n == cite.n]
            spans = [q for q in quotes if q.start is not None]
            href = self.quote_href(spans[0]) if spans else self.reference_href(cite.n)
            where = quotes[0].where if quotes else self.view.describe(cite.n)
            text = " \u2026 ".join(q.text for q in quotes)
            links.append(CiteLink(cite.n, href, text, where, cite.hover))
        return links


def _case_rows(answer: Answer) -> list[tuple[str, str]]:
    if answer.case is None:
        return []
    rows = []
    for name, value in answer.case.to_dict().items():
        shown = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        rows.append((CASE_LABELS.get(name, name.replace("_", " ").capitalize()), shown))
    return rows


def _thread(library: Library, answer: Answer) -> list[tuple[str, str]]:
    earlier = []
    for answer_id in answer.thread:
        try:
            earlier.append((answer_id, library.answer(answer_id).question))
        except AnswerNotFound:
            continue
    return earlier


@router.get("/answers/{answer_id}.md")
async def answer_markdown(answer_id: str, request: Request) -> Response:
    answer = await _gate(request).run(lambda library: library.answer(answer_id))
    filename = re.sub(r"[^A-Za-z0-9_-]", "", answer.id) or "answer"
    return Response(
        render_markdown(answer),
        media_type="text/markdown; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="answer-{filename}.md"'},
    )


# The standalone page's follow-up form cannot carry this server's form token; the answer page has one that can.
_STANDALONE_EXTRA_STYLE = ".follow-up { display: none; }"


@router.get("/answers/{answer_id}.html")
async def answer_standalone(answer_id: str, request: Request) -> Response:
    """The print-friendly standalone page that ``ask --format html`` writes, under a CSP of its own."""
    answer = await _gate(request).run(lambda library: library.answer(answer_id))
    return standalone_page(render_html(answer))


def standalone_page(page: str, headers: Mapping[str, str] | None = None) -> HTMLResponse:
    """A page from :func:`render_html`, its follow-up form hidden, under a CSP naming only its own inline blocks."""
    page = page.replace("</head>", f"<style>{_STANDALONE_EXTRA_STYLE}</style>\n</head>", 1)
    styles = " ".join(_inline_hashes(page, "style")) or "'none'"
    scripts = " ".join(_inline_hashes(page, "script")) or "'none'"
    policy = (
        f"default-src 'none'; style-src {styles}; script-src {scripts}; img-src 'self' data:; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    return HTMLResponse(page, headers={"Content-Security-Policy": policy, **(headers or {})})


def _inline_hashes(page: str, tag: str) -> list[str]:
    """CSP hashes of the page's inline ``<tag>`` blocks: they come from our template, and only they may run."""
    bodies = re.findall(rf"<{tag}>(.*?)</{tag}>", page, flags=re.DOTALL)
    return [f"'sha256-{base64.b64encode(hashlib.sha256(b.encode('utf-8')).digest()).decode('ascii')}'" for b in bodies]


@router.get("/answers/{answer_id}", response_class=HTMLResponse)
async def answer_page(answer_id: str, request: Request) -> HTMLResponse:
    answer, thread = await _gate(request).run(lambda library: _answer_and_thread(library, answer_id))
    review = await board_gate(request).run(lambda board: answer_review(board, answer))
    member = request.state.member
    can_submit = review is None and member is not None and member.role in RULES[Action.SUBMIT].roles
    return _page(request, "answer_page.html", **answer_context(answer, thread, review), can_submit=can_submit)


def answer_context(answer: Answer, thread: list[tuple[str, str]], review: ReviewBanner | None) -> dict[str, Any]:
    """What answer_page.html shows; with ``review``, the status is the board's, not the one stored with the answer."""
    if review is not None:
        answer.review_status = review.status
    view = AnswerView(answer)
    return {
        "answer": answer,
        "view": view,
        "links": AnswerLinks(view),
        "thread": thread,
        "case_rows": _case_rows(answer),
        "case_json": json.dumps(answer.case.to_dict()) if answer.case else "",
        "audiences": AUDIENCES,
        "headings": {
            "bottom_line": BOTTOM_LINE,
            "conflicts": CONFLICTS,
            "evidence": EVIDENCE,
            "gaps": GAPS,
            "references": REFERENCES,
            "follow_up": FOLLOW_UP,
        },
        "verdict_basis": VERDICT_BASIS,
        "review": review,
    }


def _answer_and_thread(library: Library, answer_id: str) -> tuple[Answer, list[tuple[str, str]]]:
    answer = library.answer(answer_id)
    return answer, _thread(library, answer)


# -- library ----------------------------------------------------------------------------------


def _filters(params: Mapping[str, str]) -> DocumentFilters:
    return DocumentFilters.parse(
        designs=[params.get("design", "")],
        levels=[params.get("level", "")],
        formats=[params.get("format", "")],
        year_from=parse_year("year_from", params.get("year_from")),
        year_to=parse_year("year_to", params.get("year_to")),
    )


def _offset(raw: str | None) -> int:
    text = (raw or "").strip()
    return int(text) if text.isdigit() and len(text) < 10 else 0


@router.get("/library", response_class=HTMLResponse)
async def library_page(request: Request) -> HTMLResponse:
    params = dict(request.query_params)
    query = params.get("q", "").strip()
    settings: WebSettings = request.app.state.settings
    offset = _offset(params.get("offset"))
    try:
        filters = _filters(params)
    except WebError as error:
        return _library_page(request, params, error=error, status=error.status_code)

    def load(library: Library) -> dict[str, Any]:
        stats = library.stats()
        if query:
            found = search_documents(library, query, filters, SEARCH_RESULTS)
            return {"stats": stats, "results": found, "more": False}
        documents, more = list_documents(library, filters, settings.page_size, offset)
        return {"stats": stats, "results": [(d, None) for d in documents], "more": more}

    try:
        loaded = await _gate(request).run(load)
    except QueryError as exc:
        return _library_page(request, params, error=WebError(422, str(exc)), status=422)
    pages = {
        "previous": _page_href(params, max(offset - settings.page_size, 0)) if offset and not query else "",
        "next": _page_href(params, offset + settings.page_size) if loaded["more"] else "",
    }
    return _library_page(request, params, pages=pages, offset=offset, **loaded)


def _page_href(params: Mapping[str, str], offset: int) -> str:
    kept = {key: value for key, value in params.items() if value and key != "offset"}
    return "/library?" + urlencode({**kept, "offset": offset})


def _library_page(request: Request, params: Mapping[str, str], status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("stats", None)
    context.setdefault("results", [])
    context.setdefault("pages", {"previous": "", "next": ""})
    context.setdefault("offset", 0)
    context.setdefault("error", None)
    context.pop("more", None)
    return _page(
        request,
        "library.html",
        status,
        active="library",
        params=params,
        designs=[(name, design.value) for name, design in DESIGN_CHOICES.items()],
        levels=list(LEVEL_CHOICES),
        formats=list(FORMAT_CHOICES),
        **context,
    )


@dataclass(frozen=True)
class Highlight:
    """A document's text cut around the span to highlight."""

    before: str
    marked: str
    after: str


def _highlight(document: Document, start: str | None, end: str | None) -> tuple[Highlight | None, str]:
    """The span ``start``-``end`` of the text, or why it cannot be shown."""
    if start is None and end is None:
        return None, ""
    text = document.text
    if not (start or "").isdigit() or not (end or "").isdigit():
        return None, "The link asked to highlight characters that are not numbers, so nothing is highlighted."
    first, last = int(start or 0), int(end or 0)
    if not 0 <= first < last <= len(text):
        return None, (
            f"The link asked to highlight characters {first}\u2013{last}, but this document has "
            f"{len(text):,} characters, so nothing is highlighted."
        )
    return Highlight(text[:first], text[first:last], text[last:]), ""


def _cited_version(library: Library, reference: str, version: str | None) -> tuple[Document, str]:
    """The document, or the older version of it that an answer cited, with a note when they differ."""
    current = library.document(reference)
    if not version or not version.isdigit() or int(version) == current.id:
        return current, ""
    try:
        cited = library.document(version)
    except DocumentNotFound:
        cited = None
    if cited is not None and cited.id == int(version) and cited.key == current.key:
        note = f"This is version {cited.version}, the one the answer cited; version {current.version} is now current."
        return cited, note
    return current, "The answer cited an earlier version of this document, no longer stored; the highlight may be off."


@router.get("/documents/{reference:path}", response_class=HTMLResponse)
async def document_page(request: Request, reference: str) -> HTMLResponse:
    params = request.query_params

    def load(library: Library) -> tuple[Document, list[Passage], str]:
        document, note = _cited_version(library, reference, params.get("version"))
        return document, library.passages(document), note

    document, passages, note = await _gate(request).run(load)
    highlight, problem = _highlight(document, params.get("start"), params.get("end"))
    return _page(
        request,
        "document.html",
        active="library",
        document=document,
        passages=passages,
        highlight=highlight,
        notes=[n for n in (note, problem) if n],
        source_file=document.source_path.rsplit("/", 1)[-1] if document.source_path else "",
    )


@router.get(UPLOAD_PATH, response_class=HTMLResponse)
async def upload_page(request: Request) -> HTMLResponse:
    return _upload_page(request)


def _upload_page(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("report", None)
    context.setdefault("error", None)
    return _page(request, "upload.html", status, active="upload", accept=",".join(ACCEPTED_EXTENSIONS), **context)


@router.post(UPLOAD_PATH, response_class=HTMLResponse)
async def upload(request: Request) -> HTMLResponse:
    settings: WebSettings = request.app.state.settings
    async with _form(request, max_files=settings.max_upload_files) as form:
        files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
        if not files:
            error = WebError(422, "no files were chosen; choose or drop at least one file")
            return _upload_page(request, 422, error=error)
        saved = await save_uploads([(f.filename or "", f.file) for f in files], request.app.state.upload_dir)
    report = await _gate(request).run(lambda library: ingest_saved(library, saved))
    return _upload_page(request, report.status_code, report=report)


@router.get("/library/stats", response_class=HTMLResponse)
async def stats_page(request: Request) -> HTMLResponse:
    stats = await _gate(request).run(lambda library: library.stats())
    return _page(request, "stats.html", active="stats", stats=stats)


# -- the answer stylesheet, shared with the standalone page ----------------------------------------


@cache
def answer_css() -> str:
    """The ``<style>`` block of the standalone answer template, so both pages look the same."""
    source = resources.files("medevidence").joinpath("templates/answer.html").read_text(encoding="utf-8")
    match = re.search(r"<style>\n?(.*?)</style>", source, flags=re.DOTALL)
    if match is None:
        raise RuntimeError("medevidence/templates/answer.html has no <style> block for /static/answer.css")
    return match.group(1)


@router.get("/favicon.ico")
async def favicon() -> Response:
    """Browsers ask for /favicon.ico on pages that name no icon, such as the standalone answer."""
    icon = resources.files("medevidence.web").joinpath("static/favicon.svg").read_bytes()
    return Response(icon, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


@router.get("/static/answer.css")
async def answer_stylesheet() -> Response:
    return Response(answer_css(), media_type="text/css; charset=utf-8", headers={"Cache-Control": "max-age=300"})
