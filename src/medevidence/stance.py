"""Which way a finding points, and what the findings together say to a yes/no question.

``finding_stance`` reads one sentence with a lexicon and negation-scope rules:

* **Evaluative words** carry their own direction: "improved", "superior", "beneficial",
  "effective" are benefit; "worse", "harmful", "detrimental" are harm; "similar",
  "comparable", "no significant difference", "failed to" are no benefit.
* **A direction and an outcome** combine: a rise in something bad ("increased risk",
  "higher mortality", "a high rate of complications") is harm, a fall in it ("reduced
  mortality", "fewer complications", "serious side effects were rare") benefit; for good
  outcomes ("survival", "response", "quality of life") the other way round.
  A noun alone ("adverse events", "toxicity") states nothing: "adverse events were similar"
  is a null finding.
* **Negation** a few words before a cue, in the same clause, turns benefit or harm into no
  benefit: "did not significantly improve overall survival", "no worse", "was not associated
  with increased risk", "cast doubt on the advantage of". It also reaches a cue from after it
  ("altered neither X nor Y") and through "that" after a verb of showing ("it does not seem
  that", "little evidence that"); a negated universal ("not all patients ... need") reaches the
  whole clause. Minimisers are null findings and reach what they belittle ("only a small
  contribution to improving", "a weak and short-lasting effect", "little need to"); the
  alternative after "rather than" is no finding; a list of objects shares its negated predicate
  ("not linked to X, to Y, or to Z"); "no elevation", "no data to support" are null; a call to
  revise ("revisions of X are needed", "needs revisiting") reports a shortcoming, i.e. harm. A
  denied adequacy is harm: "not safe" always, "not feasible", "insufficient" when the question
  asks whether X is safe, feasible or enough.
* **Neutral findings** ("was significantly associated with", "predicted", "differed", "not
  the same", or the question's own predicate, "can be omitted") have a direction only relative
  to a question: with a frame the question's predicate answers it yes, and any other effect
  counts as benefit, or as harm when the question asks about harm, safety or likeness ("is X
  safe?", "are A and B the same?": "A differed from B" answers no, while "A correlated with
  B" answers a question of likeness yes and "poor agreement" no; for a question of likeness
  alone a comparative or a variation, "longer than", "a great variability", is a difference).
  A negated one ("not associated", "did not differ") is no benefit, frame or not. They are read only when a
  clause has no evaluative or directional cue.
* **Facts** answer a factual question ("is X a Y?", "does X bind Y?", "is X expressed in
  Y?": a yes/no question with no effect predicate and no evaluative word) when a clause has
  no cue at all: a clause that names the question's subject and more than two-thirds of its
  content words (stemmed; a bracketed synonym counts as the subject) states the proposition,
  which is benefit, i.e. yes. Negated in scope ("no X was found in Y") or said with a contrary
  predicate ("X, a monoclonal antibody" to "is X a polyclonal antibody?", "rare" to "common",
  "enriched" to "depleted") it is no benefit.
* Aims, methods, background and calls for more research ("we assessed whether", "patients
  were randomly assigned", "remains unclear", "further trials are needed") state no finding;
  nor do bare numbers ("19.2% vs 20.5%").
* **Arms**: when the question compares an intervention X with a comparator W, a clause whose
  effect is W's turns benefit into harm and harm into benefit: W is named first outside a
  reference ("W was superior to X", "the efficacy of W", "a more protective effect of W
  compared with X"), or X only as the reference ("compared with X, bleeding was higher").
  Words after "than", "compared with", "versus", "superior to", "not" mark the reference. A
  null finding stays null whichever arm it names first.
* In a sentence with a contrast the clause after "but"/"however" is the main one, an
  "although"/"despite"/"unless" clause (up to its comma) or a trailing "whereas" clause speaks only
  when no main clause does, and with a frame the main clause that names the question's terms (its
  predicate among them) wins; a part after "but" without a subject of its own ("but add little to
  X") shares the subject before it. On a tie of cues in a clause, the one naming the question's
  predicate decides.

So the stance is read *relative to the question* when a frame is given: "benefit" then means
"the effect the question asks about was found", which for "is X associated with Y?" need not
be a clinical benefit. ``supports`` says whether a stance answers yes, from the question's
:class:`Hypothesis`.

``verdict`` weighs findings by evidence level and relevance (``LEVEL_WEIGHTS`` and the
thresholds beside it) and answers yes, no, mixed or insufficient; ``verdict_explanation``
says in one phrase what the verdict rests on and ``verdict_sides`` which side each source
takes; ``finding_weight`` says how much a sentence speaks for its study, from its section.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from .models import EvidenceLevel, StudyDesign, Verdict
from .question import QuestionFrame, QuestionKind
from .tokens import analyze

__all__ = [
    "DECISIVE_SHARE",
    "LEVEL_WEIGHTS",
    "MATERIAL_SHARE",
    "MIN_TOP_TIER_WEIGHT",
    "MIN_TOTAL_WEIGHT",
    "SECTION_WEIGHTS",
    "Finding",
    "FindingInput",
    "Hypothesis",
    "Stance",
    "VerdictSides",
    "finding_stance",
    "finding_weight",
    "hypothesis_of",
    "states_no_finding",
    "supports",
    "verdict",
    "verdict_explanation",
    "verdict_sides",
]


class Stance(StrEnum):
    BENEFIT = "benefit"
    NO_BENEFIT = "no benefit"
    HARM = "harm"


class Hypothesis(StrEnum):
    """What a "yes" to the question would claim, which decides which stances count for it.

    ``BENEFIT``: the intervention helps ("does X improve Y", "is X better than W", "is X more
    effective than W"). ``HARM``: it hurts ("does X increase the risk of Y", "is X harmful",
    "is X a contraindication to W", "is X inferior to W", "is X less effective than W").
    ``NO_HARM``: it is safe, no worse or the same ("is X safe", "is X as effective as W", "can
    X be omitted", "do A and B agree", "the same X on different Y?"), so a null finding is a yes.
    ``ASSOCIATION``: there is an effect either way ("is X associated with Y", "does X predict Y",
    "does X affect Y", "is A different from B"). A factual question ("is X a Y", "does X bind Y") is association, or
    benefit when it names a treatment; for either, benefit means its proposition was stated
    and no benefit that it was denied. Whether someone meets a standard ("are physicians aware of
    X?", "do we meet the guidelines?") is benefit, so a shortcoming answers it no.
    """

    BENEFIT = "benefit"
    HARM = "harm"
    NO_HARM = "no harm"
    ASSOCIATION = "association"


# For each hypothesis, the stances that answer "yes"; the others answer "no".
_YES_STANCES: dict[Hypothesis, frozenset[Stance]] = {
    Hypothesis.BENEFIT: frozenset({Stance.BENEFIT}),
    Hypothesis.HARM: frozenset({Stance.HARM}),
    Hypothesis.NO_HARM: frozenset({Stance.BENEFIT, Stance.NO_BENEFIT}),
    Hypothesis.ASSOCIATION: frozenset({Stance.BENEFIT, Stance.HARM}),
}


def _any(*alternatives: str) -> str:
    return "|".join(alternatives)


# -- lexicon: outcomes and directions -------------------------------------------------------

# Outcomes matched as one to three whole words; a rise in a bad one is harm, in a good one benefit.
_BAD_OUTCOME = re.compile(
    "^(?:"
    + _any(
        r"mortality|deaths?|dying|died|fatalit(?:y|ies)|risks?|hazards?|odds|recurrences?|relapses?|progression",
        r"complications?|morbidity|toxicit(?:y|ies)|adverse|side[- ]effects?|pain|bleeding|h(?:a)?emorrhages?",
        r"infections?|sepsis|failures?|readmissions?|re-?hospitali[sz]ations?|hospitali[sz]ations?|admissions?",
        r"(?:length of )?stay|rejection|incidence|prevalence|symptoms?|disability|errors?|injur(?:y|ies)|fractures?",
        r"nausea|vomiting|thrombos[ie]s|embolism|strokes?|events?|metastas[ie]s|leaks?|leakage|re-?operations?",
        r"re-?interventions?|blood loss|transfusions?|costs?|burden|severity|exacerbations?|attacks?|seizures?",
        r"deterioration|dysfunction|damage|resistance|delirium|anxiety|depression|distress|fatigue|infarction",
        r"occlusion|restenosis|stenosis|dependence|disease activity|rates? of (?:death|complications?|infection)",
    )
    + ")$"
)
_GOOD_OUTCOME = re.compile(
    "^(?:"
    + _any(
        r"survival|quality of life|qol|responses?|remission|cure|healing|function(?:ing)?|local control|control",
        r"efficacy|effectiveness|sensitivity|specificity|accuracy|adherence|compliance|satisfaction|success",
        r"patency|recovery|clearance|uptake|detection(?: rate)?|yield|benefits?|improvement|well-?being",
        r"independence|fertility|live births?|eradication|bone (?:mineral )?density|ejection fraction|cure rates?",
    )
    + ")$"
)
_UP_WORD = re.compile(
    "^(?:"
    + _any(
        r"increas\w*|higher|greater|more|elevat\w+|rais(?:e|ed|es|ing)|rises?|rose|enhanc\w+|longer|prolong\w*",
        r"exceed\w*|doubl\w+|tripl\w+|boost\w*|augment\w*|excess(?:ive)?|accelerat\w+|gains?",
        r"caus(?:e|ed|es|ing)|induc(?:e|ed|es|ing)|led|leads?|provok\w+|trigger\w*|high|frequent(?:ly)?|common",
    )
    + ")$"
)
_DOWN_WORD = re.compile(
    "^(?:"
    + _any(
        r"reduc\w+|decreas\w*|lower(?:ed|ing)?|less|fewer|declin\w*|diminish\w*|attenuat\w+|drop(?:ped|s)?|fell",
        r"falls?|shorter|shorten\w*|prevent\w*|avoid\w*|eliminat\w+|abolish\w*|mitigat\w+|minimi[sz]\w+",
        r"suppress\w*|inhibit\w*|halv\w+|cut|low|rare(?:ly)?|uncommon|infrequent(?:ly)?|negligible|minimal",
    )
    + ")$"
)
_OUTCOME_REACH = 5  # words between a direction and its outcome: "higher rates of postoperative complications"

# -- lexicon: phrases with a direction of their own --------------------------------------------

_NULL_PHRASES = _any(
    r"no (?:statistically |clinically )?(?:(?:significant|meaningful|appreciable|relevant|major|apparent|measurable"
    r"|detectable|substantial|clear|further|additional) )*(?:differences?|effects?|associations?|correlations?"
    r"|relationships?|changes?|improvements?|benefits?|advantages?|impact|influence|role|value|evidence|increase"
    r"|decrease|reduction|gain|link|superiority|elevation|rise|decline)",
    # Support denied is a null finding: "there are no data to support the practice of X". (With "no
    # elevation": PubMedQA dev oracle +2 questions.)
    r"no (?:\w+ )?(?:data|evidence|support) (?:to support|supporting|in support of|for the (?:use|practice|benefit))",
    # "Without" needs a qualifier to report a null result: "inherited without any change" describes.
    r"without (?:any )?(?:statistically |clinically )?(?:significant|meaningful|appreciable|relevant|major|measurable"
    r"|detectable|substantial) (?:differences?|effects?|associations?|correlations?|changes?|improvements?"
    r"|benefits?|advantages?|impact|influence)",
    r"(?:not|nor) (?:statistically |clinically )?significant(?:ly)?(?: different)?|non-?significant(?:ly)?",
    r"insignificant|no (?:statistical |clinical )?significance|did not reach|did not differ|no different|no better",
    # Not "not similar" or "non-equivalent": a likeness denied is a difference (see _NEUTRAL).
    # "Equal to" is a likeness too, but "greater than or equal to" bounds a number.
    r"(?<!not )(?<!non-)(?:similar|comparable|equivalent|equivalence|identical|(?<!or )equal to)",
    r"unchanged|unaffected|non-?inferior(?:ity)?",
    # An equality of merit is a likeness: "depicted the aorta as clearly as a full dose", "as effective as W"
    # ("as well as" is a conjunction).
    r"(?:just |equally )?as (?:\w+ly )?(?:good|clear(?:ly)?|effective(?:ly)?|accurate(?:ly)?|efficient(?:ly)?"
    r"|safe(?:ly)?|reliabl[ey]|sensitive|specific|useful|successful(?:ly)?|precise(?:ly)?) as",
    r"ineffective|ineffectual|insufficient|inconclusive|futile|futility|disappointing|inadequate(?:ly)?|suboptimal",
    r"lacking|underus\w+|underutili[sz]\w+|unsatisfactory|failed to|fails? to|no longer|independent(?:ly)? of",
    r"(?:is|are|was|were|be|seems?|appears?) (?:\w+ )?unnecessary",
    r"unlikely to (?:\w+ )?(?:benefit|improve|help|be (?:useful|effective|beneficial))",
    r"not (?:be )?(?:justified|recommended|indicated|warranted|necessary|needed|required|useful|helpful|due to)",
    r"(?:of )?(?:low|limited|little|minimal|minor|marginal|negligible|questionable|no) (?:clinical )?(?:value|role"
    r"|utility|benefit|usefulness|yield|relevance|importance|significance)",
    r"poor(?:ly)? (?:predictor|correlat\w+|accuracy|sensitivity|specificity|agreement|reliability|predictive"
    r"|prognostic|diagnostic|discriminat\w+|performance)",
    r"adds? little|added little|of little|little (?:or no )?(?:value|benefit|effect|impact|added)|(?:little|no) need",
    # Minimisers: an effect said to be small is the finding that it does not matter ("will only make a small
    # contribution", "a relatively weak and short-lasting effect"); "minimal side effects" stays a fall in harm.
    r"only (?:(?:make|makes|made|have|has|had|play|plays|played) )?(?:an? )?(?:very )?(?:small|limited|modest"
    r"|minor|marginal|slight|weak|partial) (?:\w+ )?(?:contribution|effects?|impact|benefits?|role|improvements?"
    r"|value|influence|gain|advantage)",
    r"(?:limited|weak|minor|marginal|negligible|minimal|slight)(?: and [\w-]+)? (?:effects?|impact|influence"
    r"|contribution|role)",
    r"should be (?:omitted|abandoned|discontinued|reconsidered|withheld)|can (?:safely )?be (?:omitted|avoided)",
    r"lack(?:ed|s)? (?:of )?(?:effect|efficacy|benefit|association|correlation|significance|difference)",
)
_BENEFIT_PHRASES = _any(
    r"improv(?:e|es|ed|ing|ements?)|superior(?:ity)?|outperform\w*|better|beneficial|benefit(?:s|ed|ted)?",
    r"effective(?:ly|ness)?|efficacious|successful(?:ly)?|favou?rabl[ey]|protective|protects?|protected",
    r"safe(?:ly|ty)?|well[- ]tolerated|feasible|useful|valuable|promising|advantage(?:s|ous)?|accurate(?:ly)?",
    r"reliabl[ey]|helpful|recommended|is indicated|are indicated|justified|warranted|excellent",
    r"should be (?:considered|offered|used|performed|recommended|given|included)",
    r"relie(?:f|ve[sd]?)|alleviat\w+|resolv\w+|cured?|valid|sensitive|specific marker",
    r"good|adequate|suitable|appropriate|viable|acceptable|reasonable|prolong(?:s|ed)? survival",
    r"survival (?:advantage|gain)",
)
_HARM_PHRASES = _any(
    r"worse(?:ned|ning)?|poor(?:er|ly)?|inferior(?:ity)?|harm(?:s|ed|ful)?|detrimental|deleterious|dangerous",
    r"hazardous|unfavou?rabl[ey]|negative(?:ly)? (?:impact|effect|influence|affect\w*|associat\w+)",
    r"contraindicat\w+|should be avoided|unsafe|toxic|adverse (?:impact|effect on|outcome)",
    r"risk factors?|shorter survival|predisposes?|jeopardi[sz]\w+|compromis\w+",
)
# A call to revise reports a shortcoming of what is there, a harm read before "improvements" is taken
# for a benefit: "revisions of the options are needed", "the advice needs revisiting", "effort is
# required to transform X".
_SHORTCOMING_PHRASES = _any(
    r"(?:improvements?|revisions?|changes|modifications?|refinements?) (?:\S+ ){0,10}?(?:is|are|will be|would be)"
    r" (?:still |urgently |clearly )?(?:needed|required|necessary|warranted)",
    r"needs? (?:revisit\w*|revision|revising|improvement|improving|changing|to be (?:improved|revised|changed"
    r"|modified|reconsidered|revisited))|efforts? (?:is|are) (?:\w+ )?required to",
)
# Checked in this order; a word taken by one phrase is not read again.
_EVALUATIVE: tuple[tuple[re.Pattern[str], Stance], ...] = (
    (re.compile(rf"\b(?:{_NULL_PHRASES})\b"), Stance.NO_BENEFIT),
    (re.compile(rf"\b(?:{_SHORTCOMING_PHRASES})\b"), Stance.HARM),
    (re.compile(rf"\b(?:{_BENEFIT_PHRASES})\b"), Stance.BENEFIT),
    (re.compile(rf"\b(?:{_HARM_PHRASES})\b"), Stance.HARM),
)

# Findings without a direction of their own: read relative to a question, or negated.
_NEUTRAL = re.compile(
    r"\b(?:"
    + _any(
        r"(?:is|are|was|were|be|been|remained|remains)(?: \w+ly)? (?:associated|correlated|related|linked|predictive"
        r"|an? (?:\w+ )?(?:predictor|determinant|marker|indicator))",
        r"associat(?:ed|ion) (?:with|between)|correlat(?:ed|es|ion) (?:with|between)|related to|linked to",
        r"predict(?:s|ed|ive|or|ors)?|significant(?:ly)?|differ(?:s|ed)|influenc(?:es|ed)|affect(?:s|ed)|impacts",
        r"(?:effect|impact|influence|role|contribution) (?:on|in)|contribut(?:es|ed) to|depend(?:s|ed)? on",
        r"determinants? of|increase[sd]|decrease[sd]|changed|altered|modified",
        # A likeness denied is a difference: "overlapping, but nonequivalent", "not the same".
        r"non-?equivalent|dissimilar|not (?:\w+ )?(?:similar|comparable|equivalent|identical|interchangeable|the same)",
        r"(?:is|are|was|were|be) (?:\w+ )?(?:possible|necessary|needed|required|present)",
        r"(?:more|less) (?:likely|often|frequent(?:ly)?|common(?:ly)?)",
    )
    + r")\b"
)
# Findings of likeness: they answer yes to "are A and B the same?" and nothing else.
_ALIKE = re.compile(
    r"\b(?:correlat(?:ed|es|ion)|related to|agree(?:d|s|ment)?|concordan(?:t|ce)|correspond(?:s|ed|ing)?"
    r"|coincid(?:e|ed|es)|consistent with|match(?:ed|es)|resembl(?:e|ed|es))\b"
)
# Findings of unlikeness: they answer "are A and B the same?" no, and are read for no other question
# (a comparative or a variation is no effect): "specimens were longer and heavier than LEEP
# specimens", "there is a great variability between scanners". (With the sameness questions below: dev
# ask PubMedQA +2 of 500; read for every question, comparatives flipped 34 dev sentences, mostly wrongly.)
_UNLIKE = re.compile(
    r"\b(?:(?!(?:other|rather|whether|further|either|neither)\b)\w{2,}er than|(?:more|less) \w+ than"
    r"|variab(?:le|ility)|variations?|discrepan(?:t|cy|cies)|inconsisten(?:t|cy|cies)|heterogene(?:ous|ity)"
    r"|disagree(?:d|s|ment)?|discordan(?:t|ce))\b"
)
_UNLINKED = re.compile(r"correlat|agreement|association|relationship|link")
_FAILING = re.compile(
    r"^(?:insufficient|inadequate(?:ly)?|ineffective|ineffectual|unsatisfactory|suboptimal|disappointing|futile"
    r"|poor(?:ly)? \w+|not (?:be )?(?:justified|recommended|indicated|useful|helpful))$"
)
_ADEQUATE = re.compile(
    r"^(?:safe(?:ly)?|feasible|sufficient|adequate|acceptable|appropriate|suitable|viable|reliabl[ey]|valid"
    r"|accurate(?:ly)?|effective(?:ly)?|efficacious|justified|useful|helpful)$"
)
# "did not augment", "is not due to", "should not be considered": a negated predicate of any verb
# is a null finding, unless it describes a group ("patients who did not respond"), a step of the
# study ("did not receive") or denies a refusal ("should not hesitate", "must not be withheld").
_NEGATED_PREDICATE = re.compile(
    r"(?<!who )(?<!that )(?<!which )\b(?:(?:did|does|do|could|can|would|will|was|were|is|are|may|might|should|must"
    r"|has|have)(?:n't| not)|(?:seems?|seemed|appears?|appeared) not to)(?: \w+ly)? (?!only\b|receive|undergo|meet"
    r"|complete|participate|respond|know|yet\b"
    r"|hesitate|be (?:denied|withheld|excluded|discouraged|delayed|neglected|ignored|overlooked)\b"
    r"|be (?:an? )?(?:barrier|obstacle|deterrent|contraindication|reason to)\b)\w+"
)

# -- lexicon: negation, clauses, non-findings ---------------------------------------------------

_NEGATORS = re.compile(
    r"\b(?:no|not|never|neither|nor|none|without|cannot|can't|didn't|doesn't|don't|wasn't|weren't|isn't|aren't"
    r"|won't|fail(?:s|ed)? to|unable to|lack(?:s|ed|ing)? of|lack(?:s|ed)?|absence of|absent"
    r"|cast(?:s|ing)? (?:\w+ )?doubts? (?:on|upon|about|over)|question(?:s|ed)? the|little (?:\w+ )?evidence"
    # A minimiser reaches what it belittles: "a small contribution to improving consumption".
    r"|(?:small|limited|little|weak|minor|marginal|negligible|minimal|slight) (?:contribution|effects?|impact"
    r"|influence|role) (?:to|on|in))\b|n't\b"
)
# A negation does not reach past these ("did not improve survival and increased toxicity").
_SCOPE_BREAK = re.compile(r"[,;:()]|\b(?:and|but|whereas|while|although|though|however|yet|which|that|than)\b")
# A list of objects after a negated predicate shares it: "not linked to X, to Y, or to Z".
_LIST_ITEM = re.compile(r"\s*(?:(?:or|nor|and) )?(?:to|with|of|on|in|for|by) ")
_NEGATED_OBJECT = re.compile(r"\s+(?:neither|nor)\b")
# A negated universal at the head of a clause denies its whole predicate, however long the subject:
# "not all the patients who receive tranexamic acid need the same target".
_NEGATED_UNIVERSAL = re.compile(r"\s*(?:\w+ly,? )?not (?:all|every|everyone|everybody|each)\b")
_REPORTING = re.compile(
    r"\b(?:seems?|appears?|shows?|showed|shown|suggests?|suggested|indicates?|indicated|demonstrated?|demonstrates"
    r"|proven|proved|established|confirmed|found|means?|evidence)\s*$"
)
_NEGATION_WINDOW = 7  # words: "did not result in any overall survival benefit" needs 6

# Phrases that look like cues but describe groups, designs or terms; blanked before reading.
_NOISE = re.compile(
    r"\b(?:"
    + _any(
        # "With/without methotrexate" names a group, as "with or without" does.
        r"with(?: or |/)without|whether or not|not only|no\.|effective (?:radiation )?doses?",
        r"non-?randomi[sz]ed|not randomi[sz]ed|with poor|high-risk|low-risk",
        # A grade of a tumour, not a result: "moderately or poorly differentiated cancer".
        r"(?:well|moderately|poorly)(?:[- ]to[- ]\w+)?(?: or \w+)?[- ]differentiated",
        # The alternative set aside is no finding: "reasonable rather than harmful" says reasonable; a noun
        # phrase's head further on is shared ("subacute rather than acute sinusitis").
        r"rather than (?:to )?[\w-]+",
        r"at (?:increased|higher|high|greater|elevated|lower|low) risk",
        r"similar to (?:that|those|previous|prior|earlier|other|published|the literature|findings|reports?|studies)\w*",
        r"of (?:a )?similar|similar (?:in )?(?:size|age|design|characteristics|baseline|demographics?|distribution)",
    )
    + r")"
)
# What a study set out to do, or plans to: an aim is no finding, and no advice either.
_AIMS = (
    r"^(?:to|in order to) \w+",
    r"\b(?:we|this study|the study|our study|this trial|the present study) (?:aimed|aims|sought|seeks|set out"
    r"|was designed|is designed|were designed|hypothesi[sz]ed|wanted|propose)\b",
    # A named study's aim and a protocol's plan: "The STOP STROKE in AF study aims to evaluate",
    # "This trial will test the efficacy of X".
    r"\b(?:study|trial|project|program(?:me)?|protocol) (?:aims|aimed|seeks|sought) to\b",
    r"\b(?:study|trial|protocol) will (?:\w+ )?(?:evaluate|assess|test|investigate|determine|compare|examine"
    r"|explore|measure|provide|establish)\b",
    r"\b(?:the )?(?:aims?|purpose|objectives?|goals?) (?:of (?:this|the|our) (?:study|trial|work|analysis) )?"
    r"(?:was|is|were|are) to\b",
)
_AIM = re.compile(_any(*_AIMS))
# Aims, background, hypotheses, open questions and calls for more research: never a finding.
_NOT_A_FINDING = re.compile(
    _any(
        *_AIMS,
        r"\bremains? (?:unclear|unknown|uncertain|controversial|debated|to be \w+|elusive|poorly understood"
        r"|a matter of debate)",
        r"\b(?:is|are) (?:still )?(?:unclear|unknown|uncertain|controversial|not (?:well )?(?:known|understood"
        r"|established))\b",
        r"\blittle is known\b|\bhas not been (?:\w+ )?(?:established|studied|evaluated|investigated|determined)\b",
        r"\b(?:further|more|future|additional|larger|prospective|randomi[sz]ed|well-designed)(?: \w+)? (?:research"
        r"|stud(?:y|ies)|trials?|investigations?|work|data|evaluation) (?:is|are|will be|would be|may be)? ?"
        r"(?:needed|necessary|required|warranted|awaited|should)\b",
        r"\b(?:it|this) (?:has been|had been|was|is) (?:\w+ )?(?:suggested|proposed|hypothesi[sz]ed|postulated"
        r"|claimed|thought|believed|assumed|speculated)\b",
        r"\b(?:is|are|was|were) (?:claimed|thought|believed|assumed|postulated|proposed|hypothesi[sz]ed) to\b",
        r"^if\b|\bhypothesis (?:is|was)\b",
        r"\bwe (?:tested|examined|investigated|evaluated|assessed|explored|asked) (?:the hypothesis|whether|if)\b",
        # A benefit weighed as a possibility states no result: "the potential benefits (if any) must be weighed".
        r"\b(?:potential|possible|hypothetical|theoretical) (?:\w+ )?benefits?\b|\(if any\)",
    )
)
# Methods, when they are the sentence's main clause and it reports no result.
_METHODS = re.compile(
    _any(
        r"(?<!which )(?<!that )(?<!who )\b(?:were|was) (?:randomly |prospectively |retrospectively |consecutively"
        r" |then )?(?:assigned|allocated|randomi[sz]ed|enrolled|recruited|included|identified|reviewed|collected"
        r"|divided|selected|stratified|recorded|measured|obtained|administered|followed(?: up)?|interviewed"
        r"|surveyed|matched|screened|excluded|categori[sz]ed|classified|grouped|calculated|performed|used"
        r"|analy[sz]ed|compared|evaluated|assessed|examined|studied|investigated)\b",
        r"\bwe (?:retrospectively |prospectively )?(?:studied|reviewed|enrolled|recruited|identified|performed"
        r"|conducted|analy[sz]ed|used|measured|compared|evaluated|assessed|examined|investigated|included|collected"
        r"|selected|designed|undertook|describe|report|present|searched|extracted)\b",
        r"\bwhether\b",
        r"\bto (?:determine|assess|evaluate|investigate|examine|compare|test|explore|establish|identify|clarify"
        r"|describe|characteri[sz]e|analy[sz]e|study|measure|quantify|review|ascertain)\b",
    )
)
# Words: a methods verb further into the sentence sits in a subordinate clause ("in which X was performed").
_METHODS_WITHIN = 12
_RESULT_MARKERS = re.compile(
    r"\b(?:we found|found that|showed|shows|demonstrated|demonstrates|revealed|reveals|observed|confirmed"
    r"|indicat(?:e|es|ed)|suggest(?:s|ed)?|resulted in|results? (?:show|showed|suggest|indicate)"
    r"|significant(?:ly)?|p ?[<=>])\b"
)
_MAIN_AFTER = re.compile(r"(?:[,;]\s*|\s)(?:but|however|yet|nevertheless|nonetheless)\b,?\s*")
# "Unless X, Y": X is a condition, not a finding (PubMedQA dev oracle +1).
_SUBORDINATE_FIRST = re.compile(
    r"^(?:although|though|even though|despite|in spite of|while|whereas|notwithstanding|unless)\b"
)
# A part after "but" that opens with a verb has no subject of its own: "symptoms increase the risk, but
# add little to the predictive value". It shares the subject before it, and so names the same terms
# (with the question's predicate among the terms, dev ask BioASQ 353 -> 354 of 532).
_ELIDED_SUBJECT = re.compile(
    r"(?:not |also |only |still |rather |then )?(?:did|does|do|was|were|is|are|has|have|had|may|might|could|can"
    r"|should|would|will|remained|remains|\w+ed|adds?|shows?|fails?|seems?|appears?|increases?|decreases?"
    r"|reduces?|improves?)\b"
)
_VERB = re.compile(r"\b(?:" + _ELIDED_SUBJECT.pattern + ")")
_SUBORDINATE_AFTER = re.compile(r"(?:,\s*|\s)(?=(?:whereas|while|although|though|even though)\s)")
_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_BETWEEN = re.compile(r"\bbetween ([^,;]{3,60}?) and ([^,;.]{3,60})")
_BETWEEN_REACH = 80  # characters after a null cue in which "between A and B" names its arms
_CONTROL_ARM = re.compile(
    r"\b(no|none|without|placebo|control|controls|sham|observation|untreated|usual care|standard care|non-?\w+)\b"
)

# -- lexicon: which arm a finding is about -------------------------------------------------------

# Words that make the arm named after them the reference of a comparison, not its subject:
# "compared with W", "better than W", "superior to W", "X, not W, ...".
_REFERENCE_MARK = re.compile(
    r"\b(?:than|compared (?:with|to)|comparison (?:with|to)|relative to|versus|vs|against|instead of|not"
    r"|(?:superior|inferior|similar|equivalent|comparable|preferable|non-?inferior) to)\b"
)
_REFERENCE_REACH = 4  # words from a reference mark to its arm: "than in patients given W"
# An arm's name ends where what it is for, or whom it is given to, begins: "surgery to treat Y".
_ARM_PURPOSE = re.compile(r"\s(?:to|for|in|among|amongst|during|when)\s", re.IGNORECASE)
# Words of an arm's name that say nothing about which arm a sentence means, negations among them:
# the "no" of "no treatment" is in every null finding.
_ARM_GENERIC = frozenset(
    analyze(
        "patient patients group groups case cases care treatment treated therapy management use used arm no not without"
    )
)

# -- lexicon: what a question's relation asks ---------------------------------------------------

_UP_VERBS = re.compile(r"^(?:increase|raise|enhance|prolong|extend|elevate|promote|induce|cause|lead to|result in)")
_DOWN_VERBS = re.compile(r"^(?:reduce|decrease|lower|shorten|delay|prevent)")
_NO_HARM_RELATIONS = re.compile(
    r"^(?:safe|safer|feasible|possible|as \w+ as|non-?inferior to|equivalent|equivalent to|comparable to"
    r"|be omitted|be withheld|be avoided|be replaced by|sufficient)$"
)
_HARM_RELATIONS = re.compile(
    r"^(?:harmful|dangerous|detrimental|toxic|worse|worse than|inferior|inferior to|a risk factor for|risk factors for"
    r"|worsen|worsens|predispose to|predisposes to|contraindication|a contraindication)$"
)
_BENEFIT_RELATIONS = re.compile(
    "^(?:"
    + _any(
        r"improves?|prevents?|prolongs?|protects? against|benefits?|helps?|cures?|relieves?|alleviates?",
        r"eradicates?|controls?|effective|efficacious|beneficial|useful|helpful|superior|superior to|better",
        r"better than|justified|warranted|indicated|worthwhile|cost-effective|role|need|work|works",
        r"be used|be offered|be recommended|be performed|(?:have|has|play|plays) an? (?:role|place) (?:in|for)",
    )
    + ")$"
)
# "Is X more effective than W", "less safe than W": the adjective's question, turned by the degree.
_DEGREE_RELATION = re.compile(r"^(?P<degree>more|less) (?P<base>\w+) than$")
_ASSOCIATION_RELATIONS = re.compile(
    r"^(?:associated|related|linked|correlated|an? (?:\w+ )?(?:predictor|marker|determinant|indicator|cause)"
    r"|predictive|prognostic|association|relationship|relation|link|correlation"
    r"|influences?|affects?|alters?|changes?|impacts?|modif(?:y|ies)|matters?)"
)
# Questions of likeness, found in the whole question: the parser seldom takes "the same" or
# "agree" for the relation. "Are A and B the same?" is answered yes by a null finding, "is A
# different from B?" by a difference.
_SAME_QUESTION = re.compile(
    # "Does X reflect Y?" asks whether X is like Y.
    r"\b(?:agree|concur|coincide|correspond|reflects?|mirrors?|resembles?)\b"
    r"|\bthe same(?: \w+){0,2}?(?= (?:as|to|or)\b|\s*\?|$)"
    # Sameness across settings: "are we getting the same information on different scanner models?"
    r"|\bthe same(?: \w+){0,3}? (?:on|in|across|among|between|for|from|with|at|by)"
    r" (?:different|various|all|both|each)\b"
    r"|\b(?:similar|equivalent|equal|identical|interchangeable|concordant|consistent)\b"
    r"(?= (?:to|as|with|between|or)\b|\s*\?|$)"
)
# A harm named anywhere in a yes/no question whose predicate the parser did not take: "is advanced
# age a contraindication to surgery?", "X: a new risk factor for Y?".
_HARM_QUESTION = re.compile(
    r"\b(?:contraindicat\w*|risk factors?|harmful|dangerous|detrimental|hazardous|deleterious)\b"
)
# Whether someone meets a standard ("are physicians aware of X?", "do we meet the guidelines?", "are
# results reported correctly?") asks for its attainment, so a shortcoming ("poor knowledge") answers it no
# rather than counting as an association (dev ask PubMedQA 348 -> 351 of 500).
_BENEFIT_QUESTION = re.compile(
    r"\b(?:adequately|correctly|properly|appropriately|aware|ideal|optimal|optimally|sufficiently|realistic|know"
    r"|meet)\b"
)
_DIFFERENT_QUESTION = re.compile(
    r"\bdiffer(?:s|ed|ently)?\b|\bdifferences?\b|\bdifferent\b(?= (?:from|than|to|between|in|among|across)\b|\s*\?|$)"
)

# -- lexicon: factual questions -------------------------------------------------------------------

# A sentence states a factual question's proposition when it names the subject and more than this
# share of the question's content words: "is Satb1 a transcription factor?" needs all three,
# a question of seven words may miss two ("in patients", a qualifier).
_PROPOSITION_SHARE = 2 / 3
# Words of the question that do not belong to its proposition: "X is a Y, yes or no?".
_ANSWER_WORDS = frozenset({"yes", "no"})
# Synonyms and abbreviations in brackets ("mesenchymal stem cells (MSC)") name the subject too,
# but a sentence need not repeat them.
_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_TERM_WORD = re.compile(r"[^\W_]+(?:[-/.'][^\W_]+)*\+?")
# Pairs of contrary predicates: a sentence that says the other one denies the question's
# ("is X a polyclonal antibody?": "X, a monoclonal antibody"; "are X depleted in Y?": "X are
# enriched in Y"). General properties only, never the names of things.
_CONTRARIES: tuple[tuple[str, str], ...] = (
    (
        r"increas\w*|higher|elevat\w*|up-?regulat\w*|overexpress\w*|rais\w*",
        r"decreas\w*|lower\w*|reduc\w*|down-?regulat\w*|diminish\w*",
    ),
    (r"common|frequent|prevalent|widespread", r"rare|uncommon|infrequent"),
    (r"monoclonal", r"polyclonal"),
    (r"benign", r"malignant"),
    (r"activat\w*|agonists?|stimulat\w*", r"inhibit\w*|antagonists?|suppress\w*|repress\w*|block\w*"),
    (r"promot\w*|favou?r\w*", r"inhibit\w*|suppress\w*|antagoni\w*|prevent\w*"),
    (r"enrich\w*", r"deplet\w*"),
    (r"susceptib\w*|sensitiv\w*|vulnerab\w*", r"resistan\w*"),
    (r"dominant", r"recessive"),
    (r"present|presence", r"absent|absence|lost|loss"),
    (r"gain\w*", r"loss\w*"),
    (r"tighten\w*", r"loosen\w*"),
)


def hypothesis_of(frame: QuestionFrame | None) -> Hypothesis:
    """What a "yes" to ``frame`` would claim; benefit when nothing says otherwise."""
    if frame is None:
        return Hypothesis.BENEFIT
    relation = frame.relation.lower()
    words = _WORD.findall(frame.outcome.lower())
    # Outcomes of several words count too: "serious side effects", "quality of life".
    outcomes = [outcome for index in range(len(words)) if (outcome := _outcome_at(words, index))]
    bad = any(_BAD_OUTCOME.match(outcome) for outcome in outcomes)
    good = any(_GOOD_OUTCOME.match(outcome) for outcome in outcomes)
    degree = _DEGREE_RELATION.match(relation)
    if degree:
        base = degree.group("base")
        good_base = bool(_BENEFIT_RELATIONS.match(base) or _NO_HARM_RELATIONS.match(base))
        if good_base or _HARM_RELATIONS.match(base):
            return Hypothesis.BENEFIT if good_base == (degree.group("degree") == "more") else Hypothesis.HARM
    if _HARM_RELATIONS.match(relation):
        return Hypothesis.HARM
    if _NO_HARM_RELATIONS.match(relation):
        return Hypothesis.NO_HARM
    up, down = bool(_UP_VERBS.match(relation)), bool(_DOWN_VERBS.match(relation))
    if up or down:
        if bad or good:
            return Hypothesis.HARM if up == bad else Hypothesis.BENEFIT
        # "Does X reduce Y" is asked of things worth reducing; "does X increase Y" of either.
        return Hypothesis.BENEFIT if down else Hypothesis.ASSOCIATION
    if _ASSOCIATION_RELATIONS.match(relation):
        # "associated with increased mortality" asks about harm; "associated with X" about any link.
        first = words[0] if words else ""
        rising, falling = bool(_UP_WORD.match(first)), bool(_DOWN_WORD.match(first))
        if (rising and bad) or (falling and good):
            return Hypothesis.HARM
        if (rising and good) or (falling and bad):
            return Hypothesis.BENEFIT
        return Hypothesis.ASSOCIATION
    if _asks_likeness(frame):
        return Hypothesis.NO_HARM
    if frame.is_yes_no and _DIFFERENT_QUESTION.search(frame.text.lower()):
        return Hypothesis.ASSOCIATION
    if frame.is_yes_no and _HARM_QUESTION.search(frame.text.lower()):
        return Hypothesis.HARM
    if _BENEFIT_RELATIONS.match(relation) or not frame.is_yes_no or frame.kind is QuestionKind.TREATMENT:
        return Hypothesis.BENEFIT
    if _BENEFIT_QUESTION.search(frame.text.lower()):
        return Hypothesis.BENEFIT
    return Hypothesis.ASSOCIATION


def _asks_likeness(frame: QuestionFrame | None) -> bool:
    return frame is not None and frame.is_yes_no and bool(_SAME_QUESTION.search(frame.text.lower()))


def supports(stance: Stance, frame: QuestionFrame | None = None) -> bool:
    """Whether ``stance`` answers "yes" to ``frame`` (a benefit question when ``None``)."""
    return stance in _YES_STANCES[hypothesis_of(frame)]


# -- one sentence -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cue:
    stance: Stance
    position: int  # word index in the clause
    names_predicate: bool = False  # the cue's words name the question's predicate: "poor predictive value"


def states_aim(sentence: str) -> bool:
    """What a study set out to do or plans to do ("We aimed to ...", "This trial will test ..."), not
    what it found or what anyone should do."""
    return bool(_AIM.search(_normalised(sentence)))


def states_no_finding(sentence: str) -> bool:
    """An aim, hypothesis, open question or call for more research ("We tested the hypothesis that
    ...", "remains unclear"): whatever its words, it reports nothing found."""
    return bool(_NOT_A_FINDING.search(_normalised(sentence)))


def _normalised(sentence: str) -> str:
    return _NOISE.sub(" ", " ".join(sentence.lower().replace("\u2019", "'").split()))


def states_methods(sentence: str) -> bool:
    """How a study was done ("350 patients were randomly assigned to ...") and nothing it found."""
    text = _normalised(sentence)
    return bool(_METHODS.search(text)) and not _RESULT_MARKERS.search(text)


def _reports_nothing(text: str) -> bool:
    """An aim, open question or call for research, or a methods sentence: its methods verb comes early
    (later it sits in a subordinate clause) and no result marker follows. ``text`` is normalised."""
    if _NOT_A_FINDING.search(text):
        return True
    methods = _METHODS.search(text)
    return bool(methods and len(text[: methods.start()].split()) <= _METHODS_WITHIN) and not _RESULT_MARKERS.search(
        text
    )


def finding_stance(sentence: str, frame: QuestionFrame | None = None) -> Stance | None:
    """The direction ``sentence`` states, or ``None`` when it states no finding."""
    text = _normalised(sentence)
    if _reports_nothing(text):
        return None
    wanted = set(analyze(f"{frame.outcome} {frame.intervention} {frame.relation}")) if frame else set()
    best: tuple[int, Stance] | None = None
    shared = _shared_subjects(text) if wanted else {}
    for rank, (clause, subordinate) in enumerate(_clauses(text)):
        cues = _cues(clause, frame)
        if not cues:
            continue
        # Main clauses come first; among them the one naming the question's terms wins. A
        # subordinate clause ("although X improved local control") speaks only when no main one does.
        overlap = len(wanted & set(analyze(clause + " " + shared.get(clause, ""))))
        score = overlap * 10 - rank - (1000 if subordinate else 0)
        if best is None or score > best[0]:
            best = (score, _decide(cues))
    return best[1] if best else None


def _clauses(text: str) -> list[tuple[str, bool]]:
    """Clauses of ``text``, main ones first, each with whether it is subordinate."""
    text = text.strip()
    lead = _SUBORDINATE_FIRST.match(text)
    if lead:
        comma = text.find(",", lead.end())
        if comma == -1:
            return [(text, True)]
        return [*_clauses(text[comma + 1 :]), (text[:comma], True)]
    parts = _MAIN_AFTER.split(text)
    # "X improved local control, but Y did not improve survival": the last part leads.
    return [clause for part in reversed(parts) for clause in _clauses_after(part)]


def _shared_subjects(text: str) -> dict[str, str]:
    """For a part after "but" that has no subject of its own ("symptoms increase risk, but add
    little to X"), the part before it, whose subject it shares."""
    parts = _MAIN_AFTER.split(text.strip())
    shared = {}
    for before, after in zip(parts, parts[1:], strict=False):
        verb = _VERB.search(before)
        if _ELIDED_SUBJECT.match(after) and verb:
            shared[after] = before[: verb.start()]
    return shared


def _clauses_after(text: str) -> list[tuple[str, bool]]:
    # "X improved, whereas Y did not": the "whereas" clause usually describes the other group, and
    # "it was observed that although A, B" concedes A to B as a leading "although" does.
    main, *rest = _SUBORDINATE_AFTER.split(text, maxsplit=1)
    return [(main, False), *(clause for part in rest for clause in _clauses(part))]


def _cues(clause: str, frame: QuestionFrame | None) -> list[_Cue]:
    words = _WORD.findall(clause)
    starts = [match.start() for match in _WORD.finditer(clause)]
    cues: list[_Cue] = []
    taken: set[int] = set()
    hypothesis = hypothesis_of(frame)
    likeness = _asks_likeness(frame)
    # What the comparator gained the intervention lost: "W was superior to X" is harm to "is X better than W?".
    turn = _about_comparator(words, clause, frame)
    echo = _relation_echo(frame)
    for pattern, stance in _EVALUATIVE:
        for match in pattern.finditer(clause):
            first = _word_index(starts, match.start())
            if first in taken:
                continue
            taken.update(range(first, _word_index(starts, match.end() - 1) + 1))
            if stance is Stance.NO_BENEFIT and _between_two_treatments(clause, match.end(), frame):
                continue
            evaluated = _turned(_evaluated(stance, match, clause, hypothesis, likeness), turn)
            cues.append(_Cue(evaluated, first, bool(echo and echo.search(match.group()))))
    for index in range(len(words)):
        if index in taken:
            continue
        directional = _direction_cue(words, index)
        if directional is not None:
            stance = _negated(directional, clause, starts[index], starts[index] + len(words[index]))
            cues.append(_Cue(_turned(stance, turn), index))
    if cues:
        return cues
    # No cue with a direction of its own: neutral findings, read relative to the question.
    for match in _NEGATED_PREDICATE.finditer(clause):
        cues.append(_Cue(Stance.NO_BENEFIT, _word_index(starts, match.start())))
    echoed = [*(echo.finditer(clause) if echo else ()), *(_ALIKE.finditer(clause) if likeness else ())]
    # The question's own predicate answers it yes. Any other effect found answers a question of
    # harm, safety or likeness ("is X safe", "are A and B the same") as harm: "X was significantly
    # associated with bleeding", "A differed from B".
    claimed = Stance.HARM if hypothesis is Hypothesis.HARM else Stance.BENEFIT
    effect = Stance.HARM if hypothesis in (Hypothesis.HARM, Hypothesis.NO_HARM) else Stance.BENEFIT
    differing = [*_NEUTRAL.finditer(clause), *(_UNLIKE.finditer(clause) if likeness else ())]
    neutral = [match for match in differing if not any(_overlap(match, e) for e in echoed)]
    for match, affirmed in [*((match, claimed) for match in echoed), *((match, effect) for match in neutral)]:
        index = _word_index(starts, match.start())
        if _is_negated(clause, match.start(), match.end()):
            cues.append(_Cue(Stance.NO_BENEFIT, index))
        elif frame is not None:
            cues.append(_Cue(affirmed, index))
    if not cues and frame is not None and _is_factual(frame):
        stated = _stated_proposition(clause, frame)
        if stated is not None:
            cues.append(stated)
    return cues


# Narrower than _NEGATORS: in a sentence that only names things, "without" and "lack of" describe
# ("patients without diabetes") rather than deny the link.
_NEGATION_WORD = re.compile(r"\b(?:no|not|never|neither|nor|none|cannot)\b|n't\b")
_ROLE_RELATION = re.compile(
    r"^(?:(?:have|has|play|plays) an? (?:role|place)(?: in| for)?|role|place|involved(?: in)?)$"
)


def co_statement_stance(sentence: str, frame: QuestionFrame) -> Stance | None:
    """The answer of a sentence that names the concepts of a question of fact or association
    together but states no direction: it asserts the link (benefit, which answers yes), or denies it
    when it is negated. ``None`` for other questions and for aims, methods and open questions.

    "Is Papilin secreted?": "Papilin is a secreted extracellular matrix glycoprotein". The caller
    decides that the sentence names enough of the concepts; this reads only its wording.
    """
    if not frame.is_yes_no or not (_is_factual(frame) or _asks_association(frame)):
        return None
    text = _normalised(sentence)
    if _reports_nothing(text):
        return None
    return Stance.NO_BENEFIT if _NEGATION_WORD.search(text) else Stance.BENEFIT


def _asks_association(frame: QuestionFrame) -> bool:
    relation = frame.relation.lower()
    return bool(_ASSOCIATION_RELATIONS.match(relation) or _ROLE_RELATION.match(relation))


def _is_factual(frame: QuestionFrame) -> bool:
    """Whether ``frame`` asks a fact rather than an effect: "is X a Y?", "does X bind Y?", "is X
    expressed in Y?". Its predicate is none the effect lexicon reads, and no evaluative word
    ("accurate", "advantageous") makes it a question of benefit."""
    if not frame.is_yes_no:
        return False
    relation = frame.relation.lower()
    effect_relations = (
        _HARM_RELATIONS,
        _NO_HARM_RELATIONS,
        _UP_VERBS,
        _DOWN_VERBS,
        _ASSOCIATION_RELATIONS,
        _BENEFIT_RELATIONS,
    )
    if any(pattern.match(relation) for pattern in effect_relations):
        return False
    text = frame.text.lower()
    if _asks_likeness(frame) or _DIFFERENT_QUESTION.search(text) or _HARM_QUESTION.search(text):
        return False
    return not any(pattern.search(text) for pattern, _ in _EVALUATIVE)


@dataclass(frozen=True)
class _Proposition:
    terms: tuple[str, ...]  # stemmed content words, the subject first
    aliases: frozenset[str]  # stems only in brackets: other names of the subject
    contraries: tuple[re.Pattern[str] | None, ...]  # per term, the words that deny it


@lru_cache(maxsize=1024)
def _proposition(frame: QuestionFrame) -> _Proposition:
    text = frame.text.lower()
    outside = set(analyze(_BRACKETED.sub(" ", text)))
    aliases = frozenset(term for group in _BRACKETED.findall(text) for term in analyze(group)) - outside
    terms: dict[str, re.Pattern[str] | None] = {}
    for word in frame.focus_terms:
        stems = analyze(word)
        if word not in _ANSWER_WORDS and stems and stems[0] in outside:
            terms.setdefault(stems[0], _contrary(word))
    return _Proposition(tuple(terms), aliases, tuple(terms.values()))


def _contrary(word: str) -> re.Pattern[str] | None:
    others = [other for one, two in _CONTRARIES for own, other in ((one, two), (two, one)) if re.fullmatch(own, word)]
    return re.compile("^(?:" + "|".join(others) + ")$") if others else None


def _stated_proposition(clause: str, frame: QuestionFrame) -> _Cue | None:
    """A clause that states the question's proposition confirms it (benefit, which answers yes);
    negated or with a contrary predicate it denies it (no benefit)."""
    proposition = _proposition(frame)
    terms = proposition.terms
    if len(terms) < 2:  # a proposition has a subject and a predicate
        return None
    found: dict[str, re.Match[str]] = {}
    contrary: dict[str, re.Match[str]] = {}
    alias = None
    for word in _TERM_WORD.finditer(clause):
        stems = set(analyze(word.group()))
        if alias is None and proposition.aliases & stems:
            alias = word
        for term, opposite in zip(terms, proposition.contraries, strict=True):
            if term in stems:
                found.setdefault(term, word)
            elif opposite is not None and opposite.match(word.group()):
                contrary.setdefault(term, word)
    # A clause that names the question's word as well as its contrary is read by the word.
    contrary = {term: word for term, word in contrary.items() if term not in found}
    subject = terms[0]
    if alias is not None and subject not in found:
        found[subject] = alias
    if subject not in found or len(found) + len(contrary) <= len(terms) * _PROPOSITION_SHARE:
        return None
    starts = [match.start() for match in _WORD.finditer(clause)]
    if contrary:
        # "Not increased" denies "increased" but does not say "decreased".
        word = min(contrary.values(), key=lambda match: match.start())
        if _is_negated(clause, word.start(), word.end()):
            return None
        denied = True
    else:
        # Negation is read at the predicate's last word, not at the subject: to "is X found in Y?",
        # "no X was found in Y" says no, "Z is found in Y in the absence of X" does not.
        word = max((match for term, match in found.items() if term != subject), key=lambda match: match.start())
        denied = _is_negated(clause, word.start(), word.end())
    return _Cue(Stance.NO_BENEFIT if denied else Stance.BENEFIT, _word_index(starts, word.start()))


def _overlap(one: re.Match[str], other: re.Match[str]) -> bool:
    return one.start() < other.end() and other.start() < one.end()


def _evaluated(stance: Stance, match: re.Match[str], clause: str, hypothesis: Hypothesis, likeness: bool) -> Stance:
    """An evaluative cue's stance in its clause, for a question with ``hypothesis``."""
    words = match.group()
    if stance is Stance.NO_BENEFIT:
        # "Poor agreement", "no correlation": the two differ, which answers a question of likeness no;
        # "insufficient", "inadequate" answer "is X sufficient / safe / as good as W?" no.
        if (likeness and _UNLINKED.search(words)) or (hypothesis is Hypothesis.NO_HARM and _FAILING.search(words)):
            return Stance.HARM
        return stance
    if not _is_negated(clause, match.start(), match.end()):
        return stance
    # "Not safe" is unsafe, and "not feasible", "not reliable" deny what "is X feasible?" asks.
    if stance is Stance.BENEFIT and (words == "safe" or (hypothesis is Hypothesis.NO_HARM and _ADEQUATE.match(words))):
        return Stance.HARM
    return Stance.NO_BENEFIT


def _between_two_treatments(clause: str, after: int, frame: QuestionFrame | None) -> bool:
    """ "No difference ... between breast-conserving therapy and mastectomy" compares two forms of
    the treatment, not the treatment with none; it says nothing on whether to treat unless the
    question itself compares two options or asks something other than whether X helps."""
    if frame is None or frame.comparator or hypothesis_of(frame) is not Hypothesis.BENEFIT:
        return False
    between = _BETWEEN.search(clause, after, after + _BETWEEN_REACH)
    if between is None:
        return False
    return not any(_CONTROL_ARM.search(arm) for arm in between.group(1, 2))


def _about_comparator(words: list[str], clause: str, frame: QuestionFrame | None) -> bool:
    """Whether ``clause`` (its ``words``) attributes its effect to the question's comparator.

    The subject of a comparison is the first arm named outside a reference: "W was superior to
    X", "the efficacy of W", "a more protective effect of W compared with X" are about W, while
    "compared with W, X reduced ..." and "X, not W, ..." are about X. A clause that names the
    intervention only as the reference ("compared with X, bleeding was higher") is about the
    comparator; one that names neither arm, about the intervention.
    """
    if frame is None or not frame.comparator:
        return False
    arms = _arm_terms(frame.intervention, frame.comparator, f"{frame.population} {frame.outcome}")
    if not all(arms):
        return False
    starts = [match.start() for match in _WORD.finditer(clause)]
    marks = [_word_index(starts, match.end() - 1) for match in _REFERENCE_MARK.finditer(clause)]
    mentions: list[tuple[int, int]] = []  # (word index, arm): 0 the intervention, 1 the comparator
    for index, word in enumerate(words):
        stems = set(analyze(word))
        mentions.extend((index, arm) for arm, terms in enumerate(arms) if stems & terms)
    referenced: set[int] = set()
    for index, arm in mentions:
        # A mark reaches the arm unless the other arm is named in between ("W compared with X").
        reference = any(
            0 < index - mark <= _REFERENCE_REACH
            and not any(mark < other < index and other_arm != arm for other, other_arm in mentions)
            for mark in marks
        )
        if not reference:
            return arm == 1
        referenced.add(arm)
    return referenced == {0}


@lru_cache(maxsize=256)
def _arm_terms(intervention: str, comparator: str, context: str) -> tuple[frozenset[str], frozenset[str]]:
    """The stems that name each arm and not the other: "laparoscopic" and "open" for
    "laparoscopic surgery" against "open surgery". An arm's name ends before what it is for
    ("surgery to treat rectal tumours" is "surgery"), and words of the ``context`` (the question's
    population and outcome) name no arm."""
    shared = set(analyze(context)) | _ARM_GENERIC
    own, other = ({*analyze(_ARM_PURPOSE.split(arm, maxsplit=1)[0])} - shared for arm in (intervention, comparator))
    return frozenset(own - other), frozenset(other - own)


def _turned(stance: Stance, turn: bool) -> Stance:
    """``stance`` seen from the other arm: benefit and harm swap, a null finding stays null."""
    if not turn or stance is Stance.NO_BENEFIT:
        return stance
    return Stance.HARM if stance is Stance.BENEFIT else Stance.BENEFIT


def _relation_echo(frame: QuestionFrame | None) -> re.Pattern[str] | None:
    """The question's own predicate, so "X can be safely omitted" answers "can X be omitted?"."""
    if frame is None:
        return None
    words = [word for word in _WORD.findall(frame.relation.lower()) if len(word) > 3 and word != "with"]
    stems = [word[: max(4, len(word) - 3)] for word in words]
    if not stems:
        return None
    return re.compile(r"\b(?:" + "|".join(re.escape(stem) for stem in stems) + r")\w*")


def _direction_cue(words: list[str], index: int) -> Stance | None:
    """A direction word near an outcome word: "increased risk", "mortality was reduced"."""
    word = words[index]
    up = bool(_UP_WORD.match(word))
    if not up and not _DOWN_WORD.match(word):
        return None
    after = (index + offset for offset in range(1, _OUTCOME_REACH + 1))
    before = (index - offset for offset in range(1, _OUTCOME_REACH + 1))
    for position in (*after, *before):
        if 0 <= position < len(words):
            outcome = _outcome_at(words, position)
            if outcome is not None:
                return Stance.HARM if up == bool(_BAD_OUTCOME.match(outcome)) else Stance.BENEFIT
    return None


def _outcome_at(words: list[str], index: int) -> str | None:
    for length in (3, 2, 1):
        candidate = " ".join(words[index : index + length])
        if len(words) - index >= length and (_BAD_OUTCOME.match(candidate) or _GOOD_OUTCOME.match(candidate)):
            return candidate
    return None


def _word_index(starts: list[int], position: int) -> int:
    index = 0
    for i, start in enumerate(starts):
        if start > position:
            break
        index = i
    return index


def _negated(stance: Stance, clause: str, start: int, end: int) -> Stance:
    return Stance.NO_BENEFIT if stance is not Stance.NO_BENEFIT and _is_negated(clause, start, end) else stance


def _is_negated(clause: str, start: int, end: int) -> bool:
    """Whether a negation a few words before the cue, in its clause, reaches it; or the cue's
    object is negated after it ("altered neither X nor Y")."""
    if _NEGATED_OBJECT.match(clause, end):
        return True
    floor, reach = 0, start
    for scope_break in reversed(list(_SCOPE_BREAK.finditer(clause, 0, start))):
        # "It does not seem that X improved", "little evidence that X was effective": the negation
        # reaches into what was (not) shown, however long that is.
        if scope_break.group() == "that" and _REPORTING.search(clause, 0, scope_break.start()):
            reach = scope_break.start()
            continue
        # A list of objects shares its negated predicate (see _LIST_ITEM).
        if scope_break.group() == "," and _LIST_ITEM.match(clause, scope_break.end()):
            reach = scope_break.start()
            continue
        floor = scope_break.end()
        break
    universal = _NEGATED_UNIVERSAL.match(clause, floor)
    if universal and universal.end() <= start:
        return True
    # Words are counted from the negation's last word, so "cast doubt on the importance of X as a
    # predictor" reaches as far as "not ... predictor" would; one before "that" counts to the "that".
    for negator in _NEGATORS.finditer(clause, floor, start):
        if len(clause[negator.end() : reach if negator.end() <= reach else start].split()) < _NEGATION_WINDOW:
            return True
    return False


_TIE_ORDER = {Stance.HARM: 2, Stance.NO_BENEFIT: 1, Stance.BENEFIT: 0}


def _decide(cues: list[_Cue]) -> Stance:
    """One stance for a clause: the most frequent; on a tie the one a cue naming the question's
    predicate takes ("their poor predictive value" to "do symptoms predict X?"), then harm, then no
    benefit, then benefit.

    The tie order is the cautious reading: a null cue is usually the clause's predicate
    ("favourable outcomes were comparable") while benefit words also name outcomes, and a
    harm next to a null finding ("increased toxicity without improving survival") is the news.
    """
    counts: dict[Stance, int] = {}
    first: dict[Stance, int] = {}
    for cue in cues:
        counts[cue.stance] = counts.get(cue.stance, 0) + 1
        first.setdefault(cue.stance, cue.position)
    named = {cue.stance for cue in cues if cue.names_predicate}
    return max(counts, key=lambda stance: (counts[stance], stance in named, _TIE_ORDER[stance], -first[stance]))


# -- where a finding sits -----------------------------------------------------------------------

# How much a sentence speaks for its study's result, by the abstract section it sits in. The
# conclusion is the authors' reading of all their results; one result line may be a secondary
# outcome or a subgroup; background states what others believed before the study; methods
# report no result. Tuned on the PubMedQA questions outside its test set.
SECTION_WEIGHTS: dict[str, float] = {
    "conclusion": 1.0,
    "results": 0.5,
    "background": 0.15,
    "methods": 0.0,
}
_SECTION_FAMILIES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("conclusion", re.compile(r"conclu|interpretation|implication|summary|discussion|comment|significance")),
    ("results", re.compile(r"result|finding|outcome|main|observation|evidence|analysis")),
    ("background", re.compile(r"background|introduction|context|objective|aim|purpose|rationale|hypothes|question")),
    ("methods", re.compile(r"method|design|setting|participant|patient|subject|intervention|measure|material")),
)
_CONCLUDING = re.compile(
    _any(
        r"^(?:in conclusion|to conclude|in summary|to summari[sz]e|overall|taken together|together|thus|therefore"
        r"|hence|consequently|collectively|accordingly)\b",
        r"\b(?:these|our|the present|this study's|the) (?:results|findings|data|observations|study|analysis"
        r"|experience|series|trial)\b.{0,40}\b(?:suggest|indicate|show|demonstrate|support|confirm|imply|provide"
        r"|reveal)",
        r"\bwe (?:conclude|propose|recommend|suggest|believe)\b",
        r"\b(?:may|might|appears?|seems?|should|could|can be)\b",
    )
)
_NUMBERS = re.compile(r"\d+(?:\.\d+)?\s*%|\bp\s*[<=>\u2264]|\b(?:or|hr|rr|ci)\b\s*[=:,(]?\s*\d|\(\s*\d")


def finding_weight(sentence: str, section: str | None = None) -> float:
    """How much ``sentence`` speaks for its study, from its section label or, unlabelled, its wording.

    Multiply it into the finding's relevance. Known section labels map to ``SECTION_WEIGHTS``;
    an unlabelled sentence that concludes ("these results suggest", "X may ...") and quotes
    no numbers weighs as a conclusion, any other as a result.
    """
    if section:
        label = section.lower()
        for family, pattern in _SECTION_FAMILIES:
            if pattern.search(label):
                return SECTION_WEIGHTS[family]
    lowered = sentence.lower()
    if _CONCLUDING.search(lowered) and not _NUMBERS.search(lowered):
        return SECTION_WEIGHTS["conclusion"]
    return SECTION_WEIGHTS["results"]


# -- verdict ------------------------------------------------------------------------------------

# How much one fully relevant study counts, by CEBM level. The steps follow the levels' distance
# in confidence: a systematic review of trials counts more than one trial, one trial as much as
# two cohort studies, and an unclassified source a quarter of a case series.
LEVEL_WEIGHTS: dict[EvidenceLevel, float] = {
    EvidenceLevel.LEVEL_1: 4.0,
    EvidenceLevel.LEVEL_2: 3.0,
    EvidenceLevel.LEVEL_3: 1.5,
    EvidenceLevel.LEVEL_4: 1.0,
    EvidenceLevel.LEVEL_5: 0.5,
    EvidenceLevel.NOT_GRADED: 0.25,
}
# Below this total weight there is nothing to weigh. Relevance arrives multiplied by the section
# weight, so the least a relevant finding weighs is a background sentence of an unclassified source
# at relevance 0.3: 0.25 x 0.15 x 0.3 = 0.011. At 0.05 even a result line of an unclassified source
# at relevance 0.38 was "insufficient" (0.05 -> 0.01: PubMedQA dev ask 64.6% -> 66.8%, oracle
# 69.0% -> 69.2%; BioASQ ask 59.2% -> 61.8%).
MIN_TOTAL_WEIGHT = 0.01
# The side with at least this share of the weight carries the verdict; between the two, mixed.
# (0.6 -> 0.55, dev questions right: PubMedQA 338 -> 338 of 500, BioASQ 7b-10b 329 -> 336 of 532.)
DECISIVE_SHARE = 0.55
# Randomised evidence (levels 1-2) decides alone once it weighs this much (one trial at relevance
# 0.5); lower levels cannot outvote it, and the composer shows their disagreement as a conflict.
MIN_TOP_TIER_WEIGHT = 1.5
_TOP_TIER = frozenset({EvidenceLevel.LEVEL_1, EvidenceLevel.LEVEL_2})
_EVEN_SPLIT = 0.05  # a study whose findings split 45-55 takes no side


@dataclass(frozen=True)
class Finding:
    """One finding for the verdict. Findings with the same ``source`` count as one study."""

    stance: Stance
    level: EvidenceLevel
    relevance: float = 1.0
    design: StudyDesign | None = None
    source: str | int | None = None


FindingInput = Finding | tuple[Stance, EvidenceLevel, float]


@dataclass(frozen=True)
class _Study:
    source: str | int
    level: EvidenceLevel
    design: StudyDesign | None
    weight: float  # level weight x best relevance
    yes_share: float  # part of the study's findings, by relevance, that answer yes

    @property
    def vote(self) -> float:
        """A study says one thing: its majority (1 yes, 0 no), or 0.5 when its findings split evenly.

        Secondary outcomes and subgroups often point elsewhere than a study's main result; they
        should not turn one study into a conflict. Disagreement *between* studies does.
        """
        if abs(self.yes_share - 0.5) < _EVEN_SPLIT:
            return 0.5
        return 1.0 if self.yes_share > 0.5 else 0.0


def verdict(findings: Sequence[FindingInput], frame: QuestionFrame | None = None) -> Verdict:
    """Yes, no, mixed or insufficient, weighing each study by ``LEVEL_WEIGHTS`` x relevance.

    Each study (findings sharing a ``source``; a finding without one is its own study) counts
    once, with the weight of its most relevant finding, for the side most of its findings (by
    relevance) take; a study split evenly counts half for each. Which stances are "yes" comes
    from the question's :class:`Hypothesis` (benefit when ``frame`` is ``None``). Then:

    1. **insufficient** when the total weight is under ``MIN_TOTAL_WEIGHT``;
    2. if randomised evidence (levels 1-2) weighs at least ``MIN_TOP_TIER_WEIGHT``, it decides
       alone: yes or no when one side holds ``DECISIVE_SHARE`` of its weight, else **mixed**;
    3. otherwise all the evidence decides the same way.

    So one randomised trial finding no benefit against three cohort studies finding benefit is
    **no**, not mixed: observational studies cannot outvote a trial on the question a trial
    answers (fitter patients are selected for the intervention), and the composer reports the
    disagreement as a conflict beside the verdict. Mixed is kept for disagreement within the
    strongest evidence available.
    """
    studies = _studies(findings, frame)
    if sum(study.weight for study in studies) < MIN_TOTAL_WEIGHT:
        return Verdict.INSUFFICIENT
    studies = _deciding(studies)
    yes = sum(study.weight * study.vote for study in studies) / sum(study.weight for study in studies)
    if yes >= DECISIVE_SHARE:
        return Verdict.YES
    if yes <= 1 - DECISIVE_SHARE:
        return Verdict.NO
    return Verdict.MIXED


def verdict_explanation(findings: Sequence[FindingInput], frame: QuestionFrame | None = None) -> str:
    """One phrase on what the verdict rests on, strongest evidence first.

    e.g. "weighted by evidence level: 1 randomized trial against, 3 cohort studies for;
    randomized evidence decides".
    """
    studies = _studies(findings, frame)
    if not studies:
        return "no relevant findings to weigh"
    groups: dict[tuple[int, str, str], int] = {}
    for study in studies:
        side = {1.0: "for", 0.0: "against"}.get(study.vote, "split")
        key = (study.level.rank, _design_key(study), side)
        groups[key] = groups.get(key, 0) + 1
    parts = [f"{count} {_label(key, count)} {side}" for (_, key, side), count in sorted(groups.items())]
    phrase = "weighted by evidence level: " + ", ".join(parts)
    deciding = _deciding(studies)
    if len(deciding) < len(studies):
        phrase += "; randomized evidence decides"
    return phrase


# A source weighing under this share of the heaviest source barely moves the verdict; an answer
# counts it rather than citing it, so the sides it cites are the sources the verdict rests on.
MATERIAL_SHARE = 0.1


@dataclass(frozen=True)
class VerdictSides:
    """Which side each source's findings take on a yes/no question, as the verdict counts them."""

    sides: dict[str | int, str]  # source -> "yes", "no" or "split", heaviest first; material sources only
    minor: int  # sources the verdict also weighs, each under MATERIAL_SHARE of the heaviest
    top_tier_decides: bool  # randomized evidence alone decided; the other sources were outweighed


def verdict_sides(findings: Sequence[FindingInput], frame: QuestionFrame | None = None) -> VerdictSides:
    """The side of each source the verdict weighs, so an answer can cite the sources of each side."""
    studies = sorted(_studies(findings, frame), key=lambda study: (study.level.rank, -study.weight))
    heaviest = max((study.weight for study in studies), default=0.0)
    material = [study for study in studies if study.weight >= MATERIAL_SHARE * heaviest]
    sides = {study.source: {1.0: "yes", 0.0: "no"}.get(study.vote, "split") for study in material}
    return VerdictSides(sides, len(studies) - len(material), 0 < len(_deciding(studies)) < len(studies))


def _deciding(studies: list[_Study]) -> list[_Study]:
    top = [study for study in studies if study.level in _TOP_TIER]
    return top if sum(study.weight for study in top) >= MIN_TOP_TIER_WEIGHT else studies


def _studies(findings: Sequence[FindingInput], frame: QuestionFrame | None) -> list[_Study]:
    grouped: dict[str | int, list[Finding]] = {}
    for index, item in enumerate(findings):
        finding = item if isinstance(item, Finding) else Finding(item[0], item[1], item[2])
        key: str | int = finding.source if finding.source is not None else f"finding {index}"
        grouped.setdefault(key, []).append(finding)
    yes_stances = _YES_STANCES[hypothesis_of(frame)]
    studies: list[_Study] = []
    for key, group in grouped.items():
        relevances = [min(max(finding.relevance, 0.0), 1.0) for finding in group]
        if max(relevances) <= 0:
            continue
        level = min((finding.level for finding in group), key=lambda found: found.rank)
        yes = sum(r for finding, r in zip(group, relevances, strict=True) if finding.stance in yes_stances)
        design = next((finding.design for finding in group if finding.design is not None), None)
        studies.append(_Study(key, level, design, LEVEL_WEIGHTS[level] * max(relevances), yes / sum(relevances)))
    return studies


_DESIGN_NAMES: dict[StudyDesign, tuple[str, str]] = {
    StudyDesign.SYSTEMATIC_REVIEW: ("systematic review", "systematic reviews"),
    StudyDesign.RCT: ("randomized trial", "randomized trials"),
    StudyDesign.GUIDELINE: ("guideline", "guidelines"),
    StudyDesign.CONSENSUS: ("consensus statement", "consensus statements"),
    StudyDesign.COHORT: ("cohort study", "cohort studies"),
    StudyDesign.CASE_CONTROL: ("case-control study", "case-control studies"),
    StudyDesign.CASE_SERIES: ("case series", "case series"),
    StudyDesign.NARRATIVE_REVIEW: ("narrative review", "narrative reviews"),
    StudyDesign.PATIENT_INFORMATION: ("patient information page", "patient information pages"),
    StudyDesign.NEWS_REPORT: ("news report", "news reports"),
    StudyDesign.ANIMAL_LAB: ("laboratory or animal study", "laboratory or animal studies"),
    StudyDesign.UNKNOWN: ("unclassified source", "unclassified sources"),
}


def _design_key(study: _Study) -> str:
    """The design when findings carry one, else the level ("level 3")."""
    if study.design is not None:
        return study.design.value
    return StudyDesign.UNKNOWN.value if study.level is EvidenceLevel.NOT_GRADED else f"level {study.level.value}"


def _label(key: str, count: int) -> str:
    for design, (singular, plural) in _DESIGN_NAMES.items():
        if key == design.value:
            return singular if count == 1 else plural
    return f"{key} source" if count == 1 else f"{key} sources"
