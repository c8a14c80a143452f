"""Which staff members receive alerts, and at which address: each chooses on their account."""

from __future__ import annotations

from sqlalchemy.orm import Session

from seethesigns.models import Staff

ADDRESS_MAX = 254
# Anything that could add a header or a second recipient is refused, not cleaned.
FORBIDDEN = set(' \t\r\n<>,;"()[]\\')


class RecipientError(Exception):
    """The address cannot be used; the message says why."""


def check_address(text: str) -> str:
    """A plain mail address, trimmed, or RecipientError."""
    address = text.strip()
    local, at, domain = address.partition("@")
    if not (local and at and domain) or "@" in domain or "." not in domain:
        raise RecipientError("give an address like name@example.org")
    if len(address) > ADDRESS_MAX or FORBIDDEN & set(address) or not address.isprintable():
        raise RecipientError(f"give one plain address of at most {ADDRESS_MAX} characters")
    return address


def choose_alerts(db: Session, staff: Staff, enabled: bool, address: str) -> None:
    """Store whether this staff member gets alerts and where; an address is needed to get them."""
    checked = check_address(address) if enabled or address.strip() else None
    staff.alerts_enabled = enabled
    staff.alert_address = checked
    db.commit()
