"""Migration 0019 starts shared_cases from the copies already shared, and its triggers keep it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command

from seethesigns.db import alembic_config
from tests.seethesigns.test_migration_0016 import ROWS

SHARED = [
    # Two copies of source 1's items shared with the police, none of source 2's.
    "INSERT INTO submissions (uuid, source_id, filename, size, checksum, created_at,"
    " shared_with_team_id) VALUES ('c-1', 1, '3-brave_otter-msg.gpg', 10, 'x', '2026-11-02', 2),"
    " ('c-2', 1, '4-brave_otter-msg.gpg', 10, 'x', '2026-11-02', 2)",
]
KEPT = "SELECT team_id, source_id, is_starred, last_updated FROM shared_cases"


def test_the_migration_lists_each_teams_shared_cases_in_list_order(tmp_path: Path) -> None:
    database = tmp_path / "seethesigns.db"
    config = alembic_config(f"sqlite:///{database}")
    command.upgrade(config, "0017")
    with sqlite3.connect(database) as connection:
        for statement in ROWS + SHARED:
            connection.execute(statement)
    command.upgrade(config, "0019")
    with sqlite3.connect(database) as connection:
        assert connection.execute(KEPT).fetchall() == [(2, 1, 0, "2026-11-02")]
        connection.execute("UPDATE sources SET is_starred = 1, last_updated = '2026-11-05'")
        assert connection.execute(KEPT).fetchall() == [(2, 1, 1, "2026-11-05")]
        connection.execute("DELETE FROM submissions WHERE uuid = 'c-1'")
        assert connection.execute(KEPT).fetchall() == [(2, 1, 1, "2026-11-05")]
        connection.execute("UPDATE submissions SET shared_with_team_id = NULL WHERE uuid = 'c-2'")
        assert connection.execute(KEPT).fetchall() == []
        connection.execute("UPDATE submissions SET shared_with_team_id = 2 WHERE uuid = 'm-3'")
        assert connection.execute(KEPT).fetchall() == [(2, 2, 1, "2026-11-05")]
    command.downgrade(config, "0018")
    with sqlite3.connect(database) as connection:
        names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert not {name for name in names if "shared_case" in name}
