"""Sentence boundaries and passages: offsets always point at exactly the text they claim."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from medevidence.ingest.chunk import chunk_passages
from medevidence.ingest.normalize import normalize_text, split_reference_list
from medevidence.models import ParsedDocument, Section, SourceFormat
from medevidence.sentences import sentence_spans


def sentences_of(text: str) -> list[str]:
    return [text[start:end] for start, end in sentence_spans(text)]


def test_medical_abbreviations_and_numbers_do_not_end_sentences() -> None:
    text = (
        "Badwe et al. randomly assigned 350 women (Lancet Oncol. 2015). Median OS was 19.2 vs. 20.5 months, "
        "i.e. no benefit. Dr. Fisher disagreed! Was it practice-changing? Yes."
    )
    assert sentences_of(text) == [
        "Badwe et al. randomly assigned 350 women (Lancet Oncol. 2015).",
        "Median OS was 19.2 vs. 20.5 months, i.e. no benefit.",
        "Dr. Fisher disagreed!",
        "Was it practice-changing?",
        "Yes.",
    ]


def test_paragraphs_and_list_items_are_boundaries() -> None:
    text = "Treatment options\n\nSurgery is local\n- chemotherapy\n- endocrine therapy"
    assert sentences_of(text) == ["Treatment options", "Surgery is local", "- chemotherapy", "- endocrine therapy"]


def test_a_list_item_run_into_the_text_starts_a_sentence() -> None:
    text = "Use a backup method and call your provider. - You are taking another medicine. - You missed a pill."
    assert sentences_of(text) == [
        "Use a backup method and call your provider.",
        "- You are taking another medicine.",
        "- You missed a pill.",
    ]
    # A dash between words is not a list item.
    assert len(sentences_of("Survival improved. - but only slightly - in the trial.")) == 1


def test_citation_markers_stay_with_their_sentence() -> None:
    text = "Surgery improved survival.[14] Another study disagreed.[2,3] The end."
    assert sentences_of(text) == ["Surgery improved survival.[14]", "Another study disagreed.[2,3]", "The end."]


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400))
def test_sentence_spans_are_ordered_stripped_and_in_bounds(text: str) -> None:
    previous_end = 0
    for start, end in sentence_spans(text):
        assert previous_end <= start < end <= len(text)
        assert not text[start].isspace() and not text[end - 1].isspace()
        previous_end = end


words = st.sampled_from(["tumour", "survival", "HER2-positive", "19.2%", "vs.", "Dr.", "et", "al.", "(n=350)", "e.g."])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(words, min_size=1, max_size=40).map(" ".join), min_size=1, max_size=60))
def test_passages_cover_the_text_in_order_within_the_word_limit(paragraphs: list[str]) -> None:
    text = normalize_text("\n\n".join(p + "." for p in paragraphs))
    document = ParsedDocument(text=text, source_format=SourceFormat.TEXT)
    passages = chunk_passages(document, min_words=20, max_words=50)
    assert passages[0].start == sentence_spans(text)[0][0]
    assert passages[-1].end == sentence_spans(text)[-1][1]
    for previous, current in zip(passages, passages[1:], strict=False):
        assert previous.start < current.start <= previous.end + 2
    for passage in passages:
        assert len(text[passage.start : passage.end].split()) <= 50


def test_passages_know_their_section() -> None:
    text = "Methods\nWe randomised 40 adults.\n\nResults\nPain fell by half."
    document = ParsedDocument(
        text=text,
        source_format=SourceFormat.MARKDOWN,
        sections=[Section("Methods", 0, 32), Section("Results", 34, len(text))],
    )
    passages = chunk_passages(document, min_words=2, max_words=10, overlap_sentences=0)
    assert [(text[p.start : p.end], p.section) for p in passages] == [
        ("Methods We randomised 40 adults.".replace(" We", "\nWe"), "Methods"),
        ("Results\nPain fell by half.", "Results"),
    ]


def test_normalize_text_is_idempotent_and_removes_control_characters() -> None:
    raw = "Title\r\n\r\n\r\n\tBody\u00a0text\x00 with\u200b zero-width.  \n"
    once = normalize_text(raw)
    assert once == "Title\n\nBody text with zero-width."
    assert normalize_text(once) == once


def test_reference_list_with_heading_is_split_off() -> None:
    body = "Intro paragraph with findings.\n\n" * 5
    text = body + "References\n1. Smith J, et al. Trial of X. Lancet 2015; 3:12.\n2. Doe A. Y study. BMJ 2010; 4:5."
    kept, references = split_reference_list(text)
    assert kept == body.rstrip()
    assert references == ["1. Smith J, et al. Trial of X. Lancet 2015; 3:12.", "2. Doe A. Y study. BMJ 2010; 4:5."]


def test_numbered_steps_are_not_mistaken_for_references() -> None:
    text = "How to take the tablets\n1. Take one tablet.\n2. Drink water.\n3. Rest."
    assert split_reference_list(text) == (text, [])
