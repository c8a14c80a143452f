"""When the sender sends an alert round: urgent at once and repeating, batches, reminders.

- Urgent: a report marked urgent that no round covers yet is alerted at once; while any
  urgent report is unacknowledged the alert repeats every [alerts] urgent_repeat_minutes.
- Batch: other reports are gathered; a round goes out once the oldest of them has waited
  the instance's alert_batch_minutes. Any round covers every report not yet covered.
- Reminder: while some submission has stayed unread by everyone (no row for it in
  seen_submissions, by any staff member) for [alerts] reminder_hours, a reminder goes out
  at most once every reminder_hours.

A round is planned in one transaction with its deliveries, one per staff member who asked
for alerts and belongs to a team the round concerns (issue 14): the teams owning the cases of
the reports it covers, of the urgent reports still waiting, and, for a reminder, of the
unread submissions. A report from before teams concerns everyone. So a police liaison
officer is not woken for a report only the front door can read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from seethesigns.models import (
    AlertDelivery,
    AlertEvent,
    AlertRound,
    SeenSubmission,
    Source,
    Staff,
    Submission,
    TeamMember,
)

EVERYONE = None  # a concerned "team" that stands for every staff member


@dataclass(frozen=True)
class Timing:
    """The intervals the planner works to."""

    batch: timedelta
    urgent_repeat: timedelta
    reminder: timedelta


def _last_round(db: Session, reason: str) -> datetime | None:
    found: datetime | None = db.scalar(
        select(func.max(AlertRound.created_at)).where(AlertRound.reason == reason)
    )
    return found


def _unread_by_everyone(now: datetime, timing: Timing) -> Any:
    return select(Submission.id).where(
        Submission.created_at <= now - timing.reminder,
        ~exists().where(SeenSubmission.submission_id == Submission.id),
    )


def _concerned_teams(db: Session, reason: str, timing: Timing, now: datetime) -> set[int | None]:
    """The teams whose members this round is for; None in it stands for everyone."""
    unplanned = select(AlertEvent.team_id).where(
        AlertEvent.planned_at.is_(None), AlertEvent.created_at <= now
    )
    teams: set[int | None] = set(db.scalars(unplanned))
    if reason == "urgent":
        waiting = select(AlertEvent.team_id).where(
            AlertEvent.urgent.is_(True), AlertEvent.acknowledged_at.is_(None)
        )
        teams |= set(db.scalars(waiting))
    if reason == "reminder":
        owners = (
            select(Source.team_id)
            .join(Submission, Submission.source_id == Source.id)
            .where(
                Submission.shared_with_team_id.is_(None),
                Submission.id.in_(_unread_by_everyone(now, timing)),
            )
            .distinct()
        )
        shared = select(Submission.shared_with_team_id).where(
            Submission.shared_with_team_id.is_not(None),
            Submission.id.in_(_unread_by_everyone(now, timing)),
        )
        teams |= set(db.scalars(owners)) | set(db.scalars(shared))
    return teams


def _reason(db: Session, timing: Timing, now: datetime) -> str | None:
    """Why a round is due now, or None."""
    unplanned = select(AlertEvent).where(AlertEvent.planned_at.is_(None))
    if db.scalar(select(exists(unplanned.where(AlertEvent.urgent.is_(True))))):
        return "urgent"
    waiting = select(AlertEvent.id).where(
        AlertEvent.urgent.is_(True), AlertEvent.acknowledged_at.is_(None)
    )
    last_urgent = _last_round(db, "urgent")
    if db.scalar(select(exists(waiting))) and (
        last_urgent is None or now - last_urgent >= timing.urgent_repeat
    ):
        return "urgent"
    oldest = db.scalar(
        select(func.min(AlertEvent.created_at)).where(AlertEvent.planned_at.is_(None))
    )
    if oldest is not None and now - oldest >= timing.batch:
        return "batch"
    unread_by_everyone = _unread_by_everyone(now, timing)
    last_reminder = _last_round(db, "reminder")
    if (last_reminder is None or now - last_reminder >= timing.reminder) and db.scalar(
        select(exists(unread_by_everyone))
    ):
        return "reminder"
    return None


def plan(db: Session, timing: Timing, now: datetime) -> AlertRound | None:
    """Plan the round due now, with its deliveries, and commit it; None if none is due."""
    reason = _reason(db, timing, now)
    if reason is None:
        return None
    teams = _concerned_teams(db, reason, timing, now)
    round_ = AlertRound(reason=reason, created_at=now)
    db.add(round_)
    db.flush()
    db.execute(
        update(AlertEvent)
        .where(AlertEvent.planned_at.is_(None), AlertEvent.created_at <= now)
        .values(planned_at=now)
    )
    wanted = select(Staff.id, Staff.alert_address).where(
        Staff.alerts_enabled.is_(True), Staff.alert_address.is_not(None)
    )
    if EVERYONE not in teams:
        member = exists().where(
            TeamMember.staff_id == Staff.id,
            TeamMember.team_id.in_([team for team in teams if team is not None]),
        )
        wanted = wanted.where(member)
    recipients = db.execute(wanted).tuples()
    db.add_all(
        AlertDelivery(round_id=round_.id, staff_id=staff_id, address=address, next_attempt_at=now)
        for staff_id, address in recipients
        if address
    )
    db.commit()
    return round_
