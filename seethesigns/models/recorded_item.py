"""What staff keep of an item once a young person has deleted their account: no content."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from seethesigns.models.base import Base


class RecordedItem(Base):
    """One message, document or reply of a deleted account: its place, kind and date only."""

    __tablename__ = "recorded_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))  # "message", "document" or "reply"
    created_at: Mapped[datetime]
