"""The pooled benchmark corpus: every abstract in ../shared/data as one library, built once and cached.

Sources, in the order they are written (a PMID already written is skipped, so the fuller text wins):

* **PubMedQA** PQA-L, 1,000 abstracts: CONTEXTS under their own labels and LONG_ANSWER labelled
  CONCLUSIONS, with MeSH terms and year. No title: QUESTION is the title rewritten as a question.
* **PubMedRS-200**, 209 systematic-review abstracts, split at their "LABEL:" lines.
* **BioASQ** snippet corpus, 18,687 PMIDs: merged gold snippets (partial abstracts), no labels.
* **Evidence Inference**, 4,470 PMC trial reports: title and abstract; the 204 without an abstract
  are left out (a title alone states no finding).

PubMedQA and PubMedRS-200 are written as PubMed XML with labelled ``AbstractText``, because the
MEDLINE reader keeps labels as sections and the verdict weighs a sentence by its section. Evidence
Inference has PMC ids and no PMIDs, so it goes in as JSONL with the PMCID as ``id``, its labels left
inline ("BACKGROUND: ...") for the JSONL reader to find; BioASQ snippets have no labels and go in as
JSONL too.

    from corpus import pooled_library
    library, build = pooled_library(data_dir, cache_dir)

The files and the library live under ``<cache>/pooled/``; a later call reuses them (ingest skips
unchanged files), and a change of ``CORPUS_VERSION`` rebuilds both. Ingest skips a file it has
seen, so after a change to the readers, chunking or classifier pass ``rebuild=True``.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medevidence import IngestReport, Library

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
DEFAULT_CACHE = REPO / "bench" / ".cache"
CORPUS_VERSION = 1

Section = tuple[str, str]  # (label, text); an empty label is an unlabelled paragraph


@dataclass(frozen=True)
class Record:
    """One abstract as the corpus writes it."""

    pmid: str | None  # None: written as JSONL with ``key`` as its id
    key: str
    title: str
    sections: list[Section]
    year: int | None = None
    mesh_terms: tuple[str, ...] = ()


def pubmedqa_records(data: Path) -> Iterator[Record]:
    records = json.loads((data / "pubmedqa" / "ori_pqal.json").read_text(encoding="utf-8"))
    for pmid, record in records.items():
        sections = [*zip(record["LABELS"], record["CONTEXTS"], strict=True), ("CONCLUSIONS", record["LONG_ANSWER"])]
        year = int(record["YEAR"]) if str(record.get("YEAR") or "").isdigit() else None
        yield Record(pmid, pmid, "", sections, year, tuple(record["MESHES"]))


_RS_LABEL = re.compile(r"(?m)^([A-Z][A-Za-z ,/&-]{2,}):[ \t]*$")


def pubmedrs_records(data: Path) -> Iterator[Record]:
    with (data / "pubmedrs200" / "PubMedRS-200.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            abstract = _unmangle(row["Abstract"])
            parts = _RS_LABEL.split(abstract)
            # split() alternates text and labels: [preamble, label, text, label, text, ...]
            sections = [("", parts[0].strip())] if parts[0].strip() else []
            sections += [(label, text.strip()) for label, text in zip(parts[1::2], parts[2::2], strict=True)]
            year = re.search(r"\b(19|20)\d\d\b", row["PublishedDate"])
            yield Record(row["PMID"], row["PMID"], _unmangle(row["Title"]), sections, int(year[0]) if year else None)


def _unmangle(text: str) -> str:
    """The CSV holds UTF-8 read as Latin-1 and saved again ("2Â\\xa0years"); undo that where it applies."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return text


def bioasq_records(data: Path) -> Iterator[Record]:
    with gzip.open(data / "bioasq" / "bioasq_snippet_corpus.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            yield Record(row["pmid"], row["pmid"], row["title"], [("", row["abstract_snippets_merged"])])


def evidence_inference_records(data: Path) -> Iterator[Record]:
    with gzip.open(data / "evidence_inference" / "abstracts_clean.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row["abstract"].strip():
                yield Record(None, row["pmcid"], row["title"], [("", row["abstract"])])


# name -> (reader, file format); written in this order
SOURCES: dict[str, tuple[Callable[[Path], Iterator[Record]], str]] = {
    "pubmedqa": (pubmedqa_records, "xml"),
    "pubmedrs200": (pubmedrs_records, "xml"),
    "bioasq": (bioasq_records, "jsonl"),
    "evidence_inference": (evidence_inference_records, "jsonl"),
}


# Not xml.sax.saxutils: it imports urllib.request -> http, which bench/http_load.py hides when bench/ is on sys.path.
_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 cannot carry


def escape(text: str) -> str:
    return _NOT_XML.sub("", text).translate(_XML_ESCAPES)


def _xml_article(record: Record) -> str:
    parts = []
    for label, text in record.sections:
        if text.strip():
            attribute = f' Label="{escape(label)}"' if label else ""
            parts.append(f"<AbstractText{attribute}>{escape(text)}</AbstractText>")
    mesh = "".join(
        f"<MeshHeading><DescriptorName>{escape(term)}</DescriptorName></MeshHeading>" for term in record.mesh_terms
    )
    year = f"<PubDate><Year>{record.year}</Year></PubDate>" if record.year else "<PubDate/>"
    return (
        f"<PubmedArticle><MedlineCitation><PMID>{escape(record.key)}</PMID><Article>"
        f"<Journal><JournalIssue>{year}</JournalIssue></Journal>"
        f"<ArticleTitle>{escape(record.title)}</ArticleTitle><Abstract>{''.join(parts)}</Abstract></Article>"
        f"<MeshHeadingList>{mesh}</MeshHeadingList></MedlineCitation></PubmedArticle>\n"
    )


def _jsonl_line(record: Record) -> str:
    text = "\n".join(f"{label}: {body}" if label else body for label, body in record.sections if body.strip())
    line: dict[str, Any] = {"pmid": record.pmid} if record.pmid else {"id": record.key}
    line.update(title=record.title, abstract=text)
    return json.dumps(line, ensure_ascii=False) + "\n"


def write_sources(data: Path, directory: Path) -> dict[str, int]:
    """One file per source under ``directory``; returns the records written per source."""
    directory.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    counts: dict[str, int] = {}
    for name, (reader, kind) in SOURCES.items():
        path = directory / f"{name}.{kind}"
        count = 0
        with path.open("w", encoding="utf-8") as handle:
            if kind == "xml":
                handle.write('<?xml version="1.0" encoding="UTF-8"?>\n<PubmedArticleSet>\n')
            for record in reader(data):
                if record.pmid is not None and record.pmid in seen:
                    continue
                if record.pmid is not None:
                    seen.add(record.pmid)
                handle.write(_xml_article(record) if kind == "xml" else _jsonl_line(record))
                count += 1
            if kind == "xml":
                handle.write("</PubmedArticleSet>\n")
        counts[name] = count
    return counts


@dataclass(frozen=True)
class Build:
    """How the pooled library came to be in this run."""

    records: dict[str, int]  # per source, as written
    ingest_seconds: float  # 0 when every file was already ingested
    report: IngestReport
    documents: int
    passages: int
    library: Path


def source_files(data: Path, cache: Path) -> tuple[list[Path], dict[str, int]]:
    """The corpus files, written unless a manifest of this ``CORPUS_VERSION`` says they are there."""
    root = cache / "pooled"
    manifest = root / "manifest.json"
    files = [root / "sources" / f"{name}.{kind}" for name, (_, kind) in SOURCES.items()]
    if manifest.is_file() and all(f.is_file() for f in files):
        stamp = json.loads(manifest.read_text(encoding="utf-8"))
        if stamp.get("version") == CORPUS_VERSION:
            return files, stamp["records"]
    # Stale files or library from another corpus version would mix two corpora in one index.
    shutil.rmtree(root, ignore_errors=True)
    counts = write_sources(data, root / "sources")
    manifest.write_text(json.dumps({"version": CORPUS_VERSION, "records": counts}, indent=1), encoding="utf-8")
    return files, counts


FULLTEXT_BATCH = 250  # Evidence Inference full texts per file: the unit a scaled library grows by


def fulltext_files(data: Path, cache: Path) -> list[Path]:
    """Evidence Inference full texts (PMC trial reports, ~3,900 words each) as JSONL batches, written once.

    Each is its own document, id ``<PMCID>-full``, beside the abstract of the same trial: a long
    real text to grow a library to a size, not new evidence.
    """
    directory = cache / "pooled" / "fulltext"
    done = directory / "complete"
    if not done.is_file():
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        with gzip.open(data / "evidence_inference" / "fulltexts.jsonl.gz", "rt", encoding="utf-8") as handle:
            rows = [row for row in map(json.loads, handle) if row["text"].strip()]
        for first in range(0, len(rows), FULLTEXT_BATCH):
            with (directory / f"fulltext-{first // FULLTEXT_BATCH:03d}.jsonl").open("w", encoding="utf-8") as out:
                for row in rows[first : first + FULLTEXT_BATCH]:
                    line = {"id": f"{row['pmcid']}-full", "title": _title_of(row["text"]), "text": row["text"]}
                    out.write(json.dumps(line, ensure_ascii=False) + "\n")
        done.touch()
    return sorted(directory.glob("fulltext-*.jsonl"))


def _title_of(text: str) -> str:
    """The line after the "TITLE:" header these texts open with, or nothing."""
    head, _, rest = text.partition("TITLE:")
    return "" if head.strip() else next((line.strip() for line in rest.splitlines() if line.strip()), "")


def pooled_library(
    data: Path = DEFAULT_DATA,
    cache: Path = DEFAULT_CACHE,
    rebuild: bool = False,
    min_passages: int = 0,
    **settings: Any,
) -> tuple[Library, Build]:
    """The pooled library, ingested on first use (or afresh with ``rebuild``); ``settings`` go to ``Library.open``.

    With ``min_passages`` it is a separate library, grown past that many passages by adding
    Evidence Inference full texts a batch at a time: for latency at a given size.
    """
    files, counts = source_files(data, cache)
    path = cache / "pooled" / ("library" if not min_passages else f"library-{min_passages}")
    if rebuild:
        shutil.rmtree(path, ignore_errors=True)
    library = Library.open(path, **settings)
    started = time.perf_counter()
    report = library.ingest(files)
    changed = report.unchanged_files < len(files)
    if min_passages:
        full = 0
        for batch in fulltext_files(data, cache):
            if library.stats().passages >= min_passages:
                break
            batch_report = library.ingest([batch])
            report.outcomes.extend(batch_report.outcomes)
            changed = changed or batch_report.unchanged_files == 0
            full += FULLTEXT_BATCH
        counts = {**counts, "evidence_inference full texts (up to)": full}
    seconds = time.perf_counter() - started if changed else 0.0
    stats = library.stats()
    return library, Build(counts, seconds, report, stats.documents, stats.passages, path)
