"""The extractive composer: a question in, a structured, graded, span-cited answer out.

No language model and no invented sentence. The composer retrieves passages, splits them into
sentences (each an exact span of a stored document), scores every sentence for relevance to the
question, reads what role it plays (a standard approach, a finding, a selection criterion, a
risk, a decision point) and what direction it states (benefit, no benefit, harm), and places the
best sentences in sections whose shape fits the question. Statements keep the source's words,
numbers and populations; the only edits are trims (citation markers, leading connectives) and,
for patients, the lay-terms map of ``plain.py``. Every statement is checked against the spans it
cites (``verify.py``) and dropped if it fails.

Ordering puts stronger evidence first: within a section, statements are sorted by the evidence
level of their source (Oxford CEBM), then by relevance. Disagreement between sources on the same
outcome is surfaced as a conflict (``conflicts.py``), and the case, if any, gets its own section
(``cases.py``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import uuid4

from .candidates import (
    MAX_DOCUMENTS,
    Candidate,
    collect_candidates,
    off_stage,
    primary_role,
    question_stage,
)
from .cases import NOT_MATCHED, case_query, display, match_case
from .conflicts import (
    ConflictDraft,
    design_lead_in,
    explanation_text,
    find_conflicts,
    outcome_of,
    participants,
    reported_design,
)
from .models import (
    Answer,
    AnswerSection,
    Audience,
    Case,
    CitedSpan,
    Conflict,
    ConflictSide,
    Document,
    EvidenceLevel,
    Reference,
    ReferencePassage,
    SearchHit,
    Statement,
    StatementKind,
    StudyDesign,
    Verdict,
)
from .plain import reading_grade, to_plain
from .question import QuestionFrame, QuestionKind, parse_question, resolve_follow_up
from .stance import (
    Finding,
    Stance,
    finding_weight,
    states_aim,
    states_methods,
    states_no_finding,
    supports,
    verdict,
    verdict_sides,
)
from .tokens import STOPWORDS
from .verify import check_statement

if TYPE_CHECKING:
    from .library import Library

RETRIEVED_PASSAGES = 150
PASSAGES_PER_DOCUMENT = 3
MIN_RELEVANCE = 0.3
CLEARLY_RELEVANT = 0.5
RANK_DAMPING = 2.0  # PubMedQA dev questions: 0 -> 52.4%, 1 -> 57.6%, 2 -> 59.2%, 5 -> 59.6%; BioASQ 50.3% -> 51.0% at 2
MIN_COVERAGE = 0.5  # a statement must name at least half of the question's concepts
# ... or a quarter of them, in a study whose retrieved sentences name most of them together.
MIN_STUDY_COVERAGE = 0.6
# A link a sentence states by naming the question's concepts together (candidates.co_statement_stance)
# weighs half a stated finding. Dev questions right at 0.5: PubMedQA 336 of 500, BioASQ 7b-10b 350
# of 532; at 0.25: 338 and 347.
IMPLIED_WEIGHT = 0.5
# When no sentence is relevant, the best-ranked study still answers if its sentences name half the
# question's concepts (PubMedQA dev: 352 -> 361 of 500 at 0.5; 363 at 0.4, 358 at 0.6; BioASQ 7b-10b
# unchanged at 354): mostly questions read from a study's long title, which its sentences reword.
FALLBACK_STUDY_COVERAGE = 0.5
SECTION_SIZE = 4
SIDE_SIZE = 3
MERGE_SIMILARITY = 0.6

# Words the composer itself may put into a source statement when it names who did a study.
COMPOSER_WORDS = ("investigators", "study", "authors", "et", "al")

DISCLAIMERS = {
    Audience.CLINICIAN: (
        "This answer is for healthcare professionals. It is drawn only from the documents in this library, "
        "quoted with their sources; it is not a guideline and does not replace clinical judgement. Check the "
        "cited sources before applying it to a patient. Until the review board approves it, it is a draft."
    ),
    Audience.PATIENT: (
        "This is general information from studies and articles, not medical advice for you. Talk with your "
        "doctor or care team before making any decision about your treatment. It has not yet been checked by "
        "our review board."
    ),
}

SECTION_TITLES: dict[QuestionKind, list[tuple[str, str, str]]] = {
    # (role, clinician title, patient title)
    QuestionKind.TREATMENT: [
        ("framework", "Standard approach", "What is usually done"),
        ("evidence", "What the evidence shows, strongest design first", "What studies found"),
        ("selection", "Who may benefit", "Who might be helped"),
        ("factors", "Factors for and against", "Things that make it more or less likely to help"),
        ("risks", "Risks and pitfalls", "Risks and things to watch for"),
        ("decision", "Multidisciplinary and shared decision", "Deciding together with your care team"),
    ],
    QuestionKind.DIAGNOSIS: [
        ("framework", "How the diagnosis is made", "How doctors find out"),
        ("evidence", "Accuracy of tests, strongest design first", "How good the tests are"),
        ("selection", "Who should be tested", "Who should get tested"),
        ("factors", "Factors that change the result", "Things that can change the result"),
        ("risks", "Pitfalls", "Things to watch for"),
        ("decision", "Discussing the results", "Talking about the results"),
    ],
    QuestionKind.PROGNOSIS: [
        ("evidence", "Outlook, strongest design first", "What studies found about the outlook"),
        ("factors", "Factors that change the outlook", "Things that can change the outlook"),
        ("selection", "Groups with a different outlook", "People whose outlook may differ"),
        ("framework", "Standard approach", "What is usually done"),
        ("risks", "Risks", "Risks"),
        ("decision", "Discussing the outlook", "Talking about the outlook"),
    ],
    QuestionKind.DRUG: [
        ("framework", "Use and dosing", "How it is used"),
        ("evidence", "Efficacy, strongest design first", "How well it works"),
        ("risks", "Side effects, interactions and cautions", "Side effects and cautions"),
        ("selection", "Who should or should not take it", "Who it is for"),
        ("factors", "Factors that change the effect", "Things that change how well it works"),
        ("decision", "Decisions with the patient", "Deciding with your care team"),
    ],
    QuestionKind.ETIOLOGY: [
        ("evidence", "What the evidence shows about causes and risk, strongest design first", "What studies found"),
        ("factors", "Risk factors", "Things that raise or lower the risk"),
        ("selection", "Who is affected", "Who this affects"),
        ("framework", "Current understanding", "What is known"),
        ("risks", "Cautions", "Things to watch for"),
        ("decision", "Discussing the risk", "Talking about the risk"),
    ],
    QuestionKind.GENERAL: [
        ("evidence", "Key findings, strongest design first", "What studies found"),
        ("framework", "Current approach", "What is usually done"),
        ("selection", "Who it applies to", "Who this applies to"),
        ("factors", "Related factors", "Things that make a difference"),
        ("risks", "Cautions", "Things to watch for"),
        ("decision", "Decisions", "Deciding with your care team"),
    ],
}


def answer_id() -> str:
    return uuid4().hex[:16]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# -- statements --------------------------------------------------------------------------------


_LEADING_CONNECTIVE = re.compile(
    r"^(however|in contrast|in addition|additionally|also|moreover|furthermore|in fact|thus|therefore|hence|"
    r"consequently|accordingly|as a result|by contrast|on the other hand|taken together|"
    r"indeed|notably|importantly|similarly|conversely|nevertheless|overall|finally|in summary|in conclusion|"
    r"conclusions?|results?|background|methods?|objectives?|purpose|findings|summary)\s*[:,]\s*",
    re.IGNORECASE,
)
_CITATION_MARKER = re.compile(
    r"\s?\[(\d+(\s?[-\u2010-\u2015,]\s?\d+)*)\]|(?<!\d[.,])(?<=[a-z.,)])\d{1,2}(,\d{1,2})*(?=\s|$)"
)
_SEE_ALSO = re.compile(r"\s?\((see|refer to) [^)]*\)", re.IGNORECASE)


# "RESULTS: ", "IMMUNIZATIONS - ", and a web page's heading run into its first sentence ("When to
# Contact a Medical Professional: See your provider if ...").
_LEADING_LABELS = re.compile(
    r"^(?:[-*\u2022]\s+|[A-Z][A-Z ,/&-]{1,40}:\s*|[A-Z][A-Z ,/&-]{4,40}\s+-\s+"
    r"|[A-Z][\w'-]*(?:\s+(?:[A-Z][\w'-]*|[a-z]{1,3})){1,6}:\s+)+"
)


def trim(text: str) -> str:
    """Light compression that adds no words: citation markers, cross-references, leading connectives."""
    text = _CITATION_MARKER.sub("", text)
    text = _SEE_ALSO.sub("", text)
    text = _LEADING_LABELS.sub("", _LEADING_CONNECTIVE.sub("", " ".join(text.split())))
    if text.count(")") > text.count("("):
        # A bracket the source opened in an earlier sentence ("... of clotting.).").
        text = re.sub(r"([.!?]?)\)([.!?]*)$", lambda m: m.group(1) or m.group(2), text, count=1)
    return text[:1].upper() + text[1:] if text else text


def group_redundant(candidates: Sequence[Candidate]) -> list[list[Candidate]]:
    """Merge sentences from different documents that say the same thing into one statement."""
    groups: list[list[Candidate]] = []
    for candidate in candidates:
        content = _content(candidate)
        for group in groups:
            lead = group[0]
            if lead.document.id != candidate.document.id and _similarity(content, _content(lead)) >= MERGE_SIMILARITY:
                group.append(candidate)
                break
        else:
            groups.append([candidate])
    return groups


def _content(candidate: Candidate) -> frozenset[str]:
    return frozenset(t for t in candidate.terms if t not in STOPWORDS)


def _similarity(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def ordered(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Stronger evidence first, then more relevant; the document id breaks ties for stable output."""
    return sorted(candidates, key=lambda c: (c.level_rank, -round(c.relevance, 2), c.document.id, c.start))


@dataclass
class ReferenceBook:
    """Numbers references in order of first citation and records the spans each statement cites."""

    references: dict[int, Reference] = field(default_factory=dict)

    def cite(self, candidate: Candidate) -> CitedSpan:
        document = candidate.document
        reference = self.references.get(document.id)
        if reference is None:
            reference = _reference(len(self.references) + 1, document)
            self.references[document.id] = reference
        if all((p.start, p.end) != (candidate.start, candidate.end) for p in reference.passages):
            reference.passages.append(
                ReferencePassage(candidate.passage_id, candidate.text, candidate.start, candidate.end)
            )
            reference.passages.sort(key=lambda p: p.start)
        return CitedSpan(reference.n, candidate.passage_id, candidate.start, candidate.end)

    def number(self, document_id: int) -> int:
        return self.references[document_id].n


def _reference(n: int, document: Document) -> Reference:
    return Reference(
        n=n,
        document_id=document.id,
        doc_id=document.key,
        title=document.title,
        authors=list(document.authors),
        year=document.year,
        journal=document.journal,
        pmid=document.pmid,
        doi=document.doi,
        url=document.url,
        study_design=document.study_design,
        evidence_level=document.evidence_level,
        design_reason=document.design_reason,
    )


def statement_from(group: Sequence[Candidate], book: ReferenceBook, audience: Audience) -> Statement:
    """One statement from redundant sentences: the text of the best one, every source cited."""
    lead = _lead_for(group, audience)
    spans = [book.cite(candidate) for candidate in group]
    citations = sorted({span.n for span in spans})
    text = named_study(trim(lead.text), lead.document)
    if audience is Audience.PATIENT:
        text = to_plain(text)
    stance = lead.stance.value if lead.stance else None
    return Statement(
        text=text, citations=citations, kind=StatementKind.SOURCE, quote=lead.text, spans=spans, stance=stance
    )


# A study's name as its title gives it: "... the Randomized Evaluation of Long-term anticoagulation
# therapY (RE-LY) study", "The STOP STROKE in AF study", "the ADAPT trial".
_TITLE_STUDY_NAME = re.compile(
    r"\((?P<bracketed>[A-Z][\w-]*[A-Z][\w-]*)\)\s+(?:study|trial)\b"
    r"|\b(?P<named>[A-Z][A-Z0-9-]{2,}(?: (?:[A-Z][A-Z0-9-]+|in|of|for|and))*) (?:study|trial)\b"
)
_THIS_STUDY = re.compile(r"(?:^the|\bthis|\bthe present|\bour) (?P<kind>study|trial)\b", re.IGNORECASE)


def named_study(text: str, document: Document) -> str:
    """``text`` with "this study" / "the trial" naming the study it is from, when the title names it
    ("the RE-LY study") or, failing that, by its first author ("the study by Badwe et al.").

    Out of its abstract "the study" could be any study; the words added come from the cited
    reference's title or author list, which the support check accepts."""
    match = _TITLE_STUDY_NAME.search(document.title)
    if match is None and not document.authors:
        return text

    def rename(found: re.Match[str]) -> str:
        article = "The" if found.start() == 0 else "the"
        kind = found.group("kind").lower()
        if match is not None:
            return f"{article} {match.group('bracketed') or match.group('named')} {kind}"
        return f"{article} {kind} by {surname(document.authors[0])} et al."

    return _THIS_STUDY.sub(rename, text, count=1)


def surname(author: str) -> str:
    """The family name of an author as MEDLINE ("Badwe RA"), citation meta ("Badwe, Rajendra") or
    plain text ("Rajendra Badwe") writes it."""
    if "," in author:
        return author.split(",")[0].strip()
    words = author.split()
    if len(words) > 1 and re.fullmatch(r"[A-Z]{1,3}", words[-1]):
        return " ".join(words[:-1])
    return words[-1] if words else author


def _lead_for(group: Sequence[Candidate], audience: Audience) -> Candidate:
    """The sentence whose words a statement uses: for patients, a patient-oriented source's first,
    then the one that reads most easily in plain words (the group's sentences say the same thing)."""
    if audience is Audience.PATIENT and len(group) > 1:
        return min(
            group,
            key=lambda c: (
                c.document.study_design is not StudyDesign.PATIENT_INFORMATION,
                reading_grade(to_plain(trim(c.text))),
            ),
        )
    return group[0]


# -- framing ----------------------------------------------------------------------------------

DESIGN_PLURALS = {
    StudyDesign.SYSTEMATIC_REVIEW: ("systematic review or meta-analysis", "systematic reviews or meta-analyses"),
    StudyDesign.RCT: ("randomized controlled trial", "randomized controlled trials"),
    StudyDesign.GUIDELINE: ("practice guideline", "practice guidelines"),
    StudyDesign.CONSENSUS: ("expert consensus statement", "expert consensus statements"),
    StudyDesign.COHORT: ("cohort, retrospective or registry study", "cohort, retrospective or registry studies"),
    StudyDesign.CASE_CONTROL: ("case-control study", "case-control studies"),
    StudyDesign.CASE_SERIES: ("case series or case report", "case series or case reports"),
    StudyDesign.NARRATIVE_REVIEW: ("narrative review or reference topic", "narrative reviews or reference topics"),
    StudyDesign.PATIENT_INFORMATION: ("patient information article", "patient information articles"),
    StudyDesign.NEWS_REPORT: ("news report of a study", "news reports of studies"),
    StudyDesign.ANIMAL_LAB: ("animal or laboratory study", "animal or laboratory studies"),
    StudyDesign.UNKNOWN: ("unclassified source", "unclassified sources"),
}

PATIENT_DESIGN_NAMES = {
    StudyDesign.SYSTEMATIC_REVIEW: "reviews that combine many studies",
    StudyDesign.RCT: "studies that assigned treatments by chance",
    StudyDesign.COHORT: "studies that looked back at patient records",
    StudyDesign.CONSENSUS: "expert group statements",
    StudyDesign.GUIDELINE: "practice guidelines",
    StudyDesign.NARRATIVE_REVIEW: "review articles",
    StudyDesign.PATIENT_INFORMATION: "patient information articles",
    StudyDesign.NEWS_REPORT: "news reports of studies",
}


def design_phrase(design: StudyDesign, count: int, audience: Audience) -> str:
    if audience is Audience.PATIENT and design in PATIENT_DESIGN_NAMES:
        name = PATIENT_DESIGN_NAMES[design]
        return f"{count} of the {name}" if count > 1 else f"one of the {name}"
    singular, plural = DESIGN_PLURALS[design]
    return f"{count} {plural}" if count > 1 else f"1 {singular}"


def evidence_basis(
    references: Sequence[Reference],
    audience: Audience,
    answer_verdict: Verdict | None,
    sides: dict[str, list[int]] | None = None,
    minor_sources: int = 0,
    strongest_decides: bool = False,
) -> Statement:
    """A framing statement: what designs (and so what level of evidence) the answer rests on.

    ``sides`` ("yes", "no", "split" -> reference numbers) names the sources behind each side of the
    verdict, so a reader sees which sources it rests on, not only the whole reference list;
    ``minor_sources`` counts those it also weighed that barely count (``stance.MATERIAL_SHARE``); they
    are mentioned, not numbered, since a framing statement states no number it cannot cite.
    """
    by_design: dict[StudyDesign, list[Reference]] = {}
    for reference in sorted(references, key=lambda r: (r.evidence_level.rank, r.n)):
        by_design.setdefault(reference.study_design, []).append(reference)
    parts = []
    for design, group in by_design.items():
        cites = ", ".join(str(r.n) for r in group)
        level = group[0].evidence_level
        level_text = (
            f", level {level.value}" if level is not EvidenceLevel.NOT_GRADED and audience is Audience.CLINICIAN else ""
        )
        parts.append(f"{design_phrase(design, len(group), audience)}{level_text} [{cites}]")
    if audience is Audience.PATIENT:
        text = "This answer is based on " + _join(parts) + " in this library."
    else:
        text = "Evidence base in this library, strongest first: " + _join(parts) + "."
    if answer_verdict is not None and sides:
        names = SIDE_NAMES[audience]
        listed = "; ".join(f"{names[side]} [{', '.join(map(str, sides[side]))}]" for side in names if sides.get(side))
        if audience is Audience.CLINICIAN:
            deciding = " (the strongest evidence decides)" if strongest_decides else ""
            minor = " (other sources in this library weigh under a tenth as much each)" if minor_sources else ""
            text += (
                f" Sources stating a finding on the question: {listed}{minor}. Weighing them by level of evidence"
                f" and relevance{deciding}, the answer is: {answer_verdict.value}."
            )
        else:
            text += (
                f" What the main sources say: {listed}. Giving more weight to the stronger studies, the short "
                f"answer is: {answer_verdict.value}."
            )
    elif answer_verdict is not None:
        text += (
            f" Weighing each source by its level of evidence, the answer is: {answer_verdict.value}."
            if audience is Audience.CLINICIAN
            else f" Giving more weight to the stronger studies, the short answer is: {answer_verdict.value}."
        )
    return Statement(text=text, citations=sorted(r.n for r in references), kind=StatementKind.FRAMING)


SIDE_NAMES = {
    Audience.CLINICIAN: {"yes": "yes", "no": "no", "split": "split"},
    Audience.PATIENT: {"yes": "yes", "no": "no", "split": "both ways"},
}


def cite_sides(
    sides: dict[str | int, str], candidates: Sequence[Candidate], book: ReferenceBook
) -> dict[str, list[int]]:
    """Reference numbers behind each side of the verdict ("yes", "no", "split").

    A source the verdict weighs but no statement quotes is cited by its most relevant finding, so
    every source the verdict rests on is in the reference list.
    """
    numbered: dict[str, list[int]] = {}
    for source, side in sides.items():
        if source not in book.references:
            stated = [c for c in candidates if c.document.id == source and c.stance is not None]
            if not stated:
                continue
            book.cite(max(stated, key=lambda c: c.relevance))
        numbered.setdefault(side, []).append(book.number(int(source)))
    return {side: sorted(numbers) for side, numbers in numbered.items()}


def _join(parts: Sequence[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return "; ".join(parts[:-1]) + "; and " + parts[-1]


# -- checking ---------------------------------------------------------------------------------


def supported(statement: Statement, references: Sequence[Reference], audience: Audience) -> bool:
    from .plain import plain_words

    allowed = list(COMPOSER_WORDS) + (list(plain_words()) if audience is Audience.PATIENT else [])
    return check_statement(statement, references, allowed).supported


def level_counts(references: Sequence[Reference]) -> dict[str, object]:
    designs = Counter(r.study_design.value for r in references)
    levels = Counter(r.evidence_level.value for r in references)
    strongest = min((r.evidence_level for r in references), key=lambda lv: lv.rank, default=None)
    return {
        "references": len(references),
        "by_design": dict(sorted(designs.items(), key=lambda kv: -kv[1])),
        "by_level": dict(sorted(levels.items())),
        "strongest_level": strongest.value if strongest else None,
        "hierarchy": "Oxford CEBM 2011 (treatment benefits): 1 systematic review of randomized trials, "
        "2 randomized trial, 3 non-randomized cohort, 4 case series or case-control, 5 expert opinion or "
        "mechanism",
    }


def new_answer(question: str, frame: QuestionFrame, audience: Audience, case: Case | None) -> Answer:
    return Answer(
        id=answer_id(),
        question=question,
        audience=audience,
        bottom_line=[],
        sections=[],
        conflicts=[],
        references=[],
        verdict=None,
        evidence_summary={},
        disclaimer=DISCLAIMERS[audience],
        resolved_question=frame.text,
        case=case,
        created_at=now(),
    )


def verdict_findings(candidates: Sequence[Candidate], ranks: dict[int, int] | None = None) -> list[Finding]:
    """What a yes/no verdict weighs: every stated finding, weighted by relevance and by where it
    stands in its source (a conclusion speaks for a study, a background sentence hardly), one vote
    per source (document).

    ``ranks`` (document id -> 1, 2, ... in retrieval order) damps sources by ``1 / rank ** RANK_DAMPING``:
    the study that best matches the question speaks for it more than one that shares some words.
    """
    # Ranks count only the sources that state a finding, so damping orders them without shrinking
    # the evidence as a whole (the best-ranked source with a finding always counts in full).
    if ranks:
        stating = sorted({c.document.id for c in candidates if c.stance is not None}, key=ranks.__getitem__)
        ranks = {document_id: rank for rank, document_id in enumerate(stating, start=1)}
    ranks = ranks or {}
    return [
        Finding(
            stance=c.stance,
            level=c.document.evidence_level,
            relevance=c.relevance
            * finding_weight(c.text, c.section)
            * (IMPLIED_WEIGHT if c.implied else 1.0)
            / ranks.get(c.document.id, 1) ** RANK_DAMPING,
            design=c.document.study_design,
            source=c.document.id,
        )
        for c in candidates
        if c.stance is not None
    ]


# -- the answer -------------------------------------------------------------------------------


def compose_answer(
    library: Library,
    question: str,
    audience: Audience = Audience.CLINICIAN,
    case: Case | None = None,
    previous: Answer | None = None,
) -> Answer:
    """A structured answer from ``library`` alone. ``previous`` makes ``question`` a follow-up of it."""
    if previous is not None:
        frame = resolve_follow_up(parse_question(previous.resolved_question or previous.question), question)
        case = case if case is not None else previous.case
    else:
        frame = parse_question(question)
    answer = new_answer(question, frame, audience, case)
    if previous is not None:
        answer.follow_up_of = previous.id
        answer.thread = [*previous.thread, previous.id]
    query = frame.text if not case else f"{frame.text} {case_query(case.values)}"
    # Synonyms widen the net for the composer, whose concept matching then drops what is off-topic.
    hits = diverse(library.search(query, k=RETRIEVED_PASSAGES, expand=True))
    candidates = collect_candidates(library, hits, library.retriever.concepts(frame.text), frame)
    stage = question_stage(frame.text)
    if stage is not None:
        documents = {c.document.id: c.document for c in candidates}
        off = {document_id for document_id, document in documents.items() if off_stage(document, stage)}
        candidates = [c for c in candidates if c.document.id not in off]
    relevant = [c for c in candidates if is_relevant(c)]
    if not relevant:
        relevant = _best_study_findings(candidates, hits)
        if relevant:
            answer.gaps.append(
                "No sentence in this library answers the question in its own words; this answer reads the "
                "results and conclusions of the closest study. Check that it is the study you mean."
            )
    if not relevant:
        answer.gaps.append(
            f"No passage in this library answers \u201c{frame.text}\u201d. Add sources on this question "
            "(guidelines, trials, reviews) and ask again."
        )
        answer.evidence_summary = level_counts([])
        return answer

    book = ReferenceBook()
    used: set[tuple[int, int]] = set()
    # The verdict weighs every relevant finding; a statement must also make sense on its own.
    verdict_evidence = _study_findings(relevant, candidates)
    relevant = [c for c in relevant if stands_alone(c.text)] or relevant
    drafts = find_conflicts(relevant, MIN_RELEVANCE)
    ranks: dict[int, int] = {}
    for hit in hits:
        ranks.setdefault(hit.document_id, len(ranks) + 1)
    sides = None
    if frame.is_yes_no:
        weighed = verdict_findings(verdict_evidence, ranks)
        answer.verdict = verdict(weighed, frame)
        sides = verdict_sides(weighed, frame)

    def take(candidate: Candidate) -> Statement:
        used.add((candidate.document.id, candidate.start))
        return statement_from([candidate], book, audience)

    findings = [c for c in relevant if c.stance is not None]
    # The bottom line opens with the direction of the evidence: under a yes or no verdict, a finding
    # that says so ("the trial found no benefit" before a series that found one).
    agreeing: list[Candidate] = []
    if answer.verdict in (Verdict.YES, Verdict.NO):
        yes = answer.verdict is Verdict.YES
        agreeing = [c for c in findings if c.stance is not None and supports(c.stance, frame) == yes]
    lead = _strongest(agreeing) or _strongest(findings) or _strongest(relevant)
    assert lead is not None
    answer.bottom_line.append(take(lead))
    if drafts:
        opposite = drafts[0].benefit if lead.stance is not Stance.BENEFIT else drafts[0].against
        counter = _strongest([c for c in opposite if (c.document.id, c.start) not in used])
        if counter is not None:
            answer.bottom_line.append(take(counter))
    advice = _strongest(
        [
            c
            for c in relevant
            if primary_role(c) in ("framework", "selection")
            and c.importance >= 0.5
            and not states_no_finding(c.text)
            and (c.document.id, c.start) not in used
        ]
    )
    if advice is not None and len(answer.bottom_line) < 3:
        answer.bottom_line.append(take(advice))

    answer.sections.extend(_sections(frame, relevant, used, book, audience))
    if case:
        extra = _case_candidates(library, frame, case)
        answer.sections.extend(_case_section(case, relevant + extra, used, book, audience, answer.gaps))

    def passage_at(document_id: int, offset: int) -> int:
        return next(p.id for p in library.store.passages(document_id) if p.start <= offset < p.end)

    answer.conflicts.extend(_conflict(draft, book, audience, passage_at) for draft in drafts[:2])
    if audience is Audience.PATIENT:
        answer.sections.append(_questions_to_ask(answer, frame))
    numbered_sides = cite_sides(sides.sides, verdict_evidence, book) if sides is not None else None
    references = sorted(book.references.values(), key=lambda r: r.n)
    answer.bottom_line.append(
        evidence_basis(
            references,
            audience,
            answer.verdict,
            numbered_sides,
            sides.minor if sides is not None else 0,
            sides is not None and sides.top_tier_decides,
        )
    )
    answer.references = references
    _drop_unsupported(answer, audience)
    answer.gaps.extend(_evidence_gaps(frame, references, audience))
    answer.evidence_summary = level_counts(references)
    return answer


# A subject pronoun that points back to an earlier sentence ("It is also known as ...", "They were
# followed for a year"): out of its paragraph the statement no longer says what it is about. An
# "it" that anticipates a clause ("It is recommended that ...") stands alone.
_DANGLING_SUBJECT = re.compile(
    r"^(?:it(?!\s+(?:is|was|has been|remains|seems|appears|may be|might be|should be)\s+(?:\w+\s+){0,2}?"
    r"(?:that|to|whether|if)\b)|they|he|she|(?:this|these|those)(?=\s+(?:is|are|was|were|has|have|had|can|could"
    r"|may|might|will|would|should|also|includes?|means?)\b))\b",
    re.IGNORECASE,
)


def stands_alone(sentence: str) -> bool:
    """Whether ``sentence`` names its own subject rather than pointing back to an earlier sentence."""
    return not _DANGLING_SUBJECT.match(trim(sentence))


def _best_study_findings(candidates: Sequence[Candidate], hits: Sequence[SearchHit]) -> list[Candidate]:
    """When no sentence is relevant enough: the results and conclusions of the best-ranked study,
    if its sentences together name at least ``FALLBACK_STUDY_COVERAGE`` of the question's concepts."""
    if not hits:
        return []
    best = hits[0].document_id
    return [
        replace(c, relevance=MIN_RELEVANCE)
        for c in candidates
        if c.document.id == best
        and c.document_coverage >= FALLBACK_STUDY_COVERAGE
        and c.importance >= 0.5
        and c.stance is not None
    ]


def is_relevant(candidate: Candidate) -> bool:
    """On topic enough to state: relevant, and naming the question's concepts itself or in its study."""
    if candidate.relevance < MIN_RELEVANCE:
        return False
    return candidate.coverage >= MIN_COVERAGE or (
        candidate.coverage >= MIN_COVERAGE / 2 and candidate.document_coverage >= MIN_STUDY_COVERAGE
    )


def _study_findings(relevant: Sequence[Candidate], candidates: Sequence[Candidate]) -> list[Candidate]:
    """The findings a verdict weighs: the relevant sentences, every other finding of a study that
    has one, at no less than half that study's relevance, and the conclusions of a study that has
    none but names most of the question's concepts across its sentences (``MIN_STUDY_COVERAGE``),
    at the least relevance a statement needs.

    A study is on topic as a whole: the sentence that names the question's terms is often its aim
    ("To investigate acupuncture for vocal pathologies"), while its conclusion says "the findings
    showed that it could bring improvement". (PubMedQA dev questions: 52.2% -> 57.4%; the
    conclusions of on-topic studies without a relevant sentence: 333 -> 336 of 500.)
    """
    best: dict[int, float] = {}
    for candidate in relevant:
        best[candidate.document.id] = max(best.get(candidate.document.id, 0.0), candidate.relevance)
    chosen = {(c.document.id, c.start) for c in relevant}
    rest = [
        replace(c, relevance=max(c.relevance, best[c.document.id] / 2))
        for c in candidates
        if c.stance is not None and c.document.id in best and (c.document.id, c.start) not in chosen
    ]
    topical = [
        replace(c, relevance=MIN_RELEVANCE)
        for c in candidates
        if c.stance is not None
        and c.document.id not in best
        and c.document_coverage >= MIN_STUDY_COVERAGE
        and finding_weight(c.text, c.section) >= 1.0
    ]
    return [*relevant, *rest, *topical]


def diverse(hits: Sequence[SearchHit]) -> list[SearchHit]:
    """At most ``PASSAGES_PER_DOCUMENT`` passages of each document, in rank order; proportionally more
    when fewer than ``MAX_DOCUMENTS`` documents were found.

    A long page repeats its topic in every passage; without a cap it fills the candidate list and
    crowds out the short abstract that answers the question. When the library holds only a few
    documents on the question there is nothing to crowd out, and a long consensus statement says
    who may benefit in its fifth passage as often as in its first.
    """
    documents = len({hit.document_id for hit in hits})
    cap = PASSAGES_PER_DOCUMENT * max(1, MAX_DOCUMENTS // max(documents, 1))
    taken: Counter[int] = Counter()
    kept = []
    for hit in hits:
        if taken[hit.document_id] < cap:
            taken[hit.document_id] += 1
            kept.append(hit)
    return kept


def _strongest(candidates: Sequence[Candidate]) -> Candidate | None:
    """Among the clearly relevant, the highest level of evidence, and within one source its conclusion
    before its results before its background; a stated outcome breaks ties.

    Clearly relevant is within 60% of the best, or above ``CLEARLY_RELEVANT`` whatever the best: a
    secondary page that restates the question word for word must not push a trial's finding out.
    """
    if not candidates:
        return None
    best = max(c.relevance for c in candidates)
    close = [c for c in candidates if c.relevance >= min(0.6 * best, CLEARLY_RELEVANT)]
    return min(
        close,
        key=lambda c: (c.level_rank, -c.importance, outcome_of(c.text) is None, -c.relevance, c.document.id, c.start),
    )


def _sections(
    frame: QuestionFrame,
    relevant: Sequence[Candidate],
    used: set[tuple[int, int]],
    book: ReferenceBook,
    audience: Audience,
) -> list[AnswerSection]:
    by_role: dict[str, list[Candidate]] = {}
    for candidate in ordered(relevant):
        if (candidate.document.id, candidate.start) in used:
            continue
        role = primary_role(candidate)
        # "We tested whether patients with X ..." names a population, but says nothing about who benefits;
        # "The X study aims to evaluate ..." is no standard approach.
        if (role in ("selection", "factors") and states_no_finding(candidate.text)) or states_aim(candidate.text):
            continue
        # "350 patients with X were randomly assigned ..." says whom a trial enrolled, not who benefits.
        if role == "selection" and states_methods(candidate.text):
            continue
        by_role.setdefault(role, []).append(candidate)
    sections = []
    for role, clinician_title, patient_title in SECTION_TITLES[frame.kind]:
        groups = group_redundant(by_role.get(role, []))[:SECTION_SIZE]
        if not groups:
            continue
        for group in groups:
            used.update((c.document.id, c.start) for c in group)
        title = patient_title if audience is Audience.PATIENT else clinician_title
        sections.append(AnswerSection(title, [statement_from(g, book, audience) for g in groups], key=role))
    return sections


def _case_candidates(library: Library, frame: QuestionFrame, case: Case) -> list[Candidate]:
    """Sources found by asking about each case attribute in the question's context."""
    found: list[Candidate] = []
    for name, value in case.values.items():
        if name in NOT_MATCHED:
            continue
        query = f"{frame.text} {display(name, value)}"
        hits = library.search(query, k=10, expand=True)
        found.extend(collect_candidates(library, hits, library.retriever.concepts(frame.text), frame))
    return found


def _case_section(
    case: Case,
    candidates: Sequence[Candidate],
    used: set[tuple[int, int]],
    book: ReferenceBook,
    audience: Audience,
    gaps: list[str],
) -> list[AnswerSection]:
    matches, missing = match_case(case.values, candidates, MIN_RELEVANCE / 2)
    gaps.extend(missing)
    if not matches:
        return []
    statements = []
    for match in matches:
        used.add((match.candidate.document.id, match.candidate.start))
        statement = statement_from([match.candidate], book, audience)
        statement.label = f"{match.label} ({match.direction})"
        statements.append(statement)
    title = "About you" if audience is Audience.PATIENT else "This patient"
    return [AnswerSection(title, statements, key="this_patient")]


def _conflict(
    draft: ConflictDraft, book: ReferenceBook, audience: Audience, passage_at: Callable[[int, int], int]
) -> Conflict:
    sides = []
    against_members, benefit_members = draft.against[:SIDE_SIZE], draft.benefit[:SIDE_SIZE]
    for stance, members, design in (
        (Stance.NO_BENEFIT, against_members, draft.against_design),
        (Stance.BENEFIT, benefit_members, draft.benefit_design),
    ):
        statements = [_side_statement(c, book, audience, passage_at) for c in members]
        sides.append(
            ConflictSide(
                stance=stance.value,
                design=design.value,
                citations=sorted({n for s in statements for n in s.citations}),
                statements=statements,
                participants=participants(" ".join(c.text for c in members)),
            )
        )
    cited = sorted({n for side in sides for n in side.citations})
    summary = Statement(text=_conflict_summary(draft, book, audience), citations=cited, kind=StatementKind.FRAMING)
    explanation = Statement(
        text=explanation_text(draft.benefit_design, draft.against_design, audience),
        citations=cited,
        kind=StatementKind.FRAMING,
    )
    limitations = [statement_from([c], book, audience) for c in draft.limitations]
    return Conflict(draft.topic, summary, sides, explanation, limitations)


def _side_statement(
    candidate: Candidate, book: ReferenceBook, audience: Audience, passage_at: Callable[[int, int], int]
) -> Statement:
    """A finding on one side of a conflict, citing too the sentence before it that names its design."""
    statement = statement_from([candidate], book, audience)
    lead_in = design_lead_in(candidate)
    if lead_in is not None:
        start, end = lead_in
        passage_id = passage_at(candidate.document.id, start)
        text = candidate.document.text[start:end]
        statement.spans.insert(0, book.cite(replace(candidate, passage_id=passage_id, start=start, end=end, text=text)))
    return statement


def _conflict_summary(draft: ConflictDraft, book: ReferenceBook, audience: Audience) -> str:
    """Each side as the designs it reports, each with its citations: "a randomized trial [1] and ..."."""

    def describe(members: Sequence[Candidate]) -> str:
        by_design: dict[StudyDesign, set[int]] = {}
        for candidate in members:
            by_design.setdefault(reported_design(candidate), set()).add(book.number(candidate.document.id))
        parts = []
        for design, numbers in by_design.items():
            phrase = design_phrase(design, 1, audience).removeprefix("1 ").removeprefix("one of the ")
            article = "" if audience is Audience.PATIENT else ("an " if phrase[0] in "aeiou" else "a ")
            parts.append(f"{article}{phrase} [{', '.join(str(n) for n in sorted(numbers))}]")
        return _join(parts).replace("; and ", " and ").replace("; ", ", ")

    against = describe(draft.against[:SIDE_SIZE])
    benefit = describe(draft.benefit[:SIDE_SIZE])
    if audience is Audience.PATIENT:
        topic = to_plain(draft.topic).lower()
        return f"The sources disagree about {topic}: {against} found no benefit, while {benefit} reported a benefit."

    def verb(members: Sequence[Candidate]) -> str:
        return "reports" if len({c.document.id for c in members}) == 1 else "report"

    against_verb, benefit_verb = verb(draft.against[:SIDE_SIZE]), verb(draft.benefit[:SIDE_SIZE])
    return (
        f"Sources disagree on {draft.topic}: {against} {against_verb} no benefit, "
        f"while {benefit} {benefit_verb} benefit."
    )


def _questions_to_ask(answer: Answer, frame: QuestionFrame) -> AnswerSection:
    """Framing questions for the care team, each citing the statements that raise it."""

    def cites(key: str) -> list[int]:
        return sorted({n for s in answer.sections if s.key == key for st in s.statements for n in st.citations})

    questions: list[tuple[str, list[int]]] = [
        ("Is this treatment likely to help someone in my situation?", cites("selection") or cites("evidence")),
        (
            "What are the risks and side effects for me, and what happens if I choose not to have it?",
            cites("risks") or cites("evidence"),
        ),
        (
            "What do the strongest studies show, and do they apply to me?",
            sorted({n for c in answer.conflicts for n in c.summary.citations}) or cites("evidence"),
        ),
        (
            "Who else should be part of this decision, and how much time do I have to decide?",
            cites("decision") or cites("framework"),
        ),
    ]
    statements = [Statement(q, c, kind=StatementKind.FRAMING) for q, c in questions if c]
    return AnswerSection("Questions to ask your care team", statements, key="questions")


def _drop_unsupported(answer: Answer, audience: Audience) -> None:
    """Remove any statement its spans do not support: the composer may not say what they do not."""
    references = answer.references
    answer.bottom_line = [s for s in answer.bottom_line if supported(s, references, audience)]
    for section in answer.sections:
        section.statements = [s for s in section.statements if supported(s, references, audience)]
    answer.sections = [s for s in answer.sections if s.statements]
    for conflict in answer.conflicts:
        conflict.limitations = [s for s in conflict.limitations if supported(s, references, audience)]
        for side in conflict.sides:
            side.statements = [s for s in side.statements if supported(s, references, audience)]
    answer.conflicts = [
        c
        for c in answer.conflicts
        if all(side.statements for side in c.sides)
        and supported(c.summary, references, audience)
        and supported(c.explanation, references, audience)
    ]


def _evidence_gaps(frame: QuestionFrame, references: Sequence[Reference], audience: Audience) -> list[str]:
    strongest = min((r.evidence_level.rank for r in references), default=6)
    if frame.kind in (QuestionKind.TREATMENT, QuestionKind.DRUG) or frame.is_yes_no:
        # Level 1-2 includes a news report of a randomized trial: it is graded as the trial it reports.
        if strongest > 2:
            subject = frame.intervention or "this question"
            if audience is Audience.PATIENT:
                return [
                    f"This library has no study that assigned {subject} by chance, "
                    "so the answer rests on weaker evidence."
                ]
            return [
                f"No randomized trial or systematic review on {subject} in this library: the answer rests on "
                "lower levels of evidence."
            ]
    return []
