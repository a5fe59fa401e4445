"""Build the bundled starter library in ``starter/`` from the openly licensed datasets in ``../shared/data``.

Three clinical themes (breast cancer, diabetes, cardiovascular disease) are picked by fixed keyword
rules over titles and topics, so the same question finds randomised trials, systematic reviews,
observational studies and patient information. Every source is read in a fixed order and written
sorted by id, so a rebuild is byte-identical; ``--check`` verifies that the committed files match.

    python scripts/build_starter_library.py --data ../shared/data
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
DEFAULT_OUT = REPO / "starter"
REBUILD_COMMAND = "python scripts/build_starter_library.py --data ../shared/data"

# Keyword rules per theme. Matching "breast" alone would pull in breastfeeding trials, and
# "diabetes" alone would pull in diabetes insipidus, a different disease.
THEMES: dict[str, re.Pattern[str]] = {
    "breast cancer": re.compile(
        r"\bbreast (?:cancer|carcinoma|tumou?rs?|neoplasms?)|\bmastectom|\blumpectom|\bductal carcinoma"
        r"|\bmammogra|\bHER2\b|\bBRCA[12]?\b|\btamoxifen|\baromatase inhibitor",
        re.IGNORECASE,
    ),
    "diabetes": re.compile(
        r"\bdiabet(?!es insipidus)|\binsulin|\bHbA1c\b|\bglyc(?:a)?emic control|\bmetformin|\bSGLT2|\bGLP-1",
        re.IGNORECASE,
    ),
    "cardiovascular disease": re.compile(
        r"\bheart (?:failure|disease|attack)|\bhypertensi|\bblood pressure|\batrial fibrillation|\bcoronary"
        r"|\bmyocardial infarction|\bangina\b|\bstroke\b|\bcardiovascular|\bstatins?\b|\bcholesterol",
        re.IGNORECASE,
    ),
}

# MedQuAD's GARD and GHR collections describe rare genetic syndromes whose names merely contain a
# theme word ("maturity-onset diabetes of the young, type 5"); the other NIH sites cover the
# common conditions a starter library is about.
MEDQUAD_COLLECTIONS = frozenset(
    {
        "1_CancerGov_QA",
        "4_MPlus_Health_Topics_QA",
        "5_NIDDK_QA",
        "6_NINDS_QA",
        "7_SeniorHealth_QA",
        "8_NHLBI_QA_XML",
        "9_CDC_QA",
    }
)

# PubMedRS-200's CSV holds UTF-8 text that was decoded as Latin-1 and encoded again
# ("P\u00e2\u0080\u0089<" for "P\u2009<"), and PubMed's inline markup; both are undone here.
_INLINE_MARKUP = re.compile(r"</?(?:i|b|sup|sub)>")


@dataclass(frozen=True)
class Selected:
    """A record for the output file and the themes that selected it."""

    themes: list[str]
    record: dict[str, Any]


@dataclass(frozen=True)
class Source:
    """One output file: where its records come from and how they are described in the README."""

    filename: str
    name: str
    dataset_path: str
    licence: str
    selection: str
    fields: str
    read: Callable[[Path], Iterator[Selected]]


def themes_of(*texts: str) -> list[str]:
    joined = " ".join(texts)
    return [theme for theme, pattern in THEMES.items() if pattern.search(joined)]


def pubmed_url(pmid: str) -> str:
    return f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/"


def read_evidence_inference(data: Path) -> Iterator[Selected]:
    with gzip.open(data / "evidence_inference" / "abstracts_clean.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            title, abstract = row["title"].strip(), row["abstract"].strip()
            # 204 reports have no labelled abstract sections and 26 no title; they would be
            # bare stubs, so only complete title + abstract pairs go in.
            themes = themes_of(title)
            if not title or not abstract or not themes:
                continue
            pmcid = row["pmcid"]
            record = {
                "id": pmcid,
                "title": title,
                "abstract": abstract,
                "url": f"https://www.ncbi.nlm.nih.gov/pmc/articles/{pmcid}/",
            }
            yield Selected(themes, record)


def repair_mojibake(text: str) -> str:
    try:
        text = text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        # Characters outside Latin-1, or bytes that are not UTF-8: the text was stored correctly.
        pass
    return _INLINE_MARKUP.sub("", text).strip()


def read_pubmedrs(data: Path) -> Iterator[Selected]:
    with (data / "pubmedrs200" / "PubMedRS-200.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            title = repair_mojibake(row["Title"])
            themes = themes_of(title, row["SubTopic"])
            if row["specialty"] == "cardiovascular medicine" and "cardiovascular disease" not in themes:
                themes.append("cardiovascular disease")
            if not themes:
                continue
            pmid = row["PMID"].strip()
            record = {
                "pmid": pmid,
                "title": title,
                "abstract": repair_mojibake(row["Abstract"]),
                # PublishedDate is month/day/year.
                "year": int(row["PublishedDate"].rsplit("/", 1)[1]),
                "url": pubmed_url(pmid),
            }
            yield Selected(themes, record)


def read_pubmedqa(data: Path) -> Iterator[Selected]:
    records = json.loads((data / "pubmedqa" / "ori_pqal.json").read_text(encoding="utf-8"))
    for pmid, row in records.items():
        meshes = row.get("MESHES") or []
        themes = themes_of(row["QUESTION"], *meshes)
        if not themes:
            continue
        sections = [
            text.strip() if label == "UNLABELLED" else f"{label}: {text.strip()}"
            for label, text in zip(row["LABELS"], row["CONTEXTS"], strict=True)
        ]
        # PubMedQA keeps the abstract's conclusion apart as LONG_ANSWER; put it back in place.
        sections.append(f"CONCLUSIONS: {row['LONG_ANSWER'].strip()}")
        record: dict[str, Any] = {
            "pmid": pmid,
            "title": row["QUESTION"].strip(),
            "abstract": "\n\n".join(sections),
        }
        if row.get("YEAR"):
            record["year"] = int(row["YEAR"])
        if meshes:
            record["mesh_terms"] = meshes
        record["url"] = pubmed_url(pmid)
        yield Selected(themes, record)


def _qa_order(qid: str) -> tuple[int, str]:
    # qids are "<doc>-<n>"; sort by n numerically so "-10" follows "-9" as on the page.
    number = qid.rsplit("-", 1)[1]
    return (int(number), qid) if number.isdigit() else (sys.maxsize, qid)


def read_medquad(data: Path) -> Iterator[Selected]:
    pages: dict[str, list[dict[str, Any]]] = {}
    with gzip.open(data / "medquad" / "medquad.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if not row["answer"].strip() or row["collection"] not in MEDQUAD_COLLECTIONS:
                continue
            if not themes_of(row["focus"]):
                continue
            # doc_id repeats across collections, so the source site is part of the id.
            pages.setdefault(f"medquad-{row['source']}-{row['doc_id']}", []).append(row)
    for key, pairs in pages.items():
        pairs.sort(key=lambda pair: _qa_order(pair["qid"]))
        first = pairs[0]
        record = {
            "id": key,
            "title": first["focus"].strip(),
            "text": "\n\n".join(f"{pair['question'].strip()}\n{pair['answer'].strip()}" for pair in pairs),
            "url": first["url"],
        }
        yield Selected(themes_of(first["focus"]), record)


SOURCES = (
    Source(
        filename="rct_abstracts.jsonl",
        name="Evidence Inference 2.0: PubMed Central open-access reports of clinical trials, mostly randomised",
        dataset_path="evidence_inference/abstracts_clean.jsonl.gz",
        licence="MIT, Copyright (c) 2019 Eric Lehman, Jay DeYoung, Regina Barzilay, Byron C. Wallace "
        "(https://github.com/jayded/evidence-inference). The articles are PMC open-access reports.",
        selection="title matches a theme rule; reports without a title or without labelled abstract "
        "sections are left out",
        fields="`id` (PMCID), `title`, `abstract`, `url` (the PMC article page, built from the PMCID)",
        read=read_evidence_inference,
    ),
    Source(
        filename="systematic_reviews.jsonl",
        name="PubMedRS-200 (Clinfo.ai): systematic review abstracts from PubMed",
        dataset_path="pubmedrs200/PubMedRS-200.csv",
        licence="MIT, Copyright (c) 2023 som-shahlab (https://github.com/som-shahlab/Clinfo.AI). "
        "Abstract text is from PubMed.",
        selection="title or SubTopic matches a theme rule, or the specialty is cardiovascular medicine; "
        "double-encoded UTF-8 and inline <i>/<sup>/<sub> markup are repaired",
        fields="`pmid`, `title`, `abstract`, `year` (from PublishedDate), `url` (the PubMed page)",
        read=read_pubmedrs,
    ),
    Source(
        filename="pubmed_abstracts.jsonl",
        name="PubMedQA PQA-L: PubMed abstracts (mostly observational studies)",
        dataset_path="pubmedqa/ori_pqal.json",
        licence='MIT, "Copyright (c) 2019 pubmedqa" (https://github.com/pubmedqa/pubmedqa). '
        "Contexts are PubMed abstract text.",
        selection="QUESTION or a MeSH term matches a theme rule",
        fields="`pmid`, `title` (PubMedQA's QUESTION: PQA-L articles were chosen for question-form "
        "titles), `abstract` (labelled CONTEXTS, then LONG_ANSWER as CONCLUSIONS), `year`, "
        "`mesh_terms`, `url` (the PubMed page)",
        read=read_pubmedqa,
    ),
    Source(
        filename="patient_information.jsonl",
        name="MedQuAD: consumer-health pages from NIH websites",
        dataset_path="medquad/medquad.jsonl.gz",
        licence="CC BY 4.0, Asma Ben Abacha and Dina Demner-Fushman, "
        '"A Question-Entailment Approach to Question Answering", BMC Bioinformatics 20:511 (2019) '
        "(https://github.com/abachaa/MedQuAD)",
        selection="focus matches a theme rule, the answer is non-empty, and the page is from CancerGov, "
        "MedlinePlus Health Topics, NIDDK, NINDS, NIHSeniorHealth, NHLBI or CDC (GARD and GHR rare-disease "
        "pages are left out); the question-answer pairs of one page are joined in page order",
        fields="`id` (medquad-<source>-<doc_id>), `title` (the page's focus), `text` "
        "(each question followed by its answer), `url` (the original NIH page)",
        read=read_medquad,
    ),
)


def record_key(record: dict[str, Any]) -> str:
    return str(record.get("pmid") or record["id"])


def render_jsonl(selected: list[Selected]) -> str:
    return "".join(json.dumps(item.record, ensure_ascii=False) + "\n" for item in selected)


def count_themes(selected: list[Selected]) -> dict[str, int]:
    counts = dict.fromkeys(THEMES, 0)
    for item in selected:
        for theme in item.themes:
            counts[theme] += 1
    return counts


def render_readme(built: list[tuple[Source, list[Selected], int]]) -> str:
    total_docs = sum(len(records) for _, records, _ in built)
    total_bytes = sum(size for _, _, size in built)
    lines = [
        "# Starter library",
        "",
        "A small library of real, openly licensed abstracts and patient-information pages, so that",
        "`medevidence ingest starter/*.jsonl` gives a working library on a fresh install. Name the",
        "JSONL files: ingesting the folder would also store this README and `questions.txt` as",
        "documents. The library covers three clinical themes, each present in every file, so that one",
        "question finds randomised trials, systematic reviews, observational studies and patient",
        "information:",
        "",
        *(f"- **{theme}**: `{pattern.pattern}`" for theme, pattern in THEMES.items()),
        "",
        "The keyword rules above are matched case-insensitively. Metadata is only what each source",
        "really has: no file sets `publication_types` or `authors`, because none of the sources",
        "records them; study design is left to the engine to classify from the text.",
        "",
        "The licences below are those of the datasets. The abstracts and pages inside them keep",
        "their own terms: PubMed abstracts belong to their publishers, PMC open-access articles carry",
        "the licence of each article, and the NIH pages are, for the most part, US government works.",
        "These documents also belong to the benchmark datasets, so benchmarks build a fresh library",
        "and never use one built from this folder.",
        "",
        f"Total: {total_docs} documents, {total_bytes / 1e6:.2f} MB. `questions.txt` holds sample questions,",
        "checked by hand against this content. The build script writes this file and the JSONL files;",
        "rebuild them (byte-identical) and verify them with:",
        "",
        "```",
        REBUILD_COMMAND,
        REBUILD_COMMAND + " --check",
        "```",
        "",
        "| file | documents | size | " + " | ".join(THEMES) + " |",
        "|---|---|---|" + "---|" * len(THEMES),
    ]
    for source, records, size in built:
        counts = count_themes(records)
        cells = " | ".join(str(counts[theme]) for theme in THEMES)
        lines.append(f"| `{source.filename}` | {len(records)} | {size / 1e3:.0f} kB | {cells} |")
    lines += [
        "",
        "A document can match more than one theme, so the theme columns may sum to more than its total.",
        "A record whose title and text repeat an earlier one (ignoring case and spacing) is left out.",
        "",
    ]
    for source, _, _ in built:
        lines += [
            f"## `{source.filename}`",
            "",
            f"- Source: {source.name}; `../shared/data/{source.dataset_path}`.",
            f"- Licence: {source.licence}",
            f"- Selection: {source.selection}.",
            f"- Fields: {source.fields}.",
            "",
        ]
    return "\n".join(lines)


def content_key(record: dict[str, Any]) -> str:
    # The identity the engine uses to call a record a duplicate: title and text, ignoring case and spacing.
    body = record.get("abstract") or record.get("text") or ""
    return " ".join(f"{record['title']}\n{body}".split()).lower()


def build(data: Path) -> dict[str, str]:
    """Every output file's name mapped to its exact content."""
    files: dict[str, str] = {}
    built: list[tuple[Source, list[Selected], int]] = []
    seen: set[str] = set()
    for source in SOURCES:
        selected = []
        # MedQuAD lists one NIDDK page under several anchors (#causes, #type2, ...) with the same
        # text; a starter library should not report duplicates on its first ingest.
        for item in sorted(source.read(data), key=lambda item: record_key(item.record)):
            key = content_key(item.record)
            if key not in seen:
                seen.add(key)
                selected.append(item)
        content = render_jsonl(selected)
        files[source.filename] = content
        built.append((source, selected, len(content.encode("utf-8"))))
    files["README.md"] = render_readme(built)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared datasets folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the starter library is written")
    parser.add_argument("--check", action="store_true", help="compare with the files in --out and write nothing")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        parser.error(f"--data {args.data} is not a folder; point it at the shared datasets (../shared/data)")
    files = build(args.data)
    if args.check:
        stale = [name for name, content in files.items() if _read(args.out / name) != content]
        for name in stale:
            print(f"{args.out / name} differs from a fresh build; run: {REBUILD_COMMAND}", file=sys.stderr)
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (args.out / name).write_text(content, encoding="utf-8", newline="\n")
        print(f"wrote {args.out / name} ({len(content.encode('utf-8')) / 1e3:.0f} kB)")
    return 0


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


if __name__ == "__main__":
    sys.exit(main())
