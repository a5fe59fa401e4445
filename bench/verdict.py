"""How often the yes/no verdict of ``medevidence.stance`` matches expert answers.

Each question is parsed with ``parse_question``; every sentence of its evidence gets a stance
from ``finding_stance`` and a relevance: the mean of the sentence's and its passage's
``QuestionFrame.relevance``, times ``finding_weight`` (section, or wording when unlabelled);
``verdict`` weighs them by evidence level. Settings:

* **PubMedQA oracle**: the question's own abstract (CONTEXTS with their section labels, and
  LONG_ANSWER labelled CONCLUSIONS), one study, at the level ``medevidence.ingest.classify``
  gives it from its text and MeSH terms. Gold yes/no/maybe; our mixed and insufficient count
  as maybe.
* **PubMedQA retrieval**: a library built from all 1,000 PQA-L abstracts (same text, MeSH
  terms, PMID as id, no section labels) in a temporary directory; the evidence is the first
  ``--k`` distinct documents among the passages ``Library.search`` returns for the question,
  each read whole with its stored level and weighted by 1/rank squared.
* **BioASQ yes/no**: the gold snippets (one study per PMID, all "not graded": snippets carry
  no design). Gold is yes or no, so mixed and insufficient are wrong answers ("abstained");
  a second row shows the same run with abstentions answered "yes", the prior a user would
  fall back on, so the lift over the majority class can be read honestly.

Splits: the lexicon and thresholds were tuned on the **dev** parts only (PubMedQA: the 500
PQA-L questions outside the official test set; BioASQ 7b-10b). The **held-out** parts are
the official PubMedQA test set (500) and BioASQ 11b.

    .venv/bin/python bench/verdict.py [--data DIR] [--part dev|held-out|all] [--no-retrieval] [--k 5]
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from medevidence.ingest.classify import classify
from medevidence.models import EvidenceLevel, ParsedDocument, SourceFormat, Verdict
from medevidence.question import QuestionFrame, parse_question
from medevidence.sentences import sentence_spans
from medevidence.stance import Finding, finding_stance, finding_weight, verdict

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
LABELS_3 = ("yes", "no", "maybe")
LABELS_2 = ("yes", "no")


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    gold: str


@dataclass
class Run:
    """Predictions of one setting on one split."""

    name: str
    labels: tuple[str, ...]
    pairs: list[tuple[str, str]]  # (gold, predicted)
    seconds: float


def findings_from(
    text: str,
    frame: QuestionFrame,
    level: EvidenceLevel,
    source: str,
    scale: float = 1.0,
    section: str | None = None,
    passage: str | None = None,
) -> list[Finding]:
    """A finding per sentence that states one; relevance blends the sentence's and its passage's."""
    around = frame.relevance(passage if passage is not None else text)
    findings = []
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        stance = finding_stance(sentence, frame)
        if stance is None:
            continue
        relevance = (around + frame.relevance(sentence)) / 2 * finding_weight(sentence, section) * scale
        findings.append(Finding(stance, level, relevance, source=source))
    return findings


def as_label(result: Verdict, labels: tuple[str, ...]) -> str:
    if result is Verdict.YES:
        return "yes"
    if result is Verdict.NO:
        return "no"
    return "maybe" if "maybe" in labels else "abstain"


# -- PubMedQA ------------------------------------------------------------------------------


def pubmedqa(data: Path) -> tuple[dict[str, dict[str, object]], set[str]]:
    records = json.loads((data / "pubmedqa" / "ori_pqal.json").read_text(encoding="utf-8"))
    test = set(json.loads((data / "pubmedqa" / "test_ground_truth.json").read_text(encoding="utf-8")))
    return records, test


def abstract_text(record: dict[str, object]) -> str:
    contexts = record["CONTEXTS"]
    assert isinstance(contexts, list)
    return "\n\n".join([*contexts, str(record["LONG_ANSWER"])])


def pubmedqa_questions(records: dict[str, dict[str, object]], keys: Iterable[str]) -> list[Question]:
    return [Question(k, str(records[k]["QUESTION"]), str(records[k]["final_decision"])) for k in keys]


def pubmedqa_oracle(records: dict[str, dict[str, object]], questions: list[Question], name: str) -> Run:
    started = time.perf_counter()
    pairs = []
    for question in questions:
        record = records[question.key]
        text = abstract_text(record)
        meshes = record["MESHES"]
        assert isinstance(meshes, list)
        level = classify(ParsedDocument(text=text, source_format=SourceFormat.JSONL, mesh_terms=meshes)).level
        frame = parse_question(question.text)
        labels = record["LABELS"]
        contexts = record["CONTEXTS"]
        assert isinstance(labels, list) and isinstance(contexts, list)
        sections = [*zip(contexts, labels, strict=True), (str(record["LONG_ANSWER"]), "CONCLUSIONS")]
        findings = [
            finding
            for part, label in sections
            for finding in findings_from(part, frame, level, question.key, section=label, passage=text)
        ]
        result = verdict(findings, frame)
        pairs.append((question.gold, as_label(result, LABELS_3)))
    return Run(name, LABELS_3, pairs, time.perf_counter() - started)


def pubmedqa_retrieval(
    records: dict[str, dict[str, object]], splits: list[tuple[str, list[Question]]], k: int
) -> list[Run]:
    from medevidence import Library

    runs = []
    with tempfile.TemporaryDirectory(prefix="medevidence-verdict-") as tmp:
        source = Path(tmp) / "pubmedqa.jsonl"
        with source.open("w", encoding="utf-8") as handle:
            for pmid, record in records.items():
                # The QUESTION is the title rewritten as a question, so it is not stored as a title.
                line = {"pmid": pmid, "abstract": abstract_text(record), "mesh_terms": record["MESHES"]}
                handle.write(json.dumps(line) + "\n")
        started = time.perf_counter()
        library = Library.open(Path(tmp) / "library")
        library.ingest([source])
        library.search("warm up the index", k=1)
        print(f"built the PubMedQA library in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        studies: dict[str, tuple[EvidenceLevel, str]] = {}
        for name, questions in splits:
            started = time.perf_counter()
            pairs = []
            for question in questions:
                frame = parse_question(question.text)
                findings: list[Finding] = []
                ranked: list[str] = []
                for hit in library.search(question.text, k=2 * k):
                    if hit.doc_id in ranked:
                        continue
                    ranked.append(hit.doc_id)
                    if len(ranked) > k:
                        break
                    if hit.doc_id not in studies:
                        document = library.document(hit.document_id)
                        studies[hit.doc_id] = (document.evidence_level, document.text)
                    level, text = studies[hit.doc_id]
                    # A verdict weighs studies, so each retrieved study is read whole (its conclusion
                    # is seldom the passage most like the question); lower-ranked ones count less.
                    scale = 1 / len(ranked) ** 2
                    findings.extend(findings_from(text, frame, level, hit.doc_id, scale, passage=hit.text))
                pairs.append((question.gold, as_label(verdict(findings, frame), LABELS_3)))
            runs.append(Run(name, LABELS_3, pairs, time.perf_counter() - started))
        library.close()
    return runs


# -- BioASQ --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BioasqQuestion:
    question: Question
    snippets: tuple[tuple[str, str], ...]  # (pmid, text)


def bioasq(data: Path) -> Iterator[tuple[str, BioasqQuestion]]:
    with gzip.open(data / "bioasq" / "bioasq_7b_11b_questions.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if record["type"] != "yesno":
                continue
            gold = str(record["exact_answer"]).strip().lower()
            snippets = tuple((str(s["pmid"]), str(s["text"])) for s in record["snippets"])
            yield (
                str(record["batch"])[:3].upper(),
                BioasqQuestion(Question(record["id"], record["body"], gold), snippets),
            )


def bioasq_run(items: list[BioasqQuestion], name: str) -> list[Run]:
    started = time.perf_counter()
    pairs = []
    for item in items:
        frame = parse_question(item.question.text)
        findings: list[Finding] = []
        for pmid, text in item.snippets:
            findings.extend(findings_from(text, frame, EvidenceLevel.NOT_GRADED, pmid))
        pairs.append((item.question.gold, as_label(verdict(findings, frame), LABELS_2)))
    seconds = time.perf_counter() - started
    fallback = [(gold, "yes" if predicted == "abstain" else predicted) for gold, predicted in pairs]
    return [
        Run(name, LABELS_2, pairs, seconds),
        Run(name + ", abstain -> yes", LABELS_2, fallback, seconds),
    ]


# -- report --------------------------------------------------------------------------------


def macro_f1(pairs: list[tuple[str, str]], labels: tuple[str, ...]) -> float:
    scores = []
    for label in labels:
        tp = sum(1 for gold, predicted in pairs if gold == label and predicted == label)
        fp = sum(1 for gold, predicted in pairs if gold != label and predicted == label)
        fn = sum(1 for gold, predicted in pairs if gold == label and predicted != label)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


def report(console: Console, runs: list[Run]) -> None:
    table = Table(title="Verdict vs expert yes/no answers")
    for column in ("setting", "n", "accuracy", "majority", "macro-F1", "abstained", "confusion (gold -> predicted)"):
        table.add_column(column, justify="left" if column in ("setting", "confusion (gold -> predicted)") else "right")
    for run in runs:
        n = len(run.pairs)
        correct = sum(1 for gold, predicted in run.pairs if gold == predicted)
        majority = collections.Counter(gold for gold, _ in run.pairs).most_common(1)[0]
        abstained = sum(1 for _, predicted in run.pairs if predicted == "abstain")
        counts = collections.Counter(run.pairs)
        predicted_labels = [*run.labels, "abstain"] if abstained else list(run.labels)
        confusion = "; ".join(
            f"{gold}: " + " ".join(f"{p[0]}{counts[(gold, p)]}" for p in predicted_labels) for gold in run.labels
        )
        table.add_row(
            run.name,
            str(n),
            f"{correct / n:.1%}",
            f"{majority[1] / n:.1%} ({majority[0]})",
            f"{macro_f1(run.pairs, run.labels):.1%}",
            f"{abstained / n:.1%}" if "maybe" not in run.labels else "-",
            confusion,
        )
    console.print(table)
    console.print("confusion letters: y = yes, n = no, m = maybe, a = abstained (mixed or insufficient)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--part", choices=("dev", "held-out", "all"), default="all")
    parser.add_argument("--no-retrieval", action="store_true", help="skip the library-retrieval setting")
    parser.add_argument("--k", type=int, default=5, help="documents retrieved per question")
    args = parser.parse_args(argv)
    console = Console(width=160)
    console.print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()};"
        f" one run; data {args.data}"
    )
    parts = ("dev", "held-out") if args.part == "all" else (args.part,)

    records, test = pubmedqa(args.data)
    pubmed_splits = {
        "dev": pubmedqa_questions(records, [k for k in records if k not in test]),
        "held-out": pubmedqa_questions(records, [k for k in records if k in test]),
    }
    by_batch: dict[str, list[BioasqQuestion]] = collections.defaultdict(list)
    for batch, item in bioasq(args.data):
        by_batch["held-out" if batch == "11B" else "dev"].append(item)

    runs: list[Run] = []
    for part in parts:
        runs.append(pubmedqa_oracle(records, pubmed_splits[part], f"PubMedQA {part}, oracle abstract"))
    if not args.no_retrieval:
        splits = [(f"PubMedQA {part}, retrieval top-{args.k}", pubmed_splits[part]) for part in parts]
        runs.extend(pubmedqa_retrieval(records, splits, args.k))
    for part in parts:
        name = "BioASQ 11b (held-out)" if part == "held-out" else "BioASQ 7b-10b (dev)"
        runs.extend(bioasq_run(by_batch[part], f"{name}, gold snippets"))
    report(console, runs)
    for run in runs:
        console.print(f"{run.name}: {len(run.pairs) / run.seconds:.0f} questions/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
