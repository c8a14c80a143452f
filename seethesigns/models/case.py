"""Case handling for a source: staff-only metadata, kept apart from the encrypted content."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from seethesigns.models.base import Base, utcnow

# "new_activity": a Closed case the young person wrote to again (issue 13).
CASE_STATUSES = ("new", "new_activity", "in_review", "referred", "closed")


class Case(Base):
    """Status, assignee and a short internal note for one source. Never shown to the source."""

    __tablename__ = "cases"
    # "Assigned to me, with this status" from the index alone (migration 0020); its first
    # column serves what looks up a staff member's cases.
    __table_args__ = (Index("ix_cases_assignee_status", "assignee_id", "status"),)

    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseLabel(Base):
    """A free-text label on a source."""

    __tablename__ = "case_labels"

    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True
    )
    label: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
