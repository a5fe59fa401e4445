"""Documents as the API and the library pages show them: filters, listings and their dictionaries.

Filter values are parsed here once for both, with "choose from" lists built from the enums so
they cannot go stale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, TypeVar

from .. import Document, EvidenceLevel, Library, Passage, SearchHit, SourceFormat, StudyDesign
from ..retrieve import SearchFilters
from .errors import invalid

# Design filters use the enum names the CLI takes (--design rct), not the long labels.
DESIGN_CHOICES: dict[str, StudyDesign] = {design.name.lower(): design for design in StudyDesign}
LEVEL_CHOICES: dict[str, EvidenceLevel] = {level.value: level for level in EvidenceLevel}
FORMAT_CHOICES: dict[str, SourceFormat] = {source_format.value: source_format for source_format in SourceFormat}
YEAR_RANGE = (1000, 3000)
E = TypeVar("E")
# Documents read per step while a filtered listing walks the library.
_SCAN_BATCH = 500


def _chosen(name: str, values: Sequence[str], choices: dict[str, E]) -> frozenset[E] | None:
    wanted = [value.strip() for value in values if value.strip()]
    for value in wanted:
        if value not in choices:
            raise invalid(name, "query", f"{name} {value!r} is not one of: {', '.join(choices)}")
    return frozenset(choices[value] for value in wanted) or None


def parse_year(name: str, raw: str | None) -> int | None:
    """A year from a form field: blank is no filter; anything else must be a plausible year."""
    text = (raw or "").strip()
    if not text:
        return None
    if not text.isdigit() or not YEAR_RANGE[0] <= int(text) <= YEAR_RANGE[1]:
        raise invalid(name, "query", f"{name} must be a year such as 2015, not {text!r}")
    return int(text)


@dataclass(frozen=True)
class DocumentFilters:
    designs: frozenset[StudyDesign] | None = None
    levels: frozenset[EvidenceLevel] | None = None
    formats: frozenset[SourceFormat] | None = None
    year_from: int | None = None
    year_to: int | None = None

    @classmethod
    def parse(
        cls,
        designs: Sequence[str] = (),
        levels: Sequence[str] = (),
        formats: Sequence[str] = (),
        year_from: int | None = None,
        year_to: int | None = None,
    ) -> DocumentFilters:
        if year_from is not None and year_to is not None and year_from > year_to:
            raise invalid("year_from", "query", f"year_from ({year_from}) is after year_to ({year_to}); swap them")
        return cls(
            designs=_chosen("design", designs, DESIGN_CHOICES),
            levels=_chosen("level", levels, LEVEL_CHOICES),
            formats=_chosen("format", formats, FORMAT_CHOICES),
            year_from=year_from,
            year_to=year_to,
        )

    @property
    def is_empty(self) -> bool:
        return self == DocumentFilters()

    def for_search(self) -> SearchFilters:
        """The filters search applies itself; formats are applied to its results."""
        return SearchFilters(designs=self.designs, levels=self.levels, year_from=self.year_from, year_to=self.year_to)

    def matches(self, document: Document) -> bool:
        year = document.year
        return (
            (self.designs is None or document.study_design in self.designs)
            and (self.levels is None or document.evidence_level in self.levels)
            and (self.formats is None or document.source_format in self.formats)
            and (self.year_from is None or (year is not None and year >= self.year_from))
            and (self.year_to is None or (year is not None and year <= self.year_to))
        )


def list_documents(library: Library, filters: DocumentFilters, limit: int, offset: int) -> tuple[list[Document], bool]:
    """One page of current documents matching ``filters``, oldest first, and whether more follow."""
    if filters.is_empty:
        page = library.documents(limit=limit + 1, offset=offset)
        return page[:limit], len(page) > limit
    # Library.documents() takes no filters, so a filtered page walks the library in batches.
    found: list[Document] = []
    to_skip, position = offset, 0
    while batch := library.documents(limit=_SCAN_BATCH, offset=position):
        position += len(batch)
        for document in batch:
            if not filters.matches(document):
                continue
            if to_skip:
                to_skip -= 1
                continue
            found.append(document)
            if len(found) > limit:
                return found[:limit], True
    return found, False


def search_documents(
    library: Library, query: str, filters: DocumentFilters, k: int
) -> list[tuple[Document, SearchHit]]:
    """Documents whose passages match ``query``, each with its best passage, best first."""
    best: dict[int, SearchHit] = {}
    for hit in library.search(query, k=k, filters=filters.for_search()):
        best.setdefault(hit.document_id, hit)
    results = [(library.document(hit.doc_id), hit) for hit in best.values()]
    return [(document, hit) for document, hit in results if filters.matches(document)]


def document_summary(document: Document) -> dict[str, Any]:
    return {
        "id": document.key,
        "stored_id": document.id,
        "version": document.version,
        "title": document.title,
        "authors": list(document.authors),
        "year": document.year,
        "journal": document.journal,
        "pmid": document.pmid,
        "doi": document.doi,
        "url": document.url,
        "format": document.source_format.value,
        "publication_types": list(document.publication_types),
        "study_design": document.study_design.value,
        "evidence_level": document.evidence_level.value,
        "design_reason": document.design_reason,
        "ingested_at": document.ingested_at,
        "characters": len(document.text),
    }


def document_detail(document: Document, passages: Sequence[Passage]) -> dict[str, Any]:
    return {
        **document_summary(document),
        "text": document.text,
        "mesh_terms": list(document.mesh_terms),
        # The file name only: where the server keeps files is not the reader's business.
        "source_file": PurePath(document.source_path).name if document.source_path else None,
        "references": len(document.references),
        "passages": [
            {
                "passage_id": passage.id,
                "ordinal": passage.ordinal,
                "start": passage.start,
                "end": passage.end,
                "section": passage.section,
                "page": passage.page,
                "text": passage.text,
            }
            for passage in passages
        ],
    }
