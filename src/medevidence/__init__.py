"""medevidence: graded, span-cited clinical evidence answers from a literature library you control."""

from .errors import (
    BadRecord,
    ConfigError,
    DocumentNotFound,
    EmptySource,
    IngestError,
    MedevidenceError,
    QueryError,
    SourceTooLarge,
    StoreError,
    UnreadableSource,
    UnsupportedFormat,
)
from .library import IngestProgress, Library
from .models import (
    Classification,
    Document,
    EvidenceLevel,
    IngestOutcome,
    IngestReport,
    IngestStatus,
    ParsedDocument,
    Passage,
    SearchHit,
    SourceFormat,
    StudyDesign,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "BadRecord",
    "Classification",
    "ConfigError",
    "Document",
    "DocumentNotFound",
    "EmptySource",
    "EvidenceLevel",
    "IngestError",
    "IngestOutcome",
    "IngestProgress",
    "IngestReport",
    "IngestStatus",
    "Library",
    "MedevidenceError",
    "ParsedDocument",
    "Passage",
    "QueryError",
    "SearchHit",
    "SourceFormat",
    "SourceTooLarge",
    "StoreError",
    "StudyDesign",
    "UnreadableSource",
    "UnsupportedFormat",
    "__version__",
]
