"""The cases shared with each team, in list order (issue 16)."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from seethesigns.models.base import Base


class SharedCase(Base):
    """A source of which a copy is shared with a team: kept by database triggers (0019).

    A row exists while any of the source's submissions is shared with the team, and carries
    the source's place in the staff list (urgent, is_starred, last_updated), copied whenever
    those change. The list reads a team member's shared cases from ix_shared_cases_order as
    it reads their team's own from ix_sources_team_order: a seek that stops after a page,
    however many cases are shared. Never written by the app.
    """

    __tablename__ = "shared_cases"
    __table_args__ = (
        Index(
            "ix_shared_cases_order", "team_id", "urgent", "is_starred", "last_updated", "source_id"
        ),
    )

    # A plain integer, as Submission.shared_with_team_id it comes from.
    team_id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    urgent: Mapped[bool]
    is_starred: Mapped[bool]
    last_updated: Mapped[datetime]
