"""Question frames: kind, yes/no, PICO-lite slots and follow-ups, across specialties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medevidence.question import QuestionFrame, QuestionKind, parse_question, resolve_follow_up

ONCOLOGY = "What is the role of mastectomy in stage 4 invasive ductal carcinoma?"


def test_role_of_x_in_y() -> None:
    frame = parse_question(ONCOLOGY)
    assert frame.kind is QuestionKind.TREATMENT
    assert not frame.is_yes_no
    assert frame.intervention == "mastectomy"
    assert frame.population == "stage 4 invasive ductal carcinoma"
    assert frame.text == ONCOLOGY
    assert frame.focus_terms[:2] == ("mastectomy", "stage")


def test_does_x_reduce_y_in_z() -> None:
    frame = parse_question("Does dapagliflozin reduce mortality in patients with heart failure?")
    assert frame.is_yes_no
    assert frame.kind is QuestionKind.TREATMENT
    assert (frame.intervention, frame.outcome, frame.population, frame.relation) == (
        "dapagliflozin",
        "mortality",
        "patients with heart failure",
        "reduce",
    )


def test_comparator_after_versus() -> None:
    frame = parse_question("Is aspirin versus clopidogrel better for secondary prevention of stroke?")
    assert frame.is_yes_no
    assert (frame.intervention, frame.comparator) == ("aspirin", "clopidogrel")
    assert frame.population == "secondary prevention of stroke"


@pytest.mark.parametrize(
    ("question", "slots"),
    [
        (
            "Is dabigatran better than warfarin for preventing stroke in atrial fibrillation?",
            ("dabigatran", "warfarin", "better than", "preventing stroke", "atrial fibrillation"),
        ),
        ("Is X superior to Y?", ("X", "Y", "superior to", "", "")),
        ("Is X more effective than Y for Z?", ("X", "Y", "more effective than", "", "Z")),
        ("Does X work better than Y?", ("X", "Y", "better than", "", "")),
        ("Is X inferior to Y in reducing mortality?", ("X", "Y", "inferior to", "reducing mortality", "")),
        (
            "Is laparoscopic surgery superior to open surgery in elderly patients?",
            ("laparoscopic surgery", "open surgery", "superior to", "", "elderly patients"),
        ),
        ("Does X reduce mortality compared with Y in Z?", ("X", "Y", "reduce", "mortality", "Z")),
    ],
)
def test_a_comparison_names_its_comparator(question: str, slots: tuple[str, str, str, str, str]) -> None:
    frame = parse_question(question)
    assert frame.is_yes_no
    assert (frame.intervention, frame.comparator, frame.relation, frame.outcome, frame.population) == slots


def test_comparator_in_a_title_without_a_verb() -> None:
    frame = parse_question("Remdesivir vs placebo for hospitalized COVID-19")
    assert not frame.is_yes_no
    assert (frame.intervention, frame.comparator, frame.population) == (
        "Remdesivir",
        "placebo",
        "hospitalized COVID-19",
    )


def test_diagnostic_accuracy_question() -> None:
    frame = parse_question("What is the sensitivity of procalcitonin for bacterial sepsis?")
    assert frame.kind is QuestionKind.DIAGNOSIS
    assert (frame.intervention, frame.population) == ("procalcitonin", "bacterial sepsis")


def test_drug_questions() -> None:
    side_effects = parse_question("What are the side effects of amiodarone?")
    assert side_effects.kind is QuestionKind.DRUG
    assert (side_effects.intervention, side_effects.outcome) == ("amiodarone", "side effects")
    dose = parse_question("What is the recommended dose of vancomycin in children?")
    assert dose.kind is QuestionKind.DRUG
    assert (dose.intervention, dose.population) == ("vancomycin", "children")


def test_prognosis_questions() -> None:
    frame = parse_question("What is the prognosis of stage III colon cancer?")
    assert frame.kind is QuestionKind.PROGNOSIS
    assert frame.population == "stage III colon cancer"
    # A cause raising a risk is not a treatment question, though it has a verb of change.
    risk = parse_question("Does hypoglycaemia increase the risk of cardiovascular events?")
    assert risk.kind is QuestionKind.PROGNOSIS
    assert (risk.intervention, risk.outcome, risk.relation) == (
        "hypoglycaemia",
        "risk of cardiovascular events",
        "increase",
    )


def test_how_is_y_diagnosed() -> None:
    frame = parse_question("How is type 1 diabetes diagnosed?")
    assert frame.kind is QuestionKind.DIAGNOSIS
    assert frame.population == "type 1 diabetes"


def test_title_then_question_reads_it_as_the_title() -> None:
    frame = parse_question("Therapeutic anticoagulation in the trauma patient: is it safe?")
    assert frame.is_yes_no
    assert (frame.intervention, frame.population, frame.relation) == (
        "Therapeutic anticoagulation",
        "trauma patient",
        "safe",
    )


def test_is_there_a_role_for_x_in_y() -> None:
    frame = parse_question("Is there a role for antibiotics in acute bronchitis?")
    assert frame.is_yes_no
    assert (frame.intervention, frame.population) == ("antibiotics", "acute bronchitis")


def test_association_question() -> None:
    frame = parse_question("Is obesity associated with asthma in children?")
    assert (frame.intervention, frame.relation, frame.outcome, frame.population) == (
        "obesity",
        "associated with",
        "asthma",
        "children",
    )


def test_adjective_inside_the_subject_is_not_the_predicate() -> None:
    frame = parse_question("Is a mandatory surgery rotation necessary in the clerkship?")
    assert (frame.intervention, frame.relation, frame.population) == (
        "mandatory surgery rotation",
        "necessary",
        "clerkship",
    )


def test_yes_no_detection_by_leading_auxiliary() -> None:
    for question in ("Should statins be used in the elderly?", "Can HbA1c be used to screen for diabetes?"):
        assert parse_question(question).is_yes_no
    for question in ("How is malaria treated?", "Which antibiotic for cellulitis?"):
        assert not parse_question(question).is_yes_no


def test_a_yes_no_question_put_as_a_title_has_no_auxiliary() -> None:
    for question in (
        "Estimated fetal weight by ultrasound: a modifiable risk factor for cesarean delivery?",
        "Syncope during bathing in infants, a pediatric form of water-induced urticaria?",
        "Acute respiratory distress syndrome in children with malignancy--can we predict outcome?",
    ):
        assert parse_question(question).is_yes_no, question
    for question in ("Mastectomy in stage 4 breast cancer?", "Stage 4 breast cancer: what are the options?"):
        assert not parse_question(question).is_yes_no, question


def test_relevance_counts_half_the_focus_terms_as_full() -> None:
    frame = parse_question("Does metformin reduce mortality in type 2 diabetes?")
    assert frame.relevance("Metformin reduced all-cause mortality in type 2 diabetes.") == 1.0
    assert frame.relevance("Bananas are yellow.") == 0.0
    assert 0.0 < frame.relevance("Mortality was unchanged.") < 1.0


@given(st.text(max_size=200))
def test_parse_never_fails(text: str) -> None:
    frame = parse_question(text)
    assert isinstance(frame.kind, QuestionKind)
    assert 0.0 <= frame.relevance(text) <= 1.0


# -- follow-ups --------------------------------------------------------------------------------


@pytest.fixture
def oncology() -> QuestionFrame:
    return parse_question(ONCOLOGY)


def test_follow_up_replaces_the_intervention(oncology: QuestionFrame) -> None:
    frame = resolve_follow_up(oncology, "what about radiation instead?")
    assert frame.intervention == "radiation"
    assert frame.population == oncology.population
    assert frame.text == "What is the role of radiation in stage 4 invasive ductal carcinoma?"


def test_follow_up_refines_the_population(oncology: QuestionFrame) -> None:
    frame = resolve_follow_up(oncology, "and for HER2-positive disease?")
    assert frame.intervention == "mastectomy"
    assert frame.population == "HER2-positive stage 4 invasive ductal carcinoma"
    assert frame.text == "What is the role of mastectomy in HER2-positive stage 4 invasive ductal carcinoma?"


def test_follow_up_asks_for_harms(oncology: QuestionFrame) -> None:
    frame = resolve_follow_up(oncology, "what are the risks?")
    assert (frame.intervention, frame.population) == (oncology.intervention, oncology.population)
    assert frame.outcome == "risks and harms"
    assert frame.kind is QuestionKind.TREATMENT
    assert frame.text == "What are the risks and harms of mastectomy in stage 4 invasive ductal carcinoma?"


def test_standalone_question_is_not_merged(oncology: QuestionFrame) -> None:
    question = "Does chemotherapy improve survival in patients with metastatic pancreatic cancer?"
    assert resolve_follow_up(oncology, question) == parse_question(question)


def test_follow_ups_in_cardiometabolic_care() -> None:
    previous = parse_question("Does metformin reduce mortality in patients with type 2 diabetes?")
    safe = resolve_follow_up(previous, "is it safe?")
    assert safe.text == "Is metformin safe in patients with type 2 diabetes?"
    older = resolve_follow_up(previous, "and for older adults?")
    assert older.population == "older adults with type 2 diabetes"
    assert older.text == "Does metformin reduce mortality in older adults with type 2 diabetes?"
    survival = resolve_follow_up(previous, "does it improve survival?")
    assert (survival.intervention, survival.outcome, survival.relation) == ("metformin", "survival", "improve")


def test_empty_follow_up_keeps_the_question(oncology: QuestionFrame) -> None:
    assert resolve_follow_up(oncology, "  ") == oncology
