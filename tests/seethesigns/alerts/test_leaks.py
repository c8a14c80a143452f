"""Leak check (issue 13): no alert carries anything derived from a report.

Reports with distinctive words, file names and designations go through the real source
interface; every alert the real relay receives, urgent, batched and reminder alike, must be
the fixed template byte for byte apart from its Date (to the minute) and a random Message-ID.
"""

from __future__ import annotations

import re
import socket
import threading
from datetime import timedelta
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime

from flask import Flask
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.alerts.mailer import Mailer
from seethesigns.alerts.message import BODY, SUBJECT
from seethesigns.alerts.planner import Timing, plan
from seethesigns.alerts.sender import deliver_due
from seethesigns.models import AlertDelivery, AlertEvent, AlertRound, Source, Submission
from seethesigns.models.base import utcnow
from seethesigns.settings import Settings
from tests.seethesigns.alerts.conftest import FROM
from tests.seethesigns.alerts.relay import Relay
from tests.seethesigns.alerts.reports import send_report, staff_with_alerts

DISTINCTIVE = ["zanzibarquokka", "Thursdaymarmalade", "Pemberton Crescent"]
FILENAMES = ["xylophone-evidence-7731.jpg", "quasar_notes.txt"]
MESSAGE_ID = re.compile(r"<[0-9a-f]{32}@seethesigns\.invalid>")
TEMPLATE = (
    "From: {from_}\n"
    "To: {to}\n"
    f"Subject: {SUBJECT}\n"
    "Date: DATE\n"
    "Message-ID: MESSAGE-ID\n"
    'Content-Type: text/plain; charset="utf-8"\n'
    "Content-Transfer-Encoding: 7bit\n"
    "MIME-Version: 1.0\n"
    "\n"
    f"{BODY}"
)


def test_no_alert_carries_anything_derived_from_a_report(
    settings: Settings,
    relay: Relay,
    source_app: Flask,
    open_db: sessionmaker[Session],
    sender_thread: threading.Event,
) -> None:
    assert settings.alerts is not None
    staff_with_alerts(open_db, settings, "alice", "alice@example.org")
    designations = [
        send_report(source_app, urgent=True, message=DISTINCTIVE[0], filename=FILENAMES[0]),
        send_report(source_app, urgent=False, message=DISTINCTIVE[1], filename=FILENAMES[1]),
        send_report(source_app, urgent=True, message=DISTINCTIVE[2]),
    ]
    relay.inbox.wait_for(3, timeout=10)  # urgent at once, then repeats
    sender_thread.set()
    with open_db() as db:  # and a batch and a reminder, planned at later times
        late = utcnow() + timedelta(days=1)
        timing = Timing(timedelta(minutes=15), timedelta(days=2), timedelta(hours=4))
        db.add(AlertEvent(urgent=False, created_at=late - timedelta(hours=1)))
        db.commit()
        assert plan(db, timing, late).reason == "batch"  # type: ignore[union-attr]
        assert plan(db, timing, late).reason == "reminder"  # type: ignore[union-attr]
        deliver_due(db, Mailer(settings.alerts), settings.alerts, late)
        stored = [row.filename for row in db.scalars(select(Submission))]
        uuids = [row.uuid for row in db.scalars(select(Source))]
        reasons = {row.reason for row in db.scalars(select(AlertRound))}
    assert reasons == {"urgent", "batch", "reminder"}
    received = relay.inbox.wait_for(5, timeout=5)
    forbidden = DISTINCTIVE + FILENAMES + designations + stored + uuids
    forbidden += [word for name in designations for word in name.split()]
    forbidden += [socket.gethostname(), "seethesigns", "See the Signs", "urgent", "Urgent"]
    for item in received:
        raw = item.data.decode("ascii")
        lowered = raw.casefold()
        for secret in forbidden:
            if secret == "seethesigns":  # the From domain of the test relay's sender only
                lowered = lowered.replace("alerts@seethesigns.invalid", "")
                lowered = re.sub(r"@seethesigns\.invalid>", "", lowered)
            assert secret.casefold() not in lowered, (secret, raw)
        parsed = message_from_bytes(item.data, policy=policy.default)
        date = parsedate_to_datetime(str(parsed["Date"]))
        assert date.second == 0 and date.utcoffset() == timedelta(0)
        assert MESSAGE_ID.fullmatch(str(parsed["Message-ID"]))
        normalised = raw.replace("\r\n", "\n")
        normalised = normalised.replace(str(parsed["Date"]), "DATE", 1)
        normalised = normalised.replace(str(parsed["Message-ID"]), "MESSAGE-ID", 1)
        assert normalised == TEMPLATE.format(from_=FROM, to=item.recipients[0])
        assert item.sender == FROM and item.helo == "localhost"
    assert len({m.data for m in received}) == len(received)  # Message-IDs differ


def test_the_alert_tables_hold_nothing_that_names_a_source(open_db: sessionmaker[Session]) -> None:
    with open_db() as db:
        columns = {
            table: {c["name"] for c in inspect(db.get_bind()).get_columns(table)}
            for table in ("alert_events", "alert_rounds", "alert_deliveries")
        }
    assert columns == {
        # team_id: which team's members to alert (issue 14), not which case.
        "alert_events": {"id", "urgent", "created_at", "planned_at", "acknowledged_at"}
        | {"acknowledged_by", "team_id"},
        "alert_rounds": {"id", "reason", "created_at"},
        "alert_deliveries": {"id", "round_id", "staff_id", "address", "attempts"}
        | {"next_attempt_at", "sent_at"},
    }
    assert AlertDelivery.__table__.c.keys()  # the models are the ones migrated
