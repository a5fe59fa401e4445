"""Renderers of an Answer: Markdown, standalone HTML, terminal text and JSON."""

from __future__ import annotations

import json

import lxml.html
import pytest

from medevidence.models import (
    Answer,
    AnswerSection,
    Audience,
    CitedSpan,
    Conflict,
    ConflictSide,
    EvidenceLevel,
    Reference,
    ReferencePassage,
    ReviewStatus,
    Statement,
    StatementKind,
    StudyDesign,
    Verdict,
)
from medevidence.render import RENDERERS, render_html, render_json, render_markdown, render_text

HOSTILE = "<script>alert(1)</script>"
TRIAL_TEXT = (
    "Methods. 350 women were randomized. Locoregional treatment of the primary tumor did not improve "
    "overall survival (HR 1.04). Distant progression was more frequent after surgery."
)
COHORT_TEXT = (
    "We studied 1,234 women in a national registry. Surgery of the primary tumor was associated with "
    "improved overall survival (58 vs 19 months)."
)


def _span(n: int, text: str, sentence: str, passage_id: int) -> tuple[CitedSpan, ReferencePassage]:
    start = text.index(sentence)
    end = start + len(sentence)
    return CitedSpan(n, passage_id, start, end), ReferencePassage(passage_id, sentence, start, end)


TRIAL_SENTENCE = "Locoregional treatment of the primary tumor did not improve overall survival (HR 1.04)."
COHORT_SENTENCE = "Surgery of the primary tumor was associated with improved overall survival (58 vs 19 months)."
TRIAL_SPAN, TRIAL_PASSAGE = _span(1, TRIAL_TEXT, TRIAL_SENTENCE, 11)
COHORT_SPAN, COHORT_PASSAGE = _span(2, COHORT_TEXT, COHORT_SENTENCE, 22)


def make_answer(
    *,
    audience: Audience = Audience.CLINICIAN,
    status: ReviewStatus = ReviewStatus.UNDER_REVIEW,
    question: str = "Does removing the primary tumor help in stage IV breast cancer?",
    bottom_line_text: str = "Surgery of the primary tumor did not improve overall survival in a randomized trial.",
) -> Answer:
    trial = Reference(
        n=1,
        document_id=101,
        doc_id="24105890",
        title="Surgical removal of primary tumor in metastatic breast cancer: a randomized trial",
        authors=["Badwe R", "Parmar V", "Hawaldar R", "Nair N"],
        year=2015,
        journal="Lancet Oncol",
        pmid="24105890",
        doi="10.1016/S1470-2045(15)00135-7",
        url="javascript:alert(2)",
        study_design=StudyDesign.RCT,
        evidence_level=EvidenceLevel.LEVEL_2,
        design_reason="MEDLINE publication type: Randomized Controlled Trial",
        passages=[TRIAL_PASSAGE],
    )
    cohort = Reference(
        n=2,
        document_id=102,
        doc_id="registry-7",
        title="Trimodality therapy in de novo stage IV inflammatory breast cancer",
        authors=["Warren LE"],
        year=2019,
        journal=None,
        pmid=None,
        doi=None,
        url="https://example.org/registry-7",
        study_design=StudyDesign.COHORT,
        evidence_level=EvidenceLevel.LEVEL_3,
        design_reason="Text: registry",
        passages=[COHORT_PASSAGE],
    )
    trial_statement = Statement(bottom_line_text, [1], quote=TRIAL_SENTENCE, spans=[TRIAL_SPAN], stance="no benefit")
    cohort_statement = Statement(
        "In a registry, surgery was linked to longer survival (58 vs 19 months).",
        [2],
        quote=COHORT_SENTENCE,
        spans=[COHORT_SPAN],
        stance="benefit",
    )
    framing = Statement(
        "The evidence is 1 randomized trial [1] and 1 registry study [2].", [1, 2], kind=StatementKind.FRAMING
    )
    return Answer(
        id="ans-7f3a",
        question=question,
        audience=audience,
        bottom_line=[trial_statement],
        sections=[
            AnswerSection("What the studies found", [framing, cohort_statement], key="findings"),
            AnswerSection(
                "This patient",
                [
                    Statement(
                        "Her cancer has spread to the bones only.", [2], quote=COHORT_SENTENCE, spans=[COHORT_SPAN]
                    )
                ],
                key="this_patient",
            ),
        ],
        conflicts=[
            Conflict(
                topic="Survival after surgery of the primary tumor",
                summary=Statement(
                    "The trial and the registry disagree about survival.", [1, 2], kind=StatementKind.FRAMING
                ),
                sides=[
                    ConflictSide("benefit", "cohort, retrospective or registry study", [2], [cohort_statement], 1234),
                    ConflictSide("no benefit", "randomized controlled trial", [1], [trial_statement], 350),
                ],
                explanation=Statement(
                    "Registries cannot rule out that fitter women were chosen for surgery.",
                    [2],
                    kind=StatementKind.FRAMING,
                ),
                limitations=[Statement("The trial enrolled 350 women.", [1], kind=StatementKind.FRAMING)],
            )
        ],
        references=[trial, cohort],
        verdict=Verdict.NO,
        evidence_summary={"documents_considered": 12, "by_design": {"rct": 1}},
        disclaimer="This information is intended for healthcare professionals.",
        review_status=status,
        follow_up_of="ans-0001",
        gaps=["No study in this library reports quality of life after surgery."],
        created_at="2025-11-12T10:00:00Z",
    )


# -- Markdown ------------------------------------------------------------------------------------


def test_markdown_puts_the_bottom_line_first_and_numbers_citations() -> None:
    md = render_markdown(make_answer())
    headings = [line for line in md.splitlines() if line.startswith("## ")]
    assert headings[0] == "## Bottom line"
    assert headings[1:3] == ["## What the studies found", "## This patient"]
    assert "## Where the evidence disagrees" in headings
    assert "## What your library does not cover" in headings
    assert "did not improve overall survival in a randomized trial. [1]" in md
    assert "**Verdict: no** \u2014 weighted by evidence level" in md
    assert "- In a registry, surgery was linked to longer survival (58 vs 19 months). [2]" in md


def test_markdown_reference_list_has_design_level_and_links() -> None:
    md = render_markdown(make_answer())
    references = md[md.index("## References") :]
    assert references.startswith("## References\n\n1. **Surgical removal of primary tumor")
    assert "Badwe R, Parmar V, Hawaldar R, et al. *Lancet Oncol* 2015." in references
    assert "PMID [24105890](https://pubmed.ncbi.nlm.nih.gov/24105890/)" in references
    assert "(https://doi.org/10.1016/S1470-2045%2815%2900135-7)" in references
    assert "*Randomized controlled trial · Level 2*" in references
    assert "*Cohort, retrospective or registry study · Level 3*" in references
    assert "javascript:" not in md
    assert "[Source](https://example.org/registry-7)" in references


def test_markdown_escapes_hostile_text() -> None:
    md = render_markdown(make_answer(question=f"Q {HOSTILE}\n# injected heading", bottom_line_text=HOSTILE))
    assert HOSTILE not in md
    assert "\\<script\\>alert(1)\\</script\\>" in md
    assert "\n# injected" not in md


# -- HTML ----------------------------------------------------------------------------------------


def _page(answer: Answer) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(render_html(answer))


def test_html_is_a_standalone_accessible_page() -> None:
    html = render_html(make_answer())
    page = lxml.html.document_fromstring(html)
    assert page.get("lang") == "en"
    assert page.xpath("//meta[@name='viewport']")
    assert page.findtext(".//title").startswith("Does removing the primary tumor help")
    assert "@media print" in html
    # Nothing to fetch: no external stylesheet, script or image.
    assert not page.xpath("//link[@rel='stylesheet'] | //script[@src] | //img")
    levels = [int(h.tag[1]) for h in page.iter("h1", "h2", "h3", "h4", "h5", "h6")]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), levels
    textarea = page.get_element_by_id("follow-up-question")
    assert page.xpath("//label[@for='follow-up-question']")
    assert textarea.get("name") == "question"


def test_html_order_and_sections() -> None:
    page = _page(make_answer())
    h2 = [h.text_content() for h in page.iter("h2")]
    assert h2 == [
        "Bottom line",
        "What the studies found",
        "This patient",
        "Where the evidence disagrees",
        "Evidence summary",
        "What your library does not cover",
        "References",
        "Professional medical disclaimer",
        "Have a follow-up question?",
    ]
    assert page.xpath("//section[@data-key='this_patient']")
    verdict = page.find_class("verdict")[0].text_content()
    assert verdict == "Verdict: no — weighted by evidence level"
    gaps = page.xpath("//section[@aria-labelledby='h-gaps']//li/text()")
    assert gaps == ["No study in this library reports quality of life after surgery."]
    assert (
        "This information is intended for healthcare professionals." in page.find_class("disclaimer")[0].text_content()
    )


@pytest.mark.parametrize(
    ("status", "done", "current"),
    [
        (ReviewStatus.DRAFT, [], None),
        (ReviewStatus.SUBMITTED, [], "Submitted"),
        (ReviewStatus.UNDER_REVIEW, ["Submitted"], "Under Review"),
        (ReviewStatus.CHANGES_REQUESTED, ["Submitted"], "Under Review"),
        (ReviewStatus.APPROVED, ["Submitted", "Under Review"], "Approved"),
        (ReviewStatus.PUBLISHED, ["Submitted", "Under Review"], "Approved"),
        (ReviewStatus.REJECTED, ["Submitted", "Under Review"], "Rejected"),
    ],
)
def test_html_review_banner_marks_the_current_step(status: ReviewStatus, done: list[str], current: str | None) -> None:
    page = _page(make_answer(status=status))
    banner = page.xpath("//header[@aria-label='Article review status']")[0]
    assert "Article Review Status" in banner.text_content()
    steps = banner.xpath(".//li")
    assert len(steps) == 3
    assert [s.text_content() for s in steps if "done" in s.get("class")] == done
    marked = [s.text_content() for s in steps if s.get("aria-current") == "step"]
    assert marked == ([current] if current else [])


def test_html_citations_link_to_references_and_show_the_cited_span() -> None:
    page = _page(make_answer())
    bottom = page.get_element_by_id("h-bottom-line").getparent()
    link = bottom.xpath(".//sup[@class='cites']/a")[0]
    assert link.get("href") == "#ref-1"
    assert link.text_content() == "1"
    assert link.get("title") == TRIAL_SENTENCE  # hover
    details = bottom.xpath(".//details[@class='source']")[0]  # expand, works without JavaScript
    assert details.findtext("summary") == "Source text"
    assert TRIAL_SENTENCE in details.text_content()
    assert f"characters {TRIAL_SPAN.start}\u2013{TRIAL_SPAN.end}" in details.text_content()
    reference = page.get_element_by_id("ref-1")
    assert reference.tag == "li" and reference.get("value") == "1"


def test_html_framing_statement_without_spans_describes_its_references() -> None:
    page = _page(make_answer())
    framing = page.find_class("framing")[0]
    titles = [a.get("title") for a in framing.xpath(".//sup/a")]
    assert titles[0].startswith("Surgical removal of primary tumor") and "Level 2" in titles[0]
    assert not framing.xpath(".//details")


def test_html_conflict_box_shows_both_sides() -> None:
    page = _page(make_answer())
    conflict = page.find_class("conflict")[0]
    sides = conflict.find_class("side")
    assert [s.findtext("h4") for s in sides] == ["Benefit", "No benefit"]
    assert "1,234 participants" in sides[0].text_content()
    assert "Cohort, retrospective or registry study · 1,234 participants" in sides[0].text_content()
    assert "Randomized controlled trial · 350 participants" in sides[1].text_content()
    assert "350 participants" in sides[1].text_content()
    assert "Why they differ" in conflict.text_content()
    assert "fitter women were chosen for surgery" in conflict.text_content()
    assert "The trial enrolled 350 women." in conflict.text_content()


def test_html_references_have_badges_and_safe_links() -> None:
    page = _page(make_answer())
    first = page.get_element_by_id("ref-1")
    hrefs = [a.get("href") for a in first.iter("a")]
    assert "https://pubmed.ncbi.nlm.nih.gov/24105890/" in hrefs
    assert "https://doi.org/10.1016/S1470-2045%2815%2900135-7" in hrefs
    assert not any(h.startswith("javascript") for h in hrefs)
    assert first.find_class("design")[0].text_content() == "Randomized controlled trial"
    assert first.find_class("level")[0].text_content() == "Level 2"
    assert "level-2" in first.find_class("level")[0].get("class")
    second = page.get_element_by_id("ref-2")
    assert [a.get("href") for a in second.iter("a")] == ["https://example.org/registry-7"]
    assert second.find_class("level")[0].text_content() == "Level 3"


def test_html_evidence_summary_counts_by_design() -> None:
    page = _page(make_answer())
    rows = [[cell.text_content() for cell in row] for row in page.xpath("//table[@class='evidence']/tbody/tr")]
    assert rows == [
        ["Randomized controlled trial", "Level 2", "1", "1"],
        ["Cohort, retrospective or registry study", "Level 3", "1", "2"],
    ]
    facts = page.xpath("//dl[@class='facts']/dt/text()")
    assert facts == ["Documents considered"]  # nested entries stay in the JSON


def test_html_follow_up_form_carries_the_answer_id() -> None:
    page = _page(make_answer())
    form = page.xpath("//form")[0]
    assert form.get("method") == "post" and form.get("action") == "/ask"
    hidden = {i.get("name"): i.get("value") for i in form.xpath(".//input[@type='hidden']")}
    assert hidden == {"follow_up_of": "ans-7f3a", "audience": "clinician"}


def test_html_escapes_everything_from_the_answer() -> None:
    answer = make_answer(question=HOSTILE, bottom_line_text=f'Say "{HOSTILE}"')
    answer.sections[0].title = HOSTILE
    answer.references[0].title = HOSTILE
    answer.references[0].passages = [ReferencePassage(11, HOSTILE, TRIAL_SPAN.start, TRIAL_SPAN.start + len(HOSTILE))]
    answer.bottom_line[0].spans = [CitedSpan(1, 11, TRIAL_SPAN.start, TRIAL_SPAN.start + len(HOSTILE))]
    answer.gaps = [HOSTILE]
    answer.disclaimer = HOSTILE
    answer.id = '"><script>alert(3)</script>'
    html = render_html(answer)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    page = lxml.html.document_fromstring(html)
    assert len(page.xpath("//script")) == 1  # the page's own print helper, nothing injected
    assert HOSTILE in page.findtext(".//h1")
    assert page.xpath("//sup[@class='cites']/a")[0].get("title") == HOSTILE
    assert page.xpath("//input[@name='follow_up_of']")[0].get("value") == answer.id


def test_html_patient_audience_uses_its_disclaimer_heading() -> None:
    page = _page(make_answer(audience=Audience.PATIENT))
    assert page.get_element_by_id("h-disclaimer").text_content() == "Medical disclaimer"
    assert "For patients and families" in page.find_class("meta")[0].text_content()


# -- terminal text and JSON ----------------------------------------------------------------------


def test_text_has_headings_citations_references_and_disclaimer() -> None:
    text = render_text(make_answer(), console_width=100)
    assert "\x1b[" not in text
    for heading in (
        "Bottom line",
        "What the studies found",
        "This patient",
        "Where the evidence disagrees",
        "What your library does not cover",
        "References",
        "Professional medical disclaimer",
    ):
        assert f"\n{heading} ────" in text
    assert "randomized trial. [1]" in text
    assert "The evidence is 1 randomized trial [1] and 1 registry study [2]. [1,2]" in text
    assert "Randomized controlled trial · Level 2" in text
    assert "Cohort, retrospective or registry study · Level 3" in text
    assert "PMID 24105890" in text
    assert "This information is intended for healthcare professionals." in text
    assert "Verdict: no — weighted by evidence level" in text
    assert all(len(line) <= 100 for line in text.splitlines())


def test_text_styles_are_opt_in_and_markup_is_not_interpreted() -> None:
    answer = make_answer(bottom_line_text="[bold red]not markup[/] :smile:")
    plain = render_text(answer, console_width=80)
    assert "[bold red]not markup[/] :smile:" in plain
    styled = render_text(answer, console_width=80, styles=True)
    assert "\x1b[1m" in styled  # bold headings


def test_json_is_the_answer_contract() -> None:
    answer = make_answer(bottom_line_text="Überleben: no benefit")
    data = json.loads(render_json(answer))
    assert data == answer.to_dict()
    assert "Überleben" in render_json(answer)


def test_renderers_table_names_every_format() -> None:
    assert sorted(RENDERERS) == ["html", "json", "md", "text"]
    answer = make_answer()
    assert all(isinstance(render(answer), str) and render(answer) for render in RENDERERS.values())
