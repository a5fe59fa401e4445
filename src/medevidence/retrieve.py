"""Hybrid retrieval: BM25 over analysed terms, dense cosine over passage vectors, fused by rank.

A query is expanded with medical synonyms and abbreviations (``vocabulary.py``) for the lexical
side only; the dense side embeds the question as written. Each side keeps its ``candidates`` best
passages and weighted reciprocal-rank fusion merges them:
``score = w_lexical / (60 + rank_lexical) + w_dense / (60 + rank_dense)``. Filters become a
boolean mask over passages before ranking, so a narrow filter never empties the result list.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .errors import QueryError
from .index import SearchIndex
from .models import EvidenceLevel, SearchHit, StudyDesign
from .store import SQLiteStore
from .tokens import analyze
from .vocabulary import Concept

if TYPE_CHECKING:
    from .embed import Embedder
    from .vocabulary import Vocabulary

RRF_K = 60
INDEX_DIRECTORY = "index"
# Passages embedded and indexed per new segment: what a batch holds in memory at ingest.
INDEX_BATCH = 5_000


class SearchMode(StrEnum):
    HYBRID = "hybrid"
    LEXICAL = "lexical"
    DENSE = "dense"


@dataclass(frozen=True)
class SearchFilters:
    """Restrict a search to documents with these properties; ``None`` means any."""

    designs: frozenset[StudyDesign] | None = None
    levels: frozenset[EvidenceLevel] | None = None
    year_from: int | None = None
    year_to: int | None = None
    publication_types: frozenset[str] | None = None
    document_ids: frozenset[int] | None = None

    def conditions(self) -> list[tuple[str, Sequence[Any]]]:
        """SQL conditions over the ``documents`` table, one per filter that is set."""
        conditions: list[tuple[str, Sequence[Any]]] = []
        if self.designs is not None:
            conditions.append((_in_list("study_design", len(self.designs)), [d.value for d in self.designs]))
        if self.levels is not None:
            conditions.append((_in_list("evidence_level", len(self.levels)), [lv.value for lv in self.levels]))
        if self.year_from is not None:
            conditions.append(("year >= ?", [self.year_from]))
        if self.year_to is not None:
            conditions.append(("year <= ?", [self.year_to]))
        if self.publication_types is not None:
            wanted = sorted(t.lower() for t in self.publication_types)
            conditions.append(
                (
                    f"EXISTS (SELECT 1 FROM json_each(publication_types) WHERE lower(value) IN "
                    f"({','.join('?' * len(wanted))}))",
                    wanted,
                )
            )
        if self.document_ids is not None:
            conditions.append((_in_list("id", len(self.document_ids)), sorted(self.document_ids)))
        return conditions

    @property
    def is_empty(self) -> bool:
        return not self.conditions()


def _in_list(column: str, count: int) -> str:
    return f"{column} IN ({','.join('?' * count)})" if count else "0"


@dataclass
class RetrievalSettings:
    mode: SearchMode = SearchMode.HYBRID
    title_weight: int = 2
    lexical_weight: float = 1.0
    dense_weight: float = 1.0
    candidates: int = 200
    expand_vocabulary: bool = True
    exact_search_limit: int = 500_000
    extra: dict[str, Any] = field(default_factory=dict)


class Retriever:
    """Search over one library's current passages; the index is loaded once and kept up to date."""

    def __init__(
        self,
        store: SQLiteStore,
        settings: RetrievalSettings,
        embedder: Embedder | None,
        vocabulary: Vocabulary | None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.embedder = embedder
        self.vocabulary = vocabulary
        self.directory = store.directory / INDEX_DIRECTORY
        self.index = SearchIndex(
            self.directory, settings.title_weight, embedder.name if embedder else None, settings.exact_search_limit
        )
        self.index.mark_dead(store.superseded_passage_ids())
        self._writing = False

    @contextmanager
    def writing(self, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """Hold the index lock across a whole ingest, storing included.

        Other processes' searches then answer from the index as it is rather than embedding, inside
        a request, the passages this process is still storing; ``refresh`` inside it needs no lock.
        ``on_wait`` is called if another process holds the lock, before waiting for it.
        """
        with self._lock(on_wait=on_wait):
            self._writing = True
            try:
                yield
            finally:
                self._writing = False

    def refresh(self, wait: bool = True) -> int:
        """Index every passage stored since the last refresh; returns how many were added.

        With ``wait=False``, when another process is indexing this library, read what it has
        indexed so far instead of waiting for it (a search must not hang for a long ingest).
        """
        added = 0
        with nullcontext(True) if self._writing else self._lock(wait) as locked:
            self.index.reload()
            if not locked:
                return 0
            self.index.check_model()
            embed, overflows = None, None
            if self.embedder is not None:
                from .embed import WindowedEmbedder
                from .embed import embed as embed_texts

                embedder = self.embedder

                def embed(texts: list[str]) -> npt.NDArray[np.float32]:
                    return embed_texts(embedder, texts)

                if isinstance(embedder, WindowedEmbedder):
                    overflows = embedder.overflows

            for rows in self.store.passage_rows_after(self.index.manifest.last_passage_id, batch_size=INDEX_BATCH):
                self.index.append(rows, embed, overflows)
                added += len(rows)
            self.index.mark_dead(self.store.superseded_passage_ids())
        return added

    @contextmanager
    def _lock(self, wait: bool = True, on_wait: Callable[[], None] | None = None) -> Iterator[bool]:
        """One process at a time updates the index files; yields False if busy and not ``wait``."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with (self.directory / ".lock").open("w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not wait:
                    yield False
                    return
                if on_wait is not None:
                    on_wait()
                fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def rebuild(self) -> int:
        """Drop the index and build it again from the store (after changing the embedder or analyzer)."""
        with self._lock():
            self.index.reset()
        return self.refresh()

    def concepts(self, query: str) -> list[Concept]:
        """The query's concepts with their spellings; one concept per word without a vocabulary."""
        if self.vocabulary is not None:
            return self.vocabulary.concepts(query)
        return [Concept(word, {word: 1.0}) for word in query.split() if analyze(word)]

    def query_terms(self, query: str, expand: bool | None = None) -> dict[str, float]:
        """Analysed query terms with weights: 1 for the question's own words, less for expansions.

        ``expand`` overrides the ``expand_vocabulary`` setting for this query.
        """
        variants = [(query, 1.0)]
        wanted = self.settings.expand_vocabulary if expand is None else expand
        if wanted and self.vocabulary is not None:
            variants = self.vocabulary.expand(query)
        weights: dict[str, float] = {}
        for text, weight in variants:
            for term in analyze(text):
                weights[term] = max(weights.get(term, 0.0), weight)
        return weights

    def search(
        self,
        query: str,
        k: int = 10,
        filters: SearchFilters | None = None,
        mode: SearchMode | None = None,
        expand: bool | None = None,
    ) -> list[SearchHit]:
        mode = mode or self.settings.mode
        if mode is not SearchMode.LEXICAL and self.embedder is None:
            if mode is SearchMode.DENSE:
                raise QueryError("dense search needs an embedder; set embedder in settings.toml (see docs/settings.md)")
            mode = SearchMode.LEXICAL
        self.index.check_model()
        masks = self._masks(filters)
        depth = max(k, self.settings.candidates)
        rankings: list[tuple[float, list[tuple[int, float]]]] = []
        if mode in (SearchMode.LEXICAL, SearchMode.HYBRID):
            terms = self.query_terms(query, expand)
            if terms:
                rankings.append((self.settings.lexical_weight, _top(self.index, self.index.bm25(terms), masks, depth)))
        if mode in (SearchMode.DENSE, SearchMode.HYBRID) and self.embedder is not None:
            vector = self.embedder.embed_batch([query])[0]
            if np.any(vector):
                rankings.append((self.settings.dense_weight, _top(self.index, self.index.cosine(vector), masks, depth)))
        if not rankings:
            return []
        if len(rankings) == 1:
            return self.store.hits(rankings[0][1][:k])
        return self.store.hits(_fuse(rankings)[:k])

    def _masks(self, filters: SearchFilters | None) -> list[npt.NDArray[np.bool_]]:
        masks = [alive.copy() for alive in self.index.alive]
        if filters is None or filters.is_empty:
            return masks
        allowed = np.asarray(self.store.document_ids_where(filters.conditions()), dtype=np.int64)
        for segment, mask in zip(self.index.segments, masks, strict=True):
            mask &= np.isin(segment.document_ids, allowed)
        return masks


def _top(
    index: SearchIndex, scores: list[npt.NDArray[np.float32]], masks: list[npt.NDArray[np.bool_]], depth: int
) -> list[tuple[int, float]]:
    """The ``depth`` best (passage id, score) pairs over all segments, best first; zero scores dropped."""
    candidates: list[tuple[int, float]] = []
    for segment, segment_scores, mask in zip(index.segments, scores, masks, strict=True):
        usable = np.where(mask & (segment_scores != 0), segment_scores, -np.inf)
        count = min(depth, int(np.isfinite(usable).sum()))
        if count == 0:
            continue
        best = np.argpartition(-usable, count - 1)[:count]
        candidates.extend(zip(segment.passage_ids[best].tolist(), usable[best].tolist(), strict=True))
    candidates.sort(key=lambda pair: (-pair[1], pair[0]))
    return candidates[:depth]


def _fuse(rankings: list[tuple[float, list[tuple[int, float]]]]) -> list[tuple[int, float]]:
    fused: dict[int, float] = {}
    for weight, ranking in rankings:
        for rank, (passage_id, _) in enumerate(ranking, start=1):
            fused[passage_id] = fused.get(passage_id, 0.0) + weight / (RRF_K + rank)
    return sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))
