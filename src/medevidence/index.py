"""The search index on disk: immutable segments of passages, each with BM25 postings and vectors.

Ingest appends a small segment holding only the passages added since the last update, so the
index grows incrementally with no full rebuild; small segments are merged into one once there
are more than ``MAX_SEGMENTS``. Passages of superseded document versions are masked out at load
time and dropped at the next merge. Everything is plain files (JSON + ``.npy``, never pickle)
under ``<library>/index/``, with a manifest naming the analyzer and the embedder that built
them, so a model change is detected instead of silently mixing vectors.

Scoring is BM25 (Lucene's idf, k1 = 1.2, b = 0.75) with global statistics summed over
segments, computed with numpy over a compressed sparse column layout: for each query term,
one slice of postings and one vectorised update of the score array.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .errors import StoreError
from .models import PassageRow
from .tokens import ANALYZER_VERSION, analyze

INDEX_FORMAT_VERSION = 1
MAX_SEGMENTS = 8
MERGE_LIMIT = 100_000  # passages merged at once: bounds the memory a merge needs, whatever the corpus size
K1 = 1.2
B = 0.75

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]


class ModelMismatch(StoreError):
    """The library's vectors were built by another embedder than the one configured."""

    def __init__(self, built_with: str, configured: str, library: Path) -> None:
        super().__init__(
            f"the vectors in {library} were built with the embedder '{built_with}', but '{configured}' is "
            f"configured; re-embed with `medevidence --library {library} index rebuild`, or set "
            f'embedder = "{built_with}" in {library}/settings.toml'
        )


@dataclass
class Segment:
    name: str
    passage_ids: IntArray
    document_ids: IntArray
    lengths: FloatArray
    vocabulary: dict[str, int]
    indptr: IntArray
    postings: npt.NDArray[np.int32]
    frequencies: npt.NDArray[np.uint16]
    vectors: npt.NDArray[np.float32] | None  # float16 on disk

    def __len__(self) -> int:
        return len(self.passage_ids)

    def document_frequency(self, term: str) -> int:
        term_id = self.vocabulary.get(term)
        return 0 if term_id is None else int(self.indptr[term_id + 1] - self.indptr[term_id])


def build_segment(
    name: str,
    rows: Sequence[PassageRow],
    title_weight: int,
    vectors: npt.NDArray[np.float32] | None,
) -> Segment:
    """Postings for ``rows``: titles count ``title_weight`` times, so a title match ranks higher."""
    vocabulary: dict[str, int] = {}
    lengths = np.zeros(len(rows), dtype=np.float32)
    chunks: list[tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.int32]]] = []
    term_ids: list[int] = []
    row_numbers: list[int] = []
    counts: list[int] = []
    for number, row in enumerate(rows):
        terms = analyze(row.text) + analyze(row.title) * title_weight
        lengths[number] = len(terms)
        for term, count in Counter(terms).items():
            term_ids.append(vocabulary.setdefault(term, len(vocabulary)))
            row_numbers.append(number)
            counts.append(count)
        if len(term_ids) > 500_000:
            # Python int lists cost ~30 bytes an entry; flush to int32 arrays to keep memory flat.
            chunks.append(_arrays(term_ids, row_numbers, counts))
            term_ids, row_numbers, counts = [], [], []
    chunks.append(_arrays(term_ids, row_numbers, counts))
    term_array = np.concatenate([c[0] for c in chunks])
    order = np.argsort(term_array, kind="stable")
    indptr = np.zeros(len(vocabulary) + 1, dtype=np.int64)
    np.cumsum(np.bincount(term_array, minlength=len(vocabulary)), out=indptr[1:])
    return Segment(
        name=name,
        passage_ids=np.asarray([r.passage_id for r in rows], dtype=np.int64),
        document_ids=np.asarray([r.document_id for r in rows], dtype=np.int64),
        lengths=lengths,
        vocabulary=vocabulary,
        indptr=indptr,
        postings=np.concatenate([c[1] for c in chunks])[order],
        frequencies=np.minimum(np.concatenate([c[2] for c in chunks])[order], 65535).astype(np.uint16),
        vectors=vectors,
    )


def _arrays(
    term_ids: list[int], row_numbers: list[int], counts: list[int]
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    return (
        np.asarray(term_ids, dtype=np.int32),
        np.asarray(row_numbers, dtype=np.int32),
        np.asarray(counts, dtype=np.int32),
    )


def merge_segments(name: str, segments: Sequence[Segment], alive: Sequence[npt.NDArray[np.bool_]]) -> Segment:
    """One segment holding the live passages of ``segments``, postings re-laid without re-analysing text."""
    vocabulary: dict[str, int] = {}
    term_parts, row_parts, frequency_parts = [], [], []
    offset = 0
    new_row_of = []
    for segment, keep in zip(segments, alive, strict=True):
        new_rows = np.full(len(segment), -1, dtype=np.int64)
        new_rows[keep] = np.arange(offset, offset + int(keep.sum()))
        offset += int(keep.sum())
        new_row_of.append(new_rows)
        global_ids = np.asarray(
            [vocabulary.setdefault(term, len(vocabulary)) for term in segment.vocabulary], dtype=np.int64
        )
        term_of_posting = np.repeat(global_ids, np.diff(segment.indptr))
        rows = new_rows[segment.postings]
        live = rows >= 0
        term_parts.append(term_of_posting[live])
        row_parts.append(rows[live])
        frequency_parts.append(segment.frequencies[live])
    terms = np.concatenate(term_parts) if term_parts else np.zeros(0, dtype=np.int64)
    order = np.lexsort((np.concatenate(row_parts), terms)) if len(terms) else np.zeros(0, dtype=np.int64)
    indptr = np.zeros(len(vocabulary) + 1, dtype=np.int64)
    np.cumsum(np.bincount(terms, minlength=len(vocabulary)), out=indptr[1:])
    has_vectors = all(s.vectors is not None for s in segments)
    return Segment(
        name=name,
        passage_ids=np.concatenate([s.passage_ids[k] for s, k in zip(segments, alive, strict=True)]),
        document_ids=np.concatenate([s.document_ids[k] for s, k in zip(segments, alive, strict=True)]),
        lengths=np.concatenate([s.lengths[k] for s, k in zip(segments, alive, strict=True)]),
        vocabulary=vocabulary,
        indptr=indptr,
        postings=np.concatenate(row_parts)[order].astype(np.int32),
        frequencies=np.concatenate(frequency_parts)[order],
        vectors=np.concatenate([s.vectors[k] for s, k in zip(segments, alive, strict=True)])  # type: ignore[index]
        if has_vectors
        else None,
    )


_ARRAYS = ("passage_ids", "document_ids", "lengths", "indptr", "postings", "frequencies")


def save_segment(segment: Segment, directory: Path) -> None:
    """Write to a temporary folder, then rename: a crash never leaves half a segment."""
    temporary = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    for field in _ARRAYS:
        np.save(temporary / f"{field}.npy", getattr(segment, field), allow_pickle=False)
    if segment.vectors is not None:
        np.save(temporary / "vectors.npy", segment.vectors.astype(np.float16), allow_pickle=False)
    terms = sorted(segment.vocabulary, key=segment.vocabulary.__getitem__)
    (temporary / "vocabulary.json").write_text(json.dumps(terms, ensure_ascii=False), encoding="utf-8")
    temporary.rename(directory)


def load_segment(directory: Path) -> Segment:
    arrays: dict[str, Any] = {field: np.load(directory / f"{field}.npy", allow_pickle=False) for field in _ARRAYS}
    vectors_path = directory / "vectors.npy"
    terms = json.loads((directory / "vocabulary.json").read_text(encoding="utf-8"))
    return Segment(
        name=directory.name,
        vocabulary={term: number for number, term in enumerate(terms)},
        # float16 on disk, float32 in memory: numpy has no fast float16 product, and casting on every
        # query cost 8x the product itself (bench/retrieval.py).
        vectors=np.load(vectors_path, allow_pickle=False).astype(np.float32) if vectors_path.exists() else None,
        **arrays,
    )


@dataclass
class Manifest:
    segments: list[tuple[str, int]]  # (folder name, passages) in the order they were written
    last_passage_id: int
    analyzer_version: int
    title_weight: int
    embedder: str | None
    format_version: int = INDEX_FORMAT_VERSION

    @classmethod
    def read(cls, path: Path) -> Manifest | None:
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        data["segments"] = [(name, count) for name, count in data["segments"]]
        return cls(**data)

    def write(self, path: Path) -> None:
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.__dict__, indent=2), encoding="utf-8")
        temporary.replace(path)


class SearchIndex:
    """All segments of one library, updated in place.

    Segments are read from disk on the first search, not when ingest appends to the index, so
    ingesting a large corpus keeps memory flat: appending writes one segment, and merging only
    combines small segments (up to ``MERGE_LIMIT`` passages together).
    """

    def __init__(self, directory: Path, title_weight: int, embedder_name: str | None) -> None:
        self.directory = directory
        self.manifest_path = directory / "manifest.json"
        self.title_weight = title_weight
        self.embedder_name = embedder_name
        manifest = Manifest.read(self.manifest_path)
        if manifest is not None and (
            manifest.analyzer_version != ANALYZER_VERSION
            or manifest.format_version != INDEX_FORMAT_VERSION
            or manifest.title_weight != title_weight
        ):
            # Built by another analyzer or layout: start over; the next refresh re-indexes the store.
            for name, _ in manifest.segments:
                shutil.rmtree(directory / name, ignore_errors=True)
            manifest = None
        self.manifest = manifest or Manifest([], 0, ANALYZER_VERSION, title_weight, embedder_name)
        self._segments: list[Segment] | None = None
        self._alive: list[npt.NDArray[np.bool_]] = []
        self._dead = np.zeros(0, dtype=np.int64)
        self.passage_count = 0
        self.average_length = 1.0

    @property
    def segments(self) -> list[Segment]:
        if self._segments is None:
            self._segments = [load_segment(self.directory / name) for name, _ in self.manifest.segments]
            self._alive = [self.alive_mask(s) for s in self._segments]
            self._refresh_statistics()
        return self._segments

    @property
    def alive(self) -> list[npt.NDArray[np.bool_]]:
        self.segments  # noqa: B018 - loading fills the masks
        return self._alive

    def alive_mask(self, segment: Segment) -> npt.NDArray[np.bool_]:
        return ~np.isin(segment.passage_ids, self._dead) if len(self._dead) else np.ones(len(segment), dtype=bool)

    def check_model(self) -> None:
        """Refuse to mix vectors: the configured embedder must be the one that built the index."""
        if self.manifest.segments and self.embedder_name is not None and self.manifest.embedder != self.embedder_name:
            raise ModelMismatch(
                self.manifest.embedder or "none (lexical only)", self.embedder_name, self.directory.parent
            )

    def reset(self) -> None:
        for name, _ in self.manifest.segments:
            shutil.rmtree(self.directory / name, ignore_errors=True)
        self.manifest = Manifest([], 0, ANALYZER_VERSION, self.title_weight, self.embedder_name)
        self.manifest.write(self.manifest_path)
        self._segments, self._alive = [], []
        self._refresh_statistics()

    def __len__(self) -> int:
        return int(sum(int(a.sum()) for a in self.alive))

    def mark_dead(self, passage_ids: Iterable[int]) -> None:
        """Passages of superseded versions: never returned, dropped at the next merge."""
        self._dead = np.fromiter(passage_ids, dtype=np.int64)
        if self._segments is not None:
            self._alive = [self.alive_mask(s) for s in self._segments]
            self._refresh_statistics()

    def append(self, rows: Sequence[PassageRow], embed: Callable[[list[str]], FloatArray] | None) -> None:
        """Add ``rows`` (passages newer than any indexed) as a new segment, merging small ones if many."""
        if not rows:
            return
        vectors = embed([_dense_text(r) for r in rows]) if embed is not None else None
        name = f"segment-{rows[-1].passage_id:012d}"
        segment = build_segment(name, rows, self.title_weight, vectors)
        self.directory.mkdir(parents=True, exist_ok=True)
        save_segment(segment, self.directory / name)
        if self._segments is not None:
            self._segments.append(segment)
            self._alive.append(self.alive_mask(segment))
        self.manifest.segments.append((name, len(segment)))
        self.manifest.last_passage_id = rows[-1].passage_id
        self.manifest.embedder = self.embedder_name if embed is not None else None
        if len(self.manifest.segments) > MAX_SEGMENTS:
            self._merge_small()
        self.manifest.write(self.manifest_path)
        if self._segments is not None:
            self._refresh_statistics()

    def _merge_small(self) -> None:
        """Merge the smallest segments whose passages together stay under ``MERGE_LIMIT``."""
        by_size = sorted(self.manifest.segments, key=lambda entry: entry[1])
        chosen: list[str] = []
        total = 0
        for name, count in by_size:
            if total + count > MERGE_LIMIT and len(chosen) >= 2:
                break
            chosen.append(name)
            total += count
        if len(chosen) < 2:
            return
        loaded = {s.name: (s, a) for s, a in zip(self._segments or [], self._alive, strict=True)}
        parts = [loaded.get(name) or _with_mask(load_segment(self.directory / name), self) for name in chosen]
        merged_name = f"merged-{self.manifest.last_passage_id:012d}-{len(self.manifest.segments)}"
        merged = merge_segments(merged_name, [p[0] for p in parts], [p[1] for p in parts])
        save_segment(merged, self.directory / merged_name)
        keep = [(n, c) for n, c in self.manifest.segments if n not in chosen]
        self.manifest.segments = [*keep, (merged_name, len(merged))]
        self.manifest.write(self.manifest_path)
        if self._segments is not None:
            kept = [(s, a) for s, a in zip(self._segments, self._alive, strict=True) if s.name not in chosen]
            self._segments = [s for s, _ in kept] + [merged]
            self._alive = [a for _, a in kept] + [self.alive_mask(merged)]
        for name in chosen:
            shutil.rmtree(self.directory / name, ignore_errors=True)

    def _refresh_statistics(self) -> None:
        live_lengths = [s.lengths[a] for s, a in zip(self._segments or [], self._alive, strict=True)]
        total = sum(len(x) for x in live_lengths)
        self.passage_count = total
        self.average_length = float(sum(float(x.sum()) for x in live_lengths) / total) if total else 1.0

    # -- scoring ----------------------------------------------------------------------------

    def idf(self, term: str) -> float:
        """Lucene's BM25 idf of ``term`` over the whole index (0 for a term no passage has)."""
        frequency = sum(s.document_frequency(term) for s in self.segments)
        if frequency == 0:
            return 0.0
        n = max(self.passage_count, 1)
        return float(np.log1p((n - frequency + 0.5) / (frequency + 0.5)))

    def bm25(self, weighted_terms: dict[str, float]) -> list[FloatArray]:
        """BM25 score of every passage of every segment (zero where no term matches)."""
        scores = [np.zeros(len(s), dtype=np.float32) for s in self.segments]
        for term, weight in weighted_terms.items():
            idf = self.idf(term)
            if idf == 0.0:
                continue
            for segment, segment_scores in zip(self.segments, scores, strict=True):
                term_id = segment.vocabulary.get(term)
                if term_id is None:
                    continue
                lo, hi = segment.indptr[term_id], segment.indptr[term_id + 1]
                rows = segment.postings[lo:hi]
                tf = segment.frequencies[lo:hi].astype(np.float32)
                norm = K1 * (1.0 - B + B * segment.lengths[rows] / self.average_length)
                # Rows are unique within one term's postings, so fancy-index += is exact.
                segment_scores[rows] += np.float32(weight * idf) * tf * (K1 + 1.0) / (tf + norm)
        return scores

    def cosine(self, query: FloatArray) -> list[FloatArray]:
        """Dot product of the (unit) query with every passage vector; zeros where a segment has none."""
        results = []
        for segment in self.segments:
            if segment.vectors is None:
                results.append(np.zeros(len(segment), dtype=np.float32))
                continue
            results.append(segment.vectors @ query)
        return results


def _with_mask(segment: Segment, index: SearchIndex) -> tuple[Segment, npt.NDArray[np.bool_]]:
    return segment, index.alive_mask(segment)


def _dense_text(row: PassageRow) -> str:
    return f"{row.title}. {row.text}" if row.title else row.text
