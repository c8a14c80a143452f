"""The database a test instance runs on: a SQLite file, or a real PostgreSQL server.

`SEETHESIGNS_TEST_DATABASE=postgresql` runs the suite against a throwaway PostgreSQL cluster
that the test run starts itself: Debian's server binaries, a data directory under /tmp, no TCP
port (a unix socket in a directory owned by the run), and trust authentication, since nothing
but that socket reaches it. Each test gets its own database, copied from a template migrated
once with Alembic, just as each SQLite test gets its own copy of a migrated file.

initdb and postgres refuse to run as root, so a root run (CI) starts the cluster as Debian's
`postgres` user; the tests themselves still run as root and connect through the socket.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.pool import NullPool

from seethesigns.db import make_engine, upgrade_database

ENVIRONMENT = "SEETHESIGNS_TEST_DATABASE"
BACKENDS = ("sqlite", "postgresql")
TEMPLATE_NAME = "seethesigns_template"


def chosen_backend() -> str:
    """The backend this run tests: sqlite unless the environment says postgresql."""
    backend = os.environ.get(ENVIRONMENT, "sqlite") or "sqlite"
    if backend not in BACKENDS:
        raise pytest.UsageError(f"{ENVIRONMENT} must be one of {', '.join(BACKENDS)}")
    return backend


def postgres_bin() -> Path:
    """The directory of Debian's PostgreSQL server programs (the newest installed)."""
    if found := os.environ.get("SEETHESIGNS_PG_BIN"):
        return Path(found)
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parent.parent.name),
    )
    if not versions:
        raise RuntimeError("PostgreSQL server programs not found: run 'make system-packages'")
    return versions[-1].parent


@dataclass
class Cluster:
    """A PostgreSQL cluster of the test run's own, reached only through its unix socket."""

    home: Path
    user: str = "seethesigns"
    _as: list[str] = field(default_factory=list)

    @property
    def socket_dir(self) -> Path:
        return self.home / "socket"

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of one database of this cluster."""
        return f"postgresql+psycopg://{self.user}@/{database}?host={self.socket_dir}"

    def start(self) -> None:
        bindir = postgres_bin()
        data = self.home / "data"
        self.socket_dir.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.home, "postgres", "postgres")
            shutil.chown(self.socket_dir, "postgres", "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run(
            str(bindir / "initdb"),
            *("-D", str(data), "-U", self.user, "--auth=trust", "-E", "UTF8"),
            *("--locale=C.UTF-8", "--no-sync"),
        )
        # Durability is not under test here; fsync off makes a database per test affordable.
        options = (
            f"-c listen_addresses='' -c unix_socket_directories='{self.socket_dir}' "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=400 -c shared_buffers=64MB"
        )
        self._run(
            str(bindir / "pg_ctl"),
            *("-D", str(data), "-o", options, "-l", str(self.home / "server.log")),
            *("-w", "-t", "60", "start"),
        )

    def stop(self) -> None:
        bindir = postgres_bin()
        subprocess.run(
            [
                *self._as,
                str(bindir / "pg_ctl"),
                "-D",
                str(self.home / "data"),
                "-m",
                "immediate",
                "stop",
            ],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(self.home, ignore_errors=True)

    def execute(self, statement: str) -> None:
        """Run one statement outside a transaction (CREATE and DROP DATABASE need that)."""
        engine = make_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(statement))
        finally:
            engine.dispose()

    def _run(self, *command: str) -> None:
        done = subprocess.run([*self._as, *command], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {done.stdout}{done.stderr}")


class TemplateDatabase:
    """A database migrated once; each test instance gets a copy of its own.

    For SQLite the copy is a file in the instance's data directory, at the default URL. For
    PostgreSQL it is a new database made from the template, named in the instance's config.
    """

    def __init__(self, backend: str, home: Path) -> None:
        self.backend = backend
        self.home = home
        self.cluster: Cluster | None = None
        self._numbers = itertools.count(1)
        if backend == "postgresql":
            self.cluster = Cluster(home / "pg")
            self.cluster.home.mkdir()
            home.chmod(0o711)  # the postgres user (a root run) passes through to its own dir
            self.cluster.start()
            self.cluster.execute(f"CREATE DATABASE {TEMPLATE_NAME}")
            upgrade_database(self.cluster.url(TEMPLATE_NAME))
        else:
            self.path = home / "template.db"
            upgrade_database(f"sqlite:///{self.path}")

    @property
    def is_postgresql(self) -> bool:
        return self.cluster is not None

    def new_url(self, data_dir: Path) -> str:
        """A fresh copy of the template for an instance in data_dir; its URL."""
        if self.cluster is None:
            shutil.copyfile(self.path, data_dir / "seethesigns.db")
            return f"sqlite:///{data_dir / 'seethesigns.db'}"
        name = f"t{os.getpid()}_{next(self._numbers)}"
        self.cluster.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_NAME}")
        return self.cluster.url(name)

    def empty_url(self) -> str:
        """A new PostgreSQL database with nothing in it (a restore's target); its URL."""
        assert self.cluster is not None, "an empty database is a PostgreSQL run's"
        name = f"e{os.getpid()}_{next(self._numbers)}"
        self.cluster.execute(f"CREATE DATABASE {name}")
        return self.cluster.url(name)

    def config_section(self, data_dir: Path) -> str:
        """The [database] lines for an instance config using a fresh copy."""
        return f'url = "{self.new_url(data_dir)}"\n'

    def drop(self, url: str) -> None:
        """Remove one copy (a test's database), closing whatever still holds it open."""
        if self.cluster is not None and url.startswith("postgresql"):
            name = make_url(url).database
            self.cluster.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def close(self) -> None:
        if self.cluster is not None:
            self.cluster.stop()
        shutil.rmtree(self.home, ignore_errors=True)


def make_template(backend: str | None = None) -> TemplateDatabase:
    """Start (for PostgreSQL) and migrate a template for this run's backend."""
    return TemplateDatabase(backend or chosen_backend(), Path(tempfile.mkdtemp(dir="/tmp")))


def run_sql(url: str, sql: str, parameters: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Run one statement on a database behind the application's back; the rows it returns.

    sql uses ? placeholders, whichever the engine; booleans are written TRUE and FALSE, which
    both engines read. A plain connection of the engine's own driver runs it and commits.
    """
    engine = make_engine(url, poolclass=NullPool)
    if engine.dialect.name == "postgresql":
        sql = sql.replace("?", "%s")
    try:
        with engine.begin() as connection:
            result = connection.exec_driver_sql(sql, parameters)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def empty_database(url: str) -> None:
    """Leave the database with no tables at all, as a new one is before its first migration."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        Path(str(parsed.database)).unlink()
        return
    run_sql(url, "DROP SCHEMA public CASCADE")
    run_sql(url, "CREATE SCHEMA public")


def schema_version(url: str) -> str:
    """The Alembic revision a database is at."""
    ((version,),) = run_sql(url, "SELECT version_num FROM alembic_version")
    return str(version)


def stored_bytes(url: str) -> bytes:
    """Every byte the database keeps on disk, as a thief who copies the server would get.

    SQLite: the file and its write-ahead log. PostgreSQL: the database's own data files and
    the cluster's write-ahead log, after a checkpoint has written everything out.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(str(parsed.database))
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    run_sql(url, "CHECKPOINT")
    ((data_dir,),) = run_sql(url, "SHOW data_directory")
    ((oid,),) = run_sql(url, "SELECT oid FROM pg_database WHERE datname = current_database()")
    folders = (Path(str(data_dir)) / "base" / str(oid), Path(str(data_dir)) / "pg_wal")
    return b"".join(
        path.read_bytes() for folder in folders for path in folder.rglob("*") if path.is_file()
    )
