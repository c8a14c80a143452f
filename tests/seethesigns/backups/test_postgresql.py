"""A PostgreSQL instance backed up with pg_dump and restored with pg_restore, and dumps never
restored into the other engine. These run on a real PostgreSQL server in every run: the
run's own cluster on PostgreSQL runs, one started for this module otherwise."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import gnupg
import pytest
from alembic.script import ScriptDirectory

from seethesigns.backups.errors import EXIT_TARGET_IN_USE, EXIT_UNSUPPORTED
from seethesigns.backups.manifest import DATABASE, PG_DUMP
from seethesigns.codenames import generate_codename
from seethesigns.db import alembic_config, make_engine
from seethesigns.settings import load_settings
from tests.conftest import OfflineKey, make_instance
from tests.databases import TemplateDatabase, make_template
from tests.seethesigns.backups.conftest import (
    BackupKeyFiles,
    Populated,
    back_up,
    database_rows,
    files_under,
    json_out,
    leftovers,
    populate,
    restore_args,
    run,
)


@pytest.fixture(scope="module")
def templates(template_database: TemplateDatabase) -> Iterator[dict[str, TemplateDatabase]]:
    """A migrated template of each engine: the run's own, and the other made for this module."""
    own = "postgresql" if template_database.is_postgresql else "sqlite"
    other = "sqlite" if own == "postgresql" else "postgresql"
    made = make_template(other)
    yield {own: template_database, other: made}
    made.close()


def instance(offline_key: OfflineKey, template: TemplateDatabase) -> Iterator[Populated]:
    """A populated instance on template's engine, removed afterwards."""
    settings = make_instance(offline_key, template)
    yield populate(settings, generate_codename())
    template.drop(settings.database_url)
    subprocess.run(["gpgconf", "--homedir", str(settings.gnupg_homedir), "--kill", "all"])
    shutil.rmtree(settings.data_dir, ignore_errors=True)


@pytest.fixture
def on_postgresql(
    offline_key: OfflineKey, templates: dict[str, TemplateDatabase]
) -> Iterator[Populated]:
    """A populated instance whose database is PostgreSQL."""
    yield from instance(offline_key, templates["postgresql"])


@pytest.fixture
def on_sqlite(
    offline_key: OfflineKey, templates: dict[str, TemplateDatabase]
) -> Iterator[Populated]:
    """A populated instance whose database is an SQLite file."""
    yield from instance(offline_key, templates["sqlite"])


@pytest.fixture
def empty_database(templates: dict[str, TemplateDatabase]) -> Iterator[str]:
    """A new, empty PostgreSQL database, as an operator makes one for a restore."""
    url = templates["postgresql"].empty_url()
    yield url
    templates["postgresql"].drop(url)


def members(archive: Path, key: BackupKeyFiles) -> list[str]:
    """The names inside an archive, decrypted with the backup secret key."""
    done = gnupg.GPG(gnupghome=str(key.homedir)).decrypt(archive.read_bytes())
    assert done.ok, done.status
    with tarfile.open(fileobj=io.BytesIO(done.data), mode="r|") as tar:
        return [info.name for info in tar]


def test_a_postgresql_instance_is_restored_into_a_fresh_database_row_for_row(
    on_postgresql: Populated, backup_key: BackupKeyFiles, empty_database: str, work: Path
) -> None:
    original = on_postgresql.settings
    summary = back_up(on_postgresql, backup_key, work / "backup.gpg")
    head = ScriptDirectory.from_config(alembic_config(original.database_url)).get_current_head()
    assert summary["alembic_revision"] == head
    assert summary["format"] == 2
    names = members(work / "backup.gpg", backup_key)
    assert PG_DUMP in names and DATABASE not in names
    assert list(original.tmp_dir.iterdir()) == []  # the dump was destroyed after streaming
    assert database_rows(empty_database) == {}

    result = run(*restore_args(work / "backup.gpg", backup_key, work / "new", empty_database))
    assert result.exit_code == 0, result.output
    assert json_out(result)["database"] == "postgresql"
    settings = load_settings(work / "new" / "etc" / "site.toml")
    assert settings.database_url == empty_database
    rows = database_rows(original.database_url)
    assert rows["sources"] and rows["submissions"] and rows["staff"]
    assert database_rows(empty_database) == rows
    assert files_under(settings.store_dir) == files_under(original.store_dir)
    assert not list((work / "new" / "data").glob("*.db"))  # no SQLite file appeared
    assert run("migrate", "--config", work / "new" / "etc" / "site.toml").exit_code == 0
    subprocess.run(["gpgconf", "--homedir", str(settings.gnupg_homedir), "--kill", "all"])


def test_a_database_that_holds_tables_is_refused_and_force_replaces_it(
    on_postgresql: Populated, backup_key: BackupKeyFiles, empty_database: str, work: Path
) -> None:
    back_up(on_postgresql, backup_key, work / "backup.gpg")
    rows = database_rows(on_postgresql.settings.database_url)
    args = restore_args(work / "backup.gpg", backup_key, work / "new", empty_database)
    assert run(*args).exit_code == 0
    engine = make_engine(empty_database)
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM replies")
        connection.exec_driver_sql("CREATE TABLE someone_elses (x int)")
    engine.dispose()
    assert database_rows(empty_database) != rows

    refused = run(*args)
    assert refused.exit_code == EXIT_TARGET_IN_USE
    assert "already exists" in str(json_out(refused)["error"])  # the configuration, first
    shutil.rmtree(work / "new")
    refused = run(*args)
    assert refused.exit_code == EXIT_TARGET_IN_USE
    assert "already holds tables" in str(json_out(refused)["error"])
    assert leftovers(work / "new") == []

    assert run(*args, "--force").exit_code == 0
    restored = database_rows(empty_database)
    assert restored.pop("someone_elses") == []  # not the backup's: left as it was, empty
    assert restored == rows


def test_a_postgresql_dump_is_never_restored_into_sqlite(
    on_postgresql: Populated, backup_key: BackupKeyFiles, work: Path
) -> None:
    back_up(on_postgresql, backup_key, work / "backup.gpg")
    sqlite_url = f"sqlite:///{work / 'new' / 'data' / 'seethesigns.db'}"
    result = run(*restore_args(work / "backup.gpg", backup_key, work / "new", sqlite_url))
    assert result.exit_code == EXIT_UNSUPPORTED
    error = str(json_out(result)["error"])
    assert "holds a PostgreSQL database" in error and "names a SQLite one" in error
    assert leftovers(work / "new") == []


def test_an_sqlite_backup_is_never_restored_into_postgresql(
    on_sqlite: Populated, backup_key: BackupKeyFiles, empty_database: str, work: Path
) -> None:
    summary = back_up(on_sqlite, backup_key, work / "backup.gpg")
    assert summary["format"] == 1  # as before PostgreSQL: older releases still restore it
    result = run(*restore_args(work / "backup.gpg", backup_key, work / "new", empty_database))
    assert result.exit_code == EXIT_UNSUPPORTED
    error = str(json_out(result)["error"])
    assert "holds a SQLite database" in error and "names a PostgreSQL one" in error
    assert leftovers(work / "new") == []
    assert not database_rows(empty_database)  # nothing went into it
