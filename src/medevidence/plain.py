"""Clinician sentences in patient language, without adding facts.

``to_plain`` rewrites one source sentence in five deterministic steps:

1. drop what a patient cannot use and that carries no claim of its own: citation markers
   ("[14]", "[1-3]"), acronym definitions ("overall survival (OS)"), statistics ("(HR 0.82;
   95% CI 0.70-0.90; P = .01)", ", p < 0.001") and asides in parentheses that only give examples
   ("(e.g. nausea)", "(in absolute values)"; never one with a number, hedge or negation). A
   parenthesis that also holds headline numbers keeps them: "(58 vs 19 months, p<0.001)"
   becomes "(58 vs 19 months)";
2. drop the frame around a claim, which the citation already names: who said it ("...,” he
   commented", ", according to Dr X") and report frames ("Our results demonstrate that",
   "The clinical conclusion would be that"). Hedging frames ("These data suggest that") stay,
   since dropping them would firm up the claim;
3. split a long sentence at "; " and at ", whereas" / ", while" / ", although" / ", but",
   keeping every word except the conjunction, which becomes "But";
4. replace technical phrases with everyday words from ``data/lay_terms.tsv`` (its header gives
   the rules): longest match first, whole words only, capitalised at the start of a sentence;
5. tidy spaces and punctuation, and make "a"/"an" agree with the word that now follows.

Nothing is paraphrased beyond the table, so every word of the result is a word of the source
sentence or one of ``plain_words()``; the composer's faithfulness check relies on that.

``reading_grade`` is the Flesch-Kincaid grade level, computed here rather than with textstat:
textstat 0.7 counts syllables with NLTK's CMU dictionary and downloads it on first use, which
an offline engine must not do (and it then fails without a network).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from .sentences import sentence_spans

__all__ = ["plain_words", "reading_grade", "to_plain"]

# -- lay terms -----------------------------------------------------------------------------------

_HYPHENS = frozenset("-\u2010\u2011")
_HYPHEN = r"\-\u2010\u2011"  # the same, for use inside a regex character class
# Words that cannot sit inside the noun phrase an adjective moves behind ("metastatic or
# recurrent disease" must not become "or recurrent disease that has spread").
_PHRASE_STOPWORDS = (
    "a an and are as at be been but by for from had has have in is it its may not of on or than that the their"
    " these this those to was were which who with vs versus"
)
# The head must end its noun phrase: after it comes punctuation or one of these words. Another
# noun would make the moved words describe the wrong thing ("adjuvant therapy decisions" is not
# "therapy after the main treatment decisions"), so anything unlisted leaves the term alone.
# Adverbs ("adjuvant chemotherapy significantly improved") also end it.
_AFTER_HEAD = (
    "about after alone among and are as at because before but by can compared could did does during for from had"
    " has have if in is may might must of on only or plus remains remained should than that to until versus vs was"
    " were when whereas which while who will with within without would"
    " appeared appears caused causes declined developed develops differed fell happened improved improves increased"
    " increases led leads lowered lowers occur occurred occurs offered offers provided provides reduced reduces"
    " resulted results rose showed shows"
)
_MAX_MODIFIERS = 3


@dataclass(frozen=True, slots=True)
class LayTerm:
    """One row of ``lay_terms.tsv``.

    With ``heads`` the term is an adjective whose plain form has to follow its noun:
    "metastatic breast cancer" -> "breast cancer that has spread ...".
    """

    term: str
    plain: str
    heads: tuple[str, ...] = ()
    line: int = 0

    @property
    def exact_case(self) -> bool:
        """Terms written with capitals are acronyms and match only as written ("MI", not "mi")."""
        return self.term != self.term.lower()


@cache
def lay_terms() -> tuple[LayTerm, ...]:
    """The rows of ``data/lay_terms.tsv``, in file order."""
    text = (files("medevidence") / "data" / "lay_terms.tsv").read_text(encoding="utf-8")
    rows: list[LayTerm] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        columns = [column.strip() for column in raw.split("\t")]
        if len(columns) not in (2, 3) or not all(columns):
            raise ValueError(f"lay_terms.tsv line {number}: expected 2 or 3 non-empty tab-separated columns: {raw!r}")
        heads = tuple(head.strip() for head in columns[2].split("|")) if len(columns) == 3 else ()
        rows.append(LayTerm(columns[0], columns[1], heads, number))
    return tuple(rows)


def _phrase_pattern(phrase: str) -> str:
    """A phrase as a regex: any run of spaces between words, any hyphen (or none) for a hyphen."""
    parts: list[str] = []
    for char in phrase:
        if char == " ":
            parts.append(r"\s+")
        elif char in _HYPHENS:
            parts.append(rf"[{_HYPHEN}\s]?")
        else:
            parts.append(re.escape(char))
    return "".join(parts)


def _term_pattern(index: int, row: LayTerm) -> str:
    body = _phrase_pattern(row.term)
    if row.heads:
        heads = "|".join(_phrase_pattern(h) for h in sorted(row.heads, key=len, reverse=True))
        modifier = rf"(?!(?:{_PHRASE_STOPWORDS.replace(' ', '|')})\b)[^\W_][\w+/{_HYPHEN}]*\s+"
        noun_phrase = rf"(?:{modifier}){{0,{_MAX_MODIFIERS}}}?(?:{heads})(?![\w{_HYPHEN}])"
        phrase_end = rf"(?=\s*(?:[^\w\s{_HYPHEN}]|$)|\s+(?i:{_AFTER_HEAD.replace(' ', '|')}|\w+ly)\b)"
        body = rf"{body}\s+(?P<p{index}>{noun_phrase}){phrase_end}"
    return f"(?P<t{index}>{body})" if row.exact_case else f"(?P<t{index}>(?i:{body}))"


@dataclass(frozen=True, slots=True)
class _Matcher:
    pattern: re.Pattern[str]
    rows: tuple[LayTerm, ...]


@cache
def _matcher() -> _Matcher:
    rows = lay_terms()
    # Python's alternation takes the first alternative that matches, so longer terms go first;
    # at equal length an adjective that moves behind its noun beats its bare fallback.
    order = sorted(range(len(rows)), key=lambda i: (-len(rows[i].term), not rows[i].heads, i))
    # Grouped by first letter behind a lookahead, so that each word start tries only the
    # terms that can match there: ten times faster than one flat alternation.
    groups: dict[str, list[str]] = {}
    for i in order:
        groups.setdefault(rows[i].term[0].lower(), []).append(_term_pattern(i, rows[i]))
    alternatives = "|".join(
        f"(?={re.escape(first)}|{re.escape(first.upper())})(?:{'|'.join(patterns)})"
        for first, patterns in groups.items()
    )
    boundary = rf"[\w{_HYPHEN}]"
    return _Matcher(re.compile(rf"(?<!{boundary})(?:{alternatives})(?!{boundary})"), rows)


def _replace_terms(text: str) -> str:
    matcher = _matcher()
    out: list[str] = []
    position = 0
    for match in matcher.pattern.finditer(text):
        assert match.lastgroup is not None  # every alternative is a named group "t<row index>"
        index = int(match.lastgroup[1:])
        row = matcher.rows[index]
        plain = row.plain
        if row.heads:
            noun_phrase = match.group(f"p{index}")
            plain = f"{_replace_terms(noun_phrase)} {row.plain}"
        if match.group(0)[0].isupper() and not row.exact_case:
            plain = plain[0].upper() + plain[1:]
        before = text[position : match.start()]
        if " " in row.term and not row.heads:
            # "an open-label, randomized trial": the comma joined two adjectives; once the second
            # is part of "study that ...", the first modifies that noun directly.
            before = _COORDINATE_COMMA.sub(r"\1 ", before)
        before = _agree_article(before, plain)
        out.append(before)
        out.append(plain)
        position = match.end()
    out.append(text[position:])
    return "".join(out)


# A design adjective and the comma after it, at the end of the text before a replaced phrase.
_COORDINATE_COMMA = re.compile(
    rf"(?<![\w{_HYPHEN}])((?:open|double|single|triple|placebo|phase|multi)[{_HYPHEN}][\w{_HYPHEN}]+|prospective"
    r"|multicent(?:er|re)|blinded|controlled|pragmatic|parallel|crossover|international),\s+$",
    re.IGNORECASE,
)
_ARTICLE_BEFORE = re.compile(r"(?<![\w'])([Aa])(n?)(\s+)$")
_VOWEL_SOUND = re.compile(r"[aeiou]", re.IGNORECASE)
_CONSONANT_U = re.compile(r"u(?:ni|s[eu]|r[eo]|ti)|one", re.IGNORECASE)


def _agree_article(before: str, following: str) -> str:
    """``before`` with a trailing "a"/"an" fixed for the replacement that follows it."""
    match = _ARTICLE_BEFORE.search(before)
    if not match:
        return before
    vowel = bool(_VOWEL_SOUND.match(following)) and not _CONSONANT_U.match(following)
    article = match.group(1) + ("n" if vowel else "")
    return before[: match.start()] + article + match.group(3)


# -- statistics and markers ----------------------------------------------------------------------

_NUMBER = r"[\u2212-]?(?:\d+(?:[.\u00b7]\d+)?|[.\u00b7]\d+)"
_RANGE = rf"{_NUMBER}\s*(?:[-\u2013\u2014]|to|,)\s*{_NUMBER}"
_COMPARE = r"(?:[=<>\u2264\u2265]|&[lg]t;|\u2a7d|\u2a7e)"
_P_VALUE = rf"\b[Pp](?:\s*[-\s]?value)?(?:\s+for\s+[\w\s]{{1,30}}?)?\s*{_COMPARE}\s*(?:{_NUMBER}|NS|n\.s\.)"
_INTERVAL = (
    rf"\b\d{{2}}(?:\.\d)?\s*%\s*(?:CI|CrI|UI|confidence\s+intervals?|credible\s+intervals?)"
    rf"\s*[:=,]?\s*[\[(]?\s*{_RANGE}\s*[\])]?"
)
_RATIO_NAMES = r"(?:a|adj|s)?(?:HR|OR|RR|IRR|SHR|RRR|ARR|NNT|NNH|SMD|MD|WMD)s?"
_SPELLED_RATIOS = (
    r"(?:adjusted\s+)?(?:hazard|odds|risk|rate|incidence\s+rate)\s+ratios?|relative\s+risks?|mean\s+differences?"
)
_RATIO = rf"\b(?:adjusted\s+)?{_RATIO_NAMES}\s*(?:{_COMPARE}|:|,)?\s*{_NUMBER}"
_SPREAD = rf"\b(?:SD|SE|SEM|IQR|range)\b\s*[:=,]?\s*(?:{_RANGE}|{_NUMBER})"
_SAMPLE = r"\b[nN]\s*=\s*\d[\d,]*"
_TEST_STATISTIC = rf"(?:\u03c7\s*2|chi[\s-]?square|\b[tFZz])\s*{_COMPARE}\s*{_NUMBER}"

# Statistics that are dropped wherever they stand.
_STAT_ANYWHERE = re.compile(rf"{_P_VALUE}|{_INTERVAL}|{_RATIO}|{_SAMPLE}")
# Inside parentheses everything statistical goes, spelled-out ratios included.
_STAT_IN_BRACKETS = re.compile(
    rf"{_P_VALUE}|{_INTERVAL}|{_RATIO}|(?:{_SPELLED_RATIOS})\s*(?:{_COMPARE}|:|,|of)?\s*{_NUMBER}"
    rf"|{_SPREAD}|{_SAMPLE}|{_TEST_STATISTIC}",
)
_CITATION_MARKER = re.compile(r"\s*\[\s*\d+(?:\s*(?:[,;\u2013\u2014-]|and)\s*\d+)*\s*\]")
_BRACKETED = re.compile(r"\s*([(\[])([^()\[\]]*)([)\]])")
_ACRONYM = re.compile(r"[A-Za-z][A-Za-z0-9/&-]{0,9}")
_LEFTOVER = re.compile(r"^[\s,;:.]*(?:and|or|vs\.?|versus)?[\s,;:.]*$", re.IGNORECASE)
# An aside gives examples or names parts ("(e.g. nausea)", "(in absolute values)"); anything else in
# parentheses may be part of the claim ("(once; twice)") and stays. So do numbers, hedges and negations:
# "(if any)" and "(but not in women)" change the claim.
_ASIDE = re.compile(
    r"\s*(?:e\.\s?g\.?|i\.\s?e\.?|such as|including|for example|for instance|namely|especially|particularly"
    r"|mainly|mostly|in particular|in (?:absolute|relative) (?:terms|values))\b",
    re.IGNORECASE,
)
_KEPT_ASIDE = re.compile(r"\d|\b(?:not|no|nor|none|never|without|except|only|if|unless|but)\b", re.IGNORECASE)
_AFTER_NUMBER = re.compile(r"[\d%]\s*$")


def _is_acronym_definition(acronym: str, before: str) -> bool:
    """Schwartz & Hearst's short-form test: the letters of "OS" in order in "overall survival"."""
    if not _ACRONYM.fullmatch(acronym) or sum(c.isupper() for c in acronym) < 2:
        return False
    letters = [c.lower() for c in acronym.rstrip("s") if c.isalpha()]
    words = re.findall(r"[\w-]+", before)[-(len(letters) + 2) :]
    for size in range(1, len(words) + 1):
        candidate = words[-size:]
        if candidate[0][0].lower() != letters[0]:
            continue
        remaining = " ".join(candidate).lower()
        position = 0
        for letter in letters:
            position = remaining.find(letter, position) + 1
            if position == 0:
                break
        else:
            return True
    return False


def _drop_bracketed(text: str) -> str:
    """Remove citation markers, acronym definitions and statistics from brackets, innermost first."""
    text = _CITATION_MARKER.sub("", text)
    while True:
        changed = False
        pieces: list[str] = []
        position = 0
        for match in _BRACKETED.finditer(text):
            opening, inner, closing = match.groups()
            if (opening, closing) not in (("(", ")"), ("[", "]")):
                continue
            kept = _STAT_IN_BRACKETS.sub("", inner)
            if _is_acronym_definition(inner.strip(), text[: match.start()]) or _LEFTOVER.match(kept):
                replacement = ""
            elif opening == "(" and kept == inner and _is_aside(inner, text[: match.start()]):
                replacement = ""
            elif kept != inner:
                replacement = f" {opening}{_tidy_inside(kept)}{closing}"
            else:
                continue
            pieces.append(text[position : match.start()])
            pieces.append(replacement)
            position = match.end()
            changed = True
        if not changed:
            return text
        pieces.append(text[position:])
        text = "".join(pieces)


def _is_aside(inner: str, before: str) -> bool:
    """A parenthesis that only elaborates: no number, hedge or negation, and not a label of the
    number before it ("40% (surgery) vs 22% (no surgery)")."""
    return bool(_ASIDE.match(inner)) and not _KEPT_ASIDE.search(inner) and not _AFTER_NUMBER.search(before)


def _tidy_inside(inner: str) -> str:
    inner = re.sub(r"\s*([,;:])(?:\s*[,;:])+", r"\1", inner)
    return inner.strip(" ,;:")


def _drop_statistics(text: str) -> str:
    text = _drop_bracketed(text)
    # What is left outside brackets: ", p < 0.001", "; 95% CI 0.7-0.9", "HR = 0.5".
    return _STAT_ANYWHERE.sub("", text)


# -- frames around a claim -----------------------------------------------------------------------

_OPEN_QUOTE = '"\u201c'
_CLOSE_QUOTE = '"\u201d'
_SPEECH_VERBS = r"(?:said|says|commented|noted|added|explained|reported|stated|concluded|emphasi[sz]ed)"
# After a closing quotation mark: "..., he commented." / "...," Dr. Badwe said.
_SPEECH_TAG = re.compile(
    rf"(?<=[,.!?][{_CLOSE_QUOTE}])\s*(?:he|she|they|(?:Dr\.?\s+)?[A-Z][\w.'\u2019-]*(?:\s+[A-Z][\w.'\u2019-]*){{0,3}})"
    rf"\s+{_SPEECH_VERBS}\b[^{_OPEN_QUOTE}{_CLOSE_QUOTE}]*$"
)
# The same without quotation marks: "..., Dr. Badwe reported."
_TRAILING_TAG = re.compile(
    rf",\s*(?:he|she|(?:Dr\.?\s+)?[A-Z][\w'\u2019-]+(?:\s+[A-Z][\w'\u2019-]+){{0,2}})\s+{_SPEECH_VERBS}\s*\.?$"
)
# Trailing attribution to a named person: ", according to Rajendra A. Badwe, MD, Director of ...".
_ACCORDING_TO = re.compile(
    rf",\s*[{_CLOSE_QUOTE}]?\s*according to\s+(?:Dr\.?\s+)?[A-Z][^{_OPEN_QUOTE}{_CLOSE_QUOTE}]*$"
)
_STUDY_NOUNS = r"(?:results?|findings?|data|study|studies|analys[ie]s|trial|review|conclusion|evidence)"
_SHOW_VERBS = (
    r"(?:demonstrate[sd]?|show(?:s|ed|n)?|indicate[sd]?|confirm(?:s|ed)?|reveal(?:s|ed)?|establish(?:es|ed)?"
    r"|would be|is|was)"
)
# "Our results demonstrate that X", "We found that X": X is the claim. Not "suggest": a hedge.
_REPORT_FRAME = re.compile(
    rf"^(?:(?:the|our|these|this|the present|the current)\s+(?:[\w-]+\s+){{0,2}}?{_STUDY_NOUNS}\s+"
    rf"(?:(?:clearly|strongly|further|also|therefore)\s+)?{_SHOW_VERBS}"
    r"|we\s+(?:(?:have|also|therefore)\s+)?(?:found|find|conclude|concluded|demonstrated?|showed|show|observed"
    r"|confirmed?))\s+that\s+(?=\w)",
    re.IGNORECASE,
)


def _drop_frames(sentence: str) -> str:
    """The claim without who said it or which report found it (the citation says both)."""
    text = _ACCORDING_TO.sub("", _TRAILING_TAG.sub("", _SPEECH_TAG.sub("", sentence)))
    stripped = text.strip()
    # One quotation, now without its speaker: the quoted words are the claim.
    if stripped[:1] in _OPEN_QUOTE and sum(stripped.count(q) for q in set(_OPEN_QUOTE + _CLOSE_QUOTE)) <= 2:
        stripped = re.sub(rf"[{_OPEN_QUOTE}{_CLOSE_QUOTE}]", "", stripped).strip()
        stripped = re.sub(r"[,;:]\s*$", ".", stripped)
    claim = _REPORT_FRAME.sub("", stripped)
    if claim != stripped:
        claim = _capitalise(claim)
    if claim and claim[-1] not in ".!?" and sentence.rstrip()[-1:] in '.!?"\u201d':
        claim += "."  # the attribution took the full stop with it
    return claim


# -- sentence splitting --------------------------------------------------------------------------

_LONG_SENTENCE_WORDS = 15
_MIN_PART_WORDS = 4
_SEMICOLON = re.compile(r";\s+")
# A contrast: the clause after it becomes a sentence that starts with "But".
_CONJUNCTION = re.compile(r",\s+(whereas|while|although|though|even though|but)\s+", re.IGNORECASE)
# ", and the risk fell": "and" joining two clauses, seen as a subject-like word after it.
_AND_CLAUSE = re.compile(
    r",\s+and\s+(?=(?:the|this|these|those|it|they|there|we|patients|both|all|no|none|most|each)\s)", re.IGNORECASE
)
# After a conjunction a clause needs its own subject: not "but not in women", "but should be
# restricted"; and "while" can mean "during" ("while receiving", "while on treatment").
_NO_SUBJECT = re.compile(
    r"(?:not|also|only|rather|should|could|can|may|might|must|will|would|is|are|was|were|has|have|had|did|does"
    r"|do)\b",
    re.IGNORECASE,
)
_DURING = re.compile(r"(?:\w+ing|on|in|at|under|after|during)\b", re.IGNORECASE)


def _words(text: str) -> int:
    return len(re.findall(r"[^\W_]+", text))


def _outside_brackets(text: str, index: int) -> bool:
    depth = 0
    for char in text[:index]:
        if char in "([":
            depth += 1
        elif char in ")]" and depth:
            depth -= 1
    return depth == 0


def _split(sentence: str) -> list[str]:
    parts = [sentence]
    for splitter, min_words in ((_SEMICOLON, 3), (_CONJUNCTION, _MIN_PART_WORDS), (_AND_CLAUSE, 6)):
        result: list[str] = []
        for part in parts:
            result.extend(_split_at(part, splitter, min_words, needs_length=splitter is not _SEMICOLON))
        parts = result
    return parts


def _split_at(text: str, splitter: re.Pattern[str], min_words: int, *, needs_length: bool) -> list[str]:
    if needs_length and _words(text) <= _LONG_SENTENCE_WORDS:
        return [text]
    pieces: list[str] = []
    start = 0
    lead = ""  # "But " when the piece being built follows a contrast
    for match in splitter.finditer(text):
        head, tail = text[start : match.start()], text[match.end() :]
        conjunction = match.group(1).lower() if match.groups() else ""
        if not _outside_brackets(text, match.start()) or not _is_clause(conjunction, tail):
            continue
        if _words(head) < min_words or _words(tail) < min_words:
            continue
        pieces.append(lead + head.rstrip(" ,;") + ".")
        lead = "But " if conjunction else ""
        start = match.end()
    pieces.append(lead + text[start:])
    return [_capitalise(piece.strip()) for piece in pieces if piece.strip()]


def _is_clause(conjunction: str, tail: str) -> bool:
    if not conjunction:
        return True
    return not _NO_SUBJECT.match(tail) and not (conjunction == "while" and _DURING.match(tail))


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


# -- tidying -------------------------------------------------------------------------------------


def _tidy(text: str) -> str:
    text = re.sub(r"\(\s*\)|\[\s*\]", "", text)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([,.;:!?)\]])", r"\1", text)
    text = re.sub(r"([(\[])\s+", r"\1", text)
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)
    text = re.sub(r"[,;:]\s*([.!?])", r"\1", text)
    text = re.sub(r"([.!?])\.+", r"\1", text)
    return text.strip()


# -- public API ----------------------------------------------------------------------------------


def to_plain(sentence: str) -> str:
    """``sentence`` in patient language: same claim, same headline numbers, everyday words."""
    text = _drop_frames(_tidy(_drop_statistics(sentence)))
    if not text:
        return text
    parts = [_replace_terms(part) for part in _split(text)]
    return _tidy(" ".join(_capitalise(part) for part in parts))


@cache
def plain_words() -> frozenset[str]:
    """Every word the lay terms (and the a/an agreement) can put into a patient sentence.

    Lower case. A hyphenated word is listed whole and by its parts ("anti-clotting", "anti",
    "clotting"), so either way of tokenising finds it.
    """
    words: set[str] = {"a", "an"}
    for row in lay_terms():
        for word in re.findall(r"[^\W_]+(?:[-'][^\W_]+)*", row.plain.lower()):
            words.add(word)
            words.update(re.split(r"[-']", word))
    return frozenset(words)


# -- readability ---------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+(?:[.,'\u2019\u2010\u2011-][^\W_]+)*%?")
_VOWEL_GROUP = re.compile(r"[aeiouy]+")


def syllables(word: str) -> int:
    """Syllables in one English word, by vowel groups with the usual corrections.

    A heuristic, right for about nine words in ten; the grade it feeds is an estimate anyway.
    Numbers and symbols count as one syllable, as the common Flesch-Kincaid tools do.
    """
    total = 0
    for part in re.split(r"[-\u2010\u2011]", word.lower()):
        letters = re.sub(r"[^a-z]", "", part)
        if not letters:
            total += 1 if part else 0
            continue
        total += _syllables_in(letters)
    return max(total, 1)


def _syllables_in(word: str) -> int:
    if len(word) <= 3:
        return 1
    word = re.sub(r"^y", "", word)
    word = re.sub(r"qu", "q", word)
    count = len(_VOWEL_GROUP.findall(word))
    if word.endswith("e") and not re.search(r"[^aeiouy]le$|ee$|ie$|ye$", word):
        count -= 1  # silent final e: "disease", "cause"
    elif re.search(r"[^aeiouytd]ed$|[^aeiouysxzhgc]es$", word):
        count -= 1  # "assigned", "cases"; but "treated", "increases" keep theirs
    # A silent e before a suffix: "likely", "useful", "management", "lateness".
    count -= len(re.findall(r"[^aeiouy]e(?=ly|ful|ment|ness|less)", word))
    # Vowel pairs that are two syllables: "radiation", "ratio", "diet", "trial", "being", "ruin".
    count += len(
        re.findall(r"(?<![ctgs])i[ao]|[tcs]io$|(?<![ctsgq])ua|(?<![tc])ie(?=[^sdr]|r[^s])|[aeiouy]ing|uin", word)
    )
    return max(count, 1)


def reading_grade(text: str) -> float:
    """Flesch-Kincaid grade level: 0.39 words/sentence + 11.8 syllables/word - 15.59.

    0.0 for text without words. Grade 9 or below is what patient material should reach.
    """
    words = _WORD.findall(text)
    if not words:
        return 0.0
    # The composer's own sentence boundaries: "Dr. Badwe" or "e.g. nausea" end no sentence.
    sentences = max(len(sentence_spans(text)), 1)
    syllable_count = sum(syllables(word) for word in words)
    return round(0.39 * len(words) / sentences + 11.8 * syllable_count / len(words) - 15.59, 2)
