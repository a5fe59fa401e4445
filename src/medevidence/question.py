"""What a question asks: its kind, whether it wants a yes or a no, and its PICO-lite slots.

``parse_question`` reads a question with patterns, never a topic list, so it works the same
for oncology, cardiology or infectious disease:

* **yes/no** when the question (or, for "Title: is it safe?" questions, the part after the
  colon) opens with an auxiliary verb: does, is, can, should, ...
* **kind** from cue words, most specific first: drug (dose, side effects, interactions,
  contraindications), diagnosis (diagnosis, sensitivity, screening), treatment when the
  question asks whether something improves or prevents an outcome, prognosis (prognosis,
  survival rate, risk of, predict), treatment (role of, management, therapy, surgery,
  efficacy, benefit), aetiology (causes, risk factor), otherwise general.
* **slots** (intervention, comparator, population, outcome) and the **relation** that links
  them ("improve", "associated with", "safe") from sentence shapes: "role of X in Y", "does X
  improve Y in Z", "is X associated with Y", "is X safe for Y", "X versus W", "X for Y",
  "in patients with Z". A comparison names its comparator W and keeps its comparative as the
  relation: "is X better than W for preventing Y in Z", "is X more effective than W", "does X
  work better than W", "is X inferior to W in reducing Y", "does X reduce Y compared with W".

``resolve_follow_up`` reads a short follow-up ("what about radiation instead?", "and for
steroid-resistant disease?", "what are the risks?") in the context of the frame it follows
and returns a frame whose ``text`` is the whole question, written out from its slots.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from .tokens import analyze

__all__ = ["FULL_RELEVANCE_SHARE", "QuestionFrame", "QuestionKind", "parse_question", "resolve_follow_up"]


# Share of a question's focus terms that makes a sentence fully relevant to it.
FULL_RELEVANCE_SHARE = 0.5


class QuestionKind(StrEnum):
    TREATMENT = "treatment"
    DIAGNOSIS = "diagnosis"
    PROGNOSIS = "prognosis"
    DRUG = "drug"
    ETIOLOGY = "etiology"
    GENERAL = "general"


@dataclass(frozen=True)
class QuestionFrame:
    """One question read into slots; empty strings are slots the question does not fill.

    ``relation`` is the predicate that joins intervention and outcome, in the question's words
    ("improve", "associated with", "safe"); stance rules use it to tell which direction of a
    finding answers "yes". ``focus_terms`` are the question's content words, slots first.
    """

    text: str
    kind: QuestionKind
    is_yes_no: bool
    intervention: str = ""
    comparator: str = ""
    population: str = ""
    outcome: str = ""
    focus_terms: tuple[str, ...] = ()
    relation: str = ""

    def relevance(self, text: str) -> float:
        """How much ``text`` is about this question, from 0 to 1.

        The share of focus terms it mentions (stemmed), where ``FULL_RELEVANCE_SHARE`` of them
        already counts as fully relevant: one sentence seldom repeats a whole question.
        """
        wanted = _stems(" ".join(self.focus_terms))
        if not wanted:
            return 0.0
        return min(1.0, len(wanted & _stems(text)) / (len(wanted) * FULL_RELEVANCE_SHARE))


# -- vocabulary of question shapes -------------------------------------------------------------

_AUX = (
    r"(?:does|do|did|is|are|was|were|can|could|should|will|would|has|have|had|may|might|must|shall"
    r"|isn't|aren't|doesn't|don't|can't|shouldn't)"
)
_YES_NO = re.compile(rf"^{_AUX}\b", re.IGNORECASE)
_TITLE_CLAUSE = re.compile(rf"[:;,.]\s|--|\s[-\u2013\u2014]\s|\b{_AUX}\b", re.IGNORECASE)
_WH_WORD = re.compile(r"\b(?:what|which|how|why|when|where|who|whom|whose)\b", re.IGNORECASE)

# Kind cues, checked in this order: the first family with a hit wins, so "side effects of
# chemotherapy" is a drug question and "diagnosis of recurrence after surgery" a diagnostic one.
_DRUG_CUES = re.compile(
    r"\b(?:dose|doses|dosage|dosing|side[- ]effects?|interactions?|interact|contraindicat\w*|pharmacokinetic\w*)\b",
    re.IGNORECASE,
)
_DIAGNOSIS_CUES = re.compile(
    r"\b(?:diagnos\w*|sensitivity|specificity|test(?:s|ing)? for|screening|screen for|detect\w*"
    r"|diagnostic accuracy|predictive value|work-?up)\b",
    re.IGNORECASE,
)
_PROGNOSIS_CUES = re.compile(
    r"\b(?:prognos\w*|survival rates?|life expectancy|outcomes? of|risk of|predict\w*|natural history"
    r"|recurrence rates?|mortality rates?|chances? of)\b",
    re.IGNORECASE,
)
_TREATMENT_CUES = re.compile(
    r"\b(?:treat\w*|role (?:of|for)|manag\w*|therap\w*|surg\w*|operat\w*|efficacy|effective\w*|benefits?"
    r"|beneficial|intervention|prevent\w*|resection|radiation|radiotherapy|chemotherapy|\w+ectomy|\w+plasty)\b",
    re.IGNORECASE,
)
_ETIOLOGY_CUES = re.compile(r"\b(?:caus\w*|risk factors?|etiolog\w*|aetiolog\w*|why)\b", re.IGNORECASE)

# Relations a yes/no question can ask about, longest first so "associated with" wins over
# "associated".
_CHANGE_VERBS = (
    "improve|improves|reduce|reduces|decrease|decreases|lower|lowers|prevent|prevents|prolong"
    "|prolongs|increase|increases|raise|raises|enhance|enhances|delay|delays|extend|extends|shorten|shortens"
    "|protect against|protects against|worsen|worsens|benefit|benefits|help|helps|cure|cures|relieve|relieves"
    "|alleviate|alleviates|eradicate|eradicates|control|controls"
)
_EFFECT_VERBS = (
    "affect|affects|influence|influences|impact|impacts|alter|alters|change|changes|modify|modifies|cause"
    "|causes|promote|promotes|induce|induces|predict|predicts|determine|determines|contribute to|contributes to"
    "|lead to|leads to|result in|results in|correlate with|correlates with|matter|work|works|make a difference"
    "|differ|differs|exist"
)
_ASSOCIATION = (
    r"associated with|related to|linked to|correlated with|associated to|a risk factor for|risk factors for"
    r"|an? (?:independent |useful |reliable |good |valid )?(?:predictor|marker|determinant|indicator|cause) (?:of|for)"
    r"|predictive of|prognostic (?:of|for)|a prognostic (?:factor|marker) (?:of|for|in)|able to predict"
    r"|have an? (?:impact|effect|influence) on|has an? (?:impact|effect|influence) on|make a difference in"
)
_ROLE = r"(?:have|has|play|plays) an? (?:role|place) (?:in|for)"
_ADJECTIVES = (
    r"as (?:effective|safe|good|accurate) as|non-?inferior to|superior to|inferior to|better than|worse than"
    r"|equivalent to|comparable to|effective|efficacious|safe|safer|beneficial|useful|helpful|necessary|needed"
    r"|required|justified|warranted|indicated|feasible|possible|accurate|reliable|valid|harmful|dangerous"
    r"|detrimental|toxic|cost-effective|worthwhile|appropriate|mandatory|sufficient|important|relevant|superior"
    r"|inferior|equivalent|better|worse|different|able to \w+|still \w+"
)
_PASSIVE = r"be (?:\w+ed|done|given|taken|seen|withheld|omitted|used|avoided|replaced by|predicted by)"
# Comparisons whose object is the comparator: "X more effective than W", "does X work better than W".
_COMPARATIVE = r"(?:more|less) (?!than\b)\w+ than|better than|worse than"
_COMPARING_VERB = r"(?:works?|performs?|fares?|do|does)\s+(?:\w+ly\s+)?"

_RELATION = re.compile(
    rf"\b(?:{_COMPARING_VERB}(?={_COMPARATIVE}))?"
    rf"(?P<rel>{_COMPARATIVE}|{_ROLE}|{_ASSOCIATION}|{_CHANGE_VERBS}|{_EFFECT_VERBS}|{_PASSIVE}|{_ADJECTIVES})\b",
    re.IGNORECASE,
)
_CHANGE = re.compile(rf"^(?:{_CHANGE_VERBS})$", re.IGNORECASE)
# Of those, the ones that ask whether an intervention helps: "does hypoglycaemia increase the
# risk of X" is about a cause, "does aspirin reduce the risk of X" about a treatment.
_HELP = re.compile(
    r"^(?:improves?|reduces?|decreases?|lowers?|prevents?|prolongs?|delays?|protects? against|benefits?|helps?"
    r"|cures?|relieves?|alleviates?|eradicates?|controls?)$",
    re.IGNORECASE,
)

_THERE_IS = re.compile(
    r"^there (?:still )?(?:an? |any )?(?:\w+ )?(?:(?P<rel>association|relationship|relation|link|correlation|difference"
    r"|interaction) (?:between (?P<x>.+?) and (?P<y>.+)|(?:with|to|in|of) (?P<o>.+))"
    r"|(?P<role>role|place|indication|need|benefit|rationale|evidence|advantage|value|use) (?:for|of|to|in) (?P<i>.+?)"
    r"(?: (?:in|among|for) (?P<p>.+))?"
    r"|(?P<bare>association|relationship|relation|link|correlation|difference|interaction|advantage|benefit|role))$",
    re.IGNORECASE,
)

_WHAT_IS = r"^(?:what|which) (?:is|are|was|were) (?:the )?(?:\w+ )?"
_IN_POPULATION = r"(?: (?:in|among|for) (?P<p>.+))?$"
_WH_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), relation)
    for pattern, relation in (
        (
            _WHAT_IS + r"(?:role|place|value|utility|use|usefulness|indication)s? (?:of|for) (?P<i>.+?)"
            r"(?: (?:in|among|for|after) (?P<p>.+))?$",
            "role",
        ),
        (
            _WHAT_IS + r"(?P<o>side[- ]effects?|adverse (?:effects|events)|risks?|harms?|complications?"
            r"|contraindications?|interactions?|toxicit(?:y|ies)|dangers?) (?:of|with|from) (?P<i>.+?)"
            + _IN_POPULATION,
            "",
        ),
        (
            r"^(?:what|which|how) (?:is|are|was|were) (?:the )?(?:\w+ )?(?:sensitivity|specificity|accuracy|yield"
            r"|predictive value|diagnostic value|reliability) (?:of|for) (?P<i>.+?)"
            r"(?: (?:in|among|for|to detect) (?P<p>.+))?$",
            "accurate",
        ),
        (
            _WHAT_IS + r"(?:effect|effects|impact|influence|efficacy|effectiveness|benefit|benefits|safety|outcome"
            r"|outcomes) of (?P<i>.+?)(?: on (?P<o>.+?))?" + _IN_POPULATION,
            "effect",
        ),
        (_WHAT_IS + r"(?:dose|doses|dosage|dosing) (?:of|for) (?P<i>.+?)" + _IN_POPULATION, "dose"),
        (
            r"^(?:what|which) (?:is|are|was|were) (?:the )?(?:best |optimal |recommended |current |standard |preferred"
            r" |first-line |initial |usual )?(?:treatment|management|therapy|therapies|treatments|options?"
            r"|approach|care|prognosis|outlook|survival|survival rate|diagnosis|work-?up|causes?|symptoms?|signs?)"
            r"(?: options)? (?:of|for|in) (?P<p>.+)$",
            "",
        ),
        (
            r"^how (?:effective|safe|accurate|useful|good|helpful|reliable|sensitive|specific) (?:is|are) (?P<i>.+?)"
            r"(?: (?:in|for|among|at) (?P<p>.+))?$",
            "effective",
        ),
        (
            r"^how (?:is|are|should|do|does|can|to) (?:you |we |doctors |one )?(?P<p>.+?)"
            r" (?:be )?(?:treated|managed|diagnosed|prevented|screened|detected|treat|manage|diagnose|prevent)$",
            "",
        ),
        (r"^what (?:causes|caused) (?P<p>.+)$", "cause"),
        (r"^(?:what|which) (?:treatments?|drugs?|medications?|therap(?:y|ies)) (?:\w+ )*?(?:for|in) (?P<p>.+)$", ""),
    )
)

_VERSUS = re.compile(
    r"^(?P<i>.+?),? (?:versus|vs\.?|v\.|compared (?:with|to)|in comparison (?:with|to)|rather than|instead of|over)"
    r" (?P<c>.+)$",
    re.IGNORECASE,
)
_THAN = re.compile(
    r"^(?:as \w+ as|superior to|inferior to|(?:(?:more|less) )?\w+ than|non-?inferior to|equivalent to|comparable to)$"
)
# What a comparison is about, when it follows the comparator: "W in reducing mortality", "W for preventing stroke".
_GERUND = re.compile(r"^\w+ing\b")
# A comparator after the outcome: "does X reduce mortality compared with W".
_COMPARED_WITH = re.compile(
    r"^(?P<o>.+?),? (?:compared (?:with|to)|in comparison (?:with|to)|relative to|versus|vs\.?) (?P<c>.+)$",
    re.IGNORECASE,
)
_POPULATION_SPLIT = re.compile(r" (?:in|among|amongst|for) (?=\S)", re.IGNORECASE)
_PATIENTS_WITH = re.compile(
    r"\b(?:in|among|for) (?P<p>(?:\w+ )?(?:patients|people|persons|adults|children|infants|neonates|women|men|subjects"
    r"|individuals|adolescents|survivors|users|smokers|athletes|elderly|pregnant women)"
    r"(?: (?:with|who|after|undergoing|receiving|treated|on|aged|over|under|at)\b.*)?)$",
    re.IGNORECASE,
)
_FOR = re.compile(r"^(?P<i>.+?) (?:for|in) (?P<p>.+)$", re.IGNORECASE)
_LEAD_SPLIT = re.compile(r"^(?P<lead>.+?)(?::|\.|\?|\s[-\u2013\u2014]+)\s+(?P<body>\S.*)$")
_PRONOUN = re.compile(r"\b(?:it|they|this|these|them|that)\b", re.IGNORECASE)
_DETERMINER = re.compile(r"^(?:the|a|an|any|some|its|their|his|her)\s+", re.IGNORECASE)
_TRAILING = re.compile(r"[\s,;:.?!\"']+$")

_GENERIC_WORDS = frozenset(
    """
    what which how why when where who whom whose does do did is are was were can could should will would has have had
    may might must shall there role effect use value patients patient people person anything something
    any instead about also please really still versus vs compared
    """.split()
)


def parse_question(text: str) -> QuestionFrame:
    """Read ``text`` into a :class:`QuestionFrame`; never fails, unknown slots stay empty."""
    cleaned = _clean(text)
    lead, body = _question_body(cleaned)
    is_yes_no = bool(_YES_NO.match(body)) or _is_titled_yes_no(text, cleaned)
    slots = _slots(body, is_yes_no, lead)
    kind = _kind(cleaned, slots.relation)
    return _frame(cleaned, kind, is_yes_no, slots)


def _is_titled_yes_no(text: str, cleaned: str) -> bool:
    """A yes/no question put as a title, with no auxiliary verb in front: "Estimated fetal weight: a
    risk factor for cesarean delivery?", "Syncope during bathing in infants, a form of urticaria?".
    A bare topic with a question mark ("Mastectomy in stage 4 breast cancer?") is not one."""
    return text.rstrip().endswith("?") and not _WH_WORD.search(cleaned) and bool(_TITLE_CLAUSE.search(cleaned))


def resolve_follow_up(previous: QuestionFrame, follow_up: str) -> QuestionFrame:
    """``follow_up`` read in the context of ``previous``: unnamed slots carry over.

    A full question of its own (one that names an intervention and a population, and points
    back at nothing) is returned as parsed.
    """
    cleaned = _clean(follow_up)
    own = parse_question(cleaned)
    lowered = cleaned.lower()
    if not cleaned:
        return previous
    if own.intervention and own.population and not _points_back(lowered):
        return own
    rest = _strip_follow_up_words(cleaned)

    harm = _HARM_REQUEST.search(lowered)
    if harm and not own.intervention:
        named = harm.group(1).lower()
        outcome = "risks and harms" if _GENERAL_HARM.match(named) else named
        return _rebuild(previous, outcome=outcome, relation="", is_yes_no=False, kind=QuestionKind.TREATMENT)

    if rest and _is_population_phrase(rest):
        return _rebuild(previous, population=_refine_population(previous.population, rest))

    if rest and _OUTCOME_WORDS.fullmatch(rest):
        return _rebuild(previous, outcome=rest)

    if _PRONOUN.search(cleaned) and previous.intervention:
        substituted = parse_question(_PRONOUN.sub(previous.intervention, cleaned, count=1))
        return _rebuild(
            previous,
            outcome=substituted.outcome if substituted.relation else previous.outcome,
            relation=substituted.relation or previous.relation,
            is_yes_no=substituted.is_yes_no,
            population=substituted.population or previous.population,
            comparator=substituted.comparator or previous.comparator,
        )

    if rest and _SUBSTITUTION.match(lowered):
        intervention, comparator = rest, ""
        versus = _VERSUS.match(rest)
        if versus:
            intervention, comparator = _tidy(versus.group("i")), _tidy(versus.group("c"))
        population = previous.population
        split = _PATIENTS_WITH.search(intervention)
        if split:
            intervention, population = _tidy(intervention[: split.start()]), _tidy(split.group("p"))
        return _rebuild(previous, intervention=intervention, comparator=comparator, population=population)

    return _rebuild(
        previous,
        intervention=own.intervention or previous.intervention,
        comparator=own.comparator or previous.comparator,
        population=own.population or previous.population,
        outcome=own.outcome or previous.outcome,
        relation=own.relation or previous.relation,
        is_yes_no=own.is_yes_no,
    )


# -- parsing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Slots:
    intervention: str = ""
    comparator: str = ""
    population: str = ""
    outcome: str = ""
    relation: str = ""


def _clean(text: str) -> str:
    return " ".join(text.replace("\u2019", "'").split()).strip(" \"'")


def _question_body(text: str) -> tuple[str, str]:
    """The title and the asking part of "Title: is it safe?", with "it" replaced by the title."""
    body = _TRAILING.sub("", text)
    split = _LEAD_SPLIT.match(body)
    if split and (_YES_NO.match(split.group("body")) or split.group("body").lower().startswith(("what", "how"))):
        lead, body = _tidy(split.group("lead")), split.group("body")
        # "Transgastric splenectomy: is it possible?" asks about the title's subject.
        return lead, re.sub(r"\b(?:it|they|this|these)\b", lead, body, count=1, flags=re.IGNORECASE)
    return "", body


def _predicate(rest: str) -> re.Match[str] | None:
    """The relation of a yes/no question, skipping adjectives inside the subject ("a mandatory rotation")."""
    for match in _RELATION.finditer(rest):
        relation = match.group("rel").lower()
        predicate_noun = re.search(r"\S\s+an?\s+$", rest[: match.start()])  # "X an effective alternative to W"
        # A comparison names its object next ("better than W"); other adjectives before a noun describe the subject.
        attribute = _THAN.match(relation) or _ATTRIBUTE_END.match(rest, match.end())
        if relation in _ADJECTIVE_RELATIONS and not predicate_noun and not attribute:
            continue
        return match
    return None


def _slots(body: str, is_yes_no: bool, lead: str) -> _Slots:
    if is_yes_no:
        return _yes_no_slots(_YES_NO.sub("", body, count=1).strip(), lead)
    for pattern, relation in _WH_PATTERNS:
        match = pattern.match(body)
        if match:
            groups = match.groupdict()
            slots = _Slots(
                intervention=_tidy(groups.get("i") or ""),
                population=_tidy(groups.get("p") or ""),
                outcome=_tidy(groups.get("o") or ""),
                relation=relation,
            )
            return _with_comparator(slots)
    fallback = _FOR.match(re.sub(r"^(?:what|which|how|why|when|where|who)\b.*?\b(?:of|about)\s+", "", body))
    if fallback and not body.lower().startswith(("what", "which", "how", "why", "when", "where", "who")):
        return _with_comparator(_Slots(intervention=_tidy(fallback.group("i")), population=_tidy(fallback.group("p"))))
    population = _PATIENTS_WITH.search(body)
    return _Slots(population=_tidy(population.group("p")) if population else "")


def _yes_no_slots(rest: str, lead: str) -> _Slots:
    rest = _ADVERBS.sub("", rest).strip()
    there = _THERE_IS.match(rest)
    if there:
        if there.group("x"):
            return _with_comparator(
                _Slots(
                    intervention=_tidy(there.group("x")),
                    outcome=_tidy(there.group("y")),
                    relation=there.group("rel").lower(),
                )
            )
        if there.group("o") or there.group("bare"):
            # "Fatigue in Sjogren's syndrome: is there a link with fibromyalgia?": the title names the exposure.
            first, _, second = lead.partition(" and ")
            outcome = _tidy(there.group("o") or "") or _tidy(second)
            relation = (there.group("rel") or there.group("bare")).lower()
            subject, population = _split_population(first)
            return _Slots(intervention=subject, population=population, outcome=outcome, relation=relation)
        return _with_comparator(
            _Slots(
                intervention=_tidy(there.group("i")),
                population=_tidy(there.group("p") or ""),
                relation=there.group("role").lower(),
            )
        )
    need = _WE_NEED.match(rest)
    if need:
        subject, population = _split_population(need.group("i"))
        return _with_comparator(_Slots(intervention=subject, population=population, relation="need"))
    benefit = _BENEFIT_FROM.match(rest)
    if benefit:
        # "Do women with PCOS benefit from metformin": the subject is the population.
        intervention, population = _split_population(benefit.group("i"))
        return _with_comparator(
            _Slots(intervention=intervention, population=population or _tidy(benefit.group("p")), relation="benefit")
        )
    match = _predicate(rest)
    if not match or match.start() == 0:
        copula = _COPULA.match(rest)
        if copula:
            # "Is Satb1 a transcription factor": what the subject is said to be is the outcome.
            return _Slots(intervention=_tidy(copula.group("i")), outcome=_tidy(copula.group("o")), relation="is a")
        subject, population = _split_population(rest)
        return _with_comparator(_Slots(intervention=subject, population=population))
    relation = match.group("rel").lower()
    subject, subject_population = _split_population(re.sub(r"\s+an?$", "", rest[: match.start()].strip()))
    after = rest[match.end() :].strip()
    if _THAN.match(relation):
        # "is X better than W in Z": the object is the comparator, not an outcome; "W in reducing
        # mortality" or "W for preventing stroke in Z" names the outcome too.
        comparator, population = _split_population(after)
        outcome = ""
        if _GERUND.match(population):
            outcome, population = _split_population(population)
        return _Slots(subject, _tidy(comparator), population or subject_population, outcome, relation)
    if (
        re.match(r"^(?:have|has|play|plays) an? (?:role|place)", relation)
        or relation in _ADJECTIVE_RELATIONS
        or relation.startswith("be ")
    ):
        comparator = ""
        alternative = _ALTERNATIVE.match(after)
        if alternative:
            comparator, after = _tidy(alternative.group("c")), alternative.group("rest") or ""
        after = re.sub(r"^(?:in|for|as|among|to|when|after)\s+", "", after.strip(), flags=re.IGNORECASE)
        after = re.sub(r"^the (?:treatment|management|prevention) of\s+", "", after, flags=re.IGNORECASE)
        explicit = _PATIENTS_WITH.search(" in " + after)
        population = _tidy(explicit.group("p")) if explicit else _tidy(after)
        return _with_comparator(_Slots(subject, comparator, population or subject_population, "", relation))
    outcome, population = _split_population(after)
    comparator = ""
    compared = _COMPARED_WITH.match(outcome)
    if compared:
        outcome, comparator = _tidy(compared.group("o")), _tidy(compared.group("c"))
    return _with_comparator(_Slots(subject, comparator, population or subject_population, outcome, relation))


_ADJECTIVE_RELATIONS = frozenset(_ADJECTIVES.split("|"))
# A predicate adjective ends the question or is followed by a preposition; one followed by a
# noun belongs to the subject.
_ATTRIBUTE_END = re.compile(r"\s*(?:$|,|\b(?:in|for|to|as|than|when|after|at|with|among|during|and|or|enough|on|if)\b)")
_ADVERBS = re.compile(r"\b(?:really|actually|truly|still|always|routinely|necessarily|indeed|ever)\s+", re.IGNORECASE)
_WE_NEED = re.compile(
    r"^(?:we|you|i|one|patients|clinicians|physicians|doctors|surgeons) (?:need|require|have to use|have to perform)"
    r" (?P<i>.+)$",
    re.IGNORECASE,
)
_BENEFIT_FROM = re.compile(r"^(?P<p>.+?) benefit from (?P<i>.+)$", re.IGNORECASE)
_COPULA = re.compile(r"^(?P<i>\S.*?) (?:an?|the) (?P<o>\S.*)$", re.IGNORECASE)
_ALTERNATIVE = re.compile(
    r"^(?:\w+ )?(?:alternative|substitute|replacement|option) (?:to|for) (?P<c>.+?)(?P<rest> (?:in|for|among) .+)?$",
    re.IGNORECASE,
)


def _split_population(phrase: str) -> tuple[str, str]:
    """Split off a population: "survival in patients with X" -> ("survival", "patients with X")."""
    phrase = _tidy(phrase)
    explicit = _PATIENTS_WITH.search(phrase)
    if explicit:
        return _tidy(phrase[: explicit.start()]), _tidy(explicit.group("p"))
    parts = _POPULATION_SPLIT.split(phrase, maxsplit=1)
    if len(parts) == 2 and parts[0] and not re.search(r"\b(?:risk|rate|incidence)s? of$", parts[0], re.IGNORECASE):
        return _tidy(parts[0]), _tidy(re.sub(r"^the (?:treatment|management) of\s+", "", parts[1], flags=re.IGNORECASE))
    return phrase, ""


def _with_comparator(slots: _Slots) -> _Slots:
    if slots.comparator or not slots.intervention:
        return slots
    versus = _VERSUS.match(slots.intervention)
    if not versus:
        return slots
    return replace(slots, intervention=_tidy(versus.group("i")), comparator=_tidy(versus.group("c")))


def _tidy(phrase: str) -> str:
    phrase = _TRAILING.sub("", phrase.strip())
    while True:
        stripped = _DETERMINER.sub("", phrase)
        if stripped == phrase:
            return phrase
        phrase = stripped


def _kind(text: str, relation: str) -> QuestionKind:
    if _DRUG_CUES.search(text):
        return QuestionKind.DRUG
    if _DIAGNOSIS_CUES.search(text):
        return QuestionKind.DIAGNOSIS
    if _HELP.match(relation):
        return QuestionKind.TREATMENT
    if _PROGNOSIS_CUES.search(text):
        return QuestionKind.PROGNOSIS
    if _TREATMENT_CUES.search(text):
        return QuestionKind.TREATMENT
    if _ETIOLOGY_CUES.search(text):
        return QuestionKind.ETIOLOGY
    return QuestionKind.GENERAL


def _frame(text: str, kind: QuestionKind, is_yes_no: bool, slots: _Slots) -> QuestionFrame:
    return QuestionFrame(
        text=text,
        kind=kind,
        is_yes_no=is_yes_no,
        intervention=slots.intervention,
        comparator=slots.comparator,
        population=slots.population,
        outcome=slots.outcome,
        focus_terms=_focus_terms(
            (slots.intervention, slots.comparator, slots.outcome, slots.population, slots.relation, text)
        ),
        relation=slots.relation,
    )


_WORD = re.compile(r"[^\W_]+(?:[-/+][^\W_]+)*\+?")


def _focus_terms(phrases: tuple[str, ...]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for phrase in phrases:
        for word in _WORD.findall(phrase.lower()):
            if word not in _GENERIC_WORDS and analyze(word):
                seen.setdefault(word, None)
    return tuple(seen)


def _stems(text: str) -> set[str]:
    return set(analyze(text))


# -- follow-ups ----------------------------------------------------------------------------

_LEADING_FOLLOW_UP = re.compile(
    r"^(?:(?:and|but|also|so|ok|okay|then|now|what about|how about|and what about"
    r"|what if (?:we|you|i) (?:use|used|try|tried|give|gave)|what if|instead of that|would|could|can"
    r"|should we (?:use|try|consider)|is|are|does|do)\b[\s,]*)+",
    re.IGNORECASE,
)
_TRAILING_FOLLOW_UP = re.compile(
    r"(?:[\s,]+(?:instead|then|too|as well|alone|only|though|in that case|in this case|in this setting))+$",
    re.IGNORECASE,
)
_SUBSTITUTION = re.compile(
    r"^(?:and |but |so )?(?:what about|how about|what if|would|could|should we|can we|and)\b|\binstead\b",
    re.IGNORECASE,
)
_BACK_REFERENCE = re.compile(
    r"^(?:and|but|also|so|what about|how about|what if)\b|\b(?:it|this|that|these|those|they|them|instead)\b",
    re.IGNORECASE,
)
_HARM_REQUEST = re.compile(
    r"\b(risks?|harms?|dangers?|side[- ]effects?|adverse (?:effects?|events?)|complications?|downsides?"
    r"|toxicit(?:y|ies))\b",
    re.IGNORECASE,
)
_GENERAL_HARM = re.compile(r"^(?:risks?|harms?|dangers?|downsides?)$")
_OUTCOME_WORDS = re.compile(
    r"(?:overall |progression-free |disease-free |long-term |5-year |10-year )?(?:survival|mortality|quality of life"
    r"|recurrence|relapse|local control|response|remission|costs?|pain|function|symptoms|benefits?)",
    re.IGNORECASE,
)
# Head nouns that make a phrase a group of patients, not a treatment: general words only.
_POPULATION_HEADS = re.compile(
    r"(?:\b(?:patients|people|persons|adults|children|kids|infants|neonates|newborns|women|men|girls|boys|subjects"
    r"|individuals|adolescents|teenagers|elderly|older adults|survivors|smokers|pregnancy|pregnant women|disease"
    r"|diseases|cases|tumou?rs?|cancers?|subtypes?|subgroups?|stage \w+|type \w+|population|cohort)"
    r"|-(?:positive|negative|low|high|mutated|mutant|wild-type|naive|resistant|sensitive|dependent|related))$",
    re.IGNORECASE,
)
_PERSON_NOUNS = (
    r"(?:patients|people|persons|adults|children|kids|infants|neonates|newborns|women|men|girls|boys|subjects"
    r"|individuals|adolescents|teenagers|elderly|survivors|smokers)"
)
_PERSON_HEAD = re.compile(rf"\b{_PERSON_NOUNS}$", re.IGNORECASE)
_GENERIC_HEAD = re.compile(
    r"\s+(?:disease|diseases|cases|tumou?rs?|subtypes?|subgroups?|population|cohort)$", re.IGNORECASE
)


def _points_back(lowered: str) -> bool:
    return bool(_BACK_REFERENCE.search(lowered))


def _strip_follow_up_words(text: str) -> str:
    rest = _TRAILING.sub("", text)
    rest = _LEADING_FOLLOW_UP.sub("", rest)
    rest = _TRAILING_FOLLOW_UP.sub("", rest)
    return _tidy(rest)


def _is_population_phrase(phrase: str) -> bool:
    lowered = phrase.lower()
    if lowered.startswith(("in ", "for ", "among ", "with ")):
        return True
    return bool(_POPULATION_HEADS.search(lowered))


def _refine_population(previous: str, phrase: str) -> str:
    """Narrow or replace ``previous`` by a follow-up's population ``phrase``.

    "steroid-resistant disease" narrows "stage 3 nephropathy" to "steroid-resistant stage 3
    nephropathy"; "older adults" narrows "patients with X" to "older adults with X".

    A phrase whose head is a generic noun (disease, patients, cases) only adds modifiers to the
    earlier population; a phrase with a head of its own ("children with asthma") replaces it.
    """
    phrase = _tidy(re.sub(r"^(?:in|for|among)\s+", "", phrase, flags=re.IGNORECASE))
    if phrase.lower().startswith("with ") and previous:
        return f"{previous} {phrase}"
    if not previous:
        return phrase
    person = _PERSON_HEAD.search(phrase)
    if person and not re.search(r"\b(?:with|who|after|undergoing|receiving)\b", phrase, re.IGNORECASE):
        # "older adults" + "patients with type 2 diabetes" -> "older adults with type 2 diabetes".
        condition = re.sub(rf"^{_PERSON_NOUNS}\s+(?=with\b)", "", previous, flags=re.IGNORECASE)
        joined = condition if condition.lower().startswith("with ") else f"with {condition}"
        return f"{phrase} {joined}"
    head = _GENERIC_HEAD.search(phrase)
    if head:
        modifiers = phrase[: head.start()].strip()
        if modifiers and modifiers.lower() not in previous.lower():
            return f"{modifiers} {previous}"
        return previous
    if re.search(r"-(?:positive|negative|low|high|mutated|mutant|naive|resistant|sensitive)$", phrase, re.IGNORECASE):
        return f"{phrase} {previous}"
    return phrase


def _rebuild(previous: QuestionFrame, **changes: Any) -> QuestionFrame:
    merged = replace(previous, **changes)
    text = _question_text(merged)
    return replace(
        merged,
        text=text,
        focus_terms=_focus_terms(
            (merged.intervention, merged.comparator, merged.outcome, merged.population, merged.relation)
        ),
    )


def _question_text(frame: QuestionFrame) -> str:
    """A readable question from the slots, in the shape of the original where the slots allow it."""
    intervention = frame.intervention
    if frame.comparator:
        intervention = f"{intervention} compared with {frame.comparator}"
    where = f" in {frame.population}" if frame.population else ""
    relation = frame.relation
    if not intervention:
        subject = frame.population or frame.outcome or "this question"
        if frame.kind is QuestionKind.DIAGNOSIS:
            return f"How is {subject} diagnosed?"
        if frame.kind is QuestionKind.PROGNOSIS:
            return f"What is the prognosis of {subject}?"
        return f"What is the management of {subject}?"
    if _HARM_REQUEST.fullmatch(frame.outcome) or frame.outcome == "risks and harms":
        return f"What are the {frame.outcome} of {intervention}{where}?"
    if frame.is_yes_no and relation:
        if _CHANGE.match(relation) or re.match(rf"^(?:{_EFFECT_VERBS})$", relation):
            verb = _base_form(relation)
            target = f" {frame.outcome}" if frame.outcome else ""
            auxiliary = "Do" if _looks_plural(frame.intervention) else "Does"
            return f"{auxiliary} {intervention} {verb}{target}{where}?"
        if relation in _ADJECTIVE_RELATIONS or relation.startswith(("associated", "related", "linked", "correlated")):
            target = f" {frame.outcome}" if frame.outcome else ""
            copula = "Are" if _looks_plural(frame.intervention) else "Is"
            return f"{copula} {intervention} {relation}{target}{where}?"
    if frame.outcome:
        return f"What is the effect of {intervention} on {frame.outcome}{where}?"
    return f"What is the role of {intervention}{where}?"


def _base_form(verb: str) -> str:
    """The form after "does": "improves" -> "improve", "protects against" -> "protect against"."""
    first, _, rest = verb.partition(" ")
    if first.endswith("ies"):
        first = first[:-3] + "y"
    elif first.endswith(("es",)) and first[:-2].endswith(("ss", "sh", "ch", "x")):
        first = first[:-2]
    elif first.endswith("s") and not first.endswith("ss"):
        first = first[:-1]
    return f"{first} {rest}".strip()


def _looks_plural(phrase: str) -> bool:
    """English plural by its last word's ending: good enough to choose "does" or "do"."""
    words = phrase.split()
    last = words[-1].lower() if words else ""
    return last.endswith("s") and not last.endswith(("ss", "is", "us", "ous"))
