"""The support check: what a cited span supports, and what it does not."""

from __future__ import annotations

import pytest

from medevidence.models import (
    CitedSpan,
    EvidenceLevel,
    Reference,
    ReferencePassage,
    Statement,
    StatementKind,
    StudyDesign,
)
from medevidence.plain import plain_words, to_plain
from medevidence.verify import MIN_OVERLAP, check_statement

TRIAL = (
    "The study randomly assigned 350 patients with metastatic breast cancer to mastectomy, complete axillary "
    "dissection, plus radiation therapy, vs no locoregional treatment, and found that the nonsurgical group had no "
    "worse survival than those who underwent mastectomy."
)
SURVIVAL = "At 72 months, overall survival was 20.5% for the nonsurgical group and 19.2% for the surgical group."
COHORT = "In this registry of 3,200 women, surgery of the primary tumour was associated with longer survival."


def reference(n: int, text: str, design: StudyDesign, level: EvidenceLevel) -> Reference:
    return Reference(
        n=n,
        document_id=n,
        doc_id=str(n),
        title=f"Source {n}",
        authors=["Badwe R"],
        year=2015,
        journal=None,
        pmid=None,
        doi=None,
        url=None,
        study_design=design,
        evidence_level=level,
        design_reason="",
        passages=[ReferencePassage(passage_id=n, text=text, start=0, end=len(text))],
    )


REFERENCES = [
    reference(1, f"{TRIAL} {SURVIVAL}", StudyDesign.RCT, EvidenceLevel.LEVEL_2),
    reference(2, COHORT, StudyDesign.COHORT, EvidenceLevel.LEVEL_3),
]


def source(text: str, *citations: int) -> Statement:
    return Statement(text=text, citations=list(citations), quote=text)


def test_the_source_sentence_and_a_light_trim_are_supported() -> None:
    assert check_statement(source(TRIAL, 1), REFERENCES).supported
    trimmed = "The study found that the nonsurgical group had no worse survival than those who underwent mastectomy."
    assert check_statement(source(trimmed, 1), REFERENCES).supported


def test_a_changed_number_is_a_different_claim() -> None:
    altered = SURVIVAL.replace("19.2%", "29.2%")
    support = check_statement(source(altered, 1), REFERENCES)
    assert not support.supported and support.missing_numbers == ("29.2",)


def test_a_claim_the_span_does_not_make_is_refused() -> None:
    invented = "Mastectomy doubled quality of life and reduced bone pain in premenopausal women."
    support = check_statement(source(invented, 1), REFERENCES)
    assert not support.supported and support.overlap < MIN_OVERLAP
    assert "content words" in support.reason


def test_citing_the_wrong_source_fails() -> None:
    assert not check_statement(source(COHORT, 1), REFERENCES).supported
    assert check_statement(source(COHORT, 2), REFERENCES).supported


def test_a_citation_that_resolves_to_nothing_fails() -> None:
    assert check_statement(source(TRIAL, 7), REFERENCES).reason == "a citation does not resolve to a reference"
    assert not check_statement(Statement(text=TRIAL, citations=[]), REFERENCES).supported


def test_patient_wording_is_supported_only_with_the_lay_vocabulary() -> None:
    plain = source(to_plain(TRIAL), 1)
    assert plain.text != TRIAL
    assert check_statement(plain, REFERENCES, plain_words()).supported


@pytest.mark.parametrize(
    ("text", "citations", "ok"),
    [
        ("Evidence base: 1 randomized controlled trial, level 2 [1]; 1 cohort study, level 3 [2].", [1, 2], True),
        ("Evidence base: 1 randomized controlled trial [2].", [2], False),
        ("Evidence base: 2 cohort studies [2].", [2], False),
        ("Evidence base: 1 cohort study [2] of 3,200 women.", [2], False),
    ],
)
def test_framing_may_only_name_designs_and_counts_its_citations_have(text: str, citations: list[int], ok: bool) -> None:
    statement = Statement(text=text, citations=citations, kind=StatementKind.FRAMING)
    assert check_statement(statement, REFERENCES).supported is ok


def test_named_spans_narrow_the_check_to_those_spans() -> None:
    only_survival = Statement(
        text=TRIAL, citations=[1], quote=TRIAL, spans=[CitedSpan(1, 1, len(TRIAL) + 1, len(TRIAL) + 1 + len(SURVIVAL))]
    )
    references = [
        reference(1, TRIAL, StudyDesign.RCT, EvidenceLevel.LEVEL_2),
    ]
    references[0].passages.append(
        ReferencePassage(passage_id=1, text=SURVIVAL, start=len(TRIAL) + 1, end=len(TRIAL) + 1 + len(SURVIVAL))
    )
    assert not check_statement(only_survival, references).supported
