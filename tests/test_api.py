"""The HTTP API and pages in process (httpx ASGITransport): every endpoint, every error status, the guards.

A small library is built once per module from JSONL abstracts written here, then copied for each
test so uploads and answers of one test never show in another.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fpdf import FPDF
from hypothesis import HealthCheck, given, settings

from live import served
from medevidence import ConfigError, Library, StoreError
from medevidence.web import create_app
from medevidence.web.catalog import DESIGN_CHOICES
from medevidence.web.schemas import AnswerOut, DocumentListOut, DocumentOut, ErrorOut, SearchOut, UploadOut
from medevidence.web.security import CSRF_COOKIE, CsrfTokens, TokenBuckets
from medevidence.web.settings import HELP, WebSettings, describe, web_settings
from medevidence.web.uploads import safe_name, sniff

pytestmark = pytest.mark.anyio

BASE_URL = "http://127.0.0.1"
HOSTILE = "<script>window.pwned = 1</script>"

ABSTRACTS: list[dict[str, Any]] = [
    {
        "pmid": "11111111",
        "title": "Surgery of the primary tumour in de novo stage IV breast cancer: a randomised controlled trial",
        "abstract": (
            "BACKGROUND: The role of surgery of the primary tumour in women with metastatic breast cancer is "
            "uncertain. METHODS: In this randomized controlled trial, 350 women with de novo stage IV breast "
            "cancer who responded to first-line systemic therapy were randomly assigned to locoregional surgery "
            "or to no surgery. RESULTS: Locoregional surgery of the primary tumour did not improve overall "
            "survival (hazard ratio 1.04, 95% CI 0.81 to 1.34). Local progression was less frequent after "
            "surgery, while distant progression was more frequent. CONCLUSIONS: Mastectomy of the primary "
            "tumour does not improve overall survival in women with stage IV breast cancer."
        ),
        "year": 2015,
        "journal": "Lancet Oncology",
        "doi": "10.1000/rct.1",
        "publication_types": ["Randomized Controlled Trial"],
    },
    {
        "pmid": "22222222",
        "title": "Locoregional surgery for metastatic breast cancer: a systematic review and meta-analysis",
        "abstract": (
            "We performed a systematic review and meta-analysis of randomized trials comparing locoregional "
            "surgery with systemic therapy alone in women with stage IV breast cancer. Five trials with 1,200 "
            "women were included. Surgery of the primary tumour did not improve overall survival (pooled hazard "
            "ratio 0.96). Locoregional control was better after surgery. Mastectomy should not be offered "
            "routinely to women with metastatic breast cancer, but may be discussed for symptom control."
        ),
        "year": 2019,
        "journal": "Cochrane Database of Systematic Reviews",
        "publication_types": ["Systematic Review", "Meta-Analysis"],
    },
    {
        "pmid": "33333333",
        "title": "Mastectomy and survival in stage IV breast cancer: a national registry cohort study",
        "abstract": (
            "In this retrospective cohort study of 12,000 women with stage IV breast cancer in a national "
            "registry, surgery of the primary tumour was associated with improved overall survival (median "
            "58 versus 19 months). Women who had mastectomy were younger and had fewer metastatic sites. "
            "Selection bias may explain the association, because healthier women were chosen for surgery."
        ),
        "year": 2012,
        "journal": "Annals of Surgical Oncology",
    },
    {
        "id": "leaflet-1",
        "title": "Metastatic breast cancer: what surgery can and cannot do",
        "text": (
            "Metastatic breast cancer is cancer that has spread from the breast to other parts of the body. "
            "Treatment aims to control the cancer and help you live well. Surgery to remove the breast, called "
            "mastectomy, does not usually help people live longer when the cancer has spread. Your care team may "
            "suggest surgery if the tumour in the breast causes pain or bleeding. Ask your doctor which "
            "treatments fit your situation."
        ),
        "publication_types": ["Patient Education Handout"],
    },
    {
        "id": "hostile-1",
        "title": f"Metformin and diabetes prevention {HOSTILE}",
        "text": (
            f"Metformin reduced the incidence of type 2 diabetes in adults with prediabetes. {HOSTILE} "
            '<img src="x" onerror="window.pwned = 2"> Lifestyle change reduced it more than metformin did, '
            "in a randomized trial of 3,234 adults followed for 2.8 years."
        ),
        "year": 2002,
        "publication_types": ["Randomized Controlled Trial"],
    },
    {
        "pmid": "44444444",
        "title": "Intensive glucose control in type 2 diabetes: a randomized trial",
        "abstract": (
            "In this randomized trial, 10,251 adults with type 2 diabetes were assigned to intensive or standard "
            "glucose control. Intensive control increased mortality and did not reduce major cardiovascular "
            "events. Hypoglycaemia was more frequent with intensive control."
        ),
        "year": 2008,
        "journal": "New England Journal of Medicine",
        "publication_types": ["Randomized Controlled Trial"],
    },
]
QUESTION = "Does mastectomy improve survival in stage IV breast cancer?"


def write_abstracts(path: Path) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in ABSTRACTS), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def template_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("template") / "library"
    directory.mkdir()
    # The library's own settings pin the fake embedder, whatever the environment of a later open says.
    (directory / "settings.toml").write_text('embedder = "fake"\n', encoding="utf-8")
    source = write_abstracts(tmp_path_factory.mktemp("sources") / "abstracts.jsonl")
    with Library.open(directory, embedder="fake") as library:
        report = library.ingest([source])
    assert report.added == len(ABSTRACTS), report.failures
    return directory


@pytest.fixture
def library_dir(template_library: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(template_library, tmp_path / "library"))


@asynccontextmanager
async def serve(
    library_dir: Path, raise_app_exceptions: bool = True, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    overrides.setdefault("rate_limit_per_minute", 0)
    app = create_app(library_dir, **overrides)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        yield client


@pytest.fixture
async def client(library_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(library_dir) as client:
        yield client


def assert_error(response: httpx.Response, status: int, message: str | None = None) -> dict[str, Any]:
    """The one error shape, with the exact message when given."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["ok"] is False and body["status"] == status and isinstance(body["error"], str) and body["error"]
    ErrorOut.model_validate(body)
    if message is not None:
        assert body["error"] == message
    return body


def make_pdf(title: str, sentences: list[str]) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=16)
    pdf.multi_cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    for sentence in sentences:
        pdf.multi_cell(0, 6, sentence, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


TRIAL_PDF_SENTENCES = [
    "Background: exercise during adjuvant chemotherapy for early breast cancer may reduce fatigue.",
    "Methods: we randomly assigned 240 women receiving chemotherapy to supervised aerobic exercise or usual care.",
    "Results: exercise reduced cancer-related fatigue at twelve weeks and improved physical function.",
    "Conclusion: supervised exercise is safe and reduces fatigue during chemotherapy.",
]
CORRUPT_PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage that is not a PDF body\n" + bytes(range(256)) * 8
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


# -- health and the OpenAPI description -----------------------------------------------------------


async def test_health_reports_the_library(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health")

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True and body["documents"] == len(ABSTRACTS) and body["passages"] >= len(ABSTRACTS)


async def test_openapi_describes_every_endpoint_and_the_error_shape(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()

    assert set(spec["paths"]) == {
        "/api/health",
        "/api/ask",
        "/api/answers/{answer_id}",
        "/api/search",
        "/api/documents",
        "/api/documents/{reference}",
        "/api/articles",
        "/api/articles/{article_id}",
        "/api/articles/{article_id}/assign",
        "/api/articles/{article_id}/votes",
        "/api/articles/{article_id}/versions",
        "/api/articles/{article_id}/versions/{number}",
        "/api/articles/{article_id}/diff",
        "/api/articles/{article_id}/publish",
        "/api/articles/{article_id}/reopen",
        "/api/audit",
        "/api/audit/verify",
    }
    assert set(spec["paths"]["/api/documents"]) == {"get", "post"}
    assert spec["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token from `medevidence users token NAME`.",
    }
    board_paths = [path for path in spec["paths"] if path.startswith(("/api/articles", "/api/audit"))]
    for path in board_paths:
        for method, operation in spec["paths"][path].items():
            assert operation["security"] == [{"HTTPBearer": []}], f"{method} {path} does not say it needs a token"
            assert "401" in operation["responses"], f"{method} {path} does not document the missing-token reply"
    assert "multipart/form-data" in spec["paths"]["/api/documents"]["post"]["requestBody"]["content"]
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            refs = json.dumps(operation["responses"]["422"])
            assert "ErrorOut" in refs, f"{method} {path} documents another 422 shape"
    assert (await client.get("/docs")).status_code == 404  # Swagger UI would need inline and CDN scripts


# -- ask and answers ---------------------------------------------------------------------------------


async def test_ask_returns_the_contract_answer_and_stores_it(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/ask", json={"question": QUESTION})

    assert response.status_code == 200, response.text
    answer = response.json()
    AnswerOut.model_validate(answer)
    assert answer["question"] == QUESTION and answer["audience"] == "clinician"
    assert answer["review_status"] == "draft" and answer["follow_up_of"] is None
    numbers = {reference["n"] for reference in answer["references"]}
    assert numbers and {"11111111", "22222222"} & {r["doc_id"] for r in answer["references"]}
    statements = list(answer["bottom_line"]) + [s for section in answer["sections"] for s in section["statements"]]
    assert statements and all(s["citations"] and set(s["citations"]) <= numbers for s in statements)
    assert response.headers["location"] == f"/api/answers/{answer['id']}"

    stored = await client.get(f"/api/answers/{answer['id']}")
    assert stored.status_code == 200 and stored.json() == answer


async def test_cited_spans_are_exact_offsets_into_the_documents(client: httpx.AsyncClient) -> None:
    answer = (await client.post("/api/ask", json={"question": QUESTION})).json()

    for reference in answer["references"]:
        document = (await client.get(f"/api/documents/{reference['doc_id']}")).json()
        for passage in reference["passages"]:
            assert document["text"][passage["start"] : passage["end"]] == passage["text"]


async def test_patient_and_clinician_answers_cite_the_same_references(client: httpx.AsyncClient) -> None:
    clinician = (await client.post("/api/ask", json={"question": QUESTION, "audience": "clinician"})).json()
    patient = (await client.post("/api/ask", json={"question": QUESTION, "audience": "patient"})).json()

    assert patient["audience"] == "patient"
    assert [r["doc_id"] for r in patient["references"]] == [r["doc_id"] for r in clinician["references"]]
    assert patient["disclaimer"] != clinician["disclaimer"]


async def test_a_case_is_validated_kept_and_shown(client: httpx.AsyncClient) -> None:
    case = {"age": 45, "stage": 4, "er": "positive", "metastatic_sites": ["bone"], "favourite_colour": "blue"}

    answer = (await client.post("/api/ask", json={"question": QUESTION, "case": case})).json()

    assert answer["case"] == {**case, "stage": "4"}


async def test_an_invalid_case_names_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/ask", json={"question": QUESTION, "case": {"er": "maybe", "age": -3}})

    body = assert_error(response, 422)
    assert {(e["location"], e["field"]) for e in body["errors"]} == {("body", "case.er"), ("body", "case.age")}
    assert body["error"] == (
        "invalid request: body case.age: Input should be greater than or equal to 0; "
        "body case.er: Input should be 'positive', 'negative' or 'low'"
    )


async def test_a_follow_up_keeps_the_thread(client: httpx.AsyncClient) -> None:
    first = (await client.post("/api/ask", json={"question": QUESTION})).json()

    response = await client.post("/api/ask", json={"question": "What about radiotherapy?", "follow_up_of": first["id"]})

    follow_up = response.json()
    assert response.status_code == 200 and follow_up["follow_up_of"] == first["id"]
    assert follow_up["thread"] == [first["id"]]


async def test_a_follow_up_of_an_unknown_answer_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/ask", json={"question": "And then?", "follow_up_of": "nope"})

    assert_error(response, 404, "follow_up_of names no answer in this library ('nope'); use an id returned by /api/ask")


@pytest.mark.parametrize(
    ("content", "headers", "status", "message"),
    [
        (
            b'{"question": ',
            {"content-type": "application/json"},
            400,
            "the request body is not valid JSON (Expecting value); send one JSON object, "
            'e.g. {"question": "Does metformin prevent diabetes?"}',
        ),
        (
            b"question=hello",
            {"content-type": "application/x-www-form-urlencoded"},
            415,
            "POST /api/ask takes JSON, not 'application/x-www-form-urlencoded'; "
            "send the body with Content-Type: application/json",
        ),
        (b"{}", {"content-type": "application/json"}, 422, "invalid request: body question: Field required"),
        (
            b'{"question": "x", "audiance": "patient"}',
            {"content-type": "application/json"},
            422,
            "invalid request: body audiance: Extra inputs are not permitted",
        ),
        (
            b'{"question": "   "}',
            {"content-type": "application/json"},
            422,
            "the question is empty; ask a clinical question, e.g. 'Does X improve Y in Z?'",
        ),
        (
            b'{"question": "x", "audience": "doctor"}',
            {"content-type": "application/json"},
            422,
            "invalid request: body audience: Input should be 'clinician' or 'patient'",
        ),
    ],
    ids=["malformed-json", "not-json", "missing-question", "unknown-field", "blank-question", "bad-audience"],
)
async def test_ask_refuses_bad_requests_with_a_message(
    client: httpx.AsyncClient, content: bytes, headers: dict[str, str], status: int, message: str
) -> None:
    assert_error(await client.post("/api/ask", content=content, headers=headers), status, message)


async def test_an_unknown_answer_is_404(client: httpx.AsyncClient) -> None:
    assert_error(
        await client.get("/api/answers/0123abcd"),
        404,
        "no answer '0123abcd' in this library; answer ids come back from POST /api/ask",
    )


# -- search -----------------------------------------------------------------------------------------------


async def test_search_ranks_passages_with_offsets(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/search", params={"q": "mastectomy overall survival stage IV", "k": 3})

    assert response.status_code == 200
    body = SearchOut.model_validate(response.json())
    assert body.k == 3 and 1 <= len(body.hits) <= 3
    assert body.hits[0].doc_id in {"11111111", "22222222", "33333333", "leaflet-1"}


async def test_search_filters_by_design_level_and_year(client: httpx.AsyncClient) -> None:
    designs = await client.get("/api/search", params={"q": "survival", "design": "rct"})
    years = await client.get("/api/search", params={"q": "survival", "year_from": 2013, "year_to": 2016})
    levels = await client.get("/api/search", params={"q": "survival", "level": "1"})

    assert {hit["doc_id"] for hit in designs.json()["hits"]} <= {"11111111", "44444444", "hostile-1"}
    assert {hit["doc_id"] for hit in years.json()["hits"]} == {"11111111"}
    assert {hit["doc_id"] for hit in levels.json()["hits"]} == {"22222222"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "invalid request: query q: Field required"),
        ({"q": ""}, "invalid request: query q: String should have at least 1 character"),
        ({"q": "x", "k": 0}, "invalid request: query k: Input should be greater than or equal to 1"),
        ({"q": "x", "k": 101}, "invalid request: query k: Input should be less than or equal to 100"),
        (
            {"q": "x", "k": "ten"},
            "invalid request: query k: Input should be a valid integer, unable to parse string as an integer",
        ),
        (
            {"q": "x", "design": "anecdote"},
            f"invalid request: design 'anecdote' is not one of: {', '.join(DESIGN_CHOICES)}",
        ),
        (
            {"q": "x", "year_from": 2020, "year_to": 2010},
            "invalid request: year_from (2020) is after year_to (2010); swap them",
        ),
        (
            {"q": "x" * 10_001},
            "the query is 10,001 characters long, over the 10,000 limit; shorten it to the question itself",
        ),
    ],
    ids=["no-q", "empty-q", "k-zero", "k-too-big", "k-not-a-number", "unknown-design", "years-swapped", "too-long"],
)
async def test_search_refuses_invalid_parameters(
    client: httpx.AsyncClient, params: dict[str, Any], message: str
) -> None:
    assert_error(await client.get("/api/search", params=params), 422, message)


# -- documents --------------------------------------------------------------------------------------------


async def test_documents_are_listed_a_page_at_a_time(client: httpx.AsyncClient) -> None:
    first = (await client.get("/api/documents", params={"limit": 4})).json()
    second = (await client.get("/api/documents", params={"limit": 4, "offset": 4})).json()

    DocumentListOut.model_validate(first)
    assert len(first["documents"]) == 4 and first["next_offset"] == 4
    assert len(second["documents"]) == len(ABSTRACTS) - 4 and second["next_offset"] is None
    keys = [d["id"] for d in first["documents"] + second["documents"]]
    assert keys == [r.get("pmid") or r["id"] for r in ABSTRACTS]


async def test_documents_are_filtered(client: httpx.AsyncClient) -> None:
    async def keys(**params: Any) -> set[str]:
        return {d["id"] for d in (await client.get("/api/documents", params=params)).json()["documents"]}

    assert await keys(design="systematic_review") == {"22222222"}
    assert await keys(year_from=2010) == {"11111111", "22222222", "33333333"}
    assert await keys(year_to=2005, design="rct") == {"hostile-1"}
    assert await keys(format="pdf") == set()
    assert await keys(format="jsonl", limit=2) == {"11111111", "22222222"}
    assert_error(await client.get("/api/documents", params={"level": "7"}), 422)
    assert_error(await client.get("/api/documents", params={"limit": 0}), 422)


async def test_a_document_shows_metadata_classification_and_passages(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/documents/11111111")

    assert response.status_code == 200
    document = DocumentOut.model_validate(response.json())
    assert document.study_design.value == "randomized controlled trial" and document.evidence_level.value == "2"
    assert document.design_reason and document.year == 2015 and document.doi == "10.1000/rct.1"
    assert document.passages and all(document.text[p.start : p.end] == p.text for p in document.passages)
    by_doi = await client.get("/api/documents/10.1000/rct.1")
    assert by_doi.json()["id"] == "11111111"


async def test_an_unknown_document_is_404(client: httpx.AsyncClient) -> None:
    assert_error(
        await client.get("/api/documents/99999999"),
        404,
        "no document '99999999' in this library; GET /api/documents lists the ids",
    )


# -- uploads ----------------------------------------------------------------------------------------------


async def test_upload_gives_each_file_its_own_result(client: httpx.AsyncClient) -> None:
    files = [
        (
            "files",
            ("exercise-trial.pdf", make_pdf("Exercise during chemotherapy", TRIAL_PDF_SENTENCES), "application/pdf"),
        ),
        (
            "files",
            ("notes.md", b"# Bone metastases\n\nRadiotherapy relieves pain from bone metastases.\n", "text/markdown"),
        ),
        ("files", ("broken.pdf", CORRUPT_PDF, "application/pdf")),
        ("files", ("photo.txt", PNG, "text/plain")),
    ]

    response = await client.post("/api/documents", files=files)

    assert response.status_code == 200, response.text
    body = UploadOut.model_validate(response.json())
    results = {f.filename: f for f in body.files}
    assert [f.filename for f in body.files] == ["exercise-trial.pdf", "notes.md", "broken.pdf", "photo.txt"]
    assert results["exercise-trial.pdf"].status == "added" and results["exercise-trial.pdf"].format == "pdf"
    assert results["notes.md"].status == "added"
    assert results["broken.pdf"].status == "failed" and results["broken.pdf"].message.startswith(
        "cannot read broken.pdf: "
    )
    assert results["photo.txt"].status == "unsupported"
    assert results["photo.txt"].message == (
        "cannot read photo.txt: it is a PNG image, which cannot be read as text; "
        "convert it to PDF, plain text, Markdown, HTML, JSONL or PubMed/MEDLINE XML"
    )
    assert (body.added, body.failed) == (2, 2)
    assert "/uploads/" not in response.text  # the server's paths stay on the server

    added = results["exercise-trial.pdf"].documents[0]
    document = (await client.get(f"/api/documents/{added.key}")).json()
    assert document["format"] == "pdf" and "supervised aerobic exercise" in document["text"]
    hits = (await client.get("/api/search", params={"q": "exercise fatigue chemotherapy"})).json()["hits"]
    assert hits[0]["doc_id"] == added.key


async def test_the_same_upload_twice_is_recognised(client: httpx.AsyncClient) -> None:
    files = [("files", ("notes.txt", b"Aspirin after myocardial infarction reduces death.\n", "text/plain"))]

    first = (await client.post("/api/documents", files=files)).json()
    second = (await client.post("/api/documents", files=files)).json()
    copies = (await client.post("/api/documents", files=files * 2)).json()

    assert first["files"][0]["status"] == "added"
    assert second["files"][0]["status"] == "unchanged"
    assert [f["status"] for f in copies["files"]] == ["unchanged", "duplicate"]


async def test_an_uploaded_name_cannot_leave_the_upload_folder(client: httpx.AsyncClient, library_dir: Path) -> None:
    files = [
        ("files", ("../../../outside.txt", b"Statins lower cholesterol and cardiovascular events.\n", "text/plain"))
    ]

    body = (await client.post("/api/documents", files=files)).json()

    assert body["files"][0]["status"] == "added"
    kept = list((library_dir / "uploads").iterdir())
    assert len(kept) == 1 and kept[0].name.endswith("-outside.txt")
    assert not (library_dir.parent / "outside.txt").exists()


async def test_content_not_the_name_decides_the_type(client: httpx.AsyncClient) -> None:
    pdf = make_pdf("Exercise during chemotherapy", TRIAL_PDF_SENTENCES)

    body = (await client.post("/api/documents", files=[("files", ("trial.txt", pdf, "text/plain"))])).json()

    assert body["files"][0]["status"] == "added" and body["files"][0]["format"] == "pdf"


async def test_an_upload_of_only_unsupported_files_is_415(client: httpx.AsyncClient) -> None:
    files = [
        ("files", ("scan.png", PNG, "image/png")),
        ("files", ("report.docx", b"PK\x03\x04rest", "application/zip")),
    ]

    body = assert_error(await client.post("/api/documents", files=files), 415)

    assert body["error"].startswith("0 of 2 files could be ingested: cannot read scan.png: it is a PNG image")
    assert [f["status"] for f in body["files"]] == ["unsupported", "unsupported"]


async def test_an_upload_where_every_file_fails_is_422(client: httpx.AsyncClient, library_dir: Path) -> None:
    body = assert_error(
        await client.post("/api/documents", files=[("files", ("broken.pdf", CORRUPT_PDF, "application/pdf"))]), 422
    )

    assert body["files"][0]["status"] == "failed"
    assert list((library_dir / "uploads").iterdir()) == []  # nothing kept from a file that stored nothing


async def test_an_upload_without_files_is_refused(client: httpx.AsyncClient) -> None:
    assert_error(
        await client.post("/api/documents", files=[("other", ("a.txt", b"text", "text/plain"))]),
        422,
        "invalid request: body files: Field required",
    )
    assert_error(
        await client.post("/api/documents", content=b"not multipart", headers={"content-type": "multipart/form-data"}),
        400,
        "the request body could not be read (Missing boundary in multipart); send JSON to /api/ask and "
        "multipart/form-data to /api/documents and the upload page",
    )


async def test_too_many_files_in_one_upload(library_dir: Path) -> None:
    files = [("files", (f"n{i}.txt", f"Note {i} about aspirin.".encode(), "text/plain")) for i in range(3)]

    async with serve(library_dir, max_upload_files=2) as client:
        response = await client.post("/api/documents", files=files)

    assert_error(response, 422, "3 files in one upload, over the limit of 2; send fewer at a time")


# -- limits and guards -------------------------------------------------------------------------------------


async def test_bodies_over_the_limit_are_413(library_dir: Path) -> None:
    async with serve(library_dir, max_request_kb=1, max_upload_mb=0.01) as client:
        question = await client.post("/api/ask", json={"question": "x" * 2000})
        upload = await client.post("/api/documents", files=[("files", ("big.txt", b"word " * 4000, "text/plain"))])

        async def stream() -> AsyncIterator[bytes]:
            for _ in range(20):
                yield b'{"question": "' + b"y" * 100 + b'"}'

        chunked = await client.post("/api/ask", content=stream(), headers={"content-type": "application/json"})

    assert_error(
        question, 413, "the request body is 2 KB, over this server's 1 KB limit; shorten the question or the case"
    )
    assert_error(
        upload,
        413,
        "the request body is 20 KB, over this server's 10 KB limit; upload fewer or smaller files at a time, "
        "or start the server with a higher --max-upload-mb",
    )
    assert "content-length" not in chunked.request.headers
    assert_error(
        chunked,
        413,
        "the request body is more than 1 KB, over this server's 1 KB limit; shorten the question or the case",
    )


async def test_too_many_requests_are_429_with_retry_after(library_dir: Path) -> None:
    async with serve(library_dir, rate_limit_per_minute=30, rate_limit_burst=2) as client:
        statuses = [(await client.get("/api/documents", params={"limit": 1})).status_code for _ in range(3)]
        limited = await client.get("/api/search", params={"q": "aspirin"})
        health = await client.get("/api/health")

    assert statuses == [200, 200, 429]
    assert_error(
        limited,
        429,
        "too many requests from 127.0.0.1: this server takes 30 a minute with bursts of 2; wait 2 s and try again",
    )
    assert limited.headers["retry-after"] == "2"
    assert health.status_code == 200  # monitors are never throttled


def test_token_buckets_refill_at_the_configured_rate() -> None:
    buckets = TokenBuckets(per_minute=60, burst=2)

    assert [buckets.take("a", 0.0), buckets.take("a", 0.0)] == [0.0, 0.0]
    assert buckets.take("a", 0.0) == pytest.approx(1.0)
    assert buckets.take("b", 0.0) == 0.0  # another client has its own bucket
    assert buckets.take("a", 1.0) == 0.0


async def test_an_unknown_host_name_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health", headers={"host": "rebind.example:8000"})

    assert_error(
        response,
        400,
        "this server does not answer to the host name 'rebind.example:8000'; open it as one of 127.0.0.1, ::1, "
        "localhost, or start it with --allow-host NAME",
    )


@pytest.mark.parametrize(
    "headers",
    [{"origin": "https://evil.example"}, {"sec-fetch-site": "cross-site"}, {"origin": "null"}],
    ids=["origin", "fetch-metadata", "opaque-origin"],
)
async def test_posts_from_other_sites_are_refused(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    files = [("files", ("a.txt", b"Aspirin after myocardial infarction.", "text/plain"))]

    response = await client.post("/api/documents", files=files, headers=headers)

    body = assert_error(response, 403)
    assert body["error"].startswith("refused a POST sent to this server by a page on ")


async def test_posts_from_the_same_origin_pass(client: httpx.AsyncClient) -> None:
    headers = {"origin": BASE_URL, "sec-fetch-site": "same-origin"}
    response = await client.post("/api/ask", json={"question": QUESTION}, headers=headers)

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "status", "message"),
    [
        ("GET", "/api/nowhere", 404, "nothing at /api/nowhere; the API's paths are listed in /openapi.json"),
        ("GET", "/api/ask", 405, "GET is not allowed on /api/ask; /openapi.json lists the methods each path takes"),
        ("DELETE", "/api/documents", 405, None),
    ],
)
async def test_unknown_paths_and_methods(
    client: httpx.AsyncClient, method: str, path: str, status: int, message: str | None
) -> None:
    assert_error(await client.request(method, path), status, message)


async def test_an_unexpected_error_is_500_without_its_details(
    library_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals: /srv/library.db row 42")

    monkeypatch.setattr(Library, "search", explode)
    async with serve(library_dir, raise_app_exceptions=False) as client:
        response = await client.get("/api/search", params={"q": "aspirin"})

    body = assert_error(response, 500)
    assert re.fullmatch(
        r"the server could not complete this request; the server log has the details under error id [0-9a-f]{8}",
        body["error"],
    )
    assert "secret" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_database_failure_is_503_without_its_details(
    library_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise StoreError("cannot open the library database /srv/secret/library.db: disk I/O error")

    monkeypatch.setattr(Library, "stats", fail)
    async with serve(library_dir) as client:
        response = await client.get("/api/health")

    body = assert_error(response, 503)
    assert body["error"].startswith("the library database could not be read or written; the server log has")
    assert "secret" not in response.text


async def test_every_response_carries_the_security_headers(client: httpx.AsyncClient) -> None:
    for path in ("/", "/api/health", "/api/nowhere", "/static/web.js", "/library"):
        headers = (await client.get(path)).headers
        policy = headers["content-security-policy"]
        script_src = re.search(r"script-src ([^;]*)", policy)
        assert script_src is not None and script_src.group(1) == "'self'", path
        assert "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY"


# -- pages -------------------------------------------------------------------------------------------------


async def form_token(client: httpx.AsyncClient, path: str = "/") -> str:
    page = (await client.get(path)).text
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match is not None and client.cookies.get(CSRF_COOKIE) == match.group(1)
    return match.group(1)


async def test_the_ask_page_has_the_form_a_person_needs(client: httpx.AsyncClient) -> None:
    response = await client.get("/")

    page = response.text
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    assert "Which best describes you?" in page
    assert 'value="clinician"' in page and 'value="patient"' in page
    for field in ("age", "stage", "er", "pr", "her2", "metastatic_sites", "performance_status", "notes"):
        assert f'<label for="case_{field}">' in page and f'id="case_{field}"' in page
    assert "HttpOnly" in response.headers["set-cookie"] and "SameSite=Strict" in response.headers["set-cookie"]


async def test_asking_through_the_form_redirects_to_the_answer_page(client: httpx.AsyncClient) -> None:
    token = await form_token(client)

    response = await client.post(
        "/ask",
        data={
            "csrf_token": token,
            "question": QUESTION,
            "audience": "patient",
            "case_age": "52",
            "case_er": "positive",
        },
    )

    assert response.status_code == 303
    answer_id = response.headers["location"].rsplit("/", 1)[1]
    answer = (await client.get(f"/api/answers/{answer_id}")).json()
    assert answer["audience"] == "patient" and answer["case"] == {"age": 52, "er": "positive"}
    page = (await client.get(response.headers["location"])).text
    for heading in (
        "Bottom line",
        "References",
        "Medical disclaimer",
        "Have a follow-up question?",
        "Article Review Status: Draft",
    ):
        assert heading in page
    assert f'name="follow_up_of" value="{answer_id}"' in page
    assert 'class="cite" href="/documents/' in page and "?start=" in page


async def test_a_form_post_without_the_token_is_refused(client: httpx.AsyncClient) -> None:
    await form_token(client)

    missing = await client.post("/ask", data={"question": QUESTION})
    forged = await client.post("/ask", data={"question": QUESTION, "csrf_token": "abc.def"})

    for response in (missing, forged):
        assert response.status_code == 403 and response.headers["content-type"].startswith("text/html")
        assert "this form&#39;s security token is missing or out of date" in response.text


def test_form_tokens_are_signed() -> None:
    tokens = CsrfTokens("a secret")
    token = tokens.issue()

    assert tokens.valid(token)
    assert not tokens.valid(token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert not CsrfTokens("another secret").valid(token)
    assert not tokens.valid("") and not tokens.valid("no-dot") and not tokens.valid("é.é")


async def test_an_empty_question_in_the_form_shows_the_form_again(client: httpx.AsyncClient) -> None:
    token = await form_token(client)

    response = await client.post("/ask", data={"csrf_token": token, "question": " ", "case_age": "old"})

    assert response.status_code == 422
    assert "Age (years): Input should be a valid number" in response.text
    assert 'value="old"' in response.text  # what the person typed is kept


async def test_answer_exports_markdown_and_a_print_page(client: httpx.AsyncClient) -> None:
    answer = (await client.post("/api/ask", json={"question": QUESTION})).json()

    markdown = await client.get(f"/answers/{answer['id']}.md")
    printable = await client.get(f"/answers/{answer['id']}.html")

    assert markdown.status_code == 200 and markdown.headers["content-type"] == "text/markdown; charset=utf-8"
    assert markdown.headers["content-disposition"] == f'attachment; filename="answer-{answer["id"]}.md"'
    assert markdown.text.startswith("# Does mastectomy improve survival in stage IV breast cancer?")
    assert printable.status_code == 200 and "<style>" in printable.text
    policy = printable.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy and "script-src 'sha256-" in policy and "frame-ancestors 'none'" in policy


async def test_a_script_in_a_document_is_shown_as_text(client: httpx.AsyncClient) -> None:
    pages = [
        (await client.get("/documents/hostile-1")).text,
        (await client.get("/library", params={"q": "metformin prediabetes"})).text,
        (await client.get("/library")).text,
    ]

    for page in pages:
        assert HOSTILE not in page and "<img" not in page
        assert "&lt;script&gt;window.pwned = 1&lt;/script&gt;" in page


async def test_the_document_page_highlights_the_cited_span(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/documents/11111111")).json()
    sentence = "Locoregional surgery of the primary tumour did not improve overall survival"
    start = document["text"].index(sentence)

    page = (await client.get("/documents/11111111", params={"start": start, "end": start + len(sentence)})).text
    outside = (await client.get("/documents/11111111", params={"start": 5, "end": 10**6})).text

    assert f'<mark id="cited" tabindex="-1">{sentence}</mark>' in page
    assert "<mark" not in outside and "so nothing is highlighted" in outside


async def test_the_library_pages_list_filter_and_count(client: httpx.AsyncClient) -> None:
    listing = (await client.get("/library")).text
    filtered = (await client.get("/library", params={"design": "systematic_review", "year_from": ""})).text
    searched = (await client.get("/library", params={"q": "glucose control"})).text
    bad_year = await client.get("/library", params={"year_from": "soon"})
    stats = (await client.get("/library/stats")).text

    assert listing.count('<p class="doc-title">') == len(ABSTRACTS)
    assert filtered.count('<p class="doc-title">') == 1 and "Locoregional surgery for metastatic" in filtered
    assert "Intensive glucose control" in searched and "Show this passage in the document" in searched
    assert bad_year.status_code == 422 and "year_from must be a year such as 2015, not &#39;soon&#39;" in bad_year.text
    assert "<dt>Documents</dt><dd>6</dd>" in stats


async def test_the_upload_page_shows_per_file_results(client: httpx.AsyncClient) -> None:
    token = await form_token(client, "/library/upload")
    files = [
        ("files", ("trial.pdf", make_pdf("Exercise during chemotherapy", TRIAL_PDF_SENTENCES), "application/pdf")),
        ("files", ("broken.pdf", CORRUPT_PDF, "application/pdf")),
    ]

    response = await client.post("/library/upload", data={"csrf_token": token}, files=files)
    refused = await client.post("/library/upload", files=files)

    assert response.status_code == 200
    assert "1 of 2 files could be ingested." in response.text
    assert 'class="file-result status-added"' in response.text and 'class="file-result status-failed"' in response.text
    assert refused.status_code == 403


async def test_unknown_pages_are_html_errors(client: httpx.AsyncClient) -> None:
    missing = await client.get("/nowhere")
    no_answer = await client.get("/answers/nope")

    assert missing.status_code == 404 and "nothing at /nowhere; start from the ask page at /" in missing.text
    assert no_answer.status_code == 404 and "no answer &#39;nope&#39; in this library" in no_answer.text


async def test_the_answer_stylesheet_is_the_standalone_pages_own(client: httpx.AsyncClient) -> None:
    css = await client.get("/static/answer.css")

    assert css.status_code == 200 and css.headers["content-type"] == "text/css; charset=utf-8"
    assert ".bottom-line" in css.text and "@media print" in css.text and "</style" not in css.text


# -- settings and sniffing -----------------------------------------------------------------------------


def test_every_web_setting_is_documented_and_checked() -> None:
    assert {name for name, _, _ in describe()} == set(HELP) == set(WebSettings.__dataclass_fields__)
    assert web_settings(max_upload_mb=5).max_upload_bytes == 5_000_000
    with pytest.raises(ConfigError, match="unknown web setting 'rate_limit'; did you mean 'rate_limit_burst'?"):
        web_settings(rate_limit=5)
    with pytest.raises(ConfigError, match="web setting 'max_request_kb' must be a int, not '5'"):
        web_settings(max_request_kb="5")
    with pytest.raises(ConfigError, match="web setting 'page_size' must be positive, not 0"):
        web_settings(page_size=0)


@pytest.mark.parametrize(
    ("filename", "head", "expected"),
    [
        ("a.pdf", b"%PDF-1.4 ...", "pdf"),
        ("a.txt", b"\xef\xbb\xbf  %PDF-1.4", "pdf"),
        ("a.jsonl", b'{"id": 1}', "jsonl"),
        ("a.md", b"# Title", "markdown"),
        ("page.HTM", b"<html>", "html"),
        ("pubmed.xml", b"<PubmedArticleSet>", "medline"),
        ("README", b"plain words", "text"),
        ("utf16.txt", b"\xff\xfeh\x00i\x00", "text"),
        ("a.pdf", b"just text", None),
        ("a.csv", b"a,b", None),
        ("a.txt", b"text\x00with nul", None),
        ("a.docx", b"PK\x03\x04", None),
        ("clip.txt", b"\x00\x00\x00\x18ftypmp42", None),
    ],
)
def test_uploads_are_sniffed_by_content(filename: str, head: bytes, expected: str | None) -> None:
    sniffed = sniff(filename, head)

    assert (sniffed.source_format.value if sniffed.source_format else None) == expected
    assert bool(sniffed.problem) == (expected is None)


@pytest.mark.parametrize(
    ("filename", "extension", "expected"),
    [
        ("../../etc/passwd", ".txt", "passwd.txt"),
        ("C:\\Users\\me\\Trial Report (final).PDF", ".pdf", "Trial-Report-final.pdf"),
        ("études clés.md", ".md", "etudes-cles.md"),
        ("...", ".txt", "upload.txt"),
        ("notes.txt", ".txt", "notes.txt"),
    ],
)
def test_upload_names_are_made_safe(filename: str, extension: str, expected: str) -> None:
    assert safe_name(filename, extension) == expected


# -- the seed answer page, end to end ----------------------------------------------------------------------


async def test_a_seed_article_uploaded_then_asked_about(client: httpx.AsyncClient, seeds: Path) -> None:
    seed = sorted(seeds.glob("000_*.txt"))[0]
    question = seed.read_text(encoding="utf-8").splitlines()[0]

    upload = await client.post("/api/documents", files=[("files", (seed.name, seed.read_bytes(), "text/plain"))])
    answer = (await client.post("/api/ask", json={"question": question})).json()

    assert upload.json()["files"][0]["status"] == "added"
    key = upload.json()["files"][0]["documents"][0]["key"]
    assert key in {r["doc_id"] for r in answer["references"]}


# -- property-based: no request makes the server fail --------------------------------------------------------


@pytest.fixture(scope="module")
def live_server(template_library: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app under uvicorn in a thread, for tools that speak HTTP rather than ASGI."""
    directory = Path(shutil.copytree(template_library, tmp_path_factory.mktemp("live") / "library"))
    app = create_app(directory, rate_limit_per_minute=0)
    with served(app) as url:
        yield url


def _refusals_the_schema_cannot_promise(case: Any) -> bool:
    """Schema-valid requests the server rightly refuses: uploads whose bytes no reader takes (415/422), and year
    ranges that end before they start (422, "swap them")."""
    query = case.query or {}
    swapped = "year_from" in query and "year_to" in query and int(query["year_from"]) > int(query["year_to"])
    return (case.method, case.path) == ("POST", "/api/documents") or swapped


def test_no_request_makes_the_server_fail(live_server: str) -> None:
    """Schemathesis requests for every operation in /openapi.json: never a 5xx, always a documented response."""
    schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is missing: pip install schemathesis")
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    schema = schemathesis.openapi.from_url(f"{live_server}/openapi.json")

    @given(case=schema.as_strategy())
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def request_is_handled(case: Any) -> None:
        response = case.call()
        assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"
        if response.status_code >= 400:
            body = response.json()
            assert body["ok"] is False and body["status"] == response.status_code and body["error"]
        excluded = [positive_data_acceptance] if _refusals_the_schema_cannot_promise(case) else []
        case.validate_response(response, excluded_checks=excluded)

    request_is_handled()
