"""Ingest throughput and memory of the real pipeline (``Library.ingest``) on two real corpora.

For each dataset the source is first converted to contract JSONL in a temporary folder (streamed,
and not part of the timing). Each ingest then runs in a fresh subprocess into a fresh library, so
the peak RSS reported is that ingest's alone. The time is the whole ``Library.ingest`` call:
parsing, classifying, chunking, storing and the search-index refresh at its end. Every dataset is
ingested twice, as its first half and in full, to show whether peak memory grows with corpus size.
The 1-minute load average at the start of each run is reported, since other work on the machine
slows every figure.

    python bench/ingest.py --data ../shared/data [--limit N] [--datasets evidence_inference,bioasq]

Kept out of the test run: it takes minutes and writes hundreds of megabytes to the temp folder.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"


def evidence_inference_records(data: Path) -> Iterator[dict[str, Any]]:
    """4,470 PMC full-text trial reports; the text opens with a 'TITLE:' header holding the title."""
    with gzip.open(data / "evidence_inference" / "fulltexts.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            yield {"id": row["pmcid"], "title": _title_from_header(row["text"]), "text": row["text"]}


def _title_from_header(text: str) -> str:
    head, _, rest = text.partition("TITLE:")
    if head.strip():
        return ""
    for line in rest.splitlines():
        if line.strip():
            return line.strip()
    return ""


def bioasq_records(data: Path) -> Iterator[dict[str, Any]]:
    """18,687 PubMed records made of BioASQ gold snippets: short, often partial abstracts."""
    with gzip.open(data / "bioasq" / "bioasq_snippet_corpus.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            yield {"pmid": row["pmid"], "title": row["title"], "abstract": row["abstract_snippets_merged"]}


DATASETS: dict[str, Callable[[Path], Iterator[dict[str, Any]]]] = {
    "evidence_inference": evidence_inference_records,
    "bioasq": bioasq_records,
}


@dataclass(frozen=True)
class Run:
    """One timed ingest and what the worker subprocess measured."""

    dataset: str
    subset: str
    input_bytes: int
    status: str  # "ok", or why no measurement came back
    result: dict[str, Any]
    library_bytes: int


def write_jsonl(records: Iterator[dict[str, Any]], path: Path, limit: int | None) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            if limit is not None and count >= limit:
                break
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def write_head(source: Path, path: Path, lines: int) -> None:
    with source.open(encoding="utf-8") as handle, path.open("w", encoding="utf-8") as out:
        for number, line in enumerate(handle):
            if number >= lines:
                break
            out.write(line)


def directory_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def run_worker(jsonl: Path, library: Path, result: Path) -> None:
    """The measured part, run in its own process: open a fresh library and time one ingest."""
    from medevidence import Library

    lib = Library.open(library)
    load = os.getloadavg()[0]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    report = lib.ingest([jsonl], progress=True)
    seconds = time.perf_counter() - started
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    passages = lib.stats().passages
    lib.close()
    measured = {
        "documents": report.added + report.updated,
        "duplicates": report.duplicates,
        "failures": len(report.failures),
        "first_failures": [outcome.message for outcome in report.failures[:3]],
        "passages": passages,
        "seconds": seconds,
        "load": load,
        # Linux reports ru_maxrss in KiB.
        "rss_before_bytes": rss_before * 1024,
        "rss_peak_bytes": rss_peak * 1024,
    }
    result.write_text(json.dumps(measured), encoding="utf-8")


def measure(dataset: str, subset: str, jsonl: Path, workdir: Path, timeout: float) -> Run:
    library = workdir / f"library-{dataset}-{subset}"
    result = workdir / f"result-{dataset}-{subset}.json"
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", str(jsonl), str(library), str(result)]
    try:
        completed = subprocess.run(command, timeout=timeout, check=False)
        status = _exit_status(completed.returncode)
    except subprocess.TimeoutExpired:
        status = f"timeout after {timeout:.0f} s"
    measured = json.loads(result.read_text(encoding="utf-8")) if status == "ok" else {}
    size = directory_bytes(library) if library.exists() else 0
    return Run(dataset, subset, jsonl.stat().st_size, status, measured, size)


def _exit_status(code: int) -> str:
    if code == 0:
        return "ok"
    if code == -9:
        return "killed (SIGKILL, likely out of memory)"
    return f"worker exited with {code}"


def hardware() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.is_file() else []
    model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "")
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{model or platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, "
        f"{memory:.0f} GiB RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def render(runs: list[Run], console: Console) -> None:
    table = Table(title="Library.ingest: one run each, fresh library, fresh process (sizes in MiB)")
    table.add_column("dataset")
    table.add_column("subset")
    for column in ("input", "docs", "dup/fail", "passages", "seconds", "load", "docs/s", "pass/s", "RSS before"):
        table.add_column(column, justify="right")
    table.add_column("peak RSS", justify="right")
    table.add_column("on disk", justify="right")
    for run in runs:
        cells = [run.dataset, run.subset, _mib(run.input_bytes)]
        if run.status != "ok":
            table.add_row(*cells, f"[red]{run.status}[/]", *[""] * 9)
            continue
        r = run.result
        seconds = r["seconds"]
        table.add_row(
            *cells,
            f"{r['documents']:,}",
            f"{r['duplicates']:,}/{r['failures']:,}",
            f"{r['passages']:,}",
            f"{seconds:.1f}",
            f"{r['load']:.1f}",
            f"{r['documents'] / seconds:,.1f}",
            f"{r['passages'] / seconds:,.0f}",
            _mib(r["rss_before_bytes"]),
            _mib(r["rss_peak_bytes"]),
            _mib(run.library_bytes),
        )
    console.print(table)
    memory_growth(runs, console)
    for run in runs:
        for message in run.result.get("first_failures", []):
            console.print(f"[yellow]{run.dataset} {run.subset} failure:[/] {message}")


def memory_growth(runs: list[Run], console: Console) -> None:
    """Compare peak RSS of the half and full ingest of each dataset: flat means memory is bounded."""
    by_dataset: dict[str, dict[str, Run]] = {}
    for run in runs:
        if run.status == "ok":
            by_dataset.setdefault(run.dataset, {})[run.subset] = run
    for dataset, pair in by_dataset.items():
        if "half" not in pair or "full" not in pair:
            continue
        half, full = pair["half"].result, pair["full"].result
        console.print(
            f"{dataset}: peak RSS {_mib(half['rss_peak_bytes'])} MiB for {half['documents']:,} documents, "
            f"{_mib(full['rss_peak_bytes'])} MiB for {full['documents']:,} "
            f"({full['rss_peak_bytes'] / half['rss_peak_bytes'] - 1:+.0%})"
        )


def _mib(size: int) -> str:
    return f"{size / 2**20:,.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared datasets folder")
    parser.add_argument("--limit", type=int, help="ingest at most N documents per dataset (default: all)")
    parser.add_argument(
        "--datasets",
        default=",".join(DATASETS),
        help=f"comma-separated, from: {', '.join(DATASETS)} (default: all)",
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per ingest run")
    parser.add_argument("--worker", nargs=3, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        run_worker(*args.worker)
        return 0
    names = [name.strip() for name in args.datasets.split(",") if name.strip()]
    unknown = [name for name in names if name not in DATASETS]
    if unknown:
        parser.error(f"unknown dataset {', '.join(unknown)}; choose from: {', '.join(DATASETS)}")
    if not args.data.is_dir():
        parser.error(f"--data {args.data} is not a folder; point it at the shared datasets (../shared/data)")
    if args.limit is not None and args.limit < 2:
        parser.error("--limit must be at least 2, so that the half-size subset is not empty")

    # Piped or redirected output would otherwise be cut to 80 columns and wrap the table.
    console = Console(width=None if sys.stdout.isatty() else 150)
    console.print(f"[bold]hardware:[/] {hardware()}")
    console.print(f"[bold]command:[/] {shlex.join([Path(sys.executable).name, *sys.argv])}")
    console.print("Conversion to contract JSONL is streamed and not timed; the time is Library.ingest only.")
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="medevidence-bench-") as tmp:
        workdir = Path(tmp)
        for name in names:
            full = workdir / f"{name}.jsonl"
            count = write_jsonl(DATASETS[name](args.data), full, args.limit)
            half = workdir / f"{name}-half.jsonl"
            write_head(full, half, count // 2)
            for subset, jsonl in ((f"half ({count // 2:,})", half), (f"full ({count:,})", full)):
                console.print(f"ingesting {name} {subset} ...")
                runs.append(measure(name, subset.split()[0], jsonl, workdir, args.timeout))
    render(runs, console)
    return 0 if all(run.status == "ok" for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
