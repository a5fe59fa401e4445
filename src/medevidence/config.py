"""Settings as declared data: every setting has a name, a type, a default and a help line.

Values come from, in increasing priority: the defaults below, ``settings.toml`` inside the
library directory, environment variables ``MEDEVIDENCE_<NAME>``, and explicit overrides
(CLI options). Environment variables are read here and nowhere else. This module imports no
backend, so reading settings never loads a model or opens a database.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError

SETTINGS_FILE = "settings.toml"


@dataclass(frozen=True)
class Settings:
    max_file_mb: float = 100.0
    passage_min_words: int = 100
    passage_max_words: int = 250
    passage_overlap_sentences: int = 1
    store: str = "sqlite"
    embedder: str = "minilm-med"
    search_mode: str = "hybrid"
    title_weight: int = 2
    lexical_weight: float = 1.0
    dense_weight: float = 1.0
    search_candidates: int = 200
    expand_vocabulary: bool = False
    exact_search_limit: int = 500_000

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1_000_000)


HELP: dict[str, str] = {
    "max_file_mb": "Largest single-document file (text, Markdown, HTML, PDF) ingest reads, in MB. "
    "JSONL and MEDLINE XML are streamed record by record and have no file limit.",
    "passage_min_words": "A passage is closed once it reaches this many words at a sentence boundary.",
    "passage_max_words": "A passage never grows past this many words unless one sentence is longer.",
    "passage_overlap_sentences": "Sentences repeated at the start of the next passage, so a fact split "
    "across a boundary is still found whole.",
    "store": "Storage backend for documents and passages. Choices: sqlite.",
    "embedder": "Dense embedding model for hybrid search: minilm-med (default, shipped: all-MiniLM-L6-v2 fine-tuned "
    "for biomedical retrieval, about 50 passages/s per 2 CPU cores at ingest, and a passage longer than its 128 "
    "tokens gets a second vector for its tail), minilm-static-med (shipped, "
    "thousands of passages/s, but hybrid search with it ranks below BM25 alone), minilm-onnx (the published "
    "MiniLM; needs the 'minilm' extra), fake (tests), or none for lexical search only. Changing it needs "
    "`medevidence index rebuild`.",
    "search_mode": "hybrid (the default: BM25 + dense, fused by rank; with minilm-med it scored BioASQ 11b nDCG@10 "
    "0.795 against 0.737 for BM25 alone, Evidence Inference 0.901 against 0.895, bench/README.md), lexical "
    "(BM25 only, the fastest) or dense.",
    "title_weight": "How many times a document's title counts among each passage's terms for BM25.",
    "lexical_weight": "Weight of the BM25 ranking in reciprocal-rank fusion.",
    "dense_weight": "Weight of the dense ranking in reciprocal-rank fusion.",
    "search_candidates": "Passages each ranking contributes to fusion.",
    "expand_vocabulary": "Expand search queries with medical synonyms and abbreviations. Off by default: with the "
    "current weights it cost 0.016-0.020 nDCG@10 on every dev set of bench/retrieval.py. The composer uses the "
    "vocabulary to read a question's concepts either way.",
    "exact_search_limit": "Up to this many passages, dense search compares the query with every vector. Beyond "
    "it, segments made by merging (20,000 passages or more) are searched through their approximate index "
    "(inverted lists over int8 codes, 5% of the lists probed): at 1M passages hybrid p95 fell from 118 to "
    "59 ms and index RAM from 1.5 GB to 0.8 GB, keeping 0.885 of the exact dense top 10 (bench/README.md). "
    "The approximate index reads each passage's first vector only, not the tail vector of a long passage.",
}


def describe() -> list[tuple[str, str, Any]]:
    """``(name, help, default)`` for every setting, for docs and ``--help``."""
    defaults = Settings()
    return [(f.name, HELP[f.name], getattr(defaults, f.name)) for f in fields(Settings)]


def load_settings(
    library_dir: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Settings for a library, from its settings file, the environment and ``overrides``."""
    values: dict[str, Any] = {}
    if library_dir is not None:
        settings_path = library_dir / SETTINGS_FILE
        if settings_path.is_file():
            try:
                values.update(tomllib.loads(settings_path.read_text(encoding="utf-8")))
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"cannot read {settings_path}: {exc}; fix the TOML syntax") from exc
    environment = os.environ if environ is None else environ
    for field in fields(Settings):
        env_name = f"MEDEVIDENCE_{field.name.upper()}"
        if env_name in environment:
            values[field.name] = environment[env_name]
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return _validated(values)


def _validated(values: Mapping[str, Any]) -> Settings:
    known = {f.name: f for f in fields(Settings)}
    settings = Settings()
    for name, raw in values.items():
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"choose from {', '.join(sorted(known))}"
            raise ConfigError(f"unknown setting '{name}'; {hint}")
        kind = type(getattr(settings, name))
        try:
            value: Any = _parse_bool(raw) if kind is bool else kind(raw)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"setting '{name}' must be a {kind.__name__}, not {raw!r}") from exc
        settings = replace(settings, **{name: value})
    if settings.passage_min_words > settings.passage_max_words:
        raise ConfigError("passage_min_words must not exceed passage_max_words; lower the first or raise the second")
    if settings.max_file_mb <= 0:
        raise ConfigError("max_file_mb must be positive")
    if settings.exact_search_limit < 0:
        raise ConfigError("exact_search_limit must be 0 (always approximate past merges) or more passages")
    if settings.search_mode not in SEARCH_MODES:
        raise ConfigError(f"search_mode must be one of {', '.join(SEARCH_MODES)}, not {settings.search_mode!r}")
    return settings


SEARCH_MODES = ("hybrid", "lexical", "dense")


def _parse_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)
