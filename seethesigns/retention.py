"""Automatic deletion: reports older than the retention period, sources that never sent
anything, and leftovers of failed writes.

Every file is destroyed (overwritten, then unlinked) before its row is deleted, so a purge cut
short leaves rows whose files are gone, which the next run finishes; never a file without a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from seethesigns.db import forget_deleted
from seethesigns.models import Reply, Source, Submission
from seethesigns.storage import Store

BATCH = 500
PARTIAL_MAX_AGE = timedelta(hours=1)
# Issue 10: anyone can make sources (each /create stores a keypair row). One that has sent
# nothing a day after it was made is let go, even with retention off.
SILENT_MAX_AGE = timedelta(days=1)


@dataclass(frozen=True)
class Purged:
    """How much one purge deleted."""

    sources: int = 0
    submissions: int = 0
    replies: int = 0


def _expired_sources(db: Session, store: Store, cutoff: datetime) -> int:
    """Delete sources with no activity since the cutoff: files, keys, and every row."""
    count = 0
    while True:
        rows = db.execute(
            select(Source.id, Source.filesystem_id).where(Source.last_updated < cutoff).limit(BATCH)
        ).all()
        for source_id, filesystem_id in rows:
            store.destroy_source(filesystem_id)
            # Items, seen marks, case and labels go with it (ON DELETE CASCADE).
            db.execute(delete(Source).where(Source.id == source_id))
            db.commit()
        count += len(rows)
        if len(rows) < BATCH:
            return count


def _expired_items(
    db: Session, store: Store, model: type[Submission | Reply], cutoff: datetime
) -> int:
    """Delete the submissions or replies created before the cutoff."""
    count = 0
    while True:
        rows = db.execute(
            select(model.id, model.filename, Source.filesystem_id)
            .join(Source, Source.id == model.source_id)
            .where(model.created_at < cutoff)
            .limit(BATCH)
        ).all()
        for item_id, filename, filesystem_id in rows:
            store.destroy(store.path(filesystem_id, filename))
            db.execute(delete(model).where(model.id == item_id))
        db.commit()
        count += len(rows)
        if len(rows) < BATCH:
            return count


def purge_expired(db: Session, store: Store, retention_days: int, now: datetime) -> Purged:
    """Delete what is older than retention_days: whole quiet sources, then old items of others."""
    cutoff = now - timedelta(days=retention_days)
    sources = _expired_sources(db, store, cutoff)
    purged = Purged(
        sources=sources,
        submissions=_expired_items(db, store, Submission, cutoff),
        replies=_expired_items(db, store, Reply, cutoff),
    )
    forget_deleted(db)
    return purged


def purge_silent_sources(db: Session, store: Store, now: datetime) -> int:
    """Delete sources made over SILENT_MAX_AGE ago that never sent or got anything.

    interaction_count counts every submission and reply the source ever had, so a source
    whose items were deleted since is kept. The DELETE re-checks it, so a first submission
    racing this purge keeps its source. Such a source has no items; only a leftover partial
    file can be in its folder, destroyed after the row.
    """
    cutoff = now - SILENT_MAX_AGE
    count = 0
    while True:
        rows = db.execute(
            select(Source.id, Source.filesystem_id)
            .where(Source.interaction_count == 0, Source.created_at < cutoff)
            .limit(BATCH)
        ).all()
        for source_id, filesystem_id in rows:
            deleted = db.execute(
                delete(Source).where(Source.id == source_id, Source.interaction_count == 0)
            )
            db.commit()
            if cast(CursorResult[Any], deleted).rowcount == 1:
                store.destroy_source(filesystem_id)
                count += 1
        if len(rows) < BATCH:
            return count


def sweep_partials(store: Store, now: float) -> int:
    """Destroy `.partial-*` files untouched for an hour (now: Unix time): interrupted writes."""
    count = 0
    if not store.root.is_dir():
        return 0
    oldest = now - PARTIAL_MAX_AGE.total_seconds()
    for folder in store.root.iterdir():
        if not folder.is_dir() or folder.is_symlink():
            continue
        for path in folder.glob(".partial-*"):
            if path.is_file() and not path.is_symlink() and path.stat().st_mtime < oldest:
                store.destroy(path)
                count += 1
    return count
