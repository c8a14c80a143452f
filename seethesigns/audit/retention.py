"""How long the audit log is kept, and removing older entries without breaking the chain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.audit.actions import AUDIT_PRUNED, SYSTEM_USERNAME
from seethesigns.audit.chain import Actor, Target, add_locked, head, lock_chain
from seethesigns.instance_settings import InstanceSettingsError, instance_config
from seethesigns.models import AuditEntry, InstanceConfig

DEFAULT_DAYS = 730
# An admin cannot make the log forget last month: what a compromised admin account did is
# exactly what the log is for.
MIN_DAYS = 30
MAX_DAYS = 3650


@dataclass(frozen=True)
class Pruned:
    """What one pruning removed: how many entries, up to which id."""

    removed: int
    through_id: int | None


def audit_retention_days(db: Session) -> int:
    """Days audit entries are kept, without writing a row (the default until one exists)."""
    found = db.scalar(
        select(InstanceConfig.audit_retention_days).order_by(InstanceConfig.id).limit(1)
    )
    return DEFAULT_DAYS if found is None else found


def update_audit_retention(db: Session, days: int) -> None:
    """Store how long the audit log is kept, separately from reports' retention."""
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise InstanceSettingsError(f"the audit log can be kept for {MIN_DAYS} to {MAX_DAYS} days")
    instance_config(db).audit_retention_days = days
    db.commit()


def prune(factory: sessionmaker[Session], key: bytes, days: int, now: datetime) -> Pruned:
    """Remove entries older than days, and append a checkpoint that vouches for the cut.

    The checkpoint (audit.pruned, itself chained) records how many were removed and the id
    and hash they ended at; `verify` then starts from the first entry kept. Removal and
    checkpoint are one transaction under the chain lock, so no append falls between them.
    """
    cutoff = now - timedelta(days=days)
    with factory() as db:
        lock_chain(db)
        through = db.scalar(
            select(AuditEntry.id)
            .where(AuditEntry.occurred_at < cutoff)
            .order_by(AuditEntry.id.desc())
            .limit(1)
        )
        if through is None:
            db.rollback()
            return Pruned(0, None)
        last_hash = db.scalar(select(AuditEntry.entry_hash).where(AuditEntry.id == through))
        newest = head(db)
        result = db.execute(delete(AuditEntry).where(AuditEntry.id <= through))
        removed = cast(CursorResult[Any], result).rowcount
        detail = {
            "removed": removed,
            "through_id": through,
            "last_hash": last_hash,
            "older_than_days": days,
        }
        add_locked(
            db,
            key,
            Actor(None, SYSTEM_USERNAME),
            AUDIT_PRUNED,
            Target("audit"),
            detail,
            after=newest,
        )
        db.commit()
    return Pruned(removed, through)
