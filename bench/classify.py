"""How well the text rules of ``medevidence.ingest.classify`` recognise study designs.

Classifies documents whose design is known *from their text only* (no publication types, no
MeSH), so the phrase rules are measured on their own, and prints accuracy per source with the
wrong labels it gave, then throughput.

Data (``--data``, default ``../shared/data`` beside the repository), each with its label:

* Evidence Inference: PubMed Central reports of randomised trials -> randomized controlled trial.
  Abstracts (title + abstract, and abstract alone); full texts with ``--full-texts N``.
* PubMedRS-200: abstracts of the systematic reviews the questions come from -> systematic review.
  With and without the title (most titles say "systematic review").
* PubMedQA (PQA-L): abstracts labelled from their MeSH check tags. MeSH does not pin a design
  down exactly, so each tag family accepts a set: Animals without Humans -> animal/lab; Random
  Allocation or Double-/Single-Blind Method -> RCT; Case-Control Studies -> case-control;
  Cohort/Retrospective/Prospective/Longitudinal/Follow-Up Studies -> any observational design
  (cohort, case-control, case series). Abstracts with none of these tags are left out.
* MedQuAD: answers from NIH consumer-health pages (the answered pairs) -> patient information.

``--part dev`` / ``--part held-out`` split every source by a stable hash of the document id
(a quarter held out), so rules can be developed on one part and reported on the other.

    .venv/bin/python bench/classify.py [--data DIR] [--part all|dev|held-out] [--full-texts 500]
"""

from __future__ import annotations

import argparse
import collections
import csv
import gzip
import json
import os
import platform
import sys
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from medevidence.ingest.classify import classify
from medevidence.models import ParsedDocument, SourceFormat, StudyDesign

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
OBSERVATIONAL = frozenset({StudyDesign.COHORT, StudyDesign.CASE_CONTROL, StudyDesign.CASE_SERIES})


@dataclass(frozen=True)
class Item:
    source: str
    key: str
    title: str
    text: str
    label: str
    accepted: frozenset[StudyDesign]


def held_out(key: str) -> bool:
    return zlib.crc32(key.encode()) % 4 == 0


def evidence_inference_abstracts(data: Path) -> Iterator[Item]:
    with gzip.open(data / "evidence_inference" / "abstracts_clean.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if not record["abstract"].strip():
                continue
            for source, title in (("evidence_inference", record["title"]), ("evidence_inference (no title)", "")):
                yield Item(source, record["pmcid"], title, record["abstract"], "RCT", frozenset({StudyDesign.RCT}))


def evidence_inference_full_texts(data: Path, limit: int) -> Iterator[Item]:
    with gzip.open(data / "evidence_inference" / "fulltexts.jsonl.gz", "rt", encoding="utf-8") as handle:
        for count, line in enumerate(handle):
            if count >= limit:
                return
            record = json.loads(line)
            rct = frozenset({StudyDesign.RCT})
            yield Item("evidence_inference full text", record["pmcid"], "", record["text"], "RCT", rct)


def pubmedrs(data: Path) -> Iterator[Item]:
    with open(data / "pubmedrs200" / "PubMedRS-200.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            review = frozenset({StudyDesign.SYSTEMATIC_REVIEW})
            for source, title in (("pubmedrs200", row["Title"]), ("pubmedrs200 (no title)", "")):
                yield Item(source, row["PMID"], title, row["Abstract"], "systematic review", review)


def pubmedqa_label(meshes: set[str]) -> tuple[str, frozenset[StudyDesign]] | None:
    if "Animals" in meshes and "Humans" not in meshes:
        return "animal/lab", frozenset({StudyDesign.ANIMAL_LAB})
    if meshes & {"Random Allocation", "Double-Blind Method", "Single-Blind Method"}:
        return "RCT", frozenset({StudyDesign.RCT})
    if "Case-Control Studies" in meshes:
        return "case-control", frozenset({StudyDesign.CASE_CONTROL})
    cohort_tags = {"Cohort Studies", "Retrospective Studies", "Prospective Studies", "Longitudinal Studies"}
    if meshes & (cohort_tags | {"Follow-Up Studies"}):
        return "observational", OBSERVATIONAL
    return None


def pubmedqa(data: Path) -> Iterator[Item]:
    records = json.loads((data / "pubmedqa" / "ori_pqal.json").read_text(encoding="utf-8"))
    for pmid, record in records.items():
        label = pubmedqa_label(set(record["MESHES"]))
        if label is None:
            continue
        # The QUESTION is the title rewritten as a question, so it is not used as a title.
        text = "\n\n".join([*record["CONTEXTS"], record["LONG_ANSWER"]])
        yield Item("pubmedqa", pmid, "", text, label[0], label[1])


def medquad(data: Path) -> Iterator[Item]:
    with gzip.open(data / "medquad" / "medquad.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if record["answer"].strip():
                patient = frozenset({StudyDesign.PATIENT_INFORMATION})
                yield Item("medquad", record["qid"], "", record["answer"], "patient information", patient)


@dataclass
class Outcome:
    n: int = 0
    correct: int = 0
    seconds: float = 0.0
    wrong: collections.Counter[str] | None = None


def run(items: Iterator[Item], part: str) -> dict[tuple[str, str], Outcome]:
    outcomes: dict[tuple[str, str], Outcome] = {}
    for item in items:
        if part != "all" and held_out(item.key) != (part == "held-out"):
            continue
        document = ParsedDocument(text=item.text, title=item.title, source_format=SourceFormat.JSONL)
        started = time.process_time()
        design = classify(document).design
        elapsed = time.process_time() - started
        outcome = outcomes.setdefault((item.source, item.label), Outcome(wrong=collections.Counter()))
        outcome.n += 1
        outcome.seconds += elapsed
        if design in item.accepted:
            outcome.correct += 1
        elif outcome.wrong is not None:
            outcome.wrong[design.name.lower()] += 1
    return outcomes


def report(outcomes: dict[tuple[str, str], Outcome], args: argparse.Namespace) -> None:
    console = Console(width=160)
    table = Table(title=f"Study-design classification from text only ({args.part} part)")
    for column in ("source", "label", "n", "accuracy", "docs/s", "wrong labels given (count)"):
        table.add_column(column, justify="right" if column in ("n", "accuracy", "docs/s") else "left")
    total_n = total_correct = 0
    total_seconds = 0.0
    for (source, label), outcome in outcomes.items():
        total_n += outcome.n
        total_correct += outcome.correct
        total_seconds += outcome.seconds
        wrong = ", ".join(f"{name} {count}" for name, count in (outcome.wrong or collections.Counter()).most_common(4))
        table.add_row(
            source,
            label,
            str(outcome.n),
            f"{outcome.correct / outcome.n:.1%}",
            f"{outcome.n / outcome.seconds:,.0f}",
            wrong or "-",
        )
    table.add_section()
    table.add_row("all", "", str(total_n), f"{total_correct / total_n:.1%}", f"{total_n / total_seconds:,.0f}", "")
    console.print(table)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    console.print(
        f"Hardware: {platform.machine()}, {os.cpu_count()} CPU, load average {load}, Python "
        f"{platform.python_version()}; one run, one process; docs/s = documents per CPU second spent in classify(). "
        f"Command: {Path(sys.executable).name} {' '.join(sys.argv)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder (default: %(default)s)")
    parser.add_argument("--part", choices=("all", "dev", "held-out"), default="all", help="which hash split to score")
    parser.add_argument("--full-texts", type=int, default=0, metavar="N", help="also score the first N RCT full texts")
    args = parser.parse_args()
    if not args.data.is_dir():
        parser.error(f"no data folder at {args.data}; pass --data DIR (the folder holding evidence_inference/ etc.)")

    def items() -> Iterator[Item]:
        yield from evidence_inference_abstracts(args.data)
        yield from evidence_inference_full_texts(args.data, args.full_texts)
        yield from pubmedrs(args.data)
        yield from pubmedqa(args.data)
        yield from medquad(args.data)

    report(run(items(), args.part), args)


if __name__ == "__main__":
    main()
