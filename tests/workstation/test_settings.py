"""The workstation's settings file: defaults, lowered costs, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from workstation.settings import (
    MAX_S2K_COUNT,
    Limits,
    SettingsError,
    load_settings,
)


def test_no_file_means_the_documented_defaults() -> None:
    settings = load_settings(None)
    assert settings.keys.s2k_count == MAX_S2K_COUNT
    assert settings.limits == Limits(4 * 1024**3, 100, 16 * 1024**2)


def test_a_file_lowers_costs_and_limits(tmp_path: Path) -> None:
    path = tmp_path / "w.toml"
    path.write_text("[keys]\ns2k_count = 65536\n[limits]\nmax_ratio = 10\n")
    settings = load_settings(path)
    assert settings.keys.s2k_count == 65536
    assert settings.limits.max_ratio == 10
    assert settings.limits.max_item_bytes == 4 * 1024**3


def test_the_ceiling_combines_size_ratio_and_floor() -> None:
    limits = Limits(max_item_bytes=1000, max_ratio=10, ratio_applies_above_bytes=50)
    assert limits.ceiling(1) == 50
    assert limits.ceiling(20) == 200
    assert limits.ceiling(500) == 1000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[limits]\nmax_ratoi = 10\n", "unknown key(s): max_ratoi"),
        ("[limit]\nmax_ratio = 10\n", "unknown section(s): limit"),
        ("[limits]\nmax_ratio = 0\n", "max_ratio must be a positive integer"),
        ("[limits]\nmax_ratio = true\n", "max_ratio must be a positive integer"),
        ("[keys]\ns2k_count = 1024\n", "s2k_count must be between"),
        ("[keys\n", "is not valid TOML"),
    ],
)
def test_bad_files_are_refused_by_name(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "w.toml"
    path.write_text(text)
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings(path)


def test_a_missing_file_is_an_error_not_the_defaults(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "missing.toml")
