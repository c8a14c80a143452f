"""A private Tor network for the session, and an instance published on it by `onion up`.

The tests in this folder carry the `tor` marker: `pytest -m "not tor"` leaves them out of a
quick local run. CI runs them always, and a machine without tor fails them rather than
skipping them.
"""

from __future__ import annotations

import base64
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from stem.control import EventType
from stem.response.events import HSDescEvent

from seethesigns.onion import JOURNALIST, SOURCE, OnionKeys
from seethesigns.settings import Settings, load_settings
from tests.conftest import OfflineKey, make_instance, short_tmpdir
from tests.databases import TemplateDatabase
from tests.integration.conftest import SEETHESIGNS, Server, start_server, stop_server
from tests.integration.tor.network import PrivateTorNetwork, TorNetworkError, TorNode, wait_for

# The network is eventually consistent: these bound every wait for it.
REACHABLE_WITHIN = 90.0
PUBLISHED_WITHIN = 90.0
STARTED: list[PrivateTorNetwork] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Report how long the private network took to come up (the suite's figure of merit)."""
    for network in STARTED:
        terminalreporter.write_line(
            f"private Tor network: {len(network.nodes)} tor processes, "
            f"consensus and bootstrap in {network.startup_seconds:.1f} s"
        )


@pytest.fixture(scope="session")
def tor_binary() -> str:
    """Debian's tor; without it these tests fail (never skip) with what to do."""
    missing = [tool for tool in ("tor", "tor-gencert") if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: install Debian's tor (`make system-packages`), "
            'or leave these tests out of a quick local run with -m "not tor"',
            pytrace=False,
        )
    return "tor"


@pytest.fixture(scope="session")
def tor_network(tor_binary: str) -> Iterator[PrivateTorNetwork]:
    """3 authorities, 4 relays, a service host (control port) and 2 clients (SOCKS), all local."""
    network = PrivateTorNetwork(short_tmpdir("ststor"))
    try:
        started = time.monotonic()
        network.generate()
        network.start()
        network.startup_seconds = time.monotonic() - started
        STARTED.append(network)
        yield network
    finally:
        network.stop()
        network.remove()


@dataclass
class OnionInstance:
    """An instance served by gunicorn and published on the private network by `onion up`."""

    settings: Settings
    config: Path
    source: Server
    journalist: Server
    publisher: subprocess.Popen[bytes]
    publisher_log: Path
    network: PrivateTorNetwork

    @property
    def keys(self) -> OnionKeys:
        """The instance's onion keys directory."""
        return OnionKeys(self.settings.tor.keys_dir)

    def onion_url(self, service: str) -> str:
        """http://<address>.onion of the source or staff service."""
        return f"http://{self.keys.service_key(service).address}.onion"

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `seethesigns ARGS --config ...` and return what it printed."""
        return subprocess.run(
            [str(SEETHESIGNS), *args, "--config", str(self.config)],
            capture_output=True,
            text=True,
            timeout=240,
        )

    def add_device(self, name: str) -> str:
        """`onion add-client NAME`: return the .auth_private line it printed."""
        done = self.cli("onion", "add-client", name)
        assert done.returncode == 0, done.stderr
        assert "republished" in done.stderr, done.stderr
        return done.stdout.strip().splitlines()[-1]


def tor_config(settings: Settings, control_port: int, ports: dict[str, Server]) -> str:
    """The instance's config, pointing [tor] at the service host (and at gunicorn's ports)."""
    config = (settings.data_dir / "seethesigns.toml").read_text()
    replacements = {'control_socket = "/run/tor/control"': f"control_port = {control_port}"}
    for name, server in ports.items():
        replacements[f"{name}_port = {8080 if name == SOURCE else 8081}"] = (
            f"{name}_port = {server.url.rsplit(':', 1)[1]}"
        )
    for old, new in replacements.items():
        assert old in config, old
        config = config.replace(old, new)
    return config


@pytest.fixture(scope="module")
def onion_instance(
    tor_network: PrivateTorNetwork, offline_key: OfflineKey, template_database: TemplateDatabase
) -> Iterator[OnionInstance]:
    """Both interfaces under gunicorn, published by a real `seethesigns onion up` process."""
    settings = make_instance(offline_key, template_database)
    config = settings.data_dir / "seethesigns.toml"
    log_dir = short_tmpdir("stsonionlog")
    source = start_server("source", config, log_dir)
    journalist = start_server("journalist", config, log_dir)
    assert tor_network.service.control_port is not None
    config.write_text(
        tor_config(
            settings,
            tor_network.service.control_port,
            {SOURCE: source, JOURNALIST: journalist},
        )
    )
    settings = load_settings(config)
    # The first staff device exists before `onion up`, so both services go up at once.
    first = subprocess.run(
        [str(SEETHESIGNS), "onion", "add-client", "first-device", "--config", str(config)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "No `seethesigns onion up` is running" in first.stderr
    log = log_dir / "onion-up.log"
    with log.open("wb") as handle:
        publisher = subprocess.Popen(
            [str(SEETHESIGNS), "onion", "up", "--config", str(config)],
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    instance = OnionInstance(settings, config, source, journalist, publisher, log, tor_network)
    try:
        wait_until_published(instance, {SOURCE: None, JOURNALIST: ["first-device"]})
        yield instance
    finally:
        if publisher.poll() is None:
            publisher.send_signal(signal.SIGTERM)
            try:
                publisher.wait(timeout=15)
            except subprocess.TimeoutExpired:
                publisher.kill()
                publisher.wait()
        stop_server(source)
        stop_server(journalist)
        subprocess.run(
            ["gpgconf", "--homedir", str(settings.gnupg_homedir), "--kill", "all"], check=False
        )
        shutil.rmtree(settings.data_dir, ignore_errors=True)
        shutil.rmtree(log_dir, ignore_errors=True)


def wait_until_published(instance: OnionInstance, clients: dict[str, list[str] | None]) -> None:
    """Wait until the running publisher has recorded each service with those staff devices."""

    def published() -> bool:
        if instance.publisher.poll() is not None:
            raise TorNetworkError(f"onion up exited: {instance.publisher_log.read_text()}")
        record = instance.keys.publication()
        return all(
            name in record
            and record[name]["uploaded_at"] is not None
            and record[name]["clients"] == wanted
            for name, wanted in clients.items()
        )

    try:
        wait_for("publication by `seethesigns onion up`", published, PUBLISHED_WITHIN)
    except TorNetworkError as exc:
        raise TorNetworkError(f"{exc}\n{instance.publisher_log.read_text()}") from exc


def through_tor(client: TorNode) -> requests.Session:
    """An HTTP session whose connections (and name lookups) go through a client's SOCKS port."""
    session = requests.Session()
    proxy = f"socks5h://127.0.0.1:{client.socks_port}"
    session.proxies = {"http": proxy, "https": proxy}
    return session


def fetch_when_reachable(url: str, client: TorNode) -> requests.Response:
    """GET url through Tor, retrying while the network settles (bounded)."""
    found: list[requests.Response] = []
    errors: list[str] = []

    def attempt() -> bool:
        try:
            found.append(through_tor(client).get(url, timeout=30))
            return True
        except requests.ConnectionError as exc:
            errors.append(str(exc)[-120:])
            return False

    try:
        wait_for(f"{url} answering through Tor", attempt, REACHABLE_WITHIN, interval=1.0)
    except TorNetworkError as exc:
        raise TorNetworkError(f"{exc}; last error: {errors[-1:]}\n{client.log_tail()}") from exc
    return found[-1]


def socks_refusal(url: str, client: TorNode) -> str:
    """The SOCKS error tor gives for url (the request must fail), e.g. '0xf4'."""
    try:
        response = through_tor(client).get(url, timeout=30)
    except requests.ConnectionError as exc:
        message = str(exc)
        return message.split("Failed to establish a new connection: ", 1)[-1][:4]
    raise AssertionError(f"{url} answered {response.status_code} through Tor")


def authorise_on_client(client: TorNode, auth_private: str) -> None:
    """Give a client tor a staff key, as Tor Browser does with an .auth_private line."""
    address, _, _, key = auth_private.split(":")
    raw = base64.b32decode(key + "=" * (-len(key) % 8))
    assert client.controller is not None
    reply = client.controller.msg(
        f"ONION_CLIENT_AUTH_ADD {address} x25519:{base64.b64encode(raw).decode()}"
    )
    # stem's is_ok() is False for 252 ("Registered client and decrypted desc"), also a success.
    assert reply.content()[0][0] in ("250", "251", "252"), str(reply)


def forget_on_client(client: TorNode, address: str) -> None:
    """Remove a client's key for address (tor then drops what it decrypted with it)."""
    assert client.controller is not None
    reply = client.controller.msg(f"ONION_CLIENT_AUTH_REMOVE {address}")
    assert reply.content()[0][0] in ("250", "251"), str(reply)


@contextmanager
def descriptor_events(client: TorNode, address: str) -> Iterator[list[str]]:
    """Collect the client's HS_DESC actions (REQUESTED, RECEIVED, FAILED) for address."""
    assert client.controller is not None
    actions: list[str] = []

    def listen(event: HSDescEvent) -> None:
        if event.address == address:
            actions.append(str(event.action))

    client.controller.add_event_listener(listen, EventType.HS_DESC)
    try:
        yield actions
    finally:
        client.controller.remove_event_listener(listen)
