"""Split a document's text into passages: sentence-aware, about 100-250 words, small overlap.

Passages are offsets into the document text, never copies that could drift from it.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from ..models import ParsedDocument
from ..sentences import sentence_spans

_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class PassageSpan:
    start: int
    end: int
    section: str | None
    page: int | None


def chunk_passages(
    document: ParsedDocument, min_words: int = 100, max_words: int = 250, overlap_sentences: int = 1
) -> list[PassageSpan]:
    """Passages covering ``document.text``; each starts and ends on a sentence boundary.

    A sentence longer than ``max_words`` (a table row, a run-on list) is cut at word
    boundaries so no passage is unboundedly long.
    """
    text = document.text
    units = [piece for start, end in sentence_spans(text) for piece in _cut_long(text, start, end, max_words)]
    passages: list[tuple[int, int]] = []
    index = 0
    while index < len(units):
        first = index
        words = 0
        while index < len(units):
            unit_words = units[index][2]
            if words and (words + unit_words > max_words or words >= min_words):
                break
            words += unit_words
            index += 1
        passages.append((units[first][0], units[index - 1][1]))
        if index < len(units) and index - first > overlap_sentences:
            index -= overlap_sentences
    return [PassageSpan(start, end, _label_at(document, start), _page_at(document, start)) for start, end in passages]


def _cut_long(text: str, start: int, end: int, max_words: int) -> list[tuple[int, int, int]]:
    """``(start, end, words)`` pieces of one sentence, each at most ``max_words`` words."""
    words = list(_WORD.finditer(text, start, end))
    if len(words) <= max_words:
        return [(start, end, len(words))]
    pieces = []
    for offset in range(0, len(words), max_words):
        chunk = words[offset : offset + max_words]
        pieces.append((chunk[0].start(), chunk[-1].end(), len(chunk)))
    return pieces


def _label_at(document: ParsedDocument, position: int) -> str | None:
    for section in document.sections:
        if section.start <= position < section.end:
            return section.label
    return None


def _page_at(document: ParsedDocument, position: int) -> int | None:
    if not document.pages:
        return None
    starts = [page.start for page in document.pages]
    index = bisect.bisect_right(starts, position) - 1
    return document.pages[max(index, 0)].number
