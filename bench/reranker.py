"""Experiment: does a cross-encoder reranker, trained here, improve the hybrid search? (Not shipped.)

No cross-encoder ships in a package this machine can install, so this trains one and measures it on
the dev sets of bench/retrieval.py. Result (bench/README.md): it does not help enough to ship.

The reranker reads the question and one passage together and scores how well the passage answers
it. It starts from the fine-tuned bi-encoder (scripts/train_embedder.py, checkpoint of the
hard-negatives stage) with a fresh one-output head on the [CLS] token.

Training groups, public sets only, nothing from a test split: for each BioASQ 7b-10b question
(minus bench/retrieval.py's dev quarter and any question repeated in 11b or dev; 11b is never read)
and a sample of Evidence Inference ev2-train prompts, the shipped hybrid search (minilm-med) of the
pooled benchmark library ranks documents; the group is one gold document found there and
``--negatives`` documents from its top 20 that are not gold. Loss: softmax cross-entropy over the
group's scores (the gold passage should win). The passage of a document is the one the search
ranked highest, with its title, as at query time.

Evaluation: the hybrid search's top 100 documents per dev query (first 150 of each dev set); the
reranker scores the best passage of each of the top ``--depth`` documents; the table shows nDCG@10
of the hybrid order, of the reranker's order, and of reciprocal-rank fusion of the two.

Requirements as for scripts/train_embedder.py (torch, transformers, onnx); the pooled library is
built by ``bench/retrieval.py --systems hybrid-med`` (bench/.cache/retrieval/library-minilm-med),
the base checkpoint by scripts/train_embedder.py (bench/.cache/train-embedder).

    OMP_NUM_THREADS=2 .venv/bin/python bench/reranker.py      # about 18 min training, 3 min scoring
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "scripts"))

import numpy as np  # noqa: E402

import retrieval  # noqa: E402
from train_embedder import export_int8_onnx, warmup_then_linear_decay  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data"
DEFAULT_WORK = REPO / "bench" / ".cache" / "train-reranker"
CANDIDATE_DOCUMENTS = 20


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pair_text(title: str, text: str) -> str:
    title = " ".join(title.split())
    return f"{title}. {text}" if title and not text.startswith(title) else text


def training_questions(data: Path, cache: Path, prompts: int, rng: random.Random) -> list[tuple[str, str, set[str]]]:
    """(query id, question, gold document ids) for the training questions."""
    bench = retrieval.load_bench(data, cache)
    held_out = {
        " ".join(bench.queries[q].text.lower().split()) for q in bench.sets["bioasq-11b"] + bench.sets["bioasq-dev"]
    }
    eleven = set(bench.sets["bioasq-11b"])
    chosen = []
    for qid in bench.sets["bioasq-heldout"]:
        query = bench.queries[qid]
        if qid in eleven or " ".join(query.text.lower().split()) in held_out:
            continue
        chosen.append((qid, query.text, set(query.relevant)))
    print(f"BioASQ 7b-10b: {len(chosen)} training questions")
    ei = evidence_inference_train_prompts(
        data, set(bench.queries[q].relevant[0] for q in bench.sets["evidence-inference"])
    )
    sample = rng.sample(ei, min(prompts, len(ei)))
    print(f"Evidence Inference ev2-train: {len(sample)} of {len(ei)} prompts")
    return chosen + sample


def evidence_inference_train_prompts(data: Path, excluded: set[str]) -> list[tuple[str, str, set[str]]]:
    """(prompt id, prompt worded as in bench/retrieval.py, {its trial}) for the ev2-train articles."""
    import csv

    folder = data / "evidence_inference"
    train = set((folder / "splits__ev2_train_article_ids.txt").read_text().split())
    prompts = []
    with (folder / "prompts_merged.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            trial = f"PMC{row['PMCID']}"
            if row["PMCID"] in train and trial not in excluded:
                text = retrieval.EI_TEMPLATE.format(
                    outcome=row["Outcome"].strip(),
                    intervention=row["Intervention"].strip(),
                    comparator=row["Comparator"].strip(),
                )
                prompts.append((f"ei:{row['PromptID']}", " ".join(text.split()), {trial}))
    return prompts


def open_library(path: Path) -> Any:
    from medevidence import Library

    return Library.open(path, embedder="minilm-med", search_mode="hybrid", expand_vocabulary=False)


def best_passages(library: Any, question: str) -> dict[str, str]:
    """Document id -> its best-ranked passage (with title), in the hybrid search's document order."""
    best: dict[str, str] = {}
    for hit in library.search(question, k=200):
        best.setdefault(hit.doc_id, pair_text(hit.title, hit.text))
    return best


def candidate_groups(
    questions: list[tuple[str, str, set[str]]], library_path: Path, negatives: int, rng: random.Random
) -> list[tuple[str, str, list[str]]]:
    """(question, gold passage, negative passages) from the hybrid search's own top documents."""
    library = open_library(library_path)
    groups = []
    began = time.perf_counter()
    for n, (_, question, gold) in enumerate(questions, 1):
        ranked = list(best_passages(library, question).items())
        positives = [text for doc, text in ranked if doc in gold]
        pool = [text for doc, text in ranked[:CANDIDATE_DOCUMENTS] if doc not in gold]
        if positives and len(pool) >= negatives:
            groups.append((question, rng.choice(positives[:3]), rng.sample(pool, negatives)))
        if n % 200 == 0:
            print(f"  searched {n}/{len(questions)} ({time.perf_counter() - began:.0f} s)", flush=True)
    print(f"{len(groups)} of {len(questions)} questions have a gold document and {negatives} negatives in the top")
    return groups


def train(args: argparse.Namespace) -> Path:
    import torch
    import transformers

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    groups_path = args.work / "groups.json"
    if groups_path.exists():
        groups = json.loads(groups_path.read_text())
    else:
        questions = training_questions(args.data, args.bench_cache, args.prompts, rng)
        groups = candidate_groups(questions, args.library, args.negatives, rng)
        groups_path.write_text(json.dumps(groups))
    source = args.base
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(args.base))
    model = transformers.AutoModelForSequenceClassification.from_pretrained(str(source), num_labels=1)
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, weight_decay=0.01)
    per_step = args.batch_questions
    total = args.epochs * ((len(groups) + per_step - 1) // per_step)
    scheduler = warmup_then_linear_decay(optimiser, total)
    model.train()
    started, step, running = time.perf_counter(), 0, 0.0
    for epoch in range(1, args.epochs + 1):
        order = groups[:]
        rng.shuffle(order)
        for start in range(0, len(order), per_step):
            batch = order[start : start + per_step]
            questions = [q for q, positive, negs in batch for _ in range(1 + len(negs))]
            passages = [p for _, positive, negs in batch for p in [positive, *negs]]
            encoded = tokenizer(
                questions,
                passages,
                truncation="only_second",
                max_length=args.max_tokens,
                padding=True,
                return_tensors="pt",
            )
            logits = model(**encoded).logits.view(len(batch), -1)
            value = torch.nn.functional.cross_entropy(logits, torch.zeros(len(batch), dtype=torch.long))
            value.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            scheduler.step()
            optimiser.zero_grad()
            running += float(value.detach())
            step += 1
            if step % 20 == 0:
                elapsed = time.perf_counter() - started
                print(
                    f"epoch {epoch} step {step}/{total} loss {running / 20:.4f} ({elapsed / step:.1f} s/step)",
                    flush=True,
                )
                running = 0.0
    checkpoint = args.work / "checkpoint"
    if checkpoint.exists():
        shutil.rmtree(checkpoint)
    model.save_pretrained(str(checkpoint))
    tokenizer.save_pretrained(str(checkpoint))
    print(f"trained {total} steps in {time.perf_counter() - started:.0f} s; checkpoint {checkpoint}")
    return checkpoint


def export(checkpoint: Path, args: argparse.Namespace) -> Path:
    import torch
    import transformers

    class Score(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = transformers.AutoModelForSequenceClassification.from_pretrained(str(checkpoint)).eval()

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    export_int8_onnx(Score(), args.work / "reranker-float32.onnx", out / "model.onnx", "logits", {0: "batch"})
    size = (out / "model.onnx").stat().st_size / 2**20
    print(f"wrote {out / 'model.onnx'} ({size:.1f} MiB), sha256 {sha256(out / 'model.onnx')}")
    return out


def evaluate(model: Path, args: argparse.Namespace) -> None:
    """nDCG@10 on the dev sets: hybrid, reranker alone, and their reciprocal-rank fusion."""
    import onnxruntime
    from rich.console import Console
    from rich.table import Table
    from tokenizers import Tokenizer

    bench = retrieval.load_bench(args.data, args.bench_cache)
    library = open_library(args.library)
    tokenizer = Tokenizer.from_file(str(args.base / "tokenizer.json"))
    tokenizer.enable_truncation(args.max_tokens, strategy="only_second")
    options = onnxruntime.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    runs: dict[str, list[tuple[str, list[str], list[float]]]] = {}
    pairs, seconds = 0, 0.0
    for name in retrieval.DEV_SETS:
        runs[name] = []
        for qid in bench.sets[name][: args.queries]:
            question = bench.queries[qid].text
            best = best_passages(library, question)
            documents = list(best)[: retrieval.DOC_DEPTH]
            began = time.perf_counter()
            scores = []
            for document in documents[: args.depth]:
                encoding = tokenizer.encode(question, best[document])
                ids = np.array([encoding.ids], dtype=np.int64)
                types = np.array([encoding.type_ids], dtype=np.int64)
                (logits,) = session.run(
                    ["logits"], {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": types}
                )
                scores.append(float(logits[0][0]))
            seconds += time.perf_counter() - began
            pairs += len(scores)
            runs[name].append((qid, documents, scores))

    def reranked(documents: list[str], scores: list[float], weight: float | None, k: int = 5) -> list[str]:
        if weight == 0:
            return documents
        head = list(range(len(scores)))
        by_score = sorted(head, key=lambda i: -scores[i])
        if weight is None:
            order = by_score
        else:
            place = {i: rank for rank, i in enumerate(by_score)}
            order = sorted(head, key=lambda i: -(1 / (k + i + 1) + weight / (k + place[i] + 1)))
        return [documents[i] for i in order] + documents[len(head) :]

    # weight None: the reranker's order alone; 0: the hybrid order (reranker unused)
    variants = [("hybrid (minilm-med), as shipped", 0.0), (f"reranker alone, top {args.depth}", None)]
    variants += [(f"RRF hybrid + {w} x reranker (k=5), top {args.depth}", w) for w in (0.25, 0.5, 1.0)]
    table = Table(title=f"dev nDCG@10 (first {args.queries} queries of each set)", title_justify="left")
    table.add_column("system")
    for name in retrieval.DEV_SETS:
        table.add_column(name, justify="right")
    for label, weight in variants:
        values = []
        for rows in runs.values():
            rankings = {qid: reranked(documents, scores, weight) for qid, documents, scores in rows}
            values.append(retrieval.mean_scores(rankings, [qid for qid, _, _ in rows], bench.queries)["ndcg10"])
        table.add_row(label, *[f"{v:.4f}" for v in values])
    Console(width=160).print(table)
    print(f"reranker speed: {pairs / seconds:.0f} passages/s, one (question, passage) pair per run")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--bench-cache", type=Path, default=REPO / "bench" / ".cache" / "retrieval")
    parser.add_argument("--library", type=Path, default=REPO / "bench" / ".cache" / "retrieval" / "library-minilm-med")
    parser.add_argument(
        "--base", type=Path, default=REPO / "bench" / ".cache" / "train-embedder" / "checkpoint-hard-negatives"
    )
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--out", type=Path, default=DEFAULT_WORK / "onnx")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--negatives", type=int, default=3)
    parser.add_argument("--batch-questions", type=int, default=8)
    parser.add_argument("--prompts", type=int, default=500)
    parser.add_argument("--learning-rate", type=float, default=3e-5)
    parser.add_argument("--max-tokens", type=int, default=192)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--depth", type=int, default=20, help="documents reranked per query")
    parser.add_argument("--queries", type=int, default=150, help="queries per dev set")
    parser.add_argument("--evaluate-only", action="store_true", help="score the exported model without training")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    model = args.out / "model.onnx"
    if not args.evaluate_only:
        model = export(train(args), args) / "model.onnx"
    evaluate(model, args)


if __name__ == "__main__":
    main()
