"""An alert sent through tor's SOCKS port (issue 13, `[alerts] socks_proxy`), on the private
Tor network: the relay is a real aiosmtpd server behind an onion service, so the sender's
connection, its name lookup included, can only have gone through tor."""

from __future__ import annotations

import shutil
import time

import pytest

from seethesigns.alerts.mailer import Mailer
from seethesigns.alerts.message import alert_message
from seethesigns.models.base import utcnow
from seethesigns.settings import AlertSettings
from tests.conftest import short_tmpdir
from tests.integration.tor.network import PrivateTorNetwork, TorNetworkError, free_port, wait_for
from tests.seethesigns.alerts.relay import PASSWORD, USERNAME, Inbox, Relay, self_signed

pytestmark = pytest.mark.tor
REACHABLE_WITHIN = 90.0


def test_an_alert_reaches_a_relay_behind_an_onion_service_through_socks(
    tor_network: PrivateTorNetwork,
) -> None:
    port = free_port()
    controller = tor_network.service.controller
    assert controller is not None
    onion = controller.create_ephemeral_hidden_service(
        {587: port}, await_publication=True, detached=False
    )
    host = f"{onion.service_id}.onion"
    folder = short_tmpdir("ststorsmtp")
    cert, key = self_signed(folder, host)
    (folder / "password").write_text(PASSWORD)
    relay = Relay(port, cert, key, Inbox())
    relay.start()
    try:
        settings = AlertSettings(
            host=host,
            from_address="alerts@seethesigns.invalid",
            username=USERNAME,
            password_file=folder / "password",
            ca_file=cert,
            socks_proxy=("127.0.0.1", int(tor_network.client.socks_port or 0)),
            timeout_seconds=30,
        )
        mailer = Mailer(settings)
        errors: list[str] = []

        def attempt() -> bool:
            try:
                mailer.send(alert_message(settings.from_address, "alice@example.org", utcnow()))
                return True
            except Exception as exc:  # the network settling: retried, bounded
                errors.append(str(exc)[-160:])
                return False

        started = time.monotonic()
        try:
            wait_for("an alert through tor", attempt, REACHABLE_WITHIN, interval=1.0)
        except TorNetworkError as exc:
            raise TorNetworkError(f"{exc}; last error: {errors[-1:]}") from exc
        print(
            f"\nalert through tor: delivered {time.monotonic() - started:.1f} s after the first try"
        )
        (received,) = relay.inbox.wait_for(1, timeout=5)
        assert received.recipients == ["alice@example.org"]
        assert b"There are new reports." in received.data
    finally:
        # The relay's end of the TLS connection closes once tor has carried the close back;
        # stopping the relay's loop before then would leave its transport unclosed.
        time.sleep(2)
        relay.stop()
        controller.remove_ephemeral_hidden_service(onion.service_id)
        shutil.rmtree(folder, ignore_errors=True)
