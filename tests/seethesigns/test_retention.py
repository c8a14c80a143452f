"""Automatic deletion: expired reports destroyed, recent ones kept, partial files swept."""

from __future__ import annotations

import configparser
import os
import secrets
import shlex
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from seethesigns.cases import add_label, update_case
from seethesigns.codenames import CodenameDeriver, generate_codename
from seethesigns.encryption import GpgService
from seethesigns.instance_settings import instance_config
from seethesigns.models import Reply, Source, Staff, Submission
from seethesigns.models.base import utcnow
from seethesigns.replies import delete_for_source, send_reply
from seethesigns.retention import Purged, purge_expired, sweep_partials
from seethesigns.settings import Settings
from seethesigns.sources import create_source
from seethesigns.staff_accounts import StaffAccounts
from seethesigns.storage import Store
from seethesigns.submissions import submit
from tests.integration.conftest import SEETHESIGNS
from tests.seethesigns.test_cli import run
from tests.seethesigns.test_db import holding

OLD = utcnow() - timedelta(days=40)


def new_source(db: Session, deriver: CodenameDeriver, gpg: GpgService) -> Source:
    """A real source with its own keypair."""
    return create_source(db, deriver, gpg, generate_codename()).source


def backdate(db: Session, column: InstrumentedAttribute[datetime], row_id: int) -> None:
    """Make a row look 40 days old."""
    model = column.class_
    db.execute(update(model).where(model.id == row_id).values({column: OLD}))
    db.commit()


@pytest.fixture
def instance(
    db: Session, store: Store, gpg: GpgService, deriver: CodenameDeriver, settings: Settings
) -> dict[str, Source]:
    """A quiet source (all 40 days old), a busy one with old and new items, and a new one."""
    staff = StaffAccounts(settings.argon2, settings.login).create(db, "casey").staff
    quiet, busy, fresh = (new_source(db, deriver, gpg) for _ in range(3))
    (old_message,) = submit(db, store, gpg, quiet, "long ago", [])
    backdate(db, Submission.created_at, old_message.id)
    backdate(db, Source.last_updated, quiet.id)
    (old_item,) = submit(db, store, gpg, busy, "long ago too", [])
    old_reply = send_reply(db, store, gpg, busy, staff, "an old reply")
    backdate(db, Submission.created_at, old_item.id)
    backdate(db, Reply.created_at, old_reply.id)
    submit(db, store, gpg, busy, "yesterday", [])
    submit(db, store, gpg, fresh, "today", [])
    return {"quiet": quiet, "busy": busy, "fresh": fresh}


def files(store: Store, source: Source) -> list[str]:
    """A source's stored file names, in order."""
    folder = store.source_dir(source.filesystem_id)
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def test_expired_reports_are_destroyed_and_recent_ones_kept(
    db: Session, store: Store, settings: Settings, instance: dict[str, Source]
) -> None:
    quiet, busy, fresh = instance["quiet"], instance["busy"], instance["fresh"]
    witness = settings.tmp_dir / "witness"  # a second name for the old reply's inode
    os.link(
        store.path(busy.filesystem_id, f"2-{busy.designation.replace(' ', '_')}-reply.gpg"), witness
    )
    size = witness.stat().st_size
    purged = purge_expired(db, store, 30, utcnow())
    assert purged == Purged(sources=1, submissions=1, replies=1)
    assert witness.read_bytes() == bytes(size)  # overwritten before it was unlinked
    assert not store.source_dir(quiet.filesystem_id).exists()
    assert db.scalar(select(Source).where(Source.id == quiet.id)) is None  # keys and all
    assert files(store, busy) == [f"3-{busy.designation.replace(' ', '_')}-msg.gpg"]
    assert len(files(store, fresh)) == 1
    assert db.scalar(select(func.count()).select_from(Submission)) == 2
    assert db.scalar(select(func.count()).select_from(Reply)) == 0
    assert db.scalar(select(func.count()).select_from(Staff)) == 1  # the author stays
    assert purge_expired(db, store, 30, utcnow()) == Purged()  # nothing left to do


def test_a_reply_the_source_deleted_is_still_purged_on_schedule(
    db: Session, store: Store, instance: dict[str, Source]
) -> None:
    busy = instance["busy"]
    assert delete_for_source(db, busy) == 1  # hidden from the source, kept for staff
    assert purge_expired(db, store, 30, utcnow()).replies == 1
    assert db.scalar(select(func.count()).select_from(Reply)) == 0
    assert not [name for name in files(store, busy) if name.endswith("-reply.gpg")]


def test_a_longer_retention_keeps_everything(
    db: Session, store: Store, instance: dict[str, Source]
) -> None:
    assert purge_expired(db, store, 41, utcnow()) == Purged()
    assert db.scalar(select(func.count()).select_from(Submission)) == 4


def test_only_stale_partial_files_are_swept(store: Store, instance: dict[str, Source]) -> None:
    folder = store.source_dir(instance["busy"].filesystem_id)
    stale, writing = folder / ".partial-0123456789abcdef", folder / ".partial-fedcba9876543210"
    for path in (stale, writing):
        path.write_bytes(b"half a file")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    assert sweep_partials(store, time.time()) == 1
    assert not stale.exists() and writing.exists()
    assert len(files(store, instance["busy"])) == 4  # three items and the partial being written
    assert sweep_partials(Store(store.root / "missing"), time.time()) == 0


def test_purge_command_deletes_only_when_retention_is_on(
    db: Session, store: Store, settings: Settings, instance: dict[str, Source]
) -> None:
    config = str(settings.data_dir / "seethesigns.toml")
    stale = store.source_dir(instance["fresh"].filesystem_id) / ".partial-0000000000000000"
    stale.write_bytes(b"x")
    os.utime(stale, (0, 0))
    off = run("purge", "--config", config)
    assert off.exit_code == 0, off.output
    assert off.output == (
        "Retention is off: no reports were deleted.\n"
        "Deleted 0 sources that sent nothing in a day.\n"
        "Removed 1 leftover partial files.\n"
        "Removed 0 audit log entries older than 730 days.\n"
    )
    assert db.scalar(select(func.count()).select_from(Submission)) == 4
    instance_config(db).retention_days = 30
    db.commit()
    on = run("purge", "--config", config)
    assert on.exit_code == 0, on.output
    assert on.output == (
        "Deleted 1 sources, 1 submissions and 1 replies older than 30 days.\n"
        "Deleted 0 sources that sent nothing in a day.\n"
        "Removed 0 leftover partial files.\n"
        "Removed 0 audit log entries older than 730 days.\n"
    )
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Submission)) == 2


def test_sources_that_never_sent_anything_go_after_a_day_even_with_retention_off(
    db: Session,
    store: Store,
    gpg: GpgService,
    deriver: CodenameDeriver,
    settings: Settings,
    instance: dict[str, Source],
) -> None:
    """Issue 10: every /create stores a keypair row; rows that never send were kept forever."""
    staff = StaffAccounts(settings.argon2, settings.login).create(db, "sam").staff
    silent, just_made, replied_to = (new_source(db, deriver, gpg) for _ in range(3))
    send_reply(db, store, gpg, replied_to, staff, "are you safe?")
    day_and_a_bit = utcnow() - timedelta(days=1, minutes=1)
    for source in (silent, replied_to, instance["quiet"]):
        db.execute(
            update(Source)
            .where(Source.id == source.id)
            .values(created_at=day_and_a_bit, last_updated=day_and_a_bit)
        )
    db.commit()
    leftover = store.source_dir(silent.filesystem_id) / ".partial-0123456789abcdef"
    leftover.parent.mkdir(mode=0o700, exist_ok=True)
    leftover.write_bytes(b"half a file")
    assert instance_config(db).retention_days is None  # off, the default
    silent_id, silent_fsid = silent.id, silent.filesystem_id
    db.expunge(silent)
    purged = subprocess.run(
        [str(SEETHESIGNS), "purge", "--config", str(settings.data_dir / "seethesigns.toml")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Deleted 1 sources that sent nothing in a day." in purged.stdout
    remaining = set(db.scalars(select(Source.id)))
    assert silent_id not in remaining
    assert not store.source_dir(silent_fsid).exists()
    # Made less than a day ago, written to by staff, or ever sent something: kept.
    assert {just_made.id, replied_to.id} | {source.id for source in instance.values()} == remaining


def test_purge_command_needs_a_configuration(tmp_path: Path) -> None:
    result = run("purge", "--config", str(tmp_path / "missing.toml"))
    assert result.exit_code == 1 and "does not exist" in result.output


def test_systemd_units_run_purge_daily() -> None:
    units = Path(__file__).parents[2] / "deploy" / "systemd"
    service = configparser.ConfigParser(strict=False, interpolation=None)
    service.read(units / "seethesigns-purge.service")
    command = shlex.split(service["Service"]["ExecStart"])
    assert Path(command[0]).name == "seethesigns" and command[1:] == ["purge"]
    assert run(*command[1:], "--help").exit_code == 0
    assert service["Service"]["Environment"].startswith("SEETHESIGNS_CONFIG=")
    assert "/var/lib/seethesigns" in service["Service"]["ReadWritePaths"]
    timer = configparser.ConfigParser(strict=False, interpolation=None)
    timer.read(units / "seethesigns-purge.timer")
    assert timer["Timer"]["OnCalendar"] == "daily"
    assert timer["Install"]["WantedBy"] == "timers.target"
    assert (
        "deploy/systemd/seethesigns-purge"
        in (units.parents[1] / "docs" / "operators.md").read_text()
    )


@pytest.mark.sqlite_only
def test_a_purged_source_leaves_no_note_or_label_in_any_database_file(
    db: Session, store: Store, settings: Settings, instance: dict[str, Source]
) -> None:
    quiet = instance["quiet"]
    note, label = f"note-{secrets.token_hex(8)}", f"label-{secrets.token_hex(8)}"
    update_case(db, quiet, status="referred", assignee="", note=note)
    add_label(db, quiet, label)
    backdate(db, Source.last_updated, quiet.id)
    assert holding(note, settings) and holding(label, settings)
    assert purge_expired(db, store, 30, utcnow()).sources == 1
    assert holding(note, settings) == []
    assert holding(label, settings) == []
