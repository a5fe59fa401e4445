"""Study design and evidence level of a document: rules only, no network, at ingest speed.

Evidence comes from three places, most trusted first:

1. **MEDLINE publication types**, which indexers assign after reading the whole article. The
   strongest specific type wins. Generic types ("Journal Article", "Comparative Study",
   "Multicenter Study") say nothing about design and are skipped. Three types are refined by
   the text: "Review" is a systematic review when the text shows a systematic search; the
   "Clinical Trial" family is randomised only when the text shows randomisation; an
   "Observational Study" is case-control when the text says so.
2. **MeSH check tags** ("Retrospective Studies", "Case-Control Studies", "Animals" without
   "Humans"). Headings ending "as Topic" say what an article is *about*, not what it is, and
   are ignored.
3. **Cue phrases** in the title and text, weighted by where they occur: the title and the
   methods count more than the background and discussion, a reference list not at all, and a
   phrase about other or future work ("previous randomized trials", "further randomized
   trials are needed") not at all. Documents that *talk about* studies (news, patient pages,
   clinical reference topics, consensus statements, guidelines) are recognised before study
   designs, so the trials they describe do not decide what they are. A text with no design
   cue at all is patient information when it reads as plain language for patients (second
   person, glossed terms) and has no statistics or methods voice; otherwise it is unclassified.

The reason shown to users names the deciding source and quotes it, e.g. ``publication type:
Randomized Controlled Trial`` or ``text: 'were randomly assigned to receive'``.

Levels follow the Oxford CEBM 2011 table, treatment-benefit column:

=========================================  =======================================
design                                     level
=========================================  =======================================
systematic review or meta-analysis         1
randomized controlled trial                2
cohort, retrospective or registry study    3
case-control study; case series or report  4
consensus; narrative review; animal/lab    5 (expert opinion; mechanism-based reasoning)
practice guideline                         5 (see below)
news report                                the level of the study it reports
patient information; unclassified          not graded
=========================================  =======================================

Guidelines have no CEBM level of their own: the table grades studies, and a guideline is as
strong as the studies under it, which are graded on their own when ingested. We give a
guideline level 5 because its recommendations are a panel's judgement about that evidence,
which is what CEBM calls expert opinion; a higher level would let it outrank the very trials
and reviews it rests on, and "not graded" would sort an appraised recommendation below a case
report. The design label still says "practice guideline", so answers can present it as one.
A systematic review gets level 1 whatever it pooled: the rules do not read which studies a
review included.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from itertools import islice

from ..models import Classification, EvidenceLevel, ParsedDocument, StudyDesign
from ..sentences import sentence_spans

__all__ = ["LEVELS", "classify"]

LEVELS: dict[StudyDesign, EvidenceLevel] = {
    StudyDesign.SYSTEMATIC_REVIEW: EvidenceLevel.LEVEL_1,
    StudyDesign.RCT: EvidenceLevel.LEVEL_2,
    StudyDesign.COHORT: EvidenceLevel.LEVEL_3,
    StudyDesign.CASE_CONTROL: EvidenceLevel.LEVEL_4,
    StudyDesign.CASE_SERIES: EvidenceLevel.LEVEL_4,
    StudyDesign.GUIDELINE: EvidenceLevel.LEVEL_5,
    StudyDesign.CONSENSUS: EvidenceLevel.LEVEL_5,
    StudyDesign.NARRATIVE_REVIEW: EvidenceLevel.LEVEL_5,
    StudyDesign.ANIMAL_LAB: EvidenceLevel.LEVEL_5,
    StudyDesign.PATIENT_INFORMATION: EvidenceLevel.NOT_GRADED,
    StudyDesign.NEWS_REPORT: EvidenceLevel.NOT_GRADED,
    StudyDesign.UNKNOWN: EvidenceLevel.NOT_GRADED,
}


def classify(document: ParsedDocument) -> Classification:
    """The study design and evidence level of ``document``, with the evidence quoted."""
    text = _TextEvidence(document.title, document.text)
    decided = _from_publication_types(document.publication_types, text) or _from_mesh(document.mesh_terms, text)
    if decided is None:
        decided = text.decision()
    design, reason = decided
    if design is StudyDesign.NEWS_REPORT:
        return _news_report(reason, text)
    return Classification(design, LEVELS[design], reason)


def _news_report(news_reason: str, text: _TextEvidence) -> Classification:
    """A news report is graded at the level of the study it reports, when that can be told."""
    study = text.primary()
    if study is None:
        return Classification(
            StudyDesign.NEWS_REPORT,
            EvidenceLevel.NOT_GRADED,
            f"news report ({news_reason}); the study it reports could not be classified",
        )
    design, hit = study
    article = "an" if design.value[0] in "aeiou" else "a"
    return Classification(
        StudyDesign.NEWS_REPORT,
        LEVELS[design],
        f"news report ({news_reason}) of {article} {design.value} ({text.quote(hit)})",
    )


# --- metadata ---------------------------------------------------------------------------------

Decision = tuple[StudyDesign, str]

# Checked in this order, so the genre of a document (news, patient handout) comes before the
# study it describes, and the strongest specific design before weaker ones.
_DIRECT_TYPES: tuple[tuple[StudyDesign, frozenset[str]], ...] = (
    (StudyDesign.NEWS_REPORT, frozenset({"news", "newspaper article"})),
    (StudyDesign.PATIENT_INFORMATION, frozenset({"patient education handout"})),
    (
        StudyDesign.ANIMAL_LAB,
        frozenset(
            {"randomized controlled trial, veterinary", "clinical trial, veterinary", "observational study, veterinary"}
        ),
    ),
    (StudyDesign.GUIDELINE, frozenset({"practice guideline", "guideline"})),
    (
        StudyDesign.CONSENSUS,
        frozenset({"consensus development conference", "consensus development conference, nih"}),
    ),
    (StudyDesign.SYSTEMATIC_REVIEW, frozenset({"systematic review", "meta-analysis", "network meta-analysis"})),
    (StudyDesign.RCT, frozenset({"randomized controlled trial"})),
)
# Trials whose type does not promise randomisation: randomised only if the text says so.
_TRIAL_TYPES = frozenset(
    {
        "clinical trial",
        "clinical trial, phase i",
        "clinical trial, phase ii",
        "clinical trial, phase iii",
        "clinical trial, phase iv",
        "controlled clinical trial",
        "pragmatic clinical trial",
        "equivalence trial",
        "adaptive clinical trial",
    }
)
_OBSERVATIONAL_TYPES = frozenset({"observational study", "twin study"})
_CASE_TYPES = frozenset({"case reports"})
# Before 2019 MEDLINE filed most systematic reviews under plain "Review".
_REVIEW_TYPES = frozenset({"review", "scoping review"})
_OPINION_TYPES = frozenset({"editorial"})


def _from_publication_types(types: Iterable[str], text: _TextEvidence) -> Decision | None:
    present = {t.strip().casefold(): t.strip() for t in types}
    for design, names in _DIRECT_TYPES:
        if names & present.keys():
            return design, f"publication type: {present[min(names & present.keys())]}"
    refinements: tuple[tuple[frozenset[str], Callable[[str], Decision]], ...] = (
        (_TRIAL_TYPES, lambda label: _trial(label, text)),
        (_OBSERVATIONAL_TYPES, lambda label: _observational(label, text)),
        (_CASE_TYPES, lambda label: (StudyDesign.CASE_SERIES, label)),
        (_REVIEW_TYPES, lambda label: _review(label, text)),
        (_OPINION_TYPES, lambda label: (StudyDesign.NARRATIVE_REVIEW, label)),
    )
    for names, decide in refinements:
        if names & present.keys():
            return decide(f"publication type: {present[min(names & present.keys())]}")
    return None


def _trial(label: str, text: _TextEvidence) -> Decision:
    hit = text.passing(StudyDesign.RCT)
    if hit is not None:
        return StudyDesign.RCT, f"{label}; {text.quote(hit)}"
    # A trial without randomisation is a non-randomised follow-up study: CEBM level 3.
    return StudyDesign.COHORT, f"{label} (the text does not say it was randomised)"


def _observational(label: str, text: _TextEvidence) -> Decision:
    hit = text.passing(StudyDesign.CASE_CONTROL)
    if hit is not None:
        return StudyDesign.CASE_CONTROL, f"{label}; {text.quote(hit)}"
    return StudyDesign.COHORT, label


def _review(label: str, text: _TextEvidence) -> Decision:
    hit = text.passing(StudyDesign.SYSTEMATIC_REVIEW)
    if hit is not None:
        return StudyDesign.SYSTEMATIC_REVIEW, f"{label}; {text.quote(hit)}"
    return StudyDesign.NARRATIVE_REVIEW, label


_MESH_RANDOMISED = ("random allocation", "double-blind method", "single-blind method")
_MESH_CASE_CONTROL = ("case-control studies",)
_MESH_COHORT = (
    "cohort studies",
    "retrospective studies",
    "prospective studies",
    "longitudinal studies",
    "follow-up studies",
    "registries",
    "seer program",
    "propensity score",
)
_MESH_LABORATORY = ("cell line", "cell line, tumor", "in vitro techniques")


def _from_mesh(terms: Iterable[str], text: _TextEvidence) -> Decision | None:
    # MEDLINE writes major topics with a star and qualifiers after a slash: "*Mastectomy/methods".
    present = {t.strip().lstrip("*").split("/")[0].strip().casefold(): t for t in terms}
    if "animals" in present and "humans" not in present:
        return StudyDesign.ANIMAL_LAB, "MeSH: Animals (and not Humans)"
    for design, names in (
        (StudyDesign.RCT, _MESH_RANDOMISED),
        (StudyDesign.CASE_CONTROL, _MESH_CASE_CONTROL),
        (StudyDesign.COHORT, _MESH_COHORT),
        (StudyDesign.ANIMAL_LAB, _MESH_LABORATORY),
    ):
        for name in names:
            if name in present:
                return design, f"MeSH: {_mesh_label(present[name])}"
    return None


def _mesh_label(term: str) -> str:
    return term.strip().lstrip("*").split("/")[0].strip()


# --- text cues --------------------------------------------------------------------------------

_TITLE_WEIGHT = 2.5
# The opening of a document without headings is usually its abstract or lede.
_LEAD_CHARS = 1500
_LEAD_WEIGHT = 1.5
# A study design needs this much weighted evidence. A genre (news, patient page, reference
# topic, guideline, consensus) needs more, from at least two different cues, and must not be
# dwarfed by the evidence for a study design (at least this share of it).
_PRIMARY_MIN = 2.5
_GENRE_MIN = 4.0
_GENRE_SHARE = 0.5
# A consensus statement or guideline describes trials but rarely reports one; its own cues must
# outweigh the trial's, where news and patient pages only need half as much.
_GENRE_SHARES = {StudyDesign.CONSENSUS: 1.0, StudyDesign.GUIDELINE: 1.0}
# Lay language alone marks a patient page only when nothing else is found and no statistics are.
_LAY_MIN = 1.5
# A plain word glossed with the technical one, "the production (synthesis) of", is how
# consumer pages explain terms.
_GLOSS = re.compile(r"\b[a-z]{3,} \([a-z]{3,}(?: [a-z]+){0,2}\)")
_GLOSS_WEIGHT = 0.75
_QUOTE_MAX = 80
# How far either side of a phrase its sentence is looked for; longer sentences are cut there.
_SENTENCE_REACH = 200

# Unicode hyphens and spaces folded to ASCII one character for one, so offsets found in the
# folded copy hold in the original.
_FOLDS = tuple((c, "-") for c in "\u2010\u2011\u2012\u2013\u2014\u2212") + (("\u00a0", " "), ("\u2009", " "))
_ASCII_LOWER = str.maketrans({chr(c): chr(c + 32) for c in range(ord("A"), ord("Z") + 1)})
_WORD = re.compile(r"[a-z]+")

# Section names in the singular; a heading may put any word in the plural ("Materials and Methods").
_SECTIONS = (
    (0.5, "background|introduction|context|rationale|discussion"),
    (
        1.5,
        "objective|aim|purpose|method|methodology|material and method|patient and method|subject and method"
        "|method and material|method and result|design and method|research design and method|design|study design"
        "|setting|participant|patient|subject|intervention",
    ),
    (1.0, "result|finding|conclusion|interpretation|summary"),
    (0.0, "reference|bibliography|literature cited|acknowledgement|acknowledgment"),
)
_SECTION_WEIGHTS = {name: weight for weight, names in _SECTIONS for name in names.split("|")}
_HEADING_WORDS = frozenset(word for name in _SECTION_WEIGHTS for word in (name.split()[0], name.split()[0] + "s"))
_SECTION_NAMES = "|".join(
    sorted((r"s?\s+".join(name.split()) + "s?" for name in _SECTION_WEIGHTS), key=len, reverse=True)
)
# A background section is a few sentences: past this many characters its discount ends, so a
# lone "Introduction" heading does not discount a whole unlabelled abstract.
_BACKGROUND_CHARS = 800
# A heading is alone on its line ("Methods", "2. Results") or labels a stretch of an abstract
# ("METHODS:", "Results:", "ABSTRACT.BACKGROUND:", or after a full stop).
_HEADING_NAME = re.compile(rf"(?i)({_SECTION_NAMES})[ \t]*(:|\]|\.\s|\r?\n|$)")
_OTHER_HEADING = re.compile(r"[A-Z][A-Z][A-Z0-9/&, -]{1,60}:")
_HEADING_PREFIX = re.compile(r"(?i)[ \t]*(?:\d+(?:\.\d+)*\.?[ \t]+)?(?:abstract\.|body\.|\[)?")
_REFERENCE_ENTRY = re.compile(r"\s*\[?\d{1,3}[.)\]]?\s+[A-Z][\w'\u2019-]+(?:\s[A-Z][\w'\u2019-]+)?,?\s[A-Z]{1,3}[,.\s]")

# Words just before a phrase that make it about someone else's study, or about this one.
_CITING = re.compile(
    r"\b(?:previous(?:ly)?|prior|earlier|recent(?:ly)?|other|several|many|numerous|few|some|published|existing"
    r"|landmark|pivotal|various|a\s+number\s+of)\b",
    re.IGNORECASE,
)
_SELF = re.compile(r"\b(?:this|the\s+present|our|we|here(?:in)?)\b", re.IGNORECASE)
# In the same sentence: a need for such studies, or a citation of them.
_NEED = re.compile(
    r"\b(?:needed|warranted|required|necessary|awaited|lacking|lacks|lack\s+of|absence\s+of|paucity|future|further"
    r"|larger|no\s+(?:\w+\s+)?(?:randomi[sz]ed|controlled|prospective|published)|well[- ]designed"
    r"|adequately[- ]powered|ongoing|underway|planned)\b",
    re.IGNORECASE,
)
_CITATION = re.compile(r"\bet\s+al\b|\[\d+(?:\s*[,-]\s*\d+)*\]|\([A-Z][\w\s.&-]*,\s*(?:19|20)\d{2}[a-z]?\)")
_RESEARCH_REGISTER = re.compile(
    r"\bp\s?[<=>\u2264\u2265]\s?0?\.\d|\b95\s?%|\bconfidence\s+interval|\b(?:odds|hazard)\s+ratio|\bstatistically\b"
    r"|\bwe\s+(?:aimed|investigated|evaluated|examined|assessed|analy[sz]ed|conducted|performed|studied|enrolled"
    r"|recruited|compared)\b|\b(?:this|the\s+present|our)\s+(?:study|trial|protocol|analysis)\b|\bparticipants\b"
    r"|\b(?:primary|secondary)\s+outcome|\bmg/kg\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, eq=False)
class _Cue:
    """A phrase that points at a design.

    The pattern is tried only where one of the ``starts`` words begins, and must match from
    there: finding the words replaces dozens of full-text regex scans, which would be too slow
    for ingest. ``hedgeable`` phrases are discounted in sentences about other or future work;
    ``unless`` discounts a phrase whose sentence matches it; at most ``limit`` matches count.
    """

    design: StudyDesign
    genre: bool
    weight: float
    starts: tuple[str, ...]
    pattern: re.Pattern[str]
    hedgeable: bool
    unless: re.Pattern[str] | None
    limit: int


def _cues(
    design: StudyDesign,
    genre: bool,
    rows: Iterable[tuple[float, str, str]],
    *,
    hedgeable: bool = False,
    unless: str | None = None,
    flags: re.RegexFlag = re.IGNORECASE,
    limit: int = 3,
) -> list[_Cue]:
    """Cues from ``(weight, "start|start", regex)`` rows that share a design and options."""
    exclusion = re.compile(unless, re.IGNORECASE) if unless else None
    return [
        _Cue(design, genre, w, tuple(starts.split("|")), re.compile(rx, flags), hedgeable, exclusion, limit)
        for w, starts, rx in rows
    ]


_NUMBER = r"(?:\d+|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\w+teen|twenty|thirty|forty|fifty)"
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_SR_METHODS = r"disagree|discrepanc|resolv|adjudicat|reviewers|independently|raters|readers|coders|two\s+authors"
_S = StudyDesign

# One cue per row reads as a table; the formatter would spread each row over five lines.
# fmt: off
_CUE_LIST: list[_Cue] = [
    # Randomised controlled trial: participants being randomised says more than the noun.
    *_cues(_S.RCT, False, [
        (3.0, "randomly", r"randomly[\s-]+(?:(?:were|was)\s+)?(?:re)?(?:assigned|allocated|divided|distributed|split"
         r"|categori[sz]ed|grouped|stratified|separated|recruited)\b"),
        (3.0, "assigned|allocated|divided|distributed|grouped|categorized|categorised",
         r"(?:assigned|allocated|divided|distributed|grouped|categori[sz]ed)\s+(?:at\s+random|randomly)\b"),
        (3.0, "random", r"random\s+(?:allocation|assignment)\b"),
        (2.5, "randomized|randomised|post", r"randomi[sz]ed\s+(?:groups?|arms?)\b|post[- ]randomi[sz]ation\b"),
        (3.0, "randomized|randomised", r"randomi[sz]ed\s+(?:\d+\s+|all\s+)?(?:\w+\s+){0,2}?(?:patients|participants"
         r"|women|men|children|subjects|volunteers|adults|infants|individuals)\b"),
        (2.0, "random|randomized|randomised",
         r"random(?:i[sz]ed)?,?\s+(?:[\w-]+,?\s+){0,2}?(?:order|sequence|fashion|manner)\b"),
        (3.0, "were|was|been|being|are|is|then|subsequently",
         r"(?:were|was|been|being|are|is|then|subsequently)\s+(?:\w+\s+)?randomi[sz]ed\b"
         r"(?![\s,-]+(?:\w+[\s,-]+){0,2}?(?:trials?|studies|design)\b)"),
        (2.5, "randomized|randomised",
         r"(?<!non-)(?<!non\s)randomi[sz]ed\s+(?:\(?\d\s?:\s?\d|(?:in|at)\s+an?\s+\d\s?:\s?\d|(?:in)?to\b)"),
        (2.0, "underwent|undergo|after|before|time|following|randomization|randomisation|block|stratified|computer"
         "|centralized|centralised|central",
         r"(?:underwent|undergo|after|before|time\s+of|following)\s+randomi[sz]ation\b"
         r"|(?<!mendelian\s)randomi[sz]ation\s+(?:was|were|is|to|in|into|ratio|sequence|schedule|code|list)\b"
         r"|(?:block|stratified|computer[- ]generated|centrali[sz]ed|central)\s+randomi[sz]ation\b"),
        (1.5, "allocation|intention", r"allocation\s+conceal|intention[- ]to[- ]treat\b"),
        (1.0, "nct|isrctn|trial|clinicaltrials|actrn|chictr|ctri|eudract|irct",
         r"NCT\s?\d{8}\b|ISRCTN\s?\d+|trial\s+registration\b|clinicaltrials\.gov\b|(?:ACTRN|ChiCTR|CTRI/|EudraCT|IRCT)\S*\d"),
    ]),
    *_cues(_S.RCT, False, [
        (2.5, "randomized|randomised", r"(?<!non-)(?<!non\s)randomi[sz]ed(?:[\s,-]+(?:and\s+|or\s+)?[^\s.;:]+){0,5}?"
         r"[\s,-]+(?:trial|study|experiment|design)\b"),
        (2.0, "double|single|triple|placebo",
         r"(?:double|single|triple)(?:-\s?|\s)blind(?:ed)?\b|placebo[- ]controlled\b"),
        (1.5, "crossover|cross", r"cross[- ]?over\s+(?:study|trial|design)\b"),
        (1.0, "placebo", r"placebo\b"),
        # Groups that received an intervention someone assigned, rather than one observed in practice.
        (1.5, "intervention|experimental|placebo|sham",
         r"(?:intervention|experimental|placebo|sham)\s+(?:group|arm)s?\b"),
    ], hedgeable=True),
    *_cues(_S.RCT, False, [(2.0, "rct", r"RCT\b")], hedgeable=True, flags=re.NOFLAG),
    *_cues(_S.RCT, False, [
        (1.5, "this|our|present|was", r"(?:this|our|present|was\s+an?)\s+(?:[\w-]+\s+){0,3}?trial\b"),
    ], hedgeable=True),
    # Systematic review or meta-analysis.
    *_cues(_S.SYSTEMATIC_REVIEW, False, [
        (3.0, "systematic|systematically", r"systematic(?:ally)?\s+(?:literature\s+)?(?:review|search)"),
        (3.0, "meta|metaanalysis|metaanalyses|metaregression",
         r"meta[- ]?analy[sz](?:is|es|ed|ing)\b|meta[- ]?regression"),
        (1.0, "heterogeneity", r"heterogeneity\b"),
        (1.5, "risk|newcastle|certainty",
         r"risk\s+of\s+bias\b|newcastle[- ]ottawa|certainty\s+of\s+(?:the\s+)?evidence"),
    ], hedgeable=True),
    *_cues(_S.SYSTEMATIC_REVIEW, False, [
        (3.0, "prisma|prospero|crd|moose", r"PRISMA\b|PROSPERO\b|CRD\s?4\d{7,}|MOOSE\b"),
        (1.5, "medline|pubmed|embase|web|scopus|cinahl|psycinfo|central|lilacs|cochrane",
         r"(?:MEDLINE|Medline|PubMed|EMBASE|Embase|Web\s+of\s+Science|Scopus|CINAHL|PsycINFO|PsycInfo|CENTRAL|LILACS"
         r"|Cochrane\s+(?:Library|Central|Database|Register|Controlled))\b"),
    ], hedgeable=True, flags=re.NOFLAG),
    *_cues(_S.SYSTEMATIC_REVIEW, False, [
        (2.5, "we|literature|electronic|bibliographic|comprehensive|database|databases|search|searches",
         r"we\s+(?:\w+\s+)?searched\b|literature\s+search|(?:electronic|bibliographic|comprehensive)\s+"
         r"(?:database\s+|literature\s+)?search(?:es)?\b|(?:databases?|literature)\s+(?:\w+\s+){0,3}(?:was|were)\s+"
         r"(?:\w+\s+)?searched\b|search(?:es)?\s+(?:of|in)\s+(?:the\s+)?(?:\w+\s+){0,3}databases\b"),
        (2.0, "random|fixed", r"(?:random|fixed)[- ]effects?\s+(?:model|meta)"),
        (2.0, "i", r"I\s?(?:2|\u00b2|\^2)\s*(?:=|<|>|\u2264|\u2265|of|statistic|was|value)"),
        (2.0, "funnel|publication|egger", r"funnel\s+plot|publication\s+bias|egger"),
        (2.5, "studies|trials|articles|publications|papers|rcts|reports|included|eligible|primary|individual",
         r"(?:studies|trials|articles|publications|papers|RCTs|reports)\s+(?:\([^)]{0,40}\)\s+)?(?:were\s+|was\s+)?"
         r"(?:included|identified|eligible|selected|retrieved|pooled|met\s+(?:the\s+)?(?:inclusion|eligibility))"
         rf"|included\s+{_NUMBER}(?:[\s-]+\w+){{0,2}}\s+(?:studies|trials|articles|RCTs|cohorts)\b"
         r"|(?:eligible|included|primary|individual)\s+(?:studies|trials|articles)\b"),
        (2.0, "pooled", r"pooled\s+(?:analys[ie]s|estimates?|(?:odds|risk|hazard|relative|rate)\s+ratios?"
         r"|(?:mean|risk)\s+differences?|prevalence|sensitivity|specificity|effects?|incidence|proportions?|RR|OR|HR)\b"),
        (3.0, "umbrella", r"umbrella\s+review\b"),
    ]),
    # Cohort, retrospective or registry study.
    *_cues(_S.COHORT, False, [
        (2.0, "retrospective|retrospectively", r"retrospective(?:ly)?\b"),
        (1.5, "cohort|cohorts", r"cohorts?\b"),
        (2.5, "prospective|retrospective|population|historical|birth|observational|longitudinal|nationwide|inception"
         "|matched|cohort",
         r"(?:prospective|retrospective|population[- ]based|historical|birth|observational|longitudinal|nationwide"
         r"|inception|matched)\s+cohort\b|cohort\s+(?:study|analysis|design)\b"),
        (2.0, "registry|registries|register",
         r"(?<!trials\s)(?<!trial\s)registr(?:y|ies)\b(?!\s*:)|register[- ]based\b"),
        (2.5, "observational", r"observational\s+(?:study|analysis|cohort|data|design|research)\b"),
        (1.5, "prospective|longitudinal|follow", r"(?:prospective|longitudinal|follow[- ]up)\s+study\b"),
    ], hedgeable=True),
    *_cues(_S.COHORT, False, [
        (2.0, "seer|surveillance|ncdb|national|nhanes|claims|administrative|insurance|electronic|medical|chart|charts"
         "|records",
         r"SEER\b|surveillance,?\s+epidemiology,?\s+and\s+end\s+results\b|NCDB\b|national\s+cancer\s+data\s?base"
         r"|NHANES\b|(?:claims|administrative|insurance)\s+(?:data|database)s?\b|electronic\s+(?:health|medical)\s+"
         r"records?\b|medical\s+records\b|chart\s+review|(?:charts?|records)\s+(?:were|was)\s+(?:retrospectively\s+)?"
         r"reviewed"),
        (1.0, "database|data", r"data\s?base\b"),
        (3.0, "propensity|inverse", r"propensity[- ]score|propensity[- ]matched|inverse\s+probability"),
        (1.5, "prospectively", r"prospectively\s+(?:enrolled|collected|recruited|followed|maintained|registered)"),
        (1.0, "confounders|confounding|adjusted|adjusting", r"confound(?:ers|ing)\b|adjust(?:ed|ing)\s+for\b"),
        (2.0, "were|was", r"(?:were|was)\s+(?:retrospectively\s+)?(?:reviewed|identified\s+from)\b"),
        (2.5, "we", r"we\s+(?:retrospectively\s+)?(?:reviewed|identified|searched)\s+(?:the\s+)?(?:\w+\s+)?"
         r"(?:records|charts|files|notes|database|registry)\b"),
        # Patients treated over a span of past years: data collected from practice, not by allocation.
        (1.5, "between|from", rf"(?:between|from)\s+(?:{_MONTH}\s+)?(?:19|20)\d\d\s+(?:and|to|through|until)\s+"
         rf"(?:{_MONTH}\s+)?(?:19|20)\d\d\b"),
    ], limit=2),
    # Case-control study.
    *_cues(_S.CASE_CONTROL, False, [(3.0, "case", r"case[- ]control(?:led)?\b")], hedgeable=True),
    *_cues(_S.CASE_CONTROL, False, [
        (2.0, "age|sex|gender|matched|cases|controls",
         r"(?:age|sex|gender)[- ](?:and[- ](?:sex|gender|age)[- ])?matched\s+(?:healthy\s+)?controls?\b"
         r"|matched\s+(?:healthy\s+)?controls\b|cases\s+and\s+(?:\w+\s+)?controls\b"
         r"|controls\s+(?:were|was)\s+(?:randomly\s+)?(?:selected|matched|recruited)\b"),
        # People with a condition compared with healthy people chosen as controls.
        (2.0, "healthy|normal|control", r"(?:healthy|normal)\s+controls?\b|(?:healthy|normal)\s+control\s+(?:subjects"
         r"|group|participants|individuals)\b|control\s+group\s+(?:of|consist(?:ed|ing)\s+of|comprised)\s+"
         r"(?:\d+|\w+)\s+(?:\w+\s+)?(?:healthy|normal)\b"),
    ]),
    # Case series or case report.
    *_cues(_S.CASE_SERIES, False, [(3.0, "case", r"case\s+(?:reports?|series)\b")], hedgeable=True),
    *_cues(_S.CASE_SERIES, False, [
        (3.0, "we", r"we\s+(?:here\s+|herein\s+)?(?:report|describe|present)\s+(?:on\s+)?(?:a|an|the|two|three|four"
         r"|five|six|seven|eight|nine|ten|\d+)\s+(?:[\w-]+\s+){0,4}?(?:cases?|patients?|(?:wo)?m[ae]n|males?|females?"
         r"|boys?|girls?|child(?:ren)?|infants?|neonates?|newborns?|famil(?:y|ies)|siblings|twins)\b"),
        (2.5, "a|an", r"an?\s+\d{1,3}[- ](?:year|month|week|day)s?[- ]old\b"),
        (2.0, "this|our|present|case", r"(?:this|our|present)\s+case\b|case\s+(?:presentation|description)\b"),
        (1.5, "rare|unusual|uncommon", r"(?:rare|unusual|uncommon)\s+(?:case|presentation|entity)\b"),
        (1.0, "our|consecutive", r"our\s+(?:\w+\s+){0,2}experience\b|consecutive\s+(?:patients|cases)\b"),
    ]),
    # Animal or laboratory study.
    *_cues(_S.ANIMAL_LAB, False, [
        (1.5, "mice|mouse|murine|rat|rats|rodent|rodents|rabbit|rabbits|hamster|hamsters|guinea|zebrafish|drosophila"
         "|piglet|piglets|porcine|swine|bovine|ovine|sheep|primate|primates|macaque|macaques|monkey|monkeys",
         r"(?:mice|mouse|murine|rats?|rodents?|rabbits?|hamsters?|guinea\s+pigs?|zebrafish|drosophila|piglets?"
         r"|porcine|swine|bovine|ovine|sheep|primates?|macaques?|monkeys?)\b"),
        (2.0, "vitro|vivo|cell|cultured|xenograft|xenografts|knock|knockout|knockdown|transgenic|wild|sirna|western"
         "|immunoblot|immunoblotting|plasmid|plasmids",
         r"(?<=in\s)vitro\b|(?<=ex\s)vivo\b|cell\s+lines?\b|cell\s+cultures?\b|cultured\s+(?:\w+\s+)?cells\b|xenografts?\b"
         r"|knock[- ]?(?:out|down)\b|transgenic\b|wild[- ]type\b|siRNA\b|western\s+blot|immunoblot|plasmids?\b"),
        (2.0, "animal|animals", r"animals?\s+(?:were|was)\b|animal\s+models?\b"),
    ], hedgeable=True, limit=4),
    # Narrative review, as the document describes itself.
    *_cues(_S.NARRATIVE_REVIEW, False, [
        (2.5, "this|our|present", r"(?:this|our|present)\s+(?:narrative\s+|comprehensive\s+|brief\s+|short\s+"
         r"|mini[- ]?|critical\s+|literature\s+|clinical\s+|updated?\s+|focused\s+|concise\s+)?review\b"),
        (2.0, "narrative|comprehensive|critical|mini|review|overview",
         r"(?:narrative|comprehensive|critical|mini[- ]?)\s+review\b|review\s+of\s+(?:the\s+)?(?:current\s+|recent\s+"
         r"|published\s+)?(?:literature|evidence)\b|overview\s+of\b"),
        (2.0, "we|is|are", r"we\s+(?:briefly\s+)?(?:review|summari[sz]e|discuss|overview|highlight)\b"
         r"|(?:is|are)\s+(?:briefly\s+)?(?:reviewed|summari[sz]ed|highlighted|outlined)\b"),
        (1.5, "recent|current|state|future", r"(?:recent|current)\s+(?:advances|developments|progress|knowledge"
         r"|understanding|concepts|insights|trends|perspectives)\b|state[- ]of[- ]the[- ]art\b"
         r"|future\s+(?:directions|perspectives)\b"),
    ], limit=2),
    # Clinical reference topic: a point-of-care resource written and revised by editors.
    *_cues(_S.NARRATIVE_REVIEW, True, [
        (4.0, "literature", r"literature\s+review\s+current\s+through\b"),
        (4.0, "this", r"this\s+topic\s+last\s+updated\b"),
        (2.0, "section|deputy", r"(?:section|deputy)\s+editors?\b"),
        (2.0, "official", r"official\s+reprint\s+from\b"),
        (3.0, "continuing", r"continuing\s+education\s+activity\b"),
        (1.5, "see", r"(?<=\()see\s+[\"\u201c]"),
        (1.5, "we", r"we\s+(?:do\s+not\s+)?(?:routinely\s+|generally\s+|typically\s+|usually\s+)?"
         r"(?:suggest|recommend|prefer|offer|reserve|favor|favour)\b"),
        (3.0, "summary", r"summary\s+and\s+recommendations\b"),
    ], limit=2),
    *_cues(_S.NARRATIVE_REVIEW, True, [(2.0, "grade", r"Grade\s+[12][ABC]\b")], flags=re.NOFLAG, limit=2),
    *_cues(_S.NARRATIVE_REVIEW, True, [
        (1.0, "epidemiology|pathophysiology|pathogenesis|etiology|aetiology|clinical|differential|prognosis|management",
         r"(?<![^\n])(?:epidemiology|pathophysiology|pathogenesis|a?etiology|clinical\s+(?:features|manifestations"
         r"|presentation)|differential\s+diagnosis|prognosis|management)[ \t]*$"),
    ], flags=re.IGNORECASE | re.MULTILINE, limit=5),
    # Practice guideline.
    *_cues(_S.GUIDELINE, True, [
        (1.5, "guideline|guidelines", r"guidelines?\b(?![- ](?:based|concordant|adherence|adherent|recommended"
         r"|directed|discordant|compliant|compliance|implementation))"),
        (1.5, "practice|position|guidance",
         r"practice\s+(?:parameters?|recommendations?)\b|position\s+(?:statement|paper)\b|guidance\b"),
    ], hedgeable=True, limit=2, unless=r"according\s+to|adheren|concordan|complian|in\s+line\s+with|accordance"
       r"|as\s+recommended|follow|current|existing|international|national|published|recent"),
    *_cues(_S.GUIDELINE, True, [
        (2.5, "this|these|present|our|update|updated",
         r"(?:this|these|present|our|updated?)\s+(?:\w+\s+){0,3}?guidelines?\b"),
        (2.5, "strong|weak|conditional|discretionary|strength|grade|level|levels|class|recommendation"
         "|recommendations|good",
         r"(?:strong|weak|conditional|discretionary)\s+recommendations?\b|strength\s+of\s+(?:the\s+)?"
         r"recommendations?\b|(?:grade|level|class)\s+(?:[A-D]|I{1,3}|IV|[1-4][a-c]?)\s+recommendations?\b"
         r"|recommendations?\s+(?:grade|level|class|strength)\b|levels?\s+of\s+evidence\b|good\s+practice\s+points?\b"),
        (1.0, "panel|committee", r"(?:panel|committee)\s+recommends?\b"),
    ]),
    *_cues(_S.GUIDELINE, True, [
        (2.5, "society|association|college|academy|network|institute|organization|organisation|federation|task"
         "|committee|working",
         r"(?:Society|Association|College|Academy|Network|Institute|Organi[sz]ation|Federation|Task\s+Force|Committee"
         r"|Working\s+Group)\b(?:\s+(?:of|for|on)\s+[\w\s,&-]{1,60}?)?(?:\s*\([A-Z&]{2,}\))?\s+"
         r"(?i:recommends?|convened|issued|developed|updated|endorsed?|commissioned)\b"),
    ], flags=re.NOFLAG),
    # Expert consensus.
    *_cues(_S.CONSENSUS, True, [
        (3.0, "consensus|expert|reach|reached|reaching|achieve|achieved|build|arrive|arrived",
         r"consensus\s+(?:statement|conference|meeting|recommendation|document|report|guideline|panel|process|opinion"
         r"|development|group|paper|view)s?\b|expert\s+consensus\b|(?:reach|reached|reaching|achieve|achieved|build"
         r"|arrive\s+at|arrived\s+at)\s+(?:a\s+)?(?:\w+\s+)?consensus\b"
         r"|consensus\s+(?:was|were|is|has\s+been)\s+(?:reached|achieved|obtained)\b"),
        (1.5, "consensus", r"consensus\b"),
        (3.0, "delphi|nominal|rand", r"delphi\b|nominal\s+group\s+technique\b|RAND/UCLA\b"),
        (2.0, "expert|panel|panelists", r"expert\s+(?:panel|group|committee|meeting|opinion|working\s+group)s?\b"
         r"|panel\s+of\s+(?:\w+\s+){0,2}experts\b|panel(?:ists)?\s+(?:members|voted|agreed)\b"),
        (2.0, "poll|polled|polls|polling|vote|voted|votes|voting", r"poll(?:ed|s|ing)?\b|vot(?:e|ed|es|ing)\b"),
        (1.0, "participating|delegates|moderator|moderators", r"(?:participating\s+)?delegates\b|moderators?\b"),
    ], hedgeable=True, unless=rf"{_SR_METHODS}|\b(?:no|little|lack\s+of|without|until|by)\s+(?:\S+\s+)?consensus"),
    # News report.
    *_cues(_S.NEWS_REPORT, True, [
        (2.0, "he|she|they", r"(?:he|she|they)\s+(?:said|says|told|explained|noted|commented|added|cautioned|stressed"
         r"|emphasi[sz]ed|observed|pointed\s+out|acknowledged)\b"),
        (3.0, "press|news|interview|statement|told", r"press\s+(?:briefing|conference|release)"
         r"|news\s+(?:conference|briefing|release)|(?:(?<=in\sa\s)|(?<=in\san\s))(?:interview|statement)\b"
         r"|told\s+reporters\b"),
        (2.5, "according", r"according\s+to\s+(?:a|an|the)\s+(?:new\s+|recent\s+|large\s+|small\s+|preliminary\s+)?"
         r"(?:study|report|survey|research|findings)\b(?!\s+(?:protocol|design|criteria|drug))"),
        (1.5, "lead|senior|study|principal", r"(?:lead|senior|study|principal)\s+(?:author|investigator)\b"),
        (1.0, "researchers|investigators|scientists", r"(?:researchers|investigators|scientists)\s+"
         r"(?:said|say|found|reported|report|noted|concluded|cautioned)\b"),
    ]),
    *_cues(_S.NEWS_REPORT, True, [
        (2.0, "said|says|told|explained|commented|added|noted", r"(?i:said|says|told|explained|commented|added|noted)"
         r"\s+(?:Dr\.?|Prof\.?|Professor|[A-Z][a-z]+\s+(?:[A-Z]\.\s+)?[A-Z][\w'\u2019-]+,)"),
        (2.0, "dr|prof|professor", r"(?:Dr\.?|Prof\.?|Professor)\s+[A-Z][\w'\u2019-]+\s+(?i:said|says|told|explained"
         r"|noted|commented|added|reported|concluded|cautioned)\b"),
        (3.0, "reported|presented|announced", r"(?i:reported|presented|announced)\s+(?i:here\s+)?(?i:at)\s+"
         r"(?i:the\s+)?(?:\d{4}\s+)?(?:[A-Z][\w&'\u2019-]*\s+){1,8}?(?i:symposium|meeting|congress|conference"
         r"|sessions|summit|forum)\b"),
        (2.0, "md|phd|do|mbbs|mph", r"(?<=, )(?:MD|PhD|DO|MBBS|MPH)\b,?\s+(?i:of|from|at|director|chief|professor"
         r"|head|associate|assistant|who)\b"),
        # Who said what was just quoted.
        (2.0, "according|said|says|he|she", r"(?:(?<=[\u201d\"] )|(?<=[\u201d\"], )|(?<=[\u201d\"]\n))"
         r"(?i:according\s+to|said|says|he\s+said|she\s+said|he\s+added|she\s+added|he\s+noted|she\s+noted)\b"
         r"[^.\n]{0,40}"),
    ], flags=re.NOFLAG),
    # Patient information: second person, plain words, a medical review board.
    *_cues(_S.PATIENT_INFORMATION, True, [
        (3.0, "talk|speak|ask|check|call|tell|see|consult|contact|visit",
         r"(?:talk|speak|ask|check|call|tell|see|consult|contact|visit)\s+(?:to\s+|with\s+)?(?:your|a)\s+(?:\w+\s+)?"
         r"(?:doctor|health\s?care\s+(?:provider|professional|team)|provider|nurse|pharmacist|physician|dentist"
         r"|care\s+team|GP|specialist)\b"),
        (2.0, "your", r"your\s+(?:doctor|health\s?care\s+(?:provider|professional|team)|nurse|pharmacist|physician"
         r"|care\s+team|provider)\b"),
        (3.0, "medical|editorial|clinical|medically|reviewed",
         r"(?:medical|editorial|clinical)\s+(?:review|advisory)\s+board\b|medically\s+reviewed\b|reviewed\s+by\s*:"),
        (1.5, "last", r"last\s+(?:reviewed|revised)\b"),
        (2.5, "this|patient", r"this\s+(?:fact\s+sheet|leaflet|handout|booklet|information\s+sheet|pamphlet)\b"
         r"|patient\s+(?:version|handout|leaflet|information\s+(?:leaflet|sheet)|education\s+(?:handout|material"
         r"|sheet))\b"),
        (1.0, "also|sometimes|which|this",
         r"(?:also|sometimes)\s+called\b|also\s+known\s+as\b|(?:which|this)\s+means\b"),
        (0.75, "a|an|the", r"(?:a|an|the)\s+(?:[\w-]+\s+){0,2}called\b"),
        (1.0, "is", r"is\s+an?\s+(?:\w+\s+){0,2}(?:condition|disorder|disease|problem|illness|infection)\s+"
         r"(?:that|in\s+which|where|caused)\b"),
        (1.0, "symptoms|signs", r"(?:symptoms|signs)\s+(?:may\s+|can\s+|might\s+)?include\b"),
        (0.5, "doctor|doctors", r"doctors?\b"),
        (0.5, "people", r"people\s+(?:with|who)\b"),
    ]),
    # Questions as headings, the way consumer pages are organised ("How is it treated?").
    *_cues(_S.PATIENT_INFORMATION, True, [
        (1.0, "what|how|why|who|when|can|should|is|are|do|does",
         r"(?:(?<=\n)|(?<=[.?!]\s))(?:What|How|Why|Who|When|Can|Should|Is|Are|Do|Does)\s[^?\n.]{5,120}\?"),
    ], flags=re.NOFLAG, limit=2),
    *_cues(_S.PATIENT_INFORMATION, True, [
        (0.5, "you|your|yours|yourself", r"you(?:r|rs|rself|'re|'ll|'ve|\u2019re|\u2019ll|\u2019ve)?\b"),
    ], limit=8),
]
# fmt: on


@dataclass(frozen=True)
class _Start:
    """A word that can begin a cue match or a section heading, and where to look for it."""

    finder: re.Pattern[str]
    cues: tuple[_Cue, ...]
    heading: bool


def _index(cues: list[_Cue]) -> dict[str, _Start]:
    by_word: dict[str, list[_Cue]] = {word: [] for word in _HEADING_WORDS}
    for cue in cues:
        for word in cue.starts:
            by_word.setdefault(word, []).append(cue)
    # Whole words, as [a-z]+ splits them ("rct" is not in "rcts"); the start of the word is checked
    # by the caller, because a leading lookbehind would stop re from searching for the literal fast.
    return {
        word: _Start(re.compile(rf"{word}(?![a-z])"), tuple(found), word in _HEADING_WORDS)
        for word, found in by_word.items()
    }


_STARTS = _index(_CUE_LIST)
_CUE_ORDER = {cue: order for order, cue in enumerate(_CUE_LIST)}

_PRIMARY_ORDER = (
    _S.SYSTEMATIC_REVIEW,
    _S.RCT,
    _S.CASE_CONTROL,
    _S.COHORT,
    _S.CASE_SERIES,
    _S.ANIMAL_LAB,
    _S.NARRATIVE_REVIEW,
)
_GENRE_ORDER = (_S.NEWS_REPORT, _S.PATIENT_INFORMATION, _S.CONSENSUS, _S.GUIDELINE, _S.NARRATIVE_REVIEW)


@dataclass(frozen=True)
class _Hit:
    """Where a cue matched in ``title + "\\n\\n" + text``, and how much it counts there."""

    weight: float
    start: int
    end: int


@dataclass
class _Tally:
    score: float = 0.0
    cues: int = 0
    best: _Hit | None = None

    def add(self, hits: list[_Hit]) -> None:
        self.score += sum(hit.weight for hit in hits)
        self.cues += 1
        strongest = max(hits, key=lambda hit: (hit.weight, -hit.start))
        if self.best is None or strongest.weight > self.best.weight:
            self.best = strongest


class _TextEvidence:
    """Cue-phrase evidence from a title and text, scanned on first use."""

    def __init__(self, title: str, text: str) -> None:
        # The title goes first, a paragraph apart, so one scan and one set of offsets cover both.
        self.title_end = len(title)
        self.source = f"{title}\n\n{text}"

    def decision(self) -> Decision:
        genre = self.genre()
        if genre is not None:
            return genre[0], self.quote(genre[1])
        primary = self.primary()
        if primary is not None:
            return primary[0], self.quote(primary[1])
        lay = self._lay_language()
        if lay is not None:
            return _S.PATIENT_INFORMATION, self.quote(lay)
        return _S.UNKNOWN, "no publication type, MeSH heading or phrase in the text identifies the study design"

    def genre(self) -> tuple[StudyDesign, _Hit] | None:
        study = max((t.score for (genre, _), t in self.tallies.items() if not genre), default=0.0)
        # Papers quote their questionnaires and consent leaflets ("you", "your doctor"), so a text
        # with statistics or a methods voice is never taken for a patient page.
        return self._strongest(
            _GENRE_ORDER,
            True,
            lambda design, tally: (
                tally.score >= _GENRE_MIN
                and tally.cues >= 2
                and tally.score >= _GENRE_SHARES.get(design, _GENRE_SHARE) * study
                and not (design is _S.PATIENT_INFORMATION and self.research_register)
            ),
        )

    def primary(self) -> tuple[StudyDesign, _Hit] | None:
        return self._strongest(_PRIMARY_ORDER, False, lambda _, tally: tally.score >= _PRIMARY_MIN)

    def passing(self, design: StudyDesign) -> _Hit | None:
        """The strongest evidence for a study design, if there is enough of it."""
        tally = self.tallies.get((False, design))
        return tally.best if tally is not None and tally.score >= _PRIMARY_MIN else None

    def quote(self, hit: _Hit) -> str:
        where = "title" if hit.start < self.title_end else "text"
        return f"{where}: '{_quote(self.source, hit.start, hit.end)}'"

    def _strongest(
        self, order: tuple[StudyDesign, ...], genre: bool, enough: Callable[[StudyDesign, _Tally], bool]
    ) -> tuple[StudyDesign, _Hit] | None:
        # Ties go to the design listed first.
        candidates = [
            (tally.score, -rank, design, tally.best)
            for rank, design in enumerate(order)
            if (tally := self.tallies.get((genre, design))) is not None
            and tally.best is not None
            and enough(design, tally)
        ]
        if not candidates:
            return None
        _, _, design, hit = max(candidates, key=lambda candidate: candidate[:2])
        return design, hit

    def _lay_language(self) -> _Hit | None:
        """The strongest sign of plain language written for patients, if there is enough and no statistics."""
        tally = self.tallies.get((True, _S.PATIENT_INFORMATION), _Tally())
        glosses = [_Hit(_GLOSS_WEIGHT, m.start(), m.end()) for m in islice(_GLOSS.finditer(self.source), 3)]
        best = tally.best or (glosses[0] if glosses else None)
        if best is None or tally.score + _GLOSS_WEIGHT * len(glosses) < _LAY_MIN:
            return None
        return None if self.research_register else best

    @cached_property
    def research_register(self) -> bool:
        return _RESEARCH_REGISTER.search(self.source) is not None

    @cached_property
    def tallies(self) -> dict[tuple[bool, StudyDesign], _Tally]:
        folded = _fold(self.source)
        matches, headings = _scan(folded)
        zones = _Zones(headings, self.title_end)
        by_cue: dict[_Cue, list[_Hit]] = {}
        for cue, start, end in matches:
            zone = zones.weight(start)
            if 0 < zone < 1 and _SELF.search(folded, max(0, start - 60), start):
                # "The aim of the present randomized study" describes this study, even in a background.
                zone = 1.0
            weight = cue.weight * zone
            if weight and not _discounted(cue, folded, start, end):
                by_cue.setdefault(cue, []).append(_Hit(weight, start, end))
        tallies: dict[tuple[bool, StudyDesign], _Tally] = {}
        for cue, hits in by_cue.items():
            hits.sort(key=lambda hit: -hit.weight)
            tallies.setdefault((cue.genre, cue.design), _Tally()).add(hits[: cue.limit])
        return tallies


def _fold(text: str) -> str:
    # str.replace on the few characters present is much faster than str.translate on all.
    if not text.isascii():
        for character, replacement in _FOLDS:
            if character in text:
                text = text.replace(character, replacement)
    return text


def _scan(source: str) -> tuple[list[tuple[_Cue, int, int]], list[tuple[int, float]]]:
    """Every cue match and every section heading.

    Regexes are tried only where a word that can start them occurs; the words present are
    found with one C-level pass, which keeps ingest at thousands of abstracts a second.
    """
    lower = source.lower()
    if len(lower) != len(source):
        # A few capitals lengthen when lowered (dotted I): lower ASCII only, so offsets hold.
        lower = source.translate(_ASCII_LOWER)
    found: list[tuple[int, int, _Cue, int]] = []
    headings: dict[int, float] = {}
    for word in sorted(_STARTS.keys() & set(_WORD.findall(lower))):
        start = _STARTS[word]
        for occurrence in start.finder.finditer(lower):
            at = occurrence.start()
            if at and "a" <= lower[at - 1] <= "z":
                continue
            if start.heading and (weight := _heading_weight(source, at)) is not None:
                headings[at] = weight
            for cue in start.cues:
                match = cue.pattern.match(source, at)
                if match:
                    found.append((at, _CUE_ORDER[cue], cue, match.end()))
    # Any other capitalised label ("TRIAL REGISTRATION:") still ends the section before it.
    for label in _OTHER_HEADING.finditer(source):
        if label.start() not in headings and _heading_context(source, label.start()) is not None:
            headings[label.start()] = 1.0
    matches: list[tuple[_Cue, int, int]] = []
    # A cue does not match again inside its own previous match ("retrospective cohort study").
    taken: dict[_Cue, int] = {}
    for at, _, cue, end in sorted(found):
        if at >= taken.get(cue, 0):
            taken[cue] = end
            matches.append((cue, at, end))
    return matches, sorted(headings.items())


def _heading_context(source: str, at: int) -> bool | None:
    """Whether a heading could start here: True after a full stop, False at a line start, else None."""
    if source[max(0, at - 2) : at] in (". ", "? ") or source[max(0, at - 3) : at] == ".  ":
        return True
    if _HEADING_PREFIX.fullmatch(source, source.rfind("\n", 0, at) + 1, at):
        return False
    return None


def _heading_weight(source: str, at: int) -> float | None:
    """The weight of the section a heading word starts, or None when it is not a heading."""
    after_sentence = _heading_context(source, at)
    name = _HEADING_NAME.match(source, at) if after_sentence is not None else None
    # "Results." opens a labelled section only when capitalised; after a full stop only "Results:" does.
    if name is None or (after_sentence and name.group(2) != ":") or (name.group(2)[0] == "." and source[at].islower()):
        return None
    return _SECTION_WEIGHTS[" ".join(word.removesuffix("s") for word in name.group(1).lower().split())]


def _discounted(cue: _Cue, source: str, start: int, end: int) -> bool:
    """Whether a phrase is about other or future work, or sits in a reference-list entry."""
    if _REFERENCE_ENTRY.match(source, source.rfind("\n", 0, start) + 1):
        return True
    if cue.unless is None and not cue.hedgeable:
        return False
    sentence_start, sentence_end = _sentence_bounds(source, start, end)
    sentence = source[sentence_start:sentence_end]
    if cue.unless is not None and cue.unless.search(sentence):
        return True
    if not cue.hedgeable:
        return False
    before = source[max(sentence_start, start - 60) : start]
    if _SELF.search(before):
        return False
    return bool(_CITING.search(before) or _NEED.search(sentence) or _CITATION.search(sentence))


def _sentence_bounds(source: str, start: int, end: int) -> tuple[int, int]:
    """The sentence around ``source[start:end]``, looked for within a few hundred characters."""
    window_start, window_end = max(0, start - _SENTENCE_REACH), min(len(source), end + _SENTENCE_REACH)
    for sentence_start, sentence_end in sentence_spans(source, window_start, window_end):
        if sentence_start <= start < sentence_end:
            return sentence_start, max(sentence_end, end)
    return window_start, window_end


class _Zones:
    """How much a cue counts at each position, from the section it falls in."""

    def __init__(self, headings: list[tuple[int, float]], title_end: int) -> None:
        self.title_end = title_end
        self.text_start = title_end + 2
        self.starts = [at for at, _ in headings]
        self.weights = [weight for _, weight in headings]

    def weight(self, position: int) -> float:
        if position < self.title_end:
            return _TITLE_WEIGHT
        index = bisect.bisect_right(self.starts, position) - 1
        if index >= 0:
            weight = self.weights[index]
            return 1.0 if weight < 1.0 and position - self.starts[index] > _BACKGROUND_CHARS else weight
        return _LEAD_WEIGHT if position - self.text_start < _LEAD_CHARS else 1.0


def _quote(source: str, start: int, end: int) -> str:
    """The matched phrase with a few words of context, whitespace collapsed, at most _QUOTE_MAX."""
    if end - start >= _QUOTE_MAX:
        cut = source.rfind(" ", start, start + _QUOTE_MAX - 1)
        return " ".join(source[start : cut if cut > start else start + _QUOTE_MAX - 1].split()) + "\u2026"
    # Context comes from the same sentence only, and in whole words: all of it when it fits.
    sentence_start, sentence_end = _sentence_bounds(source, start, end)
    if sentence_end - sentence_start <= _QUOTE_MAX:
        return " ".join(source[sentence_start:sentence_end].split())
    room = _QUOTE_MAX - (end - start)
    left = max(sentence_start, start - room // 3)
    right = min(sentence_end, end + room - (start - left))
    if left > sentence_start:
        space = source.find(" ", left, start)
        left = space + 1 if space != -1 else start
    if right < sentence_end:
        space = source.rfind(" ", end, right)
        right = space if space != -1 else end
    return " ".join(source[left:right].split())
