"""`seethesigns alerts run`: plan alert rounds and deliver them, until told to stop.

Delivery is at least once, never knowingly twice: each delivery row is marked sent and
committed right after the relay accepts its message, and a failed attempt is retried with
exponential backoff (up to [alerts] retry_max_seconds). The one window left is between the
relay's "250 OK" and that commit: if the process dies, or the database refuses the commit,
just then, the message is sent again when the sender next runs. Closing it would need the
relay to deduplicate by Message-ID, which relays do not promise.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.alerts.mailer import Mailer, MailError
from seethesigns.alerts.message import alert_message
from seethesigns.alerts.outbox import forget_done
from seethesigns.alerts.planner import Timing, plan
from seethesigns.instance_settings import alert_batch_minutes
from seethesigns.models import AlertDelivery
from seethesigns.models.base import utcnow
from seethesigns.settings import AlertSettings

log = logging.getLogger(__name__)
FIRST_RETRY_SECONDS = 5.0
# Deliveries tried in one pass: the rest wait for the next pass, so a stop is never far off.
PASS_LIMIT = 50
# Rows the sender is done with are deleted this often; its rounds are kept a day longer than
# the planner looks back (the latest urgent round and reminder time the next ones).
FORGET_EVERY_SECONDS = 600.0
ROUND_MARGIN = timedelta(days=1)


def backoff(attempts: int, ceiling: float) -> timedelta:
    """How long to wait after the given number of failed attempts: 5 s, 10 s, 20 s ... ceiling."""
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), ceiling))


def timing(db: Session, settings: AlertSettings) -> Timing:
    """The planner's intervals: the batch from the instance settings, the rest from [alerts]."""
    return Timing(
        batch=timedelta(minutes=alert_batch_minutes(db)),
        urgent_repeat=timedelta(minutes=settings.urgent_repeat_minutes),
        reminder=timedelta(hours=settings.reminder_hours),
    )


def deliver_due(db: Session, mailer: Mailer, settings: AlertSettings, now: datetime) -> int:
    """Try every delivery that is due; return how many the relay accepted."""
    due = db.scalars(
        select(AlertDelivery)
        .where(AlertDelivery.sent_at.is_(None), AlertDelivery.next_attempt_at <= now)
        .order_by(AlertDelivery.id)
        .limit(PASS_LIMIT)
    ).all()
    sent = 0
    for delivery in due:
        try:
            mailer.send(alert_message(settings.from_address, delivery.address, utcnow()))
        except MailError as exc:
            delivery.attempts += 1
            delivery.next_attempt_at = utcnow() + backoff(
                delivery.attempts, settings.retry_max_seconds
            )
            db.commit()
            log.warning("alert not delivered (attempt %d): %s", delivery.attempts, exc)
            # The relay is likely down for the others too: wait for the next pass.
            break
        delivery.attempts += 1
        delivery.sent_at = utcnow()
        db.commit()  # at once, so a crash after this line never sends it again
        sent += 1
    return sent


def run_once(sessions: sessionmaker[Session], mailer: Mailer, settings: AlertSettings) -> int:
    """One pass: plan what is due, then deliver what is due; return the number delivered."""
    with sessions() as db:
        plan(db, timing(db, settings), utcnow())
        return deliver_due(db, mailer, settings, utcnow())


def run(
    sessions: sessionmaker[Session],
    mailer: Mailer,
    settings: AlertSettings,
    stop: threading.Event,
) -> None:
    """Pass every [alerts] poll_seconds until stop is set; a failing pass is logged, not fatal."""
    forgotten_at: float | None = None
    while not stop.is_set():
        try:
            run_once(sessions, mailer, settings)
            if forgotten_at is None or time.monotonic() - forgotten_at >= FORGET_EVERY_SECONDS:
                with sessions() as db:
                    intervals = timing(db, settings)
                    looked_back = max(intervals.reminder, intervals.urgent_repeat)
                    forget_done(db, utcnow() - looked_back - ROUND_MARGIN)
                forgotten_at = time.monotonic()
        except Exception:  # a locked or briefly unreachable database: try again next pass
            log.exception("alert pass failed")
        stop.wait(settings.poll_seconds)
