"""A team's key file for `share`: only public keys that can encrypt now, never a secret key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.seethesigns.conftest import BadKeys, bad_keys  # noqa: F401 - the fixture
from workstation.team_keys import TeamKeyError, team_keys


@pytest.mark.parametrize(
    ("which", "expected"),
    [
        ("expired", "has expired"),
        ("revoked", "is revoked"),
        ("sign_only", "cannot encrypt (no usable encryption subkey)"),
    ],
)
def test_unusable_keys_are_refused(
    bad_keys: BadKeys,  # noqa: F811 - the imported fixture
    workdir: Path,
    which: str,
    expected: str,
) -> None:
    key_file = workdir / "team.asc"
    key_file.write_text(bad_keys.other_valid + getattr(bad_keys, which))
    # Two armored blocks in one file: the bad one is found after the good one.
    with pytest.raises(TeamKeyError, match=re.escape(expected)), team_keys(key_file):
        pass


def test_the_throwaway_home_is_removed_afterwards(
    bad_keys: BadKeys,  # noqa: F811 - the imported fixture
    workdir: Path,
) -> None:
    key_file = workdir / "team.asc"
    key_file.write_text(bad_keys.other_valid)
    with team_keys(key_file) as keys:
        assert len(keys.fingerprints) == 1
        home = Path(keys._gpg.gnupghome)
    assert not home.exists()


def test_a_file_without_keys_is_refused(workdir: Path) -> None:
    key_file = workdir / "team.asc"
    key_file.write_text("hello")
    with pytest.raises(TeamKeyError, match="holds no OpenPGP public key"), team_keys(key_file):
        pass
