"""Instance settings that admins change in the staff interface (one row)."""

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from seethesigns.models.base import Base

# Who reads a report and who it may be shared with, until an admin states their own: plain
# words for a 12-year-old that name no institution a glance at the screen would recognise
# (the landing page has never said "council", issue 12).
DEFAULT_READERS = "a team of social workers"
DEFAULT_SHARED_WITH = "the police, or a doctor or nurse"


class InstanceConfig(Base):
    """Organisation name and logo, and what the source interface accepts."""

    __tablename__ = "instance_config"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_name: Mapped[str] = mapped_column(String(128), default="See the Signs")
    # PNG, re-encoded on the server before it is stored.
    logo_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    allow_uploads: Mapped[bool] = mapped_column(default=True)
    min_message_length: Mapped[int] = mapped_column(default=0)
    reject_codename_messages: Mapped[bool] = mapped_column(default=False)
    # The HTTPS front (issue 17) then only explains how to come through Tor Browser.
    require_tor: Mapped[bool] = mapped_column(default=False)
    # None: reports are kept until staff delete them.
    retention_days: Mapped[int | None]
    # How long the staff audit log is kept, separately from reports (issue 13).
    audit_retention_days: Mapped[int] = mapped_column(default=730)
    # Named on every source page under "Need help now?"; another area puts its own services
    # here, while the sentences around them come from the page's translations.
    emergency_number: Mapped[str] = mapped_column(String(32), default="999")
    helpline_name: Mapped[str] = mapped_column(String(64), default="Childline")
    helpline_contact: Mapped[str] = mapped_column(String(64), default="0800 1111")
    anonymous_service_name: Mapped[str] = mapped_column(String(64), default="Fearless")
    anonymous_service_contact: Mapped[str] = mapped_column(String(64), default="fearless.org")
    # A helpline for adults worried about a child, offered to a parent or friend who reports.
    adult_helpline_name: Mapped[str] = mapped_column(String(64), default="NSPCC")
    adult_helpline_contact: Mapped[str] = mapped_column(String(64), default="0808 800 5000")
    # What a source is told after sending: how soon staff usually reply, and whether they may
    # stay on a page that checks for the first reply by itself, and for how long (issue 12).
    reply_within_hours: Mapped[int] = mapped_column(default=24)
    wait_for_reply_offered: Mapped[bool] = mapped_column(default=True)
    wait_for_reply_minutes: Mapped[int] = mapped_column(default=10)
    # Who reads every report, and who it may be shared with to keep someone safe: said to
    # sources inside translated sentences, so a partnership states its own arrangement (issue 14).
    readers: Mapped[str] = mapped_column(String(120), default=DEFAULT_READERS)
    shared_with: Mapped[str] = mapped_column(String(120), default=DEFAULT_SHARED_WITH)
    # Every source page's browser title, and where the quick exit sends the browser: neither
    # may tell someone glancing at the phone what this site is (issue 12).
    site_title: Mapped[str] = mapped_column(String(64), default="Notes")
    exit_url: Mapped[str] = mapped_column(
        String(512),
        default="https://www.bbcweb3hytmzhn5d532owbu6oqadra5z3ar726vq5kgwwn6aucdccrad.onion/news",
    )
    # Alerts for reports not marked urgent are gathered over this many minutes (issue 13).
    alert_batch_minutes: Mapped[int] = mapped_column(default=15)
