"""A backup keypair made with real GnuPG, an instance with something in every part, and the
commands run as the operator runs them."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import gnupg
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import MetaData, select

from seethesigns.cases import update_case
from seethesigns.cli import main
from seethesigns.codenames import CodenameDeriver
from seethesigns.db import make_engine, make_session_factory
from seethesigns.encryption import GpgService
from seethesigns.onion import JOURNALIST, SOURCE, OnionKeys
from seethesigns.replies import send_reply
from seethesigns.settings import CONFIG_ENV, Settings
from seethesigns.sources import LoggedInSource, create_source
from seethesigns.staff_accounts import StaffAccounts
from seethesigns.storage import Store
from seethesigns.submissions import Document, submit
from tests.conftest import OfflineKey, make_offline_key, short_tmpdir
from tests.databases import TemplateDatabase

MESSAGE = "The man at the park gives my brother phones. unique-message-7c1f"
REPLY = "Thank you for telling us. unique-reply-51d0"
NOTE = "Referred to the exploitation team. unique-note-93ab"
DOCUMENT = bytes(range(256)) * 1200  # 300 KiB


@dataclass(frozen=True)
class BackupKeyFiles:
    """A backup keypair: the public half for the server, the secret half for the restore."""

    fingerprint: str
    public: Path
    secret: Path
    homedir: Path


def export_keypair(key: OfflineKey, folder: Path, passphrase: str = "") -> BackupKeyFiles:
    """Write key's armored public and secret halves into folder."""
    gpg = gnupg.GPG(gnupghome=str(key.homedir))
    public, secret = folder / "backup-public.asc", folder / "backup-secret.asc"
    public.write_text(key.public_key)
    secret.write_text(gpg.export_keys(key.fingerprint, secret=True, passphrase=passphrase))
    return BackupKeyFiles(key.fingerprint, public, secret, key.homedir)


@pytest.fixture(scope="session")
def backup_key() -> Iterator[BackupKeyFiles]:
    """An unprotected backup keypair, generated for this test session only."""
    home = short_tmpdir("stbak")
    yield export_keypair(make_offline_key(home / "gnupg", "Test Backup Key"), home)
    subprocess.run(["gpgconf", "--homedir", str(home / "gnupg"), "--kill", "all"], check=False)
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def work() -> Iterator[Path]:
    """A short, empty folder for archives and restored instances."""
    home = short_tmpdir("stbw")
    yield home
    shutil.rmtree(home, ignore_errors=True)


@dataclass(frozen=True)
class Populated:
    """An instance with a source, a message, a document, a reply, a case note, a staff
    account, onion keys and a staff device; and the codename to log in with."""

    settings: Settings
    config: Path
    codename: str
    source: LoggedInSource
    staff_username: str


def populate(settings: Settings, codename: str) -> Populated:
    """Put something in every part of the instance."""
    gpg = GpgService(settings.gnupg_homedir, settings.submission_key_fingerprint, settings.tmp_dir)
    store = Store(settings.store_dir)
    deriver = CodenameDeriver(
        settings.pepper_filesystem_id, settings.pepper_key_secret, settings.argon2
    )
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as db:
        staff = StaffAccounts(settings.argon2, settings.login).create(db, "casey", is_admin=True)
        source = create_source(db, deriver, gpg, codename)
        document = Document(io.BytesIO(DOCUMENT), "evidence.bin")
        submit(db, store, gpg, source.source, MESSAGE, [document])
        send_reply(db, store, gpg, source.source, staff.staff, REPLY)
        update_case(db, source.source, status="in_review", assignee="", note=NOTE)
    engine.dispose()
    keys = OnionKeys(settings.tor.keys_dir)
    keys.service_key(SOURCE)
    keys.service_key(JOURNALIST)
    keys.add_client("alice-laptop")
    config = settings.data_dir / "seethesigns.toml"
    return Populated(settings, config, codename, source, staff.staff.username)


@pytest.fixture
def populated(settings: Settings, codename: str) -> Populated:
    """The settings fixture's instance, with something in every part."""
    return populate(settings, codename)


def run(*args: str | Path) -> Result:
    """Run the command line in-process, with no configuration from the environment."""
    return CliRunner().invoke(main, [str(arg) for arg in args], env={CONFIG_ENV: None})


def json_out(result: Result) -> dict[str, object]:
    """The one JSON object a --json command prints on stdout."""
    found = json.loads(result.stdout)
    assert isinstance(found, dict)
    return found


def run_backup(instance: Populated, key: BackupKeyFiles, output: Path) -> Result:
    """`seethesigns backup --json` for the instance, to output."""
    return run(
        "backup",
        "--config",
        instance.config,
        "--backup-key",
        key.public,
        "--output",
        output,
        "--json",
    )


def back_up(instance: Populated, key: BackupKeyFiles, output: Path) -> dict[str, object]:
    """`seethesigns backup --json`, which must succeed."""
    result = run_backup(instance, key, output)
    assert result.exit_code == 0, result.output
    return json_out(result)


@pytest.fixture
def fresh_database(template_database: TemplateDatabase) -> Iterator[str | None]:
    """On PostgreSQL, an empty database for a restore to go into (the backed-up instance's own
    is in use); on SQLite None: the database file goes into the restored data directory."""
    if not template_database.is_postgresql:
        yield None
        return
    url = template_database.empty_url()
    yield url
    template_database.drop(url)


def restore_args(
    archive: Path, key: BackupKeyFiles, target: Path, database_url: str | None = None
) -> list[str | Path]:
    """Arguments restoring archive into target/etc/site.toml and target/data (and the database
    into database_url, if given)."""
    extra: list[str | Path] = ["--database-url", database_url] if database_url else []
    return [
        "restore",
        "--archive",
        archive,
        "--secret-key",
        key.secret,
        "--config",
        target / "etc" / "site.toml",
        "--data-dir",
        target / "data",
        "--json",
        *extra,
    ]


def table_rows(database: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in rowid order (primary key order for a WITHOUT ROWID one:
    FTS5 keeps the search index in some, migration 0018)."""
    with sqlite3.connect(database) as connection:
        tables = connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name"
        ).fetchall()
        return {
            table: connection.execute(
                f'SELECT * FROM "{table}" ORDER BY {_order(connection, table, sql)}'  # noqa: S608
            ).fetchall()
            for table, sql in tables
        }


def _order(connection: sqlite3.Connection, table: str, sql: str) -> str:
    if "WITHOUT ROWID" not in sql.upper():
        return "rowid"
    columns = connection.execute(f'PRAGMA table_info("{table}")').fetchall()
    return ", ".join(f'"{name}"' for _, name, *_, pk in sorted(columns, key=lambda c: c[-1]) if pk)


def database_rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of any engine's database, in primary key order."""
    engine = make_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            return {
                name: [
                    tuple(row)
                    for row in connection.execute(
                        select(table).order_by(*(table.primary_key.columns or table.columns))
                    )
                ]
                for name, table in sorted(metadata.tables.items())
            }
    finally:
        engine.dispose()


def files_under(root: Path) -> dict[str, bytes]:
    """Every regular file under root, by relative path, with its bytes."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def encrypt_to(key: BackupKeyFiles, plaintext: bytes, output: Path) -> Path:
    """Encrypt plaintext to the backup key, as anyone holding its public half could."""
    done = gnupg.GPG(gnupghome=str(key.homedir)).encrypt(
        plaintext, [key.fingerprint], armor=False, always_trust=True
    )
    assert done.ok, done.status
    output.write_bytes(done.data)
    return output


def leftovers(*roots: Path) -> list[Path]:
    """Everything under roots, for showing that a failed restore left nothing behind."""
    return sorted(path for root in roots if root.exists() for path in root.rglob("*"))
