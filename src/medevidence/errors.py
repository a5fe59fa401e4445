"""Every error medevidence raises on purpose. Each message names the problem, the input and the fix.

MedevidenceError
├── IngestError                 one source could not be read; nothing stored for it
│   ├── UnsupportedFormat       neither extension nor content matches a reader
│   ├── EmptySource             no text at all
│   ├── SourceTooLarge          over the configured size limit
│   ├── UnreadableSource        corrupt, truncated, encrypted, binary or scanned input
│   └── BadRecord               one line/record of a multi-record file (JSONL, MEDLINE)
├── StoreError                  the library database cannot be opened or written
│   └── DocumentNotFound        no document with that id
├── ConfigError                 an unknown setting or a value of the wrong type
└── QueryError                  a search query that cannot be used
"""

from __future__ import annotations


class MedevidenceError(Exception):
    """Base class: ``str(error)`` is a complete message for a person."""


class IngestError(MedevidenceError):
    def __init__(self, source: str, problem: str, fix: str) -> None:
        self.source = source
        self.problem = problem
        self.fix = fix
        super().__init__(f"cannot read {source}: {problem}; {fix}")


class UnsupportedFormat(IngestError):
    pass


class EmptySource(IngestError):
    def __init__(self, source: str) -> None:
        super().__init__(source, "the file contains no text", "check that it is the file you meant")


class SourceTooLarge(IngestError):
    def __init__(self, source: str, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(
            source,
            f"the file is {size / 1e6:.0f} MB, over the {limit / 1e6:.0f} MB limit",
            "split it into smaller files, or raise the limit with --max-file-mb (setting max_file_mb)",
        )


class UnreadableSource(IngestError):
    pass


class BadRecord(IngestError):
    """One record failed; the file's other records are still ingested."""

    def __init__(self, source: str, location: str, problem: str, fix: str) -> None:
        self.location = location
        super().__init__(f"{source} {location}", problem, fix)


class StoreError(MedevidenceError):
    pass


class DocumentNotFound(StoreError):
    def __init__(self, document_id: str) -> None:
        self.document_id = document_id
        super().__init__(
            f"no document {document_id!r} in this library; `medevidence library list` shows the stored ids"
        )


class AnswerNotFound(StoreError):
    def __init__(self, answer_id: str) -> None:
        self.answer_id = answer_id
        super().__init__(
            f"no answer {answer_id!r} in this library; answer ids are printed with each answer "
            '(`medevidence ask ... --format json` shows "id")'
        )


class ConfigError(MedevidenceError):
    pass


class QueryError(MedevidenceError):
    pass
