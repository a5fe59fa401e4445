"""HTML pages: the main content as lines, headings as sections, ``citation_*`` tags as metadata.

Parsed with lxml's HTML parser (libxml2) rather than selectolax (lexbor), for three measured reasons:

- lexbor's tree builder is quadratic in nesting depth (100,000 nested ``<div>`` elements, a
  1 MB file, took 31 s), while libxml2 stops at a hard depth of 2,048 in linear time; such a
  page is refused with a clear message instead of stalling an ingest run;
- ``etree.iterwalk`` gives start *and* end events from C, with ``skip_subtree()`` to drop a
  block, so one pass turns the tree into lines without Python recursion;
- lxml is already the MEDLINE parser, so one C dependency serves both formats.

trafilatura was not used: it is built on lxml too, pulls in many dependencies, and rewrites
text in ways we could not map back to sections; the rules here are few and tested.

Hostile input is inert: scripts are parsed as elements and dropped, never run; the HTML
parser does not expand DTD entities or fetch anything (``no_network``); comments and
processing instructions are removed while parsing.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ..errors import EmptySource, UnreadableSource
from ..models import ParsedDocument, Section, SourceFormat
from .normalize import normalize_text, split_reference_list
from .text import decode_text

# Elements that never hold the article: page chrome, code, embedded content and form controls.
_DROPPED_TAGS = frozenset(
    {
        "nav", "footer", "aside", "script", "style", "noscript", "form", "iframe", "frame", "frameset",
        "template", "svg", "canvas", "object", "embed", "button", "select", "textarea", "dialog", "head",
    }
)  # fmt: skip
_JUNK_ROLES = frozenset(
    {"navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar", "dialog", "alertdialog"}
)
# Whole words of a class or id that mark page furniture. Whole words, because "ad" must not
# match "header" and "nav" must not match "canvas"; "social" and "consent" are left out on
# purpose because articles have sections named "social determinants" or "informed consent".
_JUNK_WORD = re.compile(
    r"ads?|adslot|advert\w*|banner|cookie\w*|gdpr|nav|navbar|navigation|menu\w*|breadcrumbs?|"
    r"share|sharing|sharebar|subscribe\w*|subscription|newsletter\w*|comments?|popup|modal|"
    r"sponsor\w*|promo\w*"
)
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORD_SEPARATOR = re.compile(r"[^a-z0-9]+")

_BLOCK_TAGS = frozenset(
    {
        "p", "div", "section", "article", "main", "header", "ul", "ol", "li", "dl", "dt", "dd", "table",
        "thead", "tbody", "tfoot", "tr", "caption", "blockquote", "pre", "figure", "figcaption", "address",
        "hr", "details", "summary", "center", "fieldset", "legend", "hgroup", "body", "html",
    }
)  # fmt: skip
_HEADING_LEVELS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_REFERENCES_HEADING = re.compile(
    r"(references|bibliography|works cited|literature cited|cited literature|references and notes)\s*:?",
    re.IGNORECASE,
)
_WHITESPACE = re.compile(r"\s+")

# Browsers decode these labels as Windows-1252 (WHATWG Encoding), so pages labelled Latin-1
# that use curly quotes still read right.
_WINDOWS_1252_LABELS = frozenset({"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii"})
_DECLARED_CHARSET = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([a-z0-9._:\-]+)|<\?xml[^>]*encoding\s*=\s*["']([a-z0-9._:\-]+)""",
    re.IGNORECASE,
)
_CHARSET_SCAN_BYTES = 4096
_INTERNAL_SUBSET = re.compile(r"\A\s*(?:<\?xml[^>]*>\s*)?<!DOCTYPE[^\[>]*\[[^\]]*\]\s*>", re.IGNORECASE)

_YEAR = re.compile(r"(?<!\d)(1[6-9]\d\d|2[01]\d\d)(?!\d)")
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_TITLE_LIMIT = 300


def read_html(path: Path) -> Iterator[ParsedDocument]:
    """One document: the page's main content, its sections, references and citation metadata."""
    source = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableSource(
            source, f"the file could not be read ({exc.strerror})", "check the path and permissions"
        ) from exc
    if not data.strip():
        raise EmptySource(source)
    markup, encoding = decode_html(data, source)
    root = _parse(markup, source)
    meta = _meta_values(root)
    page = _extract(_content_container(root), by_name=True)
    if not page.lines:
        # The container, or a wrapper whose class happens to read like a menu, held all the
        # text: read the whole page again, trusting only tags and roles.
        body = root.find("body")
        page = _extract(body if body is not None else root, by_name=False)
    text = normalize_text("\n".join(page.lines))
    if not text:
        raise EmptySource(source)
    references = page.references
    if not references:
        text, references = split_reference_list(text)
    sections = _sections(page, len(text))
    document = ParsedDocument(
        text=text,
        source_format=SourceFormat.HTML,
        title=_title(meta, root, sections, text),
        authors=_authors(meta),
        year=_year(meta),
        journal=_first(meta, "citation_journal_title", "prism.publicationname", "dc.relation.ispartof"),
        pmid=_pmid(meta),
        doi=_doi(meta),
        url=_url(meta, root),
        sections=sections,
        references=references,
    )
    if encoding != "utf-8":
        document.extra["encoding"] = encoding
    yield document


def decode_html(data: bytes, source: str) -> tuple[str, str]:
    """Decode an HTML file: a BOM wins, then UTF-8, then a declared charset, then Windows-1252.

    Returns ``(markup, encoding)``. Valid UTF-8 wins over a declared legacy charset: such a
    page was re-saved without its label being updated, since a real legacy page with non-ASCII
    text is almost never valid UTF-8 by accident.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return decode_text(data, source)
    declared = _declared_codec(data[:_CHARSET_SCAN_BYTES])
    try:
        markup = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        if declared is None or declared == "utf-8":
            # decode_text refuses binary content and otherwise guesses Windows-1252.
            return decode_text(data, source)
        return data.decode(declared, errors="replace"), declared
    if declared in (None, "utf-8") or markup.isascii():
        return markup, "utf-8"
    return markup, f"utf-8 (page declared {declared})"


def _declared_codec(head: bytes) -> str | None:
    """The codec named by a ``<meta>`` charset or XML declaration, or None if absent or unknown."""
    match = _DECLARED_CHARSET.search(head)
    if match is None:
        return None
    label = (match.group(1) or match.group(2)).decode("ascii").lower()
    if label in _WINDOWS_1252_LABELS:
        return "cp1252"
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    # A UTF-16 label found by an ASCII scan is wrong by definition (WHATWG treats it as UTF-8).
    return "utf-8" if name.startswith(("utf-16", "utf-32", "utf_16", "utf_32")) else name


def _parse(markup: str, source: str) -> etree._Element:
    # libxml2's HTML parser does not know DTD internal subsets and would show "]>" as text;
    # HTML never needs one, so a declared subset (an entity trick) is replaced unread.
    markup = _INTERNAL_SUBSET.sub("<!DOCTYPE html>", markup, count=1)
    # etree's HTML parser, not lxml.html's: the latter looks up a Python class for every
    # element it hands out, which costs more than the rest of the walk.
    parser = etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True, huge_tree=True)
    try:
        root = etree.fromstring(markup.encode("utf-8", errors="replace"), parser)
    except etree.LxmlError as exc:
        raise UnreadableSource(
            source, f"the HTML could not be parsed ({exc})", "open it in a browser and save it again"
        ) from exc
    limit = next((entry for entry in parser.error_log if entry.type_name == "ERR_RESOURCE_LIMIT"), None)
    if limit is not None:
        # libxml2 stops at the limit and keeps what came before; half a page is not stored.
        problem = (
            "the page nests elements more than 2,048 deep, so the parser stopped part-way"
            if "depth" in limit.message
            else f"the page exceeds a parser safety limit ({limit.message})"
        )
        raise UnreadableSource(
            source,
            problem,
            "save the article's text (for example from the browser's reader view) as HTML or plain text",
        )
    if root is None:
        raise EmptySource(source)
    return root


def _content_container(root: etree._Element) -> etree._Element:
    """``<main>`` or role=main, else the largest outermost ``<article>``, else ``<body>``."""
    for element in root.iter():
        if element.tag == "main" or element.get("role", "").strip().lower() == "main":
            return element
    outermost = [a for a in root.iter("article") if next(a.iterancestors("article"), None) is None]
    if outermost:
        return max(outermost, key=lambda article: len("".join(article.itertext())))
    body = root.find("body")
    return body if body is not None else root


@dataclass
class _Page:
    """Lines of the content, the heading lines among them, and a structured reference list."""

    lines: list[str] = field(default_factory=list)
    headings: list[tuple[int, str]] = field(default_factory=list)  # (line index, label)
    references: list[str] = field(default_factory=list)


class _Writer:
    """Turns walk events into normalised lines: blocks end a line, headings become sections.

    A "References" heading switches to collecting lines as reference entries until the next
    heading of the same or a higher rank.
    """

    def __init__(self, inside_article: bool) -> None:
        self.page = _Page()
        self._pieces: list[str] = []
        self._references_level: int | None = None
        self._article_depth = int(inside_article)
        self._pre_depth = 0
        self._heading_depth = 0
        self._lists: list[int | None] = []  # per open list: next number for <ol>, None for <ul>

    @property
    def inside_article(self) -> bool:
        return self._article_depth > 0

    def enter(self, element: etree._Element, tag: str) -> None:
        self._article_depth += tag in ("article", "main")
        self._pre_depth += tag == "pre"
        if tag in _HEADING_LEVELS:
            self._heading_depth += 1
            self._start_heading(_HEADING_LEVELS[tag])
        elif self._heading_depth:
            if tag == "br":
                self._pieces.append(" ")
        elif tag in _BLOCK_TAGS or tag == "br":
            self.end_line()
        if tag in ("ol", "ul"):
            self._lists.append(_list_start(element) if tag == "ol" else None)
        elif tag == "li" and not self._heading_depth and self._references_level is None:
            self._pieces.append(self._item_marker())
        elif tag in ("td", "th") and any(piece.strip() for piece in self._pieces):
            self._pieces.append(" | ")

    def leave(self, tag: str) -> None:
        self._article_depth -= tag in ("article", "main")
        self._pre_depth -= tag == "pre"
        if tag in ("ol", "ul") and self._lists:
            self._lists.pop()
        if tag in _HEADING_LEVELS:
            self._heading_depth -= 1
            self._end_heading(_HEADING_LEVELS[tag])
        elif tag in _BLOCK_TAGS and not self._heading_depth:
            self.end_line()

    def text(self, text: str | None) -> None:
        if not text:
            return
        if not self._pre_depth:
            self._pieces.append(_WHITESPACE.sub(" ", text))
            return
        first, *rest = text.split("\n")
        self._pieces.append(first)
        for line in rest:
            self.end_line()
            self._pieces.append(line)

    def end_line(self) -> str:
        """Finish the current line; returns it ('' when it held no text)."""
        raw = "".join(self._pieces)
        self._pieces.clear()
        if not raw or raw.isspace():
            return ""
        line = normalize_text(raw)
        if line:
            if self._references_level is None:
                self.page.lines.append(line)
            else:
                self.page.references.append(line)
        return line

    def _item_marker(self) -> str:
        if not self._lists or self._lists[-1] is None:
            return "- "
        number = self._lists[-1]
        self._lists[-1] = number + 1
        return f"{number}. "

    def _start_heading(self, level: int) -> None:
        self.end_line()
        if self._references_level is not None and level <= self._references_level:
            self._references_level = None

    def _end_heading(self, level: int) -> None:
        in_references = self._references_level is not None
        had_text = bool(self.page.lines)
        label = self.end_line()
        if not label or in_references:
            return
        # A "References" heading after some text opens the reference list; as the very first
        # line it is the page's own title (a bibliography page), so it stays text.
        if had_text and _REFERENCES_HEADING.fullmatch(label):
            self.page.lines.pop()
            self._references_level = level
        else:
            self.page.headings.append((len(self.page.lines) - 1, label))


def _extract(container: etree._Element, by_name: bool) -> _Page:
    """Walk the container once, dropping page furniture, writing blocks and list items as lines.

    ``by_name`` also drops blocks whose class or id names them as furniture ("cookie-banner").
    """
    # Inside a chosen <main>/<article>/role=main, a <header> belongs to the article.
    writer = _Writer(inside_article=container.tag not in ("body", "html"))
    keep = _ancestors_of_h1(container) if by_name else None
    walker = etree.iterwalk(container, events=("start", "end"))
    skipped: etree._Element | None = None
    for event, element in walker:
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            if element is not container and (not tag or _is_furniture(element, tag, writer.inside_article, keep)):
                skipped = element
                walker.skip_subtree()
            else:
                writer.enter(element, tag)
                writer.text(element.text)
            continue
        if element is skipped:
            skipped = None
        else:
            writer.leave(tag)
        if element is not container:
            writer.text(element.tail)
    writer.end_line()
    return writer.page


def _list_start(element: etree._Element) -> int:
    start = element.get("start", "1").strip()
    return int(start) if start.isdigit() else 1


def _ancestors_of_h1(container: etree._Element) -> set[etree._Element]:
    """Elements that enclose an ``<h1>``: a page wrapper whose class says "menu-open" is not a menu."""
    enclosing: set[etree._Element] = set()
    for heading in container.iter("h1"):
        for ancestor in heading.iterancestors():
            if ancestor in enclosing:
                break
            enclosing.add(ancestor)
    return enclosing


def _is_furniture(element: etree._Element, tag: str, inside_article: bool, keep: set[etree._Element] | None) -> bool:
    """Whether to drop a block; ``keep`` is None to judge by tag and role alone."""
    if tag in _DROPPED_TAGS:
        return True
    # An article's own <header> holds its title and byline; the page's <header> is the site banner.
    if tag == "header" and not inside_article:
        return True
    if element.get("hidden") is not None or element.get("aria-hidden", "").strip().lower() == "true":
        return True
    if element.get("role", "").strip().lower() in _JUNK_ROLES:
        return True
    names = f"{element.get('class', '')} {element.get('id', '')}"
    if keep is None or names == " " or element in keep:
        return False
    words = _WORD_SEPARATOR.split(_CAMEL_BOUNDARY.sub(" ", names).lower())
    return any(_JUNK_WORD.fullmatch(word) for word in words if word)


def _sections(page: _Page, text_length: int) -> list[Section]:
    """A section runs from its heading line to the line before the next heading."""
    starts: list[tuple[int, str]] = []
    offsets = _line_offsets(page.lines)
    for line_index, label in page.headings:
        if offsets[line_index] < text_length:
            starts.append((offsets[line_index], label))
    sections = []
    for index, (start, label) in enumerate(starts):
        end = starts[index + 1][0] - 1 if index + 1 < len(starts) else text_length
        sections.append(Section(label=label, start=start, end=end))
    return sections


def _line_offsets(lines: list[str]) -> list[int]:
    offsets = []
    position = 0
    for line in lines:
        offsets.append(position)
        position += len(line) + 1
    return offsets


def _meta_values(root: etree._Element) -> dict[str, list[str]]:
    """``<meta name|property=... content=...>`` values by lower-cased name, in page order."""
    values: dict[str, list[str]] = {}
    for meta in root.iter("meta"):
        name = (meta.get("name") or meta.get("property") or "").strip().lower()
        content = " ".join((meta.get("content") or "").split())
        if name and content:
            values.setdefault(name, []).append(content)
    return values


def _first(meta: dict[str, list[str]], *names: str) -> str | None:
    for name in names:
        if meta.get(name):
            return meta[name][0]
    return None


def _title(meta: dict[str, list[str]], root: etree._Element, sections: list[Section], text: str) -> str:
    title = _first(meta, "citation_title", "dc.title", "dcterms.title", "og:title")
    if title is None:
        element = root.find(".//title")
        title = " ".join("".join(element.itertext()).split()) if element is not None else ""
    title = normalize_text(title) or (sections[0].label if sections else text.split("\n", 1)[0])
    return title if len(title) <= _TITLE_LIMIT else title[: _TITLE_LIMIT - 1].rstrip() + "\u2026"


def _authors(meta: dict[str, list[str]]) -> list[str]:
    if meta.get("citation_author"):
        return meta["citation_author"]
    if meta.get("citation_authors"):
        return [name.strip() for name in meta["citation_authors"][0].split(";") if name.strip()]
    return meta.get("dc.creator") or meta.get("dcterms.creator") or []


def _year(meta: dict[str, list[str]]) -> int | None:
    names = (
        "citation_publication_date", "citation_date", "citation_year", "citation_online_date",
        "dc.date", "dcterms.issued", "dcterms.date", "article:published_time",
    )  # fmt: skip
    for name in names:
        for value in meta.get(name, []):
            match = _YEAR.search(value)
            if match:
                return int(match.group(1))
    return None


def _doi(meta: dict[str, list[str]]) -> str | None:
    for value in meta.get("citation_doi", []) + meta.get("prism.doi", []) + meta.get("dc.identifier", []):
        match = _DOI.search(value)
        if match:
            return match.group(0).rstrip(".,;")
    return None


def _pmid(meta: dict[str, list[str]]) -> str | None:
    value = _first(meta, "citation_pmid")
    return value if value is not None and value.isdigit() else None


def _url(meta: dict[str, list[str]], root: etree._Element) -> str | None:
    candidates = meta.get("citation_public_url", []) + meta.get("og:url", [])
    candidates += [link.get("href", "") for link in root.iter("link") if link.get("rel", "").lower() == "canonical"]
    # Only web addresses: the URL is shown as a link, and a "javascript:" one would run in a reader's browser.
    for candidate in candidates:
        url = candidate.strip()
        if url.lower().startswith(("https://", "http://")):
            return url
    return None
