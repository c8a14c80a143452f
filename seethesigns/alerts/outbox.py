"""What the web apps write for the alert sender, and the acknowledgement of urgent alerts."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from seethesigns.models import AlertEvent, Staff
from seethesigns.models.base import utcnow


def note_report(db: Session, *, urgent: bool) -> None:
    """Add the outbox row for a report just stored; the caller commits it with the report.

    One transaction for both: a report is never stored without its alert, nor an alert
    sent for a report that was rolled back. The row says only "a report, urgent or not".
    """
    db.add(AlertEvent(urgent=urgent))


def urgent_unacknowledged(db: Session) -> bool:
    """True while an urgent report's alert is repeating, waiting for someone to acknowledge."""
    found = db.scalar(
        select(AlertEvent.id)
        .where(AlertEvent.urgent.is_(True), AlertEvent.acknowledged_at.is_(None))
        .limit(1)
    )
    return found is not None


def acknowledge_urgent(db: Session, staff: Staff) -> int:
    """Stop the repeating alert for every urgent report so far; return how many were waiting."""
    result = db.execute(
        update(AlertEvent)
        .where(AlertEvent.urgent.is_(True), AlertEvent.acknowledged_at.is_(None))
        .values(acknowledged_at=utcnow(), acknowledged_by=staff.id)
    )
    db.commit()
    return int(getattr(result, "rowcount", 0) or 0)
