"""Retrieval quality, speed and memory on a pooled closed corpus, side by side with bm25s; and a scale run.

Corpus (built once as contract JSONL under ``--cache``): one document per PMID / PMCID, title +
abstract text, pooled from ../shared/data:

    bioasq/bioasq_snippet_corpus       18,687 PMIDs, title (when known) + merged gold snippets
    pubmedqa/ori_pqal                  1,000 PMIDs, CONTEXTS + LONG_ANSWER (no title: the question is one)
    evidence_inference/abstracts_clean 4,470 PMCIDs, title + abstract (title only where no abstract)
    pubmedrs200/PubMedRS-200           209 systematic-review PMIDs, title + abstract

A PMID in two sources keeps the longer text and the non-empty title.

Query sets (relevant = gold documents present in the corpus; queries with none are dropped):

    bioasq                 BioASQ 7b-11b questions -> their gold PMIDs (the headline set)
    bioasq-11b             the 11b questions alone (never used for tuning)
    bioasq-heldout         7b-11b minus the dev part
    evidence-inference     ev2-test prompts (v2-labelled) -> their trial, "With respect to O, ..." template
    pubmedqa               the 500 official test questions -> their own abstract
    bioasq-dev             a fixed quarter of 7b-10b (sha1 of the question id), for tuning only
    evidence-inference-dev ev2-validation prompts, for tuning only
    pubmedqa-dev           the 500 non-test PQA-L questions, for tuning only

Systems: bm25s (one document per PMID, title + text, defaults, PyStemmer English stemmer,
stopwords "en") and our Library through ``Library.search``, in lexical, dense and hybrid modes,
with and without vocabulary expansion, for each embedder. Our hits are passages: a document's rank
is that of its first passage among the top 200 (enough to fill the top 100 documents). Our index is
built once per embedder by ``Library.ingest`` on the pooled JSONL in a subprocess (build time and
peak RSS are that process's); every system is then searched in its own subprocess so its peak RSS
is its own. Latency: one query at a time, k=10, query embedding and SQLite hit lookup included.
q/s: the quality loop (k=200 passages) for ours, one batch ``retrieve`` (tokenising included) for bm25s.

Scale run (``--scale 100k`` / ``--scale 1m``): real passages cut by our chunker from the Evidence
Inference full texts, MedQuAD answers and the pooled corpus; for 1M the real passages are
replicated with perturbation (10 % of words dropped, 10 % replaced by random corpus words, the
passage rotated at a random word) until 1,000,000 -- say so when quoting it. The index is built by
the real ``Retriever.refresh`` -> ``SearchIndex.append`` path, but from a stub store that streams
PassageRows (SQLite ingest of 1M passages bypassed); the build resumes across worker runs so no
single process passes ``--scale-budget`` seconds. Latency uses the real ``Retriever.search``
(lexical, dense and hybrid, k=10, query embedding included) twice: with exact dense search, and
with the default settings, which search merged segments through their inverted lists past
``exact_search_limit`` (500k); only the stub's ``hits`` skips the SQLite lookup.

    .venv/bin/python bench/retrieval.py                       # all systems, test sets
    .venv/bin/python bench/retrieval.py --limit-queries 200 --systems bm25s,hybrid+vocab
    .venv/bin/python bench/retrieval.py --tune                # sweep fusion settings on the dev sets
    .venv/bin/python bench/retrieval.py --systems none --scale 100k
    .venv/bin/python bench/retrieval.py --systems none --scale 1m --scale-vectors bench/.cache/pooled/library-100000

``--scale-vectors LIBRARY`` runs the scale test with the default model's 384-dimensional vectors
without embedding a million passages (4-15 hours here): the real passages are LIBRARY's, with the
vectors its index stored when it was built; a replica reuses its source's vector plus Gaussian
noise (cosine ~0.9). Build time then excludes embedding; queries are embedded for real.

Not part of the test run: the first run builds two libraries (the minilm-onnx one embeds ~30k
passages with a transformer) and takes tens of minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import collections
import csv
import gzip
import hashlib
import itertools
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
DEFAULT_CACHE = REPO / "bench" / ".cache" / "retrieval"
CORPUS_VERSION = 1
PASSAGE_DEPTH = 200  # passages asked of Library.search to fill the top DOC_DEPTH documents
DOC_DEPTH = 100
TEST_SETS = ("bioasq", "bioasq-11b", "evidence-inference", "pubmedqa")
DEV_SETS = ("bioasq-dev", "evidence-inference-dev", "pubmedqa-dev")
ALL_SETS = (*TEST_SETS, "bioasq-heldout", *DEV_SETS)
STATIC = "minilm-static-med"
ONNX = "minilm-onnx"
MED = "minilm-med"  # all-MiniLM-L6-v2 fine-tuned by scripts/train_embedder.py
EI_TEMPLATE = "With respect to {outcome}, characterize the reported difference between {intervention} and {comparator}"


# -- corpus and queries ------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    qid: str
    text: str
    relevant: tuple[str, ...]


@dataclass
class Bench:
    """The pooled corpus file and the query sets over it."""

    corpus: Path
    corpus_digest: str
    documents: int
    sources: dict[str, int]
    queries: dict[str, Query]
    sets: dict[str, list[str]]  # set name -> query ids in a fixed (hash) order

    def limited(self, names: Sequence[str], limit: int | None) -> dict[str, list[str]]:
        return {name: self.sets[name][:limit] if limit else self.sets[name] for name in names}


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _clean(text: str) -> str:
    # PubMedRS-200 has UTF-8 no-break spaces decoded as Latin-1 ("Â\xa0").
    return " ".join(text.replace("\u00c2\u00a0", " ").split())


def pooled_documents(data: Path) -> tuple[dict[str, dict[str, str]], dict[str, int]]:
    documents: dict[str, dict[str, str]] = {}
    sources: dict[str, int] = {}

    def add(key: str, id_field: str, title: str, text: str, source: str) -> None:
        title, text = _clean(title), _clean(text)
        if not title and not text:
            return
        sources[source] = sources.get(source, 0) + 1
        known = documents.get(key)
        if known is None:
            documents[key] = {id_field: key, "title": title, "abstract": text, "source": source}
            return
        if len(text) > len(known["abstract"]):
            known["abstract"] = text
        known["title"] = known["title"] or title
        known["source"] += f"+{source}"

    with gzip.open(data / "bioasq" / "bioasq_snippet_corpus.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            add(row["pmid"], "pmid", row["title"], row["abstract_snippets_merged"], "bioasq")
    pqal = json.loads((data / "pubmedqa" / "ori_pqal.json").read_text(encoding="utf-8"))
    for pmid, row in pqal.items():
        add(pmid, "pmid", "", " ".join([*row["CONTEXTS"], row["LONG_ANSWER"]]), "pubmedqa")
    with gzip.open(data / "evidence_inference" / "abstracts_clean.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            add(row["pmcid"], "id", row["title"], row["abstract"], "evidence_inference")
    with (data / "pubmedrs200" / "PubMedRS-200.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            add(row["PMID"].strip(), "pmid", row["Title"], row["Abstract"], "pubmedrs200")
    return documents, sources


def query_sets(data: Path, keys: set[str]) -> tuple[dict[str, Query], dict[str, list[str]]]:
    queries: dict[str, Query] = {}
    sets: dict[str, list[str]] = {name: [] for name in ALL_SETS}

    def add(qid: str, text: str, relevant: list[str], *names: str) -> None:
        gold = tuple(dict.fromkeys(r for r in relevant if r in keys))
        if not gold or not text.strip():
            return
        queries[qid] = Query(qid, " ".join(text.split()), gold)
        for name in names:
            sets[name].append(qid)

    with gzip.open(data / "bioasq" / "bioasq_7b_11b_questions.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            qid = f"bioasq:{row['id']}"
            year = int(row["batch"].upper().split("B")[0])
            if year == 11:
                names: tuple[str, ...] = ("bioasq", "bioasq-11b", "bioasq-heldout")
            elif int(_sha1(qid), 16) % 4 == 0:
                names = ("bioasq", "bioasq-dev")
            else:
                names = ("bioasq", "bioasq-heldout")
            add(qid, row["body"], row["documents"], *names)

    ei = data / "evidence_inference"
    labelled = {row["PromptID"] for row in csv.DictReader((ei / "v2_annotations.csv").open(encoding="utf-8"))}
    split_of = {}
    for split, name in (("ev2_test", "evidence-inference"), ("ev2_validation", "evidence-inference-dev")):
        for article in (ei / f"splits__{split}_article_ids.txt").read_text().split():
            split_of[article] = name
    for row in csv.DictReader((ei / "prompts_merged.csv").open(encoding="utf-8")):
        name = split_of.get(row["PMCID"])
        if name and row["PromptID"] in labelled and f"ei:{row['PromptID']}" not in queries:
            text = EI_TEMPLATE.format(
                outcome=row["Outcome"].strip(),
                intervention=row["Intervention"].strip(),
                comparator=row["Comparator"].strip(),
            )
            add(f"ei:{row['PromptID']}", text, [f"PMC{row['PMCID']}"], name)

    pqal = json.loads((data / "pubmedqa" / "ori_pqal.json").read_text(encoding="utf-8"))
    test = json.loads((data / "pubmedqa" / "test_ground_truth.json").read_text(encoding="utf-8"))
    for pmid, row in pqal.items():
        add(f"pqa:{pmid}", row["QUESTION"], [pmid], "pubmedqa" if pmid in test else "pubmedqa-dev")

    for name in sets:
        sets[name].sort(key=_sha1)
    return queries, sets


def _input_fingerprint(data: Path) -> str:
    files = [
        data / "bioasq" / "bioasq_snippet_corpus.jsonl.gz",
        data / "bioasq" / "bioasq_7b_11b_questions.jsonl.gz",
        data / "pubmedqa" / "ori_pqal.json",
        data / "pubmedqa" / "test_ground_truth.json",
        data / "evidence_inference" / "abstracts_clean.jsonl.gz",
        data / "evidence_inference" / "prompts_merged.csv",
        data / "evidence_inference" / "v2_annotations.csv",
        data / "pubmedrs200" / "PubMedRS-200.csv",
    ]
    return _sha1(json.dumps([CORPUS_VERSION, *[(f.name, f.stat().st_size) for f in files]]))


def load_bench(data: Path, cache: Path) -> Bench:
    """The pooled corpus and query sets, written to ``cache`` on first use and read back after."""
    cache.mkdir(parents=True, exist_ok=True)
    corpus, meta_path = cache / "pooled-corpus.jsonl", cache / "pooled-queries.json"
    fingerprint = _input_fingerprint(data)
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    if meta.get("fingerprint") != fingerprint or not corpus.exists():
        documents, sources = pooled_documents(data)
        queries, sets = query_sets(data, set(documents))
        with corpus.open("w", encoding="utf-8") as handle:
            for document in documents.values():
                handle.write(json.dumps(document, ensure_ascii=False) + "\n")
        meta = {
            "fingerprint": fingerprint,
            "digest": hashlib.sha256(corpus.read_bytes()).hexdigest()[:16],
            "documents": len(documents),
            "sources": sources,
            "queries": {q.qid: [q.text, list(q.relevant)] for q in queries.values()},
            "sets": sets,
        }
        meta_path.write_text(json.dumps(meta, ensure_ascii=False))
    return Bench(
        corpus=corpus,
        corpus_digest=meta["digest"],
        documents=meta["documents"],
        sources=meta["sources"],
        queries={qid: Query(qid, text, tuple(relevant)) for qid, (text, relevant) in meta["queries"].items()},
        sets=meta["sets"],
    )


# -- metrics -------------------------------------------------------------------------------------

METRICS = ("ndcg10", "recall10", "recall100", "mrr10", "map10")
METRIC_LABELS = {"ndcg10": "nDCG@10", "recall10": "R@10", "recall100": "R@100", "mrr10": "MRR@10", "map10": "MAP@10"}
_DISCOUNTS = 1.0 / np.log2(np.arange(2, 12))


def scores(ranking: Sequence[str], relevant: Sequence[str]) -> dict[str, float]:
    """Binary-relevance measures of one document ranking.

    MAP@10 is BioASQ's: the sum of precision at each relevant rank in the top 10, over
    min(|relevant|, 10).
    """
    gold = set(relevant)
    hits = [doc in gold for doc in ranking[:10]]
    first = next((rank for rank, hit in enumerate(hits, start=1) if hit), None)
    precision_sum, found = 0.0, 0
    for rank, hit in enumerate(hits, start=1):
        if hit:
            found += 1
            precision_sum += found / rank
    return {
        "ndcg10": float(np.dot(hits + [False] * (10 - len(hits)), _DISCOUNTS))
        / float(_DISCOUNTS[: min(len(gold), 10)].sum()),
        "recall10": found / len(gold),
        "recall100": len(gold.intersection(ranking[:100])) / len(gold),
        "mrr10": 1.0 / first if first else 0.0,
        "map10": precision_sum / min(len(gold), 10),
    }


def mean_scores(rankings: dict[str, list[str]], qids: Sequence[str], queries: dict[str, Query]) -> dict[str, float]:
    rows = [scores(rankings.get(qid, []), queries[qid].relevant) for qid in qids]
    return {m: statistics.fmean(r[m] for r in rows) if rows else 0.0 for m in METRICS}


def documents_in_order(doc_ids: Sequence[str], depth: int = DOC_DEPTH) -> list[str]:
    """A passage ranking's documents, each at the rank of its first passage."""
    return list(dict.fromkeys(doc_ids))[:depth]


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if ordered else float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def disk_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


# -- systems ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class System:
    name: str
    label: str
    library: str | None  # the embedder whose cached library it searches; None: bm25s
    settings: dict[str, Any] = field(default_factory=dict)  # Library.open overrides


def _ours(name: str, label: str, embedder: str, **settings: Any) -> System:
    return System(name, label, embedder, {"embedder": embedder, **settings})


# The best settings-only configuration on the dev sets (bioasq-dev, evidence-inference-dev,
# pubmedqa-dev) found by --tune; title_weight 1 was +0.001 better but needs its own library.
TUNED: dict[str, Any] = {"embedder": ONNX, "search_mode": "hybrid", "expand_vocabulary": False, "dense_weight": 0.5}

SYSTEMS: dict[str, System] = {
    s.name: s
    for s in (
        System("bm25s", "bm25s (defaults, PyStemmer, stopwords en)", None),
        _ours("lexical", "ours lexical", STATIC, search_mode="lexical", expand_vocabulary=False),
        _ours(
            "lexical+vocab",
            "ours lexical + vocabulary",
            STATIC,
            search_mode="lexical",
            expand_vocabulary=True,
        ),
        _ours("dense-static", f"ours dense ({STATIC})", STATIC, search_mode="dense"),
        _ours("dense-onnx", f"ours dense ({ONNX})", ONNX, search_mode="dense"),
        _ours("hybrid-static", f"ours hybrid ({STATIC})", STATIC, search_mode="hybrid", expand_vocabulary=False),
        _ours(
            "hybrid+vocab",
            f"ours hybrid + vocabulary ({STATIC})",
            STATIC,
            search_mode="hybrid",
            expand_vocabulary=True,
        ),
        _ours("hybrid-onnx", f"ours hybrid ({ONNX})", ONNX, search_mode="hybrid", expand_vocabulary=False),
        _ours("dense-med", f"ours dense ({MED})", MED, search_mode="dense"),
        _ours(
            "hybrid-med", f"ours hybrid ({MED}) = shipped defaults", MED, search_mode="hybrid", expand_vocabulary=False
        ),
        _ours(
            "hybrid-med+vocab",
            f"ours hybrid + vocabulary ({MED})",
            MED,
            search_mode="hybrid",
            expand_vocabulary=True,
        ),
        _ours(
            "hybrid-onnx+vocab",
            f"ours hybrid + vocabulary ({ONNX})",
            ONNX,
            search_mode="hybrid",
            expand_vocabulary=True,
        ),
    )
}


def tuned_system(embedder: str, settings: dict[str, Any]) -> System:
    described = ", ".join(f"{k}={v}" for k, v in settings.items() if k not in ("search_mode", "embedder"))
    return _ours("tuned", f"ours tuned ({embedder}; {described})", embedder, **settings)


# -- workers (each runs in its own subprocess) -----------------------------------------------------


def worker_build(task: dict[str, Any]) -> dict[str, Any]:
    """``Library.ingest`` of the pooled corpus into a fresh library."""
    from medevidence import Library

    library = Path(task["library"])
    start = time.perf_counter()
    with Library.open(library, embedder=task["embedder"], title_weight=task["title_weight"]) as lib:
        report = lib.ingest([task["corpus"]])
        seconds = time.perf_counter() - start
        stats = lib.stats()
        passages = sum(count for _, count in lib.retriever.index.manifest.segments)
    failed = [o.message for o in report.outcomes if o.status.value == "failed"]
    return {
        "build_s": seconds,
        "build_rss_mb": peak_rss_mb(),
        "documents": stats.documents,
        "passages": passages,
        "failed": len(failed),
        "failed_examples": failed[:3],
        "library_mb": disk_mb(library),
        "index_mb": disk_mb(library / "index"),
        "corpus_digest": task["corpus_digest"],
    }


def worker_search(task: dict[str, Any]) -> dict[str, Any]:
    """Quality loop (k=200 passages -> top-100 documents) and single-query latency (k=10) of one system."""
    from medevidence import Library

    queries: dict[str, str] = task["queries"]
    start = time.perf_counter()
    lib = Library.open(Path(task["library"]), **task["settings"])
    lib.search("warm up: load the index and the models", k=10)
    load_s = time.perf_counter() - start
    load_rss = current_rss_mb()
    rankings, seconds = {}, {}
    for qid, text in queries.items():
        began = time.perf_counter()
        hits = lib.search(text, k=PASSAGE_DEPTH)
        seconds[qid] = time.perf_counter() - began
        rankings[qid] = documents_in_order([hit.doc_id for hit in hits])
    latency: dict[str, list[float]] = {}
    for name, qids in task["latency_sets"].items():
        for qid in qids[:5]:
            lib.search(queries[qid], k=10)
        timings = []
        for qid in qids:
            began = time.perf_counter()
            lib.search(queries[qid], k=10)
            timings.append((time.perf_counter() - began) * 1000)
        latency[name] = timings
    return {
        "rankings": rankings,
        "seconds": seconds,
        "latency_ms": latency,
        "load_s": load_s,
        "load_rss_mb": load_rss,
        "search_rss_mb": peak_rss_mb(),
    }


def worker_bm25s(task: dict[str, Any]) -> dict[str, Any]:
    import bm25s
    import Stemmer

    keys, texts = [], []
    with open(task["corpus"], encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            keys.append(row.get("pmid") or row["id"])
            texts.append(f"{row['title']} {row['abstract']}".strip())
    start = time.perf_counter()
    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    build_s = time.perf_counter() - start
    build_rss = peak_rss_mb()
    del texts

    def search(batch: list[str], k: int) -> np.ndarray:
        tokens = bm25s.tokenize(batch, stopwords="en", stemmer=stemmer, show_progress=False)
        ranked, _ = retriever.retrieve(tokens, k=k, show_progress=False)
        return np.asarray(ranked)

    queries: dict[str, str] = task["queries"]
    rankings, batch_s = {}, {}
    for name, qids in task["sets"].items():
        began = time.perf_counter()
        ranked = search([queries[q] for q in qids], DOC_DEPTH)
        batch_s[name] = time.perf_counter() - began
        for qid, row in zip(qids, ranked, strict=True):
            rankings[qid] = [keys[i] for i in row]
    latency: dict[str, list[float]] = {}
    for name, qids in task["latency_sets"].items():
        for qid in qids[:5]:
            search([queries[qid]], 10)
        timings = []
        for qid in qids:
            began = time.perf_counter()
            search([queries[qid]], 10)
            timings.append((time.perf_counter() - began) * 1000)
        latency[name] = timings
    return {
        "rankings": rankings,
        "batch_s": batch_s,
        "latency_ms": latency,
        "build_s": build_s,
        "build_rss_mb": build_rss,
        "search_rss_mb": peak_rss_mb(),
    }


WORKERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}  # filled below the worker definitions


def run_worker(kind: str, task: dict[str, Any], cache: Path, label: str) -> dict[str, Any]:
    """Run ``WORKERS[kind](task)`` in a fresh interpreter; returns its result or {"error": ...}."""
    tasks = cache / "tasks"
    tasks.mkdir(parents=True, exist_ok=True)
    stem = f"{kind}-{_sha1(label)[:8]}"
    task_path, result_path = tasks / f"{stem}.json", tasks / f"{stem}.result.json"
    result_path.unlink(missing_ok=True)
    task_path.write_text(json.dumps({"kind": kind, "task": task, "result": str(result_path)}))
    print(f"[{time.strftime('%H:%M:%S')}] {kind}: {label} ...", flush=True)
    began = time.perf_counter()
    process = subprocess.run([sys.executable, __file__, "--worker", str(task_path)], check=False)
    wall = time.perf_counter() - began
    if process.returncode != 0 or not result_path.exists():
        why = "killed (OOM?)" if process.returncode in (-9, 137) else f"exit status {process.returncode}"
        print(f"    {label}: FAILED, {why}", flush=True)
        return {"error": why}
    print(f"    done in {wall:.0f} s", flush=True)
    result: dict[str, Any] = json.loads(result_path.read_text())
    return result


def worker_main(task_path: Path) -> None:
    spec = json.loads(task_path.read_text())
    result = WORKERS[spec["kind"]](spec["task"])
    Path(spec["result"]).write_text(json.dumps(result))


# -- the pooled-corpus run -------------------------------------------------------------------------


def library_path(cache: Path, embedder: str, title_weight: int = 2) -> Path:
    return cache / (f"library-{embedder}" if title_weight == 2 else f"library-{embedder}-tw{title_weight}")


def ensure_library(embedder: str, bench: Bench, cache: Path, rebuild: bool, title_weight: int = 2) -> dict[str, Any]:
    """The cached library for ``embedder`` (built by ``Library.ingest`` in a subprocess if missing).

    The title weight is part of the lexical index, so each weight gets its own library.
    """
    library = library_path(cache, embedder, title_weight)
    info_path = library.with_name(library.name + ".build.json")
    if not rebuild and info_path.exists():
        info: dict[str, Any] = json.loads(info_path.read_text())
        if info.get("corpus_digest") == bench.corpus_digest and "error" not in info:
            return info
    shutil.rmtree(library, ignore_errors=True)
    info = run_worker(
        "build",
        {
            "library": str(library),
            "embedder": embedder,
            "title_weight": title_weight,
            "corpus": str(bench.corpus),
            "corpus_digest": bench.corpus_digest,
        },
        cache,
        f"Library.ingest of {bench.documents:,} documents, embedder {embedder}, title weight {title_weight}",
    )
    info["built_at"] = time.strftime("%Y-%m-%d %H:%M")
    info_path.write_text(json.dumps(info))
    return info


@dataclass
class Result:
    system: System
    raw: dict[str, Any]
    build: dict[str, Any] | None = None

    @property
    def failed(self) -> bool:
        return "error" in self.raw or (self.build is not None and "error" in self.build)


def evaluate_systems(
    systems: Sequence[System], bench: Bench, sets: dict[str, list[str]], args: argparse.Namespace
) -> list[Result]:
    union = list(dict.fromkeys(qid for qids in sets.values() for qid in qids))
    queries = {qid: bench.queries[qid].text for qid in union}
    latency_sets = {name: qids[: args.latency_queries] for name, qids in sets.items()}
    results = []
    builds: dict[tuple[str | None, int], dict[str, Any]] = {}
    for system in systems:
        if system.library is None:
            raw = run_worker(
                "bm25s",
                {"corpus": str(bench.corpus), "queries": queries, "sets": sets, "latency_sets": latency_sets},
                args.cache,
                system.label,
            )
            results.append(Result(system, raw))
            continue
        title_weight = int(system.settings.get("title_weight", 2))
        # Systems that share a library build it once per run, --rebuild or not.
        key = (system.library, title_weight)
        if key not in builds:
            builds[key] = ensure_library(system.library, bench, args.cache, args.rebuild, title_weight)
        build = builds[key]
        if "error" in build:
            results.append(Result(system, {"error": f"build {build['error']}"}, build))
            continue
        raw = run_worker(
            "search",
            {
                "library": str(library_path(args.cache, system.library, title_weight)),
                "settings": system.settings,
                "queries": queries,
                "latency_sets": latency_sets,
            },
            args.cache,
            system.label,
        )
        results.append(Result(system, raw, build))
    return results


def result_rows(results: Sequence[Result], bench: Bench, name: str, qids: list[str]) -> list[dict[str, Any]]:
    rows = []
    for result in results:
        row: dict[str, Any] = {"system": result.system.label, "name": result.system.name}
        if result.failed:
            row["error"] = result.raw.get("error") or result.build.get("error")  # type: ignore[union-attr]
            rows.append(row)
            continue
        raw = result.raw
        row.update(mean_scores(raw["rankings"], qids, bench.queries))
        timings = raw["latency_ms"].get(name, [])
        row["p50_ms"], row["p95_ms"] = percentile(timings, 0.5), percentile(timings, 0.95)
        if result.system.library is None:
            row["qps"] = len(qids) / raw["batch_s"][name]
            row["build_s"], row["build_rss_mb"] = raw["build_s"], raw["build_rss_mb"]
        else:
            row["qps"] = len(qids) / sum(raw["seconds"][q] for q in qids)
            row["build_s"], row["build_rss_mb"] = result.build["build_s"], result.build["build_rss_mb"]  # type: ignore[index]
        row["search_rss_mb"] = raw["search_rss_mb"]
        rows.append(row)
    return rows


def print_tables(tables: dict[str, list[dict[str, Any]]], bench: Bench, sets: dict[str, list[str]]) -> str:
    """Print one rich table per query set; return the same tables as Markdown."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=200)
    markdown = []
    columns = [*METRIC_LABELS.values(), "p50 ms", "p95 ms", "q/s", "build s", "build RSS MB", "search RSS MB"]
    for name, rows in tables.items():
        baseline = next((r for r in rows if r["name"] == "bm25s" and "error" not in r), None)
        title = f"{name}: {len(sets[name])} queries"
        table = Table(title=title, title_justify="left")
        table.add_column("system")
        for column in columns:
            table.add_column(column, justify="right")
        markdown += [f"**{title}**", "", "| system | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
        for row in rows:
            if "error" in row:
                cells = [row["error"]] + [""] * (len(columns) - 1)
            else:
                cells = []
                for metric in METRICS:
                    cell = f"{row[metric]:.3f}"
                    if baseline is not None and row is not baseline and metric == "ndcg10":
                        cell += f" ({row[metric] - baseline[metric]:+.3f})"
                    cells.append(cell)
                cells += [
                    f"{row['p50_ms']:.1f}",
                    f"{row['p95_ms']:.1f}",
                    f"{row['qps']:.0f}",
                    f"{row['build_s']:.0f}",
                    f"{row['build_rss_mb']:.0f}",
                    f"{row['search_rss_mb']:.0f}",
                ]
            table.add_row(row["system"], *cells)
            markdown.append(f"| {row['system']} | " + " | ".join(cells) + " |")
        markdown.append("")
        console.print(table)
    return "\n".join(markdown)


def machine_line() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB RAM, Python {platform.python_version()}, "
        f"numpy {np.__version__}; load average at the end {load} (the machine is shared)"
    )


# -- tuning on the dev sets -------------------------------------------------------------------------

TUNE_DEPTH = 500  # candidates kept per ranking; fusion is replayed from these
TITLE_WEIGHTS = (0, 1, 2, 3, 4)
K1_B = ((0.9, 0.4), (0.9, 0.75), (1.2, 0.5), (1.2, 0.75), (1.2, 0.9), (1.5, 0.75), (2.0, 0.75))


def worker_candidates(task: dict[str, Any]) -> dict[str, Any]:
    """Top-TUNE_DEPTH passage rankings of each side, for replaying fusion offline.

    Lexical: per title weight (each in its own index built from the store's passages with no
    vectors) and with/without vocabulary; BM25 k1/b variants at title weight 2. Dense: per embedder,
    on that library's own vectors. Saved as .npz: ids (queries x depth, -1 padded), scores.
    """
    import medevidence.index as index_module
    from medevidence import Library
    from medevidence.index import SearchIndex
    from medevidence.retrieve import _top

    out = Path(task["out"])
    out.mkdir(parents=True, exist_ok=True)
    qids: list[str] = task["qids"]
    texts: list[str] = task["texts"]
    static = Library.open(Path(task["libraries"][STATIC]), embedder=STATIC, expand_vocabulary=True)
    store = static.store
    rows = store.connection.execute(
        "SELECT passages.id, documents.key FROM passages JOIN documents ON documents.id = passages.document_id "
        "WHERE documents.is_current = 1"
    ).fetchall()
    keys = sorted({key for _, key in rows})
    position = {key: n for n, key in enumerate(keys)}
    doc_of = np.full(max(pid for pid, _ in rows) + 1, -1, dtype=np.int32)
    for pid, key in rows:
        doc_of[pid] = position[key]
    np.save(out / "doc_of.npy", doc_of)
    (out / "doc_keys.json").write_text(json.dumps(keys))

    def save(name: str, index: SearchIndex, score: Callable[[str], list[Any] | None]) -> None:
        """Rank every query with ``score`` (per-segment score arrays, None for no terms) on ``index``."""
        path = out / f"{name}.npz"
        if path.exists():
            return
        masks = [alive.copy() for alive in index.alive]
        ids = np.full((len(qids), TUNE_DEPTH), -1, dtype=np.int32)
        values = np.zeros((len(qids), TUNE_DEPTH), dtype=np.float32)
        began = time.perf_counter()
        for n, text in enumerate(texts):
            arrays = score(text)
            pairs = _top(index, arrays, masks, TUNE_DEPTH) if arrays is not None else []
            ids[n, : len(pairs)] = [p for p, _ in pairs]
            values[n, : len(pairs)] = [s for _, s in pairs]
        np.savez(path, ids=ids, scores=values)
        print(f"    {name}: {time.perf_counter() - began:.0f} s", file=sys.stderr, flush=True)

    def bm25(index: SearchIndex, retriever: Any) -> Callable[[str], list[Any] | None]:
        def score(text: str) -> list[Any] | None:
            terms = retriever.query_terms(text)
            return index.bm25(terms) if terms else None

        return score

    def cosine(index: SearchIndex, embedder: Any) -> Callable[[str], list[Any] | None]:
        return lambda text: index.cosine(embedder.embed_batch([text])[0])

    # query_terms() is the real query analysis, with and without the vocabulary
    retriever = static.retriever
    plain_retriever = Library.open(Path(task["libraries"][STATIC]), embedder=STATIC, expand_vocabulary=False).retriever
    all_rows = [r for batch in store.passage_rows_after(0, batch_size=50_000) for r in batch]
    for weight in TITLE_WEIGHTS:
        index = SearchIndex(out / f"lexical-tw{weight}", weight, None)
        if not index.manifest.segments:
            index.append(all_rows, None)
        save(f"lex-tw{weight}-vocab0", index, bm25(index, plain_retriever))
        save(f"lex-tw{weight}-vocab1", index, bm25(index, retriever))
        if weight == 2:
            for k1, b in K1_B:
                index_module.K1, index_module.B = k1, b  # read by SearchIndex.bm25 at query time
                save(f"lex-tw2-vocab1-k{k1}-b{b}", index, bm25(index, retriever))
            index_module.K1, index_module.B = 1.2, 0.75
    for embedder, library in task["libraries"].items():
        dense = Library.open(Path(library), embedder=embedder).retriever
        _QUERY_VECTORS.clear()
        save(f"dense-{embedder}", dense.index, cosine(dense.index, dense.embedder))
        feedback = np.load(out / "lex-tw2-vocab1.npz")["ids"]
        for depth, beta in PRF:
            save(
                f"dense-prf{depth}-{beta}-{embedder}",
                dense.index,
                _feedback_cosine(dense.index, dense.embedder, dict(zip(texts, feedback, strict=True)), depth, beta),
            )
    return {"out": str(out)}


PRF = ((3, 1.0), (5, 1.0), (10, 1.0), (5, 0.5), (5, 2.0))
_QUERY_VECTORS: dict[str, Any] = {}  # one embedding per query text across the feedback variants


def _feedback_cosine(
    index: Any, embedder: Any, feedback: dict[str, Any], depth: int, beta: float
) -> Callable[[str], list[Any]]:
    """Prototype: Rocchio feedback for the dense side, q' = q + beta * mean(vectors of the top lexical passages)."""
    row_of = {
        int(pid): (n, row) for n, segment in enumerate(index.segments) for row, pid in enumerate(segment.passage_ids)
    }

    def score(text: str) -> list[Any]:
        if text not in _QUERY_VECTORS:
            _QUERY_VECTORS[text] = embedder.embed_batch([text])[0]
        query = _QUERY_VECTORS[text]
        top = [row_of[int(pid)] for pid in feedback[text][:depth] if pid >= 0]
        if top:
            mean = np.mean([index.segments[n].vectors[row] for n, row in top], axis=0)
            query = query + beta * mean
            query = (query / (np.linalg.norm(query) or 1.0)).astype(np.float32)
        return index.cosine(query)

    return score


class Replay:
    """Fusion replayed from saved candidate rankings, with the Retriever's own ``_fuse``."""

    def __init__(self, directory: Path, qids: list[str]) -> None:
        self.directory = directory
        self.qids = qids
        self.doc_of = np.load(directory / "doc_of.npy")
        self.doc_keys = json.loads((directory / "doc_keys.json").read_text())
        self._cache: dict[str, list[list[tuple[int, float]]]] = {}

    def ranking(self, name: str) -> list[list[tuple[int, float]]]:
        if name not in self._cache:
            data = np.load(self.directory / f"{name}.npz")
            ids, values = data["ids"], data["scores"]
            self._cache[name] = [
                [(int(p), float(s)) for p, s in zip(row_ids[row_ids >= 0], row_values[row_ids >= 0], strict=True)]
                for row_ids, row_values in zip(ids, values, strict=True)
            ]
        return self._cache[name]

    def documents(self, passage_ids: Sequence[int]) -> list[str]:
        docs = self.doc_of[np.asarray(passage_ids[:PASSAGE_DEPTH], dtype=np.int64)] if len(passage_ids) else []
        return [self.doc_keys[d] for d in documents_in_order([int(d) for d in docs])]

    def fused(
        self,
        lexical: str | None,
        dense: str | None,
        lexical_weight: float,
        dense_weight: float,
        candidates: int,
        rrf_k: int = 60,
        method: str = "rrf",
    ) -> dict[str, list[str]]:
        """Document rankings per query, as ``Retriever.search`` with these settings would give."""
        import medevidence.retrieve as retrieve_module

        depth = max(PASSAGE_DEPTH, candidates)
        sides = [
            (lexical_weight, self.ranking(lexical)) if lexical else None,
            (dense_weight, self.ranking(dense)) if dense else None,
        ]
        used = [s for s in sides if s is not None and s[0] > 0]
        out = {}
        retrieve_module.RRF_K = rrf_k
        try:
            for n, qid in enumerate(self.qids):
                lists = [(w, r[n][:depth]) for w, r in used]
                if len(lists) == 1:
                    passages = [p for p, _ in lists[0][1]]
                elif method == "rrf":
                    passages = [p for p, _ in retrieve_module._fuse(lists)]
                else:
                    passages = _score_fusion(lists)
                out[qid] = self.documents(passages)
        finally:
            retrieve_module.RRF_K = 60
        return out


def _score_fusion(lists: list[tuple[float, list[tuple[int, float]]]]) -> list[int]:
    """Prototype: weighted sum of min-max normalised scores over the union of candidates (0 if absent)."""
    fused: dict[int, float] = {}
    for weight, ranking in lists:
        if not ranking:
            continue
        top, bottom = ranking[0][1], ranking[-1][1]
        span = (top - bottom) or 1.0
        for passage_id, score in ranking:
            fused[passage_id] = fused.get(passage_id, 0.0) + weight * (score - bottom) / span
    return [p for p, _ in sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))]


def tune(bench: Bench, args: argparse.Namespace) -> None:
    """Sweep fusion settings on the dev sets; show the best and what each setting does."""
    from rich.console import Console
    from rich.table import Table

    dev = bench.limited(DEV_SETS, args.limit_queries)
    qids = list(dict.fromkeys(q for qids in dev.values() for q in qids))
    libraries = {}
    for embedder in args.embedders.split(","):
        if "error" not in ensure_library(embedder, bench, args.cache, args.rebuild):
            libraries[embedder] = str(args.cache / f"library-{embedder}")
    out = args.cache / f"candidates-{_sha1(json.dumps([bench.corpus_digest, qids]))[:10]}"
    result = run_worker(
        "candidates",
        {"out": str(out), "qids": qids, "texts": [bench.queries[q].text for q in qids], "libraries": libraries},
        args.cache,
        f"candidate rankings for {len(qids)} queries",
    )
    if "error" in result:
        return
    replay = Replay(out, qids)
    bm25s = run_worker(
        "bm25s",
        {
            "corpus": str(bench.corpus),
            "queries": {q: bench.queries[q].text for q in qids},
            "sets": dev,
            "latency_sets": {},
        },
        args.cache,
        "bm25s on the dev sets",
    )

    def measure(rankings: dict[str, list[str]], groups: dict[str, list[str]]) -> dict[str, float]:
        return {name: mean_scores(rankings, group, bench.queries)["ndcg10"] for name, group in groups.items()}

    def objective(per_set: dict[str, float]) -> float:
        return statistics.fmean(per_set[name] for name in DEV_SETS)

    baseline_dev = measure(bm25s["rankings"], dev) if "error" not in bm25s else None
    trials: list[tuple[float, dict[str, Any], dict[str, float]]] = []

    def trial(config: dict[str, Any]) -> tuple[float, dict[str, float]]:
        lexical = f"lex-tw{config['title_weight']}-vocab{int(config['expand_vocabulary'])}"
        if config.get("k1") is not None:
            lexical += f"-k{config['k1']}-b{config['b']}"
        rankings = replay.fused(
            lexical if config["lexical_weight"] > 0 else None,
            (f"dense-prf{config['prf']}-{config['embedder']}" if config.get("prf") else f"dense-{config['embedder']}")
            if config["dense_weight"] > 0
            else None,
            config["lexical_weight"],
            config["dense_weight"],
            config["candidates"],
            config.get("rrf_k", 60),
            config.get("method", "rrf"),
        )
        per_set = measure(rankings, dev)
        value = objective(per_set)
        trials.append((value, config, per_set))
        return value, per_set

    base = {
        "embedder": STATIC,
        "title_weight": 2,
        "expand_vocabulary": True,
        "lexical_weight": 1.0,
        "dense_weight": 1.0,
        "candidates": 200,
    }
    began = time.perf_counter()
    for embedder in libraries:
        for weight in TITLE_WEIGHTS:
            for vocab in (False, True):
                for dense_weight in (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0, 1.3):
                    trial(
                        {
                            **base,
                            "embedder": embedder,
                            "title_weight": weight,
                            "expand_vocabulary": vocab,
                            "dense_weight": dense_weight,
                        }
                    )
    best = max(trials, key=lambda t: t[0])[1]
    for candidates in (50, 100, 200, 300, 500):
        trial({**best, "candidates": candidates})
    for rrf_k in (5, 10, 20, 30, 60, 100):
        for dense_weight in (0.3, 0.5, 0.7, 1.0):
            trial({**best, "rrf_k": rrf_k, "dense_weight": dense_weight})
    for k1, b in K1_B:
        trial({**best, "title_weight": 2, "expand_vocabulary": True, "k1": k1, "b": b})
    for dense_weight in (0.1, 0.2, 0.3, 0.4, 0.5):
        trial({**best, "method": "score", "dense_weight": dense_weight})
    for embedder in libraries:
        for depth, beta in PRF:
            for dense_weight in (0.3, 0.5, 0.7, 1.0, 1.3):
                trial({**best, "embedder": embedder, "prf": f"{depth}-{beta}", "dense_weight": dense_weight})
    print(f"{len(trials)} configurations replayed in {time.perf_counter() - began:.0f} s", flush=True)

    console = Console(width=200)
    header = ["dev mean", *DEV_SETS]

    def show(title: str, chosen: list[tuple[float, dict[str, Any], dict[str, float]]]) -> None:
        table = Table(title=title, title_justify="left")
        table.add_column("configuration")
        for column in header:
            table.add_column(column, justify="right")
        if baseline_dev is not None:
            table.add_row("bm25s", f"{objective(baseline_dev):.4f}", *[f"{baseline_dev[s]:.4f}" for s in DEV_SETS])
        for value, config, per_set in chosen:
            table.add_row(
                ", ".join(f"{k}={v}" for k, v in config.items()),
                f"{value:.4f}",
                *[f"{per_set[s]:.4f}" for s in DEV_SETS],
            )
        console.print(table)

    ranked = sorted(trials, key=lambda t: -t[0])
    show("dev nDCG@10, best 15 configurations", ranked[:15])

    keys = (
        "embedder",
        "title_weight",
        "expand_vocabulary",
        "dense_weight",
        "candidates",
        "rrf_k",
        "method",
        "k1",
        "prf",
    )
    for key in keys:
        values = sorted({str(t[1].get(key)) for t in trials})
        rows = []
        for value in values:
            matching = [t for t in trials if str(t[1].get(key)) == value]
            rows.append(max(matching, key=lambda t: t[0]))
        show(f"best dev configuration per {key}", rows)

    winner = ranked[0][1]
    print(f"dev winner: {winner}; run it on the test sets with --systems tuned --tuned '{json.dumps(winner)}'")
    (args.cache / "tuning.json").write_text(
        json.dumps({"winner": winner, "trials": [[v, c, p] for v, c, p in ranked]}, indent=1)
    )


# -- the scale run ----------------------------------------------------------------------------------

SCALE_SIZES = {"100k": 100_000, "1m": 1_000_000}


def real_passages(data: Path, bench: Bench, cache: Path) -> Path:
    """Real passages cut by our chunker, cached as JSONL: (title, text) per line."""
    path = cache / "scale-real-passages.jsonl.gz"
    if path.exists():
        return path
    from medevidence.ingest.chunk import chunk_passages
    from medevidence.models import ParsedDocument, SourceFormat

    def documents() -> Iterator[tuple[str, str]]:
        with open(bench.corpus, encoding="utf-8") as lines:
            for line in lines:
                row = json.loads(line)
                yield row["title"], row["abstract"]
        with gzip.open(data / "medquad" / "medquad.jsonl.gz", "rt", encoding="utf-8") as lines:
            for line in lines:
                row = json.loads(line)
                if row["answer"].strip():
                    yield row["question"], row["answer"]
        with gzip.open(data / "evidence_inference" / "fulltexts.jsonl.gz", "rt", encoding="utf-8") as lines:
            for line in lines:
                row = json.loads(line)
                yield "", row["text"]

    count = 0
    with gzip.open(path.with_suffix(".tmp"), "wt", encoding="utf-8") as out:
        for title, text in documents():
            text = text.strip() or title
            document = ParsedDocument(text=text, source_format=SourceFormat.TEXT, title=title)
            for span in chunk_passages(document):
                out.write(json.dumps([title, text[span.start : span.end]], ensure_ascii=False) + "\n")
                count += 1
    path.with_suffix(".tmp").rename(path)
    print(f"    {count:,} real passages", flush=True)
    return path


def scale_rows(source: Path, total: int, after: int) -> Iterator[Any]:
    """PassageRows 1..total: the real passages, then perturbed replicas of them."""
    from medevidence.models import PassageRow

    with gzip.open(source, "rt", encoding="utf-8") as lines:
        real = [tuple(json.loads(line)) for line in lines]
    words = [w for _, text in real[:20_000] for w in text.split()]
    for passage_id in range(after + 1, total + 1):
        n = (passage_id - 1) % len(real)
        replica = (passage_id - 1) // len(real)
        title, text = real[n]
        if replica:
            rng = random.Random(passage_id)
            tokens = [
                w if rng.random() >= 0.125 else words[rng.randrange(len(words))]
                for w in text.split()
                if rng.random() >= 0.1
            ]
            cut = rng.randrange(len(tokens)) if tokens else 0
            text = " ".join(tokens[cut:] + tokens[:cut])
        yield PassageRow(passage_id, n + replica * len(real) + 1, text, title)


def replay_source(library: Path, cache: Path) -> tuple[Path, Path, str]:
    """A library's passages (title, text) and the vectors its index stores for them, aligned, cached.

    For a scale run with the default model without embedding a million passages here (4-15 hours):
    the real passages are this library's, embedded when it was built, and a replica reuses its
    source's vector with noise (``ReplayEmbedder``)."""
    import sqlite3

    from medevidence.index import Manifest

    passages_path = cache / f"replay-{library.name}-passages.jsonl.gz"
    vectors_path = cache / f"replay-{library.name}-vectors.npy"
    manifest = Manifest.read(library / "index" / "manifest.json")
    if manifest is None or not manifest.embedder:
        raise SystemExit(f"--scale-vectors {library}: no index with vectors there; build it with bench/answers.py")
    if not (passages_path.exists() and vectors_path.exists()):
        ids, vectors = [], []
        for name, _ in manifest.segments:
            ids.append(np.load(library / "index" / name / "passage_ids.npy"))
            vectors.append(np.load(library / "index" / name / "vectors.npy"))
        order = np.argsort(np.concatenate(ids))
        passage_ids, matrix = np.concatenate(ids)[order], np.concatenate(vectors)[order]
        connection = sqlite3.connect(library / "library.db")
        texts = dict(
            (row[0], (row[1], row[2]))
            for row in connection.execute(
                "SELECT passages.id, documents.title, passages.text FROM passages "
                "JOIN documents ON documents.id = passages.document_id"
            )
        )
        keep = [i for i, passage_id in enumerate(passage_ids.tolist()) if passage_id in texts]
        with gzip.open(passages_path, "wt", encoding="utf-8") as out:
            for i in keep:
                out.write(json.dumps(list(texts[int(passage_ids[i])]), ensure_ascii=False) + "\n")
        np.save(vectors_path, matrix[keep])
    return passages_path, vectors_path, str(manifest.embedder)


class ReplayEmbedder:
    """Stored vectors in the order the scale rows stream: a real passage's own, a replica's source's
    plus Gaussian noise (cosine to the source about 0.9), normalised. ``sources`` is filled by
    ``tracked`` as rows stream and emptied here as their texts are embedded, in the same order."""

    NOISE = 0.0247  # per dimension: 1 / sqrt(1 + 384 * 0.0247 ** 2) = 0.90

    def __init__(self, vectors: Path, name: str, real: int) -> None:
        self.vectors = np.load(vectors, mmap_mode="r")
        self.name = name
        self.dimension = int(self.vectors.shape[1])
        self.real = real
        self.sources: collections.deque[int] = collections.deque()

    def tracked(self, rows: Iterator[Any]) -> Iterator[Any]:
        for row in rows:
            self.sources.append(row.passage_id)
            yield row

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for row in range(len(texts)):
            passage_id = self.sources.popleft()
            out[row] = self.vectors[(passage_id - 1) % self.real]
            if passage_id > self.real:
                out[row] += np.random.default_rng(passage_id).normal(0.0, self.NOISE, self.dimension)
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out


class StreamStore:
    """Just enough of SQLiteStore for Retriever: streams PassageRows until a deadline; hits are pairs."""

    def __init__(self, directory: Path, rows: Iterator[Any] | None = None, deadline: float = float("inf")) -> None:
        self.directory = directory
        self._rows = rows if rows is not None else iter(())
        self._deadline = deadline
        self._began = time.perf_counter()

    def superseded_passage_ids(self) -> list[int]:
        return []

    def passage_rows_after(self, passage_id: int, batch_size: int = 5000) -> Iterator[list[Any]]:
        while time.perf_counter() < self._deadline:
            batch = list(itertools.islice(self._rows, batch_size))
            if not batch:
                return
            yield batch
            elapsed = time.perf_counter() - self._began
            print(f"    {batch[-1].passage_id:,} passages, {elapsed:.0f} s", file=sys.stderr, flush=True)

    def hits(self, scored: Sequence[tuple[int, float]]) -> list[tuple[int, float]]:
        return list(scored)


def worker_scale_build(task: dict[str, Any]) -> dict[str, Any]:
    """``Retriever.refresh`` from a stream of passages, until ``total`` passages or ``budget_s`` seconds."""
    from medevidence.embed import get_embedder
    from medevidence.index import SearchIndex
    from medevidence.retrieve import INDEX_DIRECTORY, RetrievalSettings, Retriever

    directory = Path(task["directory"])
    embedder: Any = get_embedder(STATIC)
    if task.get("vectors"):
        with gzip.open(task["source"], "rt", encoding="utf-8") as lines:
            real = sum(1 for _ in lines)
        embedder = ReplayEmbedder(Path(task["vectors"]), task["embedder"], real)
    after = SearchIndex(directory / INDEX_DIRECTORY, 2, embedder.name).manifest.last_passage_id
    rows = scale_rows(Path(task["source"]), task["total"], after)
    if isinstance(embedder, ReplayEmbedder):
        rows = embedder.tracked(rows)
    began = time.perf_counter()
    store = StreamStore(directory, rows, began + task["budget_s"])
    retriever = Retriever(store, RetrievalSettings(), embedder, None)  # type: ignore[arg-type]
    retriever.refresh()
    return {
        "seconds": time.perf_counter() - began,
        "last": retriever.index.manifest.last_passage_id,
        "peak_rss_mb": peak_rss_mb(),
    }


def _segment_bytes(index: Any) -> dict[str, float]:
    heap = vectors = vocabulary = 0
    for segment in index.segments:
        for name in ("passage_ids", "document_ids", "lengths", "indptr", "postings", "frequencies"):
            heap += getattr(segment, name).nbytes
        if segment.vectors is not None:
            vectors += segment.vectors.nbytes
        if segment.approximate is not None:
            lists = segment.approximate
            vectors += sum(getattr(lists, name).nbytes for name in ("centroids", "offsets", "order", "codes", "scale"))
        vocabulary += sys.getsizeof(segment.vocabulary) + sum(sys.getsizeof(t) + 28 for t in segment.vocabulary)
    return {"arrays_mb": heap / 1e6, "vectors_mb": vectors / 1e6, "vocabulary_mb": vocabulary / 1e6}


def worker_scale_query(task: dict[str, Any]) -> dict[str, Any]:
    """Load the scale index in a fresh process; latency of Retriever.search per mode; RAM."""
    from medevidence.embed import get_embedder
    from medevidence.retrieve import RetrievalSettings, Retriever, SearchMode
    from medevidence.vocabulary import Vocabulary

    directory = Path(task["directory"])
    embedder = get_embedder(task.get("query_embedder", STATIC))
    vocabulary = Vocabulary.load([])
    settings = RetrievalSettings(**task.get("settings", {}))
    retriever = Retriever(StreamStore(directory), settings, embedder, vocabulary)  # type: ignore[arg-type]
    retriever.query_terms("warm up the analyzer and the vocabulary")
    embedder.embed_batch(["warm up the embedder"])
    before = current_rss_mb()
    began = time.perf_counter()
    _ = retriever.index.segments
    load_s = time.perf_counter() - began
    loaded = current_rss_mb()
    approximate = any(s.approximate is not None for s in retriever.index.segments)
    exact = _exact_dense_top(retriever, embedder, task["queries"][:20]) if approximate else None
    results: dict[str, Any] = {
        "load_s": load_s,
        "rss_before_mb": before,
        "rss_loaded_mb": loaded,
        "passages": len(retriever.index),
        "segments": len(retriever.index.segments),
        **_segment_bytes(retriever.index),
    }
    queries: list[str] = task["queries"]
    for mode in task["modes"]:
        search_mode = SearchMode(mode)
        for text in queries[:3]:
            retriever.search(text, k=10, mode=search_mode)
        timings = []
        deadline = time.perf_counter() + task["budget_s"]
        for text in queries:
            began = time.perf_counter()
            retriever.search(text, k=10, mode=search_mode)
            timings.append((time.perf_counter() - began) * 1000)
            if time.perf_counter() > deadline and len(timings) >= 20:
                break
        results[mode] = {"n": len(timings), "p50_ms": percentile(timings, 0.5), "p95_ms": percentile(timings, 0.95)}
        print(f"    {mode}: {results[mode]}", file=sys.stderr, flush=True)
    results["rss_after_mb"] = current_rss_mb()
    results["peak_rss_mb"] = peak_rss_mb()
    if exact is not None:
        from medevidence.retrieve import _top

        found = []
        for text, truth in zip(task["queries"][:20], exact, strict=True):
            masks = [a.copy() for a in retriever.index.alive]
            top = _top(retriever.index, retriever.index.cosine(embedder.embed_batch([text])[0]), masks, 10)
            found.append(len(truth & {p for p, _ in top}) / len(truth))
        results["dense_recall10_vs_exact"] = statistics.fmean(found)
    return results


def _exact_dense_top(retriever: Any, embedder: Any, texts: list[str], depth: int = 10) -> list[set[int]]:
    """Exact float32 top-``depth`` passage ids per text, all texts in one pass over the vectors."""
    queries = embedder.embed_batch(texts)
    ids, scores = [], []
    for segment in retriever.index.segments:
        # Read from disk: an approximately searched segment does not hold its vectors in memory.
        vectors = np.load(retriever.index.directory / segment.name / "vectors.npy", mmap_mode="r")
        for start in range(0, len(segment), 65536):
            chunk = np.asarray(vectors[start : start + 65536], np.float32)
            scores.append(queries @ chunk.T)
            ids.append(segment.passage_ids[start : start + 65536])
    matrix, passage_ids = np.concatenate(scores, axis=1), np.concatenate(ids)
    best = np.argpartition(-matrix, depth, axis=1)[:, :depth]
    return [set(passage_ids[row].tolist()) for row in best]


def scale_run(size: str, bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    total = SCALE_SIZES[size]
    replay: dict[str, str] = {}
    if args.scale_vectors:
        source, vectors, embedder_name = replay_source(args.scale_vectors, args.cache)
        replay = {"vectors": str(vectors), "embedder": embedder_name}
        size_name = f"{size}-replay-{args.scale_vectors.name}"
    else:
        source, size_name = real_passages(args.data, bench, args.cache), size
    directory = args.cache / f"scale-{size_name}"
    info_path = args.cache / f"scale-{size_name}.build.json"
    info: dict[str, Any] = (
        json.loads(info_path.read_text()) if info_path.exists() else {"seconds": 0.0, "peak_rss_mb": 0.0, "runs": 0}
    )
    if args.rebuild:
        shutil.rmtree(directory, ignore_errors=True)
        info = {"seconds": 0.0, "peak_rss_mb": 0.0, "runs": 0}
    while info.get("last", 0) < total:
        step = run_worker(
            "scale_build",
            {
                "directory": str(directory),
                "source": str(source),
                "total": total,
                "budget_s": args.scale_budget,
                **replay,
            },
            args.cache,
            f"scale {size}: build from passage {info.get('last', 0):,}",
        )
        if "error" in step:
            return {"error": step["error"]}
        info["seconds"] += step["seconds"]
        info["peak_rss_mb"] = max(info["peak_rss_mb"], step["peak_rss_mb"])
        info["runs"] += 1
        info["last"] = step["last"]
        info_path.write_text(json.dumps(info))
    with gzip.open(source, "rt", encoding="utf-8") as lines:
        real_count = sum(1 for _ in lines)
    questions = [bench.queries[q].text for q in bench.sets["bioasq"]][: args.scale_queries]
    measured = {}
    for label, settings in (
        ("exact dense", {"exact_search_limit": 10**12}),
        ("default (approximate past 500k)", {}),
    ):
        measured[label] = run_worker(
            "scale_query",
            {
                "directory": str(directory),
                "queries": questions,
                "modes": ["lexical", "dense", "hybrid"],
                "budget_s": args.scale_query_budget,
                "settings": settings,
                "query_embedder": MED if replay else STATIC,
            },
            args.cache,
            f"scale {size}: latency, {label}",
        )
    return {
        "size": f"{size} (minilm-med vectors replayed)" if replay else size,
        "passages": total,
        "real_passages": min(real_count, total),
        "replicated": max(0, total - real_count),
        "build": info,
        "disk_mb": disk_mb(directory / "index"),
        "vectors_disk_mb": sum(f.stat().st_size for f in (directory / "index").rglob("vectors.npy")) / 1e6,
        "measured": measured,
    }


def print_scale(results: list[dict[str, Any]]) -> str:
    from rich.console import Console
    from rich.table import Table

    columns = [
        "passages (real + replicated)",
        "build s",
        "build peak RSS MB",
        "index on disk MB",
        "index RAM MB (RSS delta / arrays+vocab+vectors)",
        "lexical p50/p95 ms",
        "dense p50/p95 ms",
        "hybrid p50/p95 ms",
        "queries",
        "dense R@10 vs exact",
    ]
    table = Table(
        title="scale run (hybrid = default settings + vocabulary, k=10, query embedding included)", title_justify="left"
    )
    table.add_column("run")
    for column in columns:
        table.add_column(column, justify="right")
    markdown = ["| run | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for result in results:
        if "error" in result:
            table.add_row(result.get("size", "?"), result["error"], *[""] * (len(columns) - 1))
            continue
        for label, measured in result["measured"].items():
            if "error" in measured:
                cells = [measured["error"]] + [""] * (len(columns) - 1)
            else:
                ram = measured["rss_after_mb"] - measured["rss_before_mb"]
                parts = measured["arrays_mb"] + measured["vocabulary_mb"] + measured["vectors_mb"]
                cells = [
                    f"{result['passages']:,} ({result['real_passages']:,} + {result['replicated']:,})",
                    f"{result['build']['seconds']:.0f}",
                    f"{result['build']['peak_rss_mb']:.0f}",
                    f"{result['disk_mb']:.0f}",
                    f"{ram:.0f} / {parts:.0f}",
                    *[
                        f"{measured[m]['p50_ms']:.0f} / {measured[m]['p95_ms']:.0f}"
                        for m in ("lexical", "dense", "hybrid")
                    ],
                    str(min(measured[m]["n"] for m in ("lexical", "dense", "hybrid"))),
                    f"{measured['dense_recall10_vs_exact']:.3f}"
                    if "dense_recall10_vs_exact" in measured
                    else "1 (exact)",
                ]
            name = f"{result['size']} {label}"
            table.add_row(name, *cells)
            markdown.append(f"| {name} | " + " | ".join(cells) + " |")
    Console(width=200).print(table)
    return "\n".join(markdown)


WORKERS.update(
    build=worker_build,
    search=worker_search,
    bm25s=worker_bm25s,
    candidates=worker_candidates,
    scale_build=worker_scale_build,
    scale_query=worker_scale_query,
)


# -- command line -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="pooled corpus, libraries, results")
    parser.add_argument("--limit-queries", type=int, help="first N queries of each set (fixed hash order)")
    parser.add_argument(
        "--systems",
        default=",".join(SYSTEMS),
        help=f"comma-separated, or 'none': {', '.join(SYSTEMS)}, tuned (default: all but tuned)",
    )
    parser.add_argument("--sets", default=",".join(TEST_SETS), help=f"query sets to report: {', '.join(ALL_SETS)}")
    parser.add_argument("--scale", choices=("none", "100k", "1m", "both"), default="none")
    parser.add_argument("--tune", action="store_true", help="sweep fusion settings on the dev sets")
    parser.add_argument("--embedders", default=f"{STATIC},{ONNX}", help="dense models the --tune sweep covers")
    parser.add_argument(
        "--tuned", default=None, help="settings of the 'tuned' system, JSON, e.g. '{\"dense_weight\": 0.5}'"
    )
    parser.add_argument("--latency-queries", type=int, default=200, help="single-query timings per set")
    parser.add_argument("--scale-queries", type=int, default=300, help="BioASQ questions timed in the scale run")
    parser.add_argument(
        "--scale-vectors",
        type=Path,
        help="scale run on LIBRARY's passages and stored vectors (e.g. the minilm-med library of "
        "answers.py --scale 100000) instead of embedding: replicas reuse their source's vector plus noise",
    )
    parser.add_argument("--scale-budget", type=float, default=1200, help="seconds per scale build process")
    parser.add_argument("--scale-query-budget", type=float, default=120, help="seconds per mode in the scale run")
    parser.add_argument("--rebuild", action="store_true", help="rebuild cached libraries and scale indexes")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(args.worker)
        return

    began = time.perf_counter()
    bench = load_bench(args.data, args.cache)
    print(
        f"pooled corpus: {bench.documents:,} documents ({', '.join(f'{k} {v:,}' for k, v in bench.sources.items())}); "
        + "; ".join(f"{name} {len(q):,}" for name, q in bench.sets.items()),
        flush=True,
    )
    report: list[str] = []
    if args.tune:
        tune(bench, args)
    names = [] if args.systems == "none" else args.systems.split(",")
    systems = []
    for name in names:
        if name == "tuned":
            settings = {**TUNED, **(json.loads(args.tuned) if args.tuned else {})}
            if "candidates" in settings:
                settings["search_candidates"] = settings.pop("candidates")
            code_only = {k: settings.pop(k) for k in ("rrf_k", "method", "k1", "b") if k in settings}
            if any(v not in (None, 60, "rrf") for v in code_only.values()):
                print(f"note: {code_only} are code changes, not settings; the 'tuned' system runs without them")
            embedder = settings.pop("embedder", STATIC)
            systems.append(tuned_system(embedder, settings))
        elif name in SYSTEMS:
            systems.append(SYSTEMS[name])
        else:
            parser.error(f"unknown system {name!r}; choose from {', '.join(SYSTEMS)}, tuned")
    if systems:
        sets = bench.limited(args.sets.split(","), args.limit_queries)
        results = evaluate_systems(systems, bench, sets, args)
        tables = {name: result_rows(results, bench, name, qids) for name, qids in sets.items()}
        report.append(print_tables(tables, bench, sets))
        for result in results:
            if result.build and "error" not in result.build:
                b = result.build
                print(
                    f"{result.system.name}: library built {b.get('built_at', '?')}: {b['documents']:,} documents, "
                    f"{b['passages']:,} passages, {b['failed']} failed, {b['library_mb']:.0f} MB on disk "
                    f"(index {b['index_mb']:.0f} MB)"
                )
    sizes = {"none": [], "100k": ["100k"], "1m": ["1m"], "both": ["100k", "1m"]}[args.scale]
    if sizes:
        report.append(print_scale([scale_run(size, bench, args) for size in sizes]))
    footer = f"{machine_line()}; wall time {time.perf_counter() - began:.0f} s; command: {' '.join(sys.argv)}"
    print(footer)
    if report:
        results_dir = args.cache / "results"
        results_dir.mkdir(parents=True, exist_ok=True)
        path = results_dir / f"retrieval-{time.strftime('%Y%m%d-%H%M%S')}.md"
        path.write_text("\n\n".join(report) + f"\n\n{footer}\n")
        print(f"Markdown tables: {path}")


if __name__ == "__main__":
    main()
