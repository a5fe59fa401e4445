"""Finding stance (lexicon, negation scope, clauses) and the evidence-weighted verdict."""

from __future__ import annotations

import pytest

from medevidence.models import EvidenceLevel, StudyDesign, Verdict
from medevidence.question import parse_question
from medevidence.stance import (
    LEVEL_WEIGHTS,
    Finding,
    Hypothesis,
    Stance,
    co_statement_stance,
    finding_stance,
    finding_weight,
    hypothesis_of,
    supports,
    verdict,
    verdict_explanation,
    verdict_sides,
)


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Locoregional treatment did not significantly improve overall survival.", Stance.NO_BENEFIT),
        ("Primary tumour resection significantly reduced mortality.", Stance.BENEFIT),
        ("Anticoagulation was associated with increased risk of bleeding.", Stance.HARM),
        ("Patients were randomly assigned to surgery or no surgery.", None),
        ("Overall survival was 19.2% vs 20.5%.", None),
        ("Median overall survival was similar between the two arms (19.2 vs 20.5 months).", Stance.NO_BENEFIT),
        (
            "Locoregional treatment did not result in any overall survival benefit, and hence should not be offered"
            " as a routine practice.",
            Stance.NO_BENEFIT,
        ),
        ("Surgery was independently associated with improved overall survival (58 vs 19 months).", Stance.BENEFIT),
        ("Empagliflozin reduced the risk of cardiovascular death by 38%.", Stance.BENEFIT),
        ("Treatment failure was more frequent in the azithromycin group.", Stance.HARM),
        ("The nonsurgical group had no worse survival than the surgical group.", Stance.NO_BENEFIT),
        ("Doxycycline was not inferior to amoxicillin for clinical cure.", Stance.NO_BENEFIT),
        ("Adverse events were similar in both groups.", Stance.NO_BENEFIT),
        ("Higher HbA1c levels were not associated with mortality.", Stance.NO_BENEFIT),
        ("The addition of the drug increased toxicity without improving survival.", Stance.HARM),
        ("Although surgery improved local control, it did not prolong survival.", Stance.NO_BENEFIT),
        ("Oseltamivir shortened the duration of symptoms by one day.", Stance.BENEFIT),
        ("Insulin glargine was superior to NPH insulin in lowering nocturnal hypoglycaemia.", Stance.BENEFIT),
        ("We aimed to assess whether statins reduce mortality after stroke.", None),
        ("It remains unclear whether primary tumour resection improves survival.", None),
        ("Further randomized trials are needed to confirm these findings.", None),
        ("Patients at increased risk of stroke were included.", None),
        (
            "Although morbidity is low, the potential benefits of surgery on survival (if any) must be weighed"
            " against its harms.",
            None,
        ),
        # How often a bad or good outcome occurs is a direction too.
        ("Serious side effects were rare.", Stance.BENEFIT),
        ("Adherence to follow-up was low in this population.", Stance.HARM),
        # Negations the word window before a cue used to miss.
        ("Exercise improved neither blood pressure nor heart rate.", Stance.NO_BENEFIT),
        ("These results cast doubt on the suggested advantage of laparoscopy.", Stance.NO_BENEFIT),
        (
            "It does not seem that either significant improvements or detrimental effects have occurred.",
            Stance.NO_BENEFIT,
        ),
        ("There is little evidence that the campaigns were effective.", Stance.NO_BENEFIT),
        ("Chemoradiation alone is not safe to treat low rectal tumours.", Stance.HARM),
    ],
)
def test_stance_of_a_sentence(sentence: str, expected: Stance | None) -> None:
    assert finding_stance(sentence) == expected


def test_a_neutral_association_needs_a_question_to_have_a_direction() -> None:
    sentence = "Obesity was significantly associated with asthma."
    frame = parse_question("Is obesity associated with asthma?")
    assert finding_stance(sentence) is None
    assert finding_stance(sentence, frame) is Stance.BENEFIT
    assert supports(Stance.BENEFIT, frame)
    # A negated association is a null finding with or without a question.
    assert finding_stance("Obesity was not associated with asthma.") is Stance.NO_BENEFIT


def test_no_difference_between_two_active_treatments_is_not_no_benefit_of_treating() -> None:
    frame = parse_question("What is the role of mastectomy in stage 4 breast cancer?")
    sentence = (
        "Surgery was associated with superior survival at 3 years (40% versus 22% without surgery) and no difference"
        " in outcome could be found between breast-conserving therapy and mastectomy."
    )
    assert finding_stance(sentence, frame) is Stance.BENEFIT
    versus_none = "There was no difference in survival between patients treated with surgery and those without surgery."
    assert finding_stance(versus_none, frame) is Stance.NO_BENEFIT
    # When the question compares the two treatments, the same finding answers it.
    compared = parse_question("Is breast-conserving therapy as good as mastectomy?")
    assert finding_stance("No difference in survival was seen between lumpectomy and mastectomy.", compared) is (
        Stance.NO_BENEFIT
    )


def test_the_clause_naming_the_question_outcome_wins() -> None:
    sentence = "Radiotherapy improved local control, but it did not improve overall survival."
    assert finding_stance(sentence) is Stance.NO_BENEFIT
    frame = parse_question("Does radiotherapy improve local control?")
    assert finding_stance(sentence, frame) is Stance.BENEFIT


def test_the_question_predicate_is_read_back() -> None:
    frame = parse_question("Is cycloplegic refraction mandatory in young adults?")
    assert finding_stance("Cycloplegic refraction is mandatory in young adults.", frame) is Stance.BENEFIT
    assert finding_stance("Cycloplegic refraction was not mandatory in young adults.", frame) is Stance.NO_BENEFIT
    assert supports(Stance.BENEFIT, frame)


def test_dropping_a_step_without_loss_answers_yes_to_can_it_be_omitted() -> None:
    frame = parse_question("Can predilatation be omitted in transcatheter valve implantation?")
    stance = finding_stance("Predilatation can be omitted in most patients.", frame)
    assert stance is Stance.NO_BENEFIT
    assert supports(stance, frame)


@pytest.mark.parametrize(
    ("question", "hypothesis"),
    [
        ("Does surgery improve survival in stage IV disease?", Hypothesis.BENEFIT),
        ("What is the role of surgery in stage IV disease?", Hypothesis.BENEFIT),
        ("Does hypoglycaemia increase the risk of cardiovascular events?", Hypothesis.HARM),
        ("Is preoperative hyperglycaemia associated with increased mortality?", Hypothesis.HARM),
        ("Is deletion of 6q associated with shorter survival?", Hypothesis.HARM),
        ("Is anticoagulation safe in trauma patients?", Hypothesis.NO_HARM),
        ("Is obesity associated with asthma?", Hypothesis.ASSOCIATION),
        ("Do symptoms predict COPD in smokers?", Hypothesis.ASSOCIATION),
        ("Does intravitreal triamcinolone result in serious side effects?", Hypothesis.HARM),
        ("Is advanced age a contraindication to laparoscopic surgery?", Hypothesis.HARM),
        ("Does laparoscopic surgery influence liver cell activity?", Hypothesis.ASSOCIATION),
        ("Do the two scores agree?", Hypothesis.NO_HARM),
        ("Is juvenile spondylitis the same disease as adult spondylitis?", Hypothesis.NO_HARM),
    ],
)
def test_what_a_yes_would_claim(question: str, hypothesis: Hypothesis) -> None:
    assert hypothesis_of(parse_question(question)) is hypothesis


@pytest.mark.parametrize(
    ("question", "hypothesis"),
    [
        ("Is dabigatran better than warfarin for preventing stroke?", Hypothesis.BENEFIT),
        ("Is X more effective than Y?", Hypothesis.BENEFIT),
        ("Is X less effective than Y?", Hypothesis.HARM),
        ("Is X more harmful than Y?", Hypothesis.HARM),
        ("Is X inferior to Y?", Hypothesis.HARM),
        ("Is X as effective as Y?", Hypothesis.NO_HARM),
    ],
)
def test_what_a_yes_to_a_comparison_would_claim(question: str, hypothesis: Hypothesis) -> None:
    assert hypothesis_of(parse_question(question)) is hypothesis


COMPARISON = "Is dabigatran better than warfarin for preventing stroke in atrial fibrillation?"


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("The higher dose of dabigatran was superior to warfarin.", Stance.BENEFIT),
        ("Dabigatran was inferior to warfarin.", Stance.HARM),
        # The effect is the comparator's: its loss is the intervention's gain, and the other way round.
        ("LVH was associated with a lower antithrombotic efficacy of warfarin, but not of dabigatran.", Stance.BENEFIT),
        (
            "These analyses suggest a more protective effect of well-controlled warfarin compared with dabigatran.",
            Stance.HARM,
        ),
        ("Warfarin was superior to dabigatran.", Stance.HARM),
        ("Warfarin was inferior to dabigatran.", Stance.BENEFIT),
        ("Compared with dabigatran, warfarin reduced stroke.", Stance.HARM),
        ("Compared with warfarin, dabigatran reduced stroke.", Stance.BENEFIT),
        ("Bleeding was more frequent with warfarin than with dabigatran.", Stance.BENEFIT),
        ("Dabigatran, but not warfarin, reduced stroke.", Stance.BENEFIT),
        # A null finding is null whichever arm is named first.
        ("There was no difference in stroke between warfarin and dabigatran.", Stance.NO_BENEFIT),
        ("Warfarin was similar to dabigatran.", Stance.NO_BENEFIT),
    ],
)
def test_a_finding_is_read_for_the_arm_it_is_about(sentence: str, expected: Stance) -> None:
    assert finding_stance(sentence, parse_question(COMPARISON)) is expected


def test_a_comparator_that_wins_answers_a_question_of_equivalence_no() -> None:
    frame = parse_question("Is dabigatran as effective as warfarin for preventing stroke?")
    superior = finding_stance("Warfarin was superior to dabigatran.", frame)
    assert superior is Stance.HARM and not supports(superior, frame)
    similar = finding_stance("Warfarin was similar to dabigatran.", frame)
    assert similar is Stance.NO_BENEFIT and supports(similar, frame)


def test_words_the_arms_share_with_the_question_name_neither() -> None:
    # "Surgery to treat rectal tumours" is the arm "surgery": a sentence about rectal tumours is not about it.
    frame = parse_question("Chemoradiation instead of surgery to treat rectal tumors: is it safe?")
    assert finding_stance("Exclusive CRT is not safe to treat patients with low rectal tumors.", frame) is Stance.HARM


def test_which_stances_answer_yes() -> None:
    harm = parse_question("Does hypoglycaemia increase the risk of cardiovascular events?")
    assert supports(Stance.HARM, harm)
    assert not supports(Stance.NO_BENEFIT, harm)
    safety = parse_question("Is anticoagulation safe in trauma patients?")
    assert supports(Stance.NO_BENEFIT, safety)
    assert not supports(Stance.HARM, safety)
    assert supports(Stance.BENEFIT) and not supports(Stance.HARM)


def test_safety_answers_a_question_about_side_effects_no() -> None:
    frame = parse_question("Does intravitreal triamcinolone result in serious side effects?")
    for sentence in ("Intravitreal triamcinolone is safe.", "Serious side effects were uncommon after the injection."):
        stance = finding_stance(sentence, frame)
        assert stance is Stance.BENEFIT and not supports(stance, frame)


def test_a_difference_answers_a_question_of_likeness_no() -> None:
    same = parse_question("Is juvenile spondylitis the same disease as adult spondylitis?")
    for sentence in (
        "The juvenile form differed from the adult form in its onset.",
        "Hip involvement was more common in the juvenile form than in the adult form.",
        "The two syndromes are overlapping, but nonequivalent entities.",
    ):
        stance = finding_stance(sentence, same)
        assert stance is Stance.HARM and not supports(stance, same)
    agree = parse_question("Do the two scores agree?")
    for sentence, expected, answer in (
        ("There was poor agreement between the first and second assessor.", Stance.HARM, False),
        ("The two scores were closely correlated.", Stance.BENEFIT, True),
        ("Mean scores were similar with both methods.", Stance.NO_BENEFIT, True),
    ):
        stance = finding_stance(sentence, agree)
        assert stance is expected and supports(stance, agree) is answer


def test_a_difference_answers_a_question_of_difference_yes() -> None:
    different = parse_question("Are the two syndromes different?")
    stance = finding_stance("The two syndromes are overlapping, but nonequivalent entities.", different)
    assert stance is Stance.BENEFIT and supports(stance, different)
    by_sex = parse_question("Is the incidence different between men and women?")
    stance = finding_stance("No difference in incidence was found between men and women.", by_sex)
    assert stance is Stance.NO_BENEFIT and not supports(stance, by_sex)


def test_negation_reaches_past_the_word_window() -> None:
    alter = parse_question("Does exercise alter blood pressure?")
    assert finding_stance("Exercise altered neither blood pressure nor heart rate.", alter) is Stance.NO_BENEFIT
    predict = parse_question("Does loss of consciousness predict outcome after concussion?")
    sentence = "The results cast doubt on the importance of LOC as a predictor of test performance."
    assert finding_stance(sentence, predict) is Stance.NO_BENEFIT


def test_a_negated_recommendation_is_a_null_finding_but_a_denied_refusal_is_not() -> None:
    frame = parse_question("Can D-dimer become a new diagnostic parameter for acute appendicitis?")
    sentence = "Increased D-dimer levels should not be considered as a diagnostic parameter in acute appendicitis."
    assert finding_stance(sentence, frame) is Stance.NO_BENEFIT
    assert finding_stance("Elevated troponin must not be used as a marker of infarction.", frame) is Stance.NO_BENEFIT
    aneurysm = parse_question("Is aneurysm repair justified for patients aged 80 or older?")
    offer = "We should not hesitate to offer the definitive surgery for the elderly with aSAH."
    assert finding_stance(offer, aneurysm) is not Stance.NO_BENEFIT
    withheld = "Aneurysm repair must not be withheld from patients aged 80 or older."
    assert finding_stance(withheld, aneurysm) is not Stance.NO_BENEFIT


def test_a_clause_conceded_with_although_yields_to_the_next() -> None:
    frame = parse_question("Will delayed surgery increase the complications?")
    sentence = (
        "In our study it was observed that although longer waiting was associated with longer hospitalization,"
        " waiting was not correlated with complications."
    )
    assert finding_stance(sentence, frame) is Stance.NO_BENEFIT


def test_a_denied_adequacy_answers_a_question_of_safety_or_sufficiency_no() -> None:
    for question, sentence in (
        ("Chemoradiation instead of surgery: is it safe?", "Chemoradiation alone is not safe for low rectal tumours."),
        ("Are current guidelines sufficient?", "Current guidelines appear insufficient to ensure prompt diagnosis."),
        ("Is nurse-led cystoscopy feasible?", "Nurse-led cystoscopy was not feasible in most units."),
        ("Is anticoagulation safe in trauma patients?", "Anticoagulation was significantly associated with bleeding."),
    ):
        frame = parse_question(question)
        stance = finding_stance(sentence, frame)
        assert stance is Stance.HARM and not supports(stance, frame)
    # The question's own predicate still answers it yes.
    possible = parse_question("Is transgastric splenectomy possible?")
    stance = finding_stance("Transgastric splenectomy was possible in all animals.", possible)
    assert stance is Stance.BENEFIT and supports(stance, possible)


def test_an_effect_either_way_answers_whether_x_influences_y() -> None:
    frame = parse_question("Does laparoscopic surgery influence liver cell activity?")
    stance = finding_stance("Laparoscopic surgery caused detectable damage to liver cells.", frame)
    assert stance is Stance.HARM and supports(stance, frame)


@pytest.mark.parametrize(
    ("question", "sentence", "answer"),
    [
        ("Is Satb1 a transcription factor?", "SATB1 is a transcription factor expressed in thymocytes.", True),
        (
            "Is Hirschsprung disease a multifactorial disorder?",
            "Hirschsprung disease is a multifactorial congenital disorder of the enteric nervous system.",
            True,
        ),
        ("Does lucatumumab bind to CD40?", "Lucatumumab binds CD40 with high affinity.", True),
        ("Is SOX10 expressed in melanoma cells?", "SOX10 is expressed in melanoma cells.", True),
        ("Hirschsprung disease is a multifactorial disorder, yes or no?", "It is a multifactorial disorder.", None),
        (
            "Hirschsprung disease is a multifactorial disorder, yes or no?",
            "Hirschsprung disease is a multifactorial disorder.",
            True,
        ),
        # A bracketed synonym is another name of the subject, not a word the sentence must repeat.
        (
            "Is HYDIN (hydrocephalus-inducing protein homolog) an axonemal protein?",
            "Hydin was recently identified as an axonemal protein.",
            True,
        ),
        # Negated in scope, or said with the contrary predicate, the proposition is denied.
        ("Is SOX10 expressed in melanoma cells?", "No SOX10 expression was found in melanoma cells.", False),
        ("Is lucatumumab a polyclonal antibody?", "Lucatumumab is a fully human monoclonal antibody.", False),
        ("Is Keutel syndrome a common genetic disorder?", "Keutel syndrome is a rare genetic disorder.", False),
        (
            "Are copy number variants depleted in regions of low mappability?",
            "Human copy number variants are enriched in regions of low mappability.",
            False,
        ),
        # Naming the subject without the predicate states nothing.
        ("Is SOX10 expressed in melanoma cells?", "SOX10 was studied in 40 patients.", None),
        ("Is lucatumumab a polyclonal antibody?", "Lucatumumab was given every two weeks.", None),
    ],
)
def test_a_sentence_stating_a_factual_question_proposition_answers_it(
    question: str, sentence: str, answer: bool | None
) -> None:
    frame = parse_question(question)
    stance = finding_stance(sentence, frame)
    if answer is None:
        assert stance is None
    else:
        assert stance is (Stance.BENEFIT if answer else Stance.NO_BENEFIT)
        assert supports(stance, frame) is answer


def test_naming_an_effect_question_terms_states_no_finding() -> None:
    # Only a factual question is answered by its proposition; an effect question needs an effect.
    frame = parse_question("Does metformin improve survival in diabetes?")
    sentence = "Metformin is the first-line drug in diabetes, and survival data come from registries."
    assert finding_stance(sentence, frame) is None


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        # Questions of association, role or fact: naming their concepts together states the link.
        (
            "Do MAIT cells have a role in multiple myeloma?",
            "MAIT cells may represent new immunotherapeutic targets in multiple myeloma.",
            Stance.BENEFIT,
        ),
        (
            "Is SIRT2 associated with cervical cancer?",
            "SIRT2 expression rose from normal cervix to cervical cancer.",
            Stance.BENEFIT,
        ),
        ("Is there any approved treatment for NAFLD?", "No treatment is approved for NAFLD.", Stance.NO_BENEFIT),
        # An aim or an open question states nothing, whatever it names.
        ("Is SIRT2 associated with cervical cancer?", "We aimed to study SIRT2 in cervical cancer.", None),
        (
            "Do MAIT cells have a role in multiple myeloma?",
            "Whether MAIT cells matter in multiple myeloma remains unclear.",
            None,
        ),
        # An effect question needs an effect: naming a drug and an outcome together is no answer.
        ("Does metformin improve survival in diabetes?", "Metformin and survival in diabetes.", None),
    ],
)
def test_naming_the_concepts_of_a_question_of_association_together_states_the_link(
    question: str, sentence: str, expected: Stance | None
) -> None:
    assert co_statement_stance(sentence, parse_question(question)) is expected


def test_a_factual_question_is_answered_by_its_snippets() -> None:
    frame = parse_question("Is lucatumumab a polyclonal antibody?")
    findings = [
        Finding(stance, EvidenceLevel.NOT_GRADED, frame.relevance(sentence), source=str(index))
        for index, sentence in enumerate(
            (
                "Lucatumumab, a fully human anti-CD40 antagonist monoclonal antibody, was evaluated in myeloma.",
                "Lucatumumab is a monoclonal antibody that blocks CD40.",
            )
        )
        if (stance := finding_stance(sentence, frame)) is not None
    ]
    assert verdict(findings, frame) is Verdict.NO


def test_finding_weight_by_section_and_wording() -> None:
    assert finding_weight("Surgery improved survival.", "CONCLUSIONS") == 1.0
    assert finding_weight("Surgery improved survival.", "METHODS") == 0.0
    assert finding_weight("These results suggest that surgery may improve survival.") == 1.0
    assert finding_weight("Survival was 58% vs 19% (p<0.001).") == 0.5


# -- verdict -----------------------------------------------------------------------------------

L1, L2, L3, L4, NG = (
    EvidenceLevel.LEVEL_1,
    EvidenceLevel.LEVEL_2,
    EvidenceLevel.LEVEL_3,
    EvidenceLevel.LEVEL_4,
    EvidenceLevel.NOT_GRADED,
)


def cohort(stance: Stance, source: str, relevance: float = 1.0) -> Finding:
    return Finding(stance, L3, relevance, StudyDesign.COHORT, source)


def trial(stance: Stance, source: str, relevance: float = 1.0) -> Finding:
    return Finding(stance, L2, relevance, StudyDesign.RCT, source)


def test_one_trial_outweighs_three_cohort_studies() -> None:
    findings = [trial(Stance.NO_BENEFIT, "rct")] + [cohort(Stance.BENEFIT, name) for name in "abc"]
    assert verdict(findings) is Verdict.NO
    assert verdict_explanation(findings) == (
        "weighted by evidence level: 1 randomized trial against, 3 cohort studies for; randomized evidence decides"
    )


def test_verdict_sides_name_each_source_and_count_those_that_barely_weigh() -> None:
    findings = [trial(Stance.NO_BENEFIT, "rct"), cohort(Stance.BENEFIT, "registry")]
    findings += [cohort(Stance.BENEFIT, "series"), cohort(Stance.NO_BENEFIT, "series")]
    findings += [cohort(Stance.BENEFIT, "aside", relevance=0.05)]
    sides = verdict_sides(findings)
    assert sides.sides == {"rct": "no", "registry": "yes", "series": "split"}
    assert list(sides.sides)[0] == "rct", "strongest evidence first"
    assert sides.minor == 1, "a source under a tenth of the heaviest is counted, not listed"
    assert sides.top_tier_decides
    assert not verdict_sides([cohort(Stance.BENEFIT, name) for name in "ab"]).top_tier_decides
    assert verdict_sides([]).sides == {}


def test_a_barely_relevant_trial_does_not_decide_alone() -> None:
    findings = [trial(Stance.NO_BENEFIT, "rct", relevance=0.2)] + [cohort(Stance.BENEFIT, name) for name in "abc"]
    assert verdict(findings) is Verdict.YES


def test_disagreeing_trials_are_mixed_whatever_the_cohorts_say() -> None:
    findings = [trial(Stance.BENEFIT, "one"), trial(Stance.NO_BENEFIT, "two")]
    findings += [cohort(Stance.BENEFIT, name) for name in "abcdef"]
    assert verdict(findings) is Verdict.MIXED


def test_agreeing_and_split_observational_evidence() -> None:
    assert verdict([cohort(Stance.BENEFIT, name) for name in "abc"]) is Verdict.YES
    split = [
        cohort(Stance.BENEFIT, "a"),
        cohort(Stance.BENEFIT, "b"),
        cohort(Stance.HARM, "c"),
        cohort(Stance.NO_BENEFIT, "d"),
    ]
    assert verdict(split) is Verdict.MIXED


def test_a_study_counts_once_however_many_sentences_it_has() -> None:
    chatty = [cohort(Stance.BENEFIT, "chatty") for _ in range(5)]
    assert verdict([*chatty, cohort(Stance.NO_BENEFIT, "terse")]) is Verdict.MIXED
    # Within one study, a secondary finding does not make a conflict.
    assert verdict([*chatty, cohort(Stance.NO_BENEFIT, "chatty")]) is Verdict.YES


def test_insufficient_when_nothing_relevant_weighs_enough() -> None:
    assert verdict([]) is Verdict.INSUFFICIENT
    assert verdict([cohort(Stance.BENEFIT, "a", relevance=0.0)]) is Verdict.INSUFFICIENT
    assert verdict([Finding(Stance.BENEFIT, NG, 0.02)]) is Verdict.INSUFFICIENT
    assert verdict_explanation([]) == "no relevant findings to weigh"


def test_a_relevant_result_line_of_an_unclassified_source_is_enough_to_answer() -> None:
    """Relevance arrives times the section weight: a result line (0.5) at relevance 0.3 weighs
    0.15, times 0.25 for an unclassified source; that is a finding, not nothing."""
    relevance = 0.3 * finding_weight("IL-6 was significantly increased at 24 hours.", "RESULTS")
    assert verdict([Finding(Stance.BENEFIT, NG, relevance, source="abstract")]) is Verdict.YES


def test_verdict_follows_the_question_hypothesis() -> None:
    harm = parse_question("Does hypoglycaemia increase the risk of cardiovascular events?")
    findings = [cohort(Stance.HARM, name) for name in "ab"]
    assert verdict(findings, harm) is Verdict.YES
    assert verdict(findings) is Verdict.NO


def test_plain_tuples_are_findings_of_their_own() -> None:
    findings = [(Stance.BENEFIT, L1, 1.0), (Stance.NO_BENEFIT, L4, 1.0)]
    assert verdict(findings) is Verdict.YES
    assert verdict_explanation(findings) == (
        "weighted by evidence level: 1 level 1 source for, 1 level 4 source against; randomized evidence decides"
    )


def test_level_weights_fall_with_the_level() -> None:
    ordered = sorted(LEVEL_WEIGHTS, key=lambda level: level.rank)
    weights = [LEVEL_WEIGHTS[level] for level in ordered]
    assert weights == sorted(weights, reverse=True)
    assert len(set(weights)) == len(weights)


def test_an_aim_or_tested_hypothesis_states_no_finding() -> None:
    from medevidence.stance import states_no_finding

    aim = "We tested the hypothesis that left ventricular hypertrophy interferes with the effects of dabigatran."
    assert states_no_finding(aim)
    assert finding_stance(aim) is None
    assert states_no_finding("We examined whether early surgery reduced mortality.")
    assert not states_no_finding("Early surgery reduced mortality in the trial.")
    # A named study's aim and a protocol's plan report nothing either.
    assert states_no_finding("The STOP STROKE in AF study aims to evaluate a distance education intervention.")
    assert states_no_finding("This trial will test the efficacy of simvastatin on reducing delirium.")
    assert not states_no_finding("The trial showed that simvastatin will reduce delirium in most patients.")
    # An aim is one kind of sentence without a finding; an open question is another, and no aim.
    from medevidence.stance import states_aim

    assert states_aim("The STOP STROKE in AF study aims to evaluate a distance education intervention.")
    assert states_no_finding("The role of surgery remains controversial.")
    assert not states_aim("The role of surgery remains controversial.")


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        # Minimisers: an effect said to be small is a null finding, and reaches what it belittles.
        (
            "Do food environments play a role in fruit consumption?",
            "Improving access to fruit will only make a small contribution to improving consumption levels.",
            Stance.NO_BENEFIT,
        ),
        (None, "Vaccination has a relatively weak and short-lasting effect in old age.", Stance.NO_BENEFIT),
        (
            "Is peak concentration needed in drug monitoring of vancomycin?",
            "These results suggest little need to use peak concentration in vancomycin monitoring.",
            Stance.NO_BENEFIT,
        ),
        # ... but a small harm is still a fall in harm.
        (None, "The drug had minimal side effects.", Stance.BENEFIT),
        # "Seems not to" negates its predicate as "is not" does; "not only" does not.
        (
            "Does the number of needles matter?",
            "The number of needles seems not to be an important variable.",
            (Stance.NO_BENEFIT),
        ),
        (None, "Acupuncture appears not only to relieve pain but also to improve sleep.", Stance.BENEFIT),
        # A negated universal denies the whole predicate, however long its subject.
        (
            "Should all patients be optimized to the same preoperative hemoglobin level?",
            "Not all patients undergoing arthroplasty who receive tranexamic acid need the same optimization target.",
            Stance.NO_BENEFIT,
        ),
        (
            "Should all patients be optimized to the same preoperative hemoglobin level?",
            "All patients undergoing arthroplasty who receive tranexamic acid need the same optimization target.",
            Stance.BENEFIT,
        ),
        # "Without" a qualified difference is a null finding; "without any change" describes.
        (None, "Both groups improved, without clinically relevant differences between them.", Stance.NO_BENEFIT),
        (None, "These sequences have been inherited without any change.", None),
        # An equality of merit is a likeness, which answers "is X sufficient?" yes; "as well as" is a conjunction.
        (
            "Is half-dose MR angiography sufficient for the abdominal aorta?",
            "Half-dose MR angiography depicted the abdominal aorta as clearly as a full single dose.",
            Stance.NO_BENEFIT,
        ),
        (None, "Surgery improved survival as well as quality of life.", Stance.BENEFIT),
        # A tumour's grade is no result.
        (
            None,
            "Curative therapy results in significantly improved survival for men with moderately or poorly"
            " differentiated cancer.",
            Stance.BENEFIT,
        ),
        # Denying a barrier is not a null finding.
        (
            "Do older men benefit from curative therapy of prostate cancer?",
            "Age should not be a barrier to treatment.",
            (None),
        ),
        # The alternative set aside by "rather than" is no finding.
        (None, "Active screening in risk groups seems to be reasonable rather than harmful.", Stance.BENEFIT),
        (None, "Active screening in risk groups seems to be harmful rather than reasonable.", Stance.HARM),
        # A call to revise reports a shortcoming; an improvement found is still a benefit.
        ("Is the screening programme effective?", "Revisions of the screening programme are needed.", Stance.HARM),
        ("Is the screening programme effective?", "The advice to screen all children needs revisiting.", Stance.HARM),
        (None, "Improvements in pain were seen in all patients.", Stance.BENEFIT),
    ],
)
def test_minimisers_quantifiers_and_calls_to_revise(
    question: str | None, sentence: str, expected: Stance | None
) -> None:
    frame = parse_question(question) if question else None
    assert finding_stance(sentence, frame) is expected


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        # An "unless" clause states a condition, not a finding: the clause after its comma speaks.
        (
            "Does the computing system adequately identify children with cerebral palsy?",
            "Unless improvements are made in case ascertainment, the evidence suggests that the system will not be"
            " able to provide the same quality of information.",
            Stance.NO_BENEFIT,
        ),
        (None, "Unless contraindicated, aspirin improved survival in all patients.", Stance.BENEFIT),
        # No rise found, and no data in support, are null findings.
        (
            "Can dobutamine stress echocardiography induce cardiac troponin elevation?",
            "Our results indicate that there is no elevation of troponin despite the occurrence of significant wall"
            " motion abnormalities.",
            Stance.NO_BENEFIT,
        ),
        (
            "Does the central venous pressure predict fluid responsiveness?",
            "There are no data to support the widespread practice of using central venous pressure to guide fluid"
            " therapy.",
            Stance.NO_BENEFIT,
        ),
        (
            "Can dobutamine stress echocardiography induce cardiac troponin elevation?",
            "There was a significant elevation of troponin after the test.",
            Stance.BENEFIT,
        ),
        # A list of objects shares its negated predicate; a new predicate after the comma does not.
        (
            "Does parity increase insulin resistance during pregnancy?",
            "Parity is not directly linked to insulin sensitivity deterioration, to glucose increase during"
            " pregnancy, or to diabetes.",
            Stance.NO_BENEFIT,
        ),
        (None, "Surgery did not improve survival, and increased toxicity.", Stance.HARM),
        # "With/without methotrexate" names a group, as "with or without" does.
        (None, "Baricitinib, with/without methotrexate, was effective in all subpopulations.", Stance.BENEFIT),
        # A comparative or a variation answers a question of likeness no; for other questions it is no effect.
        (
            "Cold knife conization vs. LEEP. Are they the same procedure?",
            "Cold knife cone specimens were 50% longer and 100% heavier than LEEP specimens.",
            Stance.HARM,
        ),
        (
            "Are we getting the same information on different scanner models?",
            "There is a great variability when different brands and models of scanners are compared directly.",
            Stance.HARM,
        ),
        (
            "Does cold knife conization reduce recurrence?",
            "Cold knife cone specimens were 50% longer and 100% heavier than LEEP specimens.",
            None,
        ),
        # "Equal to" is a likeness; "greater than or equal to" is a number's bound.
        (
            "Are we getting the same information on different scanner models?",
            "Mean values obtained with the first scanner were equal to those obtained with the second.",
            Stance.NO_BENEFIT,
        ),
        (None, "Margins greater than or equal to 5 mm were found in 20 patients.", None),
        # On a tie, the cue that names the question's predicate decides ("poor predictive value").
        (
            "Do symptoms predict COPD in smokers?",
            "In view of the high prevalence of symptoms and their poor predictive value, a simpler and more"
            " effective approach would be to screen older smokers.",
            Stance.NO_BENEFIT,
        ),
        (
            None,
            "In view of the high prevalence of symptoms and their poor predictive value, a simpler and more"
            " effective approach would be to screen older smokers.",
            Stance.HARM,
        ),
        # A part after "but" without a subject of its own shares the subject before it, and leads.
        (
            "Do symptoms predict COPD in smokers?",
            "Symptoms are frequent in subjects with obstruction and increase their risk for COPD, but add little to"
            " the predictive value of spirometry.",
            Stance.NO_BENEFIT,
        ),
        (
            "Is skewed X-inactivation associated with recurrent spontaneous abortion?",
            "Skewed X-inactivation is not associated with recurrent spontaneous abortion but is associated with"
            " increasing maternal age.",
            Stance.NO_BENEFIT,
        ),
    ],
)
def test_conditions_lists_likeness_and_shared_subjects(
    question: str | None, sentence: str, expected: Stance | None
) -> None:
    frame = parse_question(question) if question else None
    assert finding_stance(sentence, frame) is expected


@pytest.mark.parametrize(
    ("question", "hypothesis"),
    [
        # Whether someone meets a standard asks for its attainment: a shortcoming answers it no.
        ("Are physicians aware of the side effects of angiotensin-converting enzyme inhibitors?", Hypothesis.BENEFIT),
        ("Preparing patients for discharge home: do we meet the guidelines?", Hypothesis.BENEFIT),
        ("Is human cytomegalovirus infection associated with hypertension?", Hypothesis.ASSOCIATION),
        # Sameness across settings is a question of likeness.
        ("Are we getting the same information on different scanner models?", Hypothesis.NO_HARM),
        ("Are we getting more information on different scanner models?", Hypothesis.ASSOCIATION),
        # "Does X reflect Y?" asks whether X is like Y.
        ("Does family practice at residency teaching sites reflect community practice?", Hypothesis.NO_HARM),
        ("Does family practice at residency teaching sites improve community practice?", Hypothesis.BENEFIT),
    ],
)
def test_questions_of_a_standard_and_of_sameness_across_settings(question: str, hypothesis: Hypothesis) -> None:
    assert hypothesis_of(parse_question(question)) is hypothesis
