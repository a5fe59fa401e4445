"""Experiment: would long passages rank better with a second dense vector for their tail?

The answer (dev sets, bench/README.md) was yes for "the better of the first 128 tokens and the
tail", which the index now does (``index.TAIL_FROM_WORD``); this script replays the choice.

minilm-med reads the first 128 tokens of a passage (title included); 51% of the pooled library's
passages are longer, so the dense side never sees their tail. For each passage over 128 tokens
this embeds (a) the whole passage at 256 tokens and (b) a second window, the title and the
passage from its 61st word on, at 128 tokens. It then scores the dev sets of bench/retrieval.py
with the shipped vectors, with (a) in place of them, with the better of the shipped vector and
(b), and with the better of (a) and (b). The hybrid rows fuse each dense ranking with the shipped
lexical ranking by the Retriever's own RRF. Vectors are cached in ``--cache``/windows.npz.

    .venv/bin/python bench/windows.py     # about 13 min of embedding on 2 cores, then 1 min

``--latency INDEX_FOLDER`` instead times hybrid search on a scale index of bench/retrieval.py
(e.g. bench/.cache/retrieval/scale-100k-replay-library-100000) with and without tail vectors
on 51% of its passages, alternating twice. The tails are the passages' own vectors plus noise:
latency does not depend on what the vectors say.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import retrieval  # noqa: E402
from medevidence import Library  # noqa: E402
from medevidence.embed import DATA, OnnxTransformerEmbedder  # noqa: E402
from medevidence.index import _dense_text, _tail_text  # noqa: E402
from medevidence.retrieve import _fuse, _top  # noqa: E402

WINDOW_TOKENS = 128
DEPTH = 500


def long_passage_vectors(library: Library, cache: Path) -> dict[str, np.ndarray]:
    """Passage ids over WINDOW_TOKENS tokens, their 256-token vectors and their tail vectors."""
    path = cache / "windows.npz"
    if path.exists():
        return dict(np.load(path))
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(DATA / "all-minilm-l6-v2-tokenizer" / "tokenizer.json"))
    rows = [row for batch in library.store.passage_rows_after(0, batch_size=50_000) for row in batch]
    long = [
        row
        for row in rows
        if len(tokenizer.encode(_dense_text(row)).ids) > WINDOW_TOKENS and _tail_text(row) is not None
    ]
    print(f"{len(long):,} of {len(rows):,} passages are over {WINDOW_TOKENS} tokens", flush=True)
    model = DATA / "minilm-med" / "model.onnx"
    whole, window = OnnxTransformerEmbedder(model, "whole", 256), OnnxTransformerEmbedder(model, "tail", 128)
    found: dict[str, np.ndarray] = {
        "ids": np.array([row.passage_id for row in long], dtype=np.int64),
        "whole": np.zeros((len(long), 384), dtype=np.float32),
        "tail": np.zeros((len(long), 384), dtype=np.float32),
    }
    began = time.perf_counter()
    for start in range(0, len(long), 256):
        chunk = long[start : start + 256]
        found["whole"][start : start + len(chunk)] = whole.embed_batch([_dense_text(row) for row in chunk])
        found["tail"][start : start + len(chunk)] = window.embed_batch([str(_tail_text(row)) for row in chunk])
        print(f"  {start + len(chunk):,}/{len(long):,} ({time.perf_counter() - began:.0f} s)", flush=True)
    np.savez(path, **found)
    return found


def tail_latency(folder: Path, bench: retrieval.Bench, share: float = 0.51) -> None:
    from medevidence.embed import get_embedder
    from medevidence.retrieve import RetrievalSettings, Retriever, SearchMode
    from medevidence.vocabulary import Vocabulary

    queries = [bench.queries[q].text for q in bench.sets["bioasq-11b"][:300]]
    store = retrieval.StreamStore(folder)
    retriever = Retriever(store, RetrievalSettings(), get_embedder("minilm-med"), Vocabulary.load([]))  # type: ignore[arg-type]
    segments = retriever.index.segments
    rng = np.random.default_rng(0)
    tails = []
    for segment in segments:
        if segment.vectors is None:
            raise SystemExit(f"{folder}: segment {segment.name} has no exact vectors to time")
        rows = np.sort(rng.choice(len(segment), int(share * len(segment)), replace=False))
        noisy = segment.vectors[rows] + 0.1 * rng.standard_normal((len(rows), segment.vectors.shape[1]))
        tails.append((rows, (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)))
    print(f"{len(retriever.index):,} passages in {len(segments)} segments, 300 BioASQ 11b questions, hybrid, k=10")
    for round_number in (1, 2):
        for with_tails in (False, True):
            for segment, (rows, vectors) in zip(segments, tails, strict=True):
                segment.tails, segment.tail_rows = (vectors, rows) if with_tails else (None, None)
            for text in queries[:5]:
                retriever.search(text, k=10, mode=SearchMode.HYBRID)
            timings = []
            for text in queries:
                began = time.perf_counter()
                retriever.search(text, k=10, mode=SearchMode.HYBRID)
                timings.append((time.perf_counter() - began) * 1000)
            label = f"with tails on {share:.0%} of passages" if with_tails else "without tails"
            print(
                f"round {round_number}, {label}: p50 {retrieval.percentile(timings, 0.5):.1f} ms, "
                f"p95 {retrieval.percentile(timings, 0.95):.1f} ms",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--cache", type=Path, default=REPO / "bench" / ".cache" / "retrieval")
    parser.add_argument("--latency", type=Path, default=None, help="time a scale index with and without tails")
    args = parser.parse_args()
    bench = retrieval.load_bench(args.data, args.cache)
    if args.latency is not None:
        tail_latency(args.latency, bench)
        return
    library = Library.open(args.cache / "library-minilm-med", embedder="minilm-med", expand_vocabulary=False)
    retriever, index = library.retriever, library.retriever.index
    passage_ids = np.concatenate([segment.passage_ids for segment in index.segments])
    vectors = np.concatenate([np.asarray(segment.vectors, dtype=np.float32) for segment in index.segments])
    alive = np.concatenate(index.alive)
    long = long_passage_vectors(library, args.cache)
    row_of = {int(pid): n for n, pid in enumerate(passage_ids)}
    rows = np.array([row_of[int(pid)] for pid in long["ids"]])
    key_of = dict(
        library.store.connection.execute(
            "SELECT passages.id, documents.key FROM passages JOIN documents ON documents.id = passages.document_id"
        ).fetchall()
    )

    groups = {name: bench.sets[name] for name in retrieval.DEV_SETS}
    qids = list(dict.fromkeys(q for group in groups.values() for q in group))
    texts = [bench.queries[q].text for q in qids]
    queries = retriever.embedder.embed_batch(texts)
    lexical = []
    for text in texts:
        terms = retriever.query_terms(text, False)
        lexical.append(_top(index, index.bm25(terms), [a.copy() for a in index.alive], DEPTH) if terms else [])

    shipped = queries @ vectors.T
    whole = shipped.copy()
    whole[:, rows] = queries @ long["whole"].T
    tails = queries @ long["tail"].T
    with_tail = shipped.copy()
    with_tail[:, rows] = np.maximum(shipped[:, rows], tails)
    whole_with_tail = whole.copy()
    whole_with_tail[:, rows] = np.maximum(whole[:, rows], tails)

    def documents(passages: list[int]) -> list[str]:
        return retrieval.documents_in_order([key_of[p] for p in passages[: retrieval.PASSAGE_DEPTH]])

    table = Table(title="dev nDCG@10, long passages' vectors", title_justify="left")
    table.add_column("dense vectors of passages over 128 tokens")
    for name in groups:
        table.add_column(f"hybrid {name}", justify="right")
    for name in groups:
        table.add_column(f"dense {name}", justify="right")
    variants = {
        "first 128 tokens (before tails)": shipped,
        "whole passage at 256 tokens": whole,
        "best of first 128 tokens and tail (now shipped)": with_tail,
        "best of 256 tokens and tail": whole_with_tail,
    }
    for label, scores in variants.items():
        scores = np.where(alive[None, :], scores, -np.inf)
        top = np.argpartition(-scores, DEPTH, axis=1)[:, :DEPTH]
        dense, hybrid = {}, {}
        for n, qid in enumerate(qids):
            best = top[n][np.argsort(-scores[n, top[n]])]
            ranking = [(int(passage_ids[i]), float(scores[n, i])) for i in best]
            dense[qid] = documents([p for p, _ in ranking])
            fused = _fuse([(1.0, lexical[n][: retrieval.PASSAGE_DEPTH]), (1.0, ranking[: retrieval.PASSAGE_DEPTH])])
            hybrid[qid] = documents([p for p, _ in fused])
        cells = [retrieval.mean_scores(hybrid, group, bench.queries)["ndcg10"] for group in groups.values()]
        cells += [retrieval.mean_scores(dense, group, bench.queries)["ndcg10"] for group in groups.values()]
        table.add_row(label, *[f"{value:.4f}" for value in cells])
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
