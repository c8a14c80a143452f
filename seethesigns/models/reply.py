"""A reply from staff, encrypted to the source's key and the submission key."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from seethesigns.models.base import Base, new_uuid, utcnow


class Reply(Base):
    """One encrypted reply on disk (`-reply.gpg`)."""

    __tablename__ = "replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    # Kept when a staff member is deleted: the reply is then shown as from "deleted".
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int]
    checksum: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The source deleted it: hidden from them, kept for staff until retention purges it
    # (as SecureDrop's deleted_by_source; issue 12).
    deleted_by_source: Mapped[bool] = mapped_column(default=False)
