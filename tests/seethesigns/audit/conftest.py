"""Fixtures for the audit log: a real, migrated database file and the chain's key.

template_database (the suite's, migrated once) -> database (this test's copy) -> factory.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from seethesigns.audit.chain import Actor, append
from seethesigns.db import make_engine, make_session_factory
from tests.conftest import short_tmpdir
from tests.databases import TemplateDatabase

ALICE = Actor(7, "alice")


@pytest.fixture
def database(template_database: TemplateDatabase) -> Iterator[str]:
    """The URL of this test's own copy of a migrated database (a file, or a PostgreSQL one)."""
    home = short_tmpdir("staud")
    url = template_database.new_url(home)
    yield url
    template_database.drop(url)
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def factory(database: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on that database, through the same engine setup as the apps."""
    engine = make_engine(database)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def key() -> bytes:
    """The [audit] key: 32 random bytes, as `seethesigns init` writes them."""
    return secrets.token_bytes(32)


def fill(factory: sessionmaker[Session], key: bytes, count: int) -> None:
    """Append count downloads by alice."""
    for number in range(count):
        append(factory, key, ALICE, "item.download", None, {"n": number})


def raw(database: str, sql: str, *parameters: object) -> None:
    """Change the database behind the application's back, as someone with access to it can.

    sql uses ? placeholders; a plain connection of the database's own driver runs it, outside
    the application's engine setup.
    """
    engine = make_engine(database, poolclass=NullPool)
    if engine.dialect.name == "postgresql":
        sql = sql.replace("?", "%s")
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(sql, tuple(parameters))
    finally:
        engine.dispose()
