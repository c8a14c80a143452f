"""Fixtures for the alert tests: a real relay, and an instance configured to send to it.

settings (the suite's, here with [alerts]) -> relay (aiosmtpd on a free port, STARTTLS and
login required) -> sender (`seethesigns alerts run`, a real process) or a sender thread.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.alerts.mailer import Mailer
from seethesigns.alerts.sender import run
from seethesigns.db import make_engine, make_session_factory
from seethesigns.settings import Settings
from tests.conftest import OfflineKey, make_instance, short_tmpdir
from tests.databases import TemplateDatabase
from tests.seethesigns.alerts.relay import PASSWORD, USERNAME, Inbox, Relay, self_signed

FROM = "alerts@seethesigns.invalid"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def relay_files() -> Iterator[Path]:
    """A folder with the relay's certificate and key, and the sender's password file."""
    folder = short_tmpdir("stsrelay")
    self_signed(folder)
    (folder / "password").write_text(PASSWORD + "\n")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def relay(relay_files: Path) -> Iterator[Relay]:
    """A running relay; the test may stop and start it."""
    found = Relay(
        free_port(), relay_files / "relay-cert.pem", relay_files / "relay-key.pem", Inbox()
    )
    found.start()
    yield found
    found.stop()


def alerts_section(relay: Relay, relay_files: Path, **overrides: str) -> str:
    """An [alerts] section for the relay, with timings turned down for tests."""
    values = {
        "host": '"localhost"',
        "port": str(relay.port),
        "from": f'"{FROM}"',
        "username": f'"{USERNAME}"',
        "password_file": f'"{relay_files / "password"}"',
        "ca_file": f'"{relay_files / "relay-cert.pem"}"',
        "poll_seconds": "0.05",
        "urgent_repeat_minutes": "0.02",  # 1.2 s
        "reminder_hours": "1",
        "timeout_seconds": "5",
        "retry_max_seconds": "0.5",
    } | overrides
    return "\n[alerts]\n" + "".join(f"{key} = {value}\n" for key, value in values.items())


@pytest.fixture
def settings(
    offline_key: OfflineKey, template_database: TemplateDatabase, relay: Relay, relay_files: Path
) -> Iterator[Settings]:
    """An instance whose [alerts] point at the relay."""
    found = make_instance(offline_key, template_database, extra=alerts_section(relay, relay_files))
    yield found
    subprocess.run(["gpgconf", "--homedir", str(found.gnupg_homedir), "--kill", "all"], check=False)
    shutil.rmtree(found.data_dir, ignore_errors=True)


@pytest.fixture
def open_db(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """Sessions on the instance's real database."""
    engine = make_engine(settings.database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def sender_thread(settings: Settings, open_db: sessionmaker[Session]) -> Iterator[threading.Event]:
    """The sender's loop in a thread of the test (for tests that look inside it); set to stop."""
    assert settings.alerts is not None
    stop = threading.Event()
    thread = threading.Thread(
        target=run, args=(open_db, Mailer(settings.alerts), settings.alerts, stop), daemon=True
    )
    thread.start()
    yield stop
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
