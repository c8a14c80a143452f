"""Which sources may hold something a staff member has not seen (issue 16)."""

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from seethesigns.models.base import Base


class UnreadSource(Base):
    """A source that may have news for a staff member: kept by database triggers (0016).

    A superset, never less: a row is added whenever an item they may see arrives, a case is
    handed to their team, they join a team or become an admin, or they take a seen mark off;
    it goes when they have seen every item of the source. The list's unread filter reads these
    rows first and checks each source exactly, so it never walks every source.
    """

    __tablename__ = "unread_sources"

    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True
    )
    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True, index=True
    )
