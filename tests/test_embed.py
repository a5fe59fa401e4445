"""The embedders keep the Embedder contract; the shipped models load and rank medical text sensibly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from medevidence.embed import (
    DATA,
    DEFAULT_EMBEDDER,
    EMBEDDERS,
    Embedder,
    FakeEmbedder,
    OnnxTransformerEmbedder,
    StaticEmbedder,
    embed,
    get_embedder,
)
from medevidence.errors import ConfigError

SURGERY = "metastatic breast cancer surgery"
RESECTION = "stage IV breast carcinoma resection"
VACCINE = "influenza vaccination in children"


@pytest.fixture(scope="module")
def static() -> StaticEmbedder:
    return StaticEmbedder.shipped()


def assert_contract(embedder: Embedder, texts: list[str]) -> np.ndarray:
    vectors = embedder.embed_batch(texts)
    assert vectors.dtype == np.float32
    assert vectors.shape == (len(texts), embedder.dimension)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    return vectors


def test_fake_embedder_is_deterministic_and_normalised() -> None:
    texts = [SURGERY, RESECTION, VACCINE]
    first = assert_contract(FakeEmbedder(), texts)
    # A new instance stands in for a new process: the hash must not be Python's salted one.
    np.testing.assert_array_equal(first, FakeEmbedder().embed_batch(texts))
    assert FakeEmbedder(dimension=64).embed_batch(texts).shape == (3, 64)


def test_fake_embedder_puts_texts_sharing_words_closer() -> None:
    surgery, resection, vaccine = FakeEmbedder().embed_batch([SURGERY, "breast cancer surgery", VACCINE])
    assert surgery @ resection > 0.7
    assert surgery @ resection > surgery @ vaccine


def test_text_without_tokens_gives_a_zero_row(static: StaticEmbedder) -> None:
    for embedder in (FakeEmbedder(), static):
        vectors = embedder.embed_batch(["", "   ", SURGERY])
        assert not vectors[:2].any()
        assert np.linalg.norm(vectors[2]) == pytest.approx(1.0, rel=1e-5)


def test_static_embedder_loads_the_shipped_model(static: StaticEmbedder) -> None:
    config = json.loads((DATA / "minilm-static-med" / "config.json").read_text(encoding="utf-8"))
    assert static.name == "minilm-static-med" == config["name"]
    assert static.dimension == config["dimension"] == 256
    assert_contract(static, [SURGERY, RESECTION, VACCINE, "ECOG performance status 1, HER2-low"])


def test_static_embedder_ranks_synonymous_medical_phrases_above_unrelated_ones(static: StaticEmbedder) -> None:
    surgery, resection, vaccine = static.embed_batch([SURGERY, RESECTION, VACCINE])
    assert surgery @ resection > surgery @ vaccine + 0.2
    assert surgery @ resection > resection @ vaccine + 0.2


def test_static_embedder_does_not_depend_on_batch_composition(static: StaticEmbedder) -> None:
    # Texts longer than the internal chunk and a batch spanning several chunks.
    texts = [f"{SURGERY} case {index} " * (index % 7 + 1) for index in range(300)]
    together = static.embed_batch(texts)
    one_by_one = np.vstack([static.embed_batch([text]) for text in texts[::37]])
    np.testing.assert_allclose(together[::37], one_by_one, atol=1e-6)


def test_embed_batches_and_handles_empty_input(static: StaticEmbedder) -> None:
    texts = [SURGERY, RESECTION, VACCINE, "adjuvant endocrine therapy", "radiotherapy"]
    np.testing.assert_allclose(embed(static, texts, batch_size=2), static.embed_batch(texts), atol=1e-6)
    assert embed(static, [], batch_size=8).shape == (0, static.dimension)
    with pytest.raises(ValueError, match="batch_size must be at least 1, not 0"):
        embed(static, texts, batch_size=0)


def test_get_embedder_builds_registered_embedders() -> None:
    assert isinstance(get_embedder("fake"), FakeEmbedder)
    assert get_embedder(DEFAULT_EMBEDDER).name.startswith(f"{DEFAULT_EMBEDDER}@")
    assert get_embedder("minilm-static-med").name == "minilm-static-med"
    # Every library opened in one process shares one model instance.
    assert get_embedder(DEFAULT_EMBEDDER) is get_embedder(DEFAULT_EMBEDDER)
    assert DEFAULT_EMBEDDER in EMBEDDERS


def test_unknown_embedder_name_lists_the_choices() -> None:
    with pytest.raises(ConfigError) as caught:
        get_embedder("minilm-static")
    assert str(caught.value) == (
        "unknown embedder 'minilm-static' (did you mean 'minilm-static-med'?); "
        "set the embedder setting to one of: fake, minilm-med, minilm-onnx, minilm-static-med"
    )
    with pytest.raises(ConfigError, match=r"^unknown embedder 'bert'; set the embedder setting to one of: fake, "):
        get_embedder("bert")


def test_static_model_folder_problems_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the embedding model description .*config.json"):
        StaticEmbedder(tmp_path)

    model = tmp_path / "model"
    shutil.copytree(DATA / "minilm-static-med", model)
    (model / "embeddings.npy").unlink()
    with pytest.raises(ConfigError, match=r"cannot load the static embedding model in .*model: .*embeddings\.npy"):
        StaticEmbedder(model)

    config = json.loads((model / "config.json").read_text(encoding="utf-8"))
    (model / "config.json").write_text(json.dumps({**config, "format_version": 99}), encoding="utf-8")
    with pytest.raises(ConfigError, match="has format_version 99, this medevidence reads 1; rebuild the model"):
        StaticEmbedder(model)


@pytest.fixture(scope="module")
def fine_tuned() -> OnnxTransformerEmbedder:
    return OnnxTransformerEmbedder.shipped("minilm-med")


def test_fine_tuned_model_loads_and_keeps_the_contract(fine_tuned: OnnxTransformerEmbedder) -> None:
    config = json.loads((DATA / "minilm-med" / "config.json").read_text(encoding="utf-8"))
    assert fine_tuned.name == f"minilm-med@{config['files']['model.onnx'][:8]}"
    assert fine_tuned.dimension == config["dimension"] == 384
    vectors = assert_contract(fine_tuned, [SURGERY, RESECTION, VACCINE, "word " * 1000])
    # A text's vector must not depend on the texts embedded with it.
    np.testing.assert_allclose(vectors[:3], fine_tuned.embed_batch([SURGERY, RESECTION, VACCINE]), atol=1e-5)
    np.testing.assert_allclose(vectors[1], fine_tuned.embed_batch([RESECTION])[0], atol=1e-5)


def test_fine_tuned_model_finds_the_passage_that_answers_a_clinical_question(
    fine_tuned: OnnxTransformerEmbedder,
) -> None:
    question = "Does removing the primary tumour prolong survival in women with stage IV breast cancer?"
    passages = [
        "Influenza vaccination of children reduced laboratory-confirmed influenza by 60%.",
        "In a randomised trial of de novo metastatic breast cancer, locoregional surgery of the primary did "
        "not improve overall survival compared with systemic therapy alone.",
        "Breast cancer screening with mammography every two years from age 50 lowers breast cancer mortality.",
        "Metformin lowered HbA1c by 1.1% compared with placebo in type 2 diabetes.",
    ]
    scores = fine_tuned.embed_batch(passages) @ fine_tuned.embed_batch([question])[0]
    assert int(np.argmax(scores)) == 1
    assert scores[1] > sorted(scores)[-2] + 0.03


def test_damaged_fine_tuned_model_is_a_config_error(tmp_path: Path) -> None:
    model = tmp_path / "minilm-med"
    model.mkdir()
    (model / "model.onnx").write_bytes(b"not an onnx graph")
    with pytest.raises(ConfigError, match=r"cannot load the embedding model .*model\.onnx: .*rebuild the model"):
        OnnxTransformerEmbedder(model / "model.onnx", "minilm-med", 128)
