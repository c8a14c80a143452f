"""The archive file: written whole under a temporary name, or not at all."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from seethesigns.backups.errors import EXIT_DISK_FULL, EXIT_FAILED, EXIT_TARGET_IN_USE
from tests.databases import TemplateDatabase
from tests.seethesigns.backups.conftest import BackupKeyFiles, Populated, json_out, run_backup


def mounted_tmpfs(path: Path, size: str) -> Iterator[Path]:
    """path on a tiny tmpfs, so the disk fills up for real (needs root, else skip)."""
    path.mkdir(exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"needs root to mount a tmpfs: {mounted.stderr.strip()}")
    yield path
    # Lazily: a throwaway keyring's gpg-agent may still be exiting.
    subprocess.run(["umount", "--lazy", str(path)], check=True)


@pytest.fixture
def small_disk(work: Path) -> Iterator[Path]:
    """A 64 KiB disk: less than the populated instance's archive."""
    yield from mounted_tmpfs(work / "small", "64k")


@pytest.fixture
def small_scratch(populated: Populated, template_database: TemplateDatabase) -> Iterator[Path]:
    """The instance's tmp/ on a disk too small for the database copy: 96 KiB for SQLite's
    file, 48 KiB for pg_dump's compressed dump (about 57 KiB of schema alone)."""
    size = "48k" if template_database.is_postgresql else "96k"
    yield from mounted_tmpfs(populated.settings.tmp_dir, size)


def backup(instance: Populated, key: BackupKeyFiles, output: Path) -> tuple[int, str]:
    result = run_backup(instance, key, output)
    return result.exit_code, str(json_out(result).get("error"))


def test_a_full_disk_is_a_clear_error_and_leaves_nothing(
    populated: Populated, backup_key: BackupKeyFiles, small_disk: Path
) -> None:
    code, error = backup(populated, backup_key, small_disk / "backup.gpg")
    assert code == EXIT_DISK_FULL
    assert f"the disk holding {small_disk} is full" in error
    assert list(small_disk.iterdir()) == []
    # Room enough (outside the tiny disk), the same backup works: the test can fail.
    code, _ = backup(populated, backup_key, small_disk.parent / "backup.gpg")
    assert code == 0


def test_no_room_for_the_database_copy_is_a_clear_error_and_leaves_nothing(
    populated: Populated, backup_key: BackupKeyFiles, small_scratch: Path, work: Path
) -> None:
    code, error = backup(populated, backup_key, work / "backup.gpg")
    assert code == EXIT_DISK_FULL
    assert "no room for the database copy" in error
    assert list(small_scratch.iterdir()) == []
    assert list(work.iterdir()) == []


def test_an_existing_file_is_never_overwritten(
    populated: Populated, backup_key: BackupKeyFiles, work: Path
) -> None:
    (work / "backup.gpg").write_bytes(b"last night's backup")
    code, error = backup(populated, backup_key, work / "backup.gpg")
    assert code == EXIT_TARGET_IN_USE
    assert "already exists" in error
    assert (work / "backup.gpg").read_bytes() == b"last night's backup"


def test_a_missing_folder_is_a_clear_error(
    populated: Populated, backup_key: BackupKeyFiles, work: Path
) -> None:
    code, error = backup(populated, backup_key, work / "nowhere" / "backup.gpg")
    assert code == EXIT_FAILED
    assert "is not a directory" in error
