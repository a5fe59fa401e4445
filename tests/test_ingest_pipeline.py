"""Ingest through the public API: formats, deduplication, versions, and every bad-input path."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from medevidence import Library, SourceFormat, StudyDesign
from medevidence.errors import DocumentNotFound

RCT_ABSTRACT = (
    "Background: Whether removing the primary tumour helps women with metastatic breast cancer is unknown. "
    "Methods: We randomly assigned 350 women to locoregional treatment or no locoregional treatment. "
    "Results: Overall survival at 72 months was 19.2% with surgery and 20.5% without surgery. "
    "Conclusions: Locoregional treatment did not improve overall survival."
)


@pytest.fixture
def library(tmp_path: Path) -> Library:
    return Library.open(tmp_path / "library")


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def assert_offsets_hold(library: Library) -> None:
    for document in library.documents():
        for passage in library.passages(document):
            assert document.text[passage.start : passage.end] == passage.text


def test_seed_documents_ingest_with_offsets_and_designs(library: Library, seeds: Path) -> None:
    report = library.ingest([seeds])
    assert report.added == 5 and not report.failures
    assert_offsets_hold(library)
    designs = {Path(d.source_path or "").name[:3]: d.study_design for d in library.documents()}
    assert designs["004"] is StudyDesign.NEWS_REPORT
    assert designs["003"] is StudyDesign.CONSENSUS
    assert designs["002"] is StudyDesign.PATIENT_INFORMATION
    assert designs["001"] is StudyDesign.NARRATIVE_REVIEW
    topic = next(d for d in library.documents() if Path(d.source_path or "").name.startswith("001"))
    assert topic.title == "Role of breast surgery for stage IV breast cancer"
    # The numbered reference list at the end is stored as references, not as body passages.
    assert len(topic.references) == 19
    assert "Badwe R, Hawaldar R" in " ".join(topic.references)
    assert all("Lancet Oncol 2015" not in p.text for p in library.passages(topic))


def test_jsonl_metadata_is_kept(library: Library, tmp_path: Path) -> None:
    source = write_jsonl(
        tmp_path / "trials.jsonl",
        [
            {
                "pmid": "26263936",
                "title": "Locoregional treatment versus no treatment of the primary tumour in metastatic breast cancer",
                "abstract": RCT_ABSTRACT,
                "authors": ["Badwe R", "Hawaldar R"],
                "year": 2015,
                "journal": "Lancet Oncol",
                "doi": "10.1016/S1470-2045(15)00135-7",
                "publication_types": ["Randomized Controlled Trial"],
            }
        ],
    )
    library.ingest([source])
    document = library.document("26263936")
    assert document.key == "26263936"
    assert document.authors == ("Badwe R", "Hawaldar R")
    assert (document.year, document.journal) == (2015, "Lancet Oncol")
    assert document.doi == "10.1016/S1470-2045(15)00135-7"
    assert document.source_format is SourceFormat.JSONL
    assert document.study_design is StudyDesign.RCT
    assert document.evidence_level.value == "2"
    assert "Randomized Controlled Trial" in document.design_reason
    assert library.document("10.1016/s1470-2045(15)00135-7").id == document.id


def test_reingest_is_a_no_op_and_a_changed_file_makes_a_new_version(library: Library, tmp_path: Path) -> None:
    note = tmp_path / "note.md"
    note.write_text("# Surgery in stage IV disease\n\nFirst version of the note. It says one thing.\n")
    assert library.ingest([note]).added == 1
    again = library.ingest([note])
    assert again.unchanged_files == 1 and again.added == 0
    first = library.documents()[0]

    note.write_text("# Surgery in stage IV disease\n\nSecond version of the note. It says another thing.\n")
    os.utime(note, ns=(time.time_ns(), time.time_ns() + 10_000_000))
    report = library.ingest([note])
    assert report.updated == 1
    current = library.document(first.key)
    assert current.version == 2 and "Second version" in current.text
    versions = library.store.versions(current)
    assert [v.version for v in versions] == [1, 2]
    assert "First version" in versions[0].text  # old answers still resolve their spans
    hits = library.search("version note")
    assert {h.document_id for h in hits} == {current.id}


def test_duplicates_by_pmid_doi_and_content(library: Library, tmp_path: Path) -> None:
    record = {"pmid": "1", "title": "A trial", "abstract": RCT_ABSTRACT}
    write_jsonl(tmp_path / "a.jsonl", [record])
    write_jsonl(tmp_path / "b.jsonl", [record, {"doi": "10.1/X", "title": "T", "abstract": "Some text here."}])
    write_jsonl(tmp_path / "c.jsonl", [{"doi": "10.1/x", "title": "T", "abstract": "Some text here."}])
    (tmp_path / "d.txt").write_text("Same words in two files.\nNothing else.")
    (tmp_path / "e.txt").write_text("Same words in two files.\nNothing else.")
    report = library.ingest(sorted(tmp_path.glob("*.*")))
    assert (report.added, report.duplicates) == (3, 3)
    assert library.stats().documents == 3


def test_one_bad_jsonl_line_among_good_ones(library: Library, tmp_path: Path) -> None:
    source = tmp_path / "mixed.jsonl"
    source.write_text(
        json.dumps({"id": "a", "title": "Good one", "abstract": "Fine text."})
        + "\n{not json\n"
        + json.dumps({"id": "b", "title": "Good two", "abstract": "More fine text."})
        + "\n"
        + json.dumps(["a list"])
        + "\n"
    )
    report = library.ingest([source])
    assert report.added == 2
    messages = [f.message for f in report.failures]
    assert messages[0].startswith(f"cannot read {source} line 2: invalid JSON")
    assert messages[0].endswith("; fix or remove that line")
    assert messages[1] == (
        f"cannot read {source} line 4: expected a JSON object, found list; give each line an object with "
        "id or pmid, title, abstract or text, and optional authors, year, journal, doi, url, publication_types"
    )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "the file contains no text; check that it is the file you meant"),
        ("blank.md", b"  \n\n \t\n", "the file contains no text; check that it is the file you meant"),
        (
            "image.txt",
            bytes(range(256)) * 40,
            "the file is binary, not text; export it as plain text, PDF, HTML or MEDLINE XML, "
            "or give it the right extension",
        ),
        (
            "slides.pptx",
            b"PK\x03\x04",
            "'.pptx' is not a supported format; convert it to one of .htm, .html, .jsonl, .markdown, .md, "
            ".ndjson, .pdf, .text, .txt, .xhtml, .xml, or PubMed/MEDLINE XML",
        ),
    ],
)
def test_bad_files_are_reported_and_nothing_else_is_lost(
    library: Library, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    good = tmp_path / "good.txt"
    good.write_text("A good note.\nIt has text.")
    library.ingest([good])
    bad = tmp_path / name
    bad.write_bytes(content)
    report = library.ingest([bad])
    assert [f.message for f in report.failures] == [f"cannot read {bad}: {message}"]
    assert not report.stored_anything
    assert library.stats().documents == 1


def test_non_utf8_text_is_read_and_the_guess_recorded(library: Library, tmp_path: Path) -> None:
    legacy = tmp_path / "legacy.txt"
    legacy.write_bytes("Tumour size ≤ 2 cm; café-au-lait spots; naïve patients.".encode("cp1252", errors="replace"))
    library.ingest([legacy])
    document = library.documents()[0]
    assert "café-au-lait" in document.text and "naïve" in document.text
    assert document.extra["encoding"] == "cp1252 (not valid UTF-8; guessed)"


def test_a_200_mb_file_is_refused_quickly_with_the_limit(library: Library, tmp_path: Path) -> None:
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as handle:
        handle.truncate(200_000_000)  # sparse: no 200 MB of disk or memory needed
    started = time.perf_counter()
    report = library.ingest([huge])
    assert time.perf_counter() - started < 2
    assert report.failures[0].message == (
        f"cannot read {huge}: the file is 200 MB, over the 100 MB limit; split it into smaller files, "
        "or raise the limit with --max-file-mb (setting max_file_mb)"
    )
    small_limit = Library.open(tmp_path / "other", max_file_mb=0.00001)
    note = tmp_path / "note.txt"
    note.write_text("Twenty-odd bytes of text.")
    assert "over the 0 MB limit" in small_limit.ingest([note]).failures[0].message


def test_large_jsonl_streams_in_bounded_memory(tmp_path: Path) -> None:
    """Peak memory stays flat as the file grows: measured in a fresh process each time."""
    script = textwrap.dedent(
        """
        import json, resource, sys
        from medevidence import Library
        path, n = sys.argv[1], int(sys.argv[2])
        with open(path, "w") as f:
            for i in range(n):
                words = " ".join(f"word{(i * 7 + j) % 997}" for j in range(150))
                f.write(json.dumps({"id": str(i), "title": f"Doc {i}", "abstract": words + "."}) + "\\n")
        report = Library.open(path + ".lib").ingest([path])
        assert report.added == n, report.failures[:3]
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        """
    )
    peaks = []
    for n in (1_000, 4_000):
        output = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / f"docs{n}.jsonl"), str(n)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        peaks.append(int(output.split()[-1]))
    # 4x the documents (about 4 MB more input) may not cost 4x the memory.
    assert peaks[1] < peaks[0] * 1.3, peaks


def test_directory_of_many_files_resumes_after_kill_without_duplicates(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for index in range(1500):
        (corpus / f"note{index:05d}.txt").write_text(f"Note number {index}.\nIt reports finding {index * 3}.")
    (corpus / ".hidden.txt").write_text("Never ingested.")
    library_dir = tmp_path / "library"
    command = [sys.executable, "-m", "medevidence", "--library", str(library_dir), "ingest", "--quiet", str(corpus)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while stored_documents(library_dir) < 100 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    partial = Library.open(library_dir).stats().documents
    assert 0 < partial < 1500, "the first run should have been killed part-way"
    subprocess.run(command, check=True, capture_output=True)
    stats = Library.open(library_dir).stats()
    assert stats.documents == stats.versions == 1500


def stored_documents(library_dir: Path) -> int:
    try:
        with sqlite3.connect(f"file:{library_dir / 'library.db'}?mode=ro", uri=True) as connection:
            return int(connection.execute("SELECT count(*) FROM documents").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_document_not_found_names_the_fix(library: Library) -> None:
    with pytest.raises(DocumentNotFound) as caught:
        library.document("nope")
    assert str(caught.value) == "no document 'nope' in this library; `medevidence library list` shows the stored ids"


def test_passages_are_sentence_aware_and_overlap(library: Library, tmp_path: Path) -> None:
    sentences = [f"Sentence {i} reports that drug {i} lowered blood pressure by {i} mmHg in adults." for i in range(60)]
    (tmp_path / "long.txt").write_text("Long report\n\n" + " ".join(sentences))
    library.ingest([tmp_path / "long.txt"])
    document = library.documents()[0]
    passages = library.passages(document)
    assert len(passages) > 3
    for passage in passages:
        words = len(passage.text.split())
        assert words <= 250
        assert passage.text.endswith(".")
    for previous, following in zip(passages[1:], passages[2:], strict=False):
        assert following.start < previous.end, "consecutive passages share a sentence"
