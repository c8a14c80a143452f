"""Fixtures for the audit log: a real, migrated database file and the chain's key.

template_database (the suite's, migrated once) -> database (this test's copy) -> factory.
"""

from __future__ import annotations

import secrets
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.audit.chain import Actor, append
from seethesigns.db import make_engine, make_session_factory
from tests.conftest import short_tmpdir

ALICE = Actor(7, "alice")


@pytest.fixture
def database(template_database: Path) -> Iterator[Path]:
    """This test's own copy of a migrated database file."""
    home = short_tmpdir("staud")
    path = home / "seethesigns.db"
    shutil.copyfile(template_database, path)
    yield path
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def factory(database: Path) -> Iterator[sessionmaker[Session]]:
    """Sessions on that file, through the same engine setup as the apps."""
    engine = make_engine(f"sqlite:///{database}")
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


def raw(database: Path, sql: str, *parameters: object) -> None:
    """Change the file behind the application's back, as someone with database access can."""
    with sqlite3.connect(database) as connection:
        connection.execute(sql, parameters)
    connection.close()
