"""PDF articles: text in reading order, one :class:`PageSpan` per page, title, authors and DOI.

Why pdfminer.six (MIT), the engine under pdfplumber, used directly: column order needs the
position and size of every glyph, which pdfminer.six gives and pypdf (BSD) does not. pypdf
is fast (55-60 pages/s on a 50-page two-column benchmark) but returns text in content-stream
order, which interleaves the columns of a PDF drawn row by row. pdfplumber (MIT) wraps the
same parser, adds nothing this reader uses, takes 3-4 times as long (it turns every glyph
into a dict: about 4 pages/s against 13-16 for bare pdfminer.six; this reader manages about
9) and pulls in pypdfium2 and Pillow. PyMuPDF reads well and fast but is AGPL, which a
permissively licensed, self-hosted product cannot ship.

Pages are read one at a time and only their text is kept, so memory follows the size of the
text, not of the page layouts.
"""

from __future__ import annotations

import itertools
import logging
import re
import statistics
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, NamedTuple

from pdfminer.converter import PDFPageAggregator
from pdfminer.layout import LTChar, LTContainer, LTImage, LTItem, LTPage
from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser
from pdfminer.pdftypes import resolve1
from pdfminer.utils import decode_text

from ..errors import EmptySource, IngestError, UnreadableSource
from ..models import PageSpan, ParsedDocument, SourceFormat
from .normalize import dehyphenate, normalize_text, split_reference_list

# Typeset ligatures are single glyphs; a search for "fibrosis" must find "ﬁbrosis".
_LIGATURES = str.maketrans(
    {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st"}
)
# pdfminer's rendering of a glyph whose font has no map to Unicode: "(cid:123)".
_UNMAPPED_GLYPH = "(cid:"
_DOI = re.compile(r"\b10\.\d{4,9}/[^\s\"<>]+")
# The halves of a word broken at a line end are not words of their own.
_BROKEN_WORD = re.compile(r"\w+[-\u2010\u00ad]\n[ \t]*\w+")
_WORD = re.compile(r"\w+")
_FILE_NAME = re.compile(r"\.(docx?|pdf|tex|dvi|rtf|odt|indd|qxd|xml)$", re.IGNORECASE)
_PLACEHOLDER_TITLES = frozenset({"untitled", "title", "document", "article", "manuscript", "pdf"})
_PLACEHOLDER_AUTHORS = frozenset({"anonymous", "unknown", "author", "administrator", "admin", "user", "owner"})

# Geometry in multiples of the font size. A gap wider than _WORD_GAP splits two words; each
# word is padded by _COLUMN_PAD on both sides, which closes the spaces inside a column's
# lines, so only a gutter wider than twice the padding stays open.
_WORD_GAP = 0.2
_BASELINE_SHIFT = 0.2
_ROW_TOLERANCE = 0.45
_COLUMN_PAD = 0.3
_PARAGRAPH_GAP = 0.5
# A gutter lies in the middle 60% of the region it splits, so a margin note is not a column.
_GUTTER_ZONE = (0.2, 0.8)
_MIN_COLUMN_LINES = 3
# Column lines fill most of their column; a table's cells mostly do not.
_MIN_COLUMN_FILL = 0.5
# A title's font is clearly larger than the body's.
_TITLE_SCALE = 1.15


class _Box(NamedTuple):
    """A glyph, word or line, in points from the page's top-left corner."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float


@dataclass(frozen=True)
class _Page:
    number: int
    glyphs: list[_Box]
    has_images: bool
    unmapped_glyphs: bool


@dataclass
class _Extraction:
    """What the pages of one file yielded: raw text per page and why pages had none."""

    pages: list[tuple[int, str]] = field(default_factory=list)
    title: str = ""
    blank_pages: list[int] = field(default_factory=list)
    has_images: bool = False
    unmapped_glyphs: bool = False


def read_pdf(path: Path) -> Iterator[ParsedDocument]:
    yield _parse(path)


def _parse(path: Path) -> ParsedDocument:
    source = str(path)
    try:
        with path.open("rb") as handle:
            if not handle.read(1024).strip():
                raise EmptySource(source)
            handle.seek(0)
            with _quiet_pdfminer():
                document = _open(handle, source)
                info = _info(document, source)
                extraction = _extract(document, source)
    except OSError as exc:
        raise UnreadableSource(
            source, f"the file could not be read ({exc.strerror})", "check the path and permissions"
        ) from exc
    if not extraction.pages:
        raise _no_text(source, extraction)
    return _document(info, extraction)


@contextmanager
def _quiet_pdfminer() -> Iterator[None]:
    # pdfminer logs a warning for each defect it works around (a missing MediaBox, a font
    # without a bounding box, a broken xref entry), which would print to stderr for files it
    # reads; the failures that matter reach users as IngestErrors instead.
    logger = logging.getLogger("pdfminer")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextmanager
def _translated(source: str) -> Iterator[None]:
    """Turn any pdfminer failure into an :class:`IngestError` that names the file."""
    try:
        yield
    except PDFEncryptionError as exc:
        raise UnreadableSource(source, "the file is encrypted", "export it without a password") from exc
    # Damaged files make pdfminer raise bare ValueError, TypeError, KeyError and the like from
    # deep inside its parser, not only its own PSException tree, so nothing narrower is safe.
    except Exception as exc:
        raise UnreadableSource(
            source, "the PDF is damaged or truncated", "download it again or re-export it from the original"
        ) from exc


def _open(handle: BinaryIO, source: str) -> PDFDocument:
    with _translated(source):
        return PDFDocument(PDFParser(handle))


def _info(document: PDFDocument, source: str) -> dict[str, str]:
    """The document information dictionary, with text values decoded."""
    info: dict[str, str] = {}
    with _translated(source):
        for entries in document.info:
            for key, raw in entries.items():
                value = resolve1(raw)
                if isinstance(value, bytes):
                    info[key] = decode_text(value).strip()
                elif isinstance(value, str):
                    info[key] = value.strip()
    return info


def _pages(document: PDFDocument, source: str) -> Iterator[_Page]:
    with _translated(source):
        resources = PDFResourceManager()
        device = PDFPageAggregator(resources, laparams=None)
        interpreter = PDFPageInterpreter(resources, device)
        for number, page in enumerate(PDFPage.create_pages(document), start=1):
            interpreter.process_page(page)
            yield _page(number, device.get_result())


def _page(number: int, layout: LTPage) -> _Page:
    glyphs: list[_Box] = []
    has_images = False
    unmapped = False
    pending: list[LTItem] = list(layout)
    while pending:
        item = pending.pop()
        if isinstance(item, LTChar):
            text = item.get_text()
            if text.startswith(_UNMAPPED_GLYPH):
                unmapped = True
            # Rotated glyphs are margin stamps ("Downloaded from ...") or figure labels, not body text.
            elif item.upright:
                top, bottom = layout.y1 - item.y1, layout.y1 - item.y0
                glyphs.append(_Box(text.translate(_LIGATURES), item.x0, item.x1, top, bottom, item.size))
        elif isinstance(item, LTImage):
            has_images = True
        elif isinstance(item, LTContainer):
            pending.extend(item)
    return _Page(number, glyphs, has_images, unmapped)


def _extract(document: PDFDocument, source: str) -> _Extraction:
    extraction = _Extraction()
    for page in _pages(document, source):
        lines = _reading_order(_words(page.glyphs))
        if not lines:
            extraction.blank_pages.append(page.number)
            extraction.has_images = extraction.has_images or page.has_images
            extraction.unmapped_glyphs = extraction.unmapped_glyphs or page.unmapped_glyphs
            continue
        if not extraction.pages:
            extraction.title = _title_from_lines(lines)
        extraction.pages.append((page.number, _page_text(lines)))
    return extraction


def _no_text(source: str, extraction: _Extraction) -> IngestError:
    if extraction.has_images:
        return UnreadableSource(
            source, "the PDF has no text layer (scanned images)", "run OCR on it first, e.g. ocrmypdf"
        )
    if extraction.unmapped_glyphs:
        return UnreadableSource(
            source,
            "the PDF's fonts do not say which characters they draw, so it has no usable text",
            "run OCR on it first, e.g. ocrmypdf --force-ocr",
        )
    return EmptySource(source)


def _rows(boxes: list[_Box]) -> list[list[_Box]]:
    """Boxes grouped into rows that share a baseline, each row ordered left to right.

    A row is anchored at its topmost box and takes boxes whose middle lies within a fraction
    of the largest font seen, so raised citation numbers stay on their line.
    """
    rows: list[list[_Box]] = []
    anchor = reach = 0.0
    # Sorting and comparing by top + bottom (twice the middle) saves a division per box.
    for box in sorted(boxes, key=lambda b: b.top + b.bottom):
        middle = box.top + box.bottom
        box_reach = 2 * _ROW_TOLERANCE * box.size
        if rows and middle - anchor <= max(reach, box_reach):
            rows[-1].append(box)
            reach = max(reach, box_reach)
        else:
            rows.append([box])
            anchor, reach = middle, box_reach
    for row in rows:
        row.sort(key=lambda b: b.x0)
    return rows


def _words(glyphs: list[_Box]) -> list[_Box]:
    """Glyphs joined into words, split at spaces, wide gaps and raised or lowered glyphs.

    A raised glyph is a citation mark or an index: "trial1" must read "trial 1".
    """
    words: list[_Box] = []
    for row in _rows(glyphs):
        current: list[_Box] = []
        for glyph in row:
            if current:
                last = current[-1]
                size = max(last.size, glyph.size)
                # Some producers fake bold by drawing each glyph twice, a fraction of a point apart.
                if glyph.text == last.text and abs(glyph.x0 - last.x0) < 0.25 * (last.x1 - last.x0):
                    continue
                if (
                    glyph.text.isspace()
                    or glyph.x0 - last.x1 > _WORD_GAP * size
                    or abs(glyph.bottom - last.bottom) > _BASELINE_SHIFT * size
                ):
                    words.append(_word(current))
                    current = []
            if not glyph.text.isspace():
                current.append(glyph)
        if current:
            words.append(_word(current))
    return words


def _word(glyphs: list[_Box]) -> _Box:
    # The glyphs share a baseline and a row, so their extremes bound the word.
    return _Box(
        "".join(glyph.text for glyph in glyphs),
        glyphs[0].x0,
        max(glyph.x1 for glyph in glyphs),
        min(glyph.top for glyph in glyphs),
        max(glyph.bottom for glyph in glyphs),
        max(glyph.size for glyph in glyphs),
    )


def _line(words: list[_Box]) -> _Box:
    """One box around a row of words, sized by the font most of them use, not a stray superscript."""
    return _Box(
        " ".join(word.text for word in words),
        words[0].x0,
        max(word.x1 for word in words),
        min(word.top for word in words),
        max(word.bottom for word in words),
        statistics.median_high(word.size for word in words),
    )


def _reading_order(words: list[_Box]) -> list[_Box]:
    """Lines in reading order.

    Where a vertical gutter splits the words into side-by-side columns, each stretch between
    full-width lines (a title, a wide table) reads the left column to its end and then the
    right one, each column split again if it has a gutter of its own.
    """
    rows = _rows(words)
    gutter = _gutter(rows)
    if gutter is None:
        return [_line(row) for row in rows]
    lines: list[_Box] = []
    left: list[_Box] = []
    right: list[_Box] = []
    for row in rows:
        if _spans(row, gutter):
            lines += _reading_order(left) + _reading_order(right)
            left, right = [], []
            lines.append(_line(row))
        else:
            for word in row:
                (left if word.x1 < gutter else right).append(word)
    return lines + _reading_order(left) + _reading_order(right)


def _spans(row: list[_Box], x: float) -> bool:
    return any(word.x0 - _COLUMN_PAD * word.size <= x <= word.x1 + _COLUMN_PAD * word.size for word in row)


def _gutter(rows: list[list[_Box]]) -> float | None:
    """The x of the widest gap that the fewest rows cross, if it separates two real columns."""
    if not rows:
        return None
    origin = min(row[0].x0 for row in rows)
    width = max(word.x1 for row in rows for word in row) - origin
    changes = [0] * (int(width) + 3)
    for row in rows:
        for start, end in _covered(row, origin, len(changes) - 1):
            changes[start] += 1
            changes[end] -= 1
    coverage = list(itertools.accumulate(changes))
    low, high = int(_GUTTER_ZONE[0] * width), int(_GUTTER_ZONE[1] * width)
    if high <= low:
        return None
    fewest = min(coverage[low : high + 1])
    start, length = _longest_run(coverage, low, high, fewest)
    gutter = origin + start + length / 2
    left = [part for part in (_side(row, gutter, True) for row in rows) if part]
    right = [part for part in (_side(row, gutter, False) for row in rows) if part]
    columns = min(len(left), len(right))
    # Lines crossing the gutter (titles, captions) must be few beside the column lines, or
    # the "gutter" is only where the spaces of a single column happen to line up.
    if columns < _MIN_COLUMN_LINES or fewest > 2 * columns:
        return None
    if _fill(left, gutter - origin) < _MIN_COLUMN_FILL or _fill(right, origin + width - gutter) < _MIN_COLUMN_FILL:
        return None
    return gutter


def _covered(row: list[_Box], origin: float, limit: int) -> Iterator[tuple[int, int]]:
    """The padded stretches of x one row covers, merged so each point counts once per row."""
    stretch: tuple[int, int] | None = None
    for word in row:
        pad = _COLUMN_PAD * word.size
        start = max(0, int(word.x0 - pad - origin))
        end = min(limit, int(word.x1 + pad - origin) + 1)
        if stretch is not None and start <= stretch[1]:
            stretch = (stretch[0], max(stretch[1], end))
            continue
        if stretch is not None:
            yield stretch
        stretch = (start, end)
    if stretch is not None:
        yield stretch


def _longest_run(values: list[int], low: int, high: int, target: int) -> tuple[int, int]:
    best_start, best_length = low, 0
    start = None
    for index in range(low, high + 2):
        if index <= high and values[index] == target:
            start = index if start is None else start
        elif start is not None:
            if index - start > best_length:
                best_start, best_length = start, index - start
            start = None
    return best_start, best_length


def _side(row: list[_Box], gutter: float, left: bool) -> list[_Box]:
    if _spans(row, gutter):
        return []
    return [word for word in row if (word.x1 < gutter) == left]


def _fill(parts: list[list[_Box]], column_width: float) -> float:
    """How much of its column the median line covers."""
    return statistics.median(part[-1].x1 - part[0].x0 for part in parts) / max(column_width, 1.0)


def _page_text(lines: list[_Box]) -> str:
    """Lines joined by newlines, with a blank line where a paragraph or heading starts."""
    parts = [lines[0].text]
    for previous, line in itertools.pairwise(lines):
        parts.append("\n\n" if _starts_paragraph(previous, line) else "\n")
        parts.append(line.text)
    return "".join(parts)


def _starts_paragraph(previous: _Box, line: _Box) -> bool:
    size = max(previous.size, line.size)
    if line.top < previous.top:
        # The top of the next column: text there usually continues the sentence.
        return False
    if abs(line.size - previous.size) > 1:
        return True
    if line.top - previous.bottom > _PARAGRAPH_GAP * size:
        return True
    indent = line.x0 - previous.x0
    return 0.8 * size < indent < 4 * size


def _title_from_lines(lines: list[_Box]) -> str:
    """The run of largest-font lines on the first page with text, else its first line.

    A title must be set clearly larger than the body, whose size is the one most characters use.
    """
    worded = [line for line in lines if " " in line.text] or lines
    largest = max(line.size for line in worded)
    body = statistics.median_low(line.size for line in lines for _ in line.text)
    if largest < _TITLE_SCALE * body:
        return _clean(worded[0].text)
    first = lines.index(next(line for line in worded if line.size >= largest - 0.5))
    title = itertools.takewhile(lambda line: line.size >= largest - 0.5, lines[first:])
    return _clean("\n".join(line.text for line in title))


def _clean(text: str) -> str:
    return normalize_text(dehyphenate(text)).replace("\n", " ")


def _document(info: dict[str, str], extraction: _Extraction) -> ParsedDocument:
    known = _known_words(raw for _, raw in extraction.pages)
    spans: list[PageSpan] = []
    texts: list[str] = []
    offset = 0
    for number, raw in extraction.pages:
        page_text = normalize_text(dehyphenate(raw, known))
        # Pages are joined by one blank line; each is already in normal form, so the joined
        # text is too and these offsets hold in the stored text.
        start = offset + 2 if texts else 0
        spans.append(PageSpan(number, start, start + len(page_text)))
        texts.append(page_text)
        offset = start + len(page_text)
    body, references = split_reference_list("\n\n".join(texts))
    title = info.get("Title", "")
    document = ParsedDocument(
        text=body,
        source_format=SourceFormat.PDF,
        title=title if _meaningful_title(title) else extraction.title,
        authors=_authors(info.get("Author", "")),
        doi=_doi(info, body),
        pages=[PageSpan(s.number, s.start, min(s.end, len(body))) for s in spans if s.start < len(body)],
        references=references,
    )
    if extraction.blank_pages:
        document.extra["pages_without_text"] = extraction.blank_pages
    return document


def _known_words(raw_pages: Iterable[str]) -> frozenset[str]:
    """Every word the document uses whole, so "follow-\\nup" keeps its hyphen and "metas-\\ntases" does not."""
    words: set[str] = set()
    for raw in raw_pages:
        words.update(word.lower() for word in _WORD.findall(_BROKEN_WORD.sub(" ", raw)))
    return frozenset(words)


def _meaningful_title(title: str) -> bool:
    """False for the placeholders and file names that authoring tools leave in /Title."""
    lowered = title.lower()
    if sum(character.isalpha() for character in title) < 3 or lowered in _PLACEHOLDER_TITLES:
        return False
    if lowered.startswith("microsoft word - ") or _FILE_NAME.search(title):
        return False
    return " " in title or "_" not in title


def _authors(value: str) -> list[str]:
    """Names from /Author: split on ";", or on "," and "and" when every piece is a full name.

    "Smith, John" stays one name, since its pieces are a surname and a given name; the
    placeholders authoring tools write ("anonymous", "Administrator") are no name at all.
    """
    if value.lower() in _PLACEHOLDER_AUTHORS:
        return []
    parts = value.split(";") if ";" in value else re.split(r",|&|\band\b", value)
    names = [part.strip() for part in parts if part.strip()]
    if ";" not in value and any(len(name.split()) < 2 for name in names):
        return [value.strip()] if value.strip() else []
    return names


def _doi(info: dict[str, str], body: str) -> str | None:
    """The article's DOI from its metadata, else the first one in its text (not its references)."""
    for candidate in (info.get("doi", ""), info.get("Subject", ""), body):
        match = _DOI.search(candidate)
        if match:
            doi = match.group().rstrip(".,;:")
            if doi.endswith(")") and doi.count(")") > doi.count("("):
                doi = doi[:-1]
            return doi
    return None
