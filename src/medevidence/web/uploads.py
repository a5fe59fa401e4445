"""Uploaded files into the library: sniff each one's content, keep it under a safe name, ingest it.

The content decides, not the name or the browser's Content-Type: a PDF named ``.txt`` is kept as
a PDF, and an image or archive is refused (415) whatever it is called. Text-based files keep the
extension they came with, because the library's readers tell JSONL, Markdown and plain text apart
by it (HTML and MEDLINE XML it recognises by content).

Uploads are kept in ``<library>/uploads/`` as ``<content digest>-<cleaned name>``: the stored
document names a file that still exists, the same file uploaded again is recognised as unchanged
without being read, and no uploaded name can point outside that folder. A file from which nothing
could be stored is deleted again.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

import anyio.to_thread

from .. import IngestOutcome, IngestReport, IngestStatus, Library, SourceFormat

UPLOAD_DIRECTORY = "uploads"
HEAD_BYTES = 8192
_CHUNK = 1 << 20

TEXT_EXTENSIONS: dict[str, SourceFormat] = {
    ".txt": SourceFormat.TEXT,
    ".text": SourceFormat.TEXT,
    ".md": SourceFormat.MARKDOWN,
    ".markdown": SourceFormat.MARKDOWN,
    ".html": SourceFormat.HTML,
    ".htm": SourceFormat.HTML,
    ".xhtml": SourceFormat.HTML,
    ".xml": SourceFormat.MEDLINE,
    ".jsonl": SourceFormat.JSONL,
    ".ndjson": SourceFormat.JSONL,
}
ACCEPTED_EXTENSIONS = (".pdf", *TEXT_EXTENSIONS)

# Formats people try to upload that no reader takes, named so the refusal says what the file is.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"PK\x03\x04", "a ZIP archive or an Office document (.docx, .xlsx, .pptx)"),
    (b"\xd0\xcf\x11\xe0", "an old-style Office document (.doc, .xls)"),
    (b"{\\rtf", "an RTF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"%!PS", "a PostScript file"),
    (b"\x7fELF", "a program"),
    (b"OggS", "an audio or video file"),
    (b"ID3", "an MP3 file"),
    (b"RIFF", "an audio, video or image file"),
)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_CONVERT = "convert it to PDF, plain text, Markdown, HTML, JSONL or PubMed/MEDLINE XML"


@dataclass(frozen=True)
class Sniffed:
    """What an upload's first bytes and name say it is: a format and extension, or why it is refused."""

    source_format: SourceFormat | None
    extension: str = ""
    problem: str = ""


def sniff(filename: str, head: bytes) -> Sniffed:
    body = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    extension = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    if body.startswith(b"%PDF-"):
        return Sniffed(SourceFormat.PDF, ".pdf")
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return Sniffed(None, problem=f"it is {kind}, which cannot be read as text; {_CONVERT}")
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return Sniffed(None, problem=f"it is a video or image file, which cannot be read as text; {_CONVERT}")
    if b"\x00" in head and not head.startswith(_UTF16_BOMS):
        return Sniffed(None, problem=f"it is binary data, not text; {_CONVERT}")
    if extension == ".pdf":
        return Sniffed(None, problem="it is named .pdf but its content is not a PDF; upload the PDF itself")
    if not extension:
        return Sniffed(SourceFormat.TEXT, ".txt")
    if extension in TEXT_EXTENSIONS:
        return Sniffed(TEXT_EXTENSIONS[extension], extension)
    return Sniffed(None, problem=f"'{extension}' files are not supported; {_CONVERT}")


def safe_name(filename: str, extension: str) -> str:
    """A file name that is only letters, digits, '.', '-' and '_', ending in ``extension``."""
    stem = PurePosixPath(filename.replace("\\", "/")).name
    stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    if stem.lower().endswith(extension):
        stem = stem[: -len(extension)]
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip(".-_")[:80]
    return (cleaned or "upload") + extension


@dataclass
class FileResult:
    """What happened to one uploaded file; ``documents`` has one entry per document or failed record."""

    filename: str
    source_format: SourceFormat | None
    status: str
    message: str
    documents: list[IngestOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status not in ("failed", "unsupported")

    def to_dict(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "format": self.source_format.value if self.source_format else None,
            "status": self.status,
            "message": self.message,
            "documents": [
                {"status": o.status.value, "key": o.key, "title": o.title, "message": o.message} for o in self.documents
            ],
        }


@dataclass
class UploadReport:
    files: list[FileResult]

    def count(self, status: IngestStatus) -> int:
        return sum(1 for f in self.files for o in f.documents if o.status is status)

    @property
    def status_code(self) -> int:
        """200 if anything went in; 415 if every file was of a refused type; else 422."""
        if any(f.ok for f in self.files):
            return 200
        return 415 if all(f.status == "unsupported" for f in self.files) else 422

    def to_dict(self) -> dict[str, Any]:
        unsupported = sum(1 for f in self.files if f.status == "unsupported")
        return {
            "ok": self.status_code == 200,
            "files": [f.to_dict() for f in self.files],
            "added": self.count(IngestStatus.ADDED),
            "updated": self.count(IngestStatus.UPDATED),
            "duplicates": self.count(IngestStatus.DUPLICATE),
            "unchanged": self.count(IngestStatus.UNCHANGED),
            "failed": self.count(IngestStatus.FAILED) + unsupported,
        }

    def summary(self) -> str:
        ok = sum(1 for f in self.files if f.ok)
        return f"{ok} of {len(self.files)} files could be ingested"


@dataclass
class SavedUpload:
    filename: str
    sniffed: Sniffed
    path: Path | None = None
    existed: bool = False
    same_as: str = ""  # another file of this upload with identical content


def _save(stream: IO[bytes], head: bytes, directory: Path, name: str) -> tuple[Path, bool]:
    """Write ``head`` and the rest of ``stream`` to ``directory``; returns the path and whether it was there."""
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(dir=directory, prefix=".incoming-", delete=False) as handle:
        try:
            digest.update(head)
            handle.write(head)
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
                handle.write(chunk)
        except BaseException:
            os.unlink(handle.name)
            raise
    path = directory / f"{digest.hexdigest()[:16]}-{name}"
    if path.exists():
        # The same bytes under the same name: keep the old file so its ingest record still matches.
        os.unlink(handle.name)
        return path, True
    os.replace(handle.name, path)
    return path, False


async def save_uploads(uploads: Sequence[tuple[str, IO[bytes]]], directory: Path) -> list[SavedUpload]:
    """Sniff and keep each ``(filename, stream)``; refused files are not written."""
    saved: list[SavedUpload] = []
    by_path: dict[Path, str] = {}
    for filename, stream in uploads:
        head = await anyio.to_thread.run_sync(stream.read, HEAD_BYTES)
        sniffed = sniff(filename, head)
        entry = SavedUpload(filename, sniffed)
        if sniffed.source_format is not None:
            path, existed = await anyio.to_thread.run_sync(
                _save, stream, head, directory, safe_name(filename, sniffed.extension)
            )
            entry.path, entry.existed = path, existed
            if path in by_path:
                entry.same_as = by_path[path]
            by_path.setdefault(path, filename)
        saved.append(entry)
    return saved


def ingest_saved(library: Library, saved: Sequence[SavedUpload]) -> UploadReport:
    """Ingest every kept file in one call and sort the outcomes back to the files they came from."""
    paths = list(dict.fromkeys(s.path for s in saved if s.path is not None and not s.same_as))
    report = library.ingest(paths) if paths else IngestReport()
    results = [_result(entry, report) for entry in saved]
    for entry, result in zip(saved, results, strict=True):
        if entry.path is not None and not entry.same_as and not entry.existed and not result.ok:
            entry.path.unlink(missing_ok=True)
    return UploadReport(results)


def _result(entry: SavedUpload, report: IngestReport) -> FileResult:
    if entry.path is None:
        return FileResult(entry.filename, None, "unsupported", f"cannot read {entry.filename}: {entry.sniffed.problem}")
    if entry.same_as:
        return FileResult(
            entry.filename, entry.sniffed.source_format, "duplicate", f"the same content as {entry.same_as}"
        )
    source = str(entry.path)
    outcomes = [
        _renamed(outcome, source, entry.filename)
        for outcome in report.outcomes
        if outcome.source == source or outcome.source.startswith(source + " ")
    ]
    failed = [o for o in outcomes if o.status is IngestStatus.FAILED]
    if not outcomes:
        return FileResult(entry.filename, entry.sniffed.source_format, "failed", "no documents were found in it")
    if len(failed) == len(outcomes):
        more = f" (and {len(failed) - 1} more failures)" if len(failed) > 1 else ""
        return FileResult(entry.filename, entry.sniffed.source_format, "failed", failed[0].message + more, outcomes)
    counts = {status: sum(1 for o in outcomes if o.status is status) for status in IngestStatus}
    status = next(s for s in IngestStatus if counts[s] and s is not IngestStatus.FAILED)
    message = ", ".join(f"{n} {_STATUS_WORDS[s]}" for s, n in counts.items() if n)
    return FileResult(entry.filename, entry.sniffed.source_format, status.value, message, outcomes)


_STATUS_WORDS = {
    IngestStatus.ADDED: "added",
    IngestStatus.UPDATED: "updated (new version)",
    IngestStatus.DUPLICATE: "already in the library",
    IngestStatus.UNCHANGED: "unchanged since it was last uploaded",
    IngestStatus.FAILED: "failed",
}


def _renamed(outcome: IngestOutcome, source: str, filename: str) -> IngestOutcome:
    """The outcome with the server's path of the kept file replaced by the name it was uploaded as."""
    return IngestOutcome(
        status=outcome.status,
        source=outcome.source.replace(source, filename),
        document_id=outcome.document_id,
        key=outcome.key,
        title=outcome.title,
        message=outcome.message.replace(source, filename),
    )
