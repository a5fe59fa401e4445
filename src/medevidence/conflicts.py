"""Where the evidence disagrees: opposite findings on the same outcome, explained by design.

Two sources conflict when one reports a benefit and another reports no benefit (or harm) for the
same outcome (survival, mortality, recurrence, ...), as read by ``stance.finding_stance``. Each
side is described by its strongest design and its size; the explanation is framing grounded in
the designs on each side (randomisation against selection bias and confounding by indication;
one trial against many observational series; reviews against single studies), and the
limitations the sources themselves state are quoted with their citations.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .candidates import Candidate
from .models import Audience, EvidenceLevel, StudyDesign
from .sentences import sentence_spans
from .stance import Stance
from .tokens import fold_hyphens

# Outcomes that findings are about; a conflict needs both sides to speak of the same one.
OUTCOMES: dict[str, re.Pattern[str]] = {
    "survival": re.compile(r"\bsurviv\w*|\blived\b|\blive longer\b", re.IGNORECASE),
    "mortality": re.compile(r"\bmortality\b|\bdeaths?\b|\bdied\b", re.IGNORECASE),
    "recurrence or progression": re.compile(r"\brecurren\w*|\bprogress\w*|\brelapse\w*", re.IGNORECASE),
    "quality of life": re.compile(r"\bquality of life\b|\bQoL\b", re.IGNORECASE),
    "response": re.compile(r"\bresponse rates?\b|\bremission\b", re.IGNORECASE),
    "cardiovascular events": re.compile(r"\b(cardiovascular|cardiac|coronary) events?\b|\bmyocardial infarction", re.I),
    "adverse events": re.compile(r"\badverse (events?|effects?)\b|\btoxicit\w*|\bcomplications?\b", re.IGNORECASE),
    "symptoms": re.compile(r"\bsymptoms?\b|\bpain\b", re.IGNORECASE),
}

_OBSERVATIONAL = {StudyDesign.COHORT, StudyDesign.CASE_CONTROL, StudyDesign.CASE_SERIES}
_TRIALS = {StudyDesign.RCT, StudyDesign.SYSTEMATIC_REVIEW}
_LIMITATION = re.compile(
    r"\b(limitations?|bias\w*|confound\w*|selection|did not receive|not (receive|given)|rebuttal|underpowered|"
    r"small (sample|number)|retrospective nature|not randomi[sz]ed|caution|interpret\w* with care|"
    r"standard (systemic )?therapy)\b",
    re.IGNORECASE,
)
_PARTICIPANTS = re.compile(
    r"\b(\d{1,3}(?:,\d{3})+|\d{2,7})\s+(?:\w+\s){0,2}?(patients|women|men|participants|subjects|people|adults|"
    r"children|cases|individuals)\b",
    re.IGNORECASE,
)


@dataclass
class ConflictDraft:
    """Opposite findings on one outcome, before statements and reference numbers exist."""

    topic: str
    benefit: list[Candidate]
    against: list[Candidate]
    limitations: list[Candidate]

    @property
    def benefit_design(self) -> StudyDesign:
        return strongest_design(self.benefit)

    @property
    def against_design(self) -> StudyDesign:
        return strongest_design(self.against)


# Designs a sentence can report, whatever the design of the document it is in: a consensus
# statement quotes a randomized trial; a news article reports one.
_REPORTED: list[tuple[StudyDesign, re.Pattern[str]]] = [
    (StudyDesign.COHORT, re.compile(r"meta-?analys\w*\s+(of|identified|including)\s[\w\s(,]*retrospective", re.I)),
    (StudyDesign.SYSTEMATIC_REVIEW, re.compile(r"\bmeta-?analys\w*|\bsystematic review", re.I)),
    (
        StudyDesign.RCT,
        re.compile(
            r"\brandomi[sz]ed (controlled |clinical |phase \w+ )?trials?\b|\brandomly (assigned|allocated)", re.I
        ),
    ),
    (StudyDesign.CASE_CONTROL, re.compile(r"\bcase[- ]control", re.I)),
    (
        StudyDesign.COHORT,
        re.compile(
            r"\bretrospective\w*|\bcohort\b|\bregistry|\bSEER\b|\bNCDB\b|\bNational Cancer Database|\bobservational|"
            r"\bdatabase\b|\bpropensity",
            re.I,
        ),
    ),
]
LEAD_IN_SENTENCES = 2
_LEAD_IN_CHARS = 800
_DESIGN_RANK = {
    StudyDesign.SYSTEMATIC_REVIEW: 1,
    StudyDesign.RCT: 2,
    StudyDesign.COHORT: 3,
    StudyDesign.CASE_CONTROL: 4,
    StudyDesign.CASE_SERIES: 4,
}


_DESIGN_OF_LEVEL = {
    EvidenceLevel.LEVEL_1: StudyDesign.SYSTEMATIC_REVIEW,
    EvidenceLevel.LEVEL_2: StudyDesign.RCT,
    EvidenceLevel.LEVEL_3: StudyDesign.COHORT,
    EvidenceLevel.LEVEL_4: StudyDesign.CASE_SERIES,
}


def reported_design(candidate: Candidate) -> StudyDesign:
    """The design of the study a sentence reports, else the design of its document.

    The sentence is read first, then the sentences just before it in its paragraph: "The
    meta-analysis identified 10 retrospective cohort studies ... Surgery was associated with
    superior survival" reports the cohorts' result in a sentence that does not name them.
    """
    named = _named_design(candidate.text)
    if named is not None:
        return named
    lead_in = design_lead_in(candidate)
    if lead_in is not None:
        design = _named_design(candidate.document.text[lead_in[0] : lead_in[1]])
        assert design is not None
        return design
    document = candidate.document
    if document.study_design is StudyDesign.NEWS_REPORT:
        # A news report is graded as the study it reports (level 2: a randomized trial).
        return _DESIGN_OF_LEVEL.get(document.evidence_level, StudyDesign.NEWS_REPORT)
    return document.study_design


def design_lead_in(candidate: Candidate) -> tuple[int, int] | None:
    """The sentence shortly before ``candidate``, in its paragraph, that names the design of the
    study the candidate reports, when the candidate names none itself; cited beside it so the
    design the answer states is in a cited span."""
    if _named_design(candidate.text) is not None:
        return None
    text = candidate.document.text
    window_start = max(0, candidate.start - _LEAD_IN_CHARS)
    paragraph = text.rfind("\n\n", window_start, candidate.start)
    window_start = paragraph + 2 if paragraph != -1 else window_start
    for start, end in reversed(sentence_spans(text, window_start, candidate.start)[-LEAD_IN_SENTENCES:]):
        if _named_design(text[start:end]) is not None:
            return start, end
    return None


def _named_design(text: str) -> StudyDesign | None:
    text = fold_hyphens(text)
    for design, pattern in _REPORTED:
        if pattern.search(text):
            return design
    return None


def strongest_design(candidates: Sequence[Candidate]) -> StudyDesign:
    designs = [reported_design(c) for c in candidates]
    return min(designs, key=lambda d: _DESIGN_RANK.get(d, 5))


def find_conflicts(candidates: Sequence[Candidate], min_relevance: float) -> list[ConflictDraft]:
    """Outcomes on which some sources report benefit and others report none or harm.

    Each document counts once per side (its most relevant finding on that outcome), and a side
    needs a document the other side lacks: one paper hedging both ways is not a conflict.
    """
    by_outcome: dict[str, dict[Stance, dict[int, Candidate]]] = {}
    for candidate in candidates:
        if candidate.stance is None or candidate.relevance < min_relevance:
            continue
        outcome = outcome_of(candidate.text)
        if outcome is None:
            continue
        side = Stance.BENEFIT if candidate.stance is Stance.BENEFIT else Stance.NO_BENEFIT
        chosen = by_outcome.setdefault(outcome, {}).setdefault(side, {})
        current = chosen.get(candidate.document.id)
        if current is None or _side_score(candidate) > _side_score(current):
            chosen[candidate.document.id] = candidate
    drafts = []
    for outcome, sides in by_outcome.items():
        benefit = sides.get(Stance.BENEFIT, {})
        against = sides.get(Stance.NO_BENEFIT, {})
        if not benefit or not against or set(benefit) == set(against):
            continue
        documents = set(benefit) | set(against)
        limitations = [
            c
            for c in candidates
            if c.document.id in documents and is_limitation(c.text) and c.relevance >= min_relevance / 2
        ]
        drafts.append(
            ConflictDraft(
                topic=outcome,
                benefit=_strongest_first(benefit.values()),
                against=_strongest_first(against.values()),
                limitations=_strongest_first(limitations)[:3],
            )
        )
    return sorted(drafts, key=lambda d: -len(d.benefit) - len(d.against))


# A side of a conflict shows each source's result with its numbers and size ("40% versus 22%",
# "350 patients") rather than a sentence of the same source that only says which way it went
# ("some studies have shown"), however much closer that one echoes the question.
_EFFECT_SIZE = re.compile(r"\d(?:\.\d+)?\s?%|\bp\s?[<=>\u2264]|\b(?:HR|OR|RR|CI)\b")


def _side_score(candidate: Candidate) -> tuple[bool, float]:
    quantified = _EFFECT_SIZE.search(candidate.text) or _PARTICIPANTS.search(candidate.text)
    return quantified is not None, candidate.relevance


def _strongest_first(candidates: Iterable[Candidate]) -> list[Candidate]:
    return sorted(candidates, key=lambda c: (c.level_rank, -c.relevance, c.document.id))


def outcome_of(text: str) -> str | None:
    for name, pattern in OUTCOMES.items():
        if pattern.search(text):
            return name
    return None


def participants(text: str) -> int | None:
    """The largest "N patients/women/participants" a document states about itself, if any."""
    counts = [int(m.group(1).replace(",", "")) for m in _PARTICIPANTS.finditer(text)]
    return max(counts) if counts else None


def is_limitation(text: str) -> bool:
    return bool(_LIMITATION.search(text))


def explanation_text(benefit_design: StudyDesign, other_design: StudyDesign, audience: Audience) -> str:
    """Design-grounded framing for why the sides may differ. States methods, never findings."""
    patient = audience is Audience.PATIENT
    if other_design in _TRIALS and benefit_design in _OBSERVATIONAL:
        if patient:
            return (
                "Studies that assign treatments by chance are the fairest test. Studies that look back at records "
                "compare people whose doctors chose the treatment for them, often because they were healthier, "
                "so the treatment can look better than it is."
            )
        return (
            "The randomized evidence weighs more: random assignment balances known and unknown prognostic "
            "factors, while the retrospective and registry comparisons are open to selection bias and "
            "confounding by indication (patients chosen for the intervention tend to be fitter or to have less "
            "extensive disease)."
        )
    if other_design in _TRIALS:
        if patient:
            return (
                "Studies that assign treatments by chance are the fairest test; the other side rests on opinion "
                "or on studies whose design the source does not describe."
            )
        return (
            "The randomized evidence weighs more: the other side rests on expert opinion or on studies whose design "
            "the source does not state, which cannot rule out selection bias."
        )
    if benefit_design in _TRIALS and other_design in _OBSERVATIONAL:
        if patient:
            return (
                "The studies that assigned treatments by chance found a benefit that studies of patient records "
                "did not; the chance-assigned studies are the fairer test."
            )
        return (
            "The randomized evidence weighs more than the observational series, whose comparison groups differ "
            "in ways the analysis may not capture."
        )
    if patient:
        return "The studies differ in who took part and how they were done, which can explain different results."
    return (
        "The sources differ in design, populations and treatments received; compare the cited spans and the "
        "limitations the sources state before weighing them."
    )
