"""Sentence boundaries as character offsets, for chunking at ingest and quoting in answers.

Rule-based on purpose: it must be deterministic, fast (hundreds of documents a second
on two cores) and never move a character, since citations point into the stored text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Words after which a full stop does not end a sentence in medical writing.
_ABBREVIATIONS = frozenset(
    """
    al approx ca cf dr drs e.g eg etc fig figs i.e ie inc jr ltd mr mrs ms no nos pp prof
    sr st vs vol vols min max mg ml kg dl mmol resp ref refs suppl dept univ co corp jan feb
    mar apr jun jul aug sep sept oct nov dec approx. n.s approx mt ft sq
    """.split()
)

# A candidate end: terminal punctuation, optional closing quotes/brackets/citation markers,
# then whitespace. The next sentence must start with an upper-case letter, a digit, a quote
# or an opening bracket; a newline after blank line always ends a sentence.
_CANDIDATE = re.compile(r"[.!?](?:[\"'\u201d\u2019)\]]|\[\d[\d,\u2010-\u2015\- ]*\])*(?=\s)")
# A list item flattened into running text starts a sentence too ("call your provider. - You are ...").
_NEXT_START = re.compile(r"\s+(?:[-*\u2022]\s+)?[\"'\u201c\u2018(\[]?[A-Z0-9\u0391-\u03a9]")
_PARAGRAPH = re.compile(r"\n\s*\n|\n(?=\s*(?:[-*\u2022]|\d{1,2}[.)])\s)")
# A short heading line inside running text: PDF and web text often put "Introduction" on a line
# of its own between two sentences, and it must not be glued to either of them.
_HEADING_LINE = re.compile(r"\n([A-Z][^\n.!?;:,]{0,40})(?=\n)")


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence in ``text[start:end]``, stripped of outer whitespace."""
    stop = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for block_start, block_end in _blocks(text, start, stop):
        spans.extend(_sentences_in_block(text, block_start, block_end))
    return spans


def _blocks(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Paragraphs, list items and heading lines: a sentence never runs across one of these breaks."""
    position = start
    for match in _PARAGRAPH.finditer(text, start, end):
        if _runs_on(text, position, match.start(), match.end(), end):
            continue
        yield from _split_headings(text, position, match.start())
        position = match.end()
    yield from _split_headings(text, position, end)


def _runs_on(text: str, block_start: int, break_start: int, break_end: int, end: int) -> bool:
    """A blank line inside a sentence: PDF text breaks columns and pages mid-sentence ("no difference
    in\n\noutcome could be found"), seen as no closing punctuation before and a lower-case word after."""
    before = text[block_start:break_start].rstrip()
    after = text[break_end:end].lstrip()
    return bool(before) and bool(after) and before[-1] not in ".!?:;" and after[0].islower()


def _split_headings(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    position = start
    for match in _HEADING_LINE.finditer(text, start, end):
        if match.end() >= end:
            break
        if not _is_heading(match.group(1)):
            continue
        yield position, match.start()
        yield match.start(1), match.end(1)
        position = match.end()
    yield position, end


def _is_heading(line: str) -> bool:
    """Title case and short ("Timing of Surgery"), unlike a wrapped line of a sentence."""
    words = line.split()
    return 0 < len(words) <= 6 and all(w[0].isupper() or len(w) < 4 for w in words)


def _sentences_in_block(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    sentence_start = start
    for match in _CANDIDATE.finditer(text, start, end):
        stop = match.end()
        if not _NEXT_START.match(text, stop, end):
            continue
        if text[match.start()] == "." and _is_abbreviation(text, sentence_start, match.start()):
            continue
        if _inside_parentheses(text, sentence_start, match.start()):
            continue
        span = _strip(text, sentence_start, stop)
        if span:
            yield span
        sentence_start = stop
    span = _strip(text, sentence_start, end)
    if span:
        yield span


def _is_abbreviation(text: str, sentence_start: int, dot: int) -> bool:
    word_start = dot
    while word_start > sentence_start and not text[word_start - 1].isspace() and text[word_start - 1] not in "([":
        word_start -= 1
    word = text[word_start:dot].lower()
    if not word:
        return False
    if word in _ABBREVIATIONS:
        return True
    # Initials ("J. Smith") and single letters ("Fig. 2 a.") are not sentence ends.
    return len(word) == 1 and word.isalpha()


def _inside_parentheses(text: str, sentence_start: int, position: int) -> bool:
    """A full stop inside a short open bracket ("(Lancet Oncol. 2015)") does not end the sentence."""
    opening = text.rfind("(", max(sentence_start, position - 150), position)
    return opening != -1 and text.find(")", opening, position) == -1


def _strip(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None
