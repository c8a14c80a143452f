"""A consistent copy of the live database, taken while the apps keep writing to it.

PostgreSQL is copied by pg_dump from one snapshot (seethesigns.backups.postgresql). For SQLite:

Copying the database file is not a backup: in WAL mode the latest commits live in the -wal
file, and a copy taken mid-write can be torn. SQLite's online backup API copies every page
inside one read transaction, so the copy is exactly the database as of one commit. It needs
a database file to write to; that copy lives in the data directory's tmp/ (the same disk and
the same protection as the database itself), mode 0600, and is overwritten and unlinked as
soon as it has been streamed into the archive.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import urllib.parse
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from seethesigns.backups import postgresql
from seethesigns.backups.errors import BackupError, DiskFull, Unsupported
from seethesigns.backups.manifest import DATABASE_MEMBERS, POSTGRESQL, SQLITE
from seethesigns.db import alembic_config
from seethesigns.storage import Store

BUSY_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Snapshot:
    """The copy, the schema revision it is at, and which engine's it is."""

    path: Path
    alembic_revision: str
    database: str

    @property
    def member(self) -> str:
        """The archive member the copy goes into."""
        return DATABASE_MEMBERS[self.database]


def database_kind(database_url: str) -> str:
    """SQLITE (a database file) or POSTGRESQL; anything else is refused."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        raise BackupError("[database] url is not a database URL") from None
    backend = url.get_backend_name()
    if backend == POSTGRESQL:
        return POSTGRESQL
    if backend != SQLITE or not url.database or url.database == ":memory:":
        raise Unsupported(
            f"backups handle SQLite database files and PostgreSQL databases, not {backend}"
        )
    return SQLITE


def sqlite_path(database_url: str) -> Path:
    """The database file named by an SQLite URL; other databases are refused."""
    if database_kind(database_url) != SQLITE:
        raise Unsupported("this database is not an SQLite file")
    database = make_url(database_url).database
    assert database is not None  # checked by database_kind
    return Path(database).resolve()


def is_known_revision(revision: str) -> bool:
    """Whether this version's migrations know revision (a newer version's would not)."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return revision in {found.revision for found in script.walk_revisions()}


def _copy(database: Path, copy: Path) -> str:
    """Copy database into the empty file copy with the backup API; return its revision."""
    uri = f"file:{urllib.parse.quote(str(database))}?mode=rw"
    with (
        closing(sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS)) as source,
        closing(sqlite3.connect(copy)) as target,
    ):
        # No rollback journal beside the copy: it is written once, then read once.
        target.execute("PRAGMA journal_mode=OFF")
        source.backup(target)
        (check,) = target.execute("PRAGMA quick_check").fetchone()
        if check != "ok":
            raise BackupError(f"the database copy failed SQLite's check: {check}")
        try:
            row = target.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            row = None
    if row is None:
        raise BackupError("the database has no schema revision: run `seethesigns migrate`")
    return str(row[0])


@contextmanager
def _scratch_file(scratch_dir: Path, name: str) -> Iterator[Path]:
    """An empty 0600 file in a new folder in scratch_dir, overwritten and removed afterwards."""
    scratch_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="backup-", dir=scratch_dir))
    copy = folder / name
    # Made empty and 0600 first, so SQLite or pg_dump writes into a file nobody else can read.
    os.close(os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    store = Store(folder)
    try:
        yield copy
    finally:
        for leftover in folder.iterdir():
            store.destroy(leftover)
        folder.rmdir()


@contextmanager
def sqlite_snapshot(database: Path, scratch_dir: Path) -> Iterator[Snapshot]:
    """Yield a consistent copy of database in scratch_dir, destroyed afterwards."""
    if not database.is_file():
        raise BackupError(f"the database {database} does not exist")
    with _scratch_file(scratch_dir, "snapshot.db") as copy:
        try:
            revision = _copy(database, copy)
        except sqlite3.Error as exc:
            if "disk is full" in str(exc):
                raise DiskFull(f"{scratch_dir} is full: no room for the database copy") from None
            raise BackupError(f"copying the database failed: {exc}") from None
        yield Snapshot(copy, revision, SQLITE)


@contextmanager
def database_snapshot(database_url: str, scratch_dir: Path) -> Iterator[Snapshot]:
    """Yield a consistent copy of the instance's database, SQLite or PostgreSQL, destroyed
    afterwards: a copy of the file, or a pg_dump custom-format dump."""
    if database_kind(database_url) == SQLITE:
        with sqlite_snapshot(sqlite_path(database_url), scratch_dir) as snapshot:
            yield snapshot
        return
    with _scratch_file(scratch_dir, "snapshot.pgdump") as copy:
        revision = postgresql.dump(database_url, copy)
        yield Snapshot(copy, revision, POSTGRESQL)
