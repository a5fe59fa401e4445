"""Patient language: lay terms, statistics removed, long sentences split, reading grade."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medevidence.plain import lay_terms, plain_words, reading_grade, syllables, to_plain

DENSE = [
    "Adjuvant chemotherapy significantly improved disease-free survival (HR 0.82; 95% CI 0.70-0.90; P = .01) in "
    "patients with hypertension and myocardial infarction; adverse events were more frequent in the elderly.",
    "Local progression-free survival was better with surgery plus radiation (hazard ratio [HR] = 0.16), but distant "
    "progression-free survival was worse in this group (HR = 1.42; P = .01), Dr. Badwe reported.",
    "At 72 months, overall survival (OS) was 20.5% for the nonsurgical group and 19.2% for the surgical group [4].",
    "In a multicenter randomized controlled trial, anticoagulation reduced the incidence of venous thromboembolism "
    "from 4.5% to 2.1% (OR 0.45; 95% CI, 0.30 to 0.68; P<0.001); however, hemorrhage occurred in 3.2% of patients.",
    "Treatment-related adverse events, predominantly neutropenia and fatigue, were observed in 38% of participants, "
    "whereas all-cause mortality at 24 months was comparable between groups (11.2% vs 10.9%, p = 0.74).",
    "In de novo stage IV inflammatory breast cancer, modified radical mastectomy was independently associated with "
    "improved overall survival (58 months vs 19 months without surgery, p<0.001).",
]
HEADLINE_NUMBERS = [
    [],
    [],
    ["72", "20.5%", "19.2%"],
    ["4.5%", "2.1%", "3.2%"],
    ["38%", "24", "11.2%", "10.9%"],
    ["58", "19"],
]
STATISTICS = ["0.82", "0.70", "P =", "0.16", "1.42", "0.45", "0.68", "P<", "0.74", "p<0.001", "[4]", "(OS)", "HR", "CI"]


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[^\W_]+", text)}


# -- lay terms -----------------------------------------------------------------------------------


def test_lay_terms_replace_whole_words_only() -> None:
    assert to_plain("Hypertension is common in metastatic breast cancer.") == (
        "High blood pressure is common in breast cancer that has spread to other parts of the body."
    )
    assert to_plain("Metastaticity is not a word we know.") == "Metastaticity is not a word we know."
    assert to_plain("Non-metastatic disease was excluded.") == "Non-metastatic disease was excluded."
    assert (
        to_plain("Patients with hypertensive crises were excluded.")
        == "Patients with hypertensive crises were excluded."
    )


def test_longest_term_wins_and_case_is_kept_at_sentence_start() -> None:
    assert to_plain("Median overall survival was 29 months.") == "Typical length of life was 29 months."
    assert to_plain("Overall survival was 29 months.") == "Length of life was 29 months."
    assert to_plain("They reported overall survival.") == "They reported length of life."
    assert to_plain("Adverse events were rare.") == "Side effects were rare."


def test_acronyms_match_only_as_written() -> None:
    assert to_plain("Patients with prior MI were excluded.") == "Patients with prior heart attack were excluded."
    assert to_plain("The mi of the group was low.") == "The mi of the group was low."


def test_an_adjective_moves_behind_its_noun_only_when_the_noun_phrase_ends() -> None:
    assert to_plain("Adjuvant chemotherapy was given.") == "Chemotherapy after the main treatment was given."
    # Another noun follows: moving would describe the decisions, so the term stays.
    assert to_plain("It guides adjuvant therapy decisions.") == "It guides adjuvant therapy decisions."
    # A bare use gets the gloss instead.
    assert to_plain("Metastatic breast cancer patients did well.") == (
        "Metastatic (spread to other parts of the body) breast cancer patients did well."
    )
    assert (
        to_plain("Metastatic tumors were removed.")
        == "Tumors that have spread to other parts of the body were removed."
    )


def test_articles_agree_with_the_replacement() -> None:
    assert to_plain("An RCT showed a benefit.") == "A study that assigned treatments by chance showed a benefit."
    assert to_plain("She had an adverse event.") == "She had a side effect."
    assert to_plain("He had a exacerbation.") == "He had a flare-up."


def test_a_design_adjective_before_a_replaced_trial_loses_its_comma() -> None:
    assert to_plain("An open-label, randomized trial found no survival difference.") == (
        "An open-label study that assigned treatments by chance found no survival difference."
    )
    assert to_plain("A double-blind, placebo-controlled, randomised controlled trial found less pain.") == (
        "A double-blind, placebo-controlled study that assigned treatments by chance found less pain."
    )
    # A comma that ends an introductory phrase stays.
    assert to_plain("In this population, randomized trials showed a benefit.") == (
        "In this population, studies that assigned treatments by chance showed a benefit."
    )


# -- statistics and splitting --------------------------------------------------------------------


def test_statistics_go_and_headline_numbers_stay() -> None:
    sentence = "Trimodality therapy was associated with longer survival (58 months vs 19 months alone, p<0.001)."
    assert (
        to_plain(sentence)
        == "Trimodality therapy was linked to longer survival (58 months compared with 19 months alone)."
    )
    assert to_plain("Surgery reduced recurrence (HR 0.82; 95% CI 0.7-0.9; P = .01) [14].") == (
        "Surgery reduced return of the disease."
    )
    assert to_plain("Survival was longer, p < 0.001, with surgery [1, 3-5].") == "Survival was longer, with surgery."
    assert to_plain("The hazard ratio was 0.5 (95% CI, 0.3 to 0.8).") == "The relative risk over time was 0.5."


@pytest.mark.parametrize(("sentence", "numbers"), list(zip(DENSE, HEADLINE_NUMBERS, strict=True)))
def test_dense_sentences_get_easier_and_keep_their_numbers(sentence: str, numbers: list[str]) -> None:
    plain = to_plain(sentence)
    assert reading_grade(plain) < reading_grade(sentence), plain
    for number in numbers:
        assert number in plain
    for statistic in STATISTICS:
        assert statistic not in plain


def test_dense_sentences_reach_patient_level_on_average() -> None:
    before = sum(reading_grade(s) for s in DENSE) / len(DENSE)
    after = sum(reading_grade(to_plain(s)) for s in DENSE) / len(DENSE)
    assert before > 15
    assert after < 10
    assert reading_grade(" ".join(to_plain(s) for s in DENSE)) <= 9


def test_long_sentences_split_without_changing_words() -> None:
    assert to_plain("The first group lived longer; the second group did not live as long as the first.") == (
        "The first group lived longer. The second group did not live as long as the first."
    )
    long = "The patients in the first group lived for many more months, while the patients in the other group did not."
    assert to_plain(long) == (
        "The patients in the first group lived for many more months. But the patients in the other group did not."
    )
    concession = (
        "The typical survival is 18 to 24 months for most of these people, although the range is a few months to years."
    )
    assert to_plain(concession) == (
        "The typical survival is 18 to 24 months for most of these people. But the range is a few months to years."
    )
    # A contrast without its own subject, or "while" meaning "during", stays in its sentence.
    restricted = (
        "Surgery should not be offered as a routine practice to everyone, but should be kept as an option for relief."
    )
    assert to_plain(restricted).count(".") == 1
    during = "Blood pressure was measured in every patient at each visit, while receiving the study drug for a year."
    assert to_plain(during).count(".") == 1
    # Short sentences and fragments are left whole.
    assert to_plain("Survival improved, but not by much.") == "Survival improved, but not by much."
    assert to_plain("Check the dose (once; twice) daily.") == "Check the dose (once; twice) daily."
    joined = "Removing the tumour went with better survival at three years, and the type of operation did not matter."
    assert to_plain(joined) == (
        "Removing the tumour went with better survival at three years. The type of operation did not matter."
    )
    # "and" inside one list of things is not two clauses.
    listed = "The study enrolled women with breast cancer from ten hospitals, and men with prostate cancer from two."
    assert to_plain(listed) == listed


def test_the_frame_around_a_claim_goes_but_a_hedge_stays() -> None:
    quoted = (
        "\u201cThe clinical conclusion would be that surgery of the primary tumour did not result in longer lives, "
        "and hence should not be routine,\u201d according to Rajendra A. Badwe, MD, Director of the Hospital."
    )
    assert to_plain(quoted) == (
        "Surgery of the original tumour did not result in longer lives, and hence should not be routine."
    )
    assert to_plain("\u201cThe operation seems to help the cancer grow elsewhere,\u201d he commented.") == (
        "The operation seems to help the cancer grow elsewhere."
    )
    assert (
        to_plain("Local control was better with surgery, Dr. Badwe reported.")
        == "Local control was better with surgery."
    )
    assert to_plain("Our results demonstrate that kidney damage occurs after 30 minutes.") == (
        "Kidney damage occurs after 30 minutes."
    )
    assert to_plain("We found that the drug lowered pain scores.") == "The drug lowered pain scores."
    # A fragment the composer joins to other words keeps its (missing) punctuation.
    assert to_plain("The sources disagree about survival") == "The sources disagree about survival"
    hedged = "These results suggest that other factors may be responsible for the difference."
    assert to_plain(hedged) == hedged
    # Attribution inside a claim is part of it.
    assert to_plain("The drug, according to the guideline, is used first.") == (
        "The drug, according to the guideline, is used first."
    )


def test_asides_in_parentheses_go_but_numbers_hedges_and_labels_stay() -> None:
    assert to_plain("Eosinophils (in absolute values and percentages) were higher in all groups.") == (
        "Eosinophils were higher in all groups."
    )
    assert to_plain("Side effects (e.g. nausea and rash) were rare.") == "Side effects were rare."
    assert to_plain("The benefits of surgery (if any) must be weighed against its harms.") == (
        "The benefits of surgery (if any) must be weighed against its harms."
    )
    assert to_plain("Pain improved (but not in women) after the operation.") == (
        "Pain improved (but not in women) after the operation."
    )
    assert to_plain("Survival was 40% (surgery) and 22% (no surgery) at three years.") == (
        "Survival was 40% (surgery) and 22% (no surgery) at three years."
    )
    assert to_plain("The tumour (5 cm) was removed.") == "The tumour (5 cm) was removed."


def test_a_title_abbreviation_does_not_end_a_sentence_for_the_reading_grade() -> None:
    assert reading_grade("Dr. Smith saw the man. He was well.") == reading_grade("Mr Smith saw the man. He was well.")


def test_every_word_comes_from_the_source_or_the_lay_terms() -> None:
    allowed = plain_words()
    for sentence in DENSE:
        added = _words(to_plain(sentence)) - _words(sentence) - allowed
        assert added == set(), (sentence, added)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from([row.term for row in lay_terms()]),
            st.sampled_from(["the", "patients", "with", "had", "was", "and", "breast", "cancer", "12%", ",", ";"]),
            st.sampled_from(["(HR 0.5; 95% CI 0.3-0.8)", "[3]", "p < 0.05", "whereas", "(n = 40)", "vs"]),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_to_plain_never_adds_words_or_drops_headline_numbers(pieces: list[str]) -> None:
    sentence = " ".join(pieces) + "."
    plain = to_plain(sentence)
    assert _words(plain) - _words(sentence) - plain_words() == set()
    if "12%" in sentence:
        assert "12%" in plain


# -- the data ------------------------------------------------------------------------------------


def test_lay_terms_table_is_general_and_well_formed() -> None:
    rows = lay_terms()
    assert len(rows) >= 300
    keys = [(row.term.lower(), row.heads) for row in rows]
    assert len(keys) == len(set(keys)), "a term is listed twice with the same heads"
    for row in rows:
        # A lay phrase may not bring in a number the term did not have.
        assert set(re.findall(r"\d+", row.plain)) <= set(re.findall(r"\d+", row.term)), row
        assert row.term.strip() == row.term and row.plain.strip() == row.plain, row
    assert {"heart", "attack", "side", "effects", "blood", "pressure", "anti-clotting", "clotting"} <= plain_words()


# -- reading grade -------------------------------------------------------------------------------


def test_reading_grade_is_flesch_kincaid() -> None:
    assert reading_grade("") == 0.0
    # 6 words, 1 sentence, 6 syllables: 0.39 * 6 + 11.8 * 1 - 15.59
    assert reading_grade("The cat sat on the mat.") == pytest.approx(-1.45)
    # 2 sentences of 3 words; syllables: surgery 3, helped 1, women 2, they 1, lived 1, longer 2
    assert reading_grade("Surgery helped women. They lived longer.") == pytest.approx(
        0.39 * 3 + 11.8 * 10 / 6 - 15.59, abs=0.01
    )


def test_syllable_counts_are_right_for_most_words() -> None:
    known = {
        "disease": 2, "cases": 2, "assigned": 2, "increases": 3, "radiation": 4, "diet": 2, "quality": 3,
        "people": 2, "patient": 2, "survival": 3, "chemotherapy": 5, "metastatic": 4, "surgery": 3,
        "mastectomy": 4, "removal": 3, "cancer": 2, "study": 2, "trial": 2, "improved": 2, "hypertension": 4,
        "pressure": 2, "being": 2, "likely": 2, "ratio": 3, "median": 3, "management": 3, "fibrillation": 4,
        "the": 1, "12.8%": 1, "HER2-positive": 4,
    }  # fmt: skip
    wrong = {word: syllables(word) for word, count in known.items() if syllables(word) != count}
    assert wrong == {}
