"""Server-side session state, encrypted under a key that only the browser's cookie holds."""

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from seethesigns.models.base import Base


class WebSession(Base):
    """One browser session of either interface.

    The row is keyed by a hash of the cookie's random token and its data is sealed with a key
    derived from that token, so a copy of the database alone opens no session.
    """

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    interface: Mapped[str] = mapped_column(String(16))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(index=True)
