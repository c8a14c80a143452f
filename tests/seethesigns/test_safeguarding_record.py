"""The stub a deleted account leaves (issue 13), against purges, and the migration that adds it."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from seethesigns.codenames import CodenameDeriver
from seethesigns.db import alembic_config, make_engine, upgrade_database
from seethesigns.encryption import GpgService
from seethesigns.models import RecordedItem, Reply, Source, Submission
from seethesigns.models.base import utcnow
from seethesigns.replies import AccountDeleted, send_reply
from seethesigns.retention import purge_expired, purge_silent_sources
from seethesigns.safeguarding_record import delete_account, record_download
from seethesigns.settings import Settings
from seethesigns.staff_accounts import StaffAccounts
from seethesigns.storage import Store
from seethesigns.submissions import submit
from tests.conftest import short_tmpdir
from tests.seethesigns.test_retention import OLD, files, new_source


def test_a_stub_outlives_the_silent_purge_and_retention_takes_it_in_time(
    db: Session, store: Store, gpg: GpgService, deriver: CodenameDeriver, settings: Settings
) -> None:
    staff = StaffAccounts(settings.argon2, settings.login).create(db, "casey").staff
    source = new_source(db, deriver, gpg)
    read, unread = submit(db, store, gpg, source, "first", []) + submit(
        db, store, gpg, source, "second", []
    )
    send_reply(db, store, gpg, source, staff, "we are here")
    record_download(db, read)
    delete_account(db, store, source)
    db.refresh(source)
    assert source.deleted_at is not None
    assert files(store, source) == [unread.filename]  # the downloaded one and the reply went
    kinds = db.scalars(select(RecordedItem.kind).order_by(RecordedItem.number)).all()
    assert kinds == ["message", "message", "reply"]
    with pytest.raises(AccountDeleted):
        send_reply(db, store, gpg, source, staff, "hello?")
    # A day on, the stub is not a silent codename: it sent something.
    db.execute(
        update(Source).values(created_at=utcnow() - timedelta(days=2)).where(Source.id == source.id)
    )
    db.commit()
    assert purge_silent_sources(db, store, utcnow()) == 0
    # Retention removes the kept item once it is old, then the stub once it is quiet.
    db.execute(update(Submission).values(created_at=OLD))
    db.commit()
    assert purge_expired(db, store, 30, utcnow()).submissions == 1
    assert files(store, source) == []
    db.execute(update(Source).values(last_updated=OLD))
    db.commit()
    assert purge_expired(db, store, 30, utcnow()).sources == 1
    assert db.scalar(select(func.count()).select_from(RecordedItem)) == 0
    assert db.scalar(select(func.count()).select_from(Reply)) == 0


def test_0011_takes_the_first_seen_mark_as_the_first_download() -> None:
    home = short_tmpdir("stsmig")
    path = home / "old.db"
    url = f"sqlite:///{path}"
    command.upgrade(alembic_config(url), "0007")  # an instance where a download meant seen
    with sqlite3.connect(path) as old:
        old.executemany(
            "INSERT INTO submissions (uuid, source_id, filename, size, checksum, created_at)"
            " VALUES (?, 1, ?, 10, 'sha256:x', '2026-12-01 10:00:00')",
            [("u1", "1-a_b-msg.gpg"), ("u2", "2-a_b-msg.gpg")],
        )
        old.executemany(
            "INSERT INTO seen_submissions (submission_id, staff_id, seen_at) VALUES (1, ?, ?)",
            [(1, "2026-12-01 12:00:00.000000"), (2, "2026-12-01 11:00:00.000000")],
        )
    old.close()
    upgrade_database(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        found = connection.execute(text("SELECT id, downloaded_at FROM submissions ORDER BY id"))
        assert found.all() == [(1, "2026-12-01 11:00:00.000000"), (2, None)]
        assert connection.execute(text("SELECT count(*) FROM seen_submissions")).scalar() == 2
    engine.dispose()
    command.downgrade(alembic_config(url), "0007")
    shutil.rmtree(home, ignore_errors=True)
