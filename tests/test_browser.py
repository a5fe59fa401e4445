"""The web pages in a real headless Chromium (Playwright) against uvicorn on a free localhost port.

Skipped, with the reason, when Debian's chromium (/usr/bin/chromium) or the playwright package is
missing; CI installs both. Screenshots of the main pages go to bench/screenshots/ (git-ignored).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fpdf import FPDF

from live import CHROMIUM, chromium, screenshot, served
from medevidence import Library
from medevidence.web import create_app

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="playwright is missing: pip install playwright")

HOSTILE = "<script>window.pwned = 1</script>"
QUESTION = "Does mastectomy improve overall survival in stage IV breast cancer?"

ABSTRACTS: list[dict[str, Any]] = [
    {
        "pmid": "11111111",
        "title": "Surgery of the primary tumour in de novo stage IV breast cancer: a randomised controlled trial",
        "abstract": (
            "In this randomized controlled trial, 350 women with de novo stage IV breast cancer who responded "
            "to systemic therapy were randomly assigned to locoregional surgery or no surgery. Mastectomy of "
            "the primary tumour did not improve overall survival (hazard ratio 1.04). Local progression was "
            "less frequent after surgery, while distant progression was more frequent."
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
            "This systematic review and meta-analysis of five randomized trials with 1,200 women found that "
            "surgery of the primary tumour did not improve overall survival in stage IV breast cancer. "
            "Locoregional control was better after surgery. Mastectomy may be discussed for symptom control."
        ),
        "year": 2019,
        "journal": "Cochrane Database of Systematic Reviews",
        "publication_types": ["Systematic Review", "Meta-Analysis"],
    },
    {
        "pmid": "33333333",
        "title": "Mastectomy and survival in stage IV breast cancer: a national registry cohort study",
        "abstract": (
            "In this retrospective cohort study of 12,000 women with stage IV breast cancer, mastectomy was "
            "associated with improved overall survival (median 58 versus 19 months). Selection bias may explain "
            "the association, because healthier women were chosen for surgery."
        ),
        "year": 2012,
        "journal": "Annals of Surgical Oncology",
    },
    {
        "id": "hostile-1",
        "title": f"Metformin for diabetes prevention {HOSTILE}",
        "text": (
            f"Metformin reduced the incidence of type 2 diabetes in adults with prediabetes. {HOSTILE} "
            '<img src="x" onerror="window.pwned = 2"> Lifestyle change reduced it more than metformin did, '
            "in a randomized trial of 3,234 adults followed for 2.8 years."
        ),
        "year": 2002,
        "publication_types": ["Randomized Controlled Trial"],
    },
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("browser") / "library"
    directory.mkdir()
    (directory / "settings.toml").write_text('embedder = "fake"\n', encoding="utf-8")
    source = tmp_path_factory.mktemp("sources") / "abstracts.jsonl"
    source.write_text("".join(json.dumps(record) + "\n" for record in ABSTRACTS), encoding="utf-8")
    with Library.open(directory) as library:
        assert library.ingest([source]).added == len(ABSTRACTS)
    app = create_app(directory, rate_limit_per_minute=0)
    with served(app) as url:
        yield url
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(base_url=server, viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    yield page
    context.close()
    # A CSP violation or a script error means a page relies on something the policy forbids.
    assert problems == []


def ask(page: Page, question: str, audience_label: str) -> None:
    page.goto("/")
    page.get_by_label("Your question").fill(question)
    page.get_by_label(audience_label).check()
    page.get_by_role("button", name="Get the answer").click()
    page.wait_for_url(re.compile(r"/answers/[0-9a-f]+$"))


def statement_texts(page: Page) -> str:
    return " ".join(page.locator(".statement > .text").all_inner_texts())


def reference_titles(page: Page) -> list[str]:
    return page.locator("ol.references .ref-title").all_inner_texts()


def test_clinician_and_patient_get_different_words_and_the_same_references(page: Page) -> None:
    ask(page, QUESTION, "Healthcare professional")
    screenshot(page, "answer-clinician")
    clinician_words, clinician_references = statement_texts(page), reference_titles(page)
    assert page.get_by_role("heading", name="Professional medical disclaimer").is_visible()

    ask(page, QUESTION, "Patient or caregiver")
    screenshot(page, "answer-patient")

    assert reference_titles(page) == clinician_references and len(clinician_references) >= 2
    assert page.get_by_role("heading", name="Medical disclaimer", exact=True).is_visible()
    assert page.get_by_text("For patients and families").is_visible()
    patient_words = statement_texts(page)
    assert "overall survival" in clinician_words and "overall survival" not in patient_words
    assert "length of life" in patient_words


def test_the_ask_page_is_labelled_and_shows_progress(page: Page) -> None:
    page.goto("/")
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
              .filter((el) => el.labels.length === 0 && !el.getAttribute("aria-label")).map((el) => el.name)"""
    )
    assert unlabelled == []
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.get_by_text("Add a patient case (optional)").click()
    page.get_by_label("Age (years)").fill("45")
    page.get_by_label("HER2").select_option("positive")
    screenshot(page, "ask")

    # Hold the submission in the page so the indicator can be seen before the answer replaces it.
    page.evaluate("window.addEventListener('submit', (event) => event.preventDefault())")
    page.get_by_label("Your question").fill(QUESTION)
    page.get_by_role("button", name="Get the answer").click()

    assert page.get_by_role("status").filter(has_text="Composing your answer").is_visible()
    assert page.get_by_role("button", name="Get the answer").is_disabled()


def test_a_citation_shows_its_span_and_leads_to_it_highlighted(page: Page) -> None:
    ask(page, QUESTION, "Healthcare professional")
    citation = page.locator("a.cite").first
    quote = citation.get_attribute("data-quote")
    assert quote

    citation.focus()
    page.keyboard.press("Enter")
    popover = page.get_by_role("dialog")
    assert popover.locator("mark").inner_text() == quote
    screenshot(page, "answer-citation", full_page=False)
    page.keyboard.press("Escape")
    assert popover.count() == 0
    assert page.evaluate("document.activeElement.classList.contains('cite')")

    citation.click()
    page.get_by_role("link", name="Show it highlighted in the document").click()
    page.wait_for_url(re.compile(r"/documents/.+\?start=\d+&end=\d+"))
    marked = page.locator("mark#cited")
    assert " ".join(marked.inner_text().split()) == quote
    assert marked.is_visible()
    screenshot(page, "document-highlight", full_page=False)


def test_a_follow_up_keeps_the_thread(page: Page) -> None:
    ask(page, QUESTION, "Healthcare professional")
    first = page.url

    page.get_by_label("Ask a follow-up question about this answer").fill("What about local control?")
    page.get_by_role("button", name="Ask", exact=True).click()
    page.wait_for_url(lambda url: url != first and "/answers/" in url)

    thread = page.get_by_role("navigation", name="Earlier in this conversation")
    earlier = thread.get_by_role("link", name=QUESTION).get_attribute("href")
    assert earlier is not None and first.endswith(earlier)
    answer_id = page.url.rsplit("/", 1)[1]
    answer = page.request.get(f"/api/answers/{answer_id}").json()
    assert answer["follow_up_of"] == first.rsplit("/", 1)[1]


def test_the_print_friendly_page_is_styled_by_its_own_inline_css(page: Page) -> None:
    ask(page, QUESTION, "Healthcare professional")

    page.get_by_role("link", name="Print-friendly page").click()
    page.wait_for_url(re.compile(r"/answers/[0-9a-f]+\.html$"))

    # The inline <style> and <script> run only because the page's CSP names their hashes.
    assert page.locator(".bottom-line").evaluate("(el) => getComputedStyle(el).borderLeftStyle") == "solid"
    assert page.locator(".follow-up").is_hidden()
    screenshot(page, "answer-print")


def make_pdf(path: Path) -> Path:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=16)
    pdf.multi_cell(0, 10, "Exercise during adjuvant chemotherapy", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    for sentence in (
        "Methods: we randomly assigned 240 women receiving chemotherapy to supervised aerobic exercise or usual care.",
        "Results: exercise reduced cancer-related fatigue at twelve weeks and improved physical function.",
    ):
        pdf.multi_cell(0, 6, sentence, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def test_uploading_a_pdf_and_a_corrupt_pdf_shows_each_result(page: Page, tmp_path: Path) -> None:
    good = make_pdf(tmp_path / "exercise-trial.pdf")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> not really a PDF\n" + bytes(range(256)) * 4)

    page.goto("/library/upload")
    page.get_by_label("Choose files, or drop them here").set_input_files([good, broken])
    assert page.locator(".dropzone .chosen li").all_inner_texts()[0].startswith("exercise-trial.pdf")
    page.get_by_role("button", name="Upload and ingest").click()
    page.wait_for_selector(".file-result")
    screenshot(page, "upload-results")

    added = page.locator(".file-result.status-added")
    failed = page.locator(".file-result.status-failed")
    assert added.locator(".filename").inner_text() == "exercise-trial.pdf"
    assert added.locator(".format").inner_text() == "pdf"
    assert failed.locator(".filename").inner_text() == "broken.pdf"
    assert failed.locator(".message").inner_text().startswith("cannot read broken.pdf: ")
    assert page.get_by_text("1 of 2 files could be ingested.").is_visible()

    added.get_by_role("link").first.click()
    assert "supervised aerobic exercise" in page.locator(".doc-text").inner_text()


def test_files_dropped_on_the_upload_area_are_uploaded(page: Page) -> None:
    page.goto("/library/upload")
    page.evaluate(
        """() => {
            const transfer = new DataTransfer();
            transfer.items.add(new File(["Aspirin after myocardial infarction reduces death."], "dropped.txt",
                                        {type: "text/plain"}));
            document.querySelector("[data-dropzone]").dispatchEvent(
                new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
        }"""
    )
    assert page.locator(".dropzone .chosen li").inner_text().startswith("dropped.txt")

    page.get_by_role("button", name="Upload and ingest").click()

    assert page.locator(".file-result.status-added .filename").inner_text() == "dropped.txt"


def test_a_script_in_a_document_does_not_run(page: Page) -> None:
    for path in ("/documents/hostile-1", "/library?q=metformin+prediabetes", "/library"):
        page.goto(path)
        assert page.evaluate("typeof window.pwned") == "undefined", path
        assert page.get_by_text(HOSTILE).first.is_visible()

    ask(page, "Does metformin prevent type 2 diabetes?", "Healthcare professional")
    assert page.evaluate("typeof window.pwned") == "undefined"
    page.locator("a.cite").first.click()
    assert page.evaluate("typeof window.pwned") == "undefined"


def test_library_pages_filter_and_look_right(page: Page) -> None:
    page.goto("/library")
    screenshot(page, "library")
    page.get_by_label("Study design").select_option("systematic_review")
    page.get_by_role("button", name="Show").click()

    assert page.locator(".doc-title").all_inner_texts() == [ABSTRACTS[1]["title"]]
    page.goto("/library/stats")
    assert page.get_by_role("heading", name="By study design").is_visible()
    screenshot(page, "stats")


def test_the_answer_page_fits_a_phone(browser: Browser, server: str) -> None:
    context = browser.new_context(base_url=server, viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        ask(page, QUESTION, "Patient or caregiver")
        screenshot(page, "answer-phone")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0
        page.goto("/")
        screenshot(page, "ask-phone")
        assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    finally:
        context.close()
