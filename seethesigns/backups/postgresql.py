"""pg_dump and pg_restore, the one place backups call them: a dump of one consistent instant,
and that dump put back into the database a restore is pointed at.

They are libpq programs, so they get the instance's SQLAlchemy URL as a libpq connection
string. A password never goes on their command line, where every local user can read it (ps):
with Debian's peer authentication over the unix socket there is none, PGPASSFILE is read by
libpq itself, and a password written in the URL is handed over in their environment, which
only the same user (and root) can read.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from seethesigns.backups.errors import BackupError, DiskFull

# Debian's versioned programs, when the postgresql-client-common wrappers are not on PATH.
DEBIAN_PROGRAMS = Path("/usr/lib/postgresql")
# libpq writes its errors in a few lines; more than this is a runaway, not a message.
MAX_ERROR_CHARS = 2000


def _quoted(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def libpq_target(database_url: str) -> tuple[str, dict[str, str]]:
    """The libpq connection string for a SQLAlchemy URL, and the environment it needs."""
    url: URL = make_url(database_url)
    params = {
        "user": url.username,
        "dbname": url.database,
        "host": url.host,
        "port": str(url.port) if url.port else None,
    }
    for key, value in url.query.items():
        params[key] = value if isinstance(value, str) else value[-1]
    conninfo = " ".join(f"{key}={_quoted(value)}" for key, value in params.items() if value)
    environment = {"PGPASSWORD": url.password} if url.password else {}
    return conninfo, environment


def program(name: str) -> str:
    """Where pg_dump or pg_restore is: on PATH, else Debian's newest versioned copy."""
    if found := shutil.which(name):
        return found
    versions = sorted(
        DEBIAN_PROGRAMS.glob(f"*/bin/{name}"), key=lambda path: int(path.parent.parent.name)
    )
    if not versions:
        raise BackupError(f"{name} is not installed: apt-get install postgresql-client")
    return str(versions[-1])


def _run(name: str, arguments: list[str], database_url: str) -> None:
    conninfo, environment = libpq_target(database_url)
    done = subprocess.run(
        [program(name), "--no-password", f"--dbname={conninfo}", *arguments],
        capture_output=True,
        text=True,
        env={**os.environ, **environment},
        check=False,
    )
    if done.returncode != 0:
        message = done.stderr.strip()[-MAX_ERROR_CHARS:]
        if "No space left on device" in message:
            raise DiskFull(f"{name} ran out of room: no room for the database copy")
        raise BackupError(f"{name} failed: {message}")


def _connect_error(exc: DBAPIError, database_url: str) -> BackupError:
    name = make_url(database_url).database
    return BackupError(f"cannot use the PostgreSQL database {name}: {str(exc.orig).strip()}")


def dump(database_url: str, output: Path) -> str:
    """Write a custom-format dump of the database to output; return its schema revision.

    The revision is read in a REPEATABLE READ transaction whose snapshot pg_dump takes over
    (pg_export_snapshot, --snapshot), so the dump and the revision it is said to be at are
    the same instant, however many commits land meanwhile.
    """
    engine = create_engine(database_url, poolclass=NullPool, isolation_level="REPEATABLE READ")
    try:
        with engine.connect() as connection, connection.begin():
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            found = connection.execute(text("SELECT to_regclass('alembic_version')")).scalar()
            revision = None
            if found is not None:
                revision = connection.execute(
                    text("SELECT version_num FROM alembic_version")
                ).scalar()
            if revision is None:
                raise BackupError("the database has no schema revision: run `seethesigns migrate`")
            # The exporting transaction stays open until pg_dump is done with its snapshot.
            _run(
                "pg_dump",
                ["--format=custom", f"--snapshot={snapshot}", f"--file={output}"],
                database_url,
            )
    except DBAPIError as exc:
        raise _connect_error(exc, database_url) from None
    finally:
        engine.dispose()
    return str(revision)


def holds_tables(database_url: str) -> bool:
    """Whether the database has any table of its own (a restore would replace them)."""
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            count = connection.execute(
                text(
                    "SELECT count(*) FROM pg_catalog.pg_tables "
                    "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
                )
            ).scalar_one()
    except DBAPIError as exc:
        raise _connect_error(exc, database_url) from None
    finally:
        engine.dispose()
    return bool(count)


def restore_dump(dump_file: Path, database_url: str) -> None:
    """Put a dump into the database, all or nothing, owned by the connecting role.

    --clean --if-exists drops what the dump holds first (a --force restore over an instance);
    --single-transaction leaves the database untouched if anything fails; --no-owner because
    the role restoring is the service user of this server, not necessarily the old one's.
    """
    _run(
        "pg_restore",
        ["--clean", "--if-exists", "--no-owner", "--single-transaction", str(dump_file)],
        database_url,
    )
