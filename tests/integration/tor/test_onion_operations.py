"""The onion commands as a deployment playbook drives them, over the private Tor network.

One fresh instance, configured only through the command line: `onion up --control-port` (the
file keeps Debian's control socket), both interfaces served on the [tor] ports with no
--port, no staff device at first, then a device that made its own keypair.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from seethesigns.cli_options import CONTROL_PORT_ENV
from seethesigns.onion import JOURNALIST, NO_STAFF_DEVICE, SOURCE, OnionKeys
from seethesigns.settings import load_settings
from tests.conftest import OfflineKey, make_instance, short_tmpdir
from tests.databases import TemplateDatabase
from tests.integration.conftest import SEETHESIGNS, free_port, start_server, stop_server
from tests.integration.tor.conftest import (
    PUBLISHED_WITHIN,
    OnionInstance,
    authorise_on_client,
    fetch_when_reachable,
)
from tests.integration.tor.network import PrivateTorNetwork, TorNetworkError, wait_for

pytestmark = pytest.mark.tor


@pytest.fixture(scope="module")
def fresh_instance(
    tor_network: PrivateTorNetwork, offline_key: OfflineKey, template_database: TemplateDatabase
) -> Iterator[OnionInstance]:
    """An instance served on its [tor] ports and published by `onion up --control-port`."""
    settings = make_instance(offline_key, template_database)
    config = settings.data_dir / "seethesigns.toml"
    text = config.read_text()
    for old in ("source_port = 8080", "journalist_port = 8081"):
        text = text.replace(old, f"{old.split(' = ')[0]} = {free_port()}")
    config.write_text(text)
    settings = load_settings(config)
    log_dir = short_tmpdir("stsops")
    tor = settings.tor
    source = start_server(SOURCE, config, log_dir, configured_port=tor.source_port)
    journalist = start_server(JOURNALIST, config, log_dir, configured_port=tor.journalist_port)
    assert tor_network.service.control_port is not None
    log = log_dir / "onion-up.log"
    with log.open("wb") as handle:
        publisher = subprocess.Popen(
            [
                *(str(SEETHESIGNS), "onion", "up", "--config", str(config)),
                *("--control-port", str(tor_network.service.control_port)),
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield OnionInstance(settings, config, source, journalist, publisher, log, tor_network)
    finally:
        if publisher.poll() is None:
            publisher.send_signal(signal.SIGTERM)
            publisher.wait(timeout=15)
        stop_server(source)
        stop_server(journalist)
        subprocess.run(
            ["gpgconf", "--homedir", str(settings.gnupg_homedir), "--kill", "all"], check=False
        )
        shutil.rmtree(settings.data_dir, ignore_errors=True)
        shutil.rmtree(log_dir, ignore_errors=True)


def status(instance: OnionInstance) -> tuple[int, dict[str, Any]]:
    """`onion status --json`, told tor's control port through the environment."""
    assert instance.network.service.control_port is not None
    done = subprocess.run(
        [str(SEETHESIGNS), "onion", "status", "--json", "--config", str(instance.config)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, CONTROL_PORT_ENV: str(instance.network.service.control_port)},
    )
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def wait_for_record(instance: OnionInstance, service: str, uploaded: bool) -> None:
    """Wait until the publisher has recorded service as published (or as left down)."""

    def recorded() -> bool:
        if instance.publisher.poll() is not None:
            raise TorNetworkError(f"onion up exited: {instance.publisher_log.read_text()}")
        record = instance.keys.publication().get(service)
        return record is not None and (record["uploaded_at"] is not None) == uploaded

    wait_for(f"{service} recorded with uploaded={uploaded}", recorded, PUBLISHED_WITHIN)


def test_staff_service_waits_for_a_device_that_brings_its_own_key(
    fresh_instance: OnionInstance,
) -> None:
    instance = fresh_instance
    wait_for_record(instance, SOURCE, uploaded=True)
    wait_for_record(instance, JOURNALIST, uploaded=False)
    code, report = status(instance)
    assert code == 1
    source, staff = report["services"][SOURCE], report["services"][JOURNALIST]
    assert (source["published"], source["target_answers"]) == (True, True)
    assert source["target"] == f"127.0.0.1:{instance.settings.tor.source_port}"
    assert (staff["published"], staff["reason"]) == (False, NO_STAFF_DEVICE)
    assert staff["target_answers"] is True  # gunicorn is there; only the onion is missing
    assert report["authorised_staff_devices"] == 0

    # The device makes its own keypair; only the public half reaches the server.
    private = X25519PrivateKey.generate()
    public = base64.b32encode(private.public_key().public_bytes_raw()).decode().rstrip("=")
    added = instance.cli("onion", "add-client", "tablet", "--public-key", public)
    assert added.returncode == 0, added.stderr
    assert "republished" in added.stderr
    listed = json.loads(instance.cli("onion", "list-clients", "--json").stdout)
    assert listed == [{"name": "tablet", "public_key": public}]

    address = OnionKeys(instance.settings.tor.keys_dir).service_key(JOURNALIST).address
    own_key = base64.b32encode(private.private_bytes_raw()).decode().rstrip("=")
    authorise_on_client(instance.network.client, f"{address}:descriptor:x25519:{own_key}")
    page = fetch_when_reachable(instance.onion_url(JOURNALIST) + "/login", instance.network.client)
    assert "<h1>Log in</h1>" in page.text

    code, report = status(instance)
    assert code == 0, report
    assert report["ok"] is True
    for name in (SOURCE, JOURNALIST):
        found = report["services"][name]
        assert (found["published"], found["reason"], found["target_answers"]) == (
            True,
            None,
            True,
        ), found
    assert (report["authorised_staff_devices"], report["republication_pending"]) == (1, False)

    # Revoking the last device takes the staff service down again, and status says why.
    revoked = instance.cli("onion", "revoke-client", "tablet")
    assert revoked.returncode == 0, revoked.stderr
    wait_for_record(instance, JOURNALIST, uploaded=False)
    code, report = status(instance)
    assert code == 1
    assert report["services"][JOURNALIST]["reason"] == NO_STAFF_DEVICE
    assert report["services"][SOURCE]["published"] is True
