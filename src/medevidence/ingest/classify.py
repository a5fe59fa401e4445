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
from .cues import CUES, Cue

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
    r"|recruited|compared)\b|\b(?:this|the\s+present|our)\s+(?:study|trial|protocol|analysis)\b"
    r"|\b(?:primary|secondary)\s+outcome|\bmg/kg\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Start:
    """A word that can begin a cue match or a section heading, and where to look for it."""

    finder: re.Pattern[str]
    cues: tuple[Cue, ...]
    heading: bool


def _index(cues: list[Cue]) -> dict[str, _Start]:
    by_word: dict[str, list[Cue]] = {word: [] for word in _HEADING_WORDS}
    for cue in cues:
        for word in cue.starts:
            by_word.setdefault(word, []).append(cue)
    # Whole words, as [a-z]+ splits them ("rct" is not in "rcts"); the start of the word is checked
    # by the caller, because a leading lookbehind would stop re from searching for the literal fast.
    return {
        word: _Start(re.compile(rf"{word}(?![a-z])"), tuple(found), word in _HEADING_WORDS)
        for word, found in by_word.items()
    }


_STARTS = _index(CUES)
_CUE_ORDER = {cue: order for order, cue in enumerate(CUES)}

_PRIMARY_ORDER = (
    StudyDesign.SYSTEMATIC_REVIEW,
    StudyDesign.RCT,
    StudyDesign.CASE_CONTROL,
    StudyDesign.COHORT,
    StudyDesign.CASE_SERIES,
    StudyDesign.ANIMAL_LAB,
    StudyDesign.NARRATIVE_REVIEW,
)
_GENRE_ORDER = (
    StudyDesign.NEWS_REPORT,
    StudyDesign.PATIENT_INFORMATION,
    StudyDesign.CONSENSUS,
    StudyDesign.GUIDELINE,
    StudyDesign.NARRATIVE_REVIEW,
)


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
            return StudyDesign.PATIENT_INFORMATION, self.quote(lay)
        return (
            StudyDesign.UNKNOWN,
            "no publication type, MeSH heading or phrase in the text identifies the study design",
        )

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
                and not (design is StudyDesign.PATIENT_INFORMATION and self.research_register)
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
        tally = self.tallies.get((True, StudyDesign.PATIENT_INFORMATION), _Tally())
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
        by_cue: dict[Cue, list[_Hit]] = {}
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


def _scan(source: str) -> tuple[list[tuple[Cue, int, int]], list[tuple[int, float]]]:
    """Every cue match and every section heading.

    Regexes are tried only where a word that can start them occurs; the words present are
    found with one C-level pass, which keeps ingest at thousands of abstracts a second.
    """
    lower = source.lower()
    if len(lower) != len(source):
        # A few capitals lengthen when lowered (dotted I): lower ASCII only, so offsets hold.
        lower = source.translate(_ASCII_LOWER)
    found: list[tuple[int, int, Cue, int]] = []
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
    matches: list[tuple[Cue, int, int]] = []
    # A cue does not match again inside its own previous match ("retrospective cohort study").
    taken: dict[Cue, int] = {}
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
    if (
        name is None
        or (after_sentence and name.group(2) != ":")
        or (name.group(2).startswith(".") and source[at].islower())
    ):
        return None
    return _SECTION_WEIGHTS[" ".join(word.removesuffix("s") for word in name.group(1).lower().split())]


def _discounted(cue: Cue, source: str, start: int, end: int) -> bool:
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
