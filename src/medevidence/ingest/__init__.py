"""Turn files into :class:`~medevidence.models.ParsedDocument` records, one reader per format.

A reader is a function ``read(path) -> Iterable[ParsedDocument | BadRecord]``. Single-document
formats (text, Markdown, HTML, PDF) raise an :class:`~medevidence.errors.IngestError` when the
file cannot be read; multi-record formats (JSONL, MEDLINE XML) *yield* a
:class:`~medevidence.errors.BadRecord` for a bad record and carry on with the rest.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ..errors import BadRecord, SourceTooLarge, UnreadableSource, UnsupportedFormat
from ..models import ParsedDocument, SourceFormat
from .html import read_html
from .jsonl import read_jsonl
from .medline import read_medline
from .pdf import read_pdf
from .text import read_markdown, read_text

Reader = Callable[[Path], Iterable[ParsedDocument | BadRecord]]

READERS: dict[SourceFormat, Reader] = {
    SourceFormat.TEXT: read_text,
    SourceFormat.MARKDOWN: read_markdown,
    SourceFormat.HTML: read_html,
    SourceFormat.PDF: read_pdf,
    SourceFormat.MEDLINE: read_medline,
    SourceFormat.JSONL: read_jsonl,
}

# Formats read record by record: the whole-file size limit does not apply to them.
STREAMED_FORMATS = frozenset({SourceFormat.JSONL, SourceFormat.MEDLINE})

EXTENSIONS: dict[str, SourceFormat] = {
    ".txt": SourceFormat.TEXT,
    ".text": SourceFormat.TEXT,
    ".md": SourceFormat.MARKDOWN,
    ".markdown": SourceFormat.MARKDOWN,
    ".html": SourceFormat.HTML,
    ".htm": SourceFormat.HTML,
    ".xhtml": SourceFormat.HTML,
    ".pdf": SourceFormat.PDF,
    ".xml": SourceFormat.MEDLINE,
    ".jsonl": SourceFormat.JSONL,
    ".ndjson": SourceFormat.JSONL,
}


def sniff_format(path: Path, head: bytes) -> SourceFormat:
    """The format of a file from its first bytes, falling back to its extension.

    Content wins over the name, so a PDF saved as ``.txt`` is read as a PDF and a MEDLINE
    export saved as ``.txt`` is read as MEDLINE.
    """
    body = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    lowered = body[:2048].lower()
    if body.startswith(b"%PDF-"):
        return SourceFormat.PDF
    if any(
        marker in lowered for marker in (b"<pubmedarticleset", b"<!doctype pubmedarticleset", b"<medlinecitationset")
    ):
        return SourceFormat.MEDLINE
    if lowered.startswith((b"<!doctype html", b"<html")) or (lowered.startswith(b"<") and b"<body" in head.lower()):
        return SourceFormat.HTML
    extension = path.suffix.lower()
    if extension in EXTENSIONS:
        return EXTENSIONS[extension]
    if not extension:
        return SourceFormat.TEXT
    choices = ", ".join(sorted(EXTENSIONS))
    raise UnsupportedFormat(
        str(path),
        f"'{extension}' is not a supported format",
        f"convert it to one of {choices}, or PubMed/MEDLINE XML",
    )


def is_candidate(path: Path) -> bool:
    """Whether a file met while walking a directory is one to ingest (hidden files are not)."""
    return not path.name.startswith(".") and path.suffix.lower() in EXTENSIONS


def iter_source_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Each file named, and each supported file under each directory named, in a stable order."""
    for path in paths:
        if path.is_dir():
            for root, directories, files in os.walk(path):
                directories[:] = sorted(d for d in directories if not d.startswith("."))
                for name in sorted(files):
                    candidate = Path(root) / name
                    if is_candidate(candidate):
                        yield candidate
        else:
            yield path


def read_source(path: Path, max_bytes: int) -> tuple[SourceFormat, Iterable[ParsedDocument | BadRecord]]:
    """Sniff ``path`` and return its format with the reader's records.

    Raises :class:`IngestError` for a file that cannot be read at all.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(8192)
    except FileNotFoundError as exc:
        raise UnreadableSource(str(path), "the file does not exist", "check the path") from exc
    except IsADirectoryError as exc:
        raise UnreadableSource(str(path), "it is a directory", "name the files inside it") from exc
    except PermissionError as exc:
        raise UnreadableSource(str(path), "permission denied", "make the file readable by this user") from exc
    source_format = sniff_format(path, head)
    if source_format not in STREAMED_FORMATS and size > max_bytes:
        raise SourceTooLarge(str(path), size, max_bytes)
    return source_format, READERS[source_format](path)
