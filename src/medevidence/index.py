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
import mmap
import shutil
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from .errors import StoreError
from .models import PassageRow
from .tokens import ANALYZER_VERSION, analyze

INDEX_FORMAT_VERSION = 1
MAX_SEGMENTS = 8
MERGE_LIMIT = 100_000  # passages in a segment made by merging; larger ones are left as they are
MERGE_CHUNK = 1_000_000  # postings re-laid at once during a merge: what bounds its memory
VECTOR_CHUNK = 8_192  # vectors copied at once during a merge
APPROXIMATE_MIN_PASSAGES = 20_000  # a merged segment this large also gets inverted lists for approximate search
PROBE_FRACTION = 0.05  # share of the inverted lists a query reads
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
    vectors: npt.NDArray[Any] | None  # float16 on disk and when memory-mapped, float32 in memory
    approximate: InvertedLists | None = None  # searched instead of ``vectors`` past the exact-search limit
    # Passages longer than the embedder reads have a second vector for their tail; a passage
    # scores the better of its two. tail_rows[i] is the segment row of tails[i].
    tails: npt.NDArray[Any] | None = None
    tail_rows: IntArray | None = None

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
    tails: npt.NDArray[np.float32] | None = None,
    tail_rows: IntArray | None = None,
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
        tails=tails,
        tail_rows=tail_rows,
    )


def _arrays(
    term_ids: list[int], row_numbers: list[int], counts: list[int]
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    return (
        np.asarray(term_ids, dtype=np.int32),
        np.asarray(row_numbers, dtype=np.int32),
        np.asarray(counts, dtype=np.int32),
    )


def write_merged_segment(directory: Path, segments: Sequence[Segment], alive: Sequence[npt.NDArray[np.bool_]]) -> None:
    """Write the live passages of ``segments`` as one segment at ``directory``, without re-analysing text.

    Postings are re-laid ``MERGE_CHUNK`` at a time and streamed to disk, and vectors are copied a
    segment at a time, so with memory-mapped sources (``load_segment(..., mmap=True)``) a merge
    holds a bounded amount in memory however many passages it combines. Within a term, postings
    keep segment order and row order, exactly as indexing the live rows in one go would.
    """
    temporary = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    vocabulary: dict[str, int] = {}
    global_ids = [
        np.fromiter((vocabulary.setdefault(t, len(vocabulary)) for t in s.vocabulary), np.int64, len(s.vocabulary))
        for s in segments
    ]
    new_rows, offset = [], 0
    for segment, keep in zip(segments, alive, strict=True):
        rows = np.full(len(segment), -1, dtype=np.int64)
        rows[keep] = np.arange(offset, offset + int(keep.sum()))
        offset += int(keep.sum())
        new_rows.append(rows)
    totals = np.zeros(len(vocabulary), dtype=np.int64)
    for segment, keep, ids in zip(segments, alive, global_ids, strict=True):
        totals[ids] += _live_counts(segment, keep)  # a segment's global ids are distinct
    indptr = np.zeros(len(vocabulary) + 1, dtype=np.int64)
    np.cumsum(totals, out=indptr[1:])
    del totals
    by_global = [(np.sort(ids), np.argsort(ids)) for ids in global_ids]
    with (
        _NpyWriter(temporary / "postings.npy", np.int32, (int(indptr[-1]),)) as postings,
        _NpyWriter(temporary / "frequencies.npy", np.uint16, (int(indptr[-1]),)) as frequencies,
    ):
        for first, last in _chunks(indptr, MERGE_CHUNK):
            parts = [
                _gather(segment, rows, ids, sorted_ids, order, first, last)
                for segment, rows, ids, (sorted_ids, order) in zip(
                    segments, new_rows, global_ids, by_global, strict=True
                )
            ]
            terms = np.concatenate([part[0] for part in parts])
            order = np.argsort(terms, kind="stable")
            postings.write(np.concatenate([part[1] for part in parts])[order].astype(np.int32))
            frequencies.write(np.concatenate([part[2] for part in parts])[order])
            for segment in segments:
                _release(segment.postings, segment.frequencies)
    if segments and all(s.vectors is not None for s in segments):
        dimension = segments[0].vectors.shape[1]  # type: ignore[union-attr]
        with _NpyWriter(temporary / "vectors.npy", np.float16, (offset, dimension)) as vectors:
            for segment, keep in zip(segments, alive, strict=True):
                _write_kept_rows(vectors, segment.vectors, keep)  # type: ignore[arg-type]
        _write_merged_tails(temporary, segments, alive, new_rows, dimension)
    for field in ("passage_ids", "document_ids", "lengths"):
        live = [np.asarray(getattr(s, field))[k] for s, k in zip(segments, alive, strict=True)]
        np.save(temporary / f"{field}.npy", np.concatenate(live), allow_pickle=False)
    np.save(temporary / "indptr.npy", indptr, allow_pickle=False)
    (temporary / "vocabulary.json").write_text(json.dumps(list(vocabulary), ensure_ascii=False), encoding="utf-8")
    if (temporary / "vectors.npy").exists() and offset >= APPROXIMATE_MIN_PASSAGES:
        merged_vectors = np.load(temporary / "vectors.npy", mmap_mode="r")
        InvertedLists.build(merged_vectors).save(temporary)
        _release(merged_vectors)
        del merged_vectors
    temporary.rename(directory)


def _write_merged_tails(
    directory: Path,
    segments: Sequence[Segment],
    alive: Sequence[npt.NDArray[np.bool_]],
    new_rows: Sequence[IntArray],
    dimension: int,
) -> None:
    """The tail vectors of the live passages, with their rows renumbered as in the merged segment."""
    kept = [
        keep[segment.tail_rows] if segment.tail_rows is not None else np.zeros(0, dtype=bool)
        for segment, keep in zip(segments, alive, strict=True)
    ]
    total = sum(int(k.sum()) for k in kept)
    if total == 0:
        return
    rows = []
    with _NpyWriter(directory / "tails.npy", np.float16, (total, dimension)) as tails:
        for segment, keep_tail, renumber in zip(segments, kept, new_rows, strict=True):
            if segment.tails is None or segment.tail_rows is None or not keep_tail.any():
                continue
            rows.append(renumber[segment.tail_rows[keep_tail]])
            _write_kept_rows(tails, segment.tails, keep_tail)
    np.save(directory / "tail_rows.npy", np.concatenate(rows).astype(np.int64), allow_pickle=False)


def _write_kept_rows(writer: _NpyWriter, array: npt.NDArray[Any], keep: npt.NDArray[np.bool_]) -> None:
    """The rows of ``array`` (memory-mapped) that ``keep`` marks, a chunk at a time, as float16."""
    for start in range(0, len(keep), VECTOR_CHUNK):
        block = array[start : start + VECTOR_CHUNK]
        writer.write(np.asarray(block[keep[start : start + VECTOR_CHUNK]], dtype=np.float16))
    _release(array)


def _live_counts(segment: Segment, keep: npt.NDArray[np.bool_]) -> IntArray:
    """Live postings of each of ``segment``'s terms."""
    counts = np.diff(segment.indptr)
    if keep.all():
        return counts
    live = np.zeros(len(counts), dtype=np.int64)
    for first, last in _chunks(segment.indptr, MERGE_CHUNK):
        rows = segment.postings[segment.indptr[first] : segment.indptr[last]]
        terms = np.repeat(np.arange(first, last), counts[first:last])
        live[first:last] = np.bincount(terms[keep[rows]] - first, minlength=last - first)
    return live


def _release(*arrays: npt.NDArray[Any] | None) -> None:
    """Let the kernel drop the pages of memory-mapped ``arrays`` read so far.

    Pages of a mapped file stay resident (and counted in the process's memory) until unmapped;
    a merge reads every page of its sources once, so without this its memory would grow with
    the size of what it merges. Re-reading a dropped page comes from the page cache.
    """
    for array in arrays:
        mapped = getattr(array, "_mmap", None)
        if isinstance(mapped, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):
            mapped.madvise(mmap.MADV_DONTNEED)


def _chunks(indptr: IntArray, size: int) -> Iterator[tuple[int, int]]:
    """Consecutive term ranges ``[first, last)`` holding about ``size`` postings each."""
    terms = len(indptr) - 1
    first = 0
    while first < terms:
        last = int(np.searchsorted(indptr, indptr[first] + size, side="right")) - 1
        last = min(max(last, first + 1), terms)
        yield first, last
        first = last


def _gather(
    segment: Segment,
    new_rows: IntArray,
    global_ids: IntArray,
    sorted_ids: IntArray,
    order: IntArray,
    first: int,
    last: int,
) -> tuple[IntArray, IntArray, npt.NDArray[np.uint16]]:
    """``segment``'s live postings of the global terms ``[first, last)``: (global term, new row, frequency)."""
    local = order[np.searchsorted(sorted_ids, first) : np.searchsorted(sorted_ids, last)]
    starts = segment.indptr[local]
    lengths = segment.indptr[local + 1] - starts
    total = int(lengths.sum())
    # Concatenated aranges of each term's postings, without a Python loop.
    index = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
    rows = new_rows[segment.postings[index]]
    live = rows >= 0
    terms = np.repeat(global_ids[local], lengths)
    return terms[live], rows[live], np.asarray(segment.frequencies[index][live])


class _NpyWriter:
    """An ``.npy`` file of known shape written in pieces, so a large array never sits in memory."""

    def __init__(self, path: Path, dtype: type[np.generic], shape: tuple[int, ...]) -> None:
        self.path = path
        self.dtype = np.dtype(dtype)
        self.shape = shape
        self.written = 0

    def __enter__(self) -> _NpyWriter:
        self.file = self.path.open("wb")
        header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False, "shape": self.shape}
        np.lib.format.write_array_header_1_0(self.file, header)
        return self

    def write(self, array: npt.NDArray[Any]) -> None:
        self.file.write(np.ascontiguousarray(array, dtype=self.dtype).tobytes())
        self.written += len(array)

    def __exit__(self, *exc: object) -> None:
        self.file.close()
        if exc[0] is None and self.written != self.shape[0]:
            raise StoreError(f"index merge wrote {self.written} of {self.shape[0]} rows to {self.path}")


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
    if segment.tails is not None and segment.tail_rows is not None and len(segment.tail_rows):
        np.save(temporary / "tails.npy", segment.tails.astype(np.float16), allow_pickle=False)
        np.save(temporary / "tail_rows.npy", segment.tail_rows.astype(np.int64), allow_pickle=False)
    terms = sorted(segment.vocabulary, key=segment.vocabulary.__getitem__)
    (temporary / "vocabulary.json").write_text(json.dumps(terms, ensure_ascii=False), encoding="utf-8")
    # A folder of this name is one a run wrote but was stopped before listing in the manifest;
    # the run that resumes indexes the same passages again.
    shutil.rmtree(directory, ignore_errors=True)
    temporary.rename(directory)


def load_segment(directory: Path, mmap: bool = False, approximate: bool = False) -> Segment:
    """A segment read into memory for search, or memory-mapped (vectors kept float16) for a merge.

    With ``approximate``, a segment that has inverted lists loads them instead of its vectors.
    """
    mode: Literal["r"] | None = "r" if mmap else None
    arrays: dict[str, Any] = {
        field: np.load(directory / f"{field}.npy", mmap_mode=mode, allow_pickle=False) for field in _ARRAYS
    }
    lists = InvertedLists.load(directory) if approximate and InvertedLists.exists(directory) else None
    vectors_path = directory / "vectors.npy"
    vectors = None
    if vectors_path.exists() and lists is None:
        vectors = np.load(vectors_path, mmap_mode=mode, allow_pickle=False)
        # float16 on disk, float32 in memory: numpy has no fast float16 product, and casting on every
        # query cost 8x the product itself (bench/retrieval.py).
        vectors = vectors if mmap else vectors.astype(np.float32)
    tails, tail_rows = None, None
    # Approximate search reads each passage's first vector only.
    if vectors is not None and (directory / "tails.npy").exists():
        tails = np.load(directory / "tails.npy", mmap_mode=mode, allow_pickle=False)
        tails = tails if mmap else tails.astype(np.float32)
        tail_rows = np.load(directory / "tail_rows.npy", allow_pickle=False)
    terms = json.loads((directory / "vocabulary.json").read_text(encoding="utf-8"))
    return Segment(
        name=directory.name,
        vocabulary={term: number for number, term in enumerate(terms)},
        vectors=vectors,
        approximate=lists,
        tails=tails,
        tail_rows=tail_rows,
        **arrays,
    )


@dataclass
class InvertedLists:
    """Approximate dense search for one segment: spherical k-means lists over int8 vector codes.

    ``2 * sqrt(n)`` lists; a query reads the ``PROBE_FRACTION`` of lists whose centroids are
    nearest and scores their passages exactly (int8 codes times the per-dimension scale); every
    other passage scores 0, which ranking already treats as no match. Codes are stored in list
    order, so a list is one contiguous slice.
    """

    centroids: FloatArray  # (lists, dimension), unit length
    offsets: IntArray  # list i holds rows order[offsets[i]:offsets[i + 1]]
    order: IntArray  # segment row of each code
    codes: npt.NDArray[np.int8]  # (rows, dimension), in list order
    scale: FloatArray  # (dimension,): a code times its scale is the vector

    _FILES = ("centroids", "offsets", "order", "codes", "scale")

    @classmethod
    def build(cls, vectors: npt.NDArray[Any], seed: int = 0, rounds: int = 6) -> InvertedLists:
        """Lists for ``vectors`` (float16 or float32, memory-mapped is fine: read in chunks)."""
        rows, dimension = vectors.shape
        rng = np.random.default_rng(seed)
        lists = max(8, min(rows, int(2 * rows**0.5)))
        sample_rows = np.sort(rng.choice(rows, min(rows, 25 * lists), replace=False))
        sample = np.asarray(vectors[sample_rows], dtype=np.float32)
        centroids = sample[rng.choice(len(sample), lists, replace=False)].copy()
        for _ in range(rounds):
            assigned = np.argmax(sample @ centroids.T, axis=1)
            order = np.argsort(assigned, kind="stable")
            present, starts = np.unique(assigned[order], return_index=True)
            sums = np.add.reduceat(sample[order], starts, axis=0)
            centroids[present] = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
        assigned = np.concatenate(
            [
                np.argmax(np.asarray(vectors[start : start + VECTOR_CHUNK], np.float32) @ centroids.T, axis=1)
                for start in range(0, rows, VECTOR_CHUNK)
            ]
        )
        order = np.argsort(assigned, kind="stable").astype(np.int64)
        offsets = np.searchsorted(assigned[order], np.arange(lists + 1)).astype(np.int64)
        scale = np.maximum(np.abs(sample).max(axis=0), 1e-12).astype(np.float32) / 127.0
        codes = np.empty((rows, dimension), dtype=np.int8)
        for start in range(0, rows, VECTOR_CHUNK):
            chunk = np.asarray(vectors[order[start : start + VECTOR_CHUNK]], np.float32)
            codes[start : start + VECTOR_CHUNK] = np.clip(np.rint(chunk / scale), -127, 127)
        return cls(centroids.astype(np.float32), offsets, order, codes, scale)

    @classmethod
    def exists(cls, directory: Path) -> bool:
        return all((directory / f"lists-{name}.npy").exists() for name in cls._FILES)

    def save(self, directory: Path) -> None:
        for name in self._FILES:
            np.save(directory / f"lists-{name}.npy", getattr(self, name), allow_pickle=False)

    @classmethod
    def load(cls, directory: Path) -> InvertedLists:
        return cls(*(np.load(directory / f"lists-{name}.npy", allow_pickle=False) for name in cls._FILES))

    def scores(self, query: FloatArray) -> FloatArray:
        """Dot products of ``query`` with the passages of the nearest lists; 0 for the rest."""
        probe = max(1, round(PROBE_FRACTION * len(self.centroids)))
        nearest = np.argpartition(-(self.centroids @ query), probe - 1)[:probe]
        spans = [(int(self.offsets[c]), int(self.offsets[c + 1])) for c in nearest]
        positions = np.concatenate([np.arange(a, b) for a, b in spans])
        codes = np.concatenate([self.codes[a:b] for a, b in spans])
        out = np.zeros(len(self.order), dtype=np.float32)
        out[self.order[positions]] = codes.astype(np.float32) @ (query * self.scale)
        return out


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

    def __init__(
        self, directory: Path, title_weight: int, embedder_name: str | None, exact_search_limit: int = 500_000
    ) -> None:
        self.directory = directory
        self.exact_search_limit = exact_search_limit
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
            self._segments = self._load_segments()
            self._alive = [self.alive_mask(s) for s in self._segments]
            self._refresh_statistics()
        return self._segments

    def _load_segments(self) -> list[Segment]:
        while True:
            try:
                return [
                    load_segment(self.directory / name, approximate=self.approximate)
                    for name, _ in self.manifest.segments
                ]
            except FileNotFoundError:
                # Another process merged these segments after this manifest was read: read it again.
                latest = Manifest.read(self.manifest_path)
                if latest is None or latest == self.manifest:
                    raise
                self.manifest = latest

    @property
    def approximate(self) -> bool:
        """Whether dense search reads inverted lists: past ``exact_search_limit`` passages."""
        return sum(count for _, count in self.manifest.segments) > self.exact_search_limit

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

    def reload(self) -> None:
        """Read the manifest again: another process may have added or merged segments since it was read."""
        manifest = Manifest.read(self.manifest_path)
        if manifest is None or manifest == self.manifest:
            return
        self.manifest = manifest
        self._segments, self._alive = None, []

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

    def append(
        self,
        rows: Sequence[PassageRow],
        embed: Callable[[list[str]], FloatArray] | None,
        overflows: Callable[[list[str]], list[bool]] | None = None,
    ) -> None:
        """Add ``rows`` (passages newer than any indexed) as a new segment, merging small ones if many.

        ``overflows`` says which texts are longer than the embedder reads; those passages get a
        second vector for their tail.
        """
        if not rows:
            return
        texts = [_dense_text(r) for r in rows]
        vectors = embed(texts) if embed is not None else None
        tails, tail_rows = None, None
        if embed is not None and overflows is not None:
            long = [(n, _tail_text(rows[n])) for n, flag in enumerate(overflows(texts)) if flag]
            with_tail = [(n, text) for n, text in long if text is not None]
            if with_tail:
                tail_rows = np.asarray([n for n, _ in with_tail], dtype=np.int64)
                tails = embed([text for _, text in with_tail])
        name = f"segment-{rows[-1].passage_id:012d}"
        segment = build_segment(name, rows, self.title_weight, vectors, tails, tail_rows)
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
        # Memory-mapped, even when loaded for search: the merge then reads pages, not copies.
        parts = [load_segment(self.directory / name, mmap=True) for name in chosen]
        merged_name = f"merged-{self.manifest.last_passage_id:012d}-{len(self.manifest.segments)}"
        write_merged_segment(self.directory / merged_name, parts, [self.alive_mask(p) for p in parts])
        del parts
        keep = [(n, c) for n, c in self.manifest.segments if n not in chosen]
        merged_size = int(np.load(self.directory / merged_name / "passage_ids.npy", mmap_mode="r").shape[0])
        self.manifest.segments = [*keep, (merged_name, merged_size)]
        self.manifest.write(self.manifest_path)
        if self._segments is not None:
            merged = load_segment(self.directory / merged_name, approximate=self.approximate)
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
            if segment.approximate is not None:
                results.append(segment.approximate.scores(query))
                continue
            if segment.vectors is None:
                results.append(np.zeros(len(segment), dtype=np.float32))
                continue
            scores = segment.vectors @ query
            if segment.tails is not None and segment.tail_rows is not None:
                rows = segment.tail_rows
                scores[rows] = np.maximum(scores[rows], segment.tails @ query)
            results.append(scores)
        return results


def _dense_text(row: PassageRow) -> str:
    return f"{row.title}. {row.text}" if row.title else row.text


# The tail starts at the 61st word, overlapping the first window (128 tokens is about 90 words):
# on the dev sets this beat a 256-token vector of the whole passage (bench/windows.py).
TAIL_FROM_WORD = 60


def _tail_text(row: PassageRow) -> str | None:
    """The title and the passage from word TAIL_FROM_WORD on; None when nothing is left (a long title)."""
    words = row.text.split()[TAIL_FROM_WORD:]
    if not words:
        return None
    return f"{row.title}. {' '.join(words)}" if row.title else " ".join(words)
