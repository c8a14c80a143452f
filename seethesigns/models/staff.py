"""A staff account on the staff interface."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from seethesigns.models.base import Base, new_uuid, utcnow


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
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login: Mapped[datetime | None]
    # Content-free email alerts (issue 13): chosen by the staff member on their account page.
    alert_address: Mapped[str | None] = mapped_column(String(254))
    alerts_enabled: Mapped[bool] = mapped_column(default=False)
