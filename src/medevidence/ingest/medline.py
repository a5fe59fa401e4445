"""PubMed/MEDLINE XML (E-utilities ``efetch``, baseline files): one document per article, streamed.

The file is read with ``lxml.etree.iterparse`` and each article is cleared once read, so
memory stays flat however many articles a file holds. The parser is hardened against hostile
files: no DTD is loaded and nothing is fetched, so an XXE ``file://`` entity is never read;
entity references are left unexpanded and then dropped; a "billion laughs" chain trips
libxml2's amplification limit and the file is refused in milliseconds.

A document's text is its abstract, one line per ``AbstractText``; a labelled part reads
``"METHODS: ..."`` and is a :class:`Section`. An article without an abstract is stored with
its title as its text. Book chapters (``PubmedBookArticle``, e.g. StatPearls) are read too,
with the book's title as the journal.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from lxml import etree

from ..errors import BadRecord, EmptySource, UnreadableSource
from ..models import ParsedDocument, Section, SourceFormat
from .normalize import normalize_text

_ROOT_TAGS = frozenset({"PubmedArticleSet", "MedlineCitationSet"})
_RECORD_TAGS = ("PubmedArticle", "PubmedBookArticle", "MedlineCitation")
# Every option that could make the parser read, fetch or expand something beyond the file.
_HARDENED: dict[str, Any] = {
    "resolve_entities": False,
    "load_dtd": False,
    "no_network": True,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}
# Entity-expansion bombs and absurd depth or node sizes: refused whole, not read in part.
_SAFETY_LIMITS = frozenset({etree.ErrorTypes.ERR_ENTITY_LOOP, etree.ErrorTypes.ERR_RESOURCE_LIMIT})
_EXPORT_FIX = "fetch the records as PubMed XML (E-utilities efetch with db=pubmed&retmode=xml)"
_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)")
_PEEK_BYTES = 65536


def read_medline(path: Path) -> Iterator[ParsedDocument | BadRecord]:
    """One document per article; a bad article, or the point where broken XML stops the read, is a BadRecord."""
    source = str(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise UnreadableSource(
            source, f"the file could not be opened ({exc.strerror})", "check the path and permissions"
        ) from exc
    with handle:
        _check_root(handle, source)
        handle.seek(0)
        yield from _records(handle, source)


def _check_root(handle: IO[bytes], source: str) -> None:
    """Refuse a file that is not XML, or whose root is not a PubMed article set, before reading on.

    Only the start of the file is parsed here; a fault further on is reported by the streaming
    pass with the articles before it kept.
    """
    parser = etree.XMLPullParser(events=("start",), **_HARDENED)
    blank = True
    failure: etree.XMLSyntaxError | None = None
    root: str | None = None
    try:
        while root is None and (chunk := handle.read(_PEEK_BYTES)):
            blank = blank and not chunk.strip()
            parser.feed(chunk)
            root = _first_start(parser)
        if root is None:
            parser.close()
    except etree.XMLSyntaxError as exc:
        failure = exc
        # The root's start event survives an error later in the same chunk.
        root = root or _first_start(parser)
    if root is not None and root not in _ROOT_TAGS:
        raise UnreadableSource(source, f"the XML root is <{root}>, not <PubmedArticleSet>", _EXPORT_FIX)
    if root is not None:
        return
    if blank:
        raise EmptySource(source)
    problem = f"the file is not XML ({failure.msg})" if failure is not None else "the file holds no XML element"
    raise UnreadableSource(source, problem, _EXPORT_FIX) from failure


def _first_start(parser: etree.XMLPullParser) -> str | None:
    for _, element in parser.read_events():
        return etree.QName(element).text
    return None


def _records(handle: IO[bytes], source: str) -> Iterator[ParsedDocument | BadRecord]:
    count = 0
    try:
        for _, record in etree.iterparse(handle, events=("end",), tag=_RECORD_TAGS, **_HARDENED):
            parent = record.getparent()
            # A MedlineCitation inside a PubmedArticle is read with its article, not on its own.
            if parent is None or parent.getparent() is not None:
                continue
            count += 1
            location = f"article {count} (line {record.sourceline})"
            try:
                yield _document(record, source, location)
            except BadRecord as bad:
                yield bad
            # Drop the article and everything before it: memory stays flat over a large file.
            record.clear(keep_tail=False)
            while record.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as exc:
        if exc.code in _SAFETY_LIMITS:
            problem = "the XML exceeds a parser safety limit"
            fix = "PubMed exports never do; fetch the records from PubMed again"
        else:
            problem = "the XML is broken"
            fix = "download the file again, or repair the XML"
        if count == 0:
            raise UnreadableSource(source, f"{problem} at line {exc.lineno} ({exc.msg})", fix) from exc
        read = f"{count} article{'s' if count > 1 else ''} before it {'were' if count > 1 else 'was'} read"
        yield BadRecord(source, f"line {exc.lineno}", f"{problem} ({exc.msg}); the {read}", f"{fix} from that line on")
        return
    if count == 0:
        raise EmptySource(source)


def _document(record: etree._Element, source: str, location: str) -> ParsedDocument:
    # Unexpanded entity references are hostile or broken input; their names are not text.
    etree.strip_elements(record, etree.Entity, with_tail=False)
    if record.tag == "PubmedBookArticle":
        item = _child(record, "BookDocument")
        journal = _text(item.find("Book/BookTitle"))
        date = item.find("Book/PubDate")
        types = item.findall("PublicationType") + item.findall("PublicationTypeList/PublicationType")
        ids = record.findall("PubmedBookData/ArticleIdList/ArticleId") + item.findall("ArticleIdList/ArticleId")
        citation = item
    else:
        citation = record if record.tag == "MedlineCitation" else _child(record, "MedlineCitation")
        item = _child(citation, "Article")
        journal = (
            _text(item.find("Journal/Title"))
            or _text(item.find("Journal/ISOAbbreviation"))
            or _text(citation.find("MedlineJournalInfo/MedlineTA"))
        )
        date = item.find("Journal/JournalIssue/PubDate")
        types = item.findall("PublicationTypeList/PublicationType")
        ids = record.findall("PubmedData/ArticleIdList/ArticleId")
    pmid = _text(citation.find("PMID")) or None
    title = normalize_text(_text(item.find("ArticleTitle")) or _text(item.find("VernacularTitle")))
    if not title and record.tag == "PubmedBookArticle":
        title = journal
    if pmid is None and not title:
        raise BadRecord(
            source, location, "the article has no PMID and no ArticleTitle", "check that the record was exported whole"
        )
    text, sections = _abstract(item.find("Abstract"))
    if not text:
        if not title:
            raise BadRecord(source, location, f"PMID {pmid} has no title and no abstract", "fetch the record again")
        text = title
    document = ParsedDocument(
        text=text,
        source_format=SourceFormat.MEDLINE,
        title=title,
        authors=_authors(item.find("AuthorList")),
        year=_year(date, item),
        journal=journal or None,
        pmid=pmid,
        doi=_doi(item, ids),
        url=f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid else None,
        publication_types=_texts(types),
        mesh_terms=_texts(citation.findall("MeshHeadingList/MeshHeading/DescriptorName")),
        external_id=pmid,
        sections=sections,
        references=_texts(record.findall("PubmedData/ReferenceList/Reference/Citation")),
    )
    pmcid = _article_id(ids, "pmc")
    if pmcid:
        document.extra["pmcid"] = pmcid
    keywords = _texts(citation.findall("KeywordList/Keyword"))
    if keywords:
        document.extra["keywords"] = keywords
    return document


def _child(element: etree._Element, tag: str) -> etree._Element:
    """The child that holds a record's fields; an empty stand-in when it is missing, so fields read as absent."""
    found = element.find(tag)
    return found if found is not None else etree.Element(tag)


def _text(element: etree._Element | None) -> str:
    """All text inside an element, inline markup (<i>, <sup>, <b>) included, on one line.

    Only whitespace is tidied here, because this runs for every name and id; prose that
    becomes the document's text also goes through :func:`normalize_text`.
    """
    if element is None:
        return ""
    return " ".join("".join(element.itertext()).split())


def _texts(elements: list[etree._Element]) -> list[str]:
    return [text for text in (_text(element) for element in elements) if text]


def _abstract(abstract: etree._Element | None) -> tuple[str, list[Section]]:
    """One line per AbstractText, ``"LABEL: ..."`` when labelled, each labelled line a section."""
    if abstract is None:
        return "", []
    lines: list[str] = []
    sections: list[Section] = []
    position = 0
    for part in abstract.iterfind("AbstractText"):
        body = normalize_text(_text(part))
        if not body:
            continue
        label = _label(part)
        line = f"{label}: {body}" if label else body
        if label:
            sections.append(Section(label=label, start=position, end=position + len(line)))
        lines.append(line)
        position += len(line) + 1
    # Each line is already normalised, so this keeps every offset computed above.
    return normalize_text("\n".join(lines)), sections


def _label(part: etree._Element) -> str:
    label = normalize_text(" ".join((part.get("Label") or "").split()))
    if label:
        return label
    category = (part.get("NlmCategory") or "").strip()
    return "" if category.upper() == "UNASSIGNED" else category


def _authors(author_list: etree._Element | None) -> list[str]:
    if author_list is None:
        return []
    authors = []
    for author in author_list.iterfind("Author"):
        # ValidYN="N" marks a name PubMed has since corrected; the corrected one follows it.
        if author.get("ValidYN") == "N":
            continue
        parts = {child.tag: _text(child) for child in author}
        last = parts.get("LastName", "")
        initials = parts.get("Initials") or parts.get("ForeName", "")
        name = parts.get("CollectiveName") or " ".join(part for part in (last, initials) if part)
        if name:
            authors.append(name)
    return authors


def _year(date: etree._Element | None, item: etree._Element) -> int | None:
    """PubDate Year, else the first year in a MedlineDate ("1998 Dec-1999 Jan"), else ArticleDate."""
    candidates = []
    if date is not None:
        candidates += [_text(date.find("Year")), _text(date.find("MedlineDate"))]
    candidates.append(_text(item.find("ArticleDate/Year")))
    for candidate in candidates:
        match = _YEAR.search(candidate)
        if match:
            return int(match.group(0))
    return None


def _doi(item: etree._Element, ids: list[etree._Element]) -> str | None:
    for location in item.iterfind("ELocationID[@EIdType='doi']"):
        doi = _text(location)
        if doi and location.get("ValidYN") != "N":
            return doi
    return _article_id(ids, "doi")


def _article_id(ids: list[etree._Element], kind: str) -> str | None:
    for article_id in ids:
        if article_id.get("IdType") == kind:
            value = _text(article_id)
            if value:
                return value
    return None
