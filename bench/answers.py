"""End-to-end answers: ``Library.ask`` over benchmark questions, against the pooled corpus as library.

The library is the pooled corpus of ``bench/corpus.py`` (PubMedQA + PubMedRS-200 + BioASQ snippets
+ Evidence Inference abstracts, ~24k documents), built and ingested once under ``--cache``. Each
question is asked once, in this process, one at a time; the first ask (index and embedder load) is
a warm-up outside the timings. Sets (``--sets``):

* ``pubmedqa``: the official 500 PQA-L test questions (``--split dev``: the other 500, used to tune).
  Gold yes/no/maybe; our mixed, insufficient and no verdict count as maybe. The question's own
  abstract, conclusion included, is in the library, as in every "pooled corpus" run.
* ``bioasq-yesno``: the 618 yes/no questions of BioASQ 7b-11b; gold is yes or no, so mixed,
  insufficient and no verdict are abstentions (wrong); a second row answers them "yes".
* ``bioasq-summary``: a seeded sample (``--sample``) of the summary questions, clinician audience.
* ``patient``: the same sample asked for the patient audience, so reading grades pair up.
* ``consumer-patient`` / ``consumer-clinician``: the 104 TREC 2017 LiveQA-Med consumer questions
  (their NLM summaries) asked, by each audience, of a second library: the 2,479 MedQuAD answers
  (NIH consumer-health pages) judged for those questions. The pooled corpus holds research
  abstracts only; this is how answers read when the library has patient-oriented sources.

``--scale 100000`` asks against a separate library, the pooled corpus grown past 100,000 passages
with Evidence Inference full texts (``corpus.pooled_library``), for latency at that size.

Statement metrics cover every statement an answer carries (bottom line, sections, conflicts):
"cited" = at least one citation and each resolves to a reference; "supported" = it passes
``medevidence.verify`` against the spans it cites (patient answers may also use the lay words).
Reading grade is Flesch-Kincaid of an answer's statements joined, citation marks removed.

    .venv/bin/python bench/answers.py [--data DIR] [--cache DIR] [--sets pubmedqa,bioasq-yesno,...]
        [--limit N] [--sample 100] [--split test|dev] [--rebuild] [--scale PASSAGES] [--out FILE.jsonl]
"""

from __future__ import annotations

import argparse
import collections
import csv
import gzip
import json
import os
import platform
import random
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from corpus import DEFAULT_CACHE, DEFAULT_DATA, REPO, Build, pooled_library
from medevidence import Library
from medevidence.compose import COMPOSER_WORDS
from medevidence.errors import StoreError
from medevidence.models import Answer, Audience, Verdict
from medevidence.plain import plain_words, reading_grade
from medevidence.verify import unsupported_statements
from verdict import LABELS_2, LABELS_3, Question, Run, as_label, bioasq, pubmedqa, pubmedqa_questions, report

CONSUMER_SETS = ("consumer-patient", "consumer-clinician")
SETS = ("pubmedqa", "bioasq-yesno", "bioasq-summary", "patient", *CONSUMER_SETS)
PATIENT_SETS = ("patient", "consumer-patient")
PATIENT_GRADE_TARGET = 9.0
_CITATION_MARK = re.compile(r"\s*\[[\d,\s\u2013-]+\]")


@dataclass(frozen=True)
class Outcome:
    """One asked question, measured."""

    set_name: str
    key: str
    gold: str | None
    verdict: Verdict | None
    seconds: float
    produced: bool  # the answer cites at least one reference
    statements: int
    cited: int
    supported: int
    grade: float | None  # None for an answer with no statements
    error: str | None = None  # the exception ``ask`` raised, which the run survives to count it

    def to_json(self) -> dict[str, object]:
        return {
            "set": self.set_name,
            "key": self.key,
            "gold": self.gold,
            "verdict": self.verdict.value if self.verdict else None,
            "seconds": round(self.seconds, 4),
            "produced": self.produced,
            "statements": self.statements,
            "cited": self.cited,
            "supported": self.supported,
            "grade": self.grade,
            "error": self.error,
        }


def measure(answer: Answer, allowed: Sequence[str]) -> tuple[int, int, int, float | None]:
    """Statements, how many are cited, how many are supported, and the reading grade of them all."""
    statements = answer.statements()
    numbers = {reference.n for reference in answer.references}
    cited = sum(1 for s in statements if s.citations and all(n in numbers for n in s.citations))
    unsupported = len(unsupported_statements(answer, allowed))
    text = " ".join(_CITATION_MARK.sub("", s.text) for s in statements)
    return len(statements), cited, len(statements) - unsupported, reading_grade(text) if statements else None


def ask_one(library: Library, set_name: str, question: Question, audience: Audience, allowed: list[str]) -> Outcome:
    gold = question.gold or None
    started = time.perf_counter()
    try:
        answer = library.ask(question.text, audience=audience)
    except Exception as exc:  # one crashing question must not hide the other results
        error = f"{type(exc).__name__}: {exc}"
        return Outcome(set_name, question.key, gold, None, time.perf_counter() - started, False, 0, 0, 0, None, error)
    seconds = time.perf_counter() - started
    statements, cited, supported, grade = measure(answer, allowed)
    produced = bool(answer.references)
    return Outcome(set_name, question.key, gold, answer.verdict, seconds, produced, statements, cited, supported, grade)


def ask_all(
    library: Library,
    set_name: str,
    questions: Sequence[Question],
    audience: Audience,
    progress: Callable[[str], None],
) -> list[Outcome]:
    allowed = list(COMPOSER_WORDS) + (list(plain_words()) if audience is Audience.PATIENT else [])
    outcomes = []
    for number, question in enumerate(questions, start=1):
        outcomes.append(ask_one(library, set_name, question, audience, allowed))
        if number % 50 == 0 or number == len(questions):
            progress(f"{set_name}: {number}/{len(questions)}")
    return outcomes


def bioasq_summary(data: Path, sample: int) -> list[Question]:
    with gzip.open(data / "bioasq" / "bioasq_7b_11b_questions.jsonl.gz", "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    summaries = [Question(row["id"], row["body"], "") for row in rows if row["type"] == "summary"]
    # Seeded, so the clinician and patient runs (and later runs) ask the same questions.
    return random.Random(0).sample(summaries, min(sample, len(summaries)))


def consumer_questions(data: Path) -> list[Question]:
    path = data / "liveqa_med2017" / "TREC-2017-LiveQA-Medical-Test-Questions-w-summaries.xml"
    root = ET.parse(path).getroot()
    return [
        Question(node.get("qid", ""), " ".join((node.findtext("NLM-Summary") or "").split()), "")
        for node in root.iter("NLM-QUESTION")
        if (node.findtext("NLM-Summary") or "").strip()
    ]


def consumer_library(data: Path, cache: Path, rebuild: bool) -> Library:
    """The MedQuAD answers judged for the LiveQA-Med questions, as a library of patient information."""
    source = cache / "consumer" / "sources" / "medquad-liveqa.jsonl"
    path = cache / "consumer" / "library"
    if rebuild:
        shutil.rmtree(path, ignore_errors=True)
    if not source.exists():
        source.parent.mkdir(parents=True, exist_ok=True)
        csv.field_size_limit(sys.maxsize)
        table = data / "medquad" / "liveqa_All-2479-Answers-retrieved-from-MedQuAD.csv"
        with table.open(encoding="utf-8", newline="") as rows, source.open("w", encoding="utf-8") as out:
            for row in csv.DictReader(rows):
                # "Question: ... \nURL: ...\nAnswer: ..."
                parts = re.match(r"Question:\s*(.*?)\s*\nURL:\s*(\S*)\s*\nAnswer:\s*(.*)", row["Answer"], re.DOTALL)
                if not parts or not parts.group(3).strip():
                    continue
                title = re.sub(r"\s*\(Also called:[^)]*\)", "", parts.group(1))
                line = {
                    "id": row["AnswerID"].removesuffix(".txt"),
                    "title": title,
                    "url": parts.group(2),
                    "text": parts.group(3).strip(),
                    "publication_types": ["Patient Education Handout"],
                }
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
    library = Library.open(path)
    started = time.perf_counter()
    report = library.ingest([source])
    if report.unchanged_files == 0:
        stats = library.stats()
        print(
            f"consumer library {path}: {stats.documents:,} documents, {stats.passages:,} passages, "
            f"ingested in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
    return library


# -- report --------------------------------------------------------------------------------


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def answers_table(console: Console, runs: dict[str, list[Outcome]]) -> None:
    table = Table(title="Answers")
    columns = (
        "set",
        "asked",
        "errors",
        "produced",
        "statements",
        "per answer",
        "cited",
        "supported",
        "p50 s",
        "p95 s",
        "max s",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "set" else "right")
    everything = [o for outcomes in runs.values() for o in outcomes]
    for name, outcomes in [*runs.items(), ("all", everything)]:
        produced = [o for o in outcomes if o.produced]
        statements = sum(o.statements for o in outcomes)
        seconds = [o.seconds for o in outcomes]
        table.add_row(
            name,
            str(len(outcomes)),
            str(sum(1 for o in outcomes if o.error)),
            f"{len(produced)} ({len(produced) / len(outcomes):.0%})",
            str(statements),
            f"{statements / len(produced):.1f}" if produced else "-",
            f"{sum(o.cited for o in outcomes) / statements:.1%}" if statements else "-",
            f"{sum(o.supported for o in outcomes) / statements:.1%}" if statements else "-",
            f"{percentile(seconds, 0.5):.2f}",
            f"{percentile(seconds, 0.95):.2f}",
            f"{max(seconds):.2f}",
        )
    console.print(table)
    console.print(
        "errors = asks that raised; produced = answers citing at least one reference; per answer = statements per"
        " produced answer; cited and supported are shares of all statements; seconds per ask, wall clock"
    )
    errors = collections.Counter(o.error for o in everything if o.error)
    for error, count in errors.most_common(5):
        console.print(f"  raised {count}x: {error}")


def grade_table(console: Console, runs: dict[str, list[Outcome]]) -> None:
    table = Table(title="Reading grade (Flesch-Kincaid) of answers by audience")
    for column in ("set", "audience", "answers", "mean", "median", "p90", f"<= {PATIENT_GRADE_TARGET:g}"):
        table.add_column(column, justify="left" if column in ("set", "audience") else "right")
    for name, outcomes in runs.items():
        grades = [o.grade for o in outcomes if o.grade is not None]
        if not grades:
            continue
        audience = "patient" if name in PATIENT_SETS else "clinician"
        within = sum(1 for g in grades if g <= PATIENT_GRADE_TARGET)
        table.add_row(
            name,
            audience,
            str(len(grades)),
            f"{statistics.mean(grades):.1f}",
            f"{statistics.median(grades):.1f}",
            f"{percentile(grades, 0.9):.1f}",
            f"{within / len(grades):.0%}",
        )
    console.print(table)


def verdict_runs(runs: dict[str, list[Outcome]], split: str) -> list[Run]:
    found = []
    for name, labels, title in (
        ("pubmedqa", LABELS_3, f"PubMedQA {split} ({'official test' if split == 'test' else 'non-test'}), ask"),
        ("bioasq-yesno", LABELS_2, "BioASQ 7b-11b yes/no, ask"),
    ):
        if name not in runs:
            continue
        pairs = [(str(o.gold), as_label(o.verdict or Verdict.INSUFFICIENT, labels)) for o in runs[name]]
        seconds = sum(o.seconds for o in runs[name])
        found.append(Run(title, labels, pairs, seconds))
        if labels == LABELS_2:
            fallback = [(gold, "yes" if predicted == "abstain" else predicted) for gold, predicted in pairs]
            found.append(Run(title + ", abstain -> yes", labels, fallback, seconds))
    return found


def verdict_breakdown(console: Console, runs: dict[str, list[Outcome]]) -> None:
    for name in ("pubmedqa", "bioasq-yesno"):
        if name in runs:
            counts = collections.Counter(o.verdict.value if o.verdict else "none" for o in runs[name])
            no_answer = sum(1 for o in runs[name] if not o.produced)
            console.print(
                f"{name} raw verdicts: "
                + ", ".join(f"{label} {counts[label]}" for label in ("yes", "no", "mixed", "insufficient", "none"))
                + f" (none = not read as yes/no, or no relevant passage: {no_answer} answers cite nothing)"
            )


def machine() -> str:
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{model}, {os.cpu_count()} cores (load {load:.1f} at start), Python {platform.python_version()}"


def revision() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "src"], cwd=REPO, capture_output=True, text=True)
    except OSError:
        return "unknown revision"
    return head.stdout.strip() + (" with uncommitted changes in src/" if dirty.stdout.strip() else "")


def library_line(build: Build) -> str:
    ingest = f"ingested in {build.ingest_seconds:.0f} s" if build.ingest_seconds else "already ingested"
    sources = ", ".join(f"{name} {count:,}" for name, count in build.records.items())
    return f"library {build.library}: {build.documents:,} documents, {build.passages:,} passages ({ingest}; {sources})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where the pooled corpus and library live")
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, from {', '.join(SETS)}")
    parser.add_argument("--limit", type=int, help="ask at most this many questions per set")
    parser.add_argument("--sample", type=int, default=100, help="BioASQ summary questions (and patient) sampled")
    parser.add_argument("--split", choices=("test", "dev"), default="test", help="PubMedQA questions to ask")
    parser.add_argument(
        "--rebuild", action="store_true", help="ingest into a fresh library (after reader or chunking changes)"
    )
    parser.add_argument(
        "--scale",
        type=int,
        default=0,
        metavar="PASSAGES",
        help="use a separate library grown past PASSAGES passages with Evidence Inference full texts (latency)",
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "answers.jsonl")
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = sorted(set(chosen) - set(SETS))
    if unknown:
        parser.error(f"unknown set(s) {', '.join(unknown)}; choose from {', '.join(SETS)}")

    console = Console(width=170)
    console.print("command: " + shlex.join([".venv/bin/python", "bench/answers.py", *sys.argv[1:]]))
    console.print(f"{machine()}; {revision()}; one run per question; data {args.data}")
    try:
        library, build = pooled_library(args.data, args.cache, rebuild=args.rebuild, min_passages=args.scale)
    except StoreError as exc:  # a cached library from another schema version
        parser.exit(1, f"answers.py: {exc}\nthe cached library is unusable; run again with --rebuild\n")
    console.print(library_line(build))
    for failure in build.report.failures[:5]:
        console.print(f"ingest failure: {failure.source}: {failure.message}")

    records, test = pubmedqa(args.data)
    keys = [k for k in records if (k in test) == (args.split == "test")]
    summary = bioasq_summary(args.data, args.sample)
    question_sets: dict[str, tuple[list[Question], Audience]] = {
        "pubmedqa": (pubmedqa_questions(records, keys), Audience.CLINICIAN),
        "bioasq-yesno": ([item.question for _, item in bioasq(args.data)], Audience.CLINICIAN),
        "bioasq-summary": (summary, Audience.CLINICIAN),
        "patient": (summary, Audience.PATIENT),
        "consumer-patient": (consumer_questions(args.data), Audience.PATIENT),
        "consumer-clinician": (consumer_questions(args.data), Audience.CLINICIAN),
    }
    library.ask("Does a warm-up question load the index?")

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    consumer = consumer_library(args.data, args.cache, args.rebuild) if set(chosen) & set(CONSUMER_SETS) else None
    runs: dict[str, list[Outcome]] = {}
    for name in chosen:
        questions, audience = question_sets[name]
        asked = consumer if consumer is not None and name in CONSUMER_SETS else library
        runs[name] = ask_all(asked, name, questions[: args.limit], audience, progress)
    library.close()
    if consumer is not None:
        consumer.close()

    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as handle:
        for outcomes in runs.values():
            handle.writelines(json.dumps(o.to_json()) + "\n" for o in outcomes)

    answers_table(console, runs)
    grade_table(console, runs)
    verdicts = verdict_runs(runs, args.split)
    if verdicts:
        report(console, verdicts)
        verdict_breakdown(console, runs)
    console.print(f"per-question results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
