"""The alert sender against a real SMTP relay: urgent at once and repeating until acknowledged,
batches, the unread reminder, and a relay that is down (issue 13)."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.alerts.mailer import Mailer
from seethesigns.alerts.outbox import acknowledge_urgent, forget_done
from seethesigns.alerts.planner import Timing, plan
from seethesigns.alerts.sender import deliver_due, run_once
from seethesigns.db import make_engine, make_session_factory
from seethesigns.models import (
    AlertDelivery,
    AlertEvent,
    AlertRound,
    SeenSubmission,
    Source,
    Staff,
    Submission,
)
from seethesigns.models.base import utcnow
from seethesigns.recipients import add_recipient
from seethesigns.settings import Settings
from seethesigns.submissions import submit
from seethesigns.teams.handover import hand_over
from seethesigns.teams.membership import create_team, set_teams
from seethesigns.teams.reach import Reach
from seethesigns.web.setup import EXTENSION, Services
from tests.conftest import OfflineKey, SpareKeys, make_instance
from tests.databases import TemplateDatabase
from tests.journalist_interface.conftest import log_in
from tests.journalist_interface.conftest import submit as submit_form
from tests.seethesigns.alerts.relay import Relay
from tests.seethesigns.alerts.reports import send_report, staff_with_alerts

SEETHESIGNS = Path(sys.executable).parent / "seethesigns"
HOUR = timedelta(hours=1)
SLOW = Timing(batch=timedelta(minutes=15), urgent_repeat=timedelta(minutes=5), reminder=4 * HOUR)


def test_an_urgent_report_alerts_within_seconds_from_the_sender_process(
    settings: Settings,
    relay: Relay,
    source_app: Flask,
    open_db: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    staff_with_alerts(open_db, settings, "alice", "alice@example.org")
    staff_with_alerts(open_db, settings, "bob", None)  # did not ask: gets nothing
    # The sender as deployed: the default poll_seconds (2 s), not the tests' 0.05 s.
    config = tmp_path / "seethesigns.toml"
    text = (settings.data_dir / "seethesigns.toml").read_text()
    config.write_text(text.replace("poll_seconds = 0.05\n", ""))
    log = (tmp_path / "sender.log").open("wb")
    sender = subprocess.Popen(
        [str(SEETHESIGNS), "alerts", "run", "--config", str(config)], stdout=log, stderr=log
    )
    try:
        time.sleep(3.0)  # let it start and find nothing to do
        assert relay.inbox.messages == []
        send_report(source_app, urgent=True)
        stored = time.monotonic()  # the report is committed: /submit has answered
        (first,) = relay.inbox.wait_for(1, timeout=10)[:1]
        print(f"\nurgent alert: at the relay {first.at - stored:.2f} s after the report was stored")
        assert first.at - stored < 5
        assert first.recipients == ["alice@example.org"]
    finally:
        sender.send_signal(signal.SIGTERM)
        code = sender.wait(timeout=10)
        log.close()
    assert code == 0, (tmp_path / "sender.log").read_text()


def test_the_urgent_alert_repeats_until_someone_acknowledges_it(
    settings: Settings,
    relay: Relay,
    source_app: Flask,
    journalist_app: Flask,
    open_db: sessionmaker[Session],
    sender_thread: threading.Event,
) -> None:
    alice = staff_with_alerts(open_db, settings, "alice", "alice@example.org")
    send_report(source_app, urgent=True)
    relay.inbox.wait_for(3, timeout=10)  # at once, then every 1.2 s (urgent_repeat_minutes)
    staff = journalist_app.test_client()
    assert log_in(staff, alice).status_code == 302
    page = staff.get("/").get_data(as_text=True)
    assert "marked a report urgent" in page and "stop the alert" in page
    response = submit_form(staff, "/", "/alerts/acknowledge")
    assert response.status_code == 302
    after_ack = len(relay.inbox.messages)
    time.sleep(3)  # more than two repeat intervals
    assert len(relay.inbox.messages) <= after_ack + 1  # one may have been on its way
    assert "marked a report urgent" not in staff.get("/").get_data(as_text=True)
    with open_db() as db:
        assert db.scalar(select(func.count()).where(AlertEvent.acknowledged_at.is_(None))) == 0


def test_reports_not_marked_urgent_are_gathered_into_one_alert(
    settings: Settings, relay: Relay, source_app: Flask, open_db: sessionmaker[Session]
) -> None:
    assert settings.alerts is not None
    staff_with_alerts(open_db, settings, "alice", "alice@example.org")
    for _ in range(3):
        send_report(source_app, urgent=False)
    mailer = Mailer(settings.alerts)
    with open_db() as db:
        now = utcnow()
        assert plan(db, SLOW, now + timedelta(minutes=14)) is None  # still gathering
        round_ = plan(db, SLOW, now + timedelta(minutes=15, seconds=1))
        assert round_ is not None and round_.reason == "batch"
        assert plan(db, SLOW, now + timedelta(minutes=31)) is None  # nothing new since
        assert deliver_due(db, mailer, settings.alerts, now + timedelta(minutes=31)) == 1
    assert len(relay.inbox.wait_for(1, timeout=5)) == 1


def test_a_reminder_goes_out_while_something_stays_unread_by_everyone(
    settings: Settings, relay: Relay, source_app: Flask, open_db: sessionmaker[Session]
) -> None:
    assert settings.alerts is not None
    alice = staff_with_alerts(open_db, settings, "alice", "alice@example.org")
    send_report(source_app, urgent=False)
    with open_db() as db:
        now = utcnow()
        assert plan(db, SLOW, now + timedelta(minutes=16)).reason == "batch"  # type: ignore[union-attr]
        assert plan(db, SLOW, now + 3 * HOUR) is None
        assert plan(db, SLOW, now + 4 * HOUR + timedelta(seconds=1)).reason == "reminder"  # type: ignore[union-attr]
        assert plan(db, SLOW, now + 5 * HOUR) is None  # at most once every reminder_hours
        assert plan(db, SLOW, now + 8 * HOUR + timedelta(seconds=2)).reason == "reminder"  # type: ignore[union-attr]
        # Once anyone has seen every item, nothing is unread by everyone: no more reminders.
        for item in db.scalars(select(Submission)):
            db.add(SeenSubmission(submission_id=item.id, staff_id=alice.staff.id))
        db.commit()
        assert plan(db, SLOW, now + 20 * HOUR) is None
        assert deliver_due(db, Mailer(settings.alerts), settings.alerts, now + 20 * HOUR) == 3
    assert len(relay.inbox.wait_for(3, timeout=5)) == 3


def test_a_relay_that_is_down_blocks_nothing_and_the_alert_is_sent_once_when_it_is_back(
    settings: Settings, relay: Relay, source_app: Flask, open_db: sessionmaker[Session]
) -> None:
    assert settings.alerts is not None
    staff_with_alerts(open_db, settings, "alice", "alice@example.org")
    staff_with_alerts(open_db, settings, "carol", "carol@example.org")
    relay.stop()
    started = time.monotonic()
    send_report(source_app, urgent=False)
    assert time.monotonic() - started < 5  # the report never waits for mail
    mailer = Mailer(settings.alerts)
    with open_db() as db:
        db.execute(update(AlertEvent).values(created_at=utcnow() - timedelta(hours=1)))
        db.commit()
    for _ in range(3):  # the relay is down: each pass fails and backs off
        assert run_once(open_db, mailer, settings.alerts) == 0
        time.sleep(0.6)  # past retry_max_seconds (0.5 s)
    with open_db() as db:
        pending = db.scalars(select(AlertDelivery).order_by(AlertDelivery.id)).all()
        assert len(pending) == 2
        assert all(d.sent_at is None for d in pending) and pending[0].attempts >= 2
    relay.start()
    time.sleep(0.6)
    delivered = 0
    for _ in range(10):
        delivered += run_once(open_db, mailer, settings.alerts)
        time.sleep(0.1)
    assert delivered == 2
    messages = relay.inbox.wait_for(2, timeout=5)
    time.sleep(0.5)
    assert sorted(m.recipients[0] for m in relay.inbox.messages) == [
        "alice@example.org",
        "carol@example.org",
    ]
    assert len(messages) == 2
    with open_db() as db:
        assert all(d.sent_at is not None for d in db.scalars(select(AlertDelivery)))


def test_the_sender_stops_at_once_without_an_alerts_section(
    settings: Settings, tmp_path: Path
) -> None:
    config = tmp_path / "no-alerts.toml"
    text = (settings.data_dir / "seethesigns.toml").read_text()
    config.write_text(text.split("\n[alerts]")[0])
    done = subprocess.run(
        [str(SEETHESIGNS), "alerts", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 1
    assert "[alerts] is missing" in done.stderr


def test_alert_rows_are_forgotten_once_done_with(
    settings: Settings, relay: Relay, source_app: Flask, open_db: sessionmaker[Session]
) -> None:
    assert settings.alerts is not None
    staff_with_alerts(open_db, settings, "alice", "alice@example.org")
    send_report(source_app, urgent=True)
    send_report(source_app, urgent=False)

    def count(table: type) -> int:
        with open_db() as db:
            return int(db.scalar(select(func.count()).select_from(table)) or 0)

    with open_db() as db:
        forget_done(db, utcnow())
        assert count(AlertEvent) == 2  # neither alerted yet
        plan(db, SLOW, utcnow())
        forget_done(db, utcnow() + HOUR)
        assert count(AlertEvent) == 1  # the urgent one waits to be acknowledged
        assert count(AlertRound) == 1  # its delivery is not sent yet
        deliver_due(db, Mailer(settings.alerts), settings.alerts, utcnow())
        forget_done(db, utcnow() - HOUR)
        assert count(AlertRound) == 1  # recent rounds time the next ones
        db.execute(update(AlertEvent).values(acknowledged_at=utcnow()))
        db.commit()
        forget_done(db, utcnow() + HOUR)
    assert count(AlertEvent) == count(AlertRound) == count(AlertDelivery) == 0


def test_without_alerts_configured_a_report_leaves_no_alert_row(
    offline_key: OfflineKey, template_database: TemplateDatabase
) -> None:
    settings = make_instance(offline_key, template_database)
    try:
        from source_interface import create_app

        send_report(create_app(settings), urgent=True)
        engine = make_engine(settings.database_url)
        with make_session_factory(engine)() as db:
            assert db.scalar(select(func.count()).select_from(AlertEvent)) == 0
            assert db.scalar(select(Source.urgent)) is True  # the mark is kept all the same
        engine.dispose()
    finally:
        subprocess.run(
            ["gpgconf", "--homedir", str(settings.gnupg_homedir), "--kill", "all"], check=False
        )
        shutil.rmtree(settings.data_dir, ignore_errors=True)


def test_the_units_condition_says_whether_alerts_are_configured(
    settings: Settings, tmp_path: Path
) -> None:
    text = (settings.data_dir / "seethesigns.toml").read_text()
    without, broken = tmp_path / "without.toml", tmp_path / "broken.toml"
    without.write_text(text.split("\n[alerts]")[0])
    broken.write_text(text.replace('from = "alerts@seethesigns.invalid"', 'from = "nobody"'))

    def configured(config: Path) -> int:
        command = [str(SEETHESIGNS), "alerts", "configured", "--config", str(config)]
        return subprocess.run(command, capture_output=True, timeout=30, check=False).returncode

    assert configured(settings.data_dir / "seethesigns.toml") == 0
    assert configured(without) == 1  # systemd skips the unit
    assert configured(broken) == 255  # systemd counts it as a failure, not a skip


def test_alerts_go_to_the_team_that_owns_the_case(
    settings: Settings,
    relay: Relay,
    source_app: Flask,
    open_db: sessionmaker[Session],
    spare_keys: SpareKeys,
) -> None:
    """Issue 14: a police liaison officer is not woken for a report only the front door reads;
    once a case is handed over, its next report alerts the new team, and acknowledging is
    per team."""
    assert settings.alerts is not None
    staff_with_alerts(open_db, settings, "fiona", "fiona@example.org")  # the front door
    paul = staff_with_alerts(open_db, settings, "paul", "paul@example.org")
    with open_db() as db:
        police = create_team(db, "Police liaison")
        set_teams(db, db.merge(paul.staff), {police.id})
        found: Services = source_app.extensions[EXTENSION]
        add_recipient(db, found.gpg, "Police device", spare_keys.second.public_key, police.id)
    mailer = Mailer(settings.alerts)
    designation = send_report(source_app, urgent=True)
    with open_db() as db:
        assert plan(db, SLOW, utcnow()) is not None
        assert deliver_due(db, mailer, settings.alerts, utcnow()) == 1
        (first,) = relay.inbox.wait_for(1, timeout=5)
        assert first.recipients == ["fiona@example.org"]
        # Fiona hands the case over; the child writes again, urgent.
        source = db.scalars(select(Source).where(Source.designation == designation)).one()
        hand_over(db, source, police)
        acknowledge_urgent(db, db.merge(paul.staff), Reach.of(db, db.merge(paul.staff)))
        waiting = db.scalar(select(func.count()).where(AlertEvent.acknowledged_at.is_(None)))
        assert waiting == 1  # Paul's team acknowledged nothing of the front door's
        submit(db, found.store, found.gpg, source, "they came back", [], urgent=True, alert=True)
        round_ = plan(db, SLOW, utcnow() + timedelta(minutes=6))
        assert round_ is not None and round_.reason == "urgent"
        deliveries = db.scalars(
            select(AlertDelivery.address).where(AlertDelivery.round_id == round_.id)
        ).all()
    # The front door's urgent report still waits, so Fiona is reminded; Paul now owns one too.
    assert sorted(deliveries) == ["fiona@example.org", "paul@example.org"]
    with open_db() as db:
        fiona_staff = db.scalars(select(Staff).where(Staff.username == "fiona")).one()
        acknowledge_urgent(db, fiona_staff, Reach.of(db, fiona_staff))
        round_ = plan(db, SLOW, utcnow() + timedelta(minutes=12))
        assert round_ is not None and round_.reason == "urgent"
        deliveries = db.scalars(
            select(AlertDelivery.address).where(AlertDelivery.round_id == round_.id)
        ).all()
    assert deliveries == ["paul@example.org"]
