"""What the web apps write for the alert sender, and the acknowledgement of urgent alerts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select, true, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from seethesigns.models import AlertDelivery, AlertEvent, AlertRound, Staff
from seethesigns.models.base import utcnow
from seethesigns.teams.reach import Reach


def note_report(db: Session, *, urgent: bool, team_id: int | None = None) -> None:
    """Add the outbox row for a report just stored; the caller commits it with the report.

    One transaction for both: a report is never stored without its alert, nor an alert
    sent for a report that was rolled back. The row says only "a report, urgent or not", and
    which team owns the case, whose members are alerted (issue 14).
    """
    db.add(AlertEvent(urgent=urgent, team_id=team_id))


def _theirs(reach: Reach) -> ColumnElement[bool]:
    """Events of the teams in reach; one from before teams concerns everyone."""
    if reach.everything:
        return true()
    return or_(AlertEvent.team_id.is_(None), AlertEvent.team_id.in_(reach.team_ids))


def urgent_unacknowledged(db: Session, reach: Reach) -> bool:
    """True while an urgent report of their teams' is repeating its alert, unacknowledged."""
    found = db.scalar(
        select(AlertEvent.id)
        .where(AlertEvent.urgent.is_(True), AlertEvent.acknowledged_at.is_(None), _theirs(reach))
        .limit(1)
    )
    return found is not None


def acknowledge_urgent(db: Session, staff: Staff, reach: Reach) -> int:
    """Stop the repeating alert for their teams' urgent reports; return how many were waiting."""
    result = db.execute(
        update(AlertEvent)
        .where(AlertEvent.urgent.is_(True), AlertEvent.acknowledged_at.is_(None), _theirs(reach))
        .values(acknowledged_at=utcnow(), acknowledged_by=staff.id)
    )
    db.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def forget_done(db: Session, rounds_before: datetime) -> None:
    """Delete what the sender no longer needs: every event already alerted (and acknowledged,
    if urgent), and rounds from before rounds_before whose every delivery was sent.

    An event is a time at which a report arrived: kept no longer than it is needed, so that
    it never outlives the report under the instance's retention.
    """
    db.execute(
        delete(AlertEvent).where(
            AlertEvent.planned_at.is_not(None),
            (AlertEvent.urgent.is_(False)) | AlertEvent.acknowledged_at.is_not(None),
        )
    )
    unsent = select(AlertDelivery.id).where(
        AlertDelivery.round_id == AlertRound.id, AlertDelivery.sent_at.is_(None)
    )
    db.execute(delete(AlertRound).where(AlertRound.created_at < rounds_before, ~unsent.exists()))
    db.commit()
