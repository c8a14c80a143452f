"""Migration 0008: the audit table, and the audit retention of an existing settings row."""

from __future__ import annotations

import shutil

from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from seethesigns.audit.retention import DEFAULT_DAYS, audit_retention_days
from seethesigns.db import alembic_config, make_engine, upgrade_database
from tests.conftest import short_tmpdir


def test_an_existing_instance_keeps_its_log_for_the_default_and_can_go_back() -> None:
    """An instance from before issue 13 gets 730 days; downgrading removes table and column."""
    home = short_tmpdir("stsmig")
    url = f"sqlite:///{home / 'old.db'}"
    command.upgrade(alembic_config(url), "0007")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO instance_config (organization_name, allow_uploads, "
                "min_message_length, reject_codename_messages) VALUES ('Anytown', 1, 0, 0)"
            )
        )
    upgrade_database(url)
    with Session(engine) as db:
        assert audit_retention_days(db) == DEFAULT_DAYS
        assert db.execute(text("SELECT count(*) FROM audit_entries")).scalar() == 0
    command.downgrade(alembic_config(url), "0007")
    inspector = inspect(engine)
    assert "audit_entries" not in inspector.get_table_names()
    columns = {column["name"] for column in inspector.get_columns("instance_config")}
    assert "audit_retention_days" not in columns and "organization_name" in columns
    engine.dispose()
    shutil.rmtree(home, ignore_errors=True)
