"""A staff account on the staff interface."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from seethesigns.models.base import Base, new_uuid, utcnow

# An account made or reset by an admin is "pending" until its owner, at their first login,
# chooses a passphrase ("two_factor" then) and confirms a two-factor secret only they saw.
STAFF_PENDING = "pending"
STAFF_TWO_FACTOR = "two_factor"
STAFF_ACTIVE = "active"
STAFF_STATUSES = (STAFF_PENDING, STAFF_TWO_FACTOR, STAFF_ACTIVE)


class Staff(Base):
    """A vetted member of the safeguarding team."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(128))
    passphrase_hash: Mapped[str] = mapped_column(String(255))
    totp_secret: Mapped[str] = mapped_column(String(64))
    # A new TOTP secret takes effect only once the user proves it with a valid code.
    pending_totp_secret: Mapped[str | None] = mapped_column(String(64))
    # Bumped when the passphrase or two-factor is reset: sessions and API tokens of an older
    # epoch stop working.
    session_epoch: Mapped[int] = mapped_column(default=0)
    # The TOTP time step of the last accepted code: a code at or before it is a replay.
    last_totp_step: Mapped[int] = mapped_column(default=0)
    is_admin: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default=STAFF_PENDING)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login: Mapped[datetime | None]

    @property
    def is_active(self) -> bool:
        """True once the owner has finished their first login; only then may they work."""
        return self.status == STAFF_ACTIVE

    # Content-free email alerts (issue 13): chosen by the staff member on their account page.
    alert_address: Mapped[str | None] = mapped_column(String(254))
    alerts_enabled: Mapped[bool] = mapped_column(default=False)
