"""The mailer never sends in the clear and never to a relay it cannot verify."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from seethesigns.alerts.mailer import Mailer, MailError
from seethesigns.alerts.message import alert_message
from seethesigns.models.base import utcnow
from seethesigns.settings import Settings
from tests.seethesigns.alerts.conftest import free_port
from tests.seethesigns.alerts.relay import Inbox, Relay


def test_a_relay_whose_certificate_is_not_trusted_gets_nothing(
    settings: Settings, relay: Relay
) -> None:
    assert settings.alerts is not None
    untrusted = replace(settings.alerts, ca_file=None)  # the system's CAs only
    with pytest.raises(MailError, match="CERTIFICATE_VERIFY_FAILED"):
        Mailer(untrusted).send(alert_message("a@seethesigns.invalid", "b@example.org", utcnow()))
    assert relay.inbox.messages == []


def test_a_relay_under_another_name_gets_nothing(settings: Settings, relay: Relay) -> None:
    assert settings.alerts is not None
    elsewhere = replace(settings.alerts, host="127.0.0.2")  # not a name on its certificate
    with pytest.raises(MailError):
        Mailer(elsewhere).send(alert_message("a@seethesigns.invalid", "b@example.org", utcnow()))
    assert relay.inbox.messages == []


def test_a_relay_without_starttls_gets_nothing(settings: Settings, relay_files: Path) -> None:
    assert settings.alerts is not None
    inbox = Inbox()
    plain = Controller(inbox, hostname="127.0.0.1", port=free_port())
    plain.start()
    try:
        settings_plain = replace(settings.alerts, port=plain.port, username=None)
        with pytest.raises(MailError, match="STARTTLS"):
            Mailer(settings_plain).send(
                alert_message("a@seethesigns.invalid", "b@example.org", utcnow())
            )
    finally:
        plain.stop()
    assert inbox.messages == []


def test_a_wrong_password_is_a_failure_to_retry(settings: Settings, relay: Relay) -> None:
    assert settings.alerts is not None and settings.alerts.password_file is not None
    settings.alerts.password_file.write_text("not the password\n")
    with pytest.raises(MailError):  # refused (or, from aiosmtpd, left to time out)
        Mailer(settings.alerts).send(
            alert_message("a@seethesigns.invalid", "b@example.org", utcnow())
        )
    assert relay.inbox.messages == []
