"""A whole instance backed up and restored somewhere else, and working there."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import gnupg
import pytest
from alembic.script import ScriptDirectory
from flask import Flask

from seethesigns.codenames import CodenameDeriver
from seethesigns.db import alembic_config, make_engine, make_session_factory
from seethesigns.encryption import GpgService
from seethesigns.models import Submission
from seethesigns.replies import read_replies
from seethesigns.settings import load_settings
from seethesigns.sources import find_source
from seethesigns.storage import Store
from tests.conftest import OfflineKey
from tests.databases import TemplateDatabase
from tests.seethesigns.backups.conftest import (
    MESSAGE,
    NOTE,
    REPLY,
    BackupKeyFiles,
    Populated,
    back_up,
    files_under,
    json_out,
    restore_args,
    run,
    table_rows,
)


def head_revision(url: str) -> str:
    """The newest schema revision this version knows."""
    return str(ScriptDirectory.from_config(alembic_config(url)).get_current_head())


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.mark.sqlite_only  # the database file; test_postgresql.py restores PostgreSQL
def test_restored_elsewhere_the_instance_is_the_same_and_works(
    populated: Populated, backup_key: BackupKeyFiles, offline_key: OfflineKey, work: Path
) -> None:
    original = populated.settings
    archive = work / "backup.gpg"
    summary = back_up(populated, backup_key, archive)
    assert summary["backup_key"] == backup_key.fingerprint
    assert summary["store_files"] == 3  # message, document, reply

    scratch = {p for p in Path("/dev/shm").glob("sts-*")}
    restored = run(*restore_args(archive, backup_key, work / "new"))
    assert restored.exit_code == 0, restored.output
    assert json_out(restored)["relocated"] is True
    # The throwaway keyring that held the backup secret key is gone.
    assert set(Path("/dev/shm").glob("sts-*")) <= scratch
    config = work / "new" / "etc" / "site.toml"
    settings = load_settings(config)
    assert settings.data_dir == (work / "new" / "data").resolve()
    assert settings.database_url == f"sqlite:///{settings.data_dir / 'seethesigns.db'}"
    assert (settings.pepper_filesystem_id, settings.pepper_key_secret) == (
        original.pepper_filesystem_id,
        original.pepper_key_secret,
    )

    # The database, row for row; the store and the onion keys, byte for byte.
    assert table_rows(settings.data_dir / "seethesigns.db") == table_rows(
        original.data_dir / "seethesigns.db"
    )
    assert files_under(settings.store_dir) == files_under(original.store_dir)
    onion = files_under(settings.tor.keys_dir)
    assert set(onion) == {"source.ed25519", "journalist.ed25519", "staff_clients.json"}
    assert onion.items() <= files_under(original.tor.keys_dir).items()  # not its .lock

    # What the offline workstation receives still decrypts; the source still logs in with
    # their codename and reads the reply; migrate runs; the source interface serves.
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as db:
        message = db.query(Submission).filter(Submission.filename.like("%-msg.gpg")).one()
        ciphertext = Store(settings.store_dir).path(
            populated.source.source.filesystem_id, message.filename
        )
        assert offline_key.decrypt(ciphertext.read_bytes()).decode() == MESSAGE
        deriver = CodenameDeriver(
            settings.pepper_filesystem_id, settings.pepper_key_secret, settings.argon2
        )
        found = find_source(db, deriver, populated.codename)
        assert found is not None
        gpg = GpgService(
            settings.gnupg_homedir, settings.submission_key_fingerprint, settings.tmp_dir
        )
        gpg.check_submission_key([settings.submission_key_fingerprint])
        replies = read_replies(db, Store(settings.store_dir), gpg, found.source, found.key_secret)
        assert [reply.text for reply in replies] == [REPLY]
        assert NOTE in str(table_rows(settings.data_dir / "seethesigns.db")["cases"])
    engine.dispose()
    assert run("migrate", "--config", config).exit_code == 0
    from source_interface import create_app

    app: Flask = create_app(settings)
    assert app.test_client().get("/").status_code == 200
    subprocess.run(["gpgconf", "--homedir", str(settings.gnupg_homedir), "--kill", "all"])


def test_restored_files_are_private(
    populated: Populated, backup_key: BackupKeyFiles, work: Path, fresh_database: str | None
) -> None:
    back_up(populated, backup_key, work / "backup.gpg")
    assert mode(work / "backup.gpg") == 0o600
    args = restore_args(work / "backup.gpg", backup_key, work / "new", fresh_database)
    assert run(*args).exit_code == 0
    found = [work / "new" / "etc" / "site.toml", *(work / "new" / "data").rglob("*")]
    assert len(found) > 10
    for path in found:
        assert mode(path) == (0o700 if path.is_dir() else 0o600), path
    assert mode(work / "new" / "data") == 0o700


def test_the_archive_holds_no_plaintext_and_the_server_cannot_read_it(
    populated: Populated,
    backup_key: BackupKeyFiles,
    work: Path,
    template_database: TemplateDatabase,
) -> None:
    back_up(populated, backup_key, work / "backup.gpg")
    archive = (work / "backup.gpg").read_bytes()
    secrets_in_config = populated.config.read_text()
    pepper = populated.settings.pepper_key_secret.hex()
    assert pepper in secrets_in_config  # the marker really is in what was backed up
    for marker in (pepper.encode(), NOTE.encode(), b"casey", b"SQLite format 3", b"ustar"):
        assert marker not in archive
    server = gnupg.GPG(gnupghome=str(populated.settings.gnupg_homedir))
    attempt = server.decrypt(archive)
    assert not attempt.ok and attempt.data == b""
    assert "NO_SECKEY" in attempt.stderr
    # The backup key's own holder can: the test is able to fail.
    offline = gnupg.GPG(gnupghome=str(backup_key.homedir)).decrypt(archive)
    assert offline.ok and pepper.encode() in offline.data
    if not template_database.is_postgresql:  # pg_dump's custom format is compressed
        assert NOTE.encode() in offline.data


@pytest.mark.sqlite_only  # the database file goes back in the data directory
def test_restored_to_the_same_paths_the_configuration_is_unchanged(
    populated: Populated, backup_key: BackupKeyFiles, work: Path
) -> None:
    original = populated.settings
    before = populated.config.read_bytes()
    rows = table_rows(original.data_dir / "seethesigns.db")
    back_up(populated, backup_key, work / "backup.gpg")
    subprocess.run(["gpgconf", "--homedir", str(original.gnupg_homedir), "--kill", "all"])
    moved = work / "old-data"
    original.data_dir.rename(moved)  # as good as a fresh server
    original.data_dir.mkdir(mode=0o700)
    result = run("restore", "--archive", work / "backup.gpg", "--secret-key", backup_key.secret)
    assert result.exit_code == 0, result.output
    assert "Next: seethesigns migrate --config" in result.output
    assert populated.config.read_bytes() == before
    assert table_rows(original.data_dir / "seethesigns.db") == rows
    assert files_under(original.store_dir) == files_under(moved / "store")


def test_the_backup_key_can_come_from_the_configuration(
    populated: Populated, backup_key: BackupKeyFiles, work: Path
) -> None:
    (populated.settings.data_dir / "keys").mkdir()
    (populated.settings.data_dir / "keys" / "backup.asc").write_text(backup_key.public.read_text())
    # As ansible/ adds it (blockinfile): the template's own [backup] is commented out, so
    # this is the file's only [backup] table.
    text = populated.config.read_text()
    assert text.endswith('# [backup]\n# public_key_file = "/etc/seethesigns/backup-public.asc"\n')
    block = '[backup]\npublic_key_file = "keys/backup.asc"\n'
    populated.config.write_text(f"{text}# BEGIN backup key\n{block}# END backup key\n")
    assert load_settings(populated.config).backup_public_key_file == (
        populated.settings.data_dir / "keys" / "backup.asc"
    )
    result = run("backup", "--config", populated.config, "--output", work / "b.gpg", "--json")
    assert result.exit_code == 0, result.output
    assert json_out(result)["backup_key"] == backup_key.fingerprint


def test_without_a_backup_key_anywhere_it_is_a_usage_error(
    populated: Populated, work: Path
) -> None:
    result = run("backup", "--config", populated.config, "--output", work / "b.gpg")
    assert result.exit_code == 2
    assert "--backup-key" in result.output
    assert not (work / "b.gpg").exists()


def test_the_summary_names_no_source(
    populated: Populated, backup_key: BackupKeyFiles, work: Path
) -> None:
    summary = back_up(populated, backup_key, work / "backup.gpg")
    assert summary["ok"] is True
    text = str(summary)
    designation = populated.source.source.designation
    for name in (designation, designation.replace(" ", "_"), populated.source.source.filesystem_id):
        assert name not in text
    assert set(summary) == {
        "ok", "output", "bytes", "sha256", "backup_key", "format", "app_version",
        "alembic_revision", "created", "files", "store_files", "data_bytes", "skipped", "seconds",
    }  # fmt: skip


def test_verify_checks_an_archive_without_extracting_it(
    populated: Populated, backup_key: BackupKeyFiles, work: Path
) -> None:
    back_up(populated, backup_key, work / "backup.gpg")
    before = sorted(work.rglob("*"))
    result = run(
        "backup", "--verify", work / "backup.gpg", "--secret-key", backup_key.secret, "--json"
    )
    assert result.exit_code == 0, result.output
    checked = json_out(result)
    assert checked["restorable"] is True
    assert checked["alembic_revision"] == head_revision(populated.settings.database_url)
    assert sorted(work.rglob("*")) == before
