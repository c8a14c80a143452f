"""The Alembic migrations and the models describe the same schema."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from seethesigns.db import make_engine, upgrade_database
from seethesigns.models import Base
from tests.conftest import short_tmpdir


def test_upgrade_head_matches_the_models() -> None:
    path: Path = short_tmpdir("stsmig") / "m.db"
    url = f"sqlite:///{path}"
    upgrade_database(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        tables = set(inspect(connection).get_table_names())
    engine.dispose()
    assert differences == []
    assert {"sources", "submissions", "replies", "staff", "cases", "api_tokens"} <= tables


def test_upgrade_is_idempotent() -> None:
    url = f"sqlite:///{short_tmpdir('stsmig') / 'm.db'}"
    upgrade_database(url)
    upgrade_database(url)  # a second `seethesigns migrate` changes nothing and does not fail
