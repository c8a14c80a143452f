"""The Alembic migrations and the models describe the same schema."""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import delete, inspect, text
from sqlalchemy.orm import Session

from journalist_interface.source_search import candidates
from seethesigns.cases import add_label
from seethesigns.db import (
    alembic_config,
    described_by_models,
    forget_deleted,
    make_engine,
    upgrade_database,
)
from seethesigns.instance_settings import Disguise, disguise, instance_config
from seethesigns.models import Base, Case, CaseLabel, Source
from seethesigns.settings import Settings
from seethesigns.sources import LoggedInSource
from tests.conftest import short_tmpdir


def database_files(settings: Settings) -> dict[str, bytes]:
    """The bytes of the database and of its -wal and -shm files, by name."""
    database = settings.data_dir / "seethesigns.db"
    return {path.name: path.read_bytes() for path in database.parent.glob(database.name + "*")}


def holding(marker: str, settings: Settings) -> list[str]:
    """The database files in which marker can still be read."""
    return [name for name, data in database_files(settings).items() if marker.encode() in data]


def test_upgrade_head_matches_the_models() -> None:
    path: Path = short_tmpdir("stsmig") / "m.db"
    url = f"sqlite:///{path}"
    upgrade_database(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": described_by_models})
        differences = compare_metadata(context, Base.metadata)
        tables = set(inspect(connection).get_table_names())
    engine.dispose()
    assert differences == []
    assert {"sources", "submissions", "replies", "staff", "cases", "api_tokens"} <= tables


def test_upgrade_is_idempotent() -> None:
    url = f"sqlite:///{short_tmpdir('stsmig') / 'm.db'}"
    upgrade_database(url)
    upgrade_database(url)  # a second `seethesigns migrate` changes nothing and does not fail


@pytest.mark.sqlite_only
def test_forget_deleted_leaves_a_deleted_row_in_no_file(
    db: Session, source: LoggedInSource, settings: Settings
) -> None:
    marker = f"label-{secrets.token_hex(8)}"
    add_label(db, source.source, marker)
    db.execute(delete(CaseLabel).where(CaseLabel.label == marker))
    db.commit()
    assert holding(marker, settings) == ["seethesigns.db-wal"]  # written, deleted, not checkpointed
    assert forget_deleted(db)
    assert holding(marker, settings) == []
    assert (settings.data_dir / "seethesigns.db-wal").stat().st_size == 0


def test_upgrade_makes_the_database_file_private() -> None:
    path = short_tmpdir("stsmig") / "m.db"
    old = os.umask(0o022)
    try:
        upgrade_database(f"sqlite:///{path}")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600  # created so
        wal = path.with_name("m.db-wal")
        for made in (path, wal):
            made.touch()
            made.chmod(0o644)  # as an older release left them
        upgrade_database(f"sqlite:///{path}")  # `seethesigns migrate` after the upgrade
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not wal.exists() or stat.S_IMODE(wal.stat().st_mode) == 0o600


def test_an_existing_settings_row_gets_the_neutral_title_and_exit() -> None:
    home = short_tmpdir("stsmig")
    url = f"sqlite:///{home / 'old.db'}"
    command.upgrade(alembic_config(url), "0004")  # an instance from before issue 12
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
        assert disguise(db) == Disguise()
        assert instance_config(db).organization_name == "Anytown"
    engine.dispose()
    shutil.rmtree(home, ignore_errors=True)


def test_existing_replies_stay_visible_to_their_source_after_0006() -> None:
    home = short_tmpdir("stsmig")
    path = home / "old.db"
    url = f"sqlite:///{path}"
    command.upgrade(alembic_config(url), "0005")  # an instance from before replies were kept
    # sqlite3 alone, whose foreign keys are off: a reply row is all this migration touches.
    with sqlite3.connect(path) as old:
        old.execute(
            "INSERT INTO replies (uuid, source_id, staff_id, filename, size, checksum, created_at)"
            " VALUES ('u', 1, NULL, '2-a_b-reply.gpg', 10, 'sha256:x', '2026-12-01 10:00:00')"
        )
        old.execute("INSERT INTO seen_replies (reply_id, staff_id, seen_at) VALUES (1, 1, '2026')")
    old.close()
    upgrade_database(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT deleted_by_source FROM replies")).all() == [(0,)]
        # Not rebuilt: dropping `replies` with foreign keys on would empty seen_replies.
        assert connection.execute(text("SELECT reply_id FROM seen_replies")).all() == [(1,)]
    engine.dispose()
    command.downgrade(alembic_config(url), "0005")
    engine = make_engine(url)
    assert "deleted_by_source" not in {c["name"] for c in inspect(engine).get_columns("replies")}
    engine.dispose()
    shutil.rmtree(home, ignore_errors=True)


def test_0018_indexes_the_texts_already_there_and_goes_back() -> None:
    home = short_tmpdir("stsmig")
    url = f"sqlite:///{home / 'old.db'}"
    command.upgrade(alembic_config(url), "0017")  # an instance from before the search index
    engine = make_engine(url)
    with Session(engine) as db:
        db.add(
            Source(
                filesystem_id="A" * 20,
                designation="gentle otter",
                pgp_fingerprint="0",
                pgp_public_key="-",
                pgp_secret_key="-",
            )
        )
        db.flush()
        db.add_all([CaseLabel(source_id=1, label="knife"), Case(source_id=1, note="Park Road")])
        db.commit()
    upgrade_database(url)
    with Session(engine) as db:
        for text_ in ("OTTER", "knife", "park road"):
            query = candidates(db, text_)
            assert query is not None and list(db.scalars(query)) == [1], text_
    engine.dispose()
    command.downgrade(alembic_config(url), "0017")
    engine = make_engine(url)
    assert not any(name.startswith("source_search") for name in inspect(engine).get_table_names())
    with engine.begin() as connection:  # the triggers went with it: writes still work
        connection.execute(text("UPDATE case_labels SET label = 'gun'"))
        connection.execute(text("DELETE FROM sources"))
    engine.dispose()
    shutil.rmtree(home, ignore_errors=True)
