"""The phrase table of the study-design classifier: which wording points at which design.

Kept apart from ``classify.py`` because it is data more than code: one cue per row, read as a
table. Each row is ``(weight, "start|words", regex)``; see :class:`Cue` for what the options do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..models import StudyDesign


@dataclass(frozen=True, eq=False)
class Cue:
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
) -> list[Cue]:
    """Cues from ``(weight, "start|start", regex)`` rows that share a design and options."""
    exclusion = re.compile(unless, re.IGNORECASE) if unless else None
    return [
        Cue(design, genre, w, tuple(starts.split("|")), re.compile(rx, flags), hedgeable, exclusion, limit)
        for w, starts, rx in rows
    ]


_NUMBER = r"(?:\d+|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\w+teen|twenty|thirty|forty|fifty)"
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_SR_METHODS = r"disagree|discrepanc|resolv|adjudicat|reviewers|independently|raters|readers|coders|two\s+authors"
_S = StudyDesign

# One cue per row reads as a table; the formatter would spread each row over five lines.
# fmt: off
CUES: list[Cue] = [
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
