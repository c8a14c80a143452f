"""The alert outbox: what the web apps note for the alert sender, and what it has sent.

None of these rows names a source, a submission or anything a child wrote: an event is
"a report arrived (urgent or not) at this time", which the submissions table holds already.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from seethesigns.models.base import Base, utcnow


class AlertEvent(Base):
    """A report arrived: written in the same transaction as the submission it announces."""

    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    urgent: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when the sender has planned an alert round that covers this event.
    planned_at: Mapped[datetime | None] = mapped_column(index=True)
    # Urgent events repeat their alert until a staff member acknowledges them.
    acknowledged_at: Mapped[datetime | None] = mapped_column(index=True)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    # The team that owns the case the report arrived in: its members are alerted (issue 14).
    # None for events from before teams: every staff member who asked for alerts.
    team_id: Mapped[int | None] = mapped_column(default=None, index=True)


class AlertRound(Base):
    """One alert the sender decided to send: to every staff member who asked for alerts."""

    __tablename__ = "alert_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "urgent", "batch" or "reminder": why it was sent; the message is the same for all.
    reason: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class AlertDelivery(Base):
    """One round's message to one address, and whether the relay has taken it."""

    __tablename__ = "alert_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("alert_rounds.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(254))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
