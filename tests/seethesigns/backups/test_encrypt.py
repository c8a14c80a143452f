"""The backup key: one public key that can encrypt, never a key the server could decrypt with."""

from __future__ import annotations

from pathlib import Path

import pytest

from seethesigns.backups.errors import EXIT_KEY
from tests.seethesigns.backups.conftest import BackupKeyFiles, Populated, json_out, run
from tests.seethesigns.conftest import BadKeys


def backup_with(instance: Populated, key_text: str, work: Path) -> tuple[int, str]:
    """Try a backup to the key in key_text; return the exit code and the error."""
    key = work / "offered.asc"
    key.write_text(key_text)
    result = run(
        "backup",
        "--config",
        instance.config,
        "--backup-key",
        key,
        "--output",
        work / "backup.gpg",
        "--json",
    )
    assert sorted(path.name for path in work.iterdir()) == ["offered.asc"]  # no archive at all
    return result.exit_code, str(json_out(result)["error"])


def test_a_secret_key_is_refused(
    populated: Populated, backup_key: BackupKeyFiles, work: Path
) -> None:
    code, error = backup_with(populated, backup_key.secret.read_text(), work)
    assert code == EXIT_KEY
    assert "SECRET key" in error


@pytest.mark.parametrize(
    ("which", "reason"),
    [("expired", "expired"), ("revoked", "revoked"), ("sign_only", "cannot encrypt")],
)
def test_unusable_keys_are_refused(
    populated: Populated, bad_keys: BadKeys, work: Path, which: str, reason: str
) -> None:
    code, error = backup_with(populated, getattr(bad_keys, which), work)
    assert code == EXIT_KEY
    assert reason in error


def test_a_file_with_two_keys_is_refused(
    populated: Populated, backup_key: BackupKeyFiles, bad_keys: BadKeys, work: Path
) -> None:
    code, error = backup_with(populated, backup_key.public.read_text() + bad_keys.other_valid, work)
    assert code == EXIT_KEY
    assert "exactly one public key, found 2" in error


def test_the_same_file_with_one_key_is_accepted(
    populated: Populated, bad_keys: BadKeys, work: Path
) -> None:
    key = work / "offered.asc"
    key.write_text(bad_keys.other_valid)
    result = run(
        "backup", "--config", populated.config, "--backup-key", key, "--output", work / "b.gpg"
    )
    assert result.exit_code == 0, result.output
    assert (work / "b.gpg").stat().st_size > 0
