"""Shared fixtures: every test gets a clean environment and its own temporary library."""

from __future__ import annotations

from pathlib import Path

import pytest

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("MEDEVIDENCE_LIBRARY", "MEDEVIDENCE_TOKEN", "MEDEVIDENCE_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    # The deterministic fake embedder keeps most tests fast; tests of dense quality name the real one.
    monkeypatch.setenv("MEDEVIDENCE_EMBEDDER", "fake")


@pytest.fixture
def seeds() -> Path:
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not beside the repository")
    return SEEDS
