"""Check that every statement of an answer is supported by the exact spans it cites.

A *source* statement passes when (1) at least ``MIN_OVERLAP`` of its content terms occur in the
cited spans (or, for words a renderer may add, in the references' titles and author names, or in
the plain-language vocabulary of patient answers), and (2) every number it states occurs in a
cited span. The threshold is 0.75: the composer only trims clauses and swaps technical words for
lay ones (whose words are allowed explicitly), so its statements keep all their content terms,
while a sentence about something else shares few of them (tests/test_verify.py shows both).
A language model's paraphrase must keep three in four content words of its source. Numbers are
checked separately because one changed number is a different claim with almost the same words.

A *framing* statement (connective text about the evidence base) passes when every study design
it names is the design of a reference it cites, and it states no number other than counts of
the references it cites.

The same check runs on every statement the composer emits, on language-model output when one is
configured, and on every statement a reviewer edits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .models import Answer, Reference, Statement, StatementKind, StudyDesign
from .tokens import STOPWORDS, analyze, fold_hyphens

MIN_OVERLAP = 0.75

_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?")


@dataclass(frozen=True)
class Support:
    supported: bool
    overlap: float
    missing_terms: tuple[str, ...] = ()
    missing_numbers: tuple[str, ...] = ()
    reason: str = ""


def content_terms(text: str) -> set[str]:
    return {t for t in analyze(text) if t not in STOPWORDS and not t.isdigit()}


def numbers_in(text: str) -> set[str]:
    return {n.replace(",", ".") for n in _NUMBER.findall(text)}


def check_statement(
    statement: Statement, references: Iterable[Reference], allowed_words: Iterable[str] = ()
) -> Support:
    by_number = {reference.n: reference for reference in references}
    cited = [by_number[n] for n in statement.citations if n in by_number]
    if not statement.citations or len(cited) != len(statement.citations):
        return Support(False, 0.0, reason="a citation does not resolve to a reference")
    if statement.kind is StatementKind.FRAMING:
        return _check_framing(statement, cited)
    spans = [_span_text(statement, reference) for reference in cited]
    span_text = " ".join(spans)
    if not span_text.strip():
        return Support(False, 0.0, reason="the cited references list no span for this statement")
    metadata = " ".join(f"{r.title} {' '.join(r.authors)}" for r in cited)
    available = content_terms(span_text) | content_terms(metadata) | content_terms(" ".join(allowed_words))
    terms = content_terms(statement.text)
    missing = tuple(sorted(terms - available))
    overlap = 1.0 if not terms else 1 - len(missing) / len(terms)
    missing_numbers = tuple(sorted(numbers_in(statement.text) - numbers_in(span_text)))
    supported = overlap >= MIN_OVERLAP and not missing_numbers
    reason = (
        ""
        if supported
        else (
            f"numbers not in the cited spans: {', '.join(missing_numbers)}"
            if missing_numbers
            else f"only {overlap:.0%} of its content words are in the cited spans"
        )
    )
    return Support(supported, overlap, missing, missing_numbers, reason)


def _span_text(statement: Statement, reference: Reference) -> str:
    """The text of the spans this statement cites in ``reference`` (all its passages if none named)."""
    named = [s for s in statement.spans if s.n == reference.n]
    passages = reference.passages
    if named:
        wanted = {(s.start, s.end) for s in named}
        passages = [p for p in reference.passages if (p.start, p.end) in wanted]
    return " ".join(p.text for p in passages)


_DESIGN_WORDS: dict[StudyDesign, tuple[str, ...]] = {
    StudyDesign.SYSTEMATIC_REVIEW: ("systematic review", "meta-analys"),
    StudyDesign.RCT: ("randomized", "randomised", "randomly assigned", "chance"),
    StudyDesign.GUIDELINE: ("guideline",),
    StudyDesign.CONSENSUS: ("consensus",),
    StudyDesign.COHORT: ("cohort", "registry", "retrospective", "observational"),
    StudyDesign.CASE_CONTROL: ("case-control",),
    StudyDesign.CASE_SERIES: ("case series", "case report"),
    StudyDesign.NARRATIVE_REVIEW: ("narrative review", "reference topic"),
    StudyDesign.PATIENT_INFORMATION: ("patient information",),
    StudyDesign.NEWS_REPORT: ("news report",),
    StudyDesign.ANIMAL_LAB: ("animal", "laboratory"),
}


def _check_framing(statement: Statement, cited: list[Reference]) -> Support:
    text = statement.text.lower()
    cited_designs = {r.study_design for r in cited}
    for design, words in _DESIGN_WORDS.items():
        if design not in cited_designs and any(word in text for word in words) and not _also_named(design, cited):
            return Support(False, 0.0, reason=f"it names a design ({design.value}) that no cited reference has")
    stated = numbers_in(_CITATION_MARK.sub("", statement.text))
    allowed = {str(n) for n in range(0, len(cited) + 1)} | {str(r.evidence_level.value) for r in cited}
    extra = tuple(sorted(stated - allowed))
    if extra:
        return Support(False, 0.0, missing_numbers=extra, reason=f"framing states numbers it cannot know: {extra}")
    return Support(True, 1.0)


_CITATION_MARK = re.compile(r"\[[\d,\s\u2013-]+\]")


def _also_named(design: StudyDesign, cited: list[Reference]) -> bool:
    """A design a cited source reports: a news report of a trial, a consensus quoting a registry study.

    The design must be named in the reference's design reason or in one of its cited spans.
    """
    words = _DESIGN_WORDS[design]
    texts = [fold_hyphens(r.design_reason + " " + " ".join(p.text for p in r.passages)).lower() for r in cited]
    return any(any(word in text for word in words) for text in texts)


def unsupported_statements(answer: Answer, allowed_words: Iterable[str] = ()) -> list[tuple[Statement, Support]]:
    """Every statement of ``answer`` that fails the check, with why."""
    allowed = list(allowed_words)
    failures = []
    for statement in answer.statements():
        support = check_statement(statement, answer.references, allowed)
        if not support.supported:
            failures.append((statement, support))
    return failures
