"""Answers through the public API: cited, supported, graded, with conflicts, audiences, cases, follow-ups.

The libraries are the five seed documents plus the bundled starter library's real abstracts on two
other topics (diabetes prevention, anticoagulation in atrial fibrillation), so nothing here is
tuned to the seed topic.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from medevidence import Library
from medevidence.candidates import Candidate, question_stage
from medevidence.compose import COMPOSER_WORDS, diverse, named_study, stands_alone, surname, verdict_findings
from medevidence.models import (
    Answer,
    Audience,
    Document,
    EvidenceLevel,
    SearchHit,
    SourceFormat,
    StatementKind,
    StudyDesign,
    Verdict,
)
from medevidence.plain import plain_words, reading_grade
from medevidence.question import parse_question
from medevidence.stance import Stance, finding_stance, supports, verdict
from medevidence.verify import unsupported_statements

ROOT = Path(__file__).resolve().parents[1]
SEED_QUESTION = "What is the role of mastectomy in stage 4 invasive ductal carcinoma?"
QUESTIONS = [
    SEED_QUESTION,
    "Does surgery of the primary tumour improve survival in metastatic breast cancer?",
    "Can lifestyle change or metformin prevent type 2 diabetes in people with prediabetes?",
    "Is dabigatran better than warfarin for preventing stroke in atrial fibrillation?",
]


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Library:
    seeds = Path(__file__).resolve().parents[2] / "shared" / "seeds"
    if not seeds.is_dir():
        pytest.skip("../shared/seeds is not beside the repository")
    directory = tmp_path_factory.mktemp("compose")
    library = Library.open(directory / "library", embedder="fake")
    report = library.ingest([*sorted(seeds.glob("00[1-4]_*.txt")), *sorted((ROOT / "starter").glob("*.jsonl"))])
    assert not report.failures
    return library


def assert_well_formed(library: Library, answer: Answer) -> None:
    """Citations resolve, cited spans are exact offsets into stored text, and every statement is supported."""
    numbers = {reference.n for reference in answer.references}
    assert numbers == set(range(1, len(numbers) + 1))
    for statement in answer.statements():
        assert statement.citations, statement.text
        assert set(statement.citations) <= numbers, statement.text
    for reference in answer.references:
        text = library.store.document_by_id(reference.document_id).text
        for passage in reference.passages:
            assert text[passage.start : passage.end] == passage.text
    allowed = plain_words() if answer.audience is Audience.PATIENT else frozenset()
    assert unsupported_statements(answer, allowed_words=[*allowed, *COMPOSER_WORDS]) == []


@pytest.mark.parametrize("question", QUESTIONS)
@pytest.mark.parametrize("audience", ["clinician", "patient"])
def test_every_statement_is_cited_resolved_and_supported(library: Library, question: str, audience: str) -> None:
    answer = library.ask(question, audience=audience)
    assert answer.bottom_line, "an answer with evidence has a bottom line"
    assert answer.review_status.value == "draft" and answer.disclaimer
    assert_well_formed(library, answer)
    data = json.loads(json.dumps(answer.to_dict()))
    assert set(data) >= {
        "id",
        "question",
        "audience",
        "bottom_line",
        "sections",
        "conflicts",
        "references",
        "verdict",
        "evidence_summary",
        "disclaimer",
        "review_status",
        "follow_up_of",
    }


def test_the_seed_answer_leads_with_the_randomized_evidence_and_surfaces_the_conflict(library: Library) -> None:
    answer = library.ask(SEED_QUESTION)
    lead = answer.bottom_line[0]
    cited = {r.n: r for r in answer.references}
    assert cited[lead.citations[0]].evidence_level.value in ("1", "2")
    assert lead.stance == "no benefit", "the randomized trial found no survival benefit"
    assert answer.conflicts, "the randomized trial and the retrospective series disagree on survival"
    conflict = answer.conflicts[0]
    assert {side.stance for side in conflict.sides} == {"benefit", "no benefit"}
    assert "selection bias" in conflict.explanation.text
    basis = answer.bottom_line[-1]
    assert basis.kind is StatementKind.FRAMING and "level 2" in basis.text


def test_patient_answers_make_the_same_claims_more_plainly(library: Library) -> None:
    clinician = library.ask(SEED_QUESTION, audience="clinician")
    patient = library.ask(SEED_QUESTION, audience="patient")
    assert {r.doc_id for r in clinician.references} == {r.doc_id for r in patient.references}

    def grade(answer: Answer) -> float:
        texts = [s.text for s in answer.statements() if s.kind is StatementKind.SOURCE]
        return reading_grade(" ".join(texts))

    assert grade(patient) < grade(clinician)
    assert any(section.key == "questions" for section in patient.sections)
    assert patient.disclaimer != clinician.disclaimer


def test_a_case_attribute_changes_the_this_patient_section(library: Library, tmp_path: Path) -> None:
    bone_only = library.ask(SEED_QUESTION, case={"metastatic_sites": ["bone"], "er": "positive", "age": 45})
    visceral = library.ask(SEED_QUESTION, case={"metastatic_sites": ["liver", "lung"], "number_of_metastases": 6})

    def this_patient(answer: Answer) -> list[str]:
        return [s.label + " " + s.text for sec in answer.sections if sec.key == "this_patient" for s in sec.statements]

    assert this_patient(bone_only) and this_patient(visceral)
    assert this_patient(bone_only) != this_patient(visceral)
    assert any("Metastatic sites: liver, lung" in label for label in this_patient(visceral))
    unknown = library.ask(SEED_QUESTION, case={"comorbidities": ["sarcoidosis of the toe"]})
    assert any("sarcoidosis of the toe" in gap for gap in unknown.gaps)


def test_a_follow_up_keeps_the_context(library: Library) -> None:
    first = library.ask(SEED_QUESTION, case={"er": "positive"})
    follow = library.ask("What about radiation instead?", follow_up_of=first.id)
    assert follow.follow_up_of == first.id and follow.thread == [first.id]
    assert "radiation" in follow.resolved_question.lower()
    assert "stage 4" in follow.resolved_question.lower() or "carcinoma" in follow.resolved_question.lower()
    assert follow.case is not None and follow.case.values == {"er": "positive"}
    stored = library.answer(follow.id)
    assert stored.to_dict() == follow.to_dict()


def test_a_question_the_library_cannot_answer_says_what_is_missing(library: Library) -> None:
    answer = library.ask("Does acupuncture shorten labour in twin pregnancies?")
    assert answer.gaps
    assert all(statement.citations for statement in answer.statements())


def test_yes_no_questions_get_a_verdict(library: Library) -> None:
    answer = library.ask("Does surgery of the primary tumour improve survival in metastatic breast cancer?")
    assert answer.verdict is not None
    assert answer.verdict.value in {"no", "mixed"}, "the randomized trial found no survival benefit"
    assert answer.verdict.value in answer.bottom_line[-1].text


def test_the_verdict_cites_the_sources_on_each_side(library: Library) -> None:
    answer = library.ask("Does surgery of the primary tumour improve survival in metastatic breast cancer?")
    assert_well_formed(library, answer)
    framing = answer.bottom_line[-1]
    sides = {side: [int(n) for n in numbers.split(", ")] for side, numbers in SIDE.findall(framing.text)}
    by_number = {reference.n: reference for reference in answer.references}
    assert sides.get("no"), framing.text
    assert all(n in by_number for numbers in sides.values() for n in numbers)
    trial_report = next(r for r in answer.references if r.study_design is StudyDesign.NEWS_REPORT)
    assert trial_report.n in sides["no"], "the news report of the randomized trial found no survival benefit"
    patient = library.ask(
        "Does surgery of the primary tumour improve survival in metastatic breast cancer?", audience=Audience.PATIENT
    )
    assert "What the main sources say: " in patient.bottom_line[-1].text


SIDE = re.compile(r"\b(yes|no|split) \[([\d, ]+)\]")


def test_every_question_kind_has_a_section_shape() -> None:
    from medevidence.compose import SECTION_TITLES
    from medevidence.question import QuestionKind

    assert set(SECTION_TITLES) == set(QuestionKind)


def test_the_best_matching_study_speaks_loudest_for_a_verdict() -> None:
    """Two cohort studies disagree; the one retrieval ranks first decides, the second only if ranks are ignored."""
    frame = parse_question("Does statin therapy reduce mortality in sepsis?")

    def finding(document_id: int, text: str) -> Candidate:
        document = Document(
            document_id,
            str(document_id),
            1,
            "Statins in sepsis",
            text,
            SourceFormat.JSONL,
            None,
            (),
            2010,
            None,
            None,
            None,
            None,
            (),
            (),
            None,
            (),
            StudyDesign.COHORT,
            EvidenceLevel.LEVEL_3,
            "test",
            "",
            "",
            True,
        )
        stance = finding_stance(text, frame)
        assert stance is not None
        return Candidate(document, document_id, 0, len(text), text, 0.8, stance, {}, True, section="conclusion")

    against = finding(1, "Statin therapy did not reduce mortality in patients with sepsis.")
    for_ = finding(2, "Statin therapy reduced mortality in patients with sepsis.")
    assert verdict(verdict_findings([against, for_]), frame) is Verdict.MIXED
    assert verdict(verdict_findings([against, for_], {1: 1, 2: 2}), frame) is Verdict.NO
    assert verdict(verdict_findings([against, for_], {1: 2, 2: 1}), frame) is Verdict.YES


STAGED_TRIALS = [
    {
        "pmid": "101",
        "title": "Surgery of the primary tumour in de novo metastatic breast cancer: a randomized trial",
        "abstract": "Women with metastatic breast cancer were randomly assigned to mastectomy or no surgery. "
        "Mastectomy did not improve overall survival.",
        "publication_types": ["Randomized Controlled Trial"],
    },
    {
        "pmid": "102",
        "title": "Mastectomy after chemotherapy in locally advanced breast cancer: a randomized trial",
        "abstract": "Women with locally advanced breast cancer were randomly assigned to mastectomy or "
        "breast-conserving surgery after chemotherapy. Mastectomy improved overall survival.",
        "publication_types": ["Randomized Controlled Trial"],
    },
]


@pytest.mark.parametrize(
    ("question", "kept", "set_aside"),
    [
        ("Does mastectomy improve overall survival in stage IV breast cancer?", "101", "102"),
        ("Does mastectomy improve overall survival in locally advanced breast cancer?", "102", "101"),
    ],
)
def test_a_source_about_another_disease_stage_is_set_aside(
    tmp_path: Path, question: str, kept: str, set_aside: str
) -> None:
    source = tmp_path / "trials.jsonl"
    source.write_text("".join(json.dumps(record) + "\n" for record in STAGED_TRIALS), encoding="utf-8")
    library = Library.open(tmp_path / "library", embedder="fake")
    library.ingest([source])
    answer = library.ask(question)
    cited = {reference.doc_id for reference in answer.references}
    assert kept in cited
    assert set_aside not in cited, "a trial of another stage answered the question"
    assert_well_formed(library, answer)


@pytest.mark.parametrize(
    ("question", "stage"),
    [
        ("What is the role of mastectomy in stage 4 invasive ductal carcinoma?", "metastatic"),
        ("Do aromatase inhibitors raise cardiovascular risk in early breast cancer?", "early"),
        ("Is adjuvant chemotherapy useful in stage III colon cancer?", "early"),
        ("Is dabigatran better than warfarin in atrial fibrillation?", None),
        ("Does surgery help in metastatic or early-stage disease?", None),
    ],
)
def test_the_stage_a_question_asks_about(question: str, stage: str | None) -> None:
    assert question_stage(question) == stage


def _library_of(record: dict[str, object], tmp_path: Path) -> Library:
    source = tmp_path / "record.jsonl"
    source.write_text(json.dumps(record) + "\n", encoding="utf-8")
    library = Library.open(tmp_path / "library", embedder="fake")
    library.ingest([source])
    return library


def test_a_relevant_study_speaks_through_its_conclusion_even_in_other_words(tmp_path: Path) -> None:
    """The aim names the question's terms; the conclusion, which decides, says "it" and "the findings"."""
    record = {
        "pmid": "424242",
        "title": "Voice therapy outcomes",
        "abstract": "OBJECTIVES: To investigate the effectiveness of acupuncture in treating phonotraumatic vocal "
        "pathologies. METHODS: Forty-one patients were randomly assigned to genuine or sham treatment for six "
        "weeks. CONCLUSIONS: The findings showed that genuine treatment significantly improved vocal function "
        "compared with sham.",
        "publication_types": ["Randomized Controlled Trial"],
    }
    library = _library_of(record, tmp_path)

    answer = library.ask("Is acupuncture efficacious for treating phonotraumatic vocal pathologies?")

    assert answer.verdict is Verdict.YES


def test_a_question_of_association_is_answered_by_sentences_that_state_the_link(tmp_path: Path) -> None:
    """No sentence reports a finding with a direction; the conclusion states the link the question asks."""
    record = {
        "pmid": "616161",
        "title": "Mucosal-associated invariant T cells in plasma cell disorders",
        "abstract": "BACKGROUND: MAIT cells are innate-like T cells abundant in blood. METHODS: We analysed the "
        "frequency and function of MAIT cells in 40 patients with plasma cell disorders. CONCLUSIONS: MAIT cells "
        "may represent new immunotherapeutic targets in multiple myeloma.",
        "publication_types": ["Journal Article"],
    }
    library = _library_of(record, tmp_path)

    answer = library.ask("Do MAIT cells have a role in multiple myeloma?")

    assert answer.verdict is Verdict.YES
    assert any("immunotherapeutic targets" in s.text for s in answer.bottom_line)


def test_a_conflict_side_shows_the_result_with_its_numbers(tmp_path: Path) -> None:
    records = [
        {
            "pmid": "700001",
            "title": "Early statin therapy in sepsis: a randomised controlled trial",
            "abstract": "METHODS: 250 patients with sepsis were randomly assigned to statin therapy or placebo. "
            "CONCLUSIONS: Statin therapy did not improve survival in patients with sepsis.",
            "publication_types": ["Randomized Controlled Trial"],
        },
        {
            "pmid": "700002",
            "title": "Statin therapy and survival in sepsis: a retrospective cohort study",
            "abstract": "METHODS: We reviewed the records of 900 patients with sepsis. RESULTS: Statin therapy was "
            "associated with improved survival at 90 days (72% versus 61%, p = 0.01). CONCLUSIONS: Statin therapy "
            "in patients with sepsis may improve survival in patients with sepsis, as other studies suggested.",
            "publication_types": ["Journal Article"],
        },
    ]
    source = tmp_path / "records.jsonl"
    source.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    library = Library.open(tmp_path / "library", embedder="fake")
    library.ingest([source])

    answer = library.ask("Does statin therapy improve survival in patients with sepsis?")

    assert answer.conflicts
    benefit = next(side for side in answer.conflicts[0].sides if side.stance == "benefit")
    assert any("72% versus 61%" in statement.text for statement in benefit.statements)


def test_this_study_is_named_by_its_title_or_first_author(tmp_path: Path) -> None:
    record = {
        "pmid": "800001",
        "title": "Dabigatran versus warfarin in atrial fibrillation: the Randomized Evaluation of Long-term "
        "anticoagulation therapY (RE-LY) study",
        "abstract": "METHODS: 18,113 patients with atrial fibrillation were randomly assigned to dabigatran or "
        "warfarin. CONCLUSIONS: The study found that dabigatran 150 mg reduced stroke compared with warfarin "
        "in patients with atrial fibrillation.",
        "authors": ["Connolly SJ", "Ezekowitz MD"],
        "publication_types": ["Randomized Controlled Trial"],
    }
    library = _library_of(record, tmp_path)

    answer = library.ask("Does dabigatran reduce stroke compared with warfarin in atrial fibrillation?")

    assert any(s.text.startswith("The RE-LY study found") for s in answer.bottom_line)
    assert_well_formed(library, answer)
    document = library.store.document_by_id(answer.references[0].document_id)
    unnamed = replace(document, title="Dabigatran in atrial fibrillation")
    assert named_study("This trial found no benefit.", unnamed) == "The trial by Connolly et al. found no benefit."
    assert named_study("Patients in the study were older.", unnamed) == "Patients in the study were older."
    assert [surname(a) for a in ("Badwe RA", "Badwe, Rajendra", "Rajendra Badwe")] == ["Badwe"] * 3


def test_a_statement_names_its_own_subject() -> None:
    assert not stands_alone("It is also known as metastatic breast cancer.")
    assert not stands_alone("They were followed for one year.")
    assert not stands_alone("CONCLUSIONS: This is a rare disease.")
    # An "it" that anticipates its clause, and a demonstrative with its noun, stand alone.
    assert stands_alone("It is recommended that patients stop smoking before surgery.")
    assert stands_alone("These findings suggest that surgery improves survival.")
    assert stands_alone("Italy reported 40 cases.")


def test_few_documents_are_read_more_fully_than_many() -> None:
    def hits(documents: int, per_document: int) -> list[SearchHit]:
        return [
            SearchHit(str(d), d, d * 100 + p, 1.0, "text", 0, 4) for p in range(per_document) for d in range(documents)
        ]

    # Many documents: three passages each, so no long page crowds out the rest.
    assert len(diverse(hits(40, 10))) == 40 * 3
    # Two documents: nothing to crowd out, so up to six times as many passages of each.
    assert len(diverse(hits(2, 30))) == 2 * 18


def test_statements_lose_labels_headings_and_stray_brackets_but_keep_their_words() -> None:
    from medevidence.compose import trim

    assert trim("CONCLUSIONS: Surgery did not improve survival.") == "Surgery did not improve survival."
    assert trim("Consequently, the lower dose was safer.") == "The lower dose was safer."
    assert (
        trim("Summary: Birth control pills are prescription medicines.")
        == "Birth control pills are prescription medicines."
    )
    assert trim("When to Contact a Medical Professional: See your provider if the ear stays blocked.") == (
        "See your provider if the ear stays blocked."
    )
    assert trim("- You are taking another medicine.") == "You are taking another medicine."
    assert trim("OTHER TREATMENTS - Light therapy may improve mood.") == "Light therapy may improve mood."
    assert trim("Hormone therapy can also increase the risk of clotting.).") == (
        "Hormone therapy can also increase the risk of clotting."
    )
    assert trim("Survival rose (as reported).") == "Survival rose (as reported)."
    assert trim("HER2: a receptor on some cancers.") == "HER2: a receptor on some cancers."


def test_a_study_that_covers_a_long_titled_question_together_answers_it(tmp_path: Path) -> None:
    """No one sentence repeats every concept of a question read from a long title; the study does."""
    record = {
        "pmid": "515151",
        "abstract": "BACKGROUND: Syncope during bathing in infants is rarely reported. METHODS: We describe "
        "four infants who lost consciousness in warm water and underwent allergy testing. RESULTS: Blood "
        "histamine rose after a trial bath in both infants tested. CONCLUSIONS: These episodes could be a "
        "pediatric form of aquagenic urticaria.",
        "publication_types": ["Case Reports"],
    }
    library = _library_of(record, tmp_path)

    answer = library.ask("Syncope during bathing in infants, a pediatric form of water-induced urticaria?")

    assert [r.doc_id for r in answer.references] == ["515151"]
    assert any("urticaria" in s.text for s in answer.statements())
    unrelated = library.ask("Does warm water bathing cause syncope in elderly adults with heart failure?")
    assert not unrelated.references or unrelated.gaps


def test_the_closest_study_answers_in_other_words_and_the_answer_says_so(tmp_path: Path) -> None:
    """No sentence names enough of the question to be stated on its own; the best-ranked study, which
    names most of it across its sentences, still answers, and the answer says whose words it reads."""
    record = {
        "pmid": "900002",
        "title": "Syncope in infants",
        "abstract": "BACKGROUND: Fainting in babies is rarely reported. METHODS: We describe four infants who lost "
        "consciousness in warm water. RESULTS: Histamine rose after a trial bath in both infants tested. "
        "CONCLUSIONS: The episodes were significantly associated with hives after contact with water.",
        "publication_types": ["Case Reports"],
    }
    library = _library_of(record, tmp_path)

    answer = library.ask("Is infant syncope during bathing a form of water-induced urticaria?")

    assert answer.verdict is Verdict.YES
    assert any("hives after contact with water" in s.text for s in answer.bottom_line)
    assert any("closest study" in gap for gap in answer.gaps)
    assert_well_formed(library, answer)
    # A study that names too little of the question is not the closest study to anything.
    assert not library.ask("Does aspirin prevent migraine in children?").references


def test_who_may_benefit_names_patients_who_benefit_not_whom_a_trial_enrolled(tmp_path: Path) -> None:
    seeds = Path(__file__).resolve().parents[2] / "shared" / "seeds"
    if not seeds.is_dir():
        pytest.skip("../shared/seeds is not beside the repository")
    library = Library.open(tmp_path / "library", embedder="fake")
    library.ingest(sorted(seeds.glob("00[1-4]_*.txt")))

    answer = library.ask(SEED_QUESTION)

    selection = next(section for section in answer.sections if section.key == "selection")
    assert selection.statements
    assert not any("randomly assigned" in statement.text for statement in selection.statements)


def test_the_bottom_line_opens_with_a_finding_that_agrees_with_the_verdict(library: Library) -> None:
    question = "Is dabigatran better than warfarin for preventing stroke in atrial fibrillation?"
    answer = library.ask(question)
    assert answer.verdict is Verdict.YES, "the RE-LY analyses find dabigatran superior to warfarin"
    lead = answer.bottom_line[0]
    assert lead.stance is not None
    assert supports(Stance(lead.stance), parse_question(question))
    assert not any("tested the hypothesis" in s.text for s in answer.bottom_line)
    selection = [s.text for sec in answer.sections if sec.key in ("selection", "factors") for s in sec.statements]
    assert not any("tested the hypothesis" in text for text in selection)
