"""Search through the public API: vocabulary, filters, incremental indexing, model changes, bad queries."""

from __future__ import annotations

import fcntl
import json
import math
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from medevidence import Library, QueryError, StudyDesign
from medevidence import index as index_module
from medevidence.embed import FakeEmbedder
from medevidence.index import ModelMismatch, build_segment, load_segment, save_segment, write_merged_segment
from medevidence.models import PassageRow
from medevidence.retrieve import SearchFilters, SearchMode
from medevidence.tokens import analyze

DOCUMENTS = [
    {
        "pmid": "1",
        "title": "Locoregional surgery in de novo metastatic infiltrating duct carcinoma",
        "abstract": "Women with metastatic infiltrating duct carcinoma of the breast were randomly assigned to "
        "surgery of the primary tumour or no surgery. Surgery did not prolong overall survival.",
        "year": 2015,
    },
    {
        "pmid": "2",
        "title": "Influenza vaccination in children attending day care",
        "abstract": "In this retrospective cohort, vaccinated children had fewer influenza infections.",
        "year": 2019,
    },
    {
        "pmid": "3",
        "title": "Statins after myocardial infarction: a systematic review and meta-analysis",
        "abstract": "We searched MEDLINE and pooled 12 randomised trials of statins after myocardial infarction.",
        "year": 2021,
    },
    {
        "pmid": "4",
        "title": "Trastuzumab for HER2-positive early breast cancer",
        "abstract": "Patients with HER2-positive tumours were randomly assigned to trastuzumab or observation.",
        "year": 2005,
    },
]


def make_library(tmp_path: Path, documents: list[dict[str, object]] = DOCUMENTS, **settings: object) -> Library:
    source = tmp_path / "docs.jsonl"
    source.write_text("".join(json.dumps(d) + "\n" for d in documents))
    library = Library.open(tmp_path / "library", embedder=settings.pop("embedder", "fake"), **settings)
    library.ingest([source])
    return library


def test_synonym_only_query_finds_the_passage(tmp_path: Path) -> None:
    library = make_library(tmp_path, expand_vocabulary=True)
    hits = library.search("stage 4 IDC mastectomy", k=3, mode="lexical")
    assert hits and hits[0].doc_id == "1"
    without = Library.open(tmp_path / "library", embedder="fake", expand_vocabulary=False)
    plain = without.search("stage 4 IDC mastectomy", k=3, mode="lexical")
    assert not plain or plain[0].doc_id != "1", "the match must come from the vocabulary"


def test_default_hybrid_search_finds_a_paraphrase_that_shares_no_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MEDEVIDENCE_EMBEDDER")
    source = tmp_path / "docs.jsonl"
    source.write_text("".join(json.dumps(d) + "\n" for d in DOCUMENTS))
    library = Library.open(tmp_path / "library")
    assert (library.settings.embedder, library.settings.search_mode) == ("minilm-med", "hybrid")
    library.ingest([source])
    query = "Do jabs protect kids against flu?"
    assert library.search(query, k=3, mode="lexical") == []
    hits = library.search(query, k=3)
    assert hits and hits[0].doc_id == "2"


def test_receptor_and_spelling_variants_meet() -> None:
    assert set(analyze("HER2+ tumours")) >= {"her2+", "her2", "tumor"}
    assert set(analyze("HER2-positive tumor")) >= {"her2", "posit", "tumor"}
    assert set(analyze("T-DM1 and 5-FU")) >= {"tdm1", "dm1", "5fu"}
    assert "19.2" in analyze("19.2% vs 20.5%")
    assert analyze("randomised") == analyze("randomized")


def test_filters_by_design_year_and_document(tmp_path: Path) -> None:
    library = make_library(tmp_path)
    rct_only = SearchFilters(designs=frozenset({StudyDesign.RCT}))
    assert {h.doc_id for h in library.search("children influenza surgery trastuzumab", k=10, filters=rct_only)} <= {
        "1",
        "4",
    }
    recent = library.search("statins influenza surgery", k=10, filters=SearchFilters(year_from=2019))
    assert {h.doc_id for h in recent} <= {"2", "3"}
    only = library.document("2").id
    assert {
        h.doc_id for h in library.search("anything at all", filters=SearchFilters(document_ids=frozenset({only})))
    } <= {"2"}


def test_ingesting_more_documents_updates_results_without_a_rebuild(tmp_path: Path) -> None:
    library = make_library(tmp_path)
    segments_before = list(library.retriever.index.manifest.segments)
    assert not library.search("warfarin atrial fibrillation stroke", k=5, mode="lexical")
    extra = tmp_path / "more.jsonl"
    extra.write_text(
        json.dumps({"pmid": "9", "title": "Warfarin in atrial fibrillation", "abstract": "Warfarin prevented stroke."})
        + "\n"
    )
    library.ingest([extra])
    assert library.search("warfarin atrial fibrillation stroke", k=5, mode="lexical")[0].doc_id == "9"
    segments_after = library.retriever.index.manifest.segments
    assert segments_after[: len(segments_before)] == segments_before, "old segments are kept, not rebuilt"
    assert len(segments_after) == len(segments_before) + 1


def test_two_processes_ingesting_into_one_library_index_each_passage_once(tmp_path: Path) -> None:
    first, second = (Library.open(tmp_path / "library", embedder="fake") for _ in range(2))
    assert len(second.retriever.index) == 0, "the second process has read the empty index before the first ingests"
    halves = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    for path, documents in zip(halves, (DOCUMENTS[:2], DOCUMENTS[2:]), strict=True):
        path.write_text("".join(json.dumps(d) + "\n" for d in documents))
    first.ingest([halves[0]])
    second.ingest([halves[1]])
    reopened = Library.open(tmp_path / "library", embedder="fake")
    manifest = reopened.retriever.index.manifest
    stored = reopened.store.connection.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
    assert [count for _, count in manifest.segments] == [2, 2], "the second process re-indexed the first's passages"
    on_disk = {folder.name for folder in (tmp_path / "library" / "index").glob("segment-*")}
    assert on_disk == {name for name, _ in manifest.segments}, "no segment folder is left out of the manifest"
    assert len(reopened.retriever.index) == stored
    assert {hit.doc_id for hit in second.search("surgery trastuzumab statins", k=10, mode="lexical")} >= {"1", "3", "4"}


def test_search_does_not_wait_for_another_process_that_is_indexing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = make_library(tmp_path, DOCUMENTS[:2])
    assert server.search("influenza vaccination", k=1, mode="lexical")[0].doc_id == "2"
    writer = Library.open(tmp_path / "library", embedder="fake")
    monkeypatch.setattr(writer.retriever, "refresh", lambda wait=True: 0)  # stored, still being indexed
    extra = tmp_path / "more.jsonl"
    extra.write_text("".join(json.dumps(d) + "\n" for d in DOCUMENTS[2:]))
    writer.ingest([extra])
    with (tmp_path / "library" / "index" / ".lock").open("w") as indexing:
        fcntl.flock(indexing, fcntl.LOCK_EX)
        found: list[list[str]] = []
        search = threading.Thread(
            target=lambda: found.append([hit.doc_id for hit in server.search("influenza trastuzumab", k=5)])
        )
        search.start()
        search.join(timeout=10)
        waited = search.is_alive()
        fcntl.flock(indexing, fcntl.LOCK_UN)
    search.join()
    assert not waited, "the search waited for the other process's indexing"
    assert found[0][0] == "2", "it searched what was indexed"
    assert server.search("trastuzumab HER2", k=1, mode="lexical")[0].doc_id == "4", "and indexes once it can"


def test_a_search_during_another_ingest_leaves_the_new_passages_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = make_library(tmp_path, DOCUMENTS[:2])
    writer = Library.open(tmp_path / "library", embedder="fake")
    store_files = writer._ingest_files
    seen_mid_ingest: list[int] = []

    def store_then_search(*args: object) -> object:
        report = store_files(*args)
        server.search("trastuzumab", k=1)
        seen_mid_ingest.append(len(server.retriever.index))
        return report

    monkeypatch.setattr(writer, "_ingest_files", store_then_search)
    extra = tmp_path / "more.jsonl"
    extra.write_text("".join(json.dumps(d) + "\n" for d in DOCUMENTS[2:]))
    writer.ingest([extra])
    assert seen_mid_ingest == [2], "the search embedded passages the ingest was still storing"
    assert server.search("trastuzumab HER2", k=1, mode="lexical")[0].doc_id == "4"
    assert [count for _, count in server.retriever.index.manifest.segments] == [2, 2]


def test_an_ingest_waits_for_another_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    library = make_library(tmp_path, DOCUMENTS[:2])
    extra = tmp_path / "more.jsonl"
    extra.write_text("".join(json.dumps(d) + "\n" for d in DOCUMENTS[2:]))
    with (tmp_path / "library" / "index" / ".lock").open("w") as other_ingest:
        fcntl.flock(other_ingest, fcntl.LOCK_EX)
        ingest = threading.Thread(target=lambda: library.ingest([extra], progress=True))
        ingest.start()
        said = ""
        for _ in range(100):
            said += capsys.readouterr().err
            if "another process is ingesting into this library" in said:
                break
            time.sleep(0.1)
        assert "another process is ingesting into this library" in said
        assert ingest.is_alive(), "the ingest started while another held the library"
        fcntl.flock(other_ingest, fcntl.LOCK_UN)
    ingest.join()
    assert library.search("trastuzumab HER2", k=1, mode="lexical")[0].doc_id == "4"


def test_segments_merged_away_by_another_process_are_found_in_its_manifest(tmp_path: Path) -> None:
    server = make_library(tmp_path, DOCUMENTS[:2])
    first_segment = tmp_path / "library" / "index" / server.retriever.index.manifest.segments[0][0]
    writer = Library.open(tmp_path / "library", embedder="fake")
    for n in range(index_module.MAX_SEGMENTS + 1):
        source = tmp_path / f"more-{n}.jsonl"
        source.write_text(json.dumps({**DOCUMENTS[3], "pmid": f"m{n}"}) + "\n")
        writer.ingest([source])
    assert not first_segment.exists(), "the writer merged the server's segment into a new one"
    # The server read its manifest before the merge and loads the segments after it.
    stored = server.store.connection.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
    assert sum(len(segment) for segment in server.retriever.index.segments) == stored


def test_an_ingest_stopped_before_the_manifest_is_written_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "docs.jsonl"
    source.write_text("".join(json.dumps(d) + "\n" for d in DOCUMENTS))
    library = Library.open(tmp_path / "library", embedder="fake")

    def stopped(self: object, path: Path) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(index_module.Manifest, "write", stopped)
        with pytest.raises(KeyboardInterrupt):
            library.ingest([source])
    assert any((tmp_path / "library" / "index").glob("segment-*")), "the segment was written before the stop"
    resumed = Library.open(tmp_path / "library", embedder="fake")
    resumed.ingest([source])
    assert resumed.search("trastuzumab HER2", k=1, mode="lexical")[0].doc_id == "4"


def test_a_new_version_replaces_the_old_in_results(tmp_path: Path) -> None:
    library = make_library(tmp_path)
    changed = dict(DOCUMENTS[1], abstract="Vaccinated toddlers had fewer hospital admissions for bronchiolitis.")
    source = tmp_path / "changed.jsonl"
    source.write_text(json.dumps(changed) + "\n")
    library.ingest([source])
    reopened = Library.open(tmp_path / "library", embedder="fake")
    texts = [h.text for h in reopened.search("vaccinated children influenza bronchiolitis", k=10, mode="lexical")]
    assert any("bronchiolitis" in t for t in texts)
    assert not any("fewer influenza infections" in t for t in texts)


def test_a_changed_embedder_is_refused_with_the_fix(tmp_path: Path) -> None:
    make_library(tmp_path)
    with pytest.raises(ModelMismatch) as caught:
        Library.open(tmp_path / "library", embedder="minilm-static-med").search("statins")
    assert str(caught.value) == (
        f"the vectors in {tmp_path / 'library'} were built with the embedder 'fake', but 'minilm-static-med' is "
        f"configured; re-embed with `medevidence --library {tmp_path / 'library'} index rebuild`, or set "
        f'embedder = "fake" in {tmp_path / "library"}/settings.toml'
    )
    rebuilt = Library.open(tmp_path / "library", embedder="minilm-static-med")
    assert rebuilt.reindex() > 0
    assert rebuilt.search("statins after heart attack", k=1)[0].doc_id == "3"


@pytest.mark.parametrize(
    "query", ["", "the of and", '"', "*", "NEAR(", "AND OR NOT", "\x00\x07\x1b[31m", "HER2 " * 2000, "ü ß 中文"]
)
def test_odd_queries_give_results_or_nothing_never_a_crash(tmp_path: Path, query: str) -> None:
    library = make_library(tmp_path)
    for mode in SearchMode:
        assert isinstance(library.search(query, k=5, mode=mode), list)


def test_overlong_query_and_bad_k_are_clear_errors(tmp_path: Path) -> None:
    library = make_library(tmp_path)
    with pytest.raises(QueryError, match="over the 10,000 limit"):
        library.search("x" * 10_001)
    with pytest.raises(QueryError, match="k must be at least 1, not 0"):
        library.search("statins", k=0)


@pytest.mark.parametrize("chunk", [7, 1_000_000])
def test_merging_segments_equals_indexing_the_live_rows_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """Merged from memory-mapped segments, a few postings at a time or all at once."""
    monkeypatch.setattr(index_module, "MERGE_CHUNK", chunk)
    rows = [PassageRow(i, i, f"drug{i % 5} lowers pressure {i} " * (1 + i % 3), f"title {i % 3}") for i in range(1, 41)]
    vectors = np.random.default_rng(0).standard_normal((40, 4)).astype(np.float32)
    for name, part, part_vectors in (("a", rows[:25], vectors[:25]), ("b", rows[25:], vectors[25:])):
        save_segment(build_segment(name, part, 2, part_vectors), tmp_path / name)
    keep = [np.ones(25, dtype=bool), np.ones(15, dtype=bool)]
    keep[0][3] = keep[1][0] = False
    sources = [load_segment(tmp_path / name, mmap=True) for name in ("a", "b")]
    write_merged_segment(tmp_path / "merged", sources, keep)
    merged = load_segment(tmp_path / "merged")

    live = [index for index in range(40) if index not in (3, 25)]
    direct = build_segment("d", [rows[i] for i in live], 2, vectors[live])
    assert merged.passage_ids.tolist() == direct.passage_ids.tolist()
    assert merged.lengths.tolist() == direct.lengths.tolist()
    assert set(direct.vocabulary) <= set(merged.vocabulary)
    for term in merged.vocabulary:
        m = merged.vocabulary[term]
        d = direct.vocabulary.get(term)
        postings = merged.postings[merged.indptr[m] : merged.indptr[m + 1]].tolist()
        frequencies = merged.frequencies[merged.indptr[m] : merged.indptr[m + 1]].tolist()
        if d is None:  # a term only the removed passages had
            assert postings == []
            continue
        assert postings == direct.postings[direct.indptr[d] : direct.indptr[d + 1]].tolist()
        assert frequencies == direct.frequencies[direct.indptr[d] : direct.indptr[d + 1]].tolist()
    assert merged.vectors is not None
    np.testing.assert_array_equal(merged.vectors, vectors[live].astype(np.float16).astype(np.float32))


def test_merging_keeps_the_tail_vectors_of_live_passages(tmp_path: Path) -> None:
    rows = [PassageRow(i, i, f"passage {i}", "") for i in range(1, 21)]
    rng = np.random.default_rng(2)
    vectors, tails = rng.standard_normal((20, 4)).astype(np.float32), rng.standard_normal((20, 4)).astype(np.float32)
    long = {"a": np.array([1, 3, 7]), "b": np.array([0, 4])}  # segment rows that have a tail
    for name, start, stop in (("a", 0, 10), ("b", 10, 20)):
        tail_rows = long[name]
        segment = build_segment(name, rows[start:stop], 2, vectors[start:stop], tails[start:stop][tail_rows], tail_rows)
        save_segment(segment, tmp_path / name)
    keep = [np.ones(10, dtype=bool), np.ones(10, dtype=bool)]
    keep[0][3] = keep[1][2] = False  # a passage with a tail and one without
    sources = [load_segment(tmp_path / name, mmap=True) for name in ("a", "b")]
    write_merged_segment(tmp_path / "merged", sources, keep)
    merged = load_segment(tmp_path / "merged")

    assert merged.tails is not None and merged.tail_rows is not None
    with_tails = [int(merged.passage_ids[row]) for row in merged.tail_rows]
    assert with_tails == [2, 8, 11, 15]  # passage ids of rows a1, a7, b0, b4; a3 was removed
    expected = tails[[1, 7, 10, 14]].astype(np.float16).astype(np.float32)
    np.testing.assert_array_equal(merged.tails, expected)


def test_a_long_passage_is_found_by_words_past_what_the_embedder_reads(tmp_path: Path) -> None:
    filler = " ".join(f"word{n}" for n in range(60))
    rows = [
        PassageRow(1, 1, f"{filler} aspirin prevents stroke in older adults", "Trial report"),
        PassageRow(2, 2, "statins lower cholesterol", "Statins"),
    ]
    embedder = FakeEmbedder(window_words=8)
    query = embedder.embed_batch(["aspirin stroke"])[0]

    def long_passage_score(with_tails: bool) -> float:
        index = Library.open(tmp_path / f"library-{with_tails}", embedder="fake").retriever.index
        index.append(rows, embedder.embed_batch, embedder.overflows if with_tails else None)
        return float(index.cosine(query)[0][0])

    assert long_passage_score(False) == 0.0  # the first 8 words never mention aspirin or stroke
    assert long_passage_score(True) > 0.3


def test_a_passage_long_only_by_its_title_gets_no_tail_vector(tmp_path: Path) -> None:
    embedder = FakeEmbedder(window_words=8)
    rows = [
        PassageRow(1, 1, "aspirin prevents stroke", "A very long title of a trial of aspirin in older adults"),
        PassageRow(2, 2, " ".join(f"word{n}" for n in range(70)), "Report"),
    ]
    index = Library.open(tmp_path / "library", embedder="fake").retriever.index
    index.append(rows, embedder.embed_batch, embedder.overflows)
    (segment,) = index.segments
    assert embedder.overflows([f"{r.title}. {r.text}" for r in rows]) == [True, True]
    assert segment.tail_rows is not None and segment.tail_rows.tolist() == [1]


def test_bm25_matches_the_textbook_formula(tmp_path: Path) -> None:
    texts = ["aspirin stroke prevention", "aspirin aspirin bleeding risk", "statin stroke", "exercise"]
    rows = [PassageRow(i + 1, i + 1, text, "") for i, text in enumerate(texts)]
    library = Library.open(tmp_path / "library", embedder="none")
    index = library.retriever.index
    index.append(rows, None)
    scores = index.bm25({"aspirin": 1.0, "stroke": 1.0})[0]
    docs = [analyze(t) for t in texts]
    average = sum(len(d) for d in docs) / len(docs)

    def expected(doc: list[str]) -> float:
        total = 0.0
        for term in ("aspirin", "stroke"):
            df = sum(term in d for d in docs)
            idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
            tf = doc.count(term)
            total += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len(doc) / average))
        return total

    assert scores.tolist() == pytest.approx([expected(d) for d in docs], rel=1e-5)


def test_many_small_ingests_are_merged_and_search_the_same(tmp_path: Path) -> None:
    texts = [f"drug{i % 4} lowers blood pressure in trial {i}" for i in range(12)]
    rows = [PassageRow(i + 1, i + 1, text, f"title {i % 3}") for i, text in enumerate(texts)]
    incremental = Library.open(tmp_path / "incremental", embedder="fake").retriever.index
    embed = FakeEmbedder().embed_batch
    for row in rows:
        incremental.append([row], embed)
    assert len(incremental.manifest.segments) <= index_module.MAX_SEGMENTS
    assert any(name.startswith("merged-") for name, _ in incremental.manifest.segments)
    once = Library.open(tmp_path / "once", embedder="fake").retriever.index
    once.append(rows, embed)

    def ranking(index: index_module.SearchIndex, scores: list[np.ndarray]) -> list[tuple[int, float]]:
        pairs = [
            (int(p), round(float(x), 5))
            for s, xs in zip(index.segments, scores, strict=True)
            for p, x in zip(s.passage_ids, xs, strict=True)
        ]
        return sorted(pairs)

    query = {"drug1": 1.0, "pressure": 1.0, "title": 0.5}
    assert ranking(incremental, incremental.bm25(query)) == ranking(once, once.bm25(query))
    vector = FakeEmbedder().embed_batch(["drug1 pressure"])[0]
    assert ranking(incremental, incremental.cosine(vector)) == ranking(once, once.cosine(vector))


def _clustered_vectors(rows: int, dimension: int = 32, clusters: int = 40) -> np.ndarray:
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((clusters, dimension))
    vectors = centres[rng.integers(0, clusters, rows)] + 0.3 * rng.standard_normal((rows, dimension))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def test_inverted_lists_find_most_of_the_exact_top_ten() -> None:
    vectors = _clustered_vectors(4_000)
    lists = index_module.InvertedLists.build(vectors.astype(np.float16))
    queries = _clustered_vectors(50)
    found = 0
    for query in queries:
        exact = set(np.argsort(-(vectors @ query))[:10].tolist())
        approximate = lists.scores(query)
        found += len(exact & set(np.argsort(-approximate)[:10].tolist()))
        probed = approximate != 0
        # Probed passages are scored from their int8 codes: close to the exact dot product.
        np.testing.assert_allclose(approximate[probed], (vectors @ query)[probed], atol=0.03)
    assert found / (10 * len(queries)) >= 0.8


def test_past_the_exact_limit_merged_segments_are_searched_approximately(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_module, "APPROXIMATE_MIN_PASSAGES", 100)
    vectors = _clustered_vectors(1_000)
    rows = [PassageRow(i + 1, i + 1, f"passage {i}", "") for i in range(1_000)]
    directory = tmp_path / "index"
    index = index_module.SearchIndex(directory, 2, "fake", exact_search_limit=500)
    for start in range(0, 1_000, 100):  # ten appends: the ninth makes a merge
        index.append(rows[start : start + 100], lambda texts, s=start: vectors[s : s + len(texts)])
    merged = [name for name, count in index.manifest.segments if name.startswith("merged-")]
    assert merged and index_module.InvertedLists.exists(directory / merged[0])

    exact = index_module.SearchIndex(directory, 2, "fake", exact_search_limit=10_000)
    approximate = index_module.SearchIndex(directory, 2, "fake", exact_search_limit=500)
    assert all(s.approximate is None and s.vectors is not None for s in exact.segments)
    assert any(s.approximate is not None and s.vectors is None for s in approximate.segments)

    def top(index: index_module.SearchIndex, query: np.ndarray) -> set[int]:
        scored = [
            (float(x), int(p))
            for s, xs in zip(index.segments, index.cosine(query), strict=True)
            for p, x in zip(s.passage_ids, xs, strict=True)
        ]
        return {p for _, p in sorted(scored, reverse=True)[:10]}

    queries = _clustered_vectors(20)
    overlap = sum(len(top(exact, q) & top(approximate, q)) for q in queries) / (10 * len(queries))
    assert overlap >= 0.8
