"""The database engine, sessions, and schema migrations."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from seethesigns.settings import Settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# A server process's connections to PostgreSQL when [database] pool_size is not set and the
# process is not `seethesigns serve` (which sizes the pool to its threads): the CLI, the alert
# sender. Each process holds at most this many plus POOL_OVERFLOW.
DEFAULT_POOL_SIZE = 4
POOL_OVERFLOW = 2
# The errors of a database that cannot answer now (down, locked past its timeout, every pooled
# connection busy), as opposed to a bug: pages say "try again" (503) for these.
UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, PoolTimeout)
# A request that finds every connection busy waits this long, then fails (a 503, not a hang).
POOL_TIMEOUT_SECONDS = 10
# SQLite's index of the source list's search (migration 0018): an FTS5 table, and the tables
# FTS5 keeps it in, all named after it. No model describes them (SQLAlchemy cannot), so the
# comparison of models and migrations leaves them out (described_by_models), and
# forget_deleted merges it.
SEARCH_INDEX = "source_search"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Foreign keys on, WAL for concurrent readers, and wait rather than fail when busy."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    # secure_delete overwrites freed pages, so deleted rows do not linger in the file.
    cursor.execute("PRAGMA secure_delete=ON")
    # The WAL keeps old pages, deleted rows and all, until it is cut; cut it whenever a
    # checkpoint lets the log start again, not only when forget_deleted() asks.
    cursor.execute("PRAGMA journal_size_limit=0")
    cursor.close()


def make_engine(url: str, **options: Any) -> Engine:
    """Create an engine; SQLite gets the pragmas above."""
    engine = create_engine(url, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def engine_for(settings: Settings) -> Engine:
    """The engine of an instance's database, with its pool sized for PostgreSQL.

    SQLite opens a file per connection and needs no pool settings. For PostgreSQL each process
    keeps a pool of [database] pool_size connections (gunicorn's workers are forked before the
    app, and so the engine, is made: no connection is shared between processes). Connections
    are checked before use, so a restarted server costs one retry, not an error page.
    """
    url = settings.database_url
    if make_url(url).get_backend_name() == "sqlite":
        return make_engine(url)
    return make_engine(
        url,
        pool_size=settings.database_pool_size or DEFAULT_POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        pool_timeout=POOL_TIMEOUT_SECONDS,
        pool_pre_ping=True,
    )


def forget_deleted(db: Session) -> bool:
    """Copy the WAL into the database file and truncate it, after deleting or replacing rows.

    secure_delete clears a deleted row from the database file, but the WAL still holds every page
    as it was written (a case note, a label, a source's keys) until it is overwritten. Returns
    False if a reader kept the WAL from being truncated; the next call or purge finishes it.
    """
    if db.get_bind().dialect.name != "sqlite":
        return True
    # FTS5 keeps a replaced text's trigrams, positions and all, in its older segments until
    # they are merged: SQLite 3.40 (Debian 12) has no secure-delete for FTS5. 'optimize'
    # merges them into one, so the pages that held them are freed, and overwritten. It
    # rewrites the whole index (0.2 s for 50,000 sources' texts, measured alone), on a
    # replaced note, a removed label or a deleted account, never on a page view.
    db.execute(text("INSERT INTO source_search (source_search) VALUES ('optimize')"))
    db.commit()
    busy, _, _ = db.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).one()
    db.commit()
    return not busy


def described_by_models(name: str | None, type_: str, _parents: Any) -> bool:
    """False for the search index's tables: Alembic's include_name, where models are compared."""
    return not (type_ == "table" and (name or "").startswith(SEARCH_INDEX))


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    """An Alembic configuration pointing at the shipped migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _private_sqlite_file(url: str) -> None:
    """Create the SQLite file 0600, or make an existing one 0600, before SQLite opens it.

    SQLite gives its -wal and -shm files the database file's mode, so this covers them too.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    path = Path(parsed.database)
    for existing in (path, *(path.with_name(path.name + end) for end in ("-wal", "-shm"))):
        if existing.exists() and existing.stat().st_mode & 0o077:
            existing.chmod(0o600)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def upgrade_database(url: str) -> None:
    """Bring the database schema to the newest revision (alembic upgrade head)."""
    _private_sqlite_file(url)
    command.upgrade(alembic_config(url), "head")
