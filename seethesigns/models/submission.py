"""A message or file from a source, stored encrypted to the submission key."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from seethesigns.models.base import Base, new_uuid, utcnow


class Submission(Base):
    """One encrypted item on disk: a message (`-msg.gpg`) or a document (`-doc.gz.gpg`)."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int]
    checksum: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The one mark about a report the server keeps in the clear, chosen by the child: "look
    # at this first" (issue 13; docs/threat-model.md). Nothing else of what they wrote is.
    urgent: Mapped[bool] = mapped_column(default=False)
    # When a staff member first downloaded it. Not "seen" (opened on the workstation, issue
    # 13): it decides whether the item of a deleted account may be destroyed yet.
    downloaded_at: Mapped[datetime | None] = mapped_column(default=None)
    # Set on a shared copy (issue 14): an item re-encrypted on the workstation to this team's
    # keys and uploaded for it. Only that team (and admins) see it; None for what the source
    # sent.
    shared_with_team_id: Mapped[int | None] = mapped_column(default=None, index=True)

    @property
    def is_message(self) -> bool:
        """True for a text message, False for a document."""
        return self.filename.endswith("-msg.gpg")
