"""A private Tor network on 127.0.0.1: 3 authorities, 4 relays, a service host, two clients.

Every choice below is measured in /work/shared/notes/private-tor-network.md: tor-gencert
authorities, a bandwidth file, `DirCache 0` on relays, fast voting, a two-phase start, and
`__OwningControllerProcess` so every tor exits if the test process dies. Nothing binds to or
talks to any address but 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests
import stem.connection
from stem.control import Controller

AUTHORITIES = 3
RELAYS = 4
LOOPBACK = "127.0.0.1"


class TorNetworkError(RuntimeError):
    """The private network could not be generated or did not come up in time."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, check: Callable[[], bool], timeout: float, interval: float = 0.25) -> None:
    """Poll check() until it is true, or fail naming what never happened."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise TorNetworkError(f"{what} did not happen within {timeout:.0f} s")


@dataclass
class TorNode:
    """One tor process of the network, with its own data directory and torrc."""

    name: str
    role: str  # "authority", "relay", "service" or "client"
    directory: Path
    or_port: int | None = None
    dir_port: int | None = None
    control_port: int | None = None
    socks_port: int | None = None
    fingerprint: str = ""
    v3ident: str = ""
    process: subprocess.Popen[bytes] | None = None
    controller: Controller | None = None
    extra: list[str] = field(default_factory=list)

    @property
    def torrc(self) -> Path:
        """The node's configuration file."""
        return self.directory / "torrc"

    @property
    def log(self) -> Path:
        """tor's notice-level log, shown when something fails."""
        return self.directory / "notice.log"

    def log_tail(self, lines: int = 25) -> str:
        """The last lines of the log, for failure messages."""
        if not self.log.exists():
            return f"({self.name}: no log)"
        return f"--- {self.name} ---\n" + "\n".join(self.log.read_text().splitlines()[-lines:])


def _run(command: list[str], stdin: str = "") -> str:
    done = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise TorNetworkError(f"{command[0]} failed: {done.stderr or done.stdout}")
    return done.stdout


class PrivateTorNetwork:
    """Generates, starts and stops the network; the service host and client get controllers."""

    def __init__(
        self, root: Path, *, authorities: int = AUTHORITIES, voting_interval: int = 10
    ) -> None:
        self.root = root
        self.voting_interval = voting_interval
        self.nodes: list[TorNode] = []
        for i in range(authorities):
            self.nodes.append(
                TorNode(
                    f"auth{i}", "authority", root / f"auth{i}", free_port(), dir_port=free_port()
                )
            )
        for i in range(RELAYS):
            self.nodes.append(TorNode(f"relay{i}", "relay", root / f"relay{i}", free_port()))
        self.service = TorNode("service", "service", root / "service", control_port=free_port())
        self.client = TorNode(
            "client", "client", root / "client", control_port=free_port(), socks_port=free_port()
        )
        # A second client that stays away until a test needs one that never cached anything.
        self.visitor = TorNode(
            "visitor", "client", root / "visitor", control_port=free_port(), socks_port=free_port()
        )
        self.nodes += [self.service, self.client, self.visitor]
        self.startup_seconds = 0.0

    def add_service_host(self, name: str, extra: list[str]) -> TorNode:
        """Another service host (control port, extra torrc lines); call before generate()."""
        node = TorNode(name, "service", self.root / name, control_port=free_port(), extra=extra)
        self.nodes.insert(self.nodes.index(self.client), node)
        return node

    @property
    def authorities(self) -> list[TorNode]:
        """The directory authorities (three unless the network was made with more)."""
        return [node for node in self.nodes if node.role == "authority"]

    @property
    def endpoints(self) -> list[TorNode]:
        """The service host and the clients, started once the consensus is complete."""
        return [node for node in self.nodes if node.role in ("service", "client")]

    @property
    def routers(self) -> list[TorNode]:
        """Authorities and relays: every node that appears in the consensus."""
        return [node for node in self.nodes if node.role in ("authority", "relay")]

    # -- generation -------------------------------------------------------------------------

    def generate(self) -> None:
        """Make keys, fingerprints, the bandwidth file and every torrc."""
        for node in self.nodes:
            (node.directory / "keys").mkdir(parents=True, mode=0o700)
            node.directory.chmod(0o700)
        # Key generation is CPU-bound and independent per node: run it side by side.
        with ThreadPoolExecutor(max_workers=len(self.routers)) as pool:
            list(pool.map(self._make_authority_keys, self.authorities))
            list(pool.map(self._make_relay_keys, self.routers))
        # Fresh relays report ~0 bandwidth, so path selection keeps picking one relay and
        # bootstrap stalls at 95%: the authorities measure every relay as equal instead.
        bandwidths = self.root / "bandwidth"
        bandwidths.write_text(
            f"{int(time.time())}\n"
            + "".join(f"node_id=${node.fingerprint} bw=1000\n" for node in self.routers)
        )
        for node in self.nodes:
            node.torrc.write_text("\n".join(self._torrc(node, bandwidths)) + "\n")

    def _make_authority_keys(self, node: TorNode) -> None:
        keys = node.directory / "keys"
        _run(
            [
                "tor-gencert",
                "--create-identity-key",
                "--passphrase-fd",
                "0",
                "-m",
                "12",
                "-a",
                f"{LOOPBACK}:{node.dir_port}",
                "-i",
                str(keys / "authority_identity_key"),
                "-s",
                str(keys / "authority_signing_key"),
                "-c",
                str(keys / "authority_certificate"),
            ],
            stdin="\n",
        )
        for line in (keys / "authority_certificate").read_text().splitlines():
            if line.startswith("fingerprint "):
                node.v3ident = line.split()[1]

    def _make_relay_keys(self, node: TorNode) -> None:
        _run(
            [
                "tor",
                "--quiet",
                "--ignore-missing-torrc",
                "--list-fingerprint",
                "--orport",
                "1",
                "--datadirectory",
                str(node.directory),
            ]
        )
        node.fingerprint = (node.directory / "fingerprint").read_text().split()[1]

    def _torrc(self, node: TorNode, bandwidths: Path) -> list[str]:
        lines = [
            "TestingTorNetwork 1",
            f"DataDirectory {node.directory}",
            f"Log notice file {node.log}",
            "RunAsDaemon 0",
            "ShutdownWaitLength 0",
            "GeoIPFile /dev/null",
            "GeoIPv6File /dev/null",
            f"__OwningControllerProcess {os.getpid()}",
            "ClientUseIPv6 0",
            # ExtendedErrors: a refusal names its cause (0xF6: no client key, 0xF7: wrong key).
            f"SocksPort {LOOPBACK}:{node.socks_port} ExtendedErrors"
            if node.socks_port
            else "SocksPort 0",
        ]
        lines += [
            f"DirAuthority {auth.name} orport={auth.or_port} no-v2 v3ident={auth.v3ident} "
            f"{LOOPBACK}:{auth.dir_port} {auth.fingerprint}"
            for auth in self.authorities
        ]
        if node.role in ("authority", "relay"):
            lines += [
                f"Nickname {node.name}",
                f"Address {LOOPBACK}",
                f"ORPort {LOOPBACK}:{node.or_port}",
                "AssumeReachable 1",
                # Nothing may leave loopback: no relay is an exit.
                "ExitRelay 0",
                "ExitPolicy reject *:*",
                f"ContactInfo {node.name}@seethesigns.invalid",
            ]
        if node.role == "relay":
            # A cache without microdescriptors answers 404 and clients retry only every 10 s.
            lines.append("DirCache 0")
        if node.role == "authority":
            lines += [
                f"DirPort {LOOPBACK}:{node.dir_port}",
                "AuthoritativeDirectory 1",
                "V3AuthoritativeDirectory 1",
                f"V3BandwidthsFile {bandwidths}",
                "AuthDirMaxServersPerAddr 0",
                "TestingV3AuthInitialVotingInterval 5",
                "TestingV3AuthInitialVoteDelay 2",
                "TestingV3AuthInitialDistDelay 2",
                f"V3AuthVotingInterval {self.voting_interval}",
                "V3AuthVoteDelay 2",
                "V3AuthDistDelay 2",
                # Intro circuits need Stable relays; the flag comes at once instead of after hours.
                "AuthDirVoteStableGuaranteeMinUptime 0",
                "TestingDirAuthVoteGuard *",
                # With DirCache 0 on relays, only the authorities can be HSDirs.
                "TestingDirAuthVoteHSDir "
                + ",".join(f"${auth.fingerprint}" for auth in self.authorities),
            ]
        if node.role in ("service", "client"):
            lines += [
                f"ControlPort {LOOPBACK}:{node.control_port}",
                "CookieAuthentication 1",
                # In a tiny network a vanguard hop can find no candidate.
                "VanguardsLiteEnabled 0",
            ]
        return lines + node.extra

    # -- processes --------------------------------------------------------------------------

    def start_node(self, node: TorNode) -> None:
        """Start one tor; it logs to its own file."""
        node.process = subprocess.Popen(
            ["tor", "-f", str(node.torrc)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def stop_node(self, node: TorNode) -> None:
        """Stop one tor, closing its controller first; kill it if it lingers."""
        if node.controller is not None:
            node.controller.close()
            node.controller = None
        process = node.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def start(self, timeout: float = 120) -> None:
        """Two-phase start: routers first, then the service host and client on a full consensus."""
        try:
            for node in self.routers:
                self.start_node(node)
            wait_for("a consensus listing every relay", self._consensus_complete, timeout)
            for node in self.endpoints:
                self.start_node(node)
            for node in self.endpoints:
                self.connect(node, timeout)
                self.wait_bootstrapped(node, timeout)
        except Exception as exc:
            raise TorNetworkError(f"{exc}\n{self.log_tails()}") from exc

    def connect(self, node: TorNode, timeout: float) -> Controller:
        """One controller per tor for the session (it took ownership: closing it stops tor)."""
        assert node.control_port is not None

        def attempt() -> bool:
            if node.process is not None and node.process.poll() is not None:
                raise TorNetworkError(f"{node.name} exited with {node.process.returncode}")
            # Probe with a plain socket first: stem leaks its socket when the port refuses.
            try:
                socket.create_connection((LOOPBACK, node.control_port), timeout=2).close()
            except OSError:
                return False
            controller = Controller.from_port(address=LOOPBACK, port=node.control_port)
            stem.connection.authenticate(controller)
            node.controller = controller
            return True

        wait_for(f"{node.name}'s control port", attempt, timeout)
        assert node.controller is not None
        return node.controller

    def wait_bootstrapped(self, node: TorNode, timeout: float) -> None:
        """Wait until the node's tor reports bootstrap 100%."""
        assert node.controller is not None
        controller = node.controller
        wait_for(
            f"{node.name} bootstrapping",
            lambda: "PROGRESS=100" in controller.get_info("status/bootstrap-phase"),
            timeout,
        )

    def restart_service_host(self, timeout: float = 60) -> None:
        """Stop the service host's tor and start it again with the same data and ports."""
        self.stop_node(self.service)
        self.start_node(self.service)
        self.connect(self.service, timeout)
        self.wait_bootstrapped(self.service, timeout)

    def _consensus_complete(self) -> bool:
        for node in self.nodes:
            if node.process is not None and node.process.poll() is not None:
                raise TorNetworkError(f"{node.name} exited with {node.process.returncode}")
        auth = self.authorities[0]
        url = f"http://{LOOPBACK}:{auth.dir_port}/tor/status-vote/current/consensus-microdesc"
        try:
            response = requests.get(url, timeout=2)
        except requests.RequestException:
            return False
        if response.status_code != 200:
            return False
        listed = response.text.count("\nr ")
        return listed >= len(self.routers)

    def stop(self) -> None:
        """Stop every tor this network started, clients first."""
        for node in reversed(self.nodes):
            self.stop_node(node)

    def log_tails(self) -> str:
        """The end of every node's log."""
        return "\n".join(node.log_tail() for node in self.nodes)

    def remove(self) -> None:
        """Delete the network's directory (keys, logs, state)."""
        shutil.rmtree(self.root, ignore_errors=True)
