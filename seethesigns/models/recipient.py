"""A public key that submissions and replies are encrypted to (issue 14)."""

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from seethesigns.models.base import Base, utcnow


class Recipient(Base):
    """One submission key: active until retired, kept after so old items name their keys.

    Each belongs to a team: a case's items are encrypted to the active recipients of the
    team that owns it.
    """

    __tablename__ = "recipients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    fingerprint: Mapped[str] = mapped_column(String(40), unique=True)
    public_key: Mapped[str] = mapped_column(Text)
    # The long ids of its encryption (sub)keys, space-separated: what a stored message's
    # session-key packets name, so a source page can name the keys without running gpg.
    key_ids: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(default=None)
    # The owning team (a plain integer, as Team explains).
    team_id: Mapped[int | None] = mapped_column(default=None, index=True)
