"""Teams of a partnership, and who belongs to them (issue 14)."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from seethesigns.models.base import Base, new_uuid, utcnow


class Team(Base):
    """A team, such as "Children's services front door" or "Police liaison".

    A team owns cases, holds recipient keys, and its members see its cases. Teams are never
    deleted, only renamed: the case, key and alert columns that name one are plain integers
    (SQLite cannot drop a column that carries a foreign key, so a migration could not be
    taken back), and a team that once owned cases must stay in the record.
    """

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # The one team that receives new reports. Exactly one team has it (seethesigns/teams).
    is_front_door: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TeamMember(Base):
    """One staff member's membership of one team."""

    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True, index=True
    )
