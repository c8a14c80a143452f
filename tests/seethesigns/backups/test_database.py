"""The database snapshot: consistent while written to, WAL included, private and removed."""

from __future__ import annotations

import shutil
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from seethesigns.backups.database import database_kind, sqlite_path, sqlite_snapshot
from seethesigns.backups.errors import BackupError, Unsupported
from seethesigns.backups.postgresql import libpq_target
from seethesigns.settings import Settings


def count(database: Path, table: str) -> int:
    with closing(sqlite3.connect(database)) as connection:
        (found,) = connection.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
    return int(found)


@pytest.fixture
def live_writer(settings: Settings) -> Iterator[sqlite3.Connection]:
    """A connection as the apps hold one: WAL mode, and no checkpoint for now."""
    connection = sqlite3.connect(settings.data_dir / "seethesigns.db", check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA wal_autocheckpoint=0")
    connection.execute(
        "INSERT INTO staff (uuid, username, passphrase_hash, totp_secret, last_totp_step,"
        " is_admin, created_at) VALUES ('u', 'walonly', 'x', 'x', 0, 0, '2025-01-01')"
    )
    connection.commit()
    yield connection
    connection.close()


@pytest.mark.sqlite_only
def test_the_snapshot_holds_what_is_only_in_the_write_ahead_log(
    settings: Settings, live_writer: sqlite3.Connection, work: Path
) -> None:
    database = settings.data_dir / "seethesigns.db"
    # A plain copy of the database file misses the commit: this is why it is no backup.
    shutil.copyfile(database, work / "plain-copy.db")
    assert count(work / "plain-copy.db", "staff") == 0
    with sqlite_snapshot(database, settings.tmp_dir) as snapshot:
        assert count(snapshot.path, "staff") == 1
        assert stat.S_IMODE(snapshot.path.stat().st_mode) == 0o600
        assert snapshot.alembic_revision
        folder = snapshot.path.parent
    assert not folder.exists()
    assert list(settings.tmp_dir.iterdir()) == []


@pytest.mark.sqlite_only
def test_snapshots_taken_during_writes_are_consistent(
    settings: Settings, live_writer: sqlite3.Connection
) -> None:
    database = settings.data_dir / "seethesigns.db"
    stop = threading.Event()

    def write() -> None:
        # Every transaction adds two rows: a consistent copy always holds an even number.
        while not stop.is_set():
            for _ in range(2):
                live_writer.execute(
                    "INSERT INTO login_failures (staff_id, occurred_at) SELECT id, 0 FROM staff"
                )
            live_writer.commit()

    writer = threading.Thread(target=write)
    writer.start()
    seen = []
    try:
        for _ in range(5):
            with sqlite_snapshot(database, settings.tmp_dir) as snapshot:
                with closing(sqlite3.connect(snapshot.path)) as copy:
                    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
                seen.append(count(snapshot.path, "login_failures"))
    finally:
        stop.set()
        writer.join()
    assert all(rows % 2 == 0 for rows in seen)
    assert seen[-1] > 0 and len(set(seen)) > 1  # the writes really were going on


def test_a_postgresql_url_becomes_a_libpq_connection_string_without_its_password() -> None:
    conninfo, environment = libpq_target(
        "postgresql+psycopg://sts:pa'ss@/seethesigns?host=/run/postgresql&sslmode=disable"
    )
    assert conninfo == ("user='sts' dbname='seethesigns' host='/run/postgresql' sslmode='disable'")
    assert "pa" not in conninfo  # the command line is readable by every local user
    assert environment == {"PGPASSWORD": "pa'ss"}
    conninfo, environment = libpq_target("postgresql://me@db.internal:5433/x y")
    assert conninfo == "user='me' dbname='x y' host='db.internal' port='5433'"
    assert environment == {}


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("postgresql+psycopg://sts@/sts", Unsupported),
        ("sqlite://", Unsupported),
        ("sqlite:///:memory:", Unsupported),
        ("mysql://x@y/z", Unsupported),
        ("nonsense", BackupError),
    ],
)
def test_only_sqlite_files_have_a_path(url: str, error: type[BackupError]) -> None:
    with pytest.raises(error):
        sqlite_path(url)
    assert sqlite_path("sqlite:////srv/x.db") == Path("/srv/x.db")


@pytest.mark.parametrize(
    ("url", "kind"),
    [("sqlite:////srv/x.db", "sqlite"), ("postgresql+psycopg://sts@/sts", "postgresql")],
)
def test_sqlite_files_and_postgresql_are_backed_up(url: str, kind: str) -> None:
    assert database_kind(url) == kind
    with pytest.raises(Unsupported, match="not mysql"):
        database_kind("mysql://x@y/z")
