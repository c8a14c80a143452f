"""One row that changes whenever anything the Journalist API lists changes (issue 16)."""

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from seethesigns.models.base import Base


class SyncState(Base):
    """A random token, replaced by database triggers (migration 0016) on every change.

    The triggers fire on sources, submissions, replies, who has seen what, and a staff
    member's name, whoever writes them (web, API, source interface, CLI, retention), so the
    API's ETags cannot miss a write path. A random token rather than a counter: a database
    restored from a backup cannot reach an old number again with different rows.
    """

    __tablename__ = "sync_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
    # PostgreSQL only: the transaction that last replaced the token, so that a transaction
    # touching many rows replaces it once.
    changed_xact: Mapped[int | None] = mapped_column(BigInteger)
