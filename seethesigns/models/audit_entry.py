"""One entry of the staff audit log: who did what to which object, hash-chained."""

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from seethesigns.models.base import Base


class AuditEntry(Base):
    """A staff action. Rows are only ever appended, and removed only by retention.

    id is assigned by the appender as the previous entry's id + 1, never by the database, so
    two appends racing for the same place collide on the primary key instead of forking the
    chain. There is no foreign key to staff: deleting an account must not change its history.
    """

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    # Who, as they were at the time; None and "unknown" for a login with no such account.
    staff_id: Mapped[int | None] = mapped_column(index=True)
    staff_username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40), index=True)
    object_type: Mapped[str | None] = mapped_column(String(20))
    object_id: Mapped[str | None] = mapped_column(String(64))
    # Canonical JSON (sorted keys), small: e.g. {"status": "closed"}. Never content.
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    # HMAC-SHA256 over the canonical entry, keyed with [audit] key from the configuration.
    entry_hash: Mapped[str] = mapped_column(String(64))
