"""One frontend onion address over two source servers, with Onionbalance (issue 15).

Two `seethesigns serve source` processes share one instance; each has its own tor publishing
an Onionbalance instance service from a HiddenServiceDir (`onion balance backend`), and
`seethesigns onion balance up` runs the real onionbalance against a third tor. A source
reports through the frontend address; the backend that served it (the newest rendezvous
circuit) loses its tor; a new client, a tor that never saw the frontend, still reports through
the same address, and the survivor builds the rendezvous.

This module runs its own private network, unlike the others, for two measured reasons:
- onionbalance's --is-testnet timing is chutney's 20-second voting interval, hard-coded (its
  time periods would not match tor's otherwise): this network votes every 20 s, not 10 s.
- onionbalance 0.2.4 spins forever in get_responsible_hsdirs() when its hash ring holds 4
  HSDirs or fewer (the second replica finds no HSDir it has not used, and never breaks out):
  the session network's 3 (authorities only, relays being DirCache 0) hung it at 100% CPU.
  Six authorities give six HSDirs.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import stat
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
import requests
import stem
from stem.descriptor.hidden_service import HiddenServiceDescriptorV3

from seethesigns.onion import OnionKeys
from seethesigns.settings import Settings
from tests.conftest import OfflineKey, make_instance, short_tmpdir
from tests.integration.conftest import (
    SEETHESIGNS,
    Server,
    csrf,
    new_source,
    start_server,
    stop_server,
)
from tests.integration.tor.conftest import through_tor
from tests.integration.tor.network import PrivateTorNetwork, TorNetworkError, TorNode, wait_for

pytestmark = pytest.mark.tor

BACKENDS = 2
HSDIRS = 6
# onionbalance waits up to 45 s before its first publication, then publishes on new consensuses.
FRONTEND_WITHIN = 240.0
WELCOME = "You don't have to give your name"
# A directory to copy the network's tor logs (the new client's and the backends' at info level)
# and onionbalance's log into after the run, for a failure that needs them. A failed reach()
# prints the client's last onion-service lines either way.
KEEP_LOGS = os.environ.get("SEETHESIGNS_OB_KEEP_LOGS")
# reach() starts a new isolated try every TRY_EVERY seconds while earlier ones still wait, each
# for up to TRY_PATIENCE seconds, as a person would press "New Tor circuit for this site".
TRY_EVERY = 10.0
TRY_PATIENCE = 60.0


@dataclass
class Balanced:
    """The frontend address, its onionbalance, and the backends (tor + gunicorn each)."""

    network: PrivateTorNetwork
    settings: Settings
    frontend: str
    backends: list[TorNode]
    addresses: list[str]
    servers: list[Server]
    balancer: subprocess.Popen[bytes]
    balancer_log: Path
    attempts: list[int] = field(default_factory=list)


def shared_instance(offline_key: OfflineKey, template_database: Path) -> Settings:
    """The one instance every backend serves (a data dir with its SQLite database).

    The backends share it as they would share a database server: swap this for PostgreSQL.
    """
    return make_instance(offline_key, template_database)


def cli(config: Path, *args: str) -> str:
    """Run `seethesigns ARGS --config CONFIG`; return what it printed."""
    done = subprocess.run(
        [str(SEETHESIGNS), *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def balanced(
    tor_binary: str, offline_key: OfflineKey, template_database: Path
) -> Iterator[Balanced]:
    """A private network voting every 20 s, two backends, and `onion balance up` running."""
    settings = shared_instance(offline_key, template_database)
    config = settings.data_dir / "seethesigns.toml"
    log_dir = short_tmpdir("stsoblog")
    servers = []
    for i in range(BACKENDS):
        (log_dir / f"backend{i}").mkdir()
        servers.append(start_server("source", config, log_dir / f"backend{i}"))
    network = PrivateTorNetwork(short_tmpdir("stsob"), authorities=HSDIRS, voting_interval=20)
    frontend = cli(config, "onion", "balance", "address").strip().removesuffix(".onion")
    backends = []
    for i, server in enumerate(servers):
        service_dir = network.root / f"backend{i}" / "source"
        target = server.url.removeprefix("http://")
        torrc = cli(
            config, "onion", "balance", "backend", str(service_dir), "--frontend", frontend,
            "--target", target,
        )  # fmt: skip
        backends.append(network.add_service_host(f"backend{i}", torrc.splitlines()))
    balancer_log = log_dir / "balance.log"
    balancer: subprocess.Popen[bytes] | None = None
    try:
        started = time.monotonic()
        for node in (network.client, network.visitor, *backends):
            node.extra.append(f"Log info file {node.directory}/info.log")
        network.generate()
        network.start()
        network.startup_seconds = time.monotonic() - started
        addresses = [
            (node.directory / "source" / "hostname").read_text().strip().removesuffix(".onion")
            for node in backends
        ]
        with balancer_log.open("wb") as handle:
            balancer = subprocess.Popen(
                [
                    str(SEETHESIGNS), "onion", "balance", "up", *addresses, "--testnet",
                    "--control-port", str(network.service.control_port), "--config", str(config),
                ],
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        yield Balanced(
            network, settings, frontend, backends, addresses, servers, balancer, balancer_log
        )
    finally:
        if balancer is not None and balancer.poll() is None:
            balancer.send_signal(signal.SIGTERM)
            balancer.wait(timeout=20)
        for server in servers:
            stop_server(server)
        network.stop()
        if KEEP_LOGS:
            shutil.copytree(network.root, KEEP_LOGS, dirs_exist_ok=True)
            shutil.copy(balancer_log, Path(KEEP_LOGS) / "balance.log")
        network.remove()
        subprocess.run(
            ["gpgconf", "--homedir", str(settings.gnupg_homedir), "--kill", "all"], check=False
        )
        shutil.rmtree(settings.data_dir, ignore_errors=True)
        shutil.rmtree(log_dir, ignore_errors=True)


def isolated(client: TorNode) -> requests.Session:
    """A session on circuits of its own (tor isolates by SOCKS credentials), as Tor Browser's
    "New Tor circuit for this site" gives."""
    session = through_tor(client)
    proxy = f"socks5h://{secrets.token_hex(8)}:x@127.0.0.1:{client.socks_port}"
    session.proxies = {"http": proxy, "https": proxy}
    return session


def reach(balanced: Balanced, client: TorNode, within: float) -> requests.Session:
    """A session that got the frontend's first page through client within `within` seconds.

    Each try is isolated, and a new one starts every TRY_EVERY seconds while the earlier ones
    still wait. Both matter once a backend is down: a try whose introduction reached the dying
    backend waits on its rendezvous circuit for minutes (seen: INTRODUCE_ACK at the second tor
    stopped, no RENDEZVOUS2 after 2 minutes), and every stream on that isolation waits too. On a
    loaded machine one try can also outlast a short timeout: one at a time with 30 s each, all
    six tries of a CI run timed out.
    """
    url = f"http://{balanced.frontend}.onion/"
    errors: list[str] = []

    def attempt() -> requests.Session | None:
        session = isolated(client)
        try:
            page = session.get(url, timeout=TRY_PATIENCE)
        except (requests.ConnectionError, requests.Timeout) as exc:
            errors.append(str(exc)[-80:])
            return None
        assert WELCOME in page.text
        return session

    deadline = time.monotonic() + within
    pool = ThreadPoolExecutor(max_workers=int(TRY_PATIENCE // TRY_EVERY) + 2)
    pending: set[Future[requests.Session | None]] = set()
    tries = 0
    try:
        while time.monotonic() < deadline:
            if balanced.balancer.poll() is not None:
                log = balanced.balancer_log.read_text()
                raise TorNetworkError(f"onion balance up exited: {log}")
            pending.add(pool.submit(attempt))
            tries += 1
            launched = time.monotonic()
            while pending and time.monotonic() < launched + TRY_EVERY:
                done, pending = wait(
                    pending, timeout=launched + TRY_EVERY - time.monotonic(),
                    return_when=FIRST_COMPLETED,
                )  # fmt: skip
                for future in done:
                    session = future.result()
                    if session is not None:
                        balanced.attempts.append(tries)
                        return session
            if not pending:  # every try failed at once (no descriptor yet): a short pause
                time.sleep(max(0.0, launched + 2.0 - time.monotonic()))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    tail = balanced.balancer_log.read_text()[-3000:]
    raise TorNetworkError(
        f"{url} did not answer through {client.name} within {within:.0f} s ({tries} tries, "
        f"{len(pending)} still waiting); errors: {errors}\n"
        f"{client.name}'s onion-service log:\n{onion_log_tail(client)}\nonionbalance:\n{tail}"
    )


def onion_log_tail(node: TorNode, lines: int = 60) -> str:
    """The last of a tor's info-level lines about onion services (descriptor, intro, rendezvous)."""
    log = node.directory / "info.log"
    if not log.exists():
        return "(no info.log)"
    words = ("hs_", "rend", "intro", "descriptor", "onion")
    found = [
        line
        for line in log.read_text(errors="replace").splitlines()
        if any(w in line for w in words)
    ]
    return "\n".join(found[-lines:])


def report(balanced: Balanced, session: requests.Session, message: str) -> None:
    """The source's whole story through the frontend: /generate, /create, then /submit."""
    url = f"http://{balanced.frontend}.onion"
    new_source(url, session)
    lookup = session.get(url + "/lookup", timeout=60).text
    response = session.post(
        url + "/submit",
        data={"csrf_token": csrf(lookup), "msg": message},
        timeout=120,
    )
    assert response.status_code == 200, response.status_code
    assert "We got it safely" in response.text


def rendezvous(backend: TorNode) -> dict[str, datetime]:
    """A backend tor's rendezvous circuits to clients now: when each was built, by circuit id."""
    assert backend.controller is not None
    circuits = backend.controller.get_circuits()
    return {c.id: c.created for c in circuits if c.purpose == "HS_SERVICE_REND"}


def last_served(backends: list[TorNode]) -> TorNode:
    """The backend whose newest rendezvous circuit is the newest of all.

    A try that gave up at the client can still finish its rendezvous later, so the other backend
    may hold a circuit too: the report's own is the one built last.
    """
    served = [(max(built), node) for node in backends if (built := rendezvous(node).values())]
    assert served, "no backend holds a rendezvous circuit"
    return max(served, key=lambda pair: pair[0])[1]


def intro_keys(raw: str, address: str) -> set[bytes]:
    """The introduction points' auth keys in a descriptor of address."""
    inner = HiddenServiceDescriptorV3.from_str(raw).decrypt(address)
    return {point.auth_key_cert.key for point in inner.introduction_points}


def offers_pow(raw: str, address: str) -> bool:
    """Whether a descriptor of address asks clients for proof of work (pow-params)."""
    inner = HiddenServiceDescriptorV3.from_str(raw).decrypt(address)
    return "\npow-params " in f"\n{inner}"


def lists_both(balanced: Balanced) -> bool:
    """Whether the client's frontend descriptor holds two intro points of each backend."""
    client, frontend_tor = balanced.network.client.controller, balanced.network.service.controller
    assert client is not None and frontend_tor is not None
    try:
        raw = client.get_info(f"hs/client/desc/id/{balanced.frontend}")
        fetched = [frontend_tor.get_info(f"hs/client/desc/id/{a}") for a in balanced.addresses]
    except stem.ControllerError:
        fetched = []
    if fetched:
        listed = intro_keys(raw, balanced.frontend)
        own = [intro_keys(desc, a) for desc, a in zip(fetched, balanced.addresses, strict=True)]
        assert all(offers_pow(desc, a) for desc, a in zip(fetched, balanced.addresses, strict=True))
        # Onionbalance 0.2 leaves the backends' proof of work out (docs/operators.md).
        assert not offers_pow(raw, balanced.frontend)
        if [len(listed & keys) for keys in own] == [2, 2] and len(listed) == 4:
            return True
    client.msg(f"HSFETCH {balanced.frontend}")
    for address in balanced.addresses:
        frontend_tor.msg(f"HSFETCH {address}")
    return False


def test_a_report_through_the_frontend_survives_a_backend_going_down(
    balanced: Balanced, offline_key: OfflineKey
) -> None:
    network = balanced.network
    started = time.monotonic()
    first = reach(balanced, network.client, FRONTEND_WITHIN)
    first_page = time.monotonic() - started

    # The frontend's descriptor is onionbalance's: two introduction points from each backend's
    # descriptor as onionbalance fetched it (its tor's cache), and no proof-of-work parameters.
    wait_for("the frontend listing both backends", lambda: lists_both(balanced), 120, 5)

    report(balanced, first, "First report, through the frontend.")
    down = last_served(balanced.backends)
    (survivor,) = [node for node in balanced.backends if node is not down]
    before = set(rendezvous(survivor))

    network.stop_node(down)
    stopped = time.monotonic()
    # A tor that never fetched the frontend descriptor: nothing cached, no circuit open.
    second = reach(balanced, network.visitor, 180)
    report(balanced, second, "Second report, after a backend went down.")
    after_stop = time.monotonic() - stopped
    assert set(rendezvous(survivor)) - before, "the survivor built no new rendezvous circuit"

    stored = sorted(balanced.settings.store_dir.glob("*/*-msg.gpg"))
    opened = sorted(offline_key.decrypt(path.read_bytes()) for path in stored)
    assert opened == [
        b"First report, through the frontend.",
        b"Second report, after a backend went down.",
    ]
    print(
        f"\nonionbalance: network up in {network.startup_seconds:.1f} s; frontend answered "
        f"{first_page:.1f} s after onionbalance started; {down.name} stopped, the new client's "
        f"report was in {after_stop:.1f} s later (page tries, isolated: {balanced.attempts})"
    )


def test_the_frontend_key_is_kept_like_the_other_onion_keys(balanced: Balanced) -> None:
    keys = OnionKeys(balanced.settings.tor.keys_dir)
    assert keys.service_key("frontend").address == balanced.frontend
    private = [keys.directory / "frontend.ed25519"]
    private += sorted((keys.directory / "onionbalance").iterdir())
    assert [path.name for path in private[1:]] == ["config.yaml", "frontend.pem"]
    for path in private:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE((keys.directory / "onionbalance").stat().st_mode) == 0o700
    for node in balanced.backends:
        ob_config = (node.directory / "source" / "ob_config").read_text()
        assert ob_config == f"MasterOnionAddress {balanced.frontend}.onion\n"
    log = balanced.balancer_log.read_text()
    assert f"frontend http://{balanced.frontend}.onion over 2 backend(s)" in log
    pem = (keys.directory / "onionbalance" / "frontend.pem").read_text()
    assert pem.splitlines()[1] not in log
