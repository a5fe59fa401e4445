from __future__ import annotations

from pathlib import Path

import pytest

from medevidence.config import HELP, Settings, describe, load_settings
from medevidence.errors import ConfigError


def test_every_setting_is_documented() -> None:
    assert {name for name, _, _ in describe()} == set(HELP) == set(Settings.__dataclass_fields__)


def test_file_then_environment_then_overrides(tmp_path: Path) -> None:
    (tmp_path / "settings.toml").write_text("max_file_mb = 5\npassage_max_words = 300\n")
    settings = load_settings(tmp_path, {"passage_max_words": 200}, environ={"MEDEVIDENCE_MAX_FILE_MB": "7"})
    assert (settings.max_file_mb, settings.passage_max_words) == (7.0, 200)


def test_unknown_setting_suggests_the_nearest() -> None:
    with pytest.raises(ConfigError, match=r"^unknown setting 'max_file_md'; did you mean 'max_file_mb'\?$"):
        load_settings(None, {"max_file_md": 1})


def test_wrong_type_names_the_setting() -> None:
    with pytest.raises(ConfigError, match=r"^setting 'passage_min_words' must be a int, not 'many'$"):
        load_settings(None, {"passage_min_words": "many"})


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "settings.toml").write_text("max_file_mb = = 5")
    with pytest.raises(ConfigError, match="settings.toml: .*; fix the TOML syntax"):
        load_settings(tmp_path)
