"""The command line, through click's runner: exact messages and exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from medevidence.cli import cli


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def make_corpus(directory: Path) -> Path:
    directory.mkdir()
    records = [
        {
            "pmid": "100",
            "title": "Primary tumour surgery in metastatic breast cancer",
            "abstract": "We randomly assigned 350 women with metastatic breast cancer to surgery or no surgery. "
            "Overall survival did not differ.",
            "year": 2015,
        },
        {
            "pmid": "200",
            "title": "Influenza vaccination in children",
            "abstract": "Vaccination reduced influenza in children attending day care.",
            "year": 2019,
        },
    ]
    (directory / "abstracts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return directory


def test_ingest_then_stats_list_show_and_search(tmp_path: Path) -> None:
    library = str(tmp_path / "lib")
    corpus = make_corpus(tmp_path / "corpus")
    code, output = run("--library", library, "ingest", "--quiet", str(corpus))
    assert code == 0, output
    assert re.search(r"added\s+│\s+2 │", output)

    code, output = run("--library", library, "library", "stats")
    assert code == 0 and "passages" in output and "jsonl" in output

    code, output = run("--library", library, "library", "list")
    assert "100" in output and "200" in output

    code, output = run("--library", library, "library", "show", "100", "--passages")
    assert code == 0 and "randomized controlled trial" in output and "[0:" in output

    code, output = run("--library", library, "search", "surgery for metastatic breast cancer", "--format", "json")
    hits = json.loads(output)
    assert hits[0]["doc_id"] == "100"


def test_batch_search_prints_one_line_per_query(tmp_path: Path) -> None:
    library = str(tmp_path / "lib")
    run("--library", library, "ingest", "--quiet", str(make_corpus(tmp_path / "corpus")))
    queries = tmp_path / "queries.jsonl"
    queries.write_text('{"id": "q1", "text": "influenza vaccine"}\n{"id": 7, "text": "breast surgery"}\n')
    code, output = run("--library", library, "search", "--queries", str(queries), "--k", "1", "--format", "jsonl")
    assert code == 0
    lines = [json.loads(line) for line in output.splitlines()]
    assert [(line["query_id"], line["hits"][0]["doc_id"]) for line in lines] == [("q1", "200"), (7, "100")]
    assert set(lines[0]["hits"][0]) == {"doc_id", "passage_id", "score", "start", "end"}


def test_hostile_queries_never_crash(tmp_path: Path) -> None:
    library = str(tmp_path / "lib")
    run("--library", library, "ingest", "--quiet", str(make_corpus(tmp_path / "corpus")))
    for query in ['"', "*", "NEAR(", "the of and", "\x00\x07", "AND OR NOT", "x" * 9000]:
        code, output = run("--library", library, "search", query, "--format", "json")
        assert code == 0, (query, output)
    code, output = run("--library", library, "search", "y" * 10_001)
    assert code == 1
    assert "the query is 10,001 characters long, over the 10,000 limit; shorten it to the question itself" in output


def test_ingest_exits_non_zero_only_when_nothing_was_ingested(tmp_path: Path) -> None:
    library = str(tmp_path / "lib")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    code, output = run("--library", library, "ingest", "--quiet", str(empty))
    assert code == 1
    assert f"cannot read {empty}: the file contains no text" in output
    good = tmp_path / "good.txt"
    good.write_text("Some clinical note.")
    code, output = run("--library", library, "ingest", "--quiet", str(empty), str(good))
    assert code == 0


def test_search_without_a_library_says_how_to_make_one(tmp_path: Path) -> None:
    code, output = run("--library", str(tmp_path / "missing"), "search", "anything")
    assert code == 1
    assert f"no library at {tmp_path / 'missing'}; create one with `medevidence --library" in output


def test_every_command_has_help() -> None:
    for args in (
        ["--help"],
        ["ingest", "--help"],
        ["search", "--help"],
        ["library", "stats", "--help"],
        ["library", "list", "--help"],
        ["library", "show", "--help"],
    ):
        code, output = run(*args)
        assert code == 0 and "Usage:" in output
