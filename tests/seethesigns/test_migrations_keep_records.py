"""Every migration, up and down, keeps the safeguarding record that is already there.

SQLite cannot alter most of a table in place, and Alembic's batch mode rebuilds it instead:
a new table, a copy, then DROP of the old one. With foreign keys on, that DROP cascades to
every row that refers to the old table, so rebuilding `sources` silently emptied submissions,
replies and seen marks (0006 first, then 0010 did it again). This walks the chain with rows
in every table that others depend on and counts them after each step.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory

from seethesigns.db import alembic_config

# The records at the oldest revision walked here; later revisions only add to these tables.
START = "0007"
ROWS = [
    "INSERT INTO staff (uuid, username, passphrase_hash, totp_secret, session_epoch,"
    " last_totp_step, is_admin, created_at) VALUES ('u-1', 'olga', 'h', 's', 0, 0, 1,"
    " '2026-11-01 09:00:00')",
    "INSERT INTO sources (uuid, filesystem_id, designation, pgp_fingerprint, pgp_public_key,"
    " pgp_secret_key, interaction_count, is_starred, created_at, last_updated) VALUES"
    " ('s-1', 'f', 'brave otter', 'x', 'k', 'k', 2, 0, '2026-11-02', '2026-11-02')",
    "INSERT INTO submissions (uuid, source_id, filename, size, checksum, created_at)"
    " VALUES ('m-1', 1, '1-brave_otter-msg.gpg', 10, 'sha256:x', '2026-11-02 10:00:00')",
    "INSERT INTO replies (uuid, source_id, staff_id, filename, size, checksum, created_at,"
    " deleted_by_source) VALUES ('r-1', 1, 1, '2-brave_otter-reply.gpg', 10, 'sha256:y',"
    " '2026-11-02 11:00:00', 1)",
    "INSERT INTO seen_submissions (submission_id, staff_id, seen_at) VALUES (1, 1, '2026-11-03')",
    "INSERT INTO seen_replies (reply_id, staff_id, seen_at) VALUES (1, 1, '2026-11-03')",
    "INSERT INTO cases (source_id, status, assignee_id, note, updated_at)"
    " VALUES (1, 'in_review', 1, 'spoke to school', '2026-11-03')",
    "INSERT INTO case_labels (source_id, label) VALUES (1, 'county lines')",
]
TABLES = [
    "staff",
    "sources",
    "submissions",
    "replies",
    "seen_submissions",
    "seen_replies",
    "cases",
    "case_labels",
]


def counts(database: Path) -> dict[str, int]:
    """Rows per table."""
    with sqlite3.connect(database) as connection:
        return {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in TABLES
        }


def test_no_migration_up_or_down_loses_a_record(tmp_path: Path) -> None:
    database = tmp_path / "seethesigns.db"
    config = alembic_config(f"sqlite:///{database}")
    command.upgrade(config, START)
    with sqlite3.connect(database) as connection:
        for statement in ROWS:
            connection.execute(statement)
    expected = counts(database)
    assert set(expected.values()) == {1}

    script = ScriptDirectory.from_config(config)
    later = [rev.revision for rev in script.walk_revisions(START, "head")][::-1][1:]
    assert later, "no migration after the starting point to check"
    for revision in later:
        command.upgrade(config, revision)
        assert counts(database) == expected, f"upgrade to {revision}"
    for revision in [*reversed(later[:-1]), START]:
        command.downgrade(config, revision)
        assert counts(database) == expected, f"downgrade to {revision}"
