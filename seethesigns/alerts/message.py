"""The one alert message: the same words every time, with nothing taken from a report.

Leak check (tests/seethesigns/alerts/test_leaks.py): the subject and body are constants;
From and To come from settings and the staff member's own choice; Date is the minute the
message is written, in UTC, so it says no more than that the relay got mail then;
Message-ID is random, not email.utils.make_msgid's time, process id and host name. No
header names the software, the server or the report.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

SUBJECT = "Please log in"
BODY = "There are new reports. Log in to the staff site.\n"


def message_id(from_address: str) -> str:
    """A random Message-ID in the sender's mail domain."""
    return f"<{secrets.token_hex(16)}@{from_address.rpartition('@')[2]}>"


def alert_message(from_address: str, to_address: str, now: datetime) -> EmailMessage:
    """The alert for one recipient, dated to the minute (now: naive UTC, as stored)."""
    message = EmailMessage()
    message["From"] = from_address
    message["To"] = to_address
    message["Subject"] = SUBJECT
    minute = now.replace(tzinfo=UTC, second=0, microsecond=0)
    message["Date"] = format_datetime(minute)
    message["Message-ID"] = message_id(from_address)
    message.set_content(BODY)
    return message
