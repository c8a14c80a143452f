"""Both interfaces over real onion services on a private Tor network, end to end.

`seethesigns onion up` publishes them from the service host; everything a person does goes
through the client's SOCKS port: a report and a codename login on the source onion, staff
devices with and without their key, a revoked device, tor restarting, and a real browser.
The restart test comes last in this module on purpose: it takes the services down a while.
"""

from __future__ import annotations

import re
import shutil
import signal
import stat
import subprocess
from pathlib import Path

import pytest
from stem.descriptor.hidden_service import HiddenServiceDescriptorV3

from seethesigns.onion import JOURNALIST, SOURCE, OnionKeys, publishes_clients
from tests.conftest import OfflineKey, make_instance, short_tmpdir
from tests.databases import TemplateDatabase
from tests.integration.conftest import csrf, new_source, start_server, stop_server
from tests.integration.tor.conftest import (
    PUBLISHED_WITHIN,
    REACHABLE_WITHIN,
    OnionInstance,
    authorise_on_client,
    descriptor_events,
    fetch_when_reachable,
    forget_on_client,
    socks_refusal,
    through_tor,
    tor_config,
)
from tests.integration.tor.network import PrivateTorNetwork, wait_for

pytestmark = pytest.mark.tor

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
# SOCKS5 extended errors of tor 0.4.9 (SocksPort ExtendedErrors) for a client-auth service:
# with no key the fetched descriptor cannot be read, which tor reports as "not found"; with a
# key the descriptor does not list, as "invalid".
NO_KEY = "0xf4"
WRONG_KEY = "0xf5"
WELCOME = "You don't have to give your name"


def test_a_report_and_a_codename_login_through_the_source_onion(
    onion_instance: OnionInstance, offline_key: OfflineKey
) -> None:
    url = onion_instance.onion_url(SOURCE)
    assert WELCOME in fetch_when_reachable(url + "/", onion_instance.network.client).text

    source = through_tor(onion_instance.network.client)
    codename = new_source(url, source)
    lookup = source.get(url + "/lookup", timeout=30).text
    response = source.post(
        url + "/submit",
        data={"csrf_token": csrf(lookup), "msg": "Sent through Tor."},
        files={"fh": ("note.txt", b"a small file", "text/plain")},
        timeout=60,
    )
    assert response.status_code == 200, response.status_code
    assert "We got it safely" in response.text

    returning = through_tor(onion_instance.network.client)
    login = returning.get(url + "/login", timeout=30).text
    response = returning.post(
        url + "/login",
        data={"csrf_token": csrf(login), "codename": codename},
        allow_redirects=False,
        timeout=60,
    )
    assert response.status_code == 302
    assert "Your report" in returning.get(url + "/lookup", timeout=30).text

    # The report reached the store encrypted, and only the offline key opens it.
    stored = list(onion_instance.settings.store_dir.glob("*/*-msg.gpg"))
    assert [offline_key.decrypt(path.read_bytes()) for path in stored] == [b"Sent through Tor."]


def test_the_staff_onion_refuses_a_device_without_its_key_and_serves_one_with_it(
    onion_instance: OnionInstance,
) -> None:
    client = onion_instance.network.client
    url = onion_instance.onion_url(JOURNALIST)
    address = url.removeprefix("http://").removesuffix(".onion")
    forget_on_client(client, address)
    with descriptor_events(client, address) as actions:
        assert socks_refusal(url + "/login", client) == NO_KEY
        # Refused although an HSDir served the descriptor: it is the key that is missing.
        # (tor queues control events, so this one may come after the SOCKS reply.)
        wait_for("the client receiving the staff descriptor", lambda: "RECEIVED" in actions, 30)

    line = onion_instance.add_device("laptop-alex")
    assert re.fullmatch(rf"{address}:descriptor:x25519:[A-Z2-7]{{52}}", line)
    authorise_on_client(client, line)
    page = fetch_when_reachable(url + "/login", client)
    assert page.status_code == 200
    assert "<h1>Log in</h1>" in page.text


def test_a_revoked_device_is_cut_off(onion_instance: OnionInstance) -> None:
    client = onion_instance.network.client
    url = onion_instance.onion_url(JOURNALIST)
    authorise_on_client(client, onion_instance.add_device("phone-sam"))
    session = through_tor(client)
    assert fetch_when_reachable(url + "/login", client).status_code == 200
    assert session.get(url + "/login", timeout=30).status_code == 200  # a circuit is open

    revoked = onion_instance.cli("onion", "revoke-client", "phone-sam")
    assert revoked.returncode == 0, revoked.stderr
    assert "republished" in revoked.stderr

    # The device still holds its key and had an open circuit: neither gets it in again.
    refusals = [socks_refusal(url + "/login", client) for _ in range(3)]
    assert refusals[-1] == WRONG_KEY, refusals
    assert "phone-sam" not in onion_instance.keys.clients()


def test_a_device_re_added_with_a_new_key_loses_its_old_one(
    onion_instance: OnionInstance,
) -> None:
    client = onion_instance.network.client
    url = onion_instance.onion_url(JOURNALIST)
    authorise_on_client(client, onion_instance.add_device("alice-laptop"))
    assert fetch_when_reachable(url + "/login", client).status_code == 200

    # Revoked and re-added under the same name within one poll of the publisher (held still
    # so the two changes cannot fall on either side of a poll).
    keys, publisher = onion_instance.keys, onion_instance.publisher
    publisher.send_signal(signal.SIGSTOP)
    try:
        keys.revoke_client("alice-laptop")
        new_line = keys.add_client("alice-laptop")
    finally:
        publisher.send_signal(signal.SIGCONT)
    wanted = keys.clients()
    wait_for(
        "republication with alice-laptop's new key",
        lambda: publishes_clients(keys.publication()[JOURNALIST], wanted),
        PUBLISHED_WITHIN,
    )

    # The device with the old key is refused; the new key gets in.
    refusals = [socks_refusal(url + "/login", client) for _ in range(3)]
    assert refusals[-1] == WRONG_KEY, refusals
    authorise_on_client(client, new_line)
    assert fetch_when_reachable(url + "/login", client).status_code == 200


def test_status_names_both_addresses_their_descriptors_and_targets(
    onion_instance: OnionInstance,
) -> None:
    done = onion_instance.cli("onion", "status")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    source, journalist = onion_instance.source.url, onion_instance.journalist.url
    assert lines[0] == f"source      {onion_instance.onion_url(SOURCE)}  published"
    assert lines[1] == f"            target {source.removeprefix('http://')} answers (HTTP 200)"
    assert lines[2] == f"journalist  {onion_instance.onion_url(JOURNALIST)}  published"
    assert lines[3].startswith(f"            target {journalist.removeprefix('http://')} answers")
    clients = len(onion_instance.keys.clients())
    assert lines[4] == f"authorised staff devices: {clients}"


def test_the_published_descriptor_enables_proof_of_work(onion_instance: OnionInstance) -> None:
    network = onion_instance.network
    url = onion_instance.onion_url(SOURCE)
    fetch_when_reachable(url + "/", network.client)
    address = url.removeprefix("http://").removesuffix(".onion")
    assert network.client.controller is not None
    raw = network.client.controller.get_info(f"hs/client/desc/id/{address}")
    inner = HiddenServiceDescriptorV3.from_str(raw).decrypt(address)
    assert re.search(r"^pow-params v1 \S+ \d+ \S+$", str(inner), re.MULTILINE), str(inner)


def test_keys_are_private_files_and_never_logged(onion_instance: OnionInstance) -> None:
    keys_dir = onion_instance.settings.tor.keys_dir
    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700
    for path in keys_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    log = onion_instance.publisher_log.read_text()
    assert onion_instance.onion_url(SOURCE) in log
    for service in (SOURCE, JOURNALIST):
        key = onion_instance.keys.service_key(service)
        assert key.tor_key().split(":", 1)[1] not in log
        assert key.seed.hex() not in log
    assert repr(key) == f"ServiceKey({key.address}.onion)"


def test_chromium_loads_the_source_onion(onion_instance: OnionInstance, tmp_path: Path) -> None:
    chromium = "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.fail("chromium not found: run `make system-packages`", pytrace=False)
    network = onion_instance.network
    url = onion_instance.onion_url(SOURCE) + "/"
    fetch_when_reachable(url, network.client)
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "source-onion.png"
    screenshot.unlink(missing_ok=True)
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        f"--proxy-server=socks5://127.0.0.1:{network.client.socks_port}",
        # Every name is resolved by Tor through the proxy; nothing leaks to a resolver.
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        "--disable-background-networking",
        "--window-size=1000,1200",
    ]
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    dom = subprocess.run(
        [*command, "--dump-dom", url], capture_output=True, text=True, env=env, timeout=60
    )
    assert WELCOME in dom.stdout, dom.stderr[-2000:]
    shot = subprocess.run(
        [*command, f"--screenshot={screenshot}", url],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_serve_with_onion_publishes_that_interface(
    tor_network: PrivateTorNetwork, offline_key: OfflineKey, template_database: TemplateDatabase
) -> None:
    settings = make_instance(offline_key, template_database)
    config = settings.data_dir / "seethesigns.toml"
    assert tor_network.service.control_port is not None
    config.write_text(tor_config(settings, tor_network.service.control_port, {}))
    log_dir = short_tmpdir("stsserveonion")
    server = start_server("source", config, log_dir, extra_args=["--onion"])
    try:
        wait_for(
            "`serve --onion` publishing",
            lambda: "onion service published" in server.log.read_text(),
            REACHABLE_WITHIN,
        )
        address = OnionKeys(settings.tor.keys_dir).service_key(SOURCE).address
        assert f"http://{address}.onion" in server.log.read_text()
        page = fetch_when_reachable(f"http://{address}.onion/", tor_network.client)
        assert WELCOME in page.text, server.log.read_text()[-4000:]
    finally:
        stop_server(server)
        subprocess.run(
            ["gpgconf", "--homedir", str(settings.gnupg_homedir), "--kill", "all"], check=False
        )
        shutil.rmtree(settings.data_dir, ignore_errors=True)
        shutil.rmtree(log_dir, ignore_errors=True)


def test_both_services_come_back_after_tor_restarts(onion_instance: OnionInstance) -> None:
    network = onion_instance.network
    line = onion_instance.add_device("desktop-kim")
    addresses = {name: onion_instance.onion_url(name) for name in (SOURCE, JOURNALIST)}
    before = onion_instance.keys.publication()

    network.restart_service_host()

    # No call by the test: the running `onion up` notices and publishes both again, and the
    # test only watches its record. Then a client that never cached the old descriptors
    # checks both (one that did can wait minutes on tor's own timers: see tor/README.md).
    def republished() -> bool:
        now = onion_instance.keys.publication()
        return all(
            now.get(name, {}).get("uploaded_at") not in (None, before[name]["uploaded_at"])
            for name in addresses
        )

    wait_for("`onion up` publishing both services again", republished, REACHABLE_WITHIN)
    authorise_on_client(network.visitor, line)
    assert WELCOME in fetch_when_reachable(addresses[SOURCE] + "/", network.visitor).text
    page = fetch_when_reachable(addresses[JOURNALIST] + "/login", network.visitor)
    assert "<h1>Log in</h1>" in page.text
    assert {name: onion_instance.onion_url(name) for name in addresses} == addresses
    assert "lost tor's control connection" in onion_instance.publisher_log.read_text()
