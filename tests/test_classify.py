"""Study design and evidence level: metadata first, then cue phrases, with the evidence quoted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medevidence.ingest.classify import LEVELS, classify
from medevidence.models import Classification, EvidenceLevel, ParsedDocument, SourceFormat, StudyDesign

D = StudyDesign
L = EvidenceLevel


def doc(text: str = "", title: str = "", types: tuple[str, ...] = (), mesh: tuple[str, ...] = ()) -> ParsedDocument:
    return ParsedDocument(
        text=text,
        title=title,
        source_format=SourceFormat.TEXT,
        publication_types=list(types),
        mesh_terms=list(mesh),
    )


def quoted(reason: str) -> list[str]:
    return re.findall(r"(?:text|title): '([^']*)'", reason)


def seed(seeds: Path, prefix: str) -> ParsedDocument:
    path = next(seeds.glob(f"{prefix}_*.txt"))
    text = path.read_text(encoding="utf-8")
    return ParsedDocument(text=text, source_format=SourceFormat.TEXT, title=text.strip().splitlines()[0])


RCT_ABSTRACT = (
    "BACKGROUND: Postoperative nausea is common. METHODS: In this double-blind trial, 240 adults were randomly "
    "assigned to ondansetron or placebo. RESULTS: Nausea fell from 34% to 17% (P = 0.002). CONCLUSIONS: "
    "Ondansetron reduced nausea."
)
COHORT_ABSTRACT = (
    "BACKGROUND: Surgery of the primary tumour in metastatic breast cancer is debated. METHODS: We performed a "
    "retrospective cohort study of 21,372 women in the National Cancer Database. RESULTS: Surgery was associated "
    "with longer survival (hazard ratio 0.71). CONCLUSIONS: Further randomized trials are needed before surgery "
    "can be recommended."
)
REVIEW_ABSTRACT = (
    "OBJECTIVE: To assess statins for primary prevention. METHODS: We searched MEDLINE, Embase and CENTRAL to "
    "March 2020 for randomized controlled trials. Two reviewers extracted data independently; disagreements were "
    "resolved by consensus. Random-effects meta-analysis pooled 18 trials (n = 56,934). RESULTS: Statins reduced "
    "mortality (RR 0.86). CONCLUSIONS: This systematic review supports statins."
)


# --- the four seed documents -------------------------------------------------------------------


def test_uptodate_topic_is_a_reference_topic(seeds: Path) -> None:
    result = classify(seed(seeds, "001"))
    assert (result.design, result.level) == (D.NARRATIVE_REVIEW, L.LEVEL_5)
    assert quoted(result.reason)


def test_patient_article_is_patient_information(seeds: Path) -> None:
    result = classify(seed(seeds, "002"))
    assert (result.design, result.level) == (D.PATIENT_INFORMATION, L.NOT_GRADED)
    assert "Medical Review Board" in result.reason


def test_expert_panel_with_polls_is_consensus_despite_the_trial_it_discusses(seeds: Path) -> None:
    result = classify(seed(seeds, "003"))
    assert (result.design, result.level) == (D.CONSENSUS, L.LEVEL_5)
    assert "consensus" in result.reason


def test_news_of_a_randomised_trial_gets_the_trials_level(seeds: Path) -> None:
    result = classify(seed(seeds, "004"))
    assert (result.design, result.level) == (D.NEWS_REPORT, L.LEVEL_2)
    assert result.reason.startswith("news report (text: '")
    assert " of a randomized controlled trial (text: '" in result.reason
    assert "randomly assigned 350 patients" in result.reason


# --- publication types and MeSH ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("types", "design", "level"),
    [
        (("Journal Article", "Randomized Controlled Trial"), D.RCT, L.LEVEL_2),
        (("Meta-Analysis",), D.SYSTEMATIC_REVIEW, L.LEVEL_1),
        (("Review", "Systematic Review"), D.SYSTEMATIC_REVIEW, L.LEVEL_1),
        (("Practice Guideline",), D.GUIDELINE, L.LEVEL_5),
        (("Consensus Development Conference",), D.CONSENSUS, L.LEVEL_5),
        (("Case Reports", "Review"), D.CASE_SERIES, L.LEVEL_4),
        (("Observational Study", "Multicenter Study"), D.COHORT, L.LEVEL_3),
        (("Review",), D.NARRATIVE_REVIEW, L.LEVEL_5),
        (("Editorial",), D.NARRATIVE_REVIEW, L.LEVEL_5),
        (("Patient Education Handout",), D.PATIENT_INFORMATION, L.NOT_GRADED),
        (("Randomized Controlled Trial, Veterinary",), D.ANIMAL_LAB, L.LEVEL_5),
    ],
)
def test_publication_types(types: tuple[str, ...], design: StudyDesign, level: EvidenceLevel) -> None:
    result = classify(doc("A short note.", types=types))
    assert (result.design, result.level) == (design, level)
    assert result.reason.startswith("publication type: ")


def test_publication_type_is_named_as_medline_spells_it() -> None:
    result = classify(doc(types=(" randomized controlled trial ", "Journal Article")))
    assert result.reason == "publication type: randomized controlled trial"


def test_publication_type_outranks_the_text() -> None:
    result = classify(doc(COHORT_ABSTRACT, types=("Randomized Controlled Trial",)))
    assert result == Classification(D.RCT, L.LEVEL_2, "publication type: Randomized Controlled Trial")


def test_clinical_trial_is_randomised_only_when_the_text_says_so() -> None:
    randomised = classify(doc(RCT_ABSTRACT, types=("Clinical Trial, Phase III",)))
    assert randomised.design is D.RCT
    assert randomised.reason.startswith("publication type: Clinical Trial, Phase III; text: '")
    single_arm = classify(doc("Forty patients received the drug; 12 responded.", types=("Clinical Trial",)))
    assert (single_arm.design, single_arm.level) == (D.COHORT, L.LEVEL_3)
    assert single_arm.reason == "publication type: Clinical Trial (the text does not say it was randomised)"


def test_review_with_a_systematic_search_is_a_systematic_review() -> None:
    result = classify(doc(REVIEW_ABSTRACT, types=("Review",)))
    assert result.design is D.SYSTEMATIC_REVIEW
    assert result.reason.startswith("publication type: Review; text: '")


def test_generic_publication_types_fall_through_to_the_text() -> None:
    result = classify(doc(RCT_ABSTRACT, types=("Journal Article", "Comparative Study", "Multicenter Study")))
    assert result.design is D.RCT
    assert result.reason.startswith("text: '")


def test_mesh_check_tags() -> None:
    assert classify(doc(mesh=("Animals", "Mice", "Breast Neoplasms"))) == Classification(
        D.ANIMAL_LAB, L.LEVEL_5, "MeSH: Animals (and not Humans)"
    )
    cohort = classify(doc(mesh=("Humans", "*Retrospective Studies/methods", "Female")))
    assert cohort == Classification(D.COHORT, L.LEVEL_3, "MeSH: Retrospective Studies")
    assert classify(doc(mesh=("Humans", "Case-Control Studies", "Retrospective Studies"))).design is D.CASE_CONTROL


def test_mesh_topics_say_what_an_article_is_about_not_what_it_is() -> None:
    result = classify(doc("Notes on trial design.", mesh=("Humans", "Randomized Controlled Trials as Topic")))
    assert (result.design, result.level) == (D.UNKNOWN, L.NOT_GRADED)


# --- text cues ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "design"),
    [
        (RCT_ABSTRACT, D.RCT),
        (REVIEW_ABSTRACT, D.SYSTEMATIC_REVIEW),
        (COHORT_ABSTRACT, D.COHORT),
        (
            "We conducted a case-control study of 212 women with ovarian cancer and 424 age-matched controls.",
            D.CASE_CONTROL,
        ),
        (
            "We report a case of a 45-year-old woman with a rare presentation of sarcoidosis of the breast.",
            D.CASE_SERIES,
        ),
        (
            "Tumour growth was measured in nude mice bearing MDA-MB-231 xenografts and in cultured cell lines.",
            D.ANIMAL_LAB,
        ),
        (
            "This guideline was developed by an expert panel. Strong recommendation, moderate-quality evidence: "
            "offer endocrine therapy. The Society recommends annual review.",
            D.GUIDELINE,
        ),
        (
            "A modified Delphi process was used. Panel members voted in two rounds and consensus was reached "
            "when 75% agreed.",
            D.CONSENSUS,
        ),
        (
            "Talk to your doctor before you stop any medicine. Your doctor can tell you what side effects to "
            "expect and what you can do about them.",
            D.PATIENT_INFORMATION,
        ),
        (
            "Summary and recommendations\nWe suggest endocrine therapy first (Grade 2C). "
            "Literature review current through: Mar 2017. This topic last updated: Nov 12, 2015.",
            D.NARRATIVE_REVIEW,
        ),
    ],
)
def test_text_cues(text: str, design: StudyDesign) -> None:
    result = classify(doc(text))
    assert result.design is design
    assert result.level is LEVELS[design]


def test_reason_quotes_the_phrase_with_its_context() -> None:
    result = classify(doc(RCT_ABSTRACT))
    assert result.reason == "text: '240 adults were randomly assigned to ondansetron or placebo.'"


def test_quotes_are_short_and_come_from_the_document() -> None:
    long_sentence = "Overall " * 30 + "eligible patients were randomly assigned to one of two arms " + "today " * 30
    result = classify(doc(long_sentence))
    [quote] = quoted(result.reason)
    assert "randomly assigned" in quote
    assert len(quote) <= 80
    assert quote in " ".join(long_sentence.split())


def test_title_counts_and_is_named_as_the_source() -> None:
    result = classify(doc("Outcomes at one year are reported.", title="Ondansetron after surgery: a randomized trial"))
    assert result.design is D.RCT
    assert result.reason == "title: 'Ondansetron after surgery: a randomized trial'"


def test_unicode_hyphens_are_read_and_quoted_as_written() -> None:
    result = classify(doc("We performed a systematic review and meta\u2011analysis of 12 trials."))
    assert result.design is D.SYSTEMATIC_REVIEW
    assert "meta\u2011analysis" in result.reason or "systematic review" in result.reason


# --- traps: phrases about other or future studies ----------------------------------------------


def test_calls_for_more_trials_do_not_make_a_cohort_study_a_trial() -> None:
    result = classify(doc(COHORT_ABSTRACT))
    assert (result.design, result.level) == (D.COHORT, L.LEVEL_3)
    assert "randomized" not in result.reason


@pytest.mark.parametrize(
    "sentence",
    [
        "A randomised trial is needed to settle the question.",
        "Previous randomized controlled trials found no benefit of surgery.",
        "Well-designed randomized trials are lacking.",
        "Smith et al. reported a randomized controlled trial in 2015.",
    ],
)
def test_trials_mentioned_but_not_done_are_not_evidence_of_a_trial(sentence: str) -> None:
    text = f"We describe outcomes after mastectomy in stage IV disease. {sentence}"
    assert classify(doc(text)).design is not D.RCT


def test_a_non_randomised_trial_is_not_randomised() -> None:
    text = "METHODS: In this prospective, non-randomized, controlled pilot trial, 40 patients received the drug."
    assert classify(doc(text)).design is not D.RCT


def test_reviews_that_pool_trials_stay_reviews() -> None:
    assert classify(doc(REVIEW_ABSTRACT)).design is D.SYSTEMATIC_REVIEW


def test_background_trials_do_not_outweigh_a_case_control_design() -> None:
    text = (
        "BACKGROUND: Earlier randomized trials of aspirin were inconclusive. METHODS: In this case-control study "
        "we compared 300 cases with 600 matched controls."
    )
    assert classify(doc(text)).design is D.CASE_CONTROL


def test_reference_lists_are_not_evidence() -> None:
    text = (
        "Surgery of the primary tumour remains debated.\n\nReferences\n"
        "1. Badwe R, Hawaldar R, Nair N, et al. Locoregional treatment: an open-label randomised controlled trial. "
        "Lancet Oncol 2015; 16:1380.\n"
    )
    assert classify(doc(text)).design is D.UNKNOWN


def test_questionnaires_in_a_trial_report_do_not_make_it_a_patient_page() -> None:
    text = RCT_ABSTRACT + " Participants were asked: How often do you feel sick? Talk to your doctor if you do."
    assert classify(doc(text)).design is D.RCT


def test_a_patient_page_about_research_stays_a_patient_page() -> None:
    # NIH patient pages explain clinical trials and animal research to their readers.
    text = (
        "What is stroke? A stroke happens when blood flow to your brain stops. If your risk is high, you and "
        "your doctor need to work out a plan to lower it. Talk to your doctor about the medicines you take. "
        "Scientists can also use animal models to test promising therapies for stroke. Clinical trial "
        "participants help doctors find better treatments. Ask your doctor whether a trial is right for you."
    )
    assert classify(doc(text, title="Stroke")).design is D.PATIENT_INFORMATION


# --- levels and the unknown --------------------------------------------------------------------


def test_every_design_has_a_level() -> None:
    assert set(LEVELS) == set(StudyDesign)
    assert LEVELS[D.GUIDELINE] is L.LEVEL_5
    assert LEVELS[D.UNKNOWN] is LEVELS[D.PATIENT_INFORMATION] is L.NOT_GRADED


def test_nothing_to_go_on_is_unclassified() -> None:
    result = classify(doc("The weather was fine."))
    assert result == Classification(
        D.UNKNOWN,
        L.NOT_GRADED,
        "no publication type, MeSH heading or phrase in the text identifies the study design",
    )


def test_news_of_an_unclassifiable_study_is_not_graded() -> None:
    text = "\u201cThe results surprised us all,\u201d she said at a press briefing on Tuesday, in an interview."
    result = classify(doc(text))
    assert (result.design, result.level) == (D.NEWS_REPORT, L.NOT_GRADED)
    assert result.reason.endswith("; the study it reports could not be classified")


def test_a_section_heading_at_the_very_end_of_the_text_is_read_without_error() -> None:
    # The heading pattern also matches at the end of the text, where its delimiter is empty.
    for text in ("We randomly assigned 40 patients.\nresults", "We randomly assigned 40 patients.\nResults"):
        assert classify(doc(text)).design is D.RCT


@given(st.text(max_size=400), st.text(max_size=60))
def test_any_text_gets_a_consistent_classification(text: str, title: str) -> None:
    result = classify(doc(text, title=title))
    if result.design is not D.NEWS_REPORT:
        assert result.level is LEVELS[result.design]
    for quote in quoted(result.reason):
        assert len(quote) <= 81
