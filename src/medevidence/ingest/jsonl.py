"""JSONL: one document per line, fields as in CONTRACT.md. Read line by line in bounded memory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import BadRecord, EmptySource, UnreadableSource
from ..models import ParsedDocument, SourceFormat
from .normalize import labelled_sections, normalize_text

# One line longer than this is refused rather than parsed into memory.
MAX_LINE_BYTES = 20_000_000

_FIELDS = "id or pmid, title, abstract or text, and optional authors, year, journal, doi, url, publication_types"


def read_jsonl(path: Path) -> Iterator[ParsedDocument | BadRecord]:
    source = str(path)
    seen_any = False
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise UnreadableSource(
            source, f"the file could not be opened ({exc.strerror})", "check the path and permissions"
        ) from exc
    with handle:
        for number, raw in enumerate(_lines(handle), start=1):
            if not raw.strip():
                continue
            seen_any = True
            location = f"line {number}"
            if len(raw) > MAX_LINE_BYTES:
                yield BadRecord(
                    source,
                    location,
                    f"the line is {len(raw) / 1e6:.0f} MB long",
                    "split the document or shorten its text",
                )
                continue
            try:
                record = json.loads(raw)
            except UnicodeDecodeError:
                yield BadRecord(source, location, "the line is not valid UTF-8", "save the file as UTF-8")
                continue
            except json.JSONDecodeError as exc:
                yield BadRecord(
                    source, location, f"invalid JSON ({exc.msg} at column {exc.colno})", "fix or remove that line"
                )
                continue
            try:
                yield parse_record(record, source, location)
            except BadRecord as bad:
                yield bad
    if not seen_any:
        raise EmptySource(source)


def _lines(handle: Any) -> Iterator[bytes]:
    """Lines of a binary file without ever holding more than one over-long line's prefix."""
    while True:
        line = handle.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            # Skip the rest of the over-long line so the next record starts clean.
            while True:
                rest = handle.readline(1 << 20)
                if not rest or rest.endswith(b"\n"):
                    break
        yield line


def parse_record(record: Any, source: str, location: str) -> ParsedDocument:
    if not isinstance(record, dict):
        raise BadRecord(
            source,
            location,
            f"expected a JSON object, found {type(record).__name__}",
            f"give each line an object with {_FIELDS}",
        )
    body = record.get("abstract") or record.get("text") or ""
    title = record.get("title") or ""
    if not isinstance(body, str) or not isinstance(title, str):
        raise BadRecord(source, location, "'title', 'abstract' and 'text' must be strings", f"use {_FIELDS}")
    text = normalize_text(body)
    if not text and not title.strip():
        raise BadRecord(source, location, "the record has no 'abstract', 'text' or 'title'", f"give it {_FIELDS}")
    pmid = _identifier(record.get("pmid"))
    external_id = _identifier(record.get("id"))
    text = text or normalize_text(title)
    return ParsedDocument(
        text=text,
        sections=labelled_sections(text),
        source_format=SourceFormat.JSONL,
        title=normalize_text(title),
        authors=_string_list(record.get("authors"), source, location, "authors"),
        year=_year(record.get("year"), source, location),
        journal=_optional_string(record.get("journal")),
        pmid=pmid,
        doi=_optional_string(record.get("doi")),
        url=_optional_string(record.get("url")),
        publication_types=_string_list(record.get("publication_types"), source, location, "publication_types"),
        mesh_terms=_string_list(record.get("mesh_terms"), source, location, "mesh_terms"),
        external_id=external_id or pmid,
        extra={k: v for k, v in record.items() if k not in _KNOWN},
    )


_KNOWN = frozenset(
    {
        "id",
        "pmid",
        "title",
        "abstract",
        "text",
        "authors",
        "year",
        "journal",
        "doi",
        "url",
        "publication_types",
        "mesh_terms",
    }
)


def _identifier(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value).strip() or None


def _optional_string(value: Any) -> str | None:
    return str(value).strip() or None if value not in (None, "") else None


def _string_list(value: Any, source: str, location: str, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(";") if part.strip()]
    if isinstance(value, list) and all(isinstance(item, str | int) for item in value):
        return [str(item).strip() for item in value if str(item).strip()]
    raise BadRecord(source, location, f"'{name}' must be a list of strings", 'write it as ["...", "..."]')


def _year(value: Any, source: str, location: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        year = int(str(value).strip()[:4])
    except ValueError as exc:
        raise BadRecord(
            source, location, f"'year' is {value!r}, not a year", "write it as a number such as 2015"
        ) from exc
    return year
