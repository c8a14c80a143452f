"""Keeping the audit log for a set time: pruning leaves a chain that still verifies."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.audit.chain import check_known_head, verify
from seethesigns.audit.retention import (
    DEFAULT_DAYS,
    audit_retention_days,
    prune,
    update_audit_retention,
)
from seethesigns.instance_settings import InstanceSettingsError, instance_config
from seethesigns.models import AuditEntry
from seethesigns.models.base import utcnow
from tests.seethesigns.audit.conftest import fill, raw


def ids_and_actions(factory: sessionmaker[Session]) -> list[tuple[int, str]]:
    """What the log holds now."""
    with factory() as db:
        return [(e.id, e.action) for e in db.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def old_then_new(factory: sessionmaker[Session], key: bytes, old: int, new: int) -> timedelta:
    """old entries, then new ones; returns an age that splits them when pruning "now"."""
    fill(factory, key, old)
    time.sleep(0.01)
    boundary = utcnow()
    time.sleep(0.01)
    fill(factory, key, new)
    return utcnow() - boundary


def test_pruning_removes_old_entries_and_leaves_a_checkpoint(
    factory: sessionmaker[Session], key: bytes
) -> None:
    """Entries older than the period go; a checkpoint says how many and where they ended."""
    age = old_then_new(factory, key, 3, 2)
    days = 1
    pruned = prune(factory, key, days, utcnow() + timedelta(days=days) - age)
    assert (pruned.removed, pruned.through_id) == (3, 3)
    assert ids_and_actions(factory) == [
        (4, "item.download"),
        (5, "item.download"),
        (6, "audit.pruned"),
    ]
    with factory() as db:
        checkpoint = db.get_one(AuditEntry, 6)
        detail = json.loads(checkpoint.detail)
        verdict = verify(db, key)
    assert (detail["removed"], detail["through_id"]) == (3, 3)
    assert checkpoint.staff_username == "system"
    assert verdict.intact and verdict.first_id == 4 and verdict.checked == 3


def test_pruning_twice_and_appending_after_keeps_the_chain(
    factory: sessionmaker[Session], key: bytes
) -> None:
    """Each prune's checkpoint anchors the next first entry; appends carry on after it."""
    age = old_then_new(factory, key, 2, 2)
    prune(factory, key, 1, utcnow() + timedelta(days=1) - age)
    fill(factory, key, 2)
    prune(factory, key, 1, utcnow() + timedelta(days=2))  # everything is old now
    fill(factory, key, 1)
    with factory() as db:
        verdict = verify(db, key)
    assert verdict.intact, verdict.reason
    assert [action for _, action in ids_and_actions(factory)] == ["audit.pruned", "item.download"]


def test_nothing_old_enough_prunes_nothing(factory: sessionmaker[Session], key: bytes) -> None:
    """No checkpoint when nothing was removed: the daily purge does not fill the log itself."""
    fill(factory, key, 2)
    assert prune(factory, key, 730, utcnow()).removed == 0
    assert len(ids_and_actions(factory)) == 2


def test_removing_more_than_retention_did_is_found(
    factory: sessionmaker[Session], key: bytes, database: str
) -> None:
    """Deleting the first entry kept after a prune: the checkpoint no longer matches."""
    age = old_then_new(factory, key, 2, 3)
    prune(factory, key, 1, utcnow() + timedelta(days=1) - age)
    raw(database, "DELETE FROM audit_entries WHERE id = 3")
    with factory() as db:
        verdict = verify(db, key)
    assert verdict.bad_id == 4


def test_retention_is_set_separately_within_bounds(factory: sessionmaker[Session]) -> None:
    """730 days by default; 30 to 3650 days accepted; reports' retention untouched."""
    with factory() as db:
        assert audit_retention_days(db) == DEFAULT_DAYS
        update_audit_retention(db, 90)
        assert audit_retention_days(db) == 90
        for refused in (0, 29, 3651):
            with pytest.raises(InstanceSettingsError):
                update_audit_retention(db, refused)
        assert audit_retention_days(db) == 90
        assert instance_config(db).retention_days is None


def test_a_head_noted_before_pruning_is_accepted_once_pruned(
    factory: sessionmaker[Session], key: bytes
) -> None:
    """A noted entry that retention removed since is no sign of tampering."""
    fill(factory, key, 3)
    with factory() as db:
        noted = verify(db, key)
    prune(factory, key, 1, utcnow() + timedelta(days=2))
    fill(factory, key, 1)
    with factory() as db:
        verdict = verify(db, key)
        assert verdict.intact and verdict.first_id == 4
        assert check_known_head(db, verdict, 3, noted.head_hash) is None
        assert check_known_head(db, verdict, 5, noted.head_hash) is not None  # 5 is new
