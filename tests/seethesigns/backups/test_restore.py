"""Restores that must not happen: wrong key, tampered archive, occupied target, newer schema;
and the ones that must: with a passphrase, and over an existing instance with --force."""

from __future__ import annotations

import contextlib
import os
import pty
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import gnupg
import pytest

from seethesigns.backups.errors import (
    EXIT_DAMAGED,
    EXIT_KEY,
    EXIT_TARGET_IN_USE,
    EXIT_UNSUPPORTED,
)
from tests.conftest import OfflineKey, short_tmpdir
from tests.seethesigns.backups.conftest import (
    BackupKeyFiles,
    Populated,
    back_up,
    export_keypair,
    files_under,
    json_out,
    leftovers,
    restore_args,
    run,
    table_rows,
)

PASSPHRASE = "correct horse battery staple"
SEETHESIGNS = Path(sys.executable).parent / "seethesigns"


@pytest.fixture
def archive(populated: Populated, backup_key: BackupKeyFiles, work: Path) -> Path:
    """A backup of the populated instance."""
    back_up(populated, backup_key, work / "backup.gpg")
    return work / "backup.gpg"


@pytest.fixture(scope="module")
def protected_key() -> Iterator[BackupKeyFiles]:
    """A backup keypair whose secret half is protected by PASSPHRASE."""
    home = short_tmpdir("stbpp")
    (home / "gnupg").mkdir(mode=0o700)
    gpg = gnupg.GPG(gnupghome=str(home / "gnupg"))
    made = gpg.gen_key(
        gpg.gen_key_input(
            key_type="EDDSA",
            key_curve="ed25519",
            subkey_type="ECDH",
            subkey_curve="cv25519",
            name_real="Protected Backup Key",
            name_email="backup@seethesigns.invalid",
            passphrase=PASSPHRASE,
            expire_date=0,
        )
    )
    key = OfflineKey(home / "gnupg", str(made.fingerprint), gpg.export_keys(made.fingerprint))
    yield export_keypair(key, home, PASSPHRASE)
    shutil.rmtree(home, ignore_errors=True)


def restore(
    archive: Path,
    key: BackupKeyFiles,
    target: Path,
    *extra: str | Path,
    database_url: str | None = None,
) -> tuple[int, str]:
    """Restore into target (and database_url); return the exit code and the error, if any."""
    result = run(*restore_args(archive, key, target, database_url), *extra)
    return result.exit_code, str(json_out(result).get("error"))


def test_the_wrong_key_is_refused_with_a_clear_message(
    archive: Path, offline_key: OfflineKey, work: Path
) -> None:
    # The submission key is the likeliest mistake: it lives offline too.
    submission = export_keypair(offline_key, work)
    code, error = restore(archive, submission, work / "new")
    assert code == EXIT_KEY
    assert error.startswith("wrong key: this archive is encrypted to key")
    assert leftovers(work / "new") == []


def test_a_public_key_is_not_a_secret_key(
    archive: Path, backup_key: BackupKeyFiles, work: Path
) -> None:
    public = BackupKeyFiles(backup_key.fingerprint, backup_key.public, backup_key.public, work)
    code, error = restore(archive, public, work / "new")
    assert code == EXIT_KEY
    assert "holds no armored secret key" in error


@pytest.mark.parametrize("where", ["middle", "end"])
def test_a_flipped_byte_is_a_clear_error_and_nothing_is_left(
    archive: Path, backup_key: BackupKeyFiles, work: Path, where: str, fresh_database: str | None
) -> None:
    data = bytearray(archive.read_bytes())
    at = len(data) // 2 if where == "middle" else len(data) - 5
    data[at] ^= 0x01
    archive.write_bytes(bytes(data))
    code, error = restore(archive, backup_key, work / "new", database_url=fresh_database)
    assert code == EXIT_DAMAGED
    assert "altered or damaged" in error
    assert leftovers(work / "new") == []
    checked = run("backup", "--verify", archive, "--secret-key", backup_key.secret)
    assert checked.exit_code == EXIT_DAMAGED


def test_a_truncated_archive_is_a_clear_error(
    archive: Path, backup_key: BackupKeyFiles, work: Path, fresh_database: str | None
) -> None:
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    code, error = restore(archive, backup_key, work / "new", database_url=fresh_database)
    assert code == EXIT_DAMAGED
    assert leftovers(work / "new") == []
    assert error


def test_a_non_empty_data_directory_is_refused(
    archive: Path, backup_key: BackupKeyFiles, work: Path
) -> None:
    (work / "new" / "data").mkdir(parents=True)
    (work / "new" / "data" / "notes.txt").write_text("mine")
    code, error = restore(archive, backup_key, work / "new")
    assert code == EXIT_TARGET_IN_USE
    assert "is not empty" in error
    assert leftovers(work / "new") == [work / "new" / "data", work / "new" / "data" / "notes.txt"]


def test_an_existing_configuration_is_refused(
    archive: Path, backup_key: BackupKeyFiles, work: Path
) -> None:
    (work / "new" / "etc").mkdir(parents=True)
    (work / "new" / "etc" / "site.toml").write_text("# someone's\n")
    code, error = restore(archive, backup_key, work / "new")
    assert code == EXIT_TARGET_IN_USE
    assert "site.toml already exists" in error
    assert (work / "new" / "etc" / "site.toml").read_text() == "# someone's\n"
    assert not (work / "new" / "data").exists()


def test_targets_read_from_the_archive_are_checked_too(
    populated: Populated, archive: Path, backup_key: BackupKeyFiles
) -> None:
    # No --config or --data-dir: the original paths, where the instance still is.
    result = run("restore", "--archive", archive, "--secret-key", backup_key.secret)
    assert result.exit_code == EXIT_TARGET_IN_USE
    assert "already exists" in result.output
    assert not [p for p in populated.settings.data_dir.iterdir() if p.name.startswith(".")]


@pytest.mark.sqlite_only  # a stale -wal file; test_postgresql.py has PostgreSQL's --force
def test_force_puts_an_existing_instance_back_as_it_was(
    archive: Path, backup_key: BackupKeyFiles, work: Path
) -> None:
    assert restore(archive, backup_key, work / "new")[0] == 0
    data = work / "new" / "data"
    rows, store = table_rows(data / "seethesigns.db"), files_under(data / "store")
    # The instance moves on: a new row, a stray file, and a write-ahead log left beside it.
    db = sqlite3.connect(data / "seethesigns.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("INSERT INTO login_failures (staff_id, occurred_at) SELECT id, 0 FROM staff")
    db.commit()
    shutil.copyfile(data / "seethesigns.db-wal", work / "stale-wal")
    db.close()
    shutil.copyfile(work / "stale-wal", data / "seethesigns.db-wal")  # as after a crash
    next(data.joinpath("store").iterdir()).joinpath("9-new-msg.gpg").write_bytes(b"x")
    assert table_rows(data / "seethesigns.db") != rows

    code, error = restore(archive, backup_key, work / "new")
    assert code == EXIT_TARGET_IN_USE, error
    assert restore(archive, backup_key, work / "new", "--force")[0] == 0
    assert not (data / "seethesigns.db-wal").exists()
    assert table_rows(data / "seethesigns.db") == rows
    assert files_under(data / "store") == store
    assert [p.name for p in data.iterdir() if p.name.startswith(".")] == []


def test_a_protected_key_needs_its_passphrase(
    populated: Populated, protected_key: BackupKeyFiles, work: Path, fresh_database: str | None
) -> None:
    back_up(populated, protected_key, work / "backup.gpg")
    code, error = restore(work / "backup.gpg", protected_key, work / "new")
    assert code == EXIT_KEY
    assert "--passphrase-file" in error  # asked for, not prompted: stdin is not a terminal
    (work / "wrong").write_text("not it\n")
    code, error = restore(
        work / "backup.gpg", protected_key, work / "new", "--passphrase-file", work / "wrong"
    )
    assert code == EXIT_KEY
    assert "passphrase of the backup secret key is wrong" in error
    assert leftovers(work / "new") == []
    (work / "right").write_text(PASSPHRASE + "\n")
    code, error = restore(
        work / "backup.gpg",
        protected_key,
        work / "new",
        "--passphrase-file",
        work / "right",
        database_url=fresh_database,
    )
    assert code == 0, error


@pytest.mark.sqlite_only  # edits the revision in the SQLite file
def test_a_backup_from_a_newer_schema_is_refused(
    populated: Populated, backup_key: BackupKeyFiles, work: Path
) -> None:
    with sqlite3.connect(populated.settings.data_dir / "seethesigns.db") as db:
        db.execute("UPDATE alembic_version SET version_num = 'f00d'")
    back_up(populated, backup_key, work / "backup.gpg")
    code, error = restore(work / "backup.gpg", backup_key, work / "new")
    assert code == EXIT_UNSUPPORTED
    assert "schema revision f00d" in error
    assert leftovers(work / "new") == []
    checked = run(
        "backup", "--verify", work / "backup.gpg", "--secret-key", backup_key.secret, "--json"
    )
    assert checked.exit_code == 0
    assert json_out(checked)["restorable"] is False


def test_on_a_terminal_the_passphrase_is_asked_for(
    populated: Populated, protected_key: BackupKeyFiles, work: Path, fresh_database: str | None
) -> None:
    back_up(populated, protected_key, work / "backup.gpg")
    args = restore_args(work / "backup.gpg", protected_key, work / "new", fresh_database)
    command = [str(SEETHESIGNS), *map(str, args)]
    pid, terminal = pty.fork()
    if pid == 0:  # the child, with the pseudo-terminal as its controlling terminal
        os.execv(command[0], command)  # noqa: S606 - a fixed argument list
    seen = b""
    while b"Passphrase of the backup secret key" not in seen:
        seen += os.read(terminal, 1024)
    os.write(terminal, PASSPHRASE.encode() + b"\n")
    with contextlib.suppress(OSError):  # EIO once the child has exited
        while chunk := os.read(terminal, 1024):
            seen += chunk
    _, status = os.waitpid(pid, 0)
    os.close(terminal)
    assert os.waitstatus_to_exitcode(status) == 0, seen
    assert PASSPHRASE.encode() not in seen  # not echoed
    assert (work / "new" / "etc" / "site.toml").exists()
