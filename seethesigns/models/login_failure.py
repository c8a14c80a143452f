"""A failed staff login attempt, kept briefly for lockout. No address is recorded."""

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from seethesigns.models.base import Base, utcnow


class LoginFailure(Base):
    """When a login for a known account failed."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
