"""Text clean-up shared by the format readers: one normal form for every source.

The normalised text is what the store keeps and what citations index into, so every
reader must pass its extracted text through :func:`normalize_text` exactly once.
"""

from __future__ import annotations

import re
import unicodedata

from ..models import Section

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u200c\u200d\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")
# A word broken across a line end by a hyphen ("metas-\ntases"). A hyphen between two
# words that both stand alone ("HER2-\npositive") is kept; see dehyphenate().
_LINE_END_HYPHEN = re.compile(r"(\w+)[-\u2010\u00ad]\n[ \t]*([a-z]\w*)")

# Headings that open the reference list at the end of an article.
_REFERENCE_HEADING = re.compile(
    r"^\s*(?:#+\s*)?(references|bibliography|works cited|literature cited|cited literature|"
    r"references and notes)\s*:?\s*$",
    re.IGNORECASE | re.MULTILINE,
)
# "1. Author A, ..." / "[12] Author" / "12 Author" lines that make up a numbered list.
_REFERENCE_ENTRY = re.compile(r"^\s*(?:\[\d{1,3}\]|\d{1,3}[.)]?)\s+\S")


def normalize_text(text: str) -> str:
    """NFC, no control characters, single spaces, at most one blank line, stripped."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


# "BACKGROUND: ...", "METHODS AND RESULTS: ..." at a line start or right after a sentence, as in
# structured abstracts flattened to plain text.
_ABSTRACT_LABEL = re.compile(r"(?:^|(?<=\n)|(?<=[.!?] ))([A-Z][A-Z ,/&-]{2,40}[A-Z]):[ \n]")


def labelled_sections(text: str) -> list[Section]:
    """Sections of a structured abstract written as "LABEL: text" runs."""
    starts = [(m.start(), m.group(1).title()) for m in _ABSTRACT_LABEL.finditer(text)]
    return [
        Section(label, start, starts[i + 1][0] if i + 1 < len(starts) else len(text))
        for i, (start, label) in enumerate(starts)
    ]


def dehyphenate(text: str, known_words: frozenset[str] | None = None) -> str:
    """Join words split by a hyphen at a line end, as PDF text extraction leaves them.

    "metas-\\ntases" becomes "metastases". When ``known_words`` is given, a join is kept
    only if the joined word is known or the hyphenated halves are not both known words,
    so a real compound such as "well-\\nknown" keeps its hyphen.
    """

    def join(match: re.Match[str]) -> str:
        left, right = match.group(1), match.group(2)
        if known_words is not None:
            joined = (left + right).lower()
            if joined not in known_words and left.lower() in known_words and right.lower() in known_words:
                return f"{left}-{right}"
        return left + right

    return _LINE_END_HYPHEN.sub(join, text)


def split_reference_list(text: str) -> tuple[str, list[str]]:
    """Split a trailing reference list off ``text``.

    Returns ``(body, references)``. The body is ``text`` up to the references heading
    (or the first entry of a trailing run of numbered entries), unchanged, so offsets into
    it are offsets into ``text``. Only a list in the last part of the document counts, so
    a "References" heading in a table of contents does not cut the article in half.
    """
    heading = None
    for match in _REFERENCE_HEADING.finditer(text):
        if match.start() >= len(text) * 0.3:
            heading = match
    if heading is not None:
        entries = _entries(text[heading.end() :])
        if entries:
            return text[: heading.start()].rstrip(), entries
    return _split_trailing_numbered_list(text)


def _split_trailing_numbered_list(text: str) -> tuple[str, list[str]]:
    """A reference list with no heading: at least three numbered lines that look cited."""
    lines = text.split("\n")
    first = len(lines)
    pending = 0  # non-entry lines seen above the topmost entry so far (wrapped entries)
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if not line.strip():
            continue
        if _REFERENCE_ENTRY.match(line) and _looks_like_citation(line):
            first = index
            pending = 0
        elif len(line) < 300 and pending < 3:
            pending += 1
        else:
            break
    entries = _entries("\n".join(lines[first:]))
    if len(entries) < 3:
        return text, []
    cut = len("\n".join(lines[:first]))
    return text[:cut].rstrip(), entries


_CITATION_HINT = re.compile(r"(\b(19|20)\d{2}\b|\bet al\b|\bdoi\b|\bJ\b|;\s*\d+[:(])", re.IGNORECASE)


def _looks_like_citation(line: str) -> bool:
    return bool(_CITATION_HINT.search(line))


def _entries(block: str) -> list[str]:
    entries: list[str] = []
    for line in block.split("\n"):
        stripped = line.strip()
        if not stripped:
            continue
        if _REFERENCE_ENTRY.match(stripped) or not entries:
            entries.append(stripped)
        else:
            entries[-1] = f"{entries[-1]} {stripped}"
    return entries
