"""Migration 0016 starts unread_sources from the seen marks already there (issue 16)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command

from seethesigns.db import alembic_config

ROWS = [
    "INSERT INTO staff (uuid, username, passphrase_hash, totp_secret, session_epoch,"
    " last_totp_step, is_admin, created_at, status) VALUES"
    " ('u-1', 'olga', 'h', 's', 0, 0, 1, '2026-11-01', 'active'),"
    " ('u-2', 'ned', 'h', 's', 0, 0, 0, '2026-11-01', 'active')",
    "INSERT INTO sources (uuid, filesystem_id, designation, pgp_fingerprint, pgp_public_key,"
    " pgp_secret_key, interaction_count, is_starred, created_at, last_updated, team_id) VALUES"
    " ('s-1', 'f', 'brave otter', 'x', 'k', 'k', 2, 0, '2026-11-02', '2026-11-02', 1),"
    " ('s-2', 'g', 'calm heron', 'x', 'k', 'k', 1, 0, '2026-11-02', '2026-11-02', 1)",
    "INSERT INTO submissions (uuid, source_id, filename, size, checksum, created_at) VALUES"
    " ('m-1', 1, '1-brave_otter-msg.gpg', 10, 'x', '2026-11-02'),"
    " ('m-2', 1, '2-brave_otter-msg.gpg', 10, 'x', '2026-11-02'),"
    " ('m-3', 2, '1-calm_heron-msg.gpg', 10, 'x', '2026-11-02')",
    "INSERT INTO seen_submissions (submission_id, staff_id, seen_at) VALUES"
    " (1, 1, '2026-11-03'), (3, 1, '2026-11-03')",
]


def test_the_migration_lists_what_each_may_see_and_has_not(tmp_path: Path) -> None:
    database = tmp_path / "seethesigns.db"
    config = alembic_config(f"sqlite:///{database}")
    command.upgrade(config, "0015")
    with sqlite3.connect(database) as connection:
        for statement in ROWS:
            connection.execute(statement)
    command.upgrade(config, "0016")
    with sqlite3.connect(database) as connection:
        found = connection.execute("SELECT staff_id, source_id FROM unread_sources").fetchall()
        # olga (admin) has not seen message 2 of source 1; ned is in no team and sees nothing.
        assert found == [(1, 1)]
        connection.execute(
            "INSERT INTO seen_submissions (submission_id, staff_id, seen_at)"
            " VALUES (2, 1, '2026-11-04')"
        )
        assert connection.execute("SELECT count(*) FROM unread_sources").fetchone() == (0,)
    command.downgrade(config, "0015")
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert not tables & {"unread_sources", "sync_state"}
