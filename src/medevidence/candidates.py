"""Candidate statements: the sentences of retrieved passages, scored for what an answer needs.

Each candidate is an exact span of a stored document with its relevance to the question (idf-
weighted overlap with the expanded query terms, discounted by retrieval rank), the roles its
wording signals (standard approach, patient selection, prognostic factor, risk, shared decision),
whether it reports a result, and the direction of any finding it states.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .models import Document, SearchHit, Section
from .question import QuestionFrame
from .sentences import sentence_spans
from .stance import Stance, co_statement_stance, finding_stance, finding_weight
from .tokens import STOPWORDS, analyze
from .vocabulary import Concept

if TYPE_CHECKING:
    from .library import Library

MAX_DOCUMENTS = 12
# Words that shape a question without naming its subject: matching them is not relevance. The
# relation ("does X *reduce* Y") decides a finding's stance, not whether a sentence is on topic.
_GENERIC_TERMS = frozenset(
    analyze(
        "role effect effects use used option approach evidence current question either whether always really "
        "necessary possible potential new before after assessment factor factors outcome outcomes influence "
        "influences influenced promote promotes promoted cause causes caused causing increase increases increased "
        "increasing decrease decreases decreased reduce reduces reduced reducing improve improves improved "
        "improving affect affects affected impact predict predicts associated association related relationship"
    )
)
_MAX_CONCEPT_WEIGHT = 6.0
TITLE_SHARE = 0.35
# A sentence naming two thirds of a question's concepts together states their link (stance.co_statement_
# stance). Dev questions right, BioASQ 7b-10b: 338 of 532 when it had to name all of them, 348 at 0.66.
CO_STATEMENT_COVERAGE = 0.66
_NAMED = 0.3  # a concept counts as named when one of its spellings (weight >= 0.3) appears whole

# -- the roles a sentence can play ------------------------------------------------------------

ROLE_CUES: dict[str, re.Pattern[str]] = {
    "framework": re.compile(
        r"\b(recommend\w*|guideline\w*|standard (of care|treatment|approach|therapy)|first[- ]line|mainstay|"
        r"treatment of choice|typical approach|primary treatment|is indicated|are indicated|goals? of "
        r"(therapy|treatment|care)|should (be|receive|undergo|include)|consensus|typically|usually|generally)\b",
        re.IGNORECASE,
    ),
    "selection": re.compile(
        r"\b(selected patients|select(ed)? (subset|group|subgroup)s?|subgroups?|subsets?|candidates?|"
        r"eligible|who (may|might|could) benefit|may benefit|might benefit|particularly (in|among|for)|"
        r"especially (in|among|for)|younger|older|elderly|good performance status|performance status|"
        r"limited (to|disease)|oligometasta\w*|favou?rable|only in|those with|patients with)\b",
        re.IGNORECASE,
    ),
    "factors": re.compile(
        r"\b(associated with|independent(ly)? (factor|predictor|associated)|predict\w*|prognostic|"
        r"risk factors?|factors? (associated|that)|multivariate|multivariable|influenced by|depend\w* on)\b",
        re.IGNORECASE,
    ),
    "risks": re.compile(
        r"\b(risks?|complications?|adverse|toxicit\w*|harms?|morbidity|side effects?|pitfalls?|caution\w*|"
        r"limitations?|bias(ed)?|confound\w*|should not|contraindicat\w*|danger\w*|bleeding|infection)\b",
        re.IGNORECASE,
    ),
    "decision": re.compile(
        r"\b(discuss\w* (with|among|between|together)|(be|been|being) discussed|discussions? (with|about)|"
        r"counsel\w*|shared decision|preferences?|multidisciplinary|tumou?r board|case[- ]by[- ]case|"
        r"individuali[sz]ed|goals of care|decision[- ]making|desires|wishes)\b",
        re.IGNORECASE,
    ),
}
_RESULT = re.compile(
    r"(\d+(\.\d+)?\s?%|\bp\s?[<=>]\s?0?\.\d+|\b(hazard|odds|risk) ratio\b|\bHR\b|\bOR\b|\bRR\b|\b95% CI\b|"
    r"\bmedian\b|\bsignificant\w*\b|\bcompared with\b|\bversus\b|\bvs\.?\b)",
    re.IGNORECASE,
)
_NOT_A_STATEMENT = re.compile(
    r"(\?[\"'\u201d)]*$|\bdiscussed (here|elsewhere|below|above)\b|^(table|figure|fig\.)\s*\d|\boptions yes no\b|"
    r"^image shows\b|\bpercentage of polled\b|\b(discussed|presented|described|report|reported) (a|the) case of\b|"
    r"^\W*\d*\.?\s*[A-Z][\w'\u2019-]+,? [A-Z]{1,3}(,|\.|:| et al)|\bet al[.:,]? .{0,200}\b(19|20)\d\d\b[;.:])",
    re.IGNORECASE,
)
_BOILERPLATE = re.compile(
    r"(©|copyright|all rights reserved|subscri\w+|log ?in\b|click (here|below)|privacy policy|terms of use|"
    r"cookie|join the conversation|read our rules|get permission|related articles|email address|"
    r"\bsee \"|literature review current through|this topic last updated|check the list of|now accepting patients)",
    re.IGNORECASE,
)


@dataclass
class Candidate:
    """One source sentence that might become a statement."""

    document: Document
    passage_id: int
    start: int
    end: int
    text: str
    relevance: float
    stance: Stance | None
    roles: dict[str, float]
    is_result: bool
    coverage: float = 1.0  # share of the question's concepts the sentence names
    document_coverage: float = 1.0  # share its document's retrieved sentences and title name together
    section: str | None = None  # the section the sentence is in (e.g. "Conclusions"), when known
    importance: float = 0.5  # how much the sentence speaks for its study: conclusion 1 ... methods 0
    terms: frozenset[str] = field(default_factory=frozenset)
    implied: bool = False  # the stance is a link the sentence states, not a finding (co_statement_stance)

    @property
    def level_rank(self) -> int:
        return self.document.evidence_level.rank


# -- candidates -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentContext:
    """What every sentence of a document can lean on: its title, and the abbreviations it defines."""

    title_terms: frozenset[str]
    long_forms: dict[str, frozenset[str]]  # analysed short form -> analysed long form
    sections: tuple[Section, ...] = ()

    @classmethod
    def of(cls, document: Document, abbreviations: Sequence[tuple[str, str]]) -> DocumentContext:
        long_forms: dict[str, frozenset[str]] = {}
        for short, long in abbreviations:
            for term in analyze(short):
                long_forms[term] = long_forms.get(term, frozenset()) | frozenset(analyze(long))
        return cls(frozenset(analyze(document.title)), long_forms, document.sections)

    def section_at(self, position: int) -> str | None:
        """The label of the section a sentence starts in ("Results", "Conclusions"), if known."""
        for section in self.sections:
            if section.start <= position < section.end:
                return section.label
        return None

    def expand(self, terms: frozenset[str]) -> frozenset[str]:
        """Sentence terms plus the long form of each abbreviation the document defined ("AIs")."""
        extra = [self.long_forms[t] for t in terms if t in self.long_forms]
        return terms.union(*extra) if extra else terms


@dataclass(frozen=True)
class ConceptTerms:
    """A question concept as analysed terms: each spelling's terms with its weight, and its idf weight."""

    spellings: tuple[tuple[frozenset[str], float], ...]
    weight: float


def concept_terms(concepts: Sequence[Concept], idf: Callable[[str], float]) -> list[ConceptTerms]:
    analysed = []
    for concept in concepts:
        spellings = []
        for text, weight in concept.variants.items():
            terms = frozenset(t for t in analyze(text) if t not in STOPWORDS and t not in _GENERIC_TERMS)
            if terms:
                spellings.append((terms, weight))
        own = frozenset(t for t in analyze(concept.text) if t not in STOPWORDS and t not in _GENERIC_TERMS)
        if not spellings or not own:
            continue
        # A concept weighs what its rarest-but-capped words weigh, so one rare word cannot outweigh
        # the rest of the question.
        weight = min(sum(idf(t) for t in own) / len(own), _MAX_CONCEPT_WEIGHT)
        analysed.append(ConceptTerms(tuple(spellings), max(weight, 0.1)))
    return analysed


def relevance(terms: frozenset[str], concepts: Sequence[ConceptTerms]) -> tuple[float, float]:
    """Idf-weighted share of the question's concepts the sentence names in any spelling, and the
    plain share of concepts it names (its coverage)."""
    total = sum(c.weight for c in concepts)
    if not total:
        return 0.0, 0.0
    matched = 0.0
    named = 0
    for concept in concepts:
        best = 0.0
        for spelling, weight in concept.spellings:
            share = len(spelling & terms) / len(spelling)
            best = max(best, weight * share**1.5)
        matched += concept.weight * best
        named += best >= _NAMED
    return matched / total, named / len(concepts)


def collect_candidates(
    library: Library, hits: Sequence[SearchHit], concepts: Sequence[Concept], frame: QuestionFrame
) -> list[Candidate]:
    """Source sentences of the retrieved passages, scored for relevance, roles and stance."""
    analysed = concept_terms(concepts, library.retriever.index.idf)
    documents: dict[int, Document] = {}
    contexts: dict[int, DocumentContext] = {}
    seen: set[tuple[int, int]] = set()
    seen_text: set[str] = set()  # the same sentence repeated in a page or across copies of it
    candidates: list[Candidate] = []
    for rank, hit in enumerate(hits):
        if hit.document_id not in documents:
            if len(documents) >= MAX_DOCUMENTS:
                continue
            documents[hit.document_id] = library.store.document_by_id(hit.document_id)
            contexts[hit.document_id] = DocumentContext.of(
                documents[hit.document_id], library.store.abbreviations_of(hit.document_id)
            )
        document = documents[hit.document_id]
        context = contexts[hit.document_id]
        for start, end in sentence_spans(document.text, hit.start, hit.end):
            if (document.id, start) in seen:
                continue
            seen.add((document.id, start))
            text = document.text[start:end]
            folded = " ".join(text.lower().split())
            if folded in seen_text or not _usable(text):
                continue
            seen_text.add(folded)
            terms = context.expand(frozenset(analyze(text)))
            own, named = relevance(terms, analysed)
            # A sentence of an abstract inherits part of its title's relevance: "AIs increased the
            # risk" answers a question that only the title spells out in full.
            in_context, coverage = relevance(terms | context.title_terms, analysed)
            score = (1 - TITLE_SHARE) * own + TITLE_SHARE * in_context
            # Conclusions and results answer questions; methods and background rarely do.
            section = context.section_at(start)
            importance = finding_weight(text, section)
            stance, implied = _stance(text, frame, named)
            score *= 0.4 + 0.6 * importance
            candidates.append(
                Candidate(
                    document=document,
                    passage_id=hit.passage_id,
                    start=start,
                    end=end,
                    text=text,
                    relevance=score * (1.0 - 0.005 * rank),
                    coverage=coverage,
                    section=section,
                    importance=importance,
                    stance=stance,
                    implied=implied,
                    roles={role: float(len(cue.findall(text))) for role, cue in ROLE_CUES.items()},
                    is_result=bool(_RESULT.search(text)),
                    terms=terms,
                )
            )
    return _with_document_coverage(candidates, contexts, analysed)


def _stance(text: str, frame: QuestionFrame, named: float) -> tuple[Stance | None, bool]:
    """The finding a sentence states; failing one, the link it states by naming most of the
    question's concepts together (then ``True``: implied)."""
    stance = finding_stance(text, frame)
    if stance is None and named >= CO_STATEMENT_COVERAGE:
        implied = co_statement_stance(text, frame)
        return implied, implied is not None
    return stance, False


def _with_document_coverage(
    candidates: list[Candidate], contexts: dict[int, DocumentContext], analysed: Sequence[ConceptTerms]
) -> list[Candidate]:
    """Set each candidate's ``document_coverage``: the share of the question's concepts that its
    document's retrieved sentences and title name together.

    A study is on topic as a whole: a question read from a long title ("Syncope during bathing in
    infants, a pediatric form of water-induced urticaria?") names more concepts than any one of
    its sentences repeats.
    """
    terms: dict[int, set[str]] = {}
    for candidate in candidates:
        terms.setdefault(candidate.document.id, set(contexts[candidate.document.id].title_terms)).update(
            candidate.terms
        )
    coverage = {document_id: relevance(frozenset(words), analysed)[1] for document_id, words in terms.items()}
    for candidate in candidates:
        candidate.document_coverage = coverage[candidate.document.id]
    return candidates


# -- disease stage ----------------------------------------------------------------------------

# A question about stage IV disease is not answered by a study of early or locally advanced disease,
# however many of its words the study shares, nor the other way round. Studies of metastatic disease
# name it, so for such a question a source must; early disease goes by many names ("adjuvant",
# "postmenopausal women with breast cancer"), so for such a question only a source about metastatic
# disease alone is set aside.
_METASTATIC = re.compile(
    r"\b(?:stage[\s-]*(?:4|iv|four)\b|(?:de novo )?metastatic|metastas[ie]s|disseminated|m1\b"
    r"|(?<!locally )(?<!locally-)advanced (?:\w+ )?(?:cancer|carcinoma|disease))",
    re.IGNORECASE,
)
_EARLY = re.compile(
    r"\b(?:early[\s-]stage|early (?:\w+ )?(?:cancer|carcinoma)|stage[\s-]*(?:[123]|iii|ii|i|one|two|three)\b"
    r"|locally[\s-]advanced|non-?metastatic|operable)",
    re.IGNORECASE,
)
_QUESTION_METASTATIC = re.compile(r"\b(?:stage[\s-]*(?:4|iv|four)\b|metastatic)", re.IGNORECASE)


def question_stage(question: str) -> str | None:
    """ "metastatic" or "early" when the question names one disease stage, else None."""
    metastatic, early = bool(_QUESTION_METASTATIC.search(question)), bool(_EARLY.search(question))
    if metastatic == early:
        return None
    return "metastatic" if metastatic else "early"


def off_stage(document: Document, stage: str) -> bool:
    """Whether ``document`` is not about the disease stage a question asks about."""
    text = f"{document.title}\n{document.text}"
    metastatic = bool(_METASTATIC.search(text))
    if stage == "metastatic":
        return not metastatic
    return metastatic and not _EARLY.search(text)


def _usable(text: str) -> bool:
    """A statement-worthy sentence: not a question, heading, table row, caption or cross-reference."""
    words = text.split()
    if not 6 <= len(words) <= 90 or _BOILERPLATE.search(text) or _NOT_A_STATEMENT.search(text):
        return False
    if text.count(" - ") >= 3:
        return False  # a bulleted list flattened into one line, not a sentence
    letters = sum(c.isalpha() for c in text)
    return letters >= 0.5 * len(text) and text.rstrip()[-1:] in ".!?)\u201d\"'%"


def primary_role(candidate: Candidate) -> str:
    """The section a sentence belongs in. A stated finding is evidence first; cue counts decide the rest."""
    if candidate.stance is not None and candidate.roles["factors"] and not candidate.roles["framework"]:
        return "factors"
    if candidate.stance is not None or (candidate.is_result and not any(candidate.roles.values())):
        return "evidence"
    best = max(candidate.roles, key=lambda role: (candidate.roles[role], role == "framework"))
    if candidate.roles[best] == 0:
        return "evidence" if candidate.is_result else "framework"
    return best
