"""Query expansion (curated synonyms, library-defined and glossary abbreviations) and Schwartz-Hearst."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medevidence.tokens import analyze
from medevidence.vocabulary import (
    GLOSSARY_AMBIGUOUS_WEIGHT,
    GLOSSARY_WEIGHT,
    LIBRARY_SINGLE_WEIGHT,
    LIBRARY_WEIGHT,
    Vocabulary,
    find_abbreviations,
    glossary,
    synonym_groups,
)


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return Vocabulary.load()


def variants(vocabulary: Vocabulary, query: str) -> dict[str, float]:
    expansion = vocabulary.expand(query)
    assert expansion[0] == (query, 1.0)
    return dict(expansion[1:])


# --- expansion -------------------------------------------------------------------------------


def test_stage_4_idc_mastectomy(vocabulary: Vocabulary) -> None:
    found = variants(vocabulary, "stage 4 IDC mastectomy")
    assert found["stage IV"] == 1.0
    assert found["metastatic"] == 0.8
    assert found["infiltrating duct carcinoma"] == 0.9
    assert found["invasive ductal carcinoma"] == 0.9
    # broader and related terms count, but for less than synonyms
    assert found["advanced"] < found["metastatic"]
    assert found["breast surgery"] <= 0.5
    assert found["surgical resection of the primary tumour"] <= 0.5


def test_receptor_status(vocabulary: Vocabulary) -> None:
    assert variants(vocabulary, "HER2+ breast cancer")["HER2-positive"] == 0.9
    # a digit or a sign cannot be an English word, so lower case expands too
    assert "HER2-positive" in variants(vocabulary, "her2+ breast cancer")
    er = variants(vocabulary, "ER+ disease")
    assert er["estrogen receptor-positive"] == 1.0
    assert er["hormone receptor-positive"] == 0.5


def test_common_abbreviations_across_specialties(vocabulary: Vocabulary) -> None:
    expected = {
        "OS at 5 years": "overall survival",
        "PFS with letrozole": "progression-free survival",
        "an RCT of aspirin": "randomized controlled trial",
        "MI after surgery": "myocardial infarction",
        "AF and stroke": "atrial fibrillation",
        "T2DM in youth": "type 2 diabetes",
        "MRSA carriage": "methicillin-resistant Staphylococcus aureus",
        "SSRIs in pregnancy": "selective serotonin reuptake inhibitor",
    }
    for query, meaning in expected.items():
        assert meaning in variants(vocabulary, query), query


def test_an_organ_and_its_adjective_meet(vocabulary: Vocabulary) -> None:
    # "Is actin present in the nucleus?" is answered by "nuclear actin"; stemming cannot join them.
    assert "nuclear" in variants(vocabulary, "actin in the nucleus")
    assert "kidney" in variants(vocabulary, "renal function after surgery")
    assert "cerebral" in variants(vocabulary, "bacteria found in brain")
    # One-way where the adjective has other meanings: "oral" is also how a drug is taken.
    assert "oral" in variants(vocabulary, "mouth ulcers")
    assert "mouth" not in variants(vocabulary, "oral anticoagulants")


def test_long_form_expands_to_its_abbreviation(vocabulary: Vocabulary) -> None:
    assert "OS" in variants(vocabulary, "overall survival after mastectomy")


def test_unknown_query_returns_just_itself(vocabulary: Vocabulary) -> None:
    assert vocabulary.expand("What is the weather like today?") == [("What is the weather like today?", 1.0)]
    assert vocabulary.expand("") == [("", 1.0)]


def test_abbreviation_inside_a_word_does_not_expand(vocabulary: Vocabulary) -> None:
    assert "overall survival" not in variants(vocabulary, "DOSE finding")
    assert "overall survival" not in variants(vocabulary, "Kaposi sarcoma")


def test_capitalised_abbreviation_does_not_match_lower_case_word(vocabulary: Vocabulary) -> None:
    assert variants(vocabulary, "the os of the cervix") == {}
    assert "overall survival" in variants(vocabulary, "the OS of the cohort")
    # "EGFR" is the receptor, "eGFR" the kidney function estimate
    assert "estimated glomerular filtration rate" not in variants(vocabulary, "EGFR mutation")
    assert "estimated glomerular filtration rate" in variants(vocabulary, "eGFR decline")


def test_no_match_starts_or_ends_inside_a_hyphenated_compound(vocabulary: Vocabulary) -> None:
    assert "stage IV" not in variants(vocabulary, "non-metastatic breast cancer")
    assert "nonmetastatic" in variants(vocabulary, "non-metastatic breast cancer")
    assert "radiotherapy" not in variants(vocabulary, "RT-PCR for influenza")


def test_no_match_runs_across_punctuation(vocabulary: Vocabulary) -> None:
    assert "case report" not in variants(vocabulary, "Based on this case, a series of questions")
    assert "case report" in variants(vocabulary, "a case series of IDC")
    assert "Escherichia coli" in variants(vocabulary, "E. coli bacteremia")


def test_variant_already_in_the_question_is_not_repeated(vocabulary: Vocabulary) -> None:
    assert "stage IV" not in variants(vocabulary, "stage IV. Advanced")


def test_glossary_abbreviations_match_as_written(vocabulary: Vocabulary) -> None:
    assert "Creatinine" in variants(vocabulary, "Cr after contrast")
    assert "Creatinine" not in variants(vocabulary, "CR after induction")


def test_longest_match_wins(vocabulary: Vocabulary) -> None:
    found = variants(vocabulary, "stage IV melanoma")
    assert "stage 4" in found
    assert "intravenous" not in found


def test_spelling_plural_and_possessive_variants_match(vocabulary: Vocabulary) -> None:
    assert "RCT" in variants(vocabulary, "randomised controlled trials of statins")
    assert "regional enteritis" in variants(vocabulary, "Crohn's disease in children")


def test_ambiguous_glossary_abbreviation_gets_a_low_weight(vocabulary: Vocabulary) -> None:
    found = variants(vocabulary, "PR after induction")
    assert found["partial response"] == GLOSSARY_AMBIGUOUS_WEIGHT
    assert found["progesterone receptor"] == GLOSSARY_AMBIGUOUS_WEIGHT
    assert variants(vocabulary, "RYGB outcomes")["Roux-en-Y gastric bypass"] == GLOSSARY_WEIGHT


def test_variants_are_unique_and_weights_in_range(vocabulary: Vocabulary) -> None:
    expansion = vocabulary.expand("What is the role of mastectomy in stage 4 invasive ductal carcinoma?")
    texts = [text.casefold() for text, _ in expansion]
    assert len(texts) == len(set(texts))
    assert all(0.0 < weight <= 1.0 for _, weight in expansion)


@given(text=st.text(max_size=200))
def test_expand_accepts_any_text(vocabulary: Vocabulary, text: str) -> None:
    expansion = vocabulary.expand(text)
    assert expansion[0] == (text, 1.0)
    assert all(0.0 < weight <= 1.0 for _, weight in expansion)


# --- library-defined abbreviations -----------------------------------------------------------


def test_library_pairs_expand_both_ways() -> None:
    vocabulary = Vocabulary.load([("PR", "pulse rate", 3), ("PR", "posterior repair", 1)])
    found = variants(vocabulary, "PR at rest")
    assert found == {"pulse rate": LIBRARY_WEIGHT}  # the library's meaning replaces the glossary's five
    assert variants(vocabulary, "pulse rate at rest")["PR"] == LIBRARY_WEIGHT


def test_library_long_forms_count_together_across_case() -> None:
    vocabulary = Vocabulary.load([("QXZ", "Quux zeta", 1), ("QXZ", "quux zeta", 1)])
    assert variants(vocabulary, "QXZ levels") == {"Quux zeta": LIBRARY_WEIGHT}


def test_library_pair_defined_once_reads_the_short_form_only() -> None:
    vocabulary = Vocabulary.load([("QXZ", "quux zeta", 1)])
    assert variants(vocabulary, "QXZ levels") == {"quux zeta": LIBRARY_SINGLE_WEIGHT}
    assert variants(vocabulary, "quux zeta levels") == {}


def test_library_ties_between_single_definitions_are_ignored() -> None:
    vocabulary = Vocabulary.load([("QXZ", "quux zeta", 1), ("QXZ", "quiet xylophone zone", 1)])
    assert variants(vocabulary, "QXZ levels") == {}


def test_second_library_meaning_weighs_by_its_share() -> None:
    vocabulary = Vocabulary.load([("QXZ", "quux zeta", 4), ("QXZ", "quiet xylophone zone", 2)])
    found = variants(vocabulary, "QXZ levels")
    assert found["quux zeta"] == LIBRARY_WEIGHT
    assert found["quiet xylophone zone"] == pytest.approx(LIBRARY_WEIGHT / 2)


def test_library_meaning_adds_to_curated_meaning() -> None:
    found = variants(Vocabulary.load([("OS", "osteosarcoma", 5)]), "OS in adolescents")
    assert "overall survival" in found
    assert found["osteosarcoma"] == LIBRARY_WEIGHT


# --- Schwartz-Hearst -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "pair"),
    [
        (
            "Women with invasive ductal carcinoma (IDC) had a higher rate of nodal involvement.",
            ("IDC", "invasive ductal carcinoma"),
        ),
        (
            "We queried the National Cancer Database (NCDB) for women diagnosed between 2004 and 2012.",
            ("NCDB", "National Cancer Database"),
        ),
        (
            "Surgery of the primary tumor improved overall survival (OS; HR 0.71, 95% CI 0.6-0.8).",
            ("OS", "overall survival"),
        ),
        (
            "Patients received a selective serotonin reuptake inhibitor (SSRI) for eight weeks.",
            ("SSRI", "selective serotonin reuptake inhibitor"),
        ),
        ("IDC (invasive ductal carcinoma) is the most common histology.", ("IDC", "invasive ductal carcinoma")),
        (
            "the Surveillance, Epidemiology, and End Results (SEER) registry",
            ("SEER", "Surveillance, Epidemiology, and End Results"),
        ),
        ("at $45,540/quality-adjusted life year (QALY) gained", ("QALY", "quality-adjusted life year")),
    ],
)
def test_finds_abbreviation_definitions(sentence: str, pair: tuple[str, str]) -> None:
    assert find_abbreviations(sentence) == [pair]


@pytest.mark.parametrize(
    "sentence",
    [
        "The median age was 54 years (n = 120).",
        "Survival improved significantly (p < 0.05) after surgery.",
        "Hazard ratios were similar (HR 0.82) across subgroups.",
        "As shown previously (Table 2), the effect persisted.",
        "The RR (reinfarction 1.3% versus 1.4%) did not differ.",
        "The drug was well tolerated (see below).",
        "Two groups (A and B) were compared.",
    ],
)
def test_rejects_parentheses_that_define_nothing(sentence: str) -> None:
    assert find_abbreviations(sentence) == []


def test_each_pair_once_in_order_of_appearance() -> None:
    text = (
        "Overall survival (OS) and progression-free survival (PFS) were co-primary endpoints. "
        "Median overall survival (OS) was 30 months."
    )
    assert find_abbreviations(text) == [("OS", "Overall survival"), ("PFS", "progression-free survival")]


@given(st.text(max_size=300))
def test_found_short_forms_occur_in_the_text(text: str) -> None:
    for short, long in find_abbreviations(text):
        assert short in text
        assert long in text
        assert len(long) > len(short)


# --- data files ------------------------------------------------------------------------------


def test_synonym_file_parses_and_every_group_is_sound(vocabulary: Vocabulary) -> None:
    groups = synonym_groups()
    assert len(groups) >= 300
    for group in groups:
        where = f"synonyms.tsv line {group.line}"
        assert len(group.terms) + len(group.targets) >= 2, where
        assert 0.0 < group.weight <= 1.0, where
        for term in group.terms:
            # every term, typed as a query, finds its own row again
            found = {variant.casefold() for variant in variants(vocabulary, term)}
            expected = group.targets or [other for other in group.terms if other.casefold() != term.casefold()]
            assert {other.casefold() for other in expected} <= found, f"{where}: {term!r}"
        for target in group.targets:
            assert analyze(target), f"{where}: {target!r} has no searchable words"


def test_synonym_file_has_no_redundant_members() -> None:
    # Plurals and British spellings analyse alike and match alike: listing both adds nothing.
    # Abbreviations may repeat ("AE", "AEs"), because they match as written.
    for group in synonym_groups():
        for column in (group.terms, group.targets):
            seen: dict[tuple[str, ...], str] = {}
            for term in column:
                other = seen.setdefault(tuple(analyze(term)), term)
                assert other == term or term[1:] != term[1:].lower(), f"line {group.line}: {term!r} repeats {other!r}"


def test_glossary_file_parses() -> None:
    rows = glossary()
    assert len(rows) > 3000
    assert all(short and meaning and "\t" not in meaning for short, meaning in rows)
    assert ("PFS", "progression-free survival") in rows
